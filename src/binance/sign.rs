//! HMAC-SHA256 request signing, as Binance defines it.
//!
//! The signature covers the exact bytes sent: the query string immediately
//! followed by the form body (no `&` between), after percent-encoding. Signing
//! the raw UTF-8 of a symbol such as `币安人生USDT` while sending its encoded
//! form is the classic -1022 bug; building the encoded text first and signing
//! those bytes avoids it by construction.
//!
//! ```
//! use binance_exec::binance::sign::Signer;
//! let s = Signer::new(b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9");
//! let mut hex = [0u8; 64];
//! s.sign_into(b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943", &mut hex);
//! assert_eq!(&hex[..8], b"3c661234");
//! ```

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// A keyed signer. The HMAC key schedule is computed once and cloned per
/// request, so signing costs two SHA-256 passes over the payload only.
#[derive(Clone)]
pub struct Signer {
    mac: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    /// A signer for the account's secret key (HMAC accepts keys of any length).
    pub fn new(secret: &[u8]) -> Self {
        // new_from_slice only fails for fixed-size-key MACs; HMAC takes any length.
        let mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Signer { mac }
    }

    /// Writes the lower-case hex signature of `payload` into `out`.
    #[inline]
    pub fn sign_into(&self, payload: &[u8], out: &mut [u8; 64]) {
        let mut mac = self.mac.clone();
        mac.update(payload);
        let digest = mac.finalize().into_bytes();
        hex_into(&digest, out);
    }

    /// The signature of `query` followed by `body` (Binance's `totalParams`).
    #[inline]
    pub fn sign_parts_into(&self, query: &[u8], body: &[u8], out: &mut [u8; 64]) {
        let mut mac = self.mac.clone();
        mac.update(query);
        mac.update(body);
        let digest = mac.finalize().into_bytes();
        hex_into(&digest, out);
    }

    /// The signature as a `String`, for tests and cold paths.
    pub fn sign_hex(&self, payload: &[u8]) -> String {
        let mut out = [0u8; 64];
        self.sign_into(payload, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Checks a hex signature (any case) over `query` ‖ `body` in constant
    /// time; the simulator's authentication uses this.
    pub fn verify(&self, query: &[u8], body: &[u8], signature_hex: &[u8]) -> bool {
        if signature_hex.len() != 64 {
            return false;
        }
        let mut expected = [0u8; 64];
        self.sign_parts_into(query, body, &mut expected);
        let mut diff = 0u8;
        for (a, b) in expected.iter().zip(signature_hex) {
            diff |= a ^ b.to_ascii_lowercase();
        }
        diff == 0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_into(bytes: &[u8], out: &mut [u8; 64]) {
    for (i, b) in bytes.iter().take(32).enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 0xf) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    #[test]
    fn official_vector() {
        let s = Signer::new(SECRET);
        let msg = b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
        assert_eq!(
            s.sign_hex(msg),
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
        );
    }

    #[test]
    fn query_then_body_without_separator() {
        let s = Signer::new(SECRET);
        let mut out = [0u8; 64];
        s.sign_parts_into(
            b"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
            b"quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943",
            &mut out,
        );
        assert_eq!(
            &out[..],
            b"30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
        );
        assert!(s.verify(
            b"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
            b"quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943",
            b"30BAAF0FAB549BBEDA7F5EF201898B34122DA25FD23C646CAC2C529AEBE670A4"
        ));
        assert!(!s.verify(b"a=1", b"", &out));
    }

    #[test]
    fn constructed_vectors() {
        let s = Signer::new(SECRET);
        assert_eq!(
            s.sign_hex(b"symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT&leverage=10&timestamp=1760969700000"),
            "0bc002a765be3edafb9949c46734e1bd74c9e6918b32ddd64db4ce9270287d7e"
        );
        assert_eq!(
            s.sign_hex(b"batchOrders=%5B%7B%22symbol%22%3A%22BTCUSDT%22%2C%22side%22%3A%22BUY%22%2C%22type%22%3A%22LIMIT%22%2C%22timeInForce%22%3A%22GTC%22%2C%22quantity%22%3A%220.001%22%2C%22price%22%3A%2260000%22%2C%22newClientOrderId%22%3A%22b1%22%7D%5D&timestamp=1700000000000"),
            "41e65ae3ed8d95955df8e754434b1953a3672f3a18bc339deadbba038ebc7dc9"
        );
        assert_eq!(
            s.sign_hex(b"apiKey=dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83&price=42088.0&quantity=0.1&recvWindow=5000&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=1705311512994&type=LIMIT"),
            "22fbe0c1f1c5d1f2b597392b134e2db7cbd87719e392b2177ef7d82addd1bac3"
        );
    }
}
