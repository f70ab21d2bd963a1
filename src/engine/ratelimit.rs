//! Local rate limiter: throttle before the venue does.
//!
//! Binance answers a breached limit with HTTP 429, and a client that keeps
//! sending after a 429 gets HTTP 418: an IP ban from 2 minutes up to 3 days,
//! during which no order can be placed or cancelled. So the engine counts what
//! it sends against the windows from exchangeInfo `rateLimits`
//! (`REQUEST_WEIGHT` per minute per IP, `ORDERS` per 10 s and per minute per
//! account), corrects its count with the venue's own counters from the
//! `X-MBX-USED-WEIGHT-*` / `X-MBX-ORDER-COUNT-*` response headers (other
//! processes may share the IP or the account, so the venue's count is the
//! truth), and holds requests that would exceed a window until it rolls.
//!
//! Time is venue milliseconds ([`super::clock::ClockSync::venue_now_ms`]),
//! passed in by the caller: the venue's windows are fixed intervals of its
//! own clock, and tests stay deterministic.

use crate::binance::exchange_info::{RateLimit, RateLimitType};
use crate::config::{Backoff, SplitMix64};

/// Which venue counter a window limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// IP request weight (`REQUEST_WEIGHT`).
    Weight,
    /// Account order count (`ORDERS`).
    Orders,
}

impl LimitKind {
    /// The venue's name for the counter.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Weight => "REQUEST_WEIGHT",
            LimitKind::Orders => "ORDERS",
        }
    }
}

/// One window: at most `limit` units of `kind` per `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSpec {
    /// Counter.
    pub kind: LimitKind,
    /// Window length in ms.
    pub window_ms: i64,
    /// Maximum per window.
    pub limit: u32,
}

/// The documented defaults (2400 weight/1m, 300 orders/10s, 1200 orders/1m),
/// used when exchangeInfo has not been read or lists no usable limit.
pub const DEFAULT_LIMITS: [LimitSpec; 3] = [
    LimitSpec {
        kind: LimitKind::Weight,
        window_ms: 60_000,
        limit: 2400,
    },
    LimitSpec {
        kind: LimitKind::Orders,
        window_ms: 10_000,
        limit: 300,
    },
    LimitSpec {
        kind: LimitKind::Orders,
        window_ms: 60_000,
        limit: 1200,
    },
];

/// Default share of a window at which a warning is raised.
pub const DEFAULT_WARN_PCT: u32 = 80;

/// Ban length assumed when a 418 gives neither a ban end nor `Retry-After`
/// (the venue's shortest ban).
pub const DEFAULT_BAN_MS: i64 = 120_000;

/// The windows described by exchangeInfo `rateLimits`; unknown counters or
/// units are skipped, and the defaults are used when nothing usable is left.
pub fn specs_from_exchange_info(limits: &[RateLimit]) -> Vec<LimitSpec> {
    let specs: Vec<LimitSpec> = limits
        .iter()
        .filter_map(|l| {
            let kind = match l.rate_limit_type {
                RateLimitType::RequestWeight => LimitKind::Weight,
                RateLimitType::Orders => LimitKind::Orders,
                RateLimitType::Unknown(_) => return None,
            };
            let window_ms = i64::try_from(l.window()?.as_millis()).ok()?;
            (window_ms > 0 && l.limit > 0).then_some(LimitSpec {
                kind,
                window_ms,
                limit: l.limit,
            })
        })
        .collect();
    if specs.is_empty() {
        DEFAULT_LIMITS.to_vec()
    } else {
        specs
    }
}

/// What a request costs: IP weight and order-count units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// `REQUEST_WEIGHT` units.
    pub weight: u32,
    /// `ORDERS` units (1 per order; a batch counts each order).
    pub orders: u32,
}

impl Cost {
    /// A non-order request of weight `w`.
    pub fn request(weight: u32) -> Self {
        Cost { weight, orders: 0 }
    }

    /// A single order placement or modification (0 IP weight, 1 order).
    pub fn order() -> Self {
        Cost {
            weight: 0,
            orders: 1,
        }
    }
}

/// Why a request must not be sent at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Heavier than a whole window allows: it can never go.
    TooHeavy {
        /// Counter.
        kind: LimitKind,
        /// Units requested.
        requested: u32,
        /// Window limit.
        limit: u32,
    },
    /// The IP is banned (418) until this venue time (ms). Orders queued
    /// through a multi-minute ban would be stale, so they are refused.
    Banned {
        /// Ban end, venue ms.
        until_ms: i64,
    },
}

/// The limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send now.
    Go,
    /// Do not send before this venue time (ms): a window is full or a 429
    /// backoff is running.
    Wait(i64),
    /// Do not send.
    Reject(RejectReason),
}

/// A window crossed the warning share (raised once per window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWarning {
    /// Counter.
    pub kind: LimitKind,
    /// Window length in ms.
    pub window_ms: i64,
    /// Units used in the current window.
    pub used: u32,
    /// Window limit.
    pub limit: u32,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    spec: LimitSpec,
    index: i64,
    used: u32,
    warned: bool,
}

impl Window {
    fn roll(&mut self, now_ms: i64) {
        let index = now_ms.div_euclid(self.spec.window_ms);
        if index != self.index {
            self.index = index;
            self.used = 0;
            self.warned = false;
        }
    }

    fn next_start(&self) -> i64 {
        (self.index + 1).saturating_mul(self.spec.window_ms)
    }
}

/// Counts what the engine sends against the venue's windows.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    windows: Vec<Window>,
    warn_pct: Option<u32>,
    backoff: Backoff,
    jitter: SplitMix64,
    attempt: u32,
    backoff_until_ms: i64,
    banned_until_ms: i64,
}

impl RateLimiter {
    /// A limiter over `specs` (see [`specs_from_exchange_info`]), using the
    /// config's retry schedule for 429s. `jitter_seed` de-synchronises
    /// processes; pass a constant in tests.
    pub fn new(specs: &[LimitSpec], backoff: Backoff, jitter_seed: u64) -> Self {
        let specs = if specs.is_empty() {
            &DEFAULT_LIMITS[..]
        } else {
            specs
        };
        RateLimiter {
            windows: specs
                .iter()
                .filter(|s| s.window_ms > 0)
                .map(|&spec| Window {
                    spec,
                    index: i64::MIN,
                    used: 0,
                    warned: false,
                })
                .collect(),
            warn_pct: None,
            backoff,
            jitter: SplitMix64(jitter_seed),
            attempt: 0,
            backoff_until_ms: i64::MIN,
            banned_until_ms: i64::MIN,
        }
    }

    /// Enables warnings (the config's `warn_rate_limits`) at `pct` percent of
    /// a window (clamped to 1..=100).
    pub fn with_warnings(mut self, enabled: bool, pct: u32) -> Self {
        self.warn_pct = enabled.then_some(pct.clamp(1, 100));
        self
    }

    fn roll(&mut self, now_ms: i64) {
        for w in &mut self.windows {
            w.roll(now_ms);
        }
    }

    /// Whether a request of `weight` (an order when `is_order`) may go now.
    pub fn check(&mut self, weight: u32, is_order: bool, now_ms: i64) -> Decision {
        let orders = u32::from(is_order);
        self.check_cost(Cost { weight, orders }, now_ms)
    }

    /// Whether a request costing `cost` may go at venue time `now_ms`. Does
    /// not count it: call [`RateLimiter::on_sent`] when it is sent.
    pub fn check_cost(&mut self, cost: Cost, now_ms: i64) -> Decision {
        if now_ms < self.banned_until_ms {
            return Decision::Reject(RejectReason::Banned {
                until_ms: self.banned_until_ms,
            });
        }
        self.roll(now_ms);
        let mut wait_until = if now_ms < self.backoff_until_ms {
            self.backoff_until_ms
        } else {
            i64::MIN
        };
        for w in &self.windows {
            let units = match w.spec.kind {
                LimitKind::Weight => cost.weight,
                LimitKind::Orders => cost.orders,
            };
            if units == 0 {
                continue;
            }
            if units > w.spec.limit {
                return Decision::Reject(RejectReason::TooHeavy {
                    kind: w.spec.kind,
                    requested: units,
                    limit: w.spec.limit,
                });
            }
            if w.used.saturating_add(units) > w.spec.limit {
                wait_until = wait_until.max(w.next_start());
            }
        }
        if wait_until == i64::MIN {
            Decision::Go
        } else {
            Decision::Wait(wait_until)
        }
    }

    /// [`check_cost`](Self::check_cost), and counts the request when it may go.
    pub fn try_acquire(&mut self, cost: Cost, now_ms: i64) -> (Decision, Option<RateWarning>) {
        let d = self.check_cost(cost, now_ms);
        let warn = if d == Decision::Go {
            self.on_sent(cost, now_ms)
        } else {
            None
        };
        (d, warn)
    }

    /// Counts a request that was sent; returns a warning the first time a
    /// window crosses the warning share (if two windows cross on the same
    /// request, the first configured one is reported; both are marked).
    pub fn on_sent(&mut self, cost: Cost, now_ms: i64) -> Option<RateWarning> {
        self.roll(now_ms);
        let mut warning = None;
        for i in 0..self.windows.len() {
            let Some(w) = self.windows.get_mut(i) else {
                continue;
            };
            let units = match w.spec.kind {
                LimitKind::Weight => cost.weight,
                LimitKind::Orders => cost.orders,
            };
            w.used = w.used.saturating_add(units);
            warning = warning.or(self.warn_check(i));
        }
        warning
    }

    fn warn_check(&mut self, i: usize) -> Option<RateWarning> {
        let pct = self.warn_pct?;
        let w = self.windows.get_mut(i)?;
        let crossed = u64::from(w.used) * 100 >= u64::from(w.spec.limit) * u64::from(pct);
        if crossed && !w.warned {
            w.warned = true;
            Some(RateWarning {
                kind: w.spec.kind,
                window_ms: w.spec.window_ms,
                used: w.used,
                limit: w.spec.limit,
            })
        } else {
            None
        }
    }

    /// Applies one response header. Recognised names (any case) are
    /// `X-MBX-USED-WEIGHT-<n><unit>` and `X-MBX-ORDER-COUNT-<n><unit>`; the
    /// value replaces our count for the matching window because the venue's
    /// count includes traffic we cannot see (other processes on the IP or
    /// account). Negative or unparsable values (testnet has sent `-1`) are
    /// ignored. Returns a warning when the corrected count crosses the share.
    pub fn on_header(&mut self, name: &str, value: &[u8], now_ms: i64) -> Option<RateWarning> {
        let (kind, window_ms) = parse_header_name(name)?;
        let used = parse_count(value)?;
        self.roll(now_ms);
        let i = self
            .windows
            .iter()
            .position(|w| w.spec.kind == kind && w.spec.window_ms == window_ms)?;
        if let Some(w) = self.windows.get_mut(i) {
            w.used = used;
        }
        self.warn_check(i)
    }

    /// A request succeeded: the 429 backoff sequence starts over.
    pub fn on_ok(&mut self) {
        self.attempt = 0;
    }

    /// HTTP 429: back off exponentially with jitter (the config's `Backoff`),
    /// or for `Retry-After` seconds when the venue says so, whichever is
    /// longer. Returns the venue time before which nothing is sent. When the
    /// retry budget is used up the cap is applied again rather than giving up
    /// on the limiter: the caller's own retry count decides about the request.
    pub fn on_429(&mut self, retry_after_secs: Option<u64>, now_ms: i64) -> i64 {
        self.attempt = self.attempt.saturating_add(1);
        let attempt = self.attempt.min(self.backoff.max_retries.max(1));
        let jittered = Backoff {
            max_retries: self.backoff.max_retries.max(1),
            ..self.backoff
        }
        .delay(attempt, &mut self.jitter)
        .unwrap_or(self.backoff.cap);
        let backoff_ms = i64::try_from(jittered.as_millis()).unwrap_or(i64::MAX);
        let retry_ms = retry_after_secs
            .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let until = now_ms.saturating_add(backoff_ms.max(retry_ms));
        self.backoff_until_ms = self.backoff_until_ms.max(until);
        self.backoff_until_ms
    }

    /// HTTP 418 (IP ban): halt until the ban end from the message
    /// ("... IP banned until <ms>") or `Retry-After`, whichever is later; if
    /// neither is present, the venue's shortest ban. Returns the ban end.
    pub fn on_418(
        &mut self,
        message: Option<&str>,
        retry_after_secs: Option<u64>,
        now_ms: i64,
    ) -> i64 {
        let from_msg = message.and_then(parse_ban_until);
        let from_header = retry_after_secs.map(|s| {
            now_ms.saturating_add(i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
        });
        let until = match (from_msg, from_header) {
            (None, None) => now_ms.saturating_add(DEFAULT_BAN_MS),
            (a, b) => a.unwrap_or(i64::MIN).max(b.unwrap_or(i64::MIN)),
        };
        self.banned_until_ms = self.banned_until_ms.max(until);
        self.banned_until_ms
    }

    /// Units used in the window of `kind` and length `window_ms`, as of the
    /// last call (for status displays).
    pub fn used(&self, kind: LimitKind, window_ms: i64) -> Option<u32> {
        self.windows
            .iter()
            .find(|w| w.spec.kind == kind && w.spec.window_ms == window_ms)
            .map(|w| w.used)
    }

    /// The ban end if a 418 ban is in force at `now_ms`.
    pub fn banned_until(&self, now_ms: i64) -> Option<i64> {
        (now_ms < self.banned_until_ms).then_some(self.banned_until_ms)
    }
}

/// `X-MBX-USED-WEIGHT-1M` → (Weight, 60000); `x-mbx-order-count-10s` →
/// (Orders, 10000).
fn parse_header_name(name: &str) -> Option<(LimitKind, i64)> {
    const WEIGHT: &str = "x-mbx-used-weight-";
    const ORDERS: &str = "x-mbx-order-count-";
    let b = name.as_bytes();
    let (kind, rest) = if b.len() > WEIGHT.len() && name.is_char_boundary(WEIGHT.len()) {
        let (head, rest) = name.split_at(WEIGHT.len());
        if head.eq_ignore_ascii_case(WEIGHT) {
            (LimitKind::Weight, rest)
        } else if head.eq_ignore_ascii_case(ORDERS) {
            (LimitKind::Orders, rest)
        } else {
            return None;
        }
    } else {
        return None;
    };
    let unit = rest.chars().last()?;
    let num: i64 = rest.get(..rest.len() - unit.len_utf8())?.parse().ok()?;
    let unit_ms = match unit.to_ascii_lowercase() {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return None,
    };
    (num > 0).then(|| (kind, num.saturating_mul(unit_ms)))
}

/// A non-negative decimal count; anything else (including `-1`) is `None`.
fn parse_count(value: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(value).ok()?.trim();
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `<ms>` of "... banned until <ms>" (any case), if present.
pub fn parse_ban_until(message: &str) -> Option<i64> {
    const KEY: &[u8] = b"banned until";
    let b = message.as_bytes();
    let at = b
        .windows(KEY.len())
        .position(|w| w.eq_ignore_ascii_case(KEY))?;
    let rest = b.get(at + KEY.len()..)?;
    let digits: &[u8] = {
        let start = rest.iter().position(|c| !c.is_ascii_whitespace())?;
        let tail = rest.get(start..)?;
        let end = tail
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        tail.get(..end)?
    };
    if digits.is_empty() {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names() {
        let table: &[(&str, Option<(LimitKind, i64)>)] = &[
            ("X-MBX-USED-WEIGHT-1M", Some((LimitKind::Weight, 60_000))),
            ("x-mbx-used-weight-1m", Some((LimitKind::Weight, 60_000))),
            ("X-MBX-ORDER-COUNT-10S", Some((LimitKind::Orders, 10_000))),
            ("x-mbx-order-count-1m", Some((LimitKind::Orders, 60_000))),
            ("X-MBX-USED-WEIGHT", None),
            ("X-MBX-USED-WEIGHT-", None),
            ("X-MBX-USED-WEIGHT-M", None),
            ("X-MBX-USED-WEIGHT-0M", None),
            ("X-MBX-USED-WEIGHT-1X", None),
            ("Content-Length", None),
            ("X-MBX-USED-WEIGHT-1é", None),
        ];
        for (name, want) in table {
            assert_eq!(parse_header_name(name), *want, "{name}");
        }
    }

    #[test]
    fn counts() {
        let table: &[(&[u8], Option<u32>)] = &[
            (b"12", Some(12)),
            (b" 7 ", Some(7)),
            (b"-1", None),
            (b"", None),
            (b"1.5", None),
            (b"abc", None),
            (b"99999999999", None),
            (&[0xff, 0x31], None),
        ];
        for (v, want) in table {
            assert_eq!(parse_count(v), *want, "{v:?}");
        }
    }
}
