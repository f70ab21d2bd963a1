//! Order entry: which transport carries an order write, how WebSocket-API
//! replies are correlated, and when an order the venue never took is sent
//! again under the same client id.
//!
//! Why a separate module: the routing rules are where duplicates and lost
//! orders are made or avoided, so they live in one reviewable place.
//!
//! - With `order_entry = "ws_api"`, new orders, cancels and modifies (plain
//!   and algo) go out as `order.place` / `order.cancel` / `order.modify` /
//!   `algoOrder.place` / `algoOrder.cancel` frames whose `id` is the
//!   request's tag, so a reply is matched with one lookup in the same
//!   preallocated map REST completions use (no allocation per order).
//!   Queries, cancel-all and listenKey calls stay on REST: resolution must
//!   work exactly when the WebSocket does not.
//! - Fallback: while the WS-API connection is down, or when the network
//!   thread reports a frame *certainly not written*, the request goes over
//!   REST. A frame that was written when the connection died has an
//!   unknown fate: it is resolved by querying the client id, never resent
//!   blindly.
//! - Resubmission: an order whose fate was unknown and which the venue then
//!   says does not exist (-2013) is queried again once the request's own
//!   `recvWindow` (plus a margin) has passed since the fate became unknown
//!   — the matching engine refuses a request older than that (-5028), so
//!   the first attempt can no longer appear. Only then is it sent again,
//!   with the same client id, at most `max_retries` times; a -4116 reply
//!   means the first attempt landed after all, and it is adopted by query.
//! - Reply timeout: a frame written on a live connection and unanswered for
//!   `engine.ws_api_reply_timeout_ms` is treated like one written just
//!   before the connection died: unknown fate, queried by client id. A reply
//!   arriving after that finds no pending request and is ignored.
//! - Untriggered conditional (algo) orders cannot be modified at the venue;
//!   a modify of one is refused locally (see [`ALGO_NOT_MODIFIABLE`]). Once
//!   triggered, a modify goes to the child order by its venue id.

use std::time::Duration;

use super::{Exec, Job, Pending, algo_order, new_order};
use crate::binance::errors::VenueError;
use crate::binance::requests::{AlgoRef, ModifyOrder, OrderRef};
use crate::binance::ws_api::{WsId, WsRateLimit, WsRequestBuilder, WsResponseId, decode_reply};
use crate::config::{Config, OrderEntry, PositionMode};
use crate::engine::buffers::Buf;
use crate::engine::clock::mono_ns;
use crate::engine::hash::{FxHashMap, map_with_room};
use crate::engine::net_thread::{NetCommand, SendOutcome};
use crate::engine::pool::OrderHandle;
use crate::engine::ratelimit::{Cost, Decision};
use crate::engine::report::RequestKind;
use crate::engine::strategy_thread::{EventStamps, ToStrategy};
use crate::latency::LatencyPath;
use crate::model::ids::ClientOrderId;
use crate::model::{ErrorText, Order, OrderEvent, OrderEventKind, OrderState};

/// Code of the local `ModifyRejected` for an untriggered conditional order.
/// It is the venue's own code for "this order type is not served by
/// `/fapi/v1/order` (the only modify endpoint); use the Algo Order API".
pub const ALGO_NOT_MODIFIABLE: i32 = -4120;

/// Reason text of that rejection.
pub const ALGO_NOT_MODIFIABLE_MSG: &str =
    "untriggered conditional (algo) orders cannot be modified; cancel and place a new one";

/// Extra wait past `recvWindow` before an order the venue does not know is
/// sent again (clock offset error, venue queueing).
const SETTLE_MARGIN: Duration = Duration::from_millis(1000);

/// Most orders waiting out their settle delay at once.
const SETTLE_ROOM: usize = 64;

/// Order-entry state owned by the execution thread.
pub(super) struct Router {
    /// Present with `order_entry = "ws_api"`.
    ws: Option<WsLink>,
    /// Orders whose fate became unknown on submit: when a resubmission is
    /// allowed and how many were made.
    settling: Vec<Settle>,
    /// `recvWindow` + margin.
    settle_ns: u64,
    /// Resubmissions allowed per order (`max_retries`).
    max_resubmits: u32,
    /// Order writes sent as WS-API frames.
    sent_ws: u64,
    /// Order writes that fell back to REST while WS-API entry was configured.
    fell_back: u64,
}

/// The WebSocket-API side: frame builder, link state, in-flight frames.
struct WsLink {
    builder: WsRequestBuilder,
    up: bool,
    /// Tag → engine time (ns) the frame was written, 0 while not yet: a
    /// written frame is unknown if the link dies or no reply comes in time.
    inflight: FxHashMap<u64, u64>,
    /// Scratch for the tags to settle when the link drops or replies time out.
    scratch: Vec<u64>,
    /// `engine.ws_api_reply_timeout`, ns.
    reply_timeout_ns: u64,
    /// Next scan of `inflight` for overdue replies (engine ns).
    next_scan_ns: u64,
    /// Frames whose reply did not come in time.
    timed_out: u64,
}

#[derive(Debug, Clone, Copy)]
struct Settle {
    client_id: ClientOrderId,
    until_ns: u64,
    resubmits: u32,
}

impl Router {
    /// Order entry as configured; `cap` sizes the in-flight map.
    pub(super) fn new(config: &Config, cap: usize) -> Router {
        let ws = (config.order_entry == OrderEntry::WsApi).then(|| WsLink {
            builder: WsRequestBuilder::new(
                config.credentials.api_key.expose(),
                config.credentials.api_secret.expose().as_bytes(),
                u32::try_from(config.recv_window_ms).ok(),
            ),
            up: false,
            inflight: map_with_room(cap * 2),
            scratch: Vec::with_capacity(cap),
            reply_timeout_ns: u64::try_from(config.engine.ws_api_reply_timeout.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1),
            next_scan_ns: 0,
            timed_out: 0,
        });
        let settle = config.recv_window().saturating_add(SETTLE_MARGIN);
        Router {
            ws,
            settling: Vec::with_capacity(SETTLE_ROOM),
            settle_ns: u64::try_from(settle.as_nanos()).unwrap_or(u64::MAX),
            max_resubmits: config.max_retries,
            sent_ws: 0,
            fell_back: 0,
        }
    }
}

/// Which order a modify addresses: a triggered conditional order's child
/// by its venue id (the child has its own client id), anything else by
/// the client id.
pub(super) fn modify_target(o: &Order) -> OrderRef {
    match o.child_venue_order_id {
        Some(child) if o.is_conditional() => OrderRef::VenueId(child),
        _ => OrderRef::ClientId(o.client_id),
    }
}

/// Venue `rateLimits[]` item → the equivalent `X-MBX-*` header name.
fn header_name(l: &WsRateLimit<'_>) -> Option<&'static str> {
    match (
        l.rate_limit_type.as_ref(),
        l.interval.as_ref(),
        l.interval_num,
    ) {
        ("REQUEST_WEIGHT", "MINUTE", 1) => Some("x-mbx-used-weight-1m"),
        ("ORDERS", "SECOND", 10) => Some("x-mbx-order-count-10s"),
        ("ORDERS", "MINUTE", 1) => Some("x-mbx-order-count-1m"),
        _ => None,
    }
}

fn kind_of(job: Job) -> Option<RequestKind> {
    match job {
        Job::Submit => Some(RequestKind::Submit),
        Job::Cancel => Some(RequestKind::Cancel),
        Job::Modify { .. } => Some(RequestKind::Modify),
        _ => None,
    }
}

impl Exec {
    /// Sends an order write as a WS-API frame when that entry is configured
    /// and up; false when the caller should use REST instead.
    pub(super) fn try_send_ws(&mut self, p: Pending) -> bool {
        let Some(kind) = kind_of(p.job) else {
            return false;
        };
        let Some(ws) = self.route.ws.as_ref() else {
            return false;
        };
        if !ws.up {
            self.route.fell_back += 1;
            return false;
        }
        let Some(o) = self
            .tracker
            .find(&p.client_id)
            .and_then(|h| self.tracker.get(h).ok().copied())
        else {
            // Not tracked any more: REST reports it the usual way.
            return false;
        };
        // The venue's weights: placing and modifying count on ORDERS only,
        // cancels cost one unit of weight.
        let cost = match kind {
            RequestKind::Cancel => Cost {
                weight: 1,
                orders: 0,
            },
            _ => Cost {
                weight: 0,
                orders: 1,
            },
        };
        let ts = self.ts_ms();
        let (decision, warning) = self.limiter.try_acquire(cost, ts);
        if let Some(w) = warning {
            self.log_warning(w);
        }
        match decision {
            Decision::Go => {}
            // Holding and refusing are the REST path's job; it applies the
            // same limiter again (nothing was charged here).
            Decision::Wait(_) | Decision::Reject(_) => return false,
        }
        let tag = self.next_tag;
        let hedge = self.config.position_mode == PositionMode::Hedge;
        let mut text = self.net.bufs.get();
        let built = {
            let Some(ws) = self.route.ws.as_mut() else {
                self.net.bufs.put(text);
                return false;
            };
            let id = WsId::Num(tag);
            let b = &mut ws.builder;
            let frame = match p.job {
                Job::Submit if o.is_conditional() => {
                    b.algo_order_place(id, &algo_order(&o, hedge), ts)
                }
                Job::Submit => b.order_place(id, &new_order(&o, hedge), ts),
                Job::Cancel if p.algo => {
                    b.algo_order_cancel(id, &AlgoRef::ClientAlgoId(p.client_id), ts)
                }
                Job::Cancel => b.order_cancel(
                    id,
                    &p.instrument.symbol,
                    &OrderRef::ClientId(p.client_id),
                    ts,
                ),
                Job::Modify { price, quantity } => b.order_modify(
                    id,
                    &ModifyOrder {
                        symbol: p.instrument.symbol,
                        side: o.side,
                        order: modify_target(&o),
                        quantity,
                        price: Some(price),
                        price_match: None,
                        modify_id: None,
                    },
                    ts,
                ),
                _ => {
                    self.net.bufs.put(text);
                    return false;
                }
            };
            match frame {
                Ok(f) => {
                    text.extend_from_slice(f);
                    true
                }
                Err(_) => false,
            }
        };
        if !built {
            // REST builds the same request and reports the error the usual
            // way (the builders share their rules).
            self.net.bufs.put(text);
            return false;
        }
        self.next_tag += 1;
        self.pending.insert(tag, p);
        if let Some(ws) = self.route.ws.as_mut() {
            ws.inflight.insert(tag, 0);
        }
        match self.net.send(NetCommand::WsApiSend { tag, text }) {
            Ok(()) => {
                self.route.sent_ws += 1;
                true
            }
            Err(e) => {
                self.pending.remove(&tag);
                if let Some(ws) = self.route.ws.as_mut() {
                    ws.inflight.remove(&tag);
                }
                if let crate::engine::net_thread::CommandError::Full(cmd) = e
                    && let NetCommand::WsApiSend { text, .. } = *cmd
                {
                    self.net.bufs.put(text);
                }
                self.route.fell_back += 1;
                false
            }
        }
    }

    /// The network thread's verdict on one frame.
    pub(super) fn on_ws_written(&mut self, tag: u64, outcome: SendOutcome) {
        match outcome {
            SendOutcome::Written { t_write_ns } => {
                let written = match self.to_engine(t_write_ns) {
                    0 => mono_ns(),
                    t => t,
                };
                let Some(ws) = self.route.ws.as_mut() else {
                    return;
                };
                if let Some(w) = ws.inflight.get_mut(&tag) {
                    *w = written.max(1);
                }
                if let Some(p) = self.pending.get(&tag).copied()
                    && matches!(p.job, Job::Submit)
                    && p.attempt == 0
                {
                    let t_write = self.to_engine(t_write_ns);
                    self.lat
                        .record_between(LatencyPath::StrategyToWire, p.t_call_ns, t_write);
                }
            }
            SendOutcome::NotSent(f) => {
                let Some(p) = self.take_ws(tag) else { return };
                // Certainly not on the wire: REST cannot duplicate it.
                self.note(format!(
                    "{}: WS-API frame not sent ({f}); sending over REST",
                    p.client_id
                ));
                self.route.fell_back += 1;
                self.send_rest(p);
            }
            SendOutcome::Unknown(f) => {
                let Some(p) = self.take_ws(tag) else { return };
                self.note(format!(
                    "{}: WS-API connection broke while writing ({f}); fate unknown",
                    p.client_id
                ));
                self.unknown(p, 0, mono_ns());
            }
        }
    }

    fn take_ws(&mut self, tag: u64) -> Option<Pending> {
        if let Some(ws) = self.route.ws.as_mut() {
            ws.inflight.remove(&tag);
        }
        self.pending.remove(&tag)
    }

    /// One WS-API reply: matched by its numeric id, fed to the same reply
    /// handling as a REST response.
    pub(super) fn on_ws_frame(&mut self, buf: Buf, t_read_ns: u64) {
        let t = self.to_engine(t_read_ns);
        self.ws_reply(buf.as_bytes(), t);
        self.net.bufs.put(buf);
    }

    fn ws_reply(&mut self, frame: &[u8], t: u64) {
        let reply = match std::str::from_utf8(frame) {
            Ok(text) => decode_reply(text).map_err(|e| e.to_string()),
            Err(_) => Err("not UTF-8".to_string()),
        };
        let reply = match reply {
            Ok(r) => r,
            Err(e) => return self.ws_reply_unreadable(frame, &e, t),
        };
        let now = self.ts_ms();
        let mut digits = [0u8; 20];
        let limiter = &mut self.limiter;
        let mut warnings = [None; 3];
        let mut n = 0;
        let walked = reply.for_each_rate_limit(|l| {
            if let Some(name) = header_name(l) {
                let d = crate::binance::query::format_u64(l.count, &mut digits);
                if let Some(w) = limiter.on_header(name, d, now)
                    && let Some(slot) = warnings.get_mut(n)
                {
                    *slot = Some(w);
                    n += 1;
                }
            }
        });
        for w in warnings.into_iter().flatten() {
            self.log_warning(w);
        }
        if let Err(e) = walked {
            self.note(format!("WS-API rateLimits unreadable: {e}"));
        }
        let tag = match &reply.id {
            WsResponseId::Num(n) => *n,
            _ => {
                let e = reply.into_result().err();
                self.note(format!("unsolicited WS-API message: {e:?}"));
                return;
            }
        };
        let Some(p) = self.take_ws(tag) else {
            // Already settled (its reply timed out and a query or the stream
            // decided): the late reply changes nothing.
            self.note(format!(
                "late WS-API reply to request {tag} ignored (already settled)"
            ));
            return;
        };
        let Some(kind) = kind_of(p.job) else {
            return;
        };
        match reply.into_result() {
            Ok(Some(result)) => self.on_order_ok(p, kind, result.as_bytes(), t),
            Ok(None) => {
                self.note(format!("{}: WS-API reply without result", p.client_id));
                self.unknown(p, 0, t);
            }
            Err(e) => self.on_order_error(p, kind, e, None, t),
        }
    }

    /// Order frames written on a live connection and unanswered for
    /// `engine.ws_api_reply_timeout` have an unknown fate: each is settled
    /// by a REST query by client id (never resent blindly), unless the
    /// stream already told us what became of the order. A reply that turns
    /// up later is ignored. Scans at most every quarter of the timeout.
    pub(crate) fn ws_reply_timeouts(&mut self, now: u64) {
        let Some(ws) = self.route.ws.as_mut() else {
            return;
        };
        if now < ws.next_scan_ns {
            return;
        }
        let limit = ws.reply_timeout_ns;
        ws.next_scan_ns = now.saturating_add((limit / 4).clamp(1_000_000, 50_000_000));
        ws.scratch.clear();
        ws.scratch.extend(
            ws.inflight
                .iter()
                .filter(|(_, w)| **w != 0 && now.saturating_sub(**w) >= limit)
                .map(|(t, _)| *t),
        );
        if ws.scratch.is_empty() {
            return;
        }
        let tags = std::mem::take(&mut ws.scratch);
        let ms = limit / 1_000_000;
        for tag in &tags {
            let Some(p) = self.take_ws(*tag) else {
                continue;
            };
            if let Some(ws) = self.route.ws.as_mut() {
                ws.timed_out += 1;
            }
            if !self.waits_for_reply(&p) {
                // The user stream settled it first: nothing to ask.
                self.note(format!(
                    "{}: no WS-API reply within {ms} ms; the stream already settled it",
                    p.client_id
                ));
                continue;
            }
            self.note(format!(
                "{}: no WS-API reply within {ms} ms on a live connection; fate unknown, querying",
                p.client_id
            ));
            self.unknown(p, 0, now);
        }
        if let Some(ws) = self.route.ws.as_mut() {
            ws.scratch = tags;
        }
    }

    /// Whether the order is still in the state its request left it in
    /// (Submitted / PendingCancel / PendingUpdate): only the reply or a
    /// query can then say what happened.
    fn waits_for_reply(&self, p: &Pending) -> bool {
        let Some(o) = self
            .tracker
            .find(&p.client_id)
            .and_then(|h| self.tracker.get(h).ok())
        else {
            return false;
        };
        match p.job {
            Job::Submit => o.state == OrderState::Submitted,
            Job::Cancel => o.state == OrderState::PendingCancel,
            Job::Modify { .. } => o.state == OrderState::PendingUpdate,
            _ => false,
        }
    }

    /// A WS-API frame that is not a readable reply. When its `id` survived
    /// (a cut-off reply) that request is settled by query; otherwise it could
    /// have answered any request in flight, so every written one is. Never
    /// resent: the venue may have executed it.
    fn ws_reply_unreadable(&mut self, frame: &[u8], why: &str, t: u64) {
        let id = crate::engine::bad_input::salvage_ws_id(frame);
        self.bad_input(crate::engine::bad_input::BadKind::WsApiReply, || {
            format!("undecodable WS-API frame (id {id:?}): {why}")
        });
        let tags: Vec<u64> = match (id, self.route.ws.as_ref()) {
            (Some(tag), _) => vec![tag],
            (None, Some(ws)) => ws
                .inflight
                .iter()
                .filter(|(_, w)| **w != 0)
                .map(|(t, _)| *t)
                .collect(),
            (None, None) => Vec::new(),
        };
        for tag in tags {
            if let Some(p) = self.take_ws(tag)
                && kind_of(p.job).is_some()
            {
                self.unknown(p, 0, t);
            }
        }
    }

    /// The WS-API connection came up or went down. Frames written on a
    /// connection that died are unknown: each is resolved by query.
    pub(super) fn on_ws_link(&mut self, up: bool) {
        let Some(ws) = self.route.ws.as_mut() else {
            return;
        };
        if ws.up == up {
            return;
        }
        ws.up = up;
        if up {
            self.note("order entry: WebSocket API up; orders go over it".into());
            return;
        }
        ws.scratch.clear();
        ws.scratch.extend(
            ws.inflight
                .iter()
                .filter(|(_, w)| **w != 0)
                .map(|(t, _)| *t),
        );
        let tags = std::mem::take(&mut ws.scratch);
        self.note(format!(
            "order entry: WebSocket API down; orders go over REST, {} in flight resolved by query",
            tags.len()
        ));
        let now = mono_ns();
        for tag in &tags {
            if let Some(p) = self.take_ws(*tag) {
                self.unknown(p, 0, now);
            }
        }
        if let Some(ws) = self.route.ws.as_mut() {
            ws.scratch = tags;
        }
    }

    /// Refuses a modify of a conditional order that has not triggered
    /// (nothing is sent); true when refused.
    pub(super) fn refuse_algo_modify(&mut self, h: OrderHandle) -> bool {
        let Ok(o) = self.tracker.get(h).copied() else {
            return false;
        };
        if !o.is_conditional() || o.child_venue_order_id.is_some() {
            return false;
        }
        self.note(format!(
            "{}: modify refused locally ({ALGO_NOT_MODIFIABLE}): {ALGO_NOT_MODIFIABLE_MSG}",
            o.client_id
        ));
        let ev = OrderEvent {
            client_id: o.client_id,
            instrument: o.instrument,
            venue_order_id: o.venue_order_id,
            ts_venue_ms: 0,
            ts_local_ns: mono_ns(),
            kind: OrderEventKind::ModifyRejected {
                code: ALGO_NOT_MODIFIABLE,
                reason: ErrorText::truncated(ALGO_NOT_MODIFIABLE_MSG),
            },
        };
        self.send_strategy(ToStrategy::Order(ev, EventStamps::default()));
        true
    }

    /// A submit's fate became unknown: from now on a "does not exist"
    /// answer is only trusted after the settle delay.
    pub(super) fn start_settle(&mut self, client_id: ClientOrderId) {
        let until_ns = mono_ns().saturating_add(self.route.settle_ns);
        match self
            .route
            .settling
            .iter_mut()
            .find(|s| s.client_id == client_id)
        {
            Some(s) => s.until_ns = until_ns,
            None => {
                if self.route.settling.len() >= SETTLE_ROOM {
                    // Oldest first: its delay has run the longest.
                    self.route.settling.remove(0);
                }
                self.route.settling.push(Settle {
                    client_id,
                    until_ns,
                    resubmits: 0,
                });
            }
        }
    }

    /// A query said the order does not exist while its submit's fate was
    /// unknown. Before the settle delay: ask again when it ends. After it:
    /// send the order again with the same client id (bounded). True when
    /// handled here; false lets the "not placed" answer stand.
    pub(super) fn not_found_while_unknown(&mut self, p: Pending, status: u16, body: &[u8]) -> bool {
        if !matches!(p.job, Job::Query) {
            return false;
        }
        let e = VenueError::from_response(status, body);
        if !matches!(e.code, -2013 | -2011 | -2026) {
            return false;
        }
        let Some(o) = self
            .tracker
            .find(&p.client_id)
            .and_then(|h| self.tracker.get(h).ok().copied())
        else {
            return false;
        };
        // Only an order never acknowledged can be one the venue never took.
        if o.state != OrderState::Unknown || o.ts_acked_ns != 0 || o.venue_order_id.is_some() {
            return false;
        }
        let now = mono_ns();
        let max = self.route.max_resubmits;
        let Some(s) = self
            .route
            .settling
            .iter_mut()
            .find(|s| s.client_id == p.client_id)
        else {
            return false;
        };
        if now < s.until_ns {
            let due = s.until_ns;
            self.retries.push((due, p));
            return true;
        }
        if s.resubmits >= max {
            return false;
        }
        s.resubmits += 1;
        let n = s.resubmits;
        self.note(format!(
            "{}: not at the venue after the settle delay; resubmitting with the same id ({n}/{max})",
            p.client_id
        ));
        self.counters.retries += 1;
        self.send_job(Pending {
            job: Job::Submit,
            attempt: n,
            ..p
        });
        true
    }

    /// One line on how orders were routed (for the summary's event log).
    pub(super) fn note_route_summary(&mut self) {
        if self.route.ws.is_some() {
            let (ws, rest) = (self.route.sent_ws, self.route.fell_back);
            let timed_out = self.route.ws.as_ref().map_or(0, |w| w.timed_out);
            self.counters.ws_api_order_requests = ws;
            self.counters.rest_fallbacks = rest;
            self.note(format!(
                "order entry: {ws} order request(s) over the WebSocket API, {rest} over REST (fallback), {timed_out} reply timeout(s)"
            ));
        }
    }
}
