//! ISO-BMFF box headers: the top-level walk over a file (headers only, by
//! seeking; box bodies are never read here) and the walk over the children
//! of a box already in memory. Sizes are checked against what holds them;
//! a box that claims more than its parent or the file is an error, never a
//! large allocation.

use super::Mp4Error;
use super::bytes::Bytes;
use std::io::{Read, Seek, SeekFrom};

/// More top-level boxes than any real recording has; a file with more is
/// refused rather than walked for ever.
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// Box types that may start an MP4/MOV file.
const FIRST_BOX_KINDS: &[&[u8; 4]] = &[
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pdin", b"styp", b"sidx", b"moof",
    b"uuid", b"meta", b"pnot", b"junk",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: [u8; 4],
    /// Offset of the box's first byte in the file.
    pub offset: u64,
    pub header_len: u64,
    /// Total size including the header, as declared (size 0 resolved to the
    /// end of the file).
    pub size: u64,
}

impl BoxHeader {
    pub fn body_offset(&self) -> u64 {
        self.offset + self.header_len
    }

    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size)
    }

    pub fn body_len(&self) -> u64 {
        self.size - self.header_len
    }
}

/// Printable form of a box type for messages (`'moov'`, or hex when the
/// bytes are not printable).
pub fn kind_name(kind: &[u8; 4]) -> String {
    if kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("'{}'", String::from_utf8_lossy(kind))
    } else {
        format!("0x{}", crate::digest::hex(kind))
    }
}

/// Walks the top-level boxes of a file of `file_len` bytes. Stops with an
/// error at the first box whose header is unreadable or whose declared size
/// runs past the end of the file.
pub fn top_level<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Vec<BoxHeader>, Mp4Error> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    while offset < file_len {
        if out.len() >= MAX_TOP_LEVEL_BOXES {
            return Err(Mp4Error::Unsupported(format!(
                "more than {MAX_TOP_LEVEL_BOXES} top-level boxes"
            )));
        }
        let remaining = file_len - offset;
        if remaining < 8 {
            return Err(Mp4Error::Truncated(format!(
                "{remaining} stray bytes at offset {offset} after the last box"
            )));
        }
        r.seek(SeekFrom::Start(offset))?;
        let mut head = [0u8; 16];
        let want = remaining.min(16) as usize;
        r.read_exact(&mut head[..want])?;
        let header = parse_header(&head[..want], offset, remaining)?;
        if out.is_empty() && !FIRST_BOX_KINDS.contains(&&header.kind) {
            return Err(Mp4Error::NotMp4(format!(
                "it starts with {} where an MP4 file starts with 'ftyp'",
                kind_name(&header.kind)
            )));
        }
        if header.size > remaining {
            return Err(Mp4Error::Truncated(format!(
                "box {} at offset {offset} declares {} bytes but only {remaining} are left in the file",
                kind_name(&header.kind),
                header.size
            )));
        }
        offset = header.end();
        out.push(header);
    }
    Ok(out)
}

/// Parses a box header from `head` (at least 8 bytes). `room` is how many
/// bytes are left in whatever holds the box; size 0 means "to the end".
fn parse_header(head: &[u8], offset: u64, room: u64) -> Result<BoxHeader, Mp4Error> {
    let mut b = Bytes::new(head);
    let short = |_| Mp4Error::Truncated(format!("box header at offset {offset} is cut short"));
    let size32 = b.u32().map_err(short)?;
    let kind = b.fourcc().map_err(short)?;
    let (size, header_len) = match size32 {
        0 => (room, 8),
        1 => (b.u64().map_err(short)?, 16),
        n => (n as u64, 8),
    };
    if size < header_len {
        return Err(Mp4Error::Malformed(format!(
            "box {} at offset {offset} declares a size of {size} bytes, smaller than its own header",
            kind_name(&kind)
        )));
    }
    Ok(BoxHeader {
        kind,
        offset,
        header_len,
        size,
    })
}

/// A child box held in memory: its type and body.
pub struct Child<'a> {
    pub kind: [u8; 4],
    pub body: &'a [u8],
}

/// The children of a box body in memory. Each child must fit in its parent.
pub fn children(parent: &[u8]) -> impl Iterator<Item = Result<Child<'_>, Mp4Error>> {
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || parent.len() - pos < 8 {
            return None;
        }
        let room = (parent.len() - pos) as u64;
        let head = &parent[pos..parent.len().min(pos + 16)];
        let result = parse_header(head, pos as u64, room).and_then(|h| {
            if h.size > room {
                Err(Mp4Error::Malformed(format!(
                    "box {} declares {} bytes but its parent has only {room} left",
                    kind_name(&h.kind),
                    h.size
                )))
            } else {
                let start = pos + h.header_len as usize;
                let end = pos + h.size as usize;
                pos = end;
                Ok(Child {
                    kind: h.kind,
                    body: &parent[start..end],
                })
            }
        });
        failed = result.is_err();
        Some(result)
    })
}

/// The first child of the given type, if any.
pub fn find<'a>(parent: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, Mp4Error> {
    for child in children(parent) {
        let child = child?;
        if &child.kind == kind {
            return Ok(Some(child.body));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn walks_top_level_and_resolves_size_zero() {
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
        file.extend_from_slice(&[0, 0, 0, 0]);
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&[7; 10]);
        let len = file.len() as u64;
        let boxes = top_level(&mut Cursor::new(file), len).unwrap();
        assert_eq!(boxes.len(), 2);
        assert_eq!(&boxes[1].kind, b"mdat");
        assert_eq!(boxes[1].end(), len);
    }

    #[test]
    fn a_box_past_the_end_is_truncation() {
        let mut file = boxed(b"ftyp", b"isom");
        file.extend_from_slice(&100u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        let len = file.len() as u64;
        let err = top_level(&mut Cursor::new(file), len).unwrap_err();
        assert!(matches!(err, Mp4Error::Truncated(_)), "{err}");
    }

    #[test]
    fn text_is_not_mp4() {
        let file = b"hello, this is not a video at all".to_vec();
        let len = file.len() as u64;
        let err = top_level(&mut Cursor::new(file), len).unwrap_err();
        assert!(matches!(err, Mp4Error::NotMp4(_)), "{err}");
    }

    #[test]
    fn children_refuse_a_child_larger_than_its_parent() {
        let mut parent = boxed(b"free", b"");
        parent.extend_from_slice(&1000u32.to_be_bytes());
        parent.extend_from_slice(b"trak");
        let results: Vec<_> = children(&parent).collect();
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
        assert_eq!(results.len(), 2);
    }
}
