//! Latency recording (in progress)
