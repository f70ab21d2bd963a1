//! Market-stream frames (`/public`, `/market`): bookTicker, aggTrade,
//! markPriceUpdate, depthUpdate (diffs and depth5/10/20 snapshots) and the
//! replies to live SUBSCRIBE requests.
//!
//! Why the shape: market data arrives at the highest rate of anything we read,
//! so [`decode_market`] reads `"e"` from the first bytes, decodes straight into
//! inline `Copy` types, and the depth decoder can refill a caller-owned
//! [`DepthUpdate`] ([`decode_depth_into`]) so a steady book feed does not
//! allocate. Frames we do not model become `MarketEvent::Unknown` after the
//! JSON has been checked to be complete; nothing here panics on bad input.

use super::decode::{self, DecodeError, EventTag, StreamName, de, split_combined};
use crate::model::decimal::{Decimal, Price, Quantity};
use crate::model::ids::{Symbol, TradeId};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Best bid/ask (`<s>@bookTicker`); the cheapest top-of-book signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct BookTicker {
    /// Book update id (`u`), monotonic per symbol: drop older ones.
    #[serde(rename = "u")]
    pub update_id: i64,
    /// Push time, ms.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// Matching-engine time, ms.
    #[serde(rename = "T", default)]
    pub transaction_time: i64,
    /// Symbol.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Best bid price.
    #[serde(rename = "b")]
    pub bid_price: Price,
    /// Best bid quantity.
    #[serde(rename = "B")]
    pub bid_qty: Quantity,
    /// Best ask price.
    #[serde(rename = "a")]
    pub ask_price: Price,
    /// Best ask quantity.
    #[serde(rename = "A")]
    pub ask_qty: Quantity,
}

/// Aggregated trade (`<s>@aggTrade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AggTrade {
    /// Push time, ms.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Aggregate trade id.
    #[serde(rename = "a")]
    pub agg_id: i64,
    /// Price.
    #[serde(rename = "p")]
    pub price: Price,
    /// Quantity including RPI trades.
    #[serde(rename = "q")]
    pub qty: Quantity,
    /// Quantity excluding RPI trades (since 2025-12-31; absent before).
    #[serde(rename = "nq", default, deserialize_with = "de::opt_decimal")]
    pub non_rpi_qty: Option<Quantity>,
    /// First trade id.
    #[serde(rename = "f", default)]
    pub first_trade_id: TradeId,
    /// Last trade id.
    #[serde(rename = "l", default)]
    pub last_trade_id: TradeId,
    /// Trade time, ms.
    #[serde(rename = "T", default)]
    pub trade_time: i64,
    /// Buyer was the maker (the aggressor sold).
    #[serde(rename = "m", default, deserialize_with = "de::flex_bool")]
    pub buyer_is_maker: bool,
}

/// Mark price and funding (`<s>@markPrice[@1s]`); drives MARK_PRICE triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MarkPrice {
    /// Push time, ms.
    #[serde(rename = "E", default)]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s", deserialize_with = "de::symbol")]
    pub symbol: Symbol,
    /// Mark price.
    #[serde(rename = "p")]
    pub mark_price: Price,
    /// Mark price moving average (2026-03; absent before).
    #[serde(rename = "ap", default, deserialize_with = "de::opt_decimal")]
    pub mark_price_avg: Option<Price>,
    /// Index price.
    #[serde(rename = "i", default, deserialize_with = "de::opt_decimal")]
    pub index_price: Option<Price>,
    /// Estimated settle price.
    #[serde(rename = "P", default, deserialize_with = "de::opt_decimal")]
    pub est_settle_price: Option<Price>,
    /// Funding rate.
    #[serde(rename = "r", default, deserialize_with = "de::opt_decimal")]
    pub funding_rate: Option<Decimal>,
    /// Next funding time, ms.
    #[serde(rename = "T", default)]
    pub next_funding_time: i64,
}

/// One price level `["px","qty"]`; qty 0 deletes the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level {
    /// Price.
    pub price: Price,
    /// Absolute quantity at the price.
    pub qty: Quantity,
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [price, qty] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Level, A::Error> {
                use serde::de::Error;
                let price: Price = s
                    .next_element()?
                    .ok_or_else(|| A::Error::custom("level without price"))?;
                let qty: Quantity = s
                    .next_element()?
                    .ok_or_else(|| A::Error::custom("level without quantity"))?;
                // Tolerate extra members (none today) instead of failing the frame.
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Level { price, qty })
            }
        }
        d.deserialize_seq(V)
    }
}

/// Order-book diff (`<s>@depth…`) or top-N snapshot (`<s>@depth5/10/20…`),
/// both `e:"depthUpdate"`. Apply with the `U ≤ L ≤ u`, `pu == prev u` rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DepthUpdate {
    /// Push time, ms.
    pub event_time: i64,
    /// Matching-engine time, ms.
    pub transaction_time: i64,
    /// Symbol.
    pub symbol: Symbol,
    /// `U`: first update id in this event.
    pub first_update_id: i64,
    /// `u`: final update id in this event.
    pub final_update_id: i64,
    /// `pu`: the previous event's `u`; a mismatch means a gap → resync.
    pub prev_final_update_id: i64,
    /// Bid levels (absolute quantities).
    pub bids: Vec<Level>,
    /// Ask levels (absolute quantities).
    pub asks: Vec<Level>,
}

/// Decodes into an existing `DepthUpdate`, reusing its level vectors.
struct DepthInto<'a>(&'a mut DepthUpdate);

/// Appends levels to an existing vector.
struct LevelsInto<'a>(&'a mut Vec<Level>);

impl<'de> DeserializeSeed<'de> for LevelsInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}
impl<'de> Visitor<'de> for LevelsInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of [price, qty]")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        while let Some(l) = s.next_element::<Level>()? {
            self.0.push(l);
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for DepthInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}
impl<'de> Visitor<'de> for DepthInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a depthUpdate object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let out = self.0;
        out.bids.clear();
        out.asks.clear();
        let (mut has_s, mut has_u) = (false, false);
        while let Some(k) = m.next_key_seed(de::StrMap(DepthKey::of))? {
            match k {
                DepthKey::E => out.event_time = m.next_value()?,
                DepthKey::T => out.transaction_time = m.next_value()?,
                DepthKey::S => {
                    out.symbol = m.next_value_seed(SymbolSeed)?;
                    has_s = true;
                }
                DepthKey::FirstU => out.first_update_id = m.next_value()?,
                DepthKey::U => {
                    out.final_update_id = m.next_value()?;
                    has_u = true;
                }
                DepthKey::Pu => out.prev_final_update_id = m.next_value()?,
                DepthKey::B => m.next_value_seed(LevelsInto(&mut out.bids))?,
                DepthKey::A => m.next_value_seed(LevelsInto(&mut out.asks))?,
                DepthKey::Other => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !has_s {
            return Err(A::Error::missing_field("s"));
        }
        if !has_u {
            return Err(A::Error::missing_field("u"));
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum DepthKey {
    E,
    T,
    S,
    FirstU,
    U,
    Pu,
    B,
    A,
    Other,
}
impl DepthKey {
    fn of(k: &str) -> Self {
        match k.as_bytes() {
            b"E" => DepthKey::E,
            b"T" => DepthKey::T,
            b"s" => DepthKey::S,
            b"U" => DepthKey::FirstU,
            b"u" => DepthKey::U,
            b"pu" => DepthKey::Pu,
            b"b" => DepthKey::B,
            b"a" => DepthKey::A,
            _ => DepthKey::Other,
        }
    }
}

/// A symbol decoded without allocating.
pub(crate) struct SymbolSeed;
impl<'de> DeserializeSeed<'de> for SymbolSeed {
    type Value = Symbol;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Symbol, D::Error> {
        de::symbol(d)
    }
}

impl<'de> Deserialize<'de> for DepthUpdate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = DepthUpdate::default();
        DepthInto(&mut out).deserialize(d)?;
        Ok(out)
    }
}

/// Decodes a depth frame (raw or combined) into `out`, reusing its vectors so
/// a steady book feed allocates nothing. On error `out` holds partial data and
/// must not be applied.
pub fn decode_depth_into(frame: &[u8], out: &mut DepthUpdate) -> Result<(), DecodeError> {
    let (_, data) = split_combined(frame)?;
    // `Deserializer::from_slice` does not check UTF-8 (only `from_slice` the
    // function does); a `&str` input is valid by construction.
    let text = std::str::from_utf8(data).map_err(|e| DecodeError::Syntax {
        what: "DepthUpdate",
        msg: e.to_string(),
    })?;
    let mut d = sonic_rs::Deserializer::from_str(text);
    DepthInto(out)
        .deserialize(&mut d)
        .and_then(|()| d.end())
        .map_err(|e| DecodeError::from_sonic("DepthUpdate", e))
}

/// Reply to a live `SUBSCRIBE`/`UNSUBSCRIBE`/`LIST_SUBSCRIPTIONS`/property
/// request, matched to the request by `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlReply {
    /// Success: `{"result":null,"id":1}`; `result` holds the raw JSON of a
    /// non-null result (subscription list, property value).
    Ok {
        /// Request id (absent only if the venue sent null).
        id: Option<u64>,
        /// Raw JSON of a non-null result.
        result: Option<String>,
    },
    /// Refusal: `{"code":2,"msg":"Invalid request","id":1}` (also accepted in
    /// the nested `{"error":{"code":..,"msg":..},"id":..}` form).
    Err {
        /// Request id, when the venue could read it.
        id: Option<u64>,
        /// Error code (0..3 on market streams).
        code: i64,
        /// Venue message.
        msg: String,
    },
}

#[derive(Deserialize)]
struct RawControl {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    result: Option<sonic_rs::Value>,
    #[serde(default, deserialize_with = "de::opt_flex_i64")]
    code: Option<i64>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    error: Option<RawError>,
}
#[derive(Deserialize)]
struct RawError {
    #[serde(default, deserialize_with = "de::flex_i64")]
    code: i64,
    #[serde(default)]
    msg: String,
}

/// Everything a market-data connection can deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// `bookTicker`.
    BookTicker(BookTicker),
    /// `aggTrade`.
    AggTrade(AggTrade),
    /// `markPriceUpdate`.
    MarkPrice(MarkPrice),
    /// `depthUpdate` (diff or top-N snapshot).
    Depth(DepthUpdate),
    /// Reply to a SUBSCRIBE-style request.
    Control(ControlReply),
    /// A well-formed frame of a type we do not model (kline, ticker, arrays…);
    /// `event_type` is `"e"`, or empty when there is none.
    Unknown {
        /// The `"e"` tag.
        event_type: EventTag,
    },
}

/// A decoded market frame with the stream it came on (combined streams only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketFrame {
    /// Stream name from a combined-stream wrapper.
    pub stream: Option<StreamName>,
    /// The event.
    pub event: MarketEvent,
}

/// Decodes one market-stream text frame, raw or combined.
pub fn decode_market(frame: &[u8]) -> Result<MarketEvent, DecodeError> {
    decode_market_frame(frame).map(|f| f.event)
}

/// Like [`decode_market`], also returning the combined-stream name.
pub fn decode_market_frame(frame: &[u8]) -> Result<MarketFrame, DecodeError> {
    let (stream, data) = split_combined(frame)?;
    let event = match decode::event_type(data)? {
        Some(tag) => match tag.as_str() {
            "bookTicker" => MarketEvent::BookTicker(decode::decode_checked(data)?),
            "aggTrade" => MarketEvent::AggTrade(decode::decode_checked(data)?),
            "markPriceUpdate" => MarketEvent::MarkPrice(decode::decode_checked(data)?),
            "depthUpdate" => MarketEvent::Depth(decode::decode_checked(data)?),
            _ => {
                decode::validate(data)?;
                MarketEvent::Unknown { event_type: tag }
            }
        },
        None => decode_control(data)?,
    };
    Ok(MarketFrame { stream, event })
}

/// A frame without `"e"`: a control reply when it looks like one, else Unknown.
fn decode_control(data: &[u8]) -> Result<MarketEvent, DecodeError> {
    let first = data
        .iter()
        .copied()
        .find(|c| !c.is_ascii_whitespace())
        .unwrap_or(b' ');
    if first != b'{' {
        // `!markPrice@arr` and friends are arrays; well-formed → Unknown.
        decode::validate(data)?;
        return Ok(MarketEvent::Unknown {
            event_type: EventTag::EMPTY,
        });
    }
    let raw: RawControl = decode::decode_checked(data)?;
    if let Some(e) = raw.error {
        return Ok(MarketEvent::Control(ControlReply::Err {
            id: raw.id,
            code: e.code,
            msg: e.msg,
        }));
    }
    if let Some(code) = raw.code {
        return Ok(MarketEvent::Control(ControlReply::Err {
            id: raw.id,
            code,
            msg: raw.msg.unwrap_or_default(),
        }));
    }
    if raw.id.is_some() || raw.result.is_some() {
        let result = raw
            .result
            .filter(|v| !sonic_rs::JsonValueTrait::is_null(v))
            .map(|v| v.to_string());
        return Ok(MarketEvent::Control(ControlReply::Ok {
            id: raw.id,
            result,
        }));
    }
    Ok(MarketEvent::Unknown {
        event_type: EventTag::EMPTY,
    })
}
