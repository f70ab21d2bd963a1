//! Cheap JSON building: `push_str` into a reused `String`, no serde on the hot
//! path (an order reply or event must cost well under a microsecond).
use crate::model::decimal::Decimal;
pub use crate::sim::venue::api::push_json_str;

/// Appends `"key":` (key must not need escaping).
#[inline]
pub fn key(out: &mut String, k: &str) {
    out.push('"');
    out.push_str(k);
    out.push_str("\":");
}

/// Appends an integer.
#[inline]
pub fn int(out: &mut String, v: i64) {
    let mut b = [0u8; 24];
    let mut pos = b.len();
    let mut m = v.unsigned_abs();
    loop {
        pos -= 1;
        b[pos] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if v < 0 {
        pos -= 1;
        b[pos] = b'-';
    }
    out.push_str(std::str::from_utf8(&b[pos..]).unwrap_or("0"));
}

/// Appends a decimal as a JSON string with exactly `decimals` digits, the way
/// the venue pads prices to the symbol's precision (`"2400.10"`).
#[inline]
pub fn dec(out: &mut String, v: Decimal, decimals: u32) {
    let mut buf = [0u8; 24];
    out.push('"');
    out.push_str(v.format_fixed_into(&mut buf, Some(decimals)));
    out.push('"');
}

/// Appends a decimal as a JSON string in shortest form.
#[inline]
pub fn dec_short(out: &mut String, v: Decimal) {
    let mut buf = [0u8; 24];
    out.push('"');
    out.push_str(v.format_into(&mut buf));
    out.push('"');
}

/// Appends `true`/`false`.
#[inline]
pub fn boolean(out: &mut String, v: bool) {
    out.push_str(if v { "true" } else { "false" });
}

/// Appends `"k":"v"` (v escaped) followed by a comma.
#[inline]
pub fn kv_str(out: &mut String, k: &str, v: &str) {
    key(out, k);
    push_json_str(out, v);
    out.push(',');
}

/// Appends `"k":<int>,`.
#[inline]
pub fn kv_int(out: &mut String, k: &str, v: i64) {
    key(out, k);
    int(out, v);
    out.push(',');
}

/// Appends `"k":"<decimal>",` with fixed digits.
#[inline]
pub fn kv_dec(out: &mut String, k: &str, v: Decimal, decimals: u32) {
    key(out, k);
    dec(out, v, decimals);
    out.push(',');
}

/// Appends `"k":true|false,`.
#[inline]
pub fn kv_bool(out: &mut String, k: &str, v: bool) {
    key(out, k);
    boolean(out, v);
    out.push(',');
}

/// Replaces a trailing comma with `close` (or appends it).
#[inline]
pub fn close(out: &mut String, close: char) {
    if out.ends_with(',') {
        out.pop();
    }
    out.push(close);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_objects() {
        let mut s = String::from("{");
        kv_str(&mut s, "s", "币安人生USDT");
        kv_int(&mut s, "i", -42);
        kv_dec(&mut s, "p", Decimal::parse("2400.1").unwrap_or_default(), 2);
        kv_bool(&mut s, "m", true);
        close(&mut s, '}');
        assert_eq!(
            s,
            "{\"s\":\"币安人生USDT\",\"i\":-42,\"p\":\"2400.10\",\"m\":true}"
        );
        let v: sonic_rs::Value = sonic_rs::from_str(&s).unwrap_or_default();
        assert!(sonic_rs::JsonValueTrait::is_object(&v));
    }
}
