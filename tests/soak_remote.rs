//! Issue 5, the venue-side audit of a remote venue: the soak reads the
//! venue's own lists (allOrders, allAlgoOrders, userTrades paged by fromId,
//! positionRisk) over signed REST and compares them with the engine's view.
//! With no testnet credentials here, the in-process simulator stands in for
//! the remote venue: (1) on one run, the REST audit's numbers equal the
//! ledger audit's; (2) `--venue testnet` pointed (by its config) at a
//! simulator on loopback trades, audits over REST and passes.

use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::SimServer;
use binance_exec::soak::sim_run::engine_toml;
use sonic_rs::JsonValueTrait;
use std::process::Command;

fn count(v: &sonic_rs::Value, k: &str) -> u64 {
    v.get(k).and_then(|x| x.as_u64()).unwrap_or(u64::MAX)
}

fn soak(args: &[&str], out: &std::path::Path) -> (sonic_rs::Value, bool, String) {
    let run = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .arg("soak")
        .args(args)
        .args(["--json", "--out"])
        .arg(out)
        .env_remove("BINANCE_API_KEY")
        .env_remove("BINANCE_API_SECRET")
        .env_remove("BINANCE_TESTNET")
        .output()
        .unwrap_or_else(|e| panic!("run binance-exec soak: {e}"));
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    let v: sonic_rs::Value = sonic_rs::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    (v, run.status.success(), stdout)
}

#[test]
fn rest_audit_numbers_equal_the_ledger_audit() {
    let out = std::env::temp_dir().join(format!("soak-remote-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (v, _, text) = soak(&["--duration", "20s", "--seed", "7", "--rest-audit"], &out);
    let rest = v
        .get("rest_audit")
        .unwrap_or_else(|| panic!("no REST audit: {text}"));
    assert!(count(rest, "orders_checked") > 100, "{text}");
    assert_eq!(
        count(rest, "orders_checked"),
        count(&v, "submitted"),
        "{text}"
    );
    for k in [
        "lost",
        "duplicated_fills",
        "missed_fills",
        "phantom_fills",
        "phantom_orders",
        "qty_mismatches",
        "position_mismatches",
        "unexpected_venue_orders",
    ] {
        assert_eq!(count(rest, k), count(&v, k), "{k} differs: {text}");
    }
    let errors = v.get("errors").map(|e| e.to_string()).unwrap_or_default();
    assert!(!errors.contains("REST audit"), "{errors}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn testnet_mode_against_a_loopback_venue_audits_over_rest() {
    let sim = SimServer::start(&SimSettings::default()).unwrap_or_else(|e| panic!("sim: {e}"));
    assert!(sim.rest_url().starts_with("http://127.0.0.1:"));
    let dir = std::env::temp_dir().join(format!("soak-remote-tn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let cfg = dir.join("venue.toml");
    std::fs::write(&cfg, engine_toml(&sim, "BTCUSDT", &[])).unwrap_or_else(|e| panic!("{e}"));
    let cfg_s = cfg.display().to_string();
    let (v, ok, text) = soak(
        &[
            "--venue",
            "testnet",
            "--config",
            &cfg_s,
            "--duration",
            "10s",
            "--rate",
            "10",
        ],
        &dir.join("out"),
    );
    // The REST view must agree with the venue's own ledger on the basics.
    let ledger = sim.with_venue(|v| v.ledger());
    let ours = ledger
        .orders
        .iter()
        .filter(|o| o.account == 0 && o.client_order_id.starts_with("bx."))
        .count() as u64;
    sim.shutdown();
    assert_eq!(v.get("mode").and_then(|m| m.as_str()), Some("testnet"));
    assert!(count(&v, "submitted") > 20, "{text}");
    assert!(ours > 20, "{text}");
    for k in ["lost", "duplicated_fills", "mismatches"] {
        assert_eq!(count(&v, k), 0, "{k}: {text}");
    }
    assert!(ok, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
