//! Decode cost of the frames on the hot path: an ORDER_TRADE_UPDATE fill
//! (budget ≤ 600 ns), a bookTicker, depth diffs, ACCOUNT_UPDATE (by value and
//! into a reused slot), and a REST order reply.
//!
//! Two clocks: the usual wall clock, and this thread's CPU time. The build
//! machine is shared (load average often 3–4× the core count); wall-clock
//! numbers then include time spent descheduled, while CPU time does not, so
//! the CPU-time group is the one to compare against a budget there.
use binance_exec::binance::{events, market, rest};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

#[path = "../tests/proto_in_common/mod.rs"]
mod samples;

/// `CLOCK_THREAD_CPUTIME_ID`, in nanoseconds.
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointer to a timespec owned by this frame.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

struct NsFormatter;
impl ValueFormatter for NsFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "ns (cpu)"
    }
    fn scale_throughputs(&self, _t: f64, _th: &Throughput, _v: &mut [f64]) -> &'static str {
        "ns (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns().saturating_sub(i)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NsFormatter
    }
}

fn cases<M: Measurement + 'static>(c: &mut Criterion<M>, prefix: &str) {
    let otu = samples::OTU_FILL.as_bytes();
    c.bench_function(&format!("{prefix}/user/ORDER_TRADE_UPDATE"), |b| {
        b.iter(|| events::decode_user_event(black_box(otu)))
    });
    let mut slot = events::OrderUpdate::empty();
    c.bench_function(
        &format!("{prefix}/user/ORDER_TRADE_UPDATE into slot"),
        |b| b.iter(|| events::decode_order_update_into(black_box(otu), &mut slot)),
    );
    let wrapped = samples::wrapped("pqia91ma19a5s61cv6a81va65sdf19v8a6", samples::OTU_FILL);
    c.bench_function(
        &format!("{prefix}/user/ORDER_TRADE_UPDATE combined-stream"),
        |b| b.iter(|| events::decode_user_event(black_box(wrapped.as_bytes()))),
    );
    // The serde visitor alone (the fallback path), for comparison.
    c.bench_function(
        &format!("{prefix}/user/ORDER_TRADE_UPDATE serde path"),
        |b| b.iter(|| binance_exec::binance::decode::decode::<events::OrderUpdate>(black_box(otu))),
    );
    let bt = samples::BOOK_TICKER.as_bytes();
    c.bench_function(&format!("{prefix}/market/bookTicker"), |b| {
        b.iter(|| market::decode_market(black_box(bt)))
    });
    let bt_wrapped = samples::wrapped("ethusdt@bookTicker", samples::BOOK_TICKER);
    c.bench_function(
        &format!("{prefix}/market/bookTicker combined-stream"),
        |b| b.iter(|| market::decode_market(black_box(bt_wrapped.as_bytes()))),
    );
    let au = samples::ACCOUNT_UPDATE.as_bytes();
    c.bench_function(&format!("{prefix}/user/ACCOUNT_UPDATE"), |b| {
        b.iter(|| events::decode_user_event(black_box(au)))
    });
    // What the engine does: decode into one reused slot (nothing moved).
    let mut account = events::AccountUpdate::empty();
    c.bench_function(&format!("{prefix}/user/ACCOUNT_UPDATE into slot"), |b| {
        b.iter(|| events::decode_user_event_reusing(black_box(au), &mut account))
    });
    let mut depth = market::DepthUpdate::default();
    let d = samples::DEPTH_UPDATE.as_bytes();
    c.bench_function(&format!("{prefix}/market/depthUpdate into slot"), |b| {
        b.iter(|| market::decode_depth_into(black_box(d), &mut depth))
    });
    let order = samples::ORDER_RESULT.as_bytes();
    c.bench_function(&format!("{prefix}/rest/order response"), |b| {
        b.iter(|| rest::decode_order(black_box(order)))
    });
}

fn wall(c: &mut Criterion<WallTime>) {
    cases(c, "wall");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    cases(c, "cpu");
}

criterion_group!(wall_group, wall);
criterion_group! {
    name = cpu_group;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_group, cpu_group);
