//! Typed REST response bodies of `/fapi` (orders, algo orders, account,
//! positions, listenKey, server time) and the venue's error body.
//!
//! Why so many `Option`s: the venue drops fields between spec versions (the
//! 2026-07 spec removed `avgPrice`/`cumQuote` from order replies) and a reply
//! we cannot decode is an order whose state we no longer know. Only the fields
//! that identify the object are required; everything else is optional and
//! unknown enum values become `Unknown(..)`. Decimals are exact (`Price`,
//! `Quantity`, `Money`), never floats. Strings that identify things are inline
//! `Copy` types, so an order reply decodes without heap allocation.

use super::decode::{DecodeError, Tag, de};
use crate::model::decimal::{Decimal, Money, Price, Quantity};
use crate::model::enums::*;
use crate::model::ids::{AlgoId, ClientOrderId, Symbol, TradeId, VenueOrderId};
use serde::Deserialize;

pub use super::decode::decode;

/// The venue's error body `{"code":-2019,"msg":"Margin is insufficient."}`.
/// Kept verbatim because the code decides the engine's reaction (retry,
/// reconcile, fail fast) and the message is what a trader searches for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("venue error {code}: {msg}")]
pub struct ApiError {
    /// Venue error code (negative), or an HTTP-like code on some endpoints.
    #[serde(deserialize_with = "de::flex_i64")]
    pub code: i64,
    /// Venue message.
    #[serde(default)]
    pub msg: String,
}

/// Outcome of one REST call: the typed body, the venue's refusal, or a body we
/// could not read (which for a write means "state unknown: reconcile").
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplyError {
    /// The venue answered with `{code,msg}`.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The body did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Decodes a REST reply by HTTP status: 2xx bodies as `T`, anything else as
/// [`ApiError`] (falling back to the raw text when the body is not
/// `{code,msg}`, e.g. an HTML 503 page from a proxy).
pub fn decode_reply<T: serde::de::DeserializeOwned>(
    http_status: u16,
    body: &[u8],
) -> Result<T, ReplyError> {
    if (200..300).contains(&http_status) {
        // A few endpoints answer 200 with an error body; catch it.
        if let Some(err) = as_api_error(body) {
            return Err(ReplyError::Api(err));
        }
        return Ok(decode::<T>(body)?);
    }
    Err(ReplyError::Api(decode_api_error(http_status, body)))
}

/// The error carried by a non-2xx reply. Never fails: a body that is not
/// `{code,msg}` becomes `ApiError { code: -(http status), msg: <body text> }`.
pub fn decode_api_error(http_status: u16, body: &[u8]) -> ApiError {
    match decode::<ApiError>(body) {
        Ok(e) => e,
        Err(_) => ApiError {
            code: -i64::from(http_status),
            msg: String::from_utf8_lossy(body.get(..256.min(body.len())).unwrap_or(body))
                .into_owned(),
        },
    }
}

/// `Some` when `body` is an error object (`code` < 0, or ≥ 400); the success
/// acknowledgements `{"code":200,"msg":"success"}` are not errors.
pub fn as_api_error(body: &[u8]) -> Option<ApiError> {
    super::decode::check_depth(body).ok()?;
    let code = sonic_rs::get_from_slice(body, ["code"]).ok()?;
    // Cheap refusal for order objects etc. that have no `code`.
    let raw = code.as_raw_str().trim_matches('"');
    let n: i64 = raw.parse().ok()?;
    if n < 0 || n >= 400 {
        decode::<ApiError>(body).ok()
    } else {
        None
    }
}

/// Generic acknowledgement `{"code":200,"msg":"success"}` (`code` is an int
/// on most endpoints and a string on some): positionSide/dual, marginType,
/// allOpenOrders, algoOpenOrders.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CodeMsg {
    /// 200 on success.
    #[serde(deserialize_with = "de::flex_i64")]
    pub code: i64,
    /// Venue text.
    #[serde(default)]
    pub msg: String,
}

impl CodeMsg {
    /// True for the 2xx acknowledgement.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

/// `GET /fapi/v1/time`; used for the clock offset that keeps signed requests
/// inside recvWindow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ServerTime {
    /// Venue time, ms since epoch.
    #[serde(rename = "serverTime")]
    pub server_time: i64,
}

/// `POST/PUT /fapi/v1/listenKey`: the key of the user-data stream.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ListenKey {
    /// The key (a bearer credential for the stream: not printed by `Debug`).
    #[serde(rename = "listenKey")]
    pub listen_key: String,
}

impl std::fmt::Debug for ListenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.listen_key.chars().take(6).collect();
        write!(f, "ListenKey({head}…)")
    }
}

/// The order object returned by place/modify/cancel/query and the open-order
/// lists (§4.1). Identity fields are required; the rest optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    /// Venue order id.
    pub order_id: VenueOrderId,
    /// Instrument.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Status after this call.
    #[serde(deserialize_with = "de::wire")]
    pub status: OrderStatus,
    /// Our (or the venue's) client id.
    #[serde(deserialize_with = "de::client_id")]
    pub client_order_id: ClientOrderId,
    /// Limit price (0 for MARKET).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub price: Option<Price>,
    /// Average fill price (dropped from write replies by the 2026-07 spec).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub avg_price: Option<Price>,
    /// Ordered quantity.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub orig_qty: Option<Quantity>,
    /// Filled quantity.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub executed_qty: Option<Quantity>,
    /// Filled quantity (legacy duplicate of `executedQty`).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub cum_qty: Option<Quantity>,
    /// Filled notional (dropped from write replies by the 2026-07 spec).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub cum_quote: Option<Money>,
    /// Time in force.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub time_in_force: Option<TimeInForce>,
    /// Order type.
    #[serde(default, rename = "type", deserialize_with = "de::opt_wire")]
    pub order_type: Option<OrderType>,
    /// Reduce-only flag.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub reduce_only: Option<bool>,
    /// Close-position flag (conditional orders).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub close_position: Option<bool>,
    /// Side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub side: Option<Side>,
    /// Position side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// Stop price (legacy conditional orders).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub stop_price: Option<Price>,
    /// Trigger price source.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub working_type: Option<WorkingType>,
    /// Trigger price protection.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub price_protect: Option<bool>,
    /// Type as placed (before a trigger changed it).
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub orig_type: Option<OrderType>,
    /// Price match mode.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub price_match: Option<PriceMatch>,
    /// Self-trade prevention mode.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub self_trade_prevention_mode: Option<StpMode>,
    /// GTD expiry, ms (0 otherwise).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub good_till_date: Option<i64>,
    /// Creation time (queries only), ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub time: Option<i64>,
    /// Last update time, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub update_time: Option<i64>,
    /// Legacy trailing activation price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub activate_price: Option<Price>,
    /// Legacy trailing callback rate (%).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub price_rate: Option<Decimal>,
}

/// Decodes `POST/DELETE/PUT /fapi/v1/batchOrders`: one result per request
/// item, in request order, each either the order or the item's own error.
pub fn decode_batch_orders(
    body: &[u8],
) -> Result<Vec<Result<OrderResponse, ApiError>>, DecodeError> {
    // Validate the whole array first so a cut body is an error, not a short list.
    super::decode::validate(body)?;
    let mut out = Vec::new();
    for item in sonic_rs::to_array_iter(body) {
        let item = item.map_err(|e| DecodeError::from_sonic("batch item", e))?;
        let raw = item.as_raw_str().as_bytes();
        match as_api_error(raw) {
            Some(err) => out.push(Err(err)),
            None => out.push(Ok(decode::<OrderResponse>(raw)?)),
        }
    }
    Ok(out)
}

/// A conditional order in the Algo Service: the reply of
/// `POST /fapi/v1/algoOrder` and the object of `GET algoOrder`/`openAlgoOrders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoOrderResponse {
    /// Algo id.
    pub algo_id: AlgoId,
    /// Our client algo id.
    #[serde(deserialize_with = "de::client_id")]
    pub client_algo_id: ClientOrderId,
    /// `CONDITIONAL`.
    #[serde(default, deserialize_with = "de::opt_tag")]
    pub algo_type: Option<Tag>,
    /// Conditional type (`STOP_MARKET`…).
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub order_type: Option<OrderType>,
    /// Instrument.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub side: Option<Side>,
    /// Position side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// Time in force of the child.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub time_in_force: Option<TimeInForce>,
    /// Quantity (0/absent with closePosition).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Quantity>,
    /// Algo status.
    #[serde(deserialize_with = "de::wire")]
    pub algo_status: AlgoStatus,
    /// Trigger level.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub trigger_price: Option<Price>,
    /// Child limit price (0 for *_MARKET).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub price: Option<Price>,
    /// Iceberg quantity (always null on futures so far).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub iceberg_quantity: Option<Quantity>,
    /// STP mode of the child.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub self_trade_prevention_mode: Option<StpMode>,
    /// Trigger price source.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub working_type: Option<WorkingType>,
    /// Price match of the child.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub price_match: Option<PriceMatch>,
    /// Close whole position on trigger.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub close_position: Option<bool>,
    /// Trigger price protection.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub price_protect: Option<bool>,
    /// Reduce-only child.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub reduce_only: Option<bool>,
    /// Trailing activation price (`""` when unset → `None`).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub activate_price: Option<Price>,
    /// Trailing callback rate in % (`""` when unset → `None`).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub callback_rate: Option<Decimal>,
    /// Created, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub create_time: Option<i64>,
    /// Updated, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub update_time: Option<i64>,
    /// Triggered, ms (0 before).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub trigger_time: Option<i64>,
    /// GTD expiry, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub good_till_date: Option<i64>,
    /// Child order id in the matching engine: `None` until triggered (the
    /// venue sends `""`), then the id the child's ORDER_TRADE_UPDATEs carry.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub actual_order_id: Option<VenueOrderId>,
    /// Child average price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub actual_price: Option<Price>,
    /// Child executed quantity.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub actual_qty: Option<Quantity>,
    /// Child order type.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub actual_type: Option<OrderType>,
    /// Attached take-profit trigger (query only).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub tp_trigger_price: Option<Price>,
    /// Attached take-profit price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub tp_price: Option<Price>,
    /// Attached stop-loss trigger.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub sl_trigger_price: Option<Price>,
    /// Attached stop-loss price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub sl_price: Option<Price>,
    /// Attached take-profit order type.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub tp_order_type: Option<OrderType>,
}

/// `DELETE /fapi/v1/algoOrder` reply; its `code` is the string `"200"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelAlgoResponse {
    /// Cancelled algo id.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub algo_id: Option<AlgoId>,
    /// Its client id.
    #[serde(default, deserialize_with = "de::client_id")]
    pub client_algo_id: ClientOrderId,
    /// 200 on success (sent as a string).
    #[serde(deserialize_with = "de::flex_i64")]
    pub code: i64,
    /// Venue text.
    #[serde(default)]
    pub msg: String,
}

/// `POST /fapi/v1/countdownCancelAll` reply (`countdownTime` is a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountdownReply {
    /// Symbol armed.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Countdown in ms (0 = disarmed).
    #[serde(deserialize_with = "de::flex_i64")]
    pub countdown_time: i64,
}

/// `POST /fapi/v1/leverage` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeverageReply {
    /// New leverage.
    #[serde(deserialize_with = "de::flex_i64")]
    pub leverage: i64,
    /// Maximum notional at this leverage.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub max_notional_value: Option<Money>,
    /// Symbol.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
}

/// `GET /fapi/v1/positionSide/dual`: the account's position mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionMode {
    /// True = hedge mode (LONG/SHORT legs), false = one-way (BOTH).
    #[serde(deserialize_with = "de::flex_bool")]
    pub dual_side_position: bool,
}

/// One item of `GET /fapi/v1/userTrades`: the REST record of a fill, used to
/// reconcile fills missed while the stream was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTrade {
    /// Symbol.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Trade id (dedupe key with the symbol).
    pub id: TradeId,
    /// Order id.
    pub order_id: VenueOrderId,
    /// Side.
    #[serde(deserialize_with = "de::wire")]
    pub side: Side,
    /// Fill price.
    pub price: Price,
    /// Fill quantity.
    pub qty: Quantity,
    /// Realized PnL of this fill.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub realized_pnl: Option<Money>,
    /// Margin asset.
    #[serde(default, deserialize_with = "de::opt_tag")]
    pub margin_asset: Option<Tag>,
    /// Notional.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub quote_qty: Option<Money>,
    /// Commission (fee positive).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub commission: Option<Money>,
    /// Commission asset.
    #[serde(default, deserialize_with = "de::opt_tag")]
    pub commission_asset: Option<Tag>,
    /// Trade time, ms.
    pub time: i64,
    /// Position side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// We were the buyer.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub buyer: Option<bool>,
    /// We were the maker.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub maker: Option<bool>,
}

/// `GET /fapi/v2|v3/account`: totals plus per-asset and per-position detail,
/// the basis of reconciliation after a reconnect.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Fee tier (v2).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub fee_tier: Option<i64>,
    /// Trading permitted (v2).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub can_trade: Option<bool>,
    /// Deposits permitted (v2).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub can_deposit: Option<bool>,
    /// Withdrawals permitted (v2).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub can_withdraw: Option<bool>,
    /// Multi-assets margin mode (v2).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub multi_assets_margin: Option<bool>,
    /// Trade group (v2).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub trade_group_id: Option<i64>,
    /// Wallet balance total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_wallet_balance: Option<Money>,
    /// Unrealized PnL total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_unrealized_profit: Option<Money>,
    /// Margin balance total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_margin_balance: Option<Money>,
    /// Initial margin total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_initial_margin: Option<Money>,
    /// Maintenance margin total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_maint_margin: Option<Money>,
    /// Position initial margin total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_position_initial_margin: Option<Money>,
    /// Open-order initial margin total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_open_order_initial_margin: Option<Money>,
    /// Cross wallet balance total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_cross_wallet_balance: Option<Money>,
    /// Cross unrealized PnL total.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_cross_un_pnl: Option<Money>,
    /// Available for new orders.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub available_balance: Option<Money>,
    /// Withdrawable.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub max_withdraw_amount: Option<Money>,
    /// Per-asset detail.
    #[serde(default)]
    pub assets: Vec<AccountAsset>,
    /// Per-position detail (v3: symbols with a position or open orders).
    #[serde(default)]
    pub positions: Vec<AccountPosition>,
}

/// One asset of [`AccountInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountAsset {
    /// Asset name (`USDT`).
    #[serde(deserialize_with = "de::tag")]
    pub asset: Tag,
    /// Wallet balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub wallet_balance: Option<Money>,
    /// Unrealized PnL.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub unrealized_profit: Option<Money>,
    /// Margin balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub margin_balance: Option<Money>,
    /// Maintenance margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub maint_margin: Option<Money>,
    /// Initial margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub initial_margin: Option<Money>,
    /// Position initial margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub position_initial_margin: Option<Money>,
    /// Open-order initial margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub open_order_initial_margin: Option<Money>,
    /// Cross wallet balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub cross_wallet_balance: Option<Money>,
    /// Cross unrealized PnL.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub cross_un_pnl: Option<Money>,
    /// Available balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub available_balance: Option<Money>,
    /// Withdrawable.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub max_withdraw_amount: Option<Money>,
    /// Usable as margin in multi-assets mode.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub margin_available: Option<bool>,
    /// Last update, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub update_time: Option<i64>,
}

/// One position of [`AccountInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPosition {
    /// Symbol.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Position side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// Signed amount.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub position_amt: Option<Quantity>,
    /// Unrealized PnL.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub unrealized_profit: Option<Money>,
    /// Isolated margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub isolated_margin: Option<Money>,
    /// Notional.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub notional: Option<Money>,
    /// Isolated wallet.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub isolated_wallet: Option<Money>,
    /// Initial margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub initial_margin: Option<Money>,
    /// Maintenance margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub maint_margin: Option<Money>,
    /// Position initial margin (v2).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub position_initial_margin: Option<Money>,
    /// Open-order initial margin (v2).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub open_order_initial_margin: Option<Money>,
    /// Leverage (v2; a string on the wire).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub leverage: Option<i64>,
    /// Isolated margin mode (v2).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub isolated: Option<bool>,
    /// Entry price (v2).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub entry_price: Option<Price>,
    /// Max notional at current leverage (v2).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub max_notional: Option<Money>,
    /// Open bid notional.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub bid_notional: Option<Money>,
    /// Open ask notional.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub ask_notional: Option<Money>,
    /// Last update, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub update_time: Option<i64>,
}

/// One item of `GET /fapi/v2|v3/positionRisk`: the authoritative position
/// (signed amount, entry, liquidation price) for reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionRisk {
    /// Symbol.
    #[serde(deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Position side.
    #[serde(default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// Signed amount.
    #[serde(deserialize_with = "de::opt_decimal")]
    pub position_amt: Option<Quantity>,
    /// Entry price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub entry_price: Option<Price>,
    /// Break-even price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub break_even_price: Option<Price>,
    /// Mark price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub mark_price: Option<Price>,
    /// Unrealized PnL.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub un_realized_profit: Option<Money>,
    /// Liquidation price (0 = none).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub liquidation_price: Option<Price>,
    /// Isolated margin.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub isolated_margin: Option<Money>,
    /// Notional.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub notional: Option<Money>,
    /// Margin asset (v3).
    #[serde(default, deserialize_with = "de::opt_tag")]
    pub margin_asset: Option<Tag>,
    /// Isolated wallet.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub isolated_wallet: Option<Money>,
    /// Initial margin (v3).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub initial_margin: Option<Money>,
    /// Maintenance margin (v3).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub maint_margin: Option<Money>,
    /// Position initial margin (v3).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub position_initial_margin: Option<Money>,
    /// Open-order initial margin (v3).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub open_order_initial_margin: Option<Money>,
    /// ADL quantile (v3).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub adl: Option<i64>,
    /// Open bid notional (v3).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub bid_notional: Option<Money>,
    /// Open ask notional (v3).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub ask_notional: Option<Money>,
    /// Leverage (v2; a string on the wire).
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub leverage: Option<i64>,
    /// Max notional (v2).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub max_notional_value: Option<Money>,
    /// `cross`/`isolated` (v2).
    #[serde(default, deserialize_with = "de::opt_margin_type")]
    pub margin_type: Option<MarginType>,
    /// Isolated auto-add margin (v2; the string `"false"`).
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub is_auto_add_margin: Option<bool>,
    /// Last update, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub update_time: Option<i64>,
}

/// One item of `GET /fapi/v2|v3/balance`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Account alias (opaque).
    #[serde(default)]
    pub account_alias: String,
    /// Asset.
    #[serde(deserialize_with = "de::tag")]
    pub asset: Tag,
    /// Wallet balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub balance: Option<Money>,
    /// Cross wallet balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub cross_wallet_balance: Option<Money>,
    /// Cross unrealized PnL.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub cross_un_pnl: Option<Money>,
    /// Available balance.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub available_balance: Option<Money>,
    /// Withdrawable.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub max_withdraw_amount: Option<Money>,
    /// Usable as margin.
    #[serde(default, deserialize_with = "de::opt_flex_bool")]
    pub margin_available: Option<bool>,
    /// Last update, ms.
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    pub update_time: Option<i64>,
}

/// `GET /fapi/v1/depth` snapshot that seeds a local book (§8.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DepthSnapshot {
    /// `L`: the diff stream resumes at the event with `U ≤ L ≤ u`.
    #[serde(rename = "lastUpdateId")]
    pub last_update_id: i64,
    /// Event time, ms.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// Transaction time, ms.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// Bids, best first.
    #[serde(default)]
    pub bids: Vec<super::market::Level>,
    /// Asks, best first.
    #[serde(default)]
    pub asks: Vec<super::market::Level>,
}

/// Named decoders, so call sites read like the endpoint they handle.
macro_rules! named {
    ($($(#[$d:meta])* $f:ident -> $t:ty;)*) => {$(
        $(#[$d])*
        pub fn $f(body: &[u8]) -> Result<$t, DecodeError> { decode::<$t>(body) }
    )*};
}
named! {
    /// Order place/modify/cancel/query reply.
    decode_order -> OrderResponse;
    /// `GET openOrders` / `allOrders`.
    decode_orders -> Vec<OrderResponse>;
    /// Algo place reply / `GET algoOrder`.
    decode_algo_order -> AlgoOrderResponse;
    /// `GET openAlgoOrders` / `allAlgoOrders`.
    decode_algo_orders -> Vec<AlgoOrderResponse>;
    /// `DELETE algoOrder`.
    decode_cancel_algo -> CancelAlgoResponse;
    /// `{"code":200,"msg":"success"}` acknowledgements.
    decode_code_msg -> CodeMsg;
    /// `GET time`.
    decode_server_time -> ServerTime;
    /// `POST/PUT listenKey`.
    decode_listen_key -> ListenKey;
    /// `GET v2|v3/account`.
    decode_account -> AccountInfo;
    /// `GET v2|v3/positionRisk`.
    decode_position_risk -> Vec<PositionRisk>;
    /// `GET v2|v3/balance`.
    decode_balances -> Vec<Balance>;
    /// `GET positionSide/dual`.
    decode_position_mode -> PositionMode;
    /// `POST leverage`.
    decode_leverage -> LeverageReply;
    /// `GET userTrades`.
    decode_user_trades -> Vec<UserTrade>;
    /// `POST countdownCancelAll`.
    decode_countdown -> CountdownReply;
    /// `GET depth`.
    decode_depth_snapshot -> DepthSnapshot;
}
