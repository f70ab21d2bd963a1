//! Single-pass scanners for ORDER_TRADE_UPDATE and TRADE_LITE, the fill path.
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

use super::events::{OrderUpdate, TradeLite};
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

/// Scans a complete ORDER_TRADE_UPDATE frame into `u`, which must start as
/// [`OrderUpdate::empty`] (absent keys keep its defaults). Writing in place
/// saves copying the ~450-byte struct through `Option`/`Result`/enum layers.
/// `None` means "use serde"; `u` may then hold partial data.
pub(crate) fn order_update_into(data: &[u8], u: &mut OrderUpdate) -> Option<()> {
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
                body(&mut c, u)?;
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
    (has_o && c.i == data.len()).then_some(())
}

/// Packs a key of up to 3 bytes with its length into one integer, so the
/// member dispatch is a single `match` on a `u32` (a jump table or binary
/// search) instead of a chain of slice comparisons. Longer keys get a length
/// byte ≥ 4 and therefore never equal a known key.
const fn key_code(k: &[u8]) -> u32 {
    let len = if k.len() > 255 { 255 } else { k.len() };
    let mut v = (len as u32) << 24;
    if len > 0 {
        v |= k[0] as u32;
    }
    if len > 1 {
        v |= (k[1] as u32) << 8;
    }
    if len > 2 {
        v |= (k[2] as u32) << 16;
    }
    v
}

const K_S: u32 = key_code(b"s");
const K_C: u32 = key_code(b"c");
const K_US: u32 = key_code(b"S");
const K_O: u32 = key_code(b"o");
const K_F: u32 = key_code(b"f");
const K_Q: u32 = key_code(b"q");
const K_P: u32 = key_code(b"p");
const K_AP: u32 = key_code(b"ap");
const K_SP: u32 = key_code(b"sp");
const K_X: u32 = key_code(b"x");
const K_UX: u32 = key_code(b"X");
const K_I: u32 = key_code(b"i");
const K_UM: u32 = key_code(b"M");
const K_L: u32 = key_code(b"l");
const K_Z: u32 = key_code(b"z");
const K_UL: u32 = key_code(b"L");
const K_UN: u32 = key_code(b"N");
const K_N: u32 = key_code(b"n");
const K_UT: u32 = key_code(b"T");
const K_T: u32 = key_code(b"t");
const K_B: u32 = key_code(b"b");
const K_A: u32 = key_code(b"a");
const K_M: u32 = key_code(b"m");
const K_UR: u32 = key_code(b"R");
const K_WT: u32 = key_code(b"wt");
const K_OT: u32 = key_code(b"ot");
const K_PS: u32 = key_code(b"ps");
const K_CP: u32 = key_code(b"cp");
const K_UAUP: u32 = key_code(b"AP");
const K_CR: u32 = key_code(b"cr");
const K_PUP: u32 = key_code(b"pP");
const K_SI: u32 = key_code(b"si");
const K_SS: u32 = key_code(b"ss");
const K_RP: u32 = key_code(b"rp");
const K_UV: u32 = key_code(b"V");
const K_PM: u32 = key_code(b"pm");
const K_GTD: u32 = key_code(b"gtd");
const K_ER: u32 = key_code(b"er");

fn body(c: &mut Cur<'_>, u: &mut OrderUpdate) -> Option<()> {
    c.eat(b'{')?;
    if c.peek()? == b'}' {
        return None;
    }
    let mut seen = 0u8;
    loop {
        let k = c.key()?;
        match key_code(k) {
            K_S => {
                u.symbol = Symbol::new(c.str()?).ok()?;
                seen |= 1;
            }
            K_C => {
                u.client_order_id = ClientOrderId::from_venue(c.str()?);
                seen |= 2;
            }
            K_US => {
                u.side = Side::from_wire(c.str()?);
                seen |= 4;
            }
            K_O => u.order_type = OrderType::from_wire(c.str()?),
            K_F => u.time_in_force = TimeInForce::from_wire(c.str()?),
            K_Q => u.orig_qty = Quantity(c.dec()?),
            K_P => u.price = Price(c.dec()?),
            K_AP => u.avg_price = Price(c.dec()?),
            K_SP => u.stop_price = Price(c.dec()?),
            K_X => {
                u.execution_type = ExecutionType::from_wire(c.str()?);
                seen |= 8;
            }
            K_UX => {
                u.status = OrderStatus::from_wire(c.str()?);
                seen |= 16;
            }
            K_I => {
                u.order_id = c.int()?;
                seen |= 32;
            }
            K_UM => u.modify_id = c.flex_int()?,
            K_L => u.last_qty = Quantity(c.dec()?),
            K_Z => u.cum_qty = Quantity(c.dec()?),
            K_UL => u.last_price = Price(c.dec()?),
            K_UN => u.commission_asset = c.opt_str(super::decode::Tag::truncated)?,
            K_N => u.commission = c.opt_dec()?.map(Money),
            K_UT => u.trade_time = c.flex_int()?.unwrap_or(0),
            K_T => u.trade_id = c.flex_int()?.unwrap_or(0),
            K_B => u.bid_notional = Money(c.dec()?),
            K_A => u.ask_notional = Money(c.dec()?),
            K_M => u.is_maker = c.flex_bool()?,
            K_UR => u.reduce_only = c.flex_bool()?,
            K_WT => u.working_type = c.opt_str(WorkingType::from_wire)?,
            K_OT => u.orig_type = c.opt_str(OrderType::from_wire)?,
            K_PS => u.position_side = PositionSide::from_wire(c.str()?),
            K_CP => u.close_position = c.flex_bool()?,
            K_UAUP => u.activation_price = c.opt_dec()?.map(Price),
            K_CR => u.callback_rate = c.opt_dec()?,
            K_PUP => u.price_protect = c.flex_bool()?,
            K_SI => u.si = c.flex_int()?.unwrap_or(0),
            K_SS => u.ss = c.flex_int()?.unwrap_or(0),
            K_RP => u.realized_pnl = Money(c.dec()?),
            K_UV => u.stp_mode = c.opt_str(StpMode::from_wire)?,
            K_PM => u.price_match = c.opt_str(PriceMatch::from_wire)?,
            K_GTD => u.good_till_date = c.flex_int()?.unwrap_or(0),
            K_ER => u.expiry_reason = c.flex_int()?,
            _ => {
                // Unknown key with a scalar value; containers go to serde.
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

const K_UE: u32 = key_code(b"E");
const K_E: u32 = key_code(b"e");

/// Scans a complete TRADE_LITE frame — the first notice of a fill, so the
/// one the strategy waits on. Same contract as [`order_update_into`]: `None`
/// means "use serde" (which gives the same value or the precise error). The
/// serde decoder refuses a repeated key, so the scanner does too.
pub(crate) fn trade_lite(data: &[u8]) -> Option<TradeLite> {
    let mut c = Cur { b: data, i: 0 };
    c.eat(b'{')?;
    if c.peek()? == b'}' {
        return None;
    }
    let mut t = TradeLite {
        event_time: 0,
        transaction_time: 0,
        symbol: Symbol::default(),
        orig_qty: Quantity::default(),
        price: Price::default(),
        is_maker: false,
        client_order_id: ClientOrderId::default(),
        side: Side::Buy,
        last_price: Price::default(),
        last_qty: Quantity::default(),
        trade_id: 0,
        order_id: 0,
    };
    // One bit per known key: a repeat goes to serde; bits 0..=6 are the
    // required ones.
    let mut seen = 0u16;
    let mut once = |bit: u16| {
        let first = seen & bit == 0;
        seen |= bit;
        first.then_some(())
    };
    loop {
        let k = c.key()?;
        match key_code(k) {
            K_S => {
                once(1)?;
                t.symbol = Symbol::new(c.str()?).ok()?;
            }
            K_C => {
                once(1 << 1)?;
                t.client_order_id = ClientOrderId::from_venue(c.str()?);
            }
            K_US => {
                once(1 << 2)?;
                t.side = Side::from_wire(c.str()?);
            }
            K_UL => {
                once(1 << 3)?;
                t.last_price = Price(c.dec()?);
            }
            K_L => {
                once(1 << 4)?;
                t.last_qty = Quantity(c.dec()?);
            }
            K_T => {
                once(1 << 5)?;
                t.trade_id = c.int()?;
            }
            K_I => {
                once(1 << 6)?;
                t.order_id = c.int()?;
            }
            K_UE => {
                once(1 << 7)?;
                t.event_time = c.int()?;
            }
            K_UT => {
                once(1 << 8)?;
                t.transaction_time = c.int()?;
            }
            K_Q => {
                once(1 << 9)?;
                t.orig_qty = Quantity(c.dec()?);
            }
            K_P => {
                once(1 << 10)?;
                t.price = Price(c.dec()?);
            }
            K_M => {
                once(1 << 11)?;
                t.is_maker = c.flex_bool()?;
            }
            // `e` is not a field of the struct (serde ignores it, repeats
            // included).
            K_E => c.skip_scalar()?,
            _ => {
                std::str::from_utf8(k).ok()?;
                c.skip_scalar()?;
            }
        }
        if !c.next_member()? {
            break;
        }
    }
    c.ws();
    (seen & 0x7f == 0x7f && c.i == data.len()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LITE: &str = r#"{"e":"TRADE_LITE","E":1760000200010,"T":1760000200009,"s":"ETHUSDT","q":"0.050","p":"2401.00","m":false,"c":"e1-000043","S":"BUY","L":"2400.95","l":"0.020","t":1974335521,"i":8389765550}"#;

    #[test]
    fn trade_lite_takes_the_fast_path_and_refuses_what_serde_must_judge() {
        let t = trade_lite(LITE.as_bytes()).expect("the venue's own frame scans");
        assert_eq!(t.symbol.as_str(), "ETHUSDT");
        assert_eq!(t.side, Side::Buy);
        assert_eq!(t.last_qty.to_string(), "0.02");
        assert_eq!((t.trade_id, t.order_id), (1974335521, 8389765550));
        assert_eq!(t.event_time, 1760000200010);
        // Repeated key, missing required key, container value, trailing
        // bytes: left to serde.
        let dup = LITE.replace("\"t\":1974335521", "\"t\":1,\"t\":2");
        assert!(trade_lite(dup.as_bytes()).is_none());
        let missing = LITE.replace(",\"i\":8389765550", "");
        assert!(trade_lite(missing.as_bytes()).is_none());
        let nested = LITE.replace("\"m\":false", "\"m\":false,\"x\":[1]");
        assert!(trade_lite(nested.as_bytes()).is_none());
        assert!(trade_lite(format!("{LITE}}}").as_bytes()).is_none());
    }
}
