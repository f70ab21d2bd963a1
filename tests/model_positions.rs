//! Positions from fills (one-way and hedge) and venue snapshots.

use binance_exec::engine::positions::{PositionBook, PositionError, PositionSnapshot};
use binance_exec::model::ids::{ClientOrderId, InstrumentId, Symbol};
use binance_exec::model::{
    AssetCode, Decimal, Fill, FillKind, Liquidity, Money, PositionSide as PS, Price, Quantity, Side,
};

fn sym() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}
fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn fill(side: Side, ps: PS, qty: &str, px: &str) -> Fill {
    Fill {
        instrument: InstrumentId::perp(sym()),
        client_id: ClientOrderId::new("x-1").unwrap(),
        venue_order_id: 1,
        trade_id: 1,
        side,
        position_side: ps,
        price: Price::parse(px).unwrap(),
        quantity: Quantity::parse(qty).unwrap(),
        commission: Money::ZERO,
        commission_asset: AssetCode::EMPTY,
        liquidity: Liquidity::Taker,
        realized_pnl: Money::ZERO,
        ts_venue_ms: 5,
        kind: FillKind::Normal,
        recovered: false,
    }
}

#[test]
fn one_way_average_realized_and_flip() {
    let mut b = PositionBook::with_capacity(8);
    b.apply_fill(&fill(Side::Buy, PS::Both, "1", "100"))
        .unwrap();
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Both, "1", "101"))
        .unwrap();
    assert_eq!(
        (e.amount, e.entry_price),
        (d("2"), Price::parse("100.5").unwrap())
    );
    // Sell 3: closes 2 at +1.5 each, opens 1 short at 102.
    let e = b
        .apply_fill(&fill(Side::Sell, PS::Both, "3", "102"))
        .unwrap();
    assert_eq!(e.amount, d("-1"));
    assert_eq!(e.entry_price, Price::parse("102").unwrap());
    assert_eq!(e.realized_pnl, Money::parse("3").unwrap());
    // Cover at 100: short gains 2.
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Both, "1", "100"))
        .unwrap();
    assert!(e.amount.is_zero());
    assert_eq!(e.entry_price, Price::ZERO);
    assert_eq!(e.realized_pnl, Money::parse("5").unwrap());
}

#[test]
fn exact_entry_price_and_partial_reduce_keeps_it() {
    let mut b = PositionBook::with_capacity(8);
    b.apply_fill(&fill(Side::Buy, PS::Both, "1", "0.1"))
        .unwrap();
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Both, "2", "0.2"))
        .unwrap();
    assert_eq!(e.entry_price, Price::parse("0.16666667").unwrap());
    let e = b
        .apply_fill(&fill(Side::Sell, PS::Both, "1", "0.2"))
        .unwrap();
    assert_eq!(e.amount, d("2"));
    assert_eq!(e.entry_price, Price::parse("0.16666667").unwrap());
    // (0.2 - 0.1666…) × 1 = 0.0333… → 0.03333333
    assert_eq!(e.realized_pnl, Money::parse("0.03333333").unwrap());
}

#[test]
fn hedge_sides_are_separate_and_sign_checked() {
    let mut b = PositionBook::with_capacity(8);
    b.apply_fill(&fill(Side::Buy, PS::Long, "1", "100"))
        .unwrap();
    b.apply_fill(&fill(Side::Sell, PS::Short, "2", "100"))
        .unwrap();
    let long = b.get(sym(), PS::Long).unwrap();
    let short = b.get(sym(), PS::Short).unwrap();
    assert_eq!((long.amount, short.amount), (d("1"), d("-2")));
    let err = b.apply_fill(&fill(Side::Sell, PS::Long, "2", "100"));
    assert!(matches!(err, Err(PositionError::HedgeSign { .. })));
    assert_eq!(b.get(sym(), PS::Long).unwrap().amount, d("1"), "unchanged");
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Short, "2", "90"))
        .unwrap();
    assert!(e.amount.is_zero());
    assert_eq!(e.realized_pnl, Money::parse("20").unwrap());
}

#[test]
fn snapshot_overwrites_and_capacity_is_enforced() {
    let mut b = PositionBook::with_capacity(1);
    b.apply_fill(&fill(Side::Buy, PS::Both, "1", "100"))
        .unwrap();
    let e = b
        .apply_snapshot(&PositionSnapshot {
            symbol: sym(),
            position_side: PS::Both,
            amount: d("-0.5"),
            entry_price: Price::parse("99").unwrap(),
            ts_venue_ms: 9,
        })
        .unwrap();
    assert!(e.from_snapshot);
    assert_eq!(
        (e.amount, e.entry_price),
        (d("-0.5"), Price::parse("99").unwrap())
    );
    let err = b.apply_fill(&fill(Side::Buy, PS::Long, "1", "100"));
    assert_eq!(err, Err(PositionError::Full(1)));
}

#[test]
fn a_late_fill_at_or_before_the_latest_snapshot_is_covered_by_it() {
    let mut b = PositionBook::with_capacity(4);
    let mut early = fill(Side::Sell, PS::Both, "0.003", "100");
    early.ts_venue_ms = 90;
    // No snapshot yet: nothing covers the fill.
    assert!(!b.covers(&early));
    b.apply_snapshot(&PositionSnapshot {
        symbol: sym(),
        position_side: PS::Both,
        amount: d("-0.003"),
        entry_price: Price::parse("100").unwrap(),
        ts_venue_ms: 100,
    })
    .unwrap();
    assert!(b.covers(&early));
    let mut same_ms = early;
    same_ms.ts_venue_ms = 100;
    // A stream fill in the snapshot's millisecond comes before the stream's
    // own update for it: booked. A recovered one is assumed in it (and the
    // engine asks positionRisk to be sure).
    assert!(!b.covers(&same_ms));
    same_ms.recovered = true;
    assert!(b.covers(&same_ms));
    let mut later = early;
    later.ts_venue_ms = 101;
    assert!(!b.covers(&later));
    // Another side's snapshot says nothing about this one.
    let mut long = early;
    long.position_side = PS::Long;
    assert!(!b.covers(&long));
}

fn snap(amount: &str, ts: i64) -> PositionSnapshot {
    PositionSnapshot {
        symbol: sym(),
        position_side: PS::Both,
        amount: d(amount),
        entry_price: Price::parse("100").unwrap(),
        ts_venue_ms: ts,
    }
}

fn traded(side: Side, trade_id: i64, ts: i64, recovered: bool) -> Fill {
    let mut f = fill(side, PS::Both, "0.003", "100");
    f.trade_id = trade_id;
    f.ts_venue_ms = ts;
    f.recovered = recovered;
    f
}

#[test]
fn a_held_account_update_released_after_recovered_fills_does_not_undo_them() {
    // The stream delivered trade 10 and its ACCOUNT_UPDATE was held by a
    // reconciliation; the stream then lost trade 11, which the pass
    // recovered. Releasing the held update must not take the book back to
    // before trade 11 (the soak's "one fill off" final position).
    let mut b = PositionBook::with_capacity(4);
    b.note_stream_trade(sym(), 10);
    b.apply_fill(&traded(Side::Buy, 10, 1_000, true)).unwrap();
    b.apply_fill(&traded(Side::Sell, 11, 1_000, true)).unwrap();
    let book = b.get(sym(), PS::Both).unwrap().amount;
    assert!(book.is_zero());
    let held = b.offer_stream_snapshot(&snap("0.003", 1_000), true, 0);
    assert_eq!(held, Err(PositionError::Stale { symbol: sym() }));
    assert_eq!(b.get(sym(), PS::Both).unwrap().amount, book);
    assert_eq!(b.held_snapshots(), 0);
    // Once the stream itself reaches trade 11, its updates are current.
    b.note_stream_trade(sym(), 11);
    let e = b
        .offer_stream_snapshot(&snap("0", 1_000), true, 0)
        .unwrap()
        .unwrap();
    assert!(e.amount.is_zero() && e.from_snapshot);
}

#[test]
fn a_stream_update_older_than_a_position_risk_read_is_stale() {
    let mut b = PositionBook::with_capacity(4);
    b.note_stream_trade(sym(), 20);
    // positionRisk (venue time 2_000) is the truth.
    b.apply_snapshot(&snap("0.006", 2_000)).unwrap();
    // An update the stream sent at 1_500, released late, is older.
    assert!(matches!(
        b.offer_stream_snapshot(&snap("0.003", 1_500), true, 0),
        Err(PositionError::Stale { .. })
    ));
    assert_eq!(b.get(sym(), PS::Both).unwrap().amount, d("0.006"));
    // A stream fill made before that read is in it; one made after is not.
    assert!(b.covers(&traded(Side::Buy, 19, 1_900, false)));
    assert!(!b.covers(&traded(Side::Buy, 21, 2_001, false)));
    // An update in the read's millisecond or later that agrees applies.
    let e = b
        .offer_stream_snapshot(&snap("0.006", 2_000), true, 0)
        .unwrap();
    assert!(e.is_some_and(|e| e.from_snapshot));
}

#[test]
fn an_old_recovered_fill_does_not_move_the_position_time_back() {
    let mut b = PositionBook::with_capacity(4);
    b.apply_fill(&traded(Side::Buy, 30, 3_000, false)).unwrap();
    let e = b.apply_fill(&traded(Side::Buy, 29, 2_500, true)).unwrap();
    assert_eq!(e.ts_venue_ms, 3_000);
    assert_eq!(e.amount, d("0.006"));
}

#[test]
fn an_account_update_sent_before_its_fill_does_not_count_the_fill_twice() {
    // The venue may send a fill's ACCOUNT_UPDATE before its
    // ORDER_TRADE_UPDATE. Applying the update and then booking the fill
    // would leave the book one fill off after every fill.
    let mut b = PositionBook::with_capacity(4);
    b.note_stream_trade(sym(), 40);
    b.apply_fill(&traded(Side::Buy, 40, 4_000, false)).unwrap();
    // ACCOUNT_UPDATE for trade 41 (a buy): 0.006.
    let held = b
        .offer_stream_snapshot(&snap("0.006", 4_100), true, 0)
        .unwrap();
    assert!(held.is_none(), "disagrees with the book: held");
    assert_eq!(b.get(sym(), PS::Both).unwrap().amount, d("0.003"));
    b.note_stream_trade(sym(), 41);
    let e = b.apply_fill(&traded(Side::Buy, 41, 4_100, false)).unwrap();
    assert_eq!(e.amount, d("0.006"));
    assert_eq!(b.held_snapshots(), 0, "the fill it included arrived");
    assert_eq!(b.expire_held(u64::MAX), None);
    assert_eq!(b.get(sym(), PS::Both).unwrap().amount, d("0.006"));
    // An update with no trade behind it (funding, adjustment) applies at once.
    let e = b
        .offer_stream_snapshot(&snap("0.009", 4_150), false, 0)
        .unwrap();
    assert!(e.is_some_and(|e| e.amount == d("0.009")));
    b.offer_stream_snapshot(&snap("0.006", 4_150), false, 0)
        .unwrap();
    // The usual order (fill, then its update) applies the update at once.
    b.note_stream_trade(sym(), 42);
    b.apply_fill(&traded(Side::Sell, 42, 4_200, false)).unwrap();
    let e = b
        .offer_stream_snapshot(&snap("0.003", 4_200), true, 0)
        .unwrap();
    assert!(e.is_some_and(|e| e.amount == d("0.003")));
}

#[test]
fn a_held_update_whose_fill_never_comes_is_applied_after_the_wait() {
    use binance_exec::engine::positions::HOLD_SNAPSHOT_NS;
    let mut b = PositionBook::with_capacity(4);
    b.note_stream_trade(sym(), 50);
    b.apply_fill(&traded(Side::Buy, 50, 5_000, false)).unwrap();
    // The update for trade 51 arrives, trade 51's own event is lost.
    assert!(
        b.offer_stream_snapshot(&snap("0", 5_100), true, 1_000)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        b.expire_held(1_000 + HOLD_SNAPSHOT_NS - 1),
        None,
        "still waiting"
    );
    let e = b.expire_held(1_000 + HOLD_SNAPSHOT_NS).unwrap();
    assert!(e.amount.is_zero() && e.from_snapshot);
    // Trade 51 recovered later from userTrades is in that snapshot.
    assert!(b.covers(&traded(Side::Sell, 51, 5_100, true)));
}
