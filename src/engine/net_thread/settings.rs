//! What the network thread needs to know, derived from the effective [`Config`] plus a
//! few network-only knobs that have safe defaults.
//!
//! Why a separate struct: the thread must not reach back into the whole config (it runs
//! on its own core and only needs URLs, trust, one API key and timers), and tests need to
//! shrink the timers (ping, rotation, reconnect spacing) to milliseconds without writing
//! a TOML file.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Backoff, Config, OrderEntry, Secret, ThreadSettings, WaitStrategy};
use crate::net::poller::PollMode;
use crate::net::tls::Trust;
use crate::net::url::{Endpoint, UrlError};

/// Which URL form the user-data stream uses.
///
/// Why configurable: since the 2026-03 route split the production venue serves user
/// data on `/private/ws/<listenKey>`, while the testnet and the local simulator use the
/// legacy `/ws/<listenKey>` form (see the protocol notes §1.1). The default is the
/// legacy form because it is what testnet and the simulator accept; set
/// [`UserStreamRoute::Private`] for production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserStreamRoute {
    /// `<base_url_ws>/ws/<listenKey>`.
    #[default]
    Legacy,
    /// `<base_url_ws>/private/ws/<listenKey>`.
    Private,
}

impl UserStreamRoute {
    /// The path appended to `base_url_ws` for `listen_key`.
    pub fn path(self, listen_key: &str) -> String {
        match self {
            UserStreamRoute::Legacy => format!("/ws/{listen_key}"),
            UserStreamRoute::Private => format!("/private/ws/{listen_key}"),
        }
    }
}

/// Why the settings could not be derived from the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A configured URL did not parse for the network layer.
    #[error("{field}: {source}")]
    Url {
        /// Config field name.
        field: &'static str,
        /// Parser's reason.
        source: UrlError,
    },
}

/// Everything the network thread is configured with.
#[derive(Clone)]
pub struct NetSettings {
    /// REST base (`base_url_http`).
    pub http: Endpoint,
    /// Streams base (`base_url_ws`).
    pub ws: Endpoint,
    /// WebSocket API endpoint, only when `order_entry = "ws_api"` (connected at start).
    pub ws_api: Option<Endpoint>,
    /// Sent as `X-MBX-APIKEY` on every REST request; redacted in `Debug`.
    pub api_key: Option<Secret>,
    /// Certificates trusted for `https`/`wss` (a CA file for the simulator).
    pub trust: Trust,
    /// Keep-alive REST connections (default 2: a cancel never queues behind an order).
    pub http_connections: usize,
    /// User-data stream URL form.
    pub user_stream_route: UserStreamRoute,
    /// Route prefix for market streams: `""` gives `<base>/stream?streams=..`; production
    /// needs `"/market"` or `"/public"` depending on the streams (§1.1).
    pub market_route: String,
    /// How often we ping each open WebSocket (a liveness probe; the venue also pings us).
    pub ping_interval: Duration,
    /// A WebSocket with no inbound traffic (frames, pings or pongs) for this long is
    /// treated as dead and reconnected. Must exceed the venue's 3-minute ping period.
    pub stale_after: Duration,
    /// Reconnect delays (attempts unbounded; delay capped; jittered by SplitMix64).
    pub reconnect: Backoff,
    /// Minimum time between two connection attempts of one stream, whatever the backoff
    /// says: the floor that rules out a reconnect storm.
    pub min_reconnect_spacing: Duration,
    /// Rotate a connection (make-before-break) when it is this old; the venue cuts at 24 h.
    pub max_connection_age: Duration,
    /// Minimum spacing between our control messages (SUBSCRIBE) on a stream connection:
    /// the venue disconnects above 10 inbound messages/s, pongs included.
    pub control_spacing: Duration,
    /// Streams per SUBSCRIBE message.
    pub subscribe_batch: usize,
    /// Largest WebSocket message accepted.
    pub max_message: usize,
    /// Poll timeout when the thread parks (bounds timer latency).
    pub park_timeout: Duration,
    /// Core and wait strategy of the network thread.
    pub thread: ThreadSettings,
    /// Capacity of the command channel (execution → network).
    pub command_capacity: usize,
    /// Capacity of the event channel (network → execution).
    pub event_capacity: usize,
    /// Preallocated buffers in the shared pool.
    pub buffers: usize,
    /// Capacity of each pooled buffer; frames larger than this cost one allocation.
    pub buffer_capacity: usize,
    /// REST requests waiting for a free connection; beyond this a request is `NotSent`.
    pub max_queued_requests: usize,
    /// Seed of the reconnect jitter (vary per process so clients do not synchronise).
    pub jitter_seed: u64,
    /// Optional PEM file recorded for display; the trust decision is [`Self::trust`].
    pub tls_ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for NetSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSettings")
            .field("http", &self.http.url())
            .field("ws", &self.ws.url())
            .field("ws_api", &self.ws_api.as_ref().map(|e| e.url()))
            .field("api_key", &self.api_key)
            .field("trust", &self.trust)
            .field("http_connections", &self.http_connections)
            .field("user_stream_route", &self.user_stream_route)
            .field("market_route", &self.market_route)
            .field("ping_interval", &self.ping_interval)
            .field("max_connection_age", &self.max_connection_age)
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}

impl NetSettings {
    /// Defaults around explicit endpoints (tests, tools): no API key, web PKI trust,
    /// REST order entry.
    pub fn new(http: Endpoint, ws: Endpoint) -> NetSettings {
        NetSettings {
            http,
            ws,
            ws_api: None,
            api_key: None,
            trust: Trust::WebPkiRoots,
            http_connections: 2,
            user_stream_route: UserStreamRoute::default(),
            market_route: String::new(),
            ping_interval: Duration::from_secs(30),
            stale_after: Duration::from_secs(300),
            reconnect: Backoff {
                max_retries: u32::MAX,
                base: Duration::from_millis(250),
                cap: Duration::from_secs(30),
            },
            min_reconnect_spacing: Duration::from_millis(500),
            max_connection_age: Duration::from_secs(23 * 3600),
            control_spacing: Duration::from_millis(125),
            subscribe_batch: 50,
            max_message: 16 << 20,
            park_timeout: Duration::from_millis(5),
            thread: ThreadSettings::default(),
            command_capacity: 1024,
            event_capacity: 4096,
            buffers: 1024,
            buffer_capacity: 4096,
            max_queued_requests: 256,
            jitter_seed: seed_from_clock(),
            tls_ca_file: None,
        }
    }

    /// Settings from the effective config: URLs, API key, trust (`tls_ca_file` when set,
    /// else the web PKI roots), the network thread's placement, and the WS API endpoint
    /// when `order_entry = "ws_api"`. Network-only knobs keep their defaults.
    pub fn from_config(config: &Config) -> Result<NetSettings, SettingsError> {
        let parse = |field: &'static str, url: &str| {
            Endpoint::parse(url).map_err(|source| SettingsError::Url { field, source })
        };
        let mut s = NetSettings::new(
            parse("base_url_http", &config.base_url_http.url)?,
            parse("base_url_ws", &config.base_url_ws.url)?,
        );
        if config.order_entry == OrderEntry::WsApi {
            s.ws_api = Some(parse("base_url_ws_api", &config.base_url_ws_api.url)?);
        }
        s.api_key = Some(config.credentials.api_key.clone());
        s.trust = match &config.tls_ca_file {
            Some(p) => Trust::CaFile(p.clone()),
            None => Trust::WebPkiRoots,
        };
        s.tls_ca_file = config.tls_ca_file.clone();
        s.thread = config.threads.network;
        Ok(s)
    }

    /// The poll mode the wait strategy asks for: spin only when the thread was given a
    /// core to burn; any other strategy parks with a short bounded timeout so the timers
    /// (pings, reconnects, rotation, request deadlines) still run.
    pub fn poll_mode(&self) -> PollMode {
        match self.thread.wait {
            WaitStrategy::Spin => PollMode::Spin,
            _ => PollMode::Park(self.park_timeout),
        }
    }
}

fn seed_from_clock() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5eed);
    t ^ u64::from(std::process::id()).rotate_left(32)
}
