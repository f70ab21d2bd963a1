//! Order tracker: reports in any order, fill dedupe, external fills,
//! unknown outcomes and their resolution, algo orders.

use binance_exec::engine::OrderHandle;
use binance_exec::engine::tracker::{
    OrderTracker, Outcome, Report, ReportSource as Src, RequestKind as Req, TrackerConfig,
    TrackerError,
};
use binance_exec::model::ids::{ClientOrderId, InstrumentId, Symbol};
use binance_exec::model::{
    AlgoStatus, AssetCode, ErrorText, ExecutionType as X, FillKind, Money, Order, OrderEvent,
    OrderEventKind as K, OrderState as S, OrderStatus as St, OrderType, Price, Quantity, Side,
};

fn sym() -> Symbol {
    Symbol::new("ETHUSDT").unwrap()
}
fn q(s: &str) -> Quantity {
    s.parse().unwrap()
}
fn p(s: &str) -> Price {
    s.parse().unwrap()
}
fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::from_venue(s)
}

struct Rig {
    t: OrderTracker,
    events: Vec<OrderEvent>,
}

impl Rig {
    fn new() -> Self {
        Rig {
            t: OrderTracker::new(TrackerConfig {
                order_capacity: 16,
                dedupe_window: 64,
            }),
            events: Vec::new(),
        }
    }
    fn submit(&mut self, o: Order) -> OrderHandle {
        let ev = &mut self.events;
        self.t.submit(o, 10, &mut |_, e| ev.push(e)).unwrap()
    }
    fn apply(&mut self, r: &Report) -> Result<Outcome, TrackerError> {
        let ev = &mut self.events;
        self.t.apply(r, &mut |_, e| ev.push(e))
    }
    fn kinds(&mut self) -> Vec<&'static str> {
        self.events.drain(..).map(|e| e.kind.name()).collect()
    }
    fn state(&self, h: OrderHandle) -> S {
        self.t.get(h).unwrap().state
    }
}

fn limit(id: &str, qty: &str) -> Order {
    let mut o = Order::new(
        cid(id),
        InstrumentId::perp(sym()),
        Side::Buy,
        OrderType::Limit,
        q(qty),
        1,
    );
    o.price = Some(p("2400"));
    o
}

fn report(src: Src, id: &str) -> Report {
    Report::new(src, sym(), cid(id), 20)
}
fn ack(id: &str, venue: i64) -> Report {
    let mut r = report(Src::Reply(Req::Submit), id);
    r.venue_order_id = Some(venue);
    r.status = Some(St::New);
    r
}
fn otu(id: &str, venue: i64, x: X, st: St) -> Report {
    let mut r = report(Src::OrderTradeUpdate, id);
    r.venue_order_id = Some(venue);
    r.exec_type = Some(x);
    r.status = Some(st);
    r
}
fn trade(id: &str, venue: i64, trade_id: i64, qty: &str, px: &str, st: St) -> Report {
    let mut r = otu(id, venue, X::Trade, st);
    r.trade_id = trade_id;
    r.last_qty = q(qty);
    r.last_price = p(px);
    r.commission = Some(Money::parse("0.01").unwrap());
    r.commission_asset = AssetCode::truncated("USDT");
    r
}
fn lite(id: &str, venue: i64, trade_id: i64, qty: &str, px: &str) -> Report {
    let mut r = report(Src::TradeLite, id);
    r.venue_order_id = Some(venue);
    r.trade_id = trade_id;
    r.last_qty = q(qty);
    r.last_price = p(px);
    r.maker = Some(true);
    r
}

#[test]
fn stream_new_before_rest_ack() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    g.apply(&otu("a-1", 77, X::New, St::New)).unwrap();
    assert_eq!(g.state(h), S::Accepted);
    // The REST ack comes second: nothing new to say.
    assert_eq!(g.apply(&ack("a-1", 77)), Ok(Outcome::Applied(0)));
    assert_eq!(g.kinds(), ["Submitted", "Accepted"]);
    assert_eq!(g.t.get(h).unwrap().venue_order_id, Some(77));
    assert_eq!(g.t.find_venue(sym(), 77), Some(h));
}

#[test]
fn stream_fill_before_rest_ack_then_late_ack() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    g.apply(&trade("a-1", 77, 5, "0.4", "2400", St::PartiallyFilled))
        .unwrap();
    assert_eq!(g.state(h), S::PartiallyFilled);
    g.apply(&ack("a-1", 77)).unwrap();
    assert_eq!(g.state(h), S::PartiallyFilled);
    let o = g.t.get(h).unwrap();
    assert!(o.ts_acked_ns > 0, "late ack still timestamps the order");
    assert_eq!(g.kinds(), ["Submitted", "Filled"]);
}

#[test]
fn trade_lite_then_order_update_counts_once() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    g.apply(&ack("a-1", 77)).unwrap();
    g.apply(&lite("a-1", 77, 9, "0.5", "2400")).unwrap();
    let full = trade("a-1", 77, 9, "0.5", "2400", St::PartiallyFilled);
    assert_eq!(g.apply(&full), Ok(Outcome::DuplicateFill));
    // A replay of either never counts again.
    assert_eq!(g.apply(&full), Ok(Outcome::DuplicateFill));
    assert_eq!(
        g.apply(&lite("a-1", 77, 9, "0.5", "2400")),
        Ok(Outcome::DuplicateFill)
    );
    assert_eq!(g.t.get(h).unwrap().filled_qty, q("0.5"));
    let kinds = g.kinds();
    assert_eq!(kinds, ["Submitted", "Accepted", "Filled", "FillDetails"]);
    // Second trade completes the order; matched by venue id only.
    let mut last = trade("", 77, 10, "0.5", "2401", St::Filled);
    last.client_id = ClientOrderId::default();
    g.apply(&last).unwrap();
    assert_eq!(g.state(h), S::Filled);
    assert_eq!(g.t.get(h).unwrap().avg_price(), Some(p("2400.5")));
}

#[test]
fn overfill_is_refused_and_changes_nothing() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    g.apply(&trade("a-1", 77, 1, "0.8", "2400", St::PartiallyFilled))
        .unwrap();
    let err = g.apply(&trade("a-1", 77, 2, "0.8", "2400", St::Filled));
    assert!(matches!(err, Err(TrackerError::Order { .. })));
    assert_eq!(g.t.get(h).unwrap().filled_qty, q("0.8"));
    // The refused trade was not remembered: a corrected report can still book.
    g.apply(&trade("a-1", 77, 2, "0.2", "2400", St::Filled))
        .unwrap();
    assert_eq!(g.state(h), S::Filled);
}

#[test]
fn liquidation_and_adl_fills_are_external() {
    let mut g = Rig::new();
    let mut liq = otu("autoclose-1760000000000", 900, X::Calculated, St::Filled);
    liq.trade_id = 31;
    liq.last_qty = q("0.3");
    liq.last_price = p("2000");
    liq.side = Side::Sell;
    assert_eq!(g.apply(&liq), Ok(Outcome::External));
    assert_eq!(g.apply(&liq), Ok(Outcome::DuplicateFill));
    let mut adl = liq;
    adl.client_id = cid("adl_autoclose");
    adl.exec_type = Some(X::Trade);
    adl.trade_id = 32;
    assert_eq!(g.apply(&adl), Ok(Outcome::External));
    // A zero-quantity "pending" notice books nothing.
    let pending = otu("autoclose-1760000000001", 901, X::New, St::New);
    assert_eq!(g.apply(&pending), Ok(Outcome::Unmatched));
    let kinds: Vec<FillKind> = g
        .events
        .iter()
        .map(|e| match e.kind {
            K::ExternalFill(f) => f.kind,
            _ => panic!("unexpected {:?}", e.kind),
        })
        .collect();
    assert_eq!(kinds, [FillKind::Liquidation, FillKind::Adl]);
}

#[test]
fn unknown_outcome_is_listed_and_resolved() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    let h2 = g.submit(limit("a-2", "1"));
    g.apply(&report(Src::NoReply(Req::Submit), "a-1")).unwrap();
    let mut e1007 = report(Src::Reply(Req::Submit), "a-2");
    e1007.error_code = -1007;
    g.apply(&e1007).unwrap();
    let unknown: Vec<_> = g.t.unknown_orders().map(|(h, _)| h).collect();
    assert_eq!(unknown.len(), 2);
    assert!(unknown.contains(&h) && unknown.contains(&h2));
    // Query: a-1 is live and partly filled, a-2 never reached the venue.
    let mut q1 = report(Src::Query, "a-1");
    q1.venue_order_id = Some(80);
    q1.status = Some(St::PartiallyFilled);
    q1.cum_qty = Some(q("0.2"));
    q1.avg_price = p("2400");
    g.apply(&q1).unwrap();
    let mut q2 = report(Src::Query, "a-2");
    q2.error_code = -2013;
    g.apply(&q2).unwrap();
    assert_eq!(g.state(h), S::PartiallyFilled);
    assert_eq!(g.t.get(h).unwrap().filled_qty, q("0.2"));
    assert_eq!(g.state(h2), S::Rejected);
    assert_eq!(g.t.unknown_orders().count(), 0);
    // A late ambiguous reply after the stream spoke changes nothing.
    let h3 = g.submit(limit("a-3", "1"));
    g.apply(&otu("a-3", 81, X::New, St::New)).unwrap();
    let mut late = report(Src::Reply(Req::Submit), "a-3");
    late.error_code = -1007;
    assert_eq!(g.apply(&late), Ok(Outcome::Applied(0)));
    assert_eq!(g.state(h3), S::Accepted);
}

#[test]
fn rejection_and_cancel_race() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    let mut rej = report(Src::Reply(Req::Submit), "a-1");
    rej.error_code = -5022;
    rej.error_msg = ErrorText::truncated("Due to the order could not be executed as maker");
    g.apply(&rej).unwrap();
    assert_eq!(g.state(h), S::Rejected);
    assert_eq!(g.t.get(h).unwrap().last_error, -5022);

    let h = g.submit(limit("b-1", "1"));
    g.apply(&ack("b-1", 90)).unwrap();
    let ev = &mut g.events;
    g.t.request_cancel(h, 30, &mut |_, e| ev.push(e)).unwrap();
    // A fill races the cancel.
    g.apply(&trade("b-1", 90, 3, "0.3", "2400", St::PartiallyFilled))
        .unwrap();
    assert_eq!(g.state(h), S::PendingCancel);
    let mut cancel_ok = report(Src::Reply(Req::Cancel), "b-1");
    cancel_ok.venue_order_id = Some(90);
    cancel_ok.status = Some(St::Canceled);
    g.apply(&cancel_ok).unwrap();
    assert_eq!(g.state(h), S::Canceled);
    // Stream CANCELED duplicate: no second event.
    assert_eq!(
        g.apply(&otu("b-1", 90, X::Canceled, St::Canceled)),
        Ok(Outcome::Applied(0))
    );
    // A fill that happened before the cancel but arrives after it: booked.
    g.apply(&trade("b-1", 90, 4, "0.1", "2400", St::PartiallyFilled))
        .unwrap();
    assert_eq!(g.t.get(h).unwrap().filled_qty, q("0.4"));
    assert_eq!(g.state(h), S::Canceled);
    let k = g.kinds();
    assert_eq!(
        &k[2..],
        [
            "Submitted",
            "Accepted",
            "PendingCancel",
            "Filled",
            "Canceled",
            "Filled"
        ]
    );

    // Cancel refused (-2011): back to the working state.
    let h = g.submit(limit("c-1", "1"));
    g.apply(&ack("c-1", 91)).unwrap();
    let ev = &mut g.events;
    g.t.request_cancel(h, 30, &mut |_, e| ev.push(e)).unwrap();
    let mut no = report(Src::Reply(Req::Cancel), "c-1");
    no.error_code = -2011;
    g.apply(&no).unwrap();
    assert_eq!(g.state(h), S::Accepted);
}

#[test]
fn modify_reply_and_stream_amendment_emit_once() {
    let mut g = Rig::new();
    let h = g.submit(limit("a-1", "1"));
    g.apply(&ack("a-1", 77)).unwrap();
    let ev = &mut g.events;
    g.t.request_modify(h, 30, &mut |_, e| ev.push(e)).unwrap();
    let mut rep = report(Src::Reply(Req::Modify), "a-1");
    rep.status = Some(St::New);
    rep.price = p("2410");
    rep.quantity = q("2");
    g.apply(&rep).unwrap();
    let mut am = otu("a-1", 77, X::Amendment, St::New);
    am.price = p("2410");
    am.quantity = q("2");
    assert_eq!(g.apply(&am), Ok(Outcome::Applied(0)));
    let o = g.t.get(h).unwrap();
    assert_eq!(
        (o.state, o.price, o.quantity),
        (S::Accepted, Some(p("2410")), q("2"))
    );
    assert_eq!(
        g.kinds(),
        ["Submitted", "Accepted", "PendingUpdate", "Amended"]
    );
}

#[test]
fn algo_order_triggers_and_child_fills_parent() {
    let mut g = Rig::new();
    let mut o = Order::new(
        cid("sl-1"),
        InstrumentId::perp(sym()),
        Side::Sell,
        OrderType::StopMarket,
        q("0.05"),
        1,
    );
    o.trigger_price = Some(p("2300"));
    let h = g.submit(o);
    let mut rep = report(Src::Reply(Req::Submit), "sl-1");
    rep.algo_id = Some(3_000_000_123_456);
    rep.algo_status = Some(AlgoStatus::New);
    g.apply(&rep).unwrap();
    assert_eq!(g.state(h), S::Accepted);
    let mut trig = report(Src::AlgoUpdate, "sl-1");
    trig.algo_id = Some(3_000_000_123_456);
    trig.algo_status = Some(AlgoStatus::Triggered);
    trig.child_venue_order_id = Some(8_389_799_001);
    g.apply(&trig).unwrap();
    assert_eq!(g.state(h), S::Triggered);
    // The child reports under its own id and an unrelated client id.
    let mut f = trade("child-xyz", 8_389_799_001, 55, "0.05", "2299.5", St::Filled);
    f.side = Side::Sell;
    g.apply(&otu("child-xyz", 8_389_799_001, X::New, St::New))
        .unwrap();
    g.apply(&f).unwrap();
    assert_eq!(g.state(h), S::Filled);
    let mut fin = trig;
    fin.algo_status = Some(AlgoStatus::Finished);
    assert_eq!(g.apply(&fin), Ok(Outcome::Applied(0)));
    assert_eq!(g.kinds(), ["Submitted", "Accepted", "Triggered", "Filled"]);
    // Released orders stop matching; their ids are free again.
    g.t.release(h).unwrap();
    assert_eq!(g.t.find(&cid("sl-1")), None);
    assert_eq!(g.t.find_venue(sym(), 8_389_799_001), None);
}

#[test]
fn duplicate_client_id_and_pool_exhaustion() {
    let mut g = Rig::new();
    g.submit(limit("a-1", "1"));
    let ev = &mut g.events;
    assert!(matches!(
        g.t.submit(limit("a-1", "1"), 1, &mut |_, e| ev.push(e)),
        Err(TrackerError::DuplicateClientId(_))
    ));
    for i in 2..=16 {
        g.submit(limit(&format!("a-{i}"), "1"));
    }
    let ev = &mut g.events;
    assert!(matches!(
        g.t.submit(limit("a-17", "1"), 1, &mut |_, e| ev.push(e)),
        Err(TrackerError::Pool(_))
    ));
}

#[test]
fn algo_cancel_reply_and_close_position_child_size() {
    let mut g = Rig::new();
    let inst = InstrumentId::perp(sym());
    let mut o = Order::new(
        cid("tp-1"),
        inst,
        Side::Sell,
        OrderType::TakeProfitMarket,
        q("1"),
        1,
    );
    o.trigger_price = Some(p("2600"));
    let h = g.submit(o);
    let mut rep = report(Src::Reply(Req::Submit), "tp-1");
    rep.algo_id = Some(5);
    rep.algo_status = Some(AlgoStatus::New);
    g.apply(&rep).unwrap();
    let ev = &mut g.events;
    g.t.request_cancel(h, 30, &mut |_, e| ev.push(e)).unwrap();
    // DELETE /fapi/v1/algoOrder answers with ids and code 200 only.
    let mut c = report(Src::Reply(Req::Cancel), "tp-1");
    c.algo_id = Some(5);
    c.algo_status = Some(AlgoStatus::Canceled);
    g.apply(&c).unwrap();
    assert_eq!(g.state(h), S::Canceled);

    // closePosition: size unknown until the child reports it.
    let mut cp = Order::new(
        cid("cp-1"),
        inst,
        Side::Sell,
        OrderType::StopMarket,
        Quantity::ZERO,
        1,
    );
    cp.trigger_price = Some(p("2300"));
    cp.close_position = true;
    let h = g.submit(cp);
    let mut rep = report(Src::Reply(Req::Submit), "cp-1");
    rep.algo_id = Some(6);
    g.apply(&rep).unwrap();
    let mut child_new = otu("cp-1", 500, X::New, St::New);
    child_new.quantity = q("0.7");
    g.apply(&child_new).unwrap();
    assert_eq!(g.state(h), S::Triggered);
    let mut f1 = trade("cp-1", 500, 70, "0.3", "2299", St::PartiallyFilled);
    f1.quantity = q("0.7");
    g.apply(&f1).unwrap();
    let mut f2 = trade("cp-1", 500, 71, "0.4", "2298", St::Filled);
    f2.quantity = q("0.7");
    g.apply(&f2).unwrap();
    let o = g.t.get(h).unwrap();
    assert_eq!(
        (o.state, o.quantity, o.filled_qty),
        (S::Filled, q("0.7"), q("0.7"))
    );
}
