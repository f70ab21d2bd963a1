//! The TOML file exactly as written: every key optional so defaults and
//! "was it set explicitly?" are both known, `Spanned` where a later semantic
//! check needs the line, and `deny_unknown_fields` everywhere so a typo
//! (`recv_windw_ms`) is an error instead of a silently ignored setting.

use super::{OrderEntry, PositionMode, WaitStrategy};
use crate::model::ids::InstrumentId;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub account_type: Option<Spanned<String>>,
    pub base_url_http: Option<Spanned<String>>,
    pub base_url_ws: Option<Spanned<String>>,
    pub base_url_ws_api: Option<Spanned<String>>,
    pub testnet: Option<Spanned<bool>>,
    pub us: Option<Spanned<bool>>,
    pub clock_sync_interval_secs: Option<Spanned<i64>>,
    pub warn_rate_limits: Option<bool>,
    pub max_retries: Option<Spanned<i64>>,
    pub retry_delay_secs: Option<Spanned<f64>>,
    pub retry_delay_max_secs: Option<Spanned<f64>>,
    pub recv_window_ms: Option<Spanned<i64>>,
    pub order_entry: Option<OrderEntry>,
    pub position_mode: Option<PositionMode>,
    pub api_key_env: Option<Spanned<String>>,
    pub api_secret_env: Option<Spanned<String>>,
    pub tls_ca_file: Option<Spanned<String>>,
    pub external_order_claims: Option<Vec<Spanned<InstrumentId>>>,
    #[serde(default)]
    pub instrument_provider: FileInstrumentProvider,
    #[serde(default)]
    pub threads: FileThreads,
    #[serde(default)]
    pub latency: FileLatency,
    #[serde(default)]
    pub engine: FileEngine,
    #[serde(default)]
    pub metrics: FileMetrics,
    pub sim: Option<crate::sim::SimSettings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileInstrumentProvider {
    pub load_all: Option<bool>,
    pub load_ids: Option<Spanned<Vec<Spanned<InstrumentId>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileThreads {
    pub network: Option<FileThread>,
    pub execution: Option<FileThread>,
    pub strategy: Option<FileThread>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileThread {
    pub core: Option<Spanned<i64>>,
    pub wait: Option<WaitStrategy>,
    pub spin_us: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLatency {
    pub submit_ack_ms: Option<Spanned<i64>>,
    pub fill_notify_ms: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileEngine {
    pub order_pool_size: Option<Spanned<i64>>,
    pub cancel_all_on_shutdown: Option<bool>,
    pub reconcile_interval_secs: Option<Spanned<i64>>,
    pub user_stream_silence_secs: Option<Spanned<i64>>,
    pub reconcile_hold_max_ms: Option<Spanned<i64>>,
    pub listen_key_keepalive_secs: Option<Spanned<i64>>,
    pub journal_path: Option<Spanned<String>>,
    pub journal_fsync: Option<Spanned<String>>,
    pub dead_man_switch_secs: Option<Spanned<i64>>,
    pub ws_api_reply_timeout_ms: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileMetrics {
    pub listen: Option<Spanned<String>>,
}
