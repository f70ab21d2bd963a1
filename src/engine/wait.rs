//! How an idle engine thread waits, and where it runs.
//!
//! Each engine thread (network, execution, strategy) polls for work. What it
//! does when a poll finds nothing is the latency/CPU trade-off the config's
//! [`WaitStrategy`] chooses:
//!
//! - `Spin` keeps the core hot and reacts in tens of nanoseconds, but burns
//!   100% of a core even when the market is quiet.
//! - `Yield` polls and gives the scheduler a chance to run someone else.
//! - `Park` sleeps until woken (or a short bounded timeout), using no CPU.
//! - `SpinPark` spins for a while after the last piece of work (a burst of
//!   fills usually comes in clusters), then parks.
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
//! the default and CI settings use `Park`: every thread sleeps when idle and
//! the one with work gets a core immediately.

use crate::config::{ThreadSettings, WaitStrategy};
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest a parked thread sleeps before it looks again. Bounded so a thread
/// whose producer cannot unpark it (a socket, a timer) still polls, and so a
/// shutdown flag is noticed promptly.
pub const DEFAULT_PARK_TIMEOUT: Duration = Duration::from_micros(500);

/// Empty polls `SpinPark` spins through before parking: roughly 10–100 µs
/// of spinning (a `pause` costs 10–40 ns depending on the CPU), enough to
/// catch the next event of a burst without holding the core for long.
pub const DEFAULT_SPIN_LIMIT: u32 = 2_000;

/// Empty polls `recv` makes under `Spin`/`Yield` before handing control back
/// to the caller's loop (which may have other queues and a shutdown flag).
pub const DEFAULT_POLL_BATCH: u32 = 256;

/// Idle behaviour of one engine thread, derived from its [`WaitStrategy`].
///
/// Call [`Waiter::idle`] after each poll that found nothing and
/// [`Waiter::work_done`] after each poll that found work. Holds no heap data,
/// so it is cheap to keep one per loop.
#[derive(Debug, Clone)]
pub struct Waiter {
    strategy: WaitStrategy,
    spins: u32,
    spin_limit: u32,
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
    /// A waiter with the default spin limit and park timeout.
    pub fn new(strategy: WaitStrategy) -> Self {
        Waiter {
            strategy,
            spins: 0,
            spin_limit: DEFAULT_SPIN_LIMIT,
            poll_batch: DEFAULT_POLL_BATCH,
            park_timeout: DEFAULT_PARK_TIMEOUT,
        }
    }

    /// Overrides how long a park may last (a lower bound of 1 µs applies so a
    /// zero never turns parking into spinning).
    pub fn with_park_timeout(mut self, timeout: Duration) -> Self {
        self.park_timeout = timeout.max(Duration::from_micros(1));
        self
    }

    /// Overrides how many empty polls `SpinPark` spins before parking.
    pub fn with_spin_limit(mut self, limit: u32) -> Self {
        self.spin_limit = limit;
        self
    }

    /// The strategy this waiter follows.
    pub fn strategy(&self) -> WaitStrategy {
        self.strategy
    }

    /// Empty polls since the last piece of work (for `SpinPark` diagnostics
    /// and tests).
    pub fn idle_polls(&self) -> u32 {
        self.spins
    }

    /// True when the next [`Waiter::idle`] will park the thread.
    pub fn will_park(&self) -> bool {
        match self.strategy {
            WaitStrategy::Park => true,
            WaitStrategy::SpinPark => self.spins >= self.spin_limit,
            WaitStrategy::Spin | WaitStrategy::Yield => false,
        }
    }

    /// A poll found nothing: wait the way the strategy says. Never blocks
    /// longer than the park timeout.
    #[inline]
    pub fn idle(&mut self) {
        let park = self.will_park();
        self.spins = self.spins.saturating_add(1);
        match self.strategy {
            WaitStrategy::Spin => std::hint::spin_loop(),
            WaitStrategy::Yield => std::thread::yield_now(),
            WaitStrategy::Park | WaitStrategy::SpinPark if park => {
                std::thread::park_timeout(self.park_timeout)
            }
            WaitStrategy::Park | WaitStrategy::SpinPark => std::hint::spin_loop(),
        }
    }

    /// A poll found work: the next idle period starts spinning again.
    #[inline]
    pub fn work_done(&mut self) {
        self.spins = 0;
    }

    /// Receives from a channel the way the strategy says, with a bounded wait.
    ///
    /// `Spin`/`Yield` retry `try_recv` (with the idle hint between tries) up
    /// to a small batch; `Park` blocks in `recv_timeout` for the park timeout
    /// (the sender wakes it at once); `SpinPark` tries without blocking until
    /// its spin budget is used, then blocks like `Park`. Returns
    /// [`Recv::Empty`] when nothing came so the caller can service its other
    /// duties. No allocation in steady state: crossbeam reuses its waiter
    /// registration after the first blocking wait on a thread.
    pub fn recv<T>(&mut self, rx: &Receiver<T>) -> Recv<T> {
        let tries = match self.strategy {
            WaitStrategy::Spin | WaitStrategy::Yield => self.poll_batch,
            WaitStrategy::Park => 1,
            WaitStrategy::SpinPark => self.spin_limit.saturating_sub(self.spins).max(1),
        }
        .min(self.poll_batch);
        for _ in 0..tries {
            match rx.try_recv() {
                Ok(m) => {
                    self.work_done();
                    return Recv::Msg(m);
                }
                Err(TryRecvError::Disconnected) => return Recv::Disconnected,
                Err(TryRecvError::Empty) => {}
            }
            if self.will_park() {
                return match rx.recv_timeout(self.park_timeout) {
                    Ok(m) => {
                        self.work_done();
                        Recv::Msg(m)
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        self.spins = self.spins.saturating_add(1);
                        Recv::Empty
                    }
                    Err(RecvTimeoutError::Disconnected) => Recv::Disconnected,
                };
            }
            self.idle();
        }
        Recv::Empty
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
}
