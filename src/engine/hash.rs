//! A small multiplicative hasher for the engine's index maps.
//!
//! The maps are keyed by ids the engine itself issued or the venue assigned
//! (client ids, order ids, trade ids) and are probed several times per report,
//! so SipHash's DoS resistance buys nothing here while its cost is on every
//! event. This is the well-known "Fx" rotate-xor-multiply scheme.

use std::hash::{BuildHasherDefault, Hasher};

/// Word-at-a-time rotate/xor/multiply hasher.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Builder for `HashMap::with_capacity_and_hasher`.
pub type FxBuild = BuildHasherDefault<FxHasher>;
/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;

/// A map sized so that it never reallocates while it holds at most `n`
/// entries, even after many insert/remove cycles (twice the room keeps
/// in-place rehashing possible when tombstones accumulate).
pub fn map_with_room<K, V>(n: usize) -> FxHashMap<K, V> {
    FxHashMap::with_capacity_and_hasher(n.saturating_mul(2).saturating_add(16), FxBuild::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keys_stay_distinct() {
        let mut m: FxHashMap<String, i64> = FxHashMap::default();
        m.insert("a".into(), 1);
        m.insert("abcdefghij".into(), 2);
        m.insert("abcdefghik".into(), 3);
        assert_eq!(m.get("abcdefghik"), Some(&3));
        assert_eq!(m.len(), 3);
        let mut n: FxHashMap<i64, i64> = FxHashMap::default();
        for i in 0..1000 {
            n.insert(i, i * 2);
        }
        assert_eq!(n.get(&999), Some(&1998));
    }
}
