//! Single-pass scanner for ORDER_TRADE_UPDATE, the fill path.
//!
//! Why it exists: going through serde costs a visitor call, a `deserialize_any`
//! dispatch and a re-scan per value — about 80 of them per event — which keeps
//! the typed decode well above the 600 ns budget. The venue's frames are flat
//! and regular (short ASCII keys, strings without escapes, integers), so this
//! scanner reads them directly into an [`OrderUpdate`].
//!
//! It is deliberately conservative: anything it does not fully understand — an
//! escape, a fractional number, a nested unknown value, truncation, invalid
//! UTF-8, a bad decimal — makes it return `None`, and the caller falls back to
//! the serde decoder, which produces either the same value or the precise
//! error. A `Some` is only returned for a complete, valid JSON object, so the
//! two paths agree on every input (checked by a differential test).

use super::events::OrderUpdate;
use crate::model::decimal::{Decimal, Money, Price, Quantity};
use crate::model::enums::*;
use crate::model::ids::{ClientOrderId, Symbol};

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.i += 1;
        }
    }
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }
    #[inline(always)]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    /// Raw bytes of a string without escapes or control characters.
    #[inline(always)]
    fn raw_str(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.b.get(start..)?;
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.i = start + len + 1;
        rest.get(..len)
    }
    /// A string value as UTF-8.
    #[inline(always)]
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_str()?).ok()
    }
    /// A strict JSON integer (no fraction/exponent), overflow-checked.
    #[inline(always)]
    fn int(&mut self) -> Option<i64> {
        self.ws();
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            if !c.is_ascii_digit() {
                break;
            }
            v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            self.i += 1;
        }
        let n = self.i - start;
        // JSON: no leading zeros, at least one digit, no fraction/exponent.
        if n == 0 || (n > 1 && self.b.get(start) == Some(&b'0')) {
            return None;
        }
        if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        // sonic-rs reads `-0` as a float; leave it to serde so both paths agree.
        if neg && v == 0 {
            return None;
        }
        Some(if neg { -v } else { v })
    }
    #[inline(always)]
    fn lit(&mut self, word: &[u8]) -> Option<()> {
        self.ws();
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }
    /// `true`/`false`/`null` or the strings `"true"`/`"false"`/`""`.
    #[inline(always)]
    fn flex_bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.lit(b"true").map(|_| true),
            b'f' => self.lit(b"false").map(|_| false),
            b'n' => self.lit(b"null").map(|_| false),
            b'"' => {
                let s = self.str()?;
                if s.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if s.eq_ignore_ascii_case("false") || s.is_empty() {
                    Some(false)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
    /// Integer as a number, numeric string, `""`/`null` (→ `None`).
    #[inline(always)]
    fn flex_int(&mut self) -> Option<Option<i64>> {
        match self.peek()? {
            b'"' => {
                let s = self.str()?;
                if s.is_empty() {
                    Some(None)
                } else {
                    s.parse::<i64>().ok().map(Some)
                }
            }
            b'n' => self.lit(b"null").map(|_| None),
            _ => self.int().map(Some),
        }
    }
    /// A decimal sent as a string (`""` is zero, like `Decimal`'s serde).
    #[inline(always)]
    fn dec(&mut self) -> Option<Decimal> {
        let raw = self.raw_str()?;
        if raw.is_empty() {
            return Some(Decimal::ZERO);
        }
        Decimal::parse_bytes(raw).ok()
    }
    /// Optional decimal: string or `null`; `""` is absent.
    #[inline(always)]
    fn opt_dec(&mut self) -> Option<Option<Decimal>> {
        if self.peek()? == b'n' {
            return self.lit(b"null").map(|_| None);
        }
        let raw = self.raw_str()?;
        if raw.is_empty() {
            return Some(None);
        }
        Decimal::parse_bytes(raw).ok().map(Some)
    }
    /// Optional string (`null`/`""` absent) mapped through `f`.
    #[inline(always)]
    fn opt_str<T>(&mut self, f: impl FnOnce(&str) -> T) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.lit(b"null").map(|_| None);
        }
        let s = self.str()?;
        Some((!s.is_empty()).then(|| f(s)))
    }
    /// Skips a scalar of an unknown key; containers are left to serde.
    #[inline]
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.str().map(|_| ()),
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            b'-' | b'0'..=b'9' => self.int().map(|_| ()),
            _ => None,
        }
    }
    /// Reads `"key":` and returns the key bytes; `None` at `}` handled by caller.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a [u8]> {
        let k = self.raw_str()?;
        self.eat(b':')?;
        Some(k)
    }
    /// After a member: `,` → more members, `}` → end of object.
    #[inline(always)]
    fn next_member(&mut self) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            b'}' => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }
}

/// Scans a complete ORDER_TRADE_UPDATE frame; `None` means "use serde".
pub(crate) fn order_update(data: &[u8]) -> Option<OrderUpdate> {
    let mut u = OrderUpdate::empty();
    let mut c = Cur { b: data, i: 0 };
    c.eat(b'{')?;
    let mut has_o = false;
    if c.peek()? == b'}' {
        return None;
    }
    loop {
        match c.key()? {
            b"E" => u.event_time = c.flex_int()?.unwrap_or(0),
            b"T" => u.transaction_time = c.flex_int()?.unwrap_or(0),
            b"o" => {
                body(&mut c, &mut u)?;
                has_o = true;
            }
            k => {
                std::str::from_utf8(k).ok()?;
                c.skip_scalar()?;
            }
        }
        if !c.next_member()? {
            break;
        }
    }
    c.ws();
    if !has_o || c.i != data.len() {
        return None;
    }
    Some(u)
}

fn body(c: &mut Cur<'_>, u: &mut OrderUpdate) -> Option<()> {
    c.eat(b'{')?;
    if c.peek()? == b'}' {
        return None;
    }
    let mut seen = 0u8;
    loop {
        match c.key()? {
            b"s" => {
                u.symbol = Symbol::new(c.str()?).ok()?;
                seen |= 1;
            }
            b"c" => {
                u.client_order_id = ClientOrderId::from_venue(c.str()?);
                seen |= 2;
            }
            b"S" => {
                u.side = Side::from_wire(c.str()?);
                seen |= 4;
            }
            b"o" => u.order_type = OrderType::from_wire(c.str()?),
            b"f" => u.time_in_force = TimeInForce::from_wire(c.str()?),
            b"q" => u.orig_qty = Quantity(c.dec()?),
            b"p" => u.price = Price(c.dec()?),
            b"ap" => u.avg_price = Price(c.dec()?),
            b"sp" => u.stop_price = Price(c.dec()?),
            b"x" => {
                u.execution_type = ExecutionType::from_wire(c.str()?);
                seen |= 8;
            }
            b"X" => {
                u.status = OrderStatus::from_wire(c.str()?);
                seen |= 16;
            }
            b"i" => {
                u.order_id = c.int()?;
                seen |= 32;
            }
            b"M" => u.modify_id = c.flex_int()?,
            b"l" => u.last_qty = Quantity(c.dec()?),
            b"z" => u.cum_qty = Quantity(c.dec()?),
            b"L" => u.last_price = Price(c.dec()?),
            b"N" => u.commission_asset = c.opt_str(super::decode::Tag::truncated)?,
            b"n" => u.commission = c.opt_dec()?.map(Money),
            b"T" => u.trade_time = c.flex_int()?.unwrap_or(0),
            b"t" => u.trade_id = c.flex_int()?.unwrap_or(0),
            b"b" => u.bid_notional = Money(c.dec()?),
            b"a" => u.ask_notional = Money(c.dec()?),
            b"m" => u.is_maker = c.flex_bool()?,
            b"R" => u.reduce_only = c.flex_bool()?,
            b"wt" => u.working_type = c.opt_str(WorkingType::from_wire)?,
            b"ot" => u.orig_type = c.opt_str(OrderType::from_wire)?,
            b"ps" => u.position_side = PositionSide::from_wire(c.str()?),
            b"cp" => u.close_position = c.flex_bool()?,
            b"AP" => u.activation_price = c.opt_dec()?.map(Price),
            b"cr" => u.callback_rate = c.opt_dec()?,
            b"pP" => u.price_protect = c.flex_bool()?,
            b"si" => u.si = c.flex_int()?.unwrap_or(0),
            b"ss" => u.ss = c.flex_int()?.unwrap_or(0),
            b"rp" => u.realized_pnl = Money(c.dec()?),
            b"V" => u.stp_mode = c.opt_str(StpMode::from_wire)?,
            b"pm" => u.price_match = c.opt_str(PriceMatch::from_wire)?,
            b"gtd" => u.good_till_date = c.flex_int()?.unwrap_or(0),
            b"er" => u.expiry_reason = c.flex_int()?,
            k => {
                std::str::from_utf8(k).ok()?;
                c.skip_scalar()?;
            }
        }
        if !c.next_member()? {
            break;
        }
    }
    (seen == 63).then_some(())
}
