//! The one TOML file a trader runs the client from.
//!
//! [`Config::load`] reads the file, applies the environment (`BINANCE_TESTNET`,
//! the API key/secret variables), fills defaults, and refuses anything
//! contradictory *before* a socket is opened: a wrong URL, an unknown key, or a
//! thread pinned to a missing core is cheaper to fix at start-up than to
//! discover at the open. The result is the *effective* configuration: URLs
//! resolved, credentials resolved (never from the file), every number checked.
//!
//! ```
//! use binance_exec::config::{Config, Environment};
//! let text = r#"
//! testnet = true
//! [instrument_provider]
//! load_ids = ["BTCUSDT-PERP.BINANCE"]
//! "#;
//! let env = Environment::from_pairs(&[("BINANCE_API_KEY", "k"), ("BINANCE_API_SECRET", "s")]);
//! let cfg = Config::from_toml_str(text, None, &env).unwrap();
//! assert_eq!(cfg.base_url_http.url, "https://demo-fapi.binance.com");
//! assert_eq!(format!("{:?}", cfg.credentials.api_secret), "Secret(***)");
//! ```

mod backoff;
mod display;
mod env;
mod error;
mod file;
mod metrics;
mod resolve;
mod secret;
mod urls;

pub use backoff::{Backoff, FixedJitter, Jitter, SplitMix64};
pub use env::{Environment, TESTNET_VAR};
pub use error::{ConfigError, Line};
pub use metrics::MetricsSettings;
pub use secret::Secret;
pub use urls::{
    Endpoint, Network, PROD_HTTP, PROD_WS, PROD_WS_API, Protocol, TESTNET_HTTP, TESTNET_WS,
    TESTNET_WS_API,
};

use crate::model::ids::InstrumentId;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default variable holding the API key.
pub const DEFAULT_API_KEY_ENV: &str = "BINANCE_API_KEY";
/// Default variable holding the API secret.
pub const DEFAULT_API_SECRET_ENV: &str = "BINANCE_API_SECRET";

/// The only account type this engine trades. Kept as an enum (not a bool) so
/// the config reads like the venue's and the reference client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    /// Binance USDⓈ-M futures (`/fapi`).
    UsdtFutures,
}

impl AccountType {
    /// Spelling in the file.
    pub fn as_str(self) -> &'static str {
        "USDT_FUTURES"
    }
}

/// Which channel carries order entry. The WS API skips the per-request
/// TCP/TLS/HTTP overhead; REST is simpler to debug and has separate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEntry {
    /// `POST /fapi/v1/order` and friends.
    #[default]
    Rest,
    /// `order.place` etc. over `wss://ws-fapi…/ws-fapi/v1`.
    WsApi,
}

impl OrderEntry {
    /// Spelling in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderEntry::Rest => "rest",
            OrderEntry::WsApi => "ws_api",
        }
    }
}

/// The account's position mode, which decides whether orders carry
/// `positionSide` or `reduceOnly` (spec §6.1: sending the wrong one is -4061
/// or -1106). The engine verifies it against `GET /fapi/v1/positionSide/dual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionMode {
    /// One net `BOTH` position per symbol.
    #[default]
    OneWay,
    /// Separate LONG and SHORT positions.
    Hedge,
}

impl PositionMode {
    /// Spelling in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            PositionMode::OneWay => "one_way",
            PositionMode::Hedge => "hedge",
        }
    }
}

/// How an engine thread waits for work: the latency/CPU trade-off, chosen per
/// thread because a spinning thread needs a core of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitStrategy {
    /// Busy-poll: lowest latency, burns a whole core.
    Spin,
    /// Poll and `yield_now` between polls.
    Yield,
    /// Block until woken: no CPU when idle; right for CI and small machines.
    #[default]
    Park,
    /// Spin briefly, then park.
    SpinPark,
}

impl WaitStrategy {
    /// Spelling in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitStrategy::Spin => "spin",
            WaitStrategy::Yield => "yield",
            WaitStrategy::Park => "park",
            WaitStrategy::SpinPark => "spin_park",
        }
    }
}

/// Placement of one engine thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThreadSettings {
    /// Core to pin to (checked to exist), or `None` to let the OS schedule.
    pub core: Option<usize>,
    /// How it waits.
    pub wait: WaitStrategy,
    /// `spin_park` only: how long (µs) the thread stays hot after its last
    /// piece of work before it parks; `None` = the engine default
    /// ([`crate::engine::wait::DEFAULT_SPIN_WINDOW`]).
    pub spin_us: Option<u32>,
}

/// The three engine threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Threads {
    /// Sockets: REST, streams, WS API.
    pub network: ThreadSettings,
    /// Order state machine, reconciliation.
    pub execution: ThreadSettings,
    /// The user's strategy callbacks.
    pub strategy: ThreadSettings,
}

/// Latency budgets the latency report holds the engine to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyBudgets {
    /// Submit → venue acknowledgement.
    pub submit_ack: Duration,
    /// Venue fill event → strategy notified.
    pub fill_notify: Duration,
}

/// Engine sizing, crash safety and shutdown behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// Preallocated order structs: the most orders alive at once without a
    /// heap allocation on the hot path.
    pub order_pool_size: usize,
    /// Cancel every open order of the loaded instruments on clean shutdown.
    pub cancel_all_on_shutdown: bool,
    /// Period of the open-order sweep against the venue (`Duration::ZERO` =
    /// off): catches what no stream event told us, e.g. an order cancelled
    /// from another session or a lost event.
    pub reconcile_interval: std::time::Duration,
    /// Silence on the user stream that triggers a reconciliation while
    /// orders are open (`Duration::ZERO` = off): a half-dead socket delivers
    /// nothing and reports no error.
    pub user_stream_silence: std::time::Duration,
    /// Longest a gap reconciliation may hold live user events back so the
    /// strategy sees the missed fills first. Past it, the live events go
    /// through (the missed fills follow, marked `recovered`): a pass slowed
    /// by rate limits must not keep the strategy blind for tens of seconds.
    pub reconcile_hold_max: std::time::Duration,
    /// listenKey keepalive period (the venue expires keys after 60 minutes);
    /// divided by the simulator's `time_scale` when the file has a `[sim]`
    /// table, so compressed-clock runs exercise expiry.
    pub listen_key_keepalive: std::time::Duration,
    /// The order journal (`journal_path`, resolved against the config file's
    /// directory). `None` = no journal: a restarted engine then only knows
    /// what the venue still lists as open.
    pub journal_path: Option<PathBuf>,
    /// When journal records reach stable storage (`journal_fsync`).
    pub journal_fsync: crate::engine::journal::FsyncPolicy,
    /// Dead-man's switch: arm `countdownCancelAll` with this many seconds per
    /// loaded symbol and re-arm every third of it, so a dead engine's orders
    /// are cancelled by the venue. 0 = off.
    pub dead_man_switch_secs: u64,
    /// With `order_entry = "ws_api"`: how long a written order frame may go
    /// unanswered on a live connection before its fate is called unknown
    /// and settled by a REST query by client id (never a blind resend).
    /// Why: a venue that swallows one reply while the socket stays up
    /// would otherwise leave the order pending until the connection is
    /// declared stale, minutes later.
    pub ws_api_reply_timeout: std::time::Duration,
}

/// Which instruments to load from exchangeInfo.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstrumentSelection {
    /// Load every TRADING symbol (500+, slower start-up, more memory).
    pub load_all: bool,
    /// The instruments to trade, in file order, no duplicates.
    pub load_ids: Vec<InstrumentId>,
}

/// Where the credentials came from, printed by `check-config` so a trader can
/// tell at a glance whether the simulator's keys or real ones are in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// From the named environment variables.
    Env {
        /// Variable holding the key.
        key_var: String,
        /// Variable holding the secret.
        secret_var: String,
    },
    /// The built-in simulator's first account (loopback URL + `[sim]` table).
    Simulator,
}

/// API key and secret, both redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Sent as `X-MBX-APIKEY`.
    pub api_key: Secret,
    /// HMAC-SHA256 signing key.
    pub api_secret: Secret,
    /// Where they came from.
    pub source: CredentialSource,
}

/// Where the effective `testnet` flag came from (shown in errors and by
/// `check-config`, because an environment override surprises people).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagSource {
    /// Not set anywhere.
    Default,
    /// The file.
    File,
    /// The `BINANCE_TESTNET` variable.
    Env,
}

impl FlagSource {
    /// Words for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagSource::Default => "default",
            FlagSource::File => "from the config file",
            FlagSource::Env => "from BINANCE_TESTNET",
        }
    }
}

/// The effective client configuration: everything the engine needs, resolved
/// and checked. Field names follow the reference `BinanceExecClientConfig`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Always USDⓈ-M futures.
    pub account_type: AccountType,
    /// REST base.
    pub base_url_http: Endpoint,
    /// Market and user-data streams base.
    pub base_url_ws: Endpoint,
    /// WebSocket API endpoint.
    pub base_url_ws_api: Endpoint,
    /// Effective testnet flag (file, then `BINANCE_TESTNET`).
    pub testnet: bool,
    /// Where `testnet` came from.
    pub testnet_source: FlagSource,
    /// Always false (Binance.US has no futures); kept for parity with the reference.
    pub us: bool,
    /// How often to re-estimate the server clock offset.
    pub clock_sync_interval_secs: u64,
    /// Warn when the used-weight / order-count headers near the limits.
    pub warn_rate_limits: bool,
    /// Retries of a request that certainly failed.
    pub max_retries: u32,
    /// Base of the exponential backoff, seconds.
    pub retry_delay_secs: f64,
    /// Cap of the exponential backoff, seconds.
    pub retry_delay_max_secs: f64,
    /// `recvWindow` sent with signed requests.
    pub recv_window_ms: u64,
    /// REST or WS API order entry.
    pub order_entry: OrderEntry,
    /// Expected account position mode.
    pub position_mode: PositionMode,
    /// Variable naming the API key.
    pub api_key_env: String,
    /// Variable naming the API secret.
    pub api_secret_env: String,
    /// Resolved key and secret.
    pub credentials: Credentials,
    /// Instruments to load.
    pub instrument_provider: InstrumentSelection,
    /// Instruments whose orders placed outside this process we take over (FR-005).
    pub external_order_claims: Vec<InstrumentId>,
    /// Thread placement.
    pub threads: Threads,
    /// Latency budgets.
    pub latency: LatencyBudgets,
    /// Extra PEM trust anchors (a local simulator's self-signed certificate).
    pub tls_ca_file: Option<PathBuf>,
    /// Engine sizing.
    pub engine: EngineSettings,
    /// The optional loopback Prometheus endpoint (`[metrics]`).
    pub metrics: MetricsSettings,
    /// The simulator's settings when this file also configures `binance-exec sim`.
    pub sim: Option<crate::sim::SimSettings>,
    /// Legal but questionable settings; print them at start-up.
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads `path` with the real environment and this machine's cores.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with_env(path, &Environment::process())
    }

    /// Loads `path` with an explicit environment. Relative paths in the file
    /// (`tls_ca_file`) are resolved against the file's directory, so a config
    /// works from any working directory.
    pub fn load_with_env(path: &Path, env: &Environment<'_>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path.parent(), env)
    }

    /// Parses and resolves TOML text; `base_dir` anchors relative paths
    /// (`None`: the working directory).
    pub fn from_toml_str(
        text: &str,
        base_dir: Option<&Path>,
        env: &Environment<'_>,
    ) -> Result<Config, ConfigError> {
        resolve::resolve(text, base_dir, env)
    }

    /// Only the `[sim]` table of a file, for `binance-exec sim`: the simulator
    /// needs no client credentials or instruments, but the file must still be
    /// well-formed (unknown keys anywhere are errors).
    pub fn load_sim_settings(path: &Path) -> Result<Option<crate::sim::SimSettings>, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(resolve::parse(&text)?.sim)
    }

    /// The retry schedule described by `max_retries` / `retry_delay_secs` /
    /// `retry_delay_max_secs`.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            max_retries: self.max_retries,
            base: Duration::from_secs_f64(self.retry_delay_secs),
            cap: Duration::from_secs_f64(self.retry_delay_max_secs),
        }
    }

    /// `recv_window_ms` as a duration.
    pub fn recv_window(&self) -> Duration {
        Duration::from_millis(self.recv_window_ms)
    }

    /// `clock_sync_interval_secs` as a duration.
    pub fn clock_sync_interval(&self) -> Duration {
        Duration::from_secs(self.clock_sync_interval_secs)
    }
}
