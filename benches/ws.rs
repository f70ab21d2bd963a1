//! WebSocket decode cost: one server→client text frame (a typical aggTrade event) decoded
//! from an in-memory stream, as the network thread does after a read — by the engine's
//! own `FrameReader` (what `WsClient::read` uses) and, for comparison, by tungstenite.

use std::hint::black_box;
use std::io::{self, Read, Write};

use binance_exec::net::ws_frame::{FrameReader, Incoming};
use criterion::{Criterion, criterion_group, criterion_main};
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

const EVENT: &[u8] = br#"{"e":"aggTrade","E":1760000000123,"s":"BTCUSDT","a":2870174651,"p":"65000.10","q":"0.012","f":6270114071,"l":6270114073,"T":1760000000120,"m":true}"#;
const FRAMES: usize = 1024;

/// Replays a prepared byte buffer; `WouldBlock` at the end like an empty non-blocking socket.
struct Replay {
    data: Vec<u8>,
    pos: usize,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.data.len() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Replay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn server_text_frame(payload: &[u8]) -> Vec<u8> {
    // FIN + text opcode, unmasked (server → client), 16-bit length when > 125.
    let mut f = vec![0x81];
    if payload.len() <= 125 {
        f.push(payload.len() as u8);
    } else {
        f.push(126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

fn decode(c: &mut Criterion) {
    let frame = server_text_frame(EVENT);
    let data: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * FRAMES)
        .collect();
    let mut ws = WebSocket::from_raw_socket(Replay { data, pos: 0 }, Role::Client, None);
    c.bench_function("ws/decode_text_frame_aggTrade", |b| {
        b.iter(|| {
            let msg = match ws.read() {
                Ok(m) => m,
                Err(_) => {
                    ws.get_mut().pos = 0;
                    match ws.read() {
                        Ok(m) => m,
                        Err(e) => panic!("bench stream broken: {e}"),
                    }
                }
            };
            match msg {
                Message::Text(t) => black_box(t.len()),
                _ => 0,
            }
        })
    });
}

fn frame_reader(c: &mut Criterion) {
    let frame = server_text_frame(EVENT);
    let data: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * FRAMES)
        .collect();
    let mut src = Replay { data, pos: 0 };
    let mut reader = FrameReader::new(16 << 20, 64 << 10);
    c.bench_function("ws/frame_reader_text_frame_aggTrade", |b| {
        b.iter(|| {
            for _ in 0..3 {
                if let Ok(Some(Incoming::Text(t))) = reader.next_frame() {
                    return black_box(t.len());
                }
                match reader.read_from(&mut src) {
                    Ok(_) => {}
                    Err(_) => src.pos = 0,
                }
            }
            panic!("bench stream broken")
        })
    });
}

criterion_group!(benches, frame_reader, decode);
criterion_main!(benches);
