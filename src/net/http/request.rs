//! Writing an HTTP/1.1 request by hand into a reused buffer.
//!
//! Why by hand: a venue request is a request line and four headers; formatting them
//! straight into a `Vec<u8>` that keeps its capacity costs no allocation in steady
//! state and a few tens of nanoseconds. Header injection is refused (CR/LF in the target
//! or key), because the target is built from user-controlled symbols and ids.
//!
//! ```
//! use binance_exec::net::http::request::{write_request, Method, Request};
//! let mut buf = Vec::with_capacity(512);
//! let req = Request::post("/fapi/v1/order", b"symbol=BTCUSDT&side=BUY");
//! write_request(&mut buf, "fapi.binance.com", "", Some("key"), &req).unwrap();
//! assert!(buf.starts_with(b"POST /fapi/v1/order HTTP/1.1\r\nHost: fapi.binance.com\r\n"));
//! ```

use std::io::Write;

/// Methods the venue's REST API uses: the request builders' own enum, so a
/// built request goes to the socket without a conversion.
pub use crate::binance::requests::HttpMethod as Method;

/// One request, borrowing its target and body so the caller can build them in its own
/// reused buffers (signed query strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Method.
    pub method: Method,
    /// Path and query, appended to the endpoint's path prefix; must start with `/`.
    pub target: &'a str,
    /// `application/x-www-form-urlencoded` body, if any.
    pub form_body: Option<&'a [u8]>,
}

impl<'a> Request<'a> {
    /// A GET with everything in the query string.
    pub fn get(target: &'a str) -> Self {
        Request {
            method: Method::Get,
            target,
            form_body: None,
        }
    }

    /// A POST with a form body.
    pub fn post(target: &'a str, body: &'a [u8]) -> Self {
        Request {
            method: Method::Post,
            target,
            form_body: Some(body),
        }
    }

    /// A request with any method and optional form body.
    pub fn new(method: Method, target: &'a str, form_body: Option<&'a [u8]>) -> Self {
        Request {
            method,
            target,
            form_body,
        }
    }
}

/// Why a request could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Target does not start with `/` or contains bytes not allowed in a request line.
    #[error("invalid request target {0:?}")]
    Target(String),
    /// API key contains bytes not allowed in a header value.
    #[error("API key contains characters not allowed in a header")]
    ApiKey,
}

fn line_safe(s: &[u8]) -> bool {
    s.iter().all(|&b| b > b' ' && b != 0x7f)
}

/// Write `req` into `out` (cleared first). `prefix` is the endpoint's path prefix.
pub fn write_request(
    out: &mut Vec<u8>,
    host_header: &str,
    prefix: &str,
    api_key: Option<&str>,
    req: &Request<'_>,
) -> Result<(), RequestError> {
    if !req.target.starts_with('/') || !line_safe(req.target.as_bytes()) {
        return Err(RequestError::Target(req.target.to_string()));
    }
    if let Some(k) = api_key
        && !line_safe(k.as_bytes())
    {
        return Err(RequestError::ApiKey);
    }
    out.clear();
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(req.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host_header.as_bytes());
    out.extend_from_slice(b"\r\n");
    if let Some(k) = api_key {
        out.extend_from_slice(b"X-MBX-APIKEY: ");
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match req.form_body {
        Some(body) => {
            out.extend_from_slice(
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ",
            );
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{}", body.len());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(body);
        }
        None if req.method != Method::Get => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
        None => out.extend_from_slice(b"\r\n"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_with_prefix_and_key() {
        let mut b = Vec::new();
        write_request(
            &mut b,
            "127.0.0.1:9",
            "/sim",
            Some("k1"),
            &Request::get("/fapi/v1/time?x=1"),
        )
        .unwrap();
        assert_eq!(
            b,
            b"GET /sim/fapi/v1/time?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-MBX-APIKEY: k1\r\n\r\n"
        );
    }

    #[test]
    fn post_form_and_empty_delete() {
        let mut b = Vec::new();
        write_request(&mut b, "h", "", None, &Request::post("/o", b"a=1")).unwrap();
        assert_eq!(
            b,
            b"POST /o HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1"
        );
        write_request(
            &mut b,
            "h",
            "",
            None,
            &Request::new(Method::Delete, "/o?x=1", None),
        )
        .unwrap();
        assert_eq!(
            b,
            b"DELETE /o?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn refuses_injection() {
        let mut b = Vec::new();
        assert!(write_request(&mut b, "h", "", None, &Request::get("/a\r\nX: y")).is_err());
        assert!(write_request(&mut b, "h", "", None, &Request::get("a")).is_err());
        assert_eq!(
            write_request(&mut b, "h", "", Some("k\n"), &Request::get("/a")),
            Err(RequestError::ApiKey)
        );
    }
}
