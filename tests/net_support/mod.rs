//! Loopback fixtures shared by the `net_*` integration tests: a self-signed identity,
//! small blocking std-thread servers, and bounded drivers for the non-blocking clients.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use binance_exec::net::http::{HttpPool, Outcome, RateLimits, RequestId};
use binance_exec::net::poller::{PollMode, Poller};

/// A self-signed certificate for `localhost`/`127.0.0.1`, its CA file and a server config.
pub struct Identity {
    pub ca_file: PathBuf,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn identity(tag: &str) -> Identity {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let ca_file = std::env::temp_dir().join(format!("net-test-{tag}-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ck.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .unwrap();
    Identity {
        ca_file,
        server: Arc::new(server),
    }
}

/// A server-side stream: plain TCP or TLS.
pub trait Duplex: Read + Write + Send {}
impl<T: Read + Write + Send> Duplex for T {}

/// Accept up to `max_conns` connections on 127.0.0.1, each handled on its own thread.
/// Returns the port and a counter of accepted connections.
pub fn serve<F>(
    max_conns: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: F,
) -> (u16, Arc<AtomicUsize>)
where
    F: Fn(usize, &mut dyn Duplex) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let count2 = Arc::clone(&count);
    let handler = Arc::new(handler);
    thread::spawn(move || {
        for _ in 0..max_conns {
            let Ok((s, _)) = listener.accept() else {
                return;
            };
            let idx = count2.fetch_add(1, Ordering::SeqCst);
            let handler = Arc::clone(&handler);
            let tls = tls.clone();
            thread::spawn(move || {
                let _ = s.set_nodelay(true);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                match tls {
                    Some(cfg) => {
                        let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                            return;
                        };
                        let mut st = rustls::StreamOwned::new(conn, s);
                        handler(idx, &mut st);
                    }
                    None => {
                        let mut s = s;
                        handler(idx, &mut s);
                    }
                }
            });
        }
    });
    (port, count)
}

/// Read one HTTP request (head + Content-Length body); `None` on EOF/error.
pub fn read_request(s: &mut dyn Duplex, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            req.parse(&buf[..end + 4]).ok()?;
            let line = format!("{} {}", req.method?, req.path?);
            let len: usize = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            return Some((line, body));
        }
        let n = s.read(&mut tmp).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// A request's end, owned so tests can assert after the callback.
#[derive(Debug)]
pub enum Done {
    Ok {
        status: u16,
        limits: RateLimits,
        body: Vec<u8>,
    },
    NotSent(String),
    Unknown(String),
}

impl Done {
    pub fn body_str(&self) -> &str {
        match self {
            Done::Ok { body, .. } => std::str::from_utf8(body).unwrap_or("<non-utf8>"),
            _ => "",
        }
    }
}

pub fn poller() -> Poller {
    Poller::new(PollMode::Park(Duration::from_millis(5)), 64).unwrap()
}

/// Drive `pool` until request `id` ends or 5 s pass (test failure).
pub fn wait_for(poller: &mut Poller, pool: &mut HttpPool, id: RequestId) -> Done {
    let stop = Instant::now() + Duration::from_secs(5);
    let mut result = None;
    while Instant::now() < stop {
        poller.poll().unwrap();
        let (events, registry) = poller.events_and_registry();
        let mut record = |c: binance_exec::net::http::Completion<'_>| {
            if c.id != id {
                return;
            }
            result = Some(match c.outcome {
                Outcome::Response(r) => Done::Ok {
                    status: r.status,
                    limits: r.limits,
                    body: r.body.to_vec(),
                },
                Outcome::NotSent(e) => Done::NotSent(format!("{e:?}")),
                Outcome::Unknown(e) => Done::Unknown(format!("{e:?}")),
            });
        };
        for ev in events.iter() {
            if pool.owns(ev.token()) {
                pool.on_event(ev.token(), registry, Instant::now(), &mut record);
            }
        }
        pool.maintain(Instant::now(), registry, &mut record);
        if let Some(r) = result.take() {
            return r;
        }
    }
    panic!("request {id:?} did not finish within 5 s");
}

/// Drive `pool` until it has `n` idle connections or 5 s pass.
pub fn wait_idle(poller: &mut Poller, pool: &mut HttpPool, n: usize) {
    let stop = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop && pool.idle() < n {
        poller.poll().unwrap();
        let (events, registry) = poller.events_and_registry();
        for ev in events.iter() {
            if pool.owns(ev.token()) {
                pool.on_event(ev.token(), registry, Instant::now(), |_| {});
            }
        }
        pool.maintain(Instant::now(), registry, |_| {});
    }
    assert!(pool.idle() >= n, "pool did not reach {n} idle connections");
}

/// Write `bytes` to a blocking test stream, one byte per write when `trickle`.
pub fn send(s: &mut dyn Duplex, bytes: &[u8], trickle: bool) {
    if trickle {
        for b in bytes {
            if s.write_all(std::slice::from_ref(b)).is_err() || s.flush().is_err() {
                return;
            }
            thread::sleep(Duration::from_micros(50));
        }
    } else {
        let _ = s.write_all(bytes);
        let _ = s.flush();
    }
}

/// A port with nothing listening (bound then released).
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = l.local_addr().unwrap().port();
    drop(l);
    p
}

/// Blocking raw TCP echo partner used by the round-trip measurement.
pub fn tcp_connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}
