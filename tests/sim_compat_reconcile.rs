//! Regression tests for what off-the-shelf clients (ccxt `binanceusdm`,
//! python-binance, binance-futures-connector) call while they start and
//! reconcile: the simulator must answer these as the venue does, or those
//! clients fail before their first order. Raw HTTP on loopback; no loops.
mod common;

use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};
use common::*;
use sonic_rs::{JsonContainerTrait, JsonValueTrait};

fn start() -> SimHandle {
    SimServer::start(&SimSettings::default()).expect("simulator starts")
}

/// ccxt's `fetch_positions` loads leverage brackets first; it got 404 -1000.
#[test]
fn leverage_bracket_both_shapes() {
    let sim = start();
    let mut c = Http::connect(sim.local_addr());
    let r = c.signed("GET", "/fapi/v1/leverageBracket", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let all = r.json();
    let arr = all.as_array().expect("array without symbol");
    assert!(arr.len() >= 2, "{}", r.body);
    let syms: Vec<&str> = arr
        .iter()
        .filter_map(|e| e.get("symbol").and_then(|v| v.as_str()))
        .collect();
    assert!(syms.contains(&"BTCUSDT"), "{syms:?}");

    let r = c.signed("GET", "/fapi/v1/leverageBracket", "symbol=BTCUSDT");
    assert_eq!(r.status, 200, "{}", r.body);
    let one = r.json();
    assert_eq!(one.get("symbol").and_then(|v| v.as_str()), Some("BTCUSDT"));
    let brackets = one
        .get("brackets")
        .and_then(|b| b.as_array().cloned())
        .expect("brackets");
    let first = brackets.first().expect("a bracket");
    assert_eq!(first.get("bracket").and_then(|v| v.as_i64()), Some(1));
    assert_eq!(
        first.get("notionalFloor").and_then(|v| v.as_i64()),
        Some(0),
        "numbers, not strings: {}",
        r.body
    );
    // Tiers are contiguous: each floor is the previous cap, caps grow as leverage falls.
    let mut prev_cap = 0;
    let mut prev_lev = i64::MAX;
    for b in brackets.iter() {
        let floor = b.get("notionalFloor").and_then(|v| v.as_i64()).unwrap();
        let cap = b.get("notionalCap").and_then(|v| v.as_i64()).unwrap();
        let lev = b.get("initialLeverage").and_then(|v| v.as_i64()).unwrap();
        assert_eq!(floor, prev_cap);
        assert!(cap > floor && lev < prev_lev);
        assert!(b.get("maintMarginRatio").and_then(|v| v.as_f64()).is_some());
        (prev_cap, prev_lev) = (cap, lev);
    }
    // The cap at the default leverage agrees with positionRisk's maxNotionalValue.
    let r = c.signed("GET", "/fapi/v2/positionRisk", "symbol=BTCUSDT");
    let pos = r.json();
    let row = pos.as_array().and_then(|a| a.first().cloned()).unwrap();
    let lev: i64 = row
        .get("leverage")
        .and_then(|v| v.as_str())
        .unwrap()
        .parse()
        .unwrap();
    let max: i64 = row
        .get("maxNotionalValue")
        .and_then(|v| v.as_str())
        .unwrap()
        .parse()
        .unwrap();
    let tier = brackets
        .iter()
        .find(|b| b.get("initialLeverage").and_then(|v| v.as_i64()) == Some(lev))
        .expect("a tier at the default leverage");
    assert_eq!(tier.get("notionalCap").and_then(|v| v.as_i64()), Some(max));

    let r = c.signed("GET", "/fapi/v1/leverageBracket", "symbol=NOPEUSDT");
    assert_eq!((r.status, r.code()), (400, Some(-1121)), "{}", r.body);
}

/// `fetch_trading_fee` / fee reconciliation.
#[test]
fn commission_rate_and_multi_assets_mode() {
    let sim = start();
    let mut c = Http::connect(sim.local_addr());
    let r = c.signed("GET", "/fapi/v1/commissionRate", "symbol=BTCUSDT");
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j.get("symbol").and_then(|v| v.as_str()), Some("BTCUSDT"));
    let maker: f64 = j
        .get("makerCommissionRate")
        .and_then(|v| v.as_str())
        .unwrap()
        .parse()
        .unwrap();
    let taker: f64 = j
        .get("takerCommissionRate")
        .and_then(|v| v.as_str())
        .unwrap()
        .parse()
        .unwrap();
    assert!(maker >= 0.0 && taker > maker, "{}", r.body);
    let r = c.signed("GET", "/fapi/v1/commissionRate", "");
    assert_eq!(r.code(), Some(-1102), "symbol is mandatory: {}", r.body);

    let r = c.signed("GET", "/fapi/v1/multiAssetsMargin", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json().get("multiAssetsMargin").and_then(|v| v.as_bool()),
        Some(false)
    );
}

/// ccxt skips account assets whose `updateTime` is 0 as never initialised, so a
/// funded wallet with updateTime 0 showed an empty balance.
#[test]
fn funded_asset_has_an_update_time() {
    let sim = start();
    let mut c = Http::connect(sim.local_addr());
    for path in ["/fapi/v2/account", "/fapi/v3/account"] {
        let r = c.signed("GET", path, "");
        assert_eq!(r.status, 200, "{}", r.body);
        let j = r.json();
        let usdt = j
            .get("assets")
            .and_then(|a| a.as_array().cloned())
            .and_then(|a| {
                a.iter()
                    .find(|x| x.get("asset").and_then(|v| v.as_str()) == Some("USDT"))
                    .cloned()
            })
            .expect("USDT asset");
        let t = usdt.get("updateTime").and_then(|v| v.as_i64()).unwrap();
        assert!((t - now_ms()).abs() < 60_000, "{path}: updateTime {t}");
    }
}

/// Without an anchor, `allOrders` and `userTrades` answer the most recent
/// rows (oldest first), as the venue documents; ccxt's `fetch_orders(limit=)`
/// and `fetch_my_trades(limit=)` otherwise never see the latest fills.
#[test]
fn all_orders_and_user_trades_return_the_most_recent() {
    let sim = start();
    let mut c = Http::connect(sim.local_addr());
    let mut ids = Vec::new();
    for i in 0..4 {
        let side = if i % 2 == 0 { "BUY" } else { "SELL" };
        let r = c.signed(
            "POST",
            "/fapi/v1/order",
            &format!("symbol=BTCUSDT&side={side}&type=MARKET&quantity=0.002"),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(r.json().get("orderId").and_then(|v| v.as_i64()).unwrap());
    }
    let order_ids = |r: &Resp, key: &str| -> Vec<i64> {
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o.get(key).and_then(|v| v.as_i64()))
            .collect()
    };
    let r = c.signed("GET", "/fapi/v1/allOrders", "symbol=BTCUSDT&limit=2");
    assert_eq!(order_ids(&r, "orderId"), ids[2..].to_vec(), "{}", r.body);
    // With an orderId anchor: from that id forward.
    let r = c.signed(
        "GET",
        "/fapi/v1/allOrders",
        &format!("symbol=BTCUSDT&limit=2&orderId={}", ids[0]),
    );
    assert_eq!(order_ids(&r, "orderId"), ids[..2].to_vec(), "{}", r.body);

    let r = c.signed("GET", "/fapi/v1/userTrades", "symbol=BTCUSDT&limit=1");
    let last = order_ids(&r, "orderId");
    assert_eq!(last, vec![ids[3]], "{}", r.body);
    let r = c.signed(
        "GET",
        "/fapi/v1/userTrades",
        "symbol=BTCUSDT&fromId=0&limit=1",
    );
    assert_eq!(order_ids(&r, "orderId"), vec![ids[0]], "{}", r.body);
}
