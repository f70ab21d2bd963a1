//! Order pool and tracker hot path: acquire/release, and a full
//! submit → ack → fill → release cycle through the tracker.

use binance_exec::engine::tracker::{
    OrderTracker, Report, ReportSource, RequestKind, TrackerConfig,
};
use binance_exec::engine::{ClientIdGenerator, OrderPool};
use binance_exec::model::ids::{InstrumentId, Symbol};
use binance_exec::model::{ExecutionType, Order, OrderStatus, OrderType, Price, Quantity, Side};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut pool = OrderPool::with_capacity(1024);
    let blank = Order::blank();
    c.bench_function("pool acquire+release", |b| {
        b.iter(|| {
            let h = pool.acquire(black_box(blank)).unwrap();
            pool.release(h).unwrap()
        })
    });

    let sym = Symbol::new("BTCUSDT").unwrap();
    let inst = InstrumentId::perp(sym);
    let mut ids = ClientIdGenerator::new("bench").unwrap();
    let mut tracker = OrderTracker::new(TrackerConfig::default());
    let qty = Quantity::parse("0.010").unwrap();
    let px = Price::parse("60000.1").unwrap();
    let mut venue_id = 1i64;
    let mut events = 0u64;
    c.bench_function("tracker submit+ack+fill+release", |b| {
        b.iter(|| {
            let mut sink = |_h, _e| events += 1;
            let mut o = Order::new(ids.next_id(), inst, Side::Buy, OrderType::Limit, qty, 1);
            o.price = Some(px);
            let h = tracker.submit(o, 2, &mut sink).unwrap();
            venue_id += 1;
            let mut ack = Report::new(
                ReportSource::Reply(RequestKind::Submit),
                sym,
                o.client_id,
                3,
            );
            ack.venue_order_id = Some(venue_id);
            ack.status = Some(OrderStatus::New);
            tracker.apply(&ack, &mut sink).unwrap();
            let mut fill = Report::new(ReportSource::OrderTradeUpdate, sym, o.client_id, 4);
            fill.venue_order_id = Some(venue_id);
            fill.exec_type = Some(ExecutionType::Trade);
            fill.status = Some(OrderStatus::Filled);
            fill.last_qty = qty;
            fill.last_price = px;
            fill.trade_id = venue_id;
            tracker.apply(&fill, &mut sink).unwrap();
            tracker.release(h).unwrap()
        })
    });
    black_box(events);
}

criterion_group!(benches, bench);
criterion_main!(benches);
