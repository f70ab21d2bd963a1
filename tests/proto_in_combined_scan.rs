//! The allocation-free scanner in `decode::split_combined` must agree with the
//! general JSON lookup on every real frame shape, and fall back (not fail) on
//! wrapper shapes it does not take.

mod proto_in_common;
use binance_exec::binance::decode::{self, DecodeError};
use proto_in_common::*;

/// What the general lookup says `data` and `stream` are.
fn reference(frame: &str) -> (Option<String>, String) {
    let data = sonic_rs::get_from_slice(frame.as_bytes(), ["data"]).expect("data");
    let stream = sonic_rs::get_from_slice(frame.as_bytes(), ["stream"])
        .ok()
        .and_then(|v| sonic_rs::JsonValueTrait::as_str(&v).map(str::to_owned));
    (stream, data.as_raw_str().to_owned())
}

fn split(frame: &str) -> Result<(Option<String>, String), DecodeError> {
    let (name, data) = decode::split_combined(frame.as_bytes())?;
    Ok((
        name.map(|n| n.as_str().to_owned()),
        String::from_utf8(data.to_vec()).expect("utf8"),
    ))
}

#[test]
fn scanner_matches_general_lookup_on_every_sample() {
    let streams = [
        "btcusdt@bookTicker",
        "ethusdt@depth5@100ms",
        "!markPrice@arr@1s",
        "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1",
    ];
    let mut checked = 0;
    for sample in USER_SAMPLES.iter().chain(MARKET_SAMPLES) {
        for stream in streams {
            let frame = wrapped(stream, sample);
            assert_eq!(split(&frame).expect("splits"), reference(&frame), "{frame}");
            checked += 1;
        }
    }
    assert!(checked > 40);
}

#[test]
fn odd_wrapper_shapes_fall_back_to_the_general_lookup() {
    let frames = [
        // data first, stream second
        r#"{"data":{"e":"x","s":"A"},"stream":"a@b"}"#,
        // whitespace everywhere
        " { \"stream\" : \"a@b\" ,\n \"data\" : { \"e\" : \"x\" } } ",
        // escaped stream name
        r#"{"stream":"a\u0040b","data":{"e":"x"}}"#,
        // scalar and array data
        r#"{"stream":"a@b","data":7}"#,
        r#"{"stream":"a@b","data":[{"e":"x"},{"e":"y"}]}"#,
        // brackets and quotes inside strings of data
        r#"{"stream":"a@b","data":{"e":"x","m":"}]\"{["}}"#,
        // extra member after data
        r#"{"stream":"a@b","data":{"e":"x"},"extra":1}"#,
    ];
    for frame in frames {
        assert_eq!(split(frame).expect("splits"), reference(frame), "{frame}");
    }
}

#[test]
fn broken_wrappers_are_errors_not_guesses() {
    let cut = wrapped("a@b", BOOK_TICKER);
    for end in 1..cut.len() {
        let part = cut.get(..end).expect("prefix");
        if let Ok((_, data)) = decode::split_combined(part.as_bytes()) {
            // A prefix that is not a wrapper passes through unchanged, but a
            // cut wrapper must never yield a data slice.
            assert_eq!(data, part.as_bytes(), "{part}");
        }
    }
    assert!(matches!(
        decode::split_combined(br#"{"stream":"a@b"}"#),
        Err(DecodeError::NoData(_))
    ));
}
