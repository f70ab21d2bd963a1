//! `binance-exec bench`: the engine's latency and allocation benchmark
//! against the simulator, next to a floor measured in the same run.
//!
//! Why a benchmark inside the crate (not only `benches/`): users compare the
//! engine to their current client on their own box, with their own wait
//! strategies and cores, so the measurement must ship in the binary they
//! run. One module per job:
//! - [`flow`]: the strategy that drives acks, cancels and fills;
//! - [`floor`]: the minimal client that sends the same bytes without the engine;
//! - [`alloc`]: the counting allocator and the engine threads' published counts;
//! - [`rss`]: peak resident memory;
//! - [`run`]: one benchmark run (simulator, engine, flow, floor);
//! - [`report`]: tables, JSON, `.hgrm` files and the SVG plot.

pub mod alloc;
pub mod floor;
pub mod flow;
pub mod handoff;
pub mod report;
pub mod rss;
pub mod run;
