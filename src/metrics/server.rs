//! The `/metrics` endpoint: one std thread, blocking sockets with short
//! timeouts, loopback only.
//!
//! It lives off the hot path on purpose: it only reads atomics, owns its
//! own buffers, and serves one scrape at a time (Prometheus scrapes every
//! few seconds; a slow or hostile client is cut off by the timeouts). It is
//! loopback-only because the numbers describe a trading account; a
//! colocated user scrapes it from the same box (or through an SSH tunnel).

use super::registry::Metrics;
use super::render::{CONTENT_TYPE, render};
use super::tap::TapSink;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the accept loop sleeps between polls of a non-blocking
/// listener; also the worst-case shutdown delay.
const ACCEPT_POLL: Duration = Duration::from_millis(20);
/// A scrape must send its request and take the reply within this.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest request head accepted.
const MAX_REQUEST: usize = 8 * 1024;

/// Why the endpoint could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address is not loopback; metrics are never exposed off-box.
    #[error("metrics endpoint must listen on a loopback address, not {0}")]
    NotLoopback(SocketAddr),
    /// Binding or configuring the listener failed.
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// The server thread could not be spawned.
    #[error("cannot start the metrics thread: {0}")]
    Spawn(io::Error),
    /// The server thread panicked.
    #[error("the metrics thread panicked")]
    Panicked,
}

/// Starts the endpoint.
#[derive(Debug)]
pub struct MetricsServer;

impl MetricsServer {
    /// Binds `listen` (loopback only; port 0 picks a free port) and serves
    /// `GET /metrics` from a new thread until the handle is shut down or
    /// dropped.
    pub fn start(
        registry: Arc<Metrics>,
        listen: SocketAddr,
    ) -> Result<MetricsHandle, MetricsError> {
        Self::start_with_taps(registry, listen, Vec::new())
    }

    /// Like [`Self::start`], and the thread also drives `taps`: it lends
    /// each recording thread a snapshot buffer once per
    /// [`super::tap::PUBLISH_EVERY`] and publishes the latency percentiles
    /// of what comes back, so no trading thread ever computes one.
    pub fn start_with_taps(
        registry: Arc<Metrics>,
        listen: SocketAddr,
        taps: Vec<TapSink>,
    ) -> Result<MetricsHandle, MetricsError> {
        if !listen.ip().is_loopback() {
            return Err(MetricsError::NotLoopback(listen));
        }
        let bind_err = |source| MetricsError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("bx-metrics".into())
            .spawn(move || serve(&listener, &registry, &thread_stop, taps))
            .map_err(MetricsError::Spawn)?;
        Ok(MetricsHandle {
            local_addr,
            stop,
            thread: Some(thread),
        })
    }
}

/// The running endpoint. Dropping it also stops and joins the thread.
#[derive(Debug)]
pub struct MetricsHandle {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsHandle {
    /// The bound address (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the thread and waits for it; the port is free on return.
    pub fn shutdown(mut self) -> Result<(), MetricsError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), MetricsError> {
        self.stop.store(true, Ordering::Release);
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| MetricsError::Panicked),
            None => Ok(()),
        }
    }
}

impl Drop for MetricsHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

fn serve(listener: &TcpListener, registry: &Metrics, stop: &AtomicBool, mut taps: Vec<TapSink>) {
    let mut body = String::with_capacity(16 * 1024);
    let mut req = Vec::with_capacity(MAX_REQUEST);
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        for t in &mut taps {
            t.poll(registry, now);
        }
        match listener.accept() {
            Ok((stream, _peer)) => {
                // A failed scrape only affects that client.
                let _ = handle(stream, registry, &mut body, &mut req);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Transient accept errors (EMFILE, ECONNABORTED): back off, keep serving.
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
}

/// What the request asked for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics,
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

fn route(head: &[u8]) -> Route {
    let line_end = head.iter().position(|&b| b == b'\r' || b == b'\n');
    let line = head.get(..line_end.unwrap_or(head.len())).unwrap_or(&[]);
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with(b"HTTP/1.") {
        return Route::BadRequest;
    }
    let path = target.split(|&b| b == b'?').next().unwrap_or(&[]);
    match (method, path) {
        (b"GET", b"/metrics") => Route::Metrics,
        (b"GET", _) => Route::NotFound,
        _ => Route::MethodNotAllowed,
    }
}

fn handle(
    mut stream: TcpStream,
    registry: &Metrics,
    body: &mut String,
    req: &mut Vec<u8>,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    req.clear();
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut buf = [0u8; 1024];
    let complete = loop {
        if req.windows(4).any(|w| w == b"\r\n\r\n") {
            break true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if req.len() >= MAX_REQUEST || left.is_zero() {
            break false;
        }
        // The whole request, not each read, must fit in IO_TIMEOUT, so a
        // client trickling bytes cannot hold the scrape thread longer.
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break false;
        }
        req.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    };
    let (status, ctype) = match (complete, route(req)) {
        (false, _) | (_, Route::BadRequest) => ("400 Bad Request", "text/plain"),
        (true, Route::Metrics) => {
            render(registry, body);
            ("200 OK", CONTENT_TYPE)
        }
        (true, Route::NotFound) => ("404 Not Found", "text/plain"),
        (true, Route::MethodNotAllowed) => ("405 Method Not Allowed", "text/plain"),
    };
    if !status.starts_with("200") {
        body.clear();
        body.push_str(status);
        body.push('\n');
    }
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
        body.len(),
        if status.starts_with("405") {
            "Allow: GET\r\n"
        } else {
            ""
        }
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(route(b"garbage\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
    }
}
