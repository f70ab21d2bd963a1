//! An order and its state machine.
//!
//! `Order` is a plain, fixed-size `Copy` struct with no heap fields so that a
//! pool of them can be allocated once at start-up and recycled on the hot path
//! (see `engine::pool`). Identifiers are inline strings, amounts exact
//! decimals, enums `Copy`.
//!
//! The state machine only allows transitions the venue can actually produce,
//! so a bug or a corrupted report shows up as a typed [`OrderError`] instead
//! of silently rewriting history (e.g. a filled order coming back to life).
//! Two rules matter most for never losing an order:
//! - `Unknown` is explicit: after a timeout / HTTP 503 / -1007 we do not
//!   know whether the order exists, and it can resolve to any venue state;
//! - fills only ever add quantity and never beyond the order's quantity, and a
//!   fill that races a cancel (arriving after we asked to cancel, or even after
//!   the cancel reply) is still booked.

use super::decimal::{Decimal, Price, Quantity};
use super::enums::{OrderType, PositionSide, Side, TimeInForce, WorkingType};
use super::events::{OrderEvent, OrderEventKind};
use super::ids::{AlgoId, ClientOrderId, InstrumentId, Symbol, VenueOrderId};

/// Where an order is in its life. `Unknown` is a real state, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderState {
    /// Built by the strategy, not sent yet.
    #[default]
    Initialized,
    /// Sent; no reply yet.
    Submitted,
    /// Live at the venue (or waiting in the algo service), nothing filled.
    Accepted,
    /// Live with some quantity filled.
    PartiallyFilled,
    /// Fully filled. Terminal.
    Filled,
    /// A cancel request is in flight.
    PendingCancel,
    /// A modify request is in flight.
    PendingUpdate,
    /// Cancelled. Terminal (late fills that happened before the cancel are
    /// still booked).
    Canceled,
    /// Expired. Terminal (late fills still booked).
    Expired,
    /// Refused by the venue. Terminal.
    Rejected,
    /// A conditional order fired and its child order is live.
    Triggered,
    /// Outcome of the last request unknown; needs reconciliation.
    Unknown,
}

impl OrderState {
    /// True when nothing more can change the order's state (Canceled and
    /// Expired still accept late fills that happened before them).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Canceled | OrderState::Expired | OrderState::Rejected
        )
    }

    /// True when the order may be working at the venue (includes `Unknown`,
    /// because it might be).
    pub fn is_open(self) -> bool {
        !self.is_terminal() && self != OrderState::Initialized
    }

    /// States the venue can report; the only targets a resolution may name.
    pub fn is_venue_reported(self) -> bool {
        matches!(
            self,
            OrderState::Accepted
                | OrderState::PartiallyFilled
                | OrderState::Filled
                | OrderState::Canceled
                | OrderState::Expired
                | OrderState::Rejected
                | OrderState::Triggered
        )
    }
}

/// Why an event could not be applied to an order. `Copy` and heap-free so the
/// hot path can return it without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The event is not legal in the order's current state.
    #[error("illegal transition: {event} in state {from:?}")]
    IllegalTransition {
        /// State before the event.
        from: OrderState,
        /// The event's name.
        event: &'static str,
    },
    /// A fill would take the filled quantity beyond the order quantity.
    #[error("fill of {fill} would take filled {filled} beyond order quantity {quantity}")]
    Overfill {
        /// The fill's quantity.
        fill: Quantity,
        /// Filled before the fill.
        filled: Quantity,
        /// Order quantity.
        quantity: Quantity,
    },
    /// Fills must have a positive quantity and a non-negative price.
    #[error("fill quantity must be positive (got {0})")]
    BadFill(Quantity),
    /// The fill belongs to another order or instrument.
    #[error("fill does not belong to this order")]
    ForeignFill,
    /// A resolution or amendment would reduce the filled quantity.
    #[error("filled quantity may not decrease ({filled} -> {reported})")]
    FilledDecrease {
        /// What we had.
        filled: Quantity,
        /// What was reported.
        reported: Quantity,
    },
    /// Exact arithmetic overflowed (absurd venue numbers).
    #[error("arithmetic overflow")]
    Overflow,
    /// The order's parameters are inconsistent (checked before sending).
    #[error("invalid order: {0}")]
    Invalid(&'static str),
}

/// An order: what we asked for, what the venue said, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// Our id (`newClientOrderId`); for conditional orders this is also the
    /// `clientAlgoId` (see [`Order::client_algo_id`]).
    pub client_id: ClientOrderId,
    /// Venue order id, `None` until acknowledged (for conditional orders the
    /// id lives in `algo_id`, the child's in `child_venue_order_id`).
    pub venue_order_id: Option<VenueOrderId>,
    /// Algo service id of a conditional order, once acknowledged.
    pub algo_id: Option<AlgoId>,
    /// The matching-engine order created when a conditional order triggered.
    pub child_venue_order_id: Option<VenueOrderId>,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Order type (conditional types go to the algo service).
    pub order_type: OrderType,
    /// Time in force (`Gtx` = post-only).
    pub time_in_force: TimeInForce,
    /// `Both` in one-way mode, `Long`/`Short` in hedge mode.
    pub position_side: PositionSide,
    /// Original quantity (zero for `close_position` orders until the venue
    /// tells us the child's size).
    pub quantity: Quantity,
    /// Limit price (LIMIT, STOP, TAKE_PROFIT).
    pub price: Option<Price>,
    /// Trigger price of a conditional order.
    pub trigger_price: Option<Price>,
    /// Trailing stop activation price.
    pub activate_price: Option<Price>,
    /// Trailing stop callback rate in percent (0.1–10).
    pub callback_rate: Option<Decimal>,
    /// Price that triggers a conditional order.
    pub working_type: WorkingType,
    /// One-way mode only: may only shrink the position.
    pub reduce_only: bool,
    /// Conditional `*_MARKET` only: close the whole position on trigger.
    pub close_position: bool,
    /// Refuse to trigger when mark and last price diverge too far.
    pub price_protect: bool,
    /// GTD expiry in ms since the epoch (0 = none).
    pub good_till_date_ms: i64,
    /// Cumulative filled quantity; only ever increases.
    pub filled_qty: Quantity,
    /// Σ price × qty of all fills, exact (raw units of 1e-16), so the average
    /// price is exact up to the final rounding.
    pub filled_notional: i128,
    /// Current state.
    pub state: OrderState,
    /// State to return to when a pending cancel/modify or an unknown outcome
    /// is refused/resolved.
    pub prev_state: OrderState,
    /// Last venue error code seen for this order (0 = none).
    pub last_error: i32,
    /// Monotonic ns: built.
    pub ts_created_ns: u64,
    /// Monotonic ns: first sent.
    pub ts_submitted_ns: u64,
    /// Monotonic ns: acknowledged by the venue (reply or stream NEW).
    pub ts_acked_ns: u64,
    /// Monotonic ns: last event applied.
    pub ts_last_ns: u64,
}

impl Order {
    /// A blank order for preallocating pool slots; never sent.
    pub fn blank() -> Self {
        Order::new(
            ClientOrderId::default(),
            InstrumentId::perp(Symbol::default()),
            Side::Buy,
            OrderType::Market,
            Quantity::ZERO,
            0,
        )
    }

    /// A new order with neutral defaults (GTC, BOTH, CONTRACT_PRICE, no
    /// flags); the order factory sets the rest.
    pub fn new(
        client_id: ClientOrderId,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        quantity: Quantity,
        ts_created_ns: u64,
    ) -> Self {
        Order {
            client_id,
            venue_order_id: None,
            algo_id: None,
            child_venue_order_id: None,
            instrument,
            side,
            order_type,
            time_in_force: TimeInForce::Gtc,
            position_side: PositionSide::Both,
            quantity,
            price: None,
            trigger_price: None,
            activate_price: None,
            callback_rate: None,
            working_type: WorkingType::ContractPrice,
            reduce_only: false,
            close_position: false,
            price_protect: false,
            good_till_date_ms: 0,
            filled_qty: Quantity::ZERO,
            filled_notional: 0,
            state: OrderState::Initialized,
            prev_state: OrderState::Initialized,
            last_error: 0,
            ts_created_ns,
            ts_submitted_ns: 0,
            ts_acked_ns: 0,
            ts_last_ns: ts_created_ns,
        }
    }

    /// True for orders that go to the algo service.
    pub fn is_conditional(&self) -> bool {
        self.order_type.is_conditional()
    }

    /// The `clientAlgoId` of a conditional order (our client id).
    pub fn client_algo_id(&self) -> Option<ClientOrderId> {
        self.is_conditional().then_some(self.client_id)
    }

    /// True when the order is post-only (GTX).
    pub fn is_post_only(&self) -> bool {
        self.time_in_force == TimeInForce::Gtx
    }

    /// Quantity not yet filled (zero for close-position orders of unknown size).
    pub fn leaves_qty(&self) -> Quantity {
        Quantity::from_raw((self.quantity.raw() - self.filled_qty.raw()).max(0))
    }

    /// Average fill price rounded half-even to 1e-8; `None` before any fill.
    pub fn avg_price(&self) -> Option<Price> {
        if self.filled_qty.raw() <= 0 {
            return None;
        }
        let q = div_half_even(self.filled_notional, self.filled_qty.raw() as i128)?;
        i64::try_from(q).ok().map(Price::from_raw)
    }

    /// Checks the combinations the venue would refuse anyway (saving a round
    /// trip and an ORDERS rate-limit unit).
    pub fn validate(&self) -> Result<(), OrderError> {
        use OrderType as T;
        if self.side.is_unknown() || self.order_type.is_unknown() {
            return Err(OrderError::Invalid("unknown side or order type"));
        }
        if self.close_position {
            if !matches!(
                self.order_type,
                T::StopMarket | T::TakeProfitMarket | T::TrailingStopMarket
            ) {
                return Err(OrderError::Invalid(
                    "close_position needs a conditional *_MARKET order",
                ));
            }
            if !self.quantity.is_zero() || self.reduce_only {
                return Err(OrderError::Invalid(
                    "close_position excludes quantity and reduce_only",
                ));
            }
            let forbidden = matches!(
                (self.side, self.position_side),
                (Side::Buy, PositionSide::Long) | (Side::Sell, PositionSide::Short)
            );
            if forbidden {
                return Err(OrderError::Invalid(
                    "close_position in hedge mode must close: SELL+LONG or BUY+SHORT",
                ));
            }
        } else if self.quantity.raw() <= 0 {
            return Err(OrderError::Invalid("quantity must be positive"));
        }
        if self.reduce_only && self.position_side != PositionSide::Both {
            return Err(OrderError::Invalid(
                "reduce_only is not allowed in hedge mode (-1106)",
            ));
        }
        let needs_price = matches!(self.order_type, T::Limit | T::Stop | T::TakeProfit);
        match (needs_price, self.price) {
            (true, None) => return Err(OrderError::Invalid("limit price required")),
            (true, Some(p)) if p.raw() <= 0 => {
                return Err(OrderError::Invalid("price must be positive"));
            }
            (false, Some(_)) => {
                return Err(OrderError::Invalid("price not allowed for this type"));
            }
            _ => {}
        }
        let needs_trigger = matches!(
            self.order_type,
            T::Stop | T::StopMarket | T::TakeProfit | T::TakeProfitMarket
        );
        match (needs_trigger, self.trigger_price) {
            (true, None) => return Err(OrderError::Invalid("trigger price required")),
            (true, Some(p)) if p.raw() <= 0 => {
                return Err(OrderError::Invalid("trigger price must be positive"));
            }
            (false, Some(_)) => {
                return Err(OrderError::Invalid(
                    "trigger price not allowed for this type",
                ));
            }
            _ => {}
        }
        if self.order_type == T::TrailingStopMarket {
            let lo = Decimal::from_raw(10_000_000); // 0.1 %
            let hi = Decimal::from_raw(1_000_000_000); // 10 %
            match self.callback_rate {
                Some(r) if r >= lo && r <= hi => {}
                _ => return Err(OrderError::Invalid("callback rate must be 0.1..=10 (%)")),
            }
        } else if self.callback_rate.is_some() || self.activate_price.is_some() {
            return Err(OrderError::Invalid(
                "activate price / callback rate only for trailing stops",
            ));
        }
        if self.time_in_force == TimeInForce::Gtd && self.good_till_date_ms <= 0 {
            return Err(OrderError::Invalid("GTD needs good_till_date"));
        }
        if self.time_in_force != TimeInForce::Gtd && self.good_till_date_ms != 0 {
            return Err(OrderError::Invalid("good_till_date only with GTD"));
        }
        if self.order_type == T::Market
            && !matches!(self.time_in_force, TimeInForce::Gtc | TimeInForce::Ioc)
        {
            return Err(OrderError::Invalid("market orders take no time in force"));
        }
        Ok(())
    }

    /// Applies an event, enforcing the state machine. On error the order is
    /// unchanged. Returns the new state.
    pub fn apply(&mut self, ev: &OrderEvent) -> Result<OrderState, OrderError> {
        use OrderEventKind as K;
        use OrderState as S;
        let from = self.state;
        let illegal = || OrderError::IllegalTransition {
            from,
            event: ev.kind.name(),
        };
        match ev.kind {
            K::Submitted => {
                if from != S::Initialized {
                    return Err(illegal());
                }
                self.state = S::Submitted;
                self.ts_submitted_ns = ev.ts_local_ns;
            }
            K::Accepted => {
                match from {
                    S::Submitted | S::Unknown | S::Accepted => self.state = S::Accepted,
                    _ => return Err(illegal()),
                }
                if self.ts_acked_ns == 0 {
                    self.ts_acked_ns = ev.ts_local_ns;
                }
                self.absorb_ids(ev);
            }
            K::Rejected { code, .. } => {
                if from.is_terminal() || from == S::Initialized || self.filled_qty.raw() > 0 {
                    return Err(illegal());
                }
                self.state = S::Rejected;
                self.last_error = code;
            }
            K::Filled(fill) => {
                // A fill for an order we called Rejected is still booked: the
                // venue is the truth (our rejection was a wrong guess, e.g. a
                // "does not exist" answered before the order reached the
                // book), and a fill is never dropped.
                if matches!(from, S::Initialized | S::Filled) {
                    return Err(illegal());
                }
                if fill.client_id != self.client_id && Some(fill.venue_order_id) != self.live_id() {
                    return Err(OrderError::ForeignFill);
                }
                self.add_fill(fill.price, fill.quantity)?;
                let complete = !self.quantity.is_zero() && self.filled_qty == self.quantity;
                self.state = match (from, complete) {
                    (_, true) => S::Filled,
                    // A late fill after the venue's cancel/expiry: the fill
                    // happened first, the state stays closed.
                    (S::Canceled | S::Expired, false) => from,
                    // Still waiting for the cancel/modify answer.
                    (S::PendingCancel | S::PendingUpdate, false) => {
                        self.prev_state = S::PartiallyFilled;
                        from
                    }
                    (_, false) => S::PartiallyFilled,
                };
                if self.venue_order_id.is_none() && !self.is_conditional() {
                    self.venue_order_id = Some(fill.venue_order_id);
                }
            }
            K::ExternalFill(_) | K::FillDetails(_) => {}
            K::Canceled | K::Expired { .. } => {
                if from.is_terminal() || from == S::Initialized {
                    return Err(illegal());
                }
                self.state = if matches!(ev.kind, K::Canceled) {
                    S::Canceled
                } else {
                    S::Expired
                };
            }
            K::Triggered { child } => {
                if !self.is_conditional() {
                    return Err(illegal());
                }
                match from {
                    S::Submitted | S::Accepted | S::Unknown => self.state = S::Triggered,
                    S::PendingCancel => self.prev_state = S::Triggered,
                    S::Triggered if self.child_venue_order_id == Some(child) => {}
                    _ => return Err(illegal()),
                }
                self.child_venue_order_id = Some(child);
            }
            K::Amended { price, quantity } => {
                if !matches!(
                    from,
                    S::Accepted
                        | S::PartiallyFilled
                        | S::PendingUpdate
                        | S::PendingCancel
                        | S::Unknown
                ) {
                    return Err(illegal());
                }
                if quantity.raw() <= self.filled_qty.raw() {
                    return Err(OrderError::FilledDecrease {
                        filled: self.filled_qty,
                        reported: quantity,
                    });
                }
                self.price = Some(price);
                self.quantity = quantity;
                let working = self.working_state();
                match from {
                    S::PendingCancel => self.prev_state = working,
                    _ => self.state = working,
                }
            }
            K::PendingCancel => match from {
                S::Submitted
                | S::Accepted
                | S::PartiallyFilled
                | S::Triggered
                | S::PendingUpdate
                | S::Unknown => {
                    self.prev_state = from;
                    self.state = S::PendingCancel;
                }
                S::PendingCancel => {}
                _ => return Err(illegal()),
            },
            K::PendingUpdate => {
                let modifiable = match from {
                    S::Accepted | S::PartiallyFilled => !self.is_conditional(),
                    S::Triggered => self.order_type.child_type() == OrderType::Limit,
                    _ => false,
                };
                if !modifiable {
                    return Err(illegal());
                }
                self.prev_state = from;
                self.state = S::PendingUpdate;
            }
            K::CancelRejected { code, .. } => {
                if from == S::PendingCancel {
                    self.state = self.prev_state;
                }
                self.last_error = code;
            }
            K::ModifyRejected { code, .. } => {
                if from == S::PendingUpdate {
                    self.state = self.prev_state;
                }
                self.last_error = code;
            }
            K::StatusUnknown { code } => {
                if from.is_terminal() || from == S::Initialized {
                    return Err(illegal());
                }
                if from != S::Unknown {
                    self.prev_state = from;
                }
                self.state = S::Unknown;
                if code != 0 {
                    self.last_error = code;
                }
            }
            K::Resolved {
                state,
                filled_qty,
                avg_price,
            } => {
                if from.is_terminal() || from == S::Initialized || !state.is_venue_reported() {
                    return Err(illegal());
                }
                if filled_qty.raw() < self.filled_qty.raw() {
                    return Err(OrderError::FilledDecrease {
                        filled: self.filled_qty,
                        reported: filled_qty,
                    });
                }
                if filled_qty.raw() > self.filled_qty.raw() {
                    // Fills we never saw: book them at the venue's average so
                    // the cumulative quantity matches the venue.
                    let missing = filled_qty.raw() - self.filled_qty.raw();
                    let missing_notional = (avg_price.raw() as i128)
                        .checked_mul(missing as i128)
                        .ok_or(OrderError::Overflow)?;
                    self.filled_notional = self
                        .filled_notional
                        .checked_add(missing_notional)
                        .ok_or(OrderError::Overflow)?;
                    self.filled_qty = filled_qty;
                }
                self.state = state;
                self.absorb_ids(ev);
            }
        }
        self.ts_last_ns = ev.ts_local_ns;
        Ok(self.state)
    }

    /// The id the venue's matching engine knows this order by right now.
    pub fn live_id(&self) -> Option<VenueOrderId> {
        if self.is_conditional() {
            self.child_venue_order_id
        } else {
            self.venue_order_id
        }
    }

    fn working_state(&self) -> OrderState {
        if self.child_venue_order_id.is_some() && self.filled_qty.is_zero() {
            OrderState::Triggered
        } else if self.filled_qty.is_zero() {
            OrderState::Accepted
        } else {
            OrderState::PartiallyFilled
        }
    }

    fn absorb_ids(&mut self, ev: &OrderEvent) {
        if let Some(id) = ev.venue_order_id
            && !self.is_conditional()
            && self.venue_order_id.is_none()
        {
            self.venue_order_id = Some(id);
        }
    }

    fn add_fill(&mut self, price: Price, qty: Quantity) -> Result<(), OrderError> {
        if qty.raw() <= 0 || price.raw() < 0 {
            return Err(OrderError::BadFill(qty));
        }
        let new_filled = self
            .filled_qty
            .raw()
            .checked_add(qty.raw())
            .ok_or(OrderError::Overflow)?;
        // Close-position orders have no quantity until the child reports it.
        let unbounded = self.close_position && self.quantity.is_zero();
        if !unbounded && new_filled > self.quantity.raw() {
            return Err(OrderError::Overfill {
                fill: qty,
                filled: self.filled_qty,
                quantity: self.quantity,
            });
        }
        let notional = (price.raw() as i128) * (qty.raw() as i128);
        self.filled_notional = self
            .filled_notional
            .checked_add(notional)
            .ok_or(OrderError::Overflow)?;
        self.filled_qty = Quantity::from_raw(new_filled);
        Ok(())
    }
}

/// n / d rounded half-even (d > 0); `None` when d is not positive.
pub(crate) fn div_half_even(n: i128, d: i128) -> Option<i128> {
    if d <= 0 {
        return None;
    }
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d); // 0 <= r < d
    let twice = r.checked_mul(2)?;
    Some(if twice > d || (twice == d && q % 2 != 0) {
        q + 1
    } else {
        q
    })
}
