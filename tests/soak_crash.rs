//! Issue 5, crash audit: the soak's `--crash` mode SIGKILLs the real binary
//! at seeded moments while the simulator injects faults, restarts it, and at
//! the end audits the journal every incarnation appended to against the
//! simulator's ledger — every order journaled before it was sent, every
//! order's final state, every fill exactly once, the final position. Every
//! count must be zero, with at least three kills.

use sonic_rs::{JsonContainerTrait, JsonValueTrait};
use std::process::Command;

fn count(v: &sonic_rs::Value, k: &str) -> u64 {
    v.get(k).and_then(|x| x.as_u64()).unwrap_or(u64::MAX)
}

#[test]
fn crash_soak_journal_matches_the_ledger() {
    let out = std::env::temp_dir().join(format!("soak-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .args([
            "soak",
            "--crash",
            "--duration",
            "40s",
            "--seed",
            "7",
            "--json",
        ])
        .arg("--out")
        .arg(&out)
        .env_remove("BINANCE_API_KEY")
        .env_remove("BINANCE_API_SECRET")
        .output()
        .unwrap_or_else(|e| panic!("run binance-exec soak --crash: {e}"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let v: sonic_rs::Value = sonic_rs::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let report = format!(
        "failures {:?}\nproblems {:?}\nrestarts {:?}",
        v.get("failures").map(|f| f.to_string()),
        v.get("problems").map(|f| f.to_string()),
        v.get("engine_restarts").map(|f| f.to_string()),
    );
    assert!(count(&v, "crashes") >= 3, "{report}");
    let j = v
        .get("journal_audit")
        .unwrap_or_else(|| panic!("no journal audit: {report}"));
    assert!(count(j, "sessions") > count(&v, "crashes"), "{report}");
    assert!(count(j, "orders_journaled") > 100, "{report}");
    assert!(count(j, "venue_fills") > 50, "{report}");
    for k in [
        "unjournaled_orders",
        "duplicate_intents",
        "unsettled_orders",
        "state_mismatches",
        "qty_mismatches",
        "missed_fills",
        "duplicate_fills",
        "phantom_fills",
        "position_mismatches",
    ] {
        assert_eq!(count(j, k), 0, "{k}: {report}");
    }
    assert!(count(j, "positions_compared") >= 1, "{report}");
    assert_eq!(count(&v, "lost"), 0, "{report}");
    assert_eq!(count(&v, "duplicated_fills"), 0, "{report}");
    assert_eq!(count(&v, "mismatches"), 0, "{report}");
    assert_eq!(
        v.get("secret_leaks")
            .and_then(|l| l.as_array())
            .map(|a| a.len()),
        Some(0)
    );
    assert!(out.join("journal.bin").exists() && out.join("ledger.json").exists());
    assert!(run.status.success(), "exit {:?}; {report}", run.status);
    let _ = std::fs::remove_dir_all(&out);
}
