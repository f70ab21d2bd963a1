//! The contract between the venue logic and the transport layer.
//!
//! The transport authenticates a request (API key → [`AccountId`], signature,
//! timestamp), applies rate limits and faults, then calls [`Venue::handle`]
//! with the request's parameters. The venue answers with a [`Reply`] (the HTTP
//! status and JSON body Binance would send) and pushes the stream frames the
//! request caused into an [`Outbox`], which the transport fans out to
//! user-data and market WebSocket subscribers. A timer calls [`Venue::tick`]
//! to move prices, fire triggers and expire orders.

/// Index of a simulated account (position in `[[sim.venue.accounts]]`).
pub type AccountId = usize;

/// HTTP method of a REST call (WS-API methods are mapped onto these): the
/// protocol module's enum, shared with the client side.
pub use crate::binance::requests::HttpMethod as Method;

/// Request parameters, already percent-decoded, in arrival order. When a
/// name is present in both query and body, the query value wins (Binance's
/// rule): the transport pushes query pairs first and [`Params::get`] returns
/// the first match.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// Decoded `(name, value)` pairs.
    pub pairs: Vec<(String, String)>,
}

impl Params {
    /// First value for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A boolean parameter; the venue accepts any case of `true`/`false`.
    /// `Err` carries the offending text.
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(v.to_string()),
        }
    }
}

/// One authenticated request for the venue.
#[derive(Debug)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: Method,
    /// Binance path, e.g. `/fapi/v1/order`.
    pub path: &'a str,
    /// Decoded parameters (query first, then form body).
    pub params: &'a Params,
    /// The authenticated account; `None` for public endpoints.
    pub account: Option<AccountId>,
}

/// The venue's answer, as Binance would send it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status (200, 400, 404, ...).
    pub status: u16,
    /// JSON body (`{"code":..,"msg":..}` on errors).
    pub body: String,
    /// The venue error code when the reply is an error, for logs and tests.
    pub code: Option<i64>,
    /// Whether the request counted against the ORDERS limits (new/modify order).
    pub counts_as_order: bool,
}

impl Reply {
    /// A 200 with a JSON body.
    pub fn ok(body: String) -> Self {
        Reply {
            status: 200,
            body,
            code: None,
            counts_as_order: false,
        }
    }
    /// A venue error: `{"code":code,"msg":msg}` with the given HTTP status.
    pub fn error(status: u16, code: i64, msg: &str) -> Self {
        let mut body = String::with_capacity(msg.len() + 32);
        body.push_str("{\"code\":");
        body.push_str(&code.to_string());
        body.push_str(",\"msg\":");
        push_json_str(&mut body, msg);
        body.push('}');
        Reply {
            status,
            body,
            code: Some(code),
            counts_as_order: false,
        }
    }
}

/// Appends `s` as a JSON string literal (quotes and escapes).
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A user-data stream frame for one account.
#[derive(Debug, Clone)]
pub struct UserFrame {
    /// Receiving account.
    pub account: AccountId,
    /// `e` of the event (`ORDER_TRADE_UPDATE`, `ALGO_UPDATE`, ...).
    pub event_type: &'static str,
    /// The complete JSON event object.
    pub json: String,
    /// Event time `E` (ms).
    pub event_time: i64,
    /// Transaction time `T` (ms), 0 when the event has none.
    pub tx_time: i64,
    /// Order id concerned (0 when none), for the event log.
    pub order_id: i64,
    /// Client order id concerned ("" when none), for the event log.
    pub client_id: String,
    /// Trade the event reports (0 when none): TRADE_LITE and a fill's
    /// ORDER_TRADE_UPDATE, for the fill-stage stamps.
    pub trade_id: i64,
}

/// A market-data frame for one stream.
#[derive(Debug, Clone)]
pub struct MarketFrame {
    /// Stream name as clients subscribe to it, e.g. `btcusdt@bookTicker`,
    /// `btcusdt@depth@100ms`, `btcusdt@markPrice@1s`, `btcusdt@aggTrade`.
    pub stream: String,
    /// `e` of the event.
    pub event_type: &'static str,
    /// The complete JSON event object (unwrapped; the transport adds the
    /// combined-stream `{"stream":..,"data":..}` wrapper when asked).
    pub json: String,
    /// Event time `E` (ms).
    pub event_time: i64,
}

/// Frames produced by one call into the venue, in the order they must be sent.
#[derive(Debug, Default)]
pub struct Outbox {
    /// User-data frames.
    pub user: Vec<UserFrame>,
    /// Market-data frames.
    pub market: Vec<MarketFrame>,
    /// The fill-stage table of the venue that produced these frames, when a
    /// benchmark installed one: the transport stamps when the frames carrying
    /// a trade were published and written.
    pub fill_stamps: Option<std::sync::Arc<super::fill_stamps::FillStamps>>,
}

impl Outbox {
    /// True when nothing was produced.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.market.is_empty()
    }
}

pub use super::settings::VenueSettings;
pub use super::state::Venue;
