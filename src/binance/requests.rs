//! Signed REST requests for the engine, built into reused buffers.
//!
//! A [`RequestBuilder`] owns the query and body buffers, the [`Signer`] and the
//! API key; each call clears the buffers, writes the parameters, appends
//! `recvWindow`/`timestamp`, signs exactly the encoded bytes (query ‖ body)
//! and appends `signature` last. The returned [`RestRequest`] borrows the
//! buffers, so a warm builder allocates nothing per request.
//!
//! Placement: GET and DELETE carry their parameters in the query string;
//! POST and PUT in an `application/x-www-form-urlencoded` body. The caller
//! passes `timestamp_ms` because the engine owns the clock offset estimate.
//!
//! The parameter structs use the model types, and their rules are checked
//! here rather than by a -1106/-4120 round trip: conditional types must go to
//! the algo endpoint, hedge-mode orders never carry `reduceOnly`, omitted
//! options are not sent at all.

use super::query::QueryWriter;
use super::sign::Signer;
use crate::model::{
    ClientOrderId, Decimal, OrderType, PositionSide, Price, PriceMatch, Quantity, RespType, Side,
    StpMode, Symbol, TimeInForce, WorkingType,
};
use std::fmt;

/// HTTP method of a REST call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// Reads; parameters in the query.
    Get,
    /// Creates; parameters in the form body.
    Post,
    /// Modifies; parameters in the form body.
    Put,
    /// Cancels; parameters in the query.
    Delete,
}

impl HttpMethod {
    /// The request-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether parameters travel in a form body (POST/PUT) or the query.
    pub fn params_in_body(self) -> bool {
        matches!(self, HttpMethod::Post | HttpMethod::Put)
    }
}

/// What the venue demands of a call: nothing, the `X-MBX-APIKEY` header, or
/// the header plus `timestamp` and `signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Public (market data, server time, exchangeInfo).
    None,
    /// API-key header only (listenKey management).
    ApiKey,
    /// Header + timestamp + HMAC signature (TRADE / USER_DATA).
    Signed,
}

/// The MIME type of every body we send.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// One built request, borrowing the builder's buffers: what the HTTP layer
/// writes on the wire, plus what the rate limiter needs to account for it.
#[derive(Clone, Copy)]
pub struct RestRequest<'a> {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path, e.g. `/fapi/v1/order`.
    pub path: &'static str,
    /// Encoded query string without the leading `?` (may be empty).
    pub query: &'a [u8],
    /// Encoded form body (may be empty).
    pub body: &'a [u8],
    /// Authentication required.
    pub security: Security,
    /// The API key to send as `X-MBX-APIKEY`, when `security` is not `None`.
    pub api_key: Option<&'a str>,
    /// Request weight on the IP's REQUEST_WEIGHT/1m limiter.
    pub weight: u32,
    /// Whether it counts on the account's ORDERS limiters (10 s and 1 min).
    pub counts_as_order: bool,
}

impl RestRequest<'_> {
    /// `Content-Type` to send, if there is a body.
    pub fn content_type(&self) -> Option<&'static str> {
        (!self.body.is_empty()).then_some(FORM_CONTENT_TYPE)
    }
}

impl fmt::Debug for RestRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &String::from_utf8_lossy(self.query))
            .field("body", &String::from_utf8_lossy(self.body))
            .field("security", &self.security)
            .field("api_key", &self.api_key.map(|_| "<redacted>"))
            .field("weight", &self.weight)
            .field("counts_as_order", &self.counts_as_order)
            .finish()
    }
}

/// A request the builder refused to produce, because the venue would reject
/// it (or worse, misread it). Each names the rule broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// `/fapi/v1/order` only takes LIMIT and MARKET since 2025-12-09 (-4120).
    #[error("order type {0} is conditional: use the algo order builder (POST /fapi/v1/algoOrder)")]
    ConditionalOnOrderEndpoint(String),
    /// An algo order needs a conditional type.
    #[error("order type {0} is not a conditional type; use the plain order builder")]
    NotConditional(String),
    /// A value this build does not know cannot be sent safely.
    #[error("unknown {what} value {value:?} cannot be sent")]
    UnknownEnum {
        /// The field.
        what: &'static str,
        /// The text.
        value: String,
    },
    /// A required field is missing for this order type.
    #[error("{field} is required for {context}")]
    Missing {
        /// The wire name.
        field: &'static str,
        /// Why it is required.
        context: &'static str,
    },
    /// A field is not allowed with the others given.
    #[error("{field} is not allowed: {why}")]
    NotAllowed {
        /// The wire name.
        field: &'static str,
        /// The rule.
        why: &'static str,
    },
    /// Quantity, price or rate must be positive.
    #[error("{field} must be positive")]
    NotPositive {
        /// The wire name.
        field: &'static str,
    },
}

/// Where parameters go: a percent-encoded query/form, or the WebSocket API's
/// JSON params. One description of each request serves both transports.
pub trait ParamSink {
    /// Free text (symbols, ids, enum spellings).
    fn text(&mut self, name: &'static str, value: &str);
    /// An exact decimal (DECIMAL on the wire).
    fn decimal(&mut self, name: &'static str, value: Decimal);
    /// An integer (INT/LONG on the wire).
    fn int(&mut self, name: &'static str, value: i64);
    /// A boolean, `true`/`false`.
    fn boolean(&mut self, name: &'static str, value: bool);
}

impl ParamSink for QueryWriter<'_> {
    #[inline]
    fn text(&mut self, name: &'static str, value: &str) {
        self.str(name, value);
    }
    #[inline]
    fn decimal(&mut self, name: &'static str, value: Decimal) {
        QueryWriter::decimal(self, name, value);
    }
    #[inline]
    fn int(&mut self, name: &'static str, value: i64) {
        QueryWriter::int(self, name, value);
    }
    #[inline]
    fn boolean(&mut self, name: &'static str, value: bool) {
        self.bool(name, value);
    }
}

/// A new LIMIT or MARKET order (`POST /fapi/v1/order`, WS `order.place`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewOrder {
    /// Instrument.
    pub symbol: Symbol,
    /// BUY / SELL.
    pub side: Side,
    /// LIMIT or MARKET only.
    pub order_type: OrderType,
    /// Required for LIMIT; not sent for MARKET (the venue has no use for it).
    pub time_in_force: Option<TimeInForce>,
    /// Step-aligned quantity.
    pub quantity: Quantity,
    /// Limit price; exclusive with `price_match`.
    pub price: Option<Price>,
    /// Not allowed in hedge mode (`position_side` LONG/SHORT).
    pub reduce_only: Option<bool>,
    /// `None` = venue default (BOTH); LONG/SHORT in hedge mode.
    pub position_side: Option<PositionSide>,
    /// Our id: the only handle when a reply is lost.
    pub client_order_id: ClientOrderId,
    /// ACK (fast) or RESULT (final state for MARKET/IOC/FOK).
    pub resp_type: RespType,
    /// Required with GTD (ms, second precision).
    pub good_till_date: Option<i64>,
    /// Self-trade prevention; venue default when `None`.
    pub stp: Option<StpMode>,
    /// Let the venue choose the price; exclusive with `price`.
    pub price_match: Option<PriceMatch>,
}

/// A new conditional order in the Algo Service (`POST /fapi/v1/algoOrder`,
/// WS `algoOrder.place`); `algoType=CONDITIONAL` is added by the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAlgoOrder {
    /// Instrument.
    pub symbol: Symbol,
    /// BUY / SELL.
    pub side: Side,
    /// STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET or TRAILING_STOP_MARKET.
    pub order_type: OrderType,
    /// `None` = BOTH; LONG/SHORT in hedge mode.
    pub position_side: Option<PositionSide>,
    /// For STOP/TAKE_PROFIT children.
    pub time_in_force: Option<TimeInForce>,
    /// Required unless `close_position = Some(true)`.
    pub quantity: Option<Quantity>,
    /// Limit price of STOP/TAKE_PROFIT children; exclusive with `price_match`.
    pub price: Option<Price>,
    /// Price match for STOP/TAKE_PROFIT children.
    pub price_match: Option<PriceMatch>,
    /// Trigger level; required except for trailing stops.
    pub trigger_price: Option<Price>,
    /// Last price (default) or mark price triggers.
    pub working_type: Option<WorkingType>,
    /// Close the whole position at trigger (`*_MARKET` only).
    pub close_position: Option<bool>,
    /// Refuse to trigger when mark and last diverge too much.
    pub price_protect: Option<bool>,
    /// Not in hedge mode, not with `close_position`.
    pub reduce_only: Option<bool>,
    /// Trailing activation price.
    pub activate_price: Option<Price>,
    /// Trailing callback rate in percent (0.1–10); required for trailing.
    pub callback_rate: Option<Decimal>,
    /// Our id for the algo order.
    pub client_algo_id: ClientOrderId,
    /// ACK / RESULT.
    pub resp_type: Option<RespType>,
    /// Self-trade prevention for the child.
    pub stp: Option<StpMode>,
    /// GTD expiry (ms).
    pub good_till_date: Option<i64>,
}

/// Which order a call is about: the venue id wins if both are known, but the
/// client id works even when the placement reply was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderRef {
    /// `orderId`.
    VenueId(i64),
    /// `origClientOrderId`.
    ClientId(ClientOrderId),
}

/// Which algo order a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgoRef {
    /// `algoId`.
    AlgoId(i64),
    /// `clientAlgoId`.
    ClientAlgoId(ClientOrderId),
}

/// Amend a resting LIMIT order (`PUT /fapi/v1/order`, WS `order.modify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModifyOrder {
    /// Instrument.
    pub symbol: Symbol,
    /// Must equal the order's side.
    pub side: Side,
    /// The order.
    pub order: OrderRef,
    /// New quantity (≤ executed quantity cancels the order).
    pub quantity: Quantity,
    /// New price; exclusive with `price_match`.
    pub price: Option<Price>,
    /// Price match instead of a price.
    pub price_match: Option<PriceMatch>,
    /// Client integer echoed in the AMENDMENT event (2026-07).
    pub modify_id: Option<i64>,
}

/// Filters for `GET /fapi/v1/userTrades`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserTradesQuery {
    /// Instrument (required).
    pub symbol: Symbol,
    /// Only this order's trades.
    pub order_id: Option<i64>,
    /// Trades with id ≥ this; not combinable with times.
    pub from_id: Option<i64>,
    /// Window start (ms); window ≤ 7 days.
    pub start_time: Option<i64>,
    /// Window end (ms).
    pub end_time: Option<i64>,
    /// 500 default, 1000 max.
    pub limit: Option<u32>,
}

fn known<'a, T: Copy>(
    what: &'static str,
    v: &'a T,
    is_unknown: impl Fn(&T) -> bool,
    s: impl Fn(&'a T) -> &'a str,
) -> Result<&'a str, RequestError> {
    if is_unknown(v) {
        Err(RequestError::UnknownEnum {
            what,
            value: s(v).to_string(),
        })
    } else {
        Ok(s(v))
    }
}

macro_rules! wire {
    ($what:literal, $v:expr) => {
        known($what, $v, |x| x.is_unknown(), |x| x.as_str())
    };
}

fn is_hedge(ps: Option<PositionSide>) -> bool {
    matches!(ps, Some(PositionSide::Long | PositionSide::Short))
}

/// `price` and `priceMatch` are exclusive on both order endpoints.
fn price_or_match(has_price: bool, has_price_match: bool) -> Result<(), RequestError> {
    if has_price && has_price_match {
        return Err(RequestError::NotAllowed {
            field: "priceMatch",
            why: "price and priceMatch are exclusive",
        });
    }
    Ok(())
}

/// The `reduceOnly` to send. In hedge mode (LONG/SHORT) the venue rejects
/// reduceOnly with -1106, even "false": `true` is refused here, `false` is
/// dropped. Both order endpoints follow the same rule.
fn reduce_only_to_send(
    position_side: Option<PositionSide>,
    reduce_only: Option<bool>,
) -> Result<Option<bool>, RequestError> {
    match (is_hedge(position_side), reduce_only) {
        (true, Some(true)) => Err(RequestError::NotAllowed {
            field: "reduceOnly",
            why: "hedge mode (LONG/SHORT) closes by side; the venue rejects reduceOnly with -1106",
        }),
        (true, _) => Ok(None),
        (false, r) => Ok(r),
    }
}

/// The last two optional parameters both order endpoints share.
fn write_stp_and_gtd<S: ParamSink>(
    stp: Option<&StpMode>,
    good_till_date: Option<i64>,
    s: &mut S,
) -> Result<(), RequestError> {
    if let Some(stp) = stp {
        s.text(
            "selfTradePreventionMode",
            wire!("selfTradePreventionMode", stp)?,
        );
    }
    if let Some(gtd) = good_till_date {
        s.int("goodTillDate", gtd);
    }
    Ok(())
}

/// Writes a new order's parameters after checking the venue's rules.
pub fn write_new_order<S: ParamSink>(o: &NewOrder, s: &mut S) -> Result<(), RequestError> {
    if o.order_type.is_conditional() {
        return Err(RequestError::ConditionalOnOrderEndpoint(
            o.order_type.as_str().to_string(),
        ));
    }
    let side = wire!("side", &o.side)?;
    let ty = wire!("type", &o.order_type)?;
    if !o.quantity.value().is_positive() {
        return Err(RequestError::NotPositive { field: "quantity" });
    }
    price_or_match(o.price.is_some(), o.price_match.is_some())?;
    let is_limit = o.order_type == OrderType::Limit;
    if is_limit {
        if o.price.is_none() && o.price_match.is_none() {
            return Err(RequestError::Missing {
                field: "price",
                context: "LIMIT orders (or give priceMatch)",
            });
        }
        if o.time_in_force.is_none() {
            return Err(RequestError::Missing {
                field: "timeInForce",
                context: "LIMIT orders",
            });
        }
    } else if o.price.is_some() || o.price_match.is_some() {
        return Err(RequestError::NotAllowed {
            field: "price",
            why: "MARKET orders take no price",
        });
    }
    if let Some(p) = o.price
        && !p.value().is_positive()
    {
        return Err(RequestError::NotPositive { field: "price" });
    }
    if o.time_in_force == Some(TimeInForce::Gtd) && o.good_till_date.is_none() {
        return Err(RequestError::Missing {
            field: "goodTillDate",
            context: "timeInForce=GTD",
        });
    }
    let reduce_only = reduce_only_to_send(o.position_side, o.reduce_only)?;

    s.text("symbol", o.symbol.as_str());
    s.text("side", side);
    s.text("type", ty);
    s.decimal("quantity", o.quantity.value());
    if let Some(p) = o.price {
        s.decimal("price", p.value());
    }
    if is_limit && let Some(tif) = &o.time_in_force {
        s.text("timeInForce", wire!("timeInForce", tif)?);
    }
    if let Some(ps) = &o.position_side {
        s.text("positionSide", wire!("positionSide", ps)?);
    }
    if let Some(r) = reduce_only {
        s.boolean("reduceOnly", r);
    }
    if let Some(pm) = &o.price_match {
        s.text("priceMatch", wire!("priceMatch", pm)?);
    }
    s.text("newClientOrderId", o.client_order_id.as_str());
    s.text("newOrderRespType", wire!("newOrderRespType", &o.resp_type)?);
    write_stp_and_gtd(o.stp.as_ref(), o.good_till_date, s)
}

/// Writes an algo order's parameters after checking the Algo Service rules.
pub fn write_new_algo_order<S: ParamSink>(o: &NewAlgoOrder, s: &mut S) -> Result<(), RequestError> {
    if !o.order_type.is_conditional() {
        return Err(RequestError::NotConditional(
            o.order_type.as_str().to_string(),
        ));
    }
    let side = wire!("side", &o.side)?;
    let ty = o.order_type.as_str();
    let trailing = o.order_type == OrderType::TrailingStopMarket;
    let market_child = o.order_type.child_type() == OrderType::Market;
    let close = o.close_position == Some(true);

    if close {
        if !market_child {
            return Err(RequestError::NotAllowed {
                field: "closePosition",
                why: "only STOP_MARKET / TAKE_PROFIT_MARKET may close the position",
            });
        }
        if o.quantity.is_some() {
            return Err(RequestError::NotAllowed {
                field: "quantity",
                why: "closePosition=true sizes the order at trigger (-4137)",
            });
        }
        if o.reduce_only.is_some() {
            return Err(RequestError::NotAllowed {
                field: "reduceOnly",
                why: "closePosition=true is already reduce-only",
            });
        }
    } else {
        match o.quantity {
            None => {
                return Err(RequestError::Missing {
                    field: "quantity",
                    context: "algo orders without closePosition=true",
                });
            }
            Some(q) if !q.value().is_positive() => {
                return Err(RequestError::NotPositive { field: "quantity" });
            }
            Some(_) => {}
        }
    }
    price_or_match(o.price.is_some(), o.price_match.is_some())?;
    if market_child {
        if o.price.is_some() || o.price_match.is_some() {
            return Err(RequestError::NotAllowed {
                field: "price",
                why: "*_MARKET children take no price",
            });
        }
    } else if o.price.is_none() && o.price_match.is_none() {
        return Err(RequestError::Missing {
            field: "price",
            context: "STOP / TAKE_PROFIT (limit child)",
        });
    }
    if trailing {
        match o.callback_rate {
            None => {
                return Err(RequestError::Missing {
                    field: "callbackRate",
                    context: "TRAILING_STOP_MARKET",
                });
            }
            Some(r) if !r.is_positive() => {
                return Err(RequestError::NotPositive {
                    field: "callbackRate",
                });
            }
            Some(_) => {}
        }
    } else {
        if o.trigger_price.is_none() {
            return Err(RequestError::Missing {
                field: "triggerPrice",
                context: "STOP / TAKE_PROFIT orders",
            });
        }
        if o.activate_price.is_some() || o.callback_rate.is_some() {
            return Err(RequestError::NotAllowed {
                field: "activatePrice",
                why: "activatePrice/callbackRate are for TRAILING_STOP_MARKET only",
            });
        }
    }
    let reduce_only = reduce_only_to_send(o.position_side, o.reduce_only)?;
    if close
        && let Some(ps) = o.position_side
        && matches!(
            (o.side, ps),
            (Side::Buy, PositionSide::Long) | (Side::Sell, PositionSide::Short)
        )
    {
        return Err(RequestError::NotAllowed {
            field: "closePosition",
            why: "in hedge mode BUY+LONG / SELL+SHORT would open, not close",
        });
    }

    s.text("algoType", "CONDITIONAL");
    s.text("symbol", o.symbol.as_str());
    s.text("side", side);
    s.text("type", ty);
    if let Some(ps) = &o.position_side {
        s.text("positionSide", wire!("positionSide", ps)?);
    }
    if let Some(tif) = &o.time_in_force {
        s.text("timeInForce", wire!("timeInForce", tif)?);
    }
    if let Some(q) = o.quantity {
        s.decimal("quantity", q.value());
    }
    if let Some(p) = o.price {
        s.decimal("price", p.value());
    }
    if let Some(pm) = &o.price_match {
        s.text("priceMatch", wire!("priceMatch", pm)?);
    }
    if let Some(tp) = o.trigger_price {
        s.decimal("triggerPrice", tp.value());
    }
    if let Some(wt) = &o.working_type {
        s.text("workingType", wire!("workingType", wt)?);
    }
    if let Some(cp) = o.close_position {
        s.boolean("closePosition", cp);
    }
    if let Some(pp) = o.price_protect {
        s.boolean("priceProtect", pp);
    }
    if let Some(r) = reduce_only {
        s.boolean("reduceOnly", r);
    }
    if let Some(ap) = o.activate_price {
        s.decimal("activatePrice", ap.value());
    }
    if let Some(cb) = o.callback_rate {
        s.decimal("callbackRate", cb);
    }
    s.text("clientAlgoId", o.client_algo_id.as_str());
    if let Some(rt) = &o.resp_type {
        s.text("newOrderRespType", wire!("newOrderRespType", rt)?);
    }
    write_stp_and_gtd(o.stp.as_ref(), o.good_till_date, s)
}

/// Writes a modify's parameters; exactly one of price / priceMatch.
pub fn write_modify_order<S: ParamSink>(m: &ModifyOrder, s: &mut S) -> Result<(), RequestError> {
    let side = wire!("side", &m.side)?;
    if !m.quantity.value().is_positive() {
        return Err(RequestError::NotPositive { field: "quantity" });
    }
    match (m.price, &m.price_match) {
        (Some(_), Some(_)) => {
            return Err(RequestError::NotAllowed {
                field: "priceMatch",
                why: "price and priceMatch are exclusive",
            });
        }
        (None, None) => {
            return Err(RequestError::Missing {
                field: "price",
                context: "modify (or give priceMatch)",
            });
        }
        (Some(p), None) if !p.value().is_positive() => {
            return Err(RequestError::NotPositive { field: "price" });
        }
        _ => {}
    }
    write_order_ref(&m.order, s);
    s.text("symbol", m.symbol.as_str());
    s.text("side", side);
    s.decimal("quantity", m.quantity.value());
    if let Some(p) = m.price {
        s.decimal("price", p.value());
    }
    if let Some(pm) = &m.price_match {
        s.text("priceMatch", wire!("priceMatch", pm)?);
    }
    if let Some(id) = m.modify_id {
        s.int("modifyId", id);
    }
    Ok(())
}

/// Writes `orderId` or `origClientOrderId`.
pub fn write_order_ref<S: ParamSink>(r: &OrderRef, s: &mut S) {
    match r {
        OrderRef::VenueId(id) => s.int("orderId", *id),
        OrderRef::ClientId(c) => s.text("origClientOrderId", c.as_str()),
    }
}

/// Writes `algoId` or `clientAlgoId`.
pub fn write_algo_ref<S: ParamSink>(r: &AlgoRef, s: &mut S) {
    match r {
        AlgoRef::AlgoId(id) => s.int("algoId", *id),
        AlgoRef::ClientAlgoId(c) => s.text("clientAlgoId", c.as_str()),
    }
}

/// Static description of an endpoint.
#[derive(Debug, Clone, Copy)]
struct Endpoint {
    method: HttpMethod,
    path: &'static str,
    security: Security,
    weight: u32,
    counts_as_order: bool,
}

const fn ep(
    method: HttpMethod,
    path: &'static str,
    security: Security,
    weight: u32,
    counts_as_order: bool,
) -> Endpoint {
    Endpoint {
        method,
        path,
        security,
        weight,
        counts_as_order,
    }
}

use HttpMethod::{Delete, Get, Post, Put};
use Security::{ApiKey, None as Public, Signed};

const NEW_ORDER: Endpoint = ep(Post, "/fapi/v1/order", Signed, 0, true);
const NEW_ALGO: Endpoint = ep(Post, "/fapi/v1/algoOrder", Signed, 0, true);
const MODIFY: Endpoint = ep(Put, "/fapi/v1/order", Signed, 0, true);
const CANCEL: Endpoint = ep(Delete, "/fapi/v1/order", Signed, 1, false);
const CANCEL_ALGO: Endpoint = ep(Delete, "/fapi/v1/algoOrder", Signed, 1, false);
const QUERY: Endpoint = ep(Get, "/fapi/v1/order", Signed, 1, false);
const QUERY_ALGO: Endpoint = ep(Get, "/fapi/v1/algoOrder", Signed, 1, false);
const CANCEL_ALL: Endpoint = ep(Delete, "/fapi/v1/allOpenOrders", Signed, 1, false);
const CANCEL_ALL_ALGO: Endpoint = ep(Delete, "/fapi/v1/algoOpenOrders", Signed, 1, false);
const ACCOUNT: Endpoint = ep(Get, "/fapi/v3/account", Signed, 5, false);
const POSITION_RISK: Endpoint = ep(Get, "/fapi/v3/positionRisk", Signed, 5, false);
const POSITION_MODE_GET: Endpoint = ep(Get, "/fapi/v1/positionSide/dual", Signed, 30, false);
const POSITION_MODE_SET: Endpoint = ep(Post, "/fapi/v1/positionSide/dual", Signed, 1, false);
const LEVERAGE: Endpoint = ep(Post, "/fapi/v1/leverage", Signed, 1, false);
const USER_TRADES: Endpoint = ep(Get, "/fapi/v1/userTrades", Signed, 5, false);
const COUNTDOWN: Endpoint = ep(Post, "/fapi/v1/countdownCancelAll", Signed, 10, false);
const LISTEN_KEY_PATH: &str = "/fapi/v1/listenKey";

/// Builds and signs REST requests into buffers it owns and reuses.
///
/// One per sending thread: it is `Send` but not shared, so no locking.
pub struct RequestBuilder {
    query: Vec<u8>,
    body: Vec<u8>,
    signer: Signer,
    api_key: String,
    recv_window_ms: Option<u32>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("api_key", &"<redacted>")
            .field("signer", &self.signer)
            .field("recv_window_ms", &self.recv_window_ms)
            .finish()
    }
}

impl RequestBuilder {
    /// A builder for one account. `recv_window_ms = None` omits `recvWindow`
    /// (the venue then uses 5000); keep it ≤ 5000 so stale orders die.
    pub fn new(api_key: &str, secret: &[u8], recv_window_ms: Option<u32>) -> Self {
        RequestBuilder {
            query: Vec::with_capacity(512),
            body: Vec::with_capacity(512),
            signer: Signer::new(secret),
            api_key: api_key.to_string(),
            recv_window_ms,
        }
    }

    /// The API key, for the `X-MBX-APIKEY` header of hand-made requests.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The signer, for the WebSocket API and for verification in tests.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Clears both buffers and writes parameters for `e` into the right one.
    fn write<F>(&mut self, e: &Endpoint, f: F) -> Result<(), RequestError>
    where
        F: FnOnce(&mut QueryWriter<'_>) -> Result<(), RequestError>,
    {
        self.query.clear();
        self.body.clear();
        let buf = if e.method.params_in_body() {
            &mut self.body
        } else {
            &mut self.query
        };
        let mut w = QueryWriter::new(buf);
        f(&mut w)
    }

    /// Appends recvWindow + timestamp (signed calls), signs query ‖ body and
    /// appends `signature` last; then lends out the request.
    fn finish(&mut self, e: &Endpoint, timestamp_ms: i64) -> RestRequest<'_> {
        if e.security == Signed {
            let in_body = e.method.params_in_body();
            {
                let buf = if in_body {
                    &mut self.body
                } else {
                    &mut self.query
                };
                let mut w = QueryWriter::continuing(buf);
                if let Some(rw) = self.recv_window_ms {
                    w.int("recvWindow", i64::from(rw));
                }
                w.int("timestamp", timestamp_ms);
            }
            let mut sig = [0u8; 64];
            self.signer
                .sign_parts_into(&self.query, &self.body, &mut sig);
            let buf = if in_body {
                &mut self.body
            } else {
                &mut self.query
            };
            buf.extend_from_slice(b"&signature=");
            buf.extend_from_slice(&sig);
        }
        RestRequest {
            method: e.method,
            path: e.path,
            query: &self.query,
            body: &self.body,
            security: e.security,
            api_key: (e.security != Public).then_some(self.api_key.as_str()),
            weight: e.weight,
            counts_as_order: e.counts_as_order,
        }
    }

    fn signed<F>(
        &mut self,
        e: &Endpoint,
        timestamp_ms: i64,
        f: F,
    ) -> Result<RestRequest<'_>, RequestError>
    where
        F: FnOnce(&mut QueryWriter<'_>) -> Result<(), RequestError>,
    {
        self.write(e, f)?;
        Ok(self.finish(e, timestamp_ms))
    }

    /// `POST /fapi/v1/order`: a LIMIT or MARKET order.
    pub fn new_order(
        &mut self,
        o: &NewOrder,
        timestamp_ms: i64,
    ) -> Result<RestRequest<'_>, RequestError> {
        self.signed(&NEW_ORDER, timestamp_ms, |w| write_new_order(o, w))
    }

    /// `POST /fapi/v1/algoOrder`: a conditional order.
    pub fn new_algo_order(
        &mut self,
        o: &NewAlgoOrder,
        timestamp_ms: i64,
    ) -> Result<RestRequest<'_>, RequestError> {
        self.signed(&NEW_ALGO, timestamp_ms, |w| write_new_algo_order(o, w))
    }

    /// `PUT /fapi/v1/order`: amend price/quantity of a resting LIMIT order.
    pub fn modify_order(
        &mut self,
        m: &ModifyOrder,
        timestamp_ms: i64,
    ) -> Result<RestRequest<'_>, RequestError> {
        self.signed(&MODIFY, timestamp_ms, |w| write_modify_order(m, w))
    }

    /// `DELETE /fapi/v1/order`.
    pub fn cancel_order(
        &mut self,
        symbol: &Symbol,
        order: &OrderRef,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        self.symbol_and_ref(&CANCEL, symbol, order, timestamp_ms)
    }

    /// `GET /fapi/v1/order`: resolves an order by venue or client id.
    pub fn query_order(
        &mut self,
        symbol: &Symbol,
        order: &OrderRef,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        self.symbol_and_ref(&QUERY, symbol, order, timestamp_ms)
    }

    fn symbol_and_ref(
        &mut self,
        e: &Endpoint,
        symbol: &Symbol,
        order: &OrderRef,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        let _ = self.write(e, |w| {
            w.str("symbol", symbol.as_str());
            write_order_ref(order, w);
            Ok(())
        });
        self.finish(e, timestamp_ms)
    }

    /// `DELETE /fapi/v1/algoOrder`.
    pub fn cancel_algo_order(&mut self, algo: &AlgoRef, timestamp_ms: i64) -> RestRequest<'_> {
        self.algo_ref(&CANCEL_ALGO, algo, timestamp_ms)
    }

    /// `GET /fapi/v1/algoOrder`.
    pub fn query_algo_order(&mut self, algo: &AlgoRef, timestamp_ms: i64) -> RestRequest<'_> {
        self.algo_ref(&QUERY_ALGO, algo, timestamp_ms)
    }

    fn algo_ref(&mut self, e: &Endpoint, algo: &AlgoRef, timestamp_ms: i64) -> RestRequest<'_> {
        let _ = self.write(e, |w| {
            write_algo_ref(algo, w);
            Ok(())
        });
        self.finish(e, timestamp_ms)
    }

    fn optional_symbol(
        &mut self,
        e: Endpoint,
        weight_without_symbol: u32,
        symbol: Option<&Symbol>,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        let e = Endpoint {
            weight: if symbol.is_some() {
                e.weight
            } else {
                weight_without_symbol
            },
            ..e
        };
        let _ = self.write(&e, |w| {
            if let Some(s) = symbol {
                w.str("symbol", s.as_str());
            }
            Ok(())
        });
        self.finish(&e, timestamp_ms)
    }

    /// `GET /fapi/v1/openOrders` (weight 1, or 40 for all symbols).
    pub fn open_orders(&mut self, symbol: Option<&Symbol>, timestamp_ms: i64) -> RestRequest<'_> {
        self.optional_symbol(
            ep(Get, "/fapi/v1/openOrders", Signed, 1, false),
            40,
            symbol,
            timestamp_ms,
        )
    }

    /// `GET /fapi/v1/openAlgoOrders` (weight 1, or 40 for all symbols).
    pub fn open_algo_orders(
        &mut self,
        symbol: Option<&Symbol>,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        self.optional_symbol(
            ep(Get, "/fapi/v1/openAlgoOrders", Signed, 1, false),
            40,
            symbol,
            timestamp_ms,
        )
    }

    /// `GET /fapi/v3/positionRisk` for one symbol or all with a position.
    pub fn position_risk(&mut self, symbol: Option<&Symbol>, timestamp_ms: i64) -> RestRequest<'_> {
        self.optional_symbol(POSITION_RISK, 5, symbol, timestamp_ms)
    }

    /// `DELETE /fapi/v1/allOpenOrders` (plain orders only).
    pub fn cancel_all_open_orders(
        &mut self,
        symbol: &Symbol,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        self.optional_symbol(CANCEL_ALL, 1, Some(symbol), timestamp_ms)
    }

    /// `DELETE /fapi/v1/algoOpenOrders` (algo orders are not covered by the above).
    pub fn cancel_all_algo_open_orders(
        &mut self,
        symbol: &Symbol,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        self.optional_symbol(CANCEL_ALL_ALGO, 1, Some(symbol), timestamp_ms)
    }

    /// `GET /fapi/v3/account`.
    pub fn account(&mut self, timestamp_ms: i64) -> RestRequest<'_> {
        self.optional_symbol(ACCOUNT, 5, None, timestamp_ms)
    }

    /// `GET /fapi/v1/positionSide/dual` (weight 30): true = hedge mode.
    pub fn position_mode(&mut self, timestamp_ms: i64) -> RestRequest<'_> {
        self.optional_symbol(POSITION_MODE_GET, 30, None, timestamp_ms)
    }

    /// `POST /fapi/v1/positionSide/dual`: hedge (`true`) or one-way, all symbols.
    pub fn set_position_mode(&mut self, hedge: bool, timestamp_ms: i64) -> RestRequest<'_> {
        let _ = self.write(&POSITION_MODE_SET, |w| {
            w.bool("dualSidePosition", hedge);
            Ok(())
        });
        self.finish(&POSITION_MODE_SET, timestamp_ms)
    }

    /// `POST /fapi/v1/leverage` (1–125).
    pub fn set_leverage(
        &mut self,
        symbol: &Symbol,
        leverage: u8,
        timestamp_ms: i64,
    ) -> Result<RestRequest<'_>, RequestError> {
        if !(1..=125).contains(&leverage) {
            return Err(RequestError::NotAllowed {
                field: "leverage",
                why: "leverage must be 1..=125",
            });
        }
        self.signed(&LEVERAGE, timestamp_ms, |w| {
            w.str("symbol", symbol.as_str());
            w.int("leverage", i64::from(leverage));
            Ok(())
        })
    }

    /// `GET /fapi/v1/userTrades`; `fromId` cannot be combined with times.
    pub fn user_trades(
        &mut self,
        q: &UserTradesQuery,
        timestamp_ms: i64,
    ) -> Result<RestRequest<'_>, RequestError> {
        if q.from_id.is_some() && (q.start_time.is_some() || q.end_time.is_some()) {
            return Err(RequestError::NotAllowed {
                field: "fromId",
                why: "fromId cannot be combined with startTime/endTime",
            });
        }
        self.signed(&USER_TRADES, timestamp_ms, |w| {
            w.str("symbol", q.symbol.as_str());
            if let Some(v) = q.order_id {
                w.int("orderId", v);
            }
            if let Some(v) = q.from_id {
                w.int("fromId", v);
            }
            if let Some(v) = q.start_time {
                w.int("startTime", v);
            }
            if let Some(v) = q.end_time {
                w.int("endTime", v);
            }
            if let Some(v) = q.limit {
                w.int("limit", i64::from(v));
            }
            Ok(())
        })
    }

    /// `POST /fapi/v1/countdownCancelAll`: the dead-man switch (0 disarms).
    pub fn countdown_cancel_all(
        &mut self,
        symbol: &Symbol,
        countdown_ms: u32,
        timestamp_ms: i64,
    ) -> RestRequest<'_> {
        let _ = self.write(&COUNTDOWN, |w| {
            w.str("symbol", symbol.as_str());
            w.int("countdownTime", i64::from(countdown_ms));
            Ok(())
        });
        self.finish(&COUNTDOWN, timestamp_ms)
    }

    fn unsigned(&mut self, e: Endpoint) -> RestRequest<'_> {
        self.query.clear();
        self.body.clear();
        self.finish(&e, 0)
    }

    /// `POST /fapi/v1/listenKey`: returns the live key (extended) or a new one.
    pub fn listen_key_create(&mut self) -> RestRequest<'_> {
        self.unsigned(ep(Post, LISTEN_KEY_PATH, ApiKey, 1, false))
    }

    /// `PUT /fapi/v1/listenKey`: extends the key by 60 minutes.
    pub fn listen_key_keepalive(&mut self) -> RestRequest<'_> {
        self.unsigned(ep(Put, LISTEN_KEY_PATH, ApiKey, 1, false))
    }

    /// `DELETE /fapi/v1/listenKey`.
    pub fn listen_key_delete(&mut self) -> RestRequest<'_> {
        self.unsigned(ep(Delete, LISTEN_KEY_PATH, ApiKey, 1, false))
    }

    /// `GET /fapi/v1/time`, for the clock offset estimate.
    pub fn server_time(&mut self) -> RestRequest<'_> {
        self.unsigned(ep(Get, "/fapi/v1/time", Public, 1, false))
    }

    /// `GET /fapi/v1/exchangeInfo`.
    pub fn exchange_info(&mut self) -> RestRequest<'_> {
        self.unsigned(ep(Get, "/fapi/v1/exchangeInfo", Public, 1, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
    const SECRET: &[u8] = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }
    fn cid(s: &str) -> ClientOrderId {
        ClientOrderId::new(s).unwrap()
    }
    fn limit() -> NewOrder {
        NewOrder {
            symbol: sym("ETHUSDT"),
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: Some(TimeInForce::Gtx),
            quantity: Quantity::parse("0.050").unwrap(),
            price: Some(Price::parse("2400.10").unwrap()),
            reduce_only: None,
            position_side: None,
            client_order_id: cid("e1-000042"),
            resp_type: RespType::Result,
            good_till_date: None,
            stp: None,
            price_match: None,
        }
    }
    fn stop_market() -> NewAlgoOrder {
        NewAlgoOrder {
            symbol: sym("ETHUSDT"),
            side: Side::Sell,
            order_type: OrderType::StopMarket,
            position_side: None,
            time_in_force: None,
            quantity: Some(Quantity::parse("0.050").unwrap()),
            price: None,
            price_match: None,
            trigger_price: Some(Price::parse("2300.00").unwrap()),
            working_type: Some(WorkingType::MarkPrice),
            close_position: None,
            price_protect: Some(true),
            reduce_only: Some(true),
            activate_price: None,
            callback_rate: None,
            client_algo_id: cid("sl-ETH-0007"),
            resp_type: None,
            stp: None,
            good_till_date: None,
        }
    }
    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }
    /// Splits off `&signature=<hex>` and checks it signs query ‖ body-before-it.
    fn assert_signed_last(r: &RestRequest<'_>) -> String {
        let (q, b) = (text(r.query), text(r.body));
        let holder = if r.method.params_in_body() { b } else { q };
        let (payload, sig) = holder.rsplit_once("&signature=").expect("signature last");
        assert_eq!(sig.len(), 64);
        let s = Signer::new(SECRET);
        let ok = if r.method.params_in_body() {
            s.verify(q.as_bytes(), payload.as_bytes(), sig.as_bytes())
        } else {
            s.verify(payload.as_bytes(), b.as_bytes(), sig.as_bytes())
        };
        assert!(ok, "signature must cover exactly the sent bytes");
        payload.to_string()
    }

    #[test]
    fn non_ascii_symbol_vector_signs_encoded_form() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let r = b
            .set_leverage(&sym("币安人生USDT"), 10, 1760969700000)
            .unwrap();
        assert_eq!(r.method, HttpMethod::Post);
        assert_eq!(r.path, "/fapi/v1/leverage");
        assert!(r.query.is_empty());
        assert_eq!(
            text(r.body),
            "symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT&leverage=10&timestamp=1760969700000\
             &signature=0bc002a765be3edafb9949c46734e1bd74c9e6918b32ddd64db4ce9270287d7e"
        );
        assert_eq!(r.content_type(), Some(FORM_CONTENT_TYPE));
        assert_eq!(r.api_key, Some(KEY));
    }

    #[test]
    fn limit_order_bytes_and_signature() {
        let mut b = RequestBuilder::new(KEY, SECRET, Some(5000));
        let r = b.new_order(&limit(), 1760000000000).unwrap();
        assert_eq!(
            (r.method, r.path, r.weight, r.counts_as_order),
            (HttpMethod::Post, "/fapi/v1/order", 0, true)
        );
        let payload = assert_signed_last(&r);
        assert_eq!(
            payload,
            "symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.05&price=2400.1&timeInForce=GTX\
             &newClientOrderId=e1-000042&newOrderRespType=RESULT&recvWindow=5000&timestamp=1760000000000"
        );
    }

    #[test]
    fn official_vector_shape_from_builder() {
        // Same fields as the docs' vector plus our mandatory client id.
        let mut b = RequestBuilder::new(KEY, SECRET, Some(5000));
        let o = NewOrder {
            symbol: sym("BTCUSDT"),
            quantity: Quantity::parse("1").unwrap(),
            price: Some(Price::parse("9000").unwrap()),
            time_in_force: Some(TimeInForce::Gtc),
            client_order_id: cid("x1"),
            resp_type: RespType::Ack,
            ..limit()
        };
        let r = b.new_order(&o, 1591702613943).unwrap();
        let payload = assert_signed_last(&r);
        assert!(payload.starts_with(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&"
        ));
        assert!(payload.ends_with("&recvWindow=5000&timestamp=1591702613943"));
    }

    #[test]
    fn market_order_omits_price_and_tif_and_sends_reduce_only_in_one_way() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let o = NewOrder {
            order_type: OrderType::Market,
            time_in_force: None,
            price: None,
            reduce_only: Some(true),
            side: Side::Sell,
            ..limit()
        };
        let payload = assert_signed_last(&b.new_order(&o, 1).unwrap());
        assert_eq!(
            payload,
            "symbol=ETHUSDT&side=SELL&type=MARKET&quantity=0.05&reduceOnly=true\
             &newClientOrderId=e1-000042&newOrderRespType=RESULT&timestamp=1"
        );
        let with_price = NewOrder {
            price: Some(Price::parse("1").unwrap()),
            ..o
        };
        assert!(matches!(
            b.new_order(&with_price, 1),
            Err(RequestError::NotAllowed { field: "price", .. })
        ));
    }

    #[test]
    fn hedge_mode_never_sends_reduce_only() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let o = NewOrder {
            position_side: Some(PositionSide::Long),
            reduce_only: Some(false),
            ..limit()
        };
        let payload = assert_signed_last(&b.new_order(&o, 1).unwrap());
        assert!(payload.contains("positionSide=LONG"));
        assert!(!payload.contains("reduceOnly"));
        let o = NewOrder {
            reduce_only: Some(true),
            ..o
        };
        assert!(matches!(
            b.new_order(&o, 1),
            Err(RequestError::NotAllowed {
                field: "reduceOnly",
                ..
            })
        ));
    }

    #[test]
    fn optional_fields_appear_only_when_set() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let o = NewOrder {
            time_in_force: Some(TimeInForce::Gtd),
            good_till_date: Some(1760003600000),
            stp: Some(StpMode::ExpireBoth),
            price: None,
            price_match: Some(PriceMatch::Queue),
            ..limit()
        };
        let payload = assert_signed_last(&b.new_order(&o, 7).unwrap());
        assert_eq!(
            payload,
            "symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.05&timeInForce=GTD&priceMatch=QUEUE\
             &newClientOrderId=e1-000042&newOrderRespType=RESULT\
             &selfTradePreventionMode=EXPIRE_BOTH&goodTillDate=1760003600000&timestamp=7"
        );
        let gtd_without_date = NewOrder {
            good_till_date: None,
            ..o
        };
        assert!(matches!(
            b.new_order(&gtd_without_date, 7),
            Err(RequestError::Missing {
                field: "goodTillDate",
                ..
            })
        ));
    }

    #[test]
    fn conditional_type_on_order_endpoint_is_a_typed_error() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        for t in [
            OrderType::Stop,
            OrderType::StopMarket,
            OrderType::TakeProfit,
            OrderType::TakeProfitMarket,
            OrderType::TrailingStopMarket,
        ] {
            let o = NewOrder {
                order_type: t,
                ..limit()
            };
            let e = b.new_order(&o, 1).unwrap_err();
            assert!(matches!(e, RequestError::ConditionalOnOrderEndpoint(_)));
            assert!(e.to_string().contains("algo"));
        }
        let o = NewOrder {
            order_type: OrderType::from_wire("ICEBERG"),
            ..limit()
        };
        assert!(matches!(
            b.new_order(&o, 1),
            Err(RequestError::UnknownEnum { what: "type", .. })
        ));
        let o = NewOrder {
            quantity: Quantity::ZERO,
            ..limit()
        };
        assert!(matches!(
            b.new_order(&o, 1),
            Err(RequestError::NotPositive { field: "quantity" })
        ));
    }

    #[test]
    fn algo_stop_market() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let r = b.new_algo_order(&stop_market(), 1760000000100).unwrap();
        assert_eq!((r.path, r.counts_as_order), ("/fapi/v1/algoOrder", true));
        let payload = assert_signed_last(&r);
        assert_eq!(
            payload,
            "algoType=CONDITIONAL&symbol=ETHUSDT&side=SELL&type=STOP_MARKET&quantity=0.05\
             &triggerPrice=2300&workingType=MARK_PRICE&priceProtect=true&reduceOnly=true\
             &clientAlgoId=sl-ETH-0007&timestamp=1760000000100"
        );
    }

    #[test]
    fn algo_rules() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        // closePosition: no quantity, no reduceOnly.
        let close = NewAlgoOrder {
            quantity: None,
            reduce_only: None,
            close_position: Some(true),
            ..stop_market()
        };
        let payload = assert_signed_last(&b.new_algo_order(&close, 1).unwrap());
        assert!(payload.contains("closePosition=true") && !payload.contains("quantity"));
        let bad = NewAlgoOrder {
            quantity: Some(Quantity::parse("1").unwrap()),
            ..close
        };
        assert!(b.new_algo_order(&bad, 1).is_err());
        // STOP (limit child) needs a price, which is sent.
        let stop = NewAlgoOrder {
            order_type: OrderType::Stop,
            ..stop_market()
        };
        assert!(matches!(
            b.new_algo_order(&stop, 1),
            Err(RequestError::Missing { field: "price", .. })
        ));
        let stop = NewAlgoOrder {
            price: Some(Price::parse("2299.5").unwrap()),
            time_in_force: Some(TimeInForce::Gtc),
            ..stop
        };
        let payload = assert_signed_last(&b.new_algo_order(&stop, 1).unwrap());
        assert!(payload.contains("&timeInForce=GTC&quantity=0.05&price=2299.5&triggerPrice=2300&"));
        // Trailing: callbackRate required, triggerPrice optional.
        let trail = NewAlgoOrder {
            order_type: OrderType::TrailingStopMarket,
            trigger_price: None,
            activate_price: Some(Price::parse("2500").unwrap()),
            callback_rate: Some(Decimal::parse("1.5").unwrap()),
            ..stop_market()
        };
        let payload = assert_signed_last(&b.new_algo_order(&trail, 1).unwrap());
        assert!(payload.contains("activatePrice=2500&callbackRate=1.5"));
        assert!(!payload.contains("triggerPrice"));
        let no_cb = NewAlgoOrder {
            callback_rate: None,
            ..trail
        };
        assert!(b.new_algo_order(&no_cb, 1).is_err());
        // LIMIT is not an algo type; hedge reduceOnly refused.
        let lim = NewAlgoOrder {
            order_type: OrderType::Limit,
            ..stop_market()
        };
        assert!(matches!(
            b.new_algo_order(&lim, 1),
            Err(RequestError::NotConditional(_))
        ));
        let hedge = NewAlgoOrder {
            position_side: Some(PositionSide::Long),
            ..stop_market()
        };
        assert!(b.new_algo_order(&hedge, 1).is_err());
        let hedge_close_wrong_side = NewAlgoOrder {
            side: Side::Buy,
            position_side: Some(PositionSide::Long),
            ..close
        };
        assert!(b.new_algo_order(&hedge_close_wrong_side, 1).is_err());
    }

    #[test]
    fn get_and_delete_use_the_query() {
        let mut b = RequestBuilder::new(KEY, SECRET, Some(3000));
        let r = b.query_order(&sym("ETHUSDT"), &OrderRef::ClientId(cid("e1-000042")), 9);
        assert_eq!(
            (r.method, r.path, r.weight),
            (HttpMethod::Get, "/fapi/v1/order", 1)
        );
        assert!(r.body.is_empty() && r.content_type().is_none());
        assert_eq!(
            assert_signed_last(&r),
            "symbol=ETHUSDT&origClientOrderId=e1-000042&recvWindow=3000&timestamp=9"
        );
        let r = b.cancel_order(&sym("ETHUSDT"), &OrderRef::VenueId(8389765549), 9);
        assert_eq!(r.method, HttpMethod::Delete);
        assert_eq!(
            assert_signed_last(&r),
            "symbol=ETHUSDT&orderId=8389765549&recvWindow=3000&timestamp=9"
        );
        let r = b.cancel_algo_order(&AlgoRef::AlgoId(3000000123456), 9);
        assert_eq!(
            assert_signed_last(&r),
            "algoId=3000000123456&recvWindow=3000&timestamp=9"
        );
        let r = b.open_orders(None, 9);
        assert_eq!(r.weight, 40);
        assert_eq!(assert_signed_last(&r), "recvWindow=3000&timestamp=9");
        let r = b.open_algo_orders(Some(&sym("ETHUSDT")), 9);
        assert_eq!(r.weight, 1);
        let r = b.account(9);
        assert_eq!((r.path, r.weight), ("/fapi/v3/account", 5));
        let r = b.position_mode(9);
        assert_eq!(r.weight, 30);
    }

    #[test]
    fn modify_and_misc_posts() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let m = ModifyOrder {
            symbol: sym("ETHUSDT"),
            side: Side::Buy,
            order: OrderRef::VenueId(42),
            quantity: Quantity::parse("0.06").unwrap(),
            price: Some(Price::parse("2401").unwrap()),
            price_match: None,
            modify_id: Some(3),
        };
        let r = b.modify_order(&m, 5).unwrap();
        assert_eq!((r.method, r.counts_as_order), (HttpMethod::Put, true));
        assert_eq!(
            assert_signed_last(&r),
            "orderId=42&symbol=ETHUSDT&side=BUY&quantity=0.06&price=2401&modifyId=3&timestamp=5"
        );
        let both = ModifyOrder {
            price_match: Some(PriceMatch::Opponent),
            ..m
        };
        assert!(b.modify_order(&both, 5).is_err());
        let r = b.set_position_mode(true, 5);
        assert_eq!(assert_signed_last(&r), "dualSidePosition=true&timestamp=5");
        let r = b.countdown_cancel_all(&sym("BTCUSDT"), 120000, 5);
        assert_eq!(r.weight, 10);
        assert_eq!(
            assert_signed_last(&r),
            "symbol=BTCUSDT&countdownTime=120000&timestamp=5"
        );
        assert!(b.set_leverage(&sym("BTCUSDT"), 0, 5).is_err());
        assert!(b.set_leverage(&sym("BTCUSDT"), 126, 5).is_err());
    }

    #[test]
    fn user_trades_from_id_vs_times() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let q = UserTradesQuery {
            symbol: sym("ETHUSDT"),
            order_id: None,
            from_id: Some(1974335521),
            start_time: None,
            end_time: None,
            limit: Some(1000),
        };
        let r = b.user_trades(&q, 5).unwrap();
        assert_eq!((r.method, r.weight), (HttpMethod::Get, 5));
        assert_eq!(
            assert_signed_last(&r),
            "symbol=ETHUSDT&fromId=1974335521&limit=1000&timestamp=5"
        );
        let q = UserTradesQuery {
            start_time: Some(1),
            ..q
        };
        assert!(b.user_trades(&q, 5).is_err());
    }

    #[test]
    fn unsigned_calls() {
        let mut b = RequestBuilder::new(KEY, SECRET, Some(5000));
        for (r_method, r_sec, r_query, r_body, r_key) in [
            {
                let r = b.listen_key_create();
                (
                    r.method,
                    r.security,
                    r.query.len(),
                    r.body.len(),
                    r.api_key.is_some(),
                )
            },
            {
                let r = b.listen_key_keepalive();
                (
                    r.method,
                    r.security,
                    r.query.len(),
                    r.body.len(),
                    r.api_key.is_some(),
                )
            },
            {
                let r = b.listen_key_delete();
                (
                    r.method,
                    r.security,
                    r.query.len(),
                    r.body.len(),
                    r.api_key.is_some(),
                )
            },
        ] {
            assert_eq!(
                (r_sec, r_query, r_body, r_key),
                (Security::ApiKey, 0, 0, true)
            );
            assert_ne!(r_method, HttpMethod::Get);
        }
        let r = b.server_time();
        assert_eq!(
            (r.security, r.path, r.query.len(), r.api_key),
            (Security::None, "/fapi/v1/time", 0, None)
        );
        let r = b.exchange_info();
        assert_eq!(
            (r.security, r.path),
            (Security::None, "/fapi/v1/exchangeInfo")
        );
    }

    #[test]
    fn debug_redacts_the_key() {
        let mut b = RequestBuilder::new(KEY, SECRET, None);
        let d = format!("{b:?}");
        assert!(!d.contains(KEY) && !d.contains("2b5eb11e"));
        let r = b.listen_key_create();
        assert!(!format!("{r:?}").contains(KEY));
    }

    #[test]
    fn warm_builder_reuses_its_buffers() {
        let mut b = RequestBuilder::new(KEY, SECRET, Some(5000));
        let _ = b.new_order(&limit(), 1).unwrap();
        let (qp, bp) = (b.query.as_ptr(), b.body.as_ptr());
        for ts in 0..100 {
            let _ = b.new_order(&limit(), 1760000000000 + ts).unwrap();
            let _ = b.query_order(&sym("ETHUSDT"), &OrderRef::VenueId(ts), ts);
        }
        assert_eq!((b.query.as_ptr(), b.body.as_ptr()), (qp, bp));
    }
}
