//! The execution loop: commands from the strategy, completions and frames
//! from the network thread, timers; one owner of every order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::reconcile::{self, ReconCall, Reconciler};
use super::reports;
use super::startup::to_command;
use crate::binance::errors::{Reaction, VenueError, classify};
use crate::binance::events::{UserEvent, decode_user_event_reusing};
use crate::binance::market::{MarketEvent, decode_market};
use crate::binance::requests::{
    AlgoRef, ModifyOrder, NewAlgoOrder, NewOrder, OrderRef, RequestBuilder, RestRequest,
};
use crate::binance::rest::{AlgoOrderResponse, OrderResponse, decode};
use crate::config::{Backoff, Config, PositionMode, SplitMix64};
use crate::engine::bad_input::BadKind;
use crate::engine::buffers::mono_ns as net_ns;
use crate::engine::clock::mono_ns;
use crate::engine::net_thread::{NetCommand, NetEvent, NetHandle, RestOutcome, StreamKind};
use crate::engine::pool::OrderHandle;
use crate::engine::positions::PositionBook;
use crate::engine::ratelimit::{Cost, Decision, RateLimiter, RateWarning};
use crate::engine::report::{Report, ReportSource, RequestKind};
use crate::engine::runner::{Counters, EngineError, EngineSummary};
use crate::engine::strategy::{BookTicker, Command, Trade};
use crate::engine::strategy_thread::{EventStamps, FromStrategy, StrategyOutbox, ToStrategy};
use crate::engine::tracker::OrderTracker;
use crate::engine::wait::{Idle, Waiter};
use crate::instruments::{InstrumentProvider, OrderCheck};
use crate::latency::{Budgets, LatencyPath, LatencyRecorder, LatencyReport, wall_ns};
use crate::model::ids::{ClientOrderId, InstrumentId, Symbol};
use crate::model::{
    ErrorText, Order, OrderEvent, OrderEventKind, OrderState, OrderType, RespType, Side,
};

mod route;

/// Events the execution thread can hold for a stalled strategy before its
/// backlog has to allocate.
const STRATEGY_BACKLOG: usize = 4096;
/// Longest park while events wait for a stalled strategy to make room.
const BACKLOG_RETRY: Duration = Duration::from_micros(200);
/// Most finished orders kept for the summary once released from the pool.
const MAX_FINISHED: usize = 100_000;
/// Most lines kept in the human event log.
const LOG_HEAD: usize = 1000;
/// Event lines kept from the end of the run.
const LOG_TAIL: usize = 2000;
/// Keepalives re-sent after a failure that does not mean the key is gone
/// (5xx, 429) before a new key is asked for.
const KEEPALIVE_RETRIES: u32 = 3;

/// Longest a reconciliation running at shutdown may take before the
/// strategy is told to stop ([`Exec::deliver_before_stop`]).
const RECON_BEFORE_STOP_NS: u64 = 3_000_000_000;

/// A stream kind's bit in `Exec::streams_down`.
fn stream_bit(k: StreamKind) -> u8 {
    match k {
        StreamKind::User => 1,
        StreamKind::Market => 2,
        StreamKind::WsApi => 4,
    }
}

/// A cancel pending this long with no word on the order is sent again when
/// the strategy asks: below it, a repeated cancel is coalesced.
const CANCEL_RESEND_AFTER_NS: u64 = 10_000_000_000;
/// How long a request may take before its fate is called unknown.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a tag stands for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Job {
    Submit,
    Cancel,
    Modify {
        price: crate::model::Price,
        quantity: crate::model::Quantity,
    },
    Query,
    CancelAll,
    /// Dead-man switch: arm (or, with 0, disarm) `countdownCancelAll`.
    Heartbeat {
        countdown_ms: u32,
    },
    Keepalive,
    NewKey,
    DeleteKey,
    Time,
    /// A reconciliation request (see `reconcile.rs`).
    Recon(ReconCall),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    pub(super) job: Job,
    pub(super) client_id: ClientOrderId,
    pub(super) instrument: InstrumentId,
    pub(super) algo: bool,
    pub(super) attempt: u32,
    /// Strategy call time (engine clock) for strategy→wire.
    pub(super) t_call_ns: u64,
    pub(super) resynced: bool,
}

/// Everything the execution thread owns.
pub struct Exec {
    pub(crate) config: Config,
    pub(crate) net: NetHandle,
    pub(crate) held: VecDeque<NetEvent>,
    pub(crate) rb: RequestBuilder,
    pub(crate) instruments: InstrumentProvider,
    pub(crate) tracker: OrderTracker,
    pub(crate) positions: PositionBook,
    /// Events to the strategy: never blocks, never drops.
    pub(crate) to_strategy: StrategyOutbox,
    pub(crate) from_strategy: Receiver<FromStrategy>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) done: Arc<AtomicBool>,
    pub(crate) done_tx: Sender<()>,
    pub(crate) listen_key: String,
    pub(crate) offset_ms: i64,
    /// `net clock - engine clock`, ns: the two monotonic clocks have
    /// different anchors.
    pub(crate) net_minus_engine: i64,
    pub(crate) max_runtime_ns: Option<u64>,
    pub(crate) hgrm_dir: Option<std::path::PathBuf>,
    pub(crate) counters: Counters,
    /// Notable events, head and tail kept (see [`EventLog`]).
    pub(crate) log: super::event_log::EventLog,
    /// Engine clock at start: event lines are stamped relative to it.
    log_t0_ns: u64,
    /// Rate limit of bad-input log lines.
    pub(crate) bad_log: crate::engine::bad_input::BadInputLog,
    /// Terminal orders released from the pool, kept for the summary. Its
    /// capacity is reserved up front (virtual memory; pages are touched only
    /// as orders arrive) so releasing never reallocates on the order path.
    pub(crate) finished: Vec<Order>,
    /// Handles `make_room` releases, reused so a release sweep allocates
    /// nothing.
    release_scratch: Vec<OrderHandle>,
    pub(crate) lat: LatencyRecorder,
    /// Local limiter: throttles before the venue does (fed by X-MBX headers).
    pub(crate) limiter: RateLimiter,
    pending: HashMap<u64, Pending>,
    retries: Vec<(u64, Pending)>,
    next_tag: u64,
    backoff: Backoff,
    jitter: SplitMix64,
    /// One bit per [`StreamKind`] that went down and has not come back:
    /// per kind, so a market stream coming up never hides a user stream
    /// still down (nor counts its reconnect).
    streams_down: u8,
    /// How the loop waits when idle (`threads.execution`).
    waiter: Waiter,
    /// Orders whose fate became unknown and is not settled yet (resolved by
    /// the query or by a stream event, whichever comes first).
    unknown_ids: Vec<ClientOrderId>,
    /// The `/metrics` feed when `[metrics] listen` is set.
    pub(crate) metrics: Option<super::metrics_feed::ExecMetrics>,
    /// Reconnect / sweep / missed-fill reconciliation state.
    pub(super) recon: Reconciler,
    /// Order entry: WS-API link and in-flight frames, resubmission of
    /// orders the venue certainly never took.
    route: route::Router,
    /// The order journal (`engine.journal_path`), if configured.
    pub(crate) journal: Option<super::persist::Persist>,
    /// Loaded symbols holding orders we neither placed nor claim: symbol-wide
    /// cancel-all must spare them.
    pub(crate) foreign_symbols: Vec<Symbol>,
    /// The strategy thread has stopped (shutdown): events are not sent.
    strategy_gone: bool,
}

impl Exec {
    /// Assembles the loop state after start-up.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        net: NetHandle,
        held: VecDeque<NetEvent>,
        rb: RequestBuilder,
        instruments: InstrumentProvider,
        tracker: OrderTracker,
        positions: PositionBook,
        to_strategy: Sender<ToStrategy>,
        from_strategy: Receiver<FromStrategy>,
        stop: Arc<AtomicBool>,
        done: Arc<AtomicBool>,
        done_tx: Sender<()>,
        listen_key: String,
        offset_ms: i64,
        net_minus_engine: i64,
    ) -> Exec {
        let backoff = config.backoff();
        let cap = config.engine.order_pool_size.max(64);
        let mut recon = Reconciler::new(&config, mono_ns());
        recon.since_ms = wall_ns() / 1_000_000 + offset_ms;
        let route = route::Router::new(&config, cap);
        let waiter = Waiter::for_thread(&config.threads.execution);
        Exec {
            config,
            net,
            held,
            rb,
            instruments,
            tracker,
            positions,
            to_strategy: StrategyOutbox::new(to_strategy, STRATEGY_BACKLOG),
            from_strategy,
            stop,
            done,
            done_tx,
            listen_key,
            offset_ms,
            net_minus_engine,
            max_runtime_ns: None,
            hgrm_dir: None,
            counters: Counters::default(),
            log: super::event_log::EventLog::new(LOG_HEAD, LOG_TAIL),
            log_t0_ns: mono_ns(),
            bad_log: Default::default(),
            finished: Vec::with_capacity(MAX_FINISHED),
            release_scratch: Vec::with_capacity(cap),
            lat: LatencyRecorder::new(),
            limiter: RateLimiter::new(&[], backoff, 1),
            pending: HashMap::with_capacity(cap * 2),
            retries: Vec::with_capacity(cap),
            next_tag: 1,
            backoff,
            jitter: SplitMix64(wall_ns() as u64 ^ 0x9E37),
            streams_down: 0,
            waiter,
            unknown_ids: Vec::with_capacity(64),
            metrics: None,
            recon,
            route,
            journal: None,
            foreign_symbols: Vec::new(),
            strategy_gone: false,
        }
    }

    pub(crate) fn note(&mut self, line: String) {
        let ms = mono_ns().saturating_sub(self.log_t0_ns) / 1_000_000;
        self.log.push(ms, line);
    }

    fn to_engine(&self, net_t: u64) -> u64 {
        if net_t == 0 {
            return 0;
        }
        (net_t as i64 - self.net_minus_engine).max(1) as u64
    }

    pub(super) fn ts_ms(&self) -> i64 {
        wall_ns() / 1_000_000 + self.offset_ms
    }

    /// Runs until stopped; returns the summary.
    pub fn run(mut self) -> Result<EngineSummary, EngineError> {
        let start = mono_ns();
        let keepalive_every = reconcile::keepalive_period_ns(&self.config);
        let mut next_keepalive = start + keepalive_every;
        // Re-estimate the venue clock offset periodically: local clocks
        // drift, and a stale offset ends in -1021 rejections.
        let sync_every = u64::try_from(self.config.clock_sync_interval().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1_000_000_000);
        let mut next_sync = start + sync_every;
        let mut next_heartbeat = self.dead_man_arm();
        let held: Vec<NetEvent> = self.held.drain(..).collect();
        for ev in held {
            self.on_net(ev);
        }
        loop {
            let now = mono_ns();
            if self.stop.load(Ordering::Acquire)
                || self
                    .max_runtime_ns
                    .is_some_and(|m| now.saturating_sub(start) >= m)
            {
                break;
            }
            if now >= next_keepalive {
                next_keepalive = now + keepalive_every;
                self.send_job(idle(Job::Keepalive));
            }
            if next_heartbeat.is_some_and(|t| now >= t) {
                next_heartbeat = self.dead_man_arm();
            }
            if now >= next_sync {
                next_sync = now + sync_every;
                self.send_job(time_job());
            }
            self.fire_due_retries(now);
            if let Some(m) = &mut self.metrics {
                m.tick(
                    now,
                    &self.counters,
                    &self.limiter,
                    self.unknown_ids.len(),
                    &self.lat,
                );
            }
            self.recon_tick(now);
            self.pump(Duration::from_millis(1));
            crate::bench::alloc::publish(crate::bench::alloc::EngineThread::Execution);
        }
        self.shutdown(next_keepalive)
    }

    /// Keeps the listenKey alive while shutting down: the cancel-all's
    /// events arrive on the user stream, and a key that expires meanwhile
    /// (a shutdown can take seconds; against the simulator's compressed
    /// clock a key lives about one) turns them into a reconnect and a gap.
    fn keep_key_alive(&mut self, next_keepalive: &mut u64) {
        let now = mono_ns();
        if now >= *next_keepalive {
            *next_keepalive = now + reconcile::keepalive_period_ns(&self.config);
            self.send_job(idle(Job::Keepalive));
        }
    }

    /// Handles whatever is ready; when idle, waits the configured way
    /// (`threads.execution.wait`): park sleeps on the doorbell both inputs
    /// ring for up to `wait` (a sender wakes it at once), spin/yield poll again at once,
    /// spin_park stays hot for its window after the last work, then parks.
    fn pump(&mut self, wait: Duration) {
        let mut worked = self.to_strategy.backlog() > 0 && self.to_strategy.flush() > 0;
        while let Ok(m) = self.from_strategy.try_recv() {
            worked = true;
            if let FromStrategy::Command(c, t) = m {
                self.on_command(c, t);
            }
        }
        while let Ok(ev) = self.net.events.try_recv() {
            worked = true;
            self.on_net(ev);
        }
        if worked {
            self.waiter.work_done();
            return;
        }
        match self.waiter.idle_action() {
            Idle::Spin => std::hint::spin_loop(),
            Idle::Yield => std::thread::yield_now(),
            Idle::Park => {
                // Room in the strategy channel wakes nobody: look again soon.
                let wait = if self.to_strategy.backlog() > 0 {
                    wait.min(BACKLOG_RETRY)
                } else {
                    wait
                };
                // One bell for both inputs: the network thread and the
                // strategy ring it after each send (see engine::doorbell).
                let (net, cmds) = (&self.net.events, &self.from_strategy);
                self.net
                    .events_bell
                    .sleep(wait, || !net.is_empty() || !cmds.is_empty());
            }
        }
    }

    // ---------------------------------------------------------------- commands

    fn on_command(&mut self, c: Command, t_call: u64) {
        match c {
            Command::Submit(o) => self.submit(o, t_call),
            Command::Cancel {
                instrument,
                client_id,
            } => self.cancel(instrument, client_id, t_call),
            Command::Modify {
                instrument,
                client_id,
                price,
                quantity,
            } => {
                let Some(h) = self.tracker.find(&client_id) else {
                    return;
                };
                if self.refuse_algo_modify(h) {
                    return;
                }
                let mut ev_buf = EvBuf::default();
                if self
                    .tracker
                    .request_modify(h, mono_ns(), &mut |h, e| ev_buf.push(h, e))
                    .is_ok()
                {
                    self.deliver(ev_buf, 0);
                    let p = Pending {
                        job: Job::Modify { price, quantity },
                        client_id,
                        instrument,
                        algo: false,
                        attempt: 0,
                        t_call_ns: t_call,
                        resynced: false,
                    };
                    self.send_job(p);
                }
            }
            Command::CancelAll { instrument } => {
                for algo in [false, true] {
                    let p = Pending {
                        job: Job::CancelAll,
                        client_id: ClientOrderId::default(),
                        instrument,
                        algo,
                        attempt: 0,
                        t_call_ns: t_call,
                        resynced: false,
                    };
                    self.send_job(p);
                }
            }
        }
    }

    fn submit(&mut self, o: Order, t_call: u64) {
        // Local filter check: a violation is answered with the venue's own
        // code and never costs a request (or rate-limit weight).
        if let Some(inst) = self.instruments.get(&o.instrument) {
            let chk = OrderCheck {
                side: o.side,
                order_type: o.order_type,
                quantity: o.quantity,
                price: o.price,
                trigger_price: o.trigger_price,
                reduce_only: o.reduce_only,
                close_position: o.close_position,
                mark_price: None,
            };
            if let Err(v) = inst.validate(&chk) {
                let code = v.code();
                self.counters.count_rejection(i64::from(code));
                let msg = v.to_string();
                self.note(format!("{} rejected locally ({code}): {msg}", o.client_id));
                self.reject_local(o, code, &msg);
                return;
            }
        } else {
            self.counters.count_rejection(-1121);
            self.reject_local(o, -1121, "Invalid symbol (instrument not loaded).");
            return;
        }
        self.make_room();
        // Journal the intent before anything can leave: a restart must know
        // this id even if the venue never answers.
        if let Some(j) = &mut self.journal
            && let Err(e) = j.intent(&o)
        {
            let msg = format!("journal write failed, order not sent: {e}");
            self.note(format!("{}: {msg}", o.client_id));
            self.reject_local(o, 0, &msg);
            return;
        }
        let mut ev_buf = EvBuf::default();
        match self
            .tracker
            .submit(o, t_call, &mut |h, e| ev_buf.push(h, e))
        {
            Ok(_) => {
                self.deliver(ev_buf, 0);
                self.counters.submitted += 1;
                let p = Pending {
                    job: Job::Submit,
                    client_id: o.client_id,
                    instrument: o.instrument,
                    algo: o.is_conditional(),
                    attempt: 0,
                    t_call_ns: t_call,
                    resynced: false,
                };
                self.send_job(p);
            }
            Err(e) => {
                let msg = e.to_string();
                self.note(format!("{} not tracked: {msg}", o.client_id));
                self.reject_local(o, 0, &msg);
            }
        }
    }

    /// Keeps the preallocated pool from filling up in a long run: when it is
    /// three-quarters full, terminal orders leave it (their final copy is
    /// kept for the summary, up to a bound). Late reports for a released
    /// order still book fills as external fills, so nothing is lost.
    fn make_room(&mut self) {
        let cap = self.config.engine.order_pool_size.max(16);
        if self.tracker.len() * 4 < cap * 3 {
            return;
        }
        let mut done = std::mem::take(&mut self.release_scratch);
        done.clear();
        done.extend(
            self.tracker
                .orders()
                .filter(|(_, o)| o.state.is_terminal())
                .map(|(h, _)| h),
        );
        for h in done.drain(..) {
            if let Ok(o) = self.tracker.release(h) {
                self.keep_finished(o);
            }
        }
        self.release_scratch = done;
    }

    /// Keeps a final order copy for the summary, up to `MAX_FINISHED` (the
    /// journal holds every order; the summary is a bounded view).
    fn keep_finished(&mut self, o: Order) {
        if self.finished.len() < MAX_FINISHED {
            self.finished.push(o);
        }
    }

    /// Tells the strategy an order was refused without reaching the venue.
    fn reject_local(&mut self, o: Order, code: i32, msg: &str) {
        let ev = OrderEvent {
            client_id: o.client_id,
            instrument: o.instrument,
            venue_order_id: None,
            ts_venue_ms: 0,
            ts_local_ns: mono_ns(),
            kind: OrderEventKind::Rejected {
                code,
                reason: ErrorText::truncated(msg),
            },
        };
        let mut fin = o;
        fin.state = OrderState::Rejected;
        fin.last_error = code;
        self.keep_finished(fin);
        if let Some(m) = &self.metrics {
            m.on_event(&ev, Some(&fin));
        }
        self.send_strategy(ToStrategy::Order(ev, EventStamps::default()));
    }

    fn cancel(&mut self, instrument: InstrumentId, client_id: ClientOrderId, t_call: u64) {
        let Some(h) = self.tracker.find(&client_id) else {
            return;
        };
        let Ok(o) = self.tracker.get(h) else {
            return;
        };
        let now = mono_ns();
        let algo = o.is_conditional() && o.child_venue_order_id.is_none();
        if o.state == OrderState::PendingCancel
            && now.saturating_sub(o.ts_last_ns) < CANCEL_RESEND_AFTER_NS
        {
            // A cancel is already in flight, waiting out a rate limit, or
            // awaiting the query that settles a -2011: its answer will come.
            // Sending it again only spends the rate limit that is holding
            // that answer back (a strategy re-cancelling every second under
            // 429s fed a backoff spiral in the fault soak).
            self.counters.cancels_coalesced += 1;
            return;
        }
        let mut ev_buf = EvBuf::default();
        if self
            .tracker
            .request_cancel(h, now, &mut |h, e| ev_buf.push(h, e))
            .is_err()
        {
            return;
        }
        self.deliver(ev_buf, 0);
        let p = Pending {
            job: Job::Cancel,
            client_id,
            instrument,
            algo,
            attempt: 0,
            t_call_ns: t_call,
            resynced: false,
        };
        self.send_job(p);
    }

    // ---------------------------------------------------------------- requests

    /// Sends a request over the configured order entry: order writes go
    /// over the WebSocket API when it is up, everything else (and every
    /// fallback) over REST.
    pub(super) fn send_job(&mut self, p: Pending) {
        if !self.try_send_ws(p) {
            self.send_rest(p);
        }
    }

    fn send_rest(&mut self, p: Pending) {
        let ts = self.ts_ms();
        let sym = p.instrument.symbol;
        let hedge = self.config.position_mode == PositionMode::Hedge;
        let order = self
            .tracker
            .find(&p.client_id)
            .and_then(|h| self.tracker.get(h).ok().copied());
        let req: Result<RestRequest<'_>, String> = match (p.job, order) {
            (Job::Submit, Some(o)) if o.is_conditional() => self
                .rb
                .new_algo_order(&algo_order(&o, hedge), ts)
                .map_err(|e| e.to_string()),
            (Job::Submit, Some(o)) => self
                .rb
                .new_order(&new_order(&o, hedge), ts)
                .map_err(|e| e.to_string()),
            (Job::Cancel, Some(_)) if p.algo => Ok(self
                .rb
                .cancel_algo_order(&AlgoRef::ClientAlgoId(p.client_id), ts)),
            (Job::Cancel, Some(_)) => {
                Ok(self
                    .rb
                    .cancel_order(&sym, &OrderRef::ClientId(p.client_id), ts))
            }
            (Job::Query, Some(_)) if p.algo => Ok(self
                .rb
                .query_algo_order(&AlgoRef::ClientAlgoId(p.client_id), ts)),
            (Job::Query, Some(_)) => {
                Ok(self
                    .rb
                    .query_order(&sym, &OrderRef::ClientId(p.client_id), ts))
            }
            (Job::Modify { price, quantity }, Some(o)) => self
                .rb
                .modify_order(
                    &ModifyOrder {
                        symbol: sym,
                        side: o.side,
                        order: route::modify_target(&o),
                        quantity,
                        price: Some(price),
                        price_match: None,
                        modify_id: None,
                    },
                    ts,
                )
                .map_err(|e| e.to_string()),
            (Job::CancelAll, _) if p.algo => Ok(self.rb.cancel_all_algo_open_orders(&sym, ts)),
            (Job::CancelAll, _) => Ok(self.rb.cancel_all_open_orders(&sym, ts)),
            (Job::Heartbeat { countdown_ms }, _) => {
                Ok(self.rb.countdown_cancel_all(&sym, countdown_ms, ts))
            }
            (Job::Keepalive, _) => Ok(self.rb.listen_key_keepalive()),
            (Job::NewKey, _) => Ok(self.rb.listen_key_create()),
            (Job::DeleteKey, _) => Ok(self.rb.listen_key_delete()),
            (Job::Time, _) => Ok(self.rb.server_time()),
            (Job::Recon(c), _) => reconcile::build_request(&mut self.rb, c, &p, ts),
            (_, None) => Err("order no longer tracked".to_string()),
        };
        match req {
            Ok(r) => {
                let cost = Cost {
                    weight: r.weight,
                    orders: u32::from(r.counts_as_order),
                };
                // Copy the request out of the builder first (ends its borrow).
                let tag = self.next_tag;
                let deadline = net_ns().saturating_add(REQUEST_TIMEOUT.as_nanos() as u64);
                let cmd = to_command(&self.net, tag, &r, deadline);
                let (decision, warning) = self.limiter.try_acquire(cost, ts);
                if let Some(w) = warning {
                    self.log_warning(w);
                }
                match decision {
                    Decision::Go => {}
                    Decision::Wait(until_ms) => {
                        self.recycle(cmd);
                        // A window is full (or a 429 pause runs): hold the
                        // request locally instead of earning a ban.
                        let wait_ms = u64::try_from(until_ms - ts).unwrap_or(0).max(1);
                        self.counters.rate_limit_backoffs += 1;
                        self.retries
                            .push((mono_ns().saturating_add(wait_ms * 1_000_000), p));
                        return;
                    }
                    Decision::Reject(why) => {
                        self.recycle(cmd);
                        self.note(format!(
                            "{}: refused by the local limiter: {why:?}",
                            p.client_id
                        ));
                        if matches!(p.job, Job::Submit) {
                            let rep = reports::from_error(
                                ReportSource::Reply(RequestKind::Submit),
                                p.instrument.symbol,
                                p.client_id,
                                -1003,
                                "local rate limiter: request refused",
                                mono_ns(),
                            );
                            self.counters.count_rejection(-1003);
                            self.apply(&rep, 0);
                        }
                        return;
                    }
                }
                self.next_tag += 1;
                self.pending.insert(tag, p);
                if let Err(e) = self.net.send(cmd) {
                    self.pending.remove(&tag);
                    self.note(format!("{}: network thread refused: {e}", p.client_id));
                    self.schedule_retry(p, None);
                }
            }
            Err(why) => {
                self.note(format!("{}: request not built: {why}", p.client_id));
                if matches!(p.job, Job::Submit)
                    && let Some(o) = order
                {
                    let r = reports::from_error(
                        ReportSource::Reply(RequestKind::Submit),
                        o.instrument.symbol,
                        o.client_id,
                        -1102,
                        &why,
                        mono_ns(),
                    );
                    self.apply(&r, 0);
                    self.counters.count_rejection(-1102);
                }
            }
        }
    }

    fn schedule_retry(&mut self, mut p: Pending, at_least: Option<Duration>) -> bool {
        p.attempt += 1;
        let Some(d) = self.backoff.delay(p.attempt, &mut self.jitter) else {
            return false;
        };
        let d = at_least.map_or(d, |a| a.max(d));
        self.counters.retries += 1;
        self.retries
            .push((mono_ns().saturating_add(d.as_nanos() as u64), p));
        true
    }

    /// Runs `p` again at engine time `due_ns`.
    pub(super) fn push_due(&mut self, due_ns: u64, p: Pending) {
        self.retries.push((due_ns, p));
    }

    fn fire_due_retries(&mut self, now: u64) {
        let mut i = 0;
        while i < self.retries.len() {
            if self.retries.get(i).is_some_and(|(due, _)| *due <= now) {
                let (_, p) = self.retries.swap_remove(i);
                self.send_job(p);
            } else {
                i += 1;
            }
        }
    }

    // ---------------------------------------------------------------- network

    fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::RestDone {
                tag,
                outcome,
                t_write_ns,
                t_read_ns,
            } => {
                self.check_rest_outcome(&outcome);
                let Some(p) = self.pending.remove(&tag) else {
                    if let RestOutcome::Response { body, .. } = outcome {
                        self.net.bufs.put(body);
                    }
                    return;
                };
                let t_write = self.to_engine(t_write_ns);
                let t_read = self.to_engine(t_read_ns);
                if matches!(p.job, Job::Submit) && t_write != 0 && p.attempt == 0 {
                    self.lat
                        .record_between(LatencyPath::StrategyToWire, p.t_call_ns, t_write);
                }
                if let Job::Recon(c) = p.job {
                    match &outcome {
                        RestOutcome::NotSent(f) => {
                            return self.on_recon_lost(c, p, &f.to_string());
                        }
                        RestOutcome::Unknown(f) => {
                            return self.on_recon_lost(c, p, &f.to_string());
                        }
                        RestOutcome::Response { .. } => {}
                    }
                }
                match outcome {
                    RestOutcome::Response {
                        status,
                        limits,
                        body,
                    } => {
                        self.watch_limits(&limits);
                        self.on_reply(p, status, limits.retry_after_s, body.as_bytes(), t_read);
                        self.net.bufs.put(body);
                    }
                    RestOutcome::NotSent(f) => {
                        self.note(format!("{}: not sent ({f}); retrying", p.client_id));
                        if !self.schedule_retry(p, None) {
                            self.give_up(p, &f.to_string(), t_read);
                        }
                    }
                    RestOutcome::Unknown(f) => {
                        self.note(format!("{}: fate unknown ({f})", p.client_id));
                        self.unknown(p, 0, t_read);
                    }
                }
            }
            NetEvent::UserFrame { buf, t_read_ns } => {
                self.to_strategy.frame_taken(mono_ns());
                let t = self.to_engine(t_read_ns);
                if !self.recon_hold_user_frame(buf.as_bytes(), t) {
                    self.on_user_bytes(buf.as_bytes(), t);
                }
                self.net.bufs.put(buf);
            }
            NetEvent::MarketFrame { buf, t_read_ns } => {
                let t = self.to_engine(t_read_ns);
                match decode_market(buf.as_bytes()) {
                    Ok(e) => self.on_market(e, t),
                    Err(e) => self.bad_input(BadKind::StreamFrame, || {
                        format!("undecodable market frame: {e}")
                    }),
                }
                self.net.bufs.put(buf);
            }
            NetEvent::WsApiFrame { buf, t_read_ns } => self.on_ws_frame(buf, t_read_ns),
            NetEvent::WsApiWritten { tag, outcome } => self.on_ws_written(tag, outcome),
            NetEvent::StreamUp(k) => {
                if let Some(m) = &mut self.metrics {
                    m.stream_up(k);
                }
                if k == StreamKind::WsApi {
                    self.on_ws_link(true);
                }
                if self.streams_down & stream_bit(k) != 0 {
                    self.counters.reconnects += 1;
                    self.streams_down &= !stream_bit(k);
                    self.note(format!("{k:?} stream back up"));
                }
                if k == StreamKind::User {
                    self.recon_on_user_up();
                }
            }
            NetEvent::StreamDown(k, f) => {
                if k == StreamKind::WsApi {
                    self.on_ws_link(false);
                }
                if !self.stop.load(Ordering::Relaxed) {
                    if let Some(m) = &mut self.metrics {
                        m.stream_down(k);
                    }
                    self.streams_down |= stream_bit(k);
                    if k == StreamKind::User {
                        self.recon_on_user_down();
                    }
                    self.note(format!("{k:?} stream down: {f}"));
                }
                if crate::engine::exec::bad_input::is_oversized(&f) {
                    self.bad_input(BadKind::Oversized, || {
                        format!("{k:?} message over the size limit; reconnecting ({f})")
                    });
                }
            }
            NetEvent::Rejected(f) => self.note(format!("network thread refused a command: {f}")),
            NetEvent::Stopped => {}
        }
    }

    /// Corrects the local limiter with the venue's own counters (other
    /// processes may share the IP or account; the venue's count is the truth).
    fn watch_limits(&mut self, l: &crate::net::http::RateLimits) {
        let now = self.ts_ms();
        let mut buf = [0u8; 20];
        for (name, v) in [
            ("x-mbx-used-weight-1m", l.used_weight_1m),
            ("x-mbx-order-count-10s", l.order_count_10s),
            ("x-mbx-order-count-1m", l.order_count_1m),
        ] {
            let Some(v) = v.and_then(|v| u64::try_from(v).ok()) else {
                continue;
            };
            let digits = crate::binance::query::format_u64(v, &mut buf);
            if let Some(w) = self.limiter.on_header(name, digits, now) {
                self.log_warning(w);
            }
        }
    }

    /// Gives a command's buffers back to the pool when it is not sent.
    fn recycle(&self, cmd: NetCommand) {
        if let NetCommand::Rest { target, body, .. } = cmd {
            self.net.bufs.put(target);
            if let Some(b) = body {
                self.net.bufs.put(b);
            }
        }
    }

    fn log_warning(&mut self, w: RateWarning) {
        if self.config.warn_rate_limits {
            self.note(format!(
                "rate limit warning: {} {}/{} in a {} ms window",
                w.kind.as_str(),
                w.used,
                w.limit,
                w.window_ms
            ));
        }
    }

    fn on_reply(&mut self, p: Pending, status: u16, retry_after: Option<u64>, body: &[u8], t: u64) {
        let kind = match p.job {
            Job::Submit => RequestKind::Submit,
            Job::Cancel => RequestKind::Cancel,
            Job::Modify { .. } => RequestKind::Modify,
            Job::Query => {
                self.on_query_reply(p, status, body, t);
                return;
            }
            Job::Recon(c) => {
                self.on_recon_reply(c, p, status, retry_after, body, t);
                return;
            }
            Job::Time => {
                if let Ok(st) = decode::<crate::binance::rest::ServerTime>(body) {
                    // Offset from the round trip's midpoint (sent at the wall
                    // time kept in `t_call_ns`).
                    let sent = i64::try_from(p.t_call_ns).unwrap_or(0);
                    let now = wall_ns();
                    let mid_ms = (sent + (now - sent) / 2) / 1_000_000;
                    self.offset_ms = st.server_time - mid_ms;
                    self.note(format!("clock resynced: offset {} ms", self.offset_ms));
                }
                return;
            }
            Job::NewKey => {
                match decode::<crate::binance::rest::ListenKey>(body) {
                    Ok(k) if (200..300).contains(&status) => self.recon_on_new_key(k.listen_key),
                    _ => {
                        let e = VenueError::from_response(status, body);
                        self.note(format!("new listenKey refused: {e}"));
                        self.recon_new_key_failed();
                    }
                }
                return;
            }
            Job::Keepalive if !(200..300).contains(&status) => {
                let e = VenueError::from_response(status, body);
                // Only -1125 says the key is gone. A 5xx or a rate limit says
                // nothing about it (it stays valid for 60 min): asking again
                // is cheaper than a new key and the reconciliation after it.
                if e.code != -1125 && p.attempt < KEEPALIVE_RETRIES {
                    let delay_ms = if status == 429 || status == 418 {
                        let now = self.ts_ms();
                        let until = self.limiter.on_429(retry_after, now);
                        u64::try_from(until - now).unwrap_or(0).max(500)
                    } else {
                        500u64 << p.attempt.min(4)
                    };
                    self.note(format!(
                        "listenKey keepalive failed: {e}; asking again in {delay_ms} ms"
                    ));
                    let mut again = p;
                    again.attempt += 1;
                    self.push_due(mono_ns().saturating_add(delay_ms * 1_000_000), again);
                    return;
                }
                self.recon_renew_key(&format!("listenKey keepalive failed: {e}"));
                return;
            }
            Job::CancelAll | Job::Heartbeat { .. } | Job::Keepalive | Job::DeleteKey => {
                if !(200..300).contains(&status) {
                    let e = VenueError::from_response(status, body);
                    self.note(format!("{:?} on {}: {e}", p.job, p.instrument));
                }
                return;
            }
        };
        if (200..300).contains(&status) {
            self.on_order_ok(p, kind, body, t);
            return;
        }
        let err = VenueError::from_response(status, body);
        self.on_order_error(p, kind, err, retry_after, t);
    }

    /// A 2xx reply to an order write (REST body or WS-API `result`).
    fn on_order_ok(&mut self, p: Pending, kind: RequestKind, body: &[u8], t: u64) {
        {
            self.limiter.on_ok();
            let r = if p.algo && kind == RequestKind::Cancel {
                // The algo cancel ack is `{algoId, clientAlgoId, code, msg}`,
                // not an algo order: it says the order is cancelled.
                decode::<crate::binance::rest::CancelAlgoResponse>(body).map(|c| {
                    let mut r = Report::new(
                        ReportSource::Reply(kind),
                        p.instrument.symbol,
                        p.client_id,
                        t,
                    );
                    r.algo_id = c.algo_id;
                    r.algo_status = Some(crate::model::AlgoStatus::Canceled);
                    r
                })
            } else if p.algo {
                decode::<AlgoOrderResponse>(body)
                    .map(|a| reports::from_algo_response(&a, ReportSource::Reply(kind), t))
            } else {
                decode::<OrderResponse>(body)
                    .map(|o| reports::from_order_response(&o, ReportSource::Reply(kind), t))
            };
            match r {
                Ok(r) => self.apply(&r, t),
                Err(e) => {
                    // A 2xx we cannot read: the request executed in some way we
                    // cannot see. Resolve by query.
                    let id = p.client_id;
                    self.bad_input(BadKind::OrderReply, || {
                        format!("{id}: unreadable reply ({e})")
                    });
                    self.unknown(p, 0, t);
                }
            }
        }
    }

    /// An error reply to an order write, from either transport: one
    /// decision point ([`classify`]) for every FR-004 reaction.
    fn on_order_error(
        &mut self,
        p: Pending,
        kind: RequestKind,
        err: VenueError,
        retry_after: Option<u64>,
        t: u64,
    ) {
        let reaction = classify(err.http_status, err.code(), &err.msg);
        if kind == RequestKind::Cancel && (err.code == -2011 || err.code == -2013) {
            // "Unknown order" on a cancel may mean filled, already closed or
            // not placed yet: ask the venue (recovering any fills) instead of
            // calling it cancelled or refused.
            self.note(format!(
                "{}: cancel answered {err}; re-querying",
                p.client_id
            ));
            let algo = self
                .tracker
                .find(&p.client_id)
                .and_then(|h| self.tracker.get(h).ok())
                .is_some_and(|o| o.is_conditional());
            self.recon_check_order(p.client_id, p.instrument, algo, true);
            return;
        }
        let code = err.code;
        match reaction {
            Reaction::RateLimited | Reaction::BackOff | Reaction::Banned => {
                self.counters.rate_limit_backoffs += 1;
                let now = self.ts_ms();
                let until = if reaction == Reaction::Banned {
                    self.limiter.on_418(Some(&err.msg), retry_after, now)
                } else {
                    self.limiter.on_429(retry_after, now)
                };
                let wait = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
                self.note(format!("{}: {err}; backing off {wait:?}", p.client_id));
                if !self.schedule_retry(p, Some(wait)) {
                    self.reject_reply(p, kind, code, &err.msg, t);
                }
            }
            Reaction::Retry => {
                self.note(format!("{}: {err}; retrying", p.client_id));
                if !self.schedule_retry(p, None) {
                    self.reject_reply(p, kind, code, &err.msg, t);
                }
            }
            Reaction::ResyncClock if !p.resynced => {
                self.note(format!("{}: {err}; resyncing clock", p.client_id));
                self.send_job(time_job());
                let mut q = p;
                q.resynced = true;
                self.schedule_retry(q, Some(Duration::from_millis(200)));
            }
            Reaction::ResolveUnknown => {
                self.note(format!("{}: {err}; fate unknown", p.client_id));
                self.unknown(p, i32::try_from(code).unwrap_or(0), t);
            }
            // A resubmission (same client id) hit the first attempt, which
            // did land after all: query it and adopt what the venue has.
            Reaction::Reconcile if kind == RequestKind::Submit && code == -4116 => {
                self.note(format!("{}: {err}; adopting the live order", p.client_id));
                self.unknown(p, -4116, t);
            }
            Reaction::SkipOrder => {
                self.counters.skipped_insufficient_margin += 1;
                self.note(format!("{}: skipped, {err}", p.client_id));
                self.reject_reply(p, kind, code, &err.msg, t);
            }
            _ => {
                self.note(format!("{}: {err}", p.client_id));
                self.reject_reply(p, kind, code, &err.msg, t);
            }
        }
    }

    fn reject_reply(&mut self, p: Pending, kind: RequestKind, code: i64, msg: &str, t: u64) {
        if crate::engine::report::is_outcome_unknown(i32::try_from(code).unwrap_or(0)) {
            // The tracker reads these codes as "may exist": never leave such
            // an order without the query that settles it.
            self.unknown(p, i32::try_from(code).unwrap_or(0), t);
            return;
        }
        if kind == RequestKind::Submit {
            self.counters.count_rejection(code);
        }
        let r = reports::from_error(
            ReportSource::Reply(kind),
            p.instrument.symbol,
            p.client_id,
            code,
            msg,
            t,
        );
        self.apply(&r, t);
    }

    fn give_up(&mut self, p: Pending, why: &str, t: u64) {
        let kind = match p.job {
            Job::Submit => RequestKind::Submit,
            Job::Cancel => RequestKind::Cancel,
            Job::Modify { .. } => RequestKind::Modify,
            _ => return,
        };
        // Never sent, retries exhausted: certainly not placed.
        self.reject_reply(p, kind, -1001, why, t);
    }

    /// The request may have executed: mark the order Unknown and ask the venue
    /// by client id. Never resubmit.
    fn unknown(&mut self, p: Pending, code: i32, t: u64) {
        let kind = match p.job {
            Job::Submit => RequestKind::Submit,
            Job::Cancel => RequestKind::Cancel,
            Job::Modify { .. } => RequestKind::Modify,
            Job::Query => {
                let _ = self.schedule_retry(p, None);
                return;
            }
            _ => return,
        };
        if !self.unknown_ids.contains(&p.client_id) {
            self.unknown_ids.push(p.client_id);
        }
        if kind == RequestKind::Submit {
            self.start_settle(p.client_id);
        }
        let mut r = Report::new(
            ReportSource::NoReply(kind),
            p.instrument.symbol,
            p.client_id,
            t,
        );
        r.error_code = code;
        self.apply(&r, t);
        self.send_job(Pending {
            job: Job::Query,
            attempt: 0,
            ..p
        });
    }

    fn on_query_reply(&mut self, p: Pending, status: u16, body: &[u8], t: u64) {
        let was_unknown = self
            .tracker
            .find(&p.client_id)
            .and_then(|h| self.tracker.get(h).ok())
            .is_some_and(|o| o.state == OrderState::Unknown);
        if !(200..300).contains(&status) && self.not_found_while_unknown(p, status, body) {
            return;
        }
        let r = if (200..300).contains(&status) {
            let r = if p.algo {
                decode::<AlgoOrderResponse>(body)
                    .ok()
                    .map(|a| reports::from_algo_response(&a, ReportSource::Query, t))
            } else {
                decode::<OrderResponse>(body)
                    .ok()
                    .map(|o| reports::from_order_response(&o, ReportSource::Query, t))
            };
            if r.is_none() {
                let id = p.client_id;
                self.bad_input(BadKind::RestResponse, || {
                    format!("{id}: order query reply unreadable; asking again")
                });
            }
            r
        } else {
            let e = VenueError::from_response(status, body);
            if e.code == -2013 || e.code == -2011 || e.code == -2026 {
                Some(reports::from_error(
                    ReportSource::Query,
                    p.instrument.symbol,
                    p.client_id,
                    -2013,
                    &e.msg,
                    t,
                ))
            } else {
                None
            }
        };
        let missed_fills = r.as_ref().is_some_and(|r| {
            r.error_code == 0
                && self
                    .tracker
                    .lookup_report(r)
                    .and_then(|h| self.tracker.get(h).ok())
                    .is_some_and(|o| r.cum_qty.is_some_and(|c| c.raw() > o.filled_qty.raw()))
        });
        if missed_fills {
            // The venue filled more than we booked: recover the individual
            // fills (positions need them) before applying its state.
            self.recon_check_order(p.client_id, p.instrument, p.algo, false);
            return;
        }
        match r {
            Some(r) => {
                self.apply(&r, t);
                if was_unknown {
                    self.note(format!("{}: unknown fate resolved by query", p.client_id));
                }
            }
            None => {
                if !self.schedule_retry(p, None) {
                    self.note(format!("{}: could not resolve by query", p.client_id));
                }
            }
        }
    }

    /// Decodes and handles one user-stream frame.
    pub(super) fn on_user_bytes(&mut self, bytes: &[u8], t: u64) {
        // ACCOUNT_UPDATE is decoded into the one preallocated slot.
        match decode_user_event_reusing(bytes, &mut self.recon.account) {
            Ok(Some(e)) => self.on_user(e, t),
            Ok(None) => self.on_account_update(),
            Err(e) => {
                self.bad_input(BadKind::StreamFrame, || {
                    format!("undecodable user frame: {e}; reconciling")
                });
                // A key's death must not be missed over a field's format.
                if reconcile::is_listen_key_expired(bytes) {
                    self.recon_renew_key("listenKey expired (undecodable notice)");
                } else {
                    // It may have been an order update or a fill: ask the
                    // venue rather than wait for the next sweep.
                    self.recon_start(reconcile::ReconcileReason::Sweep);
                }
            }
        }
    }

    fn on_user(&mut self, e: UserEvent, t: u64) {
        match e {
            UserEvent::OrderTradeUpdate(u) => {
                let r = reports::from_order_update(&u, t);
                if r.trade_id != 0 {
                    self.positions.note_stream_trade(r.symbol, r.trade_id);
                }
                self.apply(&r, t);
                if crate::engine::exec::bad_input::has_unknown_enum(&u) {
                    // The tracker kept the order's state (it never guesses
                    // an unknown status); the venue's query says what it is.
                    let id = u.client_order_id;
                    self.bad_input(BadKind::UnknownEnum, || {
                        format!(
                            "{id}: order update with status {:?} / execution type {:?}; querying",
                            u.status, u.execution_type
                        )
                    });
                    let inst = crate::model::ids::InstrumentId::perp(u.symbol);
                    if self.tracker.find(&id).is_some() {
                        self.recon_check_order(id, inst, false, false);
                    }
                }
            }
            UserEvent::TradeLite(tl) => {
                let r = reports::from_trade_lite(&tl, t);
                if r.trade_id != 0 {
                    self.positions.note_stream_trade(r.symbol, r.trade_id);
                }
                self.apply(&r, t);
            }
            UserEvent::AlgoUpdate(a) => {
                let r = reports::from_algo_update(&a, t);
                self.apply(&r, t);
                self.check_algo_update_status(&a);
            }
            UserEvent::AccountUpdate(a) => {
                self.recon.account = a;
                self.on_account_update();
            }
            UserEvent::ListenKeyExpired(_) => self.recon_renew_key("listenKey expired"),
            UserEvent::Unknown { event_type } => self.bad_input(BadKind::UnknownEvent, || {
                format!(
                    "user event of unknown type {:?} skipped",
                    event_type.as_str()
                )
            }),
            _ => {}
        }
    }

    fn on_market(&mut self, e: MarketEvent, t: u64) {
        match e {
            MarketEvent::BookTicker(b) => {
                let Some(inst) = self.instruments.by_symbol(b.symbol.as_str()) else {
                    return;
                };
                let bt = BookTicker {
                    instrument: inst.id,
                    bid_price: b.bid_price,
                    bid_qty: b.bid_qty,
                    ask_price: b.ask_price,
                    ask_qty: b.ask_qty,
                    update_id: u64::try_from(b.update_id).unwrap_or(0),
                    ts_venue_ms: b.transaction_time,
                    ts_recv_ns: t,
                };
                self.send_strategy(ToStrategy::Book(bt));
            }
            MarketEvent::AggTrade(a) => {
                let Some(inst) = self.instruments.by_symbol(a.symbol.as_str()) else {
                    return;
                };
                let tr = Trade {
                    instrument: inst.id,
                    price: a.price,
                    quantity: a.qty,
                    aggressor: if a.buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    trade_id: a.agg_id,
                    ts_venue_ms: a.trade_time,
                    ts_recv_ns: t,
                };
                self.send_strategy(ToStrategy::Trade(tr));
            }
            MarketEvent::Unknown { event_type } if !event_type.as_str().is_empty() => {
                self.bad_input(BadKind::UnknownEvent, || {
                    format!(
                        "market event of unknown type {:?} skipped",
                        event_type.as_str()
                    )
                });
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- events

    pub(crate) fn apply(&mut self, r: &Report, t_read: u64) {
        let mut buf = EvBuf::default();
        match self.tracker.apply(r, &mut |h, e| buf.push(h, e)) {
            Ok(_) => self.deliver(buf, t_read),
            Err(e) => self.note(format!("report for {} not applied: {e}", r.client_id)),
        }
    }

    /// Books the events (counters, positions) and hands them to the strategy.
    fn deliver(&mut self, buf: EvBuf, t_read: u64) {
        for (h, ev) in buf.iter() {
            let mut st = EventStamps {
                read_ns: t_read,
                ..EventStamps::default()
            };
            let order = h.and_then(|h| self.tracker.get(h).ok().copied());
            if let Some(m) = &self.metrics {
                m.on_event(ev, order.as_ref());
            }
            if let Some(j) = &mut self.journal
                && let Some(e) = j.event(ev, order.as_ref())
            {
                self.note(format!(
                    "journal write failed (further failures counted): {e}"
                ));
            }
            if let Some(o) = order
                && o.state != OrderState::Unknown
                && let Some(i) = self.unknown_ids.iter().position(|c| *c == o.client_id)
            {
                self.unknown_ids.swap_remove(i);
                self.counters.unknown_resolved += 1;
            }
            match &ev.kind {
                OrderEventKind::Accepted => {
                    self.counters.acked += 1;
                    st.submit_call_ns = order.map_or(0, |o| o.ts_submitted_ns);
                }
                OrderEventKind::Filled(f) | OrderEventKind::ExternalFill(f) => {
                    if matches!(ev.kind, OrderEventKind::Filled(_)) {
                        if order.is_some_and(|o| o.state == OrderState::Filled) {
                            self.counters.filled += 1;
                        } else {
                            self.counters.partially_filled += 1;
                        }
                    } else {
                        self.note(format!(
                            "external fill {} {:?} {} @ {} ({:?})",
                            f.client_id, f.side, f.quantity, f.price, f.kind
                        ));
                    }
                    if f.ts_venue_ms > 0 {
                        st.fill_wall_ns = (f.ts_venue_ms - self.offset_ms) * 1_000_000;
                    }
                    if f.recovered {
                        self.recon_positions_check(f.ts_venue_ms);
                    }
                    if self.positions.covers(f) {
                        // Recovered late, or released from a reconciliation's
                        // hold after a positionRisk read: the venue's position
                        // snapshot since then already holds it; booking it
                        // again would count it twice.
                        self.note(format!(
                            "{} fill trade {} already in the venue's position snapshot",
                            if f.recovered { "recovered" } else { "stream" },
                            f.trade_id
                        ));
                    } else if let Ok(pe) = self.positions.apply_fill(f) {
                        self.send_strategy(ToStrategy::Order(*ev, st));
                        self.send_strategy(ToStrategy::Position(pe));
                        continue;
                    }
                }
                OrderEventKind::Canceled => self.counters.canceled += 1,
                OrderEventKind::Expired { .. } => self.counters.expired += 1,
                OrderEventKind::Rejected { code, reason } => {
                    self.note(format!(
                        "{} rejected {code}: {}",
                        ev.client_id,
                        reason.as_str()
                    ));
                }
                OrderEventKind::Resolved { state, .. } => match state {
                    OrderState::Filled => self.counters.filled += 1,
                    OrderState::Canceled => self.counters.canceled += 1,
                    OrderState::Expired => self.counters.expired += 1,
                    _ => {}
                },
                _ => {}
            }
            self.send_strategy(ToStrategy::Order(*ev, st));
        }
    }

    /// Hands an event to the strategy without ever blocking or dropping it:
    /// behind a stalled strategy it waits in the outbox's backlog, in order.
    pub(crate) fn send_strategy(&mut self, m: ToStrategy) {
        if self.strategy_gone {
            return;
        }
        let before = self.to_strategy.high_water();
        self.to_strategy.send(m);
        if before == 0 && self.to_strategy.high_water() > 0 {
            self.note("strategy thread behind: events queue on the execution thread".into());
        }
    }

    // ---------------------------------------------------------------- dead-man switch

    /// Arms `countdownCancelAll` on every loaded symbol (when configured) and
    /// returns when to re-arm: a third of the countdown, so two heartbeats
    /// may be lost before the venue cancels.
    fn dead_man_arm(&mut self) -> Option<u64> {
        let secs = self.config.engine.dead_man_switch_secs;
        if secs == 0 {
            return None;
        }
        let ms = u32::try_from(secs.saturating_mul(1000)).unwrap_or(u32::MAX);
        self.dead_man_send(ms);
        Some(mono_ns().saturating_add(secs.saturating_mul(1_000_000_000) / 3))
    }

    /// After a cancel-all, waits (bounded) for the venue's events so every
    /// order's end is booked (and journaled) before the user stream closes;
    /// what is still open after that is queried by client id until the
    /// venue's word is booked. The queries are paced by the reconciliation
    /// budget, so the wait scales with the number of open orders (dozens of
    /// conditional orders need seconds), and a pass already running (a
    /// reconnect's) is waited for with the sweep queued behind it. Whatever
    /// the last pass learned and the events it held back are applied before
    /// returning: an order the venue closed must not stay open in the
    /// journal because the engine exited first.
    fn settle_before_exit(&mut self, next_keepalive: &mut u64) {
        let open_count = |x: &Self| {
            x.tracker
                .orders()
                .filter(|(_, o)| {
                    o.state.is_open() && !x.foreign_symbols.contains(&o.instrument.symbol)
                })
                .count()
        };
        let until = mono_ns() + 2_000_000_000;
        while open_count(self) > 0 && mono_ns() < until {
            self.keep_key_alive(next_keepalive);
            self.pump(Duration::from_millis(5));
        }
        let n = open_count(self);
        if n > 0 {
            self.recon_start(reconcile::ReconcileReason::Sweep);
            let until = mono_ns() + reconcile::settle_window_ns(n);
            // A pass that ends with orders still open (it listed them before
            // the cancel-all took) is followed by one more sweep, at most
            // this many times.
            let mut sweeps_left = 2u32;
            while open_count(self) > 0 && mono_ns() < until {
                if !self.recon.active() {
                    if sweeps_left == 0 {
                        break;
                    }
                    sweeps_left -= 1;
                    self.recon_start(reconcile::ReconcileReason::Sweep);
                }
                self.keep_key_alive(next_keepalive);
                self.fire_due_retries(mono_ns());
                self.recon_tick(mono_ns());
                self.pump(Duration::from_millis(5));
            }
        }
        self.recon_conclude_for_exit();
    }

    /// Disarms the switch (countdown 0) on a clean shutdown.
    fn dead_man_disarm(&mut self) {
        if self.config.engine.dead_man_switch_secs > 0 {
            self.dead_man_send(0);
        }
    }

    fn dead_man_send(&mut self, countdown_ms: u32) {
        let ids: Vec<InstrumentId> = self
            .instruments
            .instruments()
            .iter()
            .map(|i| i.id)
            .collect();
        for instrument in ids {
            self.send_job(Pending {
                instrument,
                ..idle(Job::Heartbeat { countdown_ms })
            });
        }
    }

    // ---------------------------------------------------------------- shutdown

    /// A reconciliation running when the engine stops holds user-stream
    /// events back (and may still be asking who owns a recovered trade):
    /// after `Stop` they would be booked and journaled but never seen by the
    /// strategy (the fault soak lost an ADL fill that way). The pass gets a
    /// bounded time to finish; then whatever it still holds goes to the
    /// strategy now, out of trade-id order if need be, and nothing is held
    /// from here on. The pass itself is not cut short: it keeps running
    /// into the shutdown settlement, which needs its fills for the journal
    /// (concluding it here left filled orders open in the crash soak).
    fn deliver_before_stop(&mut self, next_keepalive: &mut u64) {
        let busy = |x: &Self| {
            x.recon.active()
                || x.recon.buffering()
                || !x.recon.venue_fills.is_idle()
                || x.recon_account_busy()
        };
        let until = mono_ns().saturating_add(RECON_BEFORE_STOP_NS);
        while busy(self) && mono_ns() < until {
            self.keep_key_alive(next_keepalive);
            self.fire_due_retries(mono_ns());
            self.recon_tick(mono_ns());
            self.pump(Duration::from_millis(5));
        }
        self.recon.shutting_down = true;
        if self.recon.buffering() {
            self.note(
                "shutting down: events held by the running reconciliation delivered now".into(),
            );
            self.recon_release_early();
        }
        self.venue_fills_flush();
    }

    fn shutdown(mut self, mut next_keepalive: u64) -> Result<EngineSummary, EngineError> {
        self.note("shutting down".into());
        self.deliver_before_stop(&mut next_keepalive);
        // Stop goes behind every queued event, so the strategy sees them all.
        self.to_strategy.send(ToStrategy::Stop);
        // Keep serving the strategy's on_stop commands until it reports back.
        let mut strat_lat: Option<Box<LatencyRecorder>> = None;
        let until = mono_ns() + 5_000_000_000;
        while strat_lat.is_none() && mono_ns() < until {
            self.to_strategy.flush();
            match self.from_strategy.recv_timeout(Duration::from_millis(5)) {
                Ok(FromStrategy::Command(c, t)) => self.on_command(c, t),
                Ok(FromStrategy::Stopped(l)) => {
                    strat_lat = Some(l);
                    // Nobody reads events any more: don't block on them.
                    self.strategy_gone = true;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                Err(_) => {}
            }
            while let Ok(ev) = self.net.events.try_recv() {
                self.on_net(ev);
            }
            self.keep_key_alive(&mut next_keepalive);
        }
        if self.config.engine.cancel_all_on_shutdown {
            let ids: Vec<InstrumentId> = self
                .instruments
                .instruments()
                .iter()
                .map(|i| i.id)
                .collect();
            for id in ids {
                if self.foreign_symbols.contains(&id.symbol) {
                    // Orders we do not own live here: cancel ours one by one.
                    let ours: Vec<ClientOrderId> = self
                        .tracker
                        .orders()
                        .filter(|(_, o)| o.instrument == id && o.state.is_open())
                        .map(|(_, o)| o.client_id)
                        .collect();
                    for c in ours {
                        self.cancel(id, c, mono_ns());
                    }
                } else {
                    self.on_command(Command::CancelAll { instrument: id }, mono_ns());
                }
            }
        }
        self.dead_man_disarm();
        // Let in-flight requests (on_stop cancels, cancel-all) finish.
        let until = mono_ns() + 3_000_000_000;
        while !self.pending.is_empty() && mono_ns() < until {
            self.keep_key_alive(&mut next_keepalive);
            self.fire_due_retries(mono_ns());
            self.pump(Duration::from_millis(5));
        }
        self.note_route_summary();
        if self.config.engine.cancel_all_on_shutdown {
            self.settle_before_exit(&mut next_keepalive);
        }
        let _ = self.net.send(NetCommand::CloseUserStream);
        self.send_job(idle(Job::DeleteKey));
        let until = mono_ns() + 2_000_000_000;
        while !self.pending.is_empty() && mono_ns() < until {
            self.pump(Duration::from_millis(5));
        }
        let mut journal_lines = Vec::new();
        if let Some(j) = &mut self.journal {
            if let Err(e) = j.sync() {
                journal_lines.push(format!("journal sync at shutdown failed: {e}"));
            }
            if j.failures() > 0 {
                journal_lines.push(format!("journal: {} write failure(s)", j.failures()));
            }
        }
        for line in journal_lines {
            self.note(line);
        }
        let mut latency = LatencyReport::new(Budgets {
            submit_ack_ms: self.config.latency.submit_ack.as_millis() as u64,
            fill_notify_ms: self.config.latency.fill_notify.as_millis() as u64,
        });
        let _ = latency.merge(&self.lat);
        if let Some(l) = &strat_lat {
            let _ = latency.merge(l);
        }
        if let Some(dir) = &self.hgrm_dir {
            for path in [
                LatencyPath::SubmitToAck,
                LatencyPath::FillToStrategy,
                LatencyPath::StrategyToWire,
                LatencyPath::WireToStrategy,
            ] {
                let file = dir.join(format!("{}.hgrm", path.as_str()));
                if let Ok(f) = std::fs::File::create(&file) {
                    let _ = latency.write_hgrm(path, f);
                }
            }
        }
        if let Some(m) = &self.metrics {
            m.finish(
                &self.counters,
                &self.limiter,
                self.unknown_ids.len(),
                &latency,
            );
        }
        let mut orders = std::mem::take(&mut self.finished);
        orders.extend(self.tracker.orders().map(|(_, o)| *o));
        let positions = self
            .positions
            .iter()
            .map(|p| crate::model::PositionEvent {
                symbol: p.symbol,
                position_side: p.position_side,
                amount: p.amount,
                entry_price: p.entry_price(),
                realized_pnl: p.realized_pnl,
                from_snapshot: false,
                ts_venue_ms: p.ts_venue_ms,
            })
            .collect();
        let t_end_ms = mono_ns().saturating_sub(self.log_t0_ns) / 1_000_000;
        let net = self.net;
        let net_result = net.shutdown();
        let mut log = self.log;
        if let Err(e) = net_result {
            log.push(t_end_ms, format!("network thread: {e}"));
        }
        let (log, event_ms) = log.into_parts();
        self.counters.strategy_backlog_max = self.to_strategy.high_water() as u64;
        self.done.store(true, Ordering::Release);
        let _ = self.done_tx.try_send(());
        Ok(EngineSummary {
            latency,
            orders,
            positions,
            counters: self.counters,
            events: log,
            event_ms,
        })
    }
}

/// A server-time request; `t_call_ns` carries the wall-clock send time.
fn time_job() -> Pending {
    Pending {
        t_call_ns: u64::try_from(wall_ns()).unwrap_or(0),
        ..idle(Job::Time)
    }
}

/// A job that is about no order (listenKey, time, lists).
pub(super) fn idle(job: Job) -> Pending {
    Pending {
        job,
        client_id: ClientOrderId::default(),
        instrument: InstrumentId::perp(Symbol::default()),
        algo: false,
        attempt: 0,
        t_call_ns: 0,
        resynced: false,
    }
}

/// The few events one report can produce, kept on the stack.
#[derive(Default)]
struct EvBuf {
    items: [Option<(Option<OrderHandle>, OrderEvent)>; 8],
    len: usize,
}

impl EvBuf {
    fn push(&mut self, h: Option<OrderHandle>, e: OrderEvent) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some((h, e));
            self.len += 1;
        }
    }
    fn iter(&self) -> impl Iterator<Item = &(Option<OrderHandle>, OrderEvent)> {
        self.items.iter().take(self.len).flatten()
    }
}

fn new_order(o: &Order, hedge: bool) -> NewOrder {
    let limit = o.order_type == OrderType::Limit;
    NewOrder {
        symbol: o.instrument.symbol,
        side: o.side,
        order_type: o.order_type,
        time_in_force: limit.then_some(o.time_in_force),
        quantity: o.quantity,
        price: o.price,
        reduce_only: (!hedge && o.reduce_only).then_some(true),
        position_side: hedge.then_some(o.position_side),
        client_order_id: o.client_id,
        resp_type: RespType::Ack,
        good_till_date: (o.good_till_date_ms > 0).then_some(o.good_till_date_ms),
        stp: None,
        price_match: None,
    }
}

fn algo_order(o: &Order, hedge: bool) -> NewAlgoOrder {
    let has_limit = matches!(o.order_type, OrderType::Stop | OrderType::TakeProfit);
    NewAlgoOrder {
        symbol: o.instrument.symbol,
        side: o.side,
        order_type: o.order_type,
        position_side: hedge.then_some(o.position_side),
        time_in_force: has_limit.then_some(o.time_in_force),
        quantity: (!o.close_position).then_some(o.quantity),
        price: o.price,
        price_match: None,
        trigger_price: o.trigger_price,
        working_type: Some(o.working_type),
        close_position: o.close_position.then_some(true),
        price_protect: o.price_protect.then_some(true),
        reduce_only: (!hedge && o.reduce_only && !o.close_position).then_some(true),
        activate_price: o.activate_price,
        callback_rate: o.callback_rate,
        client_algo_id: o.client_id,
        resp_type: None,
        stp: None,
        good_till_date: (o.good_till_date_ms > 0).then_some(o.good_till_date_ms),
    }
}
