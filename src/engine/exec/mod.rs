//! The execution thread: the single owner of order state.
//!
//! Why one owner: orders are touched by replies, three stream event types and
//! reconciliation queries that race each other; funnelling all of them
//! through one thread (no locks) is what makes "never lose an order" simple
//! to reason about.

use crate::config::Config;
use crate::engine::runner::{EngineError, EngineHandle, EngineOptions};
use crate::engine::strategy::Strategy;

/// Name of the execution thread (shows in `top -H`, panics, profilers).
pub const EXEC_THREAD: &str = "binance-exec-exec";

/// See [`crate::engine::runner::Engine::start`].
pub(crate) fn start<S: Strategy + Send + 'static>(
    config: Config,
    strategy: S,
    opts: EngineOptions,
) -> Result<EngineHandle, EngineError> {
    let _ = (config, strategy, opts);
    Err(EngineError::Thread {
        name: EXEC_THREAD,
        reason: "the network thread has not landed in this build yet".into(),
    })
}
