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
    pub fn park_unless(
        &mut self,
        timeout: Duration,
        pending: impl FnOnce() -> bool,
    ) -> io::Result<()> {
        self.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let timeout = if pending() { Duration::ZERO } else { timeout };
        let r = self.poll_for(timeout);
        self.sleeping.store(false, Ordering::Relaxed);
        r
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
