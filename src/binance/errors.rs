//! Venue errors and what the engine must do about each one.
//!
//! The hard part of error handling on Binance is not parsing `{code,msg}`;
//! it is knowing whether the order may exist. A 503 "Unknown error" or a
//! -1007 timeout means the request reached the matching engine and its fate
//! is unknown: re-sending with a new id can double a position. [`classify`]
//! maps every code of the reference's §11 (and the HTTP-only cases) to one
//! [`Reaction`], so the execution layer has a single decision point and the
//! table can be reviewed line by line against the venue's documentation.

use std::borrow::Cow;
use std::time::Duration;

/// An error reply from the venue, keeping its HTTP status, code and text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("venue error HTTP {http_status} code {code}: {msg}")]
pub struct VenueError {
    /// HTTP status of the reply (the WS API's `status`).
    pub http_status: u16,
    /// The venue code (`-2019`…); 0 when the reply had none (plain 503, 429…).
    pub code: i64,
    /// The venue's message, verbatim.
    pub msg: String,
}

#[derive(serde::Deserialize)]
struct ErrorBody<'a> {
    code: i64,
    #[serde(borrow, default)]
    msg: Cow<'a, str>,
}

/// Longest non-JSON body text kept in `msg` (HTML error pages can be large).
const MAX_TEXT_MSG: usize = 256;

impl VenueError {
    /// Builds the error from an HTTP reply. JSON `{code,msg}` bodies are
    /// decoded; anything else (an HTML page, `Service Unavailable.`) keeps
    /// its text, cut at 256 bytes, with code 0.
    pub fn from_response(http_status: u16, body: &[u8]) -> Self {
        if let Ok(b) = sonic_rs::from_slice::<ErrorBody<'_>>(body) {
            return VenueError {
                http_status,
                code: b.code,
                msg: b.msg.into_owned(),
            };
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let mut end = text.len().min(MAX_TEXT_MSG);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        VenueError {
            http_status,
            code: 0,
            msg: text.get(..end).unwrap_or("").to_string(),
        }
    }

    /// The venue code, if the reply carried one.
    pub fn code(&self) -> Option<i64> {
        (self.code != 0).then_some(self.code)
    }

    /// What to do about it.
    pub fn reaction(&self) -> Reaction {
        classify(self.http_status, self.code(), &self.msg)
    }

    /// True when the order may or may not exist: resolve by client id.
    pub fn is_unknown_fate(&self) -> bool {
        self.reaction().is_unknown_fate()
    }
}

/// The engine's response to a venue error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Reaction {
    /// Certainly not executed and transient: retry with backoff (same
    /// client id), rebuilding the request so it carries a fresh timestamp.
    Retry,
    /// The venue is overloaded (-1008): back off and cut concurrency;
    /// exposure-reducing requests and cancels are exempt.
    BackOff,
    /// A rate limit was hit (429, -1003, -1015): stop that limiter until
    /// `Retry-After` (or the next window); continuing earns a 418 ban.
    RateLimited,
    /// The IP is banned (418): send nothing until the time in the message.
    Banned,
    /// The request may have executed: query by client order id, never
    /// resubmit under a new id.
    ResolveUnknown,
    /// The local clock is off (-1021): re-estimate the offset, retry once.
    ResyncClock,
    /// Our request is malformed in a way that will repeat (bad signature):
    /// a bug; stop trading and alert.
    FailFast,
    /// This order's parameters break a rule (tick, step, precision, enum):
    /// reject it to the strategy; the code that built it must be fixed.
    FixParams,
    /// The venue refused this order for a business reason; final, not placed.
    Reject,
    /// Balance or margin insufficient: log, skip this order, tell risk.
    SkipOrder,
    /// Price beyond the PERCENT_PRICE band: re-price from the mark (or use
    /// LIMIT instead of MARKET for -4131).
    Reprice,
    /// The conditional order would trigger immediately: adjust the trigger.
    AdjustTrigger,
    /// Our view of orders/positions is wrong: reconcile (query by client id,
    /// open orders, positions) and trust the user stream.
    Reconcile,
    /// The listenKey is gone: create one, reconnect, reconcile.
    RenewListenKey,
    /// The symbol is unknown: refresh exchangeInfo.
    RefreshInstruments,
    /// positionSide disagrees with the account's mode: re-read it, fix, retry.
    RefreshPositionMode,
    /// The account or symbol is restricted to reducing orders.
    ReduceOnlyMode,
    /// Reduce-only plus same-side orders would flip the position: cancel the
    /// conflicting orders first.
    CancelConflicting,
    /// The requested state is already in place (-4046/-4059): success.
    TreatAsSuccess,
    /// The modify changed nothing (-5027): nothing to do.
    NoOp,
    /// A modify is still pending: wait for the AMENDMENT event.
    AwaitAmendment,
    /// The account is being liquidated: halt trading on the symbol.
    Halt,
    /// Credentials, permissions or account state make every request fail:
    /// stop the engine.
    Fatal,
}

impl Reaction {
    /// True when the order's fate is unknown and must be resolved by query.
    pub fn is_unknown_fate(self) -> bool {
        self == Reaction::ResolveUnknown
    }

    /// True when re-sending the same request (same client id, fresh
    /// timestamp) after a delay is the right move.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Reaction::Retry | Reaction::BackOff | Reaction::RateLimited | Reaction::ResyncClock
        )
    }

    /// True when the request succeeded in effect despite the error.
    pub fn is_success(self) -> bool {
        matches!(self, Reaction::TreatAsSuccess | Reaction::NoOp)
    }
}

/// One row of the code table: an inclusive code range (most rows are a
/// single code), what it means, and the reaction.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// Lowest code (most negative) of the range.
    pub from: i64,
    /// Highest code of the range.
    pub to: i64,
    /// Short meaning.
    pub meaning: &'static str,
    /// What the engine does.
    pub reaction: Reaction,
}

const fn c(code: i64, meaning: &'static str, reaction: Reaction) -> CodeInfo {
    CodeInfo {
        from: code,
        to: code,
        meaning,
        reaction,
    }
}

const fn r(from: i64, to: i64, meaning: &'static str, reaction: Reaction) -> CodeInfo {
    CodeInfo {
        from,
        to,
        meaning,
        reaction,
    }
}

use Reaction::*;

/// Every venue code of the reference's §11, with its meaning and reaction.
/// Ranges are inclusive and never overlap (checked by a test).
pub const CODE_TABLE: &[CodeInfo] = &[
    c(
        -1000,
        "unknown error while processing; reconcile writes, then retry",
        ResolveUnknown,
    ),
    // The venue's docs: a 5xx whose message is "Internal error; unable to
    // process your request. Please try again." is a failed request that was
    // not executed, so it is resent (same client id) after a backoff.
    c(
        -1001,
        "internal error (disconnected); not executed, resend with backoff",
        Retry,
    ),
    c(
        -1003,
        "too many requests (weight) or IP banned",
        RateLimited,
    ),
    c(
        -1006,
        "unexpected backend response; execution status unknown",
        ResolveUnknown,
    ),
    c(
        -1007,
        "backend timeout; execution status unknown",
        ResolveUnknown,
    ),
    c(-1008, "server overloaded; not processed", BackOff),
    c(-1013, "invalid message / filter failure", FixParams),
    c(-1014, "unsupported order combination", FixParams),
    c(-1015, "too many new orders (ORDERS limit)", RateLimited),
    c(
        -1021,
        "timestamp outside recvWindow or > 1 s ahead of server",
        ResyncClock,
    ),
    c(-1022, "invalid signature", FailFast),
    r(
        -1106,
        -1100,
        "illegal chars / too many / missing / unknown / unread / empty / not-required parameter",
        FixParams,
    ),
    r(
        -1110,
        -1108,
        "invalid asset / account / symbol type",
        FixParams,
    ),
    c(
        -1111,
        "precision over the maximum defined for the asset",
        FixParams,
    ),
    r(
        -1117,
        -1112,
        "no depth / invalid value / TIF not required / invalid TIF / order type / side",
        FixParams,
    ),
    c(-1120, "invalid interval", FixParams),
    c(-1121, "invalid symbol", RefreshInstruments),
    c(-1122, "invalid symbol status", FixParams),
    c(-1125, "listenKey does not exist", RenewListenKey),
    c(-1127, "lookback interval too long", FixParams),
    c(
        -1128,
        "invalid combination of optional parameters",
        FixParams,
    ),
    c(-1130, "invalid data sent for a parameter", FixParams),
    c(-1136, "invalid newOrderRespType", FixParams),
    c(-2010, "new order rejected", Reject),
    c(-2011, "cancel rejected: unknown or closed order", Reconcile),
    c(-2013, "order does not exist (or archived)", Reconcile),
    c(-2014, "API key format invalid", Fatal),
    c(-2015, "invalid API key, IP or permissions", Fatal),
    c(-2018, "balance insufficient", SkipOrder),
    c(-2019, "margin insufficient", SkipOrder),
    c(-2021, "order would immediately trigger", AdjustTrigger),
    c(-2022, "reduce-only order rejected", Reconcile),
    c(-2023, "account is being liquidated", Halt),
    c(-2024, "position insufficient", Reject),
    c(-2025, "maximum open orders reached", Reject),
    c(-2026, "order type not supported as reduce-only", Reject),
    c(
        -2027,
        "maximum position at current leverage exceeded",
        Reject,
    ),
    c(-2028, "leverage too low for current position", Reject),
    r(
        -4013,
        -4000,
        "price / quantity / stop price / tick / step bounds violated",
        FixParams,
    ),
    c(-4014, "price not a multiple of tick size", FixParams),
    c(
        -4015,
        "client order id invalid or longer than 36",
        FixParams,
    ),
    c(-4016, "price above mark x multiplierUp", Reprice),
    c(-4023, "quantity not a multiple of step size", FixParams),
    c(-4024, "price below mark x multiplierDown", Reprice),
    c(-4028, "leverage not valid", Reject),
    c(-4046, "margin type already set", TreatAsSuccess),
    c(-4047, "margin type change blocked by open orders", Reject),
    c(-4048, "margin type change blocked by position", Reject),
    c(-4059, "position mode already set", TreatAsSuccess),
    c(
        -4061,
        "positionSide does not match the position mode",
        RefreshPositionMode,
    ),
    c(-4067, "position mode change blocked by open orders", Reject),
    c(-4068, "position mode change blocked by positions", Reject),
    c(
        -4087,
        "user may only place reduce-only orders",
        ReduceOnlyMode,
    ),
    c(-4088, "user may not place orders now", ReduceOnlyMode),
    r(
        -4107,
        -4105,
        "reduce-only / no-trading restriction on the symbol",
        ReduceOnlyMode,
    ),
    c(-4109, "account inactive", Fatal),
    c(
        -4116,
        "client order id already used by an open order",
        Reconcile,
    ),
    c(
        -4117,
        "stop order is triggering; retry the cancel shortly",
        Retry,
    ),
    c(
        -4118,
        "reduce-only plus same-side orders would flip the position",
        CancelConflicting,
    ),
    c(
        -4120,
        "conditional order type on /order: use the algo endpoint",
        FixParams,
    ),
    c(
        -4131,
        "MARKET best price outside PERCENT_PRICE: use LIMIT",
        Reprice,
    ),
    c(-4135, "invalid activation price", Reject),
    c(-4137, "quantity must be zero with closePosition", Reject),
    c(-4138, "reduce-only must be true with closePosition", Reject),
    c(-4140, "symbol not open for opening positions", Reject),
    c(-4141, "symbol is closed", Reject),
    c(
        -4142,
        "take-profit / stop-loss would trigger immediately",
        AdjustTrigger,
    ),
    c(-4161, "leverage change not allowed here", Reject),
    c(
        -4164,
        "notional below MIN_NOTIONAL (unless reduce-only)",
        Reject,
    ),
    c(
        -4183,
        "limit price outside the stop multiplier band",
        Reject,
    ),
    c(-4184, "stop price outside the stop multiplier band", Reject),
    c(-4189, "reduce-only restriction", ReduceOnlyMode),
    r(
        -4211,
        -4202,
        "leverage not allowed / stop price outside multiplier band",
        Reject,
    ),
    c(
        -4400,
        "trading restricted to reduce-only (quantitative rules)",
        ReduceOnlyMode,
    ),
    c(-4401, "trading restricted (compliance)", ReduceOnlyMode),
    c(-4403, "leverage above the limit for this account", Reject),
    c(
        -4531,
        "position mode change temporarily blocked (COIN-M sync)",
        Reject,
    ),
    c(
        -5021,
        "FOK could not be fully filled: not placed, no event",
        Reject,
    ),
    c(
        -5022,
        "post-only (GTX) would take: not placed, no event",
        Reject,
    ),
    c(-5024, "modify: symbol not trading", Reject),
    c(-5025, "modify: LIMIT orders only", Reject),
    c(-5026, "modify: more than 10000 modifications", Reject),
    c(-5027, "modify: no change", NoOp),
    c(
        -5028,
        "timestamp outside the matching engine's recvWindow",
        Retry,
    ),
    c(-5029, "modify: notional too small", Reject),
    c(-5037, "invalid priceMatch", FixParams),
    c(
        -5038,
        "priceMatch not supported for this order type",
        FixParams,
    ),
    c(-5039, "invalid self-trade prevention mode", FixParams),
    c(-5040, "invalid goodTillDate", FixParams),
    c(-5041, "no depth to match the price", Reject),
    c(-5043, "a modification is already pending", AwaitAmendment),
];

/// The table row for a code, if the reference lists it.
pub fn lookup(code: i64) -> Option<&'static CodeInfo> {
    CODE_TABLE.iter().find(|e| e.from <= code && code <= e.to)
}

/// The 503 text that means "reached the backend, no answer": may have executed.
pub const MSG_UNKNOWN_503: &str = "Unknown error, please check your request or try again later.";
/// The 503 text that means the request certainly failed and was not counted.
pub const MSG_UNAVAILABLE_503: &str = "Service Unavailable.";

/// Decides the reaction from the HTTP status, the venue code and message.
///
/// Order of precedence: a 418 is always a ban; a known code decides;
/// the two documented 503 texts decide; then HTTP classes. Anything 5xx
/// (or 408) that is not positively known to have failed is treated as
/// unknown fate, because guessing "failed" is how positions get doubled.
pub fn classify(http_status: u16, code: Option<i64>, msg: &str) -> Reaction {
    if http_status == 418 {
        return Banned;
    }
    if let Some(e) = code.and_then(lookup) {
        return e.reaction;
    }
    let msg = msg.trim();
    if http_status == 503 {
        if msg.starts_with("Unknown error") {
            return ResolveUnknown;
        }
        if msg.eq_ignore_ascii_case(MSG_UNAVAILABLE_503)
            || msg.eq_ignore_ascii_case("Service Unavailable")
        {
            return Retry;
        }
    }
    match http_status {
        429 => RateLimited,
        401 => Fatal,
        // WAF block: not processed; slow down rather than hammer.
        403 => BackOff,
        408 => ResolveUnknown,
        500..=599 => ResolveUnknown,
        // A 4xx with an unlisted code: the venue decided, nothing was placed.
        400..=499 => Reject,
        // A 2xx/3xx "error" is not expected; make someone look.
        _ => Reconcile,
    }
}

/// Parses a `Retry-After` header value in seconds (the venue does not use
/// the HTTP-date form).
pub fn parse_retry_after(value: &[u8]) -> Option<Duration> {
    let s = std::str::from_utf8(value).ok()?.trim();
    s.parse::<u64>().ok().map(Duration::from_secs)
}

/// Extracts the ban end (ms since epoch) from a -1003 418 message such as
/// `Way too many requests; IP banned until 1760000000000. Please use ...`.
pub fn banned_until_ms(msg: &str) -> Option<i64> {
    let rest = &msg[msg.find("banned until")? + "banned until".len()..];
    let digits: &str = rest.trim_start();
    let end = digits
        .find(|ch: char| !ch.is_ascii_digit())
        .unwrap_or(digits.len());
    digits.get(..end)?.parse().ok()
}

/// Delay before retry attempt `attempt` (0-based) for [`Reaction::Retry`]:
/// 200, 400, 800, 1600, 3200 ms, then give up (`None`).
pub fn retry_backoff(attempt: u32) -> Option<Duration> {
    (attempt < 5).then(|| Duration::from_millis(200u64 << attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code named in the reference's §11, expanded from its ranges.
    fn section_11_codes() -> Vec<i64> {
        let mut v = vec![
            -1006, -1007, -1008, -1000, -1001, -1003, -1015, -1021, -1022, -1013, -1014,
        ];
        v.extend(-1106..=-1100);
        v.extend(-1117..=-1108);
        v.extend([
            -1120, -1122, -1127, -1128, -1130, -1136, -1111, -1121, -1125,
        ]);
        v.extend([
            -2010, -2011, -2013, -2014, -2015, -2018, -2019, -2021, -4142, -2022, -2023,
        ]);
        v.extend(-2028..=-2024);
        v.extend(-4013..=-4000);
        v.extend([-4023, -4014, -4015, -4016, -4024, -4028, -4161]);
        v.extend(-4211..=-4202);
        v.extend([
            -4403, -4046, -4059, -4047, -4048, -4067, -4068, -4531, -4061,
        ]);
        v.extend([
            -4087, -4088, -4105, -4106, -4107, -4189, -4400, -4401, -4109, -4116,
        ]);
        v.extend([
            -4117, -4118, -4120, -4131, -4135, -4137, -4138, -4140, -4141, -4164,
        ]);
        v.extend([-4183, -4184, -4210, -4211, -5021, -5022]);
        v.extend(-5027..=-5024);
        v.extend([-5029, -5028]);
        v.extend(-5041..=-5037);
        v.push(-5043);
        v
    }

    #[test]
    fn every_section_11_code_is_in_the_table() {
        for code in section_11_codes() {
            let e = lookup(code).unwrap_or_else(|| panic!("code {code} missing"));
            assert!(!e.meaning.is_empty());
        }
    }

    #[test]
    fn table_ranges_are_ordered_and_disjoint() {
        for (i, a) in CODE_TABLE.iter().enumerate() {
            assert!(a.from <= a.to, "{a:?}");
            for b in &CODE_TABLE[i + 1..] {
                assert!(a.to < b.from || b.to < a.from, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn reactions_table() {
        let cases: &[(u16, Option<i64>, &str, Reaction)] = &[
            (503, None, MSG_UNKNOWN_503, ResolveUnknown),
            (503, None, MSG_UNAVAILABLE_503, Retry),
            (503, Some(-1008), "Server is currently overloaded", BackOff),
            (
                503,
                Some(-1007),
                "Timeout waiting for response",
                ResolveUnknown,
            ),
            (408, Some(-1006), "x", ResolveUnknown),
            (500, Some(-1000), "An unknown error", ResolveUnknown),
            (
                502,
                Some(-1001),
                "Internal error; unable to process your request. Please try again.",
                Retry,
            ),
            (502, None, "<html>Bad Gateway</html>", ResolveUnknown),
            (504, None, "", ResolveUnknown),
            (503, None, "something else", ResolveUnknown),
            (429, Some(-1003), "Too many requests", RateLimited),
            (429, None, "", RateLimited),
            (429, Some(-1015), "Too many new orders", RateLimited),
            (
                418,
                Some(-1003),
                "Way too many requests; IP banned until 1760000000000.",
                Banned,
            ),
            (418, None, "", Banned),
            (
                400,
                Some(-1021),
                "Timestamp outside recvWindow",
                ResyncClock,
            ),
            (400, Some(-1022), "Signature invalid", FailFast),
            (
                400,
                Some(-1106),
                "Parameter 'reduceonly' sent when not required.",
                FixParams,
            ),
            (400, Some(-1111), "Precision is over the maximum", FixParams),
            (400, Some(-1121), "Invalid symbol.", RefreshInstruments),
            (
                400,
                Some(-1125),
                "This listenKey does not exist.",
                RenewListenKey,
            ),
            (400, Some(-2010), "rejected", Reject),
            (400, Some(-2011), "Unknown order sent.", Reconcile),
            (400, Some(-2013), "Order does not exist.", Reconcile),
            (
                401,
                Some(-2015),
                "Invalid API-key, IP, or permissions",
                Fatal,
            ),
            (401, None, "", Fatal),
            (400, Some(-2019), "Margin is insufficient.", SkipOrder),
            (400, Some(-2018), "Balance is insufficient.", SkipOrder),
            (
                400,
                Some(-2021),
                "Order would immediately trigger.",
                AdjustTrigger,
            ),
            (400, Some(-2022), "ReduceOnly Order is rejected.", Reconcile),
            (400, Some(-2023), "User in liquidation mode now.", Halt),
            (
                400,
                Some(-4014),
                "Price not increased by tick size.",
                FixParams,
            ),
            (
                400,
                Some(-4016),
                "Limit price can't be higher than",
                Reprice,
            ),
            (
                400,
                Some(-4046),
                "No need to change margin type.",
                TreatAsSuccess,
            ),
            (
                400,
                Some(-4059),
                "No need to change position side.",
                TreatAsSuccess,
            ),
            (
                400,
                Some(-4061),
                "Order's position side does not match",
                RefreshPositionMode,
            ),
            (400, Some(-4109), "This account is inactive.", Fatal),
            (400, Some(-4116), "ClientOrderId is duplicated.", Reconcile),
            (400, Some(-4117), "stop order is triggering", Retry),
            (
                400,
                Some(-4118),
                "ReduceOnly Order Failed.",
                CancelConflicting,
            ),
            (
                400,
                Some(-4120),
                "Order type not supported for this endpoint.",
                FixParams,
            ),
            (400, Some(-4131), "The counterparty's best price", Reprice),
            (
                400,
                Some(-4164),
                "Order's notional must be no smaller than 5",
                Reject,
            ),
            (400, Some(-5021), "Order could not be filled", Reject),
            (400, Some(-5022), "Post Only order will be rejected", Reject),
            (400, Some(-5027), "No need to modify the order.", NoOp),
            (
                400,
                Some(-5028),
                "Timestamp for this request is outside of the ME recvWindow.",
                Retry,
            ),
            (
                400,
                Some(-5043),
                "A modification is pending",
                AwaitAmendment,
            ),
            (400, Some(-9999), "unlisted", Reject),
            (403, None, "WAF", BackOff),
        ];
        for &(status, code, msg, want) in cases {
            assert_eq!(classify(status, code, msg), want, "{status} {code:?} {msg}");
        }
    }

    #[test]
    fn unknown_fate_helpers() {
        let e = VenueError::from_response(503, MSG_UNKNOWN_503.as_bytes());
        assert_eq!(e.code(), None);
        assert!(e.is_unknown_fate());
        let e = VenueError::from_response(503, b"Service Unavailable.");
        assert!(!e.is_unknown_fate());
        assert!(e.reaction().is_retryable());
        let e = VenueError::from_response(
            400,
            br#"{"code":-4046,"msg":"No need to change margin type."}"#,
        );
        assert_eq!(
            (e.code, e.msg.as_str()),
            (-4046, "No need to change margin type.")
        );
        assert!(e.reaction().is_success());
        assert!(!Reaction::Reject.is_retryable());
    }

    #[test]
    fn from_response_never_panics_on_junk() {
        let junk: &[&[u8]] = &[
            b"",
            b"{",
            b"{\"code\":\"x\"}",
            &[0xff, 0xfe],
            b"<html>",
            &[b'x'; 1000],
        ];
        for body in junk {
            let e = VenueError::from_response(500, body);
            assert_eq!(e.code, 0);
            assert!(e.msg.len() <= MAX_TEXT_MSG);
        }
        // A message with escapes decodes.
        let e = VenueError::from_response(400, br#"{"code":-1102,"msg":"Mandatory \"symbol\""}"#);
        assert_eq!(e.msg, "Mandatory \"symbol\"");
        // Multi-byte text is cut on a char boundary.
        let long = "币".repeat(200);
        let e = VenueError::from_response(502, long.as_bytes());
        assert!(e.msg.len() <= MAX_TEXT_MSG && e.msg.chars().all(|c| c == '币'));
    }

    #[test]
    fn retry_after_ban_and_backoff() {
        assert_eq!(parse_retry_after(b" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(b"soon"), None);
        assert_eq!(
            banned_until_ms(
                "Way too many requests; IP banned until 1760000000000. Please use the websocket."
            ),
            Some(1760000000000)
        );
        assert_eq!(banned_until_ms("Too many requests"), None);
        assert_eq!(banned_until_ms("banned until "), None);
        assert_eq!(retry_backoff(0), Some(Duration::from_millis(200)));
        assert_eq!(retry_backoff(2), Some(Duration::from_millis(800)));
        assert_eq!(retry_backoff(5), None);
    }
}
