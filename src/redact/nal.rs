//! Clean random-access points of H.264 and HEVC video, told from the NAL
//! unit headers of a sample (length-prefixed NAL units, the length size
//! from the track's `avcC` / `hvcC`): a cut may resume only where a decoder
//! can start afresh.
//!
//! Invariants: only the length fields and the first header byte of each
//! NAL unit are read, never a whole picture. H.264: clean only at an IDR
//! access unit (type 5); a non-IDR I-picture with a recovery point is not.
//! HEVC: clean at an IDR (19, 20) or a BLA (16–18); a CRA (21) is clean once
//! each of its slice NAL units is made a BLA_W_LP (16) — the slice header
//! syntax of the two is the same, so only the type bits of the first header
//! byte change. Anything else, or a sample whose NAL lengths do not fit it,
//! is not clean.

use crate::media::mp4::reader::SampleReader;
use crate::media::mp4::write::Patch;
use crate::media::mp4::{Codec, Sample};
use std::io;
use std::path::Path;

/// What resuming at a sample takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A decoder starts afresh here as it is.
    Clean,
    /// An HEVC CRA: clean once these bytes (file offset, new value) — the
    /// first header byte of each slice — are written instead.
    Cra(Vec<Patch>),
    /// Pictures after it may reference pictures before it.
    NotClean,
}

/// Reads NAL unit headers of one video track's samples.
pub struct NalReader {
    reader: SampleReader,
    len_size: u8,
    hevc: bool,
}

const BLA_W_LP: u8 = 16;
const CRA: u8 = 21;

impl NalReader {
    /// For an H.264 or HEVC track; `Err` says why its samples cannot be
    /// read as NAL units.
    pub fn open(path: &Path, codec: &Codec) -> Result<NalReader, String> {
        let (hevc, config) = match codec {
            Codec::Video {
                name: "H.264",
                config,
                ..
            } => (false, config),
            Codec::Video {
                name: "HEVC",
                config,
                ..
            } => (true, config),
            other => return Err(format!("its video is {}", other.name())),
        };
        let at = if hevc { 21 } else { 4 };
        let len_size = match config.as_deref().and_then(|c| c.get(at)) {
            Some(b) => (b & 3) + 1,
            None => {
                return Err(format!(
                    "its video has no complete {} record",
                    if hevc { "hvcC" } else { "avcC" }
                ));
            }
        };
        if len_size == 3 {
            return Err("its video declares 3-byte NAL unit lengths".into());
        }
        let reader = SampleReader::open(path).map_err(|e| e.to_string())?;
        Ok(NalReader {
            reader,
            len_size,
            hevc,
        })
    }

    /// Whether the sample is a clean random-access point.
    pub fn access(&mut self, s: &Sample) -> io::Result<Access> {
        let n = self.len_size as usize;
        let end = s.offset + s.size as u64;
        let mut pos = s.offset;
        let mut cra = Vec::new();
        let mut head = [0u8; 5];
        while pos + (n as u64) < end {
            self.reader.read_at(pos, &mut head[..n + 1])?;
            let len = head[..n].iter().fold(0u64, |a, &b| a << 8 | b as u64);
            let header = pos + n as u64;
            if len == 0 || header + len > end {
                return Ok(Access::NotClean);
            }
            let byte = head[n];
            if self.hevc {
                let kind = (byte >> 1) & 0x3f;
                match kind {
                    16..=20 if cra.is_empty() => return Ok(Access::Clean),
                    CRA => cra.push((header, (byte & 0x81) | (BLA_W_LP << 1))),
                    0..=31 => return Ok(Access::NotClean),
                    _ => {}
                }
            } else {
                match byte & 0x1f {
                    5 => return Ok(Access::Clean),
                    1..=4 => return Ok(Access::NotClean),
                    _ => {}
                }
            }
            pos = header + len;
        }
        Ok(if cra.is_empty() {
            Access::NotClean
        } else {
            Access::Cra(cra)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(name: &'static str) -> Codec {
        let mut config = vec![1u8; 23];
        config[4] = 0xFF; // avcC: 4-byte lengths
        config[21] = 0x03; // hvcC: 4-byte lengths
        Codec::Video {
            name,
            width: 320,
            height: 180,
            config: Some(config),
        }
    }

    /// A file holding one sample of length-prefixed NAL units (each given
    /// by its header bytes and a body length), read back as `Access`.
    fn access(name: &'static str, nals: &[(&[u8], usize)], claim: Option<u32>) -> Access {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.bin");
        let mut bytes = vec![0xEEu8; 8]; // something before the sample
        for (head, body) in nals {
            let len = (head.len() + body) as u32;
            bytes.extend(len.to_be_bytes());
            bytes.extend(*head);
            bytes.extend(std::iter::repeat_n(0x55, *body));
        }
        std::fs::write(&path, &bytes).unwrap();
        let sample = Sample {
            index: 0,
            offset: 8,
            size: claim.unwrap_or(bytes.len() as u32 - 8),
            dts: 0,
            duration: 1,
            cts_offset: 0,
            is_sync: true,
        };
        NalReader::open(&path, &codec(name))
            .unwrap()
            .access(&sample)
            .unwrap()
    }

    #[test]
    fn h264_is_clean_only_at_an_idr() {
        // SEI (6) then an IDR slice (5) / a non-IDR I slice (1).
        assert_eq!(
            access("H.264", &[(&[0x06], 20), (&[0x65], 300)], None),
            Access::Clean
        );
        assert_eq!(
            access("H.264", &[(&[0x06], 20), (&[0x41], 300)], None),
            Access::NotClean
        );
    }

    #[test]
    fn hevc_idr_is_clean_and_every_cra_slice_becomes_a_bla() {
        // VPS (32), IDR_W_RADL (19).
        assert_eq!(
            access("HEVC", &[(&[0x40, 0x01], 20), (&[0x26, 0x01], 300)], None),
            Access::Clean
        );
        // VPS, then two CRA (21) slices, the second with the layer bit set:
        // only the type bits change.
        let got = access(
            "HEVC",
            &[
                (&[0x40, 0x01], 20),
                (&[0x2A, 0x01], 300),
                (&[0x2B, 0x01], 200),
            ],
            None,
        );
        let first = 8 + 4 + 22 + 4;
        let second = first + 302 + 4;
        assert_eq!(
            got,
            Access::Cra(vec![(first as u64, 0x20), (second as u64, 0x21)])
        );
        // A trailing picture (TRAIL_R, 1) is not clean.
        assert_eq!(
            access("HEVC", &[(&[0x02, 0x01], 300)], None),
            Access::NotClean
        );
    }

    #[test]
    fn a_nal_unit_longer_than_its_sample_is_not_clean() {
        assert_eq!(
            access("H.264", &[(&[0x65], 300)], Some(100)),
            Access::NotClean
        );
    }
}
