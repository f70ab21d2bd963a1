//! Identifiers that live inside preallocated, fixed-size order structs.
//!
//! An `Order` is recycled through a pool on the hot path, so its symbol and
//! client order id cannot be `String`s. [`InlineStr`] stores up to `N` bytes
//! of UTF-8 inline; symbols are opaque UTF-8 (the venue lists `币安人生USDT`),
//! never assumed to match `[A-Z0-9]+`.
//!
//! ```
//! use binance_exec::model::ids::InstrumentId;
//! let id: InstrumentId = "币安人生USDT-PERP.BINANCE".parse().unwrap();
//! assert_eq!(id.symbol.as_str(), "币安人生USDT");
//! assert_eq!(id.to_string(), "币安人生USDT-PERP.BINANCE");
//! ```

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Why an identifier was refused; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Longer than the inline capacity.
    #[error("{what} too long ({len} bytes, max {max}): {text:?}")]
    TooLong {
        /// Kind of identifier.
        what: &'static str,
        /// Offending length.
        len: usize,
        /// Capacity.
        max: usize,
        /// The text.
        text: String,
    },
    /// Empty where a value is required.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// Outside the allowed alphabet or shape.
    #[error("invalid {what}: {text:?} ({why})")]
    Invalid {
        /// Kind of identifier.
        what: &'static str,
        /// The text.
        text: String,
        /// The rule it breaks.
        why: &'static str,
    },
}

/// Up to `N` bytes of UTF-8 stored inline (Copy, no heap).
#[derive(Clone, Copy)]
pub struct InlineStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineStr<N> {
    /// The empty string.
    pub const EMPTY: Self = InlineStr {
        len: 0,
        bytes: [0; N],
    };

    /// Copies `s` inline; `None` when it does not fit.
    #[inline]
    pub fn new(s: &str) -> Option<Self> {
        if s.len() > N || N > u8::MAX as usize {
            return None;
        }
        let mut bytes = [0u8; N];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(InlineStr {
            len: s.len() as u8,
            bytes,
        })
    }

    /// Copies `s` inline, cut at a char boundary when too long (for labels and
    /// unknown enum tags, where a truncated echo beats failing the message).
    pub fn truncated(s: &str) -> Self {
        let mut end = s.len().min(N);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        // Fits by construction.
        Self::new(&s[..end]).unwrap_or(Self::EMPTY)
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len as usize).unwrap_or(&[]);
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: the fields are private and the only constructor, `new`,
        // copies a whole `&str` (`truncated` cuts at a char boundary first),
        // so `bytes[..len]` is always valid UTF-8. Skipping the re-check
        // matters: ids are hashed and compared on every report (measured
        // with scripts/instructions.sh).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Byte length.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for InlineStr<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> PartialEq for InlineStr<N> {
    fn eq(&self, o: &Self) -> bool {
        self.as_str() == o.as_str()
    }
}
impl<const N: usize> Eq for InlineStr<N> {}
impl<const N: usize> Hash for InlineStr<N> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}
impl<const N: usize> PartialOrd for InlineStr<N> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<const N: usize> Ord for InlineStr<N> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(o.as_str())
    }
}
impl<const N: usize> fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl<const N: usize> std::borrow::Borrow<str> for InlineStr<N> {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Longest symbol we store inline, in UTF-8 bytes (`币安人生USDT` is 16).
pub const SYMBOL_CAP: usize = 40;

/// Display, Debug, FromStr and Serialize of the inline-string ids: the
/// same text in and out for each, so they are written once. (Deserialize
/// differs: a venue client id is accepted leniently, a symbol is checked.)
macro_rules! text_id_impls {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({:?})"), self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $t::new(s)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// A venue symbol such as `BTCUSDT` or `币安人生USDT`: opaque UTF-8.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Symbol(InlineStr<SYMBOL_CAP>);

impl Symbol {
    /// Validates length and refuses whitespace/control characters, which no
    /// venue symbol contains and which would break query strings.
    pub fn new(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty("symbol"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(IdError::Invalid {
                what: "symbol",
                text: s.to_string(),
                why: "contains whitespace or control characters",
            });
        }
        InlineStr::new(s)
            .map(Symbol)
            .ok_or_else(|| IdError::TooLong {
                what: "symbol",
                len: s.len(),
                max: SYMBOL_CAP,
                text: s.to_string(),
            })
    }
    /// The symbol text as the venue spells it in REST (upper case).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
    /// The stream-name form (`btcusdt@bookTicker`): ASCII lower-cased, other
    /// characters kept as they are.
    pub fn stream_name(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }
}

text_id_impls!(Symbol);
impl<'de> serde::Deserialize<'de> for Symbol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        Symbol::new(&s).map_err(serde::de::Error::custom)
    }
}

/// The only venue this engine trades.
pub const VENUE: &str = "BINANCE";

/// An instrument as traders name it: `BTCUSDT-PERP.BINANCE` for perpetuals
/// (NautilusTrader's convention, so configs carry over), `BTCUSDT_260327.BINANCE`
/// for delivery contracts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrumentId {
    /// Venue symbol.
    pub symbol: Symbol,
    /// Whether the id carries the `-PERP` suffix.
    pub perpetual: bool,
}

impl InstrumentId {
    /// A perpetual's id from its venue symbol.
    pub fn perp(symbol: Symbol) -> Self {
        InstrumentId {
            symbol,
            perpetual: true,
        }
    }
}

impl FromStr for InstrumentId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = |why| IdError::Invalid {
            what: "instrument id",
            text: s.to_string(),
            why,
        };
        let (head, venue) = s
            .rsplit_once('.')
            .ok_or_else(|| bad("expected SYMBOL-PERP.BINANCE"))?;
        if venue != VENUE {
            return Err(bad("venue must be BINANCE"));
        }
        let (sym, perpetual) = match head.strip_suffix("-PERP") {
            Some(sym) => (sym, true),
            None => (head, false),
        };
        Ok(InstrumentId {
            symbol: Symbol::new(sym)?,
            perpetual,
        })
    }
}

impl fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.perpetual {
            write!(f, "{}-PERP.{VENUE}", self.symbol)
        } else {
            write!(f, "{}.{VENUE}", self.symbol)
        }
    }
}
impl fmt::Debug for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstrumentId({self})")
    }
}
impl serde::Serialize for InstrumentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> serde::Deserialize<'de> for InstrumentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Maximum client order id length the venue accepts.
pub const CLIENT_ID_CAP: usize = 36;

/// A client order id (`newClientOrderId` / `clientAlgoId`).
///
/// Our own ids must match `^[\.A-Z\:/a-z0-9_-]{1,36}$` or the venue answers
/// -4015; ids the venue generates (`autoclose-…`, `adl_autoclose`) and ids of
/// external orders are accepted as received via [`ClientOrderId::from_venue`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClientOrderId(InlineStr<CLIENT_ID_CAP>);

impl ClientOrderId {
    /// Validates against the venue's alphabet and length.
    pub fn new(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty("client order id"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-'))
        {
            return Err(IdError::Invalid {
                what: "client order id",
                text: s.to_string(),
                why: "allowed characters are A-Z a-z 0-9 . : / _ -",
            });
        }
        InlineStr::new(s)
            .map(ClientOrderId)
            .ok_or_else(|| IdError::TooLong {
                what: "client order id",
                len: s.len(),
                max: CLIENT_ID_CAP,
                text: s.to_string(),
            })
    }

    /// Takes an id as the venue sent it, without alphabet checks (the venue is
    /// the authority on ids it generated); over-long ids are truncated.
    pub fn from_venue(s: &str) -> Self {
        ClientOrderId(InlineStr::truncated(s))
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Liquidation order generated by the venue (`autoclose-` prefix).
    pub fn is_liquidation(&self) -> bool {
        self.as_str().starts_with("autoclose-")
    }
    /// Auto-deleveraging order generated by the venue (`adl_autoclose` prefix).
    pub fn is_adl(&self) -> bool {
        self.as_str().starts_with("adl_autoclose")
    }
    /// Delisting/delivery settlement order generated by the venue.
    pub fn is_settlement(&self) -> bool {
        let s = self.as_str();
        s.starts_with("settlement_autoclose-") || s.starts_with("delivery_autoclose-")
    }
    /// Any order the venue created on its own (never ours).
    pub fn is_venue_generated(&self) -> bool {
        self.is_liquidation() || self.is_adl() || self.is_settlement()
    }
}

text_id_impls!(ClientOrderId);
impl<'de> serde::Deserialize<'de> for ClientOrderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        Ok(ClientOrderId::from_venue(&s))
    }
}

/// The venue's order id (`orderId`, int64, increasing per symbol).
pub type VenueOrderId = i64;
/// The venue's algo order id (`algoId`).
pub type AlgoId = i64;
/// The venue's trade id (`t` / `id`), unique per symbol.
pub type TradeId = i64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ids_format_parse_and_serialize_as_their_text() {
        let s: Symbol = "币安人生USDT".parse().unwrap();
        assert_eq!(format!("{s}"), "币安人生USDT");
        assert_eq!(format!("{s:?}"), "Symbol(\"币安人生USDT\")");
        assert_eq!(sonic_rs::to_string(&s).unwrap(), "\"币安人生USDT\"");
        assert!("BTC USDT".parse::<Symbol>().is_err());
        let c: ClientOrderId = "web_1".parse().unwrap();
        assert_eq!(format!("{c:>7}"), "  web_1");
        assert_eq!(format!("{c:?}"), "ClientOrderId(\"web_1\")");
        assert_eq!(sonic_rs::to_string(&c).unwrap(), "\"web_1\"");
        assert!("".parse::<ClientOrderId>().is_err());
    }

    #[test]
    fn instrument_ids() {
        let id: InstrumentId = "BTCUSDT-PERP.BINANCE".parse().unwrap();
        assert_eq!(id.symbol.as_str(), "BTCUSDT");
        assert!(id.perpetual);
        assert_eq!(id.to_string(), "BTCUSDT-PERP.BINANCE");
        let q: InstrumentId = "BTCUSDT_260327.BINANCE".parse().unwrap();
        assert!(!q.perpetual);
        assert_eq!(q.to_string(), "BTCUSDT_260327.BINANCE");
        let cn: InstrumentId = "币安人生USDT-PERP.BINANCE".parse().unwrap();
        assert_eq!(cn.symbol.as_str(), "币安人生USDT");
        assert_eq!(cn.symbol.stream_name(), "币安人生usdt");
        assert!("BTCUSDT-PERP.BYBIT".parse::<InstrumentId>().is_err());
        assert!("BTCUSDT".parse::<InstrumentId>().is_err());
        assert!("-PERP.BINANCE".parse::<InstrumentId>().is_err());
        assert!("BTC USDT-PERP.BINANCE".parse::<InstrumentId>().is_err());
    }

    #[test]
    fn client_ids() {
        assert!(ClientOrderId::new("e1-000042").is_ok());
        assert!(ClientOrderId::new("a.b:c/d_e-F9").is_ok());
        assert!(ClientOrderId::new(&"x".repeat(36)).is_ok());
        assert!(matches!(
            ClientOrderId::new(&"x".repeat(37)),
            Err(IdError::TooLong { .. })
        ));
        assert!(ClientOrderId::new("has space").is_err());
        assert!(ClientOrderId::new("").is_err());
        assert!(ClientOrderId::new("币").is_err());
        assert!(ClientOrderId::from_venue("autoclose-1760000000000").is_liquidation());
        assert!(ClientOrderId::from_venue("adl_autoclose").is_adl());
        assert!(ClientOrderId::from_venue("settlement_autoclose-BTC").is_venue_generated());
        let long = ClientOrderId::from_venue(&"y".repeat(50));
        assert_eq!(long.as_str().len(), 36);
    }

    #[test]
    fn inline_truncation_respects_char_boundaries() {
        let s: InlineStr<5> = InlineStr::truncated("币安人");
        assert_eq!(s.as_str(), "币");
    }
}
