//! The engine's event log: the first lines of a run and its last ones.
//!
//! A long run under faults logs far more than is worth keeping, and the
//! lines that explain how it ended are the last ones, not the first: a log
//! that keeps only its head hides exactly the part a post-mortem needs. So
//! this keeps a head (start-up, the first incidents) and a ring of the most
//! recent lines, says how many fell between the two, and stamps every line
//! with the milliseconds since the engine started so incidents can be put in
//! order against the venue's and the strategy's own logs.

use std::collections::VecDeque;

/// Bounded head + tail log with per-line elapsed times.
#[derive(Debug)]
pub struct EventLog {
    head: Vec<(u64, String)>,
    tail: VecDeque<(u64, String)>,
    head_cap: usize,
    tail_cap: usize,
    dropped: u64,
}

impl EventLog {
    /// Keeps the first `head_cap` lines and the last `tail_cap`.
    pub fn new(head_cap: usize, tail_cap: usize) -> Self {
        EventLog {
            head: Vec::with_capacity(head_cap.min(256)),
            tail: VecDeque::new(),
            head_cap,
            tail_cap,
            dropped: 0,
        }
    }

    /// Adds a line stamped `ms` (milliseconds since the engine started).
    pub fn push(&mut self, ms: u64, line: String) {
        if self.head.len() < self.head_cap {
            self.head.push((ms, line));
            return;
        }
        if self.tail_cap == 0 {
            self.dropped += 1;
            return;
        }
        if self.tail.len() == self.tail_cap {
            self.tail.pop_front();
            self.dropped += 1;
        }
        self.tail.push_back((ms, line));
    }

    /// The kept lines, oldest first, with a marker line where lines were
    /// left out; and each line's elapsed milliseconds (the marker carries
    /// the time of the first line after it).
    pub fn into_parts(self) -> (Vec<String>, Vec<u64>) {
        let n = self.head.len() + self.tail.len() + usize::from(self.dropped > 0);
        let mut lines = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(n);
        for (ms, l) in self.head {
            times.push(ms);
            lines.push(l);
        }
        if self.dropped > 0 {
            times.push(self.tail.front().map(|(ms, _)| *ms).unwrap_or(0));
            lines.push(format!("... {} event line(s) not kept ...", self.dropped));
        }
        for (ms, l) in self.tail {
            times.push(ms);
            lines.push(l);
        }
        (lines, times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_tail_and_counts_the_gap() {
        let mut log = EventLog::new(3, 2);
        for i in 0..10u64 {
            log.push(i * 10, format!("line {i}"));
        }
        let (lines, times) = log.into_parts();
        assert_eq!(
            lines,
            vec![
                "line 0",
                "line 1",
                "line 2",
                "... 5 event line(s) not kept ...",
                "line 8",
                "line 9"
            ]
        );
        assert_eq!(times, vec![0, 10, 20, 80, 80, 90]);
    }

    #[test]
    fn short_logs_are_kept_whole_without_a_marker() {
        let mut log = EventLog::new(3, 2);
        log.push(1, "a".into());
        log.push(2, "b".into());
        let (lines, times) = log.into_parts();
        assert_eq!(lines, vec!["a", "b"]);
        assert_eq!(times, vec![1, 2]);
    }
}
