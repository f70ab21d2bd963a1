//! The ORDER_TRADE_UPDATE fast scanner and the serde decoder must agree on
//! every input: same value when both accept, both refuse otherwise. Inputs are
//! the samples, reformatted variants, all prefixes and seeded byte mutations.
mod proto_in_common;
use proto_in_common as s;

use binance_exec::binance::{decode, events};

fn via_stream(x: &[u8]) -> Option<events::OrderUpdate> {
    match events::decode_user_event(x) {
        Ok(events::UserEvent::OrderTradeUpdate(u)) => Some(u),
        _ => None,
    }
}

fn agree(x: &[u8]) -> bool {
    let tag = decode::event_type(x).ok().flatten();
    if tag.as_ref().map(|t| t.as_str()) != Some("ORDER_TRADE_UPDATE") {
        return false;
    }
    let fast = via_stream(x);
    let slow = decode::decode::<events::OrderUpdate>(x).ok();
    assert_eq!(
        fast,
        slow,
        "paths disagree on {:?}",
        String::from_utf8_lossy(x)
    );
    let mut slot = events::OrderUpdate::empty();
    let into = events::decode_order_update_into(x, &mut slot)
        .ok()
        .map(|_| slot);
    assert_eq!(
        into,
        slow,
        "into-slot disagrees on {:?}",
        String::from_utf8_lossy(x)
    );
    true
}

#[test]
fn scanner_matches_serde() {
    let otus = [s::OTU_FILL, s::OTU_LIQ, s::OTU_ADL, s::OTU_AMEND];
    let mut variants: Vec<String> = Vec::new();
    for o in otus {
        variants.push(o.to_string());
        // Pretty-ish spacing, numbers as strings, nulls, extra scalar keys.
        variants.push(o.replace(",\"", " ,\n \"").replace("\":", "\" : "));
        variants.push(
            o.replace("\"t\":", "\"t\":\"")
                .replace(",\"b\":", "\",\"b\":"),
        );
        variants.push(o.replace("\"n\":\"0.01920760\"", "\"n\":null"));
        variants.push(o.replace("\"m\":false", "\"m\":\"true\""));
        variants.push(o.replace("\"si\":0", "\"si\":0,\"new\":true,\"k2\":null,\"k3\":-5"));
        variants.push(
            o.replace("\"p\":\"", "\"p\":")
                .replacen("\",\"ap\"", ",\"ap\"", 1),
        );
        variants.push(o.replace("\"i\":", "\"i\":0"));
        variants.push(o.replace("\"o\":{", "\"o\":{\"nested\":{\"a\":1},"));
    }
    let mut compared = 0usize;
    for v in &variants {
        assert!(agree(v.as_bytes()) || v.contains("\"i\":0"), "{v}");
        let b = v.as_bytes();
        for cut in 0..b.len() {
            agree(&b[..cut]);
        }
        compared += 1;
    }
    // Seeded mutations.
    compared += s::mutations(&variants, 600, 0xC0FF_EE00_1234, &mut agree);
    assert!(compared > 5_000, "only {compared} compared");
}
