//! `--alloc-trace`: the counting allocator captures backtraces only for
//! engine threads (threads that published a count), only after arming, at
//! most K per thread, and the tracer's own allocations are not counted.

use binance_exec::bench::alloc::{
    CountingAllocator, EngineThread, arm_trace, disarm_trace, enable_trace, publish, take_traces,
    thread_allocations,
};
use std::hint::black_box;
use std::thread;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn allocate(n: usize) -> u64 {
    let before = thread_allocations();
    for i in 0..n {
        drop(black_box(Box::new(black_box(i as u64))));
    }
    thread_allocations() - before
}

#[test]
fn traces_engine_threads_after_arming_at_most_k_each() {
    enable_trace(2);
    // Before arming: an engine thread's allocations are counted, not traced.
    let early = thread::spawn(|| {
        publish(EngineThread::Network);
        allocate(3)
    })
    .join()
    .expect("thread runs");
    assert_eq!(early, 3);
    assert!(take_traces().is_empty());

    arm_trace();
    let engine = thread::spawn(|| {
        publish(EngineThread::Execution);
        // Five counted allocations; the two traced ones capture backtraces
        // (which allocate) without adding to the count.
        allocate(5)
    })
    .join()
    .expect("thread runs");
    assert_eq!(engine, 5);
    // A thread that never published is not an engine thread.
    let other = thread::spawn(|| allocate(4)).join().expect("thread runs");
    assert_eq!(other, 4);
    disarm_trace();
    let after = thread::spawn(|| {
        publish(EngineThread::Strategy);
        allocate(2)
    })
    .join()
    .expect("thread runs");
    assert_eq!(after, 2);

    let traces = take_traces();
    assert_eq!(traces.len(), 2, "{traces:?}");
    for t in &traces {
        assert_eq!(t.thread, EngineThread::Execution);
        assert_eq!(t.size, 8);
        let text = t.backtrace.to_string();
        assert!(text.contains("bench_alloc_trace"), "{text}");
        assert!(!t.callee_frames(3).is_empty());
    }
}
