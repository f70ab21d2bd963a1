//! Serving the venue over loopback HTTP/1.1 and WebSocket, speaking Binance's
//! wire protocol at Binance's own paths so that any client (official SDKs,
//! ccxt, NautilusTrader, our engine) can be pointed at it unchanged.
//!
//! Blocking std sockets, one thread per connection: the simulator is a test
//! fixture on loopback, so simplicity beats an event loop here. WebSocket
//! connections use a per-connection `mio` poll only to wake instantly when the
//! fan-out queues a frame for them; on plain TCP the thread that published an
//! event writes its stream frames itself, as the venue streams them the
//! moment it matched.
//!
//! Layout: [`http`] parses requests and writes responses, [`auth`] knows each
//! endpoint's security type and weight and checks keys/signatures/timestamps,
//! [`limits`] counts weight and orders, [`listen_keys`] keeps user-stream keys,
//! [`hub`] fans stream frames out, [`ws`] runs WebSocket connections (streams
//! and WS API), [`direct`] lets publishers write stream frames onto plain
//! sockets themselves, [`faults`] holds the injectable faults, [`tls`] makes the
//! self-signed certificate, [`server`] ties it together.
pub mod auth;
pub mod direct;
pub mod faults;
pub mod http;
pub mod hub;
pub mod limits;
pub mod listen_keys;
pub mod server;
pub mod tls;
pub mod ws;

pub use faults::FaultSettings;
pub use server::{SimError, SimHandle, SimServer};

use std::path::PathBuf;

/// `[sim.server]`: how the simulator serves. Every field has a default, so an
/// empty table gives a Binance-like server on an ephemeral loopback port.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// `host:port` to listen on; `None` = `127.0.0.1:0` (ephemeral port, what
    /// tests want so they never collide).
    pub listen: Option<String>,
    /// Permit a non-loopback listen address. Off by default: the simulator
    /// accepts any key it knows and must not be exposed by accident.
    pub allow_non_loopback: bool,
    /// Serve HTTPS/WSS with a generated self-signed CA (clients that insist on
    /// `https://`/`wss://` URLs, or to measure the TLS cost).
    pub tls: bool,
    /// Directory for the generated CA PEM (`sim-ca.pem`); default: a fresh
    /// directory under the system temp dir.
    pub tls_dir: Option<PathBuf>,
    /// Divides the venue's long protocol timers (listenKey 60 min validity,
    /// 24 h forced disconnect, 3 min server ping, 10 min pong timeout) so
    /// tests see them in seconds. 1.0 = real time.
    pub time_scale: f64,
    /// Period of the timer that calls `Venue::tick` and expires listenKeys.
    pub tick_ms: u64,
    /// `true`: user-stream events of a request are sent before its REST/WS-API
    /// reply (the race Binance clients must survive); `false`: reply first.
    pub event_first: bool,
    /// One JSON line per frame sent on any stream (CLI `--event-log`).
    pub event_log: Option<PathBuf>,
    /// Give the simulator's connection and timer threads the short scheduler
    /// slice engine threads ask for ([`crate::engine::wait::request_short_slice`]).
    /// On when the simulator shares the box with the engine it measures
    /// (`binance-exec bench`): a real venue runs elsewhere and is never
    /// preempted by the engine mid-publish; on a shared 2-core box it is,
    /// unless both sides ask for the same slice (measured: fill p99 from the
    /// match 108–113 µs → 100–104 µs with parking threads). Off by default, so
    /// a standalone simulator stays a polite neighbour.
    pub short_slice: bool,
    /// Enforce the 2026 route split: un-routed and `/public` connections only
    /// get book streams, `/market` the rest. Off by default because many
    /// clients still use the legacy un-routed URLs for everything.
    pub strict_routes: bool,
    /// Inbound WebSocket messages per second per stream connection before the
    /// server disconnects it (Binance: 10).
    pub ws_max_inbound_per_sec: u32,
    /// Seed for listenKey generation (deterministic runs).
    pub seed: u64,
    /// Request-weight and order-count limits.
    pub limits: LimitSettings,
    /// Faults active from the start (also switchable at run time through
    /// `POST /sim/faults`).
    pub faults: FaultSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: None,
            allow_non_loopback: false,
            tls: false,
            tls_dir: None,
            time_scale: 1.0,
            tick_ms: 10,
            event_first: false,
            event_log: None,
            short_slice: false,
            strict_routes: false,
            ws_max_inbound_per_sec: 10,
            seed: 1,
            limits: LimitSettings::default(),
            faults: FaultSettings::default(),
        }
    }
}

/// `[sim.server.limits]`: Binance's defaults; lower them so tests reach the
/// 429/418 paths in a handful of requests.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// REQUEST_WEIGHT per minute per IP (Binance: 2400).
    pub weight_per_minute: u32,
    /// ORDERS per 10 s per account (Binance: 300).
    pub orders_per_10s: u32,
    /// ORDERS per minute per account (Binance: 1200).
    pub orders_per_minute: u32,
    /// How many 429 answers an IP may collect within one window before it is
    /// banned with 418 (Binance: "clients that keep going").
    pub ban_after_429s: u32,
    /// First ban length; each further ban doubles it (Binance: 2 min → 3 days).
    pub ban_ms: u64,
    /// Ban length ceiling (Binance: 3 days).
    pub max_ban_ms: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            weight_per_minute: 2400,
            orders_per_10s: 300,
            orders_per_minute: 1200,
            ban_after_429s: 20,
            ban_ms: 120_000,
            max_ban_ms: 3 * 24 * 3_600_000,
        }
    }
}

impl ServerSettings {
    /// A protocol duration (real Binance value in ms) divided by `time_scale`.
    pub fn scaled(&self, real_ms: u64) -> std::time::Duration {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        };
        std::time::Duration::from_micros(((real_ms as f64 * 1000.0) / scale).max(1.0) as u64)
    }
}
