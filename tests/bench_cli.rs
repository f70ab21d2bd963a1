//! `binance-exec bench --orders 300 --blocks 3 --json`: the JSON has every
//! section (the original paths, the interleaved floors and per-block ratios,
//! the exact fill) and its counts add up; the files land in `--out`.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use std::process::Command;

#[test]
fn bench_json_has_every_path_and_counts_add_up() {
    let dir = std::env::temp_dir().join(format!("bench-cli-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_binance-exec"))
        .args([
            "bench", "--orders", "300", "--warmup", "40", "--blocks", "3", "--json", "--out",
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
    // Four floor blocks of 100 around three engine blocks of 100.
    assert_eq!(count("floor"), 400);
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
    let il = v.get("interleaved").expect("interleaved section");
    let series = |k: &str| {
        il.get(k)
            .and_then(|s| s.get("count"))
            .and_then(|c| c.as_u64())
            .unwrap_or(u64::MAX)
    };
    assert_eq!(il.get("blocks").and_then(|x| x.as_u64()), Some(3));
    assert_eq!(series("engine_submit_to_ack"), 300);
    assert_eq!(series("floor_bare"), 400);
    assert_eq!(series("floor_loaded"), 400);
    let blocks = il
        .get("per_block")
        .and_then(|b| b.as_array())
        .expect("per_block");
    assert_eq!(blocks.len(), 3);
    for b in blocks.iter() {
        assert_eq!(b.get("orders").and_then(|x| x.as_u64()), Some(100), "{b:?}");
        for k in ["ratio_bare", "ratio_loaded"] {
            assert!(
                b.get(k).and_then(|x| x.as_f64()).is_some_and(|r| r > 0.0),
                "{k} in {b:?}"
            );
        }
    }
    for k in ["ratio_bare_p50", "ratio_loaded_p50"] {
        let r = il.get(k).expect(k);
        let f = |x: &str| r.get(x).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        assert!(
            f("min") <= f("median") && f("median") <= f("max"),
            "{k} {r:?}"
        );
        assert_eq!(r.get("blocks").and_then(|x| x.as_u64()), Some(3));
    }
    let streams = il.get("loaded_streams").expect("loaded_streams");
    // At least one final ORDER_TRADE_UPDATE per loaded-floor order.
    assert!(
        streams
            .get("user_frames")
            .and_then(|x| x.as_u64())
            .is_some_and(|n| n >= 400),
        "{streams:?}"
    );
    let fe = v.get("fill_exact").expect("fill_exact section");
    // Every measured MARKET order filled once, each fill joined to its
    // simulator stamp.
    assert_eq!(
        fe.get("series")
            .and_then(|s| s.get("count"))
            .and_then(|c| c.as_u64()),
        Some(150)
    );
    assert_eq!(fe.get("unstamped").and_then(|x| x.as_u64()), Some(0));
    assert_eq!(fe.get("target_ns").and_then(|x| x.as_u64()), Some(100_000));

    for f in [
        "submit_to_ack.hgrm",
        "submit_to_ack_measured.hgrm",
        "fill_exact.hgrm",
        "floor_loaded.hgrm",
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
