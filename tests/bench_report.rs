//! The interleaved section of the bench report: each engine block is divided
//! by the mean of the floor blocks before and after it, and the headline is
//! the median of those ratios with its spread.

use binance_exec::bench::floor::StreamBytes;
use binance_exec::bench::flow::latency_histogram;
use binance_exec::bench::report::{ACK_TARGET_RATIO, RatioSpread, interleaved};
use binance_exec::bench::run::BlockFloors;
use hdrhistogram::Histogram;

fn flat(ns: u64, n: u64) -> Histogram<u64> {
    let mut h = latency_histogram();
    h.record_n(ns, n).expect("in range");
    h
}

#[test]
fn per_block_ratios_use_both_neighbouring_floors() {
    // The floor jumps from 20 µs to 70 µs between blocks, as on the VM.
    let floors = BlockFloors {
        bare: vec![flat(20_000, 50), flat(20_000, 50), flat(70_000, 50)],
        loaded: vec![flat(40_000, 50), flat(40_000, 50), flat(40_000, 50)],
        loaded_streams: StreamBytes::default(),
    };
    let acks = vec![flat(60_000, 50), flat(135_000, 50)];
    let il = interleaved(&acks, &floors);
    assert_eq!(il.blocks, 2);
    assert_eq!(il.per_block.len(), 2);
    let b0 = &il.per_block[0];
    let b1 = &il.per_block[1];
    // Block 0 sits between two 20 µs floors; block 1 between 20 and 70.
    assert!((b0.bare_p50_ns as i64 - 20_000).abs() < 100, "{b0:?}");
    assert!((b1.bare_p50_ns as i64 - 45_000).abs() < 200, "{b1:?}");
    let r0 = b0.ratio_bare.expect("ratio");
    let r1 = b1.ratio_bare.expect("ratio");
    assert!((r0 - 3.0).abs() < 0.05, "{r0}");
    assert!((r1 - 3.0).abs() < 0.05, "{r1}");
    let spread = il.ratio_bare_p50.as_ref().expect("spread");
    assert_eq!(spread.blocks, 2);
    assert!(spread.min <= spread.median && spread.median <= spread.max);
    assert_eq!(il.target_ratio_p50, ACK_TARGET_RATIO);
    assert_eq!(il.engine_submit_to_ack.count, 100);
    assert_eq!(il.floor_bare.count, 150);
    assert_eq!(il.floor_loaded.as_ref().map(|s| s.count), Some(150));
    let l0 = b0.ratio_loaded.expect("loaded ratio");
    assert!((l0 - 1.5).abs() < 0.05, "{l0}");
}

#[test]
fn without_a_loaded_floor_the_loaded_ratios_are_absent() {
    let floors = BlockFloors {
        bare: vec![flat(10_000, 5), flat(10_000, 5)],
        loaded: Vec::new(),
        loaded_streams: StreamBytes::default(),
    };
    let il = interleaved(&[flat(50_000, 5)], &floors);
    assert!(il.floor_loaded.is_none());
    assert!(il.ratio_loaded_p50.is_none());
    assert_eq!(il.verdict_loaded, "-");
    assert_eq!(il.verdict_bare, "FAIL");
    assert!(il.per_block[0].ratio_loaded.is_none());
}

#[test]
fn ratio_spread_median_of_even_and_odd_counts() {
    let odd = RatioSpread::of([3.0, 1.0, 2.0]).expect("some");
    assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
    let even = RatioSpread::of([4.0, 1.0, 2.0, 3.0]).expect("some");
    assert_eq!(even.median, 2.5);
    assert!(RatioSpread::of([f64::NAN]).is_none());
}
