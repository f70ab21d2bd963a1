//! Heap allocations of the engine's threads per order cycle after warm-up,
//! through the real engine against the in-process simulator (REST entry):
//! resting LIMIT → ack → cancel, and MARKET → ack → fill, on both sides.
//!
//! What this pins down (measured with a backtrace-capturing allocator while
//! writing it):
//! - the strategy thread (flow callbacks, event delivery, command queue)
//!   allocates nothing;
//! - the order path itself — building and signing the REST request, the
//!   HTTP keep-alive round trip, the ack, ORDER_TRADE_UPDATE decoding, the
//!   tracker, positions — allocates nothing;
//! - what still allocates, per WebSocket frame rather than per order:
//!   network thread, 2 per frame inside tungstenite 0.30's `read`
//!   (`BytesMut` split/reserve, protocol/mod.rs:613, frame/mod.rs:200);
//!   execution thread, 2 per combined market-stream frame in
//!   `binance::decode::split_combined` (`sonic_rs::get_from_slice` makes a
//!   temporary key buffer, parser.rs:1760) and the `Vec` fields of
//!   ACCOUNT_UPDATE (`binance::events::AccountUpdateData`, one per fill).
//!
//! The bound below therefore guards against regressions (a new allocation
//! per request or per event would blow it) while those per-frame sources
//! remain; the strategy thread is held to exactly zero.

use binance_exec::bench::alloc::CountingAllocator;
use binance_exec::bench::run::{BenchSettings, run};
use std::time::Duration;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// Per-frame allocations (see the module docs) spread over the frames of
/// one cycle: at most ~4 user-stream frames plus the market frames the fills
/// cause, at 2 allocations each.
const MAX_PER_CYCLE_NET_EXEC: f64 = 16.0;

#[test]
fn engine_threads_do_not_allocate_per_cycle_after_warmup() {
    let settings = BenchSettings {
        orders: 2_000,
        warmup: 400,
        max_runtime: Duration::from_secs(25),
        ..BenchSettings::default()
    };
    let out = run(&settings).expect("bench run starts");
    assert!(out.error.is_none(), "run failed: {:?}", out.error);
    assert!(out.flow.failure().is_none(), "{:?}", out.flow.failure());
    let per = out
        .flow
        .measured_allocations()
        .expect("counting allocator installed and run finished");
    let [net, exec, strategy] = per;
    eprintln!(
        "allocations after warm-up over 2000 cycles: network {net}, execution {exec}, strategy {strategy}"
    );
    assert_eq!(strategy, 0, "strategy thread allocated after warm-up");
    let per_cycle = (net + exec) as f64 / 2_000.0;
    assert!(
        per_cycle <= MAX_PER_CYCLE_NET_EXEC,
        "network+execution allocate {per_cycle:.2} per cycle (network {net}, execution {exec})"
    );
}
