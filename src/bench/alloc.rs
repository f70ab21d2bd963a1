//! Heap-allocation accounting for benchmarks: a counting global allocator
//! and one published counter per engine thread, with an opt-in trace of
//! where the engine threads allocate after warm-up.
//!
//! Why: "no allocation on the hot path" is a promise the engine makes, and a
//! benchmark should show it kept it, per order cycle, on the real threads.
//! The binary installs [`CountingAllocator`]; each engine thread calls
//! [`publish`] after each piece of work (a thread-local read and one relaxed
//! store to a cache line of its own), so a benchmark can diff the three
//! counts between the end of warm-up and the end of the run. A library user
//! who does not install the allocator pays one relaxed store per loop turn
//! and [`engine_thread_allocations`] answers `None` ("not measured"), never 0.
//!
//! Why a trace: a count says *that* the hot path allocates, not *where*.
//! With [`enable_trace`]`(k)` and, at the end of warm-up, [`arm_trace`], the
//! allocator captures a backtrace for the first `k` allocations of each
//! engine thread (threads that called [`publish`]). Capturing allocates; a
//! thread-local guard keeps those allocations out of the counts and out of
//! the trace. [`take_traces`] hands them over; [`AllocTrace::our_frames`]
//! names the crate's own source lines.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

thread_local! {
    // Const-initialised and without a destructor: reading or bumping it never
    // allocates, so the allocator can use it without recursing.
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
    // Which engine thread this is (index + 1; 0 = not an engine thread),
    // set by `publish`.
    static THREAD_ROLE: Cell<u8> = const { Cell::new(0) };
    // Backtraces captured on this thread so far.
    static THREAD_TRACED: Cell<usize> = const { Cell::new(0) };
    // Set while this thread captures a backtrace: its allocations are the
    // tracer's, not the engine's.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

/// Backtraces to capture per engine thread (0 = tracing off).
static TRACE_LIMIT: AtomicUsize = AtomicUsize::new(0);
/// Set at the end of warm-up: only later allocations are traced.
static TRACE_ARMED: AtomicBool = AtomicBool::new(false);
/// Captured traces, in capture order.
static TRACES: Mutex<Vec<AllocTrace>> = Mutex::new(Vec::new());

/// One traced allocation on an engine thread after warm-up.
#[derive(Debug)]
pub struct AllocTrace {
    /// The thread that allocated.
    pub thread: EngineThread,
    /// Bytes asked for.
    pub size: usize,
    /// Where (resolved when printed).
    pub backtrace: Backtrace,
}

impl AllocTrace {
    /// The crate's own frames (`path:line` under `src/`, innermost first),
    /// skipping the allocator itself: where in our code the allocation is.
    pub fn our_frames(&self) -> Vec<String> {
        let text = self.backtrace.to_string();
        let mut out = Vec::new();
        // The symbol the next `at` line belongs to: the global-allocator
        // shim (`__rg_alloc`, attributed to the `#[global_allocator]`
        // line) and this module are the tracer, not the caller.
        let mut symbol = "";
        for line in text.lines() {
            let line = line.trim_start();
            let Some(at) = line.strip_prefix("at ") else {
                symbol = line.split_once(": ").map_or(line, |(_, s)| s);
                continue;
            };
            let tracer = ["__rg_", "__rust", "__rdl", "bench::alloc"]
                .iter()
                .any(|t| symbol.contains(t));
            if tracer || at.contains("/rustc/") || at.contains("/.cargo/") {
                continue;
            }
            if let Some(i) = at.find("src/") {
                out.push(at.get(i..).unwrap_or(at).to_string());
            }
        }
        out
    }

    /// The innermost frames below the allocator, ours or not (what asked
    /// for memory: `RawVec::grow`, `format!`, …), as symbol names.
    pub fn callee_frames(&self, n: usize) -> Vec<String> {
        let text = self.backtrace.to_string();
        text.lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let (num, name) = l.split_once(": ")?;
                num.chars()
                    .all(|c| c.is_ascii_digit())
                    .then(|| name.to_string())
            })
            .skip_while(|name| {
                name.contains("backtrace")
                    || name.contains("bench::alloc")
                    || name.starts_with("__rust")
                    || name.starts_with("__rdl")
            })
            .take(n)
            .collect()
    }
}

/// Turns the allocation trace on: the first `per_thread` allocations of
/// each engine thread after [`arm_trace`] get a backtrace (0 = off).
pub fn enable_trace(per_thread: usize) {
    TRACE_LIMIT.store(per_thread, Ordering::Relaxed);
}

/// Marks the end of warm-up: from now on, engine-thread allocations are
/// traced (when [`enable_trace`] asked for it).
pub fn arm_trace() {
    if TRACE_LIMIT.load(Ordering::Relaxed) > 0 {
        TRACE_ARMED.store(true, Ordering::Release);
    }
}

/// Marks the end of the measured phase: later allocations (shutdown,
/// reports) are not the hot path's and are not traced.
pub fn disarm_trace() {
    TRACE_ARMED.store(false, Ordering::Release);
}

/// Takes the captured traces (and disarms the trace).
pub fn take_traces() -> Vec<AllocTrace> {
    TRACE_ARMED.store(false, Ordering::Release);
    let _ = IN_TRACE.try_with(|g| g.set(true));
    let out = std::mem::take(&mut *TRACES.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = IN_TRACE.try_with(|g| g.set(false));
    out
}

/// Captures a backtrace of this allocation if tracing wants it. Runs inside
/// the allocator: everything it allocates happens under `IN_TRACE`.
#[cold]
fn maybe_trace(size: usize) {
    let role = THREAD_ROLE.try_with(Cell::get).unwrap_or(0);
    let Some(thread) = role
        .checked_sub(1)
        .and_then(|i| EngineThread::ALL.get(usize::from(i)).copied())
    else {
        return;
    };
    let limit = TRACE_LIMIT.load(Ordering::Relaxed);
    let Ok(traced) = THREAD_TRACED.try_with(Cell::get) else {
        return;
    };
    if traced >= limit || IN_TRACE.try_with(|g| g.replace(true)).unwrap_or(true) {
        return;
    }
    THREAD_TRACED.with(|t| t.set(traced + 1));
    let backtrace = Backtrace::force_capture();
    TRACES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(AllocTrace {
            thread,
            size,
            backtrace,
        });
    let _ = IN_TRACE.try_with(|g| g.set(false));
}

/// Set by the first counted allocation: proof the allocator is installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts allocations (and reallocations) per
/// thread, then delegates to the system allocator. Install it in a binary:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOC: binance_exec::bench::alloc::CountingAllocator =
///     binance_exec::bench::alloc::CountingAllocator;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

#[inline]
fn count_one(size: usize) {
    if IN_TRACE.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    if TRACE_ARMED.load(Ordering::Relaxed) {
        maybe_trace(size);
    }
    let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get().wrapping_add(1)));
    // Read-mostly: after the first allocation this is a shared cache line
    // that is only ever loaded.
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is a const-initialised thread-local counter that never
// allocates itself.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// True once [`CountingAllocator`] has counted anything in this process,
/// i.e. it is the global allocator. Without it every count reads 0, which
/// must be reported as "not measured".
pub fn is_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Allocations made by the calling thread so far (0 when the counting
/// allocator is not installed; check [`is_installed`]).
#[inline]
pub fn thread_allocations() -> u64 {
    THREAD_ALLOCS.try_with(Cell::get).unwrap_or(0)
}

/// The engine's three threads, in the order of the published counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineThread {
    /// Sockets (REST, streams, WS API).
    Network = 0,
    /// Order state (the execution loop).
    Execution = 1,
    /// Strategy callbacks.
    Strategy = 2,
}

impl EngineThread {
    /// Every engine thread, in counter order.
    pub const ALL: [EngineThread; 3] = [
        EngineThread::Network,
        EngineThread::Execution,
        EngineThread::Strategy,
    ];

    /// Stable name (tables, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            EngineThread::Network => "network",
            EngineThread::Execution => "execution",
            EngineThread::Strategy => "strategy",
        }
    }
}

/// One counter per cache line (128 bytes covers adjacent-line prefetch), so
/// three threads storing their own counts never contend.
#[repr(align(128))]
struct Slot(AtomicU64);

static PUBLISHED: [Slot; 3] = [
    Slot(AtomicU64::new(0)),
    Slot(AtomicU64::new(0)),
    Slot(AtomicU64::new(0)),
];

/// Stores the calling thread's allocation count as `thread`'s. Engine
/// threads call this after each piece of work; it is one thread-local read
/// and one relaxed store. Process-wide: with two engines in one process the
/// later-started one owns the slots.
#[inline]
pub fn publish(thread: EngineThread) {
    let _ = THREAD_ROLE.try_with(|r| r.set(thread as u8 + 1));
    if let Some(slot) = PUBLISHED.get(thread as usize) {
        slot.0.store(thread_allocations(), Ordering::Relaxed);
    }
}

/// The engine threads' last published allocation counts (network,
/// execution, strategy), or `None` when the counting allocator is not
/// installed.
pub fn engine_thread_allocations() -> Option<[u64; 3]> {
    if !is_installed() {
        return None;
    }
    Some(EngineThread::ALL.map(|t| {
        PUBLISHED
            .get(t as usize)
            .map_or(0, |s| s.0.load(Ordering::Relaxed))
    }))
}

/// Allocation counts of the three engine threads at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct AllocSnapshot {
    /// Network, execution, strategy.
    pub per_thread: [u64; 3],
}

impl AllocSnapshot {
    /// Takes a snapshot from the strategy thread: the network and execution
    /// counts as last published, the strategy thread's own count live.
    /// `None` when the counting allocator is not installed.
    pub fn from_strategy_thread() -> Option<AllocSnapshot> {
        let mut per_thread = engine_thread_allocations()?;
        if let Some(s) = per_thread.get_mut(EngineThread::Strategy as usize) {
            *s = thread_allocations();
        }
        Some(AllocSnapshot { per_thread })
    }

    /// Allocations per thread between `earlier` and `self` (saturating: a
    /// restarted thread cannot make a negative count).
    pub fn since(&self, earlier: &AllocSnapshot) -> [u64; 3] {
        let mut out = [0; 3];
        for (o, (a, b)) in out
            .iter_mut()
            .zip(self.per_thread.iter().zip(earlier.per_thread.iter()))
        {
            *o = a.saturating_sub(*b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_differences_saturate() {
        let a = AllocSnapshot {
            per_thread: [5, 10, 7],
        };
        let b = AllocSnapshot {
            per_thread: [8, 10, 3],
        };
        assert_eq!(b.since(&a), [3, 0, 0]);
    }

    #[test]
    fn thread_names_are_in_counter_order() {
        let names: Vec<_> = EngineThread::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["network", "execution", "strategy"]);
        assert_eq!(EngineThread::Strategy as usize, 2);
    }
}
