//! The end-of-run audit: the engine's view against the venue's ledger.
//!
//! Why it exists: a soak that only checks "no crash" proves nothing about
//! what traders care about — whether the engine ever lost an order, booked
//! a fill twice, missed one, or believes in a position the venue does not
//! hold. The venue's ledger is the truth; every difference is counted and
//! the first few are described.
//!
//! Definitions:
//! * **lost order**: the venue has the order (plain, or a conditional order
//!   in the algo service) and the engine either has no record of it, still
//!   calls it `Unknown`, or disagrees on whether it is open, filled or
//!   closed unfilled/partially (canceled, expired and rejected count as one
//!   "closed" class; the exact label differences are listed as notes).
//! * **phantom order**: the engine believes an order is open or has fills,
//!   and the venue never had it.
//! * **duplicated fill**: the same (symbol, trade id, order id) delivered to
//!   the strategy more than once.
//! * **missed / phantom fill**: a venue fill of our account the strategy was
//!   never told about, or a fill the strategy was told about that the venue
//!   does not have.
//! * **quantity mismatch**: same state class, different executed quantity.
//! * **position mismatch**: engine and venue amounts differ for a
//!   (symbol, position side).
//! * **fill rate**: of the fillable orders (see
//!   [`SubmittedOrder::fillable`]) the venue accepted, the share that both
//!   the venue and the engine report FILLED.

use super::mix::SubmittedOrder;
use crate::model::{Decimal, Fill, Order, OrderState, PositionEvent, PositionSide};
use crate::sim::transport::SimHandle;
use crate::sim::venue::{LedgerFill, LedgerOrder, LedgerPosition};
use std::collections::{BTreeMap, HashMap};

/// A conditional order as the algo service holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueAlgo {
    /// `clientAlgoId`.
    pub client_id: String,
    /// `algoId`.
    pub algo_id: i64,
    /// `algoStatus` (NEW, CANCELED, TRIGGERED, FINISHED, ...).
    pub status: String,
}

/// The venue's side of the audit, for one account.
#[derive(Debug, Clone, Default)]
pub struct VenueView {
    /// Every plain order (including triggered children, `algo_id` != 0).
    pub orders: Vec<LedgerOrder>,
    /// Every fill.
    pub fills: Vec<LedgerFill>,
    /// Non-flat positions.
    pub positions: Vec<LedgerPosition>,
    /// Every conditional order (open and archived).
    pub algos: Vec<VenueAlgo>,
}

impl VenueView {
    /// Snapshot of `account` in an in-process simulator.
    pub fn from_sim(sim: &SimHandle, account: usize) -> Self {
        sim.with_venue(|v| {
            let l = v.ledger();
            let algos = v
                .algos
                .values()
                .chain(v.archived_algos.iter())
                .filter(|a| a.account == account)
                .map(|a| VenueAlgo {
                    client_id: a.client_id.clone(),
                    algo_id: a.id,
                    status: a.status.as_str().to_string(),
                })
                .collect();
            VenueView {
                orders: l
                    .orders
                    .into_iter()
                    .filter(|o| o.account == account)
                    .collect(),
                fills: l
                    .fills
                    .into_iter()
                    .filter(|f| f.account == account)
                    .collect(),
                positions: l
                    .positions
                    .into_iter()
                    .filter(|p| p.account == account)
                    .collect(),
                algos,
            }
        })
    }
}

/// The engine's side of the audit.
#[derive(Debug, Clone, Copy)]
pub struct EngineView<'a> {
    /// What the strategy submitted.
    pub submitted: &'a [SubmittedOrder],
    /// Final state of every order the engine tracked.
    pub orders: &'a [Order],
    /// Every fill event delivered to the strategy, duplicates included.
    pub fills: &'a [Fill],
    /// The engine's final positions.
    pub positions: &'a [PositionEvent],
}

/// Differences found (see the module docs for the definitions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Orders compared (submitted by the strategy).
    pub orders_checked: u64,
    /// Venue orders the engine lost or disagrees with.
    pub lost: u64,
    /// Orders the engine believes in that the venue never had.
    pub phantom_orders: u64,
    /// Extra deliveries of an already delivered fill.
    pub duplicated_fills: u64,
    /// Venue fills never delivered.
    pub missed_fills: u64,
    /// Delivered fills the venue does not have.
    pub phantom_fills: u64,
    /// Same state class, different executed quantity.
    pub qty_mismatches: u64,
    /// Positions that differ.
    pub position_mismatches: u64,
    /// Venue orders on our account the strategy never submitted (other
    /// than liquidation / ADL orders).
    pub unexpected_venue_orders: u64,
    /// Fillable orders submitted.
    pub fillable: u64,
    /// Fillable orders the venue accepted (the fill-rate denominator).
    pub fillable_placed: u64,
    /// Fillable orders filled at the venue and in the engine.
    pub fillable_filled: u64,
    /// The first differences, described.
    pub problems: Vec<String>,
    /// Benign label differences (e.g. venue EXPIRED, engine Canceled).
    pub notes: Vec<String>,
}

/// Most problem/note lines kept.
const MAX_LINES: usize = 50;

impl Comparison {
    /// Every counted difference except lost orders and duplicated fills.
    pub fn mismatches(&self) -> u64 {
        self.phantom_orders
            + self.missed_fills
            + self.phantom_fills
            + self.qty_mismatches
            + self.position_mismatches
            + self.unexpected_venue_orders
    }

    /// Fillable orders filled / fillable orders placed; `None` when no
    /// fillable order reached the venue.
    pub fn fill_rate(&self) -> Option<f64> {
        (self.fillable_placed > 0)
            .then(|| self.fillable_filled as f64 / self.fillable_placed as f64)
    }

    fn problem(&mut self, s: String) {
        if self.problems.len() < MAX_LINES {
            self.problems.push(s);
        }
    }

    fn note(&mut self, s: String) {
        if self.notes.len() < MAX_LINES {
            self.notes.push(s);
        }
    }
}

/// The state class both sides are compared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Open,
    Filled,
    Closed,
    Unresolved,
}

/// The class of a venue status string (plain or algo).
pub(crate) fn venue_class(status: &str) -> Class {
    match status {
        "NEW" | "PARTIALLY_FILLED" | "TRIGGERING" | "TRIGGERED" => Class::Open,
        "FILLED" => Class::Filled,
        "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH" | "REJECTED" | "FINISHED" => Class::Closed,
        _ => Class::Unresolved,
    }
}

fn engine_class(s: OrderState) -> Class {
    match s {
        OrderState::Filled => Class::Filled,
        OrderState::Canceled | OrderState::Expired | OrderState::Rejected => Class::Closed,
        OrderState::Unknown => Class::Unresolved,
        OrderState::Initialized
        | OrderState::Submitted
        | OrderState::Accepted
        | OrderState::PartiallyFilled
        | OrderState::PendingCancel
        | OrderState::PendingUpdate
        | OrderState::Triggered => Class::Open,
    }
}

/// Liquidation and ADL orders the venue creates on our account.
pub(crate) fn is_venue_generated(client_id: &str) -> bool {
    client_id.starts_with("autoclose-") || client_id.starts_with("adl_autoclose")
}

fn side_name(s: PositionSide) -> &'static str {
    match s {
        PositionSide::Long => "LONG",
        PositionSide::Short => "SHORT",
        _ => "BOTH",
    }
}

/// Compares the two views (see the module docs).
pub fn compare(engine: EngineView<'_>, venue: &VenueView) -> Comparison {
    let mut c = Comparison::default();
    // Later records of the same id (a re-tracked order) win.
    let mut eng: HashMap<&str, &Order> = HashMap::new();
    for o in engine.orders {
        eng.insert(o.client_id.as_str(), o);
    }
    let mut plain: HashMap<&str, &LedgerOrder> = HashMap::new();
    let mut children: HashMap<i64, &LedgerOrder> = HashMap::new();
    for o in &venue.orders {
        if o.algo_id != 0 {
            children.insert(o.algo_id, o);
        } else {
            plain.insert(o.client_order_id.as_str(), o);
        }
    }
    let algos: HashMap<&str, &VenueAlgo> = venue
        .algos
        .iter()
        .map(|a| (a.client_id.as_str(), a))
        .collect();

    let mut known: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for s in engine.submitted {
        let id = s.client_id.as_str();
        known.insert(id);
        c.orders_checked += 1;
        if s.fillable {
            c.fillable += 1;
        }
        let e = eng.get(id).copied();
        // The venue's record: a plain order, or an algo order (resolved to
        // its child once triggered).
        let venue_rec: Option<(Class, Decimal, &str)> = if s.order_type.is_conditional() {
            algos.get(id).map(|a| match children.get(&a.algo_id) {
                Some(child) => (
                    venue_class(&child.status),
                    child.executed_qty,
                    child.status.as_str(),
                ),
                None => (venue_class(&a.status), Decimal::ZERO, a.status.as_str()),
            })
        } else {
            plain
                .get(id)
                .map(|o| (venue_class(&o.status), o.executed_qty, o.status.as_str()))
        };
        match (venue_rec, e) {
            (None, None) => {
                c.problem(format!(
                    "{id}: submitted but neither engine nor venue knows it"
                ));
                c.phantom_orders += 1;
            }
            (None, Some(o)) => {
                let cls = engine_class(o.state);
                if cls != Class::Closed || o.filled_qty.value().is_positive() {
                    c.phantom_orders += 1;
                    c.problem(format!(
                        "{id}: engine says {:?} (filled {}) but the venue never had it",
                        o.state, o.filled_qty
                    ));
                }
            }
            (Some((_, _, status)), None) => {
                c.lost += 1;
                c.problem(format!(
                    "{id}: venue has it ({status}), the engine does not"
                ));
            }
            (Some((vc, vqty, status)), Some(o)) => {
                let ec = engine_class(o.state);
                if vc != ec {
                    c.lost += 1;
                    c.problem(format!(
                        "{id}: venue {status}, engine {:?} (filled {} vs {})",
                        o.state, vqty, o.filled_qty
                    ));
                } else {
                    if vqty != o.filled_qty.value() {
                        c.qty_mismatches += 1;
                        c.problem(format!(
                            "{id}: executed quantity venue {vqty} vs engine {}",
                            o.filled_qty
                        ));
                    }
                    let label_differs = match o.state {
                        OrderState::Canceled => status != "CANCELED",
                        OrderState::Expired => !status.starts_with("EXPIRED"),
                        OrderState::Rejected => status != "REJECTED",
                        _ => false,
                    };
                    if label_differs {
                        c.note(format!("{id}: venue {status}, engine {:?}", o.state));
                    }
                }
                if s.fillable && !s.order_type.is_conditional() {
                    c.fillable_placed += 1;
                    if vc == Class::Filled && ec == Class::Filled {
                        c.fillable_filled += 1;
                    } else {
                        c.problem(format!(
                            "{id}: fillable {:?} {:?} ended venue {status} / engine {:?}",
                            s.order_type, s.time_in_force, o.state
                        ));
                    }
                }
            }
        }
    }
    for o in &venue.orders {
        let id = o.client_order_id.as_str();
        if o.algo_id == 0 && !is_venue_generated(id) && !known.contains(id) {
            c.unexpected_venue_orders += 1;
            c.problem(format!(
                "venue order {} ({id}) was never submitted",
                o.order_id
            ));
        }
    }
    compare_fills(&mut c, engine.fills, &venue.fills);
    compare_positions(&mut c, engine.positions, &venue.positions);
    c
}

fn compare_fills(c: &mut Comparison, delivered: &[Fill], venue: &[LedgerFill]) {
    let mut seen: BTreeMap<(String, i64, i64), (u64, Decimal)> = BTreeMap::new();
    for f in delivered {
        let key = (
            f.instrument.symbol.as_str().to_string(),
            f.trade_id,
            f.venue_order_id,
        );
        let e = seen.entry(key).or_insert((0, f.quantity.value()));
        e.0 += 1;
    }
    for ((sym, t, oid), (n, _)) in &seen {
        if *n > 1 {
            c.duplicated_fills += n - 1;
            c.problem(format!(
                "fill {sym} trade {t} order {oid} delivered {n} times"
            ));
        }
    }
    let mut at_venue: BTreeMap<(String, i64, i64), Decimal> = BTreeMap::new();
    for f in venue {
        at_venue.insert((f.symbol.clone(), f.trade_id, f.order_id), f.qty);
    }
    for (k, qty) in &at_venue {
        match seen.get(k) {
            None => {
                c.missed_fills += 1;
                c.problem(format!(
                    "fill {} trade {} order {} ({qty}) never delivered",
                    k.0, k.1, k.2
                ));
            }
            Some((_, q)) if q != qty => {
                c.qty_mismatches += 1;
                c.problem(format!(
                    "fill {} trade {}: venue {qty}, engine {q}",
                    k.0, k.1
                ));
            }
            Some(_) => {}
        }
    }
    for k in seen.keys() {
        if !at_venue.contains_key(k) {
            c.phantom_fills += 1;
            c.problem(format!(
                "fill {} trade {} order {} unknown to the venue",
                k.0, k.1, k.2
            ));
        }
    }
}

fn compare_positions(c: &mut Comparison, engine: &[PositionEvent], venue: &[LedgerPosition]) {
    let mut amounts: BTreeMap<(String, String), (Decimal, Decimal)> = BTreeMap::new();
    for p in engine {
        let k = (
            p.symbol.as_str().to_string(),
            side_name(p.position_side).to_string(),
        );
        amounts.entry(k).or_default().0 = p.amount;
    }
    for p in venue {
        let k = (p.symbol.clone(), p.position_side.clone());
        amounts.entry(k).or_default().1 = p.amount;
    }
    for ((sym, side), (e, v)) in amounts {
        if e != v {
            c.position_mismatches += 1;
            c.problem(format!("position {sym} {side}: engine {e}, venue {v}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ClientOrderId, FillKind, InstrumentId, Liquidity, OrderType, Price, Quantity, Side, Symbol,
        TimeInForce,
    };

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn venue_order(id: &str, oid: i64, status: &str, exec: &str) -> LedgerOrder {
        LedgerOrder {
            account: 0,
            symbol: "BTCUSDT".into(),
            order_id: oid,
            client_order_id: id.into(),
            side: "BUY".into(),
            order_type: "MARKET".into(),
            status: status.into(),
            price: Decimal::ZERO,
            orig_qty: d("0.003"),
            executed_qty: d(exec),
            cum_quote: Decimal::ZERO,
            position_side: "BOTH".into(),
            algo_id: 0,
            update_time: 0,
        }
    }

    fn venue_fill(t: i64, oid: i64) -> LedgerFill {
        LedgerFill {
            account: 0,
            symbol: "BTCUSDT".into(),
            trade_id: t,
            order_id: oid,
            side: "BUY".into(),
            price: d("60000"),
            qty: d("0.003"),
            realized_pnl: Decimal::ZERO,
            commission: Decimal::ZERO,
            maker: false,
            time: 0,
        }
    }

    fn inst() -> InstrumentId {
        InstrumentId::perp(Symbol::new("BTCUSDT").unwrap())
    }

    fn engine_order(id: &str, state: OrderState, filled: &str) -> Order {
        let mut o = Order::new(
            ClientOrderId::new(id).unwrap(),
            inst(),
            Side::Buy,
            OrderType::Market,
            Quantity::parse("0.003").unwrap(),
            0,
        );
        o.state = state;
        o.filled_qty = Quantity::parse(filled).unwrap();
        o
    }

    fn fill(id: &str, t: i64, oid: i64) -> Fill {
        Fill {
            instrument: inst(),
            client_id: ClientOrderId::new(id).unwrap(),
            venue_order_id: oid,
            trade_id: t,
            side: Side::Buy,
            position_side: PositionSide::Both,
            price: Price::parse("60000").unwrap(),
            quantity: Quantity::parse("0.003").unwrap(),
            commission: Default::default(),
            commission_asset: Default::default(),
            liquidity: Liquidity::Taker,
            realized_pnl: Default::default(),
            ts_venue_ms: 0,
            kind: FillKind::Normal,
            recovered: false,
        }
    }

    fn submitted(id: &str) -> SubmittedOrder {
        SubmittedOrder {
            client_id: ClientOrderId::new(id).unwrap(),
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
            side: Side::Buy,
            fillable: true,
        }
    }

    fn position(amount: &str) -> PositionEvent {
        PositionEvent {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            position_side: PositionSide::Both,
            amount: d(amount),
            entry_price: Price::ZERO,
            realized_pnl: Default::default(),
            from_snapshot: false,
            ts_venue_ms: 0,
        }
    }

    fn venue_position(amount: &str) -> LedgerPosition {
        LedgerPosition {
            account: 0,
            symbol: "BTCUSDT".into(),
            position_side: "BOTH".into(),
            amount: d(amount),
            entry_price: Decimal::ZERO,
            realized_pnl: Decimal::ZERO,
        }
    }

    #[test]
    fn agreeing_views_pass_and_each_difference_is_counted() {
        let venue = VenueView {
            orders: vec![
                venue_order("a-1", 1, "FILLED", "0.003"),
                venue_order("a-2", 2, "FILLED", "0.003"),
            ],
            fills: vec![venue_fill(10, 1), venue_fill(11, 2)],
            positions: vec![venue_position("0.006")],
            algos: vec![],
        };
        let subs = [submitted("a-1"), submitted("a-2")];
        let good_orders = [
            engine_order("a-1", OrderState::Filled, "0.003"),
            engine_order("a-2", OrderState::Filled, "0.003"),
        ];
        let good_fills = [fill("a-1", 10, 1), fill("a-2", 11, 2)];
        let pos = [position("0.006")];
        let view = EngineView {
            submitted: &subs,
            orders: &good_orders,
            fills: &good_fills,
            positions: &pos,
        };
        let c = compare(view, &venue);
        assert_eq!(c.lost + c.duplicated_fills + c.mismatches(), 0, "{c:?}");
        assert_eq!(c.fill_rate(), Some(1.0));

        // The engine thinks a-2 was rejected, heard of trade 10 twice,
        // never heard of trade 11, and holds a different position.
        let bad_orders = [
            engine_order("a-1", OrderState::Filled, "0.003"),
            engine_order("a-2", OrderState::Rejected, "0"),
        ];
        let bad_fills = [fill("a-1", 10, 1), fill("a-1", 10, 1)];
        let bad_pos = [position("0.003")];
        let c = compare(
            EngineView {
                submitted: &subs,
                orders: &bad_orders,
                fills: &bad_fills,
                positions: &bad_pos,
            },
            &venue,
        );
        assert_eq!(c.lost, 1);
        assert_eq!(c.duplicated_fills, 1);
        assert_eq!(c.missed_fills, 1);
        assert_eq!(c.position_mismatches, 1);
        assert_eq!(c.fill_rate(), Some(0.5));
        assert!(c.problems.iter().any(|p| p.contains("a-2")));
    }

    #[test]
    fn orders_the_venue_never_had_are_fine_only_when_closed_unfilled() {
        let venue = VenueView::default();
        let subs = [submitted("b-1"), submitted("b-2")];
        let orders = [
            engine_order("b-1", OrderState::Rejected, "0"),
            engine_order("b-2", OrderState::Accepted, "0"),
        ];
        let c = compare(
            EngineView {
                submitted: &subs,
                orders: &orders,
                fills: &[],
                positions: &[],
            },
            &venue,
        );
        assert_eq!(c.phantom_orders, 1);
        assert_eq!(c.lost, 0);
        assert_eq!(c.fillable_placed, 0);
        assert_eq!(c.fill_rate(), None);
    }
}
