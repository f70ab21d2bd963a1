//! One benchmark run: pick the venue (in-process simulator, a separately
//! started one, or a config file), start the engine with the [`Flow`],
//! measure the floor against the same venue, and collect everything the
//! report needs.
//!
//! Why one function: the order matters (engine first, floor right after on
//! the same simulator and connection kind; allocation snapshots inside the
//! engine run; RSS last) and every caller — the CLI, the script, tests —
//! should get the same measurement.

use super::floor::{self, Entry, FloorError, FloorRun, FloorSettings};
use super::flow::{Flow, FlowSettings, FlowStats};
use crate::cli::demo::{demo_sim_settings, order_size, sim_config};
use crate::config::{Config, ConfigError, Environment, OrderEntry, WaitStrategy};
use crate::engine::{Engine, EngineError, EngineOptions, EngineSummary};
use crate::model::{InstrumentId, Price, Quantity, Symbol};
use crate::sim::SimSettings;
use crate::sim::transport::{SimHandle, SimServer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Symbol the in-process benchmark trades.
pub const DEFAULT_SYMBOL: &str = "BTCUSDT";

/// Which venue the benchmark runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Venue {
    /// Start the simulator in this process, with order limits raised so the
    /// numbers are latency, not throttling.
    InProcess,
    /// A separately started `binance-exec sim` at this REST URL (its
    /// default account is used; its own limits apply).
    SimUrl(String),
    /// Any venue a config file names (URLs, credentials, TLS trust).
    ConfigFile(PathBuf),
}

/// Everything one run is told to do.
#[derive(Debug, Clone)]
pub struct BenchSettings {
    /// Measured orders.
    pub orders: u64,
    /// Warm-up orders before measuring.
    pub warmup: u64,
    /// Orders per second; 0 = back to back.
    pub rate_per_sec: u64,
    /// Order-entry channel (engine and floor).
    pub entry: Entry,
    /// Wait strategy of the network, execution and strategy threads
    /// (`None` keeps the config's).
    pub waits: [Option<WaitStrategy>; 3],
    /// Cores of the network, execution and strategy threads.
    pub cores: Option<[usize; 3]>,
    /// TLS to the in-process simulator.
    pub tls: bool,
    /// The venue.
    pub venue: Venue,
    /// Symbol (in-process and `--sim-url`; a config file's first `load_ids`
    /// entry otherwise).
    pub symbol: String,
    /// Order quantity and tick when the venue is not the default simulator.
    pub qty_tick: Option<(Quantity, Price)>,
    /// Upper bound on the engine part of the run.
    pub max_runtime: Duration,
}

impl Default for BenchSettings {
    fn default() -> Self {
        BenchSettings {
            orders: 10_000,
            warmup: 500,
            rate_per_sec: 0,
            entry: Entry::Rest,
            waits: [None; 3],
            cores: None,
            tls: false,
            venue: Venue::InProcess,
            symbol: DEFAULT_SYMBOL.to_string(),
            qty_tick: None,
            max_runtime: Duration::from_secs(600),
        }
    }
}

/// Why a run could not produce numbers.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The simulator could not start.
    #[error("simulator: {0}")]
    Sim(String),
    /// The config could not be built or loaded.
    #[error("config: {0}")]
    Config(#[from] ConfigError),
    /// Something the user asked for cannot be done (names the option).
    #[error("{0}")]
    Usage(String),
    /// The engine failed to start or stop.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// `--entry ws-api` was asked for but the engine sent no order over the
    /// WebSocket API (it could not connect and fell back to REST), so the
    /// numbers would describe the wrong path.
    #[error(
        "engine: order_entry = ws_api, but no order went over the WebSocket API \
         ({0} fell back to REST); the numbers would describe REST"
    )]
    WsApiNotUsed(u64),
    /// The floor could not be measured.
    #[error(transparent)]
    Floor(#[from] FloorError),
}

/// What a finished run measured.
#[derive(Debug)]
pub struct BenchOutcome {
    /// The effective engine config (threads, entry, URLs).
    pub config: Config,
    /// The engine's summary (latency histograms, counters, events).
    pub summary: Option<EngineSummary>,
    /// What the flow counted, and the allocation snapshots.
    pub flow: Arc<FlowStats>,
    /// The floor's histogram.
    pub floor: Option<FloorRun>,
    /// First error, if the run did not complete (numbers so far are kept).
    pub error: Option<BenchError>,
}

/// The venue: config, optional in-process simulator, instrument, sizes.
struct Target {
    config: Config,
    sim: Option<SimHandle>,
    instrument: InstrumentId,
    qty: Quantity,
    tick: Price,
}

fn sizes_for(s: &BenchSettings, symbol: &str) -> Result<(Quantity, Price), BenchError> {
    if let Some((q, t)) = s.qty_tick {
        return Ok((q, t));
    }
    order_size(&SimSettings::default(), symbol)
        .map(|(t, q)| (q, t))
        .ok_or_else(|| {
            BenchError::Usage(format!(
                "{symbol} is not a default simulator symbol: pass --qty and --tick"
            ))
        })
}

fn target(s: &BenchSettings) -> Result<Target, BenchError> {
    match &s.venue {
        Venue::InProcess => {
            let mut settings = demo_sim_settings(1, false);
            // Latency, not throttling: the simulator advertises these in
            // exchangeInfo, so the engine's local limiter agrees.
            settings.server.limits.weight_per_minute = u32::MAX / 2;
            settings.server.limits.orders_per_10s = u32::MAX / 2;
            settings.server.limits.orders_per_minute = u32::MAX / 2;
            settings.server.tls = s.tls;
            let (tick, qty) = order_size(&settings, &s.symbol).ok_or_else(|| {
                BenchError::Usage(format!("the simulator does not list {}", s.symbol))
            })?;
            let sim = SimServer::start(&settings).map_err(|e| BenchError::Sim(e.to_string()))?;
            let mut config = match sim_config(&sim, &settings, &s.symbol, false) {
                Ok(c) => c,
                Err(e) => {
                    sim.shutdown();
                    return Err(e.into());
                }
            };
            config.tls_ca_file = sim.ca_pem_path().map(|p| p.to_path_buf());
            let instrument = Symbol::new(&s.symbol)
                .map(InstrumentId::perp)
                .map_err(|e| BenchError::Usage(format!("--symbol {}: {e}", s.symbol)))?;
            Ok(Target {
                config,
                sim: Some(sim),
                instrument,
                qty,
                tick,
            })
        }
        Venue::SimUrl(url) => {
            if s.tls || url.starts_with("https") {
                return Err(BenchError::Usage(
                    "--sim-url with TLS needs the simulator's CA: use --config with tls_ca_file"
                        .into(),
                ));
            }
            let base = url.trim_end_matches('/');
            let ws = base.replacen("http://", "ws://", 1);
            let text = format!(
                "base_url_http = \"{base}\"\nbase_url_ws = \"{ws}\"\n\
                 base_url_ws_api = \"{ws}/ws-fapi/v1\"\n\
                 [instrument_provider]\nload_ids = [\"{}-PERP.BINANCE\"]\n\
                 [engine]\ncancel_all_on_shutdown = true\n[sim]\n",
                s.symbol
            );
            if text.contains('\\') || s.symbol.contains('"') || base.contains('"') {
                return Err(BenchError::Usage(
                    "--sim-url / --symbol contain quotes".into(),
                ));
            }
            let config = Config::from_toml_str(&text, None, &Environment::from_pairs(&[]))?;
            let (qty, tick) = sizes_for(s, &s.symbol)?;
            let instrument = Symbol::new(&s.symbol)
                .map(InstrumentId::perp)
                .map_err(|e| BenchError::Usage(format!("--symbol {}: {e}", s.symbol)))?;
            Ok(Target {
                config,
                sim: None,
                instrument,
                qty,
                tick,
            })
        }
        Venue::ConfigFile(path) => {
            let config = Config::load(path)?;
            let instrument = config
                .instrument_provider
                .load_ids
                .first()
                .copied()
                .ok_or_else(|| BenchError::Usage("the config loads no instrument".into()))?;
            let (qty, tick) = sizes_for(s, instrument.symbol.as_str())?;
            Ok(Target {
                config,
                sim: None,
                instrument,
                qty,
                tick,
            })
        }
    }
}

/// Applies the thread and entry options to the config.
fn apply_options(config: &mut Config, s: &BenchSettings) -> Result<(), BenchError> {
    let threads = [
        &mut config.threads.network,
        &mut config.threads.execution,
        &mut config.threads.strategy,
    ];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (i, t) in threads.into_iter().enumerate() {
        if let Some(w) = s.waits.get(i).copied().flatten() {
            t.wait = w;
        }
        if let Some(c) = s.cores.and_then(|c| c.get(i).copied()) {
            if c >= cores {
                return Err(BenchError::Usage(format!(
                    "--cores: core {c} does not exist (this machine has {cores})"
                )));
            }
            t.core = Some(c);
        }
    }
    config.order_entry = match s.entry {
        Entry::Rest => OrderEntry::Rest,
        Entry::WsApi => OrderEntry::WsApi,
    };
    Ok(())
}

/// Runs the benchmark (see the module docs). A run that fails part-way
/// still returns what it measured, with the error.
pub fn run(s: &BenchSettings) -> Result<BenchOutcome, BenchError> {
    let Target {
        mut config,
        sim,
        instrument,
        qty,
        tick,
    } = target(s)?;
    let result = (|| {
        apply_options(&mut config, s)?;
        let mut fs = FlowSettings::new(instrument, qty, tick);
        fs.orders = s.orders;
        fs.warmup = s.warmup;
        fs.rate_per_sec = s.rate_per_sec;
        let flow = Flow::new(fs);
        let stats = flow.stats();
        let floor_settings = FloorSettings {
            rest_url: config.base_url_http.url.clone(),
            ws_api_url: config.base_url_ws_api.url.clone(),
            entry: s.entry,
            ca_file: config.tls_ca_file.clone(),
            api_key: config.credentials.api_key.expose().to_string(),
            api_secret: config.credentials.api_secret.expose().to_string(),
            recv_window_ms: u32::try_from(config.recv_window_ms).ok(),
            symbol: instrument.symbol,
            qty,
            tick,
            orders: s.orders,
            warmup: s.warmup,
        };
        let mut out = BenchOutcome {
            config: config.clone(),
            summary: None,
            flow: Arc::clone(&stats),
            floor: None,
            error: None,
        };
        let opts = EngineOptions {
            // The flow paces orders and settles phases on this timer.
            timer_interval: Some(if s.rate_per_sec > 0 {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(5)
            }),
            max_runtime: Some(s.max_runtime),
            hgrm_dir: None,
        };
        match Engine::start(config.clone(), flow, opts)
            .and_then(|h| h.wait(s.max_runtime + Duration::from_secs(60)))
        {
            Ok(summary) => {
                let c = &summary.counters;
                if s.entry == Entry::WsApi && c.ws_api_order_requests == 0 {
                    out.error = Some(BenchError::WsApiNotUsed(c.rest_fallbacks));
                }
                out.summary = Some(summary);
            }
            Err(e) => out.error = Some(e.into()),
        }
        match floor::measure(&floor_settings) {
            Ok(f) => out.floor = Some(f),
            Err(e) => {
                if out.error.is_none() {
                    out.error = Some(e.into());
                }
            }
        }
        Ok(out)
    })();
    if let Some(sim) = sim {
        sim.shutdown();
    }
    result
}
