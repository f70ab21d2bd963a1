//! What loading a config reads besides the file: environment variables and
//! the machine's core ids. Injected so tests (which run in parallel threads of
//! one process) never have to mutate the real environment.

use std::collections::BTreeMap;

/// Environment variable that overrides the file's `testnet`, as the
/// reference Python factory does.
pub const TESTNET_VAR: &str = "BINANCE_TESTNET";

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Variable lookup plus the core ids threads may be pinned to.
pub struct Environment<'a> {
    lookup: Lookup<'a>,
    core_ids: Option<Vec<usize>>,
}

impl Environment<'static> {
    /// The real process environment and this machine's cores.
    pub fn process() -> Self {
        Environment {
            lookup: Box::new(|name| std::env::var(name).ok()),
            core_ids: core_affinity::get_core_ids().map(|v| v.into_iter().map(|c| c.id).collect()),
        }
    }

    /// Fixed variables (for tests and embedding) and this machine's cores.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Environment {
            lookup: Box::new(move |name| map.get(name).cloned()),
            core_ids: core_affinity::get_core_ids().map(|v| v.into_iter().map(|c| c.id).collect()),
        }
    }
}

impl<'a> Environment<'a> {
    /// Any lookup function, e.g. a closure over a map.
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Environment {
            lookup: Box::new(lookup),
            core_ids: core_affinity::get_core_ids().map(|v| v.into_iter().map(|c| c.id).collect()),
        }
    }

    /// Replaces the machine's core list (`None`: the platform cannot list
    /// cores, so no thread may be pinned).
    pub fn with_core_ids(mut self, core_ids: Option<Vec<usize>>) -> Self {
        self.core_ids = core_ids;
        self
    }

    /// A variable's value; an exported but empty variable counts as unset.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    /// Core ids available for pinning.
    pub fn core_ids(&self) -> Option<&[usize]> {
        self.core_ids.as_deref()
    }
}

impl std::fmt::Debug for Environment<'_> {
    /// Never prints variables: they hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("core_ids", &self.core_ids)
            .finish_non_exhaustive()
    }
}
