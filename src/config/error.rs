//! Why a config file was refused.
//!
//! A trader starting a colocated process at the open needs to fix a bad file in
//! seconds, so every error names the field (dotted TOML path) and, where the
//! TOML parser gives a position, the line — never "invalid config".

use std::fmt;
use std::path::PathBuf;

/// A 1-based line number in the config file, when one is known; formats as
/// ` (line N)` or nothing, so messages read naturally either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Line(pub Option<usize>);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, " (line {n})"),
            None => Ok(()),
        }
    }
}

/// Every way loading a config can fail. Each variant is a distinct operator
/// mistake with its own fix, spelled out in the message.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// TOML syntax or a type/unknown-field error reported by the parser.
    #[error("invalid config{line}: {message}")]
    Parse {
        /// Where the parser stopped.
        line: Line,
        /// The parser's message (names the key for unknown/missing fields).
        message: String,
    },
    /// An `account_type` other than USDT_FUTURES.
    #[error(
        "`account_type`{line}: {value:?} is not supported: binance-exec trades Binance USDⓈ-M futures only; set account_type = \"USDT_FUTURES\""
    )]
    UnsupportedAccountType {
        /// The value in the file.
        value: String,
        /// Where.
        line: Line,
    },
    /// `us = true`: Binance.US lists no futures.
    #[error(
        "`us`{line}: Binance.US has no USDⓈ-M futures, so us = true is not supported with account_type = \"USDT_FUTURES\"; remove it or set us = false"
    )]
    UsHasNoFutures {
        /// Where.
        line: Line,
    },
    /// A URL that cannot be parsed or has the wrong scheme for its field.
    #[error("`{field}`{line}: {url:?} is not a valid URL: {reason}")]
    InvalidUrl {
        /// Config key.
        field: &'static str,
        /// The text.
        url: String,
        /// What is wrong.
        reason: String,
        /// Where.
        line: Line,
    },
    /// Plain `http://` / `ws://` to a non-loopback host would send the API key
    /// and signed orders in clear text.
    #[error(
        "`{field}`{line}: {url:?} uses an unencrypted scheme towards a non-loopback host; use https:// or wss:// (plain http/ws is only allowed for 127.0.0.1/localhost, e.g. the built-in simulator)"
    )]
    PlainTextToRemote {
        /// Config key.
        field: &'static str,
        /// The URL.
        url: String,
        /// Where.
        line: Line,
    },
    /// An explicit production URL with testnet on, or a testnet URL with it off.
    #[error(
        "`{field}`{line}: {url:?} is a {url_network} URL but testnet = {testnet} ({testnet_source}); remove the URL to use the default, or fix testnet"
    )]
    NetworkMismatch {
        /// Config key.
        field: &'static str,
        /// The URL.
        url: String,
        /// "production" or "testnet".
        url_network: &'static str,
        /// The effective testnet flag.
        testnet: bool,
        /// Where that flag came from.
        testnet_source: &'static str,
        /// Where.
        line: Line,
    },
    /// `BINANCE_TESTNET` set to something other than true/false.
    #[error("environment variable {var}={value:?} must be \"true\" or \"false\"")]
    BadEnvFlag {
        /// Variable name.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// A number outside the range the engine can work with.
    #[error("`{field}`{line}: {value} is out of range; allowed: {allowed}")]
    OutOfRange {
        /// Config key.
        field: &'static str,
        /// The value as written.
        value: String,
        /// The allowed range, in words.
        allowed: &'static str,
        /// Where.
        line: Line,
    },
    /// An empty string where a name is required.
    #[error("`{field}`{line}: must not be empty")]
    Empty {
        /// Config key.
        field: &'static str,
        /// Where.
        line: Line,
    },
    /// Nothing to trade: no ids and no load_all.
    #[error(
        "`instrument_provider.load_ids`{line} is empty and load_all = false, so no instrument would be loaded; list ids such as [\"BTCUSDT-PERP.BINANCE\"] or set load_all = true"
    )]
    NoInstruments {
        /// Where.
        line: Line,
    },
    /// The same instrument listed twice.
    #[error("`{field}`{line}: {id} is listed more than once")]
    DuplicateInstrument {
        /// Config key.
        field: &'static str,
        /// The repeated id.
        id: String,
        /// Where the repeat is.
        line: Line,
    },
    /// A claim on an instrument that is not loaded.
    #[error(
        "`external_order_claims`{line}: {id} is not in instrument_provider.load_ids; an instrument must be loaded before its external orders can be claimed"
    )]
    ClaimNotLoaded {
        /// The id.
        id: String,
        /// Where.
        line: Line,
    },
    /// A thread pinned to a core this machine does not have.
    #[error(
        "`threads.{thread}.core`{line}: core {core} does not exist on this machine (available: {available})"
    )]
    NoSuchCore {
        /// network / execution / strategy.
        thread: &'static str,
        /// Requested core id.
        core: usize,
        /// The ids that exist.
        available: String,
        /// Where.
        line: Line,
    },
    /// Two threads on one core with one of them spinning: the spinner would
    /// starve the other.
    #[error(
        "`threads.{second}.core`{line}: core {core} is already used by threads.{first} and one of them uses wait = \"spin\", which would starve the other; give each its own core or use \"park\"/\"spin_park\""
    )]
    SharedSpinCore {
        /// First thread.
        first: &'static str,
        /// Second thread.
        second: &'static str,
        /// The core.
        core: usize,
        /// Where.
        line: Line,
    },
    /// The trust-anchor file cannot be read.
    #[error("`tls_ca_file`{line}: cannot read {path}: {reason}")]
    TlsCaFile {
        /// Resolved path.
        path: PathBuf,
        /// The OS error.
        reason: String,
        /// Where.
        line: Line,
    },
    /// `metrics.listen` is not an `ip:port` address.
    #[error(
        "`metrics.listen`{line}: {value:?} is not an address; write ip:port such as \"127.0.0.1:9464\" (an empty string turns the endpoint off)"
    )]
    MetricsAddress {
        /// The value in the file.
        value: String,
        /// Where.
        line: Line,
    },
    /// `metrics.listen` is not a loopback address.
    #[error(
        "`metrics.listen`{line}: {value:?} is not a loopback address; the metrics endpoint is unauthenticated and shows the account's order flow, so it only listens on 127.0.0.1 or [::1] (scrape it from the same box or through an SSH tunnel)"
    )]
    MetricsNotLoopback {
        /// The value in the file.
        value: String,
        /// Where.
        line: Line,
    },
    /// An API key or secret is not available.
    #[error("environment variable {var} (named by `{field}`) is not set; export it{hint}")]
    MissingCredential {
        /// The variable.
        var: String,
        /// `api_key_env` or `api_secret_env`.
        field: &'static str,
        /// Extra advice, starting with "; " or empty.
        hint: &'static str,
    },
}
