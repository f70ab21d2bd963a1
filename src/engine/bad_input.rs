//! Counting and logging the venue's bad input: frames and replies the
//! engine could not read, event types and enum values it does not know,
//! messages over the size limit.
//!
//! Why its own counters: "the venue sent garbage" must be visible without
//! grepping logs, and a storm of it must not flood the event log. Each kind
//! is counted exactly; the log gets the first [`LOG_PER_WINDOW`] of a kind
//! per [`LOG_WINDOW_NS`] and then one line saying how many were not logged.
//! What the engine *does* about each kind (reconcile, query, retry) lives
//! at the decode site; this module only keeps the books.

/// Lines logged per kind per window before the rest are only counted.
pub const LOG_PER_WINDOW: u32 = 5;
/// Length of a logging window.
pub const LOG_WINDOW_NS: u64 = 10_000_000_000;

/// Bad input by kind, part of [`Counters`](crate::engine::runner::Counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BadInput {
    /// User or market frames that did not decode (truncated, not JSON, a
    /// binary frame, a required field missing). A bad user frame starts a
    /// reconciliation pass: it may have been an order update.
    pub stream_frames: u64,
    /// Well-formed events of a type the engine does not model (user or
    /// market); skipped.
    pub unknown_events: u64,
    /// ORDER_TRADE_UPDATEs with an order status or execution type, and
    /// ALGO_UPDATEs with an algo status, the engine does not know; the
    /// order keeps its state and is queried.
    pub unknown_enums: u64,
    /// WebSocket messages over the size limit; the connection is closed and
    /// reopened (and the user stream reconciled).
    pub oversized_frames: u64,
    /// REST responses that broke off or were not the venue's JSON (HTML
    /// pages, truncated bodies, bodies of the wrong shape on reads).
    pub rest_responses: u64,
    /// WS-API frames that were not a readable reply envelope.
    pub ws_api_replies: u64,
    /// 2xx answers to order writes (either transport) whose body did not
    /// decode: the order's fate is unknown and is settled by query.
    pub order_replies: u64,
}

/// One kind of [`BadInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadKind {
    /// See [`BadInput::stream_frames`].
    StreamFrame,
    /// See [`BadInput::unknown_events`].
    UnknownEvent,
    /// See [`BadInput::unknown_enums`].
    UnknownEnum,
    /// See [`BadInput::oversized_frames`].
    Oversized,
    /// See [`BadInput::rest_responses`].
    RestResponse,
    /// See [`BadInput::ws_api_replies`].
    WsApiReply,
    /// See [`BadInput::order_replies`].
    OrderReply,
}

impl BadKind {
    const ALL: [BadKind; 7] = [
        BadKind::StreamFrame,
        BadKind::UnknownEvent,
        BadKind::UnknownEnum,
        BadKind::Oversized,
        BadKind::RestResponse,
        BadKind::WsApiReply,
        BadKind::OrderReply,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Name used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            BadKind::StreamFrame => "stream_frame",
            BadKind::UnknownEvent => "unknown_event",
            BadKind::UnknownEnum => "unknown_enum",
            BadKind::Oversized => "oversized_frame",
            BadKind::RestResponse => "rest_response",
            BadKind::WsApiReply => "ws_api_reply",
            BadKind::OrderReply => "order_reply",
        }
    }
}

impl BadInput {
    /// Counts one.
    pub fn add(&mut self, kind: BadKind) {
        let c = match kind {
            BadKind::StreamFrame => &mut self.stream_frames,
            BadKind::UnknownEvent => &mut self.unknown_events,
            BadKind::UnknownEnum => &mut self.unknown_enums,
            BadKind::Oversized => &mut self.oversized_frames,
            BadKind::RestResponse => &mut self.rest_responses,
            BadKind::WsApiReply => &mut self.ws_api_replies,
            BadKind::OrderReply => &mut self.order_replies,
        };
        *c += 1;
    }

    /// Count of one kind.
    pub fn get(&self, kind: BadKind) -> u64 {
        match kind {
            BadKind::StreamFrame => self.stream_frames,
            BadKind::UnknownEvent => self.unknown_events,
            BadKind::UnknownEnum => self.unknown_enums,
            BadKind::Oversized => self.oversized_frames,
            BadKind::RestResponse => self.rest_responses,
            BadKind::WsApiReply => self.ws_api_replies,
            BadKind::OrderReply => self.order_replies,
        }
    }

    /// Every kind added up.
    pub fn total(&self) -> u64 {
        BadKind::ALL.iter().map(|k| self.get(*k)).sum()
    }

    /// `(name, count)` for every kind, for reports and metrics.
    pub fn by_kind(&self) -> [(&'static str, u64); 7] {
        BadKind::ALL.map(|k| (k.as_str(), self.get(k)))
    }
}

/// Rate limit of bad-input log lines (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct BadInputLog {
    window_start_ns: [u64; 7],
    logged: [u32; 7],
    suppressed: [u64; 7],
}

/// What to write for one bad input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDecision {
    /// Log it; `suppressed` earlier ones of the kind were only counted.
    Log {
        /// How many went unlogged since the last line of this kind.
        suppressed: u64,
    },
    /// Count only.
    Quiet,
}

impl BadInputLog {
    /// Decides whether one bad input of `kind` at `now_ns` gets a log line.
    pub fn decide(&mut self, kind: BadKind, now_ns: u64) -> LogDecision {
        let i = kind.index();
        let (Some(start), Some(logged), Some(suppressed)) = (
            self.window_start_ns.get_mut(i),
            self.logged.get_mut(i),
            self.suppressed.get_mut(i),
        ) else {
            return LogDecision::Quiet;
        };
        if now_ns.saturating_sub(*start) >= LOG_WINDOW_NS || *start == 0 {
            *start = now_ns.max(1);
            *logged = 0;
        }
        if *logged < LOG_PER_WINDOW {
            *logged += 1;
            let s = std::mem::take(suppressed);
            LogDecision::Log { suppressed: s }
        } else {
            *suppressed += 1;
            LogDecision::Quiet
        }
    }
}

/// True when `body` is a venue error object (`{"code":..,"msg":..}`): an
/// error answer that is not one was mangled on the way.
pub fn is_venue_error_body(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct ErrorBody<'a> {
        #[allow(dead_code)]
        code: i64,
        #[allow(dead_code)]
        #[serde(borrow)]
        msg: std::borrow::Cow<'a, str>,
    }
    sonic_rs::from_slice::<ErrorBody<'_>>(body).is_ok()
}

/// The numeric `id` at the front of a WS-API reply that did not decode
/// (`{"id":123,...` cut short), so its request can still be settled.
pub fn salvage_ws_id(frame: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(frame.get(..frame.len().min(64))?).ok()?;
    let rest = text.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest
        .strip_prefix("\"id\"")?
        .trim_start()
        .strip_prefix(':')?;
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if end == 0 || end == rest.len() {
        // No digits, or the number may itself be cut.
        return None;
    }
    rest.get(..end)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_kind_and_totals() {
        let mut b = BadInput::default();
        for k in BadKind::ALL {
            b.add(k);
        }
        b.add(BadKind::StreamFrame);
        assert_eq!(b.stream_frames, 2);
        assert_eq!(b.total(), 8);
        assert_eq!(b.by_kind()[3], ("oversized_frame", 1));
    }

    #[test]
    fn a_storm_is_logged_a_few_times_per_window() {
        let mut l = BadInputLog::default();
        let t0 = 5_000;
        let logged = (0..100)
            .filter(|_| l.decide(BadKind::StreamFrame, t0) != LogDecision::Quiet)
            .count();
        assert_eq!(logged, LOG_PER_WINDOW as usize);
        // Another kind has its own budget.
        assert!(matches!(
            l.decide(BadKind::UnknownEvent, t0),
            LogDecision::Log { suppressed: 0 }
        ));
        // Next window: logged again, with the number not logged.
        assert_eq!(
            l.decide(BadKind::StreamFrame, t0 + LOG_WINDOW_NS),
            LogDecision::Log { suppressed: 95 }
        );
    }

    #[test]
    fn the_metrics_family_shows_every_kind() {
        let m = crate::metrics::Metrics::default();
        let mut b = BadInput::default();
        b.add(BadKind::Oversized);
        b.add(BadKind::StreamFrame);
        b.add(BadKind::StreamFrame);
        m.set_bad_input(&b);
        let mut out = String::new();
        crate::metrics::render::render(&m, &mut out);
        assert!(
            out.contains("# TYPE binance_exec_bad_input_total counter"),
            "{out}"
        );
        assert!(
            out.contains("binance_exec_bad_input_total{kind=\"stream_frame\"} 2"),
            "{out}"
        );
        assert!(
            out.contains("binance_exec_bad_input_total{kind=\"oversized_frame\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("binance_exec_bad_input_total{kind=\"ws_api_reply\"} 0"),
            "{out}"
        );
    }

    #[test]
    fn venue_errors_and_ids_are_recognised() {
        assert!(is_venue_error_body(
            br#"{"code":-2011,"msg":"Unknown order sent."}"#
        ));
        assert!(!is_venue_error_body(b"<html>502</html>"));
        assert!(!is_venue_error_body(br#"[{"code":-2011,"msg":"x"}]"#));
        assert_eq!(salvage_ws_id(br#"{"id":42,"status":200,"res"#), Some(42));
        assert_eq!(salvage_ws_id(br#"{"id":4"#), None);
        assert_eq!(salvage_ws_id(br#"{"id":"abc","status":200"#), None);
        assert_eq!(salvage_ws_id(b"<html>"), None);
    }
}
