//! The hand-off floor: what one hop between two engine threads costs on this
//! machine, with the engine's own wait code.
//!
//! Why: a fill reaches the strategy through three wake-ups (the network
//! thread woken by the socket, the execution thread, the strategy thread).
//! With parking threads each is a futex wake of a sleeping thread, and on a
//! VM that is an inter-processor interrupt to a halted virtual CPU: tens of
//! microseconds the engine cannot shave by doing less work. Measuring the
//! bare hop in the same run, with the same [`Waiter`] and [`Doorbell`] the
//! engine threads use, separates the machine's wake-up cost from the
//! engine's own work, the way the network floor separates the loopback
//! round trip.
//!
//! The measurement is a ping-pong: one message in flight, each side waits
//! the configured way between messages, every hop is stamped on send and on
//! receipt (one monotonic clock).

use crate::config::WaitStrategy;
use crate::engine::doorbell::Doorbell;
use crate::engine::wait::{Recv, Waiter};
use crate::latency::clock::now_ns;
use hdrhistogram::Histogram;
use std::time::Duration;

use super::flow::latency_histogram;

/// Longest the whole measurement may take, whatever `hops` asks for.
const MAX_TIME: Duration = Duration::from_secs(10);

/// Pause between round trips, so a parking thread really parks (as between
/// a venue's frames) instead of catching the next message hot.
const GAP: Duration = Duration::from_micros(300);

/// One-way hop latencies (send → the receiving thread has the message),
/// `hops` of them (fewer if [`MAX_TIME`] passes), both threads waiting the
/// `wait` way between messages.
pub fn measure(wait: WaitStrategy, hops: u64) -> Histogram<u64> {
    let mut hist = latency_histogram();
    let (to_tx, to_rx) = crossbeam_channel::bounded::<u64>(4);
    let (back_tx, back_rx) = crossbeam_channel::bounded::<u64>(4);
    let (to_bell, back_bell) = (Doorbell::new(), Doorbell::new());
    let echo_bell = to_bell.clone();
    let reply_bell = back_bell.clone();
    let echo = std::thread::Builder::new()
        .name("bench-handoff".into())
        .spawn(move || {
            crate::engine::wait::request_short_slice();
            let mut waiter = Waiter::new(wait);
            let mut stamps = Vec::with_capacity(usize::try_from(hops).unwrap_or(0));
            let deadline = now_ns() + MAX_TIME.as_nanos() as u64 + 1_000_000_000;
            while now_ns() < deadline {
                match waiter.recv_bell(&to_rx, &echo_bell, Duration::from_millis(5)) {
                    Recv::Msg(sent) => {
                        stamps.push(now_ns().saturating_sub(sent));
                        if back_tx.send(now_ns()).is_err() {
                            break;
                        }
                        reply_bell.ring();
                    }
                    Recv::Empty => {}
                    Recv::Disconnected => break,
                }
            }
            stamps
        });
    let Ok(echo) = echo else { return hist };
    crate::engine::wait::request_short_slice();
    let mut waiter = Waiter::new(wait);
    let start = now_ns();
    let limit = MAX_TIME.as_nanos() as u64;
    let mut trips = 0;
    while trips < hops.div_ceil(2) && now_ns().saturating_sub(start) < limit {
        std::thread::sleep(GAP);
        if to_tx.send(now_ns()).is_err() {
            break;
        }
        to_bell.ring();
        let until = now_ns() + 1_000_000_000;
        loop {
            match waiter.recv_bell(&back_rx, &back_bell, Duration::from_millis(5)) {
                Recv::Msg(sent) => {
                    let _ = hist.record(now_ns().saturating_sub(sent).max(1));
                    break;
                }
                Recv::Disconnected => break,
                Recv::Empty if now_ns() > until => break,
                Recv::Empty => {}
            }
        }
        trips += 1;
    }
    drop(to_tx);
    if let Ok(stamps) = echo.join() {
        for ns in stamps {
            let _ = hist.record(ns.max(1));
        }
    }
    hist
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hop_is_counted_and_positive() {
        let h = measure(WaitStrategy::Park, 40);
        assert_eq!(h.len(), 40);
        assert!(h.min() >= 1);
        // A hop on loopback threads is well under a second even on a busy CI box.
        assert!(h.max() < 1_000_000_000);
    }
}
