//! The venue's hash maps use the engine's Fx hasher: keys are venue ids and
//! symbols we generate or validate ourselves, so no HashDoS-resistant (and
//! slower) SipHash is needed, and one hasher serves the whole crate.

/// A `HashMap` with the crate's fast, non-cryptographic hasher.
pub type FastMap<K, V> = crate::engine::hash::FxHashMap<K, V>;
