//! listenKeys: one live key per account, valid for 60 minutes (scaled) from
//! its last POST/PUT. POST returns the live key and extends it; PUT on a dead
//! key is -1125; expiry is reported by the tick thread so the hub can push
//! `listenKeyExpired` and stop the account's user events on that key.
use crate::sim::venue::AccountId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Live {
    key: String,
    expires: Instant,
}

/// The registry.
#[derive(Debug)]
pub struct ListenKeys {
    validity: Duration,
    by_account: HashMap<AccountId, Live>,
    rng: u64,
}

impl ListenKeys {
    /// Keys valid for `validity` after each POST/PUT; `seed` makes key text
    /// reproducible.
    pub fn new(validity: Duration, seed: u64) -> Self {
        ListenKeys {
            validity,
            by_account: HashMap::new(),
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next_key(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut s = String::with_capacity(64);
        for _ in 0..64 {
            // xorshift64*: good enough for unique-looking opaque keys.
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
            s.push(ALPHABET[(r >> 58) as usize % ALPHABET.len()] as char);
        }
        s
    }

    /// POST: the live key (extended) or a new one.
    pub fn start(&mut self, account: AccountId, now: Instant) -> String {
        if let Some(live) = self.by_account.get_mut(&account)
            && live.expires > now
        {
            live.expires = now + self.validity;
            return live.key.clone();
        }
        let key = self.next_key();
        self.by_account.insert(
            account,
            Live {
                key: key.clone(),
                expires: now + self.validity,
            },
        );
        key
    }

    /// PUT: extends the live key; `None` = no live key (-1125).
    pub fn keepalive(&mut self, account: AccountId, now: Instant) -> Option<String> {
        let live = self.by_account.get_mut(&account)?;
        if live.expires <= now {
            return None;
        }
        live.expires = now + self.validity;
        Some(live.key.clone())
    }

    /// DELETE: invalidates the account's key, returning it.
    pub fn close(&mut self, account: AccountId) -> Option<String> {
        self.by_account.remove(&account).map(|l| l.key)
    }

    /// The account owning a live key (stream connections bind with it).
    pub fn account_of(&self, key: &str, now: Instant) -> Option<AccountId> {
        self.by_account
            .iter()
            .find(|(_, l)| l.key == key && l.expires > now)
            .map(|(a, _)| *a)
    }

    /// Whether `key` is the live key of `account`.
    pub fn is_live(&self, account: AccountId, key: &str, now: Instant) -> bool {
        self.by_account
            .get(&account)
            .is_some_and(|l| l.key == key && l.expires > now)
    }

    /// Removes and returns keys past their expiry (or all keys when `all`).
    pub fn expire(&mut self, now: Instant, all: bool) -> Vec<(AccountId, String)> {
        let dead: Vec<AccountId> = self
            .by_account
            .iter()
            .filter(|(_, l)| all || l.expires <= now)
            .map(|(a, _)| *a)
            .collect();
        dead.into_iter()
            .filter_map(|a| self.by_account.remove(&a).map(|l| (a, l.key)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut k = ListenKeys::new(Duration::from_millis(100), 7);
        let t0 = Instant::now();
        let a = k.start(0, t0);
        assert_eq!(a.len(), 64);
        assert_eq!(k.start(0, t0 + Duration::from_millis(50)), a);
        assert_eq!(
            k.keepalive(0, t0 + Duration::from_millis(120)),
            Some(a.clone())
        );
        assert!(k.expire(t0 + Duration::from_millis(200), false).is_empty());
        assert_eq!(
            k.expire(t0 + Duration::from_millis(300), false),
            vec![(0, a.clone())]
        );
        assert_eq!(k.keepalive(0, t0 + Duration::from_millis(300)), None);
        assert_ne!(k.start(0, t0 + Duration::from_millis(300)), a);
    }
}
