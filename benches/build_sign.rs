//! Build + sign a LIMIT new-order request with a warm builder: the hot-path
//! cost the engine pays between a strategy decision and bytes for the wire.

use binance_exec::binance::query::QueryWriter;
use binance_exec::binance::requests::{NewOrder, RequestBuilder, write_new_order};
use binance_exec::binance::sign::Signer;
use binance_exec::binance::ws_api::{WsId, WsRequestBuilder};
use binance_exec::model::{
    ClientOrderId, OrderType, Price, Quantity, RespType, Side, Symbol, TimeInForce,
};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
const SECRET: &[u8] = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

fn order() -> Option<NewOrder> {
    Some(NewOrder {
        symbol: Symbol::new("ETHUSDT").ok()?,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Quantity::parse("0.050").ok()?,
        price: Some(Price::parse("2400.10").ok()?),
        reduce_only: None,
        position_side: None,
        client_order_id: ClientOrderId::new("e1-000042").ok()?,
        resp_type: RespType::Ack,
        good_till_date: None,
        stp: None,
        price_match: None,
    })
}

fn bench(c: &mut Criterion) {
    let Some(o) = order() else {
        eprintln!("bench order did not validate");
        return;
    };
    let mut rest = RequestBuilder::new(KEY, SECRET, Some(5000));
    let mut ts = 1_760_000_000_000i64;
    c.bench_function("rest_limit_new_order_build_sign", |b| {
        b.iter(|| {
            ts += 1;
            let r = rest.new_order(black_box(&o), ts);
            black_box(r.map(|r| r.body.len()).unwrap_or(0))
        })
    });
    // Breakdown: parameter encoding alone, and HMAC alone over a payload of
    // the same length as the full request.
    let mut buf = Vec::with_capacity(512);
    c.bench_function("rest_limit_new_order_encode_only", |b| {
        b.iter(|| {
            buf.clear();
            let mut w = QueryWriter::new(&mut buf);
            let r = write_new_order(black_box(&o), &mut w);
            w.int("recvWindow", 5000);
            w.int("timestamp", black_box(ts));
            black_box((r.is_ok(), buf.len()))
        })
    });
    let payload_len = rest
        .new_order(&o, ts)
        .map(|r| r.body.len().saturating_sub(75))
        .unwrap_or(180);
    let payload = vec![b'a'; payload_len];
    let signer = Signer::new(SECRET);
    c.bench_function("hmac_sha256_same_length_only", |b| {
        b.iter(|| {
            let mut sig = [0u8; 64];
            signer.sign_into(black_box(&payload), &mut sig);
            black_box(sig[0])
        })
    });
    let mut ws = WsRequestBuilder::new(KEY, SECRET, Some(5000));
    let mut id = 0u64;
    c.bench_function("ws_limit_order_place_build_sign", |b| {
        b.iter(|| {
            id += 1;
            ts += 1;
            let r = ws.order_place(WsId::Num(id), black_box(&o), ts);
            black_box(r.map(|f| f.len()).unwrap_or(0))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
