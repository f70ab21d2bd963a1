//! What we send must be what a server decodes: requests built by the engine
//! are parsed back the way the simulator (or Binance) would, the signature is
//! verified over the received bytes, and decoders never panic on junk.

use binance_exec::binance::errors::{Reaction, VenueError, classify};
use binance_exec::binance::query::{form_decode, parse_form, percent_decode, percent_encode};
use binance_exec::binance::requests::{NewOrder, OrderRef, RequestBuilder, Security};
use binance_exec::binance::sign::Signer;
use binance_exec::binance::ws_api::decode_response;
use binance_exec::model::{
    ClientOrderId, OrderType, PositionSide, Price, Quantity, RespType, Side, Symbol, TimeInForce,
};
use proptest::prelude::*;

const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
const SECRET: &[u8] = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

/// Server-side check: the signature is the last pair and covers
/// query ‖ body without it.
fn server_verifies(query: &[u8], body: &[u8]) -> Vec<(String, String)> {
    let in_body = !body.is_empty();
    let holder = if in_body { body } else { query };
    let text = std::str::from_utf8(holder).unwrap();
    let (payload, sig) = text.rsplit_once("&signature=").unwrap();
    let s = Signer::new(SECRET);
    let ok = if in_body {
        s.verify(query, payload.as_bytes(), sig.as_bytes())
    } else {
        s.verify(payload.as_bytes(), body, sig.as_bytes())
    };
    assert!(ok);
    let mut pairs = parse_form(query).unwrap();
    pairs.extend(parse_form(body).unwrap());
    pairs
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[test]
fn non_ascii_order_roundtrips_through_a_server_decoder() {
    let mut b = RequestBuilder::new(KEY, SECRET, Some(5000));
    let o = NewOrder {
        symbol: Symbol::new("币安人生USDT").unwrap(),
        side: Side::Sell,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Quantity::parse("120").unwrap(),
        price: Some(Price::parse("0.01234").unwrap()),
        reduce_only: Some(false),
        position_side: Some(PositionSide::Short),
        client_order_id: ClientOrderId::new("a:b/c.d_e-1").unwrap(),
        resp_type: RespType::Result,
        good_till_date: None,
        stp: None,
        price_match: None,
    };
    let r = b.new_order(&o, 1760000000000).unwrap();
    assert_eq!(r.security, Security::Signed);
    let pairs = server_verifies(r.query, r.body);
    assert_eq!(get(&pairs, "symbol"), Some("币安人生USDT"));
    assert_eq!(get(&pairs, "newClientOrderId"), Some("a:b/c.d_e-1"));
    assert_eq!(get(&pairs, "price"), Some("0.01234"));
    assert_eq!(get(&pairs, "positionSide"), Some("SHORT"));
    // Hedge mode: reduceOnly=false was dropped, never sent.
    assert_eq!(get(&pairs, "reduceOnly"), None);
    assert_eq!(get(&pairs, "timestamp"), Some("1760000000000"));
    assert_eq!(pairs.last().map(|p| p.0.as_str()), Some("signature"));

    let r = b.query_order(
        &o.symbol,
        &OrderRef::ClientId(o.client_order_id),
        1760000000001,
    );
    let pairs = server_verifies(r.query, r.body);
    assert_eq!(get(&pairs, "origClientOrderId"), Some("a:b/c.d_e-1"));
}

#[test]
fn error_reply_to_reaction() {
    let e = VenueError::from_response(400, br#"{"code":-5022,"msg":"Due to the order could not be executed as maker, the Post Only order will be rejected."}"#);
    assert_eq!(e.reaction(), Reaction::Reject);
    assert!(!e.is_unknown_fate());
    let e = VenueError::from_response(
        503,
        br#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#,
    );
    assert!(e.is_unknown_fate());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_roundtrip(s in "\\PC{0,40}") {
        let enc = percent_encode(&s);
        prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        prop_assert_eq!(percent_decode(enc.as_bytes()).unwrap(), s.clone());
        prop_assert_eq!(form_decode(enc.as_bytes()).unwrap(), s);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = percent_decode(&bytes);
        let _ = parse_form(&bytes);
        let _ = VenueError::from_response(500, &bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = decode_response(s);
            let _ = classify(503, None, s);
        }
    }

    #[test]
    fn classify_is_total(status in 0u16..1000, code in proptest::option::of(-10_000i64..10_000), msg in ".{0,20}") {
        let _ = classify(status, code, &msg);
    }

    #[test]
    fn envelope_fuzz_from_valid_prefix(cut in 0usize..150) {
        let ok = r#"{"id":"p-1","status":200,"result":{"orderId":1},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":7}]}"#;
        let cut = cut.min(ok.len());
        let r = decode_response(&ok[..cut]);
        prop_assert_eq!(r.is_ok(), cut == ok.len());
    }
}
