//! The README's main command works: `binance-exec demo` runs every order
//! type through the engine against the in-process simulator and exits 0.

use std::process::Command;

#[test]
fn demo_binary_exits_zero_and_reports_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .args(["demo", "--json", "--seed", "3", "--max-secs", "40"])
        .output()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed ({:?}):\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: sonic_rs::Value =
        sonic_rs::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    assert_eq!(v.get("ok").and_then(|b| b.as_bool()), Some(true));
    let rows = v
        .get("scenarios")
        .and_then(|s| s.get("results"))
        .and_then(|r| r.as_array().map(|a| a.len()));
    assert_eq!(rows, Some(13), "{stdout}");
    assert!(v.get("latency").is_some());
}
