//! The venue-side audit over signed REST: the venue's own lists for the
//! soak symbol over the run window, turned into the same [`VenueView`] the
//! simulator's ledger gives, so one [`super::compare()`] judges both.
//!
//! Why: against the testnet there is no ledger to read; `allOrders`,
//! `allAlgoOrders`, `userTrades` (paged by `fromId`) and `positionRisk` are
//! what the venue will say about our account, and what the engine's view
//! must agree with (lost or duplicated orders, missed/phantom fills, state
//! and position differences). Against the simulator the same code proves
//! itself: its numbers must equal the ledger audit's.

use super::compare::{VenueAlgo, VenueView};
use super::rest_client::{RestAuditError, SignedRest};
use crate::binance::rest::{AlgoOrderResponse, OrderResponse, PositionRisk, UserTrade, decode};
use crate::model::Decimal;
use crate::sim::venue::{LedgerFill, LedgerOrder, LedgerPosition};

/// Most pages read per list (1000 rows each): bounds the audit of a very
/// long run; hitting it is reported as an error, never silently truncated.
const MAX_PAGES: usize = 200;
/// Rows per page.
const PAGE: usize = 1000;

fn decoded<T: serde::de::DeserializeOwned>(what: &str, b: &[u8]) -> Result<T, RestAuditError> {
    decode(b).map_err(|e| RestAuditError::Decode {
        what: what.into(),
        reason: e.to_string(),
    })
}

fn too_many(what: &str) -> RestAuditError {
    RestAuditError::Io {
        what: what.into(),
        reason: format!("more than {MAX_PAGES} pages of {PAGE}; run a shorter soak"),
    }
}

/// Reads the account's orders, conditional orders, fills and positions on
/// `symbol` created since `since_ms` (venue time).
pub fn fetch_venue_view(
    client: &SignedRest,
    symbol: &str,
    since_ms: i64,
) -> Result<VenueView, RestAuditError> {
    let mut view = VenueView::default();
    // allOrders: the first page anchored at the run's start, then by orderId.
    let mut anchor = format!("startTime={since_ms}");
    let mut done = false;
    for _ in 0..MAX_PAGES {
        let body = client.signed_get(
            "/fapi/v1/allOrders",
            &format!("symbol={symbol}&{anchor}&limit={PAGE}"),
        )?;
        let page: Vec<OrderResponse> = decoded("allOrders", &body)?;
        let n = page.len();
        let mut last = None;
        for o in &page {
            last = Some(last.map_or(o.order_id, |l: i64| l.max(o.order_id)));
            if view.orders.iter().any(|x| x.order_id == o.order_id) {
                continue;
            }
            view.orders.push(ledger_order(o));
        }
        match last {
            Some(l) if n >= PAGE => anchor = format!("orderId={}", l + 1),
            _ => {
                done = true;
                break;
            }
        }
    }
    if !done {
        return Err(too_many("allOrders"));
    }
    view.orders.sort_unstable_by_key(|o| o.order_id);
    // Conditional orders (the algo service), paged by algoId.
    let mut anchor = format!("startTime={since_ms}");
    let mut done = false;
    for _ in 0..MAX_PAGES {
        let body = client.signed_get(
            "/fapi/v1/allAlgoOrders",
            &format!("symbol={symbol}&{anchor}&limit={PAGE}"),
        )?;
        let page: Vec<AlgoOrderResponse> = decoded("allAlgoOrders", &body)?;
        let n = page.len();
        let mut last = None;
        for a in &page {
            last = Some(last.map_or(a.algo_id, |l: i64| l.max(a.algo_id)));
            if view.algos.iter().any(|x| x.algo_id == a.algo_id) {
                continue;
            }
            // The triggered child: allOrders does not name its algo order,
            // the algo order names its child.
            if let Some(child) = a.actual_order_id
                && let Some(o) = view.orders.iter_mut().find(|o| o.order_id == child)
            {
                o.algo_id = a.algo_id;
            }
            view.algos.push(VenueAlgo {
                client_id: a.client_algo_id.as_str().to_string(),
                algo_id: a.algo_id,
                status: a.algo_status.as_str().to_string(),
            });
        }
        match last {
            Some(l) if n >= PAGE => anchor = format!("algoId={}", l + 1),
            _ => {
                done = true;
                break;
            }
        }
    }
    if !done {
        return Err(too_many("allAlgoOrders"));
    }
    // userTrades: first page from the run's start, then by fromId.
    let mut anchor = format!("startTime={since_ms}");
    let mut done = false;
    for _ in 0..MAX_PAGES {
        let body = client.signed_get(
            "/fapi/v1/userTrades",
            &format!("symbol={symbol}&{anchor}&limit={PAGE}"),
        )?;
        let page: Vec<UserTrade> = decoded("userTrades", &body)?;
        let n = page.len();
        let mut last = None;
        for t in &page {
            last = Some(last.map_or(t.id, |l: i64| l.max(t.id)));
            if view
                .fills
                .iter()
                .any(|f| f.trade_id == t.id && f.order_id == t.order_id)
            {
                continue;
            }
            view.fills.push(ledger_fill(t));
        }
        match last {
            Some(l) if n >= PAGE => anchor = format!("fromId={}", l + 1),
            _ => {
                done = true;
                break;
            }
        }
    }
    if !done {
        return Err(too_many("userTrades"));
    }
    let body = client.signed_get("/fapi/v3/positionRisk", &format!("symbol={symbol}"))?;
    let risks: Vec<PositionRisk> = decoded("positionRisk", &body)?;
    for p in &risks {
        let amount = p.position_amt.map_or(Decimal::ZERO, |q| q.value());
        if amount.is_zero() {
            continue;
        }
        view.positions.push(LedgerPosition {
            account: 0,
            symbol: p.symbol.as_str().to_string(),
            position_side: p
                .position_side
                .map_or("BOTH".to_string(), |s| s.as_str().to_string()),
            amount,
            entry_price: p.entry_price.map_or(Decimal::ZERO, |x| x.value()),
            realized_pnl: Decimal::ZERO,
        });
    }
    Ok(view)
}

fn ledger_order(o: &OrderResponse) -> LedgerOrder {
    LedgerOrder {
        account: 0,
        symbol: o.symbol.as_str().to_string(),
        order_id: o.order_id,
        client_order_id: o.client_order_id.as_str().to_string(),
        side: o.side.map_or(String::new(), |s| s.as_str().to_string()),
        order_type: o
            .order_type
            .map_or(String::new(), |t| t.as_str().to_string()),
        status: o.status.as_str().to_string(),
        price: o.price.map_or(Decimal::ZERO, |p| p.value()),
        orig_qty: o.orig_qty.map_or(Decimal::ZERO, |q| q.value()),
        executed_qty: o.executed_qty.map_or(Decimal::ZERO, |q| q.value()),
        cum_quote: o.cum_quote.map_or(Decimal::ZERO, |q| q.value()),
        position_side: o
            .position_side
            .map_or("BOTH".to_string(), |s| s.as_str().to_string()),
        // Set from the algo order's actualOrderId (see above).
        algo_id: 0,
        update_time: 0,
    }
}

fn ledger_fill(t: &UserTrade) -> LedgerFill {
    LedgerFill {
        account: 0,
        symbol: t.symbol.as_str().to_string(),
        trade_id: t.id,
        order_id: t.order_id,
        side: t.side.as_str().to_string(),
        price: t.price.value(),
        qty: t.qty.value(),
        realized_pnl: t.realized_pnl.map_or(Decimal::ZERO, |m| m.value()),
        commission: t.commission.map_or(Decimal::ZERO, |m| m.value()),
        maker: t.maker.unwrap_or(false),
        time: t.time,
    }
}
