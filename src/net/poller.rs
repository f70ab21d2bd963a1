//! The network thread's event loop core: `mio::Poll`, its `Events`, token allocation
//! and a `Waker` for other threads.
//!
//! Why a wrapper: the poll timeout is a latency/CPU trade-off the operator picks
//! (`Spin` = timeout 0, burns a core, lowest wake-up latency; `Park(d)` = sleep up to `d`,
//! woken by socket readiness or by [`NetWaker::wake`] when the execution thread enqueues
//! a command). Tokens are handed out from one counter so HTTP pools and WebSocket clients
//! never collide; token 0 is reserved for the waker.
//!
//! ```
//! use binance_exec::net::poller::{Poller, PollMode, WAKE_TOKEN};
//! let mut p = Poller::new(PollMode::Park(std::time::Duration::from_millis(1)), 256).unwrap();
//! let waker = p.waker();
//! waker.wake().unwrap();
//! p.poll().unwrap();
//! assert!(p.events().iter().any(|e| e.token() == WAKE_TOKEN));
//! ```

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::time::Duration;

use mio::{Events, Poll, Registry, Token, Waker};

/// Token of the cross-thread waker; never handed out by [`Poller::token`].
pub const WAKE_TOKEN: Token = Token(0);

/// How long `poll` may sleep when nothing is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollMode {
    /// Timeout 0: never sleep (busy-poll a dedicated, pinned core).
    Spin,
    /// Sleep at most this long; socket readiness or a wake-up ends it early.
    Park(Duration),
}

impl PollMode {
    fn timeout(self) -> Duration {
        match self {
            PollMode::Spin => Duration::ZERO,
            PollMode::Park(d) => d,
        }
    }
}

/// What ended a [`Poller::park_unless`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parked {
    /// Work was already waiting: polled without sleeping.
    Pending,
    /// A socket or the waker ended the sleep.
    Woken,
    /// Nothing happened for the whole timeout (or the sleep was interrupted).
    TimedOut,
}

/// A handle other threads use to interrupt the network thread's `poll`.
#[derive(Debug, Clone)]
pub struct NetWaker {
    waker: Arc<Waker>,
    sleeping: Arc<AtomicBool>,
}

impl NetWaker {
    /// Wake the network thread unconditionally (one `eventfd` write).
    pub fn wake(&self) -> io::Result<()> {
        self.waker.wake()
    }

    /// Wake the network thread only if it is blocked (or about to block) in
    /// [`Poller::park_unless`]. Call it right after putting work where the
    /// `pending` check of that call looks (e.g. a channel send). A thread
    /// that is polling hot finds the work itself, so this skips the
    /// `eventfd` syscall and the spurious poll wake-up it would cause.
    #[inline]
    pub fn wake_if_sleeping(&self) -> io::Result<()> {
        // Pairs with the fence in `park_unless`: either that thread sees our
        // work before it sleeps, or we see its flag and wake it.
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            self.waker.wake()
        } else {
            Ok(())
        }
    }
}

/// The network thread's poll, event buffer and token counter.
pub struct Poller {
    poll: Poll,
    events: Events,
    waker: Arc<Waker>,
    sleeping: Arc<AtomicBool>,
    next_token: usize,
    mode: PollMode,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("mode", &self.mode)
            .field("next_token", &self.next_token)
            .finish()
    }
}

impl Poller {
    /// Create the poll with room for `capacity` events per wake-up.
    pub fn new(mode: PollMode, capacity: usize) -> io::Result<Poller> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE_TOKEN)?);
        Ok(Poller {
            poll,
            events: Events::with_capacity(capacity.max(1)),
            waker,
            sleeping: Arc::new(AtomicBool::new(false)),
            next_token: 1,
            mode,
        })
    }

    /// A fresh token, unique for this poller's lifetime.
    pub fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    /// Registry to (re)register sources with.
    pub fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// A cloneable waker for other threads.
    pub fn waker(&self) -> NetWaker {
        NetWaker {
            waker: Arc::clone(&self.waker),
            sleeping: Arc::clone(&self.sleeping),
        }
    }

    /// Current poll mode.
    pub fn mode(&self) -> PollMode {
        self.mode
    }

    /// Change the poll mode (e.g. spin only while orders are in flight).
    pub fn set_mode(&mut self, mode: PollMode) {
        self.mode = mode;
    }

    /// Wait for readiness per the mode; an interrupted wait (EINTR) is an empty round.
    pub fn poll(&mut self) -> io::Result<()> {
        self.poll_for(self.mode.timeout())
    }

    /// Wait for at most `timeout`, e.g. capped by the nearest request deadline.
    pub fn poll_for(&mut self, timeout: Duration) -> io::Result<()> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                self.events.clear();
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Block for at most `timeout`, announcing the sleep to
    /// [`NetWaker::wake_if_sleeping`]; polls without blocking instead when
    /// `pending()` reports work that arrived before the announcement.
    ///
    /// Says what ended the wait, so a caller (or a test) can tell a wake-up
    /// from a timeout: work found after a [`Parked::TimedOut`] that was
    /// already queued before the park is a lost wake-up.
    pub fn park_unless(
        &mut self,
        timeout: Duration,
        pending: impl FnOnce() -> bool,
    ) -> io::Result<Parked> {
        self.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let (timeout, how) = if pending() {
            (Duration::ZERO, Parked::Pending)
        } else {
            (timeout, Parked::TimedOut)
        };
        let r = self.poll_for(timeout);
        self.sleeping.store(false, Ordering::Relaxed);
        r?;
        if how == Parked::Pending {
            Ok(Parked::Pending)
        } else if self.events.is_empty() {
            Ok(Parked::TimedOut)
        } else {
            Ok(Parked::Woken)
        }
    }

    /// Events of the last `poll`.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Split borrow for the loop body: events to iterate and the registry to update interests.
    pub fn events_and_registry(&self) -> (&Events, &Registry) {
        (&self.events, self.poll.registry())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// The announce-then-check handshake between `park_unless` and
    /// `wake_if_sleeping` must never let the network thread sleep through a
    /// command: every park that had work queued before it ended is ended by
    /// the waker (or skipped), never by the timeout. The producer sends at
    /// varying small delays so sends land before, during and after the
    /// consumer's announcement. The park timeout is long (2 s), so a lost
    /// wake-up shows as a `TimedOut` park with a message waiting; the test
    /// stops at the first one, so it is bounded even when broken.
    #[test]
    fn park_unless_never_sleeps_through_a_wake() {
        const N: u64 = 3_000;
        let mut p = Poller::new(PollMode::Park(Duration::from_secs(2)), 16).unwrap();
        let waker = p.waker();
        let (tx, rx) = crossbeam_channel::unbounded::<u64>();
        let (ack_tx, ack_rx) = crossbeam_channel::unbounded::<u64>();
        let producer = std::thread::spawn(move || {
            for i in 0..N {
                // 0..~20 µs of busy delay, varied per message.
                let until = Instant::now() + Duration::from_nanos((i * 7919) % 20_000);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                if tx.send(i).is_err() {
                    return;
                }
                let _ = waker.wake_if_sleeping();
                if ack_rx.recv_timeout(Duration::from_secs(5)).is_err() {
                    return;
                }
            }
        });
        let (mut woken, mut pending, mut lost) = (0u64, 0u64, 0u64);
        let mut got = 0u64;
        let give_up = Instant::now() + Duration::from_secs(30);
        while got < N && Instant::now() < give_up {
            let how = p
                .park_unless(Duration::from_secs(2), || !rx.is_empty())
                .unwrap();
            let msg = rx.try_recv();
            match (how, msg.is_ok()) {
                (Parked::TimedOut, true) => {
                    lost += 1;
                    break;
                }
                (Parked::Woken, _) => woken += 1,
                (Parked::Pending, _) => pending += 1,
                (Parked::TimedOut, false) => {}
            }
            if let Ok(i) = msg {
                assert_eq!(i, got, "in order");
                got += 1;
                let _ = ack_tx.send(i);
            }
        }
        drop(ack_tx);
        let _ = producer.join();
        assert_eq!(lost, 0, "a park slept through a queued command");
        assert_eq!(got, N, "every command arrived");
        assert!(woken + pending >= N, "woken {woken} pending {pending}");
    }

    #[test]
    fn park_says_what_ended_it() {
        let mut p = Poller::new(PollMode::Park(Duration::from_millis(1)), 16).unwrap();
        assert_eq!(
            p.park_unless(Duration::from_millis(1), || true).unwrap(),
            Parked::Pending
        );
        assert_eq!(
            p.park_unless(Duration::from_millis(1), || false).unwrap(),
            Parked::TimedOut
        );
        p.waker().wake().unwrap();
        assert_eq!(
            p.park_unless(Duration::from_secs(5), || false).unwrap(),
            Parked::Woken
        );
    }
}
