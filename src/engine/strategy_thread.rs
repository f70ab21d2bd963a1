//! The strategy thread: runs the user's callbacks against a [`Context`]
//! backed by channels to the execution thread.
//!
//! [`Context`]: crate::engine::strategy::Context

/// Name of the strategy thread.
pub const STRATEGY_THREAD: &str = "binance-exec-strategy";
