//! One soak against the in-process simulator: start the venue, the engine
//! and the mix, play the fault schedule, drain, stop, audit, write the
//! outputs, search them for the secret.
//!
//! Why in-process: the ledger is read straight from the venue the engine
//! traded against, and a soak needs no ports, files or credentials set up
//! by hand — `binance-exec soak` runs anywhere `cargo test` does.

use super::compare::{EngineView, VenueView, compare};
use super::faults::{FaultKind, FaultPlan, FaultTarget, play};
use super::mix::{MixSettings, SoakMix};
use super::secrets::scan_dir;
use super::summary::SoakSummary;
use crate::cli::demo::{SimControl, order_size};
use crate::config::{Config, Environment};
use crate::engine::{Engine, EngineOptions, EngineSummary};
use crate::model::{InstrumentId, OrderState, Price, Quantity, Symbol};
use crate::sim::SimSettings;
use crate::sim::transport::faults::FaultPatch;
use crate::sim::transport::{SimHandle, SimServer};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one soak run does.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// Trading time (faults stop [`super::faults::QUIET_TAIL`] before it).
    pub duration: Duration,
    /// Strategy actions per second.
    pub rate: u32,
    /// Fault kinds to inject.
    pub faults: Vec<FaultKind>,
    /// Mean time between two injected faults.
    pub fault_every: Duration,
    /// Seed of the market, the order mix and the fault schedule.
    pub seed: u64,
    /// Where logs, summaries and child outputs go.
    pub out_dir: PathBuf,
    /// Symbol to trade (any the simulator lists).
    pub symbol: String,
    /// Also audit through the venue's REST lists (`allOrders`,
    /// `userTrades`, `positionRisk`) as if the simulator were remote, next
    /// to the ledger audit (`--rest-audit`).
    pub rest_audit: bool,
}

impl SoakOptions {
    /// Defaults for `duration`: 20 actions/s, every default fault kind
    /// every 1.5 s, seed 1, BTCUSDT, outputs under the temp dir.
    pub fn new(duration: Duration) -> Self {
        SoakOptions {
            duration,
            rate: 20,
            faults: FaultKind::DEFAULT_ALL.to_vec(),
            fault_every: Duration::from_millis(1500),
            seed: 1,
            out_dir: std::env::temp_dir().join(format!("binance-exec-soak-{}", std::process::id())),
            symbol: "BTCUSDT".into(),
            rest_audit: false,
        }
    }
}

/// How long draining may take before the run is failed.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// The simulator's settings for a soak: seeded, and with the 24-hour cut
/// compressed so that it happens during the run when `Rotation` is on (the
/// connection lifetime becomes 60 % of the run).
pub fn soak_sim_settings(opts: &SoakOptions) -> SimSettings {
    let mut s = SimSettings::default();
    s.server.seed = opts.seed;
    s.venue.market.seed = opts.seed;
    // Odd seeds send a fill's ACCOUNT_UPDATE before its ORDER_TRADE_UPDATE
    // (as the live venue is seen to), even seeds after: positions must come
    // out right both ways.
    s.venue.account_update_first = opts.seed % 2 == 1;
    if opts.faults.contains(&FaultKind::Rotation) {
        s.server.time_scale = 86_400.0 / (opts.duration.as_secs_f64() * 0.6).max(1.0);
    }
    s
}

/// A TOML basic string (one escaping rule for every generated config).
pub(crate) use crate::cli::demo::toml_str;

/// The client config (TOML text) for the running simulator; `extra_engine`
/// lines go into `[engine]`.
pub fn engine_toml(sim: &SimHandle, symbol: &str, extra_engine: &[String]) -> String {
    let mut t = format!(
        "base_url_http = {}\nbase_url_ws = {}\nbase_url_ws_api = {}\nposition_mode = \"one_way\"\n\
         [instrument_provider]\nload_ids = [{}]\n[engine]\ncancel_all_on_shutdown = true\n",
        toml_str(&sim.rest_url()),
        toml_str(&sim.stream_url()),
        toml_str(&sim.ws_api_url()),
        toml_str(&format!("{symbol}-PERP.BINANCE")),
    );
    for l in extra_engine {
        t.push_str(l);
        t.push('\n');
    }
    t.push_str("[sim]\n");
    t
}

/// Parses the config for the running simulator (no process environment).
/// Each of the `optional` engine keys (other layers' keys, used by name) is
/// kept only if this build's loader accepts it; the refused ones are
/// returned with the loader's reason.
pub fn load_with_optional_keys(
    sim: &SimHandle,
    symbol: &str,
    optional: &[String],
) -> Result<(Config, String, Vec<String>), String> {
    let env = Environment::from_pairs(&[]);
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = Vec::new();
    for key in optional {
        let mut trial = kept.clone();
        trial.push(key.clone());
        match Config::from_toml_str(&engine_toml(sim, symbol, &trial), None, &env) {
            Ok(_) => kept = trial,
            Err(e) => dropped.push(format!("config key `{key}` refused by this build: {e}")),
        }
    }
    let text = engine_toml(sim, symbol, &kept);
    let c = Config::from_toml_str(&text, None, &env).map_err(|e| e.to_string())?;
    Ok((c, text, dropped))
}

/// Faults into the in-process simulator.
pub struct SimTarget<'a> {
    /// The simulator.
    pub sim: &'a SimHandle,
    /// Symbol whose position ADL hits.
    pub symbol: String,
    /// Quantity deleveraged per injection.
    pub adl_qty: Quantity,
}

impl FaultTarget for SimTarget<'_> {
    fn apply(&self, patch: &FaultPatch) {
        self.sim.set_faults(patch);
    }
    fn inject_adl(&self, style: &str) -> Result<(), String> {
        let body = format!(
            "{{\"kind\":\"adl\",\"symbol\":{},\"qty\":\"{}\",\"style\":\"{style}\"}}",
            sonic_rs::to_string(&self.symbol).map_err(|e| e.to_string())?,
            self.adl_qty
        );
        SimControl::new(self.sim.local_addr())
            .post("/sim/inject", &body)
            .map(|_| ())
    }
}

/// Runs one in-process soak (see the module docs). Never panics on a
/// failing engine: every problem ends up in the summary.
pub fn run_sim(opts: &SoakOptions) -> SoakSummary {
    let mut sum = SoakSummary {
        mode: "sim".into(),
        seed: opts.seed,
        rate: opts.rate,
        out_dir: opts.out_dir.display().to_string(),
        ..Default::default()
    };
    let Some((settings, sim, tick, qty)) = start_sim(opts, &mut sum) else {
        return sum;
    };
    let optional = optional_engine_keys(&settings, opts);
    let (mut config, text, dropped) = match load_with_optional_keys(&sim, &opts.symbol, &optional) {
        Ok(x) => x,
        Err(e) => {
            sum.errors.push(format!("config: {e}"));
            return sum;
        }
    };
    sum.skipped_checks.extend(dropped);
    config.sim = Some(settings.clone());
    let secret = config.credentials.api_secret.expose().as_bytes().to_vec();
    write(&opts.out_dir.join("engine.toml"), &text, &mut sum);
    let instrument = match Symbol::new(&opts.symbol) {
        Ok(s) => InstrumentId::perp(s),
        Err(e) => {
            sum.errors.push(format!("symbol {}: {e}", opts.symbol));
            return sum;
        }
    };
    let rest = opts.rest_audit.then(|| config.clone());
    let since_ms = crate::latency::clock::wall_ns() / 1_000_000 - 60_000;
    let outcome = trade(&sim, config, opts, instrument, qty, tick, &mut sum);
    let venue = VenueView::from_sim(&sim, 0);
    // The same venue read as a remote one, over signed REST.
    let rest_view = rest.map(|c| remote_view(&c, &opts.symbol, since_ms));
    sim.shutdown();
    if let Some((engine, mix)) = outcome {
        audit(&engine, &mix, &venue, &mut sum);
        match rest_view {
            Some(Ok(v)) => sum.rest_audit = Some(compare(engine_view(&engine, &mix), &v)),
            Some(Err(e)) => sum.errors.push(format!("REST audit: {e}")),
            None => {}
        }
        let mut events = String::new();
        for (i, line) in engine.events.iter().enumerate() {
            let ms = engine.event_ms.get(i).copied().unwrap_or(0);
            events.push_str(&format!("{:>6}.{:03} {line}\n", ms / 1000, ms % 1000));
        }
        write(&opts.out_dir.join("engine-events.log"), &events, &mut sum);
        // What the strategy was told, one fill per line: the other half of
        // a "never delivered" or "delivered twice" verdict.
        let mut fills = String::from(
            "symbol trade_id venue_order_id client_id side qty price kind recovered\n",
        );
        for f in &mix.fills {
            fills.push_str(&format!(
                "{} {} {} {} {:?} {} {} {:?} {}\n",
                f.instrument.symbol,
                f.trade_id,
                f.venue_order_id,
                if f.client_id.as_str().is_empty() {
                    "-"
                } else {
                    f.client_id.as_str()
                },
                f.side,
                f.quantity,
                f.price,
                f.kind,
                f.recovered
            ));
        }
        write(&opts.out_dir.join("strategy-fills.log"), &fills, &mut sum);
    }
    finish_outputs(&opts.out_dir, &secret, &mut sum);
    sum
}

/// The run's output folder, the simulator's settings and the started
/// simulator with the symbol's tick and order size; `None` (with the reason
/// in the summary) when any of them cannot be had. Shared by every sim mode.
pub(crate) fn start_sim(
    opts: &SoakOptions,
    sum: &mut SoakSummary,
) -> Option<(SimSettings, SimHandle, Price, Quantity)> {
    if let Err(e) = std::fs::create_dir_all(&opts.out_dir) {
        sum.errors
            .push(format!("--out {}: {e}", opts.out_dir.display()));
        return None;
    }
    let settings = soak_sim_settings(opts);
    let Some((tick, qty)) = order_size(&settings, &opts.symbol) else {
        sum.errors
            .push(format!("the simulator does not list {}", opts.symbol));
        return None;
    };
    match SimServer::start(&settings) {
        Ok(sim) => Some((settings, sim, tick, qty)),
        Err(e) => {
            sum.errors.push(format!("simulator: {e}"));
            None
        }
    }
}

/// Engine keys other helpers add; tried by name, dropped (and reported)
/// when this build's loader refuses them.
pub(crate) fn optional_engine_keys(settings: &SimSettings, opts: &SoakOptions) -> Vec<String> {
    let mut keys = Vec::new();
    if opts.faults.contains(&FaultKind::Rotation) {
        // Keep the listenKey alive well inside its compressed validity.
        let validity = settings.server.scaled(3_600_000).as_secs_f64();
        keys.push(format!(
            "listen_key_keepalive_secs = {}",
            (validity / 3.0).max(1.0).floor() as u64
        ));
    }
    keys.push("reconcile_interval_secs = 2".into());
    keys
}

type Traded = (EngineSummary, super::mix::MixLog);

fn trade(
    sim: &SimHandle,
    config: Config,
    opts: &SoakOptions,
    instrument: InstrumentId,
    qty: Quantity,
    tick: Price,
    sum: &mut SoakSummary,
) -> Option<Traded> {
    let mix = SoakMix::new(MixSettings::new(instrument, qty, tick, opts.seed));
    let shared = mix.shared();
    let hgrm = opts.out_dir.join("hgrm");
    let _ = std::fs::create_dir_all(&hgrm);
    let eopts = EngineOptions {
        timer_interval: Some(Duration::from_secs_f64(1.0 / f64::from(opts.rate.max(1)))),
        max_runtime: None,
        hgrm_dir: Some(hgrm),
    };
    let handle = match Engine::start(config, mix, eopts) {
        Ok(h) => h,
        Err(e) => {
            sum.errors.push(format!("engine start: {e}"));
            return None;
        }
    };
    let plan = FaultPlan::new(&opts.faults, opts.duration, opts.fault_every, opts.seed);
    let target = SimTarget {
        sim,
        symbol: opts.symbol.clone(),
        adl_qty: qty,
    };
    let start = Instant::now();
    let stop = AtomicBool::new(false);
    let counts = std::thread::scope(|s| {
        let faults = s.spawn(|| play(&plan, &target, start, &|| stop.load(Ordering::Acquire)));
        while start.elapsed() < opts.duration && !handle.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Release);
        faults.join().unwrap_or_default()
    });
    sum.faults = counts;
    if opts.faults.contains(&FaultKind::Rotation) {
        let life = soak_sim_settings(opts).server.scaled(86_400_000);
        let cuts = (opts.duration.as_secs_f64() / life.as_secs_f64().max(0.001)).floor() as u64;
        sum.faults.add(FaultKind::Rotation, cuts.max(1));
    }
    sum.duration_secs = start.elapsed().as_secs_f64();
    if handle.is_finished() {
        sum.errors
            .push("the engine stopped by itself during the run".into());
    }
    shared.start_draining();
    let drain_start = Instant::now();
    while !shared.is_drained() && drain_start.elapsed() < DRAIN_LIMIT && !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !shared.is_drained() {
        sum.errors.push(format!(
            "orders still live after draining for {} s",
            DRAIN_LIMIT.as_secs()
        ));
    }
    // Late stream events (cancel confirmations) settle.
    std::thread::sleep(Duration::from_millis(500));
    let engine = match handle.stop() {
        Ok(s) => s,
        Err(e) => {
            sum.errors.push(format!("engine: {e}"));
            return None;
        }
    };
    let log = std::mem::take(&mut *shared.log());
    Some((engine, log))
}

/// Counts and compares one finished run against `venue`.
pub(crate) fn audit(
    engine: &EngineSummary,
    mix: &super::mix::MixLog,
    venue: &VenueView,
    sum: &mut SoakSummary,
) {
    let count = |st: OrderState| engine.orders.iter().filter(|o| o.state == st).count() as u64;
    sum.submitted = mix.submitted.len() as u64;
    sum.acknowledged = engine.counters.acked;
    sum.filled = count(OrderState::Filled);
    sum.canceled = count(OrderState::Canceled);
    sum.expired = count(OrderState::Expired);
    sum.rejected = count(OrderState::Rejected);
    sum.rejections_by_code = mix.rejections.iter().map(|(c, n)| (*c, *n)).collect();
    sum.cancels_sent = mix.cancels;
    sum.modifies_sent = mix.modifies;
    sum.unknown_fates = mix.unknown_fates;
    sum.retries = engine.counters.retries;
    sum.rate_limit_backoffs = engine.counters.rate_limit_backoffs;
    sum.reconnects = engine.counters.reconnects;
    sum.cancels_coalesced = engine.counters.cancels_coalesced;
    sum.bad_frames_logged = engine.counters.bad_input.total();
    sum.latency_text = engine.latency.to_string();
    sum.latency_json = engine.latency.to_json();
    sum.comparison = Some(compare(engine_view(engine, mix), venue));
}

/// The engine's side of the audit: what the strategy sent and was told,
/// and the engine's final orders and positions.
pub(crate) fn engine_view<'a>(
    engine: &'a EngineSummary,
    mix: &'a super::mix::MixLog,
) -> EngineView<'a> {
    EngineView {
        submitted: &mix.submitted,
        orders: &engine.orders,
        fills: &mix.fills,
        positions: &engine.positions,
    }
}

/// The venue's lists for `symbol` since `since_ms`, read over signed REST
/// with `config`'s URL and credentials.
pub(crate) fn remote_view(
    config: &Config,
    symbol: &str,
    since_ms: i64,
) -> Result<VenueView, super::rest_client::RestAuditError> {
    let mut client = super::rest_client::SignedRest::from_config(config)?;
    client.sync_clock()?;
    super::rest_audit::fetch_venue_view(&client, symbol, since_ms)
}

fn write(path: &Path, text: &str, sum: &mut SoakSummary) {
    if let Err(e) = std::fs::write(path, text) {
        sum.errors.push(format!("{}: {e}", path.display()));
    }
}

/// Writes `summary.txt` / `summary.json`, then searches everything under
/// `out` for the secret (and records the result in `sum`).
pub fn finish_outputs(out: &Path, secret: &[u8], sum: &mut SoakSummary) {
    let text = sum.to_text();
    write(&out.join("summary.txt"), &text, sum);
    let json = sum.to_json();
    write(&out.join("summary.json"), &json, sum);
    match scan_dir(out, secret) {
        Ok((hits, files)) => {
            sum.files_scanned = files;
            sum.secret_leaks = hits.iter().map(|h| h.path.display().to_string()).collect();
        }
        Err(e) => sum.errors.push(format!("secret check: {e}")),
    }
    // The final verdict (with the secret check) replaces the first write.
    let text = sum.to_text();
    write(&out.join("summary.txt"), &text, sum);
    let json = sum.to_json();
    write(&out.join("summary.json"), &json, sum);
}
