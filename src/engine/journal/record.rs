//! Journal records and their byte layout.
//!
//! On disk a record is `len: u32 LE | crc: u32 LE | payload[len]`, where the
//! CRC covers the length bytes and the payload, so a torn length is caught
//! as surely as a torn payload. The payload starts with a kind byte; numbers
//! are little-endian, decimals are their raw i64 mantissa (exact), strings
//! and enums are `len: u8 | UTF-8` with enums in the venue's spelling (an
//! unknown spelling replays as `Unknown`, never as an error).
//!
//! Compatibility: record kinds are only ever added, never changed, so a
//! journal written by an older engine replays unchanged. Kinds 6 and 7
//! (conditional-order ack and trigger) were added later; an older engine
//! reading a journal that holds them stops with "unknown record kind" at
//! that offset rather than guessing.

use super::crc::crc32_update;
use crate::model::decimal::{Price, Quantity};
use crate::model::enums::{OrderStatus, OrderType, Side};
use crate::model::ids::{AlgoId, ClientOrderId, Symbol, TradeId, VenueOrderId};

/// Bytes before the payload.
pub const HEADER_LEN: usize = 8;

/// Largest payload accepted on replay. Real records are under 200 bytes; a
/// larger length is damage, and bounding it keeps a corrupt length from
/// making replay read (or scan) megabytes.
pub const MAX_PAYLOAD: usize = 1024;

const KIND_SESSION: u8 = 1;
const KIND_INTENT: u8 = 2;
const KIND_ACK: u8 = 3;
const KIND_TERMINAL: u8 = 4;
const KIND_FILL: u8 = 5;
const KIND_ALGO_ACK: u8 = 6;
const KIND_ALGO_TRIGGERED: u8 = 7;

/// An order we are about to send: journaled (and, per policy, synced) before
/// the request leaves, so a restart knows the client id even if the venue
/// never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intent {
    /// The client-id generator's sequence number for this id.
    pub seq: u64,
    /// `newClientOrderId` sent to the venue.
    pub client_id: ClientOrderId,
    /// Venue symbol.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Quantity.
    pub qty: Quantity,
    /// Limit price, if any.
    pub price: Option<Price>,
    /// Local wall ms when sent.
    pub time_ms: i64,
}

/// One journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Written when a journal is opened: marks an engine start.
    Session {
        /// Local wall ms at open.
        started_ms: i64,
        /// Process id.
        pid: u32,
    },
    /// An order about to be sent.
    Intent(Intent),
    /// The venue accepted an order and gave it an id.
    Ack {
        /// Client id.
        client_id: ClientOrderId,
        /// Venue order id.
        venue_id: VenueOrderId,
        /// Venue ms of the ack.
        time_ms: i64,
    },
    /// The order reached a final state (or a state worth remembering).
    Terminal {
        /// Client id.
        client_id: ClientOrderId,
        /// Final status.
        status: OrderStatus,
        /// Venue ms.
        time_ms: i64,
    },
    /// The algo service accepted a conditional order: a restart knows it
    /// was placed (and under which `algoId`) without asking.
    AlgoAck {
        /// Client id (`clientAlgoId`).
        client_id: ClientOrderId,
        /// The venue's `algoId`.
        algo_id: AlgoId,
        /// Venue ms.
        time_ms: i64,
    },
    /// A conditional order triggered and handed over to a child order in
    /// the matching engine: the child's order id is what its fills (and
    /// `userTrades`) carry, so a restart can tell they are this order's.
    AlgoTriggered {
        /// Client id (`clientAlgoId`).
        client_id: ClientOrderId,
        /// The venue's `algoId`.
        algo_id: AlgoId,
        /// The child's venue order id (`actualOrderId` / `ai`).
        child_id: VenueOrderId,
        /// Venue ms.
        time_ms: i64,
    },
    /// A fill.
    Fill {
        /// Client id.
        client_id: ClientOrderId,
        /// Symbol (trade ids are per symbol).
        symbol: Symbol,
        /// Venue trade id.
        trade_id: TradeId,
        /// Filled quantity.
        qty: Quantity,
        /// Fill price.
        price: Price,
        /// Venue ms.
        time_ms: i64,
    },
}

impl Record {
    /// The record of a fill as the engine books it: live, recovered at
    /// start-up or by a reconciliation pass, all journal it alike.
    pub fn fill(f: &crate::model::Fill) -> Record {
        Record::Fill {
            client_id: f.client_id,
            symbol: f.instrument.symbol,
            trade_id: f.trade_id,
            qty: f.quantity,
            price: f.price,
            time_ms: f.ts_venue_ms,
        }
    }
}

/// Why a payload (with a valid checksum) could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the fields need.
    #[error("record payload too short")]
    Short,
    /// Bytes left over after the last field.
    #[error("record payload has trailing bytes")]
    Trailing,
    /// Unknown record kind byte.
    #[error("unknown record kind {0}")]
    Kind(u8),
    /// A string field is not UTF-8 or not a valid id/symbol.
    #[error("invalid {0} field")]
    Field(&'static str),
}

/// Appends `record` framed (header + payload) to `out`; `out` is reused by
/// the writer, so this does not allocate once its capacity has grown.
pub fn encode(record: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    match record {
        Record::Session { started_ms, pid } => {
            out.push(KIND_SESSION);
            out.extend_from_slice(&started_ms.to_le_bytes());
            out.extend_from_slice(&pid.to_le_bytes());
        }
        Record::Intent(i) => {
            out.push(KIND_INTENT);
            out.extend_from_slice(&i.seq.to_le_bytes());
            put_str(out, i.client_id.as_str());
            put_str(out, i.symbol.as_str());
            put_str(out, i.side.as_str());
            put_str(out, i.order_type.as_str());
            out.extend_from_slice(&i.qty.raw().to_le_bytes());
            match i.price {
                Some(p) => {
                    out.push(1);
                    out.extend_from_slice(&p.raw().to_le_bytes());
                }
                None => out.push(0),
            }
            out.extend_from_slice(&i.time_ms.to_le_bytes());
        }
        Record::Ack {
            client_id,
            venue_id,
            time_ms,
        } => {
            out.push(KIND_ACK);
            put_str(out, client_id.as_str());
            out.extend_from_slice(&venue_id.to_le_bytes());
            out.extend_from_slice(&time_ms.to_le_bytes());
        }
        Record::Terminal {
            client_id,
            status,
            time_ms,
        } => {
            out.push(KIND_TERMINAL);
            put_str(out, client_id.as_str());
            put_str(out, status.as_str());
            out.extend_from_slice(&time_ms.to_le_bytes());
        }
        Record::AlgoAck {
            client_id,
            algo_id,
            time_ms,
        } => {
            out.push(KIND_ALGO_ACK);
            put_str(out, client_id.as_str());
            out.extend_from_slice(&algo_id.to_le_bytes());
            out.extend_from_slice(&time_ms.to_le_bytes());
        }
        Record::AlgoTriggered {
            client_id,
            algo_id,
            child_id,
            time_ms,
        } => {
            out.push(KIND_ALGO_TRIGGERED);
            put_str(out, client_id.as_str());
            out.extend_from_slice(&algo_id.to_le_bytes());
            out.extend_from_slice(&child_id.to_le_bytes());
            out.extend_from_slice(&time_ms.to_le_bytes());
        }
        Record::Fill {
            client_id,
            symbol,
            trade_id,
            qty,
            price,
            time_ms,
        } => {
            out.push(KIND_FILL);
            put_str(out, client_id.as_str());
            put_str(out, symbol.as_str());
            out.extend_from_slice(&trade_id.to_le_bytes());
            out.extend_from_slice(&qty.raw().to_le_bytes());
            out.extend_from_slice(&price.raw().to_le_bytes());
            out.extend_from_slice(&time_ms.to_le_bytes());
        }
    }
    let len = (out.len() - start - HEADER_LEN) as u32;
    let len_bytes = len.to_le_bytes();
    let crc = crc32_update(
        crc32_update(0, &len_bytes),
        out.get(start + HEADER_LEN..).unwrap_or(&[]),
    );
    if let Some(h) = out.get_mut(start..start + HEADER_LEN) {
        h[..4].copy_from_slice(&len_bytes);
        h[4..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Strings in records are ids, symbols and enum tags, all far below 255
/// bytes; a longer one is cut at a character boundary rather than
/// corrupting the frame.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.push(end as u8);
    out.extend_from_slice(s.as_bytes().get(..end).unwrap_or(&[]));
}

/// What framing found at one offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A record whose checksum matches; `total` bytes including the header.
    Valid {
        /// The payload.
        payload: &'a [u8],
        /// Header + payload length.
        total: usize,
    },
    /// Not enough bytes for the header or the declared payload.
    Truncated,
    /// Length out of range or checksum mismatch.
    Damaged,
}

/// Reads the frame starting at the beginning of `buf`.
pub fn frame(buf: &[u8]) -> Frame<'_> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Frame::Truncated;
    };
    let len_bytes = [header[0], header[1], header[2], header[3]];
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len == 0 || len > MAX_PAYLOAD {
        return Frame::Damaged;
    }
    let Some(payload) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Frame::Truncated;
    };
    if crc32_update(crc32_update(0, &len_bytes), payload) != crc {
        return Frame::Damaged;
    }
    Frame::Valid {
        payload,
        total: HEADER_LEN + len,
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(DecodeError::Short)?;
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    fn arr8(&mut self) -> Result<[u8; 8], DecodeError> {
        self.take(8)?.try_into().map_err(|_| DecodeError::Short)
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.arr8()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.arr8()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| DecodeError::Short)?;
        Ok(u32::from_le_bytes(b))
    }
    fn str(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        let n = self.u8()? as usize;
        std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError::Field(what))
    }
    fn client_id(&mut self) -> Result<ClientOrderId, DecodeError> {
        // `from_venue` accepts anything the venue may have assigned (e.g.
        // `autoclose-…`), matching what the engine may have journaled.
        let s = self.str("client id")?;
        if s.is_empty() {
            return Err(DecodeError::Field("client id"));
        }
        Ok(ClientOrderId::from_venue(s))
    }
    fn symbol(&mut self) -> Result<Symbol, DecodeError> {
        Symbol::new(self.str("symbol")?).map_err(|_| DecodeError::Field("symbol"))
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing)
        }
    }
}

/// Decodes a payload returned by [`frame`].
pub fn decode(payload: &[u8]) -> Result<Record, DecodeError> {
    let mut c = Cursor(payload);
    let record = match c.u8()? {
        KIND_SESSION => Record::Session {
            started_ms: c.i64()?,
            pid: c.u32()?,
        },
        KIND_INTENT => {
            let seq = c.u64()?;
            let client_id = c.client_id()?;
            let symbol = c.symbol()?;
            let side = Side::from_wire(c.str("side")?);
            let order_type = OrderType::from_wire(c.str("order type")?);
            let qty = Quantity::from_raw(c.i64()?);
            let price = match c.u8()? {
                0 => None,
                1 => Some(Price::from_raw(c.i64()?)),
                _ => return Err(DecodeError::Field("price flag")),
            };
            Record::Intent(Intent {
                seq,
                client_id,
                symbol,
                side,
                order_type,
                qty,
                price,
                time_ms: c.i64()?,
            })
        }
        KIND_ACK => Record::Ack {
            client_id: c.client_id()?,
            venue_id: c.i64()?,
            time_ms: c.i64()?,
        },
        KIND_TERMINAL => Record::Terminal {
            client_id: c.client_id()?,
            status: OrderStatus::from_wire(c.str("status")?),
            time_ms: c.i64()?,
        },
        KIND_FILL => Record::Fill {
            client_id: c.client_id()?,
            symbol: c.symbol()?,
            trade_id: c.i64()?,
            qty: Quantity::from_raw(c.i64()?),
            price: Price::from_raw(c.i64()?),
            time_ms: c.i64()?,
        },
        KIND_ALGO_ACK => Record::AlgoAck {
            client_id: c.client_id()?,
            algo_id: c.i64()?,
            time_ms: c.i64()?,
        },
        KIND_ALGO_TRIGGERED => Record::AlgoTriggered {
            client_id: c.client_id()?,
            algo_id: c.i64()?,
            child_id: c.i64()?,
            time_ms: c.i64()?,
        },
        k => return Err(DecodeError::Kind(k)),
    };
    c.end()?;
    Ok(record)
}
