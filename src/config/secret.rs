//! API keys and secrets that can never leak through logs.

use std::fmt;

/// An API key or secret. It never comes from the config file (files get
/// committed and copied around); `Debug` and `Display` print `***` so a
/// `{:?}` of any struct holding one is safe to log, and the bytes are
/// overwritten on drop (best effort: earlier copies made by the OS or the
/// environment are out of our hands).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the environment or the simulator.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear text, for the signer and the `X-MBX-APIKEY` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes, so diagnostics can say "64 characters" without showing any.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty (an exported but empty variable).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("2b5eb11e18796d12");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:#?}", Some(&s)), "Some(\n    Secret(***),\n)");
        assert_eq!(s.expose(), "2b5eb11e18796d12");
        assert_eq!(s.len(), 16);
    }
}
