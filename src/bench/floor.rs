//! The floor: what the same order requests cost without the engine.
//!
//! Why: on a shared or noisy machine absolute microseconds wander from run to
//! run; the ratio of the engine's round trip to a minimal client's round trip
//! against the same simulator, over the same kind of connection, holds much
//! better. The floor client is deliberately dumb: one blocking keep-alive
//! connection (plain or TLS), one request at a time, and the very bytes the
//! engine sends — the same [`RequestBuilder`] / [`WsRequestBuilder`] output
//! for the same order mix (resting LIMIT, MARKET, both sides), with a fresh
//! timestamp and signature each time. Only the new-order round trip is
//! timed; the cancels that keep the book small are not.

use crate::binance::query::percent_encode;
use crate::binance::requests::{NewOrder, OrderRef, RequestBuilder, RestRequest};
use crate::binance::ws_api::{WsId, WsRequestBuilder, WsResponseId, decode_response};
use crate::engine::client_ids::{ClientIdGenerator, session_prefix};
use crate::latency::{LatencyPath, LatencyRecorder, MAX_NS, MIN_NS, now_ns, wall_ns};
use crate::model::RespType;
use crate::model::{ClientOrderId, Decimal, OrderType, Price, Quantity, Rounding, Side, Symbol};
use crate::net::http::request::{Request, write_request};
use crate::net::tls::{Trust, client_config, server_name};
use crate::net::url::Endpoint;
use hdrhistogram::Histogram;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;
use tungstenite::Message;

/// How long one floor request may take before the floor gives up.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Which order-entry channel the floor speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// `POST /fapi/v1/order` over HTTP/1.1 keep-alive.
    Rest,
    /// `order.place` frames over the WebSocket API.
    WsApi,
}

/// Where and how the floor connects.
#[derive(Clone)]
pub struct FloorSettings {
    /// REST base URL (`http://` or `https://`), also used for the price.
    pub rest_url: String,
    /// WebSocket API URL (`ws://…/ws-fapi/v1` or `wss://…`).
    pub ws_api_url: String,
    /// Market and user-data streams base URL (the loaded floor's streams).
    pub stream_url: String,
    /// Order-entry channel.
    pub entry: Entry,
    /// CA certificate to trust for TLS (the simulator's); `None` = webpki roots.
    pub ca_file: Option<PathBuf>,
    /// API key (sent as a header / `apiKey` parameter).
    pub api_key: String,
    /// API secret (signing only; never printed).
    pub api_secret: String,
    /// `recvWindow`, as the engine sends it.
    pub recv_window_ms: Option<u32>,
    /// Symbol traded.
    pub symbol: Symbol,
    /// Order quantity.
    pub qty: Quantity,
    /// Price tick.
    pub tick: Price,
    /// Round trips recorded.
    pub orders: u64,
    /// Round trips before recording starts.
    pub warmup: u64,
}

impl std::fmt::Debug for FloorSettings {
    /// Redacts the API key and secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FloorSettings")
            .field("rest_url", &self.rest_url)
            .field("ws_api_url", &self.ws_api_url)
            .field("stream_url", &self.stream_url)
            .field("entry", &self.entry)
            .field("ca_file", &self.ca_file)
            .field("api_key", &"***")
            .field("api_secret", &"***")
            .field("symbol", &self.symbol)
            .field("qty", &self.qty)
            .field("orders", &self.orders)
            .field("warmup", &self.warmup)
            .finish_non_exhaustive()
    }
}

/// Why the floor could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    /// A URL could not be parsed.
    #[error("floor: bad URL {url}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Connecting, TLS or socket I/O failed.
    #[error("floor: {step}: {source}")]
    Io {
        /// What was being done.
        step: &'static str,
        /// The OS / TLS error.
        source: io::Error,
    },
    /// The TLS configuration could not be built.
    #[error("floor: TLS: {0}")]
    Tls(#[from] crate::net::tls::TlsError),
    /// The WebSocket handshake or a frame failed.
    #[error("floor: WebSocket: {0}")]
    Ws(String),
    /// The venue answered with an error (code and message kept).
    #[error("floor: {step}: venue answered HTTP {status} code {code}: {msg}")]
    Venue {
        /// The request.
        step: &'static str,
        /// HTTP (or WS API) status.
        status: u16,
        /// Venue error code (0 if none).
        code: i64,
        /// Venue message or body.
        msg: String,
    },
    /// A request could not be built (the order is invalid for the venue).
    #[error("floor: cannot build the request: {0}")]
    Build(String),
    /// The reply could not be read (truncated, not HTTP, no price).
    #[error("floor: unreadable reply to {step}: {reason}")]
    Reply {
        /// The request.
        step: &'static str,
        /// Why.
        reason: String,
    },
}

fn io_err(step: &'static str) -> impl Fn(io::Error) -> FloorError {
    move |source| FloorError::Io { step, source }
}

/// A blocking byte stream: plain TCP or TLS over TCP.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.set_nonblocking(on),
            Conn::Tls(s) => s.sock.set_nonblocking(on),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn connect(ep: &Endpoint, ca: Option<&PathBuf>) -> Result<Conn, FloorError> {
    let addr = (ep.host(), ep.port())
        .to_socket_addrs()
        .map_err(io_err("resolve"))?
        .next()
        .ok_or_else(|| FloorError::Url {
            url: ep.url(),
            reason: "host has no address".into(),
        })?;
    let tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(io_err("connect"))?;
    tcp.set_nodelay(true).map_err(io_err("set TCP_NODELAY"))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| tcp.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(io_err("set timeouts"))?;
    if !ep.is_tls() {
        return Ok(Conn::Plain(tcp));
    }
    let trust = ca.map_or(Trust::WebPkiRoots, |p| Trust::CaFile(p.clone()));
    let cfg = client_config(&trust)?;
    let name = server_name(ep.host())?;
    let conn = rustls::ClientConnection::new(cfg, name).map_err(|e| FloorError::Io {
        step: "TLS client",
        source: io::Error::other(e),
    })?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    // Finish the handshake now, so the first timed request does not pay it.
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(io_err("TLS handshake"))?;
    }
    Ok(Conn::Tls(Box::new(s)))
}

fn parse_endpoint(url: &str) -> Result<Endpoint, FloorError> {
    Endpoint::parse(url).map_err(|e| FloorError::Url {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// One keep-alive HTTP/1.1 connection that sends built requests.
struct RestConn {
    conn: Conn,
    ep: Endpoint,
    host: String,
    api_key: String,
    out: Vec<u8>,
    target: String,
    inbuf: Vec<u8>,
    body: Vec<u8>,
}

impl RestConn {
    fn open(url: &str, ca: Option<&PathBuf>, api_key: &str) -> Result<RestConn, FloorError> {
        let ep = parse_endpoint(url)?;
        let conn = connect(&ep, ca)?;
        Ok(RestConn {
            conn,
            host: ep.host_header(),
            ep,
            api_key: api_key.to_string(),
            out: Vec::with_capacity(1024),
            target: String::with_capacity(512),
            inbuf: Vec::with_capacity(8192),
            body: Vec::with_capacity(4096),
        })
    }

    /// Sends `req` and reads the whole reply; the body is in `self.body`.
    fn call(&mut self, step: &'static str, req: &RestRequest<'_>) -> Result<u16, FloorError> {
        self.target.clear();
        self.target.push_str(req.path);
        if !req.query.is_empty() {
            self.target.push('?');
            self.target.push_str(
                std::str::from_utf8(req.query).map_err(|e| FloorError::Build(e.to_string()))?,
            );
        }
        let body = (!req.body.is_empty()).then_some(req.body);
        let key = req.api_key.map(|_| self.api_key.as_str());
        write_request(
            &mut self.out,
            &self.host,
            self.ep.path(),
            key,
            &Request::new(req.method, &self.target, body),
        )
        .map_err(|e| FloorError::Build(e.to_string()))?;
        self.conn.write_all(&self.out).map_err(io_err(step))?;
        self.conn.flush().map_err(io_err(step))?;
        self.read_reply(step)
    }

    fn read_reply(&mut self, step: &'static str) -> Result<u16, FloorError> {
        self.inbuf.clear();
        let mut chunk = [0u8; 8192];
        loop {
            let n = self.conn.read(&mut chunk).map_err(io_err(step))?;
            if n == 0 {
                return Err(FloorError::Reply {
                    step,
                    reason: "connection closed".into(),
                });
            }
            self.inbuf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            let head_len = match resp.parse(&self.inbuf) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) => continue,
                Err(e) => {
                    return Err(FloorError::Reply {
                        step,
                        reason: e.to_string(),
                    });
                }
            };
            let status = resp.code.unwrap_or(0);
            let len = resp
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| FloorError::Reply {
                    step,
                    reason: "no Content-Length".into(),
                })?;
            if self.inbuf.len() >= head_len + len {
                self.body.clear();
                self.body
                    .extend_from_slice(self.inbuf.get(head_len..head_len + len).unwrap_or(&[]));
                return Ok(status);
            }
        }
    }

    fn check(&self, step: &'static str, status: u16) -> Result<(), FloorError> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.body).into_owned();
        let code = sonic_rs::from_str::<sonic_rs::Value>(&text)
            .ok()
            .and_then(|v| {
                use sonic_rs::JsonValueTrait;
                v.get("code").and_then(|c| c.as_i64())
            })
            .unwrap_or(0);
        Err(FloorError::Venue {
            step,
            status,
            code,
            msg: text,
        })
    }
}

/// One WebSocket API connection.
struct WsConn {
    ws: tungstenite::WebSocket<Conn>,
}

impl WsConn {
    fn open(url: &str, ca: Option<&PathBuf>) -> Result<WsConn, FloorError> {
        let ep = parse_endpoint(url)?;
        let conn = connect(&ep, ca)?;
        // The handshake URL keeps the ws/wss scheme tungstenite expects; the
        // TLS (if any) is already on `conn`.
        let (ws, _) = tungstenite::client::client(url, conn)
            .map_err(|e| FloorError::Ws(format!("handshake: {e}")))?;
        Ok(WsConn { ws })
    }

    /// Sends one request frame and waits for the reply with id `id`.
    fn call(&mut self, step: &'static str, frame: &[u8], id: u64) -> Result<(), FloorError> {
        let text = std::str::from_utf8(frame).map_err(|e| FloorError::Build(e.to_string()))?;
        self.ws
            .send(Message::Text(text.into()))
            .map_err(|e| FloorError::Ws(format!("{step}: send: {e}")))?;
        loop {
            let msg = self
                .ws
                .read()
                .map_err(|e| FloorError::Ws(format!("{step}: read: {e}")))?;
            let Message::Text(t) = msg else { continue };
            let resp = decode_response(t.as_str()).map_err(|e| FloorError::Reply {
                step,
                reason: e.to_string(),
            })?;
            if resp.id != WsResponseId::Num(id) {
                continue;
            }
            let status = resp.status;
            return resp
                .into_result()
                .map(|_| ())
                .map_err(|e| FloorError::Venue {
                    step,
                    status,
                    code: e.code,
                    msg: e.msg,
                });
        }
    }
}

/// The order channel the floor drives.
enum Channel {
    Rest(Box<RestConn>),
    Ws(Box<(WsConn, WsRequestBuilder)>),
}

/// The floor's result: one histogram on [`LatencyPath::Floor`].
#[derive(Debug)]
pub struct FloorRun {
    /// Recorded round trips (warm-up excluded).
    pub recorder: LatencyRecorder,
    /// Requests sent, cancels included.
    pub requests: u64,
}

/// Which floor: the bare request/response client, or the same client also
/// holding the streams the engine holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorKind {
    /// Order requests and responses only.
    Bare,
    /// Also a user-data stream (own listenKey) and the engine's market
    /// subscriptions (`bookTicker`, `aggTrade`), every pushed byte read, and
    /// each order's final ORDER_TRADE_UPDATE awaited before the next order:
    /// the simulator serves this client the same bytes it serves the engine.
    Loaded,
}

impl FloorKind {
    /// Stable name (tables, JSON, file names).
    pub fn as_str(self) -> &'static str {
        match self {
            FloorKind::Bare => "floor",
            FloorKind::Loaded => "floor_loaded",
        }
    }
}

/// What a loaded floor's streams delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamBytes {
    /// User-data frames read.
    pub user_frames: u64,
    /// User-data payload bytes read.
    pub user_bytes: u64,
    /// Market-data frames read.
    pub market_frames: u64,
    /// Market-data payload bytes read.
    pub market_bytes: u64,
}

/// The loaded floor's two stream connections.
struct Streams {
    user: tungstenite::WebSocket<Conn>,
    /// `None` between the loaded floor's blocks (see [`FloorClient::rest_streams`]).
    market: Option<tungstenite::WebSocket<Conn>>,
    market_url: String,
    ca_file: Option<PathBuf>,
    bytes: StreamBytes,
}

impl Streams {
    fn open(
        s: &FloorSettings,
        rest: &mut RestConn,
        rb: &mut RequestBuilder,
    ) -> Result<Streams, FloorError> {
        let status = rest.call("listenKey", &rb.listen_key_create())?;
        rest.check("listenKey", status)?;
        let text = String::from_utf8_lossy(&rest.body).into_owned();
        let key = {
            use sonic_rs::JsonValueTrait;
            sonic_rs::from_str::<sonic_rs::Value>(&text)
                .ok()
                .and_then(|v| {
                    v.get("listenKey")
                        .and_then(|k| k.as_str().map(str::to_string))
                })
                .ok_or_else(|| FloorError::Reply {
                    step: "listenKey",
                    reason: format!("no listenKey in {text}"),
                })?
        };
        let base = s.stream_url.trim_end_matches('/');
        let user = ws_connect(&format!("{base}/ws/{key}"), s.ca_file.as_ref())?;
        let sym = s.symbol.stream_name();
        let market_url = format!("{base}/stream?streams={sym}@bookTicker/{sym}@aggTrade");
        let market = ws_connect(&market_url, s.ca_file.as_ref())?;
        Ok(Streams {
            user,
            market: Some(market),
            market_url,
            ca_file: s.ca_file.clone(),
            bytes: StreamBytes::default(),
        })
    }

    /// Reconnects the market stream if [`Streams::close_market`] closed it.
    fn open_market(&mut self) -> Result<(), FloorError> {
        if self.market.is_none() {
            self.market = Some(ws_connect(&self.market_url, self.ca_file.as_ref())?);
        }
        Ok(())
    }

    /// Closes the market stream (best effort: a failed close only drops it).
    fn close_market(&mut self) {
        if let Some(mut ws) = self.market.take() {
            let _ = ws.close(None);
            let _ = ws.flush();
        }
    }

    /// Reads user frames until the order `id`'s final ORDER_TRADE_UPDATE
    /// (FILLED, CANCELED or EXPIRED), then everything already pushed on
    /// both streams.
    fn follow(&mut self, id: &ClientOrderId) -> Result<(), FloorError> {
        let needle = format!("\"c\":\"{}\"", id.as_str());
        loop {
            let msg = self
                .user
                .read()
                .map_err(|e| FloorError::Ws(format!("user stream: read: {e}")))?;
            let Message::Text(t) = msg else { continue };
            self.bytes.user_frames += 1;
            self.bytes.user_bytes += t.len() as u64;
            let t = t.as_str();
            if t.contains("ORDER_TRADE_UPDATE")
                && t.contains(&needle)
                && [
                    "\"X\":\"FILLED\"",
                    "\"X\":\"CANCELED\"",
                    "\"X\":\"EXPIRED\"",
                ]
                .iter()
                .any(|x| t.contains(x))
            {
                break;
            }
        }
        let (frames, bytes) = drain(&mut self.user, "user stream")?;
        self.bytes.user_frames += frames;
        self.bytes.user_bytes += bytes;
        if let Some(market) = &mut self.market {
            let (frames, bytes) = drain(market, "market stream")?;
            self.bytes.market_frames += frames;
            self.bytes.market_bytes += bytes;
        }
        Ok(())
    }
}

fn ws_connect(url: &str, ca: Option<&PathBuf>) -> Result<tungstenite::WebSocket<Conn>, FloorError> {
    let ep = parse_endpoint(url)?;
    let conn = connect(&ep, ca)?;
    let (ws, _) = tungstenite::client::client(url, conn)
        .map_err(|e| FloorError::Ws(format!("handshake {}: {e}", ep.url())))?;
    Ok(ws)
}

/// Reads every frame already pushed on `ws` without blocking: (frames, bytes).
fn drain(ws: &mut tungstenite::WebSocket<Conn>, step: &str) -> Result<(u64, u64), FloorError> {
    ws.get_ref()
        .set_nonblocking(true)
        .map_err(io_err("set non-blocking"))?;
    let (mut frames, mut bytes) = (0u64, 0u64);
    let result = loop {
        match ws.read() {
            Ok(m) => {
                frames += 1;
                bytes += m.len() as u64;
            }
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                break Ok((frames, bytes));
            }
            Err(e) => break Err(FloorError::Ws(format!("{step}: read: {e}"))),
        }
    };
    ws.get_ref()
        .set_nonblocking(false)
        .map_err(io_err("set blocking"))?;
    result
}

/// A floor client that can run blocks of round trips, so floor and engine
/// blocks can alternate within one run.
pub struct FloorClient {
    kind: FloorKind,
    symbol: Symbol,
    qty: Quantity,
    below: Price,
    above: Price,
    rb: RequestBuilder,
    channel: Channel,
    streams: Option<Streams>,
    ids: ClientIdGenerator,
    seq: u64,
    ws_id: u64,
    requests: u64,
}

impl std::fmt::Debug for FloorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FloorClient")
            .field("kind", &self.kind)
            .field("seq", &self.seq)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

impl FloorClient {
    /// Connects (and for [`FloorKind::Loaded`] opens the streams).
    pub fn open(s: &FloorSettings, kind: FloorKind) -> Result<FloorClient, FloorError> {
        let mut rb = RequestBuilder::new(&s.api_key, s.api_secret.as_bytes(), s.recv_window_ms);
        let mut rest = RestConn::open(&s.rest_url, s.ca_file.as_ref(), &s.api_key)?;
        let (bid, ask) = book_prices(&mut rest, &s.symbol)?;
        let step = s.tick.value();
        let round = |p: Option<Decimal>, r: Rounding| {
            p.and_then(|p| p.round_to_step(step, r).ok())
                .filter(|p| p.is_positive())
                .map(Price)
                .ok_or_else(|| FloorError::Build("no resting price".into()))
        };
        let below = round(
            bid.value()
                .checked_mul(Decimal::from_raw(97_000_000), Rounding::Floor),
            Rounding::Floor,
        )?;
        let above = round(
            ask.value()
                .checked_mul(Decimal::from_raw(103_000_000), Rounding::Ceil),
            Rounding::Ceil,
        )?;
        let streams = match kind {
            FloorKind::Bare => None,
            FloorKind::Loaded => Some(Streams::open(s, &mut rest, &mut rb)?),
        };
        let channel = match s.entry {
            Entry::Rest => Channel::Rest(Box::new(rest)),
            Entry::WsApi => Channel::Ws(Box::new((
                WsConn::open(&s.ws_api_url, s.ca_file.as_ref())?,
                WsRequestBuilder::new(&s.api_key, s.api_secret.as_bytes(), s.recv_window_ms),
            ))),
        };
        // Same id length as the engine's ids ("bx" + base36 seconds + sequence).
        let secs = u64::try_from(wall_ns() / 1_000_000_000).unwrap_or(0);
        let prefix = match kind {
            FloorKind::Bare => "bf",
            FloorKind::Loaded => "bl",
        };
        let ids = ClientIdGenerator::new(&session_prefix(prefix, secs))
            .map_err(|e| FloorError::Build(e.to_string()))?;
        Ok(FloorClient {
            kind,
            symbol: s.symbol,
            qty: s.qty,
            below,
            above,
            rb,
            channel,
            streams,
            ids,
            seq: 0,
            ws_id: 0,
            requests: 0,
        })
    }

    /// Which floor this is.
    pub fn kind(&self) -> FloorKind {
        self.kind
    }

    /// Requests sent so far, cancels included.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// What the streams delivered (zero for the bare floor).
    pub fn stream_bytes(&self) -> StreamBytes {
        self.streams.as_ref().map(|s| s.bytes).unwrap_or_default()
    }

    /// Closes the loaded floor's market stream until the next [`FloorClient::run`].
    ///
    /// Why: while it is open, the simulator fans every market frame the
    /// engine's orders cause out to it as well, on the engine's critical
    /// path and on the cores the engine is measured on; a venue's fan-out
    /// to other clients runs on the venue's machines. Measured at 1,000
    /// orders/s with yield: the open stream cost the engine ~5 µs of
    /// submit→ack p50 and ~10 µs of fill p99.
    pub fn rest_streams(&mut self) {
        if let Some(s) = &mut self.streams {
            s.close_market();
        }
    }

    /// Runs `n` new-order round trips in the flow's mix (resting BUY,
    /// MARKET BUY, resting SELL, MARKET SELL; each resting order cancelled
    /// untimed), recording each round trip in `into` when given.
    pub fn run(&mut self, n: u64, mut into: Option<&mut Histogram<u64>>) -> Result<(), FloorError> {
        if let Some(s) = &mut self.streams {
            s.open_market()?;
        }
        for _ in 0..n {
            let ns = self.one()?;
            if let Some(h) = into.as_deref_mut() {
                let _ = h.record(ns.clamp(MIN_NS, MAX_NS));
            }
        }
        Ok(())
    }

    /// One timed new-order round trip (plus the untimed cancel / stream
    /// catch-up); returns the round trip in ns.
    fn one(&mut self) -> Result<u64, FloorError> {
        let (side, order_type, price) = match self.seq % 4 {
            0 => (Side::Buy, OrderType::Limit, Some(self.below)),
            1 => (Side::Buy, OrderType::Market, None),
            2 => (Side::Sell, OrderType::Limit, Some(self.above)),
            _ => (Side::Sell, OrderType::Market, None),
        };
        self.seq += 1;
        let order = NewOrder {
            symbol: self.symbol,
            side,
            order_type,
            time_in_force: price.map(|_| crate::model::TimeInForce::Gtc),
            quantity: self.qty,
            price,
            reduce_only: None,
            position_side: None,
            client_order_id: self.ids.next_id(),
            resp_type: RespType::Ack,
            good_till_date: None,
            stp: None,
            price_match: None,
        };
        let elapsed;
        match &mut self.channel {
            Channel::Rest(c) => {
                let t0 = now_ns();
                let req = self
                    .rb
                    .new_order(&order, wall_ms())
                    .map_err(|e| FloorError::Build(e.to_string()))?;
                let status = c.call("new order", &req)?;
                elapsed = now_ns().saturating_sub(t0);
                c.check("new order", status)?;
                self.requests += 1;
                if price.is_some() {
                    cancel_rest(c, &mut self.rb, &self.symbol, order.client_order_id)?;
                    self.requests += 1;
                }
            }
            Channel::Ws(ws) => {
                let (c, wb) = &mut **ws;
                self.ws_id += 1;
                let t0 = now_ns();
                let frame = wb
                    .order_place(WsId::Num(self.ws_id), &order, wall_ms())
                    .map_err(|e| FloorError::Build(e.to_string()))?;
                c.call("order.place", frame, self.ws_id)?;
                elapsed = now_ns().saturating_sub(t0);
                self.requests += 1;
                if price.is_some() {
                    self.ws_id += 1;
                    let frame = wb
                        .order_cancel(
                            WsId::Num(self.ws_id),
                            &self.symbol,
                            &OrderRef::ClientId(order.client_order_id),
                            wall_ms(),
                        )
                        .map_err(|e| FloorError::Build(e.to_string()))?;
                    c.call("order.cancel", frame, self.ws_id)?;
                    self.requests += 1;
                }
            }
        }
        if let Some(st) = &mut self.streams {
            st.follow(&order.client_order_id)?;
        }
        Ok(elapsed)
    }
}

/// Measures the bare floor in one block: `warmup + orders` new-order round
/// trips in the flow's mix, the last `orders` recorded.
pub fn measure(s: &FloorSettings) -> Result<FloorRun, FloorError> {
    let mut client = FloorClient::open(s, FloorKind::Bare)?;
    client.run(s.warmup, None)?;
    let mut h = crate::bench::flow::latency_histogram();
    client.run(s.orders, Some(&mut h))?;
    let mut recorder = LatencyRecorder::new();
    for v in h.iter_recorded() {
        for _ in 0..v.count_at_value() {
            recorder.record(LatencyPath::Floor, v.value_iterated_to());
        }
    }
    Ok(FloorRun {
        recorder,
        requests: client.requests(),
    })
}

fn wall_ms() -> i64 {
    wall_ns() / 1_000_000
}

fn cancel_rest(
    c: &mut RestConn,
    rb: &mut RequestBuilder,
    symbol: &Symbol,
    id: ClientOrderId,
) -> Result<(), FloorError> {
    let req = rb.cancel_order(symbol, &OrderRef::ClientId(id), wall_ms());
    let status = c.call("cancel", &req)?;
    c.check("cancel", status)
}

/// Best bid and ask from `GET /fapi/v1/ticker/bookTicker`.
fn book_prices(c: &mut RestConn, symbol: &Symbol) -> Result<(Price, Price), FloorError> {
    let query = format!("symbol={}", percent_encode(symbol.as_str()));
    let req = RestRequest {
        method: crate::binance::requests::HttpMethod::Get,
        path: "/fapi/v1/ticker/bookTicker",
        query: query.as_bytes(),
        body: &[],
        security: crate::binance::requests::Security::None,
        api_key: None,
        weight: 2,
        counts_as_order: false,
    };
    let status = c.call("book ticker", &req)?;
    c.check("book ticker", status)?;
    let text = String::from_utf8_lossy(&c.body).into_owned();
    let v: sonic_rs::Value = sonic_rs::from_str(&text).map_err(|e| FloorError::Reply {
        step: "book ticker",
        reason: e.to_string(),
    })?;
    use sonic_rs::JsonValueTrait;
    let price = |k: &str| {
        v.get(k)
            .and_then(|p| p.as_str())
            .and_then(|p| Price::parse(p).ok())
            .ok_or_else(|| FloorError::Reply {
                step: "book ticker",
                reason: format!("no {k} in {text}"),
            })
    };
    Ok((price("bidPrice")?, price("askPrice")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_percent_encoded() {
        assert_eq!(percent_encode("币A"), "%E5%B8%81A");
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        assert!(matches!(
            parse_endpoint("gopher://x"),
            Err(FloorError::Url { .. })
        ));
    }
}
