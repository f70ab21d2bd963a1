//! The write side of a plain-TCP stream connection, shared between the
//! connection's own thread and whoever publishes venue events.
//!
//! Why: a real venue streams a fill's events independently of the order
//! reply, as soon as it matched. Handing each frame to the connection thread
//! through a queue and a wake-up costs a context switch per event on a busy
//! machine, and the benchmark measures that hop as venue latency that the
//! real venue does not have. With a [`StreamWriter`] the publishing thread
//! writes the frames onto the socket itself, in one write per connection
//! and publication. The connection thread's own writes (pings, WS-API
//! replies, close) go through the same writer, so frames never interleave.
//!
//! Bytes the socket does not take at once wait in the writer's backlog, in
//! order; the connection thread drains it when the socket becomes writable.
//! A frame queued for the connection thread (a delayed or faulty one) keeps
//! its place: while any is outstanding, publishers queue too
//! ([`StreamWriter::queued`]).

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// WebSocket opcode of a text frame.
pub const OPCODE_TEXT: u8 = 0x1;
/// WebSocket opcode of a binary frame.
pub const OPCODE_BINARY: u8 = 0x2;

#[derive(Debug)]
struct Inner {
    tcp: TcpStream,
    backlog: Vec<u8>,
    broken: bool,
}

/// See the module docs.
#[derive(Debug)]
pub struct StreamWriter {
    inner: Mutex<Inner>,
    queued: AtomicUsize,
}

/// Appends one unmasked (server-to-client) WebSocket frame with FIN set.
pub fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | (opcode & 0x0f));
    let n = payload.len();
    if n < 126 {
        out.push(n as u8);
    } else if let Ok(n16) = u16::try_from(n) {
        out.push(126);
        out.extend_from_slice(&n16.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
}

impl StreamWriter {
    /// A writer over `tcp` (a handle of the connection's socket, which must
    /// be non-blocking).
    pub fn new(tcp: TcpStream) -> Self {
        StreamWriter {
            inner: Mutex::new(Inner {
                tcp,
                backlog: Vec::new(),
                broken: false,
            }),
            queued: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `bytes` after anything already waiting; what the socket does
    /// not take now waits in the backlog. Fails only once the socket failed
    /// (the connection is finished then).
    pub fn send(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut g = self.lock();
        if g.broken {
            return Err(std::io::Error::new(
                ErrorKind::BrokenPipe,
                "stream connection closed",
            ));
        }
        if !g.backlog.is_empty() {
            g.backlog.extend_from_slice(bytes);
            return drain_locked(&mut g);
        }
        let mut done = 0;
        while done < bytes.len() {
            let rest = bytes.get(done..).unwrap_or_default();
            match g.tcp.write(rest) {
                Ok(0) => {
                    g.broken = true;
                    return Err(ErrorKind::WriteZero.into());
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    g.backlog.extend_from_slice(rest);
                    return Ok(());
                }
                Err(e) => {
                    g.broken = true;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Writes as much of the backlog as the socket takes now.
    pub fn drain(&self) -> std::io::Result<()> {
        drain_locked(&mut self.lock())
    }

    /// Bytes waiting for the socket.
    pub fn backlog(&self) -> usize {
        self.lock().backlog.len()
    }

    /// Frames handed to the connection thread's queue and not yet written;
    /// publishers write directly only while this is 0, so order is kept.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// A frame went to the connection thread's queue.
    pub fn note_queued(&self) {
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    /// The connection thread wrote (or dropped) a queued frame.
    pub fn note_dequeued(&self) {
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| q.checked_sub(1));
    }
}

fn drain_locked(g: &mut Inner) -> std::io::Result<()> {
    while !g.backlog.is_empty() {
        let Inner { tcp, backlog, .. } = &mut *g;
        match tcp.write(backlog) {
            Ok(0) => {
                g.broken = true;
                return Err(ErrorKind::WriteZero.into());
            }
            Ok(n) => {
                g.backlog.drain(..n.min(g.backlog.len()));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) => {
                g.broken = true;
                return Err(e);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn frame_lengths_use_the_three_encodings() {
        let mut v = Vec::new();
        encode_frame(&mut v, OPCODE_TEXT, b"hi");
        assert_eq!(v, [0x81, 2, b'h', b'i']);
        v.clear();
        encode_frame(&mut v, OPCODE_BINARY, &[7u8; 300]);
        assert_eq!(&v[..4], &[0x82, 126, 1, 44]);
        assert_eq!(v.len(), 4 + 300);
        v.clear();
        encode_frame(&mut v, OPCODE_TEXT, &vec![b'x'; 70_000]);
        assert_eq!(&v[..2], &[0x81, 127]);
        assert_eq!(u64::from_be_bytes(v[2..10].try_into().unwrap()), 70_000);
        assert_eq!(v.len(), 10 + 70_000);
    }

    #[test]
    fn bytes_arrive_in_order_even_through_the_backlog() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let w = StreamWriter::new(server);
        // More than the socket buffers take while nobody reads: some of it
        // must wait in the backlog.
        let chunk: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
        let mut sent = 0usize;
        for _ in 0..256 {
            w.send(&chunk).unwrap();
            sent += chunk.len();
        }
        assert!(w.backlog() > 0, "the test never filled the socket");
        let mut client = client;
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut got = Vec::with_capacity(sent);
        let mut buf = vec![0u8; 256 * 1024];
        for _ in 0..100_000 {
            if got.len() >= sent {
                break;
            }
            w.drain().unwrap();
            let n = client.read(&mut buf).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got.len(), sent);
        assert!(got.chunks(chunk.len()).all(|c| c == chunk.as_slice()));
        assert_eq!(w.backlog(), 0);
    }

    #[test]
    fn queued_count_never_underflows() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        let w = StreamWriter::new(server);
        w.note_dequeued();
        assert_eq!(w.queued(), 0);
        w.note_queued();
        w.note_queued();
        w.note_dequeued();
        assert_eq!(w.queued(), 1);
    }
}
