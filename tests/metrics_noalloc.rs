//! Incrementing counters and publishing a latency snapshot do not allocate:
//! the execution thread can do both on its hot loop. Counted with a
//! per-thread counting allocator so other test threads do not interfere.

use binance_exec::engine::net_thread::StreamKind;
use binance_exec::latency::{Budgets, LatencyPath, LatencyRecorder, LatencyReport};
use binance_exec::metrics::{
    Counter, LatencySnapshot, LatencyStat, Metrics, OrderFlow, RateGauge, latency_tap,
};
use binance_exec::model::OrderType;

mod alloc_counter;
use alloc_counter::allocs;

#[test]
fn increments_and_publishing_do_not_allocate() {
    let m = Metrics::new();
    let mut rec = LatencyRecorder::new();
    let mut report = LatencyReport::new(Budgets::default());
    for i in 1..=10_000u64 {
        rec.record(LatencyPath::SubmitToAck, i * 100);
        rec.record(LatencyPath::WireToStrategy, i);
    }
    report.merge(&rec).expect("merge");
    // The latency hand-over: the recording thread copies into a lent,
    // preallocated snapshot (set up here, before counting).
    let (tap, mut sink) = latency_tap();
    let mut snap = LatencySnapshot::new();
    let t0 = std::time::Instant::now();
    sink.poll(&m, t0); // lends the buffer (metrics-thread side, not counted below)

    let before = allocs();
    for i in 0..1_000u64 {
        for c in Counter::ALL {
            m.inc(c);
        }
        for flow in OrderFlow::ALL {
            m.order(flow, &OrderType::Limit);
        }
        m.order(OrderFlow::Filled, &OrderType::StopMarket);
        m.set(Counter::Retries, i);
        m.set_unknown_open(i % 3);
        m.set_rate_limit(RateGauge::OrdersPer10s, 300);
        m.reject(-2019);
        m.reject(-4242);
        m.reconnect(StreamKind::User);
        m.set_rate(RateGauge::WeightPerMinute, i);
        m.set_rate(RateGauge::OrdersPer10s, i % 50);
        m.set_rate(RateGauge::OrdersPerMinute, i % 1200);
        if i % 100 == 0 {
            m.publish_report(&report, i);
            m.publish_recorder(&rec, i);
            rec.record(LatencyPath::StrategyToWire, 1_000 + i);
            snap.copy_from(&rec);
        }
        // The recording thread's periodic offer: the first copies into the
        // lent buffer, the rest find nothing lent.
        tap.offer(&rec);
    }
    let after = allocs();
    assert_eq!(after - before, 0, "hot-path metrics allocated");

    // The work was real.
    assert_eq!(m.orders(OrderFlow::Submitted, &OrderType::Limit), 1_000);
    assert_eq!(m.orders(OrderFlow::Filled, &OrderType::StopMarket), 1_000);
    assert_eq!(m.get(Counter::Retries), 999);
    assert_eq!(
        snap.histogram(LatencyPath::StrategyToWire).map(|h| h.len()),
        Some(10)
    );
    // The copy made on the recording side reaches the registry.
    assert!(sink.poll(&m, t0));
    assert_eq!(m.latency_count(LatencyPath::StrategyToWire), 1);
    assert_eq!(m.rejects(-2019), 1_000);
    assert_eq!(m.rejects(-4242), 1_000);
    assert_eq!(m.reconnects(StreamKind::User), 1_000);
    assert_eq!(m.rate(RateGauge::WeightPerMinute), 999);
    let p99 = m.latency_ns(LatencyPath::SubmitToAck, LatencyStat::P99);
    assert!(p99.abs_diff(990_000) <= 1_000, "{p99}");
    // The counter itself works: a Vec allocates once.
    let v: Vec<u8> = Vec::with_capacity(8);
    assert!(allocs() > after);
    drop(v);
}
