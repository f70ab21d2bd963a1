//! Non-blocking WebSocket client: tungstenite's handshake and writes over our
//! [`Transport`], our own allocation-free frame reader ([`FrameReader`]) for reads.
//!
//! Why this shape: tungstenite handles the upgrade, masking of our frames and the close
//! handshake, but its `read` allocates an owned message per frame; incoming frames are
//! therefore decoded by [`FrameReader`] into per-connection buffers allocated at connect
//! time. During the upgrade a gate hands tungstenite the bytes up to the end of the HTTP
//! response only, so frames the server sends right behind the 101 stay ours. tungstenite
//! assumes the stream blocks. Here every `WouldBlock` is turned back into "wait for the
//! next event": the TCP connect and TLS handshake by [`Transport::progress`], the HTTP
//! upgrade by retrying `MidHandshake::handshake` on `HandshakeError::Interrupted`, reads by
//! returning `Ok(None)`, and writes by leaving frames in tungstenite's write buffer and
//! asking for writable readiness until [`WsClient::flush`] completes.
//!
//! Frames are handed out as borrowed views ([`WsFrame`]) into the reader's buffer, so the
//! JSON parser works in place without a copy; after warm-up, reading a frame allocates
//! nothing (answering a ping does: the pong is queued through tungstenite).
//!
//! ```no_run
//! use binance_exec::net::poller::{Poller, PollMode};
//! use binance_exec::net::url::Endpoint;
//! use binance_exec::net::ws::{WsClient, WsConfig, WsFrame, WsState};
//! let mut poller = Poller::new(PollMode::Spin, 64).unwrap();
//! let token = poller.token();
//! let ep = Endpoint::parse("ws://127.0.0.1:9000/market/ws/btcusdt@aggTrade").unwrap();
//! let mut ws = WsClient::connect(WsConfig::new(ep), token, poller.registry()).unwrap();
//! // on every event for `token`:
//! if ws.progress(poller.registry()).unwrap() == WsState::Open {
//!     while let Some(frame) = ws.read().unwrap() {
//!         if let WsFrame::Text(json) = frame { println!("{json}") }
//!     }
//!     ws.update_interest(poller.registry()).unwrap();
//! }
//! ```

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::{Registry, Token};
use rustls::ClientConfig;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::{ClientHandshake, Request as WsRequest};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use crate::net::stream::{Progress, StreamError, Transport};
use crate::net::tls::{TlsError, server_name};
use crate::net::url::{Endpoint, Scheme};
use crate::net::ws_frame::{FrameError, FrameReader, Incoming};

/// What the peer got wrong: the upgrade exchange, or the frames after it.
#[derive(Debug, thiserror::Error)]
pub enum WsProtocolError {
    /// Malformed upgrade response or handshake-format violation (from tungstenite).
    #[error("handshake: {0}")]
    Handshake(Box<tungstenite::Error>),
    /// Invalid frame stream after the upgrade.
    #[error("frame: {0}")]
    Frame(#[from] FrameError),
}

/// Why a WebSocket connection failed or an operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The endpoint is not `ws`/`wss`, or the URL is not a valid handshake request.
    #[error("invalid WebSocket URL {0}")]
    Url(String),
    /// A `wss` endpoint was configured without a TLS client config.
    #[error("wss endpoint needs a TLS config")]
    TlsRequired,
    /// The host name did not resolve.
    #[error("cannot resolve host: {0}")]
    Resolve(io::Error),
    /// Bad SNI name.
    #[error(transparent)]
    Tls(TlsError),
    /// TCP connect or TLS handshake failed.
    #[error(transparent)]
    Stream(StreamError),
    /// The server answered the upgrade with this HTTP status instead of 101.
    #[error("upgrade rejected with HTTP {0}")]
    Rejected(u16),
    /// Socket error.
    #[error("socket error: {0}")]
    Io(io::Error),
    /// Framing, UTF-8, size-limit or handshake-format violation by the peer.
    #[error("WebSocket protocol error: {0}")]
    Protocol(WsProtocolError),
    /// The write buffer limit was reached: the peer is not reading.
    #[error("write buffer full")]
    Backpressure,
    /// The connection is closed (close handshake done, or peer reset); reconnect.
    #[error("connection closed")]
    Closed,
    /// Sending before the handshake finished.
    #[error("connection not open yet")]
    NotOpen,
}

fn map_ws(e: tungstenite::Error) -> WsError {
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => WsError::Closed,
        tungstenite::Error::Io(e) => WsError::Io(e),
        tungstenite::Error::WriteBufferFull(_) => WsError::Backpressure,
        tungstenite::Error::Http(resp) => WsError::Rejected(resp.status().as_u16()),
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => WsError::Closed,
        other => WsError::Protocol(WsProtocolError::Handshake(Box::new(other))),
    }
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Full URL including the stream path/query.
    pub endpoint: Endpoint,
    /// TLS config for `wss`.
    pub tls: Option<Arc<ClientConfig>>,
    /// Largest message accepted (the venue's snapshots fit well under the default 16 MiB).
    pub max_message: usize,
}

impl WsConfig {
    /// Plain settings for `endpoint` (add `tls` for `wss`).
    pub fn new(endpoint: Endpoint) -> Self {
        WsConfig {
            endpoint,
            tls: None,
            max_message: 16 << 20,
        }
    }
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsState {
    /// TCP connect / TLS handshake in progress.
    Connecting,
    /// HTTP upgrade in progress.
    Handshaking,
    /// Frames flow.
    Open,
    /// Finished (by either side or by error); make a new client to reconnect.
    Closed,
}

/// A decoded frame, borrowed from the client until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsFrame<'a> {
    /// Text message (the venue's JSON).
    Text(&'a str),
    /// Binary message.
    Binary(&'a [u8]),
    /// Ping from the server; the pong echoing it is already queued.
    Ping(&'a [u8]),
    /// Pong to one of our pings (round-trip probe).
    Pong(&'a [u8]),
    /// The server started or answered the close handshake (code, reason).
    Close(Option<(u16, &'a str)>),
}

/// The transport plus the upgrade gate: while the upgrade runs, reads hand tungstenite the
/// bytes up to the blank line ending the HTTP response and keep the rest in `stash`
/// (frames sent right behind the 101), which then go to the [`FrameReader`].
struct Conn {
    inner: Transport,
    stash: Vec<u8>,
    /// How much of `\r\n\r\n` the bytes handed out so far end with; 4 = response complete.
    matched: u8,
}

impl Read for Conn {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.matched == 4 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.stash.is_empty() {
            let mut chunk = [0u8; 4096];
            let n = self.inner.read(&mut chunk)?;
            self.stash.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            if n == 0 {
                return Ok(0);
            }
        }
        let mut given = 0;
        for (&b, slot) in self.stash.iter().zip(out.iter_mut()) {
            *slot = b;
            given += 1;
            self.matched = match (self.matched, b) {
                (0 | 2, b'\r') => self.matched + 1,
                (1 | 3, b'\n') => self.matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if self.matched == 4 {
                break;
            }
        }
        self.stash.drain(..given);
        Ok(given)
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Phase {
    Connecting(Transport, WsRequest),
    Handshaking(MidHandshake<ClientHandshake<Conn>>),
    Open(Box<WebSocket<Conn>>),
    Closed,
}

/// Read buffer allocated per connection; grows (once) only for larger frames.
const READ_BUFFER: usize = 64 << 10;

/// One WebSocket connection owned by the network thread.
pub struct WsClient {
    phase: Phase,
    token: Token,
    config: WebSocketConfig,
    flush_pending: bool,
    reader: FrameReader,
    /// The peer's close frame was delivered; the next read reports `Closed`.
    peer_closed: bool,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient")
            .field("token", &self.token)
            .field("state", &self.state())
            .finish()
    }
}

impl WsClient {
    /// Resolve, start the TCP connect and register `token`; returns at once.
    pub fn connect(cfg: WsConfig, token: Token, registry: &Registry) -> Result<WsClient, WsError> {
        let ep = &cfg.endpoint;
        if !matches!(ep.scheme(), Scheme::Ws | Scheme::Wss) {
            return Err(WsError::Url(ep.url()));
        }
        let request = ep
            .url()
            .into_client_request()
            .map_err(|_| WsError::Url(ep.url()))?;
        let tls = if ep.is_tls() {
            let cfg_tls = cfg.tls.as_ref().ok_or(WsError::TlsRequired)?;
            Some((
                Arc::clone(cfg_tls),
                server_name(ep.host()).map_err(WsError::Tls)?,
            ))
        } else {
            None
        };
        let addr = ep.resolve().map_err(WsError::Resolve)?;
        let mut t = Transport::connect(addr, tls).map_err(WsError::Stream)?;
        t.register(registry, token, false).map_err(WsError::Io)?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(cfg.max_message))
            .max_frame_size(Some(cfg.max_message));
        Ok(WsClient {
            phase: Phase::Connecting(t, request),
            token,
            config,
            flush_pending: false,
            reader: FrameReader::new(cfg.max_message, READ_BUFFER),
            peer_closed: false,
        })
    }

    /// The poll token this client was registered with.
    pub fn token(&self) -> Token {
        self.token
    }

    /// Current state.
    pub fn state(&self) -> WsState {
        match self.phase {
            Phase::Connecting(..) => WsState::Connecting,
            Phase::Handshaking(_) => WsState::Handshaking,
            Phase::Open(_) => WsState::Open,
            Phase::Closed => WsState::Closed,
        }
    }

    fn transport_mut(&mut self) -> Option<&mut Transport> {
        match &mut self.phase {
            Phase::Connecting(t, _) => Some(t),
            Phase::Handshaking(mid) => Some(&mut mid.get_mut().get_mut().inner),
            Phase::Open(ws) => Some(&mut ws.get_mut().inner),
            Phase::Closed => None,
        }
    }

    /// Drive connect, TLS and upgrade; when open, flush queued writes. Call on every event
    /// for this token, then [`read`](Self::read) until `None` if the state is `Open`
    /// (the upgrade may already have buffered the first frames).
    pub fn progress(&mut self, registry: &Registry) -> Result<WsState, WsError> {
        let r = self.progress_inner();
        if r.is_err() {
            self.shutdown(registry);
            return r;
        }
        self.update_interest(registry)?;
        r
    }

    fn progress_inner(&mut self) -> Result<WsState, WsError> {
        if let Phase::Connecting(t, _) = &mut self.phase {
            match t.progress().map_err(WsError::Stream)? {
                Progress::Pending => return Ok(WsState::Connecting),
                Progress::Ready => {}
            }
            let Phase::Connecting(t, req) = std::mem::replace(&mut self.phase, Phase::Closed)
            else {
                return Ok(WsState::Closed);
            };
            let conn = Conn {
                inner: t,
                stash: Vec::new(),
                matched: 0,
            };
            let mid = ClientHandshake::start(conn, req, Some(self.config)).map_err(map_ws)?;
            self.phase = Phase::Handshaking(mid);
        }
        if let Phase::Handshaking(_) = self.phase {
            let Phase::Handshaking(mid) = std::mem::replace(&mut self.phase, Phase::Closed) else {
                return Ok(WsState::Closed);
            };
            match mid.handshake() {
                Ok((mut ws, _resp)) => {
                    let conn = ws.get_mut();
                    self.reader.feed(&conn.stash);
                    conn.stash = Vec::new();
                    self.phase = Phase::Open(Box::new(ws));
                }
                Err(HandshakeError::Interrupted(mid)) => {
                    self.phase = Phase::Handshaking(mid);
                    return Ok(WsState::Handshaking);
                }
                Err(HandshakeError::Failure(e)) => return Err(map_ws(e)),
            }
        }
        if let Phase::Open(_) = self.phase {
            self.flush()?;
        }
        Ok(self.state())
    }

    /// Next frame, or `None` when the socket has no more (wait for readable). Pongs to the
    /// server's pings are queued and flushed automatically. After `Close` the next call
    /// returns `Err(Closed)`. Allocation-free after warm-up (except for answering pings).
    pub fn read(&mut self) -> Result<Option<WsFrame<'_>>, WsError> {
        let Phase::Open(ws) = &mut self.phase else {
            return if matches!(self.phase, Phase::Closed) {
                Err(WsError::Closed)
            } else {
                Ok(None)
            };
        };
        if self.peer_closed {
            // Last chance for our close reply; the connection is over either way.
            let _ = ws.flush();
            self.phase = Phase::Closed;
            return Err(WsError::Closed);
        }
        let (kind, at) = loop {
            match self.reader.advance() {
                Ok(Some(found)) => break found,
                Ok(None) => {}
                Err(e) => {
                    self.phase = Phase::Closed;
                    return Err(WsError::Protocol(e.into()));
                }
            }
            match self.reader.read_from(&mut ws.get_mut().inner) {
                Ok(0) => {
                    self.phase = Phase::Closed;
                    return Err(WsError::Closed);
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.flush_pending {
                        self.flush()?;
                    }
                    return Ok(None);
                }
                Err(e) => {
                    self.phase = Phase::Closed;
                    return Err(WsError::Io(e));
                }
            }
        };
        let frame = match self.reader.view(kind, at) {
            Ok(f) => f,
            Err(e) => {
                self.phase = Phase::Closed;
                return Err(WsError::Protocol(e.into()));
            }
        };
        Ok(Some(match frame {
            Incoming::Text(t) => WsFrame::Text(t),
            Incoming::Binary(b) => WsFrame::Binary(b),
            Incoming::Pong(b) => WsFrame::Pong(b),
            Incoming::Ping(b) => {
                // Queued now, flushed when the socket has no more to read.
                match ws.write(Message::Pong(b.to_vec().into())) {
                    Ok(()) => {}
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(map_ws(e)),
                }
                self.flush_pending = true;
                WsFrame::Ping(b)
            }
            Incoming::Close(c) => {
                // Echo the status (when it may be sent) to finish the close handshake.
                let reply = c
                    .map(|(code, _)| CloseCode::from(code))
                    .filter(|code| code.is_allowed())
                    .map(|code| CloseFrame {
                        code,
                        reason: "".into(),
                    });
                match ws.close(reply) {
                    Ok(()) => {}
                    Err(e) if would_block(&e) => {}
                    // Already closing from our side: nothing more to send.
                    Err(_) => {}
                }
                self.flush_pending = true;
                self.peer_closed = true;
                WsFrame::Close(c)
            }
        }))
    }

    fn write(&mut self, m: Message) -> Result<(), WsError> {
        let Phase::Open(ws) = &mut self.phase else {
            return Err(WsError::NotOpen);
        };
        match ws.write(m) {
            Ok(()) => {}
            // The frame is kept in the write buffer and goes out on flush.
            Err(e) if would_block(&e) => {}
            Err(e) => return Err(map_ws(e)),
        }
        self.flush_pending = true;
        self.flush()
    }

    /// Send a text message (subscribe requests, WS API calls); flushed now if the socket
    /// allows, otherwise on writable readiness — call [`update_interest`](Self::update_interest).
    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.write(Message::text(text))
    }

    /// Send a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.write(Message::binary(data.to_vec()))
    }

    /// Send our own ping (liveness probe; the venue answers with a pong echoing `payload`).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.write(Message::Ping(payload.to_vec().into()))
    }

    /// Push buffered frames to the socket; `Ok` also when the socket is full (the rest goes
    /// on writable readiness).
    pub fn flush(&mut self) -> Result<(), WsError> {
        let Phase::Open(ws) = &mut self.phase else {
            return Ok(());
        };
        match ws.flush() {
            Ok(()) => self.flush_pending = false,
            Err(e) if would_block(&e) => self.flush_pending = true,
            Err(e) => return Err(map_ws(e)),
        }
        Ok(())
    }

    /// Whether frames wait for writable readiness.
    pub fn has_pending_writes(&self) -> bool {
        self.flush_pending
    }

    /// Start the close handshake (code 1000); keep reading until `Err(Closed)` to finish it.
    pub fn close(&mut self) -> Result<(), WsError> {
        let Phase::Open(ws) = &mut self.phase else {
            return Ok(());
        };
        match ws.close(None) {
            Ok(()) => {}
            Err(e) if would_block(&e) => self.flush_pending = true,
            Err(e) => return Err(map_ws(e)),
        }
        Ok(())
    }

    /// Re-arm poll interest (readable, plus writable while frames or TLS records wait).
    pub fn update_interest(&mut self, registry: &Registry) -> Result<(), WsError> {
        let want_write = self.flush_pending;
        match self.transport_mut() {
            Some(t) => t.reregister(registry, want_write).map_err(WsError::Io),
            None => Ok(()),
        }
    }

    /// Drop the socket at once (no close handshake) and deregister it.
    pub fn shutdown(&mut self, registry: &Registry) {
        if let Some(t) = self.transport_mut() {
            t.deregister(registry);
            t.shutdown();
        }
        self.phase = Phase::Closed;
    }
}
