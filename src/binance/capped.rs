//! Fixed-capacity lists for venue arrays on the hot path.
//!
//! Why: ACCOUNT_UPDATE arrives on every fill, and decoding its `B`/`P` arrays
//! into `Vec`s was a heap allocation per fill. The venue only sends the assets
//! and positions that changed, so a small inline capacity covers real traffic;
//! anything beyond it is still parsed (so a bad element is still an error) but
//! not kept, and [`Capped::dropped`] says how many were lost so the caller can
//! resynchronise from REST instead of trusting a partial picture. Never panics.

use serde::de::{Deserialize, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use std::fmt;

/// Up to `N` items kept inline in arrival order, plus a count of the ones that
/// did not fit. Reads as a slice (`len`, `iter`, indexing, `for x in &list`).
#[derive(Clone, Copy)]
pub struct Capped<T: Copy, const N: usize> {
    // `None` until the first item: every slot is then filled with a copy of
    // it, so the array never needs a placeholder value or `unsafe`.
    slots: Option<[T; N]>,
    len: usize,
    dropped: usize,
}

impl<T: Copy, const N: usize> Capped<T, N> {
    /// How many items this list keeps at most.
    pub const CAPACITY: usize = N;

    /// An empty list (what a missing or `[]` array decodes to).
    pub const fn new() -> Self {
        Capped {
            slots: None,
            len: 0,
            dropped: 0,
        }
    }

    /// Appends `item`, or counts it as dropped when the list is full.
    pub fn push(&mut self, item: T) {
        if self.len >= N {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        match &mut self.slots {
            Some(slots) => {
                if let Some(slot) = slots.get_mut(self.len) {
                    *slot = item;
                }
            }
            None => self.slots = Some([item; N]),
        }
        self.len += 1;
    }

    /// The kept items.
    pub fn as_slice(&self) -> &[T] {
        match &self.slots {
            Some(slots) => slots.get(..self.len).unwrap_or(&[]),
            None => &[],
        }
    }

    /// Items the venue sent beyond the capacity (parsed, then discarded).
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// True when some items were discarded: the list is not the full picture.
    pub fn is_truncated(&self) -> bool {
        self.dropped > 0
    }

    /// Empties the list (and its dropped count) but keeps the storage, so a
    /// reused list costs no copy of its `N` slots on the next fill.
    pub fn clear(&mut self) {
        self.len = 0;
        self.dropped = 0;
    }
}

/// Decodes a JSON array into an existing list, replacing its contents. Why:
/// a decoder that reuses one preallocated event (see
/// `events::decode_account_update_into`) must not build and move a fresh
/// inline array per message.
pub struct Refill<'a, T: Copy, const N: usize>(pub &'a mut Capped<T, N>);

impl<'de, T: Copy + Deserialize<'de>, const N: usize> DeserializeSeed<'de> for Refill<'_, T, N> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.clear();
        d.deserialize_seq(self)
    }
}

impl<'de, T: Copy + Deserialize<'de>, const N: usize> Visitor<'de> for Refill<'_, T, N> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array (up to {N} items kept)")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            self.0.push(item);
        }
        Ok(())
    }
}

impl<T: Copy, const N: usize> Default for Capped<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for Capped<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a Capped<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: Copy, const N: usize> FromIterator<T> for Capped<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut list = Self::new();
        for item in iter {
            list.push(item);
        }
        list
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for Capped<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice() && self.dropped == other.dropped
    }
}

impl<T: Copy + Eq, const N: usize> Eq for Capped<T, N> {}

impl<T: Copy + fmt::Debug, const N: usize> fmt::Debug for Capped<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        l.entries(self.as_slice());
        if self.dropped > 0 {
            l.entry(&format_args!("… {} dropped", self.dropped));
        }
        l.finish()
    }
}

impl<'de, T: Copy + Deserialize<'de>, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut list = Capped::new();
        Refill(&mut list).deserialize(d)?;
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_n_and_counts_the_rest() {
        let l: Capped<u32, 3> = (1..=5).collect();
        assert_eq!(l.as_slice(), &[1, 2, 3]);
        assert_eq!(l.dropped(), 2);
        assert!(l.is_truncated());
        let e: Capped<u32, 3> = Capped::default();
        assert!(e.is_empty() && !e.is_truncated());
    }

    #[test]
    fn decodes_arrays_of_any_length() {
        let l: Capped<u32, 2> = sonic_rs::from_str("[7, 8, 9]").unwrap();
        assert_eq!((&l[..], l.dropped()), (&[7, 8][..], 1));
        let l: Capped<u32, 2> = sonic_rs::from_str("[]").unwrap();
        assert!(l.is_empty());
        // Like `Vec`: `null` is not an array.
        assert!(sonic_rs::from_str::<Capped<u32, 2>>("null").is_err());
        // A bad element past the cap is still an error, not silently skipped.
        assert!(sonic_rs::from_str::<Capped<u32, 1>>("[1, \"x\"]").is_err());
        assert!(sonic_rs::from_str::<Capped<u32, 1>>("{}").is_err());
    }

    #[test]
    fn refill_replaces_contents_and_the_truncation_flag() {
        let mut l: Capped<u32, 2> = Capped::new();
        let mut de = sonic_rs::Deserializer::from_str("[1, 2, 3, 4]");
        Refill(&mut l).deserialize(&mut de).unwrap();
        assert_eq!(
            (&l[..], l.dropped(), l.is_truncated()),
            (&[1, 2][..], 2, true)
        );
        // A later, shorter array leaves nothing of the earlier one behind.
        let mut de = sonic_rs::Deserializer::from_str("[9]");
        Refill(&mut l).deserialize(&mut de).unwrap();
        assert_eq!((&l[..], l.is_truncated()), (&[9][..], false));
        l.clear();
        assert!(l.is_empty() && !l.is_truncated());
    }
}
