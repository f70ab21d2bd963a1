//! Client-side RFC 6455 frame reader that decodes into buffers it reuses.
//!
//! Why hand-written: tungstenite's `read` builds an owned `Message` per frame
//! (two heap allocations per frame), and every market tick and fill is a frame.
//! This reader keeps one read buffer and one reassembly buffer per connection,
//! sized at connect time and reused for the connection's life, and hands out
//! borrowed views. tungstenite still does the upgrade handshake and all writes.
//!
//! Sans-IO: bytes go in with [`FrameReader::read_from`] (any `Read`) or
//! [`FrameReader::feed`]; [`FrameReader::next_frame`] yields complete messages and
//! control frames, or `None` when more bytes are needed — a frame cut at any
//! byte is simply incomplete, never an error. Server frames are unmasked; a
//! masked one, reserved bits (no extension is negotiated), unknown opcodes, a
//! stray or missing continuation, a fragmented or oversized control frame, a
//! bad close payload, invalid UTF-8 in a text message, or a frame/message over
//! the size limit are each a [`FrameError`] — the connection must then be
//! dropped.

use std::io::{self, Read};

/// Why the peer's bytes are not a valid WebSocket stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// RSV1-3 set although no extension was negotiated.
    #[error("reserved bits set in frame header (0x{0:02x})")]
    ReservedBits(u8),
    /// Opcode 3-7 or 0xB-0xF.
    #[error("unknown opcode 0x{0:x}")]
    BadOpcode(u8),
    /// The server masked a frame (RFC 6455 §5.1 forbids it).
    #[error("server frame is masked")]
    Masked,
    /// A control frame with more than 125 bytes or without FIN.
    #[error("invalid control frame (opcode 0x{opcode:x}, {len} bytes, fin {fin})")]
    BadControl {
        /// Opcode.
        opcode: u8,
        /// Payload length.
        len: u64,
        /// FIN bit.
        fin: bool,
    },
    /// A continuation frame with no message in progress.
    #[error("continuation frame without a started message")]
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is unfinished.
    #[error("new data frame before the fragmented message finished")]
    ExpectedContinuation,
    /// A frame or reassembled message larger than the configured limit.
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Size announced or reached.
        len: u64,
        /// Configured limit.
        max: usize,
    },
    /// The 64-bit length has its top bit set.
    #[error("invalid 64-bit payload length")]
    BadLength,
    /// A text message that is not UTF-8.
    #[error("text message is not valid UTF-8")]
    BadUtf8,
    /// A close payload of one byte, or a reason that is not UTF-8.
    #[error("invalid close frame payload")]
    BadClose,
}

/// A complete message or control frame, borrowed until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// Text message.
    Text(&'a str),
    /// Binary message.
    Binary(&'a [u8]),
    /// Ping (the caller owes a pong with this payload).
    Ping(&'a [u8]),
    /// Pong.
    Pong(&'a [u8]),
    /// Close with (status, reason) when the frame had a status.
    Close(Option<(u16, &'a str)>),
}

/// What kind of frame is ready (crate-internal handle for [`FrameReader::view`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

/// Where a ready frame's payload is: in the read buffer, or reassembled.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload {
    Read { start: usize, end: usize },
    Assembled,
}

/// A decoded frame header: kind, FIN and where the payload sits.
#[derive(Debug, Clone, Copy)]
struct Header {
    fin: bool,
    opcode: u8,
    header_len: usize,
    payload_len: u64,
}

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Reads server frames into reused buffers (see the module docs).
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    assembled: Vec<u8>,
    /// Kind of the fragmented message in progress, if any.
    fragmented: Option<Kind>,
    max_message: usize,
}

/// Largest frame header: 2 bytes + 8-byte length (+ 4-byte mask, refused).
const MAX_HEADER: usize = 14;

/// Compact before reading once less than this is free behind the data.
const COMPACT_BELOW: usize = 4096;

impl FrameReader {
    /// A reader refusing messages over `max_message` bytes, with `capacity`
    /// bytes of read buffer allocated now (it grows only for a frame larger
    /// than that, up to the limit, and then keeps its size).
    pub fn new(max_message: usize, capacity: usize) -> FrameReader {
        let cap = capacity.clamp(MAX_HEADER, max_message.saturating_add(MAX_HEADER));
        FrameReader {
            buf: vec![0; cap],
            start: 0,
            end: 0,
            assembled: Vec::new(),
            fragmented: None,
            max_message,
        }
    }

    /// Bytes received but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Makes room at the end of the buffer: compacts, then grows only when a
    /// single frame needs more than the current size.
    fn make_room(&mut self, need: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < need {
            let limit = self.max_message.saturating_add(MAX_HEADER);
            let want = (self.end + need).max(self.buf.len().saturating_mul(2).min(limit));
            self.buf.resize(want, 0);
        }
    }

    /// Appends bytes (tests, and the bytes read past the upgrade response).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.make_room(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.end..self.end + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.end += bytes.len();
        }
    }

    /// One `read` from `src` into the free space; `Ok(0)` is end of stream.
    /// Call after [`next_frame`](Self::next_frame) returned `None`.
    pub fn read_from<R: Read + ?Sized>(&mut self, src: &mut R) -> io::Result<usize> {
        let need = self.pending_need();
        let free = self.buf.len() - self.end;
        if free < need || (self.start > 0 && free < COMPACT_BELOW) {
            self.make_room(need);
        }
        let free = self.buf.get_mut(self.end..).unwrap_or(&mut []);
        let n = src.read(free)?;
        self.end += n;
        Ok(n)
    }

    /// Free bytes needed to complete the frame at the head (at least 1).
    fn pending_need(&self) -> usize {
        let have = self.buffered();
        match parse_header(self.buf.get(self.start..self.end).unwrap_or(&[])) {
            Ok(Some(h)) => {
                let total = (h.header_len as u64).saturating_add(h.payload_len);
                usize::try_from(total)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(have)
                    .max(1)
            }
            _ => MAX_HEADER.saturating_sub(have).max(1),
        }
    }

    /// The next complete message or control frame, `Ok(None)` if more bytes
    /// are needed. After an error the stream is unusable.
    pub fn next_frame(&mut self) -> Result<Option<Incoming<'_>>, FrameError> {
        match self.advance()? {
            Some((kind, at)) => self.view(kind, at).map(Some),
            None => Ok(None),
        }
    }

    /// Consumes frames until one is deliverable; returns where it is.
    pub(crate) fn advance(&mut self) -> Result<Option<(Kind, Payload)>, FrameError> {
        loop {
            let avail = self.buf.get(self.start..self.end).unwrap_or(&[]);
            let Some(h) = parse_header(avail)? else {
                return Ok(None);
            };
            let is_control = h.opcode & 0x8 != 0;
            if is_control && (h.payload_len > 125 || !h.fin) {
                return Err(FrameError::BadControl {
                    opcode: h.opcode,
                    len: h.payload_len,
                    fin: h.fin,
                });
            }
            if h.payload_len > self.max_message as u64 {
                return Err(FrameError::TooLarge {
                    len: h.payload_len,
                    max: self.max_message,
                });
            }
            // Fits in usize: bounded by max_message above.
            let len = h.payload_len as usize;
            if avail.len() < h.header_len + len {
                return Ok(None);
            }
            let start = self.start + h.header_len;
            let end = start + len;
            self.start = end;
            if self.start == self.end {
                self.start = 0;
                self.end = 0;
            }
            let at = Payload::Read { start, end };
            let kind = match h.opcode {
                OP_PING => Kind::Ping,
                OP_PONG => Kind::Pong,
                OP_CLOSE => Kind::Close,
                OP_TEXT | OP_BINARY => {
                    if self.fragmented.is_some() {
                        return Err(FrameError::ExpectedContinuation);
                    }
                    let kind = if h.opcode == OP_TEXT {
                        Kind::Text
                    } else {
                        Kind::Binary
                    };
                    if h.fin {
                        return Ok(Some((kind, at)));
                    }
                    self.fragmented = Some(kind);
                    self.assembled.clear();
                    self.append(start, end)?;
                    continue;
                }
                OP_CONT => {
                    let Some(kind) = self.fragmented else {
                        return Err(FrameError::UnexpectedContinuation);
                    };
                    self.append(start, end)?;
                    if h.fin {
                        self.fragmented = None;
                        return Ok(Some((kind, Payload::Assembled)));
                    }
                    continue;
                }
                other => return Err(FrameError::BadOpcode(other)),
            };
            return Ok(Some((kind, at)));
        }
    }

    /// Adds a fragment's payload to the message being reassembled.
    fn append(&mut self, start: usize, end: usize) -> Result<(), FrameError> {
        let total = self.assembled.len() + (end - start);
        if total > self.max_message {
            return Err(FrameError::TooLarge {
                len: total as u64,
                max: self.max_message,
            });
        }
        // The payload is still in `buf` even though `start`/`end` were reset
        // (nothing has been read over it yet).
        self.assembled
            .extend_from_slice(self.buf.get(start..end).unwrap_or(&[]));
        Ok(())
    }

    /// The frame [`advance`](Self::advance) found; valid until the next mutation.
    pub(crate) fn view(&self, kind: Kind, at: Payload) -> Result<Incoming<'_>, FrameError> {
        let bytes = match at {
            Payload::Read { start, end } => self.buf.get(start..end).unwrap_or(&[]),
            Payload::Assembled => &self.assembled,
        };
        Ok(match kind {
            Kind::Text => {
                Incoming::Text(std::str::from_utf8(bytes).map_err(|_| FrameError::BadUtf8)?)
            }
            Kind::Binary => Incoming::Binary(bytes),
            Kind::Ping => Incoming::Ping(bytes),
            Kind::Pong => Incoming::Pong(bytes),
            Kind::Close => match bytes {
                [] => Incoming::Close(None),
                [hi, lo, reason @ ..] => {
                    let reason = std::str::from_utf8(reason).map_err(|_| FrameError::BadClose)?;
                    Incoming::Close(Some((u16::from_be_bytes([*hi, *lo]), reason)))
                }
                [_] => return Err(FrameError::BadClose),
            },
        })
    }
}

/// Parses the header at the start of `b`; `None` while it is incomplete.
fn parse_header(b: &[u8]) -> Result<Option<Header>, FrameError> {
    let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::ReservedBits(b0 & 0x70));
    }
    let opcode = b0 & 0x0F;
    if !matches!(
        opcode,
        OP_CONT | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
    ) {
        return Err(FrameError::BadOpcode(opcode));
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (header_len, payload_len) = match b1 & 0x7F {
        126 => match b.get(2..4) {
            Some(&[a, c]) => (4, u64::from(u16::from_be_bytes([a, c]))),
            _ => return Ok(None),
        },
        127 => match b.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(x) => {
                let len = u64::from_be_bytes(x);
                if len >> 63 != 0 {
                    return Err(FrameError::BadLength);
                }
                (10, len)
            }
            None => return Ok(None),
        },
        n => (2, u64::from(n)),
    };
    Ok(Some(Header {
        fin: b0 & 0x80 != 0,
        opcode,
        header_len,
        payload_len,
    }))
}
