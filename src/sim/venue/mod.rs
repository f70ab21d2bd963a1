//! Venue logic (in progress)
