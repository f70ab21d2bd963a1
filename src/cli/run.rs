//! `binance-exec run --config FILE --strategy order-cycle|maker|soak-mix [--duration SECS]`:
//! trade a shipped strategy against whatever venue the config names.
//!
//! The same binary and config run against the simulator, testnet and
//! mainnet; only the URLs and keys differ. Ctrl-C / SIGTERM set the engine's
//! stop flag (signal-hook), so a stop is always clean: `on_stop` runs, open
//! orders are cancelled when the config asks for it, and the latency report
//! is printed — an operator never has to choose between stopping and knowing
//! what happened.

use crate::config::Config;
use crate::engine::{Counters, Engine, EngineError, EngineOptions, EngineSummary, Strategy};
use crate::model::{InstrumentId, Price, Quantity};
use crate::strategies::{
    CycleReport, Maker, MakerSettings, MakerStats, OrderCycle, OrderCycleSettings, SharedReport,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Exit code when the run did not do what it should (a scenario failed, the
/// engine failed to start or stopped with an error).
pub const EXIT_FAILED: i32 = 1;

/// How long `wait` may outlast `--duration` while the engine shuts down
/// (cancel-all, listenKey delete) before we give up on it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// "Until stopped": long enough for any session, short enough that
/// `Instant + timeout` cannot overflow.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);
/// Period of `on_timer`: drives order-cycle's scenario timeouts.
pub(crate) const TIMER_INTERVAL: Duration = Duration::from_millis(50);

/// The shipped strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyName {
    /// Walk every order type through its lifecycle and report.
    OrderCycle,
    /// Post-only quotes on both sides within an inventory limit.
    Maker,
    /// The soak's steady mix of every order type (`binance-exec soak --crash`
    /// runs the engine this way as a child process).
    SoakMix,
}

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The TOML config file (venue URLs, credentials variables, instruments).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Which strategy to run.
    #[arg(long, value_enum, default_value = "order-cycle")]
    pub strategy: StrategyName,
    /// Stop after this many seconds (default: order-cycle stops when done,
    /// maker runs until Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Instrument to trade (default: the first of `load_ids`).
    #[arg(long, value_name = "ID")]
    pub instrument: Option<String>,
    /// Order quantity; must clear the instrument's minQty and MIN_NOTIONAL.
    #[arg(long, default_value = "0.002")]
    pub qty: String,
    /// The instrument's tick size (PRICE_FILTER), so prices are on the grid.
    #[arg(long, default_value = "0.1")]
    pub tick: String,
    /// order-cycle: longest a scenario may take. Conditional orders wait for
    /// the market to cross their trigger (no price nudges on a real venue),
    /// so give testnet/mainnet a minute or more.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub scenario_timeout: u64,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Runs the strategy until it finishes, the duration passes, or a signal
/// arrives; prints the results. Returns 0 on success.
pub fn run(args: Args) -> i32 {
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", args.config.display());
            return EXIT_FAILED;
        }
    };
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let instrument = match pick_instrument(args.instrument.as_deref(), &config) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return super::EXIT_USAGE;
        }
    };
    let (qty, tick) = match (Quantity::parse(&args.qty), Price::parse(&args.tick)) {
        (Ok(q), Ok(t)) if q.value().is_positive() && t.value().is_positive() => (q, t),
        _ => {
            eprintln!("--qty and --tick must be positive decimals");
            return super::EXIT_USAGE;
        }
    };
    let hedge = config.position_mode == crate::config::PositionMode::Hedge;
    let opts = EngineOptions {
        timer_interval: Some(TIMER_INTERVAL),
        max_runtime: args.duration.map(Duration::from_secs),
        hgrm_dir: None,
    };
    let wait_for = args
        .duration
        .map(|d| Duration::from_secs(d) + SHUTDOWN_GRACE)
        .unwrap_or(FOREVER);
    match args.strategy {
        StrategyName::OrderCycle => {
            let mut st = OrderCycleSettings::new(instrument, qty, tick);
            st.hedge = hedge;
            st.scenario_timeout = Duration::from_secs(args.scenario_timeout.max(1));
            let strategy = OrderCycle::new(st, None);
            let report = strategy.report();
            let outcome = drive(config, strategy, opts, wait_for, true);
            finish(&outcome, Some(&report), None, args.json)
        }
        StrategyName::Maker => {
            let mut st = MakerSettings::new(instrument, qty, tick);
            st.hedge = hedge;
            let strategy = Maker::new(st);
            let stats = strategy.stats();
            let outcome = drive(config, strategy, opts, wait_for, true);
            finish(&outcome, None, Some(&stats), args.json)
        }
        StrategyName::SoakMix => {
            // A fresh seed per process: restarted incarnations must not
            // replay the same actions.
            let seed =
                crate::latency::clock::wall_ns().unsigned_abs() ^ u64::from(std::process::id());
            let strategy = crate::soak::SoakMix::new(crate::soak::MixSettings::new(
                instrument, qty, tick, seed,
            ));
            let outcome = drive(config, strategy, opts, wait_for, true);
            finish(&outcome, None, None, args.json)
        }
    }
}

/// `--instrument`, else the config's first `load_ids` entry.
fn pick_instrument(arg: Option<&str>, config: &Config) -> Result<InstrumentId, String> {
    match arg {
        Some(s) => s
            .parse::<InstrumentId>()
            .or_else(|_| {
                crate::model::Symbol::new(s)
                    .map(InstrumentId::perp)
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| format!("--instrument {s}: {e}")),
        None => config
            .instrument_provider
            .load_ids
            .first()
            .copied()
            .ok_or_else(|| "no instrument: pass --instrument or set load_ids".to_string()),
    }
}

/// Starts the engine, optionally wires Ctrl-C/SIGTERM to its stop flag, and
/// waits for the end of the run.
pub(crate) fn drive<S: Strategy + Send + 'static>(
    config: Config,
    strategy: S,
    opts: EngineOptions,
    wait_for: Duration,
    signals: bool,
) -> Result<EngineSummary, EngineError> {
    let handle = Engine::start(config, strategy, opts)?;
    if let Some(addr) = handle.metrics_addr() {
        // stderr, so `--json` output on stdout stays one JSON object.
        eprintln!("metrics: {}", crate::config::MetricsSettings::url(addr));
    }
    if signals {
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Err(e) = signal_hook::flag::register(sig, handle.stop_flag()) {
                eprintln!("warning: cannot handle signal {sig}: {e}");
            }
        }
    }
    handle.wait(wait_for)
}

/// Prints the run and turns it into an exit code.
pub(crate) fn finish(
    outcome: &Result<EngineSummary, EngineError>,
    cycle: Option<&SharedReport>,
    maker: Option<&Arc<MakerStats>>,
    json: bool,
) -> i32 {
    let cycle = cycle.map(|r| {
        r.lock()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    });
    let ok = outcome.is_ok() && cycle.as_ref().is_none_or(CycleReport::all_ok);
    if json {
        println!("{}", render_json(outcome, cycle.as_ref(), maker, ok));
    } else {
        print!("{}", render_text(outcome, cycle.as_ref(), maker, ok));
    }
    if ok { 0 } else { EXIT_FAILED }
}

/// The human-readable report: scenario table, latency against budgets,
/// counters, notable events.
pub(crate) fn render_text(
    outcome: &Result<EngineSummary, EngineError>,
    cycle: Option<&CycleReport>,
    maker: Option<&Arc<MakerStats>>,
    ok: bool,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    // An engine that never started has nothing to tabulate.
    let started = outcome.is_ok();
    if let Some(c) = cycle.filter(|c| started || !c.results.is_empty()) {
        let _ = writeln!(out, "order lifecycle on {}:", c.instrument);
        out.push_str(&c.table());
        let passed = c.results.iter().filter(|r| r.ok).count();
        let _ = writeln!(out, "{passed}/{} scenarios as expected\n", c.planned);
    }
    if let Some(m) = maker.filter(|_| started) {
        let _ = writeln!(
            out,
            "maker: {} quotes, {} cancels, {} fills, {} rejects, {} limit stops, inventory {}\n",
            m.quotes.load(Ordering::Relaxed),
            m.cancels.load(Ordering::Relaxed),
            m.fills.load(Ordering::Relaxed),
            m.rejects.load(Ordering::Relaxed),
            m.limit_hits.load(Ordering::Relaxed),
            crate::model::Decimal::from_raw(m.position_raw.load(Ordering::Relaxed)),
        );
    }
    match outcome {
        Ok(s) => {
            let _ = writeln!(out, "latency:\n{}", s.latency);
            let _ = writeln!(out, "counters: {}", counters_line(&s.counters));
            if !s.events.is_empty() {
                let _ = writeln!(out, "events:");
                for e in &s.events {
                    let _ = writeln!(out, "  {e}");
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "engine error: {e}");
        }
    }
    let _ = writeln!(out, "{}", if ok { "RESULT: ok" } else { "RESULT: FAIL" });
    out
}

fn counters_line(c: &Counters) -> String {
    let mut s = format!(
        "submitted {} acked {} filled {} partial {} canceled {} expired {} rejected {} \
         skipped(margin) {} unknown-resolved {} retries {} rate-limit-backoffs {} reconnects {} \
         cancels-coalesced {}",
        c.submitted,
        c.acked,
        c.filled,
        c.partially_filled,
        c.canceled,
        c.expired,
        c.rejected,
        c.skipped_insufficient_margin,
        c.unknown_resolved,
        c.retries,
        c.rate_limit_backoffs,
        c.reconnects,
        c.cancels_coalesced
    );
    for (code, n) in &c.rejected_by_code {
        s.push_str(&format!(" [{code}: {n}]"));
    }
    s
}

/// One position leg in the JSON report.
#[derive(serde::Serialize)]
struct PositionJson<'a> {
    symbol: &'a str,
    position_side: &'a str,
    amount: crate::model::Decimal,
}

#[derive(serde::Serialize)]
struct CountersJson<'a> {
    submitted: u64,
    acked: u64,
    filled: u64,
    partially_filled: u64,
    canceled: u64,
    expired: u64,
    rejected: u64,
    rejected_by_code: &'a [(i64, u64)],
    skipped_insufficient_margin: u64,
    unknown_resolved: u64,
    retries: u64,
    rate_limit_backoffs: u64,
    reconnects: u64,
    cancels_coalesced: u64,
}

#[derive(serde::Serialize)]
struct MakerJson {
    quotes: u64,
    cancels: u64,
    fills: u64,
    rejects: u64,
    limit_hits: u64,
    inventory: crate::model::Decimal,
}

/// The same report as one JSON object (`ok`, `scenarios`, `maker`,
/// `latency`, `counters`, `events`, `error`).
pub(crate) fn render_json(
    outcome: &Result<EngineSummary, EngineError>,
    cycle: Option<&CycleReport>,
    maker: Option<&Arc<MakerStats>>,
    ok: bool,
) -> String {
    let mut out = format!("{{\"ok\":{ok}");
    if let Some(c) = cycle {
        out.push_str(",\"scenarios\":");
        out.push_str(&c.to_json());
    }
    if let Some(m) = maker {
        let mj = MakerJson {
            quotes: m.quotes.load(Ordering::Relaxed),
            cancels: m.cancels.load(Ordering::Relaxed),
            fills: m.fills.load(Ordering::Relaxed),
            rejects: m.rejects.load(Ordering::Relaxed),
            limit_hits: m.limit_hits.load(Ordering::Relaxed),
            inventory: crate::model::Decimal::from_raw(m.position_raw.load(Ordering::Relaxed)),
        };
        out.push_str(",\"maker\":");
        out.push_str(&to_json(&mj));
    }
    match outcome {
        Ok(s) => {
            let c = &s.counters;
            let cj = CountersJson {
                submitted: c.submitted,
                acked: c.acked,
                filled: c.filled,
                partially_filled: c.partially_filled,
                canceled: c.canceled,
                expired: c.expired,
                rejected: c.rejected,
                rejected_by_code: &c.rejected_by_code,
                skipped_insufficient_margin: c.skipped_insufficient_margin,
                unknown_resolved: c.unknown_resolved,
                retries: c.retries,
                rate_limit_backoffs: c.rate_limit_backoffs,
                reconnects: c.reconnects,
                cancels_coalesced: c.cancels_coalesced,
            };
            out.push_str(",\"latency\":");
            out.push_str(&s.latency.to_json());
            out.push_str(",\"counters\":");
            out.push_str(&to_json(&cj));
            out.push_str(",\"events\":");
            out.push_str(&to_json(&s.events));
            // The final positions: what a crash audit compares with the venue.
            let positions: Vec<PositionJson<'_>> = s
                .positions
                .iter()
                .map(|p| PositionJson {
                    symbol: p.symbol.as_str(),
                    position_side: p.position_side.as_str(),
                    amount: p.amount,
                })
                .collect();
            out.push_str(",\"positions\":");
            out.push_str(&to_json(&positions));
        }
        Err(e) => {
            out.push_str(",\"error\":");
            out.push_str(&to_json(&e.to_string()));
        }
    }
    out.push('}');
    out
}

/// Serialises one part of the report; a part that cannot be serialised
/// becomes `null` rather than breaking the whole object.
fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    sonic_rs::to_string(v).unwrap_or_else(|_| "null".into())
}
