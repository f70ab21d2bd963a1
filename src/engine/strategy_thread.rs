//! The strategy thread: runs the user's callbacks against a [`Context`]
//! backed by channels to the execution thread.
//!
//! Why a thread of its own: a slow strategy callback must never delay the
//! execution thread's bookkeeping of fills and acks (or the network thread's
//! reads). The two talk through bounded crossbeam channels of `Copy`
//! messages, so the hot path neither locks nor allocates; the context keeps a
//! local mirror of books and positions so `ctx.book()` / `ctx.position()` are
//! plain reads.
//!
//! The latency paths that end "at the strategy" are recorded here, right
//! after the callback returns, from stamps the execution thread attached.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::clock::mono_ns;
use super::doorbell::Doorbell;
use super::positions::Position;
use super::strategy::{BookTicker, Command, CommandError, Context, OrderFactory, Strategy, Trade};
use super::wait::{Recv, Waiter};
use crate::config::ThreadSettings;
use crate::instruments::{Instrument, InstrumentProvider};
use crate::latency::{LatencyPath, LatencyRecorder, wall_ns};
use crate::model::ids::{ClientOrderId, InstrumentId, Symbol};
use crate::model::{
    Order, OrderEvent, OrderEventKind, PositionEvent, PositionSide, Price, Quantity,
};

/// Name of the strategy thread.
pub const STRATEGY_THREAD: &str = "binance-exec-strategy";

/// Latency stamps travelling with an order event, so the strategy thread can
/// close the measured paths after the callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStamps {
    /// Engine-clock time of the strategy's `submit` call for this order, set
    /// on the ack (`Accepted`) only: closes submit→ack.
    pub submit_call_ns: u64,
    /// Engine-clock time the venue bytes carrying this event were read, 0 for
    /// local events: closes wire→strategy.
    pub read_ns: u64,
    /// The fill's venue transaction time converted to local wall-clock ns
    /// (venue clock offset removed), set on fills: closes fill→strategy.
    pub fill_wall_ns: i64,
    /// Engine-clock time the execution thread took the venue frame from the
    /// network thread (0 when not from a stream frame): splits wire→strategy
    /// into the network→execution hop and the execution thread's own work.
    pub exec_in_ns: u64,
    /// Engine-clock time the execution thread handed the event to the
    /// strategy channel (or its backlog): the start of the last hop.
    pub handoff_ns: u64,
}

/// What the strategy thread knew about the order event whose callback is
/// running: its stamps and when the strategy thread took it off the channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackStamps {
    /// The event's stamps.
    pub event: EventStamps,
    /// Engine-clock time the strategy thread received the event.
    pub received_ns: u64,
}

const NO_STAMPS: CallbackStamps = CallbackStamps {
    event: EventStamps {
        submit_call_ns: 0,
        read_ns: 0,
        fill_wall_ns: 0,
        exec_in_ns: 0,
        handoff_ns: 0,
    },
    received_ns: 0,
};

thread_local! {
    static CURRENT: std::cell::Cell<CallbackStamps> =
        const { std::cell::Cell::new(NO_STAMPS) };
}

/// The stamps of the order event being delivered, callable from inside
/// [`Strategy::on_order_event`](super::Strategy::on_order_event).
///
/// Why: a benchmark strategy can break an event's latency into its hops
/// (read, execution thread, hand-off, strategy wake-up) without the
/// `Strategy` trait carrying diagnostics every strategy would ignore. Outside
/// a callback (or on another thread) it returns the last event's stamps or
/// zeros.
pub fn current_callback_stamps() -> CallbackStamps {
    CURRENT.with(std::cell::Cell::get)
}

/// What the execution thread sends the strategy thread.
#[allow(clippy::large_enum_variant)] // Copy messages by value; boxing would allocate per event.
#[derive(Debug, Clone, Copy)]
pub enum ToStrategy {
    /// An event of one of our orders (or an external fill).
    Order(OrderEvent, EventStamps),
    /// A position changed.
    Position(PositionEvent),
    /// Best bid/ask update; `read_ns` closes wire→strategy.
    Book(BookTicker),
    /// A public trade.
    Trade(Trade),
    /// Run `on_stop`, answer with [`FromStrategy::Stopped`] and exit.
    Stop,
}

/// What the strategy thread sends the execution thread.
#[allow(clippy::large_enum_variant)] // see ToStrategy
#[derive(Debug)]
pub enum FromStrategy {
    /// A command and the engine-clock time of the call that issued it.
    Command(Command, u64),
    /// The strategy thread has run `on_stop` and is exiting; its latency
    /// samples travel back for the summary.
    Stopped(Box<LatencyRecorder>),
}

/// Everything the strategy thread owns.
pub struct StrategyWiring {
    /// Events in.
    pub events: Receiver<ToStrategy>,
    /// Rung by the execution thread after each event it sends (its
    /// [`StrategyOutbox::bell`]); an idle strategy thread parks on it.
    pub events_bell: Doorbell,
    /// Commands out.
    pub commands: Sender<FromStrategy>,
    /// Wakes the execution thread after each command (its
    /// [`crate::engine::net_thread::NetHandle::events_bell`]).
    pub commands_bell: Doorbell,
    /// Set by `request_stop` (and by the operator): the execution thread
    /// watches it and starts the shutdown.
    pub stop: Arc<AtomicBool>,
    /// The loaded instruments (read-only copy).
    pub instruments: InstrumentProvider,
    /// The order factory (client ids of this session).
    pub orders: OrderFactory,
    /// `Strategy::on_timer` period.
    pub timer_interval: Option<Duration>,
    /// Placement and waiting.
    pub thread: ThreadSettings,
    /// Known positions at start (from the venue).
    pub positions: Vec<PositionEvent>,
    /// Hands latency histogram copies to the `/metrics` thread at the
    /// periodic wake-up (`None` when metrics are off).
    pub latency_tap: Option<crate::metrics::LatencyTap>,
}

/// The [`Context`] the strategy sees.
pub struct ChannelContext {
    commands: Sender<FromStrategy>,
    commands_bell: Doorbell,
    stop: Arc<AtomicBool>,
    instruments: InstrumentProvider,
    orders: OrderFactory,
    books: Vec<BookTicker>,
    positions: Vec<Position>,
}

impl ChannelContext {
    fn send(&self, cmd: Command) -> Result<(), CommandError> {
        match self
            .commands
            .try_send(FromStrategy::Command(cmd, mono_ns()))
        {
            Ok(()) => {
                self.commands_bell.ring();
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(CommandError::QueueFull),
            Err(TrySendError::Disconnected(_)) => Err(CommandError::Disconnected),
        }
    }

    fn set_book(&mut self, t: BookTicker) {
        match self.books.iter_mut().find(|b| b.instrument == t.instrument) {
            Some(b) => {
                // Stale tickers (older update id) must not overwrite a newer book.
                if t.update_id >= b.update_id {
                    *b = t;
                }
            }
            None => self.books.push(t),
        }
    }

    fn set_position(&mut self, e: &PositionEvent) {
        let cost = (e.amount.raw().unsigned_abs() as i128) * i128::from(e.entry_price.raw());
        let p = Position {
            symbol: e.symbol,
            position_side: e.position_side,
            amount: e.amount,
            cost,
            realized_pnl: e.realized_pnl,
            ts_venue_ms: e.ts_venue_ms,
        };
        match self
            .positions
            .iter_mut()
            .find(|q| q.symbol == e.symbol && q.position_side == e.position_side)
        {
            Some(q) => *q = p,
            None => self.positions.push(p),
        }
    }
}

impl Context for ChannelContext {
    type Instrument = Instrument;

    fn submit(&mut self, order: Order) -> Result<ClientOrderId, CommandError> {
        order.validate()?;
        let id = order.client_id;
        self.send(Command::Submit(order))?;
        Ok(id)
    }

    fn cancel(
        &mut self,
        instrument: InstrumentId,
        client_id: ClientOrderId,
    ) -> Result<(), CommandError> {
        self.send(Command::Cancel {
            instrument,
            client_id,
        })
    }

    fn modify(
        &mut self,
        instrument: InstrumentId,
        client_id: ClientOrderId,
        price: Price,
        quantity: Quantity,
    ) -> Result<(), CommandError> {
        self.send(Command::Modify {
            instrument,
            client_id,
            price,
            quantity,
        })
    }

    fn cancel_all(&mut self, instrument: InstrumentId) -> Result<(), CommandError> {
        self.send(Command::CancelAll { instrument })
    }

    fn position(&self, symbol: Symbol, side: PositionSide) -> Option<Position> {
        self.positions
            .iter()
            .find(|p| p.symbol == symbol && p.position_side == side)
            .copied()
    }

    fn instrument(&self, id: &InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id)
    }

    fn book(&self, id: &InstrumentId) -> Option<BookTicker> {
        self.books.iter().find(|b| b.instrument == *id).copied()
    }

    fn now(&self) -> u64 {
        mono_ns()
    }

    fn orders(&mut self) -> &mut OrderFactory {
        &mut self.orders
    }

    fn request_stop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Waits for the next message the way the thread is configured to wait;
/// `None` on timeout (timer due) or when the execution thread is gone
/// (`gone` set).
fn next_message(
    rx: &Receiver<ToStrategy>,
    bell: &Doorbell,
    waiter: &mut Waiter,
    timeout: Duration,
    gone: &mut bool,
) -> Option<ToStrategy> {
    let deadline = mono_ns().saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
    loop {
        let left = Duration::from_nanos(deadline.saturating_sub(mono_ns()));
        match waiter.recv_bell(rx, bell, left) {
            Recv::Msg(m) => return Some(m),
            Recv::Disconnected => {
                *gone = true;
                return None;
            }
            Recv::Empty if mono_ns() >= deadline => return None,
            Recv::Empty => {}
        }
    }
}

/// The execution thread's sending end towards the strategy thread.
///
/// Why: the execution thread must never block on a slow strategy (acks and
/// fills keep arriving and must be booked), and an event must never be
/// dropped (a strategy that misses a fill trades on a wrong position). So
/// when the channel is full, events wait here, in order, and go out as soon
/// as the strategy catches up; later events queue behind them. The backlog is
/// preallocated and only grows past that while the strategy stalls.
#[derive(Debug)]
pub struct StrategyOutbox {
    tx: Sender<ToStrategy>,
    bell: Doorbell,
    frame_in_ns: u64,
    backlog: VecDeque<ToStrategy>,
    high_water: usize,
    gone: bool,
}

impl StrategyOutbox {
    /// An outbox on `tx` with room for `capacity` queued events before the
    /// backlog allocates.
    pub fn new(tx: Sender<ToStrategy>, capacity: usize) -> Self {
        StrategyOutbox {
            tx,
            bell: Doorbell::new(),
            frame_in_ns: 0,
            backlog: VecDeque::with_capacity(capacity),
            high_water: 0,
            gone: false,
        }
    }

    /// Hands `m` on without blocking, behind anything already queued.
    /// Dropped only when the strategy thread has exited (nobody to tell).
    #[inline]
    pub fn send(&mut self, mut m: ToStrategy) {
        if self.gone {
            return;
        }
        if let ToStrategy::Order(_, st) = &mut m {
            st.handoff_ns = mono_ns();
            if st.read_ns != 0 {
                st.exec_in_ns = self.frame_in_ns;
            }
        }
        if self.backlog.is_empty() {
            match self.tx.try_send(m) {
                Ok(()) => {
                    self.bell.ring();
                    return;
                }
                Err(TrySendError::Full(m)) => self.backlog.push_back(m),
                Err(TrySendError::Disconnected(_)) => {
                    self.gone = true;
                    return;
                }
            }
        } else {
            self.backlog.push_back(m);
        }
        self.high_water = self.high_water.max(self.backlog.len());
    }

    /// The bell this outbox rings after every event it hands over: the
    /// strategy thread parks on it ([`StrategyWiring::events_bell`]).
    pub fn bell(&self) -> Doorbell {
        self.bell.clone()
    }

    /// Notes that the execution thread just took a venue frame from the
    /// network thread: events it causes carry this as
    /// [`EventStamps::exec_in_ns`].
    #[inline]
    pub fn frame_taken(&mut self, ns: u64) {
        self.frame_in_ns = ns;
    }

    /// Moves queued events into the channel while it has room; returns how
    /// many moved.
    pub fn flush(&mut self) -> usize {
        let mut moved = 0;
        while let Some(m) = self.backlog.pop_front() {
            match self.tx.try_send(m) {
                Ok(()) => {
                    self.bell.ring();
                    moved += 1;
                }
                Err(TrySendError::Full(m)) => {
                    self.backlog.push_front(m);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.gone = true;
                    self.backlog.clear();
                    break;
                }
            }
        }
        moved
    }

    /// Blocks until the backlog is delivered, the strategy thread is gone or
    /// `deadline` passes; true when everything was delivered.
    pub fn flush_until(&mut self, deadline: Instant) -> bool {
        while let Some(m) = self.backlog.pop_front() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.tx.send_timeout(m, left) {
                Ok(()) => self.bell.ring(),
                Err(crossbeam_channel::SendTimeoutError::Timeout(m)) => {
                    self.backlog.push_front(m);
                    return false;
                }
                Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => {
                    self.gone = true;
                    self.backlog.clear();
                    return false;
                }
            }
        }
        !self.gone
    }

    /// Events waiting for room in the channel now.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// The most events that ever waited at once (0: the strategy always kept
    /// up).
    pub fn high_water(&self) -> usize {
        self.high_water
    }

    /// True once the strategy thread has dropped its receiver.
    pub fn is_gone(&self) -> bool {
        self.gone
    }
}

/// Pins the current thread to `core` if one is configured. The core was
/// checked to exist when the config was loaded; failing to pin is reported
/// but not fatal (a cpuset may forbid it).
///
/// Also asks for a short scheduler slice
/// ([`request_short_slice`](super::wait::request_short_slice)), so a woken
/// engine thread does not wait for another task's slice to end.
pub(crate) fn pin_current(core: Option<usize>) -> Result<(), String> {
    super::wait::request_short_slice();
    let Some(id) = core else { return Ok(()) };
    if core_affinity::set_for_current(core_affinity::CoreId { id }) {
        Ok(())
    } else {
        Err(format!("could not pin to core {id}"))
    }
}

/// Spawns the strategy thread. `on_start` runs first, then every message is
/// dispatched to its callback until [`ToStrategy::Stop`] (or the execution
/// thread disappears), then `on_stop` runs and the latency samples go back.
pub fn spawn<S: Strategy + Send + 'static>(
    mut strategy: S,
    w: StrategyWiring,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(STRATEGY_THREAD.into())
        .spawn(move || {
            // Pinning failure is not fatal: the thread still runs, unpinned.
            let _ = pin_current(w.thread.core);
            let mut ctx = ChannelContext {
                commands: w.commands,
                commands_bell: w.commands_bell,
                stop: w.stop,
                instruments: w.instruments,
                orders: w.orders,
                books: Vec::with_capacity(64),
                positions: Vec::with_capacity(64),
            };
            for p in &w.positions {
                ctx.set_position(p);
            }
            let mut lat = Box::new(LatencyRecorder::new());
            run(
                &mut strategy,
                &mut ctx,
                (&w.events, &w.events_bell),
                w.timer_interval,
                &w.thread,
                &mut lat,
                w.latency_tap.as_ref(),
            );
            strategy.on_stop(&mut ctx);
            // Blocking send: the execution thread waits for this message
            // (bounded by its own timeout), so it cannot be lost to a full queue.
            let _ = ctx
                .commands
                .send_timeout(FromStrategy::Stopped(lat), Duration::from_secs(5));
            ctx.commands_bell.ring();
        })
}

fn run<S: Strategy>(
    strategy: &mut S,
    ctx: &mut ChannelContext,
    (rx, bell): (&Receiver<ToStrategy>, &Doorbell),
    timer: Option<Duration>,
    thread: &ThreadSettings,
    lat: &mut LatencyRecorder,
    tap: Option<&crate::metrics::LatencyTap>,
) {
    let mut waiter = Waiter::for_thread(thread);
    strategy.on_start(ctx);
    // Without a timer, wake every 100 ms anyway so a disconnected execution
    // thread is noticed (park mode blocks otherwise).
    let period = timer.unwrap_or(Duration::from_millis(100));
    let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX).max(1);
    let mut next_timer = mono_ns().saturating_add(period_ns);
    let mut gone = false;
    loop {
        crate::bench::alloc::publish(crate::bench::alloc::EngineThread::Strategy);
        let now = mono_ns();
        if now >= next_timer {
            if timer.is_some() {
                strategy.on_timer(ctx, 0, now);
            }
            if let Some(t) = tap {
                t.offer(lat);
            }
            next_timer = now.saturating_add(period_ns);
        }
        let wait_for = Duration::from_nanos(next_timer.saturating_sub(mono_ns()));
        let msg = next_message(rx, bell, &mut waiter, wait_for, &mut gone);
        if gone {
            return;
        }
        let Some(msg) = msg else { continue };
        match msg {
            ToStrategy::Stop => return,
            ToStrategy::Order(ev, st) => {
                CURRENT.with(|c| {
                    c.set(CallbackStamps {
                        event: st,
                        received_ns: mono_ns(),
                    })
                });
                strategy.on_order_event(ctx, &ev);
                let end = mono_ns();
                if st.read_ns != 0 {
                    lat.record_between(LatencyPath::WireToStrategy, st.read_ns, end);
                }
                if st.submit_call_ns != 0 && matches!(ev.kind, OrderEventKind::Accepted) {
                    lat.record_between(LatencyPath::SubmitToAck, st.submit_call_ns, end);
                }
                if st.fill_wall_ns != 0
                    && matches!(
                        ev.kind,
                        OrderEventKind::Filled(_) | OrderEventKind::ExternalFill(_)
                    )
                {
                    let d = wall_ns().saturating_sub(st.fill_wall_ns);
                    lat.record(LatencyPath::FillToStrategy, u64::try_from(d).unwrap_or(0));
                }
            }
            ToStrategy::Position(p) => {
                ctx.set_position(&p);
                strategy.on_position(ctx, &p);
            }
            ToStrategy::Book(t) => {
                ctx.set_book(t);
                strategy.on_book_ticker(ctx, &t);
                lat.record_between(LatencyPath::WireToStrategy, t.ts_recv_ns, mono_ns());
            }
            ToStrategy::Trade(t) => {
                strategy.on_trade(ctx, &t);
                lat.record_between(LatencyPath::WireToStrategy, t.ts_recv_ns, mono_ns());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::client_ids::ClientIdGenerator;
    use crate::engine::strategy::OrderOptions;
    use crate::model::Side;

    /// Buys once on the first book, stops on the ack.
    struct OneShot {
        sent: Option<ClientOrderId>,
        acked: bool,
        stopped: bool,
    }

    impl Strategy for OneShot {
        fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
            if self.sent.is_none() {
                let o = ctx.orders().market(
                    t.instrument,
                    Side::Buy,
                    "0.01".parse().unwrap_or(Quantity::ZERO),
                    OrderOptions::default(),
                );
                if let Ok(o) = o {
                    self.sent = ctx.submit(o).ok();
                }
            }
        }
        fn on_order_event<C: Context>(&mut self, ctx: &mut C, e: &OrderEvent) {
            if Some(e.client_id) == self.sent && e.kind == OrderEventKind::Accepted {
                self.acked = true;
                ctx.request_stop();
            }
        }
        fn on_stop<C: Context>(&mut self, _ctx: &mut C) {
            self.stopped = true;
        }
    }

    fn inst() -> InstrumentId {
        InstrumentId::perp(Symbol::new("BTCUSDT").unwrap())
    }

    #[test]
    fn commands_out_events_in_stop_and_latency_back() {
        let (ev_tx, ev_rx) = crossbeam_channel::bounded(16);
        let (cmd_tx, cmd_rx) = crossbeam_channel::bounded(16);
        let stop = Arc::new(AtomicBool::new(false));
        let bell = Doorbell::new();
        let w = StrategyWiring {
            events: ev_rx,
            events_bell: bell.clone(),
            commands: cmd_tx,
            commands_bell: Doorbell::new(),
            stop: Arc::clone(&stop),
            instruments: InstrumentProvider::default(),
            orders: OrderFactory::new(ClientIdGenerator::new("t").unwrap()),
            timer_interval: None,
            thread: ThreadSettings::default(),
            positions: Vec::new(),
            latency_tap: None,
        };
        let strat = OneShot {
            sent: None,
            acked: false,
            stopped: false,
        };
        let h = spawn(strat, w).unwrap();
        let t0 = mono_ns();
        let book = BookTicker {
            instrument: inst(),
            bid_price: "100".parse().unwrap(),
            bid_qty: "1".parse().unwrap(),
            ask_price: "101".parse().unwrap(),
            ask_qty: "1".parse().unwrap(),
            update_id: 1,
            ts_venue_ms: 0,
            ts_recv_ns: t0,
        };
        ev_tx.send(ToStrategy::Book(book)).unwrap();
        bell.ring();
        let (cmd, t_call) = match cmd_rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            FromStrategy::Command(c, t) => (c, t),
            FromStrategy::Stopped(_) => panic!("stopped early"),
        };
        let Command::Submit(o) = cmd else {
            panic!("expected a submit, got {cmd:?}")
        };
        assert!(t_call >= t0);
        let ack = OrderEvent {
            client_id: o.client_id,
            instrument: inst(),
            venue_order_id: Some(7),
            ts_venue_ms: 0,
            ts_local_ns: mono_ns(),
            kind: OrderEventKind::Accepted,
        };
        let st = EventStamps {
            submit_call_ns: t_call,
            read_ns: mono_ns(),
            ..EventStamps::default()
        };
        ev_tx.send(ToStrategy::Order(ack, st)).unwrap();
        bell.ring();
        // The strategy asks to stop on the ack.
        for _ in 0..500 {
            if stop.load(Ordering::Acquire) {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(stop.load(Ordering::Acquire), "request_stop sets the flag");
        ev_tx.send(ToStrategy::Stop).unwrap();
        bell.ring();
        let lat = match cmd_rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            FromStrategy::Stopped(l) => l,
            FromStrategy::Command(c, _) => panic!("unexpected {c:?}"),
        };
        assert_eq!(lat.count(LatencyPath::SubmitToAck), 1);
        assert_eq!(lat.count(LatencyPath::WireToStrategy), 2);
        h.join().unwrap();
    }
}
