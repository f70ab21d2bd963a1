//! Client order ids from the engine's own sequence.
//!
//! The engine names every order before sending it, so a stream event that
//! beats the REST reply can be matched (the venue echoes `c`), and a timed-out
//! request can be queried or safely re-sent under the same id. Ids are
//! `<prefix>-<base36 counter>`: deterministic for a given prefix, unique within
//! a session, at most 36 characters of the venue alphabet `[.A-Z:/a-z0-9_-]`.
//! A different prefix per session (e.g. from [`session_prefix`]) keeps ids
//! unique across restarts, which the venue only enforces among open orders.

use crate::model::ids::{CLIENT_ID_CAP, ClientOrderId, InlineStr};

/// The tag every engine session's prefix starts with (`bx.<start time>`):
/// how a restarted engine without a journal still recognises the orders an
/// earlier session of it placed.
pub const ENGINE_TAG: &str = "bx";

/// True when `id` was issued by some session of this engine (prefix
/// `bx.<stamp>-<n>`), as opposed to another process or the venue.
pub fn is_engine_id(id: &ClientOrderId) -> bool {
    let s = id.as_str();
    s.strip_prefix(ENGINE_TAG)
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.rsplit_once('-'))
        .is_some_and(|(stamp, n)| {
            !stamp.is_empty()
                && !n.is_empty()
                && stamp.bytes().all(|b| b.is_ascii_alphanumeric())
                && n.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

/// Longest prefix: leaves room for `-` and 13 base36 digits (all of u64).
pub const MAX_PREFIX_LEN: usize = CLIENT_ID_CAP - 1 - 13;

/// Why a prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    /// Empty or longer than [`MAX_PREFIX_LEN`].
    #[error("client id prefix must be 1..={MAX_PREFIX_LEN} characters, got {0}")]
    BadLength(usize),
    /// Outside the venue alphabet, or containing `-` (our separator).
    #[error("client id prefix {0:?} must use A-Z a-z 0-9 . : / _ only")]
    BadChar(String),
}

/// Issues `<prefix>-<n>` ids with n = 1, 2, 3… in base 36.
#[derive(Debug, Clone)]
pub struct ClientIdGenerator {
    prefix: InlineStr<MAX_PREFIX_LEN>,
    next: u64,
}

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

impl ClientIdGenerator {
    /// Validates the prefix; the first id will carry counter 1.
    pub fn new(prefix: &str) -> Result<Self, ClientIdError> {
        Self::starting_at(prefix, 1)
    }

    /// Resumes a sequence (e.g. after reloading state) at `next`.
    pub fn starting_at(prefix: &str, next: u64) -> Result<Self, ClientIdError> {
        if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN {
            return Err(ClientIdError::BadLength(prefix.len()));
        }
        let ok = prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_'));
        let p = InlineStr::new(prefix).filter(|_| ok);
        let prefix = p.ok_or_else(|| ClientIdError::BadChar(prefix.to_string()))?;
        Ok(ClientIdGenerator { prefix, next })
    }

    /// The next id. Allocation-free.
    #[inline]
    pub fn next_id(&mut self) -> ClientOrderId {
        let n = self.next;
        self.next = self.next.wrapping_add(1);
        let mut buf = [0u8; CLIENT_ID_CAP];
        let p = self.prefix.as_str().as_bytes();
        buf[..p.len()].copy_from_slice(p);
        let mut len = p.len();
        buf[len] = b'-';
        len += 1;
        let mut digits = [0u8; 13];
        let mut k = digits.len();
        let mut v = n;
        loop {
            k -= 1;
            digits[k] = DIGITS[(v % 36) as usize];
            v /= 36;
            if v == 0 {
                break;
            }
        }
        let d = &digits[k..];
        buf[len..len + d.len()].copy_from_slice(d);
        len += d.len();
        // Only prefix-alphabet bytes, '-' and base36 digits were written.
        let s = std::str::from_utf8(&buf[..len]).unwrap_or("x");
        ClientOrderId::from_venue(s)
    }

    /// The counter if `id` was issued by a generator with this prefix; lets
    /// the engine tell its own orders from external ones.
    pub fn sequence_of(&self, id: &ClientOrderId) -> Option<u64> {
        let rest = id.as_str().strip_prefix(self.prefix.as_str())?;
        let digits = rest.strip_prefix('-')?;
        if digits.is_empty() || digits.len() > 13 {
            return None;
        }
        let mut v: u64 = 0;
        for b in digits.bytes() {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'z' => b - b'a' + 10,
                _ => return None,
            };
            v = v.checked_mul(36)?.checked_add(d as u64)?;
        }
        Some(v)
    }

    /// The counter the next id will carry (persist it to resume).
    pub fn peek(&self) -> u64 {
        self.next
    }
}

/// A short per-session prefix: `tag` (truncated to 8) plus the base36 start
/// stamp, e.g. `e1.t3k9zq`. The engine passes its start time in
/// milliseconds, so two sessions started within the same second still
/// differ; with a journal the counter also continues past every id ever
/// journaled, so an id is never reused even if two stamps collided.
pub fn session_prefix(tag: &str, stamp: u64) -> String {
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    let mut t = String::new();
    let mut v = stamp;
    loop {
        t.insert(0, DIGITS[(v % 36) as usize] as char);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    if tag.is_empty() {
        t
    } else {
        format!("{tag}.{t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_and_well_formed_over_1e5_ids() {
        let mut g = ClientIdGenerator::new(&session_prefix("e1", 1_760_000_000)).unwrap();
        let mut seen = HashSet::with_capacity(100_000);
        for i in 1..=100_000u64 {
            let id = g.next_id();
            let s = id.as_str();
            assert!(s.len() <= 36);
            assert!(ClientOrderId::new(s).is_ok(), "{s} outside venue alphabet");
            assert_eq!(g.sequence_of(&id), Some(i));
            assert!(seen.insert(id), "duplicate {s}");
        }
    }

    #[test]
    fn longest_prefix_and_largest_counter_fit() {
        let p = "p".repeat(MAX_PREFIX_LEN);
        let mut g = ClientIdGenerator::starting_at(&p, u64::MAX).unwrap();
        let id = g.next_id();
        assert_eq!(id.as_str().len(), 36);
        assert!(ClientOrderId::new(id.as_str()).is_ok());
        assert_eq!(g.sequence_of(&id), Some(u64::MAX));
    }

    #[test]
    fn bad_prefixes_and_foreign_ids() {
        assert!(ClientIdGenerator::new("").is_err());
        assert!(ClientIdGenerator::new("has-dash").is_err());
        assert!(ClientIdGenerator::new("sp ace").is_err());
        assert!(ClientIdGenerator::new(&"x".repeat(MAX_PREFIX_LEN + 1)).is_err());
        let g = ClientIdGenerator::new("e1").unwrap();
        assert_eq!(
            g.sequence_of(&ClientOrderId::from_venue("autoclose-1")),
            None
        );
        assert_eq!(g.sequence_of(&ClientOrderId::from_venue("e1-")), None);
        assert_eq!(g.sequence_of(&ClientOrderId::from_venue("e1-ZZ")), None);
        assert_eq!(session_prefix("e1", 0), "e1.0");
    }

    #[test]
    fn engine_ids_are_recognised_across_sessions() {
        let mut a = ClientIdGenerator::new(&session_prefix(ENGINE_TAG, 1_763_000_000_123)).unwrap();
        let mut b = ClientIdGenerator::starting_at(&session_prefix(ENGINE_TAG, 7), 99).unwrap();
        assert!(is_engine_id(&a.next_id()));
        assert!(is_engine_id(&b.next_id()));
        for foreign in [
            "web_123",
            "bx-1",
            "bx.-1",
            "bx.abc-",
            "x.abc-1",
            "autoclose-1",
            "bx.a b-1",
        ] {
            assert!(
                !is_engine_id(&ClientOrderId::from_venue(foreign)),
                "{foreign}"
            );
        }
    }
}
