//! The allocation-free WebSocket frame reader: RFC 6455 server-frame decoding,
//! reassembly, control frames, limits and errors, fed at every byte boundary.

use binance_exec::net::ws_frame::{FrameError, FrameReader, Incoming};
use std::io::{self, Read};

/// An unmasked server frame.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xFFFF => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

fn own(i: Incoming<'_>) -> Got {
    match i {
        Incoming::Text(t) => Got::Text(t.to_owned()),
        Incoming::Binary(b) => Got::Binary(b.to_vec()),
        Incoming::Ping(b) => Got::Ping(b.to_vec()),
        Incoming::Pong(b) => Got::Pong(b.to_vec()),
        Incoming::Close(c) => Got::Close(c.map(|(code, r)| (code, r.to_owned()))),
    }
}

fn drain(r: &mut FrameReader, out: &mut Vec<Got>) -> Result<(), FrameError> {
    for _ in 0..10_000 {
        match r.next_frame()? {
            Some(i) => out.push(own(i)),
            None => return Ok(()),
        }
    }
    panic!("reader never ran dry");
}

fn decode_all(bytes: &[u8], max: usize) -> Result<Vec<Got>, FrameError> {
    let mut r = FrameReader::new(max, 64);
    r.feed(bytes);
    let mut out = Vec::new();
    drain(&mut r, &mut out)?;
    Ok(out)
}

/// A stream with every feature: lengths 7/16/64-bit, fragments with control
/// frames between them, binary, pong and a close with status.
fn session() -> (Vec<u8>, Vec<Got>) {
    let mid = "m".repeat(300);
    let big = vec![7u8; 70_000];
    let mut s = Vec::new();
    s.extend(frame(true, 0x1, br#"{"e":"x"}"#));
    s.extend(frame(true, 0x1, mid.as_bytes()));
    s.extend(frame(false, 0x1, "héllo ".as_bytes()));
    s.extend(frame(true, 0x9, b"p1"));
    s.extend(frame(false, 0x0, b"wor"));
    s.extend(frame(true, 0xA, b""));
    s.extend(frame(true, 0x0, b"ld"));
    s.extend(frame(true, 0x2, &big));
    s.extend(frame(false, 0x2, &[1, 2]));
    s.extend(frame(true, 0x0, &[3]));
    s.extend(frame(true, 0x8, &[0x03, 0xE8, b'b', b'y', b'e']));
    let want = vec![
        Got::Text(r#"{"e":"x"}"#.into()),
        Got::Text(mid),
        Got::Ping(b"p1".to_vec()),
        Got::Pong(Vec::new()),
        Got::Text("héllo world".into()),
        Got::Binary(big),
        Got::Binary(vec![1, 2, 3]),
        Got::Close(Some((1000, "bye".into()))),
    ];
    (s, want)
}

#[test]
fn whole_session_decodes_in_order() {
    let (bytes, want) = session();
    assert_eq!(decode_all(&bytes, 1 << 20).unwrap(), want);
}

#[test]
fn split_at_every_byte_boundary_gives_the_same_frames() {
    let (bytes, want) = session();
    // Every split point inside the first 700 bytes (headers, fragments, the
    // control frames between them) plus a stride through the big frame.
    let points = (0..=700)
        .chain((700..bytes.len()).step_by(997))
        .chain([bytes.len() - 1]);
    for cut in points {
        let (a, b) = bytes.split_at(cut);
        let mut r = FrameReader::new(1 << 20, 64);
        let mut out = Vec::new();
        r.feed(a);
        drain(&mut r, &mut out).unwrap();
        r.feed(b);
        drain(&mut r, &mut out).unwrap();
        assert_eq!(out, want, "split at {cut}");
        assert_eq!(r.buffered(), 0);
    }
}

/// Hands out the bytes in chunks of `step` (and `WouldBlock` at the end).
struct Trickle {
    bytes: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.bytes.len() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.step.min(out.len()).min(self.bytes.len() - self.pos);
        out[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn socket_reads_of_any_size_give_the_same_frames() {
    let (bytes, want) = session();
    for step in [1, 2, 3, 13, 500, 4096, 1 << 20] {
        let mut src = Trickle {
            bytes: bytes.clone(),
            pos: 0,
            step,
        };
        let mut r = FrameReader::new(1 << 20, 16);
        let mut out = Vec::new();
        for _ in 0..bytes.len() + 10 {
            drain(&mut r, &mut out).unwrap();
            match r.read_from(&mut src) {
                Ok(n) => assert!(n > 0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        drain(&mut r, &mut out).unwrap();
        assert_eq!(out, want, "step {step}");
    }
}

#[test]
fn oversized_frames_and_messages_are_refused() {
    let e = decode_all(&frame(true, 0x1, &[b'a'; 200]), 100).unwrap_err();
    assert_eq!(e, FrameError::TooLarge { len: 200, max: 100 });
    // Refused from the header alone, before the payload arrives.
    let header = &frame(true, 0x2, &vec![0; 70_000])[..10];
    assert!(matches!(
        decode_all(header, 1000),
        Err(FrameError::TooLarge { .. })
    ));
    let mut parts = frame(false, 0x1, &[b'a'; 60]);
    parts.extend(frame(true, 0x0, &[b'a'; 60]));
    assert_eq!(
        decode_all(&parts, 100).unwrap_err(),
        FrameError::TooLarge { len: 120, max: 100 }
    );
    let mut huge = vec![0x82, 127];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    assert_eq!(decode_all(&huge, 100).unwrap_err(), FrameError::BadLength);
}

#[test]
fn protocol_violations_are_typed_errors() {
    let cases: Vec<(Vec<u8>, FrameError)> = vec![
        (vec![0xC1, 0x00], FrameError::ReservedBits(0x40)),
        (vec![0x83, 0x00], FrameError::BadOpcode(0x3)),
        (vec![0x8F, 0x00], FrameError::BadOpcode(0xF)),
        (vec![0x81, 0x81, 1, 2, 3, 4, b'a'], FrameError::Masked),
        (frame(true, 0x0, b"x"), FrameError::UnexpectedContinuation),
        (
            [frame(false, 0x1, b"a"), frame(true, 0x1, b"b")].concat(),
            FrameError::ExpectedContinuation,
        ),
        (
            frame(true, 0x9, &[0; 126]),
            FrameError::BadControl {
                opcode: 0x9,
                len: 126,
                fin: true,
            },
        ),
        (
            frame(false, 0xA, b"x"),
            FrameError::BadControl {
                opcode: 0xA,
                len: 1,
                fin: false,
            },
        ),
        (frame(true, 0x1, &[0xFF, 0xFE]), FrameError::BadUtf8),
        (
            [frame(false, 0x1, &[0xC3]), frame(true, 0x0, &[0x28])].concat(),
            FrameError::BadUtf8,
        ),
        (frame(true, 0x8, &[0x03]), FrameError::BadClose),
        (frame(true, 0x8, &[0x03, 0xE8, 0xFF]), FrameError::BadClose),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            decode_all(&bytes, 1 << 20),
            Err(want.clone()),
            "{bytes:02x?}"
        );
    }
}

#[test]
fn close_frames_with_and_without_status() {
    assert_eq!(
        decode_all(&frame(true, 0x8, &[]), 100).unwrap(),
        vec![Got::Close(None)]
    );
    assert_eq!(
        decode_all(&frame(true, 0x8, &[0x0F, 0xA1]), 100).unwrap(),
        vec![Got::Close(Some((4001, String::new())))]
    );
}

#[test]
fn a_utf8_character_split_across_fragments_is_fine() {
    let s = "€".as_bytes();
    let bytes = [frame(false, 0x1, &s[..1]), frame(true, 0x0, &s[1..])].concat();
    assert_eq!(
        decode_all(&bytes, 100).unwrap(),
        vec![Got::Text("€".into())]
    );
}
