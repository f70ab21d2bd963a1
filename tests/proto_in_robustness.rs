//! Every decoder against truncated and byte-mutated venue frames: no panic
//! ever, and a cut frame is always an error (never a short or `Unknown` value).
//! Deterministic (fixed-seed PRNG) and bounded in count.
mod proto_in_common;
use proto_in_common as s;

use binance_exec::binance::{decode, events, market, rest};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// splitmix64: tiny, deterministic, good enough to pick bytes and positions.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn all_samples() -> Vec<String> {
    let rest_samples = [
        s::ORDER_RESULT,
        s::ORDER_2026,
        s::ORDER_QUERY,
        s::ALGO_REPLY,
        s::ALGO_QUERY,
        s::CANCEL_ALGO,
        s::CODE_MSG,
        s::CODE_MSG_STR,
        s::API_ERROR,
        s::SERVER_TIME,
        s::LISTEN_KEY,
        s::ACCOUNT_V3,
        s::ACCOUNT_V2,
        s::POSITION_RISK_V3,
        s::POSITION_RISK_V2,
        s::BALANCE,
        s::DUAL,
        s::LEVERAGE,
        s::USER_TRADES,
        s::COUNTDOWN,
        s::BATCH,
        s::DEPTH_SNAPSHOT,
    ];
    let mut v: Vec<String> = s::USER_SAMPLES
        .iter()
        .chain(s::MARKET_SAMPLES)
        .chain(rest_samples.iter())
        .map(|x| x.to_string())
        .collect();
    v.push(s::wrapped("listenkey0001", s::OTU_FILL));
    v.push(s::wrapped("ethusdt@depth@100ms", s::DEPTH_UPDATE));
    v.push(s::wrapped("ethusdt@bookTicker", s::BOOK_TICKER));
    v
}

/// Runs every decoder; returns how many of the Result-returning ones said Ok.
fn run_all(input: &[u8]) -> Vec<(&'static str, bool)> {
    let mut oks = Vec::with_capacity(40);
    macro_rules! r {
        ($name:literal, $e:expr) => {
            oks.push(($name, $e.is_ok()));
        };
    }
    r!("decode_user_event", events::decode_user_event(input));
    r!("decode_user_frame", events::decode_user_frame(input));
    let mut slot = events::OrderUpdate::empty();
    r!(
        "decode_order_update_into",
        events::decode_order_update_into(input, &mut slot)
    );
    r!("decode_market", market::decode_market(input));
    r!("decode_market_frame", market::decode_market_frame(input));
    let mut depth = market::DepthUpdate::default();
    r!(
        "decode_depth_into",
        market::decode_depth_into(input, &mut depth)
    );
    r!("decode_order", rest::decode_order(input));
    r!("decode_orders", rest::decode_orders(input));
    r!("decode_algo_order", rest::decode_algo_order(input));
    r!("decode_algo_orders", rest::decode_algo_orders(input));
    r!("decode_cancel_algo", rest::decode_cancel_algo(input));
    r!("decode_code_msg", rest::decode_code_msg(input));
    r!("decode_server_time", rest::decode_server_time(input));
    r!("decode_listen_key", rest::decode_listen_key(input));
    r!("decode_account", rest::decode_account(input));
    r!("decode_position_risk", rest::decode_position_risk(input));
    r!("decode_balances", rest::decode_balances(input));
    r!("decode_position_mode", rest::decode_position_mode(input));
    r!("decode_leverage", rest::decode_leverage(input));
    r!("decode_user_trades", rest::decode_user_trades(input));
    r!("decode_countdown", rest::decode_countdown(input));
    r!("decode_depth_snapshot", rest::decode_depth_snapshot(input));
    r!("decode_batch_orders", rest::decode_batch_orders(input));
    r!("ApiError", rest::decode::<rest::ApiError>(input));
    r!(
        "decode_reply 200",
        rest::decode_reply::<rest::OrderResponse>(200, input)
    );
    r!(
        "decode_reply 400",
        rest::decode_reply::<rest::OrderResponse>(400, input)
    );
    r!("validate", decode::validate(input));
    // Infallible / partial helpers: only must not panic.
    let _ = rest::decode_api_error(503, input);
    let _ = rest::as_api_error(input);
    let _ = decode::split_combined(input);
    let _ = decode::event_type(input);
    oks
}

fn checked(input: &[u8], what: &str) -> Vec<(&'static str, bool)> {
    match catch_unwind(AssertUnwindSafe(|| run_all(input))) {
        Ok(v) => v,
        Err(_) => panic!(
            "decoder panicked on {what}: {:?}",
            String::from_utf8_lossy(input)
        ),
    }
}

#[test]
fn samples_decode_with_their_own_decoder() {
    // Sanity: the harness really exercises success paths too.
    for smp in all_samples() {
        let oks = checked(smp.as_bytes(), "sample");
        assert!(oks.iter().any(|(n, ok)| *ok && *n != "validate"), "{smp}");
    }
}

#[test]
fn every_truncated_prefix_is_an_error() {
    let mut count = 0usize;
    for smp in all_samples() {
        let b = smp.as_bytes();
        for cut in 0..b.len() {
            let oks = checked(&b[..cut], "prefix");
            count += 1;
            // decode_reply(400) maps any body to an ApiError by design (Err);
            // every other decoder must refuse an incomplete document.
            for (name, ok) in oks {
                assert!(!ok, "{name} accepted a truncated frame: {:?}", &smp[..cut]);
            }
        }
    }
    assert!(count > 10_000, "only {count} prefixes");
}

#[test]
fn mutated_frames_never_panic() {
    const NASTY: &[u8] = b"\"\\{}[]:,0-.eE+nt f9\x00\xff\xc3\xa9\xe5";
    let mut rng = Rng(0x5EED_0BAD_F00D);
    let mut count = 0usize;
    for smp in all_samples() {
        let base = smp.into_bytes();
        for _ in 0..250 {
            let mut m = base.clone();
            for _ in 0..1 + rng.below(3) {
                let pos = rng.below(m.len());
                match rng.below(4) {
                    0 => m[pos] = NASTY[rng.below(NASTY.len())],
                    1 => m[pos] = rng.next() as u8,
                    2 => {
                        m.remove(pos);
                    }
                    _ => m.insert(pos, NASTY[rng.below(NASTY.len())]),
                }
                if m.is_empty() {
                    break;
                }
            }
            checked(&m, "mutation");
            count += 1;
        }
    }
    assert!(count >= 10_000, "only {count} mutations");
}

#[test]
fn pathological_inputs() {
    let deep = "[".repeat(10_000);
    let deep_obj = format!("{{\"e\":\"x\",\"a\":{}", "[".repeat(5000));
    let long_sym = s::BOOK_TICKER.replace("ETHUSDT", &"A".repeat(500));
    let long_cid = s::OTU_FILL.replace("e1-000043", &"c".repeat(300));
    let long_tag = s::OTU_FILL.replace("\"BUY\"", &format!("\"{}\"", "Z".repeat(300)));
    let huge_num = s::OTU_FILL.replace("8389765550", "99999999999999999999999");
    let deep_field = s::OTU_FILL.replace(
        "\"er\":\"0\"",
        &format!(
            "\"zz\":{}1{},\"er\":\"0\"",
            "[".repeat(20_000),
            "]".repeat(20_000)
        ),
    );
    let escaped = s::OTU_FILL.replace("\"s\":\"ETHUSDT\"", "\"s\":\"ETH\\u0055SDT\"");
    for inp in [
        "",
        " ",
        "null",
        "[]",
        "{}",
        "\"e\"",
        "{\"e\":1}",
        "{\"e\":\"\\",
        "{\"e\":\"ORDER_TRADE_UPDATE\"}",
        "{\"stream\":1}",
        "{\"stream\":\"x\"}",
        "{\"data\":[]}",
        deep.as_str(),
        deep_obj.as_str(),
        long_sym.as_str(),
        long_cid.as_str(),
        long_tag.as_str(),
        huge_num.as_str(),
        escaped.as_str(),
        deep_field.as_str(),
    ] {
        checked(inp.as_bytes(), "pathological");
    }
    // Over-long venue ids are cut, enum tags kept as Unknown: the fill survives.
    let events::UserEvent::OrderTradeUpdate(u) =
        events::decode_user_event(long_tag.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert!(u.side.is_unknown());
    let events::UserEvent::OrderTradeUpdate(u) =
        events::decode_user_event(escaped.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(u.symbol.as_str(), "ETHUSDT");
    assert!(events::decode_user_event(huge_num.as_bytes()).is_err());
    // A deeply nested unknown field is refused up front (the parser would
    // otherwise recurse once per level while skipping it).
    assert_eq!(
        events::decode_user_event(deep_field.as_bytes()).unwrap_err(),
        decode::DecodeError::TooDeep
    );
    assert!(market::decode_market(long_sym.as_bytes()).is_err());
}
