//! The CI soak: about a minute of mixed order flow through the real binary
//! against the in-process simulator with every default fault kind, fixed
//! seed. Zero lost orders, zero duplicated fills, zero mismatches, a fill
//! rate of fillable orders of at least 99.9 %, every fault kind delivered,
//! and the API secret nowhere in what the run wrote.

use std::process::Command;
use std::time::Duration;

/// The simulator's account-0 secret (Binance's documentation key pair).
const SIM_SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

fn field_u64(v: &sonic_rs::Value, k: &str) -> u64 {
    use sonic_rs::JsonValueTrait;
    v.get(k).and_then(|x| x.as_u64()).unwrap_or(u64::MAX)
}

#[test]
fn one_minute_soak_with_every_fault_loses_nothing() {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let out = std::env::temp_dir().join(format!("soak-short-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let child = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .args([
            "soak",
            "--duration",
            "50s",
            "--rate",
            "20",
            "--faults",
            "all",
        ])
        .args(["--seed", "7", "--json", "--out"])
        .arg(&out)
        .env_remove("BINANCE_API_KEY")
        .env_remove("BINANCE_API_SECRET")
        .output()
        .expect("run binance-exec soak");
    let stdout = String::from_utf8_lossy(&child.stdout);
    let stderr = String::from_utf8_lossy(&child.stderr);
    // The captured output of the run is part of "everything it wrote".
    assert!(!stdout.contains(SIM_SECRET) && !stderr.contains(SIM_SECRET));
    let v: sonic_rs::Value = sonic_rs::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{stdout}\n{stderr}"));
    let report = format!(
        "failures: {:?}\nproblems: {:?}",
        v.get("failures").map(|f| f.to_string()),
        v.get("problems").map(|f| f.to_string())
    );
    assert!(field_u64(&v, "submitted") > 500, "{report}");
    assert_eq!(field_u64(&v, "lost"), 0, "{report}");
    assert_eq!(field_u64(&v, "duplicated_fills"), 0, "{report}");
    assert_eq!(field_u64(&v, "mismatches"), 0, "{report}");
    let rate = v.get("fill_rate").and_then(|r| r.as_f64()).unwrap_or(0.0);
    assert!(rate >= 0.999, "fill rate {rate}; {report}");
    // Every default kind was delivered (ADL may find us flat; then it was
    // at least attempted).
    let faults = v.get("faults").map(|f| f.to_string()).unwrap_or_default();
    let skipped = v
        .get("faults_skipped")
        .map(|f| f.to_string())
        .unwrap_or_default();
    for kind in [
        "ws_drop",
        "rate_limit_429",
        "server_error_5xx",
        "unknown_placed",
        "unknown_not_placed",
        "clock_skew",
        "listen_key_expiry",
        "rotation_24h",
    ] {
        assert!(faults.contains(kind), "{kind} not delivered: {faults}");
    }
    assert!(
        faults.contains("\"adl\"") || skipped.contains("\"adl\""),
        "{faults} {skipped}"
    );
    assert!(field_u64(&v, "files_scanned") >= 3);
    assert_eq!(
        v.get("secret_leaks")
            .and_then(|l| l.as_array())
            .map(|a| a.len()),
        Some(0)
    );
    assert!(out.join("summary.json").exists());
    assert!(child.status.success(), "exit {:?}; {report}", child.status);
    let _ = std::fs::remove_dir_all(&out);
    let _ = Duration::ZERO;
}
