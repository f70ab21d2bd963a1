//! The TRADE_LITE fast scanner and the serde decoder must agree on every
//! input: same value when both accept, both refuse otherwise. Inputs are the
//! sample, reformatted variants (repeated keys, loose booleans, strings for
//! numbers, nested unknown values), all prefixes and seeded byte mutations.
mod proto_in_common;
use proto_in_common as s;

use binance_exec::binance::{decode, events};

/// Compares the two paths on `x`; false when `x` is not a TRADE_LITE at all.
fn agree(x: &[u8]) -> bool {
    let tag = decode::event_type(x).ok().flatten();
    if tag.as_ref().map(|t| t.as_str()) != Some("TRADE_LITE") {
        return false;
    }
    let fast = match events::decode_user_event(x) {
        Ok(events::UserEvent::TradeLite(t)) => Some(t),
        Ok(other) => panic!("TRADE_LITE decoded as {other:?}"),
        Err(_) => None,
    };
    let slow = decode::decode::<events::TradeLite>(x).ok();
    assert_eq!(
        fast,
        slow,
        "paths disagree on {:?}",
        String::from_utf8_lossy(x)
    );
    true
}

#[test]
fn trade_lite_scanner_matches_serde() {
    let t = s::TRADE_LITE;
    let variants: Vec<String> = vec![
        t.to_string(),
        t.replace(",\"", " ,\n \"").replace("\":", "\" : "),
        t.replace("\"m\":false", "\"m\":\"TRUE\""),
        t.replace("\"m\":false", "\"m\":null"),
        t.replace("\"m\":false", "\"m\":1"),
        t.replace("\"t\":1974335521", "\"t\":\"1974335521\""),
        t.replace("\"E\":1760000200010", "\"E\":1760000200010.5"),
        t.replace("\"E\":1760000200010,", ""),
        t.replace("\"q\":\"0.050\",", ""),
        t.replace("\"L\":\"2400.95\"", "\"L\":\"\""),
        t.replace("\"L\":\"2400.95\"", "\"L\":2400.95"),
        t.replace("\"l\":\"0.020\",", ""),
        t.replace("\"i\":8389765550", "\"i\":8389765550,\"i\":1"),
        t.replace("\"s\":\"ETHUSDT\"", "\"s\":\"ETHUSDT\",\"s\":\"BTCUSDT\""),
        t.replace(
            "\"e\":\"TRADE_LITE\",",
            "\"e\":\"TRADE_LITE\",\"x\":{\"a\":[1]},",
        ),
        t.replace("\"S\":\"BUY\"", "\"S\":\"SIDEWAYS\""),
        t.replace("\"c\":\"e1-000043\"", "\"c\":\"e1-\\u0030\""),
        t.replace("\"s\":\"ETHUSDT\"", "\"s\":\"币安人生USDT\""),
        t.replace("\"i\":8389765550", "\"i\":-0"),
        t.replace("\"i\":8389765550", "\"i\":99999999999999999999"),
        format!("{t} "),
        format!("{t}x"),
    ];
    let mut compared = 0usize;
    for v in &variants {
        assert!(agree(v.as_bytes()), "{v}");
        let b = v.as_bytes();
        for cut in 0..b.len() {
            agree(&b[..cut]);
        }
        compared += 1;
    }
    // The plain sample decodes, through the scanner and serde alike.
    assert!(matches!(
        events::decode_user_event(t.as_bytes()),
        Ok(events::UserEvent::TradeLite(x)) if x.trade_id == 1974335521 && x.order_id == 8389765550
    ));
    // Seeded mutations.
    compared += s::mutations(&variants, 400, 0x7EAD_11E0_0042, &mut agree);
    assert!(compared > 3_000, "only {compared} compared");
}
