//! Market-stream decoding, field by field.
mod proto_in_common;
use proto_in_common as s;

use binance_exec::binance::market::*;
use binance_exec::model::*;

fn p(x: &str) -> Price {
    Price::parse(x).unwrap()
}
fn q(x: &str) -> Quantity {
    Quantity::parse(x).unwrap()
}

#[test]
fn book_ticker() {
    let MarketEvent::BookTicker(b) = decode_market(s::BOOK_TICKER.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(b.update_id, 8822345501);
    assert_eq!(b.event_time, 1760000400005);
    assert_eq!(b.transaction_time, 1760000400003);
    assert_eq!(b.symbol.as_str(), "ETHUSDT");
    assert_eq!(b.bid_price, p("2400.9"));
    assert_eq!(b.bid_qty, q("12.341"));
    assert_eq!(b.ask_price, p("2400.91"));
    assert_eq!(b.ask_qty, q("3.02"));
}

#[test]
fn agg_trade_with_and_without_nq() {
    let MarketEvent::AggTrade(t) = decode_market(s::AGG_TRADE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(t.event_time, 1760000400050);
    assert_eq!(t.symbol.as_str(), "BTCUSDT");
    assert_eq!(t.agg_id, 5933014);
    assert_eq!(t.price, p("60000.1"));
    assert_eq!(t.qty, q("0.25"));
    assert_eq!(t.non_rpi_qty, Some(q("0.2")));
    assert_eq!((t.first_trade_id, t.last_trade_id), (100, 105));
    assert_eq!(t.trade_time, 1760000400049);
    assert!(t.buyer_is_maker);
    let old = s::AGG_TRADE.replace(r#""nq":"0.200","#, "");
    let MarketEvent::AggTrade(t) = decode_market(old.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(t.non_rpi_qty, None);
}

#[test]
fn mark_price() {
    let MarketEvent::MarkPrice(m) = decode_market(s::MARK_PRICE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(m.symbol.as_str(), "BTCUSDT");
    assert_eq!(m.mark_price, p("60001.23"));
    assert_eq!(m.mark_price_avg, Some(p("60000.5")));
    assert_eq!(m.index_price, Some(p("59998.7")));
    assert_eq!(m.est_settle_price, Some(p("60005")));
    assert_eq!(m.funding_rate, Some(Decimal::parse("0.0001").unwrap()));
    assert_eq!(m.next_funding_time, 1760025600000);
    assert_eq!(m.event_time, 1760000401000);
}

#[test]
fn depth_diff_and_snapshot() {
    let MarketEvent::Depth(d) = decode_market(s::DEPTH_UPDATE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(d.event_time, 1760000400105);
    assert_eq!(d.transaction_time, 1760000400101);
    assert_eq!(d.symbol.as_str(), "ETHUSDT");
    assert_eq!(d.first_update_id, 8822345490);
    assert_eq!(d.final_update_id, 8822345560);
    assert_eq!(d.prev_final_update_id, 8822345480);
    assert_eq!(
        d.bids,
        vec![
            Level {
                price: p("2400.9"),
                qty: q("12.341")
            },
            Level {
                price: p("2400.5"),
                qty: Quantity::ZERO
            },
        ]
    );
    assert_eq!(
        d.asks,
        vec![Level {
            price: p("2400.91"),
            qty: q("3.02")
        }]
    );

    // Reuse: a second decode into the same slot replaces the levels.
    let mut slot = DepthUpdate::default();
    decode_depth_into(s::DEPTH5.as_bytes(), &mut slot).unwrap();
    assert_eq!(slot.bids.len(), 5);
    assert_eq!(slot.asks.len(), 5);
    assert_eq!(
        slot.bids[0],
        Level {
            price: p("60000"),
            qty: q("1.5")
        }
    );
    assert_eq!(
        slot.asks[4],
        Level {
            price: p("60000.5"),
            qty: q("0.04")
        }
    );
    assert_eq!((slot.first_update_id, slot.final_update_id), (1, 9));
    decode_depth_into(s::DEPTH_UPDATE.as_bytes(), &mut slot).unwrap();
    assert_eq!(slot, d);
    let w = s::wrapped("ethusdt@depth@100ms", s::DEPTH_UPDATE);
    decode_depth_into(w.as_bytes(), &mut slot).unwrap();
    assert_eq!(slot, d);
}

#[test]
fn control_replies() {
    assert_eq!(
        decode_market(s::SUB_OK.as_bytes()).unwrap(),
        MarketEvent::Control(ControlReply::Ok {
            id: Some(1),
            result: None
        })
    );
    let MarketEvent::Control(ControlReply::Ok { id, result }) =
        decode_market(s::SUB_LIST.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(id, Some(3));
    assert!(result.unwrap().contains("btcusdt@depth"));
    assert_eq!(
        decode_market(s::SUB_ERR.as_bytes()).unwrap(),
        MarketEvent::Control(ControlReply::Err {
            id: Some(7),
            code: 2,
            msg: "Invalid request: unknown variant".into()
        })
    );
    assert_eq!(
        decode_market(s::SUB_ERR_NESTED.as_bytes()).unwrap(),
        MarketEvent::Control(ControlReply::Err {
            id: Some(8),
            code: 0,
            msg: "Unknown property".into()
        })
    );
}

#[test]
fn unknown_and_combined() {
    match decode_market(s::KLINE.as_bytes()).unwrap() {
        MarketEvent::Unknown { event_type } => assert_eq!(event_type.as_str(), "kline"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode_market(br#"[{"e":"markPriceUpdate"}]"#).unwrap(),
        MarketEvent::Unknown { .. }
    ));
    for raw in s::MARKET_SAMPLES {
        let w = s::wrapped("btcusdt@bookTicker", raw);
        let f = decode_market_frame(w.as_bytes()).unwrap();
        assert_eq!(f.stream.unwrap().as_str(), "btcusdt@bookTicker");
        assert_eq!(f.event, decode_market(raw.as_bytes()).unwrap());
    }
    // Post-migration extra fields are ignored.
    let extra = s::BOOK_TICKER.replace(
        r#""e":"bookTicker","#,
        r#""e":"bookTicker","st":1,"ps":"ETHUSDT","#,
    );
    assert!(matches!(
        decode_market(extra.as_bytes()).unwrap(),
        MarketEvent::BookTicker(_)
    ));
}

#[test]
fn bad_decimal_is_a_data_error() {
    let bad = s::BOOK_TICKER.replace("2400.90", "24x0");
    let e = decode_market(bad.as_bytes()).unwrap_err();
    assert!(
        matches!(e, binance_exec::binance::decode::DecodeError::Data { .. }),
        "{e:?}"
    );
}
