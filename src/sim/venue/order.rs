//! The venue's order record and its two JSON shapes: the REST order object
//! and the ORDER_TRADE_UPDATE / TRADE_LITE events.
use super::json::{self, close, kv_bool, kv_dec, kv_int, kv_str};
use crate::model::decimal::Decimal;
use crate::model::enums::{
    ExecutionType, OrderStatus, OrderType, PositionSide, PriceMatch, Side, StpMode, TimeInForce,
    WorkingType,
};

/// Precision of one listed symbol, for formatting prices and quantities the
/// way the venue pads them.
#[derive(Debug, Clone)]
pub struct Instrument {
    /// REST spelling.
    pub symbol: String,
    /// Stream-name spelling (ASCII lower-cased, other characters kept).
    pub stream: String,
    /// Digits of tickSize.
    pub price_dp: u32,
    /// Digits of stepSize.
    pub qty_dp: u32,
    /// Filters and start price.
    pub cfg: super::settings::SymbolSettings,
}

impl Instrument {
    /// Derives precisions from the configured grid.
    pub fn new(cfg: super::settings::SymbolSettings) -> Self {
        Instrument {
            stream: cfg.symbol.to_ascii_lowercase(),
            symbol: cfg.symbol.clone(),
            price_dp: cfg.price_precision.clamp(cfg.tick_size.scale(), 8),
            qty_dp: cfg.quantity_precision.clamp(cfg.step_size.scale(), 8),
            cfg,
        }
    }
}

/// One order as the matching engine keeps it (also liquidation/ADL and algo
/// children).
#[derive(Debug, Clone)]
pub struct Order {
    /// `orderId`.
    pub id: i64,
    /// Owner.
    pub account: usize,
    /// Symbol index.
    pub sym: usize,
    /// `clientOrderId` exactly as received or generated.
    pub client_id: String,
    /// BUY/SELL.
    pub side: Side,
    /// `type` (LIMIT, MARKET, LIQUIDATION for venue orders).
    pub otype: OrderType,
    /// `origType` (the conditional type for algo children).
    pub orig_type: OrderType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Limit price (0 for MARKET).
    pub price: Decimal,
    /// Original quantity.
    pub qty: Decimal,
    /// Filled quantity.
    pub executed: Decimal,
    /// Σ price × qty of fills.
    pub cum_quote: Decimal,
    /// Current status.
    pub status: OrderStatus,
    /// `reduceOnly` as reported.
    pub reduce_only: bool,
    /// `closePosition` (algo children).
    pub close_position: bool,
    /// Position side.
    pub position_side: PositionSide,
    /// `stopPrice` (trigger price of algo children).
    pub stop_price: Decimal,
    /// Working type.
    pub working_type: WorkingType,
    /// priceProtect flag.
    pub price_protect: bool,
    /// priceMatch.
    pub price_match: PriceMatch,
    /// Self-trade prevention mode.
    pub stp: StpMode,
    /// goodTillDate (0 unless GTD).
    pub gtd: i64,
    /// Creation time.
    pub time: i64,
    /// Last update time.
    pub update_time: i64,
    /// Initial margin still reserved for the unfilled part.
    pub im: Decimal,
    /// Algo order that created it (0 when none).
    pub algo_id: i64,
    /// Trailing activation price / callback rate of the parent, if any.
    pub activate_price: Option<Decimal>,
    /// Trailing callback rate of the parent.
    pub callback_rate: Option<Decimal>,
    /// Implicitly reduce-only (hedge closing leg) or reduce-only: fills are
    /// capped at the position and the order is knocked out (`er=4`) when the
    /// position no longer allows it.
    pub closing: bool,
    /// Whether it sits in the book.
    pub resting: bool,
    /// Number of successful modifies.
    pub modify_count: u32,
    /// `er` of the last expiry.
    pub expire_reason: u8,
    /// Realized PnL summed over its fills (ledger).
    pub realized: Decimal,
    /// Commission summed over its fills (ledger).
    pub commission: Decimal,
}

impl Order {
    /// Unfilled quantity.
    pub fn remaining(&self) -> Decimal {
        self.qty.checked_sub(self.executed).unwrap_or(Decimal::ZERO)
    }
    /// Average fill price (0 when nothing filled).
    pub fn avg_price(&self) -> Decimal {
        if self.executed.is_zero() {
            Decimal::ZERO
        } else {
            self.cum_quote
                .checked_div(self.executed, crate::model::decimal::Rounding::HalfEven)
                .unwrap_or(Decimal::ZERO)
        }
    }
}

/// Digits to show: at least `min`, more when the value needs them.
pub fn digits(v: Decimal, min: u32) -> u32 {
    v.scale().max(min)
}

/// What one ORDER_TRADE_UPDATE reports beyond the order's own state.
#[derive(Debug, Clone, Copy)]
pub struct Exec {
    /// `x`.
    pub x: ExecutionType,
    /// `l`.
    pub last_qty: Decimal,
    /// `L`.
    pub last_price: Decimal,
    /// `n` (commission of this fill); `None` ⇒ `n`/`N` omitted.
    pub commission: Option<Decimal>,
    /// `t` (0 when not a fill).
    pub trade_id: i64,
    /// `m`.
    pub maker: bool,
    /// `rp`.
    pub realized: Decimal,
    /// `b` open bid notional of the account on the symbol.
    pub bid_notional: Decimal,
    /// `a` open ask notional.
    pub ask_notional: Decimal,
    /// `M` modifyId echo (AMENDMENT only; 0 = omitted).
    pub modify_id: i64,
}

impl Exec {
    /// A non-fill execution (`NEW`, `CANCELED`, `EXPIRED`, `AMENDMENT`).
    pub fn plain(x: ExecutionType) -> Self {
        Exec {
            x,
            last_qty: Decimal::ZERO,
            last_price: Decimal::ZERO,
            commission: None,
            trade_id: 0,
            maker: false,
            realized: Decimal::ZERO,
            bid_notional: Decimal::ZERO,
            ask_notional: Decimal::ZERO,
            modify_id: 0,
        }
    }
}

/// Writes the REST order object (`POST/GET/DELETE /fapi/v1/order`);
/// `with_time` adds `time` as queries do.
pub fn write_order(out: &mut String, o: &Order, ins: &Instrument, with_time: bool) {
    let pd = ins.price_dp;
    let qd = ins.qty_dp;
    out.push('{');
    kv_int(out, "orderId", o.id);
    kv_str(out, "symbol", &ins.symbol);
    kv_str(out, "status", o.status.as_str());
    kv_str(out, "clientOrderId", &o.client_id);
    kv_dec(out, "price", o.price, pd);
    let avg = o.avg_price();
    kv_dec(out, "avgPrice", avg, digits(avg, pd));
    kv_dec(out, "origQty", o.qty, qd);
    kv_dec(out, "executedQty", o.executed, qd);
    kv_dec(out, "cumQty", o.executed, qd);
    kv_dec(out, "cumQuote", o.cum_quote, digits(o.cum_quote, 5));
    kv_str(out, "timeInForce", o.tif.as_str());
    kv_str(out, "type", o.otype.as_str());
    kv_bool(out, "reduceOnly", o.reduce_only);
    kv_bool(out, "closePosition", o.close_position);
    kv_str(out, "side", o.side.as_str());
    kv_str(out, "positionSide", o.position_side.as_str());
    kv_dec(out, "stopPrice", o.stop_price, pd);
    kv_str(out, "workingType", o.working_type.as_str());
    kv_bool(out, "priceProtect", o.price_protect);
    kv_str(out, "origType", o.orig_type.as_str());
    kv_str(out, "priceMatch", o.price_match.as_str());
    kv_str(out, "selfTradePreventionMode", o.stp.as_str());
    kv_int(out, "goodTillDate", o.gtd);
    if let (Some(ap), Some(cr)) = (o.activate_price, o.callback_rate) {
        kv_dec(out, "activatePrice", ap, pd);
        kv_dec(out, "priceRate", cr, digits(cr, 1));
    }
    if with_time {
        kv_int(out, "time", o.time);
    }
    kv_int(out, "updateTime", o.update_time);
    close(out, '}');
}

/// Writes a complete ORDER_TRADE_UPDATE event.
pub fn write_order_update(
    out: &mut String,
    o: &Order,
    ins: &Instrument,
    ex: &Exec,
    e: i64,
    t: i64,
) {
    let pd = ins.price_dp;
    let qd = ins.qty_dp;
    out.push_str("{\"e\":\"ORDER_TRADE_UPDATE\",");
    kv_int(out, "E", e);
    kv_int(out, "T", t);
    out.push_str("\"o\":{");
    kv_str(out, "s", &ins.symbol);
    kv_str(out, "c", &o.client_id);
    kv_str(out, "S", o.side.as_str());
    kv_str(out, "o", o.otype.as_str());
    kv_str(out, "f", o.tif.as_str());
    kv_dec(out, "q", o.qty, qd);
    kv_dec(out, "p", o.price, pd);
    let avg = o.avg_price();
    kv_dec(out, "ap", avg, digits(avg, pd));
    kv_dec(out, "sp", o.stop_price, pd);
    kv_str(out, "x", ex.x.as_str());
    kv_str(out, "X", o.status.as_str());
    kv_int(out, "i", o.id);
    if ex.modify_id != 0 {
        kv_int(out, "M", ex.modify_id);
    }
    kv_dec(out, "l", ex.last_qty, qd);
    kv_dec(out, "z", o.executed, qd);
    kv_dec(out, "L", ex.last_price, digits(ex.last_price, pd));
    if let Some(n) = ex.commission {
        kv_str(out, "N", "USDT");
        kv_dec(out, "n", n, digits(n, 8));
    }
    kv_int(out, "T", t);
    kv_int(out, "t", ex.trade_id);
    kv_dec(out, "b", ex.bid_notional, digits(ex.bid_notional, 5));
    kv_dec(out, "a", ex.ask_notional, digits(ex.ask_notional, 5));
    kv_bool(out, "m", ex.maker);
    kv_bool(out, "R", o.reduce_only);
    kv_str(out, "wt", o.working_type.as_str());
    kv_str(out, "ot", o.orig_type.as_str());
    kv_str(out, "ps", o.position_side.as_str());
    kv_bool(out, "cp", o.close_position);
    if let (Some(ap), Some(cr)) = (o.activate_price, o.callback_rate) {
        kv_dec(out, "AP", ap, pd);
        kv_dec(out, "cr", cr, digits(cr, 1));
    }
    kv_dec(out, "rp", ex.realized, digits(ex.realized, 8));
    kv_bool(out, "pP", o.price_protect);
    kv_int(out, "si", 0);
    kv_int(out, "ss", 0);
    kv_str(out, "V", o.stp.as_str());
    kv_str(out, "pm", o.price_match.as_str());
    kv_int(out, "gtd", o.gtd);
    json::key(out, "er");
    out.push('"');
    json::int(out, i64::from(o.expire_reason));
    out.push('"');
    out.push_str("}}");
}

/// Writes a TRADE_LITE event (sent before the full update of the same fill).
pub fn write_trade_lite(out: &mut String, o: &Order, ins: &Instrument, ex: &Exec, e: i64, t: i64) {
    out.push_str("{\"e\":\"TRADE_LITE\",");
    kv_int(out, "E", e);
    kv_int(out, "T", t);
    kv_str(out, "s", &ins.symbol);
    kv_dec(out, "q", o.qty, ins.qty_dp);
    kv_dec(out, "p", o.price, ins.price_dp);
    kv_bool(out, "m", ex.maker);
    kv_str(out, "c", &o.client_id);
    kv_str(out, "S", o.side.as_str());
    kv_dec(out, "L", ex.last_price, digits(ex.last_price, ins.price_dp));
    kv_dec(out, "l", ex.last_qty, ins.qty_dp);
    kv_int(out, "t", ex.trade_id);
    kv_int(out, "i", o.id);
    close(out, '}');
}
