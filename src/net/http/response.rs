//! Incremental HTTP/1.1 response parsing with httparse.
//!
//! Why incremental: on a non-blocking socket a response arrives in arbitrary pieces
//! (down to one byte at a time). [`ResponseParser`] owns a reused receive buffer the
//! connection reads straight into ([`ResponseParser::spare`] / [`ResponseParser::filled`]),
//! re-parses the head until complete, then frames the body by `Content-Length`,
//! `Transfer-Encoding: chunked` or connection close, copying body bytes once into a
//! reused body buffer. Limits bound memory against a hostile or broken peer; every
//! violation is a typed [`ParseError`], never a panic.
//!
//! ```
//! use binance_exec::net::http::response::{ParseStatus, ResponseParser};
//! let mut p = ResponseParser::new(1 << 20);
//! let wire = b"HTTP/1.1 200 OK\r\nx-mbx-used-weight-1m: 7\r\nContent-Length: 2\r\n\r\n{}";
//! let n = wire.len();
//! p.spare(n)[..n].copy_from_slice(wire);
//! p.filled(n);
//! assert_eq!(p.advance().unwrap(), ParseStatus::Complete);
//! assert_eq!(p.head().unwrap().limits.used_weight_1m, Some(7));
//! assert_eq!(p.body(), b"{}");
//! ```

/// Largest response head accepted (status line + headers).
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
const MAX_CHUNK_LINE: usize = 1024;

/// Why a response could not be parsed; the connection is unusable afterwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not HTTP/1.x, bad status line or header syntax (httparse's reason).
    #[error("malformed response head: {0}")]
    Head(String),
    /// Head larger than [`MAX_HEAD`] or more than 64 headers.
    #[error("response head too large")]
    HeadTooLarge,
    /// `Content-Length` missing digits or conflicting values.
    #[error("invalid Content-Length")]
    ContentLength,
    /// Bad chunk size line or missing CRLF after chunk data.
    #[error("malformed chunked body: {0}")]
    Chunked(&'static str),
    /// Body larger than the configured limit.
    #[error("response body exceeds {0} bytes")]
    BodyTooLarge(usize),
    /// The peer closed before the response was complete.
    #[error("connection closed mid-response")]
    Truncated,
}

/// The rate-limit and back-off headers a venue client acts on (§10), parsed as numbers.
/// `None` when absent or not a number (testnet has sent `-1`, so the counts are signed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// `X-MBX-USED-WEIGHT-1M`: IP weight used in the current minute.
    pub used_weight_1m: Option<i64>,
    /// `X-MBX-ORDER-COUNT-10S`: orders in the current 10 s window.
    pub order_count_10s: Option<i64>,
    /// `X-MBX-ORDER-COUNT-1M`: orders in the current minute.
    pub order_count_1m: Option<i64>,
    /// `Retry-After` in seconds (HTTP-date form is not used by the venue and reads as `None`).
    pub retry_after_s: Option<u64>,
}

/// Status line and the header facts the client needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// HTTP status code.
    pub status: u16,
    /// Rate-limit headers.
    pub limits: RateLimits,
    /// Whether the connection may carry another request afterwards.
    pub keep_alive: bool,
}

/// Parser progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseStatus {
    /// Need more bytes.
    Incomplete,
    /// A whole response is available through [`ResponseParser::head`] and [`ResponseParser::body`].
    Complete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(usize),
    Chunked(Chunk),
    UntilClose,
    Done,
}

/// Reusable incremental response parser (one per connection).
#[derive(Debug)]
pub struct ResponseParser {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    state: State,
    head: Option<Head>,
    body: Vec<u8>,
    max_body: usize,
}

fn parse_num<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn has_token(v: &[u8], token: &str) -> bool {
    v.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

impl ResponseParser {
    /// A parser accepting bodies up to `max_body` bytes.
    pub fn new(max_body: usize) -> Self {
        ResponseParser {
            buf: vec![0; 16 * 1024],
            pos: 0,
            end: 0,
            state: State::Head,
            head: None,
            body: Vec::with_capacity(16 * 1024),
            max_body,
        }
    }

    /// Forget the previous response (keeps buffers and any bytes already received after it).
    pub fn reset(&mut self) {
        self.state = State::Head;
        self.head = None;
        self.body.clear();
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
    }

    /// Drop everything, including unparsed bytes (new connection).
    pub fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
        self.reset();
    }

    /// Writable space of at least `min` bytes (compacting or growing the buffer) to read into.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.buf.len() - self.end < min {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            if self.buf.len() - self.end < min {
                let new_len = (self.end + min).max(self.buf.len() * 2);
                self.buf.resize(new_len, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Record that `n` bytes were read into [`spare`](Self::spare).
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Bytes received but not yet consumed by a response (non-zero after a complete
    /// response means the server sent something unsolicited).
    pub fn leftover(&self) -> usize {
        self.end - self.pos
    }

    /// Head of the current response, once parsed.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Body received so far (the whole body after [`ParseStatus::Complete`]).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the parser has seen none of the current response.
    pub fn is_idle(&self) -> bool {
        self.state == State::Head && self.end == self.pos
    }

    /// Consume as many buffered bytes as possible.
    pub fn advance(&mut self) -> Result<ParseStatus, ParseError> {
        loop {
            match self.state {
                State::Done => return Ok(ParseStatus::Complete),
                State::Head => {
                    if !self.parse_head()? {
                        return Ok(ParseStatus::Incomplete);
                    }
                }
                State::Length(rem) => {
                    let take = rem.min(self.end - self.pos);
                    self.take_body(take)?;
                    let rem = rem - take;
                    self.state = if rem == 0 {
                        State::Done
                    } else {
                        State::Length(rem)
                    };
                    if rem != 0 {
                        return Ok(ParseStatus::Incomplete);
                    }
                }
                State::UntilClose => {
                    let take = self.end - self.pos;
                    self.take_body(take)?;
                    return Ok(ParseStatus::Incomplete);
                }
                State::Chunked(c) => {
                    if !self.advance_chunked(c)? {
                        return Ok(ParseStatus::Incomplete);
                    }
                }
            }
        }
    }

    /// The peer closed the connection: completes a close-delimited body, otherwise truncation.
    pub fn on_eof(&mut self) -> Result<ParseStatus, ParseError> {
        match self.state {
            State::UntilClose => {
                self.advance()?;
                self.state = State::Done;
                Ok(ParseStatus::Complete)
            }
            State::Done => Ok(ParseStatus::Complete),
            _ => Err(ParseError::Truncated),
        }
    }

    fn take_body(&mut self, n: usize) -> Result<(), ParseError> {
        if self.body.len() + n > self.max_body {
            return Err(ParseError::BodyTooLarge(self.max_body));
        }
        self.body
            .extend_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(())
    }

    /// Returns true when the head is parsed and the state moved to body framing.
    fn parse_head(&mut self) -> Result<bool, ParseError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let data = &self.buf[self.pos..self.end];
        let n = match resp.parse(data) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if data.len() > MAX_HEAD {
                    return Err(ParseError::HeadTooLarge);
                }
                return Ok(false);
            }
            Err(httparse::Error::TooManyHeaders) => return Err(ParseError::HeadTooLarge),
            Err(e) => return Err(ParseError::Head(e.to_string())),
        };
        if n > MAX_HEAD {
            return Err(ParseError::HeadTooLarge);
        }
        let status = resp.code.unwrap_or(0);
        let http11 = resp.version == Some(1);
        let mut limits = RateLimits::default();
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut close = !http11;
        for h in resp.headers.iter() {
            let name = h.name;
            let v = h.value;
            if name.eq_ignore_ascii_case("content-length") {
                let len: usize = parse_num(v).ok_or(ParseError::ContentLength)?;
                if content_length.is_some_and(|l| l != len) {
                    return Err(ParseError::ContentLength);
                }
                content_length = Some(len);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v
                    .split(|&b| b == b',')
                    .next_back()
                    .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            } else if name.eq_ignore_ascii_case("connection") {
                if has_token(v, "close") {
                    close = true;
                } else if has_token(v, "keep-alive") {
                    close = false;
                }
            } else if name.eq_ignore_ascii_case("x-mbx-used-weight-1m") {
                limits.used_weight_1m = parse_num(v);
            } else if name.eq_ignore_ascii_case("x-mbx-order-count-10s") {
                limits.order_count_10s = parse_num(v);
            } else if name.eq_ignore_ascii_case("x-mbx-order-count-1m") {
                limits.order_count_1m = parse_num(v);
            } else if name.eq_ignore_ascii_case("retry-after") {
                limits.retry_after_s = parse_num(v);
            }
        }
        self.pos += n;
        if (100..200).contains(&status) && status != 101 {
            // Interim response (100 Continue, 103 Early Hints): the real one follows.
            return Ok(true);
        }
        self.state = if status == 204 || status == 304 || status == 101 {
            State::Done
        } else if chunked {
            State::Chunked(Chunk::Size)
        } else if let Some(len) = content_length {
            if len > self.max_body {
                return Err(ParseError::BodyTooLarge(self.max_body));
            }
            if len == 0 {
                State::Done
            } else {
                State::Length(len)
            }
        } else {
            close = true;
            State::UntilClose
        };
        self.head = Some(Head {
            status,
            limits,
            keep_alive: !close,
        });
        Ok(true)
    }

    /// Find the end of a CRLF-terminated line at `pos`; returns the line without CRLF.
    fn line(&self) -> Option<(usize, usize)> {
        let data = &self.buf[self.pos..self.end];
        let nl = data.iter().position(|&b| b == b'\n')?;
        let mut line_end = nl;
        if line_end > 0 && data[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        Some((line_end, nl + 1))
    }

    /// Returns false when more bytes are needed.
    fn advance_chunked(&mut self, c: Chunk) -> Result<bool, ParseError> {
        match c {
            Chunk::Size => {
                let Some((len, consumed)) = self.line() else {
                    if self.end - self.pos > MAX_CHUNK_LINE {
                        return Err(ParseError::Chunked("chunk size line too long"));
                    }
                    return Ok(false);
                };
                let line = &self.buf[self.pos..self.pos + len];
                let hex = line
                    .split(|&b| b == b';')
                    .next()
                    .unwrap_or(&[])
                    .trim_ascii();
                if hex.is_empty() || hex.len() > 15 {
                    return Err(ParseError::Chunked("bad chunk size"));
                }
                let mut size = 0usize;
                for &b in hex {
                    let d = (b as char)
                        .to_digit(16)
                        .ok_or(ParseError::Chunked("bad chunk size"))?;
                    size = size * 16 + d as usize;
                }
                if self.body.len() + size > self.max_body {
                    return Err(ParseError::BodyTooLarge(self.max_body));
                }
                self.pos += consumed;
                self.state = State::Chunked(if size == 0 {
                    Chunk::Trailer
                } else {
                    Chunk::Data(size)
                });
                Ok(true)
            }
            Chunk::Data(rem) => {
                let take = rem.min(self.end - self.pos);
                if take == 0 {
                    return Ok(false);
                }
                self.take_body(take)?;
                let rem = rem - take;
                self.state = State::Chunked(if rem == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(rem)
                });
                Ok(true)
            }
            Chunk::DataEnd => {
                let avail = &self.buf[self.pos..self.end];
                if avail.len() < 2 {
                    if avail.first().is_some_and(|&b| b != b'\r') {
                        return Err(ParseError::Chunked("missing CRLF after chunk"));
                    }
                    return Ok(false);
                }
                if &avail[..2] != b"\r\n" {
                    return Err(ParseError::Chunked("missing CRLF after chunk"));
                }
                self.pos += 2;
                self.state = State::Chunked(Chunk::Size);
                Ok(true)
            }
            Chunk::Trailer => {
                let Some((len, consumed)) = self.line() else {
                    if self.end - self.pos > MAX_HEAD {
                        return Err(ParseError::HeadTooLarge);
                    }
                    return Ok(false);
                };
                self.pos += consumed;
                if len == 0 {
                    self.state = State::Done;
                }
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(
        p: &mut ResponseParser,
        wire: &[u8],
        step: usize,
    ) -> Result<ParseStatus, ParseError> {
        let mut last = ParseStatus::Incomplete;
        for piece in wire.chunks(step.max(1)) {
            p.spare(piece.len())[..piece.len()].copy_from_slice(piece);
            p.filled(piece.len());
            last = p.advance()?;
        }
        Ok(last)
    }

    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-MBX-ORDER-COUNT-10S: 3\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n";

    #[test]
    fn chunked_any_split() {
        for step in [1, 2, 3, 7, 1000] {
            let mut p = ResponseParser::new(1024);
            assert_eq!(
                feed_all(&mut p, CHUNKED, step).unwrap(),
                ParseStatus::Complete,
                "step {step}"
            );
            assert_eq!(p.body(), b"{\"a\":1}");
            assert_eq!(p.head().unwrap().limits.order_count_10s, Some(3));
            assert!(p.head().unwrap().keep_alive);
            assert_eq!(p.leftover(), 0);
        }
    }

    #[test]
    fn headers_case_insensitive_and_signed() {
        let wire = b"HTTP/1.1 429 Too Many\r\nx-mbx-used-weight-1m: -1\r\nX-Mbx-Order-Count-1m: 12\r\nretry-after: 30\r\ncontent-length: 0\r\nConnection: close\r\n\r\n";
        let mut p = ResponseParser::new(1024);
        assert_eq!(feed_all(&mut p, wire, 5).unwrap(), ParseStatus::Complete);
        let h = p.head().unwrap();
        assert_eq!(h.status, 429);
        assert_eq!(
            h.limits,
            RateLimits {
                used_weight_1m: Some(-1),
                order_count_10s: None,
                order_count_1m: Some(12),
                retry_after_s: Some(30)
            }
        );
        assert!(!h.keep_alive);
    }

    #[test]
    fn until_close_and_truncation() {
        let mut p = ResponseParser::new(1024);
        assert_eq!(
            feed_all(&mut p, b"HTTP/1.1 200 OK\r\n\r\nabc", 2).unwrap(),
            ParseStatus::Incomplete
        );
        assert_eq!(p.on_eof().unwrap(), ParseStatus::Complete);
        assert_eq!(p.body(), b"abc");
        let mut p = ResponseParser::new(1024);
        feed_all(
            &mut p,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
            100,
        )
        .unwrap();
        assert_eq!(p.on_eof(), Err(ParseError::Truncated));
    }

    #[test]
    fn interim_and_reuse() {
        let mut p = ResponseParser::new(1024);
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(feed_all(&mut p, wire, 1000).unwrap(), ParseStatus::Complete);
        assert_eq!((p.head().unwrap().status, p.body()), (200, &b"x"[..]));
        assert!(p.leftover() > 0);
        p.reset();
        assert_eq!(p.advance().unwrap(), ParseStatus::Complete);
        assert_eq!(p.head().unwrap().status, 204);
    }

    #[test]
    fn malformed_is_typed() {
        type Check = fn(&ParseError) -> bool;
        let cases: [(&[u8], Check); 6] = [
            (b"HTTX/1.1 200 OK\r\n\r\n", |e| {
                matches!(e, ParseError::Head(_))
            }),
            (b"HTTP/1.1 2000 OK\r\n\r\n", |e| {
                matches!(e, ParseError::Head(_))
            }),
            (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", |e| {
                *e == ParseError::ContentLength
            }),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                |e| *e == ParseError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                |e| matches!(e, ParseError::Chunked(_)),
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
                |e| matches!(e, ParseError::Chunked(_)),
            ),
        ];
        for (wire, check) in cases {
            let mut p = ResponseParser::new(1024);
            let err = feed_all(&mut p, wire, 1000).unwrap_err();
            assert!(
                check(&err),
                "{:?} -> {err:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn limits() {
        let mut p = ResponseParser::new(4);
        let e = feed_all(&mut p, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 100).unwrap_err();
        assert_eq!(e, ParseError::BodyTooLarge(4));
        let mut p = ResponseParser::new(4);
        let e = feed_all(
            &mut p,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\n",
            100,
        )
        .unwrap_err();
        assert_eq!(e, ParseError::BodyTooLarge(4));
        let mut p = ResponseParser::new(4);
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert_eq!(
            feed_all(&mut p, &big, 4096).unwrap_err(),
            ParseError::HeadTooLarge
        );
    }
}
