//! One benchmark run: pick the venue (in-process simulator, a separately
//! started one, or a config file), start the engine with the [`Flow`],
//! measure the floor against the same venue, and collect everything the
//! report needs.
//!
//! Why one function: the order matters and every caller — the CLI, the
//! script, tests — should get the same measurement. The engine warms up;
//! then floor blocks and engine blocks alternate (F0 E0 F1 E1 … E(n-1) Fn)
//! on the same simulator and connection kind, so each engine block has a
//! floor block measured just before and just after it: on a VM whose
//! loopback round trip jumps between modes from minute to minute, only a
//! ratio to an adjacent floor means anything. Each floor block runs the bare
//! floor and the loaded floor (alternating which goes first). Allocation
//! snapshots are taken inside the engine run; RSS last.

use super::floor::{
    Entry, FloorClient, FloorError, FloorKind, FloorRun, FloorSettings, StreamBytes,
};
use super::flow::{Flow, FlowSettings, FlowStats, latency_histogram};
use crate::cli::demo::{demo_sim_settings, order_size, sim_config};
use crate::config::{Config, ConfigError, Environment, OrderEntry, WaitStrategy};
use crate::engine::EngineHandle;
use crate::engine::{Engine, EngineError, EngineOptions, EngineSummary};
use crate::latency::{LatencyPath, LatencyRecorder};
use crate::model::{InstrumentId, Price, Quantity, Symbol};
use crate::sim::SimSettings;
use crate::sim::transport::{SimHandle, SimServer};
use crate::sim::venue::fill_stamps::FillStamps;
use hdrhistogram::Histogram;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

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
    /// `spin_us` of every thread (`spin_park`'s hot window; `None` keeps
    /// the config's).
    pub spin_us: Option<u32>,
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
    /// Measured blocks, each between two floor blocks (at least 1).
    pub blocks: u64,
    /// Also measure the loaded floor (streams held and read).
    pub loaded_floor: bool,
    /// Capture a backtrace for the first this-many allocations per engine
    /// thread after warm-up (0 = off).
    pub alloc_trace: usize,
    /// Overrides `[engine] order_pool_size`: a small pool makes the engine
    /// release finished orders again and again, so a run proves that path
    /// allocation-free too.
    pub order_pool_size: Option<usize>,
    /// In-process simulator only: write a request's user-stream events
    /// before its REST / WS-API reply (`[sim.server] event_first`), as the
    /// venue streams an order's events the moment it matched, independently
    /// of the reply. Off: the reply goes first (the simulator's default).
    pub event_first: bool,
}

impl Default for BenchSettings {
    fn default() -> Self {
        BenchSettings {
            orders: 10_000,
            warmup: 500,
            rate_per_sec: 0,
            entry: Entry::Rest,
            waits: [None; 3],
            spin_us: None,
            cores: None,
            tls: false,
            venue: Venue::InProcess,
            symbol: DEFAULT_SYMBOL.to_string(),
            qty_tick: None,
            max_runtime: Duration::from_secs(600),
            blocks: 10,
            loaded_floor: true,
            alloc_trace: 0,
            order_pool_size: None,
            event_first: false,
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
    /// The bare floor, all blocks pooled (the `floor` row).
    pub floor: Option<FloorRun>,
    /// Per-block floors (bare and loaded), for the per-block ratios.
    pub floors: Option<BlockFloors>,
    /// One thread-to-thread hop with the execution thread's wait strategy,
    /// measured right after the engine stopped ([`super::handoff`]).
    pub handoff: Option<Histogram<u64>>,
    /// First error, if the run did not complete (numbers so far are kept).
    pub error: Option<BenchError>,
}

/// The floors measured between the engine blocks: `blocks + 1` blocks each.
#[derive(Debug)]
pub struct BlockFloors {
    /// Bare floor round trips per floor block.
    pub bare: Vec<Histogram<u64>>,
    /// Loaded floor round trips per floor block (empty when not measured).
    pub loaded: Vec<Histogram<u64>>,
    /// What the loaded floor's streams delivered.
    pub loaded_streams: StreamBytes,
}

/// Credentials for a floor client, when they differ from the engine's.
type Keys = Option<(String, String)>;

/// The venue: config, optional in-process simulator, instrument, sizes.
struct Target {
    config: Config,
    sim: Option<SimHandle>,
    instrument: InstrumentId,
    qty: Quantity,
    tick: Price,
    /// Accounts of the bare and the loaded floor (in-process: their own, so
    /// the engine's user stream never sees the floors' orders).
    floor_keys: [Keys; 2],
    /// The simulator's fill instants (in-process only).
    fill_stamps: Option<Arc<FillStamps>>,
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
            settings.server.event_first = s.event_first;
            // The venue shares the cores with the engine it measures: same
            // scheduler slice, so neither preempts the other mid-message.
            settings.server.short_slice = true;
            // Accounts 1 and 2 trade for the bare and the loaded floor.
            while settings.venue.accounts.len() < 3 {
                let n = settings.venue.accounts.len();
                settings
                    .venue
                    .accounts
                    .push(crate::sim::venue::settings::AccountSettings {
                        api_key: format!("benchFloorAccount{n}ApiKey{:0>40}", n),
                        api_secret: format!("benchFloorAccount{n}Secret{:0>40}", n),
                        ..Default::default()
                    });
            }
            let keys = |i: usize| {
                settings
                    .venue
                    .accounts
                    .get(i)
                    .map(|a| (a.api_key.clone(), a.api_secret.clone()))
            };
            let floor_keys = [keys(1), keys(2)];
            let (tick, qty) = order_size(&settings, &s.symbol).ok_or_else(|| {
                BenchError::Usage(format!("the simulator does not list {}", s.symbol))
            })?;
            let sim = SimServer::start(&settings).map_err(|e| BenchError::Sim(e.to_string()))?;
            let stamps = Arc::new(FillStamps::with_capacity(1 << 16));
            sim.with_venue(|v| v.stamp_fills(Some(Arc::clone(&stamps))));
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
                floor_keys,
                fill_stamps: Some(stamps),
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
                floor_keys: [None, None],
                fill_stamps: None,
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
                floor_keys: [None, None],
                fill_stamps: None,
            })
        }
    }
}

/// Applies the thread and entry options to the config.
fn apply_options(config: &mut Config, s: &BenchSettings) -> Result<(), BenchError> {
    if let Some(n) = s.order_pool_size {
        config.engine.order_pool_size = n;
    }
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
        if s.spin_us.is_some() {
            t.spin_us = s.spin_us;
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
        floor_keys,
        fill_stamps,
    } = target(s)?;
    let result = (|| {
        apply_options(&mut config, s)?;
        let mut fs = FlowSettings::new(instrument, qty, tick);
        fs.orders = s.orders;
        fs.warmup = s.warmup;
        fs.rate_per_sec = s.rate_per_sec;
        fs.blocks = s.blocks.max(1);
        fs.gated = true;
        fs.fill_stamps = fill_stamps;
        let plan = fs.clone();
        let flow = Flow::new(fs);
        let stats = flow.stats();
        let base = FloorSettings {
            rest_url: config.base_url_http.url.clone(),
            ws_api_url: config.base_url_ws_api.url.clone(),
            stream_url: config.base_url_ws.url.clone(),
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
        let floor_settings = floor_keys.map(|k| {
            let mut f = base.clone();
            if let Some((key, secret)) = k {
                f.api_key = key;
                f.api_secret = secret;
            }
            f
        });
        let mut out = BenchOutcome {
            config: config.clone(),
            summary: None,
            flow: Arc::clone(&stats),
            floor: None,
            floors: None,
            handoff: None,
            error: None,
        };
        let opts = EngineOptions {
            // The flow paces orders, settles phases and checks whether the
            // next block may run on this timer.
            timer_interval: Some(if s.rate_per_sec > 0 {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(5)
            }),
            max_runtime: Some(s.max_runtime),
            hgrm_dir: None,
        };
        super::alloc::enable_trace(s.alloc_trace);
        let handle = Engine::start(config.clone(), flow, opts)?;
        let mut il = Interleave {
            stats: &stats,
            handle: &handle,
            plan: &plan,
            deadline: Instant::now() + s.max_runtime,
            floors: BlockFloors {
                bare: Vec::new(),
                loaded: Vec::new(),
                loaded_streams: StreamBytes::default(),
            },
        };
        let floor_result = il.run(&floor_settings, s.loaded_floor);
        let floors = il.floors;
        // Whatever happened to the floor, let the engine finish its blocks.
        stats.block_allowed.store(u64::MAX, Ordering::Release);
        match handle.wait(s.max_runtime + Duration::from_secs(60)) {
            Ok(summary) => {
                let c = &summary.counters;
                if s.entry == Entry::WsApi && c.ws_api_order_requests == 0 {
                    out.error = Some(BenchError::WsApiNotUsed(c.rest_fallbacks));
                }
                out.summary = Some(summary);
            }
            Err(e) => out.error = Some(e.into()),
        }
        if let Err(e) = floor_result
            && out.error.is_none()
        {
            out.error = Some(e.into());
        }
        out.floor = Some(pooled_floor(&floors.bare));
        out.floors = Some(floors);
        out.handoff = Some(super::handoff::measure(
            config.threads.execution.wait,
            HANDOFF_HOPS,
        ));
        Ok(out)
    })();
    if let Some(sim) = sim {
        sim.shutdown();
    }
    result
}

/// Hops in the hand-off floor (about a second with parking threads).
const HANDOFF_HOPS: u64 = 4_000;

/// Folds the bare floor blocks into the `floor` row's recorder.
fn pooled_floor(blocks: &[Histogram<u64>]) -> FloorRun {
    let mut recorder = LatencyRecorder::new();
    let mut requests = 0;
    for h in blocks {
        for v in h.iter_recorded() {
            for _ in 0..v.count_at_value() {
                recorder.record(LatencyPath::Floor, v.value_iterated_to());
            }
        }
        requests += h.len();
    }
    FloorRun { recorder, requests }
}

/// The main thread's side of the interleaving: floor blocks while the
/// engine waits, engine blocks while the floor clients idle.
struct Interleave<'a> {
    stats: &'a FlowStats,
    handle: &'a EngineHandle,
    plan: &'a FlowSettings,
    deadline: Instant,
    floors: BlockFloors,
}

impl Interleave<'_> {
    /// Waits until `ready` holds; `false` when the engine stopped, the flow
    /// failed or the run's time is up.
    fn wait_for(&self, ready: impl Fn(&FlowStats) -> bool) -> bool {
        // Backs off to 5 ms: this thread shares the cores with the engine it
        // measures, and a 200 µs poll through a whole engine block was a
        // few thousand extra wake-ups a second on the box.
        let mut nap = Duration::from_micros(200);
        loop {
            if ready(self.stats) {
                return true;
            }
            if self.handle.is_finished()
                || self.stats.failure().is_some()
                || Instant::now() >= self.deadline
            {
                return false;
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(5));
        }
    }

    fn run(&mut self, settings: &[FloorSettings; 2], loaded: bool) -> Result<(), FloorError> {
        let [bare_s, loaded_s] = settings;
        let mut bare = FloorClient::open(bare_s, FloorKind::Bare)?;
        let mut load = if loaded {
            Some(FloorClient::open(loaded_s, FloorKind::Loaded)?)
        } else {
            None
        };
        if !self.wait_for(|s| s.warmed.load(Ordering::Acquire)) {
            return Ok(());
        }
        // The floors warm up too (caches, connections, the simulator's
        // per-account state), untimed.
        let warm = self.plan.warmup.min(400);
        bare.run(warm, None)?;
        if let Some(l) = &mut load {
            l.run(warm, None)?;
        }
        let blocks = self.plan.block_count();
        for k in 0..=blocks {
            let n = self.plan.block_len(k.min(blocks - 1));
            let mut hb = latency_histogram();
            let mut hl = latency_histogram();
            if k % 2 == 0 {
                bare.run(n, Some(&mut hb))?;
            }
            if let Some(l) = &mut load {
                l.run(n, Some(&mut hl))?;
            }
            if k % 2 == 1 {
                bare.run(n, Some(&mut hb))?;
            }
            self.floors.bare.push(hb);
            if let Some(l) = &load {
                self.floors.loaded.push(hl);
                self.floors.loaded_streams = l.stream_bytes();
            }
            if k == blocks {
                break;
            }
            if let Some(l) = &mut load {
                l.rest_streams();
            }
            self.stats.block_allowed.store(k + 1, Ordering::Release);
            if !self.wait_for(|s| s.blocks_done.load(Ordering::Acquire) > k) {
                return Ok(());
            }
        }
        Ok(())
    }
}
