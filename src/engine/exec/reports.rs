//! Venue messages → the tracker's venue-agnostic [`Report`].
//!
//! Why a separate module: the same order fact arrives as a REST reply, a
//! query result, ORDER_TRADE_UPDATE, TRADE_LITE or ALGO_UPDATE; mapping each
//! decoded shape onto one `Report` here keeps the execution loop free of
//! field-by-field plumbing and lets each mapping be tested on its own.

use crate::binance::events::{AlgoUpdate, OrderUpdate, TradeLite};
use crate::binance::rest::{AlgoOrderResponse, OrderResponse};
use crate::engine::report::{Report, ReportSource};
use crate::model::fill::AssetCode;
use crate::model::ids::{ClientOrderId, Symbol};
use crate::model::{ErrorText, Money, Price, Quantity};

/// A plain order object (reply to POST/DELETE/PUT order, or GET order).
pub fn from_order_response(o: &OrderResponse, source: ReportSource, recv_ns: u64) -> Report {
    let mut r = Report::new(source, o.symbol, o.client_order_id, recv_ns);
    r.venue_order_id = Some(o.order_id);
    r.status = Some(o.status);
    if let Some(s) = o.side {
        r.side = s;
    }
    if let Some(ps) = o.position_side {
        r.position_side = ps;
    }
    r.price = o.price.unwrap_or(Price::ZERO);
    r.quantity = o.orig_qty.unwrap_or(Quantity::ZERO);
    r.cum_qty = o.executed_qty.or(o.cum_qty);
    r.avg_price = o.avg_price.unwrap_or(Price::ZERO);
    r.ts_venue_ms = o.update_time.or(o.time).unwrap_or(0);
    r
}

/// An algo order object (reply to POST/DELETE algoOrder, or GET algoOrder).
pub fn from_algo_response(a: &AlgoOrderResponse, source: ReportSource, recv_ns: u64) -> Report {
    let mut r = Report::new(source, a.symbol, a.client_algo_id, recv_ns);
    r.algo_id = Some(a.algo_id);
    r.algo_status = Some(a.algo_status);
    r.child_venue_order_id = a.actual_order_id.filter(|id| *id > 0);
    if let Some(s) = a.side {
        r.side = s;
    }
    if let Some(ps) = a.position_side {
        r.position_side = ps;
    }
    r.price = a.price.unwrap_or(Price::ZERO);
    r.quantity = a.quantity.unwrap_or(Quantity::ZERO);
    r.cum_qty = a.actual_qty;
    r.avg_price = a.actual_price.unwrap_or(Price::ZERO);
    r.ts_venue_ms = a.update_time.or(a.create_time).unwrap_or(0);
    r
}

/// A refused request (`{code,msg}`) for order `client_id`.
pub fn from_error(
    source: ReportSource,
    symbol: Symbol,
    client_id: ClientOrderId,
    code: i64,
    msg: &str,
    recv_ns: u64,
) -> Report {
    let mut r = Report::new(source, symbol, client_id, recv_ns);
    r.error_code = i32::try_from(code).unwrap_or(i32::MIN);
    r.error_msg = ErrorText::truncated(msg);
    r
}

/// ORDER_TRADE_UPDATE. Venue-generated orders (`autoclose-`, `adl_autoclose`,
/// `x=CALCULATED`) get their fill kind set so the strategy sees them as
/// forced fills.
pub fn from_order_update(u: &OrderUpdate, recv_ns: u64) -> Report {
    let mut r = Report::new(
        ReportSource::OrderTradeUpdate,
        u.symbol,
        u.client_order_id,
        recv_ns,
    );
    r.venue_order_id = Some(u.order_id);
    r.exec_type = Some(u.execution_type);
    r.status = Some(u.status);
    r.side = u.side;
    r.position_side = u.position_side;
    r.price = u.price;
    r.quantity = u.orig_qty;
    r.last_qty = u.last_qty;
    r.last_price = u.last_price;
    r.cum_qty = Some(u.cum_qty);
    r.avg_price = u.avg_price;
    r.trade_id = u.trade_id;
    r.commission = u.commission;
    r.commission_asset = u
        .commission_asset
        .map(|t| AssetCode::truncated(t.as_str()))
        .unwrap_or(AssetCode::EMPTY);
    r.maker = Some(u.is_maker);
    r.realized_pnl = u.realized_pnl;
    r.fill_kind = Some(u.fill_kind());
    r.expiry_reason = u
        .expiry_reason
        .and_then(|e| u8::try_from(e).ok())
        .unwrap_or(0);
    r.ts_venue_ms = if u.trade_time != 0 {
        u.trade_time
    } else {
        u.transaction_time
    };
    r
}

/// TRADE_LITE: the earliest fill notice (no commission).
pub fn from_trade_lite(t: &TradeLite, recv_ns: u64) -> Report {
    let mut r = Report::new(
        ReportSource::TradeLite,
        t.symbol,
        t.client_order_id,
        recv_ns,
    );
    r.venue_order_id = Some(t.order_id);
    r.side = t.side;
    r.price = t.price;
    r.quantity = t.orig_qty;
    r.last_qty = t.last_qty;
    r.last_price = t.last_price;
    r.trade_id = t.trade_id;
    r.maker = Some(t.is_maker);
    r.realized_pnl = Money::ZERO;
    r.ts_venue_ms = t.transaction_time;
    r
}

/// ALGO_UPDATE: a conditional order's life, including the trigger handoff
/// (`ai` = the child order's id in the matching engine).
pub fn from_algo_update(a: &AlgoUpdate, recv_ns: u64) -> Report {
    let o = &a.order;
    let mut r = Report::new(
        ReportSource::AlgoUpdate,
        o.symbol,
        o.client_algo_id,
        recv_ns,
    );
    r.algo_id = Some(o.algo_id);
    r.algo_status = Some(o.status);
    r.child_venue_order_id = o.actual_order_id.filter(|id| *id > 0);
    if let Some(s) = o.side {
        r.side = s;
    }
    if let Some(ps) = o.position_side {
        r.position_side = ps;
    }
    r.price = o.price.unwrap_or(Price::ZERO);
    r.quantity = o.quantity.unwrap_or(Quantity::ZERO);
    r.cum_qty = o.actual_qty;
    r.avg_price = o.actual_avg_price.unwrap_or(Price::ZERO);
    if let Some(rm) = o.reject_reason {
        r.error_msg = ErrorText::truncated(rm.as_str());
    }
    r.ts_venue_ms = a.transaction_time;
    r
}
