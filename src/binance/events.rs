//! User-data stream events (`/private`): order updates, algo updates, fills,
//! balances/positions, config changes, margin calls, listenKey expiry.
//!
//! Why it is written this way:
//! - ORDER_TRADE_UPDATE is the fill path, so it has a hand-written visitor that
//!   matches one- and two-byte keys directly and reads every string (symbol,
//!   client id, enums) through a borrowed `&str` into inline `Copy` types: no
//!   heap allocation per event.
//! - The event type is read from the first bytes of the frame
//!   ([`decode::event_type`]) instead of trying types in turn (untagged) or
//!   buffering (internally tagged enums).
//! - Unknown event types are `UserEvent::Unknown`, never an error, so a new
//!   venue event cannot take the stream down; a cut frame is still an error.

use super::capped::{Capped, Refill};
use super::decode::{self, DecodeError, EventTag, StreamName, Tag, de, split_combined};
use crate::model::decimal::{Decimal, Money, Price, Quantity};
use crate::model::enums::*;
use crate::model::ids::{AlgoId, ClientOrderId, Symbol, TradeId, VenueOrderId};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// One ORDER_TRADE_UPDATE (§7.1): the envelope times plus every key of `o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderUpdate {
    /// `E`: push time, ms (compare across event types with this only).
    pub event_time: i64,
    /// Envelope `T`: transaction time, ms.
    pub transaction_time: i64,
    /// `s`.
    pub symbol: Symbol,
    /// `c`: our id, or a venue-generated one (`autoclose-`, `adl_autoclose`).
    pub client_order_id: ClientOrderId,
    /// `S`.
    pub side: Side,
    /// `o`: order type (`LIQUIDATION` for some venue orders).
    pub order_type: OrderType,
    /// `f`.
    pub time_in_force: TimeInForce,
    /// `q`: original quantity.
    pub orig_qty: Quantity,
    /// `p`: original price.
    pub price: Price,
    /// `ap`: average fill price.
    pub avg_price: Price,
    /// `sp`: stop price.
    pub stop_price: Price,
    /// `x`: what this event is.
    pub execution_type: ExecutionType,
    /// `X`: order status after it.
    pub status: OrderStatus,
    /// `i`: venue order id.
    pub order_id: VenueOrderId,
    /// `M`: modifyId echo on AMENDMENT (2026-07).
    pub modify_id: Option<i64>,
    /// `l`: quantity filled by this event.
    pub last_qty: Quantity,
    /// `z`: cumulative filled quantity.
    pub cum_qty: Quantity,
    /// `L`: price of this fill.
    pub last_price: Price,
    /// `N`: commission asset (may be absent).
    pub commission_asset: Option<Tag>,
    /// `n`: commission of this fill (may be absent).
    pub commission: Option<Money>,
    /// `o.T`: trade/order time, ms.
    pub trade_time: i64,
    /// `t`: trade id (0 when not a fill); dedupe fills on `(s, t)`.
    pub trade_id: TradeId,
    /// `b`: account's bid-side open notional on the symbol.
    pub bid_notional: Money,
    /// `a`: ask-side open notional.
    pub ask_notional: Money,
    /// `m`: this fill was maker.
    pub is_maker: bool,
    /// `R`: reduce-only.
    pub reduce_only: bool,
    /// `wt`: stop price working type.
    pub working_type: Option<WorkingType>,
    /// `ot`: original order type.
    pub orig_type: Option<OrderType>,
    /// `ps`: position side.
    pub position_side: PositionSide,
    /// `cp`: close-all conditional.
    pub close_position: bool,
    /// `AP`: trailing activation price.
    pub activation_price: Option<Price>,
    /// `cr`: trailing callback rate.
    pub callback_rate: Option<Decimal>,
    /// `pP`: price protection.
    pub price_protect: bool,
    /// `si`: ignored by the docs, kept for completeness.
    pub si: i64,
    /// `ss`: ignored by the docs, kept for completeness.
    pub ss: i64,
    /// `rp`: realized PnL of this fill.
    pub realized_pnl: Money,
    /// `V`: STP mode.
    pub stp_mode: Option<StpMode>,
    /// `pm`: price match.
    pub price_match: Option<PriceMatch>,
    /// `gtd`: GTD cancel time (0 otherwise).
    pub good_till_date: i64,
    /// `er`: expiry reason code (0 none … 9 MARKET remainder); `None` if absent.
    pub expiry_reason: Option<i64>,
}

/// Where a fill came from (the model's type: the decoder classifies, the
/// engine books).
pub use crate::model::fill::FillKind;

impl OrderUpdate {
    /// True when this event moved quantity: `l > 0` whatever `x` is, because
    /// liquidation/ADL fills arrive as `x=CALCULATED` (or `TRADE`), and a
    /// `TRADE` with `l = 0` is not a fill.
    pub fn is_fill(&self) -> bool {
        self.last_qty.raw() > 0
    }

    /// Classifies the order behind this event; the client-id prefix wins,
    /// then `x=CALCULATED`/`o=LIQUIDATION` mark a liquidation.
    pub fn fill_kind(&self) -> FillKind {
        let by_id = FillKind::from_client_id(&self.client_order_id);
        if by_id != FillKind::Normal {
            by_id
        } else if self.execution_type == ExecutionType::Calculated
            || self.order_type == OrderType::Liquidation
        {
            FillKind::Liquidation
        } else {
            FillKind::Normal
        }
    }

    /// True for orders the venue created (never in our order book).
    pub fn is_venue_generated(&self) -> bool {
        self.fill_kind() != FillKind::Normal
    }

    /// A blank update for `Default`-style construction in pools and tests.
    pub fn empty() -> Self {
        OrderUpdate {
            event_time: 0,
            transaction_time: 0,
            symbol: Symbol::default(),
            client_order_id: ClientOrderId::default(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            orig_qty: Quantity::ZERO,
            price: Price::ZERO,
            avg_price: Price::ZERO,
            stop_price: Price::ZERO,
            execution_type: ExecutionType::New,
            status: OrderStatus::New,
            order_id: 0,
            modify_id: None,
            last_qty: Quantity::ZERO,
            cum_qty: Quantity::ZERO,
            last_price: Price::ZERO,
            commission_asset: None,
            commission: None,
            trade_time: 0,
            trade_id: 0,
            bid_notional: Money::ZERO,
            ask_notional: Money::ZERO,
            is_maker: false,
            reduce_only: false,
            working_type: None,
            orig_type: None,
            position_side: PositionSide::Both,
            close_position: false,
            activation_price: None,
            callback_rate: None,
            price_protect: false,
            si: 0,
            ss: 0,
            realized_pnl: Money::ZERO,
            stp_mode: None,
            price_match: None,
            good_till_date: 0,
            expiry_reason: None,
        }
    }
}

/// Keys of `o` in ORDER_TRADE_UPDATE, matched on raw bytes.
#[derive(Clone, Copy)]
enum OKey {
    S,
    C,
    Side,
    O,
    F,
    Q,
    P,
    Ap,
    Sp,
    X,
    Status,
    I,
    M,
    L,
    Z,
    LastPx,
    N,
    Comm,
    T,
    Tid,
    B,
    A,
    Maker,
    R,
    Wt,
    Ot,
    Ps,
    Cp,
    Act,
    Cr,
    PP,
    Si,
    Ss,
    Rp,
    V,
    Pm,
    Gtd,
    Er,
    Other,
}

impl OKey {
    #[inline]
    fn of(k: &str) -> Self {
        match k.as_bytes() {
            b"s" => OKey::S,
            b"c" => OKey::C,
            b"S" => OKey::Side,
            b"o" => OKey::O,
            b"f" => OKey::F,
            b"q" => OKey::Q,
            b"p" => OKey::P,
            b"ap" => OKey::Ap,
            b"sp" => OKey::Sp,
            b"x" => OKey::X,
            b"X" => OKey::Status,
            b"i" => OKey::I,
            b"M" => OKey::M,
            b"l" => OKey::L,
            b"z" => OKey::Z,
            b"L" => OKey::LastPx,
            b"N" => OKey::N,
            b"n" => OKey::Comm,
            b"T" => OKey::T,
            b"t" => OKey::Tid,
            b"b" => OKey::B,
            b"a" => OKey::A,
            b"m" => OKey::Maker,
            b"R" => OKey::R,
            b"wt" => OKey::Wt,
            b"ot" => OKey::Ot,
            b"ps" => OKey::Ps,
            b"cp" => OKey::Cp,
            b"AP" => OKey::Act,
            b"cr" => OKey::Cr,
            b"pP" => OKey::PP,
            b"si" => OKey::Si,
            b"ss" => OKey::Ss,
            b"rp" => OKey::Rp,
            b"V" => OKey::V,
            b"pm" => OKey::Pm,
            b"gtd" => OKey::Gtd,
            b"er" => OKey::Er,
            _ => OKey::Other,
        }
    }
}

/// Seeds that decode one value without allocating.
struct Wire<T>(std::marker::PhantomData<T>);
impl<'de, T: de::FromWire> DeserializeSeed<'de> for Wire<T> {
    type Value = T;
    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        de::wire(d)
    }
}
fn wire<T>() -> Wire<T> {
    Wire(std::marker::PhantomData)
}
struct OptWire<T>(std::marker::PhantomData<T>);
impl<'de, T: de::FromWire> DeserializeSeed<'de> for OptWire<T> {
    type Value = Option<T>;
    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        de::opt_wire(d)
    }
}
fn opt_wire<T>() -> OptWire<T> {
    OptWire(std::marker::PhantomData)
}
macro_rules! seed_fn {
    ($name:ident, $t:ty, $f:path) => {
        struct $name;
        impl<'de> DeserializeSeed<'de> for $name {
            type Value = $t;
            #[inline]
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<$t, D::Error> {
                $f(d)
            }
        }
    };
}
seed_fn!(SymbolSeed, Symbol, de::symbol);
seed_fn!(CidSeed, ClientOrderId, de::client_id);
seed_fn!(BoolSeed, bool, de::flex_bool);
seed_fn!(IntSeed, Option<i64>, de::opt_flex_i64);
seed_fn!(TagSeed, Option<Tag>, de::opt_tag);
seed_fn!(OptPriceSeed, Option<Price>, de::opt_decimal);
seed_fn!(OptDecSeed, Option<Decimal>, de::opt_decimal);
seed_fn!(OptMoneySeed, Option<Money>, de::opt_decimal);

/// The `o` object of ORDER_TRADE_UPDATE, decoded into the update in place.
struct OrderBody<'a>(&'a mut OrderUpdate);

impl<'de> DeserializeSeed<'de> for OrderBody<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OrderBody<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ORDER_TRADE_UPDATE `o` object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let u = self.0;
        // s, c, S, x, X, i are required: without them the event names nothing.
        let mut seen = 0u8;
        while let Some(k) = m.next_key_seed(de::StrMap(OKey::of))? {
            match k {
                OKey::S => {
                    u.symbol = m.next_value_seed(SymbolSeed)?;
                    seen |= 1;
                }
                OKey::C => {
                    u.client_order_id = m.next_value_seed(CidSeed)?;
                    seen |= 2;
                }
                OKey::Side => {
                    u.side = m.next_value_seed(wire())?;
                    seen |= 4;
                }
                OKey::O => u.order_type = m.next_value_seed(wire())?,
                OKey::F => u.time_in_force = m.next_value_seed(wire())?,
                OKey::Q => u.orig_qty = m.next_value()?,
                OKey::P => u.price = m.next_value()?,
                OKey::Ap => u.avg_price = m.next_value()?,
                OKey::Sp => u.stop_price = m.next_value()?,
                OKey::X => {
                    u.execution_type = m.next_value_seed(wire())?;
                    seen |= 8;
                }
                OKey::Status => {
                    u.status = m.next_value_seed(wire())?;
                    seen |= 16;
                }
                OKey::I => {
                    u.order_id = m.next_value()?;
                    seen |= 32;
                }
                OKey::M => u.modify_id = m.next_value_seed(IntSeed)?,
                OKey::L => u.last_qty = m.next_value()?,
                OKey::Z => u.cum_qty = m.next_value()?,
                OKey::LastPx => u.last_price = m.next_value()?,
                OKey::N => u.commission_asset = m.next_value_seed(TagSeed)?,
                OKey::Comm => u.commission = m.next_value_seed(OptMoneySeed)?,
                OKey::T => u.trade_time = m.next_value_seed(IntSeed)?.unwrap_or(0),
                OKey::Tid => u.trade_id = m.next_value_seed(IntSeed)?.unwrap_or(0),
                OKey::B => u.bid_notional = m.next_value()?,
                OKey::A => u.ask_notional = m.next_value()?,
                OKey::Maker => u.is_maker = m.next_value_seed(BoolSeed)?,
                OKey::R => u.reduce_only = m.next_value_seed(BoolSeed)?,
                OKey::Wt => u.working_type = m.next_value_seed(opt_wire())?,
                OKey::Ot => u.orig_type = m.next_value_seed(opt_wire())?,
                OKey::Ps => u.position_side = m.next_value_seed(wire())?,
                OKey::Cp => u.close_position = m.next_value_seed(BoolSeed)?,
                OKey::Act => u.activation_price = m.next_value_seed(OptPriceSeed)?,
                OKey::Cr => u.callback_rate = m.next_value_seed(OptDecSeed)?,
                OKey::PP => u.price_protect = m.next_value_seed(BoolSeed)?,
                OKey::Si => u.si = m.next_value_seed(IntSeed)?.unwrap_or(0),
                OKey::Ss => u.ss = m.next_value_seed(IntSeed)?.unwrap_or(0),
                OKey::Rp => u.realized_pnl = m.next_value()?,
                OKey::V => u.stp_mode = m.next_value_seed(opt_wire())?,
                OKey::Pm => u.price_match = m.next_value_seed(opt_wire())?,
                OKey::Gtd => u.good_till_date = m.next_value_seed(IntSeed)?.unwrap_or(0),
                OKey::Er => u.expiry_reason = m.next_value_seed(IntSeed)?,
                OKey::Other => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        if seen != 63 {
            let missing = [(1, "s"), (2, "c"), (4, "S"), (8, "x"), (16, "X"), (32, "i")]
                .into_iter()
                .find(|(bit, _)| seen & bit == 0)
                .map_or("?", |(_, k)| k);
            return Err(A::Error::missing_field(missing));
        }
        Ok(())
    }
}

/// A user event of the shape `{e, E, T, <body>}` decoded in place: its two
/// times and its body object. ORDER_TRADE_UPDATE (`o`) and ACCOUNT_UPDATE
/// (`a`) share it, so one visitor serves both.
trait EventBody {
    /// What serde's error says was expected.
    const EXPECTING: &'static str;
    /// The body's key.
    const KEY: &'static str;
    /// Where `E` and `T` go.
    fn times(&mut self) -> (&mut i64, &mut i64);
    /// Decodes the body value in place.
    fn body<'de, A: MapAccess<'de>>(&mut self, m: &mut A) -> Result<(), A::Error>;
}

impl EventBody for OrderUpdate {
    const EXPECTING: &'static str = "an ORDER_TRADE_UPDATE event";
    const KEY: &'static str = "o";
    fn times(&mut self) -> (&mut i64, &mut i64) {
        (&mut self.event_time, &mut self.transaction_time)
    }
    fn body<'de, A: MapAccess<'de>>(&mut self, m: &mut A) -> Result<(), A::Error> {
        m.next_value_seed(OrderBody(self))
    }
}

/// The envelope visitor over any [`EventBody`].
struct Envelope<'a, B>(&'a mut B);

impl<'de, B: EventBody> Visitor<'de> for Envelope<'_, B> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(B::EXPECTING)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let mut has_body = false;
        while let Some(k) = m.next_key_seed(de::StrMap(|k: &str| match k.as_bytes() {
            b"E" => 1u8,
            b"T" => 2,
            k if k == B::KEY.as_bytes() => 3,
            _ => 0,
        }))? {
            match k {
                1 => *self.0.times().0 = m.next_value_seed(IntSeed)?.unwrap_or(0),
                2 => *self.0.times().1 = m.next_value_seed(IntSeed)?.unwrap_or(0),
                3 => {
                    self.0.body(&mut m)?;
                    has_body = true;
                }
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !has_body {
            return Err(A::Error::missing_field(B::KEY));
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for OrderUpdate {
    /// Decodes the whole event (envelope + `o`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut u = OrderUpdate::empty();
        d.deserialize_map(Envelope(&mut u))?;
        Ok(u)
    }
}

/// ALGO_UPDATE (§5.3): a conditional order's life in the Algo Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AlgoUpdate {
    /// `E`: push time, ms.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// `T`: transaction time, ms.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// `o`: the algo order.
    #[serde(rename = "o")]
    pub order: AlgoOrderState,
}

/// The `o` object of ALGO_UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AlgoOrderState {
    /// `caid`: client algo id.
    #[serde(rename = "caid", deserialize_with = "de::client_id")]
    pub client_algo_id: ClientOrderId,
    /// `aid`: algo id.
    #[serde(rename = "aid", deserialize_with = "de::flex_i64")]
    pub algo_id: AlgoId,
    /// `at`: algo type (`CONDITIONAL`).
    #[serde(rename = "at", default, deserialize_with = "de::opt_tag")]
    pub algo_type: Option<Tag>,
    /// `o`: conditional order type.
    #[serde(rename = "o", default, deserialize_with = "de::opt_wire")]
    pub order_type: Option<OrderType>,
    /// `s`.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// `S`.
    #[serde(rename = "S", default, deserialize_with = "de::opt_wire")]
    pub side: Option<Side>,
    /// `ps`.
    #[serde(rename = "ps", default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// `f`.
    #[serde(rename = "f", default, deserialize_with = "de::opt_wire")]
    pub time_in_force: Option<TimeInForce>,
    /// `q`.
    #[serde(rename = "q", default, deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Quantity>,
    /// `X`: algo status.
    #[serde(rename = "X", deserialize_with = "de::wire")]
    pub status: AlgoStatus,
    /// `ai`: child order id in the ME; `None` before trigger (sent as `""`).
    #[serde(rename = "ai", default, deserialize_with = "de::opt_flex_i64")]
    pub actual_order_id: Option<VenueOrderId>,
    /// `ap`: child average price.
    #[serde(rename = "ap", default, deserialize_with = "de::opt_decimal")]
    pub actual_avg_price: Option<Price>,
    /// `aq`: child executed quantity.
    #[serde(rename = "aq", default, deserialize_with = "de::opt_decimal")]
    pub actual_qty: Option<Quantity>,
    /// `act`: child order type.
    #[serde(rename = "act", default, deserialize_with = "de::opt_wire")]
    pub actual_type: Option<OrderType>,
    /// `tp`: trigger price.
    #[serde(rename = "tp", default, deserialize_with = "de::opt_decimal")]
    pub trigger_price: Option<Price>,
    /// `p`: child limit price.
    #[serde(rename = "p", default, deserialize_with = "de::opt_decimal")]
    pub price: Option<Price>,
    /// `V`: STP mode.
    #[serde(rename = "V", default, deserialize_with = "de::opt_wire")]
    pub stp_mode: Option<StpMode>,
    /// `wt`: working type.
    #[serde(rename = "wt", default, deserialize_with = "de::opt_wire")]
    pub working_type: Option<WorkingType>,
    /// `pm`: price match.
    #[serde(rename = "pm", default, deserialize_with = "de::opt_wire")]
    pub price_match: Option<PriceMatch>,
    /// `cp`: close position.
    #[serde(rename = "cp", default, deserialize_with = "de::flex_bool")]
    pub close_position: bool,
    /// `pP`: price protection.
    #[serde(rename = "pP", default, deserialize_with = "de::flex_bool")]
    pub price_protect: bool,
    /// `R`: reduce-only.
    #[serde(rename = "R", default, deserialize_with = "de::flex_bool")]
    pub reduce_only: bool,
    /// `tt`: trigger time, ms.
    #[serde(rename = "tt", default, deserialize_with = "de::opt_flex_i64")]
    pub trigger_time: Option<i64>,
    /// `gtd`.
    #[serde(rename = "gtd", default, deserialize_with = "de::opt_flex_i64")]
    pub good_till_date: Option<i64>,
    /// `rm`: failure reason (REJECTED), inline and cut at 24 bytes.
    #[serde(rename = "rm", default, deserialize_with = "de::opt_tag")]
    pub reject_reason: Option<Tag>,
}

/// TRADE_LITE (§7.4): the earliest fill notice; the full ORDER_TRADE_UPDATE
/// with the same `(s, t)` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct TradeLite {
    /// `E`.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// `T`.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// `s`.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// `q`: original quantity.
    #[serde(rename = "q", default)]
    pub orig_qty: Quantity,
    /// `p`: original price.
    #[serde(rename = "p", default)]
    pub price: Price,
    /// `m`: maker.
    #[serde(rename = "m", default, deserialize_with = "de::flex_bool")]
    pub is_maker: bool,
    /// `c`: client id.
    #[serde(rename = "c", deserialize_with = "de::client_id")]
    pub client_order_id: ClientOrderId,
    /// `S`.
    #[serde(rename = "S", deserialize_with = "de::wire")]
    pub side: Side,
    /// `L`: fill price.
    #[serde(rename = "L")]
    pub last_price: Price,
    /// `l`: fill quantity.
    #[serde(rename = "l")]
    pub last_qty: Quantity,
    /// `t`: trade id.
    #[serde(rename = "t")]
    pub trade_id: TradeId,
    /// `i`: order id.
    #[serde(rename = "i")]
    pub order_id: VenueOrderId,
}

/// ACCOUNT_UPDATE (§7.5): balances and the positions that changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountUpdate {
    /// `E`.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// `T`.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// `a`.
    #[serde(rename = "a")]
    pub data: AccountUpdateData,
}

/// The `a` object of ACCOUNT_UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountUpdateData {
    /// `m`: reason (`ORDER`, `FUNDING_FEE`, `INSURANCE_CLEAR`…).
    #[serde(rename = "m", default, deserialize_with = "de::tag")]
    pub reason: Tag,
    /// `B`: balances that changed (first [`MAX_BALANCE_CHANGES`] kept inline;
    /// `balances.is_truncated()` says the venue sent more).
    #[serde(rename = "B", default)]
    pub balances: Capped<BalanceChange, MAX_BALANCE_CHANGES>,
    /// `P`: changed positions (closed ones with `pa = 0`; first
    /// [`MAX_POSITION_CHANGES`] kept inline, `positions.is_truncated()` flags more).
    #[serde(rename = "P", default)]
    pub positions: Capped<PositionChange, MAX_POSITION_CHANGES>,
}

impl AccountUpdate {
    /// An empty update: the slot a caller preallocates once and hands to
    /// [`decode_account_update_into`] for every frame.
    pub const fn empty() -> Self {
        AccountUpdate {
            event_time: 0,
            transaction_time: 0,
            data: AccountUpdateData {
                reason: Tag::EMPTY,
                balances: Capped::new(),
                positions: Capped::new(),
            },
        }
    }

    /// True when the venue listed more balances or positions than are kept
    /// inline: the lists are then not the full picture, and the account must
    /// be read from REST before the update is trusted as complete.
    pub fn is_truncated(&self) -> bool {
        self.data.balances.is_truncated() || self.data.positions.is_truncated()
    }
}

impl Default for AccountUpdate {
    fn default() -> Self {
        Self::empty()
    }
}

seed_fn!(ReasonSeed, Tag, de::tag);

impl EventBody for AccountUpdate {
    const EXPECTING: &'static str = "an ACCOUNT_UPDATE event";
    const KEY: &'static str = "a";
    fn times(&mut self) -> (&mut i64, &mut i64) {
        (&mut self.event_time, &mut self.transaction_time)
    }
    fn body<'de, A: MapAccess<'de>>(&mut self, m: &mut A) -> Result<(), A::Error> {
        m.next_value_seed(AccountBody(&mut self.data))
    }
}

/// The `a` object of ACCOUNT_UPDATE, decoded into the caller's lists.
struct AccountBody<'a>(&'a mut AccountUpdateData);

impl<'de> DeserializeSeed<'de> for AccountBody<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AccountBody<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ACCOUNT_UPDATE `a` object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let d = self.0;
        while let Some(k) = m.next_key_seed(de::StrMap(|k: &str| match k.as_bytes() {
            b"m" => 1u8,
            b"B" => 2,
            b"P" => 3,
            _ => 0,
        }))? {
            match k {
                1 => d.reason = m.next_value_seed(ReasonSeed)?,
                2 => m.next_value_seed(Refill(&mut d.balances))?,
                3 => m.next_value_seed(Refill(&mut d.positions))?,
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Decodes an ACCOUNT_UPDATE frame (raw or combined-stream wrapped) into
/// `out`, reusing its inline lists. Why: the event is ~1.4 KB, and building
/// and moving a fresh one per fill cost about a quarter of its decode time;
/// the engine keeps one slot and decodes every ACCOUNT_UPDATE into it. On
/// error `out` holds a partial update and must not be used.
pub fn decode_account_update_into(
    out: &mut AccountUpdate,
    frame: &[u8],
) -> Result<(), DecodeError> {
    let (_, data) = split_combined(frame)?;
    account_update_into(data, out)
}

fn account_update_into(data: &[u8], out: &mut AccountUpdate) -> Result<(), DecodeError> {
    decode::check_depth(data)?;
    out.event_time = 0;
    out.transaction_time = 0;
    out.data.reason = Tag::EMPTY;
    out.data.balances.clear();
    out.data.positions.clear();
    let err = |e| DecodeError::from_sonic("AccountUpdate", e);
    let mut d = sonic_rs::Deserializer::from_slice(data);
    serde::Deserializer::deserialize_map(&mut d, Envelope(out)).map_err(err)?;
    d.end().map_err(err)
}

/// Balances one ACCOUNT_UPDATE keeps inline. Why this many: the venue lists only
/// the assets that changed — one or two per fill, every margin asset at most in
/// multi-assets mode — and an inline list keeps the fill path off the heap.
pub const MAX_BALANCE_CHANGES: usize = 8;

/// Positions one ACCOUNT_UPDATE keeps inline. Why this many: a fill changes one
/// position (two legs at most); only funding or insurance events list several.
pub const MAX_POSITION_CHANGES: usize = 8;

/// One `B[]` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct BalanceChange {
    /// `a`: asset.
    #[serde(rename = "a", deserialize_with = "de::tag")]
    pub asset: Tag,
    /// `wb`: wallet balance.
    #[serde(rename = "wb", default)]
    pub wallet_balance: Money,
    /// `cw`: cross wallet balance.
    #[serde(rename = "cw", default)]
    pub cross_wallet_balance: Money,
    /// `bc`: change except PnL and commission.
    #[serde(rename = "bc", default)]
    pub balance_change: Money,
}

/// One `P[]` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PositionChange {
    /// `s`.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// `pa`: signed amount.
    #[serde(rename = "pa")]
    pub position_amt: Quantity,
    /// `ep`: entry price.
    #[serde(rename = "ep", default)]
    pub entry_price: Price,
    /// `bep`: break-even price.
    #[serde(rename = "bep", default)]
    pub break_even_price: Price,
    /// `cr`: accumulated realized PnL (pre-fee).
    #[serde(rename = "cr", default)]
    pub accumulated_realized: Money,
    /// `up`: unrealized PnL.
    #[serde(rename = "up", default)]
    pub unrealized_pnl: Money,
    /// `mt`: margin type.
    #[serde(rename = "mt", default, deserialize_with = "de::opt_margin_type")]
    pub margin_type: Option<MarginType>,
    /// `iw`: isolated wallet.
    #[serde(rename = "iw", default)]
    pub isolated_wallet: Money,
    /// `ps`: position side.
    #[serde(rename = "ps", default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
}

/// ACCOUNT_CONFIG_UPDATE: a leverage change (`ac`) or multi-assets switch (`ai`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AccountConfigUpdate {
    /// `E`.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// `T`.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// `ac`: leverage change.
    #[serde(rename = "ac", default)]
    pub leverage: Option<LeverageChange>,
    /// `ai`: multi-assets mode change.
    #[serde(rename = "ai", default)]
    pub multi_assets: Option<MultiAssetsChange>,
}

/// `ac` of ACCOUNT_CONFIG_UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct LeverageChange {
    /// `s`.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// `l`: new leverage.
    #[serde(rename = "l", deserialize_with = "de::flex_i64")]
    pub leverage: i64,
}

/// `ai` of ACCOUNT_CONFIG_UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MultiAssetsChange {
    /// `j`: multi-assets mode on.
    #[serde(rename = "j", deserialize_with = "de::flex_bool")]
    pub multi_assets: bool,
}

/// MARGIN_CALL: advisory; liquidation may already be under way.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarginCall {
    /// `E`.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// `cw`: cross wallet balance (cross only).
    #[serde(rename = "cw", default, deserialize_with = "de::opt_decimal")]
    pub cross_wallet_balance: Option<Money>,
    /// `p`: positions at risk.
    #[serde(rename = "p", default)]
    pub positions: Vec<MarginCallPosition>,
}

/// One `p[]` item of MARGIN_CALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MarginCallPosition {
    /// `s`.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// `ps`.
    #[serde(rename = "ps", default, deserialize_with = "de::opt_wire")]
    pub position_side: Option<PositionSide>,
    /// `pa`.
    #[serde(rename = "pa", default)]
    pub position_amt: Quantity,
    /// `mt`.
    #[serde(rename = "mt", default, deserialize_with = "de::opt_margin_type")]
    pub margin_type: Option<MarginType>,
    /// `iw`.
    #[serde(rename = "iw", default)]
    pub isolated_wallet: Money,
    /// `mp`: mark price.
    #[serde(rename = "mp", default)]
    pub mark_price: Price,
    /// `up`.
    #[serde(rename = "up", default)]
    pub unrealized_pnl: Money,
    /// `mm`: maintenance margin required.
    #[serde(rename = "mm", default)]
    pub maint_margin: Money,
}

/// listenKeyExpired: the stream is dead; get a key, reconnect, reconcile.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ListenKeyExpired {
    /// `E` (the futures docs show it as a string here, unlike other events).
    #[serde(rename = "E", default, deserialize_with = "de::flex_i64")]
    pub event_time: i64,
    /// The expired key (credential: `Debug` shows a prefix only).
    #[serde(rename = "listenKey", default)]
    pub listen_key: String,
}

impl fmt::Debug for ListenKeyExpired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.listen_key.chars().take(6).collect();
        write!(
            f,
            "ListenKeyExpired {{ event_time: {}, listen_key: {head}… }}",
            self.event_time
        )
    }
}

/// CONDITIONAL_ORDER_TRIGGER_REJECT (deprecated 2025-12-15, still decoded).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TriggerReject {
    /// `E`.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// `T`.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// `or`.
    #[serde(rename = "or")]
    pub reject: TriggerRejectInfo,
}

/// `or` of CONDITIONAL_ORDER_TRIGGER_REJECT.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TriggerRejectInfo {
    /// `s`.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// `i`: order id.
    #[serde(rename = "i", deserialize_with = "de::flex_i64")]
    pub order_id: VenueOrderId,
    /// `r`: reason text.
    #[serde(rename = "r", default)]
    pub reason: String,
}

/// Everything the user-data stream can deliver.
// ACCOUNT_UPDATE is the large variant (its inline lists); boxing it would put
// a heap allocation back on every fill, which is what the lists avoid.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// ORDER_TRADE_UPDATE.
    OrderTradeUpdate(OrderUpdate),
    /// ALGO_UPDATE.
    AlgoUpdate(AlgoUpdate),
    /// TRADE_LITE.
    TradeLite(TradeLite),
    /// ACCOUNT_UPDATE.
    AccountUpdate(AccountUpdate),
    /// ACCOUNT_CONFIG_UPDATE.
    AccountConfigUpdate(AccountConfigUpdate),
    /// MARGIN_CALL.
    MarginCall(MarginCall),
    /// listenKeyExpired.
    ListenKeyExpired(ListenKeyExpired),
    /// CONDITIONAL_ORDER_TRIGGER_REJECT.
    ConditionalOrderTriggerReject(TriggerReject),
    /// A well-formed event we do not model (STRATEGY_UPDATE, GRID_UPDATE,
    /// future types); `event_type` is `"e"`, empty if there was none.
    Unknown {
        /// The `"e"` tag.
        event_type: EventTag,
    },
}

/// A decoded user-stream frame with the stream name of a combined wrapper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFrame {
    /// Stream name (the listenKey on `/private/stream`).
    pub stream: Option<StreamName>,
    /// The event.
    pub event: UserEvent,
}

/// Decodes one user-data text frame, raw or combined-stream wrapped.
pub fn decode_user_event(frame: &[u8]) -> Result<UserEvent, DecodeError> {
    let (_, data) = split_combined(frame)?;
    decode_user_data(data)
}

/// Like [`decode_user_event`], also returning the combined-stream name.
pub fn decode_user_frame(frame: &[u8]) -> Result<UserFrame, DecodeError> {
    let (stream, data) = split_combined(frame)?;
    Ok(UserFrame {
        stream,
        event: decode_user_data(data)?,
    })
}

/// Decodes an ORDER_TRADE_UPDATE frame (raw or wrapped) into `out`, for
/// callers that recycle preallocated update slots; no allocation on success.
pub fn decode_order_update_into(frame: &[u8], out: &mut OrderUpdate) -> Result<(), DecodeError> {
    let (_, data) = split_combined(frame)?;
    *out = OrderUpdate::empty();
    if super::scan::order_update_into(data, out).is_some() {
        return Ok(());
    }
    *out = decode::decode::<OrderUpdate>(data)?;
    Ok(())
}

/// Like [`decode_user_event`], except that an ACCOUNT_UPDATE is decoded into
/// `account` (see [`decode_account_update_into`]) and `Ok(None)` is returned:
/// the hot path reads the frame's type once and never moves the large event.
pub fn decode_user_event_reusing(
    frame: &[u8],
    account: &mut AccountUpdate,
) -> Result<Option<UserEvent>, DecodeError> {
    let (_, data) = split_combined(frame)?;
    match decode::event_type(data)? {
        Some(tag) if tag.as_str() == "ACCOUNT_UPDATE" => {
            account_update_into(data, account)?;
            Ok(None)
        }
        tag => decode_tagged(data, tag).map(Some),
    }
}

fn decode_user_data(data: &[u8]) -> Result<UserEvent, DecodeError> {
    decode_tagged(data, decode::event_type(data)?)
}

fn decode_tagged(data: &[u8], tag: Option<EventTag>) -> Result<UserEvent, DecodeError> {
    let Some(tag) = tag else {
        decode::validate(data)?;
        return Ok(UserEvent::Unknown {
            event_type: EventTag::EMPTY,
        });
    };
    Ok(match tag.as_str() {
        "ORDER_TRADE_UPDATE" => {
            // Built in place: the scanner fills the enum's payload directly.
            let mut ev = UserEvent::OrderTradeUpdate(OrderUpdate::empty());
            if let UserEvent::OrderTradeUpdate(u) = &mut ev
                && super::scan::order_update_into(data, u).is_none()
            {
                // Anything unusual: serde gives the same value or the precise error.
                *u = decode::decode(data)?;
            }
            ev
        }
        "ALGO_UPDATE" => UserEvent::AlgoUpdate(decode::decode(data)?),
        "TRADE_LITE" => UserEvent::TradeLite(match super::scan::trade_lite(data) {
            Some(t) => t,
            // Anything unusual: serde gives the same value or the precise error.
            None => decode::decode(data)?,
        }),
        "ACCOUNT_UPDATE" => UserEvent::AccountUpdate(decode::decode(data)?),
        "ACCOUNT_CONFIG_UPDATE" => UserEvent::AccountConfigUpdate(decode::decode(data)?),
        "MARGIN_CALL" => UserEvent::MarginCall(decode::decode(data)?),
        "listenKeyExpired" => UserEvent::ListenKeyExpired(decode::decode(data)?),
        "CONDITIONAL_ORDER_TRIGGER_REJECT" => {
            UserEvent::ConditionalOrderTriggerReject(decode::decode(data)?)
        }
        _ => {
            decode::validate(data)?;
            UserEvent::Unknown { event_type: tag }
        }
    })
}
