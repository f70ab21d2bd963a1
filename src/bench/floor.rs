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
use crate::latency::{LatencyPath, LatencyRecorder, now_ns, wall_ns};
use crate::model::RespType;
use crate::model::{ClientOrderId, Decimal, OrderType, Price, Quantity, Rounding, Side, Symbol};
use crate::net::http::request::{Request, write_request};
use crate::net::tls::{Trust, client_config, server_name};
use crate::net::url::Endpoint;
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

/// Measures the floor: `warmup + orders` new-order round trips in the flow's
/// mix (resting BUY, MARKET BUY, resting SELL, MARKET SELL), cancelling each
/// resting order untimed.
pub fn measure(s: &FloorSettings) -> Result<FloorRun, FloorError> {
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
    let mut channel = match s.entry {
        Entry::Rest => Channel::Rest(Box::new(rest)),
        Entry::WsApi => Channel::Ws(Box::new((
            WsConn::open(&s.ws_api_url, s.ca_file.as_ref())?,
            WsRequestBuilder::new(&s.api_key, s.api_secret.as_bytes(), s.recv_window_ms),
        ))),
    };
    // Same id length as the engine's ids ("bx" + base36 seconds + sequence).
    let secs = u64::try_from(wall_ns() / 1_000_000_000).unwrap_or(0);
    let mut ids = ClientIdGenerator::new(&session_prefix("bf", secs))
        .map_err(|e| FloorError::Build(e.to_string()))?;
    let mut recorder = LatencyRecorder::new();
    let mut requests = 0u64;
    let total = s.warmup.saturating_add(s.orders);
    let mut ws_id = 0u64;
    for seq in 0..total {
        let (side, order_type, price) = match seq % 4 {
            0 => (Side::Buy, OrderType::Limit, Some(below)),
            1 => (Side::Buy, OrderType::Market, None),
            2 => (Side::Sell, OrderType::Limit, Some(above)),
            _ => (Side::Sell, OrderType::Market, None),
        };
        let order = NewOrder {
            symbol: s.symbol,
            side,
            order_type,
            time_in_force: price.map(|_| crate::model::TimeInForce::Gtc),
            quantity: s.qty,
            price,
            reduce_only: None,
            position_side: None,
            client_order_id: ids.next_id(),
            resp_type: RespType::Ack,
            good_till_date: None,
            stp: None,
            price_match: None,
        };
        let t0 = now_ns();
        match &mut channel {
            Channel::Rest(c) => {
                let req = rb
                    .new_order(&order, wall_ms())
                    .map_err(|e| FloorError::Build(e.to_string()))?;
                let status = c.call("new order", &req)?;
                let t1 = now_ns();
                c.check("new order", status)?;
                record(&mut recorder, seq, s.warmup, t0, t1);
                requests += 1;
                if price.is_some() {
                    cancel_rest(c, &mut rb, &s.symbol, order.client_order_id)?;
                    requests += 1;
                }
            }
            Channel::Ws(ws) => {
                let (c, wb) = &mut **ws;
                ws_id += 1;
                let frame = wb
                    .order_place(WsId::Num(ws_id), &order, wall_ms())
                    .map_err(|e| FloorError::Build(e.to_string()))?;
                c.call("order.place", frame, ws_id)?;
                record(&mut recorder, seq, s.warmup, t0, now_ns());
                requests += 1;
                if price.is_some() {
                    ws_id += 1;
                    let frame = wb
                        .order_cancel(
                            WsId::Num(ws_id),
                            &s.symbol,
                            &OrderRef::ClientId(order.client_order_id),
                            wall_ms(),
                        )
                        .map_err(|e| FloorError::Build(e.to_string()))?;
                    c.call("order.cancel", frame, ws_id)?;
                    requests += 1;
                }
            }
        }
    }
    Ok(FloorRun { recorder, requests })
}

fn record(rec: &mut LatencyRecorder, seq: u64, warmup: u64, t0: u64, t1: u64) {
    if seq >= warmup {
        rec.record_between(LatencyPath::Floor, t0, t1);
    }
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
