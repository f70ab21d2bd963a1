//! Lifecycle and error-code tests of the venue, driven through `handle`,
//! `tick` and the control hooks exactly as the transport drives them.
use super::api::{Method, Outbox, Params, Reply, Request};
use super::control::AdlStyle;
use super::settings::{PositionMode, VenueSettings};
use super::state::Venue;
use crate::model::decimal::Decimal;
use crate::model::enums::PositionSide;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

const T0: i64 = 1_760_000_000_000;

fn venue() -> Venue {
    let mut s = VenueSettings::default();
    s.market.auto_move = false;
    Venue::new(&s, T0)
}

fn hedge_venue() -> Venue {
    let mut s = VenueSettings::default();
    s.market.auto_move = false;
    s.accounts[0].position_mode = PositionMode::Hedge;
    Venue::new(&s, T0)
}

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap_or_default()
}

fn call(
    v: &mut Venue,
    m: Method,
    path: &str,
    acct: usize,
    pairs: &[(&str, &str)],
) -> (Reply, Outbox) {
    let params = Params {
        pairs: pairs
            .iter()
            .map(|(k, x)| (k.to_string(), x.to_string()))
            .collect(),
    };
    let mut out = Outbox::default();
    let r = v.handle(
        &Request {
            method: m,
            path,
            params: &params,
            account: Some(acct),
        },
        T0 + 1,
        &mut out,
    );
    (r, out)
}

fn post_order(v: &mut Venue, acct: usize, pairs: &[(&str, &str)]) -> (Reply, Outbox) {
    call(v, Method::Post, "/fapi/v1/order", acct, pairs)
}

/// Algo orders have their own endpoint; every algo lifecycle starts here.
fn post_algo(v: &mut Venue, pairs: &[(&str, &str)]) -> (Reply, Outbox) {
    call(v, Method::Post, "/fapi/v1/algoOrder", 0, pairs)
}

/// The JSON of the newest ALGO_UPDATE in `out`: the algo's final word after a trigger.
fn last_algo_update(out: &Outbox) -> String {
    out.user
        .iter()
        .rev()
        .find(|f| f.event_type == "ALGO_UPDATE")
        .map(|f| f.json.clone())
        .unwrap_or_default()
}

fn json(s: &str) -> Value {
    sonic_rs::from_str(s).unwrap_or_default()
}

fn s_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or("")
}

/// `(x, X, er)` of the ORDER_TRADE_UPDATEs in `out` for `account`.
fn otu(out: &Outbox, account: usize) -> Vec<(String, String, String)> {
    out.user
        .iter()
        .filter(|f| f.account == account && f.event_type == "ORDER_TRADE_UPDATE")
        .map(|f| {
            let v = json(&f.json);
            let o = v.get("o").cloned().unwrap_or_default();
            (
                s_of(&o, "x").into(),
                s_of(&o, "X").into(),
                s_of(&o, "er").into(),
            )
        })
        .collect()
}

fn types(out: &Outbox, account: usize) -> Vec<&'static str> {
    out.user
        .iter()
        .filter(|f| f.account == account)
        .map(|f| f.event_type)
        .collect()
}

fn code(r: &Reply) -> i64 {
    r.code.unwrap_or(0)
}

fn limit<'a>(side: &'a str, qty: &'a str, price: &'a str, tif: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("symbol", "BTCUSDT"),
        ("side", side),
        ("type", "LIMIT"),
        ("quantity", qty),
        ("price", price),
        ("timeInForce", tif),
    ]
}

/// A plain BTCUSDT MARKET order: most lifecycles open or close a position with one.
fn market<'a>(side: &'a str, qty: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("symbol", "BTCUSDT"),
        ("side", side),
        ("type", "MARKET"),
        ("quantity", qty),
    ]
}

#[test]
fn exchange_info_has_symbols_filters_and_limits() {
    let mut v = venue();
    let (r, _) = call(&mut v, Method::Get, "/fapi/v1/exchangeInfo", 0, &[]);
    let j = json(&r.body);
    let syms = j.get("symbols").and_then(|s| s.as_array()).map(|a| a.len());
    assert_eq!(syms, Some(3));
    assert!(r.body.contains("\"MIN_NOTIONAL\",\"notional\":\"100\""));
    assert!(r.body.contains("币安人生USDT"));
    assert!(r.body.contains("\"intervalNum\":10,\"limit\":300"));
}

#[test]
fn limit_gtc_rests_with_ack_and_new_event() {
    let mut v = venue();
    let mut p = limit("BUY", "0.010", "59000", "GTC");
    p.push(("newClientOrderId", "e1-000042"));
    let (r, out) = post_order(&mut v, 0, &p);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.counts_as_order);
    let j = json(&r.body);
    assert_eq!(s_of(&j, "status"), "NEW");
    assert_eq!(s_of(&j, "clientOrderId"), "e1-000042");
    assert_eq!(s_of(&j, "price"), "59000.00");
    assert_eq!(s_of(&j, "selfTradePreventionMode"), "EXPIRE_MAKER");
    assert_eq!(otu(&out, 0), vec![("NEW".into(), "NEW".into(), "0".into())]);
    assert!(!types(&out, 0).contains(&"ACCOUNT_UPDATE"));
    let id1 = j.get("orderId").and_then(|x| x.as_i64()).unwrap_or(0);
    let (r2, _) = post_order(&mut v, 0, &limit("BUY", "0.010", "59000", "GTC"));
    let j2 = json(&r2.body);
    assert!(j2.get("orderId").and_then(|x| x.as_i64()).unwrap_or(0) > id1);
    assert_eq!(s_of(&j2, "clientOrderId").len(), 22);
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/openOrders",
        0,
        &[("symbol", "BTCUSDT")],
    );
    assert_eq!(json(&r.body).as_array().map(|a| a.len()), Some(2));
    let (dup, _) = post_order(&mut v, 0, &p);
    assert_eq!(code(&dup), -4116);
}

#[test]
fn parameter_and_filter_error_codes() {
    let mut v = venue();
    let cases: Vec<(Vec<(&str, &str)>, i64)> = vec![
        (vec![("symbol", "BTCUSDT"), ("type", "LIMIT")], -1102),
        (limit("HOLD", "0.01", "59000", "GTC"), -1117),
        (
            vec![
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "ICEBERG"),
                ("quantity", "1"),
            ],
            -1116,
        ),
        (
            vec![
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "STOP_MARKET"),
                ("quantity", "1"),
            ],
            -4120,
        ),
        (limit("BUY", "0.01", "59000", "DAY"), -1115),
        (
            vec![
                ("symbol", "NOPEUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "1"),
            ],
            -1121,
        ),
        (limit("BUY", "0.01", "59000.123", "GTC"), -1111),
        (limit("BUY", "0.01", "59000.15", "GTC"), -4014),
        (limit("BUY", "0.0105", "59000", "GTC"), -1111),
        (limit("BUY", "abc", "59000", "GTC"), -1100),
        (limit("BUY", "0", "59000", "GTC"), -4003),
        (limit("BUY", "2000", "59000", "GTC"), -4005),
        (limit("BUY", "0.01", "500", "GTC"), -4013),
        (limit("BUY", "0.001", "59000", "GTC"), -4164),
        (limit("BUY", "0.01", "70000", "GTC"), -4016),
        (limit("SELL", "0.01", "50000", "GTC"), -4024),
        (limit("BUY", "100", "59000", "GTC"), -2019),
        (
            vec![
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("quantity", "0.01"),
                ("price", "59000"),
                ("timeInForce", "GTC"),
                ("newClientOrderId", "bad id!"),
            ],
            -4015,
        ),
        (
            vec![
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.01"),
                ("positionSide", "LONG"),
            ],
            -4061,
        ),
        (
            vec![
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "MARKET"),
                ("quantity", "0.01"),
                ("reduceOnly", "true"),
            ],
            -2022,
        ),
        (
            vec![
                ("symbol", "ETHUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.0001"),
            ],
            -1111,
        ),
        (
            vec![
                ("symbol", "ETHUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("quantity", "0.001"),
                ("price", "2390"),
                ("timeInForce", "GTC"),
            ],
            -4164,
        ),
    ];
    for (p, want) in cases {
        let (r, out) = post_order(&mut v, 0, &p);
        assert_eq!(code(&r), want, "{p:?} -> {}", r.body);
        assert!(out.user.is_empty());
    }
    // Reduce-only is exempt from MIN_NOTIONAL (fails later on -2022 instead).
    let mut p = limit("SELL", "0.001", "61000", "GTC");
    p.push(("reduceOnly", "true"));
    assert_eq!(code(&post_order(&mut v, 0, &p).0), -2022);
    // Hedge mode: reduceOnly not allowed (-1106), BOTH refused (-4061).
    let mut h = hedge_venue();
    let mut p = limit("BUY", "0.01", "59000", "GTC");
    p.push(("positionSide", "LONG"));
    p.push(("reduceOnly", "false"));
    assert_eq!(code(&post_order(&mut h, 0, &p).0), -1106);
    assert_eq!(
        code(&post_order(&mut h, 0, &limit("BUY", "0.01", "59000", "GTC")).0),
        -4061
    );
}

#[test]
fn market_order_fills_at_the_ask_with_event_sequence() {
    let mut v = venue();
    let (r, out) = post_order(
        &mut v,
        0,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.010"),
            ("newOrderRespType", "RESULT"),
        ],
    );
    let j = json(&r.body);
    assert_eq!(s_of(&j, "status"), "FILLED", "{}", r.body);
    assert_eq!(s_of(&j, "avgPrice"), "60000.10");
    assert_eq!(
        types(&out, 0),
        vec![
            "ORDER_TRADE_UPDATE",
            "TRADE_LITE",
            "ORDER_TRADE_UPDATE",
            "ACCOUNT_UPDATE"
        ]
    );
    let fill = json(&out.user[2].json);
    let o = fill.get("o").cloned().unwrap_or_default();
    assert_eq!(s_of(&o, "l"), "0.010");
    assert_eq!(s_of(&o, "z"), "0.010");
    assert_eq!(s_of(&o, "L"), "60000.10");
    assert_eq!(s_of(&o, "N"), "USDT");
    assert_eq!(s_of(&o, "n"), "0.30000050");
    assert!(o.get("m").and_then(|m| m.as_bool()) == Some(false));
    assert!(out.market.iter().any(|f| f.stream == "btcusdt@aggTrade"));
    let acc = json(&out.user[3].json);
    assert!(out.user[3].json.contains("\"m\":\"ORDER\""));
    assert!(acc.get("a").is_some());
    let (r, _) = call(&mut v, Method::Get, "/fapi/v3/positionRisk", 0, &[]);
    assert!(r.body.contains("\"positionAmt\":\"0.010\""), "{}", r.body);
    // ACK reply shows the accepted state even though it filled.
    let (r, _) = post_order(&mut v, 0, &market("SELL", "0.010"));
    assert_eq!(s_of(&json(&r.body), "status"), "NEW");
    assert_eq!(s_of(&json(&r.body), "executedQty"), "0.000");
}

#[test]
fn large_market_and_ioc_remainders_expire() {
    let mut v = venue();
    // 20 levels of ~0.833 BTC: 110 BTC cannot fill (market maxQty 120).
    let (r, out) = post_order(
        &mut v,
        0,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "20"),
            ("newOrderRespType", "RESULT"),
        ],
    );
    assert_eq!(s_of(&json(&r.body), "status"), "EXPIRED", "{}", r.body);
    let ev = otu(&out, 0);
    assert_eq!(ev.last().map(|e| e.2.as_str()), Some("9"));
    assert!(ev.iter().filter(|e| e.0 == "TRADE").count() > 1);
    let mut v = venue();
    let (r, out) = post_order(
        &mut v,
        0,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "IOC"),
            ("quantity", "1.000"),
            ("price", "60000.1"),
            ("newOrderRespType", "RESULT"),
        ],
    );
    let j = json(&r.body);
    assert_eq!(s_of(&j, "status"), "EXPIRED");
    assert_ne!(s_of(&j, "executedQty"), "0.000");
    let ev = otu(&out, 0);
    assert_eq!(
        ev.last().cloned(),
        Some(("EXPIRED".into(), "EXPIRED".into(), "2".into()))
    );
    assert!(ev.iter().any(|e| e.1 == "PARTIALLY_FILLED"));
}

#[test]
fn fok_and_gtx_rejections_leave_no_trace() {
    let mut v = venue();
    let (r, out) = post_order(&mut v, 0, &limit("BUY", "5.000", "60000.1", "FOK"));
    assert_eq!(code(&r), -5021);
    assert!(out.user.is_empty());
    let (r, out) = post_order(&mut v, 0, &limit("BUY", "0.010", "60000.1", "GTX"));
    assert_eq!(code(&r), -5022);
    assert!(out.user.is_empty());
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/allOrders",
        0,
        &[("symbol", "BTCUSDT")],
    );
    assert_eq!(r.body, "[]");
    let (r, _) = post_order(&mut v, 0, &limit("BUY", "0.010", "60000", "GTX"));
    assert_eq!(s_of(&json(&r.body), "status"), "NEW");
    let (r, _) = post_order(&mut v, 0, &limit("BUY", "0.010", "60000.1", "FOK"));
    assert_eq!(code(&r), 0, "{}", r.body);
}

#[test]
fn accounts_match_each_other_and_stp_expires_own_maker() {
    let mut v = venue();
    // Account 1 improves the ask; account 0 takes it.
    let (r, _) = post_order(&mut v, 1, &limit("SELL", "0.010", "60000.1", "GTC"));
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, out) = post_order(&mut v, 0, &limit("BUY", "0.010", "60000.1", "GTC"));
    let maker: Vec<_> = out
        .user
        .iter()
        .filter(|f| f.account == 1 && f.event_type == "ORDER_TRADE_UPDATE")
        .collect();
    assert_eq!(maker.len(), 1);
    assert!(maker[0].json.contains("\"m\":true"));
    assert!(maker[0].json.contains("\"X\":\"FILLED\""));
    let l = v.ledger();
    assert!(
        l.positions
            .iter()
            .any(|p| p.account == 1 && p.amount == d("-0.010"))
    );
    // Self-trade: own resting sell expires (EXPIRE_MAKER), taker fills elsewhere.
    let (_, _) = post_order(&mut v, 0, &limit("SELL", "0.010", "60000.1", "GTC"));
    let (_, out) = post_order(&mut v, 0, &limit("BUY", "0.010", "60000.1", "GTC"));
    let ev = otu(&out, 0);
    assert!(
        ev.contains(&("EXPIRED".into(), "EXPIRED_IN_MATCH".into(), "1".into())),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.0 == "TRADE" && e.1 == "FILLED"));
    // EXPIRE_TAKER with IOC: er=3.
    let (_, _) = post_order(&mut v, 0, &limit("SELL", "0.010", "60000.1", "GTC"));
    let mut p = limit("BUY", "0.010", "60000.1", "IOC");
    p.push(("selfTradePreventionMode", "EXPIRE_TAKER"));
    let (_, out) = post_order(&mut v, 0, &p);
    assert_eq!(
        otu(&out, 0).last().cloned(),
        Some(("EXPIRED".into(), "EXPIRED_IN_MATCH".into(), "3".into()))
    );
}

#[test]
fn cancel_query_and_modify() {
    let mut v = venue();
    let mut p = limit("BUY", "0.010", "59000", "GTC");
    p.push(("newClientOrderId", "c1"));
    post_order(&mut v, 0, &p);
    let q = [("symbol", "BTCUSDT"), ("origClientOrderId", "c1")];
    let (r, _) = call(&mut v, Method::Get, "/fapi/v1/order", 0, &q);
    assert_eq!(s_of(&json(&r.body), "status"), "NEW");
    assert!(r.body.contains("\"time\":"));
    // Modify: unchanged → -5027, new price → AMENDMENT.
    let m = [
        ("symbol", "BTCUSDT"),
        ("origClientOrderId", "c1"),
        ("side", "BUY"),
        ("quantity", "0.010"),
        ("price", "59000"),
    ];
    assert_eq!(
        code(&call(&mut v, Method::Put, "/fapi/v1/order", 0, &m).0),
        -5027
    );
    let m = [
        ("symbol", "BTCUSDT"),
        ("origClientOrderId", "c1"),
        ("side", "BUY"),
        ("quantity", "0.020"),
        ("price", "59100"),
    ];
    let (r, out) = call(&mut v, Method::Put, "/fapi/v1/order", 0, &m);
    assert_eq!(s_of(&json(&r.body), "price"), "59100.00", "{}", r.body);
    assert_eq!(s_of(&json(&r.body), "selfTradePreventionMode"), "NONE");
    assert_eq!(
        otu(&out, 0),
        vec![("AMENDMENT".into(), "NEW".into(), "0".into())]
    );
    let (r, out) = call(&mut v, Method::Delete, "/fapi/v1/order", 0, &q);
    assert_eq!(s_of(&json(&r.body), "status"), "CANCELED");
    assert_eq!(
        otu(&out, 0),
        vec![("CANCELED".into(), "CANCELED".into(), "0".into())]
    );
    assert_eq!(
        code(&call(&mut v, Method::Delete, "/fapi/v1/order", 0, &q).0),
        -2011
    );
    assert_eq!(
        code(&call(&mut v, Method::Get, "/fapi/v1/openOrder", 0, &q).0),
        -2013
    );
    let unknown = [("symbol", "BTCUSDT"), ("orderId", "1")];
    assert_eq!(
        code(&call(&mut v, Method::Get, "/fapi/v1/order", 0, &unknown).0),
        -2013
    );
    // Retention: unfilled canceled orders vanish after the retention period.
    let mut out = Outbox::default();
    v.tick(T0 + 3 * 24 * 3600 * 1000 + 10, &mut out);
    assert_eq!(
        code(&call(&mut v, Method::Get, "/fapi/v1/order", 0, &q).0),
        -2013
    );
    assert!(
        v.ledger()
            .orders
            .iter()
            .any(|o| o.client_order_id == "c1" && o.status == "CANCELED")
    );
}

#[test]
fn modify_that_crosses_fills_and_modify_below_executed_cancels() {
    let mut v = venue();
    let (r, _) = post_order(&mut v, 0, &limit("BUY", "2.000", "60000.1", "GTC"));
    let j = json(&r.body);
    let id = j
        .get("orderId")
        .and_then(|x| x.as_i64())
        .unwrap_or(0)
        .to_string();
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/order",
        0,
        &[("symbol", "BTCUSDT"), ("orderId", &id)],
    );
    assert_eq!(
        s_of(&json(&r.body), "status"),
        "PARTIALLY_FILLED",
        "{}",
        r.body
    );
    let m = [
        ("symbol", "BTCUSDT"),
        ("orderId", id.as_str()),
        ("side", "BUY"),
        ("quantity", "0.500"),
        ("price", "60000.1"),
    ];
    let (r, out) = call(&mut v, Method::Put, "/fapi/v1/order", 0, &m);
    assert_eq!(s_of(&json(&r.body), "status"), "CANCELED", "{}", r.body);
    assert_eq!(
        otu(&out, 0).last().map(|e| e.0.clone()),
        Some("CANCELED".into())
    );
}

#[test]
fn reduce_only_caps_and_knocks_out() {
    let mut v = venue();
    post_order(&mut v, 0, &market("BUY", "0.010"));
    // A resting reduce-only sell for more than the position.
    let mut p = limit("SELL", "0.020", "60100", "GTC");
    p.push(("reduceOnly", "true"));
    let (r, _) = post_order(&mut v, 0, &p);
    assert_eq!(r.status, 200, "{}", r.body);
    // Closing the position by MARKET knocks it out with er=4.
    let (_, out) = post_order(&mut v, 0, &market("SELL", "0.010"));
    assert!(
        otu(&out, 0).contains(&("EXPIRED".into(), "EXPIRED".into(), "4".into())),
        "{:?}",
        otu(&out, 0)
    );
    // A reduce-only MARKET larger than the position fills the position only.
    post_order(&mut v, 0, &market("BUY", "0.010"));
    let (r, out) = post_order(
        &mut v,
        0,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.050"),
            ("reduceOnly", "true"),
            ("newOrderRespType", "RESULT"),
        ],
    );
    assert_eq!(s_of(&json(&r.body), "executedQty"), "0.010", "{}", r.body);
    assert_eq!(otu(&out, 0).last().map(|e| e.2.clone()), Some("4".into()));
    assert!(v.ledger().positions.iter().all(|p| p.amount.is_zero()));
}

#[test]
fn hedge_mode_closing_legs_are_reduce_only() {
    let mut v = hedge_venue();
    let open = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
        ("positionSide", "LONG"),
    ];
    assert_eq!(post_order(&mut v, 0, &open).0.status, 200);
    let over = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.020"),
        ("positionSide", "LONG"),
    ];
    assert_eq!(code(&post_order(&mut v, 0, &over).0), -2022);
    let close = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
        ("positionSide", "LONG"),
    ];
    assert_eq!(post_order(&mut v, 0, &close).0.status, 200);
    let l = v.ledger();
    let long = l.positions.iter().find(|p| p.position_side == "LONG");
    assert!(long.is_some_and(|p| p.amount.is_zero()));
}

#[test]
fn position_mode_leverage_and_margin_type() {
    let mut v = venue();
    let dual = |x: &str| vec![("dualSidePosition", x.to_string())];
    let p = dual("false");
    let pr: Vec<(&str, &str)> = p.iter().map(|(k, x)| (*k, x.as_str())).collect();
    assert_eq!(
        code(&call(&mut v, Method::Post, "/fapi/v1/positionSide/dual", 0, &pr).0),
        -4059
    );
    post_order(&mut v, 0, &limit("BUY", "0.010", "59000", "GTC"));
    let yes = [("dualSidePosition", "true")];
    assert_eq!(
        code(&call(&mut v, Method::Post, "/fapi/v1/positionSide/dual", 0, &yes).0),
        -4067
    );
    call(
        &mut v,
        Method::Delete,
        "/fapi/v1/allOpenOrders",
        0,
        &[("symbol", "BTCUSDT")],
    );
    post_order(&mut v, 0, &market("BUY", "0.010"));
    assert_eq!(
        code(&call(&mut v, Method::Post, "/fapi/v1/positionSide/dual", 0, &yes).0),
        -4068
    );
    assert_eq!(
        code(&call(&mut v, Method::Post, "/fapi/v1/positionSide/dual", 1, &yes).0),
        0
    );
    let (r, _) = call(&mut v, Method::Get, "/fapi/v1/positionSide/dual", 1, &[]);
    assert_eq!(r.body, "{\"dualSidePosition\":true}");
    let (r, out) = call(
        &mut v,
        Method::Post,
        "/fapi/v1/leverage",
        0,
        &[("symbol", "BTCUSDT"), ("leverage", "5")],
    );
    assert!(r.body.contains("\"leverage\":5"));
    assert_eq!(types(&out, 0), vec!["ACCOUNT_CONFIG_UPDATE"]);
    assert_eq!(
        code(
            &call(
                &mut v,
                Method::Post,
                "/fapi/v1/leverage",
                0,
                &[("symbol", "BTCUSDT"), ("leverage", "200")]
            )
            .0
        ),
        -4028
    );
    let mt = [("symbol", "ETHUSDT"), ("marginType", "CROSSED")];
    assert_eq!(
        code(&call(&mut v, Method::Post, "/fapi/v1/marginType", 0, &mt).0),
        -4046
    );
    let mt = [("symbol", "ETHUSDT"), ("marginType", "ISOLATED")];
    assert_eq!(
        code(&call(&mut v, Method::Post, "/fapi/v1/marginType", 0, &mt).0),
        0
    );
    for path in [
        "/fapi/v2/account",
        "/fapi/v3/account",
        "/fapi/v2/balance",
        "/fapi/v1/accountConfig",
        "/fapi/v1/symbolConfig",
        "/fapi/v2/positionRisk",
    ] {
        let (r, _) = call(&mut v, Method::Get, path, 0, &[]);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            sonic_rs::from_str::<Value>(&r.body).is_ok(),
            "{path}: {}",
            r.body
        );
    }
}

#[test]
fn resting_limit_fills_when_market_trades_through() {
    let mut v = venue();
    post_order(&mut v, 0, &limit("BUY", "1.000", "59900", "GTC"));
    let mut out = Outbox::default();
    assert!(
        v.set_price("BTCUSDT", Some(d("59850")), None, T0 + 5, &mut out)
            .is_ok()
    );
    let ev = otu(&out, 0);
    assert!(
        ev.iter().any(|e| e.0 == "TRADE" && e.1 == "FILLED"),
        "{ev:?}"
    );
    let fill = out
        .user
        .iter()
        .find(|f| f.event_type == "TRADE_LITE")
        .map(|f| json(&f.json))
        .unwrap_or_default();
    assert_eq!(s_of(&fill, "L"), "59900.00");
    assert!(fill.get("m").and_then(|m| m.as_bool()) == Some(true));
}

#[test]
fn stop_market_triggers_through_the_algo_service() {
    let mut v = venue();
    post_order(&mut v, 0, &market("BUY", "0.010"));
    let base = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
        ("closePosition", "true"),
        ("clientAlgoId", "sl-1"),
    ];
    let mut now_trigger = base.to_vec();
    now_trigger.push(("triggerPrice", "60500"));
    assert_eq!(code(&post_algo(&mut v, &now_trigger).0), -2021);
    let mut p = base.to_vec();
    p.push(("triggerPrice", "59000"));
    p.push(("workingType", "MARK_PRICE"));
    let (r, out) = post_algo(&mut v, &p);
    assert_eq!(s_of(&json(&r.body), "algoStatus"), "NEW", "{}", r.body);
    assert_eq!(types(&out, 0), vec!["ALGO_UPDATE"]);
    // Last price moving does not trigger a MARK_PRICE order; mark does.
    let mut out = Outbox::default();
    assert!(
        v.set_price("BTCUSDT", None, Some(d("59500")), T0 + 10, &mut out)
            .is_ok()
    );
    assert!(out.user.is_empty());
    let mut out = Outbox::default();
    assert!(
        v.set_price("BTCUSDT", None, Some(d("58990")), T0 + 20, &mut out)
            .is_ok()
    );
    let algo_states: Vec<String> = out
        .user
        .iter()
        .filter(|f| f.event_type == "ALGO_UPDATE")
        .map(|f| s_of(&json(&f.json).get("o").cloned().unwrap_or_default(), "X").to_string())
        .collect();
    assert_eq!(algo_states, vec!["TRIGGERING", "TRIGGERED", "FINISHED"]);
    let ev = otu(&out, 0);
    assert_eq!(ev.first().map(|e| e.0.clone()), Some("NEW".into()));
    assert_eq!(ev.last().map(|e| e.1.clone()), Some("FILLED".into()));
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/algoOrder",
        0,
        &[("clientAlgoId", "sl-1")],
    );
    let j = json(&r.body);
    assert_eq!(s_of(&j, "algoStatus"), "FINISHED");
    assert_ne!(s_of(&j, "actualOrderId"), "");
    assert!(v.ledger().positions.iter().all(|p| p.amount.is_zero()));
}

#[test]
fn algo_rejects_and_cancels() {
    let mut v = venue();
    // closePosition with no position → REJECTED with rm at trigger.
    let p = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
        ("closePosition", "true"),
        ("triggerPrice", "59000"),
    ];
    assert_eq!(post_algo(&mut v, &p).0.status, 200);
    let mut out = Outbox::default();
    assert!(
        v.set_price("BTCUSDT", Some(d("58900")), None, T0 + 10, &mut out)
            .is_ok()
    );
    let last = last_algo_update(&out);
    assert!(last.contains("\"X\":\"REJECTED\""), "{last}");
    assert!(last.contains("\"rm\":\"ReduceOnly Order is rejected.\""));
    // Cancel an untriggered TAKE_PROFIT; unknown cancel → -2011.
    let p = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "TAKE_PROFIT"),
        ("quantity", "0.010"),
        ("price", "60000"),
        ("triggerPrice", "60000"),
        ("clientAlgoId", "tp-1"),
    ];
    assert_eq!(post_algo(&mut v, &p).0.status, 200);
    let (r, _) = call(&mut v, Method::Get, "/fapi/v1/openAlgoOrders", 0, &[]);
    assert_eq!(json(&r.body).as_array().map(|a| a.len()), Some(1));
    let (r, _) = call(
        &mut v,
        Method::Delete,
        "/fapi/v1/algoOrder",
        0,
        &[("clientAlgoId", "tp-1")],
    );
    assert!(r.body.contains("\"code\":\"200\""), "{}", r.body);
    assert_eq!(
        code(
            &call(
                &mut v,
                Method::Delete,
                "/fapi/v1/algoOrder",
                0,
                &[("clientAlgoId", "tp-1")]
            )
            .0
        ),
        -2011
    );
    let q = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
        ("closePosition", "true"),
        ("quantity", "1"),
        ("triggerPrice", "50000"),
    ];
    assert_eq!(code(&post_algo(&mut v, &q).0), -4137);
}

#[test]
fn trailing_stop_follows_the_high() {
    let mut v = venue();
    post_order(&mut v, 0, &market("BUY", "0.010"));
    let bad = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "TRAILING_STOP_MARKET"),
        ("quantity", "0.010"),
        ("callbackRate", "1"),
        ("activatePrice", "59000"),
        ("reduceOnly", "true"),
    ];
    assert_eq!(code(&post_algo(&mut v, &bad).0), -2021);
    let p = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "TRAILING_STOP_MARKET"),
        ("quantity", "0.010"),
        ("callbackRate", "1"),
        ("activatePrice", "61000"),
        ("reduceOnly", "true"),
    ];
    assert_eq!(post_algo(&mut v, &p).0.status, 200);
    let mut out = Outbox::default();
    for (i, px) in ["60500", "61000", "62000", "61500"].iter().enumerate() {
        assert!(
            v.set_price("BTCUSDT", Some(d(px)), None, T0 + 10 + i as i64, &mut out)
                .is_ok()
        );
    }
    assert!(!out.user.iter().any(|f| f.json.contains("TRIGGERING")));
    assert!(
        v.set_price("BTCUSDT", Some(d("61370")), None, T0 + 20, &mut out)
            .is_ok()
    );
    assert!(
        out.user
            .iter()
            .any(|f| f.json.contains("\"X\":\"TRIGGERED\""))
    );
}

#[test]
fn market_frames_chain_and_snapshot_is_consistent() {
    let mut s = VenueSettings::default();
    s.market.seed = 7;
    let mut v = Venue::new(&s, T0);
    let mut out = Outbox::default();
    for i in 1..=30 {
        v.tick(T0 + i * 100, &mut out);
    }
    let depth: Vec<Value> = out
        .market
        .iter()
        .filter(|f| f.stream == "btcusdt@depth@100ms")
        .map(|f| json(&f.json))
        .collect();
    assert!(depth.len() > 5);
    for w in depth.windows(2) {
        let pu = w[1].get("pu").and_then(|x| x.as_i64());
        assert_eq!(pu, w[0].get("u").and_then(|x| x.as_i64()));
    }
    assert!(out.market.iter().any(|f| f.stream == "btcusdt@bookTicker"));
    assert!(
        out.market
            .iter()
            .any(|f| f.stream == "btcusdt@markPrice@1s")
    );
    assert!(out.market.iter().any(|f| f.stream == "btcusdt@markPrice"));
    assert!(
        out.market
            .iter()
            .any(|f| f.stream == "币安人生usdt@depth@100ms")
    );
    assert!(
        out.market
            .iter()
            .any(|f| f.stream == "ethusdt@depth5@100ms")
    );
    assert!(out.market.iter().any(|f| f.stream == "ethusdt@depth20"));
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/ticker/24hr",
        0,
        &[("symbol", "BTCUSDT")],
    );
    let t = json(&r.body);
    assert!(
        t.get("count").and_then(|c| c.as_i64()).unwrap_or(0) > 0,
        "{}",
        r.body
    );
    let last_u = depth
        .last()
        .and_then(|x| x.get("u"))
        .and_then(|x| x.as_i64())
        .unwrap_or(0);
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/depth",
        0,
        &[("symbol", "BTCUSDT"), ("limit", "5")],
    );
    let snap = json(&r.body);
    let l = snap
        .get("lastUpdateId")
        .and_then(|x| x.as_i64())
        .unwrap_or(0);
    assert!(l >= last_u);
    // The next diff starts right after the last one and covers the snapshot.
    let mut out2 = Outbox::default();
    v.tick(T0 + 3100, &mut out2);
    if let Some(f) = out2
        .market
        .iter()
        .find(|f| f.stream == "btcusdt@depth@100ms")
    {
        let j = json(&f.json);
        let (u0, u1) = (
            j.get("U").and_then(|x| x.as_i64()).unwrap_or(0),
            j.get("u").and_then(|x| x.as_i64()).unwrap_or(0),
        );
        assert!(u0 <= l + 1 && l <= u1);
    }
    // Same seed, same path.
    let mut w = Venue::new(&s, T0);
    let mut out3 = Outbox::default();
    for i in 1..=30 {
        w.tick(T0 + i * 100, &mut out3);
    }
    assert_eq!(v.prices("BTCUSDT").map(|p| p.0), {
        let mut o = Outbox::default();
        w.tick(T0 + 3100, &mut o);
        w.prices("BTCUSDT").map(|p| p.0)
    });
}

#[test]
fn gtd_expiry_countdown_and_batches() {
    let mut v = venue();
    let gtd = (T0 + 700_000).to_string();
    let mut p = limit("BUY", "0.010", "59000", "GTD");
    p.push(("goodTillDate", gtd.as_str()));
    assert_eq!(post_order(&mut v, 0, &p).0.status, 200);
    let mut bad = limit("BUY", "0.010", "59000", "GTD");
    let soon = (T0 + 1000).to_string();
    bad.push(("goodTillDate", soon.as_str()));
    assert_eq!(code(&post_order(&mut v, 0, &bad).0), -5040);
    let mut out = Outbox::default();
    v.tick(T0 + 700_001, &mut out);
    assert_eq!(
        otu(&out, 0),
        vec![("EXPIRED".into(), "EXPIRED".into(), "0".into())]
    );
    // Dead-man switch.
    post_order(&mut v, 0, &limit("BUY", "0.010", "59000", "GTC"));
    let (r, _) = call(
        &mut v,
        Method::Post,
        "/fapi/v1/countdownCancelAll",
        0,
        &[("symbol", "BTCUSDT"), ("countdownTime", "1000")],
    );
    assert_eq!(
        r.body,
        "{\"symbol\":\"BTCUSDT\",\"countdownTime\":\"1000\"}"
    );
    let mut out = Outbox::default();
    v.tick(T0 + 2000, &mut out);
    assert_eq!(
        otu(&out, 0),
        vec![("CANCELED".into(), "CANCELED".into(), "0".into())]
    );
    // Batch: one good, one conditional (-4120).
    let batch = r#"[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.010","price":"59000","newClientOrderId":"b1"},{"symbol":"BTCUSDT","side":"BUY","type":"STOP_MARKET","quantity":"0.010"}]"#;
    let (r, _) = call(
        &mut v,
        Method::Post,
        "/fapi/v1/batchOrders",
        0,
        &[("batchOrders", batch)],
    );
    let arr = json(&r.body);
    assert_eq!(arr.as_array().map(|a| a.len()), Some(2), "{}", r.body);
    assert!(r.body.contains("\"clientOrderId\":\"b1\""));
    assert!(r.body.contains("\"code\":-4120"));
    let (r, _) = call(
        &mut v,
        Method::Delete,
        "/fapi/v1/batchOrders",
        0,
        &[
            ("symbol", "BTCUSDT"),
            ("origClientOrderIdList", "[\"b1\",\"zz\"]"),
        ],
    );
    assert!(
        r.body.contains("\"status\":\"CANCELED\"") && r.body.contains("-2011"),
        "{}",
        r.body
    );
    assert_eq!(
        code(
            &call(
                &mut v,
                Method::Post,
                "/fapi/v1/batchOrders",
                0,
                &[("batchOrders", "not json")]
            )
            .0
        ),
        -1130
    );
}

#[test]
fn liquidation_and_adl_injection() {
    let mut v = venue();
    post_order(&mut v, 0, &market("BUY", "0.030"));
    let mut out = Outbox::default();
    let r = v.inject_liquidation(
        0,
        "BTCUSDT",
        PositionSide::Both,
        Some(d("0.010")),
        None,
        T0 + 5,
        &mut out,
    );
    assert!(r.is_ok());
    let ev = otu(&out, 0);
    assert_eq!(
        ev.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        vec!["NEW", "CALCULATED"]
    );
    assert!(
        out.user
            .iter()
            .any(|f| f.json.contains("\"c\":\"autoclose-")
                && f.json.contains("\"o\":\"LIQUIDATION\""))
    );
    assert!(out.user.iter().any(|f| f.event_type == "ACCOUNT_UPDATE"));
    let mut out = Outbox::default();
    assert!(
        v.inject_adl(
            0,
            "BTCUSDT",
            PositionSide::Both,
            Some(d("0.010")),
            None,
            AdlStyle::Trade,
            T0 + 6,
            &mut out
        )
        .is_ok()
    );
    assert!(
        out.user
            .iter()
            .any(|f| f.json.contains("adl_autoclose") && f.json.contains("\"x\":\"TRADE\""))
    );
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/forceOrders",
        0,
        &[("autoCloseType", "ADL")],
    );
    assert_eq!(json(&r.body).as_array().map(|a| a.len()), Some(1));
    assert!(
        v.inject_liquidation(1, "BTCUSDT", PositionSide::Both, None, None, T0, &mut out)
            .is_err()
    );
    let l = v.ledger();
    assert_eq!(l.fills.len(), 3);
    assert!(l.positions.iter().any(|p| p.amount == d("0.010")));
    assert!(l.to_json().contains("\"fills\""));
}

#[test]
fn event_clocks_are_monotonic_per_type() {
    let mut v = venue();
    let mut last = std::collections::HashMap::new();
    let mut outs = Vec::new();
    for _ in 0..3 {
        outs.push(post_order(&mut v, 0, &market("BUY", "0.010")).1);
    }
    for out in &outs {
        for f in &out.user {
            let prev = last.insert(f.event_type, f.event_time).unwrap_or(0);
            assert!(f.event_time >= prev);
        }
    }
}

#[test]
fn resting_reduce_only_maker_is_capped_at_the_position() {
    let mut v = venue();
    post_order(&mut v, 0, &market("BUY", "0.010"));
    let mut p = limit("SELL", "0.030", "60000.1", "GTC");
    p.push(("reduceOnly", "true"));
    assert_eq!(post_order(&mut v, 0, &p).0.status, 200);
    // Account 1 buys 0.030 through it: only 0.010 may fill, the rest is knocked out.
    let (_, out) = post_order(&mut v, 1, &limit("BUY", "0.030", "60000.1", "GTC"));
    let ev = otu(&out, 0);
    assert!(
        ev.contains(&("TRADE".into(), "PARTIALLY_FILLED".into(), "0".into())),
        "{ev:?}"
    );
    assert!(
        ev.contains(&("EXPIRED".into(), "EXPIRED".into(), "4".into())),
        "{ev:?}"
    );
    assert!(
        v.ledger()
            .positions
            .iter()
            .filter(|p| p.account == 0)
            .all(|p| p.amount.is_zero())
    );
}

#[test]
fn documented_codes_for_enum_and_batch_errors() {
    let mut v = venue();
    let mut p = limit("BUY", "0.010", "59000", "GTC");
    p.push(("selfTradePreventionMode", "SOMETIMES"));
    assert_eq!(code(&post_order(&mut v, 0, &p).0), -5039);
    let mut p = limit("BUY", "0.010", "59000", "GTC");
    p.push(("newOrderRespType", "FULL"));
    assert_eq!(code(&post_order(&mut v, 0, &p).0), -1136);
    let mut p = limit("BUY", "0.010", "59000", "GTC");
    p.push(("positionSide", "MIDDLE"));
    assert_eq!(code(&post_order(&mut v, 0, &p).0), -4060);
    let (r, _) = call(
        &mut v,
        Method::Get,
        "/fapi/v1/depth",
        0,
        &[("symbol", "BTCUSDT"), ("limit", "7")],
    );
    assert_eq!(code(&r), -4021);
    let six = format!("[{}]", [r#"{"symbol":"BTCUSDT"}"#; 6].join(","));
    let (r, _) = call(
        &mut v,
        Method::Post,
        "/fapi/v1/batchOrders",
        0,
        &[("batchOrders", six.as_str())],
    );
    assert_eq!(code(&r), -4082);
    let p = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
        ("quantity", "0.010"),
        ("triggerPrice", "59000"),
        ("workingType", "INDEX_PRICE"),
    ];
    assert_eq!(code(&post_algo(&mut v, &p).0), -4031);
    // Private endpoint without an account.
    let params = Params::default();
    let mut out = Outbox::default();
    let r = v.handle(
        &Request {
            method: Method::Get,
            path: "/fapi/v2/account",
            params: &params,
            account: None,
        },
        T0,
        &mut out,
    );
    assert_eq!(code(&r), -2015);
    let r = v.handle(
        &Request {
            method: Method::Get,
            path: "/fapi/v9/nothing",
            params: &params,
            account: Some(0),
        },
        T0,
        &mut out,
    );
    assert_eq!(r.status, 404);
}

#[test]
fn balance_hooks_and_algo_orders_skip_the_margin_check() {
    let mut v = venue();
    let mut out = Outbox::default();
    let w = v.adjust_balance(0, d("-100000"), "WITHDRAW", T0 + 1, &mut out);
    assert_eq!(w, Ok(Decimal::ZERO));
    assert!(
        out.user[0].json.contains("\"m\":\"WITHDRAW\"") && out.user[0].json.contains("\"P\":[]")
    );
    assert_eq!(
        code(&post_order(&mut v, 0, &limit("BUY", "0.010", "59000", "GTC")).0),
        -2018
    );
    // No margin check before trigger: a huge stop is accepted.
    let p = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "STOP_MARKET"),
        ("quantity", "100"),
        ("triggerPrice", "61000"),
    ];
    let (r, _) = post_algo(&mut v, &p);
    assert_eq!(r.status, 200, "{}", r.body);
    // At trigger the child fails the margin check: REJECTED with rm.
    let mut out = Outbox::default();
    assert!(
        v.set_price("BTCUSDT", Some(d("61000")), None, T0 + 2, &mut out)
            .is_ok()
    );
    let last = last_algo_update(&out);
    assert!(
        last.contains("\"X\":\"REJECTED\"") && last.contains("\"rm\":\"Balance is insufficient.\""),
        "{last}"
    );
}

#[test]
fn market_order_outside_the_percent_price_band_is_refused() {
    let mut v = venue();
    let mut out = Outbox::default();
    // Mark far below last: the best ask is above mark × 1.05.
    assert!(
        v.set_price("BTCUSDT", None, Some(d("50000")), T0 + 1, &mut out)
            .is_ok()
    );
    let (r, out) = post_order(&mut v, 0, &market("BUY", "0.010"));
    assert_eq!(code(&r), -4131);
    assert!(out.user.is_empty());
    let (r, _) = post_order(&mut v, 0, &market("SELL", "0.010"));
    assert_eq!(r.status, 200, "{}", r.body);
}
