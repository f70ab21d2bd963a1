//! Order state machine: legal and illegal transitions, fills racing cancels.

use binance_exec::model::ids::{ClientOrderId, InstrumentId, Symbol};
use binance_exec::model::{
    AssetCode, ErrorText, Fill, FillKind, Liquidity, Money, Order, OrderError, OrderEvent,
    OrderEventKind as K, OrderState as S, OrderType, PositionSide, Price, Quantity, Side,
};

fn inst() -> InstrumentId {
    InstrumentId::perp(Symbol::new("ETHUSDT").unwrap())
}
fn cid() -> ClientOrderId {
    ClientOrderId::new("t-1").unwrap()
}
fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}
fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn limit(state: S) -> Order {
    let mut o = Order::new(cid(), inst(), Side::Buy, OrderType::Limit, q("1"), 1);
    o.price = Some(p("100"));
    o.state = state;
    o.prev_state = S::Accepted;
    if !matches!(state, S::Initialized | S::Submitted) {
        o.venue_order_id = Some(42);
    }
    if state == S::PartiallyFilled {
        o.filled_qty = q("0.4");
        o.filled_notional = 10_000_000_000i128 * 40_000_000;
    }
    o
}

fn fill(qty: &str, px: &str, trade: i64) -> Fill {
    Fill {
        instrument: inst(),
        client_id: cid(),
        venue_order_id: 42,
        trade_id: trade,
        side: Side::Buy,
        position_side: PositionSide::Both,
        price: p(px),
        quantity: q(qty),
        commission: Money::ZERO,
        commission_asset: AssetCode::EMPTY,
        liquidity: Liquidity::Maker,
        realized_pnl: Money::ZERO,
        ts_venue_ms: 0,
        kind: FillKind::Normal,
        recovered: false,
    }
}

fn ev(kind: K) -> OrderEvent {
    OrderEvent {
        client_id: cid(),
        instrument: inst(),
        venue_order_id: Some(42),
        ts_venue_ms: 0,
        ts_local_ns: 99,
        kind,
    }
}

fn txt() -> ErrorText {
    ErrorText::truncated("x")
}

#[test]
fn transition_table() {
    // (from, event, expected state or None = illegal)
    let part = K::Filled(fill("0.1", "100", 1));
    let full = K::Filled(fill("0.6", "100", 2)); // 0.4 + 0.6 = 1 for PartiallyFilled
    let all = K::Filled(fill("1", "100", 3));
    let resolved_new = K::Resolved {
        state: S::Accepted,
        filled_qty: q("0"),
        avg_price: p("0"),
    };
    let cases: &[(S, K, Option<S>)] = &[
        (S::Initialized, K::Submitted, Some(S::Submitted)),
        (S::Submitted, K::Submitted, None),
        (S::Submitted, K::Accepted, Some(S::Accepted)),
        (S::Unknown, K::Accepted, Some(S::Accepted)),
        (S::Filled, K::Accepted, None),
        (S::Initialized, K::Accepted, None),
        (
            S::Submitted,
            K::Rejected {
                code: -5022,
                reason: txt(),
            },
            Some(S::Rejected),
        ),
        (
            S::Filled,
            K::Rejected {
                code: -1,
                reason: txt(),
            },
            None,
        ),
        (
            S::PartiallyFilled,
            K::Rejected {
                code: -1,
                reason: txt(),
            },
            None,
        ),
        // Stream fill before the REST ack.
        (S::Submitted, part, Some(S::PartiallyFilled)),
        (S::Accepted, part, Some(S::PartiallyFilled)),
        (S::Accepted, all, Some(S::Filled)),
        (S::PartiallyFilled, full, Some(S::Filled)),
        (S::PendingCancel, part, Some(S::PendingCancel)),
        (S::PendingCancel, all, Some(S::Filled)),
        (S::Canceled, part, Some(S::Canceled)),
        (S::Unknown, part, Some(S::PartiallyFilled)),
        (S::Filled, part, None),
        // The venue filled an order we had given up on: booked anyway.
        (S::Rejected, part, Some(S::PartiallyFilled)),
        (S::Rejected, all, Some(S::Filled)),
        (S::Initialized, part, None),
        (S::Accepted, K::Canceled, Some(S::Canceled)),
        (S::PendingCancel, K::Canceled, Some(S::Canceled)),
        (S::Unknown, K::Canceled, Some(S::Canceled)),
        (S::Filled, K::Canceled, None),
        (S::Canceled, K::Canceled, None),
        (
            S::PartiallyFilled,
            K::Expired { reason: 2 },
            Some(S::Expired),
        ),
        (S::Expired, K::Expired { reason: 2 }, None),
        (S::Accepted, K::PendingCancel, Some(S::PendingCancel)),
        (S::Filled, K::PendingCancel, None),
        (S::Initialized, K::PendingCancel, None),
        (S::Accepted, K::PendingUpdate, Some(S::PendingUpdate)),
        (S::Submitted, K::PendingUpdate, None),
        (S::Canceled, K::PendingUpdate, None),
        (
            S::PendingUpdate,
            K::Amended {
                price: p("101"),
                quantity: q("1"),
            },
            Some(S::Accepted),
        ),
        (
            S::Filled,
            K::Amended {
                price: p("101"),
                quantity: q("1"),
            },
            None,
        ),
        (
            S::PendingCancel,
            K::CancelRejected {
                code: -2011,
                reason: txt(),
            },
            Some(S::Accepted),
        ),
        (
            S::Filled,
            K::CancelRejected {
                code: -2011,
                reason: txt(),
            },
            Some(S::Filled),
        ),
        (
            S::PendingUpdate,
            K::ModifyRejected {
                code: -5027,
                reason: txt(),
            },
            Some(S::Accepted),
        ),
        (
            S::Submitted,
            K::StatusUnknown { code: -1007 },
            Some(S::Unknown),
        ),
        (
            S::PendingCancel,
            K::StatusUnknown { code: 0 },
            Some(S::Unknown),
        ),
        (S::Filled, K::StatusUnknown { code: 0 }, None),
        (S::Unknown, resolved_new, Some(S::Accepted)),
        (
            S::Unknown,
            K::Resolved {
                state: S::Initialized,
                filled_qty: q("0"),
                avg_price: p("0"),
            },
            None,
        ),
        (S::Canceled, resolved_new, None),
        // Plain orders cannot trigger.
        (S::Accepted, K::Triggered { child: 7 }, None),
    ];
    for (i, (from, kind, want)) in cases.iter().enumerate() {
        let mut o = limit(*from);
        let before = o;
        let got = o.apply(&ev(*kind));
        match want {
            Some(w) => {
                assert_eq!(got, Ok(*w), "case {i}: {from:?} + {}", kind.name());
                assert_eq!(o.state, *w, "case {i}");
            }
            None => {
                assert!(
                    matches!(got, Err(OrderError::IllegalTransition { .. })),
                    "case {i}: {from:?} + {} gave {got:?}",
                    kind.name()
                );
                assert_eq!(
                    o, before,
                    "case {i}: a refused event must not change the order"
                );
            }
        }
    }
}

#[test]
fn late_fill_after_cancel_request_is_booked() {
    let mut o = limit(S::Accepted);
    o.apply(&ev(K::PendingCancel)).unwrap();
    // The fill raced our cancel: booked, order still waiting for the cancel.
    assert_eq!(
        o.apply(&ev(K::Filled(fill("0.3", "100", 1)))),
        Ok(S::PendingCancel)
    );
    assert_eq!(o.filled_qty, q("0.3"));
    // The venue cancels the rest.
    assert_eq!(o.apply(&ev(K::Canceled)), Ok(S::Canceled));
    // A second fill that happened before the cancel but arrives after the
    // cancel reply is still booked; the order stays canceled.
    assert_eq!(
        o.apply(&ev(K::Filled(fill("0.2", "101", 2)))),
        Ok(S::Canceled)
    );
    assert_eq!(o.filled_qty, q("0.5"));
    assert_eq!(o.avg_price(), Some(p("100.4")));
    assert_eq!(o.leaves_qty(), q("0.5"));
}

#[test]
fn cancel_rejected_after_partial_fill_returns_to_partially_filled() {
    let mut o = limit(S::Accepted);
    o.apply(&ev(K::PendingCancel)).unwrap();
    o.apply(&ev(K::Filled(fill("0.3", "100", 1)))).unwrap();
    let r = o.apply(&ev(K::CancelRejected {
        code: -2011,
        reason: txt(),
    }));
    assert_eq!(r, Ok(S::PartiallyFilled));
    assert_eq!(o.last_error, -2011);
}

#[test]
fn fills_never_exceed_quantity_and_never_decrease() {
    let mut o = limit(S::Accepted);
    o.apply(&ev(K::Filled(fill("0.7", "100", 1)))).unwrap();
    let over = o.apply(&ev(K::Filled(fill("0.4", "100", 2))));
    assert!(matches!(over, Err(OrderError::Overfill { .. })));
    assert_eq!(o.filled_qty, q("0.7"));
    let zero = o.apply(&ev(K::Filled(fill("0", "100", 3))));
    assert!(matches!(zero, Err(OrderError::BadFill(_))));
    let down = o.apply(&ev(K::Resolved {
        state: S::PartiallyFilled,
        filled_qty: q("0.5"),
        avg_price: p("100"),
    }));
    assert!(matches!(down, Err(OrderError::FilledDecrease { .. })));
    // Resolution that reveals missed fills books them at the venue's average.
    let up = o.apply(&ev(K::Resolved {
        state: S::Filled,
        filled_qty: q("1"),
        avg_price: p("110"),
    }));
    assert_eq!(up, Ok(S::Filled));
    assert_eq!(o.avg_price(), Some(p("103")));
}

#[test]
fn exact_average_price() {
    let mut o = limit(S::Accepted);
    o.quantity = q("3");
    for (i, px) in ["0.1", "0.2", "0.2"].iter().enumerate() {
        o.apply(&ev(K::Filled(fill("1", px, i as i64)))).unwrap();
    }
    // 0.5 / 3 = 0.1666666666… → half-even at 1e-8.
    assert_eq!(o.avg_price(), Some(p("0.16666667")));
    assert_eq!(o.state, S::Filled);
}

#[test]
fn conditional_order_triggers_and_fills_through_child() {
    let mut o = Order::new(cid(), inst(), Side::Sell, OrderType::StopMarket, q("1"), 1);
    o.trigger_price = Some(p("90"));
    o.validate().unwrap();
    assert_eq!(o.client_algo_id(), Some(cid()));
    o.apply(&ev(K::Submitted)).unwrap();
    o.apply(&ev(K::Accepted)).unwrap();
    assert_eq!(
        o.venue_order_id, None,
        "algo orders have no ME id before trigger"
    );
    // Untriggered algo orders are not modifiable.
    assert!(o.apply(&ev(K::PendingUpdate)).is_err());
    assert_eq!(o.apply(&ev(K::Triggered { child: 42 })), Ok(S::Triggered));
    assert_eq!(o.live_id(), Some(42));
    let mut f = fill("1", "89.9", 5);
    f.client_id = ClientOrderId::new("other-child-id").unwrap();
    f.side = Side::Sell;
    assert_eq!(o.apply(&ev(K::Filled(f))), Ok(S::Filled));
}

#[test]
fn validation_catches_what_the_venue_would_refuse() {
    let base = |t| {
        let mut o = Order::new(cid(), inst(), Side::Buy, t, q("1"), 1);
        if t == OrderType::Limit {
            o.price = Some(p("1"));
        }
        o
    };
    let mut o = base(OrderType::Limit);
    assert!(o.validate().is_ok());
    o.reduce_only = true;
    o.position_side = PositionSide::Long;
    assert!(o.validate().is_err(), "reduceOnly in hedge mode is -1106");
    assert!(
        base(OrderType::StopMarket).validate().is_err(),
        "trigger needed"
    );
    let mut t = base(OrderType::TrailingStopMarket);
    t.callback_rate = Some("10.5".parse().unwrap());
    assert!(t.validate().is_err());
    t.callback_rate = Some("1".parse().unwrap());
    assert!(t.validate().is_ok());
    let mut c = base(OrderType::StopMarket);
    c.trigger_price = Some(p("1"));
    c.close_position = true;
    assert!(
        c.validate().is_err(),
        "closePosition with quantity is -4137"
    );
    c.quantity = Quantity::ZERO;
    c.side = Side::Sell;
    assert!(c.validate().is_ok());
}
