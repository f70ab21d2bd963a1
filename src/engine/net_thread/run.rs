//! The network thread's loop: poll, dispatch readiness, drain commands, run timers.
//!
//! Why this order: socket readiness first (responses complete and free connections),
//! then commands (a new request finds the freed connection), then the pool's
//! maintenance and the streams' timers, then the outbox. Each iteration costs a few
//! `try_recv`s and a scan of a handful of connections when idle.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use mio::Token;
use rustls::ClientConfig;

use super::streams::{Io, ManagedStream, valid_listen_key, valid_stream_name};
use super::{
    NetCommand, NetError, NetEvent, NetFailure, NetSettings, RestOutcome, SendOutcome, StreamKind,
};
use crate::config::SplitMix64;
use crate::engine::buffers::{Buf, BufPool, instant_at, mono_ns};
use crate::engine::doorbell::Doorbell;
use crate::engine::wait::{Idle, Waiter};
use crate::net::http::{
    Completion, HttpPool, HttpPoolConfig, Method, Outcome, Request, RequestId, SubmitError,
};
use crate::net::poller::{Poller, WAKE_TOKEN};
use crate::net::tls::client_config;

/// Events that did not fit in the channel wait here instead of blocking the thread (a
/// blocked network thread would stop reading sockets) or being dropped (a lost fill).
/// Only grows while the execution thread is stalled.
pub(super) struct Outbox {
    tx: Sender<NetEvent>,
    /// Wakes the execution thread when it parks between events.
    bell: Doorbell,
    overflow: VecDeque<NetEvent>,
    gone: bool,
}

impl Outbox {
    fn emit(&mut self, ev: NetEvent) {
        if self.gone {
            return;
        }
        if !self.overflow.is_empty() {
            self.overflow.push_back(ev);
            return;
        }
        match self.tx.try_send(ev) {
            Ok(()) => self.bell.ring(),
            Err(TrySendError::Full(ev)) => self.overflow.push_back(ev),
            Err(TrySendError::Disconnected(_)) => self.gone = true,
        }
    }

    fn flush(&mut self) {
        while let Some(ev) = self.overflow.pop_front() {
            match self.tx.try_send(ev) {
                Ok(()) => self.bell.ring(),
                Err(TrySendError::Full(ev)) => {
                    self.overflow.push_front(ev);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.gone = true;
                    self.overflow.clear();
                    return;
                }
            }
        }
    }

    /// At exit: give the consumer a bounded time to take what is left.
    fn drain_blocking(&mut self) {
        while let Some(ev) = self.overflow.pop_front() {
            if self
                .tx
                .send_timeout(ev, std::time::Duration::from_secs(1))
                .is_err()
            {
                self.overflow.clear();
                return;
            }
            self.bell.ring();
        }
    }
}

struct InFlight {
    id: RequestId,
    tag: u64,
    t_write_ns: u64,
}

struct Queued {
    tag: u64,
    method: Method,
    target: Buf,
    body: Option<Buf>,
    deadline_ns: u64,
}

/// Everything the thread owns.
pub(super) struct NetThread {
    settings: NetSettings,
    poller: Poller,
    commands: Receiver<NetCommand>,
    out: Outbox,
    bufs: BufPool,
    tls: Option<Arc<ClientConfig>>,
    pool: HttpPool,
    inflight: Vec<InFlight>,
    queue: VecDeque<Queued>,
    user: ManagedStream,
    market: ManagedStream,
    ws_api: Option<ManagedStream>,
    jitter: SplitMix64,
    ready: Vec<Token>,
    stopping: bool,
    /// How the thread waits between turns (`threads.network`).
    waiter: Waiter,
    /// What the last empty turn decided: park in the next poll, or poll hot.
    next_idle: Idle,
}

/// Split-borrow helper: the stream I/O context from the thread's fields.
macro_rules! io {
    ($s:ident) => {
        Io {
            poller: &mut $s.poller,
            tls: &$s.tls,
            settings: &$s.settings,
            bufs: &$s.bufs,
            jitter: &mut $s.jitter,
            emit: &mut |ev| $s.out.emit(ev),
        }
    };
}

impl NetThread {
    pub fn new(
        settings: NetSettings,
        mut poller: Poller,
        commands: Receiver<NetCommand>,
        events: Sender<NetEvent>,
        bell: Doorbell,
        bufs: BufPool,
    ) -> Result<NetThread, NetError> {
        let any_tls = settings.http.is_tls()
            || settings.ws.is_tls()
            || settings.ws_api.as_ref().is_some_and(|e| e.is_tls());
        let tls = if any_tls {
            Some(client_config(&settings.trust)?)
        } else {
            None
        };
        let mut cfg = HttpPoolConfig::new(settings.http.clone());
        cfg.tls = tls.clone();
        cfg.api_key = settings.api_key.as_ref().map(|k| k.expose().to_string());
        cfg.connections = settings.http_connections.max(1);
        let pool = HttpPool::new(cfg, &mut poller).map_err(NetError::Http)?;
        let market_base = settings.ws.join(&settings.market_route);
        let ws_api = settings
            .ws_api
            .clone()
            .map(|e| ManagedStream::fixed(StreamKind::WsApi, Some(e)));
        let conns = settings.http_connections.max(1);
        Ok(NetThread {
            jitter: SplitMix64(settings.jitter_seed),
            inflight: Vec::with_capacity(conns * 2),
            queue: VecDeque::with_capacity(settings.max_queued_requests),
            out: Outbox {
                tx: events,
                bell,
                overflow: VecDeque::new(),
                gone: false,
            },
            user: ManagedStream::fixed(StreamKind::User, None),
            market: ManagedStream::market(market_base),
            ws_api,
            ready: Vec::with_capacity(1024),
            stopping: false,
            waiter: Waiter::for_thread(&settings.thread).with_park_timeout(settings.park_timeout),
            next_idle: Idle::Park,
            settings,
            poller,
            commands,
            bufs,
            tls,
            pool,
        })
    }

    /// Run until `Shutdown`, until every command sender is gone, or until the event
    /// receiver is dropped. Poll failure is the only error.
    pub fn run(mut self) -> Result<(), NetError> {
        let now = Instant::now();
        if let Some(ws) = self.ws_api.as_mut() {
            let mut io = io!(self);
            ws.start(&mut io, now);
        }
        let result = loop {
            if let Err(e) = self.turn() {
                break Err(NetError::Io(e));
            }
            crate::bench::alloc::publish(crate::bench::alloc::EngineThread::Network);
            if self.stopping || self.out.gone {
                break Ok(());
            }
        };
        self.stop();
        result
    }

    fn turn(&mut self) -> std::io::Result<()> {
        if self.next_idle == Idle::Park {
            let mut timeout = self.waiter.park_timeout();
            if let Some(d) = self.pool.next_deadline() {
                timeout = timeout.min(d.saturating_duration_since(Instant::now()));
            }
            let commands = &self.commands;
            self.poller.park_unless(timeout, || !commands.is_empty())?;
        } else {
            // Hot: a non-blocking poll; nobody needs to wake us.
            self.poller.poll_for(std::time::Duration::ZERO)?;
        }
        self.ready.clear();
        for ev in self.poller.events().iter() {
            self.ready.push(ev.token());
        }
        let mut worked = !self.ready.is_empty();
        let now = Instant::now();
        for i in 0..self.ready.len() {
            let Some(&token) = self.ready.get(i) else {
                break;
            };
            self.dispatch(token, now);
        }
        worked |= self.drain_commands();
        let now = Instant::now();
        {
            let Self {
                pool,
                poller,
                inflight,
                out,
                bufs,
                ..
            } = self;
            pool.maintain(now, poller.registry(), |c| complete(inflight, out, bufs, c));
        }
        self.drain_queue();
        self.tick_streams(now);
        self.out.flush();
        if worked {
            self.waiter.work_done();
            self.next_idle = Idle::Spin;
        } else {
            self.next_idle = self.waiter.idle_action();
            match self.next_idle {
                Idle::Spin => std::hint::spin_loop(),
                Idle::Yield => std::thread::yield_now(),
                Idle::Park => {}
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, token: Token, now: Instant) {
        if token == WAKE_TOKEN {
            return; // commands are drained every turn
        }
        if self.pool.owns(token) {
            let Self {
                pool,
                poller,
                inflight,
                out,
                bufs,
                ..
            } = self;
            pool.on_event(token, poller.registry(), now, |c| {
                complete(inflight, out, bufs, c)
            });
            self.drain_queue();
            return;
        }
        if self.user.owns(token) {
            self.user.on_ready(token, &mut io!(self), now);
        } else if self.market.owns(token) {
            self.market.on_ready(token, &mut io!(self), now);
        } else if let Some(ws) = self.ws_api.as_mut()
            && ws.owns(token)
        {
            let mut io = io!(self);
            ws.on_ready(token, &mut io, now);
        }
    }

    fn tick_streams(&mut self, now: Instant) {
        self.user.tick(&mut io!(self), now);
        self.market.tick(&mut io!(self), now);
        if let Some(ws) = self.ws_api.as_mut() {
            let mut io = io!(self);
            ws.tick(&mut io, now);
        }
    }

    /// Acts on waiting commands; true when there was at least one.
    fn drain_commands(&mut self) -> bool {
        // Bounded per turn so a flood of commands cannot starve socket reads.
        let mut any = false;
        for _ in 0..self.settings.command_capacity.max(1) {
            match self.commands.try_recv() {
                Ok(cmd) => {
                    any = true;
                    self.command(cmd);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.stopping = true;
                    break;
                }
            }
        }
        any
    }

    fn command(&mut self, cmd: NetCommand) {
        let now = Instant::now();
        match cmd {
            NetCommand::Rest {
                tag,
                method,
                target,
                body,
                deadline_ns,
            } => {
                let q = Queued {
                    tag,
                    method,
                    target,
                    body,
                    deadline_ns,
                };
                if self.queue.is_empty() {
                    if let Some(q) = self.try_submit(q)
                        && let Some(q) = self.enqueue(q)
                    {
                        self.finish_unsent(q, NetFailure::QueueFull);
                    }
                } else if let Some(q) = self.enqueue(q) {
                    self.finish_unsent(q, NetFailure::QueueFull);
                }
            }
            NetCommand::WsApiSend { tag, text } => {
                let outcome = match (self.ws_api.as_mut(), text.as_str()) {
                    (None, _) => SendOutcome::NotSent(NetFailure::NotConnected(StreamKind::WsApi)),
                    (Some(_), None) => SendOutcome::NotSent(NetFailure::BadTarget),
                    (Some(ws), Some(s)) => {
                        let mut io = io!(self);
                        match ws.send_text(s, &mut io, now) {
                            Ok(()) => SendOutcome::Written {
                                t_write_ns: mono_ns(),
                            },
                            Err((false, why)) => SendOutcome::NotSent(why),
                            Err((true, why)) => SendOutcome::Unknown(why),
                        }
                    }
                };
                self.bufs.put(text);
                self.out.emit(NetEvent::WsApiWritten { tag, outcome });
            }
            NetCommand::OpenUserStream { listen_key } => {
                if !valid_listen_key(&listen_key) {
                    self.out.emit(NetEvent::Rejected(NetFailure::Invalid {
                        what: "listenKey",
                        value: listen_key,
                    }));
                    return;
                }
                let url = self
                    .settings
                    .ws
                    .join(&self.settings.user_stream_route.path(&listen_key));
                self.user.set_target(Some(url), &mut io!(self), now);
            }
            NetCommand::CloseUserStream => self.user.set_target(None, &mut io!(self), now),
            NetCommand::SubscribeMarket { streams } => {
                if let Some(bad) = streams.iter().find(|s| !valid_stream_name(s)) {
                    self.out.emit(NetEvent::Rejected(NetFailure::Invalid {
                        what: "stream name",
                        value: bad.clone(),
                    }));
                    return;
                }
                self.market.add_streams(streams, &mut io!(self), now);
            }
            NetCommand::Shutdown => self.stopping = true,
        }
    }

    /// Queue a request behind the busy pool; hands it back when the queue is full.
    fn enqueue(&mut self, q: Queued) -> Option<Queued> {
        if self.queue.len() >= self.settings.max_queued_requests {
            return Some(q);
        }
        self.queue.push_back(q);
        None
    }

    /// Submit to the pool; returns the request when every connection is busy.
    fn try_submit(&mut self, q: Queued) -> Option<Queued> {
        if mono_ns() >= q.deadline_ns {
            self.finish_unsent(q, NetFailure::Deadline);
            return None;
        }
        let Some(target) = q.target.as_str() else {
            self.finish_unsent(q, NetFailure::BadTarget);
            return None;
        };
        let req = Request::new(q.method, target, q.body.as_ref().map(|b| b.as_bytes()));
        match self
            .pool
            .submit(&req, instant_at(q.deadline_ns), self.poller.registry())
        {
            Ok(id) => {
                self.inflight.push(InFlight {
                    id,
                    tag: q.tag,
                    t_write_ns: mono_ns(),
                });
                self.recycle(q);
                None
            }
            Err(SubmitError::Busy) => Some(q),
            Err(SubmitError::Request(e)) => {
                self.finish_unsent(q, NetFailure::Http(e.into()));
                None
            }
            Err(SubmitError::Connect(e)) => {
                self.finish_unsent(q, NetFailure::Http(e));
                None
            }
        }
    }

    fn drain_queue(&mut self) {
        while let Some(q) = self.queue.pop_front() {
            if let Some(q) = self.try_submit(q) {
                self.queue.push_front(q);
                return;
            }
        }
    }

    fn recycle(&mut self, q: Queued) {
        self.bufs.put(q.target);
        if let Some(b) = q.body {
            self.bufs.put(b);
        }
    }

    fn finish_unsent(&mut self, q: Queued, why: NetFailure) {
        let tag = q.tag;
        self.recycle(q);
        self.out.emit(NetEvent::RestDone {
            tag,
            outcome: RestOutcome::NotSent(why),
            t_write_ns: 0,
            t_read_ns: mono_ns(),
        });
    }

    /// Close everything, account for every request, report `Stopped`.
    fn stop(&mut self) {
        while let Some(q) = self.queue.pop_front() {
            self.finish_unsent(q, NetFailure::ShuttingDown);
        }
        for f in std::mem::take(&mut self.inflight) {
            // The pool may or may not have written it: only "unknown" is honest.
            self.out.emit(NetEvent::RestDone {
                tag: f.tag,
                outcome: RestOutcome::Unknown(NetFailure::ShuttingDown),
                t_write_ns: f.t_write_ns,
                t_read_ns: mono_ns(),
            });
        }
        self.user.shutdown(&mut io!(self));
        self.market.shutdown(&mut io!(self));
        if let Some(ws) = self.ws_api.as_mut() {
            let mut io = io!(self);
            ws.shutdown(&mut io);
        }
        self.out.emit(NetEvent::Stopped);
        self.out.drain_blocking();
    }
}

/// Turn a pool completion into a `RestDone`, copying the body into a pooled buffer.
fn complete(inflight: &mut Vec<InFlight>, out: &mut Outbox, bufs: &BufPool, c: Completion<'_>) {
    let Some(i) = inflight.iter().position(|f| f.id == c.id) else {
        return;
    };
    let f = inflight.swap_remove(i);
    let t_read_ns = mono_ns();
    let (outcome, t_write_ns) = match c.outcome {
        Outcome::Response(r) => (
            RestOutcome::Response {
                status: r.status,
                limits: r.limits,
                body: bufs.copy_of(r.body),
            },
            f.t_write_ns,
        ),
        Outcome::NotSent(e) => (RestOutcome::NotSent(NetFailure::Http(e)), 0),
        Outcome::Unknown(e) => (RestOutcome::Unknown(NetFailure::Http(e)), f.t_write_ns),
    };
    out.emit(NetEvent::RestDone {
        tag: f.tag,
        outcome,
        t_write_ns,
        t_read_ns,
    });
}
