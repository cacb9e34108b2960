//! The bytes of a marks file as text, as editors on Windows save it:
//! UTF-8 with or without a byte-order mark, UTF-16 LE or BE with one
//! (Notepad's "Unicode"), and Windows-1252 (Notepad's "ANSI") when the
//! bytes are not UTF-8. Lines are split at every line end ([`lines`]).
//!
//! Invariant: bytes that are none of these (a NUL, UTF-16 without its
//! mark, a byte Windows-1252 leaves undefined) are an error, never text
//! read some other way: a mark read wrongly could be a mark lost.

/// The largest marks file read; a marks file is a few hundred bytes.
pub const MAX_BYTES: usize = 1 << 20;

/// Why a marks file's bytes are not text recpipe reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error(
        "it holds a NUL byte, so it is not plain text (or it is UTF-16 without a byte-order mark); save it in Notepad with the encoding UTF-8"
    )]
    Nul,
    #[error(
        "it starts with a UTF-16 byte-order mark but is not valid UTF-16; save it in Notepad with the encoding UTF-8"
    )]
    BadUtf16,
    #[error(
        "it is neither UTF-8 nor Windows-1252 text (byte {byte:#04x} at offset {at}); save it in Notepad with the encoding UTF-8"
    )]
    Unknown { byte: u8, at: usize },
    #[error("it is larger than {MAX_BYTES} bytes, far more than a marks file holds")]
    TooLarge,
}

/// The text of a marks file's bytes.
pub fn decode(bytes: &[u8]) -> Result<String, TextError> {
    if bytes.len() > MAX_BYTES {
        return Err(TextError::TooLarge);
    }
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
        match std::str::from_utf8(body) {
            Ok(t) => t.to_string(),
            // A UTF-8 mark on bytes that are not UTF-8.
            Err(e) if body.len() < bytes.len() => {
                let at = e.valid_up_to();
                return Err(TextError::Unknown {
                    byte: body[at],
                    at: at + 3,
                });
            }
            Err(_) => windows_1252(body)?,
        }
    };
    if text.contains('\0') {
        return Err(TextError::Nul);
    }
    Ok(text)
}

fn utf16(body: &[u8], word: fn([u8; 2]) -> u16) -> Result<String, TextError> {
    if !body.len().is_multiple_of(2) {
        return Err(TextError::BadUtf16);
    }
    let units = body.chunks_exact(2).map(|c| word([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| TextError::BadUtf16)
}

/// Windows-1252: Latin-1 but for 0x80–0x9F, five of which are undefined.
fn windows_1252(body: &[u8]) -> Result<String, TextError> {
    const HIGH: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
        0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];
    body.iter()
        .enumerate()
        .map(|(at, &b)| match b {
            0x80..=0x9F => match HIGH[(b - 0x80) as usize] {
                0 => Err(TextError::Unknown { byte: b, at }),
                c => char::from_u32(c as u32).ok_or(TextError::Unknown { byte: b, at }),
            },
            _ => Ok(b as char),
        })
        .collect()
}

/// The lines of a marks file, split at every line end an editor may
/// write: CR LF, LF, a lone CR (old Mac editors), and VT, FF, NEL, U+2028
/// and U+2029. A CR LF pair is one line end.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.char_indices().find(|(_, c)| is_line_end(*c)) {
            Some((i, c)) => {
                let mut next = i + c.len_utf8();
                if c == '\r' && s[next..].starts_with('\n') {
                    next += 1;
                }
                rest = (next < s.len()).then(|| &s[next..]);
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

fn is_line_end(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_notepad_saves_reads_the_same() {
        let want = "14:04:05 – 14:04:17 Søren\r\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in want.encode_utf16() {
            le.extend(u.to_le_bytes());
            be.extend(u.to_be_bytes());
        }
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(want.as_bytes());
        let ansi: Vec<u8> = b"14:04:05 \x96 14:04:17 S\xF8ren\r\n".to_vec();
        for bytes in [want.as_bytes().to_vec(), bom, le, be, ansi] {
            assert_eq!(decode(&bytes).unwrap(), want, "{bytes:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_text_are_refused() {
        assert_eq!(decode(b"1\x004"), Err(TextError::Nul));
        assert_eq!(decode(&[0xFF, 0xFE, 0x31]), Err(TextError::BadUtf16));
        assert!(matches!(
            decode(b"a\x81b"),
            Err(TextError::Unknown { byte: 0x81, at: 1 })
        ));
        assert!(decode(&[0xEF, 0xBB, 0xBF, 0xF8]).is_err());
    }

    #[test]
    fn every_line_end_ends_a_line() {
        let text = "a\r\nb\rc\nd\u{2028}e\u{2029}f\u{85}g\u{0B}h\u{0C}i";
        let got: Vec<&str> = lines(text).collect();
        assert_eq!(got, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
        assert_eq!(lines("a\n").collect::<Vec<_>>(), ["a"]);
        assert_eq!(lines("a\r\n\r\nb").collect::<Vec<_>>(), ["a", "", "b"]);
    }
}
