//! Crash-safe, append-only journal of order intents and events.
//!
//! The engine must never lose an order: after a crash or a kill it has to know
//! every client order id it ever sent, so it can reconcile them with the venue
//! (query by `origClientOrderId`) instead of forgetting a live order, and so
//! its client-id generator never reuses a number. Each intent is appended
//! *before* the request is sent; acks, fills and final states follow.
//!
//! Durability: every record is one `write` system call straight to the file
//! (no user-space buffer), so once `append` returns the record survives the
//! process being killed; surviving power loss needs `fsync`, which
//! [`FsyncPolicy`] trades against latency.
//!
//! Recovery: [`Journal::open`] replays the file. A damaged *tail* (the one
//! write that was in flight, or unsynced blocks after power loss) is cut off
//! and reported; damage followed by valid records means the file was
//! corrupted in the middle, which no crash produces, so it is refused rather
//! than silently skipping orders.

pub mod crc;
pub mod record;
mod replay;

pub use record::{Intent, Record};
pub use replay::{OrderState, Replay, ReplayedOrder, TailRepair};

use record::{Frame, HEADER_LEN, MAX_PAYLOAD, frame};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// First bytes of every journal file: format name and version.
pub const MAGIC: &[u8; 8] = b"BXJRNL01";

/// When appended records are forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every record: survives power loss, costs a disk flush per order.
    Always,
    /// After every `n` records (n ≥ 1).
    EveryN(u32),
    /// When at least this long has passed since the last sync (checked on
    /// append, so an idle journal is synced at the next append or on drop).
    Interval(Duration),
    /// Never explicitly (the OS writes back on its own schedule); still safe
    /// against the process crashing, not against the machine losing power.
    Never,
}

impl FsyncPolicy {
    /// Parses the setting: `always`, `never`, `every_n:<n>`, `interval_ms:<ms>`.
    pub fn parse(s: &str) -> Result<Self, JournalError> {
        let bad = || JournalError::BadPolicy(s.to_string());
        match s.trim() {
            "always" => Ok(FsyncPolicy::Always),
            "never" => Ok(FsyncPolicy::Never),
            other => {
                let (key, num) = other.split_once(':').ok_or_else(bad)?;
                let n: u64 = num.trim().parse().map_err(|_| bad())?;
                match key.trim() {
                    "every_n" if n >= 1 => {
                        Ok(FsyncPolicy::EveryN(u32::try_from(n).map_err(|_| bad())?))
                    }
                    "interval_ms" => Ok(FsyncPolicy::Interval(Duration::from_millis(n))),
                    _ => Err(bad()),
                }
            }
        }
    }
}

/// Why the journal could not be opened, replayed or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("journal {path}: {op}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file does not start with the journal magic: refusing to append
    /// to (and thereby damage) some other file.
    #[error("{path} is not a binance-exec journal (bad magic)")]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// A damaged record is followed by valid ones: not a crash artefact.
    #[error(
        "journal {path} is corrupt at byte {offset} ({reason}) with valid records after it; refusing to replay a journal with a hole (restore it or move it aside)"
    )]
    CorruptMiddle {
        /// The file.
        path: PathBuf,
        /// Byte offset of the damaged record.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The fsync setting is not one of the accepted spellings.
    #[error(
        "bad journal fsync policy {0:?}: expected always, never, every_n:<n> or interval_ms:<ms>"
    )]
    BadPolicy(String),
}

/// The open journal: replayed state plus an appender.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    policy: FsyncPolicy,
    unsynced: u32,
    last_sync: Instant,
    max_seq: Option<u64>,
    replay: Replay,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, replays it, repairs a torn
    /// tail, and appends a session header.
    pub fn open(path: &Path, policy: FsyncPolicy) -> Result<Journal, JournalError> {
        let io = |op: &'static str| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { path, op, source }
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io("open"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("read"))?;
        let replay = replay_bytes(path, &bytes)?;
        let valid_end = replay.valid_end;
        if (bytes.len() as u64) != valid_end || valid_end < MAGIC.len() as u64 {
            // Cut the torn tail (or a torn magic) before appending after it.
            file.set_len(valid_end).map_err(io("truncate"))?;
        }
        file.seek(SeekFrom::Start(valid_end)).map_err(io("seek"))?;
        if valid_end == 0 {
            file.write_all(MAGIC).map_err(io("write magic"))?;
        }
        let mut j = Journal {
            path: path.to_path_buf(),
            file,
            buf: Vec::with_capacity(HEADER_LEN + MAX_PAYLOAD),
            policy,
            unsynced: 0,
            last_sync: Instant::now(),
            max_seq: replay.max_seq,
            replay,
        };
        if valid_end == 0 || j.replay.tail_repair.is_some() {
            j.sync()?;
        }
        j.append(&Record::Session {
            started_ms: super::clock::local_wall_ms(),
            pid: std::process::id(),
        })?;
        Ok(j)
    }

    /// What the journal held when it was opened.
    pub fn replay(&self) -> &Replay {
        &self.replay
    }

    /// The next client-id sequence number: one past the highest ever
    /// journaled (including this session's intents), so a restarted engine
    /// never reuses an id.
    pub fn next_seq(&self) -> u64 {
        self.max_seq.map_or(0, |s| s.saturating_add(1))
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (one `write` call) and syncs per the policy. No
    /// allocation: the encode buffer is reused.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        self.buf.clear();
        record::encode(record, &mut self.buf);
        self.file
            .write_all(&self.buf)
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                op: "append",
                source,
            })?;
        if let Record::Intent(i) = record {
            self.max_seq = Some(self.max_seq.map_or(i.seq, |m| m.max(i.seq)));
        }
        self.unsynced = self.unsynced.saturating_add(1);
        let due = match self.policy {
            FsyncPolicy::Always => true,
            FsyncPolicy::EveryN(n) => self.unsynced >= n.max(1),
            FsyncPolicy::Interval(d) => self.last_sync.elapsed() >= d,
            FsyncPolicy::Never => false,
        };
        if due { self.sync() } else { Ok(()) }
    }

    /// Forces appended records to stable storage now (e.g. at shutdown).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file.sync_data().map_err(|source| JournalError::Io {
            path: self.path.clone(),
            op: "fsync",
            source,
        })?;
        self.unsynced = 0;
        self.last_sync = Instant::now();
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if self.unsynced > 0 && self.policy != FsyncPolicy::Never {
            // Best effort: a failure here has no one to report to, and the
            // records are already in the OS cache.
            let _ = self.file.sync_data();
        }
    }
}

/// Replays a journal without opening it for writing (inspection tools,
/// tests). A torn tail is reported in the result but left on disk.
pub fn read_journal(path: &Path) -> Result<Replay, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        op: "read",
        source,
    })?;
    replay_bytes(path, &bytes)
}

/// Replays journal bytes into a summary; `path` is only for messages.
pub fn replay_bytes(path: &Path, bytes: &[u8]) -> Result<Replay, JournalError> {
    let mut replay = Replay::default();
    match bytes.get(..MAGIC.len()) {
        Some(m) if m == MAGIC => {}
        // A crash while creating the file leaves fewer bytes than the magic:
        // nothing was ever journaled, start over.
        None if MAGIC.starts_with(bytes) => {
            if !bytes.is_empty() {
                replay.tail_repair = Some(TailRepair {
                    offset: 0,
                    dropped_bytes: bytes.len() as u64,
                    reason: "torn file header".to_string(),
                });
            }
            return Ok(replay);
        }
        _ => {
            return Err(JournalError::NotAJournal {
                path: path.to_path_buf(),
            });
        }
    }
    let mut pos = MAGIC.len();
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        let reason = match frame(rest) {
            Frame::Valid { payload, total } => match record::decode(payload) {
                Ok(r) => {
                    replay.apply(&r);
                    pos += total;
                    continue;
                }
                Err(e) => e.to_string(),
            },
            Frame::Truncated => "record cut short".to_string(),
            Frame::Damaged => "bad length or checksum".to_string(),
        };
        if let Some(later) = find_valid_record(bytes, pos + 1) {
            return Err(JournalError::CorruptMiddle {
                path: path.to_path_buf(),
                offset: pos as u64,
                reason: format!("{reason}; next valid record at byte {later}"),
            });
        }
        replay.tail_repair = Some(TailRepair {
            offset: pos as u64,
            dropped_bytes: (bytes.len() - pos) as u64,
            reason,
        });
        break;
    }
    replay.valid_end = pos as u64;
    Ok(replay)
}

/// The first offset at or after `from` where a complete, decodable record
/// starts. Used only after damage was found, to tell a torn tail (nothing
/// valid follows) from a corrupt middle.
fn find_valid_record(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&at| match bytes.get(at..).map(frame) {
        Some(Frame::Valid { payload, .. }) => record::decode(payload).is_ok(),
        _ => false,
    })
}
