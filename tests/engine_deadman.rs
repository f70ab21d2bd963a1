//! Issue 5, dead-man's switch (`engine.dead_man_switch_secs`): while the
//! engine lives its heartbeats keep re-arming `countdownCancelAll`, so
//! resting orders stay; once it is killed the venue cancels them when the
//! countdown runs out.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Probe, Sim, Spec, instrument, options, wait_until};

const SYM: &str = "BTCUSDT";
const SWITCH_SECS: u64 = 2;

fn status_of(sim: &Sim, client_id: &str) -> Option<String> {
    sim.handle.with_venue(|v| {
        v.ledger()
            .orders
            .iter()
            .find(|o| o.client_order_id == client_id)
            .map(|o| o.status.clone())
    })
}

#[test]
fn heartbeats_keep_orders_alive_while_the_engine_runs() {
    let sim = Sim::start(false, |_| {});
    let (tick, q) = sim.size(SYM);
    let probe = Probe::new(instrument(SYM), tick, vec![Spec::RestingBuy(q)]);
    let seen = probe.seen.clone();
    let mut config = sim.config(SYM, false);
    config.engine.dead_man_switch_secs = SWITCH_SECS;
    let h = binance_exec::engine::Engine::start(config, probe, options())
        .unwrap_or_else(|e| panic!("{e}"));
    let placed = wait_until(&seen, Duration::from_secs(15), |s| !s.sent.is_empty());
    assert!(placed);
    let id = seen
        .lock()
        .map(|s| s.sent[0].as_str().to_string())
        .unwrap_or_default();
    // More than twice the countdown: without heartbeats it would be gone.
    let end = Instant::now() + Duration::from_secs(SWITCH_SECS * 2 + 1);
    while Instant::now() < end {
        let st = status_of(&sim, &id);
        assert!(
            st.is_none() || st.as_deref() == Some("NEW"),
            "order {id} ended while the engine was alive: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status_of(&sim, &id).as_deref(), Some("NEW"));
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !summary
            .events
            .iter()
            .any(|e| e.contains("Heartbeat") && e.contains("code")),
        "a heartbeat was refused: {:?}",
        summary.events
    );
    sim.handle.shutdown();
}

#[test]
fn a_killed_engine_has_its_orders_cancelled_by_the_venue() {
    let sim = Sim::start(false, |_| {});
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("bx-deadman-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let h = &sim.handle;
    let cfg = dir.join("client.toml");
    std::fs::write(
        &cfg,
        format!(
            "base_url_http = \"{}\"\nbase_url_ws = \"{}\"\nbase_url_ws_api = \"{}\"\n\
             [instrument_provider]\nload_ids = [\"{SYM}-PERP.BINANCE\"]\n\
             [engine]\ndead_man_switch_secs = {SWITCH_SECS}\n[sim]\n",
            h.rest_url(),
            h.stream_url(),
            h.ws_api_url()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (tick, qty) = sim.size(SYM);
    let mut child = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .arg("run")
        .arg("--config")
        .arg(&cfg)
        .args(["--strategy", "maker", "--qty", &qty.to_string(), "--tick"])
        .arg(tick.to_string())
        .env_remove("BINANCE_API_KEY")
        .env_remove("BINANCE_API_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let until = Instant::now() + Duration::from_secs(15);
    while sim.open_orders() == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Freeze the book so quotes neither fill nor move, then kill.
    let _ = sim.control.post("/sim/pause", r#"{"paused":true}"#);
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let at_kill = sim.open_orders();
    assert!(at_kill >= 1, "no resting quote when the engine was killed");
    let until = Instant::now() + Duration::from_secs(SWITCH_SECS + 3);
    while sim.open_orders() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        sim.open_orders(),
        0,
        "the venue did not cancel the dead engine's {at_kill} order(s)"
    );
    let _ = std::fs::remove_dir_all(&dir);
    sim.handle.shutdown();
}
