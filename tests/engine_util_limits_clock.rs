//! Rate limiter and venue clock: deterministic time, table-driven.

use binance_exec::binance::exchange_info::ExchangeInfo;
use binance_exec::config::{Backoff, Jitter, SplitMix64};
use binance_exec::engine::clock::{
    ClockError, ClockSync, TimeSample, TimestampAction, WallMonoAnchor,
};
use binance_exec::engine::ratelimit::{
    Cost, DEFAULT_LIMITS, Decision, LimitKind, LimitSpec, RateLimiter, RejectReason,
    parse_ban_until, specs_from_exchange_info,
};
use std::time::{Duration, Instant};

fn backoff() -> Backoff {
    Backoff {
        max_retries: 5,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(8),
    }
}

fn limiter() -> RateLimiter {
    RateLimiter::new(&DEFAULT_LIMITS, backoff(), 7)
}

// Venue times inside one minute window and one 10 s window.
const T0: i64 = 1_700_000_040_000; // a multiple of 60_000

#[test]
fn windows_hold_requests_until_they_roll() {
    struct Case {
        name: &'static str,
        fill: Cost,
        probe: Cost,
        want: Decision,
    }
    let cases = [
        Case {
            name: "weight full waits for next minute",
            fill: Cost::request(2400),
            probe: Cost::request(1),
            want: Decision::Wait(T0 + 60_000),
        },
        Case {
            name: "weight almost full still fits exactly",
            fill: Cost::request(2395),
            probe: Cost::request(5),
            want: Decision::Go,
        },
        Case {
            name: "orders do not use weight",
            fill: Cost::request(2400),
            probe: Cost::order(),
            want: Decision::Go,
        },
        Case {
            name: "300 orders fill the 10 s window",
            fill: Cost {
                weight: 0,
                orders: 300,
            },
            probe: Cost::order(),
            want: Decision::Wait(T0 + 10_000),
        },
        Case {
            name: "weight-only request ignores a full order window",
            fill: Cost {
                weight: 0,
                orders: 300,
            },
            probe: Cost::request(10),
            want: Decision::Go,
        },
        Case {
            name: "heavier than a window is rejected",
            fill: Cost::default(),
            probe: Cost::request(2401),
            want: Decision::Reject(RejectReason::TooHeavy {
                kind: LimitKind::Weight,
                requested: 2401,
                limit: 2400,
            }),
        },
    ];
    for c in cases {
        let mut l = limiter();
        assert_eq!(l.on_sent(c.fill, T0), None, "{}", c.name);
        assert_eq!(l.check_cost(c.probe, T0 + 500), c.want, "{}", c.name);
    }
}

#[test]
fn minute_order_window_binds_after_ten_second_windows_roll() {
    let mut l = limiter();
    // 4 × 300 orders in consecutive 10 s windows = 1200 in the minute.
    for k in 0..4 {
        let now = T0 + k * 10_000;
        assert_eq!(
            l.check_cost(
                Cost {
                    weight: 0,
                    orders: 300
                },
                now
            ),
            Decision::Go
        );
        l.on_sent(
            Cost {
                weight: 0,
                orders: 300,
            },
            now,
        );
    }
    assert_eq!(
        l.check(0, true, T0 + 40_000),
        Decision::Wait(T0 + 60_000),
        "the 10 s window rolled, the minute did not"
    );
    assert_eq!(l.check(0, true, T0 + 60_000), Decision::Go);
    assert_eq!(l.used(LimitKind::Orders, 60_000), Some(0));
}

#[test]
fn venue_headers_are_the_truth_and_garbage_is_ignored() {
    let table: &[(&str, &[u8], Option<u32>)] = &[
        ("X-MBX-USED-WEIGHT-1M", b"2000", Some(2000)),
        ("x-mbx-used-weight-1m", b"17", Some(17)),
        ("x-mbx-used-weight-1m", b"-1", Some(100)),
        ("x-mbx-used-weight-1m", b"lots", Some(100)),
        ("x-mbx-used-weight-1m", b"", Some(100)),
        ("x-mbx-used-weight-5m", b"7", Some(100)), // no such window
        ("content-length", b"7", Some(100)),
    ];
    for (name, value, want) in table {
        let mut l = limiter();
        l.on_sent(Cost::request(100), T0);
        l.on_header(name, value, T0 + 1);
        assert_eq!(
            l.used(LimitKind::Weight, 60_000),
            *want,
            "{name}: {value:?}"
        );
    }
    let mut l = limiter();
    l.on_header("X-MBX-ORDER-COUNT-10S", b"300", T0);
    assert_eq!(l.check(0, true, T0 + 1), Decision::Wait(T0 + 10_000));
    l.on_header("X-MBX-ORDER-COUNT-1M", b"5", T0);
    assert_eq!(l.used(LimitKind::Orders, 60_000), Some(5));
}

#[test]
fn warning_once_per_window_when_enabled() {
    let mut l = limiter().with_warnings(true, 80);
    assert_eq!(l.on_sent(Cost::request(1919), T0), None);
    let w = l.on_sent(Cost::request(1), T0).expect("crossing 80% warns");
    assert_eq!((w.kind, w.used, w.limit), (LimitKind::Weight, 1920, 2400));
    assert_eq!(l.on_sent(Cost::request(100), T0), None, "only once");
    assert_eq!(
        l.on_header("x-mbx-used-weight-1m", b"2300", T0),
        None,
        "already warned this window"
    );
    // Next window: warns again, this time via the venue's header.
    let w = l
        .on_header("x-mbx-used-weight-1m", b"2000", T0 + 60_000)
        .expect("new window warns again");
    assert_eq!(w.used, 2000);

    let mut quiet = limiter().with_warnings(false, 80);
    assert_eq!(quiet.on_sent(Cost::request(2400), T0), None);
}

#[test]
fn http_429_backs_off_exponentially_and_retry_after_wins_when_longer() {
    let mut l = limiter();
    let until1 = l.on_429(None, T0);
    assert!((T0 + 500..=T0 + 1000).contains(&until1), "{}", until1 - T0);
    assert_eq!(l.check(1, false, T0 + 10), Decision::Wait(until1));
    let now2 = until1;
    let until2 = l.on_429(None, now2);
    assert!(
        (now2 + 1000..=now2 + 2000).contains(&until2),
        "second delay {}",
        until2 - now2
    );
    // Retry-After longer than the backoff: it wins.
    let until3 = l.on_429(Some(30), until2);
    assert_eq!(until3, until2 + 30_000);
    assert_eq!(l.check(1, false, until3 - 1), Decision::Wait(until3));
    assert_eq!(l.check(1, false, until3), Decision::Go);
    // Retry-After shorter than the backoff: the backoff wins.
    let mut l = limiter();
    let until = l.on_429(Some(0), T0);
    assert!(until >= T0 + 500);
    // Success resets the sequence.
    l.on_ok();
    let again = l.on_429(None, until);
    assert!(again - until <= 1000, "reset to the first delay");
    // Many 429s never exceed the cap.
    let mut l = limiter();
    let mut now = T0;
    for _ in 0..20 {
        let u = l.on_429(None, now);
        assert!(u - now <= 8_000);
        now = u;
    }
}

#[test]
fn http_418_halts_until_the_ban_ends() {
    struct Case {
        msg: Option<&'static str>,
        retry_after: Option<u64>,
        want_until: i64,
    }
    let cases = [
        Case {
            msg: Some(
                "Way too many requests; IP banned until 1700000100000. Please use the websocket for live updates to avoid bans.",
            ),
            retry_after: None,
            want_until: 1_700_000_100_000,
        },
        Case {
            msg: Some("Way too many requests; IP banned until 1700000100000."),
            retry_after: Some(600),
            want_until: T0 + 600_000,
        },
        Case {
            msg: Some("something else"),
            retry_after: Some(5),
            want_until: T0 + 5_000,
        },
        Case {
            msg: None,
            retry_after: None,
            want_until: T0 + 120_000,
        },
    ];
    for c in cases {
        let mut l = limiter();
        assert_eq!(l.on_418(c.msg, c.retry_after, T0), c.want_until);
        assert_eq!(
            l.check(0, true, T0 + 1),
            Decision::Reject(RejectReason::Banned {
                until_ms: c.want_until
            })
        );
        assert_eq!(l.banned_until(T0 + 1), Some(c.want_until));
        assert_eq!(l.check(0, true, c.want_until), Decision::Go);
        assert_eq!(l.banned_until(c.want_until), None);
    }
}

#[test]
fn ban_message_parsing() {
    let table: &[(&str, Option<i64>)] = &[
        ("IP banned until 1700000000000", Some(1_700_000_000_000)),
        ("ip BANNED UNTIL  42.", Some(42)),
        ("banned until", None),
        ("banned until soon", None),
        ("banned until 99999999999999999999999", None),
        ("币安 banned until 7", Some(7)),
        ("", None),
    ];
    for (msg, want) in table {
        assert_eq!(parse_ban_until(msg), *want, "{msg}");
    }
}

#[test]
fn limits_come_from_exchange_info() {
    let info = ExchangeInfo::from_json(include_bytes!(
        "../src/instruments/fixtures/exchange_info.json"
    ))
    .expect("fixture decodes");
    let mut specs = specs_from_exchange_info(&info.rate_limits);
    specs.sort_by_key(|s| (s.kind as u8, s.window_ms));
    let mut want = DEFAULT_LIMITS.to_vec();
    want.sort_by_key(|s| (s.kind as u8, s.window_ms));
    assert_eq!(specs, want);

    let custom = ExchangeInfo::from_json(
        br#"{"rateLimits":[
            {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
            {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000},
            {"rateLimitType":"ORDERS","interval":"FORTNIGHT","intervalNum":1,"limit":9}
        ]}"#,
    )
    .expect("decodes");
    assert_eq!(
        specs_from_exchange_info(&custom.rate_limits),
        vec![LimitSpec {
            kind: LimitKind::Weight,
            window_ms: 60_000,
            limit: 6000
        }]
    );
    assert_eq!(specs_from_exchange_info(&[]), DEFAULT_LIMITS.to_vec());
}

// ---------------------------------------------------------------- clock

fn sample(t_send: i64, t_recv: i64, server: i64, at: Instant) -> TimeSample {
    TimeSample {
        t_send_ms: t_send,
        t_recv_ms: t_recv,
        server_ms: server,
        at,
    }
}

const L: i64 = 1_763_000_000_000;

#[test]
fn offset_is_server_minus_midpoint_of_the_tightest_sample() {
    let t = Instant::now();
    let mut c = ClockSync::new(Duration::from_secs(60));
    assert_eq!(c.offset_ms(), 0);
    assert!(!c.is_synced());
    // rtt 50, offset 2000 - 25 = ...
    assert_eq!(c.add_sample(sample(L, L + 50, L + 2025, t)), Ok(2000));
    // Tighter sample (rtt 10) wins even though it says something else.
    assert_eq!(c.add_sample(sample(L, L + 10, L + 1905, t)), Ok(1900));
    // Looser sample does not displace it.
    assert_eq!(c.add_sample(sample(L, L + 30, L + 3015, t)), Ok(1900));
    assert_eq!(c.uncertainty_ms(), 5);
    // Odd midpoints round down.
    let mut d = ClockSync::new(Duration::from_secs(60));
    assert_eq!(d.add_sample(sample(L, L + 1, L, t)), Ok(-1));
}

#[test]
fn old_samples_age_out() {
    let t = Instant::now();
    let interval = Duration::from_secs(10);
    let mut c = ClockSync::new(interval);
    c.add_sample(sample(L, L + 2, L + 101, t)).expect("ok");
    let later = t + interval * 5;
    assert_eq!(c.add_sample(sample(L, L + 40, L + 520, later)), Ok(500));
}

#[test]
fn bad_samples_are_rejected() {
    let t = Instant::now();
    let mut c = ClockSync::new(Duration::from_secs(60));
    assert_eq!(
        c.add_sample(sample(L + 5, L, L, t)),
        Err(ClockError::NegativeRoundTrip {
            t_send_ms: L + 5,
            t_recv_ms: L
        })
    );
    for bad in [0, -5, 12345, i64::MAX] {
        assert_eq!(
            c.add_sample(sample(L, L + 1, bad, t)),
            Err(ClockError::BadServerTime(bad))
        );
    }
    assert!(!c.is_synced());
}

/// However the round trip splits between the two directions, the signing
/// timestamp never runs ahead of the venue's true clock (so it can never
/// exceed serverTime + 1000), and stays far inside recvWindow.
#[test]
fn signing_timestamp_never_ahead_of_venue() {
    let mut rng = SplitMix64(0xC10C);
    let t = Instant::now();
    for _ in 0..2000 {
        let true_offset = (rng.next_unit() * 20_000.0) as i64 - 10_000;
        let rtt = (rng.next_unit() * 400.0) as i64;
        let out_leg = (rng.next_unit() * rtt as f64) as i64;
        let t_send = L + (rng.next_unit() * 1e6) as i64;
        let server = t_send + out_leg + true_offset;
        let mut c = ClockSync::new(Duration::from_secs(60));
        c.add_sample(sample(t_send, t_send + rtt, server, t))
            .expect("valid");
        let local = t_send + rtt + (rng.next_unit() * 1000.0) as i64;
        let venue_true = local + true_offset;
        let stamp = c.venue_now_ms(local);
        assert!(stamp <= venue_true, "ahead: {stamp} > {venue_true}");
        assert!(venue_true - stamp <= rtt + 21 + 1, "too far behind");
    }
}

#[test]
fn resync_schedule_and_timestamp_errors() {
    let t = Instant::now();
    let interval = Duration::from_secs(30);
    let mut c = ClockSync::new(interval);
    assert!(c.needs_sync(t), "never synced");
    c.add_sample(sample(L, L + 2, L + 1001, t)).expect("ok");
    assert!(!c.needs_sync(t + Duration::from_secs(29)));
    assert!(c.needs_sync(t + interval));

    assert_eq!(c.on_timestamp_error(0), TimestampAction::ResyncAndRetry);
    assert!(c.needs_sync(t), "-1021 forces a resync at once");
    assert_eq!(c.offset_ms(), 1000, "old offset kept until the resync");
    // The fresh sample wins even with a looser round trip: the old one was
    // what the venue rejected.
    assert_eq!(
        c.add_sample(sample(L, L + 80, L + 3040, t + Duration::from_secs(1))),
        Ok(3000)
    );
    assert!(!c.needs_sync(t + Duration::from_secs(2)));
    assert_eq!(c.on_timestamp_error(1), TimestampAction::ResyncAndFail);
}

#[test]
fn venue_time_maps_onto_the_local_monotonic_axis() {
    let t = Instant::now();
    let mut c = ClockSync::new(Duration::from_secs(60));
    c.add_sample(sample(L, L + 10, L + 1005, t)).expect("ok"); // offset 1000
    let anchor = WallMonoAnchor {
        wall_ns: L * 1_000_000,
        mono_ns: 5_000_000_000,
    };
    // Venue T = L + 1000 + 250 ⇒ local wall L + 250 ⇒ mono 5 s + 250 ms.
    assert_eq!(
        c.venue_ms_to_local_mono_ns(L + 1250, &anchor),
        5_250_000_000
    );
    // Before the anchor is fine (negative deltas).
    assert_eq!(c.venue_ms_to_local_mono_ns(L, &anchor), 4_000_000_000);
    // Absurd inputs saturate instead of overflowing.
    let _ = c.venue_ms_to_local_mono_ns(i64::MAX, &anchor);
    let _ = c.venue_ms_to_local_mono_ns(i64::MIN, &anchor);
    let live = WallMonoAnchor::capture(t);
    assert!(live.wall_ns > 0 && live.mono_ns >= 0);
}
