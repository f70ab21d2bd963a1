//! Exact decimals for venue prices, quantities and money.
//!
//! Binance sends every price and quantity as a decimal string with at most eight
//! fractional digits, and its filters (`tickSize`, `stepSize`) are decimal too.
//! A binary float (or binary fixed-point such as the `fixed` crate) cannot hold
//! `0.1` exactly, so ten ticks of `0.1` would not sum to `1` and an order price
//! could drift off the tick grid and be rejected with -1111/-4014. `Decimal`
//! therefore stores an `i64` mantissa at a fixed scale of 10^-8: parsing,
//! formatting and grid rounding are exact, and overflow is an error, never a wrap.
//!
//! ```
//! use binance_exec::model::decimal::{Decimal, Rounding};
//! let tick = Decimal::parse("0.1").unwrap();
//! let mut sum = Decimal::ZERO;
//! for _ in 0..10 { sum = sum.checked_add(tick).unwrap(); }
//! assert_eq!(sum, Decimal::ONE);
//! let px = Decimal::parse("60000.17").unwrap();
//! assert_eq!(px.round_to_step(tick, Rounding::Floor).unwrap().to_string(), "60000.1");
//! ```

use std::fmt;
use std::str::FromStr;

/// Number of fractional digits every [`Decimal`] carries (Binance's maximum).
pub const SCALE: u32 = 8;
const UNIT: i64 = 100_000_000;

/// Why a decimal could not be built: kept precise so a bad venue field is
/// reported with its cause instead of being silently mangled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text was empty or only a sign.
    #[error("empty decimal")]
    Empty,
    /// A byte that is not a digit, sign or single decimal point.
    #[error("invalid character in decimal at byte {0}")]
    InvalidChar(usize),
    /// More than eight non-zero fractional digits.
    #[error("more than 8 fractional digits")]
    TooPrecise,
    /// The value does not fit the i64 mantissa at scale 10^-8.
    #[error("decimal overflow")]
    Overflow,
    /// Division by zero, or a zero/negative grid step.
    #[error("division by zero or non-positive step")]
    BadDivisor,
}

/// How to move a value that is not on a grid onto it. Buy prices usually round
/// down (`Floor`), sell prices up (`Ceil`), quantities toward zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceil,
    /// Toward zero (truncate).
    TowardZero,
    /// To the nearest grid point, ties to even.
    HalfEven,
}

/// An exact decimal with eight fractional digits (see the module docs for why).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal(i64);

impl Decimal {
    /// 0.
    pub const ZERO: Decimal = Decimal(0);
    /// 1.
    pub const ONE: Decimal = Decimal(UNIT);
    /// Largest representable value (about 9.2e10).
    pub const MAX: Decimal = Decimal(i64::MAX);
    /// Smallest representable value.
    pub const MIN: Decimal = Decimal(i64::MIN + 1);
    /// One unit in the last place (1e-8).
    pub const EPSILON: Decimal = Decimal(1);

    /// Builds from the raw mantissa (value × 10^8); for storage and hashing.
    pub const fn from_raw(raw: i64) -> Self {
        Decimal(raw)
    }

    /// The raw mantissa (value × 10^8).
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// An integer value, failing on overflow.
    pub fn from_int(v: i64) -> Result<Self, DecimalError> {
        v.checked_mul(UNIT)
            .map(Decimal)
            .ok_or(DecimalError::Overflow)
    }

    /// Parses the venue's decimal text (`"-0.00100000"`, `"60000"`, `"1."`, `".5"`)
    /// without floats. Trailing zeros past eight digits are accepted; a
    /// non-zero ninth digit is [`DecimalError::TooPrecise`].
    #[inline]
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        Self::parse_bytes(s.as_bytes())
    }

    /// [`Decimal::parse`] over raw bytes, for decoders that hold a byte slice.
    #[inline]
    pub fn parse_bytes(b: &[u8]) -> Result<Self, DecimalError> {
        let (neg, digits) = match b.first() {
            None => return Err(DecimalError::Empty),
            Some(b'-') => (true, &b[1..]),
            Some(b'+') => (false, &b[1..]),
            Some(_) => (false, b),
        };
        let offset = b.len() - digits.len();
        if digits.is_empty() {
            return Err(DecimalError::Empty);
        }
        // Accumulate as a negative number so i64::MIN's magnitude is not needed
        // and overflow is detected exactly.
        let mut int_part: i64 = 0;
        let mut i = 0;
        let mut seen_digit = false;
        while i < digits.len() {
            let c = digits[i];
            if c.is_ascii_digit() {
                seen_digit = true;
                int_part = int_part
                    .checked_mul(10)
                    .and_then(|v| v.checked_add((c - b'0') as i64))
                    .ok_or(DecimalError::Overflow)?;
                i += 1;
            } else if c == b'.' {
                break;
            } else {
                return Err(DecimalError::InvalidChar(offset + i));
            }
        }
        let mut frac: i64 = 0;
        let mut frac_digits = 0u32;
        if i < digits.len() {
            // digits[i] == '.'
            i += 1;
            while i < digits.len() {
                let c = digits[i];
                if !c.is_ascii_digit() {
                    return Err(DecimalError::InvalidChar(offset + i));
                }
                seen_digit = true;
                if frac_digits < SCALE {
                    frac = frac * 10 + (c - b'0') as i64;
                    frac_digits += 1;
                } else if c != b'0' {
                    return Err(DecimalError::TooPrecise);
                }
                i += 1;
            }
        }
        if !seen_digit {
            return Err(DecimalError::Empty);
        }
        frac *= POW10[(SCALE - frac_digits) as usize];
        let mag = int_part
            .checked_mul(UNIT)
            .and_then(|v| v.checked_add(frac))
            .ok_or(DecimalError::Overflow)?;
        Ok(Decimal(if neg { -mag } else { mag }))
    }

    /// True for zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// True when strictly positive.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
    /// True when strictly negative.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
    /// Absolute value (saturating only at the unreachable i64::MIN).
    pub const fn abs(self) -> Self {
        Decimal(self.0.saturating_abs())
    }
    /// Negation.
    pub const fn neg(self) -> Self {
        Decimal(-self.0)
    }

    /// Exact addition; `None` on overflow.
    #[inline]
    pub fn checked_add(self, o: Decimal) -> Option<Decimal> {
        self.0.checked_add(o.0).map(Decimal)
    }
    /// Exact subtraction; `None` on overflow.
    #[inline]
    pub fn checked_sub(self, o: Decimal) -> Option<Decimal> {
        self.0.checked_sub(o.0).map(Decimal)
    }
    /// Product rounded back to eight digits with `mode`; `None` on overflow.
    /// Used for notional (price × quantity) and fee computations.
    #[inline]
    pub fn checked_mul(self, o: Decimal, mode: Rounding) -> Option<Decimal> {
        let p = self.0 as i128 * o.0 as i128;
        let q = div_round(p, UNIT as i128, mode)?;
        i64::try_from(q).ok().map(Decimal)
    }
    /// Quotient rounded to eight digits with `mode`; `None` on overflow or /0.
    #[inline]
    pub fn checked_div(self, o: Decimal, mode: Rounding) -> Option<Decimal> {
        if o.0 == 0 {
            return None;
        }
        let n = self.0 as i128 * UNIT as i128;
        let q = div_round(n, o.0 as i128, mode)?;
        i64::try_from(q).ok().map(Decimal)
    }

    /// Whether the value lies on the grid `k × step` (step > 0).
    #[inline]
    pub fn is_multiple_of(self, step: Decimal) -> bool {
        step.0 > 0 && self.0 % step.0 == 0
    }

    /// Moves the value onto the grid `k × step` (Binance's tick/step rule with
    /// `minPrice` 0); see [`Decimal::round_to_grid`] for a non-zero origin.
    #[inline]
    pub fn round_to_step(self, step: Decimal, mode: Rounding) -> Result<Decimal, DecimalError> {
        self.round_to_grid(Decimal::ZERO, step, mode)
    }

    /// Moves the value onto the grid `origin + k × step`, which is how Binance
    /// defines valid prices: `(price - minPrice) % tickSize == 0`.
    pub fn round_to_grid(
        self,
        origin: Decimal,
        step: Decimal,
        mode: Rounding,
    ) -> Result<Decimal, DecimalError> {
        if step.0 <= 0 {
            return Err(DecimalError::BadDivisor);
        }
        let rel = self.0 as i128 - origin.0 as i128;
        let k = div_round(rel, step.0 as i128, mode).ok_or(DecimalError::Overflow)?;
        let v = origin.0 as i128 + k * step.0 as i128;
        i64::try_from(v)
            .map(Decimal)
            .map_err(|_| DecimalError::Overflow)
    }

    /// Number of significant fractional digits (0..=8): `0.0010` has 3. Used to
    /// derive a grid's precision from `tickSize`.
    pub fn scale(self) -> u32 {
        let mut f = self.0 % UNIT;
        if f == 0 {
            return 0;
        }
        let mut s = SCALE;
        while f % 10 == 0 {
            f /= 10;
            s -= 1;
        }
        s
    }

    /// Writes the shortest exact text (no trailing zeros, no exponent) into
    /// `buf` and returns it; allocation-free for request building.
    #[inline]
    pub fn format_into(self, buf: &mut [u8; 24]) -> &str {
        self.format_fixed_into(buf, None)
    }

    /// Writes the value with exactly `decimals` fractional digits (0..=8),
    /// padding with zeros; the value must already be on that grid, extra
    /// digits are truncated. `None` means shortest form.
    pub fn format_fixed_into(self, buf: &mut [u8; 24], decimals: Option<u32>) -> &str {
        let neg = self.0 < 0;
        let mag = self.0.unsigned_abs();
        let mut int = mag / UNIT as u64;
        let frac = mag % UNIT as u64;
        // Build right to left.
        let mut pos = buf.len();
        let keep = match decimals {
            Some(d) => d.min(SCALE),
            None => {
                if frac == 0 {
                    0
                } else {
                    let mut f = frac;
                    let mut s = SCALE;
                    while f.is_multiple_of(10) {
                        f /= 10;
                        s -= 1;
                    }
                    s
                }
            }
        };
        if keep > 0 {
            let mut f = frac / POW10[(SCALE - keep) as usize] as u64;
            for _ in 0..keep {
                pos -= 1;
                buf[pos] = b'0' + (f % 10) as u8;
                f /= 10;
            }
            pos -= 1;
            buf[pos] = b'.';
        }
        loop {
            pos -= 1;
            buf[pos] = b'0' + (int % 10) as u8;
            int /= 10;
            if int == 0 {
                break;
            }
        }
        let shown_nonzero = buf[pos..].iter().any(|&c| (b'1'..=b'9').contains(&c));
        if neg && shown_nonzero {
            pos -= 1;
            buf[pos] = b'-';
        }
        // Only ASCII digits, '.', '-' were written.
        std::str::from_utf8(&buf[pos..]).unwrap_or("0")
    }

    /// Lossy conversion for display and statistics only; never for venue I/O.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / UNIT as f64
    }
}

const POW10: [i64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

fn div_round(n: i128, d: i128, mode: Rounding) -> Option<i128> {
    if d == 0 {
        return None;
    }
    let q = n / d;
    let r = n % d;
    if r == 0 {
        return Some(q);
    }
    // Sign of the exact quotient.
    let positive = (n < 0) == (d < 0);
    Some(match mode {
        Rounding::TowardZero => q,
        Rounding::Floor => {
            if positive {
                q
            } else {
                q - 1
            }
        }
        Rounding::Ceil => {
            if positive {
                q + 1
            } else {
                q
            }
        }
        Rounding::HalfEven => {
            let twice = r.unsigned_abs() * 2;
            let dabs = d.unsigned_abs();
            let away = twice > dabs || (twice == dabs && q % 2 != 0);
            if away {
                if positive { q + 1 } else { q - 1 }
            } else {
                q
            }
        }
    })
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        f.pad(self.format_into(&mut buf))
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        s.serialize_str(self.format_into(&mut buf))
    }
}

struct DecimalVisitor;

impl serde::de::Visitor<'_> for DecimalVisitor {
    type Value = Decimal;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string or integer")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
        // The venue sends "" for absent decimals in a few places (e.g. algo
        // `activatePrice`); treat it as zero rather than failing the message.
        if v.is_empty() {
            return Ok(Decimal::ZERO);
        }
        Decimal::parse(v).map_err(|e| E::custom(format_args!("{e}: {v:?}")))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
        Decimal::from_int(v).map_err(E::custom)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
        i64::try_from(v)
            .map_err(|_| E::custom(DecimalError::Overflow))
            .and_then(|v| Decimal::from_int(v).map_err(E::custom))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
        // Numbers with a fraction are rare on this venue (WS-API callbackRate);
        // Rust's shortest round-trip formatting recovers the literal as written.
        if !v.is_finite() {
            return Err(E::custom("non-finite decimal"));
        }
        let s = format!("{v}");
        Decimal::parse(&s).map_err(|e| E::custom(format_args!("{e}: {s}")))
    }
}

impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// Declares a typed wrapper over [`Decimal`] so a price cannot be passed where
/// a quantity is expected; all share the exact arithmetic of `Decimal`.
macro_rules! decimal_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Decimal);

        impl $name {
            /// Zero.
            pub const ZERO: $name = $name(Decimal::ZERO);
            /// Parses venue text exactly (see [`Decimal::parse`]).
            #[inline]
            pub fn parse(s: &str) -> Result<Self, DecimalError> {
                Decimal::parse(s).map($name)
            }
            /// The underlying decimal.
            #[inline]
            pub const fn value(self) -> Decimal {
                self.0
            }
            /// Raw mantissa (value × 10^8).
            #[inline]
            pub const fn raw(self) -> i64 {
                self.0.raw()
            }
            /// From a raw mantissa.
            #[inline]
            pub const fn from_raw(raw: i64) -> Self {
                $name(Decimal::from_raw(raw))
            }
            /// True for zero.
            #[inline]
            pub const fn is_zero(self) -> bool {
                self.0.is_zero()
            }
            /// Writes the shortest exact text into `buf`.
            #[inline]
            pub fn format_into(self, buf: &mut [u8; 24]) -> &str {
                self.0.format_into(buf)
            }
        }

        impl From<Decimal> for $name {
            fn from(d: Decimal) -> Self {
                $name(d)
            }
        }

        impl From<$name> for Decimal {
            fn from(v: $name) -> Decimal {
                v.0
            }
        }

        impl FromStr for $name {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

decimal_newtype!(
    /// A price on an instrument's tick grid (quote currency per contract).
    Price
);
decimal_newtype!(
    /// An order or position quantity on an instrument's step grid (contracts).
    Quantity
);
decimal_newtype!(
    /// An amount of money: balances, commissions, realized PnL, notional.
    Money
);

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_and_formats_exactly() {
        for (inp, out) in [
            ("0", "0"),
            ("0.00000000", "0"),
            ("-0.001", "-0.001"),
            ("60000.10", "60000.1"),
            ("2400.95", "2400.95"),
            ("0.00000001", "0.00000001"),
            ("1.", "1"),
            (".5", "0.5"),
            ("+3", "3"),
            ("0.1234567800", "0.12345678"),
            ("92233720368.54775807", "92233720368.54775807"),
        ] {
            assert_eq!(d(inp).to_string(), out, "{inp}");
        }
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(Decimal::parse(""), Err(DecimalError::Empty));
        assert_eq!(Decimal::parse("-"), Err(DecimalError::Empty));
        assert_eq!(Decimal::parse("."), Err(DecimalError::Empty));
        assert_eq!(Decimal::parse("1.2.3"), Err(DecimalError::InvalidChar(3)));
        assert_eq!(Decimal::parse("1e5"), Err(DecimalError::InvalidChar(1)));
        assert_eq!(Decimal::parse("0.000000001"), Err(DecimalError::TooPrecise));
        assert_eq!(
            Decimal::parse("92233720368.54775808"),
            Err(DecimalError::Overflow)
        );
        assert_eq!(
            Decimal::parse("99999999999999999999"),
            Err(DecimalError::Overflow)
        );
    }

    #[test]
    fn ten_tenths_make_one() {
        let t = d("0.1");
        let mut s = Decimal::ZERO;
        for _ in 0..10 {
            s = s.checked_add(t).unwrap();
        }
        assert_eq!(s, Decimal::ONE);
    }

    #[test]
    fn grid_rounding() {
        let tick = d("0.10");
        assert_eq!(
            d("1.25").round_to_step(tick, Rounding::Floor).unwrap(),
            d("1.2")
        );
        assert_eq!(
            d("1.25").round_to_step(tick, Rounding::Ceil).unwrap(),
            d("1.3")
        );
        assert_eq!(
            d("1.25").round_to_step(tick, Rounding::HalfEven).unwrap(),
            d("1.2")
        );
        assert_eq!(
            d("1.35").round_to_step(tick, Rounding::HalfEven).unwrap(),
            d("1.4")
        );
        assert_eq!(
            d("-1.25").round_to_step(tick, Rounding::Floor).unwrap(),
            d("-1.3")
        );
        assert_eq!(
            d("-1.25")
                .round_to_step(tick, Rounding::TowardZero)
                .unwrap(),
            d("-1.2")
        );
        assert_eq!(
            d("100.07")
                .round_to_grid(d("0.05"), d("0.1"), Rounding::Floor)
                .unwrap(),
            d("100.05")
        );
        assert!(d("1.2").is_multiple_of(tick));
        assert!(!d("1.25").is_multiple_of(tick));
        assert_eq!(
            d("1").round_to_step(Decimal::ZERO, Rounding::Floor),
            Err(DecimalError::BadDivisor)
        );
        assert_eq!(d("0.0010").scale(), 3);
        assert_eq!(d("5").scale(), 0);
    }

    #[test]
    fn mul_and_div() {
        assert_eq!(
            d("2400.95")
                .checked_mul(d("0.020"), Rounding::HalfEven)
                .unwrap(),
            d("48.019")
        );
        assert_eq!(
            d("1").checked_div(d("3"), Rounding::Floor).unwrap(),
            d("0.33333333")
        );
        assert_eq!(
            d("1").checked_div(d("3"), Rounding::Ceil).unwrap(),
            d("0.33333334")
        );
        assert!(d("1").checked_div(Decimal::ZERO, Rounding::Floor).is_none());
        assert!(Decimal::MAX.checked_mul(d("2"), Rounding::Floor).is_none());
        assert!(Decimal::MAX.checked_add(Decimal::EPSILON).is_none());
    }

    #[test]
    fn fixed_format() {
        let mut b = [0u8; 24];
        assert_eq!(d("2400.1").format_fixed_into(&mut b, Some(2)), "2400.10");
        assert_eq!(d("3").format_fixed_into(&mut b, Some(3)), "3.000");
        assert_eq!(d("-0.5").format_fixed_into(&mut b, Some(0)), "0");
        assert_eq!(d("-1.5").format_fixed_into(&mut b, Some(0)), "-1");
    }

    #[test]
    fn serde_round_trip() {
        let p: Price = sonic_rs::from_str("\"2400.10\"").unwrap();
        assert_eq!(p, Price::parse("2400.1").unwrap());
        assert_eq!(sonic_rs::to_string(&p).unwrap(), "\"2400.1\"");
        let q: Quantity = sonic_rs::from_str("5").unwrap();
        assert_eq!(q.to_string(), "5");
        let r: Decimal = sonic_rs::from_str("0.1").unwrap();
        assert_eq!(r, d("0.1"));
        let e: Decimal = sonic_rs::from_str("\"\"").unwrap();
        assert!(e.is_zero());
        assert!(sonic_rs::from_str::<Decimal>("\"abc\"").is_err());
    }
}
