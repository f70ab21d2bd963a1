//! REST body decoding, field by field.
mod proto_in_common;
use proto_in_common as s;

use binance_exec::binance::rest::*;
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

#[test]
fn order_result_every_field() {
    let o = decode_order(s::ORDER_RESULT.as_bytes()).unwrap();
    assert_eq!(o.order_id, 8389765549);
    assert_eq!(o.symbol.as_str(), "ETHUSDT");
    assert_eq!(o.status, OrderStatus::New);
    assert_eq!(o.client_order_id.as_str(), "e1-000042");
    assert_eq!(o.price, Some(p("2400.1")));
    assert_eq!(o.avg_price, Some(Price::ZERO));
    assert_eq!(o.orig_qty, Some(q("0.05")));
    assert_eq!(o.executed_qty, Some(Quantity::ZERO));
    assert_eq!(o.cum_qty, Some(Quantity::ZERO));
    assert_eq!(o.cum_quote, Some(Money::ZERO));
    assert_eq!(o.time_in_force, Some(TimeInForce::Gtx));
    assert_eq!(o.order_type, Some(OrderType::Limit));
    assert_eq!(o.reduce_only, Some(false));
    assert_eq!(o.close_position, Some(false));
    assert_eq!(o.side, Some(Side::Buy));
    assert_eq!(o.position_side, Some(PositionSide::Both));
    assert_eq!(o.stop_price, Some(Price::ZERO));
    assert_eq!(o.working_type, Some(WorkingType::ContractPrice));
    assert_eq!(o.price_protect, Some(false));
    assert_eq!(o.orig_type, Some(OrderType::Limit));
    assert_eq!(o.price_match, Some(PriceMatch::None));
    assert_eq!(o.self_trade_prevention_mode, Some(StpMode::ExpireMaker));
    assert_eq!(o.good_till_date, Some(0));
    assert_eq!(o.update_time, Some(1760000000031));
    assert_eq!(o.time, None);
}

#[test]
fn order_2026_without_avg_price_and_query_with_legacy_fields() {
    let o = decode_order(s::ORDER_2026.as_bytes()).unwrap();
    assert_eq!(o.avg_price, None);
    assert_eq!(o.cum_quote, None);
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(o.executed_qty, Some(q("0.01")));
    let o = decode_order(s::ORDER_QUERY.as_bytes()).unwrap();
    assert_eq!(o.time, Some(1760000000000));
    assert_eq!(o.activate_price, Some(p("60500")));
    assert_eq!(o.price_rate, Some(Decimal::parse("0.3").unwrap()));
    assert_eq!(o.orig_type, Some(OrderType::TrailingStopMarket));
    assert_eq!(o.order_type, Some(OrderType::Market));
    assert_eq!(o.avg_price, Some(p("60010.5")));
    assert_eq!(o.cum_quote, Some(m("600.105")));
    assert_eq!(o.reduce_only, Some(true));
    let list = format!("[{},{}]", s::ORDER_RESULT, s::ORDER_QUERY);
    let v = decode_orders(list.as_bytes()).unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].client_order_id.as_str(), "trail-1");
}

#[test]
fn algo_reply_and_query() {
    let a = decode_algo_order(s::ALGO_REPLY.as_bytes()).unwrap();
    assert_eq!(a.algo_id, 3000000123456);
    assert_eq!(a.client_algo_id.as_str(), "sl-ETH-0007");
    assert_eq!(a.algo_type.unwrap().as_str(), "CONDITIONAL");
    assert_eq!(a.order_type, Some(OrderType::StopMarket));
    assert_eq!(a.symbol.as_str(), "ETHUSDT");
    assert_eq!(a.side, Some(Side::Sell));
    assert_eq!(a.position_side, Some(PositionSide::Both));
    assert_eq!(a.time_in_force, Some(TimeInForce::Gtc));
    assert_eq!(a.quantity, Some(q("0.05")));
    assert_eq!(a.algo_status, AlgoStatus::New);
    assert_eq!(a.trigger_price, Some(p("2300")));
    assert_eq!(a.price, Some(Price::ZERO));
    assert_eq!(a.iceberg_quantity, None);
    assert_eq!(a.self_trade_prevention_mode, Some(StpMode::ExpireMaker));
    assert_eq!(a.working_type, Some(WorkingType::MarkPrice));
    assert_eq!(a.price_match, Some(PriceMatch::None));
    assert_eq!(a.close_position, Some(false));
    assert_eq!(a.price_protect, Some(true));
    assert_eq!(a.reduce_only, Some(true));
    assert_eq!(a.activate_price, None, "\"\" is unset");
    assert_eq!(a.callback_rate, None);
    assert_eq!(a.create_time, Some(1760000000100));
    assert_eq!(a.update_time, Some(1760000000100));
    assert_eq!(a.trigger_time, Some(0));
    assert_eq!(a.good_till_date, Some(0));
    assert_eq!(a.actual_order_id, None);

    let a = decode_algo_order(s::ALGO_QUERY.as_bytes()).unwrap();
    assert_eq!(a.algo_status, AlgoStatus::Triggered);
    assert_eq!(a.actual_order_id, Some(8389799001));
    assert_eq!(a.actual_price, Some(p("2299.5")));
    assert_eq!(a.actual_qty, Some(q("0.05")));
    assert_eq!(a.actual_type, Some(OrderType::Market));
    assert_eq!(a.tp_trigger_price, Some(Price::ZERO));
    assert_eq!(a.sl_price, Some(Price::ZERO));
    assert_eq!(a.tp_order_type, None);
    let untriggered =
        s::ALGO_QUERY.replace(r#""actualOrderId":"8389799001""#, r#""actualOrderId":"""#);
    assert_eq!(
        decode_algo_order(untriggered.as_bytes())
            .unwrap()
            .actual_order_id,
        None
    );
    let arr = format!("[{},{}]", s::ALGO_REPLY, s::ALGO_QUERY);
    assert_eq!(decode_algo_orders(arr.as_bytes()).unwrap().len(), 2);
}

#[test]
fn acknowledgements_and_errors() {
    let c = decode_cancel_algo(s::CANCEL_ALGO.as_bytes()).unwrap();
    assert_eq!(c.algo_id, Some(3000000123456));
    assert_eq!(c.client_algo_id.as_str(), "sl-ETH-0007");
    assert_eq!(c.code, 200);
    assert_eq!(c.msg, "success");
    let ok = decode_code_msg(s::CODE_MSG.as_bytes()).unwrap();
    assert!(ok.is_success());
    assert_eq!(ok.msg, "success");
    assert_eq!(
        decode_code_msg(s::CODE_MSG_STR.as_bytes()).unwrap().code,
        200
    );

    let e: ApiError = decode(s::API_ERROR.as_bytes()).unwrap();
    assert_eq!(e.code, -2019);
    assert_eq!(e.msg, "Margin is insufficient.");
    assert_eq!(e.to_string(), "venue error -2019: Margin is insufficient.");

    // Status-driven decoding.
    match decode_reply::<OrderResponse>(400, s::API_ERROR.as_bytes()) {
        Err(ReplyError::Api(e)) => assert_eq!(e.code, -2019),
        other => panic!("{other:?}"),
    }
    let html = decode_api_error(503, b"<html>Service Unavailable</html>");
    assert_eq!(html.code, -503);
    assert!(html.msg.contains("Service Unavailable"));
    assert!(decode_reply::<OrderResponse>(200, s::ORDER_RESULT.as_bytes()).is_ok());
    assert!(matches!(
        decode_reply::<OrderResponse>(200, s::API_ERROR.as_bytes()),
        Err(ReplyError::Api(_))
    ));
    assert!(decode_reply::<CodeMsg>(200, s::CODE_MSG.as_bytes()).is_ok());
    assert!(matches!(
        decode_reply::<OrderResponse>(200, b"{\"orderId\":1"),
        Err(ReplyError::Decode(_))
    ));
    assert!(as_api_error(s::CODE_MSG.as_bytes()).is_none());
}

#[test]
fn batch_mixed_results() {
    let v = decode_batch_orders(s::BATCH.as_bytes()).unwrap();
    assert_eq!(v.len(), 2);
    let o = v[0].as_ref().unwrap();
    assert_eq!((o.order_id, o.client_order_id.as_str()), (1, "b1"));
    let e = v[1].as_ref().unwrap_err();
    assert_eq!(e.code, -2022);
    assert!(decode_batch_orders(&s::BATCH.as_bytes()[..s::BATCH.len() - 1]).is_err());
}

#[test]
fn time_listen_key_dual_leverage_countdown() {
    assert_eq!(
        decode_server_time(s::SERVER_TIME.as_bytes())
            .unwrap()
            .server_time,
        1760000000123
    );
    let k = decode_listen_key(s::LISTEN_KEY.as_bytes()).unwrap();
    assert_eq!(k.listen_key.len(), 64);
    assert!(!format!("{k:?}").contains("19v8a65a1"));
    assert!(
        decode_position_mode(s::DUAL.as_bytes())
            .unwrap()
            .dual_side_position
    );
    let l = decode_leverage(s::LEVERAGE.as_bytes()).unwrap();
    assert_eq!(l.leverage, 21);
    assert_eq!(l.max_notional_value, Some(m("1000000")));
    assert_eq!(l.symbol.as_str(), "BTCUSDT");
    let c = decode_countdown(s::COUNTDOWN.as_bytes()).unwrap();
    assert_eq!((c.symbol.as_str(), c.countdown_time), ("BTCUSDT", 100000));
}

#[test]
fn accounts_v2_v3() {
    let a = decode_account(s::ACCOUNT_V3.as_bytes()).unwrap();
    assert_eq!(a.total_wallet_balance, Some(m("103.12345678")));
    assert_eq!(a.total_margin_balance, Some(m("103.12345678")));
    assert_eq!(a.available_balance, Some(m("103.12345678")));
    assert_eq!(a.total_cross_un_pnl, Some(Money::ZERO));
    assert_eq!(a.fee_tier, None);
    assert_eq!(a.assets.len(), 1);
    assert_eq!(a.assets[0].asset.as_str(), "USDT");
    assert_eq!(a.assets[0].update_time, Some(1760000000000));
    let pos = a.positions[0];
    assert_eq!(pos.symbol.as_str(), "ETHUSDT");
    assert_eq!(pos.position_amt, Some(q("1")));
    assert_eq!(pos.unrealized_profit, Some(m("0.00246115")));
    assert_eq!(pos.notional, Some(m("1.23")));
    assert_eq!(pos.initial_margin, Some(m("0.62")));
    assert_eq!(pos.maint_margin, Some(m("0.0123")));
    assert_eq!(pos.leverage, None);

    let a = decode_account(s::ACCOUNT_V2.as_bytes()).unwrap();
    assert_eq!(a.fee_tier, Some(0));
    assert_eq!(a.can_trade, Some(true));
    assert_eq!(a.multi_assets_margin, Some(false));
    assert_eq!(a.trade_group_id, Some(-1));
    assert_eq!(a.assets[0].margin_available, Some(true));
    let pos = a.positions[0];
    assert_eq!(pos.leverage, Some(100));
    assert_eq!(pos.isolated, Some(true));
    assert_eq!(pos.entry_price, Some(Price::ZERO));
    assert_eq!(pos.max_notional, Some(m("250000")));
}

#[test]
fn position_risk_balance_trades_depth() {
    let v3 = decode_position_risk(s::POSITION_RISK_V3.as_bytes()).unwrap();
    let r = v3[0];
    assert_eq!(r.symbol.as_str(), "ADAUSDT");
    assert_eq!(r.position_amt, Some(q("30")));
    assert_eq!(r.entry_price, Some(p("0.385")));
    assert_eq!(r.break_even_price, Some(p("0.385077")));
    assert_eq!(r.mark_price, Some(p("0.4104759")));
    assert_eq!(r.un_realized_profit, Some(m("0.764277")));
    assert_eq!(r.liquidation_price, Some(Price::ZERO));
    assert_eq!(r.margin_asset.unwrap().as_str(), "USDT");
    assert_eq!(r.adl, Some(2));
    assert_eq!(r.margin_type, None);

    let v2 = decode_position_risk(s::POSITION_RISK_V2.as_bytes()).unwrap();
    let r = v2[0];
    assert_eq!(r.position_side, Some(PositionSide::Short));
    assert_eq!(r.position_amt, Some(q("-0.01")));
    assert_eq!(r.leverage, Some(10));
    assert_eq!(r.margin_type, Some(MarginType::Isolated));
    assert_eq!(r.is_auto_add_margin, Some(false));
    assert_eq!(r.max_notional_value, Some(m("20000000")));

    let b = &decode_balances(s::BALANCE.as_bytes()).unwrap()[0];
    assert_eq!(b.account_alias, "SgsR");
    assert_eq!(b.asset.as_str(), "USDT");
    assert_eq!(b.balance, Some(m("122607.35137903")));
    assert_eq!(b.available_balance, Some(m("23.72469206")));
    assert_eq!(b.margin_available, Some(true));

    let t = decode_user_trades(s::USER_TRADES.as_bytes()).unwrap()[0];
    assert_eq!(t.symbol.as_str(), "BTCUSDT");
    assert_eq!((t.id, t.order_id), (698759, 25851813));
    assert_eq!(t.side, Side::Sell);
    assert_eq!(t.price, p("7819.01"));
    assert_eq!(t.qty, q("0.002"));
    assert_eq!(t.realized_pnl, Some(m("-0.91539999")));
    assert_eq!(t.quote_qty, Some(m("15.63802")));
    assert_eq!(t.commission, Some(m("-0.0781901")));
    assert_eq!(t.commission_asset.unwrap().as_str(), "USDT");
    assert_eq!(t.time, 1569514978020);
    assert_eq!(t.position_side, Some(PositionSide::Short));
    assert_eq!((t.buyer, t.maker), (Some(false), Some(false)));

    let d = decode_depth_snapshot(s::DEPTH_SNAPSHOT.as_bytes()).unwrap();
    assert_eq!(d.last_update_id, 1027024);
    assert_eq!(d.bids[0].price, p("4"));
    assert_eq!(d.asks[0].qty, q("12"));
}

#[test]
fn errors_are_typed() {
    use binance_exec::binance::decode::DecodeError;
    assert!(decode_order(b"").unwrap_err().is_truncated());
    assert!(matches!(
        decode_order(b"{\"orderId\":}").unwrap_err(),
        DecodeError::Syntax { .. }
    ));
    let e = decode_order(br#"{"orderId":1}"#).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::Data {
                what: "OrderResponse",
                ..
            }
        ),
        "{e:?}"
    );
}
