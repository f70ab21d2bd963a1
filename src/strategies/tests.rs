//! Strategy logic against a scripted context: no engine, no sockets, so the
//! decisions (what is sent, when a scenario passes or fails) are checked in
//! isolation from the transport.

use super::*;
use crate::engine::positions::Position;
use crate::engine::{BookTicker, ClientIdGenerator, CommandError, Context, OrderFactory, Strategy};
use crate::model::{
    AssetCode, ClientOrderId, ErrorText, Fill, FillKind, InstrumentId, Liquidity, Money, Order,
    OrderEvent, OrderEventKind, OrderType, PositionSide, Price, Quantity, Side, Symbol,
    TimeInForce,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// Test-only record of commands; size does not matter here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
enum Sent {
    Submit(Order),
    Cancel(ClientOrderId),
    Modify(ClientOrderId, Price),
    CancelAll,
}

struct Mock {
    sent: Vec<Sent>,
    book: Option<BookTicker>,
    position: Decimal,
    now: u64,
    factory: OrderFactory,
    stop_requested: bool,
}

impl Mock {
    fn new() -> Self {
        Mock {
            sent: Vec::new(),
            book: None,
            position: Decimal::ZERO,
            now: 1_000,
            stop_requested: false,
            factory: OrderFactory::new(ClientIdGenerator::new("t").unwrap_or_else(|_| panic!())),
        }
    }
    fn set_book(&mut self, bid: &str, ask: &str) -> BookTicker {
        self.now += 1_000;
        let b = BookTicker {
            instrument: inst(),
            bid_price: px(bid),
            bid_qty: qty("1"),
            ask_price: px(ask),
            ask_qty: qty("1"),
            update_id: self.now,
            ts_venue_ms: 0,
            ts_recv_ns: self.now,
        };
        self.book = Some(b);
        b
    }
    fn last_submit(&self) -> Option<Order> {
        self.sent.iter().rev().find_map(|s| match s {
            Sent::Submit(o) => Some(*o),
            _ => None,
        })
    }
}

impl Context for Mock {
    type Instrument = ();
    fn submit(&mut self, order: Order) -> Result<ClientOrderId, CommandError> {
        self.sent.push(Sent::Submit(order));
        Ok(order.client_id)
    }
    fn cancel(&mut self, _i: InstrumentId, id: ClientOrderId) -> Result<(), CommandError> {
        self.sent.push(Sent::Cancel(id));
        Ok(())
    }
    fn modify(
        &mut self,
        _i: InstrumentId,
        id: ClientOrderId,
        price: Price,
        _q: Quantity,
    ) -> Result<(), CommandError> {
        self.sent.push(Sent::Modify(id, price));
        Ok(())
    }
    fn cancel_all(&mut self, _i: InstrumentId) -> Result<(), CommandError> {
        self.sent.push(Sent::CancelAll);
        Ok(())
    }
    fn position(&self, symbol: Symbol, side: PositionSide) -> Option<Position> {
        Some(Position {
            symbol,
            position_side: side,
            amount: self.position,
            cost: 0,
            realized_pnl: Money::ZERO,
            ts_venue_ms: 0,
        })
    }
    fn instrument(&self, _id: &InstrumentId) -> Option<&()> {
        None
    }
    fn book(&self, _id: &InstrumentId) -> Option<BookTicker> {
        self.book
    }
    fn now(&self) -> u64 {
        self.now
    }
    fn orders(&mut self) -> &mut OrderFactory {
        &mut self.factory
    }
    fn request_stop(&mut self) {
        self.stop_requested = true;
    }
}

fn inst() -> InstrumentId {
    InstrumentId::perp(Symbol::new("BTCUSDT").unwrap_or_else(|_| panic!()))
}
fn px(s: &str) -> Price {
    Price::parse(s).unwrap_or_else(|_| panic!("{s}"))
}
fn qty(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_else(|_| panic!("{s}"))
}

fn event(m: &mut Mock, id: ClientOrderId, kind: OrderEventKind) -> OrderEvent {
    m.now += 10_000;
    OrderEvent {
        client_id: id,
        instrument: inst(),
        venue_order_id: Some(1),
        ts_venue_ms: 0,
        ts_local_ns: m.now,
        kind,
    }
}

fn fill_of(o: &Order) -> OrderEventKind {
    OrderEventKind::Filled(Fill {
        instrument: o.instrument,
        client_id: o.client_id,
        venue_order_id: 1,
        trade_id: 1,
        side: o.side,
        position_side: o.position_side,
        price: o.price.unwrap_or(px("60000")),
        quantity: o.quantity,
        commission: Money::ZERO,
        commission_asset: AssetCode::EMPTY,
        liquidity: Liquidity::Taker,
        realized_pnl: Money::ZERO,
        ts_venue_ms: 0,
        kind: FillKind::Normal,
        recovered: false,
    })
}

fn reason() -> ErrorText {
    ErrorText::new("x").unwrap_or_else(|| panic!())
}

#[derive(Default)]
struct RecordingNudge(Arc<Mutex<Vec<Price>>>);
impl PriceNudge for RecordingNudge {
    fn nudge(&mut self, _symbol: &str, last: Price) -> Result<(), String> {
        self.0.lock().map_err(|_| "poisoned")?.push(last);
        Ok(())
    }
}

/// A venue that behaves as the protocol says: used to run the whole walk.
fn answer(m: &mut Mock, s: &mut OrderCycle, cursor: &mut usize) {
    while let Some(cmd) = m.sent.get(*cursor).cloned() {
        *cursor += 1;
        match cmd {
            Sent::Submit(o) => {
                let id = o.client_id;
                let crosses_gtx =
                    o.time_in_force == TimeInForce::Gtx && o.price > Some(px("60000"));
                if crosses_gtx {
                    let e = event(
                        m,
                        id,
                        OrderEventKind::Rejected {
                            code: -5022,
                            reason: reason(),
                        },
                    );
                    s.on_order_event(m, &e);
                } else if o.time_in_force == TimeInForce::Fok {
                    let e = event(
                        m,
                        id,
                        OrderEventKind::Rejected {
                            code: -5021,
                            reason: reason(),
                        },
                    );
                    s.on_order_event(m, &e);
                } else {
                    let e = event(m, id, OrderEventKind::Accepted);
                    s.on_order_event(m, &e);
                    let fills = o.order_type == OrderType::Market
                        || (o.side == Side::Sell
                            && o.order_type == OrderType::Limit
                            && o.price < Some(px("59990")))
                        || o.time_in_force == TimeInForce::Ioc;
                    if fills {
                        m.position = m
                            .position
                            .checked_add(
                                o.quantity
                                    .value()
                                    .checked_mul(
                                        Decimal::from_raw(o.side.sign() * Decimal::ONE.raw()),
                                        crate::model::Rounding::HalfEven,
                                    )
                                    .unwrap_or(Decimal::ZERO),
                            )
                            .unwrap_or(Decimal::ZERO);
                        let e = event(m, id, fill_of(&o));
                        s.on_order_event(m, &e);
                    }
                }
            }
            Sent::Cancel(id) => {
                let e = event(m, id, OrderEventKind::Canceled);
                s.on_order_event(m, &e);
            }
            Sent::Modify(id, price) => {
                let e = event(
                    m,
                    id,
                    OrderEventKind::Amended {
                        price,
                        quantity: qty("0.002"),
                    },
                );
                s.on_order_event(m, &e);
            }
            Sent::CancelAll => {}
        }
    }
}

fn settings() -> OrderCycleSettings {
    let mut st = OrderCycleSettings::new(inst(), qty("0.002"), px("0.1"));
    st.scenario_timeout = Duration::from_millis(50);
    st
}

#[test]
fn plain_scenarios_pass_against_a_protocol_faithful_venue() {
    let mut st = settings();
    st.scenarios = vec![
        Scenario::Market,
        Scenario::LimitRestCancel,
        Scenario::LimitCross,
        Scenario::PostOnlyRest,
        Scenario::PostOnlyCross,
        Scenario::Ioc,
        Scenario::FokUnfillable,
        Scenario::Modify,
        Scenario::ReduceOnlyClose,
    ];
    let mut s = OrderCycle::new(st, None);
    let report = s.report();
    let mut m = Mock::new();
    m.set_book("60000", "60000.1");
    s.on_start(&mut m);
    let mut cursor = 0;
    for _ in 0..20 {
        answer(&mut m, &mut s, &mut cursor);
        // Each scenario needs a book newer than the last nudge; give it one.
        let b = m.set_book("60000", "60000.1");
        s.on_book_ticker(&mut m, &b);
        if report.lock().map(|r| r.finished).unwrap_or(true) {
            break;
        }
    }
    let r = report.lock().map(|r| r.clone()).unwrap_or_default();
    assert!(r.finished, "{}", r.table());
    assert!(r.all_ok(), "{}", r.table());
    assert!(m.stop_requested, "a finished walk ends the run");
    // The modify went 0.5 bp further from the book than the original price.
    let modified = m.sent.iter().find_map(|s| match s {
        Sent::Modify(_, p) => Some(*p),
        _ => None,
    });
    assert_eq!(modified, Some(px("59370.3")));
    // The close was reduce-only, sized to the position, on the right side.
    let close = m.last_submit().unwrap_or_else(|| panic!());
    assert!(close.reduce_only && close.side == Side::Sell);
    assert_eq!(close.quantity, qty("0.002"));
    assert!(r.results.iter().all(|x| x.ack_latency_us.is_some()));
}

#[test]
fn wrong_reject_code_is_a_failure_not_a_pass() {
    let mut st = settings();
    st.scenarios = vec![Scenario::PostOnlyCross];
    let mut s = OrderCycle::new(st, None);
    let report = s.report();
    let mut m = Mock::new();
    m.set_book("60000", "60000.1");
    s.on_start(&mut m);
    let o = m.last_submit().unwrap_or_else(|| panic!());
    assert_eq!(o.time_in_force, TimeInForce::Gtx);
    assert_eq!(
        o.price,
        Some(px("60060.2")),
        "10 bp through the ask, on the tick grid"
    );
    let e = event(
        &mut m,
        o.client_id,
        OrderEventKind::Rejected {
            code: -2010,
            reason: reason(),
        },
    );
    s.on_order_event(&mut m, &e);
    let r = report.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(r.results.len(), 1);
    assert!(!r.results[0].ok);
    assert!(r.results[0].observed.contains("-2010"));
}

#[test]
fn timeout_fails_the_scenario_and_cancels_what_is_live() {
    let mut st = settings();
    st.scenarios = vec![Scenario::LimitRestCancel, Scenario::Market];
    let mut s = OrderCycle::new(st, None);
    let report = s.report();
    let mut m = Mock::new();
    m.set_book("60000", "60000.1");
    s.on_start(&mut m);
    m.now += 60_000_000;
    let now = m.now;
    s.on_timer(&mut m, 0, now);
    assert!(m.sent.contains(&Sent::CancelAll));
    let r = report.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(r.results.len(), 1);
    assert!(!r.results[0].ok && r.results[0].observed.contains("timeout"));
    // The next scenario waits for a book newer than... any book: it starts.
    assert_eq!(
        m.last_submit().map(|o| o.order_type),
        Some(OrderType::Market)
    );
}

#[test]
fn conditional_orders_nudge_past_the_trigger_once_armed() {
    let prices = Arc::new(Mutex::new(Vec::new()));
    let mut st = settings();
    st.scenarios = vec![Scenario::StopMarket, Scenario::TrailingStop];
    let mut s = OrderCycle::new(st, Some(Box::new(RecordingNudge(prices.clone()))));
    let report = s.report();
    let mut m = Mock::new();
    m.set_book("60000", "60000.1");
    s.on_start(&mut m);
    let stop = m.last_submit().unwrap_or_else(|| panic!());
    assert_eq!(stop.order_type, OrderType::StopMarket);
    assert_eq!(stop.trigger_price, Some(px("59970")));
    let e = event(&mut m, stop.client_id, OrderEventKind::Accepted);
    s.on_order_event(&mut m, &e);
    assert_eq!(
        prices.lock().map(|p| p.clone()).unwrap_or_default(),
        vec![px("59940")]
    );
    let e = event(
        &mut m,
        stop.client_id,
        OrderEventKind::Triggered { child: 9 },
    );
    s.on_order_event(&mut m, &e);
    // Book from before the nudge is stale: the trailing stop must wait.
    let before = m.sent.len();
    let e = event(&mut m, stop.client_id, fill_of(&stop));
    s.on_order_event(&mut m, &e);
    assert_eq!(m.sent.len(), before, "stale book: nothing new sent");
    let b = m.set_book("59940", "59940.1");
    s.on_book_ticker(&mut m, &b);
    let trail = m.last_submit().unwrap_or_else(|| panic!());
    assert_eq!(trail.order_type, OrderType::TrailingStopMarket);
    assert_eq!(trail.activate_price, Some(px("59910")));
    let e = event(&mut m, trail.client_id, OrderEventKind::Accepted);
    s.on_order_event(&mut m, &e);
    let p = prices.lock().map(|p| p.clone()).unwrap_or_default();
    // Down through the activation, then up by callback (0.1 % → 11 bp) + 5 bp.
    assert_eq!(p[1..], [px("59880"), px("59975.9")]);
    // A fill without a trigger is not what a stop order should do.
    let e = event(&mut m, trail.client_id, fill_of(&trail));
    s.on_order_event(&mut m, &e);
    let r = report.lock().map(|r| r.clone()).unwrap_or_default();
    assert!(r.results[0].ok, "{}", r.table());
    assert!(!r.results[1].ok, "{}", r.table());
}

#[test]
fn stop_records_unrun_scenarios_as_failures() {
    let mut s = OrderCycle::new(settings(), None);
    let report = s.report();
    let mut m = Mock::new();
    s.on_start(&mut m);
    s.on_stop(&mut m);
    let r = report.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(r.results.len(), Scenario::ALL.len());
    assert!(!r.all_ok() && r.finished);
    assert!(r.to_json().contains("\"scenario\":\"market\""));
    assert!(r.table().lines().count() == Scenario::ALL.len() + 1);
}

fn maker() -> (Maker, Mock) {
    let mut st = MakerSettings::new(inst(), qty("0.002"), px("0.1"));
    st.max_position = Decimal::from_raw(qty("0.002").raw());
    st.min_requote_interval = Duration::ZERO;
    (Maker::new(st), Mock::new())
}

fn submits(m: &Mock) -> Vec<Order> {
    m.sent
        .iter()
        .filter_map(|s| match s {
            Sent::Submit(o) => Some(*o),
            _ => None,
        })
        .collect()
}

#[test]
fn maker_quotes_both_sides_post_only_and_requotes_on_a_move() {
    let (mut mk, mut m) = maker();
    let b = m.set_book("60000", "60000.1");
    mk.on_book_ticker(&mut m, &b);
    let q = submits(&m);
    assert_eq!(q.len(), 2);
    assert!(q.iter().all(|o| o.is_post_only()));
    assert_eq!((q[0].side, q[0].price), (Side::Buy, Some(px("60000"))));
    assert_eq!((q[1].side, q[1].price), (Side::Sell, Some(px("60000.1"))));
    for o in &q {
        let e = event(&mut m, o.client_id, OrderEventKind::Accepted);
        mk.on_order_event(&mut m, &e);
    }
    // Unchanged book: nothing to do.
    let n = m.sent.len();
    mk.on_book_ticker(&mut m, &b);
    assert_eq!(m.sent.len(), n);
    // The touch moves a tick: both quotes are cancelled, and requoted on Canceled.
    let b = m.set_book("60000.1", "60000.2");
    mk.on_book_ticker(&mut m, &b);
    assert_eq!(m.sent.get(n), Some(&Sent::Cancel(q[0].client_id)));
    assert_eq!(m.sent.get(n + 1), Some(&Sent::Cancel(q[1].client_id)));
    let e = event(&mut m, q[0].client_id, OrderEventKind::Canceled);
    mk.on_order_event(&mut m, &e);
    assert_eq!(m.last_submit().map(|o| o.price), Some(Some(px("60000.1"))));
}

#[test]
fn maker_stops_quoting_a_side_at_the_inventory_limit() {
    let (mut mk, mut m) = maker();
    let b = m.set_book("60000", "60000.1");
    mk.on_book_ticker(&mut m, &b);
    let q = submits(&m);
    for o in &q {
        let e = event(&mut m, o.client_id, OrderEventKind::Accepted);
        mk.on_order_event(&mut m, &e);
    }
    // The bid fills: long 0.002 = the limit. No new bid; the ask stays.
    let e = event(&mut m, q[0].client_id, fill_of(&q[0]));
    mk.on_order_event(&mut m, &e);
    assert_eq!(mk.inventory(), qty("0.002").value());
    let n = submits(&m).len();
    mk.on_book_ticker(&mut m, &b);
    assert_eq!(submits(&m).len(), n, "no bid at the limit");
    let stats = mk.stats();
    assert_eq!(stats.fills.load(std::sync::atomic::Ordering::Relaxed), 1);
    // A -5022 reject frees the side for a requote.
    let e = event(
        &mut m,
        q[1].client_id,
        OrderEventKind::Rejected {
            code: -5022,
            reason: reason(),
        },
    );
    mk.on_order_event(&mut m, &e);
    assert_eq!(submits(&m).last().map(|o| o.side), Some(Side::Sell));
    mk.on_stop(&mut m);
    assert_eq!(m.sent.last(), Some(&Sent::CancelAll));
}
