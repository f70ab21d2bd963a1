//! Request parameter parsing with the venue's exact error codes, so a client's
//! malformed request fails here the way it would on Binance.
use super::api::{Params, Reply};
use crate::model::decimal::{Decimal, DecimalError};
use std::borrow::Cow;

/// A venue rejection: the code and message Binance would send (HTTP 400
/// unless `status` says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {msg}")]
pub struct VenueError {
    /// HTTP status.
    pub status: u16,
    /// Venue error code (negative).
    pub code: i64,
    /// Venue message.
    pub msg: Cow<'static, str>,
}

impl VenueError {
    /// A 400 with a fixed message.
    pub fn new(code: i64, msg: &'static str) -> Self {
        VenueError {
            status: 400,
            code,
            msg: Cow::Borrowed(msg),
        }
    }
    /// A 400 with a composed message.
    pub fn owned(code: i64, msg: String) -> Self {
        VenueError {
            status: 400,
            code,
            msg: Cow::Owned(msg),
        }
    }
    /// The HTTP reply.
    pub fn reply(&self) -> Reply {
        Reply::error(self.status, self.code, &self.msg)
    }
    /// `{"code":..,"msg":..}` for batch replies.
    pub fn push_json(&self, out: &mut String) {
        out.push_str("{\"code\":");
        super::json::int(out, self.code);
        out.push_str(",\"msg\":");
        super::json::push_json_str(out, &self.msg);
        out.push('}');
    }
    /// -1102: a mandatory parameter is missing or empty.
    pub fn mandatory(name: &str) -> Self {
        Self::owned(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }
    /// -1100: malformed value.
    pub fn illegal(name: &str) -> Self {
        Self::owned(
            -1100,
            format!(
                "Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
            ),
        )
    }
    /// -1106: parameter not allowed in this combination.
    pub fn not_required(name: &str) -> Self {
        Self::owned(-1106, format!("Parameter '{name}' sent when not required."))
    }
}

/// Shorthand result.
pub type VResult<T> = Result<T, VenueError>;

/// A non-empty parameter or -1102.
pub fn required<'a>(p: &'a Params, name: &str) -> VResult<&'a str> {
    match p.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(VenueError::mandatory(name)),
    }
}

/// An optional non-empty parameter (an empty value counts as absent).
pub fn optional<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).filter(|v| !v.is_empty())
}

/// A decimal parameter: -1100 when malformed, -1111 when more precise than
/// eight digits (the venue's "precision over maximum").
pub fn decimal(p: &Params, name: &str) -> VResult<Option<Decimal>> {
    match optional(p, name) {
        None => Ok(None),
        Some(v) => parse_decimal(name, v).map(Some),
    }
}

/// Parses one decimal value with the venue's codes.
pub fn parse_decimal(name: &str, v: &str) -> VResult<Decimal> {
    if v.starts_with('+') || v.contains('e') || v.contains('E') {
        return Err(VenueError::illegal(name));
    }
    match Decimal::parse(v) {
        Ok(d) => Ok(d),
        Err(DecimalError::TooPrecise) => Err(VenueError::new(
            -1111,
            "Precision is over the maximum defined for this asset.",
        )),
        Err(_) => Err(VenueError::illegal(name)),
    }
}

/// An integer parameter (-1100 when malformed).
pub fn integer(p: &Params, name: &str) -> VResult<Option<i64>> {
    match optional(p, name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| VenueError::illegal(name)),
    }
}

/// A boolean parameter (`true`/`false`, any case); -1100 otherwise.
pub fn boolean(p: &Params, name: &str) -> VResult<Option<bool>> {
    match optional(p, name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(VenueError::owned(
            -1100,
            format!(
                "Illegal characters found in parameter '{name}'; legal range is 'true, false'."
            ),
        )),
    }
}

/// Whether a client id matches `^[\.A-Z\:/a-z0-9_-]{1,36}$` (else -4015).
pub fn valid_client_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 36
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-'))
}

/// Turns one JSON object of a `batchOrders` array into parameters (string,
/// number and bool values as text), so batch items reuse the single-order
/// path and its validation. -1130 when it is not an object.
pub fn params_from_json_object(v: &sonic_rs::Value) -> VResult<Params> {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let obj = v.as_object().ok_or_else(|| {
        VenueError::new(-1130, "Data sent for parameter 'batchOrders' is not valid.")
    })?;
    let mut pairs = Vec::with_capacity(obj.len());
    for (k, val) in obj.iter() {
        let text = if let Some(s) = val.as_str() {
            s.to_string()
        } else if let Some(b) = val.as_bool() {
            b.to_string()
        } else if let Some(i) = val.as_i64() {
            i.to_string()
        } else if let Some(u) = val.as_u64() {
            u.to_string()
        } else if val.is_number() {
            // Floats are not valid venue decimals in batch items but keep
            // their literal so validation reports the right code.
            val.as_f64().map(|f| f.to_string()).unwrap_or_default()
        } else {
            return Err(VenueError::new(
                -1130,
                "Data sent for parameter 'batchOrders' is not valid.",
            ));
        };
        pairs.push((k.to_string(), text));
    }
    Ok(Params { pairs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params {
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn codes_for_bad_values() {
        let p = params(&[
            ("price", "1.123456789"),
            ("quantity", "abc"),
            ("r", "maybe"),
            ("e", ""),
        ]);
        assert_eq!(decimal(&p, "price").err().map(|e| e.code), Some(-1111));
        assert_eq!(decimal(&p, "quantity").err().map(|e| e.code), Some(-1100));
        assert_eq!(boolean(&p, "r").err().map(|e| e.code), Some(-1100));
        assert_eq!(required(&p, "e").err().map(|e| e.code), Some(-1102));
        assert_eq!(required(&p, "missing").err().map(|e| e.code), Some(-1102));
        assert!(valid_client_id("e1-000042.a:b/c_d"));
        assert!(!valid_client_id("bad id"));
        assert!(!valid_client_id(&"x".repeat(37)));
    }
}
