//! `soak --crash`: the engine runs as a child process (`binance-exec run
//! --strategy soak-mix`) against the in-process simulator, is SIGKILLed at
//! seeded random moments and restarted, while the fault schedule plays.
//!
//! Why a child process: a crash test inside one process cannot kill the
//! engine without killing the audit. The parent keeps the venue, so its
//! ledger survives every kill and is the truth at the end.
//!
//! What is checked: every incarnation starts and trades; the final one
//! exits 0; after its shutdown the venue holds no open order of ours (an
//! order a killed engine left behind is adopted or cancelled, never
//! orphaned); MARKET orders fill; the secret appears nowhere; and the
//! journal all incarnations appended to is audited against the ledger order
//! by order and fill by fill ([`super::journal_audit`]), with the final
//! incarnation's positions against the venue's.

use super::compare::{Comparison, VenueView};
use super::faults::{FaultKind, FaultPlan, play};
use super::journal_audit::{JournalView, PositionRow, audit_journal};
use super::rng::SoakRng;
use super::sim_run::{
    SimTarget, SoakOptions, finish_outputs, load_with_optional_keys, optional_engine_keys,
    start_sim,
};
use super::summary::SoakSummary;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Shortest and longest life of an incarnation before it is killed: long
/// enough to get through start-up and trade.
const LIFE_MS: (u64, u64) = (4_000, 12_000);
/// An incarnation is only killed when at least this much run time remains,
/// so the last one trades and shuts down cleanly.
const LAST_LIFE: Duration = Duration::from_secs(8);

/// Runs a crash soak with `exe` as the engine binary.
pub fn run_crash(opts: &SoakOptions, exe: &Path) -> SoakSummary {
    let mut sum = SoakSummary {
        mode: "sim+crash".into(),
        seed: opts.seed,
        rate: 20,
        out_dir: opts.out_dir.display().to_string(),
        ..Default::default()
    };
    let Some((settings, sim, tick, qty)) = start_sim(opts, &mut sum) else {
        return sum;
    };
    let journal = opts.out_dir.join("journal.bin");
    // The journal, plus what the in-process soak sets: a listenKey
    // keepalive inside the compressed validity (with `rotation_24h` the
    // venue's clock runs fast) and a periodic sweep.
    let mut optional = vec![
        format!(
            "journal_path = {}",
            super::sim_run::toml_str(&journal.display().to_string())
        ),
        "journal_fsync = \"always\"".to_string(),
    ];
    optional.extend(optional_engine_keys(&settings, opts));
    let (config, text, dropped) = match load_with_optional_keys(&sim, &opts.symbol, &optional) {
        Ok(x) => x,
        Err(e) => {
            sum.errors.push(format!("config: {e}"));
            return sum;
        }
    };
    if !dropped.is_empty() {
        sum.errors.push(format!(
            "the crash audit needs the journal: {}",
            dropped.join("; ")
        ));
        return sum;
    }
    let secret = config.credentials.api_secret.expose().as_bytes().to_vec();
    let cfg_path = opts.out_dir.join("engine.toml");
    if let Err(e) = std::fs::write(&cfg_path, &text) {
        sum.errors.push(format!("{}: {e}", cfg_path.display()));
        return sum;
    }
    let plan = FaultPlan::new(&opts.faults, opts.duration, opts.fault_every, opts.seed);
    let target = SimTarget {
        sim: &sim,
        symbol: opts.symbol.clone(),
        adl_qty: qty,
    };
    let start = Instant::now();
    let stop = AtomicBool::new(false);
    let mut rng = SoakRng::new(opts.seed ^ 0xc4a5);
    let (counts, result) = std::thread::scope(|s| {
        let faults = s.spawn(|| play(&plan, &target, start, &|| stop.load(Ordering::Acquire)));
        let r = incarnations(
            &stop,
            opts,
            exe,
            &cfg_path,
            (&qty.to_string(), &tick.to_string()),
            start,
            &mut rng,
        );
        stop.store(true, Ordering::Release);
        (faults.join().unwrap_or_default(), r)
    });
    sum.faults = counts;
    sum.duration_secs = start.elapsed().as_secs_f64();
    let mut last = None;
    match result {
        Ok(lives) => {
            last = Some(lives.last);
            sum.crashes = lives.kills;
            sum.faults.add(FaultKind::Crash, lives.kills);
            if !lives.last_ok {
                sum.errors.push(format!(
                    "the final engine incarnation ({}) did not run to its end and exit 0 \
                     (see engine-{}.stdout/stderr)",
                    lives.last, lives.last
                ));
            }
            sum.engine_restarts = lives.early_exits;
        }
        Err(e) => sum.errors.push(e),
    }
    let open = sim.with_venue(|v| v.open_order_count(0));
    let venue = VenueView::from_sim(&sim, 0);
    // The venue's truth next to the journal, for reading a failed audit.
    let ledger = sim.with_venue(|v| v.ledger().to_json());
    if let Err(e) = std::fs::write(opts.out_dir.join("ledger.json"), ledger) {
        sum.errors.push(format!("ledger.json: {e}"));
    }
    sim.shutdown();
    // What the venue accepted from all incarnations together.
    let ours = |id: &str| !id.starts_with("autoclose-") && !id.starts_with("adl_autoclose");
    sum.acknowledged = venue
        .orders
        .iter()
        .filter(|o| o.algo_id == 0 && ours(&o.client_order_id))
        .count() as u64
        + venue.algos.len() as u64;
    let status = |st: &str| {
        venue
            .orders
            .iter()
            .filter(|o| o.status == st && ours(&o.client_order_id))
            .count() as u64
    };
    sum.filled = status("FILLED");
    sum.canceled = status("CANCELED");
    sum.expired = status("EXPIRED");
    let mut comparison = venue_only_audit(&venue, open);
    let positions = last.and_then(|i| final_positions(&opts.out_dir, i));
    match JournalView::read(&journal) {
        Ok(view) => {
            sum.submitted = view.orders.len() as u64;
            let audit = audit_journal(&view, &venue, positions.as_deref());
            audit.fold_into(&mut comparison);
            sum.journal_audit = Some(audit);
        }
        Err(e) => sum.errors.push(format!("journal audit: {e}")),
    }
    sum.comparison = Some(comparison);
    finish_outputs(&opts.out_dir, &secret, &mut sum);
    sum
}

/// How the incarnations went.
#[derive(Debug, Default)]
struct Lives {
    /// SIGKILLs delivered.
    kills: u64,
    /// Incarnations that exited by themselves before their time (start-up
    /// refused, e.g. a request failed during a fault), each restarted like a
    /// supervisor would: "incarnation i: reason".
    early_exits: Vec<String>,
    /// Index of the final incarnation (its stdout holds the report).
    last: u32,
    /// The final incarnation ran its time and exited 0.
    last_ok: bool,
}

/// Most early exits restarted in a row before the run is failed.
const MAX_EARLY_EXITS: usize = 20;
/// Pause before restarting an incarnation that exited early.
const RESTART_PAUSE: Duration = Duration::from_millis(500);

/// Spawns, kills and restarts the engine until the run time is used.
fn incarnations(
    faults_stop: &AtomicBool,
    opts: &SoakOptions,
    exe: &Path,
    cfg: &Path,
    (qty, tick): (&str, &str),
    start: Instant,
    rng: &mut SoakRng,
) -> Result<Lives, String> {
    let mut lives = Lives::default();
    for i in 0..10_000u32 {
        lives.last = i;
        let remaining = opts.duration.saturating_sub(start.elapsed());
        let secs = remaining.as_secs().max(LAST_LIFE.as_secs());
        let born = Instant::now();
        let mut child = spawn(exe, cfg, qty, tick, secs, &opts.out_dir, i)?;
        let life = Duration::from_millis(rng.range(LIFE_MS.0, LIFE_MS.1));
        let kill = remaining > life + LAST_LIFE;
        let until = if kill {
            born + life
        } else {
            // The operator's clean run after the crashes: the venue is
            // quiet from here on, so what the audit sees is the journal
            // after a restart and a clean shutdown, not a shutdown cut
            // short mid fault (its settling is bounded to a few seconds).
            faults_stop.store(true, Ordering::Release);
            // The last incarnation: let it finish its --duration and shut
            // down (start-up and shutdown need time of their own).
            born + Duration::from_secs(secs + 60)
        };
        let mut exited = None;
        while Instant::now() < until {
            if let Ok(Some(st)) = child.try_wait() {
                exited = Some(st);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        match exited {
            None => {
                // std's Child::kill is SIGKILL on Unix: no on_stop, no
                // cancel-all, no listenKey delete.
                let _ = child.kill();
                let _ = child.wait();
                if kill {
                    lives.kills += 1;
                    continue;
                }
                return Ok(lives); // the last one hung: last_ok stays false
            }
            Some(st) if !kill && st.success() => {
                lives.last_ok = true;
                return Ok(lives);
            }
            Some(st) => {
                // Exited by itself: before its kill, or the last one
                // failing. Restart it unless the run time is used up.
                lives.early_exits.push(format!(
                    "incarnation {i} exited ({st}) after {:.1} s: {}",
                    born.elapsed().as_secs_f64(),
                    exit_reason(&opts.out_dir, i)
                ));
                let used = start.elapsed() >= opts.duration;
                if lives.early_exits.len() >= MAX_EARLY_EXITS || (!kill && used) {
                    return Ok(lives);
                }
                std::thread::sleep(RESTART_PAUSE);
            }
        }
    }
    Err("the incarnation limit was reached before the run time was used".into())
}

/// The error an incarnation reported in its `--json` output.
fn exit_reason(out: &Path, i: u32) -> String {
    use sonic_rs::JsonValueTrait;
    let text = std::fs::read_to_string(out.join(format!("engine-{i}.stdout"))).unwrap_or_default();
    sonic_rs::from_str::<sonic_rs::Value>(text.trim())
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| "no error reported (see its stdout/stderr)".into())
}

fn spawn(
    exe: &Path,
    cfg: &Path,
    qty: &str,
    tick: &str,
    secs: u64,
    out: &Path,
    i: u32,
) -> Result<Child, String> {
    let so = std::fs::File::create(out.join(format!("engine-{i}.stdout")))
        .map_err(|e| format!("engine-{i}.stdout: {e}"))?;
    let se = std::fs::File::create(out.join(format!("engine-{i}.stderr")))
        .map_err(|e| format!("engine-{i}.stderr: {e}"))?;
    Command::new(exe)
        .arg("run")
        .arg("--config")
        .arg(cfg)
        .args([
            "--strategy",
            "soak-mix",
            "--json",
            "--qty",
            qty,
            "--tick",
            tick,
        ])
        .args(["--duration", &secs.to_string()])
        // The simulator's own account, never a real key from the caller's
        // environment.
        .env_remove("BINANCE_API_KEY")
        .env_remove("BINANCE_API_SECRET")
        .env_remove("BINANCE_TESTNET")
        .stdin(Stdio::null())
        .stdout(so)
        .stderr(se)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", exe.display()))
}

/// The positions the final incarnation printed in its `--json` report
/// (`engine-<i>.stdout`); `None` when it printed none.
fn final_positions(out: &Path, i: u32) -> Option<Vec<PositionRow>> {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let text = std::fs::read_to_string(out.join(format!("engine-{i}.stdout"))).ok()?;
    let v: sonic_rs::Value = sonic_rs::from_str(text.trim()).ok()?;
    let rows = v.get("positions")?.as_array()?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        let field = |k: &str| r.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let amount = crate::model::Decimal::parse(&field("amount")?).ok()?;
        out.push((field("symbol")?, field("position_side")?, amount));
    }
    Some(out)
}

/// What the venue alone can tell after a crash soak.
fn venue_only_audit(venue: &VenueView, open_orders: usize) -> Comparison {
    let mut c = Comparison {
        lost: open_orders as u64,
        ..Default::default()
    };
    if open_orders > 0 {
        c.problems.push(format!(
            "{open_orders} orders still open at the venue after the final shutdown (orphaned by a kill)"
        ));
    }
    let mut trades = std::collections::BTreeSet::new();
    for f in &venue.fills {
        if !trades.insert((f.symbol.clone(), f.trade_id, f.order_id)) {
            c.duplicated_fills += 1;
        }
    }
    for o in &venue.orders {
        if o.order_type == "MARKET"
            && o.algo_id == 0
            && !o.client_order_id.starts_with("autoclose-")
        {
            c.orders_checked += 1;
            c.fillable += 1;
            c.fillable_placed += 1;
            if o.status == "FILLED" {
                c.fillable_filled += 1;
            } else if c.problems.len() < 50 {
                c.problems
                    .push(format!("MARKET {} ended {}", o.client_order_id, o.status));
            }
        }
    }
    c
}
