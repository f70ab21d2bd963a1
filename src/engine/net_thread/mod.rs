//! The network thread: the one thread that owns every socket.
//!
//! Why a dedicated I/O thread: the execution thread must stay the single owner of order
//! state, and it must never block in a socket call or a TLS record. So this thread does
//! I/O only — no JSON decoding, no order state. It moves bytes between sockets and the
//! execution thread and stamps them with [`mono_ns`](crate::engine::buffers::mono_ns):
//!
//! - commands come in on a bounded channel ([`NetCommand`]); each send should be
//!   followed by [`NetWaker::wake`] (or use [`NetHandle::send`], which does both) so a
//!   parked poll returns at once;
//! - events go out on a bounded channel ([`NetEvent`]): REST completions with their
//!   honest outcome (`Response` / `NotSent` / `Unknown`), raw frames of the user-data,
//!   market-data and WS-API connections, and stream up/down transitions.
//!
//! Connections: an [`HttpPool`](crate::net::http::HttpPool) to `base_url_http`; the
//! user-data WebSocket at `<base_url_ws>/ws/<listenKey>` (or `/private/ws/<listenKey>`,
//! see [`UserStreamRoute`]); the market-data WebSocket at
//! `<base_url_ws><market_route>/stream?streams=a/b` with later additions sent as
//! `SUBSCRIBE` messages spaced by [`NetSettings::control_spacing`]; and, with
//! `order_entry = "ws_api"`, the WebSocket API at `base_url_ws_api`.
//!
//! Reconnects: a WebSocket that closes, errors or goes silent is reported with
//! [`NetEvent::StreamDown`] and reconnected with exponential backoff and jitter, never
//! faster than [`NetSettings::min_reconnect_spacing`]; [`NetEvent::StreamUp`] follows.
//! Events missed while down are never replayed by the venue, so **the execution thread
//! reconciles (REST queries) on every `StreamUp` that follows a `StreamDown`**.
//!
//! Rotation: the venue cuts every connection at 24 h. Before that
//! ([`NetSettings::max_connection_age`], default 23 h) the thread opens a replacement,
//! reports [`NetEvent::StreamUp`] for it *without* a preceding `StreamDown`, then closes
//! the old one. Frames received during the overlap may arrive twice (once per
//! connection); **deduplicating them is the execution thread's job** (order updates by
//! `(orderId, updateTime, execution type)`, book diffs by update id), because only it
//! knows what a frame means.
//!
//! Buffers: targets, bodies and frames travel in [`Buf`]s from the shared
//! [`BufPool`]; the thread puts command buffers back after writing them, and the
//! execution thread puts event buffers back after decoding, so the steady state
//! allocates nothing.
//!
//! ```no_run
//! use binance_exec::config::Config;
//! use binance_exec::engine::buffers::mono_ns;
//! use binance_exec::engine::net_thread::{spawn, NetCommand, NetEvent, NetSettings, RestOutcome};
//! use binance_exec::net::http::Method;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("binance-exec.toml".as_ref())?;
//! let net = spawn(NetSettings::from_config(&config)?)?;
//! let mut target = net.bufs.get();
//! target.extend_from_slice(b"/fapi/v1/time");
//! net.send(NetCommand::Rest {
//!     tag: 1, method: Method::Get, target, body: None,
//!     deadline_ns: mono_ns() + 2_000_000_000,
//! })?;
//! if let NetEvent::RestDone { outcome: RestOutcome::Response { body, .. }, .. } = net.events.recv()? {
//!     println!("{:?}", body.as_str());
//!     net.bufs.put(body); // recycle
//! }
//! net.shutdown()?;
//! # Ok(()) }
//! ```

mod run;
mod settings;
mod streams;

pub use settings::{NetSettings, SettingsError, UserStreamRoute};

use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::engine::buffers::{Buf, BufPool};
use crate::engine::doorbell::Doorbell;
use crate::net::http::{HttpError, Method, RateLimits};
use crate::net::poller::{NetWaker, Poller};
use crate::net::tls::TlsError;
use crate::net::ws::WsError;

/// A request from the execution thread.
#[derive(Debug)]
pub enum NetCommand {
    /// Send one REST request on the keep-alive pool. The outcome comes back as
    /// [`NetEvent::RestDone`] with the same `tag`.
    Rest {
        /// Caller's correlation id (e.g. the order slot), echoed in the completion.
        tag: u64,
        /// HTTP method.
        method: Method,
        /// Path and query (signed), starting with `/`; returned to the pool once written.
        target: Buf,
        /// Form body, if any; returned to the pool once written.
        body: Option<Buf>,
        /// Give up at this [`mono_ns`](crate::engine::buffers::mono_ns) time: `NotSent`
        /// if the request never left, `Unknown` if it did.
        deadline_ns: u64,
    },
    /// Send one text frame on the WebSocket-API connection; answered by
    /// [`NetEvent::WsApiWritten`] (and later the venue's reply as a
    /// [`NetEvent::WsApiFrame`]).
    WsApiSend {
        /// Caller's correlation id, echoed in `WsApiWritten`.
        tag: u64,
        /// The JSON request; returned to the pool once written.
        text: Buf,
    },
    /// Connect (or move) the user-data stream to this listenKey. A different key while
    /// connected rotates make-before-break.
    OpenUserStream {
        /// Key from `POST /fapi/v1/listenKey`.
        listen_key: String,
    },
    /// Close the user-data stream (e.g. before `DELETE /fapi/v1/listenKey`).
    CloseUserStream,
    /// Add market streams (e.g. `btcusdt@bookTicker`): the first call connects, later
    /// ones send `SUBSCRIBE`; reconnects include every stream in the URL.
    SubscribeMarket {
        /// Stream names, lower-case symbols; duplicates are ignored.
        streams: Vec<String>,
    },
    /// Close every socket, report in-flight requests, send [`NetEvent::Stopped`] and exit.
    Shutdown,
}

/// Which WebSocket connection an event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// `/ws/<listenKey>` user-data events.
    User,
    /// Combined market-data streams.
    Market,
    /// WebSocket API (order entry).
    WsApi,
}

/// Why something failed or a stream went down. Owned (not borrowed) so it can cross the
/// channel; wraps the network layer's typed errors.
#[derive(Debug, thiserror::Error)]
pub enum NetFailure {
    /// The HTTP layer's reason.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The WebSocket layer's reason.
    #[error(transparent)]
    Ws(#[from] WsError),
    /// The pool is busy and the wait queue is full.
    #[error("too many REST requests queued")]
    QueueFull,
    /// The request's deadline passed while it waited for a free connection.
    #[error("deadline passed before a connection was free")]
    Deadline,
    /// The request target was not UTF-8.
    #[error("request target or body is not valid UTF-8")]
    BadTarget,
    /// The stream is not connected (or not configured).
    #[error("{0:?} stream not connected")]
    NotConnected(StreamKind),
    /// No frame, ping or pong arrived for this long: the connection is presumed dead.
    #[error("no traffic for {0:?}")]
    Stale(Duration),
    /// The connection broke while a message was being written (the reason as text: the
    /// typed error went to the stream's `StreamDown`).
    #[error("connection lost while writing: {0}")]
    ConnectionLost(String),
    /// The execution thread asked for the close.
    #[error("closed on request")]
    Requested,
    /// The thread is stopping.
    #[error("network thread shutting down")]
    ShuttingDown,
    /// A command carried an unusable argument (stream name, listenKey).
    #[error("invalid {what}: {value:?}")]
    Invalid {
        /// What was wrong.
        what: &'static str,
        /// The offending value.
        value: String,
    },
}

/// How a REST request ended.
#[derive(Debug)]
pub enum RestOutcome {
    /// The venue answered (any status; the body is the venue's JSON, undecoded).
    Response {
        /// HTTP status.
        status: u16,
        /// Rate-limit headers.
        limits: RateLimits,
        /// Body bytes; put back into the pool after decoding.
        body: Buf,
    },
    /// Nothing left the process: resending cannot duplicate an order.
    NotSent(NetFailure),
    /// The request may have reached the venue: resolve by querying, never by resubmitting.
    Unknown(NetFailure),
}

/// How a WS-API send ended (the venue's reply comes separately as a frame).
#[derive(Debug)]
pub enum SendOutcome {
    /// Handed to the socket at `t_write_ns` (or to its buffer, flushed on writable).
    Written {
        /// When it was written ([`mono_ns`](crate::engine::buffers::mono_ns)).
        t_write_ns: u64,
    },
    /// Not sent: the connection was down or full. Safe to resend.
    NotSent(NetFailure),
    /// The connection broke while writing: the venue may have it.
    Unknown(NetFailure),
}

/// What the network thread reports to the execution thread.
#[derive(Debug)]
pub enum NetEvent {
    /// A REST request ended.
    RestDone {
        /// The command's tag.
        tag: u64,
        /// Response, `NotSent` or `Unknown`.
        outcome: RestOutcome,
        /// When the request was written to the socket (0 if it never was). For a request
        /// that had to wait for a connection to come up, the time it was queued on it.
        t_write_ns: u64,
        /// When the completion was read.
        t_read_ns: u64,
    },
    /// A WS-API send was written (or not). A request written but unanswered when
    /// `StreamDown(WsApi)` arrives is *unknown*: resolve it by query, never by resending.
    WsApiWritten {
        /// The command's tag.
        tag: u64,
        /// Outcome.
        outcome: SendOutcome,
    },
    /// A user-data frame (raw JSON).
    UserFrame {
        /// Frame bytes.
        buf: Buf,
        /// When it was read.
        t_read_ns: u64,
    },
    /// A market-data frame (raw JSON, combined-stream envelope, or a SUBSCRIBE reply).
    MarketFrame {
        /// Frame bytes.
        buf: Buf,
        /// When it was read.
        t_read_ns: u64,
    },
    /// A WS-API reply (raw JSON).
    WsApiFrame {
        /// Frame bytes.
        buf: Buf,
        /// When it was read.
        t_read_ns: u64,
    },
    /// A stream connection is open (first connect, reconnect or rotation).
    StreamUp(StreamKind),
    /// A stream connection was lost (or closed on request); a reconnect is scheduled
    /// unless the close was requested.
    StreamDown(StreamKind, NetFailure),
    /// A command could not be acted on (bad stream name, listenKey).
    Rejected(NetFailure),
    /// The thread has closed everything and is about to exit.
    Stopped,
}

/// Why the network thread could not be started or died.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The configured core does not exist on this machine.
    #[error("core {core} does not exist (available: {available:?})")]
    NoSuchCore {
        /// Requested core id.
        core: usize,
        /// Core ids the OS reports.
        available: Vec<usize>,
    },
    /// Pinning failed although the core exists (e.g. restricted by a cpuset).
    #[error("cannot pin the network thread to core {0}")]
    Pin(usize),
    /// TLS configuration (CA file) failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The REST pool could not be set up.
    #[error("REST pool: {0}")]
    Http(HttpError),
    /// Poll or thread creation failed.
    #[error("network thread I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The thread died before reporting its start-up.
    #[error("network thread exited during start-up")]
    StartUp,
    /// The thread panicked (a bug: peer input never panics it).
    #[error("network thread panicked")]
    Panicked,
}

/// Why a command could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command channel is full; the command is handed back.
    #[error("command channel full")]
    Full(Box<NetCommand>),
    /// The network thread has exited.
    #[error("network thread stopped")]
    Stopped,
}

/// The execution thread's handle on the network thread.
#[derive(Debug)]
pub struct NetHandle {
    /// Commands in (follow each send with `waker.wake()`, or use [`NetHandle::send`]).
    pub commands: Sender<NetCommand>,
    /// Events out.
    pub events: Receiver<NetEvent>,
    /// Rung after every event the thread hands over: the consumer of
    /// `events` may park on it ([`Doorbell::sleep`]) instead of blocking in
    /// the channel.
    pub events_bell: Doorbell,
    /// The shared buffer pool.
    pub bufs: BufPool,
    /// Interrupts the thread's poll.
    pub waker: NetWaker,
    /// The thread; joins after `Shutdown` (or when every command sender is dropped).
    pub join: JoinHandle<Result<(), NetError>>,
}

impl NetHandle {
    /// Enqueue a command without blocking and wake the thread.
    pub fn send(&self, cmd: NetCommand) -> Result<(), CommandError> {
        match self.commands.try_send(cmd) {
            Ok(()) => {}
            Err(crossbeam_channel::TrySendError::Full(c)) => {
                return Err(CommandError::Full(Box::new(c)));
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                return Err(CommandError::Stopped);
            }
        }
        // A failed wake means the poll is gone, i.e. the thread exited; the command is
        // then moot and the join reports why. A thread polling hot finds the command
        // itself, so only a sleeping one costs the eventfd write.
        let _ = self.waker.wake_if_sleeping();
        Ok(())
    }

    /// Send `Shutdown` and join the thread, returning its exit status.
    pub fn shutdown(self) -> Result<(), NetError> {
        let _ = self.commands.send(NetCommand::Shutdown);
        let _ = self.waker.wake();
        drop(self.commands);
        match self.join.join() {
            Ok(r) => r,
            Err(_) => Err(NetError::Panicked),
        }
    }
}

/// Check that the configured core exists before any thread is spawned, so a typo in
/// the config is a clear start-up error rather than a silently unpinned thread.
pub fn check_core(core: Option<usize>) -> Result<(), NetError> {
    let Some(core) = core else { return Ok(()) };
    let available: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    if available.contains(&core) {
        Ok(())
    } else {
        Err(NetError::NoSuchCore { core, available })
    }
}

/// Start the network thread: build TLS, the poller and the REST pool (errors returned
/// here, before anything runs), then spawn `binance-exec-net`, pin it when a core is
/// configured, and connect the WS API when configured. Streams connect on command.
pub fn spawn(settings: NetSettings) -> Result<NetHandle, NetError> {
    check_core(settings.thread.core)?;
    let bufs = BufPool::new(settings.buffers, settings.buffer_capacity);
    let poller = Poller::new(settings.poll_mode(), 1024)?;
    let waker = poller.waker();
    let (cmd_tx, cmd_rx) = crossbeam_channel::bounded(settings.command_capacity.max(1));
    let (ev_tx, ev_rx) = crossbeam_channel::bounded(settings.event_capacity.max(1));
    let core = settings.thread.core;
    let events_bell = Doorbell::new();
    let net = run::NetThread::new(
        settings,
        poller,
        cmd_rx,
        ev_tx,
        events_bell.clone(),
        bufs.clone(),
    )?;
    let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<(), NetError>>(1);
    let join = std::thread::Builder::new()
        .name("binance-exec-net".into())
        .spawn(move || {
            if let Some(id) = core
                && !core_affinity::set_for_current(core_affinity::CoreId { id })
            {
                let _ = ready_tx.send(Err(NetError::Pin(id)));
                return Err(NetError::Pin(id));
            }
            crate::engine::wait::request_short_slice();
            let _ = ready_tx.send(Ok(()));
            net.run()
        })?;
    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => Ok(NetHandle {
            commands: cmd_tx,
            events: ev_rx,
            events_bell,
            bufs,
            waker,
            join,
        }),
        Ok(Err(e)) => {
            let _ = join.join();
            Err(e)
        }
        Err(_) => Err(NetError::StartUp),
    }
}
