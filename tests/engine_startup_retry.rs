//! Start-up survives a venue that is briefly unwell: 5xx answers and 429s on
//! the very first calls are retried with the config's backoff (honouring
//! `Retry-After`), so a supervisor does not restart the engine into the same
//! storm; with retries switched off the same faults stop start-up with the
//! venue's error.

mod support;

use binance_exec::engine::Engine;
use binance_exec::sim::transport::faults::FaultPatch;
use support::{Probe, Sim, instrument, options};

const SYM: &str = "BTCUSDT";

fn faults() -> FaultPatch {
    FaultPatch {
        server_error_next: Some(2),
        server_error_status: Some(503),
        too_many_next: Some(1),
        ..FaultPatch::default()
    }
}

#[test]
fn transient_errors_at_start_up_are_retried() {
    let sim = Sim::start(false, |_| {});
    let (tick, _) = sim.size(SYM);
    let mut config = sim.config(SYM, false);
    config.max_retries = 5;
    config.retry_delay_secs = 0.05;
    sim.handle.set_faults(&faults());
    let h = Engine::start(config, Probe::new(instrument(SYM), tick, vec![]), options())
        .unwrap_or_else(|e| panic!("start-up gave up on transient errors: {e}"));
    let summary = h.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    let retries: Vec<&String> = summary
        .events
        .iter()
        .filter(|e| e.starts_with("start-up retry:"))
        .collect();
    assert_eq!(retries.len(), 3, "{:#?}", summary.events);
    sim.handle.shutdown();
}

#[test]
fn without_retries_the_first_error_stops_start_up() {
    let sim = Sim::start(false, |_| {});
    let (tick, _) = sim.size(SYM);
    let mut config = sim.config(SYM, false);
    config.max_retries = 0;
    sim.handle.set_faults(&faults());
    match Engine::start(config, Probe::new(instrument(SYM), tick, vec![]), options()) {
        Ok(h) => {
            let _ = h.stop();
            panic!("started although the first call failed and retries are off");
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("429") || msg.contains("503"), "{msg}");
            assert!(msg.contains("server time"), "names the step: {msg}");
        }
    }
    sim.handle.shutdown();
}
