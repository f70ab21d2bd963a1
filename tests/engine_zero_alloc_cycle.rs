//! Heap allocations of the engine's threads per order cycle after warm-up,
//! through the real engine against the in-process simulator (REST entry):
//! resting LIMIT → ack → cancel, and MARKET → ack → fill, on both sides.
//!
//! After warm-up every engine thread — network, execution, strategy — makes
//! exactly zero heap allocations per cycle: building and signing the REST
//! request, the HTTP keep-alive round trip, reading WebSocket frames
//! (`net::ws_frame::FrameReader` into per-connection buffers), unwrapping
//! combined-stream frames (`decode::split_combined` scanner), decoding
//! ORDER_TRADE_UPDATE and ACCOUNT_UPDATE (inline `Capped` lists), the
//! tracker, positions, and event delivery to the strategy. The order pool
//! is kept small (256) so finished orders are released from it about every
//! hundred cycles: that path must not allocate either.

use binance_exec::bench::alloc::CountingAllocator;
use binance_exec::bench::run::{BenchSettings, run};
use std::time::Duration;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

#[test]
fn engine_threads_do_not_allocate_per_cycle_after_warmup() {
    let settings = BenchSettings {
        orders: 2_000,
        warmup: 400,
        max_runtime: Duration::from_secs(25),
        order_pool_size: Some(256),
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
    assert_eq!(net, 0, "network thread allocated after warm-up");
    assert_eq!(exec, 0, "execution thread allocated after warm-up");
}
