//! Shared decoding machinery for everything the venue sends us.
//!
//! Every decoder in [`rest`](super::rest), [`events`](super::events) and
//! [`market`](super::market) goes through here so that failures look the same
//! to the engine ([`DecodeError`]) and so that the few tricks that make the hot
//! path fast live in one place:
//! - field helpers ([`de`]) read strings through a visitor instead of
//!   deserialising a `Cow<str>` (serde's `Cow` impl always allocates);
//! - [`split_combined`] unwraps `{"stream":..,"data":{..}}` without copying;
//! - [`event_type`] reads `"e"` from the first bytes of a frame and only falls
//!   back to a lazy lookup when the venue put another key first.
//!
//! Nothing here panics on venue input: all slicing goes through `get`.

use crate::model::ids::InlineStr;
use serde::de::DeserializeOwned;
use std::fmt;

/// Why a venue message could not be turned into a typed value. Keeps the
/// parser's message (with the byte offset) so a bad frame can be diagnosed
/// from the log without the frame itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the JSON value did (a cut frame or body).
    #[error("truncated {what}: {msg}")]
    Truncated {
        /// The type being decoded.
        what: &'static str,
        /// Parser message with position.
        msg: String,
    },
    /// The bytes are not valid JSON.
    #[error("malformed JSON for {what}: {msg}")]
    Syntax {
        /// The type being decoded.
        what: &'static str,
        /// Parser message with position.
        msg: String,
    },
    /// Valid JSON of the wrong shape: missing field, wrong type, bad decimal.
    #[error("unexpected content for {what}: {msg}")]
    Data {
        /// The type being decoded.
        what: &'static str,
        /// Parser message with position.
        msg: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`]: refused before parsing, because the
    /// parser skips unknown values recursively and would overflow the stack.
    #[error("JSON nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A combined-stream wrapper without a `data` member.
    #[error("combined-stream wrapper has no \"data\": {0}")]
    NoData(String),
}

impl DecodeError {
    /// Builds the variant matching the parser's own classification.
    pub fn from_sonic(what: &'static str, e: sonic_rs::Error) -> Self {
        let msg = e.to_string();
        match e.classify() {
            sonic_rs::error::Category::Eof => DecodeError::Truncated { what, msg },
            sonic_rs::error::Category::Syntax => DecodeError::Syntax { what, msg },
            _ => DecodeError::Data { what, msg },
        }
    }
    /// True when more bytes might have made the input decodable.
    pub fn is_truncated(&self) -> bool {
        matches!(self, DecodeError::Truncated { .. })
    }
}

/// Deepest nesting we accept; venue messages use at most 4 levels.
pub const MAX_DEPTH: usize = 64;

/// Refuses absurdly nested input. Fast path: count every `{`/`[` byte (a
/// vectorised loop, ~tens of ns on a 600-byte frame); only when that upper
/// bound reaches the limit do we track real, string-aware depth.
#[inline]
pub fn check_depth(b: &[u8]) -> Result<(), DecodeError> {
    // `[` (0x5B) and `{` (0x7B) differ only in bit 5: one compare per byte.
    let openers = b.iter().filter(|&&c| c | 0x20 == b'{').count();
    if openers < MAX_DEPTH {
        return Ok(());
    }
    let (mut depth, mut strings) = (0usize, StringState::default());
    for &c in b {
        if strings.inside(c) {
            continue;
        }
        match c {
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Where a byte scan is relative to JSON strings, so brackets inside a
/// string (`"a{b"`, `"x\\"]"`) are never counted as structure.
#[derive(Default)]
struct StringState {
    in_str: bool,
    esc: bool,
}

impl StringState {
    /// Feeds one byte; true when it belongs to a string (its quotes
    /// included), i.e. it is not structure.
    fn inside(&mut self, c: u8) -> bool {
        if self.in_str {
            if self.esc {
                self.esc = false;
            } else if c == b'\\' {
                self.esc = true;
            } else if c == b'"' {
                self.in_str = false;
            }
            return true;
        }
        if c == b'"' {
            self.in_str = true;
            return true;
        }
        false
    }
}

/// Short type name for error messages (`OrderResponse`, not the full path).
fn short_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    // Keep generic arguments readable: cut the path before the first '<'.
    let head = full.split('<').next().unwrap_or(full);
    match head.rfind("::") {
        Some(i) => full.get(i + 2..).unwrap_or(full),
        None => full,
    }
}

/// Decodes any venue JSON body into `T`; the single entry point for REST
/// bodies so every caller gets the same typed error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    check_depth(bytes)?;
    sonic_rs::from_slice::<T>(bytes).map_err(|e| DecodeError::from_sonic(short_name::<T>(), e))
}

/// Checks that `bytes` is one complete, well-formed JSON value. Used before
/// reporting an event we do not model as `Unknown`, so that a cut frame is an
/// error rather than a silently accepted unknown.
pub fn validate(bytes: &[u8]) -> Result<(), DecodeError> {
    check_depth(bytes)?;
    sonic_rs::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| DecodeError::from_sonic("JSON value", e))
}

/// Position of the first non-whitespace byte at or after `i`.
#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// If the object starting at `b` opens with key `key`, the index just past
/// `"key"` and the following `:`; the cheap test for the usual key order.
#[inline]
fn first_key_is(b: &[u8], key: &[u8]) -> Option<usize> {
    let i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let i = skip_ws(b, i + 1);
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let end = i + 1 + key.len();
    if b.get(i + 1..end) != Some(key) || b.get(end) != Some(&b'"') {
        return None;
    }
    let j = skip_ws(b, end + 1);
    if b.get(j) != Some(&b':') {
        return None;
    }
    Some(j + 1)
}

/// Unwraps a combined-stream frame `{"stream":"<name>","data":{..}}` and
/// returns the stream name (when first) and the `data` bytes; a raw frame is
/// returned unchanged with no name. The wrapper is fully validated so a cut
/// frame is an error even when `data` itself is complete.
pub fn split_combined(frame: &[u8]) -> Result<(Option<StreamName>, &[u8]), DecodeError> {
    let wrapped =
        first_key_is(frame, b"stream").is_some() || first_key_is(frame, b"data").is_some();
    if !wrapped {
        return Ok((None, frame));
    }
    validate(frame)?;
    match scan_combined(frame) {
        Some(split) => Ok(split),
        None => lookup_combined(frame),
    }
}

/// The general (allocating) unwrap for wrapper shapes the scanner does not
/// take: `data` first, escaped names, scalar `data`, extra members.
fn lookup_combined(frame: &[u8]) -> Result<(Option<StreamName>, &[u8]), DecodeError> {
    let data = sonic_rs::get_from_slice(frame, ["data"]).map_err(|e| match e.classify() {
        sonic_rs::error::Category::NotFound => DecodeError::NoData(e.to_string()),
        _ => DecodeError::from_sonic("combined-stream wrapper", e),
    })?;
    let raw = match data.as_raw_cow() {
        std::borrow::Cow::Borrowed(s) => s.as_bytes(),
        // A slice input always yields borrowed raw text; refuse rather than copy.
        std::borrow::Cow::Owned(_) => {
            return Err(DecodeError::NoData("data not addressable".into()));
        }
    };
    let name = sonic_rs::get_from_slice(frame, ["stream"])
        .ok()
        .and_then(|v| sonic_rs::JsonValueTrait::as_str(&v).map(StreamName::truncated));
    Ok((name, raw))
}

/// The venue's own wrapper shape, `{"stream":"<name>","data":<object or
/// array>}` with `stream` first and its name free of escapes, read by a byte
/// scanner that returns borrowed slices. Why: the general lookup
/// (`sonic_rs::get_from_slice`) allocates a temporary on every call, and this
/// runs on every market frame. Any other shape returns `None` and takes the
/// general path. `frame` must already be validated JSON.
fn scan_combined(frame: &[u8]) -> Option<(Option<StreamName>, &[u8])> {
    let i = skip_ws(frame, first_key_is(frame, b"stream")?);
    if frame.get(i) != Some(&b'"') {
        return None;
    }
    let name_start = i + 1;
    let rest = frame.get(name_start..)?;
    let len = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
    if rest.get(len) != Some(&b'"') {
        return None;
    }
    let name = std::str::from_utf8(rest.get(..len)?).ok()?;
    let i = skip_ws(frame, name_start + len + 1);
    if frame.get(i) != Some(&b',') {
        return None;
    }
    let i = skip_ws(frame, i + 1);
    let key_end = i + b"\"data\"".len();
    if frame.get(i..key_end) != Some(b"\"data\"".as_slice()) {
        return None;
    }
    let i = skip_ws(frame, key_end);
    if frame.get(i) != Some(&b':') {
        return None;
    }
    let start = skip_ws(frame, i + 1);
    let end = container_end(frame, start)?;
    // Nothing but the wrapper's closing brace may follow `data`.
    let close = skip_ws(frame, end);
    if frame.get(close) != Some(&b'}') || skip_ws(frame, close + 1) != frame.len() {
        return None;
    }
    Some((Some(StreamName::truncated(name)), frame.get(start..end)?))
}

/// Index just past the object or array opening at `start` (string-aware
/// bracket matching), or `None` if `start` opens neither or it never closes.
fn container_end(b: &[u8], start: usize) -> Option<usize> {
    if !matches!(b.get(start), Some(b'{' | b'[')) {
        return None;
    }
    let (mut depth, mut strings) = (0usize, StringState::default());
    for (off, &c) in b.get(start..)?.iter().enumerate() {
        if strings.inside(c) {
            continue;
        }
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + off + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// A stream name (`btcusdt@bookTicker`, or a listenKey on `/private`), kept
/// inline; long names are cut, they are only used for routing and logs.
pub type StreamName = InlineStr<96>;

/// The `"e"` tag of an event, inline so it can be matched and kept in
/// `Unknown { event_type }` without allocating.
pub type EventTag = InlineStr<40>;

/// Reads the `"e"` member of an event object. Fast path: `"e"` is the first
/// key and its value has no escapes (every venue event); otherwise a lazy
/// lookup. `Ok(None)` = a well-formed prefix with no `"e"` (e.g. a SUBSCRIBE
/// reply); the caller validates before trusting that.
pub fn event_type(data: &[u8]) -> Result<Option<EventTag>, DecodeError> {
    if let Some(i) = first_key_is(data, b"e") {
        let i = skip_ws(data, i);
        if data.get(i) == Some(&b'"') {
            let rest = data.get(i + 1..).unwrap_or(&[]);
            let end = rest.iter().position(|&c| c == b'"' || c == b'\\');
            if let Some(end) = end.filter(|&e| rest.get(e) == Some(&b'"'))
                && let Ok(s) = std::str::from_utf8(rest.get(..end).unwrap_or(&[]))
            {
                return Ok(Some(EventTag::truncated(s)));
            }
        }
    }
    // Not an object (e.g. `!markPrice@arr`): no tag; the caller validates.
    if data.get(skip_ws(data, 0)) != Some(&b'{') {
        return Ok(None);
    }
    check_depth(data)?;
    match sonic_rs::get_from_slice(data, ["e"]) {
        Ok(v) => Ok(sonic_rs::JsonValueTrait::as_str(&v).map(EventTag::truncated)),
        Err(e) if e.classify() == sonic_rs::error::Category::NotFound => Ok(None),
        Err(e) => Err(DecodeError::from_sonic("event", e)),
    }
}

/// serde field helpers: allocation-free string mapping and the venue's loose
/// typing (booleans as `"true"`, integers as strings, `""` for "none").
pub mod de {
    use super::*;
    use crate::model::decimal::Decimal;
    use crate::model::enums::*;
    use crate::model::ids::{ClientOrderId, Symbol};
    use serde::de::{self as sde, Deserializer, Visitor};

    /// Calls a closure on the string value without allocating, whether the
    /// parser hands us a borrowed or an unescaped temporary `&str`.
    pub struct StrMap<F>(pub F);

    impl<'de, R, F: FnOnce(&str) -> R> Visitor<'de> for StrMap<F> {
        type Value = R;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<R, E> {
            Ok((self.0)(v))
        }
    }

    impl<'de, R, F: FnOnce(&str) -> R> sde::DeserializeSeed<'de> for StrMap<F> {
        type Value = R;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<R, D::Error> {
            d.deserialize_str(self)
        }
    }

    /// Wire enums of the model that decode from the venue's text without failing.
    pub trait FromWire: Sized {
        /// Maps venue text; unseen values become `Unknown`.
        fn from_wire_str(s: &str) -> Self;
    }
    macro_rules! from_wire {
        ($($t:ty),*) => {$(
            impl FromWire for $t {
                #[inline]
                fn from_wire_str(s: &str) -> Self { <$t>::from_wire(s) }
            }
        )*};
    }
    from_wire!(
        Side,
        OrderType,
        TimeInForce,
        PositionSide,
        WorkingType,
        OrderStatus,
        ExecutionType,
        AlgoStatus,
        StpMode,
        PriceMatch,
        RespType
    );

    /// A wire enum (never fails on unseen values).
    pub fn wire<'de, D: Deserializer<'de>, T: FromWire>(d: D) -> Result<T, D::Error> {
        d.deserialize_str(StrMap(T::from_wire_str))
    }
    /// An optional wire enum; JSON `null` and `""` read as absent.
    pub fn opt_wire<'de, D: Deserializer<'de>, T: FromWire>(d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(OptStr(|s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(T::from_wire_str(s))
            }
        }))
        .map(Option::flatten)
    }

    /// A symbol; invalid text is a data error (it names no instrument).
    pub fn symbol<'de, D: Deserializer<'de>>(d: D) -> Result<Symbol, D::Error> {
        d.deserialize_str(StrMap(|s: &str| Symbol::new(s)))?
            .map_err(sde::Error::custom)
    }
    /// An optional symbol; `""`/`null` are absent.
    pub fn opt_symbol<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Symbol>, D::Error> {
        d.deserialize_any(OptStr(|s: &str| {
            if s.is_empty() {
                Ok(None)
            } else {
                Symbol::new(s).map(Some)
            }
        }))?
        .unwrap_or(Ok(None))
        .map_err(sde::Error::custom)
    }
    /// A client order id as the venue sent it (venue-generated ids included).
    pub fn client_id<'de, D: Deserializer<'de>>(d: D) -> Result<ClientOrderId, D::Error> {
        d.deserialize_str(StrMap(ClientOrderId::from_venue))
    }
    /// An asset name or other short label, inline.
    pub fn tag<'de, D: Deserializer<'de>>(d: D) -> Result<Tag, D::Error> {
        d.deserialize_any(OptStr(Tag::truncated))
            .map(|o| o.unwrap_or_default())
    }
    /// An optional label; `""`/`null` are absent.
    pub fn opt_tag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tag>, D::Error> {
        d.deserialize_any(OptStr(|s: &str| (!s.is_empty()).then(|| Tag::truncated(s))))
            .map(Option::flatten)
    }
    /// `cross`/`isolated` (any case); unknown text reads as absent instead of
    /// failing a position update.
    pub fn opt_margin_type<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<MarginType>, D::Error> {
        d.deserialize_any(OptStr(MarginType::from_wire))
            .map(Option::flatten)
    }

    /// Visitor for "string or null": `null` → `None`.
    pub struct OptStr<F>(pub F);
    impl<'de, R, F: FnOnce(&str) -> R> Visitor<'de> for OptStr<F> {
        type Value = Option<R>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<Option<R>, E> {
            Ok(Some((self.0)(v)))
        }
        fn visit_unit<E: sde::Error>(self) -> Result<Option<R>, E> {
            Ok(None)
        }
        fn visit_none<E: sde::Error>(self) -> Result<Option<R>, E> {
            Ok(None)
        }
    }

    /// Boolean sent either as JSON `true` or as the REST string `"true"`.
    pub fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        d.deserialize_any(FlexBool)
    }
    /// Optional flexible boolean.
    pub fn opt_flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(FlexBool).map(Some)
    }
    struct FlexBool;
    impl<'de> Visitor<'de> for FlexBool {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: sde::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<bool, E> {
            if v.eq_ignore_ascii_case("true") {
                Ok(true)
            } else if v.eq_ignore_ascii_case("false") || v.is_empty() {
                Ok(false)
            } else {
                Err(E::custom(format_args!("not a boolean: {v:?}")))
            }
        }
        fn visit_unit<E: sde::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }

    /// Integer sent as a JSON number or as a numeric string (`"100000"`,
    /// `"200"`); `""` and `null` are absent.
    pub fn opt_flex_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(FlexI64)
    }
    /// Required flexible integer.
    pub fn flex_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(FlexI64)?
            .ok_or_else(|| sde::Error::custom("missing integer"))
    }
    struct FlexI64;
    impl<'de> Visitor<'de> for FlexI64 {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or integer string")
        }
        fn visit_i64<E: sde::Error>(self, v: i64) -> Result<Option<i64>, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: sde::Error>(self, v: u64) -> Result<Option<i64>, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("integer out of range"))
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<Option<i64>, E> {
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<i64>()
                .map(Some)
                .map_err(|_| E::custom(format_args!("not an integer: {v:?}")))
        }
        fn visit_unit<E: sde::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
    }

    /// Optional decimal: `null` and `""` are absent (the venue sends `""` for
    /// unset algo fields such as `activatePrice`), numbers and strings parse exactly.
    pub fn opt_decimal<'de, D: Deserializer<'de>, T: From<Decimal>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        d.deserialize_any(OptDecimal).map(|o| o.map(T::from))
    }
    struct OptDecimal;
    impl<'de> Visitor<'de> for OptDecimal {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal string, number or null")
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<Option<Decimal>, E> {
            if v.is_empty() {
                return Ok(None);
            }
            Decimal::parse(v)
                .map(Some)
                .map_err(|e| E::custom(format_args!("{e}: {v:?}")))
        }
        fn visit_i64<E: sde::Error>(self, v: i64) -> Result<Option<Decimal>, E> {
            Decimal::from_int(v).map(Some).map_err(E::custom)
        }
        fn visit_u64<E: sde::Error>(self, v: u64) -> Result<Option<Decimal>, E> {
            let v = i64::try_from(v).map_err(|_| E::custom("decimal out of range"))?;
            self.visit_i64(v)
        }
        fn visit_f64<E: sde::Error>(self, v: f64) -> Result<Option<Decimal>, E> {
            if !v.is_finite() {
                return Err(E::custom("non-finite decimal"));
            }
            let s = format!("{v}");
            Decimal::parse(&s)
                .map(Some)
                .map_err(|e| E::custom(format_args!("{e}: {s}")))
        }
        fn visit_unit<E: sde::Error>(self) -> Result<Option<Decimal>, E> {
            Ok(None)
        }
    }
}

/// A short inline label: asset names (`USDT`), algo types, reason texts.
pub type Tag = InlineStr<24>;
