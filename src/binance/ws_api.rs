//! WebSocket API (`ws-fapi`) request frames and response envelopes.
//!
//! The WS API saves the HTTP round-trip setup of REST on every order, but
//! signs differently: the payload is every parameter except `signature`,
//! **sorted by name**, joined as `k=v&…` and **not** percent-encoded (encoding
//! it breaks non-ASCII symbols with -1022). Parameters reuse the REST
//! descriptions in [`super::requests`] through [`ParamSink`], so the rules
//! (no conditional types on `order.place`, no `reduceOnly` in hedge mode) are
//! the same on both transports. DECIMAL values go out as JSON strings, INT
//! values as JSON numbers.
//!
//! Frames are written into a buffer the builder owns and reuses; responses
//! are decoded with sonic-rs, keeping `result` as raw JSON text so the caller
//! decodes it into the type it expects (order, algo order, listenKey…).

use super::errors::VenueError;
use super::query::push_i64;
use super::requests::{
    AlgoRef, ModifyOrder, NewAlgoOrder, NewOrder, OrderRef, ParamSink, RequestError,
    write_algo_ref, write_modify_order, write_new_algo_order, write_new_order, write_order_ref,
};
use super::sign::Signer;
use crate::model::{Decimal, Symbol};
use std::borrow::Cow;
use std::fmt;

/// Request id: echoed by the venue, never interpreted. Must not be reused
/// while a request with it is outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsId<'a> {
    /// A JSON number.
    Num(u64),
    /// A JSON string.
    Str(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// JSON string (text, DECIMAL, booleans as the venue spells them).
    Str,
    /// JSON number (INT/LONG).
    Num,
}

#[derive(Debug, Clone, Copy)]
struct Param {
    name: &'static str,
    start: u32,
    end: u32,
    kind: Kind,
}

/// Collects parameters for one WS API request (raw text, not encoded).
pub struct WsParams<'b> {
    scratch: &'b mut Vec<u8>,
    params: &'b mut Vec<Param>,
}

impl WsParams<'_> {
    fn register(&mut self, name: &'static str, kind: Kind, start: usize) {
        let p = Param {
            name,
            start: start as u32,
            end: self.scratch.len() as u32,
            kind,
        };
        // A later value for the same name replaces the earlier one, as a
        // JSON object can only carry one.
        match self.params.iter_mut().find(|q| q.name == name) {
            Some(q) => *q = p,
            None => self.params.push(p),
        }
    }

    fn push(&mut self, name: &'static str, kind: Kind, value: &[u8]) {
        let start = self.scratch.len();
        self.scratch.extend_from_slice(value);
        self.register(name, kind, start);
    }
}

impl ParamSink for WsParams<'_> {
    fn text(&mut self, name: &'static str, value: &str) {
        self.push(name, Kind::Str, value.as_bytes());
    }
    fn decimal(&mut self, name: &'static str, value: Decimal) {
        let mut tmp = [0u8; 24];
        let s = value.format_into(&mut tmp);
        self.push(name, Kind::Str, s.as_bytes());
    }
    fn int(&mut self, name: &'static str, value: i64) {
        let start = self.scratch.len();
        push_i64(value, self.scratch);
        self.register(name, Kind::Num, start);
    }
    fn boolean(&mut self, name: &'static str, value: bool) {
        self.push(name, Kind::Str, if value { b"true" } else { b"false" });
    }
}

/// Builds WS API request frames into a reused buffer, signing HMAC requests.
pub struct WsRequestBuilder {
    frame: Vec<u8>,
    scratch: Vec<u8>,
    params: Vec<Param>,
    payload: Vec<u8>,
    signer: Signer,
    api_key: String,
    recv_window_ms: Option<u32>,
}

impl fmt::Debug for WsRequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsRequestBuilder")
            .field("api_key", &"<redacted>")
            .field("signer", &self.signer)
            .field("recv_window_ms", &self.recv_window_ms)
            .finish()
    }
}

impl WsRequestBuilder {
    /// A builder for one account; `recv_window_ms = None` omits `recvWindow`.
    pub fn new(api_key: &str, secret: &[u8], recv_window_ms: Option<u32>) -> Self {
        WsRequestBuilder {
            frame: Vec::with_capacity(768),
            scratch: Vec::with_capacity(256),
            params: Vec::with_capacity(32),
            payload: Vec::with_capacity(512),
            signer: Signer::new(secret),
            api_key: api_key.to_string(),
            recv_window_ms,
        }
    }

    /// Any signed method: `f` writes the method's parameters; `apiKey`,
    /// `recvWindow` and `timestamp` are added, all are sorted by name,
    /// signed unencoded, and `signature` is appended.
    pub fn signed<F>(
        &mut self,
        id: WsId<'_>,
        method: &str,
        timestamp_ms: i64,
        f: F,
    ) -> Result<&[u8], RequestError>
    where
        F: FnOnce(&mut WsParams<'_>) -> Result<(), RequestError>,
    {
        self.collect(f)?;
        {
            let mut p = WsParams {
                scratch: &mut self.scratch,
                params: &mut self.params,
            };
            p.text("apiKey", &self.api_key);
            if let Some(rw) = self.recv_window_ms {
                p.int("recvWindow", i64::from(rw));
            }
            p.int("timestamp", timestamp_ms);
        }
        self.params.sort_unstable_by(|a, b| a.name.cmp(b.name));
        self.payload.clear();
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                self.payload.push(b'&');
            }
            self.payload.extend_from_slice(p.name.as_bytes());
            self.payload.push(b'=');
            self.payload.extend_from_slice(value_of(&self.scratch, p));
        }
        let mut sig = [0u8; 64];
        self.signer.sign_into(&self.payload, &mut sig);
        self.write_frame(id, method, Some(&sig));
        Ok(&self.frame)
    }

    /// A method that only needs the API key (userDataStream.*).
    fn api_key_only(&mut self, id: WsId<'_>, method: &str) -> &[u8] {
        self.scratch.clear();
        self.params.clear();
        let mut p = WsParams {
            scratch: &mut self.scratch,
            params: &mut self.params,
        };
        p.text("apiKey", &self.api_key);
        self.write_frame(id, method, None);
        &self.frame
    }

    fn collect<F>(&mut self, f: F) -> Result<(), RequestError>
    where
        F: FnOnce(&mut WsParams<'_>) -> Result<(), RequestError>,
    {
        self.scratch.clear();
        self.params.clear();
        let mut p = WsParams {
            scratch: &mut self.scratch,
            params: &mut self.params,
        };
        f(&mut p)
    }

    fn write_frame(&mut self, id: WsId<'_>, method: &str, signature: Option<&[u8; 64]>) {
        let out = &mut self.frame;
        out.clear();
        out.extend_from_slice(b"{\"id\":");
        match id {
            WsId::Num(n) => push_i64_u(n, out),
            WsId::Str(s) => push_json_str(s.as_bytes(), out),
        }
        out.extend_from_slice(b",\"method\":");
        push_json_str(method.as_bytes(), out);
        if !self.params.is_empty() || signature.is_some() {
            out.extend_from_slice(b",\"params\":{");
            for (i, p) in self.params.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_str(p.name.as_bytes(), out);
                out.push(b':');
                let v = value_of(&self.scratch, p);
                match p.kind {
                    Kind::Num => out.extend_from_slice(v),
                    Kind::Str => push_json_str(v, out),
                }
            }
            if let Some(sig) = signature {
                if !self.params.is_empty() {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"signature\":\"");
                out.extend_from_slice(sig);
                out.push(b'"');
            }
            out.push(b'}');
        }
        out.push(b'}');
    }

    /// `order.place` (= POST /fapi/v1/order).
    pub fn order_place(
        &mut self,
        id: WsId<'_>,
        o: &NewOrder,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.signed(id, "order.place", timestamp_ms, |p| write_new_order(o, p))
    }

    /// `order.modify` (= PUT /fapi/v1/order).
    pub fn order_modify(
        &mut self,
        id: WsId<'_>,
        m: &ModifyOrder,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.signed(id, "order.modify", timestamp_ms, |p| {
            write_modify_order(m, p)
        })
    }

    /// `order.cancel` (= DELETE /fapi/v1/order).
    pub fn order_cancel(
        &mut self,
        id: WsId<'_>,
        symbol: &Symbol,
        order: &OrderRef,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.symbol_and_ref(id, "order.cancel", symbol, order, timestamp_ms)
    }

    /// `order.status` (= GET /fapi/v1/order).
    pub fn order_status(
        &mut self,
        id: WsId<'_>,
        symbol: &Symbol,
        order: &OrderRef,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.symbol_and_ref(id, "order.status", symbol, order, timestamp_ms)
    }

    /// `order.cancel` and `order.status` name an order the same way: symbol plus one id.
    fn symbol_and_ref(
        &mut self,
        id: WsId<'_>,
        method: &str,
        symbol: &Symbol,
        order: &OrderRef,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.signed(id, method, timestamp_ms, |p| {
            p.text("symbol", symbol.as_str());
            write_order_ref(order, p);
            Ok(())
        })
    }

    /// `algoOrder.place` (= POST /fapi/v1/algoOrder).
    pub fn algo_order_place(
        &mut self,
        id: WsId<'_>,
        o: &NewAlgoOrder,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.signed(id, "algoOrder.place", timestamp_ms, |p| {
            write_new_algo_order(o, p)
        })
    }

    /// `algoOrder.cancel` (= DELETE /fapi/v1/algoOrder).
    pub fn algo_order_cancel(
        &mut self,
        id: WsId<'_>,
        algo: &AlgoRef,
        timestamp_ms: i64,
    ) -> Result<&[u8], RequestError> {
        self.signed(id, "algoOrder.cancel", timestamp_ms, |p| {
            write_algo_ref(algo, p);
            Ok(())
        })
    }

    /// `userDataStream.start`: API key only, no signature.
    pub fn user_data_stream_start(&mut self, id: WsId<'_>) -> &[u8] {
        self.api_key_only(id, "userDataStream.start")
    }

    /// `userDataStream.ping`: extends the listenKey.
    pub fn user_data_stream_ping(&mut self, id: WsId<'_>) -> &[u8] {
        self.api_key_only(id, "userDataStream.ping")
    }

    /// `userDataStream.stop`.
    pub fn user_data_stream_stop(&mut self, id: WsId<'_>) -> &[u8] {
        self.api_key_only(id, "userDataStream.stop")
    }

    /// `session.status`: no parameters.
    pub fn session_status(&mut self, id: WsId<'_>) -> &[u8] {
        self.scratch.clear();
        self.params.clear();
        self.write_frame(id, "session.status", None);
        &self.frame
    }
}

fn value_of<'s>(scratch: &'s [u8], p: &Param) -> &'s [u8] {
    scratch
        .get(p.start as usize..p.end as usize)
        .unwrap_or_default()
}

fn push_i64_u(n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(super::query::format_u64(n, &mut buf));
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string literal; UTF-8 passes through, quotes,
/// backslashes and control characters are escaped.
pub fn push_json_str(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

// ---------------------------------------------------------------- responses

/// The `id` echoed in a response; `Null` for unsolicited errors (e.g. a key
/// invalidated mid-session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsResponseId<'a> {
    /// Numeric id.
    Num(u64),
    /// String id.
    Str(Cow<'a, str>),
    /// `null` or absent.
    Null,
}

/// One `rateLimits[]` item: the venue's count on a limiter after this call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct WsRateLimit<'a> {
    /// `REQUEST_WEIGHT` or `ORDERS`.
    #[serde(rename = "rateLimitType", borrow)]
    pub rate_limit_type: Cow<'a, str>,
    /// `SECOND`, `MINUTE`, `DAY`.
    #[serde(borrow)]
    pub interval: Cow<'a, str>,
    /// Multiple of `interval`.
    #[serde(rename = "intervalNum")]
    pub interval_num: u32,
    /// The limit.
    pub limit: u64,
    /// Used so far (absent in some docs examples).
    #[serde(default)]
    pub count: u64,
}

/// The `{code,msg}` of an error response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct WsErrorBody<'a> {
    /// Venue code.
    pub code: i64,
    /// Venue message.
    #[serde(borrow, default)]
    pub msg: Cow<'a, str>,
}

/// A decoded response envelope; `result` stays raw JSON for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsResponse<'a> {
    /// Echoed request id.
    pub id: WsResponseId<'a>,
    /// HTTP-like status (200 on success).
    pub status: u16,
    /// Raw JSON of `result` (object or array); `None` when absent or `null`.
    pub result: Option<Cow<'a, str>>,
    /// The error, when `status` is not 2xx.
    pub error: Option<WsErrorBody<'a>>,
    /// Limiter counts after this call (empty if suppressed).
    pub rate_limits: Vec<WsRateLimit<'a>>,
}

impl<'a> WsResponse<'a> {
    /// The raw `result`, or the venue error (with the response status as
    /// its HTTP status) for [`super::errors::classify`].
    pub fn into_result(self) -> Result<Option<Cow<'a, str>>, VenueError> {
        match self.error {
            Some(e) => Err(VenueError {
                http_status: self.status,
                code: e.code,
                msg: e.msg.into_owned(),
            }),
            None if (200..300).contains(&self.status) => Ok(self.result),
            None => Err(VenueError {
                http_status: self.status,
                code: 0,
                msg: String::new(),
            }),
        }
    }
}

/// Why a response frame could not be decoded; the frame is kept by the
/// caller for logging, nothing is guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsDecodeError {
    /// Not JSON, or fields of the wrong type.
    #[error("malformed WS API response: {0}")]
    Malformed(String),
    /// No `status` field: not a WS API response.
    #[error("WS API response without status")]
    MissingStatus,
    /// `id` is neither a number, a string nor null.
    #[error("WS API response id has an unexpected type")]
    BadId,
}

/// The envelope as it stands on the wire. `L` is how `rateLimits` is kept:
/// decoded items for [`decode_response`], raw JSON for [`decode_reply`].
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "L: serde::Deserialize<'de>"))]
struct RawEnvelope<'a, L> {
    #[serde(borrow, default)]
    id: Option<sonic_rs::LazyValue<'a>>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(borrow, default)]
    result: Option<sonic_rs::LazyValue<'a>>,
    #[serde(borrow, default)]
    error: Option<WsErrorBody<'a>>,
    #[serde(rename = "rateLimits", default)]
    rate_limits: Option<L>,
}

/// An envelope with `id` and `result` checked; both decoders share this so a
/// frame is judged the same way whichever path reads it.
struct Envelope<'a, L> {
    id: WsResponseId<'a>,
    status: u16,
    result: Option<Cow<'a, str>>,
    error: Option<WsErrorBody<'a>>,
    rate_limits: Option<L>,
}

fn decode_envelope<'a, L>(frame: &'a str) -> Result<Envelope<'a, L>, WsDecodeError>
where
    L: serde::Deserialize<'a>,
{
    let raw: RawEnvelope<'a, L> =
        sonic_rs::from_str(frame).map_err(|e| WsDecodeError::Malformed(e.to_string()))?;
    let status = raw.status.ok_or(WsDecodeError::MissingStatus)?;
    let id = match raw.id {
        None => WsResponseId::Null,
        Some(v) => decode_id(v.as_raw_cow())?,
    };
    let result = raw
        .result
        .map(|v| v.as_raw_cow())
        .filter(|t| t.as_ref() != "null");
    Ok(Envelope {
        id,
        status,
        result,
        error: raw.error,
        rate_limits: raw.rate_limits,
    })
}

fn decode_id<'a>(raw: Cow<'a, str>) -> Result<WsResponseId<'a>, WsDecodeError> {
    match raw.as_bytes().first() {
        Some(b'"') => match raw {
            Cow::Borrowed(s) => sonic_rs::from_str::<Cow<'a, str>>(s)
                .map(WsResponseId::Str)
                .map_err(|_| WsDecodeError::BadId),
            Cow::Owned(s) => sonic_rs::from_str::<String>(&s)
                .map(|v| WsResponseId::Str(Cow::Owned(v)))
                .map_err(|_| WsDecodeError::BadId),
        },
        Some(b'n') if raw == "null" => Ok(WsResponseId::Null),
        Some(b'0'..=b'9') => raw
            .parse()
            .map(WsResponseId::Num)
            .map_err(|_| WsDecodeError::BadId),
        _ => Err(WsDecodeError::BadId),
    }
}

/// Decodes a WS API response text frame.
pub fn decode_response(frame: &str) -> Result<WsResponse<'_>, WsDecodeError> {
    let e = decode_envelope::<Vec<WsRateLimit<'_>>>(frame)?;
    Ok(WsResponse {
        id: e.id,
        status: e.status,
        result: e.result,
        error: e.error,
        rate_limits: e.rate_limits.unwrap_or_default(),
    })
}

/// A response envelope decoded without allocating: `result` and
/// `rateLimits` stay raw JSON borrowed from the frame. The execution thread
/// uses this on every order reply, where [`decode_response`]'s `Vec` of
/// limits would cost one allocation per order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsReply<'a> {
    /// Echoed request id.
    pub id: WsResponseId<'a>,
    /// HTTP-like status (200 on success).
    pub status: u16,
    /// Raw JSON of `result`; `None` when absent or `null`.
    pub result: Option<Cow<'a, str>>,
    /// The error, when `status` is not 2xx.
    pub error: Option<WsErrorBody<'a>>,
    /// Raw JSON array of `rateLimits` (absent when suppressed).
    pub rate_limits: Option<Cow<'a, str>>,
}

impl<'a> WsReply<'a> {
    /// Calls `f` for each `rateLimits[]` item, in order; a malformed item
    /// stops the walk with an error (the items before it were delivered).
    pub fn for_each_rate_limit(
        &self,
        mut f: impl FnMut(&WsRateLimit<'_>),
    ) -> Result<(), WsDecodeError> {
        let Some(raw) = self.rate_limits.as_deref() else {
            return Ok(());
        };
        if raw == "null" {
            return Ok(());
        }
        for item in sonic_rs::to_array_iter(raw) {
            let item = item.map_err(|e| WsDecodeError::Malformed(e.to_string()))?;
            let rl: WsRateLimit<'_> = sonic_rs::from_str(item.as_raw_str())
                .map_err(|e| WsDecodeError::Malformed(e.to_string()))?;
            f(&rl);
        }
        Ok(())
    }

    /// The raw `result`, or the venue error (see [`WsResponse::into_result`]).
    pub fn into_result(self) -> Result<Option<Cow<'a, str>>, VenueError> {
        WsResponse {
            id: self.id,
            status: self.status,
            result: self.result,
            error: self.error,
            rate_limits: Vec::new(),
        }
        .into_result()
    }
}

/// Decodes a WS API response text frame without allocating (see [`WsReply`]).
pub fn decode_reply(frame: &str) -> Result<WsReply<'_>, WsDecodeError> {
    let e = decode_envelope::<sonic_rs::LazyValue<'_>>(frame)?;
    Ok(WsReply {
        id: e.id,
        status: e.status,
        result: e.result,
        error: e.error,
        rate_limits: e.rate_limits.map(|v| v.as_raw_cow()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientOrderId, OrderType, Price, Quantity, RespType, Side, TimeInForce};

    const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
    const SECRET: &[u8] = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    fn frame_json(f: &[u8]) -> sonic_rs::Value {
        sonic_rs::from_slice(f).expect("frame is valid JSON")
    }

    #[test]
    fn reference_vector_sorted_unencoded() {
        let mut b = WsRequestBuilder::new(KEY, SECRET, Some(5000));
        let f = b
            .signed(WsId::Str("v-1"), "order.place", 1705311512994, |p| {
                p.text("symbol", "BTCUSDT");
                p.text("side", "BUY");
                p.text("type", "LIMIT");
                p.text("timeInForce", "GTC");
                p.text("quantity", "0.1");
                p.text("price", "42088.0");
                Ok(())
            })
            .unwrap()
            .to_vec();
        assert_eq!(
            std::str::from_utf8(&b.payload).unwrap(),
            format!(
                "apiKey={KEY}&price=42088.0&quantity=0.1&recvWindow=5000&side=BUY&symbol=BTCUSDT\
                 &timeInForce=GTC&timestamp=1705311512994&type=LIMIT"
            )
        );
        let text = std::str::from_utf8(&f).unwrap();
        assert!(text.ends_with(
            "\"signature\":\"22fbe0c1f1c5d1f2b597392b134e2db7cbd87719e392b2177ef7d82addd1bac3\"}}"
        ));
        assert!(text.starts_with("{\"id\":\"v-1\",\"method\":\"order.place\",\"params\":{"));
        // DECIMAL as strings, INT as numbers.
        assert!(text.contains("\"price\":\"42088.0\""));
        assert!(text.contains("\"timestamp\":1705311512994"));
        assert!(text.contains("\"recvWindow\":5000"));
        let _ = frame_json(&f);
    }

    #[test]
    fn order_place_non_ascii_symbol_signed_raw() {
        let mut b = WsRequestBuilder::new(KEY, SECRET, None);
        let o = NewOrder {
            symbol: Symbol::new("币安人生USDT").unwrap(),
            side: Side::Sell,
            order_type: OrderType::Limit,
            time_in_force: Some(TimeInForce::Gtc),
            quantity: Quantity::parse("0.050").unwrap(),
            price: Some(Price::parse("2450.00").unwrap()),
            reduce_only: None,
            position_side: None,
            client_order_id: ClientOrderId::new("e1-000044").unwrap(),
            resp_type: RespType::Ack,
            good_till_date: None,
            stp: None,
            price_match: None,
        };
        let f = b
            .order_place(WsId::Num(7), &o, 1760000300000)
            .unwrap()
            .to_vec();
        let payload = String::from_utf8(b.payload.clone()).unwrap();
        assert_eq!(
            payload,
            format!(
                "apiKey={KEY}&newClientOrderId=e1-000044&newOrderRespType=ACK&price=2450\
                 &quantity=0.05&side=SELL&symbol=币安人生USDT&timeInForce=GTC\
                 &timestamp=1760000300000&type=LIMIT"
            )
        );
        let v = frame_json(&f);
        use sonic_rs::JsonValueTrait;
        assert_eq!(v.get("id").and_then(|x| x.as_u64()), Some(7));
        let params = v.get("params").unwrap();
        assert_eq!(
            params.get("symbol").and_then(|x| x.as_str()),
            Some("币安人生USDT")
        );
        assert_eq!(
            params.get("quantity").and_then(|x| x.as_str()),
            Some("0.05")
        );
        let sig = params.get("signature").and_then(|x| x.as_str()).unwrap();
        assert!(Signer::new(SECRET).verify(payload.as_bytes(), b"", sig.as_bytes()));
        // The same rules as REST.
        let stop = NewOrder {
            order_type: OrderType::StopMarket,
            ..o
        };
        assert!(matches!(
            b.order_place(WsId::Num(8), &stop, 1),
            Err(RequestError::ConditionalOnOrderEndpoint(_))
        ));
    }

    #[test]
    fn other_methods_shapes() {
        use sonic_rs::JsonValueTrait;
        let mut b = WsRequestBuilder::new(KEY, SECRET, None);
        let s = Symbol::new("ETHUSDT").unwrap();
        let f = b
            .order_cancel(WsId::Num(1), &s, &OrderRef::VenueId(42), 5)
            .unwrap()
            .to_vec();
        let v = frame_json(&f);
        assert_eq!(
            v.get("method").and_then(|x| x.as_str()),
            Some("order.cancel")
        );
        assert_eq!(
            v.get("params")
                .and_then(|p| p.get("orderId"))
                .and_then(|x| x.as_i64()),
            Some(42)
        );
        let f = b
            .order_status(
                WsId::Num(2),
                &s,
                &OrderRef::ClientId(ClientOrderId::new("a-1").unwrap()),
                5,
            )
            .unwrap()
            .to_vec();
        assert!(
            std::str::from_utf8(&f)
                .unwrap()
                .contains("\"origClientOrderId\":\"a-1\"")
        );
        let f = b
            .algo_order_cancel(WsId::Num(3), &AlgoRef::AlgoId(3000000123456), 5)
            .unwrap()
            .to_vec();
        assert!(
            std::str::from_utf8(&f)
                .unwrap()
                .contains("\"algoId\":3000000123456")
        );
        let f = b.user_data_stream_start(WsId::Str("u\"1")).to_vec();
        assert_eq!(
            std::str::from_utf8(&f).unwrap(),
            format!(
                "{{\"id\":\"u\\\"1\",\"method\":\"userDataStream.start\",\"params\":{{\"apiKey\":\"{KEY}\"}}}}"
            )
        );
        let f = b.user_data_stream_ping(WsId::Num(4)).to_vec();
        assert!(!std::str::from_utf8(&f).unwrap().contains("signature"));
        let f = b.session_status(WsId::Num(5)).to_vec();
        assert_eq!(f, b"{\"id\":5,\"method\":\"session.status\"}");
        let _ = b.user_data_stream_stop(WsId::Num(6));
    }

    #[test]
    fn debug_redacts() {
        let b = WsRequestBuilder::new(KEY, SECRET, None);
        assert!(!format!("{b:?}").contains(KEY));
    }

    #[test]
    fn decode_success_and_error() {
        let ok = r#"{"id":"p-1","status":200,"result":{"orderId":8389765549,"status":"NEW"},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":3}]}"#;
        let r = decode_response(ok).unwrap();
        assert_eq!(r.id, WsResponseId::Str("p-1".into()));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.result.as_deref(),
            Some(r#"{"orderId":8389765549,"status":"NEW"}"#)
        );
        assert_eq!(r.rate_limits.len(), 1);
        assert_eq!(r.rate_limits[0].count, 3);
        assert_eq!(r.rate_limits[0].rate_limit_type, "REQUEST_WEIGHT");
        assert!(r.into_result().unwrap().is_some());

        let err = r#"{"id":"p-1","status":400,"error":{"code":-2019,"msg":"Margin is insufficient."},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":7}]}"#;
        let r = decode_response(err).unwrap();
        let e = r.into_result().unwrap_err();
        assert_eq!((e.http_status, e.code), (400, -2019));
        assert_eq!(e.reaction(), crate::binance::errors::Reaction::SkipOrder);

        let unsolicited =
            r#"{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key"}}"#;
        let r = decode_response(unsolicited).unwrap();
        assert_eq!(r.id, WsResponseId::Null);
        assert!(r.rate_limits.is_empty());

        let r = decode_response(r#"{"id":12,"status":200,"result":null}"#).unwrap();
        assert_eq!(
            (r.id.clone(), r.result.clone()),
            (WsResponseId::Num(12), None)
        );
        let r = decode_response(r#"{"id":1,"status":200,"result":[1,2]}"#).unwrap();
        assert_eq!(r.result.as_deref(), Some("[1,2]"));
        let r = decode_response(r#"{"id":"a\"b","status":200}"#).unwrap();
        assert_eq!(r.id, WsResponseId::Str("a\"b".into()));
        // A status without error or success is still an error.
        let e = decode_response(r#"{"id":1,"status":503}"#)
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!((e.http_status, e.code), (503, 0));
    }

    #[test]
    fn decode_reply_walks_rate_limits_in_place() {
        let ok = r#"{"id":17,"status":200,"result":{"orderId":1},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":3},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":7}]}"#;
        let r = decode_reply(ok).unwrap();
        assert_eq!(r.id, WsResponseId::Num(17));
        // The allocation-free path keeps `result` and `rateLimits` borrowed from the frame.
        assert!(matches!(r.result, Some(Cow::Borrowed(_))));
        assert!(matches!(r.rate_limits, Some(Cow::Borrowed(_))));
        let mut seen = Vec::new();
        r.for_each_rate_limit(|l| {
            seen.push((l.rate_limit_type.to_string(), l.interval_num, l.count))
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![("REQUEST_WEIGHT".into(), 1, 3), ("ORDERS".into(), 10, 7)]
        );
        assert_eq!(
            r.into_result().unwrap().as_deref(),
            Some(r#"{"orderId":1}"#)
        );
        let err =
            r#"{"id":18,"status":400,"error":{"code":-2019,"msg":"Margin is insufficient."}}"#;
        let r = decode_reply(err).unwrap();
        r.for_each_rate_limit(|_| panic!("no limits")).unwrap();
        assert_eq!(r.into_result().unwrap_err().code, -2019);
        let bad = decode_reply(r#"{"id":1,"status":200,"rateLimits":[{"x":1}]}"#).unwrap();
        assert!(bad.for_each_rate_limit(|_| {}).is_err());
        for b in ["", "{", r#"{"id":1}"#, r#"{"id":true,"status":200}"#] {
            assert!(decode_reply(b).is_err(), "{b}");
        }
    }

    #[test]
    fn decode_malformed_never_panics() {
        let bad = [
            "",
            "{",
            "[]",
            "null",
            r#"{"id":1}"#,
            r#"{"id":true,"status":200}"#,
            r#"{"id":-1,"status":200}"#,
            r#"{"id":1,"status":"200"}"#,
            r#"{"id":1,"status":200,"rateLimits":[{"x":1}]}"#,
            r#"{"id":1,"status":400,"error":{"msg":"no code"}}"#,
            r#"{"id":1,"status":200,"result":{"#,
        ];
        for b in bad {
            assert!(decode_response(b).is_err(), "{b}");
        }
    }

    #[test]
    fn warm_builder_reuses_buffers() {
        let mut b = WsRequestBuilder::new(KEY, SECRET, Some(5000));
        let s = Symbol::new("ETHUSDT").unwrap();
        let _ = b
            .order_cancel(WsId::Num(1), &s, &OrderRef::VenueId(1), 1)
            .unwrap();
        let ptrs = (
            b.frame.as_ptr(),
            b.scratch.as_ptr(),
            b.params.as_ptr(),
            b.payload.as_ptr(),
        );
        for i in 0..50 {
            let _ = b
                .order_cancel(WsId::Num(i), &s, &OrderRef::VenueId(i as i64), 1)
                .unwrap();
        }
        assert_eq!(
            ptrs,
            (
                b.frame.as_ptr(),
                b.scratch.as_ptr(),
                b.params.as_ptr(),
                b.payload.as_ptr()
            )
        );
    }
}
