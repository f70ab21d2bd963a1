//! Cost of the simulated venue's hot paths: it must never be the bottleneck
//! of a latency measurement (target: a few µs per new LIMIT order).
use binance_exec::sim::venue::{Method, Outbox, Params, Request, Venue, VenueSettings};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn params(pairs: &[(&str, &str)]) -> Params {
    Params {
        pairs: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let mut s = VenueSettings::default();
    s.market.auto_move = false;
    let now = 1_760_000_000_000;
    let mut v = Venue::new(&s, now);
    let place = params(&[
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.010"),
        ("price", "59000"),
    ]);
    let cancel_all = params(&[("symbol", "BTCUSDT")]);
    let mut out = Outbox::default();
    // Keep ~100 orders resting so the book is not empty.
    for _ in 0..100 {
        v.handle(
            &Request {
                method: Method::Post,
                path: "/fapi/v1/order",
                params: &place,
                account: Some(0),
            },
            now,
            &mut out,
        );
    }
    c.bench_function("new_limit_order_resting", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                if v.open_order_count(0) >= 190 {
                    // Stay under MAX_NUM_ORDERS (200), untimed.
                    let req = Request {
                        method: Method::Delete,
                        path: "/fapi/v1/allOpenOrders",
                        params: &cancel_all,
                        account: Some(0),
                    };
                    v.handle(&req, now, &mut out);
                }
                out.user.clear();
                out.market.clear();
                let req = Request {
                    method: Method::Post,
                    path: "/fapi/v1/order",
                    params: &place,
                    account: Some(0),
                };
                let t = std::time::Instant::now();
                black_box(v.handle(&req, now, &mut out));
                total += t.elapsed();
            }
            total
        })
    });
    let buy = params(&[
        ("symbol", "ETHUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
    ]);
    let sell = params(&[
        ("symbol", "ETHUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
    ]);
    let mut flip = false;
    c.bench_function("market_order_one_fill", |b| {
        b.iter(|| {
            out.user.clear();
            out.market.clear();
            flip = !flip;
            let p = if flip { &buy } else { &sell };
            black_box(v.handle(
                &Request {
                    method: Method::Post,
                    path: "/fapi/v1/order",
                    params: p,
                    account: Some(0),
                },
                now,
                &mut out,
            ))
        })
    });
    let mut t = now;
    let mut mv = Venue::new(&VenueSettings::default(), now);
    c.bench_function("market_tick_100ms_3_symbols", |b| {
        b.iter(|| {
            out.user.clear();
            out.market.clear();
            t += 100;
            mv.tick(t, &mut out);
            black_box(out.market.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
