//! One logical WebSocket stream (user data, market data or WS API) across its physical
//! connections: connect, reconnect with backoff, liveness pings, make-before-break
//! rotation and rate-limited `SUBSCRIBE`s.
//!
//! Why a wrapper around [`WsClient`]: a `WsClient` is one TCP connection and ends for
//! good when it closes; the execution thread wants a *stream* that is up or down and
//! comes back by itself. At most two connections exist per stream: `active` (the one
//! whose frames are delivered) and, during a rotation, `replacement`. Both deliver
//! frames during the overlap (duplicates are deduplicated upstream).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::Token;
use rustls::ClientConfig;

use super::{NetEvent, NetFailure, NetSettings, StreamKind};
use crate::config::SplitMix64;
use crate::engine::buffers::{BufPool, mono_ns};
use crate::net::poller::Poller;
use crate::net::url::Endpoint;
use crate::net::ws::{WsClient, WsConfig, WsError, WsFrame, WsState};

/// How long a TCP connect + TLS + upgrade may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a stream needs from the thread while it works.
pub(super) struct Io<'a> {
    pub poller: &'a mut Poller,
    pub tls: &'a Option<Arc<ClientConfig>>,
    pub settings: &'a NetSettings,
    pub bufs: &'a BufPool,
    pub jitter: &'a mut SplitMix64,
    pub emit: &'a mut dyn FnMut(NetEvent),
}

struct Conn {
    ws: WsClient,
    started: Instant,
    opened_at: Option<Instant>,
    last_rx: Instant,
    last_ping: Instant,
    /// Market streams (a prefix of `ManagedStream::streams`) in this connection's URL or
    /// already sent in a `SUBSCRIBE`.
    covered: usize,
    next_control: Instant,
}

/// A stream name is put into a URL and a JSON string without escaping, so anything that
/// could break either is refused. Non-ASCII symbols are allowed (percent-encoded in URLs).
pub(super) fn valid_stream_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.chars().all(|c| {
            !c.is_control()
                && !c.is_whitespace()
                && !matches!(c, '"' | '\\' | '/' | '?' | '&' | '#' | '%')
        })
}

/// listenKeys are long alphanumeric tokens; anything else is refused before it reaches a URL.
pub(super) fn valid_listen_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn push_url_encoded(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii() {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0xf)]));
        }
    }
}

/// One logical stream.
pub(super) struct ManagedStream {
    kind: StreamKind,
    /// User / WS-API target.
    fixed: Option<Endpoint>,
    /// Market base (`base_url_ws` + route); the URL is built from `streams` at connect time.
    market_base: Option<Endpoint>,
    streams: Vec<String>,
    active: Option<Conn>,
    replacement: Option<Conn>,
    up: bool,
    down_reported: bool,
    attempt: u32,
    retry_at: Option<Instant>,
    last_attempt: Option<Instant>,
    rotate_retry_at: Option<Instant>,
    next_sub_id: u64,
}

impl ManagedStream {
    pub fn fixed(kind: StreamKind, target: Option<Endpoint>) -> Self {
        Self::with(kind, target, None)
    }

    pub fn market(base: Endpoint) -> Self {
        Self::with(StreamKind::Market, None, Some(base))
    }

    fn with(kind: StreamKind, fixed: Option<Endpoint>, market_base: Option<Endpoint>) -> Self {
        ManagedStream {
            kind,
            fixed,
            market_base,
            streams: Vec::new(),
            active: None,
            replacement: None,
            up: false,
            down_reported: false,
            attempt: 0,
            retry_at: None,
            last_attempt: None,
            rotate_retry_at: None,
            next_sub_id: 1,
        }
    }

    /// Whether `token` is one of this stream's connections.
    pub fn owns(&self, token: Token) -> bool {
        self.active.as_ref().is_some_and(|c| c.ws.token() == token)
            || self
                .replacement
                .as_ref()
                .is_some_and(|c| c.ws.token() == token)
    }

    fn target_url(&self) -> Option<Endpoint> {
        if let Some(f) = &self.fixed {
            return Some(f.clone());
        }
        let base = self.market_base.as_ref()?;
        if self.streams.is_empty() {
            return None;
        }
        let mut q =
            String::with_capacity(16 + self.streams.iter().map(|s| s.len() + 1).sum::<usize>());
        q.push_str("/stream?streams=");
        for (i, s) in self.streams.iter().enumerate() {
            if i > 0 {
                q.push('/');
            }
            push_url_encoded(&mut q, s);
        }
        Some(base.join(&q))
    }

    fn open_conn(&self, io: &mut Io<'_>, now: Instant) -> Result<Conn, WsError> {
        let ep = self.target_url().ok_or(WsError::Closed)?;
        let mut cfg = WsConfig::new(ep);
        cfg.tls = io.tls.clone();
        cfg.max_message = io.settings.max_message;
        let token = io.poller.token();
        let ws = WsClient::connect(cfg, token, io.poller.registry())?;
        Ok(Conn {
            ws,
            started: now,
            opened_at: None,
            last_rx: now,
            last_ping: now,
            covered: self.streams.len(),
            next_control: now,
        })
    }

    fn connect_active(&mut self, io: &mut Io<'_>, now: Instant) {
        self.retry_at = None;
        if self.target_url().is_none() {
            return;
        }
        self.last_attempt = Some(now);
        match self.open_conn(io, now) {
            Ok(c) => self.active = Some(c),
            Err(e) => self.lost(NetFailure::Ws(e), io, now),
        }
    }

    /// Point the stream at `target` (user stream: a listenKey URL). A new target while a
    /// connection exists is reached make-before-break; `None` closes everything.
    pub fn set_target(&mut self, target: Option<Endpoint>, io: &mut Io<'_>, now: Instant) {
        match target {
            None => {
                let had = self.active.is_some() || self.retry_at.is_some();
                self.fixed = None;
                self.close_all(io);
                self.retry_at = None;
                self.attempt = 0;
                if had {
                    (io.emit)(NetEvent::StreamDown(self.kind, NetFailure::Requested));
                }
                self.up = false;
                self.down_reported = false;
            }
            Some(t) => {
                if self.fixed.as_ref() == Some(&t)
                    && (self.active.is_some() || self.retry_at.is_some())
                {
                    return;
                }
                self.fixed = Some(t);
                if self.active.is_some() {
                    self.start_rotation(io, now);
                } else {
                    self.attempt = 0;
                    self.connect_active(io, now);
                }
            }
        }
    }

    /// Add market streams; connects on the first, `SUBSCRIBE`s the rest.
    pub fn add_streams(&mut self, names: Vec<String>, io: &mut Io<'_>, now: Instant) {
        for n in names {
            if !self.streams.contains(&n) {
                self.streams.push(n);
            }
        }
        if self.active.is_none() && self.retry_at.is_none() {
            self.connect_active(io, now);
        } else {
            self.pump_subscribes(io, now);
        }
    }

    /// Connect at start-up (WS API).
    pub fn start(&mut self, io: &mut Io<'_>, now: Instant) {
        if self.active.is_none() {
            self.connect_active(io, now);
        }
    }

    fn start_rotation(&mut self, io: &mut Io<'_>, now: Instant) {
        if let Some(mut old) = self.replacement.take() {
            old.ws.shutdown(io.poller.registry());
        }
        match self.open_conn(io, now) {
            Ok(c) => {
                self.rotate_retry_at = None;
                self.replacement = Some(c);
            }
            Err(_) => {
                let d = self.delay(io, 1);
                self.rotate_retry_at = Some(now + d);
            }
        }
    }

    fn delay(&self, io: &mut Io<'_>, attempt: u32) -> Duration {
        io.settings
            .reconnect
            .delay(attempt.max(1), io.jitter)
            .unwrap_or(io.settings.reconnect.cap)
    }

    /// The active connection failed: promote a replacement, or report and schedule a retry.
    fn lost(&mut self, why: NetFailure, io: &mut Io<'_>, now: Instant) {
        if let Some(mut c) = self.active.take() {
            c.ws.shutdown(io.poller.registry());
        }
        if let Some(r) = self.replacement.take() {
            let open = r.opened_at.is_some();
            self.active = Some(r);
            if open {
                return; // seamless: the replacement already reported StreamUp
            }
        }
        if self.up || !self.down_reported {
            (io.emit)(NetEvent::StreamDown(self.kind, why));
            self.down_reported = true;
        }
        self.up = false;
        if self.active.is_none() {
            self.attempt = self.attempt.saturating_add(1);
            let mut at = now + self.delay(io, self.attempt);
            if let Some(last) = self.last_attempt {
                at = at.max(last + io.settings.min_reconnect_spacing);
            }
            self.retry_at = Some(at);
        }
    }

    fn close_all(&mut self, io: &mut Io<'_>) {
        for c in [self.active.take(), self.replacement.take()]
            .into_iter()
            .flatten()
        {
            let mut c = c;
            let _ = c.ws.close();
            let _ = c.ws.flush();
            c.ws.shutdown(io.poller.registry());
        }
    }

    /// Close without reporting (thread shutdown).
    pub fn shutdown(&mut self, io: &mut Io<'_>) {
        self.close_all(io);
        self.retry_at = None;
        self.up = false;
    }

    /// Readiness on one of this stream's tokens.
    pub fn on_ready(&mut self, token: Token, io: &mut Io<'_>, now: Instant) {
        let is_active = self.active.as_ref().is_some_and(|c| c.ws.token() == token);
        if is_active {
            let Some(conn) = self.active.as_mut() else {
                return;
            };
            match Self::drive(conn, io, now) {
                Ok(newly_open) => {
                    if newly_open {
                        self.up = true;
                        self.down_reported = false;
                        self.attempt = 0;
                        (io.emit)(NetEvent::StreamUp(self.kind));
                    }
                    let r = match self.active.as_mut() {
                        Some(c) => Self::read_all(c, self.kind, io, now),
                        None => Ok(()),
                    };
                    if let Err(e) = r {
                        self.lost(e, io, now);
                    } else {
                        self.pump_subscribes(io, now);
                    }
                }
                Err(e) => self.lost(e, io, now),
            }
            return;
        }
        let Some(conn) = self.replacement.as_mut() else {
            return;
        };
        if conn.ws.token() != token {
            return;
        }
        match Self::drive(conn, io, now) {
            Ok(newly_open) => {
                if newly_open {
                    // Make-before-break: report the new connection, then retire the old.
                    (io.emit)(NetEvent::StreamUp(self.kind));
                    if let Some(mut old) = self.active.take() {
                        let _ = old.ws.close();
                        let _ = old.ws.flush();
                        old.ws.shutdown(io.poller.registry());
                    }
                    self.active = self.replacement.take();
                    self.up = true;
                    self.down_reported = false;
                    self.attempt = 0;
                    let r = match self.active.as_mut() {
                        Some(c) => Self::read_all(c, self.kind, io, now),
                        None => Ok(()),
                    };
                    if let Err(e) = r {
                        self.lost(e, io, now);
                    }
                }
            }
            Err(_) => {
                if let Some(mut r) = self.replacement.take() {
                    r.ws.shutdown(io.poller.registry());
                }
                let d = self.delay(io, 1);
                self.rotate_retry_at = Some(now + d);
            }
        }
    }

    /// Drive connect/TLS/upgrade and flushes; `Ok(true)` when the connection just opened.
    fn drive(conn: &mut Conn, io: &mut Io<'_>, now: Instant) -> Result<bool, NetFailure> {
        let state = conn.ws.progress(io.poller.registry())?;
        match state {
            WsState::Open if conn.opened_at.is_none() => {
                conn.opened_at = Some(now);
                conn.last_rx = now;
                conn.last_ping = now;
                Ok(true)
            }
            WsState::Closed => Err(NetFailure::Ws(WsError::Closed)),
            _ => Ok(false),
        }
    }

    /// Read until the socket would block (mio is edge-triggered), copying each data frame
    /// into a pooled buffer.
    fn read_all(
        conn: &mut Conn,
        kind: StreamKind,
        io: &mut Io<'_>,
        now: Instant,
    ) -> Result<(), NetFailure> {
        if conn.opened_at.is_none() {
            return Ok(());
        }
        loop {
            let frame = match conn.ws.read() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(NetFailure::Ws(e)),
            };
            conn.last_rx = now;
            let bytes: &[u8] = match frame {
                WsFrame::Text(t) => t.as_bytes(),
                WsFrame::Binary(b) => b,
                WsFrame::Ping(_) | WsFrame::Pong(_) | WsFrame::Close(_) => continue,
            };
            let buf = io.bufs.copy_of(bytes);
            let t_read_ns = mono_ns();
            (io.emit)(match kind {
                StreamKind::User => NetEvent::UserFrame { buf, t_read_ns },
                StreamKind::Market => NetEvent::MarketFrame { buf, t_read_ns },
                StreamKind::WsApi => NetEvent::WsApiFrame { buf, t_read_ns },
            });
        }
        conn.ws.update_interest(io.poller.registry())?;
        Ok(())
    }

    /// Send queued `SUBSCRIBE`s, at most one per `control_spacing` per connection.
    fn pump_subscribes(&mut self, io: &mut Io<'_>, now: Instant) {
        if self.kind != StreamKind::Market {
            return;
        }
        let total = self.streams.len();
        let batch = io.settings.subscribe_batch.max(1);
        let mut failed = None;
        for conn in [self.active.as_mut(), self.replacement.as_mut()]
            .into_iter()
            .flatten()
        {
            if conn.opened_at.is_none() || conn.covered >= total || now < conn.next_control {
                continue;
            }
            let end = (conn.covered + batch).min(total);
            let Some(names) = self.streams.get(conn.covered..end) else {
                continue;
            };
            let mut msg =
                String::with_capacity(64 + names.iter().map(|n| n.len() + 3).sum::<usize>());
            msg.push_str("{\"method\":\"SUBSCRIBE\",\"params\":[");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    msg.push(',');
                }
                msg.push('"');
                msg.push_str(n);
                msg.push('"');
            }
            msg.push_str("],\"id\":");
            msg.push_str(&self.next_sub_id.to_string());
            msg.push('}');
            self.next_sub_id += 1;
            match conn.ws.send_text(&msg) {
                Ok(()) => {
                    conn.covered = end;
                    conn.next_control = now + io.settings.control_spacing;
                    let _ = conn.ws.update_interest(io.poller.registry());
                }
                Err(WsError::Backpressure) => {}
                Err(e) => failed = Some((conn.ws.token(), e)),
            }
        }
        if let Some((token, e)) = failed {
            self.fail_token(token, NetFailure::Ws(e), io, now);
        }
    }

    fn fail_token(&mut self, token: Token, why: NetFailure, io: &mut Io<'_>, now: Instant) {
        if self.active.as_ref().is_some_and(|c| c.ws.token() == token) {
            self.lost(why, io, now);
        } else if let Some(mut r) = self.replacement.take() {
            r.ws.shutdown(io.poller.registry());
            let d = self.delay(io, 1);
            self.rotate_retry_at = Some(now + d);
        }
    }

    /// Send a text frame on the active connection (WS API).
    pub fn send_text(
        &mut self,
        text: &str,
        io: &mut Io<'_>,
        now: Instant,
    ) -> Result<(), (bool, NetFailure)> {
        let Some(conn) = self.active.as_mut().filter(|c| c.opened_at.is_some()) else {
            return Err((false, NetFailure::NotConnected(self.kind)));
        };
        match conn.ws.send_text(text) {
            Ok(()) => {
                let _ = conn.ws.update_interest(io.poller.registry());
                Ok(())
            }
            Err(e @ (WsError::Backpressure | WsError::NotOpen)) => Err((false, NetFailure::Ws(e))),
            Err(e) => {
                let msg = e.to_string();
                self.lost(NetFailure::Ws(e), io, now);
                Err((true, NetFailure::ConnectionLost(msg)))
            }
        }
    }

    /// Timers: reconnect, connect timeout, pings, staleness, rotation, subscribes.
    pub fn tick(&mut self, io: &mut Io<'_>, now: Instant) {
        if self.active.is_none() {
            if self.retry_at.is_some_and(|at| now >= at) {
                self.connect_active(io, now);
            }
            return;
        }
        let s = io.settings;
        let mut problem = None;
        if let Some(c) = self.active.as_mut() {
            match c.opened_at {
                None if now.duration_since(c.started) >= CONNECT_TIMEOUT => {
                    problem = Some(NetFailure::Stale(CONNECT_TIMEOUT));
                }
                None => {}
                Some(_) => {
                    if now.duration_since(c.last_rx) >= s.stale_after {
                        problem = Some(NetFailure::Stale(s.stale_after));
                    } else if now.duration_since(c.last_ping) >= s.ping_interval {
                        c.last_ping = now;
                        match c.ws.send_ping(b"") {
                            Ok(()) => {
                                let _ = c.ws.update_interest(io.poller.registry());
                            }
                            Err(WsError::Backpressure) => {}
                            Err(e) => problem = Some(NetFailure::Ws(e)),
                        }
                    }
                }
            }
        }
        if let Some(p) = problem {
            self.lost(p, io, now);
            return;
        }
        if let Some(r) = self.replacement.as_ref()
            && r.opened_at.is_none()
            && now.duration_since(r.started) >= CONNECT_TIMEOUT
        {
            let tok = r.ws.token();
            self.fail_token(tok, NetFailure::Stale(CONNECT_TIMEOUT), io, now);
        }
        let due = self
            .active
            .as_ref()
            .and_then(|c| c.opened_at)
            .is_some_and(|at| now.duration_since(at) >= s.max_connection_age);
        if due && self.replacement.is_none() && self.rotate_retry_at.is_none_or(|at| now >= at) {
            self.start_rotation(io, now);
        }
        self.pump_subscribes(io, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_and_key_validation() {
        for ok in [
            "btcusdt@aggTrade",
            "!markPrice@arr@1s",
            "btcusdt_250926@continuousKline_1m",
            "币安人生usdt@bookTicker",
        ] {
            assert!(valid_stream_name(ok), "{ok}");
        }
        for bad in [
            "", "a b", "a/b", "a\"b", "a?x", "a&b", "a#b", "a%20", "a\nb",
        ] {
            assert!(!valid_stream_name(bad), "{bad:?}");
        }
        assert!(valid_listen_key(
            "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
        ));
        for bad in ["", "a/b", "a?b=1", "k\r\n", "ключ"] {
            assert!(!valid_listen_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn market_url_is_combined_with_route_and_percent_encodes_non_ascii() {
        let base = Endpoint::parse("wss://fstream.binance.com")
            .unwrap()
            .join("/market");
        let mut m = ManagedStream::market(base);
        assert!(m.target_url().is_none(), "no streams, no connection");
        m.streams = vec!["btcusdt@aggTrade".into(), "币usdt@markPrice".into()];
        let url = m.target_url().unwrap();
        assert_eq!(
            url.url(),
            "wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/%E5%B8%81usdt@markPrice"
        );
    }
}
