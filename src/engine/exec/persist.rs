//! The execution thread's side of the journal: what gets written when.
//!
//! Why here and not in the tracker: the tracker is pure bookkeeping (tested
//! without files); the execution thread is the one place that knows an order
//! is about to leave (intent) and what the venue answered (events), so the
//! hooks sit next to it and the loop itself only calls two methods.

use crate::config::Config;
use crate::engine::client_ids::ClientIdGenerator;
use crate::engine::clock::local_wall_ms;
use crate::engine::hash::{FxHashMap, map_with_room};
use crate::engine::journal::{Intent, Journal, JournalError, Record};
use crate::engine::runner::EngineError;
use crate::model::enums::OrderStatus;
use crate::model::ids::{AlgoId, VenueOrderId};
use crate::model::{ClientOrderId, Order, OrderEvent, OrderEventKind, OrderState};

/// The open journal plus what the execution thread needs to write to it.
#[derive(Debug)]
pub struct Persist {
    journal: Journal,
    /// Parses the sequence number out of this session's client ids.
    ids: ClientIdGenerator,
    /// Write failures after the first are counted, not logged again.
    failures: u64,
    /// What this session journaled of each unfinished conditional order:
    /// (algo id, child order id or 0). The tracker learns both ids from
    /// whichever report carries them first (placement reply, ALGO_UPDATE,
    /// the child's ORDER_TRADE_UPDATE, a query), sometimes without an event
    /// of its own, so each event of a conditional order is compared with
    /// this and the difference journaled. Entries go when the order ends.
    algo_journaled: FxHashMap<ClientOrderId, (AlgoId, VenueOrderId)>,
}

/// Unfinished conditional orders remembered without reallocating.
const ALGO_ROOM: usize = 1024;

impl Persist {
    /// Wraps an opened journal; `ids` is a copy of the strategy's generator.
    pub fn new(journal: Journal, ids: ClientIdGenerator) -> Persist {
        Persist {
            journal,
            ids,
            failures: 0,
            algo_journaled: map_with_room(ALGO_ROOM),
        }
    }

    /// The journal (replayed state, path).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Write failures so far (the engine keeps trading; a restart then
    /// relies on the venue's lists and the engine's id tag).
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Journals an order about to be sent. Called before the request is
    /// handed to the network thread; with `journal_fsync = "always"` the
    /// record is on stable storage when this returns. An error means the
    /// order must not be sent: a restart could not know its id.
    pub fn intent(&mut self, o: &Order) -> Result<(), JournalError> {
        let rec = Record::Intent(Intent {
            seq: self.ids.sequence_of(&o.client_id).unwrap_or(0),
            client_id: o.client_id,
            symbol: o.instrument.symbol,
            side: o.side,
            order_type: o.order_type,
            qty: o.quantity,
            price: o.price,
            time_ms: local_wall_ms(),
        });
        let r = self.journal.append(&rec);
        if r.is_err() {
            self.failures += 1;
        }
        r
    }

    /// Journals what one order event says (acks, fills, final states).
    /// `after` is the order as the tracker holds it after the event. Returns
    /// the error of the first failed write only (for the log).
    pub fn event(&mut self, ev: &OrderEvent, after: Option<&Order>) -> Option<JournalError> {
        let mut first_err = None;
        let mut put = |j: &mut Journal, r: Record, failures: &mut u64| {
            if let Err(e) = j.append(&r) {
                *failures += 1;
                if *failures == 1 {
                    first_err = Some(e);
                }
            }
        };
        // A conditional order's ack and trigger go before its fills and end.
        if let Some(o) = after
            && o.is_conditional()
        {
            for r in self.algo_progress(o, ev.ts_venue_ms).into_iter().flatten() {
                put(&mut self.journal, r, &mut self.failures);
            }
        }
        match &ev.kind {
            OrderEventKind::Accepted => {
                if let Some(v) = ev.venue_order_id {
                    let r = Record::Ack {
                        client_id: ev.client_id,
                        venue_id: v,
                        time_ms: ev.ts_venue_ms,
                    };
                    put(&mut self.journal, r, &mut self.failures);
                }
            }
            // A fill nobody owns (a venue-generated ADL/liquidation trade
            // recovered from userTrades, which carries no client id) is not
            // an order of ours and has no id a record can hold: journaling
            // it would write a record replay refuses, a hole that stops
            // every later start. Positions come from positionRisk anyway.
            OrderEventKind::Filled(f) | OrderEventKind::ExternalFill(f)
                if journalable(&f.client_id) =>
            {
                put(&mut self.journal, Record::fill(f), &mut self.failures);
            }
            _ => {}
        }
        let ends = matches!(
            ev.kind,
            OrderEventKind::Filled(_)
                | OrderEventKind::Canceled
                | OrderEventKind::Expired { .. }
                | OrderEventKind::Rejected { .. }
                | OrderEventKind::Resolved { .. }
        );
        if ends
            && let Some(o) = after
            && let Some(status) = final_status(o.state)
        {
            let r = Record::Terminal {
                client_id: o.client_id,
                status,
                time_ms: ev.ts_venue_ms,
            };
            put(&mut self.journal, r, &mut self.failures);
            if o.is_conditional() {
                self.algo_journaled.remove(&o.client_id);
            }
        }
        first_err
    }

    /// The algo records `o` needs that this session has not journaled yet:
    /// its `algoId` once known, then its child order id once triggered.
    fn algo_progress(&mut self, o: &Order, time_ms: i64) -> [Option<Record>; 2] {
        let Some(algo_id) = o.algo_id else {
            return [None, None];
        };
        let child = o.child_venue_order_id.unwrap_or(0);
        let had = self.algo_journaled.get(&o.client_id).copied();
        if had == Some((algo_id, child)) {
            return [None, None];
        }
        self.algo_journaled.insert(o.client_id, (algo_id, child));
        let ack = (had.map(|h| h.0) != Some(algo_id)).then_some(Record::AlgoAck {
            client_id: o.client_id,
            algo_id,
            time_ms,
        });
        let trig =
            (child != 0 && had.map(|h| h.1) != Some(child)).then_some(Record::AlgoTriggered {
                client_id: o.client_id,
                algo_id,
                child_id: child,
                time_ms,
            });
        [ack, trig]
    }

    /// Journals what start-up learned of a journal's conditional order (its
    /// `algoId`, its child once triggered) that the journal does not hold
    /// yet, so the next start needs no query to know it.
    pub fn algo_learned(
        &mut self,
        client_id: ClientOrderId,
        algo_id: Option<AlgoId>,
        child: Option<VenueOrderId>,
    ) {
        let Some(algo_id) = algo_id else { return };
        let Some(o) = self.journal.replay().orders.get(&client_id).copied() else {
            return;
        };
        if o.algo_id != Some(algo_id) {
            let _ = self.append(&Record::AlgoAck {
                client_id,
                algo_id,
                time_ms: 0,
            });
        }
        if let Some(child) = child.filter(|c| *c > 0)
            && o.child_id != Some(child)
        {
            let _ = self.append(&Record::AlgoTriggered {
                client_id,
                algo_id,
                child_id: child,
                time_ms: 0,
            });
        }
    }

    /// Appends a record decided outside the loop (start-up reconciliation).
    pub fn append(&mut self, r: &Record) -> Result<(), JournalError> {
        let res = self.journal.append(r);
        if res.is_err() {
            self.failures += 1;
        }
        res
    }

    /// Forces everything to disk (clean shutdown).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.journal.sync()
    }
}

/// True when a record can hold this client id: replay refuses an empty
/// one (it would read back as damage in the middle of the journal).
fn journalable(id: &ClientOrderId) -> bool {
    !id.as_str().is_empty()
}

/// The venue status a terminal local state is journaled as.
pub fn final_status(s: OrderState) -> Option<OrderStatus> {
    match s {
        OrderState::Filled => Some(OrderStatus::Filled),
        OrderState::Canceled => Some(OrderStatus::Canceled),
        OrderState::Expired => Some(OrderStatus::Expired),
        OrderState::Rejected => Some(OrderStatus::Rejected),
        _ => None,
    }
}

/// Opens the configured journal (replaying it), or `None` when the config
/// has no `journal_path`. A journal with a hole in the middle stops start-up.
pub fn open(config: &Config) -> Result<Option<Journal>, EngineError> {
    let Some(path) = &config.engine.journal_path else {
        return Ok(None);
    };
    Journal::open(path, config.engine.journal_fsync)
        .map(Some)
        .map_err(|e| EngineError::StartupIo {
            step: "journal",
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::journal::{FsyncPolicy, read_journal};
    use crate::model::fill::{AssetCode, Fill, FillKind, Liquidity};
    use crate::model::ids::{InstrumentId, Symbol};
    use crate::model::{Money, PositionSide, Price, Quantity, Side};

    fn ownerless_fill(trade_id: i64) -> OrderEvent {
        let sym = Symbol::new("BTCUSDT").expect("symbol");
        let f = Fill {
            instrument: InstrumentId::perp(sym),
            client_id: ClientOrderId::default(),
            venue_order_id: 42,
            trade_id,
            side: Side::Sell,
            position_side: PositionSide::Both,
            price: Price::from_raw(6_000_000_000_000),
            quantity: Quantity::from_raw(300_000),
            commission: Money::ZERO,
            commission_asset: AssetCode::EMPTY,
            liquidity: Liquidity::Unknown,
            realized_pnl: Money::ZERO,
            ts_venue_ms: 1,
            kind: FillKind::Normal,
            recovered: true,
        };
        OrderEvent {
            client_id: ClientOrderId::default(),
            instrument: f.instrument,
            venue_order_id: Some(42),
            ts_venue_ms: 1,
            ts_local_ns: 1,
            kind: OrderEventKind::ExternalFill(f),
        }
    }

    /// A recovered ADL trade has no client id: journaling it wrote a record
    /// replay refuses, and every later start stopped at the "hole".
    #[test]
    fn a_fill_without_a_client_id_never_makes_the_journal_unreadable() {
        let dir = std::env::temp_dir().join(format!(
            "bx-persist-{}-{}",
            std::process::id(),
            local_wall_ms()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("j.journal");
        let journal = Journal::open(&path, FsyncPolicy::Always).expect("open");
        let ids = ClientIdGenerator::new("bx.t").expect("ids");
        let mut p = Persist::new(journal, ids);
        assert!(p.event(&ownerless_fill(7), None).is_none());
        // A record after it: a bad record in the middle is a hole.
        p.append(&Record::Session {
            started_ms: 2,
            pid: 1,
        })
        .expect("append");
        p.sync().expect("sync");
        let replay = read_journal(&path).expect("journal stays readable");
        assert_eq!(replay.sessions, 2);
        assert!(replay.trades.is_empty(), "an ownerless fill is not ours");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
