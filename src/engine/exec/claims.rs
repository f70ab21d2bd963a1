//! Start-up reconciliation: which orders at the venue are ours, which we
//! claim, what happened to the orders the journal left open, and which fills
//! arrived while the engine was down.
//!
//! Why before trading: the strategy must start from the venue's truth. An
//! order the engine forgot would trade unseen; an id it reused would be
//! refused (or worse, matched to the wrong order); a fill made while it was
//! down would never reach the strategy. Every call here is paced by a
//! [`Pacer`] so a large reconciliation can never trip a rate-limit ban.

use std::collections::HashMap;
use std::time::Duration;

use super::persist::Persist;
use super::reports;
use super::startup::Blocking;
use crate::binance::requests::{AlgoRef, OrderRef, RequestBuilder, RestRequest, UserTradesQuery};
use crate::binance::rest::{
    AccountInfo, AlgoOrderResponse, OrderResponse, PositionRisk, UserTrade, decode,
};
use crate::config::Config;
use crate::engine::client_ids::is_engine_id;
use crate::engine::clock::mono_ns;
use crate::engine::journal::{Record, Replay};
use crate::engine::positions::{PositionBook, PositionSnapshot};
use crate::engine::ratelimit::{Cost, Decision, LimitKind, LimitSpec, RateLimiter};
use crate::engine::report::{Report, ReportSource};
use crate::engine::runner::EngineError;
use crate::engine::tracker::OrderTracker;
use crate::instruments::InstrumentProvider;
use crate::model::enums::{AlgoStatus, OrderStatus};
use crate::model::fill::{AssetCode, Fill, FillKind, Liquidity};
use crate::model::ids::{ClientOrderId, InstrumentId, Symbol, VenueOrderId};
use crate::model::{
    Money, Order, OrderEvent, OrderEventKind, OrderType, PositionEvent, PositionSide, Price,
    Quantity, Side,
};

/// Share of each venue weight window start-up reconciliation may use: the
/// rest stays free for trading and for other processes on the same IP.
pub const RECONCILE_BUDGET_PCT: u32 = 50;

/// Longest a paced start-up may wait for weight in total before giving up
/// (a reconciliation this large needs an operator, not a silent stall).
const MAX_PACING_WAIT: Duration = Duration::from_secs(120);

/// Most `userTrades` pages read per symbol (1000 trades each).
const MAX_TRADE_PAGES: usize = 10;

/// Most journal orders queried one by one; beyond this the rest is left for
/// the next start (and logged).
const MAX_QUERIES: usize = 5_000;

/// Holds start-up requests back so they stay within a share of the venue's
/// weight windows (the local [`RateLimiter`] with scaled-down limits).
#[derive(Debug)]
pub struct Pacer {
    limiter: RateLimiter,
    waited: Duration,
}

impl Pacer {
    /// A pacer using `pct` percent of each exchangeInfo weight window.
    pub fn new(specs: &[LimitSpec], pct: u32, config: &Config) -> Pacer {
        let scaled: Vec<LimitSpec> = specs
            .iter()
            .filter(|s| s.kind == LimitKind::Weight)
            .map(|s| LimitSpec {
                limit: (s.limit.saturating_mul(pct.clamp(1, 100)) / 100).max(1),
                ..*s
            })
            .collect();
        Pacer {
            limiter: RateLimiter::new(&scaled, config.backoff(), 7),
            waited: Duration::ZERO,
        }
    }

    /// Blocks until `weight` fits in the budget (bounded).
    pub fn pace(&mut self, weight: u32, now_ms: impl Fn() -> i64) -> Result<(), EngineError> {
        loop {
            let now = now_ms();
            let (d, _) = self.limiter.try_acquire(Cost::request(weight), now);
            let until = match d {
                Decision::Go => return Ok(()),
                Decision::Wait(until) => until,
                Decision::Reject(why) => {
                    return Err(EngineError::StartupIo {
                        step: "reconciliation pacing",
                        reason: format!("{why:?}"),
                    });
                }
            };
            let nap = Duration::from_millis(u64::try_from(until - now).unwrap_or(1).clamp(1, 5000));
            if self.waited + nap > MAX_PACING_WAIT {
                return Err(EngineError::StartupIo {
                    step: "reconciliation pacing",
                    reason: format!(
                        "start-up reconciliation needs more than {} s of weight budget",
                        MAX_PACING_WAIT.as_secs()
                    ),
                });
            }
            self.waited += nap;
            std::thread::sleep(nap);
        }
    }

    /// Total time spent waiting for budget.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

/// What start-up reconciliation found, for the strategy and the log.
#[derive(Debug, Default)]
pub struct StartState {
    /// Events the strategy receives before any live event: adopted and
    /// claimed orders, and fills made while the engine was down.
    pub events: Vec<OrderEvent>,
    /// Positions from positionRisk (the truth).
    pub positions: Vec<PositionEvent>,
    /// Loaded symbols with open orders the engine neither created nor
    /// claims: cancel-all must not touch these symbols.
    pub foreign_symbols: Vec<Symbol>,
    /// Human-readable lines for the event log.
    pub log: Vec<String>,
    /// Engine-created orders adopted.
    pub adopted: usize,
    /// Foreign orders claimed.
    pub claimed: usize,
    /// Foreign orders on unclaimed instruments (left alone).
    pub left_alone: usize,
    /// Journal orders settled by a query (final, or never placed).
    pub settled: usize,
    /// Fills recovered from userTrades and delivered once.
    pub recovered_fills: usize,
}

/// The borrowed start-up context.
pub struct Ctx<'a, 'b> {
    /// Blocking REST caller.
    pub b: &'a mut Blocking<'b>,
    /// Request builder.
    pub rb: &'a mut RequestBuilder,
    /// Weight budget.
    pub pacer: &'a mut Pacer,
    /// Venue-time ms for signing.
    pub now_ms: &'a dyn Fn() -> i64,
}

impl Ctx<'_, '_> {
    fn call_with(
        &mut self,
        step: &'static str,
        weight: u32,
        build: impl FnOnce(&mut RequestBuilder, i64) -> RestRequest<'_>,
    ) -> Result<Vec<u8>, EngineError> {
        let now = self.now_ms;
        self.pacer.pace(weight, now)?;
        let ts = (self.now_ms)();
        let req = build(self.rb, ts);
        let (_, body) = self.b.call(step, &req)?;
        Ok(body)
    }
}

fn unreadable(step: &'static str, e: impl std::fmt::Display) -> EngineError {
    EngineError::StartupIo {
        step,
        reason: format!("unreadable reply: {e}"),
    }
}

/// Runs the whole start-up reconciliation (see the module docs).
pub fn reconcile(
    cx: &mut Ctx<'_, '_>,
    config: &Config,
    instruments: &InstrumentProvider,
    tracker: &mut OrderTracker,
    positions: &mut PositionBook,
    mut persist: Option<&mut Persist>,
) -> Result<StartState, EngineError> {
    let mut st = StartState::default();
    // venue order id → (client id, instrument, side, position side) for
    // every order the journal knows or we adopted: maps userTrades to ours.
    let mut venue_map: HashMap<VenueOrderId, (ClientOrderId, InstrumentId, Side)> = HashMap::new();
    let mut seen_open: Vec<ClientOrderId> = Vec::new();
    if let Some(p) = persist.as_deref() {
        for (c, o) in &p.journal().replay().orders {
            let Some(i) = instruments.by_symbol(o.symbol.as_str()) else {
                continue;
            };
            // A triggered conditional order's fills carry its child's id.
            for v in [o.venue_id, o.child_id].into_iter().flatten() {
                venue_map.insert(v, (*c, i.id, o.side));
            }
        }
    }
    let knows = |p: &Option<&mut Persist>, c: &ClientOrderId| {
        p.as_deref()
            .is_some_and(|p| p.journal().replay().orders.contains_key(c))
    };

    // 1. Open orders and open algo orders of every loaded instrument.
    for inst in instruments.instruments() {
        let id = inst.id;
        let sym = inst.symbol;
        let claimed_here = config.external_order_claims.contains(&id);
        let body = cx.call_with("open orders", 1, |rb, ts| rb.open_orders(Some(&sym), ts))?;
        let list: Vec<OrderResponse> = decode(&body).map_err(|e| unreadable("open orders", e))?;
        let body = cx.call_with("open algo orders", 1, |rb, ts| {
            rb.open_algo_orders(Some(&sym), ts)
        })?;
        let algos: Vec<AlgoOrderResponse> =
            decode(&body).map_err(|e| unreadable("open algo orders", e))?;
        let mut foreign_here = 0usize;
        let rows = list
            .iter()
            .map(|o| {
                (
                    o.client_order_id,
                    o.side,
                    o.order_type,
                    o.orig_qty,
                    o.price,
                    None,
                )
            })
            .chain(algos.iter().map(|a| {
                (
                    a.client_algo_id,
                    a.side,
                    a.order_type,
                    a.quantity,
                    a.price,
                    Some(a),
                )
            }));
        for (k, (cid, side, ot, qty, price, algo)) in rows.enumerate() {
            let ours = knows(&persist, &cid) || is_engine_id(&cid);
            if !ours && !claimed_here {
                foreign_here += 1;
                st.left_alone += 1;
                st.log.push(format!(
                    "{sym}: open order {cid} was not placed by this engine and {id} is not in external_order_claims: left alone"
                ));
                continue;
            }
            let report = match algo {
                Some(a) => reports::from_algo_response(a, ReportSource::Query, mono_ns()),
                None => match list.get(k) {
                    Some(o) => reports::from_order_response(o, ReportSource::Query, mono_ns()),
                    None => continue,
                },
            };
            if adopt(tracker, id, side, ot, qty, price, &report, &mut st.events) {
                seen_open.push(cid);
                if let Some(p) = persist.as_deref_mut() {
                    p.algo_learned(cid, report.algo_id, report.child_venue_order_id);
                }
                if let Some(v) = report.child_venue_order_id {
                    venue_map.insert(v, (cid, id, report.side));
                }
                if let Some(v) = report.venue_order_id {
                    venue_map.insert(v, (cid, id, report.side));
                    if let Some(p) = persist.as_deref_mut()
                        && p.journal()
                            .replay()
                            .orders
                            .get(&cid)
                            .is_some_and(|o| o.venue_id.is_none())
                    {
                        let _ = p.append(&Record::Ack {
                            client_id: cid,
                            venue_id: v,
                            time_ms: 0,
                        });
                    }
                }
                if ours {
                    st.adopted += 1;
                } else {
                    st.claimed += 1;
                    st.log.push(format!(
                        "{sym}: claimed external order {cid} ({:?} {:?})",
                        side, ot
                    ));
                }
            }
        }
        if foreign_here > 0 {
            st.foreign_symbols.push(sym);
        }
    }

    // 2. Journal orders that are neither final nor open now: ask the venue.
    if let Some(p) = persist {
        let todo: Vec<(ClientOrderId, Symbol, OrderType)> = p
            .journal()
            .replay()
            .open_orders()
            .filter(|(c, _)| !seen_open.contains(c))
            .map(|(c, o)| (*c, o.symbol, o.order_type))
            .collect();
        if todo.len() > MAX_QUERIES {
            st.log.push(format!(
                "{} journal orders to reconcile; querying the first {MAX_QUERIES}, the rest at the next start",
                todo.len()
            ));
        }
        for (cid, sym, ot) in todo.into_iter().take(MAX_QUERIES) {
            let Some(inst) = instruments.by_symbol(sym.as_str()) else {
                st.log.push(format!(
                    "journal order {cid} on {sym}: instrument not loaded, not reconciled"
                ));
                continue;
            };
            let id = inst.id;
            let algo = ot.is_conditional();
            let res = if algo {
                cx.call_with("journal query", 1, |rb, ts| {
                    rb.query_algo_order(&AlgoRef::ClientAlgoId(cid), ts)
                })
            } else {
                cx.call_with("journal query", 1, |rb, ts| {
                    rb.query_order(&sym, &OrderRef::ClientId(cid), ts)
                })
            };
            let outcome = match res {
                Ok(body) if algo => decode::<AlgoOrderResponse>(&body)
                    .map(|a| {
                        let st = algo_final(a.algo_status);
                        let r = reports::from_algo_response(&a, ReportSource::Query, mono_ns());
                        (st, r, a.side, a.order_type, a.quantity, a.price)
                    })
                    .map_err(|e| e.to_string()),
                Ok(body) => decode::<OrderResponse>(&body)
                    .map(|o| {
                        let st = o.status.is_closed().then_some(o.status);
                        let r = reports::from_order_response(&o, ReportSource::Query, mono_ns());
                        (st, r, o.side, o.order_type, o.orig_qty, o.price)
                    })
                    .map_err(|e| e.to_string()),
                Err(EngineError::Startup { source, .. })
                    if matches!(source.code, -2013 | -2011 | -2026) =>
                {
                    // The venue never saw it (or purged it long closed and
                    // unfilled): either way it is not live.
                    let _ = p.append(&Record::Terminal {
                        client_id: cid,
                        status: OrderStatus::Rejected,
                        time_ms: 0,
                    });
                    st.settled += 1;
                    st.log.push(format!(
                        "journal order {cid}: unknown to the venue ({}), marked never placed",
                        source.code
                    ));
                    continue;
                }
                Err(e) => Err(e.to_string()),
            };
            if let Ok((_, r, ..)) = &outcome {
                // Accepted (and what it became) before how it ended.
                p.algo_learned(cid, r.algo_id, r.child_venue_order_id);
            }
            match outcome {
                Ok((Some(status), r, ..)) => {
                    // A finished conditional order's fills are its child's.
                    for v in [r.venue_order_id, r.child_venue_order_id]
                        .into_iter()
                        .flatten()
                    {
                        venue_map.insert(v, (cid, id, r.side));
                    }
                    let _ = p.append(&Record::Terminal {
                        client_id: cid,
                        status,
                        time_ms: 0,
                    });
                    st.settled += 1;
                }
                Ok((None, r, side, ot, qty, price)) => {
                    // Live after all (it was placed after the list was read).
                    if let Some(v) = r.venue_order_id.or(r.child_venue_order_id) {
                        venue_map.insert(v, (cid, id, r.side));
                    }
                    if adopt(tracker, id, side, ot, qty, price, &r, &mut st.events) {
                        st.adopted += 1;
                    }
                }
                Err(why) => st.log.push(format!(
                    "journal order {cid}: query failed ({why}); left for the next start"
                )),
            }
        }

        // 3. Fills made while the engine was down, once each.
        recover_fills(cx, p, instruments, tracker, &venue_map, &mut st)?;
    }

    // 4. Positions: positionRisk is the truth (it already includes any fill
    // recovered above, so those are not booked again).
    let body = cx.call_with("positions", 5, |rb, ts| rb.position_risk(None, ts))?;
    let risks: Vec<PositionRisk> = decode(&body).map_err(|e| unreadable("positions", e))?;
    for p in &risks {
        if instruments.by_symbol(p.symbol.as_str()).is_none() {
            continue;
        }
        let snap = PositionSnapshot::from_risk(p);
        if let Ok(ev) = positions.apply_snapshot(&snap) {
            st.positions.push(ev);
        }
    }

    // 5. Balances, for the log (margin checks are the venue's).
    let body = cx.call_with("balances", 5, |rb, ts| rb.account(ts))?;
    match decode::<AccountInfo>(&body) {
        Ok(a) => {
            for asset in a
                .assets
                .iter()
                .filter(|x| x.wallet_balance.is_some_and(|w| !w.is_zero()))
            {
                st.log.push(format!(
                    "balance {}: wallet {}",
                    asset.asset.as_str(),
                    asset.wallet_balance.unwrap_or(Money::ZERO)
                ));
            }
        }
        Err(e) => st.log.push(format!("balances unreadable: {e}")),
    }
    st.log.push(format!(
        "start-up reconciliation: {} adopted, {} claimed, {} left alone, {} journal order(s) settled, {} fill(s) recovered, {} ms waiting for weight budget",
        st.adopted,
        st.claimed,
        st.left_alone,
        st.settled,
        st.recovered_fills,
        cx.pacer.waited().as_millis()
    ));
    Ok(st)
}

/// The final status of an algo order, or `None` while it may still act.
fn algo_final(s: AlgoStatus) -> Option<OrderStatus> {
    match s {
        AlgoStatus::Canceled => Some(OrderStatus::Canceled),
        AlgoStatus::Rejected => Some(OrderStatus::Rejected),
        AlgoStatus::Expired => Some(OrderStatus::Expired),
        // FINISHED: the triggered child is done; its fills come from
        // userTrades under the child's order id.
        AlgoStatus::Finished => Some(OrderStatus::Filled),
        _ => None,
    }
}

/// Reads `userTrades` since the journal's last trade id per symbol (or,
/// with no fill journaled yet, since the oldest unsettled intent) and
/// delivers the ones belonging to journal orders, journaling each so a
/// second restart does not deliver it again.
fn recover_fills(
    cx: &mut Ctx<'_, '_>,
    p: &mut Persist,
    instruments: &InstrumentProvider,
    tracker: &mut OrderTracker,
    venue_map: &HashMap<VenueOrderId, (ClientOrderId, InstrumentId, Side)>,
    st: &mut StartState,
) -> Result<(), EngineError> {
    let replay = p.journal().replay();
    // Symbols the journal ever traded, with the resume point: after the
    // last journaled trade id, unless some order's fills may be missing
    // (fills are not journaled in trade-id order: a stream gap's fills are
    // recovered after later trades were booked, and a kill can fall in
    // between), then from the oldest such order's send time.
    let mut cursors: Vec<(Symbol, Option<i64>, i64)> = Vec::new();
    for o in replay.orders.values() {
        if instruments.by_symbol(o.symbol.as_str()).is_none() {
            continue;
        }
        let incomplete = Replay::fills_may_be_missing(o);
        match cursors.iter_mut().find(|(s, ..)| *s == o.symbol) {
            Some(c) => {
                if incomplete {
                    c.1 = None;
                    c.2 = c.2.min(o.sent_ms);
                }
            }
            None => cursors.push((
                o.symbol,
                if incomplete {
                    None
                } else {
                    replay.last_trade_id.get(&o.symbol).copied()
                },
                if incomplete { o.sent_ms } else { i64::MAX },
            )),
        }
    }
    let week_ms = 7 * 24 * 3_600_000 - 60_000;
    // Trades of orders the journal does not know: the venue's own orders
    // (ADL, liquidation, settlement) or another process's. Asked about
    // after the scan, a bounded number of orders.
    let mut foreign: Vec<(Symbol, UserTrade)> = Vec::new();
    for (sym, last, oldest_ms) in cursors {
        if last.is_none() && venue_map.is_empty() {
            continue;
        }
        if last.is_none() && oldest_ms == i64::MAX {
            continue; // nothing can be missing on this symbol
        }
        let mut from_id = last.map(|l| l + 1);
        let start_ms = oldest_ms.saturating_sub(5_000).max((cx.now_ms)() - week_ms);
        for _ in 0..MAX_TRADE_PAGES {
            let q = UserTradesQuery {
                symbol: sym,
                order_id: None,
                from_id,
                start_time: if from_id.is_none() {
                    Some(start_ms)
                } else {
                    None
                },
                end_time: None,
                limit: Some(1000),
            };
            let body = {
                let now = cx.now_ms;
                cx.pacer.pace(5, now)?;
                let ts = (cx.now_ms)();
                let req = cx
                    .rb
                    .user_trades(&q, ts)
                    .map_err(|e| EngineError::StartupIo {
                        step: "user trades",
                        reason: e.to_string(),
                    })?;
                cx.b.call("user trades", &req)?.1
            };
            let trades: Vec<UserTrade> = decode(&body).map_err(|e| unreadable("user trades", e))?;
            let n = trades.len();
            for t in &trades {
                from_id = Some(from_id.map_or(t.id + 1, |f| f.max(t.id + 1)));
                if last.is_some_and(|l| t.id <= l) {
                    continue;
                }
                let Some(&(cid, instrument, _)) = venue_map.get(&t.order_id) else {
                    if foreign.len() < MAX_FOREIGN_TRADES {
                        foreign.push((sym, *t));
                    }
                    continue;
                };
                if p.journal().replay().has_fill(sym, t.id, cid) {
                    continue; // journaled (and delivered) by an earlier session
                }
                let fill = recovered_fill(t, instrument, cid, FillKind::Normal);
                book_recovered(p, tracker, st, OrderEventKind::Filled(fill));
            }
            if n < 1000 {
                break;
            }
        }
    }
    recover_venue_fills(cx, p, instruments, tracker, &foreign, st)
}

/// A fill recovered from `userTrades` at start-up, owned by `cid`.
fn recovered_fill(
    t: &UserTrade,
    instrument: InstrumentId,
    cid: ClientOrderId,
    kind: FillKind,
) -> Fill {
    Fill {
        instrument,
        client_id: cid,
        venue_order_id: t.order_id,
        trade_id: t.id,
        side: t.side,
        position_side: t.position_side.unwrap_or(PositionSide::Both),
        price: t.price,
        quantity: t.qty,
        commission: t.commission.unwrap_or(Money::ZERO),
        commission_asset: t
            .commission_asset
            .map(|a| AssetCode::truncated(a.as_str()))
            .unwrap_or(AssetCode::EMPTY),
        liquidity: match t.maker {
            Some(true) => Liquidity::Maker,
            Some(false) => Liquidity::Taker,
            None => Liquidity::Unknown,
        },
        realized_pnl: t.realized_pnl.unwrap_or(Money::ZERO),
        ts_venue_ms: t.time,
        kind,
        recovered: true,
    }
}

/// Marks a recovered fill seen, journals it, and queues it for the strategy:
/// journaled first, so the next start knows it was delivered.
fn book_recovered(
    p: &mut Persist,
    tracker: &mut OrderTracker,
    st: &mut StartState,
    kind: OrderEventKind,
) {
    let (OrderEventKind::Filled(f) | OrderEventKind::ExternalFill(f)) = kind else {
        return;
    };
    tracker.mark_fill_seen(f.instrument.symbol, f.trade_id, f.side);
    let _ = p.append(&Record::fill(&f));
    st.recovered_fills += 1;
    st.events.push(OrderEvent {
        client_id: f.client_id,
        instrument: f.instrument,
        venue_order_id: Some(f.venue_order_id),
        ts_venue_ms: f.ts_venue_ms,
        ts_local_ns: mono_ns(),
        kind,
    });
}

/// Most foreign trades looked at, and most orders queried, per start-up:
/// a shared account with another busy process must not turn a restart into
/// hundreds of queries.
const MAX_FOREIGN_TRADES: usize = 256;
const MAX_FOREIGN_ORDER_QUERIES: usize = super::venue_fills::MAX_VENUE_ORDER_QUERIES;

/// Fills the venue made on its own orders while the engine was down (ADL,
/// liquidation, settlement): `userTrades` carries no client id, so each
/// unknown order is queried once and only the venue's own orders (by their
/// client id, e.g. `adl_autoclose`) are delivered, marked by kind and
/// journaled; another process's trades are left alone. Positions are not
/// touched here: they come from positionRisk, which already includes them.
fn recover_venue_fills(
    cx: &mut Ctx<'_, '_>,
    p: &mut Persist,
    instruments: &InstrumentProvider,
    tracker: &mut OrderTracker,
    foreign: &[(Symbol, UserTrade)],
    st: &mut StartState,
) -> Result<(), EngineError> {
    let mut asked: Vec<(Symbol, VenueOrderId)> = Vec::new();
    for (sym, t) in foreign {
        if asked.iter().any(|&(s, o)| s == *sym && o == t.order_id)
            || asked.len() >= MAX_FOREIGN_ORDER_QUERIES
        {
            continue;
        }
        asked.push((*sym, t.order_id));
        // Only an enrichment of what was delivered: an order the venue no
        // longer answers for must not stop the engine from starting.
        let answer = cx
            .call_with("venue order query", 1, |rb, ts| {
                rb.query_order(sym, &OrderRef::VenueId(t.order_id), ts)
            })
            .and_then(|body| {
                decode::<OrderResponse>(&body).map_err(|e| unreadable("venue order query", e))
            });
        let order = match answer {
            Ok(o) => o,
            Err(e) => {
                st.log.push(format!(
                    "trade {} of unknown order {} not classified: {e}",
                    t.id, t.order_id
                ));
                continue;
            }
        };
        let (cid, kind) = super::venue_fills::classify_venue_order(&order);
        if kind == FillKind::Normal {
            continue; // another process's order: not ours to report
        }
        let Some(instrument) = instruments.by_symbol(sym.as_str()).map(|i| i.id) else {
            continue;
        };
        for (_, t) in foreign
            .iter()
            .filter(|(s, x)| s == sym && x.order_id == t.order_id)
        {
            if p.journal().replay().has_fill(*sym, t.id, cid)
                || tracker.has_trade(*sym, t.id, t.side)
            {
                continue;
            }
            st.log.push(format!(
                "recovered {kind:?} fill made while down: {} {:?} {} @ {} (trade {})",
                cid, t.side, t.qty, t.price, t.id
            ));
            let fill = recovered_fill(t, instrument, cid, kind);
            book_recovered(p, tracker, st, OrderEventKind::ExternalFill(fill));
        }
    }
    Ok(())
}

/// Puts an order found at the venue under the tracker's care so its fills,
/// cancels and modifies are booked; the events it produced go to the
/// strategy (so it learns the client id). False when not adoptable.
#[allow(clippy::too_many_arguments)]
fn adopt(
    tracker: &mut OrderTracker,
    instrument: InstrumentId,
    side: Option<Side>,
    order_type: Option<OrderType>,
    qty: Option<Quantity>,
    price: Option<Price>,
    report: &Report,
    events: &mut Vec<OrderEvent>,
) -> bool {
    let (Some(side), Some(ot), Some(q)) = (side, order_type, qty) else {
        return false;
    };
    if tracker.find(&report.client_id).is_some() {
        return false;
    }
    let mut o = Order::new(report.client_id, instrument, side, ot, q, mono_ns());
    o.price = price.filter(|p| !p.is_zero());
    let mut ignore = |_, _| {};
    if tracker.submit(o, mono_ns(), &mut ignore).is_err() {
        return false;
    }
    let mut keep = |_, e: OrderEvent| events.push(e);
    tracker.apply(report, &mut keep).is_ok()
}
