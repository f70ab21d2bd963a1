//! One keep-alive HTTP/1.1 connection: an explicit state machine over a [`Transport`].
//!
//! Why explicit states: the engine must know, when anything fails, whether the request
//! left the process. `sent` flips the moment the first request byte is handed to the
//! socket; before that a failure is [`Fate::NotSent`] (safe to resend), after it the fate
//! is [`Fate::Unknown`] (resolve by query, never resubmit blindly).
//!
//! States: `Down` → `Connecting` → `Idle` ⇄ `Busy` → `Down` on any error or `Connection: close`.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use mio::{Registry, Token};
use rustls::ClientConfig;

use super::HttpError;
use super::request::{Request, write_request};
use super::response::{Head, ParseStatus, ResponseParser};
use crate::net::stream::{Progress, Transport};
use crate::net::tls::server_name;
use crate::net::url::Endpoint;

/// Where and how a pool's connections talk: shared by all of them.
pub(crate) struct Site {
    pub endpoint: Endpoint,
    /// Last address that resolved; reused on reconnect so the network thread does not
    /// block in DNS after every server close. Cleared when a connect fails.
    pub resolved: std::cell::Cell<Option<std::net::SocketAddr>>,
    pub host_header: String,
    pub api_key: Option<String>,
    pub tls: Option<Arc<ClientConfig>>,
}

/// What became of a request whose connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// No byte left the process: resending cannot duplicate.
    NotSent,
    /// Some or all bytes were sent: the venue may have acted on it.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnState {
    Down,
    Connecting,
    Idle,
    Busy,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct InFlight {
    pub id: u64,
    pub deadline: Instant,
    pub sent: bool,
}

/// What a connection reports to the pool after an event.
pub(crate) enum ConnEvent<'a> {
    None,
    Response {
        id: u64,
        head: Head,
        body: &'a [u8],
    },
    Failed {
        id: u64,
        fate: Fate,
        error: HttpError,
    },
}

pub(crate) struct HttpConn {
    pub token: Token,
    pub state: ConnState,
    transport: Option<Transport>,
    wbuf: Vec<u8>,
    wpos: usize,
    parser: ResponseParser,
    pub request: Option<InFlight>,
    pub retry_at: Instant,
    pub failures: u32,
    close_after: bool,
}

impl HttpConn {
    pub fn new(token: Token, max_body: usize, now: Instant) -> Self {
        HttpConn {
            token,
            state: ConnState::Down,
            transport: None,
            wbuf: Vec::with_capacity(1024),
            wpos: 0,
            parser: ResponseParser::new(max_body),
            request: None,
            retry_at: now,
            failures: 0,
            close_after: false,
        }
    }

    /// Start a connect; errors here are resolution or socket-creation failures.
    pub fn connect(&mut self, site: &Site, registry: &Registry) -> Result<(), HttpError> {
        let addr = match site.resolved.get() {
            Some(a) => a,
            None => {
                let a = site.endpoint.resolve().map_err(HttpError::Resolve)?;
                site.resolved.set(Some(a));
                a
            }
        };
        let tls = match &site.tls {
            Some(cfg) => Some((
                Arc::clone(cfg),
                server_name(site.endpoint.host()).map_err(HttpError::Tls)?,
            )),
            None => None,
        };
        let mut t = Transport::connect(addr, tls).map_err(HttpError::Stream)?;
        t.register(registry, self.token, false)
            .map_err(HttpError::Io)?;
        self.transport = Some(t);
        self.parser.clear();
        self.close_after = false;
        self.state = ConnState::Connecting;
        Ok(())
    }

    /// Drop the socket; the in-flight request (if any) is returned with its fate.
    pub fn close(&mut self, registry: &Registry) -> Option<(u64, Fate)> {
        if let Some(mut t) = self.transport.take() {
            t.deregister(registry);
            t.shutdown();
        }
        self.state = ConnState::Down;
        self.wbuf.clear();
        self.wpos = 0;
        self.request
            .take()
            .map(|r| (r.id, if r.sent { Fate::Unknown } else { Fate::NotSent }))
    }

    /// Queue a request (connection must be Idle or Connecting without a request) and try to send now.
    pub fn submit(
        &mut self,
        id: u64,
        req: &Request<'_>,
        deadline: Instant,
        site: &Site,
        registry: &Registry,
    ) -> Result<(), HttpError> {
        write_request(
            &mut self.wbuf,
            &site.host_header,
            site.endpoint.path(),
            site.api_key.as_deref(),
            req,
        )
        .map_err(HttpError::Request)?;
        self.parser.reset();
        self.wpos = 0;
        self.request = Some(InFlight {
            id,
            deadline,
            sent: false,
        });
        if self.state == ConnState::Idle {
            self.state = ConnState::Busy;
        }
        self.update_interest(registry)
    }

    /// Send what the socket accepts now (called right after submit for lowest latency).
    pub fn kick<'a>(&'a mut self, registry: &Registry) -> ConnEvent<'a> {
        if self.state != ConnState::Busy {
            return ConnEvent::None;
        }
        if let Err(e) = self.write_pending() {
            return self.fail(e, registry);
        }
        match self.update_interest(registry) {
            Ok(()) => ConnEvent::None,
            Err(e) => self.fail(e, registry),
        }
    }

    fn update_interest(&mut self, registry: &Registry) -> Result<(), HttpError> {
        let want_write = self.wpos < self.wbuf.len() && self.request.is_some();
        match self.transport.as_mut() {
            Some(t) => t.reregister(registry, want_write).map_err(HttpError::Io),
            None => Ok(()),
        }
    }

    fn write_pending(&mut self) -> Result<(), HttpError> {
        let Some(t) = self.transport.as_mut() else {
            return Ok(());
        };
        while self.wpos < self.wbuf.len() {
            match t.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err(HttpError::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    self.wpos += n;
                    if let Some(r) = self.request.as_mut() {
                        r.sent = true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(HttpError::Io(e)),
            }
        }
        match t.flush_tls() {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(HttpError::Io(e)),
        }
    }

    fn fail<'a>(&'a mut self, error: HttpError, registry: &Registry) -> ConnEvent<'a> {
        match self.close(registry) {
            Some((id, fate)) => ConnEvent::Failed { id, fate, error },
            None => ConnEvent::None,
        }
    }

    /// Handle readiness on this connection's token.
    pub fn on_ready<'a>(
        &'a mut self,
        readable: bool,
        writable: bool,
        registry: &Registry,
    ) -> ConnEvent<'a> {
        let _ = (readable, writable); // every path below tolerates spurious wake-ups
        if self.state == ConnState::Connecting {
            let Some(t) = self.transport.as_mut() else {
                return ConnEvent::None;
            };
            match t.progress() {
                Ok(Progress::Pending) => {
                    return match self.update_interest(registry) {
                        Ok(()) => ConnEvent::None,
                        Err(e) => self.fail(e, registry),
                    };
                }
                Ok(Progress::Ready) => {
                    self.failures = 0;
                    self.state = if self.request.is_some() {
                        ConnState::Busy
                    } else {
                        ConnState::Idle
                    };
                }
                Err(e) => return self.fail(HttpError::Stream(e), registry),
            }
        }
        match self.state {
            ConnState::Busy => {
                if let Err(e) = self.write_pending() {
                    return self.fail(e, registry);
                }
                self.read_response(registry)
            }
            ConnState::Idle => {
                // Nothing is expected: drain to notice a server close (or flush TLS).
                if let Some(t) = self.transport.as_mut() {
                    let _ = t.flush_tls();
                }
                match self.drain_idle() {
                    Ok(()) => match self.update_interest(registry) {
                        Ok(()) => ConnEvent::None,
                        Err(e) => self.fail(e, registry),
                    },
                    Err(e) => self.fail(e, registry),
                }
            }
            ConnState::Down | ConnState::Connecting => ConnEvent::None,
        }
    }

    /// Read until WouldBlock while idle; any byte or EOF means the connection is finished.
    fn drain_idle(&mut self) -> Result<(), HttpError> {
        let Some(t) = self.transport.as_mut() else {
            return Ok(());
        };
        let mut scratch = [0u8; 512];
        loop {
            match t.read(&mut scratch) {
                Ok(0) => return Err(HttpError::Closed),
                Ok(_) => return Err(HttpError::Unsolicited),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(HttpError::Io(e)),
            }
        }
    }

    fn read_response<'a>(&'a mut self, registry: &Registry) -> ConnEvent<'a> {
        let Some(t) = self.transport.as_mut() else {
            return ConnEvent::None;
        };
        let status = loop {
            let buf = self.parser.spare(4096);
            match t.read(buf) {
                Ok(0) => match self.parser.on_eof() {
                    Ok(_) => {
                        self.close_after = true;
                        break ParseStatus::Complete;
                    }
                    Err(e) => return self.fail(HttpError::Parse(e), registry),
                },
                Ok(n) => {
                    self.parser.filled(n);
                    match self.parser.advance() {
                        Ok(ParseStatus::Complete) => break ParseStatus::Complete,
                        Ok(ParseStatus::Incomplete) => {}
                        Err(e) => return self.fail(HttpError::Parse(e), registry),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break ParseStatus::Incomplete,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail(HttpError::Io(e), registry),
            }
        };
        if status == ParseStatus::Incomplete {
            return match self.update_interest(registry) {
                Ok(()) => ConnEvent::None,
                Err(e) => self.fail(e, registry),
            };
        }
        let Some(head) = self.parser.head().copied() else {
            return self.fail(
                HttpError::Parse(super::response::ParseError::Truncated),
                registry,
            );
        };
        let Some(req) = self.request.take() else {
            return ConnEvent::None;
        };
        if self.wpos < self.wbuf.len() {
            // Answered before we finished sending (e.g. 413/400 early reply): the rest of the
            // request would be garbage on this connection.
            self.close_after = true;
        }
        if !head.keep_alive || self.parser.leftover() > 0 {
            self.close_after = true;
        }
        if self.close_after {
            if let Some(mut t) = self.transport.take() {
                t.deregister(registry);
                t.shutdown();
            }
            self.state = ConnState::Down;
        } else {
            self.state = ConnState::Idle;
            // Notice a FIN that arrived together with the response (edge-triggered poll will
            // not report it again).
            if let Err(e) = self
                .drain_idle()
                .and_then(|_| self.update_interest(registry))
            {
                if let Some(mut t) = self.transport.take() {
                    t.deregister(registry);
                    t.shutdown();
                }
                self.state = ConnState::Down;
                let _ = e;
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        ConnEvent::Response {
            id: req.id,
            head,
            body: self.parser.body(),
        }
    }
}
