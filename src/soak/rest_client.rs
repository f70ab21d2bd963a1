//! A small blocking, signed REST client for the soak's venue-side audit.
//!
//! Why not the engine's network thread: the audit must read the venue's own
//! lists (`allOrders`, `userTrades`, `positionRisk`) after the engine has
//! stopped, independently of everything the engine believes; one request
//! at a time over a fresh connection (`Connection: close`) is all it needs.
//! Plain HTTP for a loopback simulator, TLS through the project's rustls
//! config (ring provider) for the testnet.

use crate::binance::sign::Signer;
use crate::config::Config;
use crate::config::Endpoint;
use crate::net::tls::{Trust, client_config, server_name};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// Longest reply body accepted.
const MAX_BODY: usize = 64 << 20;
/// Connect / read / write timeout of one request.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a venue list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RestAuditError {
    /// Connecting, TLS or reading failed.
    #[error("{what}: {reason}")]
    Io {
        /// The request.
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// The venue answered with an error (its code and message kept).
    #[error("{what}: HTTP {status} code {code}: {msg}")]
    Venue {
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// Venue error code.
        code: i64,
        /// Venue message.
        msg: String,
    },
    /// The reply did not decode.
    #[error("{what}: unreadable reply: {reason}")]
    Decode {
        /// The request.
        what: String,
        /// Decoder message.
        reason: String,
    },
}

/// The signed client. `Debug` never shows the key or the secret.
pub struct SignedRest {
    base: Endpoint,
    tls: Option<Arc<rustls::ClientConfig>>,
    api_key: String,
    signer: Signer,
    recv_window_ms: u64,
    /// server − local wall clock, ms (from `/fapi/v1/time`).
    offset_ms: i64,
}

impl std::fmt::Debug for SignedRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRest")
            .field("base", &self.base.url)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl SignedRest {
    /// A client for the REST base URL and credentials of `config`.
    pub fn from_config(config: &Config) -> Result<Self, RestAuditError> {
        let base = config.base_url_http.clone();
        let tls = if base.tls {
            let trust = match &config.tls_ca_file {
                Some(p) => Trust::CaFile(p.clone()),
                None => Trust::WebPkiRoots,
            };
            Some(client_config(&trust).map_err(|e| RestAuditError::Io {
                what: "tls config".into(),
                reason: e.to_string(),
            })?)
        } else {
            None
        };
        Ok(SignedRest {
            base,
            tls,
            api_key: config.credentials.api_key.expose().to_string(),
            signer: Signer::new(config.credentials.api_secret.expose().as_bytes()),
            recv_window_ms: config.recv_window_ms.clamp(1, 60_000),
            offset_ms: 0,
        })
    }

    /// Measures the venue's clock so signed timestamps are inside the
    /// receive window even when the local clock is off.
    pub fn sync_clock(&mut self) -> Result<(), RestAuditError> {
        let before = crate::latency::clock::wall_ns() / 1_000_000;
        let body = self.request("/fapi/v1/time", "", false)?;
        let after = crate::latency::clock::wall_ns() / 1_000_000;
        let v: sonic_rs::Value =
            sonic_rs::from_slice(&body).map_err(|e| RestAuditError::Decode {
                what: "server time".into(),
                reason: e.to_string(),
            })?;
        use sonic_rs::JsonValueTrait;
        let server = v
            .get("serverTime")
            .and_then(|t| t.as_i64())
            .ok_or_else(|| RestAuditError::Decode {
                what: "server time".into(),
                reason: "no serverTime".into(),
            })?;
        self.offset_ms = server - (before + after) / 2;
        Ok(())
    }

    /// `GET path?params&recvWindow&timestamp&signature`: the reply body.
    pub fn signed_get(&self, path: &str, params: &str) -> Result<Vec<u8>, RestAuditError> {
        let ts = crate::latency::clock::wall_ns() / 1_000_000 + self.offset_ms;
        let mut q = String::from(params);
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&format!(
            "recvWindow={}&timestamp={ts}",
            self.recv_window_ms
        ));
        let sig = self.signer.sign_hex(q.as_bytes());
        q.push_str("&signature=");
        q.push_str(&sig);
        self.request(path, &q, true)
    }

    fn request(&self, path: &str, query: &str, keyed: bool) -> Result<Vec<u8>, RestAuditError> {
        let what = format!("GET {path}");
        let io = |reason: String| RestAuditError::Io {
            what: what.clone(),
            reason,
        };
        let host = &self.base.host;
        let host_port = if host.contains(':') {
            format!("[{host}]:{}", self.base.port)
        } else {
            format!("{host}:{}", self.base.port)
        };
        let mut head = format!("GET {}{path}", self.base.path);
        if !query.is_empty() {
            head.push('?');
            head.push_str(query);
        }
        head.push_str(&format!(
            " HTTP/1.1\r\nHost: {}\r\nUser-Agent: binance-exec-soak\r\nConnection: close\r\n",
            host_port
        ));
        if keyed {
            head.push_str(&format!("X-MBX-APIKEY: {}\r\n", self.api_key));
        }
        head.push_str("\r\n");
        let addr = host_port.clone();
        let addrs: Vec<std::net::SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&addr)
            .map_err(|e| io(format!("resolve {addr}: {e}")))?
            .collect();
        let first = addrs
            .first()
            .ok_or_else(|| io(format!("{addr} resolves to nothing")))?;
        let tcp = TcpStream::connect_timeout(first, IO_TIMEOUT).map_err(|e| io(e.to_string()))?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|_| tcp.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| io(e.to_string()))?;
        let raw = match &self.tls {
            Some(cfg) => {
                let name = server_name(&self.base.host).map_err(|e| io(e.to_string()))?;
                let conn = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(|e| io(e.to_string()))?;
                let mut s = rustls::StreamOwned::new(conn, tcp);
                exchange(&mut s, head.as_bytes()).map_err(io)?
            }
            None => {
                let mut s = tcp;
                exchange(&mut s, head.as_bytes()).map_err(io)?
            }
        };
        let (status, body) = parse_response(&raw).map_err(io)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let e = crate::binance::rest::decode_api_error(status, &body);
        Err(RestAuditError::Venue {
            what,
            status,
            code: e.code,
            msg: e.msg,
        })
    }
}

/// Writes the request and reads until the server closes (bounded).
fn exchange<S: Read + Write>(s: &mut S, req: &[u8]) -> Result<Vec<u8>, String> {
    s.write_all(req).map_err(|e| e.to_string())?;
    s.flush().map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(64 * 1024);
    let mut buf = [0u8; 16 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
                if out.len() > MAX_BODY {
                    return Err(format!("reply larger than {MAX_BODY} bytes"));
                }
            }
            // A TLS peer that closes without close_notify still delivered
            // everything it sent.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(out)
}

/// Status and body of an HTTP/1.1 reply (Content-Length, chunked, or
/// read-to-close).
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(raw.get(..end).unwrap_or(&[])).map_err(|e| e.to_string())?;
    let rest = raw.get(end + 4..).unwrap_or(&[]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut chunked = false;
    let mut length = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse::<usize>().ok();
            }
        }
    }
    if chunked {
        return dechunk(rest).map(|b| (status, b));
    }
    match length {
        Some(n) => rest
            .get(..n)
            .map(|b| (status, b.to_vec()))
            .ok_or_else(|| format!("body cut short ({} of {n} bytes)", rest.len())),
        None => Ok((status, rest.to_vec())),
    }
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for _ in 0..1_000_000 {
        let nl = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk header")?;
        let size_text =
            std::str::from_utf8(b.get(..nl).unwrap_or(&[])).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("bad chunk size: {e}"))?;
        if size == 0 {
            return Ok(out);
        }
        let data = b.get(nl + 2..nl + 2 + size).ok_or("chunk cut short")?;
        out.extend_from_slice(data);
        b = b.get(nl + 2 + size + 2..).ok_or("chunk cut short")?;
    }
    Err("too many chunks".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_with_length_chunked_and_close() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]xx").unwrap();
        assert_eq!(r, (200, b"[]".to_vec()));
        let r = parse_response(
            b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r, (400, b"{\"a\":".to_vec()));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n[]").is_err());
        assert!(parse_response(b"garbage").is_err());
    }
}
