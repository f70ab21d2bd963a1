//! `soak --crash`: the engine runs as a child process (`binance-exec run
//! --strategy soak-mix`) against the in-process simulator, is SIGKILLed at
//! seeded random moments and restarted, while the fault schedule plays.
//!
//! Why a child process: a crash test inside one process cannot kill the
//! engine without killing the audit. The parent keeps the venue, so its
//! ledger survives every kill and is the truth at the end.
//!
//! What is checked today: every incarnation starts and trades; the final
//! one exits 0; after its shutdown the venue holds no open order of ours
//! (an order a killed engine left behind is adopted or cancelled, never
//! orphaned); fills are never duplicated at the venue; MARKET orders fill;
//! the secret appears nowhere. The order-by-order comparison of the ledger
//! with the crash journals needs the journal wiring (`[engine]
//! journal_path`); when this build's config loader refuses that key the
//! comparison is reported as skipped.

use super::compare::{Comparison, VenueView};
use super::faults::{FaultKind, FaultPlan, play};
use super::rng::SoakRng;
use super::sim_run::{SimTarget, SoakOptions, finish_outputs, load_with_optional_keys, start_sim};
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
    let Some((_, sim, tick, qty)) = start_sim(opts, &mut sum) else {
        return sum;
    };
    let journal = opts.out_dir.join("journal.bin");
    let optional = vec![
        format!(
            "journal_path = {}",
            super::sim_run::toml_str(&journal.display().to_string())
        ),
        "journal_fsync = \"always\"".to_string(),
    ];
    let (config, text, dropped) = match load_with_optional_keys(&sim, &opts.symbol, &optional) {
        Ok(x) => x,
        Err(e) => {
            sum.errors.push(format!("config: {e}"));
            return sum;
        }
    };
    let journal_on = dropped.is_empty();
    if !journal_on {
        sum.skipped_checks.push(
            "journal ↔ ledger comparison: this build's config loader refuses `journal_path` \
             (journal wiring not merged); process orchestration only"
                .into(),
        );
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
            opts,
            exe,
            &cfg_path,
            &qty.to_string(),
            &tick.to_string(),
            start,
            &mut rng,
        );
        stop.store(true, Ordering::Release);
        (faults.join().unwrap_or_default(), r)
    });
    sum.faults = counts;
    sum.duration_secs = start.elapsed().as_secs_f64();
    match result {
        Ok((kills, last_ok)) => {
            sum.crashes = kills;
            sum.faults.add(FaultKind::Crash, kills);
            if !last_ok {
                sum.errors.push(
                    "the final engine incarnation did not exit 0 (see engine-*.stdout/stderr)"
                        .into(),
                );
            }
        }
        Err(e) => sum.errors.push(e),
    }
    let open = sim.with_venue(|v| v.open_order_count(0));
    let venue = VenueView::from_sim(&sim, 0);
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
    sum.comparison = Some(venue_only_audit(&venue, open));
    sum.skipped_checks.push(
        "crash mode audits the venue side only (orphaned open orders, duplicate trades, MARKET \
         fill rate); engine state died with each killed process"
            .into(),
    );
    finish_outputs(&opts.out_dir, &secret, &mut sum);
    sum
}

/// Spawns, kills and restarts the engine until the run time is used;
/// returns (kills, final incarnation exited 0).
fn incarnations(
    opts: &SoakOptions,
    exe: &Path,
    cfg: &Path,
    qty: &str,
    tick: &str,
    start: Instant,
    rng: &mut SoakRng,
) -> Result<(u64, bool), String> {
    let mut kills = 0u64;
    for i in 0..10_000u32 {
        let remaining = opts.duration.saturating_sub(start.elapsed());
        let secs = remaining.as_secs().max(LAST_LIFE.as_secs());
        let mut child = spawn(exe, cfg, qty, tick, secs, &opts.out_dir, i)?;
        let life = Duration::from_millis(rng.range(LIFE_MS.0, LIFE_MS.1));
        let kill = remaining > life + LAST_LIFE;
        if kill {
            let until = Instant::now() + life;
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if let Ok(None) = child.try_wait() {
                // std's Child::kill is SIGKILL on Unix: no on_stop, no
                // cancel-all, no listenKey delete.
                let _ = child.kill();
                kills += 1;
            }
            let _ = child.wait();
            continue;
        }
        // The last incarnation: let it finish its --duration and shut down.
        let deadline = Instant::now() + Duration::from_secs(secs + 60);
        loop {
            match child.try_wait() {
                Ok(Some(st)) => return Ok((kills, st.success())),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok((kills, false));
                }
            }
        }
    }
    Ok((kills, false))
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
