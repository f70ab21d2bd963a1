//! How an idle engine thread waits, and where it runs.
//!
//! Each engine thread (network, execution, strategy) polls for work. What it
//! does when a poll finds nothing is the latency/CPU trade-off the config's
//! [`WaitStrategy`] chooses:
//!
//! - `Spin` keeps the core hot and reacts in tens of nanoseconds, but burns
//!   100% of a core even when the market is quiet.
//! - `Yield` polls and gives the scheduler a chance to run someone else
//!   between polls (`sched_yield`); it never sleeps, so it also burns a core
//!   when nothing else wants it.
//! - `Park` sleeps until woken (or a bounded timeout), using no CPU. Every
//!   hop into a parked thread costs a futex/eventfd wake-up: ~3 µs on an idle
//!   2-core VM (`bench`'s hand-off floor), but the woken thread then needs a
//!   free core, and during a fill's burst it queues 10–40 µs for one.
//! - `SpinPark` stays hot for a window (`spin_us`, default
//!   [`DEFAULT_SPIN_WINDOW`]) after its last piece of work, then parks. A
//!   thread that just handed an order on expects the answer within about
//!   one venue round trip, so catching it hot saves the wake-up; a quiet
//!   market costs no CPU. Inside the window it yields the core every few
//!   polls, so on a shared box the thread being waited for still runs.
//!
//! # Why three spinning threads starve each other on a 2-core box
//!
//! A spinning thread never gives its core back voluntarily: the scheduler can
//! only take it away at the end of a time slice (milliseconds). With three
//! spinners on two cores, one thread is always off-core; when the network
//! thread has just received a fill, the execution thread that must process it
//! may be waiting a whole slice for a core that another spinner is wasting on
//! empty polls. Latency then gets *worse* than parking, by orders of
//! magnitude, and it is bursty. Spin only threads that have a dedicated,
//! isolated core (`core = N` in the config, one spinner per core).
//!
//! CI machines and laptops have few shared cores (and other jobs on them), so
//! the default and CI settings use `Park` or a bounded `SpinPark`: an idle
//! engine sleeps, and the thread with work gets a core.

use super::doorbell::Doorbell;
use crate::config::{ThreadSettings, WaitStrategy};
use crate::latency::clock::now_ns;
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest a parked thread sleeps before it looks again. Bounded so a thread
/// whose producer cannot unpark it (a socket, a timer) still polls, and so a
/// shutdown flag is noticed promptly.
pub const DEFAULT_PARK_TIMEOUT: Duration = Duration::from_micros(500);

/// How long a `spin_park` thread stays hot after its last piece of work
/// before it parks (`spin_us` in the config overrides it). Sized to the venue
/// round trip seen from inside the engine on loopback (~50–150 µs): a thread
/// that just handed work on expects the answer within that window, and
/// catching it hot saves a futex sleep, a wake-up and the wait for a core
/// per thread hop.
pub const DEFAULT_SPIN_WINDOW: Duration = Duration::from_micros(200);

/// Empty polls `SpinPark` spins through before parking when it is counted in
/// polls rather than time ([`Waiter::with_spin_limit`]).
pub const DEFAULT_SPIN_LIMIT: u32 = 2_000;

/// Empty polls `recv` makes under `Spin`/`Yield` before handing control back
/// to the caller's loop (which may have other queues and a shutdown flag).
pub const DEFAULT_POLL_BATCH: u32 = 256;

/// Inside a `spin_park` window, every this many empty polls the thread gives
/// its core away once (`sched_yield`): on a box with fewer cores than busy
/// threads, the thread being waited for (the venue, another engine thread)
/// gets to run instead of waiting for the end of a scheduler slice. On a
/// dedicated core the yield returns at once (~0.3 µs). Every other poll:
/// with three hot engine threads and the venue sharing two cores, a longer
/// run of pure spins mostly delays the thread that has the work (measured
/// with `binance-exec bench`, alternating runs on the 2-core VM: yielding
/// every 2nd instead of every 16th poll cut the spin_park submit→ack median
/// by ~20 % and the fill median by ~13 %).
const YIELD_EVERY: u32 = 2;

/// What a thread should do after a poll that found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Poll again at once (a `pause` hint between polls).
    Spin,
    /// Give the core away once (`sched_yield`), then poll again.
    Yield,
    /// Block until woken, for at most the park timeout.
    Park,
}

/// Idle behaviour of one engine thread, derived from its [`WaitStrategy`].
///
/// Call [`Waiter::idle_action`] (or [`Waiter::idle`]) after each poll that
/// found nothing and [`Waiter::work_done`] after each poll that found work.
/// Holds no heap data, so it is cheap to keep one per loop.
#[derive(Debug, Clone)]
pub struct Waiter {
    strategy: WaitStrategy,
    spins: u32,
    spin_limit: u32,
    window_ns: u64,
    last_work_ns: u64,
    poll_batch: u32,
    park_timeout: Duration,
}

/// What one [`Waiter::recv`] call produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Recv<T> {
    /// A message.
    Msg(T),
    /// Nothing arrived within this call's bounded wait; loop again.
    Empty,
    /// Every sender is gone: the producer thread has ended.
    Disconnected,
}

impl Waiter {
    /// A waiter with the default spin window and park timeout.
    pub fn new(strategy: WaitStrategy) -> Self {
        Waiter {
            strategy,
            spins: 0,
            spin_limit: u32::MAX,
            window_ns: DEFAULT_SPIN_WINDOW.as_nanos() as u64,
            last_work_ns: now_ns(),
            poll_batch: DEFAULT_POLL_BATCH,
            park_timeout: DEFAULT_PARK_TIMEOUT,
        }
    }

    /// The waiter a configured thread uses: its strategy, and its `spin_us`
    /// window when one is set.
    pub fn for_thread(settings: &ThreadSettings) -> Self {
        let w = Waiter::new(settings.wait);
        match settings.spin_us {
            Some(us) => w.with_spin_window(Duration::from_micros(u64::from(us))),
            None => w,
        }
    }

    /// Overrides how long a park may last (a lower bound of 1 µs applies so a
    /// zero never turns parking into spinning).
    pub fn with_park_timeout(mut self, timeout: Duration) -> Self {
        self.park_timeout = timeout.max(Duration::from_micros(1));
        self
    }

    /// Counts the `SpinPark` budget in empty polls instead of time: parks
    /// after `limit` of them.
    pub fn with_spin_limit(mut self, limit: u32) -> Self {
        self.spin_limit = limit;
        self.window_ns = u64::MAX;
        self
    }

    /// How long `SpinPark` stays hot after the last piece of work.
    pub fn with_spin_window(mut self, window: Duration) -> Self {
        self.window_ns = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        self.spin_limit = u32::MAX;
        self
    }

    /// The strategy this waiter follows.
    pub fn strategy(&self) -> WaitStrategy {
        self.strategy
    }

    /// The longest single park.
    pub fn park_timeout(&self) -> Duration {
        self.park_timeout
    }

    /// Empty polls since the last piece of work (for `SpinPark` diagnostics
    /// and tests).
    pub fn idle_polls(&self) -> u32 {
        self.spins
    }

    /// True when the next [`Waiter::idle`] will park the thread.
    #[inline]
    pub fn will_park(&self) -> bool {
        match self.strategy {
            WaitStrategy::Park => true,
            WaitStrategy::SpinPark => {
                self.spins >= self.spin_limit
                    || (self.window_ns != u64::MAX
                        && now_ns().saturating_sub(self.last_work_ns) >= self.window_ns)
            }
            WaitStrategy::Spin | WaitStrategy::Yield => false,
        }
    }

    /// A poll found nothing: what to do now. Counts the empty poll.
    #[inline]
    pub fn idle_action(&mut self) -> Idle {
        let act = match self.strategy {
            WaitStrategy::Spin => Idle::Spin,
            WaitStrategy::Yield => Idle::Yield,
            WaitStrategy::Park => Idle::Park,
            WaitStrategy::SpinPark if self.will_park() => Idle::Park,
            WaitStrategy::SpinPark if self.spins % YIELD_EVERY == YIELD_EVERY - 1 => Idle::Yield,
            WaitStrategy::SpinPark => Idle::Spin,
        };
        self.spins = self.spins.saturating_add(1);
        act
    }

    /// A poll found nothing: wait the way the strategy says. Never blocks
    /// longer than the park timeout.
    #[inline]
    pub fn idle(&mut self) {
        match self.idle_action() {
            Idle::Spin => std::hint::spin_loop(),
            Idle::Yield => std::thread::yield_now(),
            Idle::Park => std::thread::park_timeout(self.park_timeout),
        }
    }

    /// A poll found work: the next idle period starts hot again.
    #[inline]
    pub fn work_done(&mut self) {
        self.spins = 0;
        if self.strategy == WaitStrategy::SpinPark {
            self.last_work_ns = now_ns();
        }
    }

    /// Receives from a channel the way the strategy says, with a bounded wait.
    ///
    /// `Spin`/`Yield` retry `try_recv` (with the idle hint between tries) up
    /// to a small batch; `Park` blocks in `recv_timeout` for the park timeout
    /// (the sender wakes it at once); `SpinPark` tries without blocking while
    /// its window lasts, then blocks like `Park`. Returns [`Recv::Empty`] when
    /// nothing came so the caller can service its other duties. No allocation
    /// in steady state: crossbeam reuses its waiter registration after the
    /// first blocking wait on a thread.
    pub fn recv<T>(&mut self, rx: &Receiver<T>) -> Recv<T> {
        self.recv_for(rx, self.park_timeout)
    }

    /// [`Waiter::recv`] with a park of at most `timeout` (e.g. until the
    /// next timer is due).
    pub fn recv_for<T>(&mut self, rx: &Receiver<T>, timeout: Duration) -> Recv<T> {
        self.recv_with(rx, |rx| rx.recv_timeout(timeout))
    }

    /// [`Waiter::recv_for`], but a park sleeps on `bell` (rung by the
    /// channel's producer) instead of in crossbeam's blocking receive, whose
    /// spin-and-yield prelude and mutex-guarded waiter list cost more than
    /// the park itself (see [`crate::engine::doorbell`]).
    pub fn recv_bell<T>(
        &mut self,
        rx: &Receiver<T>,
        bell: &Doorbell,
        timeout: Duration,
    ) -> Recv<T> {
        self.recv_with(rx, |rx| {
            bell.sleep(timeout, || !rx.is_empty());
            rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        })
    }

    /// The poll loop of [`Waiter::recv_for`] and [`Waiter::recv_bell`];
    /// `park` is how the thread blocks once its strategy says so.
    fn recv_with<T>(
        &mut self,
        rx: &Receiver<T>,
        mut park: impl FnMut(&Receiver<T>) -> Result<T, RecvTimeoutError>,
    ) -> Recv<T> {
        for _ in 0..self.poll_batch {
            match rx.try_recv() {
                Ok(m) => {
                    self.work_done();
                    return Recv::Msg(m);
                }
                Err(TryRecvError::Disconnected) => return Recv::Disconnected,
                Err(TryRecvError::Empty) => {}
            }
            match self.idle_action() {
                Idle::Spin => std::hint::spin_loop(),
                Idle::Yield => std::thread::yield_now(),
                Idle::Park => {
                    return match park(rx) {
                        Ok(m) => {
                            self.work_done();
                            Recv::Msg(m)
                        }
                        Err(RecvTimeoutError::Timeout) => Recv::Empty,
                        Err(RecvTimeoutError::Disconnected) => Recv::Disconnected,
                    };
                }
            }
        }
        Recv::Empty
    }
}

/// The scheduler time slice an engine thread asks for (see
/// [`request_short_slice`]).
pub const ENGINE_SLICE: Duration = Duration::from_micros(100);

/// `struct sched_attr` of `sched_setattr(2)` (version 1 layout).
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
    sched_util_min: u32,
    sched_util_max: u32,
}

/// The calling thread's scheduling attributes.
#[cfg(target_os = "linux")]
fn current_sched_attr() -> Option<SchedAttr> {
    let mut attr = SchedAttr::default();
    let size = std::mem::size_of::<SchedAttr>() as libc::c_uint;
    // SAFETY: `attr` is a writable `sched_attr` of `size` bytes; pid 0 is
    // the calling thread; flags 0. The kernel writes at most `size` bytes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            0 as libc::pid_t,
            &mut attr as *mut SchedAttr,
            size,
            0 as libc::c_uint,
        )
    };
    (r == 0).then_some(attr)
}

/// Asks the kernel to give the calling thread a short time slice
/// ([`ENGINE_SLICE`]); true when the kernel accepted.
///
/// Why: on a box whose cores are shared (a 2-core VM running the venue
/// simulator, builds, other processes), a woken engine thread often finds
/// its core busy. Linux's EEVDF scheduler (6.6+) then lets the running task
/// finish its slice (1.4 ms by default on the 2-core development VM) before
/// the woken one runs: that was the ~1.2 ms p99 of a parked engine. A thread
/// that asks for a short slice gets an earlier deadline, so from Linux 6.12
/// its wake-up preempts the running task, and a spinning engine thread hands
/// its core back after 100 µs instead of 1.4 ms. It needs no privilege and
/// keeps the thread's policy and nice value; a real-time thread (set up by
/// the operator with `chrt`), older kernels and other systems are left as
/// they are (false).
pub fn request_short_slice() -> bool {
    #[cfg(target_os = "linux")]
    {
        const SCHED_OTHER: u32 = 0;
        let Some(mut attr) = current_sched_attr() else {
            return false;
        };
        if attr.sched_policy != SCHED_OTHER {
            return false;
        }
        attr.size = std::mem::size_of::<SchedAttr>() as u32;
        attr.sched_flags = 0;
        attr.sched_runtime = ENGINE_SLICE.as_nanos() as u64;
        // SAFETY: `attr` is a valid, initialised `sched_attr` (read back
        // from the kernel, nice value kept) that outlives the call; pid 0 is
        // the calling thread; flags 0.
        let r = unsafe {
            libc::syscall(
                libc::SYS_sched_setattr,
                0 as libc::pid_t,
                &attr as *const SchedAttr,
                0 as libc::c_uint,
            )
        };
        r == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Why a thread could not be pinned to its configured core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The OS did not tell us which cores exist (unsupported platform or a
    /// restricted container), so a configured core cannot be honoured.
    #[error("cannot list CPU cores on this machine, so thread cannot be pinned to core {core}")]
    NoCoreList {
        /// The configured core.
        core: usize,
    },
    /// The configured core is not one this process may run on.
    #[error(
        "core {core} does not exist or is not available to this process (available: {available})"
    )]
    MissingCore {
        /// The configured core.
        core: usize,
        /// The core ids that are available, e.g. "0,1".
        available: String,
    },
    /// The OS refused to set the affinity.
    #[error("the OS refused to pin this thread to core {core}")]
    Refused {
        /// The configured core.
        core: usize,
    },
}

/// Pins the calling thread to `core`; `None` leaves scheduling to the OS.
///
/// Pinning keeps a hot thread's caches warm and stops it migrating; it is
/// only useful together with a core that nothing else runs on. A core that
/// does not exist is an error (naming it) rather than a silent no-op, because
/// a trader who configured pinning expects it to be in force.
pub fn pin_current_thread(core: Option<usize>) -> Result<(), PinError> {
    let Some(core) = core else {
        return Ok(());
    };
    let ids = core_affinity::get_core_ids().ok_or(PinError::NoCoreList { core })?;
    let Some(id) = ids.iter().find(|c| c.id == core).copied() else {
        let available = ids
            .iter()
            .map(|c| c.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        return Err(PinError::MissingCore { core, available });
    };
    if core_affinity::set_for_current(id) {
        Ok(())
    } else {
        Err(PinError::Refused { core })
    }
}

/// Why an engine thread could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The OS could not create the thread.
    #[error("cannot spawn thread {name}: {source}")]
    Os {
        /// Thread name.
        name: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The thread started but could not be pinned; it exited without running
    /// its body.
    #[error("thread {name}: {source}")]
    Pin {
        /// Thread name.
        name: String,
        /// Why pinning failed.
        source: PinError,
    },
    /// The thread ended before reporting whether it was pinned.
    #[error("thread {name} ended before it started its work")]
    Vanished {
        /// Thread name.
        name: String,
    },
}

/// Why joining an engine thread failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The thread's body panicked; the panic message when it was a string.
    #[error("thread {name} panicked: {message}")]
    Panicked {
        /// Thread name.
        name: String,
        /// Panic payload text.
        message: String,
    },
}

/// A named, possibly pinned engine thread.
#[derive(Debug)]
pub struct EngineThread<T> {
    name: String,
    handle: JoinHandle<Option<T>>,
}

impl<T> EngineThread<T> {
    /// The thread's name (as shown by `top -H` and in panics).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The std handle, e.g. to `unpark` a parked thread.
    pub fn thread(&self) -> &std::thread::Thread {
        self.handle.thread()
    }

    /// True once the body has returned.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the body to return and gives its result.
    pub fn join(self) -> Result<T, JoinError> {
        match self.handle.join() {
            Ok(Some(v)) => Ok(v),
            // Only reachable if pinning failed, and then no EngineThread is
            // handed out; kept as an error rather than a panic.
            Ok(None) => Err(JoinError::Panicked {
                name: self.name,
                message: "thread exited without running".to_string(),
            }),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_string());
                Err(JoinError::Panicked {
                    name: self.name,
                    message,
                })
            }
        }
    }
}

/// Starts an engine thread: names it, pins it per `settings.core` before any
/// of `f` runs, and reports a pinning failure to the caller instead of
/// running unpinned. Blocks only until the new thread has pinned itself.
pub fn spawn_named<T, F>(
    name: &str,
    settings: ThreadSettings,
    f: F,
) -> Result<EngineThread<T>, SpawnError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = crossbeam_channel::bounded::<Result<(), PinError>>(1);
    let core = settings.core;
    let handle = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let pinned = pin_current_thread(core);
            let ok = pinned.is_ok();
            // The spawner waits on this; if it is gone there is nobody to
            // report to and running is still correct.
            let _ = tx.send(pinned);
            if ok { Some(f()) } else { None }
        })
        .map_err(|source| SpawnError::Os {
            name: name.to_string(),
            source,
        })?;
    match rx.recv() {
        Ok(Ok(())) => Ok(EngineThread {
            name: name.to_string(),
            handle,
        }),
        Ok(Err(source)) => {
            let _ = handle.join();
            Err(SpawnError::Pin {
                name: name.to_string(),
                source,
            })
        }
        Err(_) => {
            let _ = handle.join();
            Err(SpawnError::Vanished {
                name: name.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parked receiver is woken by every send: across thousands of sends
    /// at varying small delays (landing before, during and after the
    /// receiver goes to sleep), no `recv_for` ends by its timeout while a
    /// message was waiting. The park timeout is long (2 s) and the test
    /// stops at the first lost wake-up, so it stays bounded when broken.
    #[test]
    fn parked_recv_never_sleeps_through_a_send() {
        const N: u64 = 3_000;
        let (tx, rx) = crossbeam_channel::unbounded::<u64>();
        let (ack_tx, ack_rx) = crossbeam_channel::unbounded::<u64>();
        let producer = std::thread::spawn(move || {
            for i in 0..N {
                let until = std::time::Instant::now() + Duration::from_nanos((i * 7919) % 20_000);
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
                if tx.send(i).is_err() || ack_rx.recv_timeout(Duration::from_secs(5)).is_err() {
                    return;
                }
            }
        });
        let mut w = Waiter::new(WaitStrategy::Park).with_park_timeout(Duration::from_secs(2));
        let (mut got, mut timed_out_with_work) = (0u64, 0u64);
        let give_up = std::time::Instant::now() + Duration::from_secs(30);
        while got < N && std::time::Instant::now() < give_up {
            match w.recv(&rx) {
                Recv::Msg(i) => {
                    assert_eq!(i, got, "in order");
                    got += 1;
                    let _ = ack_tx.send(i);
                }
                Recv::Empty if !rx.is_empty() => {
                    timed_out_with_work += 1;
                    break;
                }
                Recv::Empty => {}
                Recv::Disconnected => break,
            }
        }
        assert_eq!(timed_out_with_work, 0, "a parked recv slept through a send");
        assert_eq!(got, N, "every message arrived");
        drop(ack_tx);
        let _ = producer.join();
    }

    /// The slice request changes the slice only: the thread keeps its
    /// policy and nice value (a niced engine stays niced).
    #[cfg(target_os = "linux")]
    #[test]
    fn short_slice_keeps_policy_and_nice() {
        std::thread::spawn(|| {
            let before = current_sched_attr().expect("sched_getattr");
            let ok = request_short_slice();
            let after = current_sched_attr().expect("sched_getattr");
            assert_eq!(after.sched_policy, before.sched_policy);
            assert_eq!(after.sched_nice, before.sched_nice);
            if ok {
                assert_eq!(after.sched_runtime, ENGINE_SLICE.as_nanos() as u64);
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn spin_park_spins_then_parks_and_resets_on_work() {
        let mut w = Waiter::new(WaitStrategy::SpinPark)
            .with_spin_limit(3)
            .with_park_timeout(Duration::from_micros(10));
        assert!(!w.will_park());
        for _ in 0..3 {
            w.idle();
        }
        assert!(w.will_park());
        w.idle();
        assert_eq!(w.idle_polls(), 4);
        w.work_done();
        assert!(!w.will_park());
        assert_eq!(w.idle_polls(), 0);
    }

    #[test]
    fn never_parks_when_spinning_or_yielding() {
        for s in [WaitStrategy::Spin, WaitStrategy::Yield] {
            let mut w = Waiter::new(s).with_spin_limit(0);
            for _ in 0..10 {
                w.idle();
            }
            assert!(!w.will_park(), "{s:?}");
        }
        assert!(Waiter::new(WaitStrategy::Park).will_park());
    }

    #[test]
    fn spin_park_window_is_time_based_and_yields_inside_it() {
        let mut hot = Waiter::new(WaitStrategy::SpinPark).with_spin_window(Duration::from_secs(5));
        hot.work_done();
        let acts: Vec<Idle> = (0..YIELD_EVERY * 2).map(|_| hot.idle_action()).collect();
        assert!(!acts.contains(&Idle::Park), "inside the window: {acts:?}");
        assert!(acts.contains(&Idle::Yield) && acts.contains(&Idle::Spin));
        let mut cold =
            Waiter::new(WaitStrategy::SpinPark).with_spin_window(Duration::from_micros(1));
        cold.work_done();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(cold.idle_action(), Idle::Park, "window over");
        cold.work_done();
        let mut cfg = ThreadSettings {
            wait: WaitStrategy::SpinPark,
            ..ThreadSettings::default()
        };
        cfg.spin_us = Some(0);
        let mut zero = Waiter::for_thread(&cfg);
        zero.work_done();
        assert_eq!(zero.idle_action(), Idle::Park, "spin_us = 0 parks at once");
    }
}
