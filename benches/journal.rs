//! Cost of journaling one order intent: with no fsync (process-crash safe)
//! and with an fsync per record (power-loss safe).

use binance_exec::engine::journal::{FsyncPolicy, Intent, Journal, Record};
use binance_exec::model::decimal::{Price, Quantity};
use binance_exec::model::enums::{OrderType, Side};
use binance_exec::model::ids::{ClientOrderId, Symbol};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn intent(seq: u64) -> Record {
    Record::Intent(Intent {
        seq,
        client_id: ClientOrderId::from_venue("bx-bench-000000000001"),
        symbol: Symbol::new("BTCUSDT").unwrap_or_default(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        qty: Quantity::from_raw(100_000),
        price: Some(Price::from_raw(6_000_010_000_000)),
        time_ms: 1_763_000_000_000,
    })
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("bx-journal-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut group = c.benchmark_group("journal_append_intent");
    for (name, policy) in [
        ("fsync_never", FsyncPolicy::Never),
        ("fsync_every_8", FsyncPolicy::EveryN(8)),
        ("fsync_always", FsyncPolicy::Always),
    ] {
        let path = dir.join(format!("{name}.journal"));
        let _ = std::fs::remove_file(&path);
        let Ok(mut j) = Journal::open(&path, policy) else {
            eprintln!("cannot open {}", path.display());
            continue;
        };
        let mut seq = j.next_seq();
        group.bench_function(name, |b| {
            b.iter(|| {
                seq += 1;
                let _ = black_box(j.append(&intent(seq)));
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
