//! The venue-agnostic execution report the network layer hands the tracker.
//!
//! A REST reply, a WS-API reply, ORDER_TRADE_UPDATE, TRADE_LITE, ALGO_UPDATE
//! and an order query all describe the same few facts about one order; the
//! decoders (owned by the network layer) map each onto this one `Copy` shape
//! so the tracker's matching and dedupe logic exists once.

use crate::model::fill::{AssetCode, FillKind};
use crate::model::ids::{AlgoId, ClientOrderId, Symbol, TradeId, VenueOrderId};
use crate::model::{
    AlgoStatus, ErrorText, ExecutionType, Money, OrderStatus, PositionSide, Price, Quantity, Side,
};

/// Which request a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// New order / new algo order.
    Submit,
    /// Cancel order / cancel algo order.
    Cancel,
    /// Modify (PUT order).
    Modify,
}

/// Where a report came from; decides how much it can be trusted about state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportSource {
    /// A REST or WS-API reply to our request (success, or `error_code` ≠ 0).
    Reply(RequestKind),
    /// The request got no usable answer (timeout, connection lost): its
    /// outcome is unknown.
    NoReply(RequestKind),
    /// User stream ORDER_TRADE_UPDATE.
    OrderTradeUpdate,
    /// User stream ALGO_UPDATE.
    AlgoUpdate,
    /// User stream TRADE_LITE (fills only, no commission).
    TradeLite,
    /// A query (GET order / algoOrder) during reconciliation; `error_code`
    /// -2013 means the venue does not know the order.
    Query,
    /// A fill the stream never delivered, recovered from
    /// `GET /fapi/v1/userTrades` during reconciliation. Booked like a stream
    /// fill (deduplicated on symbol + trade id) and marked `recovered`.
    Recovered,
}

/// What one venue message says about one order, independent of transport.
/// Fields a message does not carry stay at their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Origin of the report.
    pub source: ReportSource,
    /// Symbol (`s`).
    pub symbol: Symbol,
    /// Client order id (`c`, `clientOrderId`, `caid`/`clientAlgoId`); may be
    /// empty when the message has none.
    pub client_id: ClientOrderId,
    /// Venue order id (`i`, `orderId`).
    pub venue_order_id: Option<VenueOrderId>,
    /// Algo id (`aid`, `algoId`).
    pub algo_id: Option<AlgoId>,
    /// Triggered child's order id (`ai`, `actualOrderId`).
    pub child_venue_order_id: Option<VenueOrderId>,
    /// Execution type (`x`) for ORDER_TRADE_UPDATE.
    pub exec_type: Option<ExecutionType>,
    /// Order status (`X`, `status`).
    pub status: Option<OrderStatus>,
    /// Algo status (`X` of ALGO_UPDATE, `algoStatus`).
    pub algo_status: Option<AlgoStatus>,
    /// Side (`S`).
    pub side: Side,
    /// Position side (`ps`).
    pub position_side: PositionSide,
    /// Original price (`p`).
    pub price: Price,
    /// Original quantity (`q`, `origQty`).
    pub quantity: Quantity,
    /// Quantity of this fill (`l`); zero when not a fill.
    pub last_qty: Quantity,
    /// Price of this fill (`L`).
    pub last_price: Price,
    /// Cumulative filled quantity (`z`, `executedQty`) when reported.
    pub cum_qty: Option<Quantity>,
    /// Average fill price (`ap`, `avgPrice`).
    pub avg_price: Price,
    /// Trade id (`t`), 0 when not a fill.
    pub trade_id: TradeId,
    /// Commission of this fill (`n`) when reported.
    pub commission: Option<Money>,
    /// Commission asset (`N`).
    pub commission_asset: AssetCode,
    /// Maker flag (`m`).
    pub maker: Option<bool>,
    /// Realized PnL of this fill (`rp`).
    pub realized_pnl: Money,
    /// Forced-fill kind when the decoder knows it; `None` = derive from the
    /// client id prefix (`autoclose-`, `adl_autoclose`, …).
    pub fill_kind: Option<FillKind>,
    /// Expiry reason (`er`).
    pub expiry_reason: u8,
    /// Venue error code of a failed request (0 = success).
    pub error_code: i32,
    /// Venue error message (`msg`, `rm`).
    pub error_msg: ErrorText,
    /// Venue transaction time (`T`, `updateTime`) in ms.
    pub ts_venue_ms: i64,
    /// Engine monotonic receive time in ns.
    pub ts_recv_ns: u64,
}

impl Report {
    /// A report with every optional field empty, for decoders to fill in.
    pub fn new(
        source: ReportSource,
        symbol: Symbol,
        client_id: ClientOrderId,
        ts_recv_ns: u64,
    ) -> Self {
        Report {
            source,
            symbol,
            client_id,
            venue_order_id: None,
            algo_id: None,
            child_venue_order_id: None,
            exec_type: None,
            status: None,
            algo_status: None,
            side: Side::Buy,
            position_side: PositionSide::Both,
            price: Price::ZERO,
            quantity: Quantity::ZERO,
            last_qty: Quantity::ZERO,
            last_price: Price::ZERO,
            cum_qty: None,
            avg_price: Price::ZERO,
            trade_id: 0,
            commission: None,
            commission_asset: AssetCode::EMPTY,
            maker: None,
            realized_pnl: Money::ZERO,
            fill_kind: None,
            expiry_reason: 0,
            error_code: 0,
            error_msg: ErrorText::EMPTY,
            ts_venue_ms: 0,
            ts_recv_ns,
        }
    }
}

/// Error codes after which the request may or may not have executed
/// (§11: "reached backend, no answer"; -4116 = the id is already live).
pub fn is_outcome_unknown(code: i32) -> bool {
    matches!(code, -1000 | -1001 | -1006 | -1007 | -4116)
}
