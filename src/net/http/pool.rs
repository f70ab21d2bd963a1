//! A small pool of keep-alive connections to one REST endpoint.
//!
//! Why a pool: one in-flight request per HTTP/1.1 connection means a cancel must not wait
//! behind an order; a few warm connections (2–4) let independent requests overlap without
//! pipelining's head-of-line blocking. Connections are opened eagerly (a cold TLS
//! handshake costs more than the order), reopened transparently after a close, with a
//! growing back-off only while connecting keeps failing.
//!
//! Driving it from the network thread:
//!
//! ```no_run
//! use std::time::{Duration, Instant};
//! use binance_exec::net::http::{HttpPool, HttpPoolConfig, Outcome, Request};
//! use binance_exec::net::poller::{Poller, PollMode};
//! use binance_exec::net::url::Endpoint;
//! let mut poller = Poller::new(PollMode::Spin, 256).unwrap();
//! let cfg = HttpPoolConfig::new(Endpoint::parse("http://127.0.0.1:8080").unwrap());
//! let mut pool = HttpPool::new(cfg, &mut poller).unwrap();
//! let deadline = Instant::now() + Duration::from_secs(2);
//! let id = pool.submit(&Request::get("/fapi/v1/time"), deadline, poller.registry()).unwrap();
//! loop {
//!     poller.poll().unwrap();
//!     let (events, registry) = poller.events_and_registry();
//!     let mut done = false;
//!     for ev in events.iter() {
//!         if !pool.owns(ev.token()) { continue }
//!         pool.on_event(ev.token(), registry, Instant::now(), |c| {
//!             if let Outcome::Response(r) = c.outcome { println!("{} {:?}", r.status, r.body) }
//!             done |= c.id == id;
//!         });
//!     }
//!     pool.maintain(Instant::now(), registry, |c| done |= c.id == id);
//!     if done { break }
//! }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Registry, Token};
use rustls::ClientConfig;

use super::HttpError;
use super::conn::{ConnEvent, ConnState, Fate, HttpConn, Site};
use super::request::{Request, RequestError};
use super::response::RateLimits;
use crate::net::poller::Poller;
use crate::net::url::{Endpoint, Scheme};

/// Pool settings.
#[derive(Clone)]
pub struct HttpPoolConfig {
    /// Base URL (`http`/`https`, path prefix kept).
    pub endpoint: Endpoint,
    /// TLS config for `https` (see [`crate::net::tls::client_config`]).
    pub tls: Option<Arc<ClientConfig>>,
    /// Sent as `X-MBX-APIKEY` on every request when set.
    pub api_key: Option<String>,
    /// Number of connections (at least 1).
    pub connections: usize,
    /// Largest response body accepted.
    pub max_body: usize,
    /// First reconnect delay after a failed connect; doubles per failure up to 32×.
    pub reconnect_backoff: Duration,
}

impl HttpPoolConfig {
    /// Defaults: 2 connections, 8 MiB bodies, 100 ms back-off, no TLS, no key.
    pub fn new(endpoint: Endpoint) -> Self {
        HttpPoolConfig {
            endpoint,
            tls: None,
            api_key: None,
            connections: 2,
            max_body: 8 << 20,
            reconnect_backoff: Duration::from_millis(100),
        }
    }
}

impl std::fmt::Debug for HttpPoolConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPoolConfig")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls.is_some())
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("connections", &self.connections)
            .field("max_body", &self.max_body)
            .field("reconnect_backoff", &self.reconnect_backoff)
            .finish()
    }
}

/// Identifies a submitted request in its [`Completion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// A complete response; `body` borrows the connection's buffer until the callback returns.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// HTTP status.
    pub status: u16,
    /// Rate-limit headers (§10).
    pub limits: RateLimits,
    /// Body bytes (de-chunked).
    pub body: &'a [u8],
}

/// How a request ended.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// The server answered (any status, including 4xx/5xx).
    Response(Response<'a>),
    /// Nothing was sent: resending cannot create a duplicate.
    NotSent(HttpError),
    /// The request may have reached the venue: resolve by query, do not resubmit.
    Unknown(HttpError),
}

/// The end of one request, handed to the caller's callback.
#[derive(Debug)]
pub struct Completion<'a> {
    /// The id `submit` returned.
    pub id: RequestId,
    /// What happened.
    pub outcome: Outcome<'a>,
}

/// Why `submit` refused a request (nothing was sent in every case).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Every connection has a request in flight.
    #[error("all connections busy")]
    Busy,
    /// The request itself is invalid.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// No connection could be started (resolution or socket failure).
    #[error("cannot connect: {0}")]
    Connect(HttpError),
}

fn outcome(fate: Fate, e: HttpError) -> Outcome<'static> {
    match fate {
        Fate::NotSent => Outcome::NotSent(e),
        Fate::Unknown => Outcome::Unknown(e),
    }
}

/// Keep-alive connections to one endpoint, driven by the network thread.
pub struct HttpPool {
    site: Site,
    conns: Vec<HttpConn>,
    first_token: usize,
    next_id: u64,
    backoff: Duration,
    deferred: Vec<(u64, Fate, HttpError)>,
}

impl std::fmt::Debug for HttpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPool")
            .field("endpoint", &self.site.endpoint)
            .field("connections", &self.conns.len())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl HttpPool {
    /// Allocate tokens and start connecting every connection.
    pub fn new(cfg: HttpPoolConfig, poller: &mut Poller) -> Result<HttpPool, HttpError> {
        match cfg.endpoint.scheme() {
            Scheme::Http | Scheme::Https => {}
            _ => return Err(HttpError::Scheme(cfg.endpoint.url())),
        }
        if cfg.endpoint.is_tls() && cfg.tls.is_none() {
            return Err(HttpError::TlsRequired);
        }
        let n = cfg.connections.max(1);
        let now = Instant::now();
        let mut conns = Vec::with_capacity(n);
        let mut first_token = 0;
        for i in 0..n {
            let t = poller.token();
            if i == 0 {
                first_token = t.0;
            }
            conns.push(HttpConn::new(t, cfg.max_body, now));
        }
        let is_tls = cfg.endpoint.is_tls();
        let site = Site {
            host_header: cfg.endpoint.host_header(),
            endpoint: cfg.endpoint,
            api_key: cfg.api_key,
            resolved: std::cell::Cell::new(None),
            tls: if is_tls { cfg.tls } else { None },
        };
        let mut pool = HttpPool {
            site,
            conns,
            first_token,
            next_id: 1,
            backoff: cfg.reconnect_backoff,
            deferred: Vec::with_capacity(n),
        };
        pool.maintain(now, poller.registry(), |_| {});
        Ok(pool)
    }

    /// Whether `token` belongs to this pool (route events with it).
    pub fn owns(&self, token: Token) -> bool {
        token.0 >= self.first_token && token.0 < self.first_token + self.conns.len()
    }

    /// Requests currently in flight.
    pub fn in_flight(&self) -> usize {
        self.conns.iter().filter(|c| c.request.is_some()).count() + self.deferred.len()
    }

    /// Connections ready to send at once.
    pub fn idle(&self) -> usize {
        self.conns
            .iter()
            .filter(|c| c.state == ConnState::Idle)
            .count()
    }

    /// Earliest request deadline, to bound the poll timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.conns
            .iter()
            .filter_map(|c| c.request.map(|r| r.deadline))
            .min()
    }

    /// Send `req` on an idle connection (or queue it on one that is connecting), writing
    /// to the socket immediately. The end is reported once through `on_event`/`maintain`.
    pub fn submit(
        &mut self,
        req: &Request<'_>,
        deadline: Instant,
        registry: &Registry,
    ) -> Result<RequestId, SubmitError> {
        let id = self.next_id;
        let mut tried = 0usize;
        while tried < self.conns.len() {
            tried += 1;
            let pick = self
                .conns
                .iter()
                .position(|c| c.state == ConnState::Idle)
                .or_else(|| {
                    self.conns
                        .iter()
                        .position(|c| c.state == ConnState::Connecting && c.request.is_none())
                })
                .or_else(|| self.conns.iter().position(|c| c.state == ConnState::Down));
            let Some(i) = pick else {
                return Err(SubmitError::Busy);
            };
            let site = &self.site;
            let conn = &mut self.conns[i];
            if conn.state == ConnState::Down {
                conn.connect(site, registry).map_err(SubmitError::Connect)?;
            }
            match conn.submit(id, req, deadline, site, registry) {
                Ok(()) => {}
                Err(HttpError::Request(e)) => return Err(SubmitError::Request(e)),
                Err(e) => {
                    let _ = conn.close(registry);
                    conn.retry_at = Instant::now();
                    let _ = e;
                    continue;
                }
            }
            match conn.kick(registry) {
                ConnEvent::Failed {
                    fate: Fate::NotSent,
                    ..
                } => {
                    // Dead socket found before any byte left: try another connection.
                    conn.retry_at = Instant::now();
                    continue;
                }
                ConnEvent::Failed { id, fate, error } => self.deferred.push((id, fate, error)),
                _ => {}
            }
            self.next_id += 1;
            return Ok(RequestId(id));
        }
        Err(SubmitError::Busy)
    }

    fn after_down(
        site: &Site,
        conn: &mut HttpConn,
        was: ConnState,
        now: Instant,
        backoff: Duration,
    ) {
        if conn.state == ConnState::Down {
            if was == ConnState::Connecting {
                site.resolved.set(None);
                conn.failures = conn.failures.saturating_add(1);
                let shift = conn.failures.saturating_sub(1).min(5);
                conn.retry_at = now + backoff * (1u32 << shift);
            } else {
                conn.retry_at = now;
            }
        }
    }

    /// Handle a readiness event for one of this pool's tokens.
    pub fn on_event(
        &mut self,
        token: Token,
        registry: &Registry,
        now: Instant,
        mut out: impl FnMut(Completion<'_>),
    ) {
        let Some(conn) = token
            .0
            .checked_sub(self.first_token)
            .and_then(|i| self.conns.get_mut(i))
        else {
            return;
        };
        let was = conn.state;
        match conn.on_ready(true, true, registry) {
            ConnEvent::None => {}
            ConnEvent::Response { id, head, body } => out(Completion {
                id: RequestId(id),
                outcome: Outcome::Response(Response {
                    status: head.status,
                    limits: head.limits,
                    body,
                }),
            }),
            ConnEvent::Failed { id, fate, error } => out(Completion {
                id: RequestId(id),
                outcome: outcome(fate, error),
            }),
        }
        Self::after_down(&self.site, conn, was, now, self.backoff);
    }

    /// Expire deadlines, report deferred failures and reconnect closed connections.
    /// Call once per loop iteration (cheap: a scan of a few connections).
    pub fn maintain(
        &mut self,
        now: Instant,
        registry: &Registry,
        mut out: impl FnMut(Completion<'_>),
    ) {
        for (id, fate, e) in self.deferred.drain(..) {
            out(Completion {
                id: RequestId(id),
                outcome: outcome(fate, e),
            });
        }
        for conn in &mut self.conns {
            if let Some(r) = conn.request
                && now >= r.deadline
            {
                if !r.sent && conn.state == ConnState::Connecting {
                    // Keep the connection coming up; only the request gives up.
                    conn.request = None;
                    out(Completion {
                        id: RequestId(r.id),
                        outcome: Outcome::NotSent(HttpError::Timeout),
                    });
                } else if let Some((id, fate)) = conn.close(registry) {
                    conn.retry_at = now;
                    out(Completion {
                        id: RequestId(id),
                        outcome: outcome(fate, HttpError::Timeout),
                    });
                }
            }
            if conn.state == ConnState::Down
                && now >= conn.retry_at
                && conn.connect(&self.site, registry).is_err()
            {
                self.site.resolved.set(None);
                conn.failures = conn.failures.saturating_add(1);
                let shift = conn.failures.saturating_sub(1).min(5);
                conn.retry_at = now + self.backoff * (1u32 << shift);
            }
        }
    }
}
