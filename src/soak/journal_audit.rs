//! The crash audit: what the journal(s) every engine incarnation wrote say
//! against what the venue's ledger says.
//!
//! Why it exists: after SIGKILLs the engine's memory is gone; the journal is
//! its only durable view, and "killing it loses nothing" is exactly the
//! claim that this view matches the venue. Four checks, each counted:
//!
//! 1. **unjournaled orders** — an order of ours at the venue without a
//!    journaled intent: it was sent before being journaled, so a crash at
//!    that moment would have lost it.
//! 2. **state** — an order the venue closed that the journal still calls
//!    open (*unsettled*: a restart should have reconciled it), or closed in
//!    a different class (filled vs canceled/expired/rejected; the exact
//!    label inside the closed class is only a note). A journaled order the
//!    venue never had must be journaled closed with nothing filled.
//! 3. **fills** — every venue fill of our account is journaled exactly once
//!    under (symbol, trade id, client id) with the venue's quantity; a
//!    journaled fill the venue does not have is a phantom.
//! 4. **positions** — the final incarnation's positions equal the venue's.
//! 5. **conditional orders** — every conditional order the venue's algo
//!    service holds and the journal settled carries the venue's `algoId`,
//!    and, once it triggered, its child's order id (the id its fills carry):
//!    a restart must know the order was accepted and what it became.
//!
//! The journal is read with the engine's own replay (a torn tail, legal
//! after SIGKILL, is cut; damage in the middle fails the audit).

use super::compare::{Comparison, VenueView, is_venue_generated, venue_class};
use crate::engine::journal::record::{Frame, Record, decode, frame};
use crate::engine::journal::{JournalError, MAGIC, OrderState, TailRepair, replay_bytes};
use crate::model::{Decimal, OrderType};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One order as the journal knows it at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournaledOrder {
    /// Order type of the intent (conditional types live in the algo
    /// service under the same client id).
    pub order_type: OrderType,
    /// Last journaled state.
    pub state: OrderState,
    /// Sum of journaled fills.
    pub filled: Decimal,
    /// A conditional order's journaled `algoId` (last one journaled).
    pub algo_id: Option<i64>,
    /// A conditional order's journaled child order id.
    pub child_id: Option<i64>,
}

/// One journaled fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournaledFill {
    /// Client id the fill was booked under.
    pub client_id: String,
    /// Symbol.
    pub symbol: String,
    /// Venue trade id.
    pub trade_id: i64,
    /// Quantity.
    pub qty: Decimal,
}

/// The engine's durable view: everything the journal file holds.
#[derive(Debug, Clone, Default)]
pub struct JournalView {
    /// Every client id ever journaled as an intent.
    pub orders: HashMap<String, JournaledOrder>,
    /// Every fill record, in journal order (duplicates kept).
    pub fills: Vec<JournaledFill>,
    /// Engine sessions (incarnations) that opened the journal.
    pub sessions: u64,
    /// Valid records.
    pub records: u64,
    /// Intents repeating a client id.
    pub duplicate_intents: u64,
    /// A torn tail left by the last writer, if any.
    pub torn_tail: Option<TailRepair>,
}

impl JournalView {
    /// Reads and replays the journal at `path` without modifying it.
    pub fn read(path: &Path) -> Result<Self, JournalError> {
        let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            op: "read",
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Replays journal bytes (`path` only names them in errors).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, JournalError> {
        // The engine's replay decides validity: where the valid records end,
        // torn tail or corrupt middle.
        let replay = replay_bytes(path, bytes)?;
        let mut v = JournalView {
            sessions: replay.sessions,
            records: replay.records,
            duplicate_intents: replay.duplicate_intents,
            torn_tail: replay.tail_repair.clone(),
            ..Default::default()
        };
        let end = usize::try_from(replay.valid_end).unwrap_or(bytes.len());
        let body = bytes.get(MAGIC.len().min(end)..end).unwrap_or(&[]);
        let mut pos = 0usize;
        while let Some(rest) = body.get(pos..).filter(|r| !r.is_empty()) {
            let Frame::Valid { payload, total } = frame(rest) else {
                break;
            };
            pos += total;
            if let Ok(r) = decode(payload) {
                v.apply(&r);
            }
        }
        Ok(v)
    }

    fn apply(&mut self, r: &Record) {
        match *r {
            Record::Session { .. } => {}
            Record::Intent(i) => {
                self.orders.insert(
                    i.client_id.as_str().to_string(),
                    JournaledOrder {
                        order_type: i.order_type,
                        state: OrderState::Sent,
                        filled: Decimal::ZERO,
                        algo_id: None,
                        child_id: None,
                    },
                );
            }
            Record::Ack { client_id, .. } => {
                if let Some(o) = self.orders.get_mut(client_id.as_str())
                    && o.state == OrderState::Sent
                {
                    o.state = OrderState::Acked;
                }
            }
            Record::AlgoAck {
                client_id, algo_id, ..
            } => {
                if let Some(o) = self.orders.get_mut(client_id.as_str()) {
                    o.algo_id = Some(algo_id);
                    if o.state == OrderState::Sent {
                        o.state = OrderState::Acked;
                    }
                }
            }
            Record::AlgoTriggered {
                client_id,
                algo_id,
                child_id,
                ..
            } => {
                if let Some(o) = self.orders.get_mut(client_id.as_str()) {
                    o.algo_id = Some(algo_id);
                    o.child_id = Some(child_id);
                    if matches!(o.state, OrderState::Sent | OrderState::Acked) {
                        o.state = OrderState::Triggered;
                    }
                }
            }
            Record::Terminal {
                client_id, status, ..
            } => {
                if let Some(o) = self.orders.get_mut(client_id.as_str()) {
                    o.state = OrderState::Status(status);
                }
            }
            Record::Fill {
                client_id,
                symbol,
                trade_id,
                qty,
                ..
            } => {
                if let Some(o) = self.orders.get_mut(client_id.as_str()) {
                    o.filled = o.filled.checked_add(qty.value()).unwrap_or(o.filled);
                }
                self.fills.push(JournaledFill {
                    client_id: client_id.as_str().to_string(),
                    symbol: symbol.as_str().to_string(),
                    trade_id,
                    qty: qty.value(),
                });
            }
        }
    }
}

/// A position as an engine reported it: (symbol, BOTH/LONG/SHORT, amount).
pub type PositionRow = (String, String, Decimal);

/// The crash audit's counts (see the module docs); all must be zero.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct JournalAudit {
    /// Engine incarnations that opened the journal.
    pub sessions: u64,
    /// Client ids journaled.
    pub orders_journaled: u64,
    /// Orders of ours at the venue (plain and conditional).
    pub venue_orders: u64,
    /// Fills of our account at the venue.
    pub venue_fills: u64,
    /// Fill records in the journal.
    pub journaled_fills: u64,
    /// Venue orders of ours with no journaled intent.
    pub unjournaled_orders: u64,
    /// Client ids journaled twice as intents.
    pub duplicate_intents: u64,
    /// Orders that ended at the venue (or never reached it) while the
    /// journal still calls them open.
    pub unsettled_orders: u64,
    /// Orders closed in a different class (filled vs not).
    pub state_mismatches: u64,
    /// Orders whose journaled fills sum to a different quantity.
    pub qty_mismatches: u64,
    /// Settled conditional orders whose journal lacks the venue's `algoId`
    /// or, once triggered, its child order id (or holds different ones).
    pub algo_mismatches: u64,
    /// Venue fills of our orders missing from the journal.
    pub missed_fills: u64,
    /// Fills of venue-generated orders (ADL, liquidation, settlement) on
    /// our account missing from the journal. A failure: the stream
    /// delivers them with the venue's client id, and a start-up or live
    /// recovery from `userTrades` asks the venue whose order an unknown
    /// trade is before booking it, so each is journaled under its id.
    pub unjournaled_external_fills: u64,
    /// Extra journal records of an already journaled fill.
    pub duplicate_fills: u64,
    /// Journaled fills the venue does not have.
    pub phantom_fills: u64,
    /// Conditional orders whose algo ack and trigger were checked.
    pub algo_orders_checked: u64,
    /// Positions compared (engine ∪ venue legs).
    pub positions_compared: u64,
    /// Positions that differ (or could not be compared).
    pub position_mismatches: u64,
    /// The first differences, described.
    pub problems: Vec<String>,
    /// Benign differences (closed-label differences).
    pub notes: Vec<String>,
    #[serde(skip)]
    lines: [usize; 4],
}

const MAX_LINES: usize = 50;
/// Most problem lines per check.
const PER_CHECK: usize = 12;
/// Problem lines by check: orders, state, fills, positions.
const ORDERS: usize = 0;
const STATE: usize = 1;
const FILLS: usize = 2;
const POSITIONS: usize = 3;

impl JournalAudit {
    /// Every counted difference.
    pub fn total(&self) -> u64 {
        self.unjournaled_orders
            + self.duplicate_intents
            + self.unsettled_orders
            + self.state_mismatches
            + self.qty_mismatches
            + self.algo_mismatches
            + self.missed_fills
            + self.unjournaled_external_fills
            + self.duplicate_fills
            + self.phantom_fills
            + self.position_mismatches
    }

    /// Adds the counts to the soak's comparison so the one verdict rule
    /// ([`super::SoakSummary::failures`]) judges them: orders the journal
    /// lost or disagrees on are lost orders, repeated fills duplicates,
    /// the rest mismatches.
    pub fn fold_into(&self, c: &mut Comparison) {
        c.lost += self.unjournaled_orders
            + self.unsettled_orders
            + self.state_mismatches
            + self.algo_mismatches;
        c.duplicated_fills += self.duplicate_fills + self.duplicate_intents;
        c.missed_fills += self.missed_fills + self.unjournaled_external_fills;
        c.phantom_fills += self.phantom_fills;
        c.qty_mismatches += self.qty_mismatches;
        c.position_mismatches += self.position_mismatches;
        for p in &self.problems {
            if c.problems.len() < MAX_LINES {
                c.problems.push(format!("journal: {p}"));
            }
        }
    }

    /// Keeps a description; each check keeps at most [`PER_CHECK`] so
    /// that one noisy check does not hide the others.
    fn problem(&mut self, check: usize, s: String) {
        if let Some(n) = self.lines.get_mut(check)
            && *n < PER_CHECK
            && self.problems.len() < MAX_LINES
        {
            *n += 1;
            self.problems.push(s);
        }
    }
}

/// Compares the journal with the venue; `positions` are the final
/// incarnation's (None when it reported none, which fails the check).
pub fn audit_journal(
    j: &JournalView,
    venue: &VenueView,
    positions: Option<&[PositionRow]>,
) -> JournalAudit {
    let mut a = JournalAudit {
        sessions: j.sessions,
        orders_journaled: j.orders.len() as u64,
        journaled_fills: j.fills.len() as u64,
        duplicate_intents: j.duplicate_intents,
        ..Default::default()
    };
    if j.duplicate_intents > 0 {
        a.problem(
            ORDERS,
            format!(
                "{} client ids journaled twice as intents",
                j.duplicate_intents
            ),
        );
    }
    audit_orders(&mut a, j, venue);
    audit_algos(&mut a, j, venue);
    audit_fills(&mut a, j, venue);
    audit_positions(&mut a, positions, venue);
    a
}

/// What the venue says about one client id: (status, executed quantity).
fn venue_record<'v>(
    venue: &'v VenueView,
    id: &str,
    order_type: OrderType,
    plain: &HashMap<&str, usize>,
    children: &HashMap<i64, usize>,
) -> Option<(&'v str, Decimal)> {
    if order_type.is_conditional() {
        let algo = venue.algos.iter().find(|a| a.client_id == id)?;
        match children
            .get(&algo.algo_id)
            .and_then(|i| venue.orders.get(*i))
        {
            Some(child) => Some((child.status.as_str(), child.executed_qty)),
            None => Some((algo.status.as_str(), Decimal::ZERO)),
        }
    } else {
        let o = plain.get(id).and_then(|i| venue.orders.get(*i))?;
        Some((o.status.as_str(), o.executed_qty))
    }
}

fn audit_orders(a: &mut JournalAudit, j: &JournalView, venue: &VenueView) {
    let mut plain: HashMap<&str, usize> = HashMap::new();
    let mut children: HashMap<i64, usize> = HashMap::new();
    for (i, o) in venue.orders.iter().enumerate() {
        if o.algo_id != 0 {
            children.insert(o.algo_id, i);
        } else {
            plain.insert(o.client_order_id.as_str(), i);
        }
    }
    // (1) Every order of ours the venue has must have been journaled first.
    for o in &venue.orders {
        let id = o.client_order_id.as_str();
        if o.algo_id != 0 || is_venue_generated(id) {
            continue;
        }
        a.venue_orders += 1;
        if !j.orders.contains_key(id) {
            a.unjournaled_orders += 1;
            a.problem(
                ORDERS,
                format!(
                    "venue order {} ({id}, {}) has no journaled intent",
                    o.order_id, o.status
                ),
            );
        }
    }
    for al in &venue.algos {
        a.venue_orders += 1;
        if !j.orders.contains_key(al.client_id.as_str()) {
            a.unjournaled_orders += 1;
            a.problem(
                ORDERS,
                format!(
                    "venue algo order {} ({}, {}) has no journaled intent",
                    al.algo_id, al.client_id, al.status
                ),
            );
        }
    }
    // (2) Every journaled order ended in the journal as it did at the venue.
    let mut ids: Vec<&String> = j.orders.keys().collect();
    ids.sort_unstable();
    for id in ids {
        let Some(o) = j.orders.get(id) else { continue };
        let jclass = match o.state {
            OrderState::Status(s) => venue_class(s.as_str()),
            OrderState::Sent | OrderState::Acked | OrderState::Triggered => {
                super::compare::Class::Open
            }
        };
        match venue_record(venue, id, o.order_type, &plain, &children) {
            None => {
                if jclass != super::compare::Class::Closed || o.filled.is_positive() {
                    a.unsettled_orders += 1;
                    a.problem(
                        STATE,
                        format!(
                            "{id}: the venue never had it, the journal says {:?} (filled {})",
                            o.state, o.filled
                        ),
                    );
                }
            }
            Some((status, executed)) => {
                let vclass = venue_class(status);
                if vclass == super::compare::Class::Open {
                    // Still open at the venue at the end: counted by the
                    // venue-side audit (orphaned order).
                    continue;
                }
                if jclass == super::compare::Class::Open {
                    a.unsettled_orders += 1;
                    a.problem(
                        STATE,
                        format!(
                            "{id}: venue {status}, the journal never settled it ({:?})",
                            o.state
                        ),
                    );
                } else if jclass != vclass {
                    a.state_mismatches += 1;
                    a.problem(
                        STATE,
                        format!(
                            "{id}: venue {status} (executed {executed}), journal {:?}",
                            o.state
                        ),
                    );
                } else if let OrderState::Status(s) = o.state
                    && s.as_str() != status
                    && a.notes.len() < MAX_LINES
                {
                    a.notes
                        .push(format!("{id}: venue {status}, journal {}", s.as_str()));
                }
                if executed != o.filled {
                    a.qty_mismatches += 1;
                    a.problem(
                        STATE,
                        format!(
                            "{id}: executed venue {executed}, journal fills sum {}",
                            o.filled
                        ),
                    );
                }
            }
        }
    }
}

/// Check 5: the journal knows each settled conditional order's `algoId`
/// and its child (the venue's ledger child carries the algo id).
fn audit_algos(a: &mut JournalAudit, j: &JournalView, venue: &VenueView) {
    let child_of: HashMap<i64, i64> = venue
        .orders
        .iter()
        .filter(|o| o.algo_id != 0)
        .map(|o| (o.algo_id, o.order_id))
        .collect();
    for al in &venue.algos {
        let Some(o) = j.orders.get(al.client_id.as_str()) else {
            continue; // counted as an unjournaled order
        };
        // An order the journal still calls open is counted as unsettled
        // (if the venue closed it) or still live at the end.
        if !o.state.is_closed() {
            continue;
        }
        a.algo_orders_checked += 1;
        let child = child_of.get(&al.algo_id).copied();
        if o.algo_id != Some(al.algo_id) {
            a.algo_mismatches += 1;
            a.problem(
                STATE,
                format!(
                    "{}: venue algo id {}, journal {:?}",
                    al.client_id, al.algo_id, o.algo_id
                ),
            );
        } else if child.is_some() && o.child_id != child {
            a.algo_mismatches += 1;
            a.problem(
                STATE,
                format!(
                    "{}: triggered into venue order {:?}, journal child {:?}",
                    al.client_id, child, o.child_id
                ),
            );
        }
    }
}

fn audit_fills(a: &mut JournalAudit, j: &JournalView, venue: &VenueView) {
    let client_of: HashMap<i64, &str> = venue
        .orders
        .iter()
        .map(|o| (o.order_id, o.client_order_id.as_str()))
        .collect();
    let mut at_venue: BTreeMap<(&str, i64, &str), Decimal> = BTreeMap::new();
    for f in &venue.fills {
        let cid = client_of.get(&f.order_id).copied().unwrap_or("");
        at_venue.insert((f.symbol.as_str(), f.trade_id, cid), f.qty);
    }
    a.venue_fills = at_venue.len() as u64;
    let mut journaled: BTreeMap<(&str, i64, &str), (u64, Decimal)> = BTreeMap::new();
    for f in &j.fills {
        let e = journaled
            .entry((f.symbol.as_str(), f.trade_id, f.client_id.as_str()))
            .or_insert((0, f.qty));
        e.0 += 1;
    }
    for ((sym, t, cid), (n, _)) in &journaled {
        if *n > 1 {
            a.duplicate_fills += n - 1;
            a.problem(
                FILLS,
                format!("fill {sym} trade {t} ({cid}) journaled {n} times"),
            );
        }
    }
    for ((sym, t, cid), qty) in &at_venue {
        match journaled.get(&(*sym, *t, *cid)) {
            None if is_venue_generated(cid) => {
                a.unjournaled_external_fills += 1;
                a.problem(
                    FILLS,
                    format!(
                        "venue-generated fill {sym} trade {t} ({cid}, {qty}) is not in the journal"
                    ),
                );
            }
            None => {
                a.missed_fills += 1;
                a.problem(
                    FILLS,
                    format!("fill {sym} trade {t} ({cid}, {qty}) is not in the journal"),
                );
            }
            Some((_, q)) if q != qty => {
                a.qty_mismatches += 1;
                a.problem(
                    FILLS,
                    format!("fill {sym} trade {t} ({cid}): venue {qty}, journal {q}"),
                );
            }
            Some(_) => {}
        }
    }
    for (sym, t, cid) in journaled.keys() {
        if !at_venue.contains_key(&(*sym, *t, *cid)) {
            a.phantom_fills += 1;
            a.problem(
                FILLS,
                format!("journaled fill {sym} trade {t} ({cid}) unknown to the venue"),
            );
        }
    }
}

fn audit_positions(a: &mut JournalAudit, engine: Option<&[PositionRow]>, venue: &VenueView) {
    let Some(engine) = engine else {
        a.position_mismatches += 1;
        a.problem(
            POSITIONS,
            "the final incarnation reported no positions".into(),
        );
        return;
    };
    let mut legs: BTreeMap<(&str, &str), (Decimal, Decimal)> = BTreeMap::new();
    for (sym, side, amt) in engine {
        legs.entry((sym.as_str(), side.as_str())).or_default().0 = *amt;
    }
    for p in &venue.positions {
        legs.entry((p.symbol.as_str(), p.position_side.as_str()))
            .or_default()
            .1 = p.amount;
    }
    for ((sym, side), (e, v)) in legs {
        a.positions_compared += 1;
        if e != v {
            a.position_mismatches += 1;
            a.problem(
                POSITIONS,
                format!("position {sym} {side}: engine {e}, venue {v}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::journal::Intent;
    use crate::engine::journal::record::encode;
    use crate::model::{ClientOrderId, OrderStatus, Price, Quantity, Side, Symbol};
    use crate::sim::venue::{LedgerFill, LedgerOrder, LedgerPosition};

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn vorder(id: i64, cid: &str, status: &str, executed: &str) -> LedgerOrder {
        LedgerOrder {
            account: 0,
            symbol: "BTCUSDT".into(),
            order_id: id,
            client_order_id: cid.into(),
            side: "BUY".into(),
            order_type: "LIMIT".into(),
            status: status.into(),
            price: d("100"),
            orig_qty: d("1"),
            executed_qty: d(executed),
            cum_quote: Decimal::ZERO,
            position_side: "BOTH".into(),
            algo_id: 0,
            update_time: 0,
        }
    }

    fn vfill(trade: i64, order: i64) -> LedgerFill {
        LedgerFill {
            account: 0,
            symbol: "BTCUSDT".into(),
            trade_id: trade,
            order_id: order,
            side: "BUY".into(),
            price: d("100"),
            qty: d("1"),
            realized_pnl: Decimal::ZERO,
            commission: Decimal::ZERO,
            maker: false,
            time: 0,
        }
    }

    fn jorder(state: OrderState, filled: &str) -> JournaledOrder {
        JournaledOrder {
            order_type: OrderType::Limit,
            state,
            filled: d(filled),
            algo_id: None,
            child_id: None,
        }
    }

    fn jfill(cid: &str, trade: i64) -> JournaledFill {
        JournaledFill {
            client_id: cid.into(),
            symbol: "BTCUSDT".into(),
            trade_id: trade,
            qty: d("1"),
        }
    }

    fn venue() -> VenueView {
        VenueView {
            orders: vec![
                vorder(1, "bx.a-1", "FILLED", "1"),
                vorder(2, "bx.a-2", "CANCELED", "0"),
            ],
            fills: vec![vfill(10, 1)],
            positions: vec![LedgerPosition {
                account: 0,
                symbol: "BTCUSDT".into(),
                position_side: "BOTH".into(),
                amount: d("1"),
                entry_price: d("100"),
                realized_pnl: Decimal::ZERO,
            }],
            algos: vec![],
        }
    }

    fn pos(a: &str) -> Vec<PositionRow> {
        vec![("BTCUSDT".into(), "BOTH".into(), d(a))]
    }

    /// The journal of `venue()`'s two orders: bx.a-1 filled (trade 10),
    /// bx.a-2 canceled.
    fn journal_of_venue() -> JournalView {
        let mut j = JournalView::default();
        j.orders.insert(
            "bx.a-1".into(),
            jorder(OrderState::Status(OrderStatus::Filled), "1"),
        );
        j.orders.insert(
            "bx.a-2".into(),
            jorder(OrderState::Status(OrderStatus::Canceled), "0"),
        );
        j.fills.push(jfill("bx.a-1", 10));
        j
    }

    #[test]
    fn a_journal_that_matches_the_venue_has_no_differences() {
        let mut j = journal_of_venue();
        // Sent, never reached the venue, settled as never placed.
        j.orders.insert(
            "bx.a-3".into(),
            jorder(OrderState::Status(OrderStatus::Rejected), "0"),
        );
        let a = audit_journal(&j, &venue(), Some(&pos("1")));
        assert_eq!(a.total(), 0, "{:?}", a.problems);
        assert_eq!(
            (a.venue_orders, a.venue_fills, a.positions_compared),
            (2, 1, 1)
        );
    }

    #[test]
    fn every_kind_of_loss_is_counted() {
        let mut j = JournalView::default();
        // bx.a-1 never journaled (unjournaled); bx.a-2 still Acked (unsettled).
        j.orders
            .insert("bx.a-2".into(), jorder(OrderState::Acked, "0"));
        // Journaled FILLED, the venue never had it.
        j.orders.insert(
            "bx.a-9".into(),
            jorder(OrderState::Status(OrderStatus::Filled), "1"),
        );
        j.fills.push(jfill("bx.a-9", 11)); // phantom
        j.fills.push(jfill("bx.a-9", 11)); // and duplicated
        let a = audit_journal(&j, &venue(), Some(&pos("2")));
        assert_eq!(a.unjournaled_orders, 1);
        assert_eq!(a.unsettled_orders, 2);
        assert_eq!(a.missed_fills, 1);
        assert_eq!(a.phantom_fills, 1);
        assert_eq!(a.duplicate_fills, 1);
        assert_eq!(a.position_mismatches, 1);
        let mut c = Comparison::default();
        a.fold_into(&mut c);
        assert_eq!(c.lost, 3);
        assert_eq!(c.duplicated_fills, 1);
        assert!(c.mismatches() >= 3);
        // No positions reported at all is a failure, not a pass.
        let b = audit_journal(&j, &venue(), None);
        assert_eq!(b.position_mismatches, 1);
    }

    #[test]
    fn a_filled_order_journaled_canceled_is_a_state_mismatch() {
        let mut j = JournalView::default();
        j.orders.insert(
            "bx.a-1".into(),
            jorder(OrderState::Status(OrderStatus::Canceled), "1"),
        );
        j.orders.insert(
            "bx.a-2".into(),
            jorder(OrderState::Status(OrderStatus::Expired), "0"),
        );
        j.fills.push(jfill("bx.a-1", 10));
        let a = audit_journal(&j, &venue(), Some(&pos("1")));
        assert_eq!(a.state_mismatches, 1);
        assert_eq!(a.total(), 1, "{:?}", a.problems);
        // CANCELED vs EXPIRED is the same class: a note only.
        assert_eq!(a.notes.len(), 1);
    }

    #[test]
    fn a_settled_conditional_order_must_carry_its_algo_id_and_child() {
        use crate::soak::compare::VenueAlgo;
        let mut v = venue();
        v.algos.push(VenueAlgo {
            client_id: "bx.a-5".into(),
            algo_id: 900,
            status: "FINISHED".into(),
        });
        let mut child = vorder(3, "bx.a-5", "FILLED", "1");
        child.algo_id = 900;
        v.orders.push(child);
        v.fills.push(vfill(11, 3));
        let mut j = journal_of_venue();
        j.fills.push(jfill("bx.a-5", 11));
        let mut stop = jorder(OrderState::Status(OrderStatus::Filled), "1");
        stop.order_type = OrderType::StopMarket;
        stop.algo_id = Some(900);
        j.orders.insert("bx.a-5".into(), stop.clone());
        // Ack journaled, handoff not: the journal cannot tell its fills'.
        let a = audit_journal(&j, &v, Some(&pos("1")));
        assert_eq!(a.algo_orders_checked, 1);
        assert_eq!(a.algo_mismatches, 1, "{:?}", a.problems);
        assert_eq!(a.total(), 1, "{:?}", a.problems);
        stop.child_id = Some(3);
        j.orders.insert("bx.a-5".into(), stop.clone());
        let a = audit_journal(&j, &v, Some(&pos("1")));
        assert_eq!(a.total(), 0, "{:?}", a.problems);
        stop.algo_id = None;
        j.orders.insert("bx.a-5".into(), stop);
        assert_eq!(audit_journal(&j, &v, Some(&pos("1"))).algo_mismatches, 1);
    }

    #[test]
    fn a_venue_generated_fill_missing_from_the_journal_fails() {
        let mut v = venue();
        v.orders.push(vorder(4, "adl_autoclose", "FILLED", "1"));
        v.fills.push(vfill(12, 4));
        let mut j = journal_of_venue();
        let a = audit_journal(&j, &v, Some(&pos("1")));
        assert_eq!(a.unjournaled_external_fills, 1);
        assert_eq!(a.total(), 1, "{:?}", a.problems);
        let mut c = Comparison::default();
        a.fold_into(&mut c);
        assert_eq!(c.missed_fills, 1);
        j.fills.push(jfill("adl_autoclose", 12));
        assert_eq!(audit_journal(&j, &v, Some(&pos("1"))).total(), 0);
    }

    #[test]
    fn the_journal_file_replays_with_a_torn_tail() {
        let cid = ClientOrderId::new("bx.a-1").unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let mut bytes = MAGIC.to_vec();
        for r in [
            Record::Session {
                started_ms: 1,
                pid: 1,
            },
            Record::Intent(Intent {
                seq: 1,
                client_id: cid,
                symbol: sym,
                side: Side::Buy,
                order_type: OrderType::Limit,
                qty: Quantity::parse("1").unwrap(),
                price: Price::parse("100").ok(),
                time_ms: 1,
            }),
            Record::Fill {
                client_id: cid,
                symbol: sym,
                trade_id: 10,
                qty: Quantity::parse("1").unwrap(),
                price: Price::parse("100").unwrap(),
                time_ms: 2,
            },
        ] {
            encode(&r, &mut bytes);
        }
        bytes.extend_from_slice(&[30, 0, 0, 0, 9, 9]); // the write a kill cut
        let v = JournalView::from_bytes(Path::new("t"), &bytes).unwrap();
        assert_eq!(v.sessions, 1);
        assert_eq!(v.orders.len(), 1);
        assert_eq!(v.fills.len(), 1);
        assert_eq!(v.orders.get("bx.a-1").map(|o| o.filled), Some(d("1")));
        assert!(v.torn_tail.is_some());
    }
}
