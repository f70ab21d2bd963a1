//! Decode cost of the frames on the hot path: an ORDER_TRADE_UPDATE fill
//! (budget ≤ 600 ns), a bookTicker, and a REST order reply.
use binance_exec::binance::{events, market, rest};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[path = "../tests/proto_in_common/mod.rs"]
mod samples;

fn bench(c: &mut Criterion) {
    let otu = samples::OTU_FILL.as_bytes();
    c.bench_function("user/ORDER_TRADE_UPDATE (decode_user_event)", |b| {
        b.iter(|| events::decode_user_event(black_box(otu)))
    });
    let mut slot = events::OrderUpdate::empty();
    c.bench_function("user/ORDER_TRADE_UPDATE (decode_order_update_into)", |b| {
        b.iter(|| events::decode_order_update_into(black_box(otu), &mut slot))
    });
    let wrapped = samples::wrapped("pqia91ma19a5s61cv6a81va65sdf19v8a6", samples::OTU_FILL);
    c.bench_function("user/ORDER_TRADE_UPDATE combined-stream", |b| {
        b.iter(|| events::decode_user_event(black_box(wrapped.as_bytes())))
    });
    let bt = samples::BOOK_TICKER.as_bytes();
    c.bench_function("market/bookTicker", |b| {
        b.iter(|| market::decode_market(black_box(bt)))
    });
    let mut depth = market::DepthUpdate::default();
    let d = samples::DEPTH_UPDATE.as_bytes();
    c.bench_function("market/depthUpdate (decode_depth_into)", |b| {
        b.iter(|| market::decode_depth_into(black_box(d), &mut depth))
    });
    let order = samples::ORDER_RESULT.as_bytes();
    c.bench_function("rest/order response", |b| {
        b.iter(|| rest::decode_order(black_box(order)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
