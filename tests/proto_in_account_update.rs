//! ACCOUNT_UPDATE decoded into a reused slot (`decode_account_update_into`,
//! `decode_user_event_reusing`): the same values as the by-value decoder,
//! nothing left over from a previous frame, and the truncation flag when
//! the venue lists more positions or balances than are kept inline.

#[path = "proto_in_common/mod.rs"]
mod samples;

use binance_exec::binance::events::{
    AccountUpdate, MAX_BALANCE_CHANGES, MAX_POSITION_CHANGES, UserEvent,
    decode_account_update_into, decode_user_event, decode_user_event_reusing,
};

/// An ACCOUNT_UPDATE listing `balances` assets and `positions` symbols.
fn many(balances: usize, positions: usize) -> String {
    let b: Vec<String> = (0..balances)
        .map(|i| format!(r#"{{"a":"A{i}","wb":"{i}.5","cw":"{i}","bc":"0"}}"#))
        .collect();
    let p: Vec<String> = (0..positions)
        .map(|i| {
            format!(
                r#"{{"s":"S{i}USDT","pa":"0.{i:03}","ep":"100.{i}","bep":"0","cr":"0","up":"0","mt":"cross","iw":"0","ps":"BOTH"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"e":"ACCOUNT_UPDATE","E":7,"T":6,"a":{{"m":"ADJUSTMENT","B":[{}],"P":[{}]}}}}"#,
        b.join(","),
        p.join(",")
    )
}

fn by_value(frame: &str) -> AccountUpdate {
    match decode_user_event(frame.as_bytes()) {
        Ok(UserEvent::AccountUpdate(a)) => a,
        other => panic!("not an ACCOUNT_UPDATE: {other:?}"),
    }
}

#[test]
fn slot_decoder_agrees_with_the_by_value_decoder() {
    let mut slot = AccountUpdate::empty();
    for frame in [
        samples::ACCOUNT_UPDATE.to_string(),
        samples::ACCOUNT_UPDATE_FUNDING.to_string(),
        samples::wrapped("key", samples::ACCOUNT_UPDATE),
        many(3, 5),
        many(12, 20),
    ] {
        decode_account_update_into(&mut slot, frame.as_bytes())
            .unwrap_or_else(|e| panic!("{e}: {frame}"));
        assert_eq!(slot, by_value(&frame), "{frame}");
    }
}

#[test]
fn a_reused_slot_keeps_nothing_of_the_previous_frame() {
    let mut slot = AccountUpdate::empty();
    decode_account_update_into(&mut slot, many(10, 10).as_bytes()).expect("big");
    assert!(slot.is_truncated());
    decode_account_update_into(&mut slot, samples::ACCOUNT_UPDATE_FUNDING.as_bytes())
        .expect("small");
    assert!(!slot.is_truncated());
    assert_eq!(slot.data.positions.len(), 0);
    assert_eq!(slot.data.balances.len(), 1);
    assert_eq!(slot.data.reason.as_str(), "FUNDING_FEE");
    // A frame without `m`, `E` or `T` does not inherit them either.
    let bare = r#"{"e":"ACCOUNT_UPDATE","a":{"P":[]}}"#;
    decode_account_update_into(&mut slot, bare.as_bytes()).expect("bare");
    assert_eq!(slot, AccountUpdate::empty());
}

#[test]
fn more_than_the_inline_capacity_is_flagged_not_lost_silently() {
    let mut slot = AccountUpdate::empty();
    let frame = many(MAX_BALANCE_CHANGES, MAX_POSITION_CHANGES + 3);
    decode_account_update_into(&mut slot, frame.as_bytes()).expect("decodes");
    let p = &slot.data.positions;
    assert_eq!(p.len(), MAX_POSITION_CHANGES);
    assert_eq!(p.dropped(), 3);
    assert!(p.is_truncated() && slot.is_truncated());
    assert!(!slot.data.balances.is_truncated(), "exactly at capacity");
    // The kept items are the first ones, in order.
    assert_eq!(p.first().map(|x| x.symbol.as_str()), Some("S0USDT"));
    assert_eq!(
        p.last().map(|x| x.symbol.as_str()),
        Some(format!("S{}USDT", MAX_POSITION_CHANGES - 1).as_str())
    );
    // Balances over capacity flag the update too.
    let frame = many(MAX_BALANCE_CHANGES + 1, 0);
    decode_account_update_into(&mut slot, frame.as_bytes()).expect("decodes");
    assert!(slot.data.balances.is_truncated() && slot.is_truncated());
    assert!(!slot.data.positions.is_truncated());
}

#[test]
fn bad_frames_are_typed_errors() {
    let mut slot = AccountUpdate::empty();
    let full = samples::ACCOUNT_UPDATE;
    for cut in [10, full.len() / 2, full.len() - 1] {
        let e = decode_account_update_into(&mut slot, full.as_bytes().get(..cut).unwrap_or(b""))
            .expect_err("cut frame");
        assert!(
            e.is_truncated() || e.to_string().contains("AccountUpdate"),
            "{e}"
        );
    }
    // Missing `a`, a bad element past the capacity, `null` lists.
    for bad in [
        r#"{"e":"ACCOUNT_UPDATE","E":1}"#.to_string(),
        many(0, 9).replace(r#""pa":"0.008""#, r#""pa":"x""#),
        r#"{"e":"ACCOUNT_UPDATE","a":{"P":null}}"#.to_string(),
        r#"{"e":"ACCOUNT_UPDATE","a":{"P":[]}} trailing"#.to_string(),
    ] {
        assert!(
            decode_account_update_into(&mut slot, bad.as_bytes()).is_err(),
            "{bad}"
        );
    }
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(decode_account_update_into(&mut slot, deep.as_bytes()).is_err());
}

#[test]
fn the_reusing_user_decoder_routes_only_account_updates_to_the_slot() {
    let mut slot = AccountUpdate::empty();
    let r = decode_user_event_reusing(samples::ACCOUNT_UPDATE.as_bytes(), &mut slot);
    assert!(matches!(r, Ok(None)), "{r:?}");
    assert_eq!(slot, by_value(samples::ACCOUNT_UPDATE));
    for frame in samples::USER_SAMPLES {
        if frame.contains("\"ACCOUNT_UPDATE\"") {
            continue;
        }
        let mine = decode_user_event_reusing(frame.as_bytes(), &mut slot);
        assert_eq!(
            mine,
            decode_user_event(frame.as_bytes()).map(Some),
            "{frame}"
        );
    }
    assert!(decode_user_event_reusing(b"{\"e\":\"ACCOUNT_UPDATE\"", &mut slot).is_err());
}
