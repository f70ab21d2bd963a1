//! Byte buffers recycled between the network thread and the execution thread, and the
//! engine's monotonic clock.
//!
//! Why a pool: every REST request target, response body and stream frame crosses a
//! thread boundary. Allocating a fresh `Vec` for each would put `malloc`/`free` (and
//! their cross-thread contention) on the hot path. Instead a fixed set of buffers is
//! allocated up front and travels in a loop: the execution thread takes one, fills it
//! with a signed query string, sends it to the network thread, which returns it to the
//! pool once the bytes are written; a frame read from a socket is copied into a pooled
//! buffer that the execution thread puts back after decoding. `clear()` keeps the
//! capacity, so in steady state no buffer is ever allocated. When the pool runs dry a
//! new buffer is allocated rather than blocking (latency beats memory here) and the
//! event is counted, so a test or a metrics line can prove the steady state is
//! allocation-free.
//!
//! ```
//! use binance_exec::engine::buffers::BufPool;
//! let pool = BufPool::new(4, 256);
//! let mut b = pool.get();
//! b.extend_from_slice(b"/fapi/v1/time");
//! assert_eq!(b.as_bytes(), b"/fapi/v1/time");
//! pool.put(b);
//! let again = pool.get();
//! assert!(again.is_empty() && again.capacity() >= 256);
//! assert_eq!(pool.allocations(), 0);
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};

/// Monotonic nanoseconds and their `Instant`: one clock for every stage the
/// latency histograms subtract (see [`crate::latency::clock`]).
pub use crate::latency::clock::{instant_at, now_ns as mono_ns};

/// A byte buffer that belongs to a [`BufPool`]: hand it back with [`BufPool::put`] when
/// done so its capacity is reused. Dropping it instead is safe, just wasteful.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Buf(Vec<u8>);

impl Buf {
    /// An empty buffer with at least `capacity` bytes reserved (outside any pool; tests).
    pub fn with_capacity(capacity: usize) -> Buf {
        Buf(Vec::with_capacity(capacity))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as UTF-8, or `None` (e.g. a binary frame or a corrupt target).
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Append bytes (allocates only when the capacity is exceeded).
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// Forget the content, keep the capacity.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Number of bytes held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Bytes that fit without reallocating.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }

    /// The inner vector, for writers that want `std::io::Write` or `Vec` APIs.
    pub fn as_mut_vec(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl std::fmt::Debug for Buf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            Some(s) if s.len() <= 256 => write!(f, "Buf({s:?})"),
            _ => write!(f, "Buf({} bytes)", self.0.len()),
        }
    }
}

impl std::io::Write for Buf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Inner {
    free_tx: Sender<Vec<u8>>,
    free_rx: Receiver<Vec<u8>>,
    buf_capacity: usize,
    max_retained: usize,
    allocations: AtomicU64,
}

/// A bounded free list of byte buffers shared by every engine thread (cheap to clone).
#[derive(Clone)]
pub struct BufPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BufPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufPool")
            .field("free", &self.inner.free_rx.len())
            .field("buf_capacity", &self.inner.buf_capacity)
            .field("allocations", &self.allocations())
            .finish()
    }
}

impl BufPool {
    /// Preallocate `count` buffers of `buf_capacity` bytes each. The free list holds at
    /// most `count` buffers, so memory stays bounded even if extra ones were allocated
    /// during a burst (the surplus is freed when put back).
    pub fn new(count: usize, buf_capacity: usize) -> BufPool {
        let count = count.max(1);
        let (free_tx, free_rx) = crossbeam_channel::bounded(count);
        for _ in 0..count {
            // Cannot fail: the channel has exactly `count` slots.
            let _ = free_tx.try_send(Vec::with_capacity(buf_capacity));
        }
        BufPool {
            inner: Arc::new(Inner {
                free_tx,
                free_rx,
                buf_capacity,
                // A buffer that grew for one huge frame (a depth snapshot) is not kept:
                // it would pin that memory for the life of the process.
                max_retained: buf_capacity.saturating_mul(16).max(64 * 1024),
                allocations: AtomicU64::new(0),
            }),
        }
    }

    /// A cleared buffer: a recycled one when available, otherwise a new allocation
    /// (counted in [`allocations`](Self::allocations)). Never blocks.
    pub fn get(&self) -> Buf {
        match self.inner.free_rx.try_recv() {
            Ok(v) => Buf(v),
            Err(_) => {
                self.inner.allocations.fetch_add(1, Ordering::Relaxed);
                Buf(Vec::with_capacity(self.inner.buf_capacity))
            }
        }
    }

    /// A buffer holding a copy of `bytes` (allocates only if the pool is dry or `bytes`
    /// is larger than the buffer's capacity).
    pub fn copy_of(&self, bytes: &[u8]) -> Buf {
        let mut b = self.get();
        b.extend_from_slice(bytes);
        b
    }

    /// Return a buffer for reuse. Oversized buffers and buffers beyond the pool's size are
    /// dropped instead.
    pub fn put(&self, mut buf: Buf) {
        if buf.capacity() > self.inner.max_retained || buf.capacity() < self.inner.buf_capacity {
            return;
        }
        buf.clear();
        match self.inner.free_tx.try_send(buf.0) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Buffers allocated because the free list was empty, since the pool was created.
    /// Flat in steady state; growing means the pool is too small (or buffers leak).
    pub fn allocations(&self) -> u64 {
        self.inner.allocations.load(Ordering::Relaxed)
    }

    /// Buffers currently on the free list.
    pub fn available(&self) -> usize {
        self.inner.free_rx.len()
    }

    /// Capacity every pooled buffer starts with.
    pub fn buf_capacity(&self) -> usize {
        self.inner.buf_capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn recycles_without_allocating() {
        let pool = BufPool::new(2, 64);
        for i in 0..1000u32 {
            let mut a = pool.get();
            let mut b = pool.get();
            a.extend_from_slice(&i.to_le_bytes());
            b.extend_from_slice(b"x");
            pool.put(a);
            pool.put(b);
        }
        assert_eq!(pool.allocations(), 0);
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn dry_pool_allocates_and_counts() {
        let pool = BufPool::new(1, 64);
        let a = pool.get();
        let b = pool.get();
        assert_eq!(pool.allocations(), 1);
        pool.put(a);
        pool.put(b); // free list full: dropped
        assert_eq!(pool.available(), 1);
    }

    #[test]
    fn oversized_buffers_are_not_kept() {
        let pool = BufPool::new(1, 16);
        let a = pool.get();
        drop(a);
        let mut big = Buf::with_capacity(1 << 20);
        big.extend_from_slice(b"x");
        pool.put(big);
        assert_eq!(pool.available(), 0);
    }

    #[test]
    fn clock_is_monotonic_and_maps_to_instants() {
        let a = mono_ns();
        let b = mono_ns();
        assert!(b >= a);
        let at = instant_at(a + 1_000_000_000);
        assert!(at > Instant::now());
        let _ = instant_at(u64::MAX);
    }
}
