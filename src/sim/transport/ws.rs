//! WebSocket connections: the upgrade on the shared port, every stream URL
//! form clients use, live SUBSCRIBE/UNSUBSCRIBE, keep-alive pings, the inbound
//! message cap, forced disconnects, and the WebSocket API (`/ws-fapi/v1`)
//! mapped onto the same pipeline as REST.
//!
//! Each connection runs on its own thread with a tiny `mio` poll over its
//! socket plus a waker, so frames queued by the hub leave immediately and the
//! thread sleeps otherwise.
use super::auth::{self, SignedPayload};
use super::direct::StreamWriter;
use super::faults::{FaultSettings, HTML_502, ReplyFault, WireFrame, corrupt, wrong_shape};
use super::http::{self, HttpRequest};
use super::hub::{FrameMeta, Out, Route, Subscriber, UserBinding, normalise_stream};
use super::server::{Answer, Call, Io, Shared, lock};
use crate::sim::venue::fill_stamps::FillStage;
use crate::sim::venue::{Method, Params, Reply, api::push_json_str};
use mio::{Events, Interest, Poll, Token, Waker};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::{Error as WsError, Message};

const SOCK: Token = Token(0);
const WAKE: Token = Token(1);
/// Shortest server ping period under compressed time (see `run`).
const MIN_PING_EVERY: Duration = Duration::from_secs(1);

/// What a WebSocket URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Market and/or user streams.
    Streams {
        /// URL route prefix.
        route: Route,
        /// `/stream` (wrapped) vs `/ws` (bare).
        combined: bool,
        /// Market stream names.
        streams: Vec<String>,
        /// listenKeys with their optional `events=` filter.
        keys: Vec<(String, Option<Vec<String>>)>,
    },
    /// `/ws-fapi/v1`.
    WsApi {
        /// `?returnRateLimits=false` turns `rateLimits` off by default.
        return_rate_limits: bool,
    },
}

fn looks_like_stream(s: &str) -> bool {
    s.contains('@') || s.starts_with('!')
}

/// Parses a WebSocket request target into what it subscribes to.
pub fn parse_target(path: &str, query: &str) -> Option<Target> {
    let mut q = Params::default();
    http::parse_form(query, &mut q).ok()?;
    if path == "/ws-fapi/v1" {
        let rrl = q
            .get("returnRateLimits")
            .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        return Some(Target::WsApi {
            return_rate_limits: rrl,
        });
    }
    let (route, rest) = if let Some(r) = path.strip_prefix("/public") {
        (Route::Public, r)
    } else if let Some(r) = path.strip_prefix("/market") {
        (Route::Market, r)
    } else if let Some(r) = path.strip_prefix("/private") {
        (Route::Private, r)
    } else {
        (Route::Legacy, path)
    };
    let mut streams = Vec::new();
    let mut keys: Vec<(String, Option<Vec<String>>)> = Vec::new();
    let combined = if rest == "/ws" || rest == "/ws/" {
        false
    } else if let Some(list) = rest.strip_prefix("/ws/") {
        for seg in list.split('/').filter(|s| !s.is_empty()) {
            let seg = http::decode_component(seg).ok()?;
            if looks_like_stream(&seg) {
                streams.push(normalise_stream(&seg));
            } else {
                keys.push((seg, None));
            }
        }
        false
    } else if rest == "/stream" || rest == "/stream/" {
        true
    } else {
        return None;
    };
    for (k, v) in &q.pairs {
        match k.as_str() {
            "streams" => {
                for s in v.split('/').filter(|s| !s.is_empty()) {
                    if looks_like_stream(s) {
                        streams.push(normalise_stream(s));
                    } else {
                        keys.push((s.to_string(), None));
                    }
                }
            }
            "listenKey" => keys.push((v.clone(), None)),
            "events" => {
                let ev: Vec<String> = v
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(last) = keys.last_mut() {
                    last.1 = Some(ev);
                }
            }
            _ => {}
        }
    }
    Some(Target::Streams {
        route,
        combined,
        streams,
        keys,
    })
}

/// Completes the upgrade (or refuses it) and runs the connection to its end.
pub(crate) fn serve_upgrade(
    shared: &Arc<Shared>,
    mut io: Io,
    req: &HttpRequest,
    leftover: Vec<u8>,
    peer: SocketAddr,
    id: u64,
) {
    let refuse = |io: &mut Io, r: Reply| {
        let _ = http::write_json(io, r.status, &[], &r.body, false);
    };
    let Some(target) = parse_target(&req.path, &req.query) else {
        return refuse(&mut io, Reply::error(404, -1000, "Not found."));
    };
    let Some(key) = req.header("sec-websocket-key") else {
        return refuse(
            &mut io,
            Reply::error(400, -1000, "Missing Sec-WebSocket-Key."),
        );
    };
    // Bind listenKeys before accepting: a dead key is refused up front so the
    // client learns it now rather than by silence.
    let mut bindings = Vec::new();
    if let Target::Streams { keys, .. } = &target {
        let lk = lock(&shared.listen_keys);
        let now = Instant::now();
        for (k, events) in keys {
            match lk.account_of(k, now) {
                Some(account) => bindings.push(UserBinding {
                    account,
                    key: k.clone(),
                    events: events.clone(),
                }),
                None => {
                    drop(lk);
                    return refuse(
                        &mut io,
                        Reply::error(400, -1125, "This listenKey does not exist."),
                    );
                }
            }
        }
    }
    if let Target::WsApi { .. } = target {
        // Handshake weight (§1.2): 5.
        let now = shared.now_ms();
        let charged = lock(&shared.limits).charge_weight(peer.ip(), 5, now);
        if let Err(r) = charged {
            let s = r.retry_after_s.to_string();
            let _ = http::write_json(
                &mut io,
                r.reply.status,
                &[("Retry-After", s)],
                &r.reply.body,
                false,
            );
            return;
        }
    }
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    let _ = run(shared, io, leftover, target, bindings, peer, id, &head);
}

/// Per-connection state of the WS API.
#[derive(Debug, Default)]
struct ApiSession {
    api_key: Option<String>,
    authorized_since: i64,
    return_rate_limits: bool,
}

/// A frame waiting for its due time (stream-delay fault).
type Pending = (
    Instant,
    WireFrame,
    Arc<FrameMeta>,
    Option<crossbeam_channel::Sender<()>>,
);

struct Conn {
    ws: WebSocket<ConnIo>,
    pending: VecDeque<Pending>,
}

/// What a connection's WebSocket reads from and writes to.
#[derive(Debug)]
enum ConnIo {
    /// The connection thread alone writes (TLS, WS API).
    Own(Io),
    /// Plain-TCP stream connection: reads from the socket, writes through
    /// the writer it shares with publishers.
    Shared { io: Io, out: Arc<StreamWriter> },
}

impl ConnIo {
    fn tcp(&self) -> &std::net::TcpStream {
        match self {
            ConnIo::Own(io) | ConnIo::Shared { io, .. } => io.tcp(),
        }
    }
}

impl std::io::Read for ConnIo {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            ConnIo::Own(io) | ConnIo::Shared { io, .. } => io.read(buf),
        }
    }
}

impl std::io::Write for ConnIo {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            ConnIo::Own(io) => io.write(buf),
            ConnIo::Shared { out, .. } => out.send(buf).map(|()| buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ConnIo::Own(io) => io.flush(),
            ConnIo::Shared { out, .. } => out.drain(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    shared: &Arc<Shared>,
    io: Io,
    leftover: Vec<u8>,
    target: Target,
    bindings: Vec<UserBinding>,
    peer: SocketAddr,
    id: u64,
    head: &str,
) -> std::io::Result<()> {
    let mut io = io;
    // A duplicate handle of the same socket, only for readiness polling
    // (same open file description, so epoll reports the socket's state).
    let mut watch = mio::net::TcpStream::from_std(io.tcp().try_clone()?);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut watch, SOCK, Interest::READABLE | Interest::WRITABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let (tx, rx) = crossbeam_channel::unbounded::<Out>();
    let (is_api, rrl) = match &target {
        Target::WsApi { return_rate_limits } => (true, *return_rate_limits),
        Target::Streams { .. } => (false, false),
    };
    // Plain-TCP stream connections let publishers write frames themselves
    // (see `direct`); the gate (one phantom queued frame) keeps them queuing
    // until the 101 is out.
    let direct = match (&io, is_api) {
        (Io::Plain(tcp), false) => {
            let w = StreamWriter::new(tcp.try_clone()?);
            w.note_queued();
            Some(Arc::new(w))
        }
        _ => None,
    };
    let sub = match target {
        Target::Streams {
            route,
            combined,
            streams,
            ..
        } => Subscriber {
            tx,
            waker,
            combined,
            route,
            streams,
            users: bindings,
            direct: direct.clone(),
        },
        Target::WsApi { .. } => Subscriber {
            tx,
            waker,
            combined: false,
            route: Route::Legacy,
            streams: Vec::new(),
            users: Vec::new(),
            direct: None,
        },
    };
    // Subscribed before the 101 goes out: a client that acts as soon as the
    // handshake completes must not miss the events its action causes.
    shared.hub.register(id, sub);
    {
        use std::io::Write;
        io.write_all(head.as_bytes())?;
        io.flush()?;
    }
    io.tcp().set_nonblocking(true)?;
    let (io, config) = match &direct {
        Some(out) => {
            // Publishers may write from now on: open the gate.
            out.note_dequeued();
            // No buffering in tungstenite: every frame goes to the shared
            // writer at once, so it keeps its place among published ones.
            let config = tungstenite::protocol::WebSocketConfig::default().write_buffer_size(0);
            (
                ConnIo::Shared {
                    io,
                    out: Arc::clone(out),
                },
                Some(config),
            )
        }
        None => (ConnIo::Own(io), None),
    };
    let mut conn = Conn {
        ws: WebSocket::from_partially_read(io, leftover, Role::Server, config),
        pending: VecDeque::new(),
    };
    let mut session = ApiSession {
        return_rate_limits: rrl,
        ..Default::default()
    };
    let connected_at = Instant::now();
    let connected_ms = shared.now_ms();
    // Compressed time must not make the client's pongs break the inbound
    // message limit (pongs count, as on the venue): 3 min / 2880 would be a
    // ping every 62 ms, 16 pongs/s against a limit of 10, and every stream
    // would be cut within a second. So a ping at most every second (the
    // pongs then use at most 1 of the 10), and at least three of them
    // before a missing pong ends the connection.
    let ping_every = shared.settings.scaled(180_000).max(MIN_PING_EVERY);
    let pong_timeout = shared.settings.scaled(600_000).max(ping_every * 3);
    let lifetime = shared.settings.scaled(86_400_000);
    let max_in = shared.settings.ws_max_inbound_per_sec.max(1);
    let mut last_ping = Instant::now();
    let mut last_pong = Instant::now();
    let mut in_window = (Instant::now(), 0u32);
    let mut events = Events::with_capacity(8);
    // Frames of traced fills written this pass, stamped once flushed.
    let mut traced: Vec<Arc<FrameMeta>> = Vec::new();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Inbound.
        loop {
            match conn.ws.read() {
                Ok(msg) => {
                    let counted = matches!(
                        msg,
                        Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_)
                    );
                    if counted && !is_api {
                        if in_window.0.elapsed() >= Duration::from_secs(1) {
                            in_window = (Instant::now(), 0);
                        }
                        in_window.1 += 1;
                        if in_window.1 > max_in {
                            let _ = conn.ws.close(None);
                            let _ = conn.ws.flush();
                            return Ok(());
                        }
                    }
                    match msg {
                        Message::Text(t) => {
                            let reply = if is_api {
                                handle_api(
                                    shared,
                                    &mut conn,
                                    &mut session,
                                    t.as_str(),
                                    peer,
                                    connected_ms,
                                );
                                None
                            } else {
                                Some(handle_control(shared, id, t.as_str()))
                            };
                            if let Some(r) = reply {
                                let _ = conn.ws.write(Message::Text(r.into()));
                            }
                        }
                        Message::Pong(_) => last_pong = Instant::now(),
                        Message::Close(_) => {
                            let _ = conn.ws.flush();
                            return Ok(());
                        }
                        _ => {}
                    }
                }
                Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return Ok(()),
            }
        }
        // Outbound from the hub.
        let now = Instant::now();
        while let Ok(out) = rx.try_recv() {
            match out {
                Out::Drop => {
                    let _ = conn.ws.get_ref().tcp().shutdown(std::net::Shutdown::Both);
                    return Ok(());
                }
                Out::Frame {
                    text,
                    due,
                    meta,
                    written,
                } => {
                    conn.pending
                        .push_back((due.unwrap_or(now), text, meta, written));
                }
            }
        }
        while conn
            .pending
            .front()
            .is_some_and(|(due, _, _, _)| *due <= now)
        {
            if let Some((_, text, meta, written)) = conn.pending.pop_front() {
                let msg = match text {
                    WireFrame::Text(t) => Message::Text(t.into()),
                    WireFrame::Binary(b) => Message::Binary(b.into()),
                };
                let res = conn.ws.write(msg);
                if let Some(out) = &direct {
                    out.note_dequeued();
                }
                match res {
                    Ok(()) => {}
                    // Buffered by tungstenite; flushed as the socket drains
                    // (large frames, e.g. the oversized-frame fault).
                    Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Ok(()),
                }
                shared.hub.log_sent(id, &meta);
                if meta.trade_id != 0 && meta.fill_stamps.is_some() {
                    traced.push(Arc::clone(&meta));
                }
                if let Some(w) = written {
                    let _ = conn.ws.flush();
                    let _ = w.send(());
                }
            }
        }
        // Keep-alive and lifetime.
        if connected_at.elapsed() >= lifetime {
            let _ = conn.ws.close(None);
            let _ = conn.ws.flush();
            return Ok(());
        }
        if last_ping.elapsed() >= ping_every {
            last_ping = Instant::now();
            let payload = shared.now_ms().to_string();
            let _ = conn.ws.write(Message::Ping(payload.into_bytes().into()));
        }
        match conn.ws.flush() {
            Ok(()) => {}
            Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return Ok(()),
        }
        for m in traced.drain(..) {
            m.stamp(FillStage::Written);
        }
        // A server ping unanswered for the whole pong timeout ends it.
        if last_ping > last_pong && last_ping.elapsed() >= pong_timeout {
            return Ok(());
        }
        let mut timeout = ping_every
            .saturating_sub(last_ping.elapsed())
            .min(Duration::from_millis(500));
        if let Some((due, _, _, _)) = conn.pending.front() {
            timeout = timeout.min(due.saturating_duration_since(Instant::now()));
        }
        if let Err(e) = poll.poll(&mut events, Some(timeout))
            && e.kind() != std::io::ErrorKind::Interrupted
        {
            return Err(e);
        }
    }
}

fn id_text(v: Option<&sonic_rs::Value>) -> String {
    match v {
        Some(v) => sonic_rs::to_string(v).unwrap_or_else(|_| "null".into()),
        None => "null".into(),
    }
}

fn ws_error(code: i64, msg: &str, id: &str) -> String {
    let mut s = format!("{{\"error\":{{\"code\":{code},\"msg\":");
    push_json_str(&mut s, msg);
    s.push_str("},\"id\":");
    s.push_str(id);
    s.push('}');
    s
}

/// SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY.
fn handle_control(shared: &Shared, conn_id: u64, text: &str) -> String {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let v: sonic_rs::Value = match sonic_rs::from_str(text) {
        Ok(v) => v,
        Err(e) => return ws_error(3, &format!("Invalid JSON: {e}"), "null"),
    };
    let id = id_text(v.get("id"));
    let Some(method) = v.get("method").and_then(|m| m.as_str()) else {
        return ws_error(2, "Invalid request: missing field `method`", &id);
    };
    let names: Vec<String> = v
        .get("params")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match method {
        "SUBSCRIBE" => {
            // Resolve listenKeys before touching the hub (lock order:
            // listen_keys before the hub's subscriber table).
            let now = Instant::now();
            let mut binds = Vec::new();
            {
                let lk = lock(&shared.listen_keys);
                for n in names.iter().filter(|n| !looks_like_stream(n)) {
                    match lk.account_of(n, now) {
                        Some(account) => binds.push(UserBinding {
                            account,
                            key: n.clone(),
                            events: None,
                        }),
                        None => {
                            return ws_error(
                                2,
                                &format!("Invalid request: unknown stream or listenKey '{n}'"),
                                &id,
                            );
                        }
                    }
                }
            }
            shared.hub.with(conn_id, |s| {
                for n in names.iter().filter(|n| looks_like_stream(n)) {
                    let n = normalise_stream(n);
                    if !s.streams.contains(&n) {
                        s.streams.push(n);
                    }
                }
                for b in binds {
                    if !s.users.iter().any(|u| u.key == b.key) {
                        s.users.push(b);
                    }
                }
            });
            format!("{{\"result\":null,\"id\":{id}}}")
        }
        "UNSUBSCRIBE" => {
            shared.hub.with(conn_id, |s| {
                let norm: Vec<String> = names.iter().map(|n| normalise_stream(n)).collect();
                s.streams.retain(|x| !norm.contains(x));
                s.users.retain(|u| !names.contains(&u.key));
            });
            format!("{{\"result\":null,\"id\":{id}}}")
        }
        "LIST_SUBSCRIPTIONS" => {
            let list = shared
                .hub
                .with(conn_id, |s| {
                    let mut all = s.streams.clone();
                    all.extend(s.users.iter().map(|u| u.key.clone()));
                    all
                })
                .unwrap_or_default();
            let mut out = String::from("{\"result\":[");
            for (i, n) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_str(&mut out, n);
            }
            out.push_str("],\"id\":");
            out.push_str(&id);
            out.push('}');
            out
        }
        "SET_PROPERTY" => {
            let params = v.get("params").and_then(|p| p.as_array());
            let prop = params.and_then(|a| a.first()).and_then(|x| x.as_str());
            let val = params.and_then(|a| a.get(1)).and_then(|x| x.as_bool());
            match (prop, val) {
                (Some("combined"), Some(b)) => {
                    shared.hub.with(conn_id, |s| s.combined = b);
                    format!("{{\"result\":null,\"id\":{id}}}")
                }
                _ => ws_error(0, "Unknown property", &id),
            }
        }
        "GET_PROPERTY" => match names.first().map(String::as_str) {
            Some("combined") => {
                let c = shared.hub.with(conn_id, |s| s.combined).unwrap_or(false);
                format!("{{\"result\":{c},\"id\":{id}}}")
            }
            _ => ws_error(0, "Unknown property", &id),
        },
        other => ws_error(
            2,
            &format!("Invalid request: unknown variant `{other}`"),
            &id,
        ),
    }
}

/// A WS-API method's REST equivalent.
fn rest_equivalent(method: &str) -> Option<(Method, &'static str)> {
    Some(match method {
        "order.place" => (Method::Post, "/fapi/v1/order"),
        "order.modify" => (Method::Put, "/fapi/v1/order"),
        "order.cancel" => (Method::Delete, "/fapi/v1/order"),
        "order.status" => (Method::Get, "/fapi/v1/order"),
        "algoOrder.place" => (Method::Post, "/fapi/v1/algoOrder"),
        "algoOrder.cancel" => (Method::Delete, "/fapi/v1/algoOrder"),
        "account.position" => (Method::Get, "/fapi/v2/positionRisk"),
        "v2/account.position" => (Method::Get, "/fapi/v3/positionRisk"),
        "account.balance" => (Method::Get, "/fapi/v2/balance"),
        "v2/account.balance" => (Method::Get, "/fapi/v3/balance"),
        "account.status" => (Method::Get, "/fapi/v2/account"),
        "v2/account.status" => (Method::Get, "/fapi/v3/account"),
        "depth" => (Method::Get, "/fapi/v1/depth"),
        "ticker.price" => (Method::Get, "/fapi/v2/ticker/price"),
        "ticker.book" => (Method::Get, "/fapi/v1/ticker/bookTicker"),
        "userDataStream.start" => (Method::Post, "/fapi/v1/listenKey"),
        "userDataStream.ping" => (Method::Put, "/fapi/v1/listenKey"),
        "userDataStream.stop" => (Method::Delete, "/fapi/v1/listenKey"),
        _ => return None,
    })
}

/// JSON param value as the text Binance signs (strings raw, numbers and
/// booleans as written).
fn param_text(v: &sonic_rs::Value) -> String {
    use sonic_rs::JsonValueTrait;
    match v.as_str() {
        Some(s) => s.to_string(),
        None => sonic_rs::to_string(v).unwrap_or_default(),
    }
}

fn rate_limits_json(shared: &Shared, ans_usage: super::limits::Usage, orders: bool) -> String {
    let cfg = lock(&shared.limits).settings().clone();
    let mut s = format!(
        "[{{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":{},\"count\":{}}}",
        cfg.weight_per_minute, ans_usage.weight_1m
    );
    if orders {
        s.push_str(&format!(
            ",{{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":{},\"count\":{}}},{{\"rateLimitType\":\"ORDERS\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":{},\"count\":{}}}",
            cfg.orders_per_10s, ans_usage.orders_10s, cfg.orders_per_minute, ans_usage.orders_1m
        ));
    }
    s.push(']');
    s
}

fn envelope(id: &str, status: u16, body: &str, rate_limits: Option<&str>) -> String {
    let mut s = String::with_capacity(body.len() + 160);
    s.push_str("{\"id\":");
    s.push_str(id);
    s.push_str(",\"status\":");
    s.push_str(&status.to_string());
    s.push_str(if status == 200 {
        ",\"result\":"
    } else {
        ",\"error\":"
    });
    s.push_str(body);
    if let Some(rl) = rate_limits {
        s.push_str(",\"rateLimits\":");
        s.push_str(rl);
    }
    s.push('}');
    s
}

fn handle_api(
    shared: &Shared,
    conn: &mut Conn,
    session: &mut ApiSession,
    text: &str,
    peer: SocketAddr,
    connected_ms: i64,
) {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let send = |conn: &mut Conn, s: String| {
        let _ = conn.ws.write(Message::Text(s.into()));
    };
    let v: sonic_rs::Value = match sonic_rs::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            let body = Reply::error(400, -1000, "Malformed request: not JSON.").body;
            return send(conn, envelope("null", 400, &body, None));
        }
    };
    let id = id_text(v.get("id"));
    let Some(method) = v.get("method").and_then(|m| m.as_str()).map(str::to_string) else {
        let body = Reply::error(
            400,
            -1102,
            "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
        )
        .body;
        return send(conn, envelope(&id, 400, &body, None));
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(obj) = v.get("params").and_then(|p| p.as_object()) {
        for (k, val) in obj.iter() {
            pairs.push((k.to_string(), param_text(val)));
        }
    }
    let want_rl = v
        .get("returnRateLimits")
        .and_then(|b| b.as_bool())
        .unwrap_or(session.return_rate_limits);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let signature = get("signature");
    let api_key = get("apiKey").or_else(|| session.api_key.clone());
    // Sorted, unencoded, signature excluded (§2.2).
    let mut sorted: Vec<&(String, String)> =
        pairs.iter().filter(|(k, _)| k != "signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let payload: String = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let params = Params {
        pairs: pairs
            .iter()
            .filter(|(k, _)| k != "signature" && k != "apiKey")
            .cloned()
            .collect(),
    };
    match method.as_str() {
        "session.logon" | "session.status" | "session.logout" => {
            let now = shared.now_ms();
            let ip = peer.ip();
            let weight = lock(&shared.limits).charge_weight(ip, 2, now);
            if let Err(r) = weight {
                return send(conn, envelope(&id, r.reply.status, &r.reply.body, None));
            }
            if method == "session.logon" {
                let res = auth::authenticate(
                    &shared.keys,
                    auth::Security::UserData,
                    api_key.as_deref(),
                    &params,
                    SignedPayload::WsApi(payload.as_bytes()),
                    signature.as_deref(),
                    now,
                );
                if let Err(r) = res {
                    return send(conn, envelope(&id, r.status, &r.body, None));
                }
                session.api_key = api_key;
                session.authorized_since = now;
            } else if method == "session.logout" {
                session.api_key = None;
                session.authorized_since = 0;
            }
            let mut body = String::from("{\"apiKey\":");
            match &session.api_key {
                Some(k) => push_json_str(&mut body, k),
                None => body.push_str("null"),
            }
            body.push_str(&format!(
                ",\"authorizedSince\":{},\"connectedSince\":{},\"returnRateLimits\":{},\"serverTime\":{}}}",
                if session.authorized_since > 0 { session.authorized_since.to_string() } else { "null".into() },
                connected_ms,
                session.return_rate_limits,
                now
            ));
            let usage = lock(&shared.limits).usage(ip, None, now);
            let rl = want_rl.then(|| rate_limits_json(shared, usage, false));
            send(conn, envelope(&id, 200, &body, rl.as_deref()));
        }
        m => {
            let Some((rest_method, path)) = rest_equivalent(m) else {
                let body = Reply::error(400, -1000, &format!("Unknown method '{m}'.")).body;
                return send(conn, envelope(&id, 400, &body, None));
            };
            // With a logged-on session and no explicit signature, the session
            // key authorises the request (timestamp still checked).
            let presigned =
                signature.is_none() && session.api_key.is_some() && api_key == session.api_key;
            let payload_kind = if presigned {
                SignedPayload::Session
            } else {
                SignedPayload::WsApi(payload.as_bytes())
            };
            let call = Call {
                method: rest_method,
                path,
                params: &params,
                api_key: api_key.as_deref(),
                payload: payload_kind,
                signature: signature.as_deref(),
                ip: peer.ip(),
            };
            // The no-reply faults: the request vanishes (or executes) and the
            // connection stays up, so only a client-side timeout notices.
            let order_write = matches!(
                m,
                "order.place"
                    | "order.cancel"
                    | "order.modify"
                    | "algoOrder.place"
                    | "algoOrder.cancel"
            );
            let swallow = order_write.then(|| {
                let mut f = lock(&shared.faults);
                if FaultSettings::take(&mut f.ws_api_no_reply_not_placed_next) {
                    Some(false)
                } else if FaultSettings::take(&mut f.ws_api_no_reply_placed_next) {
                    Some(true)
                } else {
                    None
                }
            });
            match swallow.flatten() {
                Some(true) => return shared.serve(&call, &mut |_: &Answer| {}),
                Some(false) => return,
                None => {}
            }
            shared.serve(&call, &mut |ans: &Answer| {
                let orders = ans.endpoint.orders_10s + ans.endpoint.orders_1m > 0;
                let rl = want_rl.then(|| rate_limits_json(shared, ans.usage, orders));
                let text = envelope(&id, ans.reply.status, &ans.reply.body, rl.as_deref());
                match ans.bad {
                    None => send(conn, text),
                    Some(ReplyFault::Truncated) => send(conn, corrupt(&text)),
                    Some(ReplyFault::WrongShape) => {
                        let body = wrong_shape(&ans.reply.body);
                        send(conn, envelope(&id, ans.reply.status, &body, rl.as_deref()));
                    }
                    Some(ReplyFault::Html502) => send(conn, HTML_502.to_string()),
                    Some(ReplyFault::BadLength) => {
                        // The answer never comes: the connection just dies.
                        let _ = conn.ws.get_ref().tcp().shutdown(std::net::Shutdown::Both);
                        return;
                    }
                }
                let _ = conn.ws.flush();
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let t = parse_target("/ws/btcusdt@aggTrade/ETHUSDT@bookTicker", "").unwrap();
        assert_eq!(
            t,
            Target::Streams {
                route: Route::Legacy,
                combined: false,
                streams: vec!["btcusdt@aggTrade".into(), "ethusdt@bookTicker".into()],
                keys: vec![]
            }
        );
        let t = parse_target(
            "/private/ws",
            "listenKey=abc&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE",
        )
        .unwrap();
        let Target::Streams { route, keys, .. } = t else {
            panic!()
        };
        assert_eq!(route, Route::Private);
        assert_eq!(
            keys,
            vec![(
                "abc".into(),
                Some(vec!["ORDER_TRADE_UPDATE".into(), "ACCOUNT_UPDATE".into()])
            )]
        );
        let t = parse_target(
            "/market/stream",
            "streams=btcusdt@markPrice/btcusdt@aggTrade",
        )
        .unwrap();
        let Target::Streams {
            combined, streams, ..
        } = t
        else {
            panic!()
        };
        assert!(combined);
        assert_eq!(streams.len(), 2);
        let t = parse_target("/ws/abcKEY", "").unwrap();
        let Target::Streams { keys, .. } = t else {
            panic!()
        };
        assert_eq!(keys[0].0, "abcKEY");
        assert_eq!(
            parse_target("/ws-fapi/v1", "returnRateLimits=false"),
            Some(Target::WsApi {
                return_rate_limits: false
            })
        );
        assert_eq!(parse_target("/nope", ""), None);
    }
}
