//! HTTPS/WSS for the simulator: a throw-away CA and a leaf certificate for
//! `127.0.0.1`/`localhost`, generated at start. The CA PEM is written to disk
//! so a client can trust exactly this run's server (`tls_ca_file`) without
//! disabling verification.
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Cert(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// Writing the CA PEM failed.
    #[error("writing CA PEM {path}: {source}")]
    Io {
        /// Target path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// The server side of TLS.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// rustls server configuration (ring provider, built explicitly).
    pub config: Arc<rustls::ServerConfig>,
    /// Where the CA certificate PEM was written.
    pub ca_pem_path: PathBuf,
}

/// Generates the CA + leaf and writes `sim-ca.pem` into `dir`.
pub fn generate(dir: &Path) -> Result<TlsMaterial, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "binance-exec simulator CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "binance-exec simulator");
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    let ca_pem_path = dir.join("sim-ca.pem");
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::write(&ca_pem_path, ca_cert.pem()).map_err(|source| TlsError::Io {
        path: ca_pem_path.clone(),
        source,
    })?;

    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(
        rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
    );
    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key_der)?;
    Ok(TlsMaterial {
        config: Arc::new(config),
        ca_pem_path,
    })
}
