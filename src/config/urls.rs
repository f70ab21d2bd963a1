//! Venue endpoints: defaults for production and testnet, and the checks that
//! keep a file from mixing them.

/// Production REST base.
pub const PROD_HTTP: &str = "https://fapi.binance.com";
/// Production market + user-data streams base (routes `/public`, `/market`,
/// `/private` are appended by the stream client).
pub const PROD_WS: &str = "wss://fstream.binance.com";
/// Production WebSocket API.
pub const PROD_WS_API: &str = "wss://ws-fapi.binance.com/ws-fapi/v1";
/// Testnet (demo trading) REST base, as in the current docs.
pub const TESTNET_HTTP: &str = "https://demo-fapi.binance.com";
/// Testnet streams base.
pub const TESTNET_WS: &str = "wss://fstream.binancefuture.com";
/// Testnet WebSocket API.
pub const TESTNET_WS_API: &str = "wss://testnet.binancefuture.com/ws-fapi/v1";

/// Which protocol family a URL must use: REST needs http(s), streams and the
/// WS API need ws(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `https://` (or `http://` on loopback).
    Http,
    /// `wss://` (or `ws://` on loopback).
    WebSocket,
}

/// Which Binance network a host belongs to, when we can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Real money.
    Production,
    /// Demo / testnet.
    Testnet,
}

impl Network {
    /// Word used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Production => "production",
            Network::Testnet => "testnet",
        }
    }
}

/// A parsed base URL. The network layer needs host, port and TLS separately
/// (it opens its own sockets), so they are split once here instead of on every
/// reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL as configured (trailing `/` removed).
    pub url: String,
    /// True for `https`/`wss`.
    pub tls: bool,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Explicit port or the scheme's default (443/80).
    pub port: u16,
    /// Path prefix (`""` or e.g. `/ws-fapi/v1`).
    pub path: String,
    /// True when written in the file, false when it is the default.
    pub from_file: bool,
}

impl Endpoint {
    /// Parses `scheme://host[:port][/path]` for the given protocol family.
    /// Returns the reason on failure; the caller adds the field and line.
    pub fn parse(text: &str, protocol: Protocol, from_file: bool) -> Result<Endpoint, String> {
        let url = text.trim_end_matches('/');
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("contains whitespace".into());
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "expected scheme://host".to_string())?;
        let tls = match (protocol, scheme) {
            (Protocol::Http, "https") | (Protocol::WebSocket, "wss") => true,
            (Protocol::Http, "http") | (Protocol::WebSocket, "ws") => false,
            (Protocol::Http, _) => {
                return Err("scheme must be https:// (or http:// on loopback)".into());
            }
            (Protocol::WebSocket, _) => {
                return Err("scheme must be wss:// (or ws:// on loopback)".into());
            }
        };
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if path.contains(['?', '#']) {
            return Err("a base URL cannot carry a query or fragment".into());
        }
        if authority.contains('@') {
            return Err("credentials in the URL are not allowed".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| "unclosed '[' in IPv6 host".to_string())?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| "unexpected text after IPv6 host".to_string())?,
                ),
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err("missing host".into());
        }
        let port = match port {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(format!("invalid port {p:?}")),
                Ok(p) => p,
            },
        };
        Ok(Endpoint {
            url: url.to_string(),
            tls,
            host: host.to_ascii_lowercase(),
            port,
            path: path.to_string(),
            from_file,
        })
    }

    /// True for 127.0.0.0/8, ::1 and localhost: where the simulator runs.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" {
            return true;
        }
        match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => false,
        }
    }

    /// The Binance network this host belongs to, or `None` for anything else
    /// (loopback simulator, a proxy) where no consistency check is possible.
    pub fn network(&self) -> Option<Network> {
        let h = self.host.as_str();
        if h == "demo-fapi.binance.com"
            || h == "binancefuture.com"
            || h.ends_with(".binancefuture.com")
        {
            Some(Network::Testnet)
        } else if h == "binance.com" || h.ends_with(".binance.com") {
            Some(Network::Production)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_defaults_and_loopback() {
        let e = Endpoint::parse(PROD_WS_API, Protocol::WebSocket, false).unwrap();
        assert_eq!(
            (e.tls, e.host.as_str(), e.port, e.path.as_str()),
            (true, "ws-fapi.binance.com", 443, "/ws-fapi/v1")
        );
        assert_eq!(e.network(), Some(Network::Production));
        let e = Endpoint::parse("http://127.0.0.1:18080/", Protocol::Http, true).unwrap();
        assert_eq!(
            (e.tls, e.port, e.url.as_str()),
            (false, 18080, "http://127.0.0.1:18080")
        );
        assert!(e.is_loopback());
        assert_eq!(e.network(), None);
        let e = Endpoint::parse("ws://[::1]:9", Protocol::WebSocket, true).unwrap();
        assert!(e.is_loopback());
        assert_eq!(e.host, "::1");
        {
            let t = TESTNET_HTTP;
            assert_eq!(
                Endpoint::parse(t, Protocol::Http, false).unwrap().network(),
                Some(Network::Testnet)
            );
        }
        for t in [TESTNET_WS, TESTNET_WS_API] {
            assert_eq!(
                Endpoint::parse(t, Protocol::WebSocket, false)
                    .unwrap()
                    .network(),
                Some(Network::Testnet)
            );
        }
    }

    #[test]
    fn refuses_bad_urls() {
        let cases = [
            ("wss://x", Protocol::Http, "https://"),
            ("https://x", Protocol::WebSocket, "wss://"),
            ("fapi.binance.com", Protocol::Http, "scheme"),
            ("https://:443", Protocol::Http, "host"),
            ("https://h:0", Protocol::Http, "port"),
            ("https://h:99999", Protocol::Http, "port"),
            ("https://u:p@h", Protocol::Http, "credentials"),
            ("https://h/?a=1", Protocol::Http, "query"),
        ];
        for (url, protocol, why) in cases {
            let e = Endpoint::parse(url, protocol, true).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
    }
}
