//! Injectable faults: the failures a real venue produces rarely and a client
//! must survive (unknown order outcomes, 5xx, 429 bursts, skewed clocks, slow
//! or corrupt streams). Counters ("next N requests") make tests deterministic.

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
}

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
            ws_api_no_reply_not_placed_next
        );
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

    #[test]
    fn corrupt_cuts_at_char_boundary() {
        let c = corrupt(r#"{"s":"币安人生USDT"}"#);
        assert!(c.len() < 20);
        assert!(sonic_rs::from_str::<sonic_rs::Value>(&c).is_err());
    }
}
