//! The strategy API: what a strategy implements, what it can call, and the
//! commands that travel from the strategy thread to the execution thread.
//!
//! Modelled on NautilusTrader's shape (`on_start`, `on_order_event`,
//! `submit_order` with an order factory) so strategies port over, but with
//! plain `Copy` model types and static dispatch: the strategy thread is
//! generic over its [`Context`], so calls inline and nothing allocates.

use super::client_ids::ClientIdGenerator;
use super::clock::mono_ns;
use super::positions::Position;
use crate::model::ids::{ClientOrderId, InstrumentId, Symbol, TradeId};
use crate::model::{
    Decimal, Order, OrderError, OrderEvent, OrderType, PositionEvent, PositionSide, Price,
    Quantity, Side, TimeInForce, WorkingType,
};

/// Best bid/ask (`bookTicker` stream): what most strategies quote from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTicker {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Best bid price.
    pub bid_price: Price,
    /// Quantity at the best bid.
    pub bid_qty: Quantity,
    /// Best ask price.
    pub ask_price: Price,
    /// Quantity at the best ask.
    pub ask_qty: Quantity,
    /// Book update id (`u`), to discard stale tickers.
    pub update_id: u64,
    /// Venue event/transaction time (ms).
    pub ts_venue_ms: i64,
    /// Engine monotonic receive time (ns).
    pub ts_recv_ns: u64,
}

/// A public trade (`aggTrade`/`trade` stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Trade price.
    pub price: Price,
    /// Trade quantity.
    pub quantity: Quantity,
    /// Side of the taker (buyer-maker ⇒ `Sell`).
    pub aggressor: Side,
    /// Venue trade id.
    pub trade_id: TradeId,
    /// Venue trade time (ms).
    pub ts_venue_ms: i64,
    /// Engine monotonic receive time (ns).
    pub ts_recv_ns: u64,
}

/// What the strategy thread asks the execution thread to do. `Copy` and
/// fixed-size so it crosses a bounded crossbeam channel without allocating;
/// the execution thread owns the order pool and turns `Submit` into a handle.
// Boxing `Submit` would put an allocation on every order; commands travel by
// value through a preallocated bounded channel instead.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Send a new order (plain or conditional).
    Submit(Order),
    /// Cancel one order by client id (works before the venue id is known).
    Cancel {
        /// Instrument of the order.
        instrument: InstrumentId,
        /// The order.
        client_id: ClientOrderId,
    },
    /// Change a LIMIT order's price and quantity (loses queue priority).
    Modify {
        /// Instrument of the order.
        instrument: InstrumentId,
        /// The order.
        client_id: ClientOrderId,
        /// New price.
        price: Price,
        /// New quantity.
        quantity: Quantity,
    },
    /// Cancel every open order (plain and algo) on an instrument.
    CancelAll {
        /// Instrument.
        instrument: InstrumentId,
    },
}

/// Why a command could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The order is malformed; the venue would refuse it.
    #[error(transparent)]
    Invalid(#[from] OrderError),
    /// The command queue is full: the execution thread is behind.
    #[error("command queue full")]
    QueueFull,
    /// The execution thread is gone.
    #[error("execution thread disconnected")]
    Disconnected,
    /// No open order with this client id.
    #[error("no open order {0}")]
    UnknownOrder(ClientOrderId),
}

/// Everything a strategy can see and do. The wiring layer implements it on
/// top of the command channel and the state it mirrors from the execution
/// thread.
pub trait Context {
    /// The instrument description the wiring provides (filters, precisions).
    type Instrument;

    /// Validates and queues an order; returns its client id for later
    /// cancel/modify calls and for matching events.
    fn submit(&mut self, order: Order) -> Result<ClientOrderId, CommandError>;
    /// Queues a cancel.
    fn cancel(
        &mut self,
        instrument: InstrumentId,
        client_id: ClientOrderId,
    ) -> Result<(), CommandError>;
    /// Queues a modify of a LIMIT order.
    fn modify(
        &mut self,
        instrument: InstrumentId,
        client_id: ClientOrderId,
        price: Price,
        quantity: Quantity,
    ) -> Result<(), CommandError>;
    /// Queues a cancel of all open orders on the instrument.
    fn cancel_all(&mut self, instrument: InstrumentId) -> Result<(), CommandError>;
    /// The current position (`Both` in one-way mode).
    fn position(&self, symbol: Symbol, side: PositionSide) -> Option<Position>;
    /// The instrument's description, if loaded.
    fn instrument(&self, id: &InstrumentId) -> Option<&Self::Instrument>;
    /// The latest best bid/ask, if subscribed.
    fn book(&self, id: &InstrumentId) -> Option<BookTicker>;
    /// Engine monotonic time (ns).
    fn now(&self) -> u64;
    /// The order factory (client ids come from the engine's sequence).
    fn orders(&mut self) -> &mut OrderFactory;
    /// Asks the engine to shut down once this callback returns (`on_stop`
    /// still runs). A strategy that has done its job ends the run this way
    /// instead of waiting for the operator. The default does nothing, for
    /// contexts (tests, backtests) that have no engine to stop.
    fn request_stop(&mut self) {}
}

/// A trading strategy. Every callback has a default that does nothing, so a
/// strategy implements only what it uses. Callbacks run on the strategy
/// thread and should return quickly.
pub trait Strategy {
    /// Once, before any data.
    fn on_start<C: Context>(&mut self, _ctx: &mut C) {}
    /// Each best bid/ask update.
    fn on_book_ticker<C: Context>(&mut self, _ctx: &mut C, _ticker: &BookTicker) {}
    /// Each public trade.
    fn on_trade<C: Context>(&mut self, _ctx: &mut C, _trade: &Trade) {}
    /// Each event of our orders (and external fills).
    fn on_order_event<C: Context>(&mut self, _ctx: &mut C, _event: &OrderEvent) {}
    /// Each position change (from fills or venue snapshots).
    fn on_position<C: Context>(&mut self, _ctx: &mut C, _event: &PositionEvent) {}
    /// A timer the strategy set fired.
    fn on_timer<C: Context>(&mut self, _ctx: &mut C, _timer_id: u64, _now_ns: u64) {}
    /// Once, at shutdown (cancel orders / flatten here).
    fn on_stop<C: Context>(&mut self, _ctx: &mut C) {}
}

/// Options shared by all order types; `OrderOptions::default()` is the plain
/// one-way-mode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderOptions {
    /// One-way mode only: may only shrink the position.
    pub reduce_only: bool,
    /// `Both` (one-way) or `Long`/`Short` (hedge).
    pub position_side: PositionSide,
    /// Trigger on last price or mark price (conditional orders).
    pub working_type: WorkingType,
    /// Refuse to trigger when mark and last diverge (conditional orders).
    pub price_protect: bool,
}

impl Default for OrderOptions {
    fn default() -> Self {
        OrderOptions {
            reduce_only: false,
            position_side: PositionSide::Both,
            working_type: WorkingType::ContractPrice,
            price_protect: false,
        }
    }
}

impl OrderOptions {
    /// Reduce-only in one-way mode.
    pub fn reduce_only() -> Self {
        OrderOptions {
            reduce_only: true,
            ..Self::default()
        }
    }
    /// A hedge-mode leg.
    pub fn hedge(side: PositionSide) -> Self {
        OrderOptions {
            position_side: side,
            ..Self::default()
        }
    }
}

/// Builds validated orders with engine-issued client ids.
#[derive(Debug, Clone)]
pub struct OrderFactory {
    ids: ClientIdGenerator,
}

impl OrderFactory {
    /// A factory drawing ids from `ids`.
    pub fn new(ids: ClientIdGenerator) -> Self {
        OrderFactory { ids }
    }

    /// The id generator (to recognise our own ids).
    pub fn ids(&self) -> &ClientIdGenerator {
        &self.ids
    }

    fn base(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        quantity: Quantity,
        opts: OrderOptions,
    ) -> Order {
        let mut o = Order::new(
            self.ids.next_id(),
            instrument,
            side,
            order_type,
            quantity,
            mono_ns(),
        );
        o.reduce_only = opts.reduce_only;
        o.position_side = opts.position_side;
        o.working_type = opts.working_type;
        o.price_protect = opts.price_protect;
        o
    }

    fn done(o: Order) -> Result<Order, OrderError> {
        o.validate().map(|_| o)
    }

    /// MARKET.
    pub fn market(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        Self::done(self.base(instrument, side, OrderType::Market, quantity, opts))
    }

    /// LIMIT with any time in force (GTC, IOC, FOK, GTX post-only; use
    /// [`OrderFactory::limit_gtd`] for GTD).
    pub fn limit(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        price: Price,
        time_in_force: TimeInForce,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(instrument, side, OrderType::Limit, quantity, opts);
        o.price = Some(price);
        o.time_in_force = time_in_force;
        Self::done(o)
    }

    /// Post-only LIMIT (GTX): rejected with -5022 instead of taking.
    pub fn post_only(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        price: Price,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        self.limit(instrument, side, quantity, price, TimeInForce::Gtx, opts)
    }

    /// LIMIT good till `good_till_ms` (venue: > now + 600 s, second precision).
    pub fn limit_gtd(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        price: Price,
        good_till_ms: i64,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(instrument, side, OrderType::Limit, quantity, opts);
        o.price = Some(price);
        o.time_in_force = TimeInForce::Gtd;
        o.good_till_date_ms = good_till_ms;
        Self::done(o)
    }

    /// STOP_MARKET (algo service): MARKET child when the trigger is crossed.
    pub fn stop_market(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        trigger: Price,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(instrument, side, OrderType::StopMarket, quantity, opts);
        o.trigger_price = Some(trigger);
        Self::done(o)
    }

    /// STOP (stop-limit, algo service): LIMIT child at `price`.
    pub fn stop_limit(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        price: Price,
        trigger: Price,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(instrument, side, OrderType::Stop, quantity, opts);
        o.price = Some(price);
        o.trigger_price = Some(trigger);
        Self::done(o)
    }

    /// TAKE_PROFIT (algo service): LIMIT child at `price`.
    pub fn take_profit(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        price: Price,
        trigger: Price,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(instrument, side, OrderType::TakeProfit, quantity, opts);
        o.price = Some(price);
        o.trigger_price = Some(trigger);
        Self::done(o)
    }

    /// TAKE_PROFIT_MARKET (algo service): MARKET child.
    pub fn take_profit_market(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        trigger: Price,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(
            instrument,
            side,
            OrderType::TakeProfitMarket,
            quantity,
            opts,
        );
        o.trigger_price = Some(trigger);
        Self::done(o)
    }

    /// TRAILING_STOP_MARKET (algo service): `callback_rate` in percent
    /// (0.1–10); `activate` defaults to the current price at the venue.
    pub fn trailing_stop_market(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        quantity: Quantity,
        callback_rate: Decimal,
        activate: Option<Price>,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        let mut o = self.base(
            instrument,
            side,
            OrderType::TrailingStopMarket,
            quantity,
            opts,
        );
        o.callback_rate = Some(callback_rate);
        o.activate_price = activate;
        Self::done(o)
    }

    /// A STOP_MARKET or TAKE_PROFIT_MARKET that closes the whole position on
    /// trigger (`closePosition=true`, no quantity, no reduce-only).
    pub fn close_position(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        trigger: Price,
        opts: OrderOptions,
    ) -> Result<Order, OrderError> {
        if !matches!(
            order_type,
            OrderType::StopMarket | OrderType::TakeProfitMarket
        ) {
            return Err(OrderError::Invalid(
                "close_position is for STOP_MARKET / TAKE_PROFIT_MARKET",
            ));
        }
        let mut o = self.base(instrument, side, order_type, Quantity::ZERO, opts);
        o.trigger_price = Some(trigger);
        o.close_position = true;
        Self::done(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> OrderFactory {
        OrderFactory::new(ClientIdGenerator::new("t").unwrap())
    }
    fn inst() -> InstrumentId {
        InstrumentId::perp(Symbol::new("BTCUSDT").unwrap())
    }
    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }
    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn builds_every_type() {
        let mut f = f();
        let d = OrderOptions::default();
        let m = f.market(inst(), Side::Buy, q("0.01"), d).unwrap();
        assert_eq!(m.client_id.as_str(), "t-1");
        assert_eq!(m.order_type, OrderType::Market);
        let l = f
            .post_only(inst(), Side::Sell, q("0.01"), p("60000"), d)
            .unwrap();
        assert!(l.is_post_only());
        let ioc = f
            .limit(inst(), Side::Buy, q("1"), p("1"), TimeInForce::Ioc, d)
            .unwrap();
        assert_eq!(ioc.time_in_force, TimeInForce::Ioc);
        let gtd = f
            .limit_gtd(inst(), Side::Buy, q("1"), p("1"), 1_760_000_700_000, d)
            .unwrap();
        assert_eq!(gtd.good_till_date_ms, 1_760_000_700_000);
        let mark = OrderOptions {
            working_type: WorkingType::MarkPrice,
            price_protect: true,
            ..OrderOptions::reduce_only()
        };
        let sm = f
            .stop_market(inst(), Side::Sell, q("1"), p("50000"), mark)
            .unwrap();
        assert!(sm.is_conditional() && sm.reduce_only && sm.price_protect);
        let sl = f
            .stop_limit(inst(), Side::Sell, q("1"), p("49900"), p("50000"), d)
            .unwrap();
        assert_eq!(sl.order_type, OrderType::Stop);
        let tp = f
            .take_profit(inst(), Side::Sell, q("1"), p("70100"), p("70000"), d)
            .unwrap();
        assert_eq!(tp.price, Some(p("70100")));
        let tpm = f
            .take_profit_market(inst(), Side::Sell, q("1"), p("70000"), d)
            .unwrap();
        assert_eq!(tpm.trigger_price, Some(p("70000")));
        let tr = f
            .trailing_stop_market(inst(), Side::Sell, q("1"), "1.5".parse().unwrap(), None, d)
            .unwrap();
        assert_eq!(tr.callback_rate, Some("1.5".parse().unwrap()));
        let cp = f
            .close_position(
                inst(),
                Side::Sell,
                OrderType::StopMarket,
                p("50000"),
                OrderOptions::hedge(PositionSide::Long),
            )
            .unwrap();
        assert!(cp.close_position && cp.quantity.is_zero());
        assert_eq!(f.ids().peek(), 11);
    }

    #[test]
    fn refuses_what_the_venue_refuses() {
        let mut f = f();
        let hedge_ro = OrderOptions {
            reduce_only: true,
            ..OrderOptions::hedge(PositionSide::Short)
        };
        assert!(f.market(inst(), Side::Buy, q("1"), hedge_ro).is_err());
        assert!(
            f.market(inst(), Side::Buy, q("0"), OrderOptions::default())
                .is_err()
        );
        let d = OrderOptions::default();
        assert!(
            f.trailing_stop_market(inst(), Side::Sell, q("1"), "0.05".parse().unwrap(), None, d)
                .is_err()
        );
        assert!(
            f.close_position(inst(), Side::Sell, OrderType::Stop, p("1"), d)
                .is_err()
        );
        assert!(
            f.close_position(
                inst(),
                Side::Buy,
                OrderType::StopMarket,
                p("1"),
                OrderOptions::hedge(PositionSide::Long)
            )
            .is_err(),
            "BUY+LONG closePosition is refused in hedge mode"
        );
    }
}
