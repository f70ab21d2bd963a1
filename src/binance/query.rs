//! The exact bytes we send: percent-encoding and `name=value` query/form text.
//!
//! Binance signs the bytes on the wire, so the encoded text is built once,
//! into a caller-owned buffer, and that same buffer is both signed and sent.
//! Building into a reused `Vec<u8>` keeps the hot path allocation-free once
//! the buffer has grown to its working size.
//!
//! Values are percent-encoded as UTF-8 keeping only the RFC 3986 unreserved
//! set (`A-Za-z0-9-_.~`); everything else becomes `%XX` with upper-case hex.
//! This is stricter than needed for ASCII symbols and exactly what the venue
//! expects for `币安人生USDT` or JSON payloads such as `batchOrders`.
//!
//! ```
//! use binance_exec::binance::query::QueryWriter;
//! let mut buf = Vec::new();
//! let mut w = QueryWriter::new(&mut buf);
//! w.str("symbol", "币安人生USDT");
//! w.int("leverage", 10);
//! assert_eq!(buf, b"symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT&leverage=10");
//! ```

use crate::model::{Decimal, Price, Quantity};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// True for the RFC 3986 unreserved bytes, the only ones sent verbatim.
#[inline]
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends the percent-encoded form of `value` (its UTF-8 bytes) to `out`.
#[inline]
pub fn percent_encode_into(value: &[u8], out: &mut Vec<u8>) {
    // Fast path: symbols, ids and enum spellings are almost always plain.
    if value.iter().all(|&b| is_unreserved(b)) {
        out.extend_from_slice(value);
        return;
    }
    for &b in value {
        if is_unreserved(b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX_UPPER[(b >> 4) as usize],
                HEX_UPPER[(b & 0x0f) as usize],
            ]);
        }
    }
}

/// The percent-encoded form of `value`, for cold paths and tests.
pub fn percent_encode(value: &str) -> String {
    let mut out = Vec::with_capacity(value.len());
    percent_encode_into(value.as_bytes(), &mut out);
    // Only ASCII was written.
    String::from_utf8(out).unwrap_or_default()
}

/// Why a client-sent query or form could not be decoded; the simulator turns
/// this into the venue's "illegal characters" style rejection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    #[error("bad percent escape at byte {at}")]
    BadEscape {
        /// Offset of the `%` in the input.
        at: usize,
    },
    /// The decoded bytes are not UTF-8.
    #[error("decoded text is not valid UTF-8")]
    InvalidUtf8,
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_impl(input: &[u8], plus_is_space: bool) -> Result<String, DecodeError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_val);
                let lo = input.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(DecodeError::BadEscape { at: i }),
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::InvalidUtf8)
}

/// Decodes `%XX` escapes (a `+` stays a `+`), as in a URL path or a query
/// built by a strict encoder.
pub fn percent_decode(input: &[u8]) -> Result<String, DecodeError> {
    decode_impl(input, false)
}

/// Decodes one `application/x-www-form-urlencoded` component: `%XX` escapes
/// and `+` as a space, which is what HTTP clients of the venue may send.
pub fn form_decode(input: &[u8]) -> Result<String, DecodeError> {
    decode_impl(input, true)
}

/// Splits and decodes a whole query string or form body into `(name, value)`
/// pairs in order; empty segments (`a=1&&b=2`) are skipped and a segment
/// without `=` yields an empty value, as lenient servers do.
pub fn parse_form(input: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    let mut pairs = Vec::new();
    let mut offset = 0usize;
    for seg in input.split(|&b| b == b'&') {
        if !seg.is_empty() {
            let (k, v) = match seg.iter().position(|&b| b == b'=') {
                Some(p) => (&seg[..p], &seg[p + 1..]),
                None => (seg, &b""[..]),
            };
            let shift = |e: DecodeError, base: usize| match e {
                DecodeError::BadEscape { at } => DecodeError::BadEscape { at: at + base },
                other => other,
            };
            let name = form_decode(k).map_err(|e| shift(e, offset))?;
            let value = form_decode(v).map_err(|e| shift(e, offset + k.len() + 1))?;
            pairs.push((name, value));
        }
        offset += seg.len() + 1;
    }
    Ok(pairs)
}

/// Writes an unsigned integer in decimal into `buf`, returning the digits.
/// A hand-rolled itoa: no `fmt` machinery, no allocation.
#[inline]
pub fn format_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[pos..]
}

/// Appends a signed integer in decimal to `out`.
#[inline]
pub fn push_i64(v: i64, out: &mut Vec<u8>) {
    if v < 0 {
        out.push(b'-');
    }
    let mut buf = [0u8; 20];
    out.extend_from_slice(format_u64(v.unsigned_abs(), &mut buf));
}

/// Appends `name=value` pairs, `&`-separated, to a caller-owned buffer.
///
/// The writer remembers where it started so that a `&` is only written
/// between its own pairs; callers clear and reuse the buffer per request.
/// Names are written verbatim (they are our own ASCII constants); values are
/// percent-encoded where they can contain anything.
pub struct QueryWriter<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> QueryWriter<'a> {
    /// Starts writing at the current end of `buf`.
    #[inline]
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        let start = buf.len();
        QueryWriter { buf, start }
    }

    /// Continues a query already holding pairs: the first pair written is
    /// separated from the existing text by `&`.
    #[inline]
    pub fn continuing(buf: &'a mut Vec<u8>) -> Self {
        QueryWriter { buf, start: 0 }
    }

    #[inline]
    fn key(&mut self, name: &str) {
        if self.buf.len() > self.start {
            self.buf.push(b'&');
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'=');
    }

    /// A text value, percent-encoded.
    #[inline]
    pub fn str(&mut self, name: &str, value: &str) -> &mut Self {
        self.key(name);
        percent_encode_into(value.as_bytes(), self.buf);
        self
    }

    /// An exact decimal in its shortest form (`0.05`, `2400.1`).
    #[inline]
    pub fn decimal(&mut self, name: &str, value: Decimal) -> &mut Self {
        self.key(name);
        let mut tmp = [0u8; 24];
        // Digits, '.', '-' only: all unreserved, no encoding needed.
        self.buf
            .extend_from_slice(value.format_into(&mut tmp).as_bytes());
        self
    }

    /// A price, exact.
    #[inline]
    pub fn price(&mut self, name: &str, value: Price) -> &mut Self {
        self.decimal(name, value.value())
    }

    /// A quantity, exact.
    #[inline]
    pub fn quantity(&mut self, name: &str, value: Quantity) -> &mut Self {
        self.decimal(name, value.value())
    }

    /// A signed integer (ids, timestamps, leverage).
    #[inline]
    pub fn int(&mut self, name: &str, value: i64) -> &mut Self {
        self.key(name);
        push_i64(value, self.buf);
        self
    }

    /// A boolean as the venue spells it: `true` / `false`.
    #[inline]
    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.key(name);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// True when nothing has been written by this writer.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binance::sign::Signer;

    const SECRET: &[u8] = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    #[test]
    fn encodes_only_unreserved_verbatim() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode(" +&=/:\"[]"), "%20%2B%26%3D%2F%3A%22%5B%5D");
        assert_eq!(
            percent_encode("币安人生USDT"),
            "%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT"
        );
        // Every byte either survives or becomes an upper-case escape.
        for b in 0u8..=255 {
            let mut out = Vec::new();
            percent_encode_into(&[b], &mut out);
            if is_unreserved(b) {
                assert_eq!(out, [b]);
            } else {
                assert_eq!(out.len(), 3);
                assert_eq!(out[0], b'%');
                assert!(out[1..].iter().all(|c| !c.is_ascii_lowercase()));
            }
        }
    }

    #[test]
    fn official_vector_through_writer() {
        let mut buf = Vec::new();
        QueryWriter::new(&mut buf)
            .str("symbol", "BTCUSDT")
            .str("side", "BUY")
            .str("type", "LIMIT")
            .decimal("quantity", Decimal::parse("1").unwrap())
            .price("price", Price::parse("9000").unwrap())
            .str("timeInForce", "GTC")
            .int("recvWindow", 5000)
            .int("timestamp", 1591702613943);
        assert_eq!(
            buf,
            b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
        );
        assert_eq!(
            Signer::new(SECRET).sign_hex(&buf),
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
        );
    }

    #[test]
    fn batch_orders_vector() {
        let json = r#"[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.001","price":"60000","newClientOrderId":"b1"}]"#;
        let mut buf = Vec::new();
        QueryWriter::new(&mut buf)
            .str("batchOrders", json)
            .int("timestamp", 1700000000000);
        assert_eq!(
            Signer::new(SECRET).sign_hex(&buf),
            "41e65ae3ed8d95955df8e754434b1953a3672f3a18bc339deadbba038ebc7dc9"
        );
    }

    #[test]
    fn integers_bools_decimals() {
        let mut buf = b"prefix".to_vec();
        buf.clear();
        QueryWriter::new(&mut buf)
            .int("a", 0)
            .int("b", -42)
            .int("c", i64::MIN)
            .int("d", i64::MAX)
            .bool("e", true)
            .bool("f", false)
            .quantity("q", Quantity::parse("0.050").unwrap())
            .decimal("n", Decimal::parse("-1.5").unwrap());
        assert_eq!(
            std::str::from_utf8(&buf).unwrap(),
            "a=0&b=-42&c=-9223372036854775808&d=9223372036854775807&e=true&f=false&q=0.05&n=-1.5"
        );
    }

    #[test]
    fn writer_appends_after_existing_bytes_without_leading_separator() {
        let mut buf = b"x=1".to_vec();
        {
            let mut w = QueryWriter::new(&mut buf);
            assert!(w.is_empty());
            w.int("y", 2);
        }
        // The writer only separates its own pairs.
        assert_eq!(buf, b"x=1y=2");
        QueryWriter::continuing(&mut buf).int("z", 3);
        assert_eq!(buf, b"x=1y=2&z=3");
    }

    #[test]
    fn decode_roundtrip_and_errors() {
        let s = "币安人生USDT & [\"x\"] ~";
        assert_eq!(percent_decode(percent_encode(s).as_bytes()).unwrap(), s);
        assert_eq!(form_decode(b"a+b%2B").unwrap(), "a b+");
        assert_eq!(percent_decode(b"a+b").unwrap(), "a+b");
        assert_eq!(percent_decode(b"%e5%b8%81").unwrap(), "币");
        assert_eq!(
            percent_decode(b"ab%2"),
            Err(DecodeError::BadEscape { at: 2 })
        );
        assert_eq!(
            percent_decode(b"%G0"),
            Err(DecodeError::BadEscape { at: 0 })
        );
        assert_eq!(percent_decode(b"%"), Err(DecodeError::BadEscape { at: 0 }));
        assert_eq!(percent_decode(b"%FF"), Err(DecodeError::InvalidUtf8));
    }

    #[test]
    fn parse_form_pairs() {
        let pairs = parse_form(b"symbol=%E5%B8%81USDT&&flag&q=0.1+x").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("symbol".to_string(), "币USDT".to_string()),
                ("flag".to_string(), String::new()),
                ("q".to_string(), "0.1 x".to_string()),
            ]
        );
        assert_eq!(
            parse_form(b"a=1&b=%zz"),
            Err(DecodeError::BadEscape { at: 6 })
        );
    }
}
