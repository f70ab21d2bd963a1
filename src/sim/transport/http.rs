//! HTTP/1.1 request parsing (httparse) and response writing, plus Binance's
//! parameter decoding: query string and form body, percent-decoded as UTF-8,
//! query first so that [`Params::get`] gives the query value precedence.
//!
//! The raw query and body bytes are kept untouched: the signature covers the
//! bytes exactly as sent, not their decoded meaning.
use crate::sim::venue::Params;
use std::io::{Read, Write};

/// Largest request head or body accepted; Binance requests are small and a
/// cap keeps a misbehaving client from exhausting memory.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Socket error or peer closed mid-request.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Not parseable as HTTP/1.1.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Head or body over the size caps.
    #[error("request too large")]
    TooLarge,
}

/// One parsed request.
#[derive(Debug, Default)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the query, e.g. `/fapi/v1/order`.
    pub path: String,
    /// Raw query bytes as sent (no leading `?`).
    pub query: String,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// First header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// True when the client asked for a WebSocket upgrade.
    pub fn is_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
    /// HTTP/1.1 keeps the connection unless the client says `close`.
    pub fn keep_alive(&self) -> bool {
        !self
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
    /// True when the body is a form (the only body Binance reads).
    pub fn body_is_form(&self) -> bool {
        match self.header("content-type") {
            None => !self.body.is_empty(),
            Some(ct) => ct
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded"),
        }
    }
}

/// Reads one request from `stream`, using `buf` as the connection's carry-over
/// buffer (pipelined bytes and, after an upgrade, the first WebSocket bytes stay
/// in it). `Ok(None)` = clean close between requests.
pub fn read_request<S: Read>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Option<HttpRequest>, HttpError> {
    let mut chunk = [0u8; 8192];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let mut req = HttpRequest {
                    method: parsed.method.unwrap_or("GET").to_string(),
                    ..Default::default()
                };
                let target = parsed.path.unwrap_or("/");
                match target.split_once('?') {
                    Some((p, q)) => {
                        req.path = p.to_string();
                        req.query = q.to_string();
                    }
                    None => req.path = target.to_string(),
                }
                let mut content_length = 0usize;
                for h in parsed.headers.iter() {
                    let name = h.name.to_ascii_lowercase();
                    let value = String::from_utf8_lossy(h.value).trim().to_string();
                    if name == "content-length" {
                        content_length = value
                            .parse()
                            .map_err(|_| HttpError::Malformed("bad Content-Length".into()))?;
                    }
                    if name == "transfer-encoding" && !value.eq_ignore_ascii_case("identity") {
                        return Err(HttpError::Malformed("chunked bodies not supported".into()));
                    }
                    req.headers.push((name, value));
                }
                if content_length > MAX_BODY {
                    return Err(HttpError::TooLarge);
                }
                while buf.len() < head_len + content_length {
                    let n = stream.read(&mut chunk)?;
                    if n == 0 {
                        return Err(HttpError::Io(std::io::ErrorKind::UnexpectedEof.into()));
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                req.body = buf[head_len..head_len + content_length].to_vec();
                buf.drain(..head_len + content_length);
                return Ok(Some(req));
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD {
                    return Err(HttpError::TooLarge);
                }
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return if buf.is_empty() {
                        Ok(None)
                    } else {
                        Err(HttpError::Io(std::io::ErrorKind::UnexpectedEof.into()))
                    };
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) => return Err(HttpError::Malformed(e.to_string())),
        }
    }
}

/// Reason phrase for the statuses the simulator sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Writes a complete JSON response in one `write_all` (one TCP segment for
/// small replies, which matters for latency).
pub fn write_json<W: Write>(
    w: &mut W,
    status: u16,
    extra_headers: &[(&str, String)],
    body: &str,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(256 + body.len());
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n",
        status,
        reason(status),
        body.len()
    );
    for (k, v) in extra_headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(if keep_alive {
        b"Connection: keep-alive\r\n\r\n"
    } else {
        b"Connection: close\r\n\r\n"
    });
    out.extend_from_slice(body.as_bytes());
    w.write_all(&out)?;
    w.flush()
}

/// Percent-decodes one form component (`+` = space), as UTF-8, with the
/// shared decoder of [`crate::binance::query`]; the message names the text.
pub fn decode_component(raw: &str) -> Result<String, String> {
    crate::binance::query::form_decode(raw.as_bytes()).map_err(|e| format!("'{raw}': {e}"))
}

/// Appends the pairs of an `a=1&b=2` string to `params`, decoded.
/// `Err` names the undecodable component (the caller answers -1100).
pub fn parse_form(raw: &str, params: &mut Params) -> Result<(), String> {
    for part in raw.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        params
            .pairs
            .push((decode_component(k)?, decode_component(v)?));
    }
    Ok(())
}

/// Query and form body as one parameter list (query first: it wins).
pub fn request_params(req: &HttpRequest) -> Result<Params, String> {
    let mut params = Params::default();
    parse_form(&req.query, &mut params)?;
    if !req.body.is_empty() && req.body_is_form() {
        let body = std::str::from_utf8(&req.body).map_err(|_| "body is not UTF-8".to_string())?;
        parse_form(body, &mut params)?;
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_plus_and_query_precedence() {
        let req = HttpRequest {
            query: "symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT&note=a+b".into(),
            body: b"symbol=ETHUSDT&qty=1".to_vec(),
            ..Default::default()
        };
        let p = request_params(&req).unwrap();
        assert_eq!(p.get("symbol"), Some("币安人生USDT"));
        assert_eq!(p.get("note"), Some("a b"));
        assert_eq!(p.get("qty"), Some("1"));
        assert!(decode_component("%E5%B8").is_err());
        assert!(decode_component("%zz").is_err());
    }

    #[test]
    fn reads_pipelined_requests_with_bodies() {
        let raw = b"POST /a?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nb=2GET /b HTTP/1.1\r\n\r\n";
        let mut cur = std::io::Cursor::new(raw.to_vec());
        let mut buf = Vec::new();
        let r1 = read_request(&mut cur, &mut buf).unwrap().unwrap();
        assert_eq!(
            (r1.method.as_str(), r1.path.as_str(), r1.query.as_str()),
            ("POST", "/a", "x=1")
        );
        assert_eq!(r1.body, b"b=2");
        let r2 = read_request(&mut cur, &mut buf).unwrap().unwrap();
        assert_eq!(r2.path, "/b");
        assert!(read_request(&mut cur, &mut buf).unwrap().is_none());
    }
}
