//! One hop between two engine threads over a crossbeam channel, the way the
//! strategy and execution threads talk: a ping-pong of a Copy order-sized
//! message, reported per round trip (two hops). Run with
//! `cargo bench --bench channel_hop`.
//!
//! Two receive styles are measured because they are the engine's wait
//! strategies in miniature: `try_recv` polling (what `spin`/`spin_park` do
//! while hot) and blocking `recv` (what `park` does; each hop then pays a
//! futex wake-up). On a 2-core machine the polling pair owns both cores, so
//! read its figure as the best case of a dedicated-core deployment.

use criterion::{Criterion, criterion_group, criterion_main};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

/// About the size of what crosses the strategy/execution boundary (an order
/// handle plus stamps would be smaller; a whole `Order` is larger).
#[derive(Clone, Copy)]
struct Msg {
    seq: u64,
    _pad: [u64; 7],
}

/// Polls with `try_recv` for at most `deadline`; `None` when it passed.
fn poll_recv(rx: &Receiver<Msg>, deadline: Instant) -> Option<Msg> {
    loop {
        if let Ok(m) = rx.try_recv() {
            return Some(m);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::hint::spin_loop();
    }
}

/// Starts the echo thread; it answers every message until the channel closes
/// or nothing arrives for a second.
fn echo(spin: bool) -> (Sender<Msg>, Receiver<Msg>, thread::JoinHandle<()>) {
    let (to_tx, to_rx) = bounded::<Msg>(64);
    let (back_tx, back_rx) = bounded::<Msg>(64);
    let h = thread::spawn(move || {
        loop {
            let m = if spin {
                poll_recv(&to_rx, Instant::now() + Duration::from_secs(1))
            } else {
                to_rx.recv_timeout(Duration::from_secs(1)).ok()
            };
            let Some(m) = m else { return };
            if back_tx.send(m).is_err() {
                return;
            }
        }
    });
    (to_tx, back_rx, h)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("channel_hop");
    g.measurement_time(Duration::from_secs(3));
    for (name, spin) in [
        ("round trip, try_recv polling", true),
        ("round trip, blocking recv", false),
    ] {
        let (tx, rx, h) = echo(spin);
        let mut seq = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                seq += 1;
                let sent = tx.send(Msg { seq, _pad: [0; 7] });
                let got = if spin {
                    poll_recv(&rx, Instant::now() + Duration::from_secs(1))
                } else {
                    rx.recv_timeout(Duration::from_secs(1)).ok()
                };
                black_box((sent.is_ok(), got.map(|m| m.seq)))
            })
        });
        drop(tx);
        let _ = h.join();
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
