//! The `[metrics]` table: where the optional Prometheus endpoint listens.
//!
//! Why loopback only, enforced here and not just at bind time: the endpoint
//! shows an account's order flow, rejects and rate-limit headroom without any
//! authentication, so a wildcard or LAN address in a deployed file must stop
//! the process at `check-config`, before the open, with the field named.

use super::error::{ConfigError, Line};
use std::net::SocketAddr;

/// Settings of the `/metrics` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsSettings {
    /// Loopback address to serve `/metrics` on; `None` (key absent or empty)
    /// means no endpoint and no metrics thread. Port 0 picks a free port (the
    /// bound address is reported by the engine handle).
    pub listen: Option<SocketAddr>,
}

impl MetricsSettings {
    /// The scrape URL, for start-up banners (`None` when off).
    pub fn url(addr: SocketAddr) -> String {
        format!("http://{addr}/metrics")
    }
}

/// Checks `metrics.listen` as written (`None` when the key is absent).
pub(super) fn resolve(listen: Option<(&str, Line)>) -> Result<MetricsSettings, ConfigError> {
    let Some((text, line)) = listen else {
        return Ok(MetricsSettings::default());
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(MetricsSettings::default());
    }
    let addr: SocketAddr = text.parse().map_err(|_| ConfigError::MetricsAddress {
        value: text.to_string(),
        line,
    })?;
    if !addr.ip().is_loopback() {
        return Err(ConfigError::MetricsNotLoopback {
            value: text.to_string(),
            line,
        });
    }
    Ok(MetricsSettings { listen: Some(addr) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Option<SocketAddr> {
        match resolve(Some((s, Line(Some(3))))) {
            Ok(m) => m.listen,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn absent_or_empty_is_off() {
        assert_eq!(resolve(None).ok(), Some(MetricsSettings::default()));
        assert_eq!(ok(""), None);
        assert_eq!(ok("   "), None);
    }

    #[test]
    fn loopback_v4_v6_and_port_zero() {
        assert_eq!(ok("127.0.0.1:9464"), "127.0.0.1:9464".parse().ok());
        assert_eq!(ok("[::1]:9464"), "[::1]:9464".parse().ok());
        assert_eq!(ok("127.0.0.1:0"), "127.0.0.1:0".parse().ok());
        assert_eq!(ok("127.1.2.3:80"), "127.1.2.3:80".parse().ok());
    }

    #[test]
    fn refusals_name_the_field_and_why() {
        for bad in ["0.0.0.0:9464", "[::]:9464", "10.0.0.5:9464"] {
            let e = resolve(Some((bad, Line(Some(7))))).map(|_| ()).unwrap_err();
            let msg = e.to_string();
            assert!(
                matches!(e, ConfigError::MetricsNotLoopback { .. }),
                "{bad}: {msg}"
            );
            assert!(msg.contains("`metrics.listen` (line 7)"), "{msg}");
            assert!(msg.contains("loopback"), "{msg}");
        }
        for bad in ["localhost:9464", "127.0.0.1", "9464", "127.0.0.1:99999"] {
            let e = resolve(Some((bad, Line(None)))).map(|_| ()).unwrap_err();
            assert!(
                matches!(e, ConfigError::MetricsAddress { .. }),
                "{bad}: {e}"
            );
            assert!(e.to_string().contains("`metrics.listen`"), "{e}");
        }
    }
}
