//! TLS client configuration: rustls with the ring provider, built explicitly.
//!
//! Why explicit: with more than one crypto provider compiled into the binary,
//! `ClientConfig::builder()` panics at run time; naming ring here makes the choice
//! a compile-time fact. Trust is either the Mozilla roots (webpki-roots, for the
//! venue) or a PEM CA file (for the local simulator's self-signed certificate).
//! Build the config once and share the `Arc` across every connection so session
//! resumption tickets are reused on reconnect.
//!
//! ```no_run
//! use binance_exec::net::tls::{client_config, server_name, Trust};
//! let venue = client_config(&Trust::WebPkiRoots).unwrap();
//! let sim = client_config(&Trust::CaFile("sim-ca.pem".into())).unwrap();
//! let sni = server_name("fapi.binance.com").unwrap();
//! # let _ = (venue, sim, sni);
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

/// Why a TLS configuration could not be built or a connection could not be secured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file is missing, unreadable or not PEM.
    #[error("cannot read CA file {path}: {reason}")]
    CaFile {
        /// File named in config (`tls_ca_file`).
        path: PathBuf,
        /// What went wrong, from the PEM parser or the OS.
        reason: String,
    },
    /// The CA file parsed but contained no usable certificate.
    #[error("CA file {0} holds no certificate rustls accepts")]
    NoCertificates(PathBuf),
    /// The host cannot be used as an SNI / verification name.
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    /// rustls refused the configuration (protocol versions vs provider).
    #[error("TLS configuration rejected: {0}")]
    Config(rustls::Error),
    /// The peer failed verification or broke the protocol (bad certificate, alert, ...).
    #[error("TLS failure: {0}")]
    Protocol(rustls::Error),
}

/// Which certificates the client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Mozilla's root program (webpki-roots), for the real venue.
    WebPkiRoots,
    /// Only the certificates in this PEM file, for the simulator or a pinned CA.
    CaFile(PathBuf),
}

/// Build a shareable client config with ring, safe default protocol versions and no client auth.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    match trust {
        Trust::WebPkiRoots => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Trust::CaFile(path) => {
            let ca_err = |reason: String| TlsError::CaFile {
                path: path.clone(),
                reason,
            };
            let iter = CertificateDer::pem_file_iter(path).map_err(|e| ca_err(e.to_string()))?;
            for cert in iter {
                let cert = cert.map_err(|e| ca_err(e.to_string()))?;
                roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(TlsError::NoCertificates(path.clone()));
            }
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The SNI / certificate name for a host (DNS name or IP literal, no brackets).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsError::ServerName(host.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webpki_config_builds() {
        assert!(client_config(&Trust::WebPkiRoots).is_ok());
    }

    #[test]
    fn missing_or_empty_ca_file_is_typed() {
        let missing = client_config(&Trust::CaFile("/nonexistent/ca.pem".into()));
        assert!(matches!(missing, Err(TlsError::CaFile { .. })));
        let path = std::env::temp_dir().join(format!("net-tls-empty-{}.pem", std::process::id()));
        std::fs::write(&path, b"not a certificate\n").unwrap();
        let empty = client_config(&Trust::CaFile(path.clone()));
        let _ = std::fs::remove_file(&path);
        assert!(matches!(
            empty,
            Err(TlsError::NoCertificates(_)) | Err(TlsError::CaFile { .. })
        ));
    }

    #[test]
    fn server_names() {
        assert!(server_name("fapi.binance.com").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("::1").is_ok());
        assert!(matches!(
            server_name("bad host"),
            Err(TlsError::ServerName(_))
        ));
    }
}
