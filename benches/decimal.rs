//! Decimal parse/format speed: every price and quantity on the wire goes
//! through these, so they sit on the hot path (target: parse ≤ 20 ns).

use binance_exec::model::Decimal;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let inputs = [
        "2400.95",
        "0.020",
        "60000.10000000",
        "-0.01920760",
        "1974335521",
    ];
    for s in inputs {
        c.bench_function(&format!("parse {s}"), |b| {
            b.iter(|| Decimal::parse(black_box(s)))
        });
    }
    let values: Vec<Decimal> = inputs.iter().map(|s| Decimal::parse(s).unwrap()).collect();
    c.bench_function("format 5 values", |b| {
        let mut buf = [0u8; 24];
        b.iter(|| {
            let mut n = 0;
            for v in &values {
                n += black_box(*v).format_into(&mut buf).len();
            }
            n
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
