//! `Transport`: one non-blocking mio TCP socket, optionally wrapped in rustls.
//!
//! Why its own type: HTTP and WebSocket code want plain `Read`/`Write`, while the
//! socket is non-blocking and TLS needs `read_tls → process_new_packets → reader`
//! on the way in and `writer → write_tls` on the way out. This module hides that and
//! keeps the contract of a non-blocking socket: `WouldBlock` means "come back on the
//! next readiness event", never "the data is lost".
//!
//! Life cycle: [`Transport::connect`] starts a TCP connect and returns at once;
//! [`Transport::progress`] is called on every event until it reports
//! [`Progress::Ready`] (TCP established, TLS handshake done). mio is edge-triggered,
//! so callers must read until `WouldBlock` on every readable event.
//!
//! ```no_run
//! use binance_exec::net::stream::{Progress, Transport};
//! use binance_exec::net::tls::{client_config, server_name, Trust};
//! let cfg = client_config(&Trust::WebPkiRoots).unwrap();
//! let addr = "127.0.0.1:8443".parse().unwrap();
//! let mut t = Transport::connect(addr, Some((cfg, server_name("localhost").unwrap()))).unwrap();
//! // register with mio, then on each event:
//! if let Ok(Progress::Ready) = t.progress() { /* write the request */ }
//! ```

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

/// Why a transport could not be established or failed afterwards.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The TCP connect was refused, timed out in the kernel, or could not start.
    #[error("TCP connect failed: {0}")]
    Connect(io::Error),
    /// A socket error after the connection was established.
    #[error("socket error: {0}")]
    Io(io::Error),
    /// TLS verification or protocol failure (untrusted certificate, alert, bad record).
    #[error("TLS failure: {0}")]
    Tls(rustls::Error),
    /// The peer closed the connection before the TLS handshake finished.
    #[error("connection closed during TLS handshake")]
    ClosedInHandshake,
}

/// Result of driving the connection set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Still connecting or handshaking; wait for the next readiness event.
    Pending,
    /// Established; `Read`/`Write` carry application data.
    Ready,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Handshaking,
    Ready,
}

/// A non-blocking TCP connection with optional TLS, usable as `Read + Write`.
pub struct Transport {
    tcp: TcpStream,
    tls: Option<Box<ClientConnection>>,
    phase: Phase,
    registered: Option<(Token, Interest)>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("peer", &self.tcp.peer_addr().ok())
            .field("tls", &self.tls.is_some())
            .field("phase", &self.phase)
            .finish()
    }
}

impl Transport {
    /// Start a non-blocking connect. `tls` is the shared config and the SNI name;
    /// `None` means plain TCP (local simulator).
    pub fn connect(
        addr: SocketAddr,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    ) -> Result<Transport, StreamError> {
        let tls = match tls {
            Some((cfg, name)) => Some(Box::new(
                ClientConnection::new(cfg, name).map_err(StreamError::Tls)?,
            )),
            None => None,
        };
        let tcp = TcpStream::connect(addr).map_err(StreamError::Connect)?;
        // Nagle would hold small order requests back for up to an RTT.
        let _ = tcp.set_nodelay(true);
        Ok(Transport {
            tcp,
            tls,
            phase: Phase::Connecting,
            registered: None,
        })
    }

    /// Drive TCP connect and TLS handshake as far as the socket allows.
    pub fn progress(&mut self) -> Result<Progress, StreamError> {
        if self.phase == Phase::Connecting {
            if let Some(e) = self.tcp.take_error().map_err(StreamError::Connect)? {
                return Err(StreamError::Connect(e));
            }
            match self.tcp.peer_addr() {
                Ok(_) => {}
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        || e.kind() == io::ErrorKind::WouldBlock =>
                {
                    return Ok(Progress::Pending);
                }
                Err(e) => return Err(StreamError::Connect(e)),
            }
            let _ = self.tcp.set_nodelay(true);
            self.phase = if self.tls.is_some() {
                Phase::Handshaking
            } else {
                Phase::Ready
            };
        }
        if self.phase == Phase::Handshaking {
            let Some(tls) = self.tls.as_deref_mut() else {
                self.phase = Phase::Ready;
                return Ok(Progress::Ready);
            };
            loop {
                if !tls.is_handshaking() {
                    self.phase = Phase::Ready;
                    break;
                }
                if tls.wants_write() {
                    match tls.write_tls(&mut self.tcp) {
                        Ok(_) => continue,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Ok(Progress::Pending);
                        }
                        Err(e) => return Err(StreamError::Io(e)),
                    }
                }
                match tls.read_tls(&mut self.tcp) {
                    Ok(0) => return Err(StreamError::ClosedInHandshake),
                    Ok(_) => {
                        if let Err(e) = tls.process_new_packets() {
                            // Tell the server why (best effort: the alert may not fit).
                            let _ = tls.write_tls(&mut self.tcp);
                            return Err(StreamError::Tls(e));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Progress::Pending);
                    }
                    Err(e) => return Err(StreamError::Io(e)),
                }
            }
            // The client Finished may still be queued; a WouldBlock here is picked up on writable.
            match self.flush_tls() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(StreamError::Io(e)),
            }
        }
        Ok(Progress::Ready)
    }

    /// Whether application data can flow.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Whether TLS records are waiting for the socket to become writable.
    pub fn has_pending_tls(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// Readiness this transport needs: always readable once connected (so a peer close is
    /// seen), writable while connecting, while TLS records are queued, or when the layer
    /// above has bytes it could not write (`want_write`).
    pub fn interest(&self, want_write: bool) -> Interest {
        if self.phase == Phase::Connecting {
            return Interest::WRITABLE;
        }
        if want_write || self.has_pending_tls() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }

    /// Register with the poll under `token`.
    pub fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        want_write: bool,
    ) -> io::Result<()> {
        let interest = self.interest(want_write);
        registry.register(&mut self.tcp, token, interest)?;
        self.registered = Some((token, interest));
        Ok(())
    }

    /// Update the interest if it changed (each change is an `epoll_ctl` syscall, so skip no-ops).
    pub fn reregister(&mut self, registry: &Registry, want_write: bool) -> io::Result<()> {
        let interest = self.interest(want_write);
        match self.registered {
            Some((token, current)) if current != interest => {
                registry.reregister(&mut self.tcp, token, interest)?;
                self.registered = Some((token, interest));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Remove from the poll (before dropping, so a reused fd is not confused with this one).
    pub fn deregister(&mut self, registry: &Registry) {
        if self.registered.take().is_some() {
            let _ = registry.deregister(&mut self.tcp);
        }
    }

    /// Write queued TLS records; `WouldBlock` if the socket filled up first.
    pub fn flush_tls(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_deref_mut() {
            while tls.wants_write() {
                if tls.write_tls(&mut self.tcp)? == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
            }
        }
        Ok(())
    }

    /// Send TLS close_notify (best effort) and shut the socket down.
    pub fn shutdown(&mut self) {
        if let Some(tls) = self.tls.as_deref_mut() {
            tls.send_close_notify();
            let _ = self.flush_tls();
        }
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
    }

    /// Local address, to tell connections apart in logs and tests.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return self.tcp.read(buf);
        };
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // TCP FIN without close_notify: most servers do this; report a plain EOF and let
                // the framing layer (Content-Length, WebSocket close) decide if it was truncation.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            match tls.read_tls(&mut self.tcp)? {
                0 => {
                    // Let rustls see the EOF, then report whatever plaintext is left (or EOF).
                    tls.process_new_packets()
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    return match tls.reader().read(buf) {
                        Ok(n) => Ok(n),
                        Err(e)
                            if e.kind() == io::ErrorKind::WouldBlock
                                || e.kind() == io::ErrorKind::UnexpectedEof =>
                        {
                            Ok(0)
                        }
                        Err(e) => Err(e),
                    };
                }
                _ => {
                    let state = tls.process_new_packets();
                    if tls.wants_write() {
                        // Alerts, key updates: best effort now, the rest on writable.
                        let _ = tls.write_tls(&mut self.tcp);
                    }
                    state.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                }
            }
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.tls.is_none() {
            return self.tcp.write(buf);
        }
        let accepted = match self.tls.as_deref_mut() {
            Some(tls) => tls.writer().write(buf)?,
            None => 0,
        };
        match self.flush_tls() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if accepted == 0 && !buf.is_empty() {
            // rustls' plaintext buffer is full: wait for writable like a full socket.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(accepted)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()?;
        self.tcp.flush()
    }
}
