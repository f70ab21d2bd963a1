//! What a journal says happened: the summary a restarted engine starts from.

use super::record::Record;
use crate::model::decimal::{Price, Quantity};
use crate::model::enums::{OrderStatus, OrderType, Side};
use crate::model::ids::{AlgoId, ClientOrderId, Symbol, TradeId, VenueOrderId};
use std::collections::HashMap;

/// The last thing the journal knows about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Sent (or about to be), no answer journaled: it may or may not exist at
    /// the venue, so it must be reconciled.
    Sent,
    /// The venue accepted it.
    Acked,
    /// A conditional order that triggered: its child order is live in the
    /// matching engine (see [`ReplayedOrder::child_id`]).
    Triggered,
    /// It reached this status (final ones need no reconciliation).
    Status(OrderStatus),
}

impl OrderState {
    /// True when the order can no longer trade, so reconciliation may skip it.
    pub fn is_closed(self) -> bool {
        matches!(self, OrderState::Status(s) if s.is_closed())
    }
}

/// One order the engine sent, as replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayedOrder {
    /// Client-id sequence number.
    pub seq: u64,
    /// Symbol.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Ordered quantity.
    pub qty: Quantity,
    /// Limit price.
    pub price: Option<Price>,
    /// Venue order id once acked.
    pub venue_id: Option<VenueOrderId>,
    /// A conditional order's `algoId` once the algo service accepted it.
    pub algo_id: Option<AlgoId>,
    /// A conditional order's child order id once it triggered: the order
    /// id its fills carry in `userTrades`.
    pub child_id: Option<VenueOrderId>,
    /// Sum of journaled fills.
    pub filled: Quantity,
    /// Last known state.
    pub state: OrderState,
    /// Local wall ms when the intent was journaled (where a search for
    /// fills made while the engine was down starts).
    pub sent_ms: i64,
}

/// A damaged tail that was (or, read-only, would be) cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailRepair {
    /// Byte offset where the damage starts (the new file length).
    pub offset: u64,
    /// Bytes dropped.
    pub dropped_bytes: u64,
    /// What was wrong with the first dropped record.
    pub reason: String,
}

/// The replayed summary.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// Every client id ever sent, with what we know about it.
    pub orders: HashMap<ClientOrderId, ReplayedOrder>,
    /// Highest trade id journaled per symbol: fills at or below it were
    /// already processed.
    pub last_trade_id: HashMap<Symbol, TradeId>,
    /// Highest client-id sequence number ever journaled.
    pub max_seq: Option<u64>,
    /// Valid records replayed.
    pub records: u64,
    /// Engine sessions (opens) recorded.
    pub sessions: u64,
    /// Acks, states or fills for ids with no journaled intent (venue-generated
    /// orders, or orders placed by another process).
    pub orphan_events: u64,
    /// Intents for a client id already journaled: an id used twice (must
    /// stay 0; audits and tests check it).
    pub duplicate_intents: u64,
    /// Fill records repeating a (symbol, trade id, client id) already
    /// journaled: a fill booked twice (must stay 0). The client id is part of
    /// the key because both sides of a self-trade share one trade id.
    pub duplicate_fills: u64,
    /// Every (symbol, trade id) journaled, for audits.
    pub trades: std::collections::HashSet<(Symbol, TradeId)>,
    /// Every (symbol, trade id, client id) journaled: what `duplicate_fills`
    /// is counted against.
    fills: std::collections::HashSet<(Symbol, TradeId, ClientOrderId)>,
    /// Set when a torn tail was found.
    pub tail_repair: Option<TailRepair>,
    /// File length up to the last valid record.
    pub valid_end: u64,
}

impl Replay {
    /// Orders whose outcome is not known to be final: the reconciliation list.
    pub fn open_orders(&self) -> impl Iterator<Item = (&ClientOrderId, &ReplayedOrder)> {
        self.orders.iter().filter(|(_, o)| !o.state.is_closed())
    }

    /// True when this exact fill (symbol, trade id, client id) is already
    /// journaled: what a fill recovery checks before journaling one, since
    /// fills are not journaled in trade-id order (a stream gap's fills are
    /// recovered after later ones were booked).
    pub fn has_fill(&self, symbol: Symbol, trade_id: TradeId, client_id: ClientOrderId) -> bool {
        self.fills.contains(&(symbol, trade_id, client_id))
    }

    /// True when the journal cannot prove it holds all of this order's
    /// fills: it is not closed, or it is journaled FILLED with fewer fills
    /// than its quantity (settled by a start-up query whose fill recovery
    /// did not finish).
    pub fn fills_may_be_missing(o: &ReplayedOrder) -> bool {
        match o.state {
            OrderState::Status(OrderStatus::Filled) => o.filled.value() < o.qty.value(),
            s => !s.is_closed(),
        }
    }

    pub(super) fn apply(&mut self, r: &Record) {
        self.records += 1;
        match *r {
            Record::Session { .. } => self.sessions += 1,
            Record::Intent(i) => {
                self.max_seq = Some(self.max_seq.map_or(i.seq, |m| m.max(i.seq)));
                if self.orders.contains_key(&i.client_id) {
                    self.duplicate_intents += 1;
                }
                self.orders.insert(
                    i.client_id,
                    ReplayedOrder {
                        seq: i.seq,
                        symbol: i.symbol,
                        side: i.side,
                        order_type: i.order_type,
                        qty: i.qty,
                        price: i.price,
                        venue_id: None,
                        algo_id: None,
                        child_id: None,
                        filled: Quantity::ZERO,
                        state: OrderState::Sent,
                        sent_ms: i.time_ms,
                    },
                );
            }
            Record::Ack {
                client_id,
                venue_id,
                ..
            } => match self.orders.get_mut(&client_id) {
                Some(o) => {
                    o.venue_id = Some(venue_id);
                    if o.state == OrderState::Sent {
                        o.state = OrderState::Acked;
                    }
                }
                None => self.orphan_events += 1,
            },
            Record::AlgoAck {
                client_id, algo_id, ..
            } => match self.orders.get_mut(&client_id) {
                Some(o) => {
                    o.algo_id = Some(algo_id);
                    if o.state == OrderState::Sent {
                        o.state = OrderState::Acked;
                    }
                }
                None => self.orphan_events += 1,
            },
            Record::AlgoTriggered {
                client_id,
                algo_id,
                child_id,
                ..
            } => match self.orders.get_mut(&client_id) {
                Some(o) => {
                    o.algo_id = Some(algo_id);
                    o.child_id = Some(child_id);
                    if matches!(o.state, OrderState::Sent | OrderState::Acked) {
                        o.state = OrderState::Triggered;
                    }
                }
                None => self.orphan_events += 1,
            },
            Record::Terminal {
                client_id, status, ..
            } => match self.orders.get_mut(&client_id) {
                Some(o) => o.state = OrderState::Status(status),
                None => self.orphan_events += 1,
            },
            Record::Fill {
                client_id,
                symbol,
                trade_id,
                qty,
                ..
            } => {
                self.trades.insert((symbol, trade_id));
                if !self.fills.insert((symbol, trade_id, client_id)) {
                    self.duplicate_fills += 1;
                }
                let last = self.last_trade_id.entry(symbol).or_insert(trade_id);
                *last = (*last).max(trade_id);
                match self.orders.get_mut(&client_id) {
                    Some(o) => {
                        o.filled = o
                            .filled
                            .value()
                            .checked_add(qty.value())
                            .map(Quantity::from)
                            .unwrap_or(o.filled);
                    }
                    None => self.orphan_events += 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(client: &str, trade_id: TradeId) -> Record {
        Record::Fill {
            client_id: ClientOrderId::new(client).expect("id"),
            symbol: Symbol::new("BTCUSDT").expect("symbol"),
            trade_id,
            qty: Quantity::from_raw(300_000),
            price: Price::from_raw(100),
            time_ms: 1,
        }
    }

    #[test]
    fn a_conditional_orders_ack_and_trigger_replay_into_its_ids() {
        use crate::engine::journal::Intent;
        use crate::engine::journal::record::{Frame, decode, encode, frame};
        let cid = ClientOrderId::new("bx-stop").expect("id");
        let recs = [
            Record::Intent(Intent {
                seq: 1,
                client_id: cid,
                symbol: Symbol::new("BTCUSDT").expect("symbol"),
                side: Side::Sell,
                order_type: OrderType::StopMarket,
                qty: Quantity::from_raw(100),
                price: None,
                time_ms: 1,
            }),
            Record::AlgoAck {
                client_id: cid,
                algo_id: 9_000_000_001,
                time_ms: 2,
            },
        ];
        let mut r = Replay::default();
        let mut bytes = Vec::new();
        for rec in &recs {
            bytes.clear();
            encode(rec, &mut bytes);
            let Frame::Valid { payload, .. } = frame(&bytes) else {
                panic!("frame");
            };
            assert_eq!(decode(payload).as_ref(), Ok(rec));
            r.apply(rec);
        }
        let o = r.orders.get(&cid).copied().expect("order");
        assert_eq!(
            (o.state, o.algo_id, o.child_id),
            (OrderState::Acked, Some(9_000_000_001), None)
        );
        let trig = Record::AlgoTriggered {
            client_id: cid,
            algo_id: 9_000_000_001,
            child_id: 77,
            time_ms: 3,
        };
        bytes.clear();
        encode(&trig, &mut bytes);
        let Frame::Valid { payload, .. } = frame(&bytes) else {
            panic!("frame");
        };
        assert_eq!(decode(payload), Ok(trig));
        r.apply(&trig);
        let o = r.orders.get(&cid).copied().expect("order");
        assert_eq!((o.state, o.child_id), (OrderState::Triggered, Some(77)));
        assert!(!o.state.is_closed());
        assert_eq!(r.orphan_events, 0);
    }

    #[test]
    fn both_sides_of_a_self_trade_are_not_duplicates_but_a_repeat_is() {
        let mut r = Replay::default();
        r.apply(&fill("bx-taker", 7));
        r.apply(&fill("bx-maker", 7));
        assert_eq!(r.duplicate_fills, 0);
        assert_eq!(r.trades.len(), 1);
        r.apply(&fill("bx-maker", 7));
        assert_eq!(r.duplicate_fills, 1);
    }
}
