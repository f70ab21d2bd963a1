//! CRC-32 (IEEE 802.3, the zlib/PNG polynomial), table-driven.
//!
//! Each journal record carries a checksum so a half-written or bit-rotted
//! record is detected on replay instead of being trusted. A 1 KiB table built
//! at compile time keeps this dependency-free and fast enough for records of
//! tens of bytes.

const POLY: u32 = 0xEDB8_8320;

const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { POLY ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    crc32_update(0, data)
}

/// Continues a CRC-32 over more bytes (`crc` is a previous result, 0 to start).
pub fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let table: &[(&[u8], u32)] = &[
            (b"", 0),
            (b"a", 0xE8B7_BE43),
            (b"123456789", 0xCBF4_3926),
            (b"The quick brown fox jumps over the lazy dog", 0x414F_A339),
        ];
        for (data, want) in table {
            assert_eq!(crc32(data), *want, "{:?}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn incremental_equals_whole() {
        let data = b"123456789";
        let (a, b) = data.split_at(4);
        assert_eq!(crc32_update(crc32(a), b), crc32(data));
    }
}
