//! The wire format of the RouterOS API: length-prefixed words grouped into sentences.
//!
//! A word is its length followed by that many bytes. The length takes one to five bytes, most
//! significant first, the high bits of the first byte saying how many:
//!
//! | length                 | bytes | encoding                    |
//! |------------------------|-------|-----------------------------|
//! | `0 ..= 0x7F`           | 1     | `len`                       |
//! | `0x80 ..= 0x3FFF`      | 2     | `len \| 0x8000`             |
//! | `0x4000 ..= 0x1FFFFF`  | 3     | `len \| 0xC0_0000`          |
//! | `0x20_0000 ..= 0xFFF_FFFF` | 4 | `len \| 0xE000_0000`        |
//! | `0x1000_0000 ..`       | 5     | `0xF0`, then `len` in four  |
//!
//! A first byte of `0xF8` or more is a reserved control byte (none is defined); `0xF1`–`0xF7`
//! start no valid length either. A sentence is words ended by a zero-length word.
//!
//! This module owns the encoding and decoding and the caps on what a peer may send (word size,
//! words per sentence); it knows nothing of commands or sockets beyond reading from an
//! [`AsyncRead`].

use tokio::io::{AsyncRead, AsyncReadExt};

/// Why reading a sentence stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The connection failed or ended (end of stream included).
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// A reserved control byte (`0xF8`–`0xFF`) where a word length must start.
    #[error("reserved control byte 0x{0:02X} where a word length was expected")]
    ControlByte(u8),
    /// A byte that starts no valid length encoding (`0xF1`–`0xF7`).
    #[error("malformed word length: first byte 0x{0:02X} starts no length encoding")]
    BadPrefix(u8),
    /// A word longer than allowed.
    #[error("word of {len} bytes is longer than the {max} bytes allowed")]
    WordTooLong {
        /// The announced length.
        len: u64,
        /// The cap.
        max: usize,
    },
    /// A sentence with more words than allowed.
    #[error("sentence has more than the {max} words allowed")]
    TooManyWords {
        /// The cap.
        max: usize,
    },
}

/// Caps on what one sentence may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentenceLimits {
    /// Largest word, bytes.
    pub max_word_len: usize,
    /// Most words in a sentence (the terminating empty word not counted).
    pub max_words: usize,
}

/// Appends the encoded form of `len` to `out`.
pub fn encode_length(len: u32, out: &mut Vec<u8>) {
    let bytes = len.to_be_bytes();
    match len {
        0..=0x7F => out.push(bytes[3]),
        0x80..=0x3FFF => out.extend_from_slice(&(len | 0x8000).to_be_bytes()[2..]),
        0x4000..=0x1F_FFFF => out.extend_from_slice(&(len | 0xC0_0000).to_be_bytes()[1..]),
        0x20_0000..=0xFFF_FFFF => out.extend_from_slice(&(len | 0xE000_0000).to_be_bytes()),
        0x1000_0000..=u32::MAX => {
            out.push(0xF0);
            out.extend_from_slice(&bytes);
        }
    }
}

/// How many bytes follow `first` in a length encoding.
pub fn extra_length_bytes(first: u8) -> Result<usize, ReadError> {
    match first {
        0x00..=0x7F => Ok(0),
        0x80..=0xBF => Ok(1),
        0xC0..=0xDF => Ok(2),
        0xE0..=0xEF => Ok(3),
        0xF0 => Ok(4),
        0xF1..=0xF7 => Err(ReadError::BadPrefix(first)),
        0xF8..=0xFF => Err(ReadError::ControlByte(first)),
    }
}

/// Decodes a complete length encoding (`first` and the [`extra_length_bytes`] after it).
pub fn decode_length(first: u8, rest: &[u8]) -> Result<u32, ReadError> {
    let need = extra_length_bytes(first)?;
    if rest.len() != need {
        return Err(ReadError::BadPrefix(first));
    }
    let tail = rest.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    Ok(match need {
        0 => u32::from(first),
        1 => (u32::from(first & 0x3F) << 8) | tail,
        2 => (u32::from(first & 0x1F) << 16) | tail,
        3 => (u32::from(first & 0x0F) << 24) | tail,
        _ => tail,
    })
}

/// Appends one word (length and bytes) to `out`. Words longer than `u32::MAX` bytes cannot be
/// sent; the simulator never produces one (its replies are bounded by the configuration size).
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(word.len()).unwrap_or(u32::MAX);
    encode_length(len, out);
    out.extend_from_slice(&word[..len as usize]);
}

/// Appends a sentence: its words and the terminating empty word.
pub fn encode_sentence<S: AsRef<[u8]>>(words: &[S], out: &mut Vec<u8>) {
    for w in words {
        encode_word(w.as_ref(), out);
    }
    out.push(0);
}

/// Reads the rest of a sentence whose first byte (`first`, the start of the first word's
/// length) was already read. Returns the words without the terminating empty word; an empty
/// vector is an empty sentence. The limits are checked before anything is allocated, so an
/// announced length of four gigabytes costs nothing.
pub async fn read_sentence_after<R: AsyncRead + Unpin>(
    first: u8,
    r: &mut R,
    limits: SentenceLimits,
) -> Result<Vec<Vec<u8>>, ReadError> {
    let mut words = Vec::new();
    let mut lead = first;
    loop {
        let mut rest = [0u8; 4];
        let extra = extra_length_bytes(lead)?;
        r.read_exact(&mut rest[..extra]).await?;
        let len = decode_length(lead, &rest[..extra])?;
        if len == 0 {
            return Ok(words);
        }
        if len as usize > limits.max_word_len {
            return Err(ReadError::WordTooLong {
                len: u64::from(len),
                max: limits.max_word_len,
            });
        }
        if words.len() >= limits.max_words {
            return Err(ReadError::TooManyWords {
                max: limits.max_words,
            });
        }
        let mut word = vec![0u8; len as usize];
        r.read_exact(&mut word).await?;
        words.push(word);
        lead = r.read_u8().await?;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BOUNDARIES: [(u32, usize); 8] = [
        (0x7F, 1),
        (0x80, 2),
        (0x3FFF, 2),
        (0x4000, 3),
        (0x1F_FFFF, 3),
        (0x20_0000, 4),
        (0xFFF_FFFF, 4),
        (0x1000_0000, 5),
    ];

    #[test]
    fn lengths_round_trip_at_every_prefix_boundary() {
        for (len, size) in BOUNDARIES {
            let mut out = Vec::new();
            encode_length(len, &mut out);
            assert_eq!(out.len(), size, "0x{len:X} takes {size} bytes");
            assert_eq!(extra_length_bytes(out[0]).unwrap(), size - 1);
            assert_eq!(decode_length(out[0], &out[1..]).unwrap(), len, "0x{len:X}");
        }
        // The documented encodings, byte for byte.
        let enc = |len| {
            let mut out = Vec::new();
            encode_length(len, &mut out);
            out
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(0x80), [0x80, 0x80]);
        assert_eq!(enc(0x3FFF), [0xBF, 0xFF]);
        assert_eq!(enc(0x4000), [0xC0, 0x40, 0x00]);
        assert_eq!(enc(0x20_0000), [0xE0, 0x20, 0x00, 0x00]);
        assert_eq!(enc(0x1000_0000), [0xF0, 0x10, 0x00, 0x00, 0x00]);
        assert_eq!(enc(u32::MAX), [0xF0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn reserved_and_malformed_first_bytes_are_refused() {
        for b in 0xF8..=0xFF {
            assert!(matches!(
                extra_length_bytes(b),
                Err(ReadError::ControlByte(x)) if x == b
            ));
        }
        for b in 0xF1..=0xF7 {
            assert!(matches!(
                extra_length_bytes(b),
                Err(ReadError::BadPrefix(_))
            ));
        }
        assert!(decode_length(0x80, &[]).is_err(), "a truncated prefix");
    }

    fn limits() -> SentenceLimits {
        SentenceLimits {
            max_word_len: 0x20_0000,
            max_words: 8,
        }
    }

    async fn read_all(bytes: &[u8], limits: SentenceLimits) -> Result<Vec<Vec<u8>>, ReadError> {
        let mut r = bytes;
        let first = r.read_u8().await?;
        read_sentence_after(first, &mut r, limits).await
    }

    #[tokio::test]
    async fn sentences_round_trip_with_words_at_the_boundaries() {
        for (len, _) in BOUNDARIES.iter().take(6) {
            let big = vec![b'x'; *len as usize];
            let words: Vec<&[u8]> = vec![b"/ip/address/print", &big, b".tag=1"];
            let mut out = Vec::new();
            encode_sentence(&words, &mut out);
            let back = read_all(&out, limits()).await.unwrap();
            assert_eq!(back.len(), 3);
            assert_eq!(back[1].len(), *len as usize);
            assert_eq!(back[2], b".tag=1");
        }
    }

    #[tokio::test]
    async fn caps_are_checked_before_allocating() {
        // Announces 0x1000_0000 bytes and sends none: refused at once, nothing read.
        let mut out = Vec::new();
        encode_length(0x1000_0000, &mut out);
        let err = read_all(&out, limits()).await.unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::WordTooLong {
                    len: 0x1000_0000,
                    max: 0x20_0000
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "word of 268435456 bytes is longer than the 2097152 bytes allowed"
        );
        let nine: Vec<&[u8]> = vec![b"=a=b"; 9];
        let mut out = Vec::new();
        encode_sentence(&nine, &mut out);
        let err = read_all(&out, limits()).await.unwrap_err();
        assert!(matches!(err, ReadError::TooManyWords { max: 8 }), "{err}");
    }

    #[tokio::test]
    async fn truncated_input_is_an_end_of_stream() {
        let mut out = Vec::new();
        encode_sentence(&[b"/login".as_slice()], &mut out);
        for cut in 1..out.len() {
            let err = read_all(&out[..cut], limits()).await.unwrap_err();
            assert!(
                matches!(&err, ReadError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
                "cut at {cut}: {err}"
            );
        }
        let err = read_all(&[0xF9, 1, 2], limits()).await.unwrap_err();
        assert!(matches!(err, ReadError::ControlByte(0xF9)));
    }
}
