//! REQUEST_WEIGHT per IP and ORDERS per account, in fixed windows aligned to
//! the clock like Binance's (a minute window resets at the minute), shared by
//! REST and WS API. Past a limit: 429 with `Retry-After`; an IP that keeps
//! going collects strikes and is banned with 418, the ban doubling each time.
use super::LimitSettings;
use crate::sim::venue::{AccountId, Reply};
use std::collections::HashMap;
use std::net::IpAddr;

/// A counter over a fixed window of `len_ms`.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    start_ms: i64,
    count: u32,
}

impl Window {
    fn roll(&mut self, now_ms: i64, len_ms: i64) {
        let start = now_ms - now_ms.rem_euclid(len_ms);
        if start != self.start_ms {
            self.start_ms = start;
            self.count = 0;
        }
    }
    fn retry_after_s(&self, now_ms: i64, len_ms: i64) -> u64 {
        let left = (self.start_ms + len_ms - now_ms).max(1);
        ((left + 999) / 1000) as u64
    }
}

#[derive(Debug, Default)]
struct IpState {
    weight: Window,
    strikes: u32,
    banned_until_ms: i64,
    /// End of the `Retry-After` window of the last injected 429: only a
    /// request sent inside it is a strike (a client that honours the
    /// back-off is not banned for a fault it did not cause).
    told_until_ms: i64,
    bans: u32,
}

#[derive(Debug, Default)]
struct AccountState {
    ten_s: Window,
    minute: Window,
}

/// A refusal: the reply to send and the `Retry-After` seconds.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// 429 or 418 with -1003/-1015.
    pub reply: Reply,
    /// Seconds until the window (or ban) ends.
    pub retry_after_s: u64,
}

/// Current counter values, for headers and WS-API `rateLimits`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Used weight in the current minute (IP).
    pub weight_1m: u32,
    /// Orders in the current 10 s window (account).
    pub orders_10s: u32,
    /// Orders in the current minute (account).
    pub orders_1m: u32,
}

/// The shared counters.
#[derive(Debug)]
pub struct RateLimiter {
    cfg: LimitSettings,
    ips: HashMap<IpAddr, IpState>,
    accounts: HashMap<AccountId, AccountState>,
}

const MINUTE: i64 = 60_000;
const TEN_S: i64 = 10_000;

impl RateLimiter {
    /// Counters with the configured limits.
    pub fn new(cfg: LimitSettings) -> Self {
        RateLimiter {
            cfg,
            ips: HashMap::new(),
            accounts: HashMap::new(),
        }
    }

    /// The configured limits (for WS-API `rateLimits`).
    pub fn settings(&self) -> &LimitSettings {
        &self.cfg
    }

    /// Charges `weight` to `ip`; refuses when banned or over the limit.
    pub fn charge_weight(&mut self, ip: IpAddr, weight: u32, now_ms: i64) -> Result<u32, Refusal> {
        let cfg = &self.cfg;
        let st = self.ips.entry(ip).or_default();
        if now_ms < st.banned_until_ms {
            return Err(ban_refusal(st.banned_until_ms, now_ms));
        }
        let before = st.weight.start_ms;
        st.weight.roll(now_ms, MINUTE);
        if st.weight.start_ms != before {
            st.strikes = 0;
        }
        st.weight.count = st.weight.count.saturating_add(weight);
        if st.weight.count > cfg.weight_per_minute {
            let retry = st.weight.retry_after_s(now_ms, MINUTE);
            let msg = format!(
                "Too many requests; current limit of IP({ip}) is {} requests per minute. Please use the websocket for live updates to avoid being banned.",
                cfg.weight_per_minute
            );
            return Err(strike(
                st,
                cfg,
                now_ms,
                Reply::error(429, -1003, &msg),
                retry,
            ));
        }
        Ok(st.weight.count)
    }

    /// Charges ORDERS to an account; refuses with -1015 past either window.
    pub fn charge_orders(
        &mut self,
        ip: IpAddr,
        account: AccountId,
        ten_s: u32,
        minute: u32,
        now_ms: i64,
    ) -> Result<(u32, u32), Refusal> {
        let cfg = &self.cfg;
        let st = self.accounts.entry(account).or_default();
        st.ten_s.roll(now_ms, TEN_S);
        st.minute.roll(now_ms, MINUTE);
        let over_10s = st.ten_s.count + ten_s > cfg.orders_per_10s;
        let over_1m = st.minute.count + minute > cfg.orders_per_minute;
        if over_10s || over_1m {
            let (retry, msg) = if over_10s {
                (
                    st.ten_s.retry_after_s(now_ms, TEN_S),
                    format!(
                        "Too many new orders; current limit is {} orders per 10 SECOND.",
                        cfg.orders_per_10s
                    ),
                )
            } else {
                (
                    st.minute.retry_after_s(now_ms, MINUTE),
                    format!(
                        "Too many new orders; current limit is {} orders per MINUTE.",
                        cfg.orders_per_minute
                    ),
                )
            };
            let ip_st = self.ips.entry(ip).or_default();
            return Err(strike(
                ip_st,
                cfg,
                now_ms,
                Reply::error(429, -1015, &msg),
                retry,
            ));
        }
        st.ten_s.count += ten_s;
        st.minute.count += minute;
        Ok((st.ten_s.count, st.minute.count))
    }

    /// Records a forced 429 (fault injection) so it also counts as a strike.
    pub fn forced_429(&mut self, ip: IpAddr, now_ms: i64) -> Refusal {
        let cfg = &self.cfg;
        let st = self.ips.entry(ip).or_default();
        if now_ms < st.banned_until_ms {
            return ban_refusal(st.banned_until_ms, now_ms);
        }
        let reply = Reply::error(
            429,
            -1003,
            "Too many requests; current request has limited. Please use the websocket for live updates to avoid being banned.",
        );
        if now_ms >= st.told_until_ms {
            // First refusal of a window: a warning, not a strike.
            st.told_until_ms = now_ms + 1000;
            return Refusal {
                reply,
                retry_after_s: 1,
            };
        }
        strike(st, cfg, now_ms, reply, 1)
    }

    /// Counter values without charging anything.
    pub fn usage(&mut self, ip: IpAddr, account: Option<AccountId>, now_ms: i64) -> Usage {
        let mut u = Usage::default();
        if let Some(st) = self.ips.get_mut(&ip) {
            st.weight.roll(now_ms, MINUTE);
            u.weight_1m = st.weight.count;
        }
        if let Some(st) = account.and_then(|a| self.accounts.get_mut(&a)) {
            st.ten_s.roll(now_ms, TEN_S);
            st.minute.roll(now_ms, MINUTE);
            u.orders_10s = st.ten_s.count;
            u.orders_1m = st.minute.count;
        }
        u
    }
}

fn ban_refusal(until_ms: i64, now_ms: i64) -> Refusal {
    let msg = format!(
        "Way too many requests; IP banned until {until_ms}. Please use the websocket for live updates to avoid bans."
    );
    Refusal {
        reply: Reply::error(418, -1003, &msg),
        retry_after_s: (((until_ms - now_ms).max(1) + 999) / 1000) as u64,
    }
}

/// Counts a 429; past `ban_after_429s` strikes the IP is banned (418).
fn strike(st: &mut IpState, cfg: &LimitSettings, now_ms: i64, reply: Reply, retry: u64) -> Refusal {
    st.strikes += 1;
    if st.strikes > cfg.ban_after_429s {
        let len = cfg
            .ban_ms
            .saturating_mul(1u64 << st.bans.min(20))
            .min(cfg.max_ban_ms.max(cfg.ban_ms));
        st.bans += 1;
        st.strikes = 0;
        st.banned_until_ms = now_ms + len as i64;
        return ban_refusal(st.banned_until_ms, now_ms);
    }
    Refusal {
        reply,
        retry_after_s: retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_then_strikes_then_ban() {
        let cfg = LimitSettings {
            weight_per_minute: 3,
            ban_after_429s: 2,
            ban_ms: 1000,
            ..Default::default()
        };
        let mut rl = RateLimiter::new(cfg);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t = 60_000 * 1000 + 5;
        assert_eq!(rl.charge_weight(ip, 3, t).ok(), Some(3));
        let r = rl.charge_weight(ip, 1, t).unwrap_err();
        assert_eq!(
            (r.reply.status, r.reply.code, r.retry_after_s),
            (429, Some(-1003), 60)
        );
        assert_eq!(rl.charge_weight(ip, 1, t).unwrap_err().reply.status, 429);
        let ban = rl.charge_weight(ip, 1, t).unwrap_err();
        assert_eq!(ban.reply.status, 418);
        assert!(ban.reply.body.contains("IP banned until"));
        // Ban outlives the window reset.
        assert_eq!(
            rl.charge_weight(ip, 1, t + 500).unwrap_err().reply.status,
            418
        );
        assert!(rl.charge_weight(ip, 1, t + 60_000).is_ok());
    }

    #[test]
    fn injected_429s_strike_only_inside_the_back_off_window() {
        let cfg = LimitSettings {
            ban_after_429s: 1,
            ..Default::default()
        };
        let mut rl = RateLimiter::new(cfg);
        let ip: IpAddr = [127, 0, 0, 1].into();
        // Honoured back-offs: never banned, however many faults.
        for n in 0..10 {
            let r = rl.forced_429(ip, n * 1_000);
            assert_eq!((r.reply.status, r.retry_after_s), (429, 1));
        }
        // Requests inside the window are strikes, then a ban.
        assert_eq!(rl.forced_429(ip, 20_000).reply.status, 429);
        assert_eq!(rl.forced_429(ip, 20_100).reply.status, 429);
        assert_eq!(rl.forced_429(ip, 20_200).reply.status, 418);
    }

    #[test]
    fn orders_windows() {
        let cfg = LimitSettings {
            orders_per_10s: 2,
            ..Default::default()
        };
        let mut rl = RateLimiter::new(cfg);
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert_eq!(rl.charge_orders(ip, 0, 1, 1, 0).ok(), Some((1, 1)));
        assert_eq!(rl.charge_orders(ip, 0, 1, 1, 0).ok(), Some((2, 2)));
        let r = rl.charge_orders(ip, 0, 1, 1, 0).unwrap_err();
        assert_eq!(r.reply.code, Some(-1015));
        assert_eq!(rl.charge_orders(ip, 1, 1, 1, 0).ok(), Some((1, 1)));
        assert_eq!(rl.charge_orders(ip, 0, 1, 1, 10_000).ok(), Some((1, 3)));
    }
}
