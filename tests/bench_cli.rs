//! `binance-exec bench --orders 300 --json`: the JSON has every section and
//! its counts add up; the files land in `--out`.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use std::process::Command;

#[test]
fn bench_json_has_every_path_and_counts_add_up() {
    let dir = std::env::temp_dir().join(format!("bench-cli-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .args([
            "bench", "--orders", "300", "--warmup", "40", "--json", "--out",
        ])
        .arg(&dir)
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout {stdout}\nstderr {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = sonic_rs::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v.get("ok").and_then(|x| x.as_bool()), Some(true));

    let paths = v.get("paths").and_then(|p| p.as_array()).expect("paths");
    let names: Vec<&str> = paths
        .iter()
        .filter_map(|p| p.get("path").and_then(|x| x.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            "submit_to_ack",
            "fill_to_strategy",
            "strategy_to_wire",
            "wire_to_strategy",
            "floor"
        ]
    );
    let count = |name: &str| {
        paths
            .iter()
            .find(|p| p.get("path").and_then(|x| x.as_str()) == Some(name))
            .and_then(|p| p.get("count"))
            .and_then(|c| c.as_u64())
            .unwrap_or(u64::MAX)
    };
    let o = v.get("orders").expect("orders");
    let n = |k: &str| o.get(k).and_then(|x| x.as_u64()).unwrap_or(u64::MAX);
    assert_eq!(n("measured"), 300);
    assert_eq!(n("sent"), 340);
    assert_eq!(n("completed"), n("sent"));
    assert_eq!(
        n("filled") + n("canceled") + n("expired") + n("rejected"),
        n("completed")
    );
    // Half the flow rests and is cancelled, half is MARKET and fills.
    assert_eq!((n("filled"), n("canceled")), (170, 170));
    assert_eq!(n("throttled"), 0);
    // Every order was acked once, and the engine timed each ack.
    assert_eq!(count("submit_to_ack"), n("acked"));
    assert_eq!(n("acked"), n("sent"));
    assert_eq!(count("floor"), 300);
    assert!(count("fill_to_strategy") >= n("filled"));
    for p in paths {
        let q = |k: &str| p.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        assert!(
            q("p50_ns") <= q("p99_ns") && q("p99_ns") <= q("max_ns"),
            "{p:?}"
        );
    }
    let floor = paths.last().expect("floor row");
    assert_eq!(floor.get("ratio_p50").and_then(|x| x.as_f64()), Some(1.0));

    let allocs = v.get("allocations").expect("allocations section");
    let total = allocs
        .get("total")
        .and_then(|x| x.as_u64())
        .expect("measured");
    let per_thread: u64 = allocs
        .get("per_thread")
        .and_then(|t| t.as_array())
        .map(|t| {
            t.iter()
                .filter_map(|pair| pair.get(1).and_then(|x| x.as_u64()))
                .sum()
        })
        .unwrap_or(u64::MAX);
    assert_eq!(per_thread, total);
    assert!(
        v.get("orders_per_sec")
            .and_then(|x| x.as_f64())
            .is_some_and(|r| r > 0.0)
    );
    if cfg!(target_os = "linux") {
        assert!(
            v.get("peak_rss_bytes")
                .and_then(|x| x.as_u64())
                .is_some_and(|b| b > 0)
        );
    }
    for f in [
        "submit_to_ack.hgrm",
        "floor.hgrm",
        "latency.svg",
        "report.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_cores_are_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .args(["bench", "--orders", "10", "--cores", "0,1"])
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
}
