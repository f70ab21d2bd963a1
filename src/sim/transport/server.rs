//! The server: listener, per-connection threads, the tick thread, the shared
//! request pipeline (faults → weight → auth → orders → venue → publish) used
//! by REST and WS API alike, the loopback control endpoint, and shutdown.
use super::auth::{self, Endpoint, KeyBook, SignedPayload};
use super::faults::{
    FaultPatch, FaultSettings, HTML_502, Injected, ReplyFault, corrupt, unknown_reply, wrong_shape,
};
use super::http::{self, HttpRequest};
use super::hub::{Hub, StreamFaults};
use super::limits::{RateLimiter, Refusal, Usage};
use super::listen_keys::ListenKeys;
use super::tls::{self, TlsMaterial};
use super::{ServerSettings, ws};
use crate::sim::SimSettings;
use crate::sim::venue::{AccountId, Method, Outbox, Params, Reply, Request, Venue};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address is not `host:port`.
    #[error("bad listen address '{0}'")]
    BadListen(String),
    /// Non-loopback listen without `allow_non_loopback`.
    #[error(
        "refusing to listen on non-loopback address {0} (set allow_non_loopback / --allow-remote)"
    )]
    NotLoopback(SocketAddr),
    /// Bind or socket setup failed.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Event log could not be opened.
    #[error("event log {path}: {source}")]
    EventLog {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A thread could not be spawned.
    #[error("spawn: {0}")]
    Spawn(std::io::Error),
}

/// Locks a mutex, recovering from poisoning: a panicking connection handler
/// must not take the venue down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared by every thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub settings: ServerSettings,
    pub venue: Mutex<Venue>,
    pub keys: KeyBook,
    pub limits: Mutex<RateLimiter>,
    pub listen_keys: Mutex<ListenKeys>,
    pub faults: Mutex<FaultSettings>,
    pub hub: Hub,
    pub stop: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    next_id: AtomicU64,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// One request through the common pipeline.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    /// Parameters for the venue (signature removed).
    pub params: &'a Params,
    pub api_key: Option<&'a str>,
    pub payload: SignedPayload<'a>,
    pub signature: Option<&'a str>,
    pub ip: IpAddr,
}

/// The pipeline's result for one request.
#[derive(Debug)]
pub(crate) struct Answer {
    pub reply: Reply,
    pub usage: Usage,
    pub endpoint: Endpoint,
    pub retry_after_s: Option<u64>,
    /// How the transport must mangle this answer (bad-reply faults); the
    /// venue has handled the request either way.
    pub bad: Option<ReplyFault>,
}

impl Shared {
    /// Server time in ms: wall clock plus the clock-skew fault.
    pub fn now_ms(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        wall + lock(&self.faults).clock_skew_ms
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends the venue's frames to subscribers (faults applied).
    pub fn publish(&self, out: &Outbox) {
        self.publish_acked(out, None);
    }

    /// Publishes and waits (bounded) until every queued frame is on its
    /// socket, so an event-first reply really follows its events on the wire.
    pub fn publish_written(&self, out: &Outbox) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let queued = self.publish_acked(out, Some(&tx));
        let deadline = Instant::now() + Duration::from_millis(100);
        for _ in 0..queued {
            if rx.recv_deadline(deadline).is_err() {
                break;
            }
        }
    }

    fn publish_acked(
        &self,
        out: &Outbox,
        written: Option<&crossbeam_channel::Sender<()>>,
    ) -> usize {
        if out.is_empty() {
            return 0;
        }
        let mut faults = lock(&self.faults);
        let mut sf = StreamFaults {
            market_paused: faults.market_paused,
            delay: Duration::from_millis(faults.stream_delay_ms),
            settings: &mut faults,
        };
        let keys = lock(&self.listen_keys);
        let now = Instant::now();
        self.hub.publish(
            out,
            &mut sf,
            &|acct, key| keys.is_live(acct, key, now),
            written,
        )
    }

    /// Expires listenKeys (all of them when `all`), notifying their streams.
    pub fn expire_listen_keys(&self, all: bool) {
        let dead = lock(&self.listen_keys).expire(Instant::now(), all);
        if dead.is_empty() {
            return;
        }
        let now_ms = self.now_ms();
        for (_, key) in dead {
            self.hub.expire_key(&key, now_ms);
        }
    }

    fn usage(&self, ip: IpAddr, account: Option<AccountId>) -> Usage {
        let now = self.now_ms();
        lock(&self.limits).usage(ip, account, now)
    }

    fn refused(&self, r: Refusal, ep: Endpoint, ip: IpAddr, account: Option<AccountId>) -> Answer {
        Answer {
            reply: r.reply,
            usage: self.usage(ip, account),
            endpoint: ep,
            retry_after_s: Some(r.retry_after_s),
            bad: None,
        }
    }

    /// The common pipeline. `deliver` sends the answer to the client; it is
    /// called at the point that realises the configured event/reply order
    /// (venue lock held, so the tick thread cannot slip later frames in
    /// between).
    pub fn serve(&self, call: &Call<'_>, deliver: &mut dyn FnMut(&Answer)) {
        let now = self.now_ms();
        let ep = auth::endpoint(call.method, call.path, call.params);
        let injected = {
            let mut f = lock(&self.faults);
            if FaultSettings::take(&mut f.too_many_next) {
                Injected::TooMany
            } else if FaultSettings::take(&mut f.server_error_next) {
                Injected::ServerError(f.error_status())
            } else if ep.order_write && FaultSettings::take(&mut f.unknown_not_placed_next) {
                Injected::UnknownNotPlaced
            } else if ep.order_write && FaultSettings::take(&mut f.unknown_placed_next) {
                Injected::UnknownPlaced
            } else {
                Injected::None
            }
        };
        let (as_timeout, delay) = {
            let f = lock(&self.faults);
            (
                f.unknown_as_timeout,
                Duration::from_millis(f.response_delay_ms),
            )
        };
        let early = |ans: Answer, deliver: &mut dyn FnMut(&Answer)| {
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            deliver(&ans);
        };
        if injected == Injected::TooMany {
            let r = lock(&self.limits).forced_429(call.ip, now);
            return early(self.refused(r, ep, call.ip, None), deliver);
        }
        // Bind first: a guard in the `if let` scrutinee would live through the
        // body, and `refused` locks the limiter again.
        let charged = lock(&self.limits).charge_weight(call.ip, ep.weight, now);
        if let Err(r) = charged {
            return early(self.refused(r, ep, call.ip, None), deliver);
        }
        if !ep.known {
            // Unknown path: 404 before any auth, as Binance's gateway does.
            let ans = Answer {
                reply: not_found(),
                usage: self.usage(call.ip, None),
                endpoint: ep,
                retry_after_s: None,
                bad: None,
            };
            return early(ans, deliver);
        }
        let account = match auth::authenticate(
            &self.keys,
            ep.security,
            call.api_key,
            call.params,
            call.payload,
            call.signature,
            now,
        ) {
            Ok(a) => a,
            Err(reply) => {
                let ans = Answer {
                    reply,
                    usage: self.usage(call.ip, None),
                    endpoint: ep,
                    retry_after_s: None,
                    bad: None,
                };
                return early(ans, deliver);
            }
        };
        if let Some(acct) = account
            && ep.orders_10s + ep.orders_1m > 0
        {
            let charged =
                lock(&self.limits).charge_orders(call.ip, acct, ep.orders_10s, ep.orders_1m, now);
            if let Err(r) = charged {
                return early(self.refused(r, ep, call.ip, account), deliver);
            }
        }
        let simple = |reply: Reply| Answer {
            reply,
            usage: self.usage(call.ip, account),
            endpoint: ep,
            retry_after_s: None,
            bad: None,
        };
        // Taken only for requests the venue (or the transport) really
        // handles: a mangled answer hides a real outcome.
        let mangled = |reply: Reply| {
            // Own statement: the guard must be gone before `simple` reads
            // the (skewed) clock, which locks the faults again.
            let bad = lock(&self.faults).take_reply_fault(ep.order_write);
            Answer {
                bad,
                ..simple(reply)
            }
        };
        match injected {
            Injected::ServerError(status) => {
                let r = Reply::error(
                    status,
                    -1001,
                    "Internal error; unable to process your request. Please try again.",
                );
                return early(simple(r), deliver);
            }
            Injected::UnknownNotPlaced => return early(simple(unknown_reply(as_timeout)), deliver),
            _ => {}
        }
        if ep.local {
            let reply = self.local(call, account, now);
            return early(mangled(reply), deliver);
        }
        let req = Request {
            method: call.method,
            path: call.path,
            params: call.params,
            account,
        };
        let mut out = Outbox::default();
        let venue = lock(&self.venue);
        let mut venue = venue;
        let mut reply = venue.handle(&req, now, &mut out);
        let ans = if injected == Injected::UnknownPlaced {
            reply = unknown_reply(as_timeout);
            simple(reply)
        } else {
            mangled(reply)
        };
        if !delay.is_zero() {
            // The slow-backend fault: events flow now, the reply comes late.
            self.publish(&out);
            drop(venue);
            std::thread::sleep(delay);
            deliver(&ans);
        } else if self.settings.event_first {
            self.publish_written(&out);
            deliver(&ans);
        } else {
            deliver(&ans);
            self.publish(&out);
        }
    }

    /// Endpoints the transport answers itself.
    fn local(&self, call: &Call<'_>, account: Option<AccountId>, now_ms: i64) -> Reply {
        match (call.method, call.path) {
            (Method::Get, "/fapi/v1/ping") => Reply::ok("{}".into()),
            (Method::Get, "/fapi/v1/time") => Reply::ok(format!("{{\"serverTime\":{now_ms}}}")),
            (m, "/fapi/v1/listenKey") => {
                let Some(acct) = account else {
                    return Reply::error(401, -2014, "API-key format invalid.");
                };
                let now = Instant::now();
                match m {
                    Method::Post => {
                        let k = lock(&self.listen_keys).start(acct, now);
                        Reply::ok(format!("{{\"listenKey\":\"{k}\"}}"))
                    }
                    Method::Put => match lock(&self.listen_keys).keepalive(acct, now) {
                        Some(k) => Reply::ok(format!("{{\"listenKey\":\"{k}\"}}")),
                        None => Reply::error(400, -1125, "This listenKey does not exist."),
                    },
                    Method::Delete => {
                        let closed = lock(&self.listen_keys).close(acct);
                        if let Some(k) = closed {
                            self.hub.unbind_key(&k);
                        }
                        Reply::ok("{}".into())
                    }
                    Method::Get => not_found(),
                }
            }
            _ => not_found(),
        }
    }

    fn track(&self, id: u64, tcp: &TcpStream) {
        if let Ok(c) = tcp.try_clone() {
            lock(&self.conns).insert(id, c);
        }
    }

    fn untrack(&self, id: u64) {
        lock(&self.conns).remove(&id);
    }
}

fn not_found() -> Reply {
    Reply::error(404, -1000, "Not found.")
}

/// A client connection's byte stream: plain TCP or TLS over TCP.
#[derive(Debug)]
pub enum Io {
    /// `http://` / `ws://`.
    Plain(TcpStream),
    /// `https://` / `wss://`.
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Io {
    /// The underlying socket (for timeouts, non-blocking mode, polling).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(s) => s,
            Io::Tls(s) => &s.sock,
        }
    }
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Io {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.write(buf),
            Io::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.flush(),
            Io::Tls(s) => s.flush(),
        }
    }
}

/// Starts simulators in-process.
#[derive(Debug)]
pub struct SimServer;

/// A running simulator. Dropping it shuts it down (threads joined, sockets
/// closed), so a test can never leak one.
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: Option<TlsMaterial>,
    accept: Option<JoinHandle<()>>,
    tick: Option<JoinHandle<()>>,
    tick_stop: Option<crossbeam_channel::Sender<()>>,
}

impl SimServer {
    /// Binds, builds the venue and starts the accept and tick threads.
    pub fn start(settings: &SimSettings) -> Result<SimHandle, SimError> {
        let ss = settings.server.clone();
        let listen = ss
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:0".to_string());
        let want: SocketAddr = listen
            .parse()
            .map_err(|_| SimError::BadListen(listen.clone()))?;
        if !want.ip().is_loopback() && !ss.allow_non_loopback {
            return Err(SimError::NotLoopback(want));
        }
        let listener = TcpListener::bind(want).map_err(|source| SimError::Bind {
            addr: listen.clone(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: listen.clone(),
            source,
        })?;
        let tls = if ss.tls {
            let dir = ss.tls_dir.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!(
                    "binance-exec-sim-{}-{}",
                    std::process::id(),
                    addr.port()
                ))
            });
            Some(tls::generate(&dir)?)
        } else {
            None
        };
        let log = match &ss.event_log {
            Some(p) => Some(
                std::fs::File::create(p).map_err(|source| SimError::EventLog {
                    path: p.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let start_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let shared = Arc::new(Shared {
            venue: Mutex::new({
                let mut v = Venue::new(&settings.venue, start_ms);
                v.advertise_limits(
                    ss.limits.weight_per_minute,
                    ss.limits.orders_per_minute,
                    ss.limits.orders_per_10s,
                );
                v
            }),
            keys: KeyBook::from_venue(&settings.venue),
            limits: Mutex::new(RateLimiter::new(ss.limits.clone())),
            listen_keys: Mutex::new(ListenKeys::new(ss.scaled(3_600_000), ss.seed)),
            faults: Mutex::new(ss.faults.clone()),
            hub: Hub::new(ss.strict_routes, log),
            stop: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            tls: tls.as_ref().map(|t| t.config.clone()),
            settings: ss,
        });
        let sh = shared.clone();
        let accept = std::thread::Builder::new()
            .name("sim-accept".into())
            .spawn(move || accept_loop(sh, listener))
            .map_err(SimError::Spawn)?;
        let (tick_stop, tick_rx) = crossbeam_channel::bounded::<()>(1);
        let sh = shared.clone();
        let tick = std::thread::Builder::new()
            .name("sim-tick".into())
            .spawn(move || tick_loop(sh, tick_rx))
            .map_err(SimError::Spawn)?;
        Ok(SimHandle {
            shared,
            addr,
            tls,
            accept: Some(accept),
            tick: Some(tick),
            tick_stop: Some(tick_stop),
        })
    }
}

impl SimHandle {
    fn scheme(&self, plain: &str, secure: &str) -> String {
        let host = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            self.addr.ip().to_string()
        };
        format!(
            "{}://{}:{}",
            if self.tls.is_some() { secure } else { plain },
            host,
            self.addr.port()
        )
    }
    /// Bound address (the ephemeral port tests connect to).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    /// REST base URL (`http[s]://127.0.0.1:PORT`), what `fapi.binance.com` is.
    pub fn rest_url(&self) -> String {
        self.scheme("http", "https")
    }
    /// Stream base URL (`ws[s]://127.0.0.1:PORT`); append `/ws/..`,
    /// `/stream?streams=..` or a `/public` `/market` `/private` route.
    pub fn stream_url(&self) -> String {
        self.scheme("ws", "wss")
    }
    /// WebSocket API URL (`.../ws-fapi/v1`).
    pub fn ws_api_url(&self) -> String {
        format!("{}/ws-fapi/v1", self.stream_url())
    }
    /// Control endpoint base (`.../sim`): faults, price, pause, inject, ledger.
    pub fn control_url(&self) -> String {
        format!("{}/sim", self.rest_url())
    }
    /// CA certificate to trust when TLS is on.
    pub fn ca_pem_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_pem_path.as_path())
    }
    /// Live WebSocket connections (streams and WS API).
    pub fn ws_connections(&self) -> usize {
        self.shared.hub.len()
    }
    /// Applies a fault patch directly (same as `POST /sim/faults`).
    pub fn set_faults(&self, patch: &FaultPatch) {
        apply_patch(&self.shared, patch);
    }
    /// Runs `f` with the venue locked (tests, benchmarks, control hooks).
    pub fn with_venue<R>(&self, f: impl FnOnce(&mut Venue) -> R) -> R {
        f(&mut lock(&self.shared.venue))
    }
    /// Like [`SimHandle::with_venue`], with the venue's clock and an outbox
    /// whose frames are sent on the streams afterwards: control hooks that
    /// make the venue push events (`Venue::set_positions`).
    pub fn with_venue_events<R>(&self, f: impl FnOnce(&mut Venue, i64, &mut Outbox) -> R) -> R {
        let now = self.shared.now_ms();
        let mut out = Outbox::default();
        let mut venue = lock(&self.shared.venue);
        let r = f(&mut venue, now, &mut out);
        self.shared.publish(&out);
        drop(venue);
        r
    }
    /// Stops accepting, closes every socket and joins every thread.
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(tx) = self.tick_stop.take() {
            let _ = tx.send(());
        }
        // Wake the blocking accept.
        let wake = if self.addr.ip().is_unspecified() {
            SocketAddr::new([127, 0, 0, 1].into(), self.addr.port())
        } else {
            self.addr
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        if let Some(h) = self.tick.take() {
            let _ = h.join();
        }
        // Close every connection; blocked reads return, WS polls see HUP.
        for c in lock(&self.shared.conns).values() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        self.shared.hub.drop_all();
        let threads: Vec<_> = std::mem::take(&mut *lock(&self.shared.threads));
        for t in threads {
            let _ = t.join();
        }
        self.shared.hub.flush_log();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (tcp, peer) = match listener.accept() {
            Ok(x) => x,
            Err(_) => {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let id = shared.next_conn_id();
        shared.track(id, &tcp);
        let sh = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("sim-conn-{id}"))
            .spawn(move || {
                if sh.settings.short_slice {
                    crate::engine::wait::request_short_slice();
                }
                let sh2 = sh.clone();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    serve_connection(&sh2, tcp, peer, id)
                }));
                sh.untrack(id);
                sh.hub.unregister(id);
            });
        let mut threads = lock(&shared.threads);
        threads.retain(|t| !t.is_finished());
        match spawned {
            Ok(h) => threads.push(h),
            Err(_) => shared.untrack(id),
        }
    }
}

fn tick_loop(shared: Arc<Shared>, stop: crossbeam_channel::Receiver<()>) {
    if shared.settings.short_slice {
        crate::engine::wait::request_short_slice();
    }
    let period = Duration::from_millis(shared.settings.tick_ms.max(1));
    loop {
        match stop.recv_timeout(period) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let now = shared.now_ms();
            let mut out = Outbox::default();
            let mut venue = lock(&shared.venue);
            venue.tick(now, &mut out);
            shared.publish(&out);
            drop(venue);
            shared.expire_listen_keys(false);
        }));
    }
}

fn serve_connection(shared: &Arc<Shared>, tcp: TcpStream, peer: SocketAddr, id: u64) {
    let _ = tcp.set_nodelay(true);
    let mut io = match &shared.tls {
        Some(cfg) => match rustls::ServerConnection::new(cfg.clone()) {
            Ok(mut conn) => {
                conn.set_buffer_limit(None);
                Io::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
            }
            Err(_) => return,
        },
        None => Io::Plain(tcp),
    };
    let mut buf = Vec::with_capacity(8192);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let req = match http::read_request(&mut io, &mut buf) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(http::HttpError::Io(_)) => return,
            Err(e) => {
                let body = Reply::error(400, -1000, &e.to_string()).body;
                let _ = http::write_json(&mut io, 400, &[], &body, false);
                return;
            }
        };
        if req.is_upgrade() {
            ws::serve_upgrade(shared, io, &req, std::mem::take(&mut buf), peer, id);
            return;
        }
        let keep = req.keep_alive();
        if handle_http(shared, &mut io, &req, peer, keep).is_err() || !keep {
            return;
        }
    }
}

fn parse_method(m: &str) -> Option<Method> {
    match m {
        "GET" => Some(Method::Get),
        "POST" => Some(Method::Post),
        "PUT" => Some(Method::Put),
        "DELETE" => Some(Method::Delete),
        _ => None,
    }
}

fn handle_http(
    shared: &Arc<Shared>,
    io: &mut Io,
    req: &HttpRequest,
    peer: SocketAddr,
    keep: bool,
) -> std::io::Result<()> {
    if req.path == "/sim" || req.path.starts_with("/sim/") {
        let (status, body) = control(shared, req, peer);
        return http::write_json(io, status, &[], &body, keep);
    }
    let Some(method) = parse_method(&req.method) else {
        let r = Reply::error(405, -1000, "Method not allowed.");
        return http::write_json(io, r.status, &[], &r.body, keep);
    };
    let (query, qsig) = auth::strip_signature(&req.query);
    let body_text = String::from_utf8_lossy(&req.body);
    let (body, bsig) = if req.body_is_form() {
        auth::strip_signature(&body_text)
    } else {
        (body_text.to_string(), None)
    };
    let signature = qsig.or(bsig);
    let mut params = match http::request_params(req) {
        Ok(p) => p,
        Err(_) => {
            let r = Reply::error(400, -1100, "Illegal characters found in a parameter.");
            return http::write_json(io, r.status, &[], &r.body, keep);
        }
    };
    params.pairs.retain(|(k, _)| k != "signature");
    let call = Call {
        method,
        path: &req.path,
        params: &params,
        api_key: req.header("x-mbx-apikey"),
        payload: SignedPayload::Rest {
            query: query.as_bytes(),
            body: body.as_bytes(),
        },
        signature: signature.as_deref(),
        ip: peer.ip(),
    };
    let mut result = Ok(());
    shared.serve(&call, &mut |ans: &Answer| {
        let mut headers: Vec<(&str, String)> = Vec::with_capacity(4);
        headers.push(("X-MBX-USED-WEIGHT-1M", ans.usage.weight_1m.to_string()));
        if ans.endpoint.orders_10s + ans.endpoint.orders_1m > 0 {
            headers.push(("X-MBX-ORDER-COUNT-10S", ans.usage.orders_10s.to_string()));
            headers.push(("X-MBX-ORDER-COUNT-1M", ans.usage.orders_1m.to_string()));
        }
        if let Some(s) = ans.retry_after_s {
            headers.push(("Retry-After", s.to_string()));
        }
        result = match ans.bad {
            None => http::write_json(io, ans.reply.status, &headers, &ans.reply.body, keep),
            Some(bad) => write_bad_reply(io, bad, ans, &headers, keep),
        };
    });
    result
}

/// Writes an answer as a bad-reply fault mangles it. `Err` ends the
/// connection (the broken-length fault always does).
fn write_bad_reply(
    io: &mut Io,
    bad: ReplyFault,
    ans: &Answer,
    headers: &[(&str, String)],
    keep: bool,
) -> std::io::Result<()> {
    let status = ans.reply.status;
    match bad {
        ReplyFault::Truncated => {
            http::write_json(io, status, headers, &corrupt(&ans.reply.body), keep)
        }
        ReplyFault::WrongShape => {
            http::write_json(io, status, headers, &wrong_shape(&ans.reply.body), keep)
        }
        ReplyFault::Html502 => {
            let head = format!(
                "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
                HTML_502.len(),
                if keep { "keep-alive" } else { "close" }
            );
            io.write_all(head.as_bytes())?;
            io.write_all(HTML_502.as_bytes())?;
            io.flush()
        }
        ReplyFault::BadLength => {
            let body = &ans.reply.body;
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n",
                http::reason(status),
                body.len() + 100
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            io.write_all(head.as_bytes())?;
            io.write_all(body.as_bytes())?;
            io.flush()?;
            let _ = io.tcp().shutdown(std::net::Shutdown::Both);
            Err(std::io::ErrorKind::ConnectionAborted.into())
        }
    }
}

fn apply_patch(shared: &Shared, patch: &FaultPatch) {
    lock(&shared.faults).apply(patch);
    if patch.expire_listen_keys {
        shared.expire_listen_keys(true);
    }
    if patch.drop_ws {
        shared.hub.drop_all();
    }
}

/// The control endpoint (`/sim/...`), loopback peers only.
fn control(shared: &Shared, req: &HttpRequest, peer: SocketAddr) -> (u16, String) {
    if !peer.ip().is_loopback() {
        return (
            403,
            r#"{"code":-1,"msg":"control endpoint is loopback-only"}"#.into(),
        );
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/sim/faults") => (200, faults_json(&lock(&shared.faults))),
        ("POST", "/sim/faults") => {
            let text = String::from_utf8_lossy(&req.body);
            let text = if text.trim().is_empty() {
                "{}".into()
            } else {
                text
            };
            match sonic_rs::from_str::<FaultPatch>(&text) {
                Ok(p) => {
                    apply_patch(shared, &p);
                    (200, faults_json(&lock(&shared.faults)))
                }
                Err(e) => (400, error_json(&format!("bad fault patch: {e}"))),
            }
        }
        ("GET", "/sim/status") => (
            200,
            format!(
                "{{\"wsConnections\":{},\"serverTime\":{}}}",
                shared.hub.len(),
                shared.now_ms()
            ),
        ),
        _ => venue_control(shared, req),
    }
}

/// `POST /sim/price` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceBody {
    symbol: String,
    #[serde(default)]
    last: Option<crate::model::decimal::Decimal>,
    #[serde(default)]
    mark: Option<crate::model::decimal::Decimal>,
}

/// `POST /sim/pause` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    paused: bool,
}

/// `POST /sim/inject` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectBody {
    /// `liquidation` or `adl`.
    kind: String,
    #[serde(default)]
    account: usize,
    symbol: String,
    #[serde(default, rename = "positionSide")]
    position_side: Option<String>,
    #[serde(default)]
    qty: Option<crate::model::decimal::Decimal>,
    #[serde(default)]
    price: Option<crate::model::decimal::Decimal>,
    /// ADL fill style: `calculated` (default) or `trade`.
    #[serde(default)]
    style: Option<String>,
}

/// Venue control hooks (price, pause, inject, ledger): the venue does the
/// work, the transport publishes the frames it caused.
fn venue_control(shared: &Shared, req: &HttpRequest) -> (u16, String) {
    use crate::model::enums::PositionSide;
    use crate::sim::venue::AdlStyle;
    let body = String::from_utf8_lossy(&req.body);
    let body = if body.trim().is_empty() {
        "{}".into()
    } else {
        body
    };
    let now = shared.now_ms();
    let mut out = Outbox::default();
    let result = match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/sim/ledger") => return (200, lock(&shared.venue).ledger().to_json()),
        ("POST", "/sim/pause") => match sonic_rs::from_str::<PauseBody>(&body) {
            Ok(p) => {
                lock(&shared.venue).set_paused(p.paused);
                Ok(format!("{{\"paused\":{}}}", p.paused))
            }
            Err(e) => return (400, error_json(&format!("bad body: {e}"))),
        },
        ("POST", "/sim/price") => match sonic_rs::from_str::<PriceBody>(&body) {
            Ok(p) => {
                let mut venue = lock(&shared.venue);
                let r = venue.set_price(&p.symbol, p.last, p.mark, now, &mut out);
                shared.publish(&out);
                drop(venue);
                r.map(|()| "{}".to_string()).map_err(|e| e.to_string())
            }
            Err(e) => return (400, error_json(&format!("bad body: {e}"))),
        },
        ("POST", "/sim/inject") => match sonic_rs::from_str::<InjectBody>(&body) {
            Ok(p) => {
                let ps = match p.position_side.as_deref() {
                    None => PositionSide::Both,
                    Some(t) => PositionSide::from_wire(t),
                };
                let mut venue = lock(&shared.venue);
                let r = match p.kind.as_str() {
                    "liquidation" => venue.inject_liquidation(
                        p.account, &p.symbol, ps, p.qty, p.price, now, &mut out,
                    ),
                    "adl" => {
                        let style = match p.style.as_deref() {
                            Some("trade") => AdlStyle::Trade,
                            _ => AdlStyle::Calculated,
                        };
                        venue.inject_adl(
                            p.account, &p.symbol, ps, p.qty, p.price, style, now, &mut out,
                        )
                    }
                    other => {
                        return (
                            400,
                            error_json(&format!("unknown kind '{other}' (liquidation|adl)")),
                        );
                    }
                };
                shared.publish(&out);
                drop(venue);
                r.map(|id| format!("{{\"orderId\":{id}}}"))
                    .map_err(|e| e.to_string())
            }
            Err(e) => return (400, error_json(&format!("bad body: {e}"))),
        },
        _ => {
            return (
                404,
                error_json(&format!(
                    "unknown control endpoint {} {}",
                    req.method, req.path
                )),
            );
        }
    };
    match result {
        Ok(body) => (200, body),
        Err(msg) => (400, error_json(&msg)),
    }
}

fn faults_json(f: &FaultSettings) -> String {
    sonic_rs::to_string(f).unwrap_or_else(|_| "{}".into())
}

fn error_json(msg: &str) -> String {
    let mut s = String::from("{\"code\":-1,\"msg\":");
    crate::sim::venue::api::push_json_str(&mut s, msg);
    s.push('}');
    s
}
