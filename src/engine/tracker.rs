//! The order tracker: turns whatever the venue says, in whatever order it says
//! it, into one consistent stream of [`OrderEvent`]s.
//!
//! Binance reports one order through several channels that race each other:
//! the REST or WS-API reply, ORDER_TRADE_UPDATE and TRADE_LITE on the user
//! stream, ALGO_UPDATE for conditional orders, and queries during
//! reconciliation. The network layer decodes each into a venue-agnostic
//! [`Report`]; the tracker then
//! - matches it to our order by client id first (we know it before the venue
//!   does, so a stream event that beats the REST ack still matches), then by
//!   venue order id, algo id or the triggered child's order id;
//! - books each fill exactly once, deduplicating on (symbol, trade id) so
//!   TRADE_LITE + ORDER_TRADE_UPDATE for the same trade, or a replayed event,
//!   never double count;
//! - reports fills of orders it does not track (venue liquidation/ADL orders,
//!   orders placed elsewhere) as external fills so positions stay right;
//! - turns ambiguous outcomes (timeouts, -1006/-1007, HTTP 503) into the
//!   explicit `Unknown` state and lists those orders for resolution.
//!
//! All storage (pool, index maps, dedupe window) is allocated up front; in
//! steady state applying a report does not allocate.

use std::collections::VecDeque;

pub use super::report::{Report, ReportSource, RequestKind, is_outcome_unknown};

use super::hash::{FxHashMap, map_with_room};
use super::pool::{OrderHandle, OrderPool, PoolError};
use crate::model::fill::{Fill, FillKind, Liquidity};
use crate::model::ids::{AlgoId, ClientOrderId, InstrumentId, Symbol, TradeId, VenueOrderId};
use crate::model::{
    AlgoStatus, ExecutionType, Money, Order, OrderError, OrderEvent, OrderEventKind, OrderState,
    OrderStatus, Quantity, Side,
};

/// One side of one venue trade: (symbol, trade id, our side). Both sides of
/// a self-trade (our taker crossing our own resting order) carry the same
/// trade id, so the id alone would book the second side as a duplicate and
/// lose it.
type TradeKey = (Symbol, TradeId, Side);

/// What the tracker did with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Matched an order and emitted this many events (0 = nothing new, e.g.
    /// a late ack).
    Applied(u8),
    /// A fill already booked (same symbol and trade id).
    DuplicateFill,
    /// A fill of an order we do not track, emitted as an external fill.
    External,
    /// Matched nothing and carried no fill; nothing to do.
    Unmatched,
}

/// Why a report could not be applied. The tracker is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// The order refused the event (illegal transition, overfill…).
    #[error("order {client_id}: {source}")]
    Order {
        /// The order.
        client_id: ClientOrderId,
        /// Why.
        source: OrderError,
    },
    /// Pool exhausted or stale handle.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// A client id already tracked (ids must be unique per session).
    #[error("client order id {0} is already tracked")]
    DuplicateClientId(ClientOrderId),
}

/// Sizes of the preallocated structures.
#[derive(Debug, Clone, Copy)]
pub struct TrackerConfig {
    /// Orders tracked at once (`order_pool_size`).
    pub order_capacity: usize,
    /// Trade ids remembered for fill dedupe; older ones are forgotten.
    pub dedupe_window: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            order_capacity: 4096,
            dedupe_window: 16384,
        }
    }
}

/// Owns the order pool and its indexes; see the module docs.
pub struct OrderTracker {
    pool: OrderPool,
    by_client: FxHashMap<ClientOrderId, OrderHandle>,
    by_venue: FxHashMap<(Symbol, VenueOrderId), OrderHandle>,
    by_algo: FxHashMap<AlgoId, OrderHandle>,
    by_child: FxHashMap<(Symbol, VenueOrderId), OrderHandle>,
    /// (symbol, trade id, side) → full details (commission) already reported.
    seen_trades: FxHashMap<TradeKey, bool>,
    seen_order: VecDeque<TradeKey>,
    dedupe_window: usize,
    /// Highest trade id booked per symbol: where fill recovery after a
    /// stream gap starts (`userTrades?fromId=` this + 1).
    last_trade: FxHashMap<Symbol, TradeId>,
}

impl OrderTracker {
    /// Allocates everything the tracker will ever use.
    pub fn new(cfg: TrackerConfig) -> Self {
        let n = cfg.order_capacity;
        let w = cfg.dedupe_window.max(1);
        OrderTracker {
            pool: OrderPool::with_capacity(n),
            by_client: map_with_room(n),
            by_venue: map_with_room(n),
            by_algo: map_with_room(n),
            by_child: map_with_room(n),
            seen_trades: map_with_room(w),
            seen_order: VecDeque::with_capacity(w),
            dedupe_window: w,
            last_trade: map_with_room(64),
        }
    }

    /// The order behind a handle.
    pub fn get(&self, h: OrderHandle) -> Result<&Order, PoolError> {
        self.pool.get(h)
    }

    /// Finds a tracked order by client id.
    pub fn find(&self, client_id: &ClientOrderId) -> Option<OrderHandle> {
        self.by_client.get(client_id).copied()
    }

    /// Finds a tracked order by venue order id (its own or its child's).
    pub fn find_venue(&self, symbol: Symbol, id: VenueOrderId) -> Option<OrderHandle> {
        self.by_child
            .get(&(symbol, id))
            .or_else(|| self.by_venue.get(&(symbol, id)))
            .copied()
    }

    /// Live orders tracked.
    pub fn len(&self) -> usize {
        self.pool.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.pool.is_empty()
    }

    /// All tracked orders.
    pub fn orders(&self) -> impl Iterator<Item = (OrderHandle, &Order)> + '_ {
        self.pool.iter()
    }

    /// The highest trade id the user stream delivered for `symbol` this
    /// session, if any: fills after it are the ones a stream gap may have
    /// swallowed. Fills recovered by query do not move it — they arrive out
    /// of order (an order checked during a gap can have a newer trade than
    /// one still missing), and moving the mark past a missing fill would
    /// hide it from the next gap recovery.
    pub fn last_trade_id(&self, symbol: Symbol) -> Option<TradeId> {
        self.last_trade.get(&symbol).copied()
    }

    /// Whether our `side` of the fill (symbol, trade id) was already booked
    /// (within the dedupe window): recovery skips it instead of
    /// re-emitting it.
    pub fn has_trade(&self, symbol: Symbol, trade_id: TradeId, side: Side) -> bool {
        self.seen_trades.contains_key(&(symbol, trade_id, side))
    }

    /// The order a report is about (client id, then venue/child id, then
    /// algo id), without applying it: reconciliation compares first.
    pub fn lookup_report(&self, r: &Report) -> Option<OrderHandle> {
        self.lookup(r)
    }

    /// Orders whose fate is unknown and must be queried (by client id).
    pub fn unknown_orders(&self) -> impl Iterator<Item = (OrderHandle, &Order)> + '_ {
        self.pool
            .iter()
            .filter(|(_, o)| o.state == OrderState::Unknown)
    }

    /// Takes ownership of a new order and marks it submitted: call just
    /// before the request is written. Emits `Submitted`.
    pub fn submit(
        &mut self,
        order: Order,
        ts_ns: u64,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<OrderHandle, TrackerError> {
        if self.by_client.contains_key(&order.client_id) {
            return Err(TrackerError::DuplicateClientId(order.client_id));
        }
        let mut o = order;
        let ev = event_for(&o, OrderEventKind::Submitted, 0, ts_ns);
        o.apply(&ev).map_err(|source| TrackerError::Order {
            client_id: o.client_id,
            source,
        })?;
        let h = self.pool.acquire(o)?;
        self.by_client.insert(o.client_id, h);
        out(Some(h), ev);
        Ok(h)
    }

    /// Records that a cancel request is being sent. Emits `PendingCancel`.
    pub fn request_cancel(
        &mut self,
        h: OrderHandle,
        ts_ns: u64,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<(), TrackerError> {
        self.transition(h, OrderEventKind::PendingCancel, 0, ts_ns, out)
    }

    /// Records that a modify request is being sent. Emits `PendingUpdate`.
    pub fn request_modify(
        &mut self,
        h: OrderHandle,
        ts_ns: u64,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<(), TrackerError> {
        self.transition(h, OrderEventKind::PendingUpdate, 0, ts_ns, out)
    }

    /// Forgets an order (normally once terminal and past the window in which
    /// late reports can arrive) and returns its final copy.
    pub fn release(&mut self, h: OrderHandle) -> Result<Order, TrackerError> {
        let o = self.pool.release(h)?;
        let sym = o.instrument.symbol;
        if self.by_client.get(&o.client_id) == Some(&h) {
            self.by_client.remove(&o.client_id);
        }
        if let Some(id) = o.venue_order_id
            && self.by_venue.get(&(sym, id)) == Some(&h)
        {
            self.by_venue.remove(&(sym, id));
        }
        if let Some(id) = o.algo_id
            && self.by_algo.get(&id) == Some(&h)
        {
            self.by_algo.remove(&id);
        }
        if let Some(id) = o.child_venue_order_id
            && self.by_child.get(&(sym, id)) == Some(&h)
        {
            self.by_child.remove(&(sym, id));
        }
        Ok(o)
    }

    /// Applies one report, emitting the resulting events through `out`.
    pub fn apply(
        &mut self,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let Some(h) = self.lookup(r) else {
            return self.apply_unmatched(r, out);
        };
        self.learn_ids(h, r);
        match r.source {
            ReportSource::Reply(kind) => self.apply_reply(h, kind, r, out),
            ReportSource::NoReply(kind) => self.ambiguous(h, kind, r.error_code, r, out),
            ReportSource::OrderTradeUpdate => self.apply_order_update(h, r, out),
            ReportSource::TradeLite | ReportSource::Recovered => self.apply_fill(h, r, out),
            ReportSource::AlgoUpdate => self.apply_algo_update(h, r, out),
            ReportSource::Query => self.apply_query(h, r, out),
        }
    }

    fn lookup(&self, r: &Report) -> Option<OrderHandle> {
        if !r.client_id.as_str().is_empty()
            && let Some(h) = self.by_client.get(&r.client_id)
        {
            return Some(*h);
        }
        if let Some(id) = r.venue_order_id
            && let Some(h) = self.find_venue(r.symbol, id)
        {
            return Some(h);
        }
        if let Some(id) = r.algo_id
            && let Some(h) = self.by_algo.get(&id)
        {
            return Some(*h);
        }
        None
    }

    /// Records ids the report reveals (venue id from an early stream event,
    /// algo id) so later reports without a client id still match.
    fn learn_ids(&mut self, h: OrderHandle, r: &Report) {
        let Ok(o) = self.pool.get_mut(h) else { return };
        let sym = o.instrument.symbol;
        if let Some(id) = r.algo_id
            && o.is_conditional()
            && o.algo_id.is_none()
        {
            o.algo_id = Some(id);
            self.by_algo.insert(id, h);
        }
        if let Some(id) = r.venue_order_id
            && !o.is_conditional()
            && o.venue_order_id.is_none()
            && r.source != ReportSource::AlgoUpdate
        {
            o.venue_order_id = Some(id);
            self.by_venue.insert((sym, id), h);
        }
    }

    fn apply_unmatched(
        &mut self,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let is_fill_source = matches!(
            r.source,
            ReportSource::OrderTradeUpdate | ReportSource::TradeLite | ReportSource::Recovered
        );
        if !is_fill_source || r.last_qty.raw() <= 0 {
            return Ok(Outcome::Unmatched);
        }
        let key = (r.symbol, r.trade_id, r.side);
        if r.trade_id != 0
            && let Some(details) = self.seen_trades.get(&key).copied()
        {
            return Ok(self.details_or_duplicate(details, r, None, out));
        }
        let fill = fill_from(
            r,
            InstrumentId::perp(r.symbol),
            r.venue_order_id.unwrap_or(0),
        );
        self.remember_trade(key, r);
        let ev = OrderEvent {
            client_id: r.client_id,
            instrument: fill.instrument,
            venue_order_id: r.venue_order_id,
            ts_venue_ms: r.ts_venue_ms,
            ts_local_ns: r.ts_recv_ns,
            kind: OrderEventKind::ExternalFill(fill),
        };
        out(None, ev);
        Ok(Outcome::External)
    }

    fn apply_reply(
        &mut self,
        h: OrderHandle,
        kind: RequestKind,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let state = self.pool.get(h)?.state;
        if r.error_code != 0 {
            if is_outcome_unknown(r.error_code) {
                return self.ambiguous(h, kind, r.error_code, r, out);
            }
            let ek = match kind {
                RequestKind::Submit => {
                    if !matches!(state, OrderState::Submitted | OrderState::Unknown) {
                        return Ok(Outcome::Applied(0));
                    }
                    OrderEventKind::Rejected {
                        code: r.error_code,
                        reason: r.error_msg,
                    }
                }
                RequestKind::Cancel => OrderEventKind::CancelRejected {
                    code: r.error_code,
                    reason: r.error_msg,
                },
                RequestKind::Modify => OrderEventKind::ModifyRejected {
                    code: r.error_code,
                    reason: r.error_msg,
                },
            };
            return self.emit(h, ek, r, out);
        }
        let mut n = 0;
        let acked = self.pool.get(h)?.ts_acked_ns != 0;
        if matches!(state, OrderState::Submitted | OrderState::Unknown)
            && kind == RequestKind::Submit
        {
            n += self.emit_n(h, OrderEventKind::Accepted, r, out)?;
        } else if !acked && let Ok(o) = self.pool.get_mut(h) {
            // Late ack after the stream already moved the order on.
            o.ts_acked_ns = r.ts_recv_ns;
        }
        match kind {
            RequestKind::Submit | RequestKind::Cancel => {
                if let Some(k) = closing_kind(r) {
                    n += self.close_if_open(h, k, r, out)?;
                }
            }
            RequestKind::Modify => {
                if let Some(k) = closing_kind(r) {
                    n += self.close_if_open(h, k, r, out)?;
                } else {
                    n += self.amend_if_new(h, r, out)?;
                }
            }
        }
        Ok(Outcome::Applied(n))
    }

    fn apply_order_update(
        &mut self,
        h: OrderHandle,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let o = *self.pool.get(h)?;
        let mut n = 0;
        // A matching-engine event for a conditional order is its child's: if
        // it beats ALGO_UPDATE TRIGGERED, it tells us the child id.
        if o.is_conditional()
            && o.child_venue_order_id.is_none()
            && let Some(child) = r.venue_order_id
            && !o.state.is_terminal()
        {
            n += self.trigger(h, child, r, out)?;
        }
        if o.close_position
            && o.quantity.is_zero()
            && r.quantity.raw() > 0
            && let Ok(m) = self.pool.get_mut(h)
        {
            m.quantity = r.quantity;
        }
        let exec = r.exec_type.unwrap_or(ExecutionType::New);
        if r.last_qty.raw() > 0 {
            // TRADE, CALCULATED, or an unseen type carrying a fill.
            return match self.apply_fill(h, r, out)? {
                Outcome::Applied(k) => Ok(Outcome::Applied(k + n)),
                other => Ok(other),
            };
        }
        match exec {
            ExecutionType::New => {
                // For a conditional order this is its child's NEW, already
                // turned into `Triggered` above.
                let s = self.pool.get(h)?.state;
                if matches!(s, OrderState::Submitted | OrderState::Unknown) && !o.is_conditional() {
                    n += self.emit_n(h, OrderEventKind::Accepted, r, out)?;
                }
            }
            ExecutionType::Canceled | ExecutionType::Expired => {
                let k = closing_kind(r).unwrap_or(if exec == ExecutionType::Canceled {
                    OrderEventKind::Canceled
                } else {
                    OrderEventKind::Expired {
                        reason: r.expiry_reason,
                    }
                });
                n += self.close_if_open(h, k, r, out)?;
            }
            ExecutionType::Amendment => {
                n += self.amend_if_new(h, r, out)?;
            }
            _ => {}
        }
        Ok(Outcome::Applied(n))
    }

    fn apply_algo_update(
        &mut self,
        h: OrderHandle,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let state = self.pool.get(h)?.state;
        let n = match r.algo_status {
            Some(AlgoStatus::New)
                if matches!(state, OrderState::Submitted | OrderState::Unknown) =>
            {
                self.emit_n(h, OrderEventKind::Accepted, r, out)?
            }
            Some(AlgoStatus::Triggered) | Some(AlgoStatus::Finished) => {
                match r.child_venue_order_id {
                    Some(child) if !state.is_terminal() => self.trigger(h, child, r, out)?,
                    _ => 0,
                }
            }
            Some(AlgoStatus::Canceled) => {
                self.close_if_open(h, OrderEventKind::Canceled, r, out)?
            }
            Some(AlgoStatus::Expired) => self.close_if_open(
                h,
                OrderEventKind::Expired {
                    reason: r.expiry_reason,
                },
                r,
                out,
            )?,
            Some(AlgoStatus::Rejected) => {
                let k = OrderEventKind::Rejected {
                    code: r.error_code,
                    reason: r.error_msg,
                };
                self.close_if_open(h, k, r, out)?
            }
            // TRIGGERING, unknown statuses, stale NEW: nothing changes.
            _ => 0,
        };
        Ok(Outcome::Applied(n))
    }

    fn apply_query(
        &mut self,
        h: OrderHandle,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let o = *self.pool.get(h)?;
        if o.state.is_terminal() {
            return Ok(Outcome::Applied(0));
        }
        let target = if r.error_code == -2013 {
            // The venue never saw it (or archived it, impossible for an order
            // this young): it is not live.
            Some(OrderState::Rejected)
        } else if r.error_code != 0 {
            None
        } else if let Some(a) = r.algo_status {
            match a {
                AlgoStatus::New => Some(OrderState::Accepted),
                AlgoStatus::Triggering | AlgoStatus::Triggered => Some(OrderState::Triggered),
                AlgoStatus::Finished => {
                    let cum = r.cum_qty.unwrap_or(Quantity::ZERO);
                    Some(if !cum.is_zero() && cum == r.quantity {
                        OrderState::Filled
                    } else {
                        OrderState::Canceled
                    })
                }
                AlgoStatus::Canceled => Some(OrderState::Canceled),
                AlgoStatus::Rejected => Some(OrderState::Rejected),
                AlgoStatus::Expired => Some(OrderState::Expired),
                AlgoStatus::Unknown(_) => None,
            }
        } else {
            r.status.and_then(state_of_status)
        };
        let Some(mut target) = target else {
            return Ok(Outcome::Applied(0));
        };
        let mut n = 0;
        if o.is_conditional()
            && o.child_venue_order_id.is_none()
            && matches!(
                o.state,
                OrderState::Submitted
                    | OrderState::Accepted
                    | OrderState::Unknown
                    | OrderState::PendingCancel
            )
            && let Some(child) = r.child_venue_order_id
        {
            // The handoff is part of the order's story even when the query
            // finds it already over (FINISHED): its fills carry the child's
            // id, and the journal records which order it became.
            n = self.trigger(h, child, r, out)?;
        } else if target == OrderState::Triggered && o.child_venue_order_id.is_none() {
            // Without a child id a triggered order cannot be followed yet.
            target = OrderState::Accepted;
        }
        let filled_qty = r.cum_qty.unwrap_or(o.filled_qty).max(o.filled_qty);
        let cur = *self.pool.get(h)?;
        if cur.state == target && filled_qty == cur.filled_qty {
            return Ok(Outcome::Applied(n));
        }
        let kind = OrderEventKind::Resolved {
            state: target,
            filled_qty,
            avg_price: r.avg_price,
        };
        Ok(Outcome::Applied(n + self.emit_n(h, kind, r, out)?))
    }

    fn apply_fill(
        &mut self,
        h: OrderHandle,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        if r.last_qty.raw() <= 0 {
            return Ok(Outcome::Applied(0));
        }
        let o = *self.pool.get(h)?;
        let mut n = 0;
        if o.is_conditional()
            && o.child_venue_order_id.is_none()
            && let Some(child) = r.venue_order_id
        {
            n += self.trigger(h, child, r, out)?;
        }
        let key = (r.symbol, r.trade_id, r.side);
        if r.trade_id != 0 {
            if let Some(details) = self.seen_trades.get(&key).copied() {
                return Ok(self.details_or_duplicate(details, r, Some(h), out));
            }
        } else if let Some(cum) = r.cum_qty
            && cum.raw() <= o.filled_qty.raw()
        {
            // No trade id to dedupe on; the cumulative quantity says we
            // already counted this one.
            return Ok(Outcome::DuplicateFill);
        }
        let venue_id = r.venue_order_id.or(o.live_id()).unwrap_or(0);
        let mut fill = fill_from(r, o.instrument, venue_id);
        fill.client_id = o.client_id;
        let ev = OrderEvent {
            client_id: o.client_id,
            instrument: o.instrument,
            venue_order_id: Some(venue_id),
            ts_venue_ms: r.ts_venue_ms,
            ts_local_ns: r.ts_recv_ns,
            kind: OrderEventKind::Filled(fill),
        };
        let m = self.pool.get_mut(h)?;
        m.apply(&ev).map_err(|source| TrackerError::Order {
            client_id: o.client_id,
            source,
        })?;
        if let Some(id) = m.venue_order_id
            && !m.is_conditional()
        {
            self.by_venue.insert((o.instrument.symbol, id), h);
        }
        self.remember_trade(key, r);
        out(Some(h), ev);
        Ok(Outcome::Applied(n + 1))
    }

    /// A fill seen before: emit its details once if this report is the first
    /// to carry a commission, otherwise it is a pure duplicate.
    fn details_or_duplicate(
        &mut self,
        had_details: bool,
        r: &Report,
        h: Option<OrderHandle>,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Outcome {
        if had_details || r.commission.is_none() {
            return Outcome::DuplicateFill;
        }
        if let Some(d) = self.seen_trades.get_mut(&(r.symbol, r.trade_id, r.side)) {
            *d = true;
        }
        let (client_id, instrument) = match h.and_then(|h| self.pool.get(h).ok()) {
            Some(o) => (o.client_id, o.instrument),
            None => (r.client_id, InstrumentId::perp(r.symbol)),
        };
        let venue_id = r.venue_order_id.unwrap_or(0);
        let mut fill = fill_from(r, instrument, venue_id);
        fill.client_id = client_id;
        out(
            h,
            OrderEvent {
                client_id,
                instrument,
                venue_order_id: r.venue_order_id,
                ts_venue_ms: r.ts_venue_ms,
                ts_local_ns: r.ts_recv_ns,
                kind: OrderEventKind::FillDetails(fill),
            },
        );
        Outcome::DuplicateFill
    }

    /// Marks a fill as already delivered (with its details), e.g. one
    /// recovered from `userTrades` at start-up, so a stream copy of it that
    /// arrives later is a duplicate and not booked twice.
    pub fn mark_fill_seen(&mut self, symbol: Symbol, trade_id: TradeId, side: Side) {
        let key = (symbol, trade_id, side);
        if trade_id == 0 || self.seen_trades.contains_key(&key) {
            return;
        }
        if self.seen_order.len() >= self.dedupe_window
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen_trades.remove(&old);
        }
        self.seen_trades.insert(key, true);
        self.seen_order.push_back(key);
    }

    fn remember_trade(&mut self, key: TradeKey, r: &Report) {
        if key.1 == 0 {
            return;
        }
        if self.seen_order.len() >= self.dedupe_window
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen_trades.remove(&old);
        }
        self.seen_trades.insert(key, r.commission.is_some());
        self.seen_order.push_back(key);
        if r.source == ReportSource::Recovered {
            return;
        }
        let last = self.last_trade.entry(key.0).or_insert(key.1);
        if key.1 > *last {
            *last = key.1;
        }
    }

    fn trigger(
        &mut self,
        h: OrderHandle,
        child: VenueOrderId,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<u8, TrackerError> {
        let o = self.pool.get(h)?;
        if o.child_venue_order_id == Some(child) {
            return Ok(0);
        }
        let sym = o.instrument.symbol;
        let n = self.emit_n(h, OrderEventKind::Triggered { child }, r, out)?;
        self.by_child.insert((sym, child), h);
        Ok(n)
    }

    fn close_if_open(
        &mut self,
        h: OrderHandle,
        kind: OrderEventKind,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<u8, TrackerError> {
        let s = self.pool.get(h)?.state;
        if s.is_terminal() {
            // Duplicate (reply + stream) or already closed by a fill.
            return Ok(0);
        }
        self.emit_n(h, kind, r, out)
    }

    fn amend_if_new(
        &mut self,
        h: OrderHandle,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<u8, TrackerError> {
        let o = self.pool.get(h)?;
        let same = o.price == Some(r.price) && o.quantity == r.quantity;
        // A late amendment of an order already closed (a gap recovery booked
        // its end first) changes nothing: the order's story is over.
        if o.state.is_terminal()
            || (same && o.state != OrderState::PendingUpdate)
            || r.quantity.is_zero()
        {
            return Ok(0);
        }
        let k = OrderEventKind::Amended {
            price: r.price,
            quantity: r.quantity,
        };
        self.emit_n(h, k, r, out)
    }

    /// A request whose outcome is unknown. Only meaningful while the order
    /// still waits for that request's answer: once the stream has spoken,
    /// a late ambiguous reply says nothing.
    fn ambiguous(
        &mut self,
        h: OrderHandle,
        kind: RequestKind,
        code: i32,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        let s = self.pool.get(h)?.state;
        let waiting = match kind {
            RequestKind::Submit => s == OrderState::Submitted,
            RequestKind::Cancel => s == OrderState::PendingCancel,
            RequestKind::Modify => s == OrderState::PendingUpdate,
        };
        if !waiting {
            return Ok(Outcome::Applied(0));
        }
        self.emit(h, OrderEventKind::StatusUnknown { code }, r, out)
    }

    fn emit(
        &mut self,
        h: OrderHandle,
        kind: OrderEventKind,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<Outcome, TrackerError> {
        self.emit_n(h, kind, r, out).map(Outcome::Applied)
    }

    fn emit_n(
        &mut self,
        h: OrderHandle,
        kind: OrderEventKind,
        r: &Report,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<u8, TrackerError> {
        let o = self.pool.get_mut(h)?;
        let mut ev = event_for(o, kind, r.ts_venue_ms, r.ts_recv_ns);
        if ev.venue_order_id.is_none() {
            ev.venue_order_id = r.venue_order_id;
        }
        o.apply(&ev).map_err(|source| TrackerError::Order {
            client_id: o.client_id,
            source,
        })?;
        out(Some(h), ev);
        Ok(1)
    }

    fn transition(
        &mut self,
        h: OrderHandle,
        kind: OrderEventKind,
        ts_venue_ms: i64,
        ts_ns: u64,
        out: &mut impl FnMut(Option<OrderHandle>, OrderEvent),
    ) -> Result<(), TrackerError> {
        let o = self.pool.get_mut(h)?;
        let ev = event_for(o, kind, ts_venue_ms, ts_ns);
        o.apply(&ev).map_err(|source| TrackerError::Order {
            client_id: o.client_id,
            source,
        })?;
        out(Some(h), ev);
        Ok(())
    }
}

fn event_for(o: &Order, kind: OrderEventKind, ts_venue_ms: i64, ts_ns: u64) -> OrderEvent {
    OrderEvent {
        client_id: o.client_id,
        instrument: o.instrument,
        venue_order_id: o.live_id(),
        ts_venue_ms,
        ts_local_ns: ts_ns,
        kind,
    }
}

fn fill_from(r: &Report, instrument: InstrumentId, venue_order_id: VenueOrderId) -> Fill {
    Fill {
        instrument,
        client_id: r.client_id,
        venue_order_id,
        trade_id: r.trade_id,
        side: r.side,
        position_side: r.position_side,
        price: r.last_price,
        quantity: r.last_qty,
        commission: r.commission.unwrap_or(Money::ZERO),
        commission_asset: r.commission_asset,
        liquidity: Liquidity::from_maker_flag(r.maker),
        realized_pnl: r.realized_pnl,
        ts_venue_ms: r.ts_venue_ms,
        kind: r
            .fill_kind
            .unwrap_or_else(|| FillKind::from_client_id(&r.client_id)),
        recovered: r.source == ReportSource::Recovered,
    }
}

/// The closing event a status implies, if any (fills are never inferred from
/// a status: they come with trade ids on the stream).
fn closing_kind(r: &Report) -> Option<OrderEventKind> {
    // Algo replies (cancel algo order, algo queries) speak in algo statuses.
    match r.algo_status {
        Some(AlgoStatus::Canceled) => return Some(OrderEventKind::Canceled),
        Some(AlgoStatus::Expired) => {
            return Some(OrderEventKind::Expired {
                reason: r.expiry_reason,
            });
        }
        Some(AlgoStatus::Rejected) => {
            return Some(OrderEventKind::Rejected {
                code: r.error_code,
                reason: r.error_msg,
            });
        }
        _ => {}
    }
    match r.status? {
        OrderStatus::Canceled => Some(OrderEventKind::Canceled),
        OrderStatus::Expired | OrderStatus::ExpiredInMatch => Some(OrderEventKind::Expired {
            reason: r.expiry_reason,
        }),
        OrderStatus::Rejected => Some(OrderEventKind::Rejected {
            code: r.error_code,
            reason: r.error_msg,
        }),
        _ => None,
    }
}

fn state_of_status(s: OrderStatus) -> Option<OrderState> {
    Some(match s {
        OrderStatus::New | OrderStatus::NewInsurance | OrderStatus::NewAdl => OrderState::Accepted,
        OrderStatus::PartiallyFilled => OrderState::PartiallyFilled,
        OrderStatus::Filled => OrderState::Filled,
        OrderStatus::Canceled => OrderState::Canceled,
        OrderStatus::Expired | OrderStatus::ExpiredInMatch => OrderState::Expired,
        OrderStatus::Rejected => OrderState::Rejected,
        OrderStatus::Unknown(_) => return None,
    })
}
