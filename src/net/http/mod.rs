//! HTTP/1.1 keep-alive client for the venue's REST API.
//!
//! Why not an HTTP crate: the engine needs exactly one in-flight request per connection,
//! zero allocation in steady state, and — above all — an honest answer when a connection
//! dies: did the order leave the process? [`pool::HttpPool`] reports every request's end as
//! a [`pool::Completion`] with one of three outcomes: a response, `NotSent` (safe to
//! resend) or `Unknown` (resolve by querying the order, never by resubmitting).
//!
//! - [`request`]: request line and headers written by hand into a reused buffer;
//! - [`response`]: incremental response parsing (Content-Length, chunked, close-delimited)
//!   and the venue's rate-limit headers;
//! - [`conn`]: one connection's state machine;
//! - [`pool`]: a few connections, idle hand-out, deadlines, transparent reconnect.

pub mod conn;
pub mod pool;
pub mod request;
pub mod response;

use std::io;

pub use conn::Fate;
pub use pool::{Completion, HttpPool, HttpPoolConfig, Outcome, RequestId, Response, SubmitError};
pub use request::{Method, Request, RequestError};
pub use response::{ParseError, RateLimits};

use crate::net::stream::StreamError;
use crate::net::tls::TlsError;

/// Why a request or connection failed; carried inside `NotSent`/`Unknown` outcomes.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The host name did not resolve.
    #[error("cannot resolve host: {0}")]
    Resolve(io::Error),
    /// TCP connect or TLS handshake failed.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// TLS set-up for this host failed (bad SNI name).
    #[error(transparent)]
    Tls(TlsError),
    /// Socket error on an established connection.
    #[error("socket error: {0}")]
    Io(io::Error),
    /// The request could not be written (bad target or API key).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The response was malformed, too large or truncated.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The server closed the connection.
    #[error("connection closed by peer")]
    Closed,
    /// The server sent bytes while no request was outstanding.
    #[error("unsolicited bytes from server")]
    Unsolicited,
    /// The caller's deadline passed first.
    #[error("request deadline passed")]
    Timeout,
    /// An `https` endpoint was configured without a TLS client config.
    #[error("https endpoint needs a TLS config")]
    TlsRequired,
    /// The endpoint is not `http`/`https`.
    #[error("not an HTTP endpoint: {0}")]
    Scheme(String),
}
