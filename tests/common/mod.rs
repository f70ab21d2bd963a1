//! A deliberately small raw Binance client for the simulator's integration
//! tests: HTTP/1.1 over a std `TcpStream`, its own HMAC signing (hmac + sha2,
//! not the engine's signer), and a tungstenite WebSocket client. Written
//! independently of the engine so the tests check the simulator against the
//! protocol, not against our own client's assumptions.
#![allow(dead_code)]

use hmac::{KeyInit, Mac};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Binance's documentation key pair (the simulator's account 0 by default).
pub const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
/// Secret of [`KEY`].
pub const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

/// Wall clock in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Hex HMAC-SHA256.
pub fn sign(secret: &str, payload: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> sonic_rs::Value {
        sonic_rs::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// The venue error code of an error body.
    pub fn code(&self) -> Option<i64> {
        use sonic_rs::JsonValueTrait;
        self.json().get("code").and_then(|c| c.as_i64())
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Http {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Http {
    pub fn connect(addr: SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.set_nodelay(true).unwrap();
        Http {
            tcp,
            buf: Vec::new(),
        }
    }

    /// Sends a request (`target` = path + optional `?query`).
    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Resp {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.tcp.write_all(req.as_bytes()).unwrap();
        self.read_response()
    }

    pub fn read_response(&mut self) -> Resp {
        let mut chunk = [0u8; 8192];
        for _ in 0..10_000 {
            let mut h = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut h);
            if let Ok(httparse::Status::Complete(n)) = r.parse(&self.buf) {
                let headers: Vec<(String, String)> = r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).to_string(),
                        )
                    })
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                if self.buf.len() >= n + len {
                    let resp = Resp {
                        status: r.code.unwrap(),
                        headers,
                        body: String::from_utf8_lossy(&self.buf[n..n + len]).to_string(),
                    };
                    self.buf.drain(..n + len);
                    return resp;
                }
            }
            let got = self.tcp.read(&mut chunk).expect("read response");
            assert!(got > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..got]);
        }
        panic!("response never completed");
    }

    /// A GET/DELETE/... with the API key header and no signature.
    pub fn keyed(&mut self, method: &str, target: &str) -> Resp {
        self.request(method, target, &[("X-MBX-APIKEY", KEY)], "")
    }

    /// A signed `POST /fapi/v1/order` with these params: the call most
    /// lifecycle tests are made of.
    pub fn new_order(&mut self, params: &str) -> Resp {
        self.signed("POST", "/fapi/v1/order", params)
    }

    /// `POST /fapi/v1/listenKey`: the key a user stream is opened with.
    /// Panics when the reply has none, as every caller needs one to go on.
    pub fn listen_key(&mut self) -> String {
        use sonic_rs::JsonValueTrait;
        self.keyed("POST", "/fapi/v1/listenKey")
            .json()
            .get("listenKey")
            .and_then(|v| v.as_str().map(str::to_string))
            .expect("listenKey")
    }

    /// The socket (tests that race it against a stream).
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Writes a signed POST body request without reading the reply.
    pub fn send_signed(&mut self, method: &str, path: &str, params: &str) {
        let mut p = format!("{params}&timestamp={}", now_ms());
        let sig = sign(SECRET, &p);
        p.push_str("&signature=");
        p.push_str(&sig);
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MBX-APIKEY: {KEY}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{p}",
            p.len()
        );
        self.tcp.write_all(req.as_bytes()).unwrap();
    }

    /// A signed request; params in the query (GET/DELETE) or body (POST/PUT).
    pub fn signed(&mut self, method: &str, path: &str, params: &str) -> Resp {
        let mut p = if params.is_empty() {
            format!("timestamp={}", now_ms())
        } else {
            format!("{params}&timestamp={}", now_ms())
        };
        let sig = sign(SECRET, &p);
        p.push_str("&signature=");
        p.push_str(&sig);
        if method == "GET" || method == "DELETE" {
            self.request(method, &format!("{path}?{p}"), &[("X-MBX-APIKEY", KEY)], "")
        } else {
            self.request(method, path, &[("X-MBX-APIKEY", KEY)], &p)
        }
    }
}

pub type Ws = tungstenite::WebSocket<TcpStream>;

/// Opens a WebSocket to `url` (ws://127.0.0.1:PORT/...).
pub fn ws_connect(addr: SocketAddr, url: &str) -> Result<Ws, tungstenite::Error> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    tungstenite::client(url, tcp)
        .map(|(ws, _)| ws)
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e,
            tungstenite::HandshakeError::Interrupted(_) => tungstenite::Error::ConnectionClosed,
        })
}

/// What reading a WebSocket for a while produced.
#[derive(Debug, PartialEq, Eq)]
pub enum WsRead {
    Text(String),
    Closed,
    Timeout,
}

/// One read: `Ok(None)` when nothing arrived within the socket's read
/// timeout, so callers can poll against their own deadline.
pub fn ws_poll(ws: &mut Ws) -> Result<Option<tungstenite::Message>, tungstenite::Error> {
    match ws.read() {
        Ok(m) => Ok(Some(m)),
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Next text frame before `deadline` (pings are answered by tungstenite).
pub fn ws_next(ws: &mut Ws, deadline: Instant) -> WsRead {
    while Instant::now() < deadline {
        match ws_poll(ws) {
            Ok(Some(tungstenite::Message::Text(t))) => return WsRead::Text(t.to_string()),
            Ok(Some(tungstenite::Message::Close(_))) | Err(_) => return WsRead::Closed,
            Ok(_) => {}
        }
    }
    WsRead::Timeout
}

/// Reads until a text frame satisfies `pred`, or the deadline.
pub fn ws_until(ws: &mut Ws, within: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
    let deadline = Instant::now() + within;
    loop {
        match ws_next(ws, deadline) {
            WsRead::Text(t) if pred(&t) => return Some(t),
            WsRead::Text(_) => {}
            _ => return None,
        }
    }
}

pub fn ws_send(ws: &mut Ws, text: &str) {
    ws.send(tungstenite::Message::Text(text.to_string().into()))
        .unwrap();
}

/// A signed WebSocket-API request: `params` plus `apiKey` and a numeric
/// `timestamp`, signed over the sorted `k=v` pairs as the venue checks it.
/// `id_json` is the id as JSON (`"abc"` quoted, or a bare number).
pub fn ws_api_signed(id_json: &str, method: &str, params: &[(&str, String)]) -> String {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    all.push(("apiKey".into(), KEY.into()));
    all.push(("timestamp".into(), now_ms().to_string()));
    all.sort();
    let payload = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sig = sign(SECRET, &payload);
    let mut obj = String::new();
    for (k, v) in &all {
        if k == "timestamp" {
            obj.push_str(&format!("\"{k}\":{v},"));
        } else {
            obj.push_str(&format!("\"{k}\":\"{v}\","));
        }
    }
    format!(r#"{{"id":{id_json},"method":"{method}","params":{{{obj}"signature":"{sig}"}}}}"#)
}
