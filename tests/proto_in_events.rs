//! User-data stream decoding, field by field, from reference-shaped payloads.
mod proto_in_common;
use proto_in_common as s;

use binance_exec::binance::events::*;
use binance_exec::model::*;

fn p(x: &str) -> Price {
    Price::parse(x).unwrap()
}
fn q(x: &str) -> Quantity {
    Quantity::parse(x).unwrap()
}
fn m(x: &str) -> Money {
    Money::parse(x).unwrap()
}

fn order(frame: &str) -> OrderUpdate {
    match decode_user_event(frame.as_bytes()).unwrap() {
        UserEvent::OrderTradeUpdate(u) => u,
        other => panic!("not an order update: {other:?}"),
    }
}

#[test]
fn order_trade_update_fill_every_key() {
    let u = order(s::OTU_FILL);
    assert_eq!(u.event_time, 1760000200012);
    assert_eq!(u.transaction_time, 1760000200009);
    assert_eq!(u.symbol.as_str(), "ETHUSDT");
    assert_eq!(u.client_order_id.as_str(), "e1-000043");
    assert_eq!(u.side, Side::Buy);
    assert_eq!(u.order_type, OrderType::Limit);
    assert_eq!(u.time_in_force, TimeInForce::Gtc);
    assert_eq!(u.orig_qty, q("0.05"));
    assert_eq!(u.price, p("2401"));
    assert_eq!(u.avg_price, p("2400.95"));
    assert_eq!(u.stop_price, Price::ZERO);
    assert_eq!(u.execution_type, ExecutionType::Trade);
    assert_eq!(u.status, OrderStatus::PartiallyFilled);
    assert_eq!(u.order_id, 8389765550);
    assert_eq!(u.modify_id, None);
    assert_eq!(u.last_qty, q("0.02"));
    assert_eq!(u.cum_qty, q("0.020"));
    assert_eq!(u.last_price, p("2400.95"));
    assert_eq!(u.commission_asset.unwrap().as_str(), "USDT");
    assert_eq!(u.commission, Some(m("0.0192076")));
    assert_eq!(u.trade_time, 1760000200009);
    assert_eq!(u.trade_id, 1974335521);
    assert_eq!(u.bid_notional, m("72.03"));
    assert_eq!(u.ask_notional, Money::ZERO);
    assert!(!u.is_maker);
    assert!(!u.reduce_only);
    assert_eq!(u.working_type, Some(WorkingType::ContractPrice));
    assert_eq!(u.orig_type, Some(OrderType::Limit));
    assert_eq!(u.position_side, PositionSide::Both);
    assert!(!u.close_position);
    assert_eq!(u.activation_price, None);
    assert_eq!(u.callback_rate, None);
    assert!(!u.price_protect);
    assert_eq!((u.si, u.ss), (0, 0));
    assert_eq!(u.realized_pnl, Money::ZERO);
    assert_eq!(u.stp_mode, Some(StpMode::ExpireMaker));
    assert_eq!(u.price_match, Some(PriceMatch::None));
    assert_eq!(u.good_till_date, 0);
    assert_eq!(u.expiry_reason, Some(0));
    assert!(u.is_fill());
    assert_eq!(u.fill_kind(), FillKind::Normal);
    assert!(!u.is_venue_generated());
}

#[test]
fn liquidation_calculated_fill_without_commission() {
    let u = order(s::OTU_LIQ);
    assert_eq!(u.execution_type, ExecutionType::Calculated);
    assert_eq!(u.order_type, OrderType::Liquidation);
    assert_eq!(u.status, OrderStatus::Filled);
    assert!(u.client_order_id.is_liquidation());
    assert!(u.is_fill(), "CALCULATED with l>0 is a fill");
    assert_eq!(u.fill_kind(), FillKind::Liquidation);
    assert_eq!(u.commission_asset, None);
    assert_eq!(u.commission, None);
    assert_eq!(u.realized_pnl, m("-120.5"));
    assert_eq!(u.expiry_reason, Some(5));
    assert_eq!(u.last_price, p("58010"));
}

#[test]
fn adl_trade_fill() {
    let u = order(s::OTU_ADL);
    assert_eq!(u.execution_type, ExecutionType::Trade);
    assert_eq!(u.fill_kind(), FillKind::Adl);
    assert!(u.is_fill());
    assert_eq!(u.position_side, PositionSide::Short);
    assert_eq!(u.commission, Some(Money::ZERO));
}

#[test]
fn amendment_unknown_enum_extra_key_and_cjk_symbol() {
    let u = order(s::OTU_AMEND);
    assert_eq!(u.symbol.as_str(), "币安人生USDT");
    assert_eq!(u.execution_type, ExecutionType::Amendment);
    assert_eq!(u.modify_id, Some(12));
    assert_eq!(u.time_in_force.as_str(), "BRAND_NEW_TIF");
    assert!(u.time_in_force.is_unknown());
    assert_eq!(u.activation_price, Some(p("0.5")));
    assert_eq!(u.callback_rate, Some(Decimal::parse("1.5").unwrap()));
    assert!(u.price_protect && u.reduce_only);
    assert_eq!(u.stp_mode, Some(StpMode::ExpireBoth));
    assert_eq!(u.price_match, Some(PriceMatch::Queue));
    assert_eq!(u.good_till_date, 1760099999000);
    // T before E in the envelope is fine.
    assert_eq!(u.event_time, 1760000500003);
    assert_eq!(u.transaction_time, 1760000500001);
    assert!(!u.is_fill());
    assert_eq!(u.fill_kind(), FillKind::Normal);
}

#[test]
fn cancel_event_is_not_a_fill_even_if_calculated_flag_absent() {
    let cancel = s::OTU_FILL
        .replace(r#""x":"TRADE""#, r#""x":"CANCELED""#)
        .replace(r#""l":"0.020""#, r#""l":"0""#);
    let u = order(&cancel);
    assert_eq!(u.execution_type, ExecutionType::Canceled);
    assert!(!u.is_fill());
}

#[test]
fn into_slot_matches_enum_path() {
    let mut slot = OrderUpdate::empty();
    decode_order_update_into(s::OTU_FILL.as_bytes(), &mut slot).unwrap();
    assert_eq!(slot, order(s::OTU_FILL));
    let w = s::wrapped("key1", s::OTU_LIQ);
    decode_order_update_into(w.as_bytes(), &mut slot).unwrap();
    assert_eq!(slot, order(s::OTU_LIQ));
}

#[test]
fn missing_required_key_is_an_error() {
    let no_id = s::OTU_FILL.replace(r#""i":8389765550,"#, "");
    let e = decode_user_event(no_id.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("`i`"), "{e}");
}

#[test]
fn e_not_first_key_still_dispatches() {
    let moved = r#"{"E":1,"T":2,"o":{"s":"X","c":"a","S":"BUY","x":"NEW","X":"NEW","i":5},"e":"ORDER_TRADE_UPDATE"}"#;
    let u = order(moved);
    assert_eq!(u.order_id, 5);
    assert_eq!(u.symbol.as_str(), "X");
}

#[test]
fn algo_update_triggered_and_new() {
    let UserEvent::AlgoUpdate(a) = decode_user_event(s::ALGO_UPDATE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(a.event_time, 1760000100004);
    assert_eq!(a.transaction_time, 1760000100000);
    let o = a.order;
    assert_eq!(o.client_algo_id.as_str(), "sl-ETH-0007");
    assert_eq!(o.algo_id, 3000000123456);
    assert_eq!(o.algo_type.unwrap().as_str(), "CONDITIONAL");
    assert_eq!(o.order_type, Some(OrderType::StopMarket));
    assert_eq!(o.symbol.as_str(), "ETHUSDT");
    assert_eq!(o.side, Some(Side::Sell));
    assert_eq!(o.position_side, Some(PositionSide::Both));
    assert_eq!(o.time_in_force, Some(TimeInForce::Gtc));
    assert_eq!(o.quantity, Some(q("0.05")));
    assert_eq!(o.status, AlgoStatus::Triggered);
    assert_eq!(o.actual_order_id, Some(8389799001));
    assert_eq!(o.actual_avg_price, Some(Price::ZERO));
    assert_eq!(o.actual_qty, Some(Quantity::ZERO));
    assert_eq!(o.actual_type, Some(OrderType::Market));
    assert_eq!(o.trigger_price, Some(p("2300")));
    assert_eq!(o.price, Some(Price::ZERO));
    assert_eq!(o.stp_mode, Some(StpMode::ExpireMaker));
    assert_eq!(o.working_type, Some(WorkingType::MarkPrice));
    assert_eq!(o.price_match, Some(PriceMatch::None));
    assert!(!o.close_position && o.price_protect && o.reduce_only);
    assert_eq!(o.trigger_time, Some(1760000099998));
    assert_eq!(o.good_till_date, Some(0));
    assert_eq!(o.reject_reason, None);

    let UserEvent::AlgoUpdate(n) = decode_user_event(s::ALGO_UPDATE_NEW.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(n.order.status, AlgoStatus::New);
    assert_eq!(n.order.actual_order_id, None, "\"\" before trigger");
    assert_eq!(n.order.actual_type, None);
    assert_eq!(n.order.order_type, Some(OrderType::TakeProfit));
    assert_eq!(n.order.price, Some(p("2599")));
}

#[test]
fn trade_lite() {
    let UserEvent::TradeLite(t) = decode_user_event(s::TRADE_LITE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(t.event_time, 1760000200010);
    assert_eq!(t.transaction_time, 1760000200009);
    assert_eq!(t.symbol.as_str(), "ETHUSDT");
    assert_eq!(t.orig_qty, q("0.05"));
    assert_eq!(t.price, p("2401"));
    assert!(!t.is_maker);
    assert_eq!(t.client_order_id.as_str(), "e1-000043");
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.last_price, p("2400.95"));
    assert_eq!(t.last_qty, q("0.02"));
    assert_eq!(t.trade_id, 1974335521);
    assert_eq!(t.order_id, 8389765550);
}

#[test]
fn account_update_balances_and_positions() {
    let UserEvent::AccountUpdate(a) = decode_user_event(s::ACCOUNT_UPDATE.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(a.event_time, 1760000200015);
    assert_eq!(a.transaction_time, 1760000200009);
    assert_eq!(a.data.reason.as_str(), "ORDER");
    assert_eq!(a.data.balances.len(), 2);
    let b = a.data.balances[0];
    assert_eq!(b.asset.as_str(), "USDT");
    assert_eq!(b.wallet_balance, m("1000.12345678"));
    assert_eq!(b.cross_wallet_balance, m("990.5"));
    assert_eq!(b.balance_change, Money::ZERO);
    assert_eq!(a.data.balances[1].balance_change, m("-0.001"));
    assert_eq!(a.data.positions.len(), 2);
    let p0 = a.data.positions[0];
    assert_eq!(p0.symbol.as_str(), "ETHUSDT");
    assert_eq!(p0.position_amt, q("0.02"));
    assert_eq!(p0.entry_price, p("2400.95"));
    assert_eq!(p0.break_even_price, p("2401.91"));
    assert_eq!(p0.accumulated_realized, m("-3.5"));
    assert_eq!(p0.unrealized_pnl, m("0.01"));
    assert_eq!(p0.margin_type, Some(MarginType::Cross));
    assert_eq!(p0.isolated_wallet, Money::ZERO);
    assert_eq!(p0.position_side, Some(PositionSide::Both));
    let p1 = a.data.positions[1];
    assert_eq!(p1.position_amt, q("-0.5"));
    assert_eq!(p1.margin_type, Some(MarginType::Isolated));
    assert_eq!(p1.isolated_wallet, m("150.25"));
    assert_eq!(p1.position_side, Some(PositionSide::Short));

    let UserEvent::AccountUpdate(f) =
        decode_user_event(s::ACCOUNT_UPDATE_FUNDING.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(f.data.reason.as_str(), "FUNDING_FEE");
    assert!(f.data.positions.is_empty());
}

#[test]
fn account_config_both_forms() {
    let UserEvent::AccountConfigUpdate(c) =
        decode_user_event(s::CONFIG_LEVERAGE.as_bytes()).unwrap()
    else {
        panic!()
    };
    let l = c.leverage.unwrap();
    assert_eq!((l.symbol.as_str(), l.leverage), ("BTCUSDT", 25));
    assert!(c.multi_assets.is_none());
    let UserEvent::AccountConfigUpdate(c) = decode_user_event(s::CONFIG_MULTI.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert!(c.multi_assets.unwrap().multi_assets);
    assert!(c.leverage.is_none());
    assert_eq!(c.transaction_time, 1760000600099);
}

#[test]
fn margin_call_listen_key_trigger_reject_unknown() {
    let UserEvent::MarginCall(mc) = decode_user_event(s::MARGIN_CALL.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(mc.cross_wallet_balance, Some(m("3.16812045")));
    let mp = mc.positions[0];
    assert_eq!(mp.symbol.as_str(), "ETHUSDT");
    assert_eq!(mp.position_side, Some(PositionSide::Long));
    assert_eq!(mp.position_amt, q("1.327"));
    assert_eq!(mp.margin_type, Some(MarginType::Cross));
    assert_eq!(mp.mark_price, p("187.17127"));
    assert_eq!(mp.unrealized_pnl, m("-1.166074"));
    assert_eq!(mp.maint_margin, m("1.614445"));

    let UserEvent::ListenKeyExpired(k) =
        decode_user_event(s::LISTEN_KEY_EXPIRED.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(k.event_time, 1760000800000);
    assert!(k.listen_key.starts_with("pqia91ma"));
    assert!(
        !format!("{k:?}").contains("19v8a65a1a5s"),
        "Debug redacts the key"
    );

    let UserEvent::ConditionalOrderTriggerReject(r) =
        decode_user_event(s::TRIGGER_REJECT.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.reject.symbol.as_str(), "ETHUSDT");
    assert_eq!(r.reject.order_id, 8389765999);
    assert!(r.reject.reason.contains("FOK"));

    match decode_user_event(s::STRATEGY_UPDATE.as_bytes()).unwrap() {
        UserEvent::Unknown { event_type } => assert_eq!(event_type.as_str(), "STRATEGY_UPDATE"),
        other => panic!("{other:?}"),
    }
    match decode_user_event(br#"{"x":1}"#).unwrap() {
        UserEvent::Unknown { event_type } => assert!(event_type.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn combined_stream_wrapper_every_sample() {
    for raw in s::USER_SAMPLES {
        let w = s::wrapped("pqia91ma19a5s61", raw);
        let f = decode_user_frame(w.as_bytes()).unwrap();
        assert_eq!(f.stream.unwrap().as_str(), "pqia91ma19a5s61");
        assert_eq!(f.event, decode_user_event(raw.as_bytes()).unwrap(), "{raw}");
    }
    // data first, stream second, whitespace around.
    let w = format!(" {{ \"data\" : {} , \"stream\":\"k\"}} ", s::TRADE_LITE);
    assert!(matches!(
        decode_user_event(w.as_bytes()).unwrap(),
        UserEvent::TradeLite(_)
    ));
    // Wrapper cut after a complete data object is still an error.
    let w = s::wrapped("k", s::TRADE_LITE);
    assert!(decode_user_event(&w.as_bytes()[..w.len() - 1]).is_err());
}

#[test]
fn account_update_beyond_the_inline_cap_keeps_the_first_and_flags_the_rest() {
    let n = MAX_POSITION_CHANGES + 3;
    let positions: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"s":"SYM{i}USDT","pa":"{i}","ep":"1","ps":"BOTH"}}"#))
        .collect();
    let frame = format!(
        r#"{{"e":"ACCOUNT_UPDATE","E":1,"T":2,"a":{{"m":"FUNDING_FEE","B":[],"P":[{}]}}}}"#,
        positions.join(",")
    );
    let UserEvent::AccountUpdate(a) = decode_user_event(frame.as_bytes()).unwrap() else {
        panic!("not an ACCOUNT_UPDATE")
    };
    assert_eq!(a.data.positions.len(), MAX_POSITION_CHANGES);
    assert_eq!(a.data.positions.dropped(), 3);
    assert!(a.data.positions.is_truncated());
    assert!(a.data.balances.is_empty() && !a.data.balances.is_truncated());
    let last = a.data.positions.iter().last().unwrap();
    assert_eq!(
        last.position_amt,
        q(&(MAX_POSITION_CHANGES - 1).to_string())
    );
    // A bad element past the cap is still a decode error.
    let bad = frame.replace(&format!(r#""pa":"{}""#, n - 1), r#""pa":"x""#);
    assert!(decode_user_event(bad.as_bytes()).is_err());
}
