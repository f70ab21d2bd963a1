//! Base URLs of venue endpoints: `http(s)://host[:port][/prefix]` and `ws(s)://...`.
//!
//! Why not a general URL crate: the engine only ever needs scheme, host, port and a
//! path prefix, parsed once from config, and it needs IPv6 literals and the
//! `Host:` header form right. Name resolution is deferred to connect time
//! ([`Endpoint::resolve`]) so that a reconnect picks up DNS changes.
//!
//! ```
//! use binance_exec::net::url::{Endpoint, Scheme};
//! let e = Endpoint::parse("https://fapi.binance.com").unwrap();
//! assert_eq!((e.scheme(), e.port(), e.path()), (Scheme::Https, 443, ""));
//! let w = Endpoint::parse("ws://[::1]:9443/private/ws").unwrap();
//! assert_eq!((w.host(), w.host_header().as_str(), w.path()), ("::1", "[::1]:9443", "/private/ws"));
//! ```

use std::net::{SocketAddr, ToSocketAddrs};

/// Why a base URL was refused; carries the offending input so config errors are actionable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Only the four schemes the venue speaks are accepted.
    #[error("unsupported scheme in {0:?} (expected http, https, ws or wss)")]
    Scheme(String),
    /// Empty host, unbalanced IPv6 brackets, or characters not allowed in a host.
    #[error("invalid host in {0:?}")]
    Host(String),
    /// Port not a number in 1..=65535.
    #[error("invalid port in {0:?}")]
    Port(String),
    /// User info and fragments have no meaning for the venue and hint at a typo.
    #[error("unsupported URL component (userinfo or fragment) in {0:?}")]
    Component(String),
}

/// The four schemes the venue uses; the `s` variants run over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (local simulator).
    Http,
    /// HTTP over TLS (venue REST).
    Https,
    /// Plain WebSocket (local simulator).
    Ws,
    /// WebSocket over TLS (venue streams, WS API).
    Wss,
}

impl Scheme {
    /// Whether the transport must be wrapped in TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Https | Scheme::Wss)
    }

    /// Port used when the URL names none.
    pub fn default_port(self) -> u16 {
        if self.is_tls() { 443 } else { 80 }
    }

    /// Lower-case wire spelling, used to rebuild URLs for the WebSocket handshake.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

/// A parsed base URL: where to connect, what to put in `Host:`, and the path prefix
/// every request target is appended to (e.g. a simulator mounted under `/venue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    host: String,
    port: u16,
    explicit_port: bool,
    path: String,
}

impl Endpoint {
    /// Parse a base URL. A trailing `/` on the path is dropped so that
    /// `prefix + "/fapi/v1/order"` never produces `//`; query strings are kept in the path
    /// (a WebSocket URL may carry `?streams=...`).
    pub fn parse(input: &str) -> Result<Endpoint, UrlError> {
        let err_input = || input.to_string();
        let (scheme_str, rest) = input
            .split_once("://")
            .ok_or_else(|| UrlError::Scheme(err_input()))?;
        let scheme = match scheme_str.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            _ => return Err(UrlError::Scheme(err_input())),
        };
        if rest.contains('#') {
            return Err(UrlError::Component(err_input()));
        }
        let split_at = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split_at);
        if authority.contains('@') {
            return Err(UrlError::Component(err_input()));
        }
        let (host, port_str) = if let Some(after) = authority.strip_prefix('[') {
            let (h, tail) = after
                .split_once(']')
                .ok_or_else(|| UrlError::Host(err_input()))?;
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(UrlError::Host(err_input()));
            }
            let port = match tail {
                "" => None,
                t => Some(
                    t.strip_prefix(':')
                        .ok_or_else(|| UrlError::Host(err_input()))?,
                ),
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let host_ok = !host.is_empty()
            && (host.contains(':') // validated IPv6 above
                || host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'));
        if !host_ok {
            return Err(UrlError::Host(err_input()));
        }
        let (port, explicit_port) = match port_str {
            None => (scheme.default_port(), false),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n != 0 => (n, true),
                _ => return Err(UrlError::Port(err_input())),
            },
        };
        let mut path = path.to_string();
        if path.starts_with('?') {
            path.insert(0, '/');
        }
        while path.ends_with('/') {
            path.pop();
        }
        Ok(Endpoint {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            explicit_port,
            path,
        })
    }

    /// Scheme (decides TLS and the default port).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Host without IPv6 brackets: what TLS SNI and name resolution want.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Port, defaulted from the scheme when the URL had none.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Path prefix (and query, for WebSocket URLs) with no trailing `/`; may be empty.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether TLS must be used.
    pub fn is_tls(&self) -> bool {
        self.scheme.is_tls()
    }

    /// Value for the `Host:` header: brackets around IPv6, port only when not the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.explicit_port && self.port != self.scheme.default_port() {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }

    /// Full URL string (scheme, `Host:` form, path), used as the WebSocket handshake request.
    pub fn url(&self) -> String {
        let path = if self.path.is_empty() {
            "/"
        } else {
            self.path.as_str()
        };
        format!("{}://{}{}", self.scheme.as_str(), self.host_header(), path)
    }

    /// Same endpoint with `suffix` appended to the path (e.g. `/ws/btcusdt@depth`).
    pub fn join(&self, suffix: &str) -> Endpoint {
        let mut e = self.clone();
        if !suffix.is_empty() && !suffix.starts_with('/') && !suffix.starts_with('?') {
            e.path.push('/');
        }
        e.path.push_str(suffix);
        e
    }

    /// Resolve to one socket address at connect time (blocking DNS for hostnames; instant
    /// for IP literals). The first address wins; IPv4 is preferred when both exist because
    /// the venue's colocation network is IPv4.
    pub fn resolve(&self) -> std::io::Result<SocketAddr> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no address for {}", self.host),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_prefix() {
        let e = Endpoint::parse("http://127.0.0.1:8080/venue/").unwrap();
        assert_eq!(e.scheme(), Scheme::Http);
        assert_eq!(e.port(), 8080);
        assert_eq!(e.path(), "/venue");
        assert_eq!(e.host_header(), "127.0.0.1:8080");
        let e = Endpoint::parse("wss://fstream.binance.com:443/private").unwrap();
        assert_eq!(e.port(), 443);
        assert_eq!(e.host_header(), "fstream.binance.com");
        assert_eq!(e.url(), "wss://fstream.binance.com/private");
        assert_eq!(Endpoint::parse("ws://h").unwrap().port(), 80);
    }

    #[test]
    fn ipv6_and_query() {
        let e = Endpoint::parse("ws://[::1]/stream?streams=a/b").unwrap();
        assert_eq!(e.host(), "::1");
        assert_eq!(e.port(), 80);
        assert_eq!(e.path(), "/stream?streams=a/b");
        assert_eq!(e.url(), "ws://[::1]/stream?streams=a/b");
        let e = Endpoint::parse("http://h?x=1").unwrap();
        assert_eq!(e.path(), "/?x=1");
    }

    #[test]
    fn join_paths() {
        let e = Endpoint::parse("ws://127.0.0.1:1/market").unwrap();
        assert_eq!(
            e.join("ws/btcusdt@aggTrade").path(),
            "/market/ws/btcusdt@aggTrade"
        );
        assert_eq!(e.join("/ws").path(), "/market/ws");
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "ftp://x",
            "x",
            "http://",
            "http://:80",
            "http://h:0",
            "http://h:99999",
            "http://h:x",
            "http://[::1",
            "http://[zz]:1",
            "http://u@h",
            "http://h/#f",
            "http://h h/",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolves_loopback() {
        let a = Endpoint::parse("http://127.0.0.1:9")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(a.to_string(), "127.0.0.1:9");
    }
}
