//! One parked consumer, woken by whoever hands it work.
//!
//! Why not block in crossbeam's own `recv_timeout` / `select!`? Its blocking
//! path spins and yields a dozen times before parking (CPU that, on a 2-core
//! box, the thread with the work needed), registers the waiter under a mutex
//! on every channel it waits on, and that mutex is contended by the very
//! sender that is trying to wake it: measured with `perf` on the 2-core VM,
//! the execution thread's `select!` over its two inputs spent its time in
//! `Mutex::lock_contended` and made ~10 futex calls per order cycle.
//!
//! A [`Doorbell`] is the minimum a park needs: the consumer raises a flag,
//! looks at its queues once more and parks; a producer, right after putting
//! work in a queue, rings, which costs one fence and one load while the
//! consumer is awake, and one `unpark` (a futex wake) while it sleeps. The
//! network thread has the same handshake around its `epoll_wait`
//! ([`crate::net::poller::NetWaker::wake_if_sleeping`]).
//!
//! ```
//! use binance_exec::engine::doorbell::Doorbell;
//! use std::time::Duration;
//!
//! let (tx, rx) = crossbeam_channel::bounded::<u32>(4);
//! let bell = Doorbell::new();
//! let producer_bell = bell.clone();
//! let producer = std::thread::spawn(move || {
//!     tx.send(7).unwrap();
//!     producer_bell.ring();
//! });
//! // Consumer: sleep until rung (or 100 ms), unless something is queued.
//! let mut got = None;
//! for _ in 0..100 {
//!     if let Ok(v) = rx.try_recv() {
//!         got = Some(v);
//!         break;
//!     }
//!     bell.sleep(Duration::from_millis(100), || !rx.is_empty());
//! }
//! producer.join().unwrap();
//! assert_eq!(got, Some(7));
//! ```

use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

/// Wakes one consumer thread that parks while its queues are empty.
///
/// Clone it to every producer. The consumer is the first thread that calls
/// [`Doorbell::sleep`] (or [`Doorbell::bind_current`]); a ring before that
/// finds nobody asleep and costs nothing.
#[derive(Debug, Clone, Default)]
pub struct Doorbell(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    sleeping: AtomicBool,
    consumer: OnceLock<Thread>,
}

impl Doorbell {
    /// A bell with no consumer yet.
    pub fn new() -> Self {
        Doorbell::default()
    }

    /// Makes the calling thread the consumer (the one [`Doorbell::ring`]
    /// unparks). Later calls from other threads are ignored.
    pub fn bind_current(&self) {
        let _ = self.0.consumer.get_or_init(std::thread::current);
    }

    /// Producer side: call right after putting work where the consumer's
    /// `ready` check looks. Either the consumer sees the work before it
    /// parks, or this sees it asleep and unparks it.
    #[inline]
    pub fn ring(&self) {
        // Pairs with the fence in `sleep` (a Dekker handshake): our queue
        // write is ordered before this load, its flag store before its
        // queue read.
        fence(Ordering::SeqCst);
        if self.0.sleeping.load(Ordering::Relaxed)
            && let Some(t) = self.0.consumer.get()
        {
            t.unpark();
        }
    }

    /// Consumer side: parks for at most `timeout` unless `ready()` says work
    /// is already queued. Returns early when rung (and, rarely, spuriously):
    /// the caller polls its queues after every return either way.
    pub fn sleep(&self, timeout: Duration, ready: impl FnOnce() -> bool) {
        self.bind_current();
        self.0.sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !ready() {
            std::thread::park_timeout(timeout);
        }
        self.0.sleeping.store(false, Ordering::Relaxed);
    }

    /// True while the consumer is parked (or about to park): for tests and
    /// diagnostics.
    pub fn is_sleeping(&self) -> bool {
        self.0.sleeping.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_ring_wakes_a_parked_consumer_long_before_its_timeout() {
        let (tx, rx) = crossbeam_channel::bounded::<u8>(1);
        let bell = Doorbell::new();
        let b = bell.clone();
        let consumer = std::thread::spawn(move || {
            let start = Instant::now();
            while rx.try_recv().is_err() {
                if start.elapsed() > Duration::from_secs(20) {
                    return None;
                }
                b.sleep(Duration::from_secs(10), || !rx.is_empty());
            }
            Some(start.elapsed())
        });
        // Wait (bounded) until the consumer is parked, then hand it work.
        let t0 = Instant::now();
        while !bell.is_sleeping() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(bell.is_sleeping(), "consumer never parked");
        tx.send(1).unwrap();
        bell.ring();
        let took = consumer.join().unwrap().expect("consumer saw the message");
        assert!(
            took < Duration::from_secs(5),
            "woke after {took:?}, not by the ring"
        );
    }

    #[test]
    fn work_queued_before_sleep_is_seen_without_parking() {
        let bell = Doorbell::new();
        let start = Instant::now();
        bell.sleep(Duration::from_secs(5), || true);
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(!bell.is_sleeping());
    }

    #[test]
    fn a_ring_with_nobody_asleep_is_harmless() {
        let bell = Doorbell::new();
        bell.ring();
        bell.bind_current();
        bell.ring(); // not sleeping: must not leave an unpark token behind
        let start = Instant::now();
        bell.sleep(Duration::from_millis(50), || false);
        // A stray token would have made this park return at once.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(20), "returned after {took:?}");
        assert!(took < Duration::from_secs(5));
    }
}
