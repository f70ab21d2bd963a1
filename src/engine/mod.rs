//! The engine's threads: network I/O, execution (order state) and strategy, connected by
//! bounded crossbeam channels carrying preallocated buffers.
//!
//! - [`buffers`]: the recycled byte buffers and the monotonic clock every stage stamps with;
//! - [`net_thread`]: the one thread that owns every socket.

pub mod buffers;
pub mod net_thread;
