//! Bad venue input during trading: the simulator truncates stream frames
//! (its `corrupt_next_frames` fault hook) again and again while the soak mix
//! trades. The engine must keep running, log every unreadable frame, and end
//! with order state that agrees with the venue's ledger.

use binance_exec::soak::{FaultKind, SoakOptions, run_sim};
use std::time::Duration;

#[test]
fn truncated_frames_are_logged_and_never_corrupt_order_state() {
    let mut opts = SoakOptions::new(Duration::from_secs(20));
    opts.faults = vec![FaultKind::CorruptFrames];
    opts.fault_every = Duration::from_millis(400);
    opts.seed = 11;
    opts.out_dir = std::env::temp_dir().join(format!("soak-bad-frames-{}", std::process::id()));
    let s = run_sim(&opts);
    let text = s.to_text();
    // The engine survived: it neither stopped by itself nor failed to stop.
    assert!(
        !s.errors
            .iter()
            .any(|e| e.contains("stopped by itself") || e.starts_with("engine")),
        "engine did not survive: {text}"
    );
    assert!(
        s.faults
            .by_kind
            .get(&FaultKind::CorruptFrames)
            .copied()
            .unwrap_or(0)
            >= 10,
        "{text}"
    );
    assert!(
        s.bad_frames_logged >= 1,
        "no unreadable frame was logged: {text}"
    );
    assert!(s.submitted > 100, "{text}");
    let c = s.comparison.as_ref().expect("audit ran");
    assert_eq!(c.lost, 0, "{text}");
    assert_eq!(c.duplicated_fills, 0, "{text}");
    assert_eq!(c.phantom_orders, 0, "{text}");
    assert_eq!(c.phantom_fills, 0, "{text}");
    assert_eq!(c.missed_fills, 0, "{text}");
    assert_eq!(c.position_mismatches, 0, "{text}");
    assert!(s.secret_leaks.is_empty(), "{text}");
    // Every order reached a final state the venue agrees with.
    assert!(s.errors.is_empty(), "{text}");
    let _ = std::fs::remove_dir_all(&opts.out_dir);
}
