//! Injectable faults: the failures a real venue produces rarely and a client
//! must survive (unknown order outcomes, 5xx, 429 bursts, skewed clocks, slow
//! or corrupt streams, malformed frames and replies). Counters ("next N
//! requests / frames") make tests deterministic.
//!
//! Bad input comes in two families. Stream frames ([`FrameFault`]) are
//! mangled as they leave for one connection; the kinds that *replace* a frame
//! (truncated, oversized, non-JSON, binary, missing field, unknown enum) take
//! the venue's real event away, so a client only gets it back by
//! reconciling. Replies ([`ReplyFault`]) are mangled after the venue has
//! handled the request: for an order write that means the order DID execute
//! and the client cannot read the answer, the unknown-fate case.

/// `[sim.server.faults]`, also the body of `POST /sim/faults` (any subset of
/// fields; absent fields keep their value).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultSettings {
    /// Delay every REST / WS-API response by this many ms (slow backend).
    pub response_delay_ms: u64,
    /// Delay every stream frame by this many ms (lagging streams; the reply
    /// then reliably beats the event).
    pub stream_delay_ms: u64,
    /// The next N REST / WS-API requests answer `server_error_status` with
    /// -1001 without reaching the venue.
    pub server_error_next: u32,
    /// HTTP status used by `server_error_next` (500, 502, 503, 504 ...).
    pub server_error_status: u16,
    /// The next N order-writing requests ARE executed by the venue but the
    /// client gets 503 "Unknown error ..." (or -1007 with `unknown_as_timeout`).
    pub unknown_placed_next: u32,
    /// The next N order-writing requests are NOT executed and the client gets
    /// the same ambiguous 503 answer.
    pub unknown_not_placed_next: u32,
    /// Answer the ambiguous outcome as -1007 "Timeout waiting for response
    /// from backend server" instead of the 503 "Unknown error" text.
    pub unknown_as_timeout: bool,
    /// The next N requests answer 429 -1003 regardless of the counters.
    pub too_many_next: u32,
    /// Shift the server clock (serverTime, timestamps checks, event times
    /// the transport stamps) by this many ms.
    pub clock_skew_ms: i64,
    /// Stop fanning out market-data frames (user events keep flowing).
    pub market_paused: bool,
    /// The next N stream frames are sent truncated (malformed JSON).
    pub corrupt_next_frames: u32,
    /// The next N WS-API order writes ARE executed (events flow) but get no
    /// reply, while the connection stays up.
    pub ws_api_no_reply_placed_next: u32,
    /// The next N WS-API order writes are NOT executed and get no reply.
    pub ws_api_no_reply_not_placed_next: u32,
    /// The next N stream frames are padded with a long string field to
    /// `frame_limit_bytes + 1` bytes: valid JSON, one byte over the client's
    /// message limit.
    pub oversized_next_frames: u32,
    /// The next N stream frames are padded to exactly `frame_limit_bytes`
    /// bytes: the largest message the client must still accept.
    pub at_limit_next_frames: u32,
    /// Size the two padding faults aim at; 0 = 16 MiB, the engine's default
    /// `max_message`.
    pub frame_limit_bytes: usize,
    /// Before each of the next N stream frames, an extra well-formed event of
    /// a type the venue may add one day (`{"e":"SOME_FUTURE_EVENT",..}`).
    pub unknown_event_next_frames: u32,
    /// The next N ORDER_TRADE_UPDATE frames carry an order status and
    /// execution type no client knows (`"X"`/`"x"` = `FUTURE_STATE`); other
    /// frames do not consume this counter.
    pub unknown_enum_next_frames: u32,
    /// The next N ALGO_UPDATE frames carry an algo status no client knows
    /// (`"X"` = `FUTURE_STATE`); other frames do not consume this counter.
    pub unknown_algo_status_next_frames: u32,
    /// The next N stream frames gain unknown fields (nested objects,
    /// arrays, null) at the front of the event object.
    pub extra_fields_next_frames: u32,
    /// The next N stream frames lose a required field (the first `"s"`, or
    /// `"E"` when there is none).
    pub missing_field_next_frames: u32,
    /// The next N stream frames are replaced by an HTML error page in a text
    /// frame.
    pub non_json_next_frames: u32,
    /// The next N stream frames are sent as binary frames (a gzip-like magic
    /// number, then the JSON): Binance never sends binary data frames.
    pub binary_next_frames: u32,
    /// Which frames the stream faults above hit (not `unknown_enum`, which
    /// only ever hits order updates).
    pub bad_frames_on: FrameTarget,
    /// The next N answers are cut in half (status kept; REST with a correct
    /// `Content-Length` for the cut body, WS API as a truncated text frame).
    pub truncated_reply_next: u32,
    /// The next N answers are a gateway's HTML error page: REST 502
    /// `text/html`; WS API an HTML text frame (no `id`).
    pub html_502_next: u32,
    /// The next N answers are valid JSON of the wrong shape (the venue's
    /// body inside an array), status kept.
    pub wrong_shape_reply_next: u32,
    /// The next N answers break off: REST announces a longer
    /// `Content-Length` than it sends and closes the connection; WS API
    /// closes the connection without answering.
    pub bad_length_reply_next: u32,
    /// Which requests the reply faults above hit. The venue handles the
    /// request first either way: a mangled answer to an order write is an
    /// order that executed with an unreadable confirmation.
    pub bad_replies_to: ReplyTarget,
}

/// Which stream frames the bad-frame faults hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameTarget {
    /// Whatever frame goes out next (market data is the most frequent).
    #[default]
    Any,
    /// User-data frames only (order updates, account updates).
    User,
    /// Market-data frames only.
    Market,
}

/// Which requests the bad-reply faults hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyTarget {
    /// Any REST / WS-API request that reaches the venue.
    #[default]
    Any,
    /// Order place / cancel / modify (plain and algo): the unknown-fate case.
    OrderWrites,
    /// Everything else (queries, listenKey, time): a plain retry suffices.
    Reads,
}

/// How one stream frame is mangled (see the `*_next_frames` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFault {
    /// Cut in half.
    Truncated,
    /// One byte over the limit.
    Oversized,
    /// Exactly at the limit.
    AtLimit,
    /// An unknown event type first, then the frame.
    UnknownEvent,
    /// Unknown order status / execution type.
    UnknownEnum,
    /// Unknown algo status (ALGO_UPDATE).
    UnknownAlgoStatus,
    /// Unknown fields added.
    ExtraFields,
    /// A required field removed.
    MissingField,
    /// An HTML page instead.
    NonJson,
    /// Sent as a binary frame.
    Binary,
}

/// How one REST / WS-API answer is mangled (see the `*_reply_next` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyFault {
    /// Body cut in half.
    Truncated,
    /// 502 HTML page.
    Html502,
    /// Valid JSON, wrong shape.
    WrongShape,
    /// Announced length longer than the body; connection closed.
    BadLength,
}

/// One WebSocket data frame as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireFrame {
    /// Text frame.
    Text(String),
    /// Binary frame.
    Binary(Vec<u8>),
}

/// The engine's default WebSocket message limit (`NetSettings::max_message`).
pub const DEFAULT_FRAME_LIMIT: usize = 16 << 20;

/// The gateway error page the HTML faults send.
pub const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";

/// Leading bytes of a binary-fault frame (the gzip magic number).
pub const BINARY_MAGIC: [u8; 4] = [0x1f, 0x8b, 0x08, 0x00];

/// The event type of the unknown-event fault.
pub const FUTURE_EVENT: &str = "SOME_FUTURE_EVENT";

/// The enum value of the unknown-enum fault.
pub const FUTURE_STATE: &str = "FUTURE_STATE";

/// Body of `POST /sim/faults`: fault fields to change plus one-shot actions.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultPatch {
    /// See [`FaultSettings::response_delay_ms`].
    pub response_delay_ms: Option<u64>,
    /// See [`FaultSettings::stream_delay_ms`].
    pub stream_delay_ms: Option<u64>,
    /// See [`FaultSettings::server_error_next`].
    pub server_error_next: Option<u32>,
    /// See [`FaultSettings::server_error_status`].
    pub server_error_status: Option<u16>,
    /// See [`FaultSettings::unknown_placed_next`].
    pub unknown_placed_next: Option<u32>,
    /// See [`FaultSettings::unknown_not_placed_next`].
    pub unknown_not_placed_next: Option<u32>,
    /// See [`FaultSettings::unknown_as_timeout`].
    pub unknown_as_timeout: Option<bool>,
    /// See [`FaultSettings::too_many_next`].
    pub too_many_next: Option<u32>,
    /// See [`FaultSettings::clock_skew_ms`].
    pub clock_skew_ms: Option<i64>,
    /// See [`FaultSettings::market_paused`].
    pub market_paused: Option<bool>,
    /// See [`FaultSettings::corrupt_next_frames`].
    pub corrupt_next_frames: Option<u32>,
    /// See [`FaultSettings::ws_api_no_reply_placed_next`].
    pub ws_api_no_reply_placed_next: Option<u32>,
    /// See [`FaultSettings::ws_api_no_reply_not_placed_next`].
    pub ws_api_no_reply_not_placed_next: Option<u32>,
    /// See [`FaultSettings::oversized_next_frames`].
    pub oversized_next_frames: Option<u32>,
    /// See [`FaultSettings::at_limit_next_frames`].
    pub at_limit_next_frames: Option<u32>,
    /// See [`FaultSettings::frame_limit_bytes`].
    pub frame_limit_bytes: Option<usize>,
    /// See [`FaultSettings::unknown_event_next_frames`].
    pub unknown_event_next_frames: Option<u32>,
    /// See [`FaultSettings::unknown_enum_next_frames`].
    pub unknown_enum_next_frames: Option<u32>,
    /// See [`FaultSettings::unknown_algo_status_next_frames`].
    pub unknown_algo_status_next_frames: Option<u32>,
    /// See [`FaultSettings::extra_fields_next_frames`].
    pub extra_fields_next_frames: Option<u32>,
    /// See [`FaultSettings::missing_field_next_frames`].
    pub missing_field_next_frames: Option<u32>,
    /// See [`FaultSettings::non_json_next_frames`].
    pub non_json_next_frames: Option<u32>,
    /// See [`FaultSettings::binary_next_frames`].
    pub binary_next_frames: Option<u32>,
    /// See [`FaultSettings::bad_frames_on`].
    pub bad_frames_on: Option<FrameTarget>,
    /// See [`FaultSettings::truncated_reply_next`].
    pub truncated_reply_next: Option<u32>,
    /// See [`FaultSettings::html_502_next`].
    pub html_502_next: Option<u32>,
    /// See [`FaultSettings::wrong_shape_reply_next`].
    pub wrong_shape_reply_next: Option<u32>,
    /// See [`FaultSettings::bad_length_reply_next`].
    pub bad_length_reply_next: Option<u32>,
    /// See [`FaultSettings::bad_replies_to`].
    pub bad_replies_to: Option<ReplyTarget>,
    /// Action: close every WebSocket connection now (abruptly, no close frame).
    pub drop_ws: bool,
    /// Action: expire every live listenKey now (`listenKeyExpired` is pushed).
    pub expire_listen_keys: bool,
    /// Action: reset every fault to its default.
    pub clear: bool,
}

impl FaultSettings {
    /// Applies a patch's field changes (actions are the caller's job).
    pub fn apply(&mut self, p: &FaultPatch) {
        if p.clear {
            *self = FaultSettings::default();
        }
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = p.$f { self.$f = v; } )* };
        }
        set!(
            response_delay_ms,
            stream_delay_ms,
            server_error_next,
            server_error_status,
            unknown_placed_next,
            unknown_not_placed_next,
            unknown_as_timeout,
            too_many_next,
            clock_skew_ms,
            market_paused,
            corrupt_next_frames,
            ws_api_no_reply_placed_next,
            ws_api_no_reply_not_placed_next,
            oversized_next_frames,
            at_limit_next_frames,
            frame_limit_bytes,
            unknown_event_next_frames,
            unknown_enum_next_frames,
            unknown_algo_status_next_frames,
            extra_fields_next_frames,
            missing_field_next_frames,
            non_json_next_frames,
            binary_next_frames,
            bad_frames_on,
            truncated_reply_next,
            html_502_next,
            wrong_shape_reply_next,
            bad_length_reply_next,
            bad_replies_to
        );
    }

    /// The message limit the padding faults aim at.
    pub fn frame_limit(&self) -> usize {
        if self.frame_limit_bytes == 0 {
            DEFAULT_FRAME_LIMIT
        } else {
            self.frame_limit_bytes
        }
    }

    /// Consumes one stream-frame fault for the event `json` (`user`: sent
    /// on a user-data stream): the event type decides which enum faults
    /// may hit it.
    pub fn take_frame_fault_for(&mut self, json: &str, user: bool) -> Option<FrameFault> {
        if user
            && self.unknown_algo_status_next_frames > 0
            && json.contains("\"ALGO_UPDATE\"")
            && Self::take(&mut self.unknown_algo_status_next_frames)
        {
            return Some(FrameFault::UnknownAlgoStatus);
        }
        let order_update = user && json.contains("\"ORDER_TRADE_UPDATE\"");
        self.take_frame_fault(user, order_update)
    }

    /// Consumes one stream-frame fault for a frame (`user`: a user-data
    /// frame; `order_update`: an ORDER_TRADE_UPDATE), first armed kind in
    /// declaration order.
    pub fn take_frame_fault(&mut self, user: bool, order_update: bool) -> Option<FrameFault> {
        if order_update && Self::take(&mut self.unknown_enum_next_frames) {
            return Some(FrameFault::UnknownEnum);
        }
        let hit = match self.bad_frames_on {
            FrameTarget::Any => true,
            FrameTarget::User => user,
            FrameTarget::Market => !user,
        };
        if !hit {
            return None;
        }
        [
            (&mut self.corrupt_next_frames, FrameFault::Truncated),
            (&mut self.oversized_next_frames, FrameFault::Oversized),
            (&mut self.at_limit_next_frames, FrameFault::AtLimit),
            (
                &mut self.unknown_event_next_frames,
                FrameFault::UnknownEvent,
            ),
            (&mut self.extra_fields_next_frames, FrameFault::ExtraFields),
            (
                &mut self.missing_field_next_frames,
                FrameFault::MissingField,
            ),
            (&mut self.non_json_next_frames, FrameFault::NonJson),
            (&mut self.binary_next_frames, FrameFault::Binary),
        ]
        .into_iter()
        .find_map(|(n, k)| Self::take(n).then_some(k))
    }

    /// Consumes one reply fault for a request that reached the venue
    /// (`order_write`: place / cancel / modify).
    pub fn take_reply_fault(&mut self, order_write: bool) -> Option<ReplyFault> {
        let hit = match self.bad_replies_to {
            ReplyTarget::Any => true,
            ReplyTarget::OrderWrites => order_write,
            ReplyTarget::Reads => !order_write,
        };
        if !hit {
            return None;
        }
        [
            (&mut self.truncated_reply_next, ReplyFault::Truncated),
            (&mut self.html_502_next, ReplyFault::Html502),
            (&mut self.wrong_shape_reply_next, ReplyFault::WrongShape),
            (&mut self.bad_length_reply_next, ReplyFault::BadLength),
        ]
        .into_iter()
        .find_map(|(n, k)| Self::take(n).then_some(k))
    }

    /// Consumes one unit of a "next N" counter; true when the fault fires.
    pub fn take(counter: &mut u32) -> bool {
        if *counter > 0 {
            *counter -= 1;
            true
        } else {
            false
        }
    }

    /// Status for `server_error_next`, defaulting to 500 when unset/invalid.
    pub fn error_status(&self) -> u16 {
        if (500..=599).contains(&self.server_error_status) {
            self.server_error_status
        } else {
            500
        }
    }
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Serve normally.
    None,
    /// Answer 5xx -1001 without calling the venue.
    ServerError(u16),
    /// Answer 429 -1003 without calling the venue.
    TooMany,
    /// Call the venue, discard its reply, answer "unknown".
    UnknownPlaced,
    /// Don't call the venue, answer "unknown".
    UnknownNotPlaced,
}

/// The ambiguous-outcome answer (HTTP 503) Binance gives when the backend did
/// not reply in time: the order may or may not exist.
pub fn unknown_reply(as_timeout: bool) -> crate::sim::venue::Reply {
    if as_timeout {
        crate::sim::venue::Reply::error(
            503,
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        )
    } else {
        crate::sim::venue::Reply::error(
            503,
            -1000,
            "Unknown error, please check your request or try again later.",
        )
    }
}

/// Truncates a frame to roughly half its length at a char boundary, so the
/// client receives syntactically broken JSON in a valid text frame.
pub fn corrupt(text: &str) -> String {
    let mut cut = text.len() / 2;
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.get(..cut).unwrap_or("").to_string()
}

/// Valid JSON of the wrong shape: the venue's body inside an array.
pub fn wrong_shape(body: &str) -> String {
    let mut s = String::with_capacity(body.len() + 2);
    s.push('[');
    s.push_str(body);
    s.push(']');
    s
}

/// Mangles one stream frame. `json` is the venue's event object, `wrap`
/// adds the connection's combined-stream envelope (or not), `limit` is
/// [`FaultSettings::frame_limit`]. Returns the frames to send, in order.
pub fn mangle_frame(
    fault: FrameFault,
    json: &str,
    wrap: &dyn Fn(&str) -> String,
    limit: usize,
) -> Vec<WireFrame> {
    match fault {
        FrameFault::Truncated => vec![WireFrame::Text(corrupt(&wrap(json)))],
        FrameFault::Oversized => vec![WireFrame::Text(padded(json, wrap, limit + 1))],
        FrameFault::AtLimit => vec![WireFrame::Text(padded(json, wrap, limit))],
        FrameFault::UnknownEvent => vec![
            WireFrame::Text(wrap(&future_event(json))),
            WireFrame::Text(wrap(json)),
        ],
        FrameFault::UnknownEnum => {
            let j = replace_str_field(json, "X", FUTURE_STATE);
            let j = replace_str_field(&j, "x", FUTURE_STATE);
            vec![WireFrame::Text(wrap(&j))]
        }
        FrameFault::UnknownAlgoStatus => {
            vec![WireFrame::Text(wrap(&replace_str_field(
                json,
                "X",
                FUTURE_STATE,
            )))]
        }
        FrameFault::ExtraFields => {
            let extra = "\"zzFuture\":{\"list\":[1,2.5,\"x\",null,{\"deep\":true}],\"n\":null},\"zzFlag\":false,";
            let j = match json.find('{') {
                Some(i)
                    if json
                        .get(i + 1..)
                        .is_some_and(|r| r.trim_start().starts_with('"')) =>
                {
                    let mut s = String::with_capacity(json.len() + extra.len());
                    s.push_str(json.get(..=i).unwrap_or(""));
                    s.push_str(extra);
                    s.push_str(json.get(i + 1..).unwrap_or(""));
                    s
                }
                _ => json.to_string(),
            };
            vec![WireFrame::Text(wrap(&j))]
        }
        FrameFault::MissingField => {
            let j = remove_field(json, "s")
                .unwrap_or_else(|| remove_field(json, "E").unwrap_or_else(|| json.to_string()));
            vec![WireFrame::Text(wrap(&j))]
        }
        FrameFault::NonJson => vec![WireFrame::Text(HTML_502.to_string())],
        FrameFault::Binary => {
            let text = wrap(json);
            let mut b = Vec::with_capacity(text.len() + BINARY_MAGIC.len());
            b.extend_from_slice(&BINARY_MAGIC);
            b.extend_from_slice(text.as_bytes());
            vec![WireFrame::Binary(b)]
        }
    }
}

/// `json` with a `"pad":"xxx.."` field added before its closing brace so the
/// wrapped text is exactly `target` bytes (or as small as it can be).
fn padded(json: &str, wrap: &dyn Fn(&str) -> String, target: usize) -> String {
    let Some(close) = json.rfind('}') else {
        return wrap(json);
    };
    let head = json.get(..close).unwrap_or("");
    let tail = json.get(close..).unwrap_or("");
    let empty = format!("{head},\"pad\":\"\"{tail}");
    let base = wrap(&empty).len();
    let n = target.saturating_sub(base);
    let mut s = String::with_capacity(empty.len() + n);
    s.push_str(head);
    s.push_str(",\"pad\":\"");
    s.extend(std::iter::repeat_n('x', n));
    s.push('"');
    s.push_str(tail);
    wrap(&s)
}

/// The unknown event sent before a frame, with the frame's event time.
fn future_event(json: &str) -> String {
    let e = number_field(json, "E").unwrap_or(0);
    format!(
        "{{\"e\":\"{FUTURE_EVENT}\",\"E\":{e},\"T\":{e},\"detail\":{{\"k\":[1,\"2\",null],\"s\":\"BTCUSDT\"}}}}"
    )
}

/// Position of the value of the first `"key":` in `json` (top level or
/// nested; the venue's frames have no key text inside string values).
fn field_value_at(json: &str, key: &str) -> Option<usize> {
    let pat = format!("\"{key}\":");
    json.find(&pat).map(|i| i + pat.len())
}

fn number_field(json: &str, key: &str) -> Option<i64> {
    let at = field_value_at(json, key)?;
    let rest = json.get(at..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    rest.get(..end)?.parse().ok()
}

/// Replaces the first `"key":"..."` string value with `value`.
fn replace_str_field(json: &str, key: &str, value: &str) -> String {
    let Some(at) = field_value_at(json, key) else {
        return json.to_string();
    };
    let Some(rest) = json.get(at..) else {
        return json.to_string();
    };
    if !rest.starts_with('"') {
        return json.to_string();
    }
    let Some(end) = rest.get(1..).and_then(|r| r.find('"')) else {
        return json.to_string();
    };
    format!(
        "{}\"{value}\"{}",
        json.get(..at).unwrap_or(""),
        rest.get(end + 2..).unwrap_or("")
    )
}

/// `json` without the first `"key":value` member (string or scalar value),
/// with one adjacent comma; `None` when there is no such member.
fn remove_field(json: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let start = json.find(&pat)?;
    let vstart = start + pat.len();
    let rest = json.get(vstart..)?;
    let vlen = if let Some(r) = rest.strip_prefix('"') {
        r.find('"')? + 2
    } else {
        rest.find([',', '}'])?
    };
    let mut end = vstart + vlen;
    let mut begin = start;
    if json.get(end..end + 1) == Some(",") {
        end += 1;
    } else if begin > 0 && json.get(begin - 1..begin) == Some(",") {
        begin -= 1;
    }
    Some(format!(
        "{}{}",
        json.get(..begin).unwrap_or(""),
        json.get(end..).unwrap_or("")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_changes_only_given_fields() {
        let mut f = FaultSettings {
            stream_delay_ms: 7,
            ..Default::default()
        };
        let p: FaultPatch = sonic_rs::from_str(r#"{"too_many_next":2}"#).unwrap();
        f.apply(&p);
        assert_eq!(f.stream_delay_ms, 7);
        assert_eq!(f.too_many_next, 2);
        assert!(FaultSettings::take(&mut f.too_many_next));
        assert!(FaultSettings::take(&mut f.too_many_next));
        assert!(!FaultSettings::take(&mut f.too_many_next));
    }

    fn valid(s: &str) -> sonic_rs::Value {
        sonic_rs::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
    }

    fn text(frames: &[WireFrame]) -> &str {
        match frames.last() {
            Some(WireFrame::Text(t)) => t,
            other => panic!("not text: {other:?}"),
        }
    }

    const OTU: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1700,"T":1699,"o":{"s":"BTCUSDT","c":"x1","X":"NEW","x":"NEW","i":7}}"#;

    #[test]
    fn frame_faults_make_what_they_say() {
        use sonic_rs::JsonValueTrait;
        let plain = |j: &str| j.to_string();
        let combined = |j: &str| format!(r#"{{"stream":"k","data":{j}}}"#);
        for wrap in [&plain as &dyn Fn(&str) -> String, &combined] {
            let f = mangle_frame(FrameFault::Oversized, OTU, wrap, 1000);
            assert_eq!(text(&f).len(), 1001);
            valid(text(&f));
            let f = mangle_frame(FrameFault::AtLimit, OTU, wrap, 1000);
            assert_eq!(text(&f).len(), 1000);
            valid(text(&f));
        }
        let f = mangle_frame(FrameFault::UnknownEnum, OTU, &plain, 0);
        let v = valid(text(&f));
        assert_eq!(v["o"]["X"].as_str(), Some(FUTURE_STATE));
        assert_eq!(v["o"]["x"].as_str(), Some(FUTURE_STATE));
        let f = mangle_frame(FrameFault::UnknownEvent, OTU, &plain, 0);
        assert_eq!(f.len(), 2);
        let WireFrame::Text(first) = &f[0] else {
            panic!()
        };
        assert_eq!(valid(first)["e"].as_str(), Some(FUTURE_EVENT));
        assert_eq!(valid(first)["E"].as_i64(), Some(1700));
        assert_eq!(text(&f), OTU);
        let f = mangle_frame(FrameFault::ExtraFields, OTU, &plain, 0);
        let v = valid(text(&f));
        assert!(v["zzFuture"]["list"].is_array());
        assert_eq!(v["o"]["c"].as_str(), Some("x1"));
        let f = mangle_frame(FrameFault::MissingField, OTU, &plain, 0);
        let v = valid(text(&f));
        assert!(v["o"].get("s").is_none());
        assert_eq!(v["o"]["c"].as_str(), Some("x1"));
        let no_s = r#"{"e":"listenKeyExpired","E":5,"listenKey":"k"}"#;
        let f = mangle_frame(FrameFault::MissingField, no_s, &plain, 0);
        assert!(valid(text(&f)).get("E").is_none());
        let f = mangle_frame(FrameFault::NonJson, OTU, &plain, 0);
        assert!(sonic_rs::from_str::<sonic_rs::Value>(text(&f)).is_err());
        let f = mangle_frame(FrameFault::Binary, OTU, &plain, 0);
        let [WireFrame::Binary(b)] = f.as_slice() else {
            panic!()
        };
        assert_eq!(b.get(..4), Some(&BINARY_MAGIC[..]));
        assert!(std::str::from_utf8(b).is_err());
    }

    #[test]
    fn targets_decide_which_frames_and_replies_are_hit() {
        let mut f = FaultSettings {
            non_json_next_frames: 1,
            unknown_enum_next_frames: 1,
            bad_frames_on: FrameTarget::User,
            html_502_next: 1,
            bad_replies_to: ReplyTarget::OrderWrites,
            ..Default::default()
        };
        assert_eq!(f.take_frame_fault(false, false), None);
        assert_eq!(f.take_frame_fault(true, false), Some(FrameFault::NonJson));
        assert_eq!(f.take_frame_fault(true, false), None);
        assert_eq!(
            f.take_frame_fault(false, true),
            Some(FrameFault::UnknownEnum)
        );
        assert_eq!(f.take_reply_fault(false), None);
        assert_eq!(f.take_reply_fault(true), Some(ReplyFault::Html502));
        assert_eq!(f.take_reply_fault(true), None);
        let p: FaultPatch =
            sonic_rs::from_str(r#"{"bad_frames_on":"market","bad_replies_to":"reads"}"#).unwrap();
        f.apply(&p);
        assert_eq!(f.bad_frames_on, FrameTarget::Market);
        assert_eq!(f.bad_replies_to, ReplyTarget::Reads);
        assert_eq!(f.frame_limit(), DEFAULT_FRAME_LIMIT);
    }

    #[test]
    fn the_algo_status_fault_hits_only_algo_updates() {
        use sonic_rs::JsonValueTrait;
        const ALGO: &str = r#"{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"c1","aid":9,"o":"STOP_MARKET","s":"BTCUSDT","X":"CANCELED"}}"#;
        let mut f = FaultSettings {
            unknown_algo_status_next_frames: 1,
            ..Default::default()
        };
        assert_eq!(f.take_frame_fault_for(OTU, true), None);
        assert_eq!(f.take_frame_fault_for(ALGO, false), None);
        assert_eq!(
            f.take_frame_fault_for(ALGO, true),
            Some(FrameFault::UnknownAlgoStatus)
        );
        assert_eq!(f.take_frame_fault_for(ALGO, true), None);
        let plain = |j: &str| j.to_string();
        let out = mangle_frame(FrameFault::UnknownAlgoStatus, ALGO, &plain, 0);
        let v = valid(text(&out));
        assert_eq!(v["o"]["X"].as_str(), Some(FUTURE_STATE));
        assert_eq!(v["o"]["aid"].as_i64(), Some(9));
    }

    #[test]
    fn corrupt_cuts_at_char_boundary() {
        let c = corrupt(r#"{"s":"币安人生USDT"}"#);
        assert!(c.len() < 20);
        assert!(sonic_rs::from_str::<sonic_rs::Value>(&c).is_err());
    }
}
