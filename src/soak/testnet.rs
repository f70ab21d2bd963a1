//! `soak --venue testnet`: the same mix and drain against the venue a
//! config names, without fault injection (nobody injects faults into
//! Binance's testnet), audited against the venue's own lists.
//!
//! What is audited: after the engine stops, the venue's `allOrders`,
//! `allAlgoOrders`, `userTrades` (paged by `fromId`) and `positionRisk` for
//! the soak symbol since the run started are read over signed REST
//! ([`super::rest_audit`]) and compared with the engine's view by the same
//! [`super::compare()`] the simulator soak uses: lost orders, duplicated,
//! missed and phantom fills, state and quantity differences, positions, and
//! the fill rate. Orders placed on the same account and symbol by anything
//! else during the run show up as unexpected venue orders.

use super::mix::{MixSettings, SoakMix};
use super::sim_run::{SoakOptions, audit, finish_outputs, remote_view};
use super::summary::SoakSummary;
use crate::config::Config;
use crate::engine::{Engine, EngineOptions};
use crate::model::{Price, Quantity};
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs the testnet soak with the config at `cfg`.
pub fn run_testnet(opts: &SoakOptions, cfg: &Path) -> SoakSummary {
    let mut sum = SoakSummary {
        mode: "testnet".into(),
        seed: opts.seed,
        rate: opts.rate,
        out_dir: opts.out_dir.display().to_string(),
        ..Default::default()
    };
    if let Err(e) = std::fs::create_dir_all(&opts.out_dir) {
        sum.errors
            .push(format!("--out {}: {e}", opts.out_dir.display()));
        return sum;
    }
    let config = match Config::load(cfg) {
        Ok(c) => c,
        Err(e) => {
            sum.errors.push(format!("{}: {e}", cfg.display()));
            return sum;
        }
    };
    let secret = config.credentials.api_secret.expose().as_bytes().to_vec();
    let Some(instrument) = config.instrument_provider.load_ids.first().copied() else {
        sum.errors.push("config has no load_ids".into());
        return sum;
    };
    // BTCUSDT sizes; other symbols need their own (testnet's filters).
    let (qty, tick) = match (Quantity::parse("0.003"), Price::parse("0.1")) {
        (Ok(q), Ok(t)) => (q, t),
        _ => {
            sum.errors.push("internal: bad default size".into());
            return sum;
        }
    };
    let symbol = instrument.symbol.as_str().to_string();
    let rest_config = config.clone();
    let since_ms = crate::latency::clock::wall_ns() / 1_000_000 - 60_000;
    let mix = SoakMix::new(MixSettings::new(instrument, qty, tick, opts.seed));
    let shared = mix.shared();
    let eopts = EngineOptions {
        timer_interval: Some(Duration::from_secs_f64(1.0 / f64::from(opts.rate.max(1)))),
        max_runtime: None,
        hgrm_dir: None,
    };
    let handle = match Engine::start(config, mix, eopts) {
        Ok(h) => h,
        Err(e) => {
            sum.errors.push(format!("engine start: {e}"));
            finish_outputs(&opts.out_dir, &secret, &mut sum);
            return sum;
        }
    };
    let start = Instant::now();
    while start.elapsed() < opts.duration && !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
    }
    sum.duration_secs = start.elapsed().as_secs_f64();
    shared.start_draining();
    let t = Instant::now();
    while !shared.is_drained() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    if !shared.is_drained() {
        sum.errors
            .push("orders still live after draining for 30 s".into());
    }
    match handle.stop() {
        Ok(engine) => {
            let log = std::mem::take(&mut *shared.log());
            match remote_view(&rest_config, &symbol, since_ms) {
                Ok(venue) => audit(&engine, &log, &venue, &mut sum),
                Err(e) => sum.errors.push(format!("venue audit over REST: {e}")),
            }
        }
        Err(e) => sum.errors.push(format!("engine: {e}")),
    }
    finish_outputs(&opts.out_dir, &secret, &mut sum);
    sum
}
