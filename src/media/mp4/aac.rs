//! AAC decoder configuration: the AudioSpecificConfig carried in an MP4
//! `esds` box, and what it says about the stream (object type, rate,
//! channels, and whether SBR/PS make it HE-AAC, which recpipe does not
//! decode).

use super::Mp4Error;
use super::bytes::{Bits, Bytes};

const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AudioSpecificConfig {
    /// MPEG-4 audio object type: 2 is AAC-LC, 5 SBR, 29 PS, 42 USAC.
    pub object_type: u8,
    pub sample_rate: u32,
    /// Channel configuration (1 mono, 2 stereo, ...; 0 = defined in-stream).
    pub channels: u8,
    /// SBR signalled (explicitly or by a sync extension): HE-AAC.
    pub sbr: bool,
    /// Parametric stereo signalled: HE-AAC v2.
    pub ps: bool,
}

impl AudioSpecificConfig {
    pub fn parse(asc: &[u8]) -> Result<Self, Mp4Error> {
        let bad = |_| Mp4Error::Malformed("the AAC decoder configuration is cut short".into());
        let mut bits = Bits::new(asc);
        let mut object_type = read_object_type(&mut bits).map_err(bad)?;
        let sample_rate = read_rate(&mut bits).map_err(bad)?;
        let channels = bits.read(4).map_err(bad)? as u8;
        let (mut sbr, mut ps) = (false, false);
        if object_type == 5 || object_type == 29 {
            sbr = true;
            ps = object_type == 29;
            let _extension_rate = read_rate(&mut bits).map_err(bad)?;
            object_type = read_object_type(&mut bits).map_err(bad)?;
        } else if object_type == 2 && bits.remaining() >= 3 + 16 {
            // GASpecificConfig, then a possible backward-compatible sync
            // extension (0x2b7) announcing SBR.
            let _frame_length = bits.read(1).map_err(bad)?;
            let depends_on_core = bits.read(1).map_err(bad)?;
            if depends_on_core == 1 {
                bits.read(14).map_err(bad)?;
            }
            let _extension_flag = bits.read(1).map_err(bad)?;
            if bits.remaining() >= 16 && bits.read(11).map_err(bad)? == 0x2b7 {
                let ext_type = read_object_type(&mut bits).map_err(bad)?;
                if ext_type == 5 && bits.remaining() >= 1 {
                    sbr = bits.read(1).map_err(bad)? == 1;
                    if sbr && bits.remaining() >= 4 {
                        let _ = read_rate(&mut bits);
                    }
                    if bits.remaining() >= 12 && bits.read(11).map_err(bad)? == 0x548 {
                        ps = bits.read(1).map_err(bad)? == 1;
                    }
                }
            }
        }
        Ok(AudioSpecificConfig {
            object_type,
            sample_rate,
            channels,
            sbr,
            ps,
        })
    }

    /// Plain-language codec name: "AAC-LC", "HE-AAC", "HE-AAC v2", ...
    pub fn name(&self) -> String {
        match (self.object_type, self.sbr, self.ps) {
            (_, true, true) => "HE-AAC v2".into(),
            (_, true, false) => "HE-AAC".into(),
            (2, _, _) => "AAC-LC".into(),
            (1, _, _) => "AAC Main".into(),
            (4, _, _) => "AAC-LTP".into(),
            (42, _, _) => "xHE-AAC (USAC)".into(),
            (n, _, _) => format!("MPEG-4 audio object type {n}"),
        }
    }

    /// recpipe decodes and remuxes plain AAC-LC only.
    pub fn is_plain_lc(&self) -> bool {
        self.object_type == 2 && !self.sbr && !self.ps
    }
}

fn read_object_type(bits: &mut Bits<'_>) -> Result<u8, super::bytes::Short> {
    let t = bits.read(5)?;
    Ok(if t == 31 { 32 + bits.read(6)? } else { t } as u8)
}

fn read_rate(bits: &mut Bits<'_>) -> Result<u32, super::bytes::Short> {
    let index = bits.read(4)?;
    if index == 15 {
        bits.read(24)
    } else {
        Ok(SAMPLE_RATES.get(index as usize).copied().unwrap_or(0))
    }
}

/// Extracts the AudioSpecificConfig (DecoderSpecificInfo) from an `esds`
/// box body: ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo.
pub fn asc_from_esds(esds: &[u8]) -> Result<Vec<u8>, Mp4Error> {
    let bad = || Mp4Error::Malformed("the 'esds' box is malformed".into());
    let mut b = Bytes::new(esds);
    b.full_box().map_err(|_| bad())?;
    let (tag, body) = descriptor(&mut b).ok_or_else(bad)?;
    if tag != 0x03 {
        return Err(bad());
    }
    let mut es = Bytes::new(body);
    es.skip(2).map_err(|_| bad())?;
    let flags = es.u8().map_err(|_| bad())?;
    if flags & 0x80 != 0 {
        es.skip(2).map_err(|_| bad())?;
    }
    if flags & 0x40 != 0 {
        let len = es.u8().map_err(|_| bad())?;
        es.skip(len as usize).map_err(|_| bad())?;
    }
    if flags & 0x20 != 0 {
        es.skip(2).map_err(|_| bad())?;
    }
    while let Some((tag, body)) = descriptor(&mut es) {
        if tag != 0x04 {
            continue;
        }
        let mut dc = Bytes::new(body);
        let object_indication = dc.u8().map_err(|_| bad())?;
        if object_indication != 0x40 && object_indication != 0x66 && object_indication != 0x67 {
            return Err(Mp4Error::Unsupported(format!(
                "audio in an 'mp4a' entry that is not MPEG-4 AAC (object type indication 0x{object_indication:02x})"
            )));
        }
        dc.skip(12).map_err(|_| bad())?;
        while let Some((tag, body)) = descriptor(&mut dc) {
            if tag == 0x05 {
                return Ok(body.to_vec());
            }
        }
    }
    Err(Mp4Error::Malformed(
        "the AAC track has no decoder-specific configuration".into(),
    ))
}

/// One descriptor: tag and body (length in up to four 7-bit groups).
fn descriptor<'a>(b: &mut Bytes<'a>) -> Option<(u8, &'a [u8])> {
    let tag = b.u8().ok()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let byte = b.u8().ok()?;
        len = (len << 7) | (byte & 0x7f) as usize;
        if byte & 0x80 == 0 {
            break;
        }
    }
    Some((tag, b.take(len).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lc_mono_32k() {
        // object type 2, rate index 5 (32000), channel config 1
        let c = AudioSpecificConfig::parse(&[0x12, 0x88]).unwrap();
        assert_eq!((c.object_type, c.sample_rate, c.channels), (2, 32000, 1));
        assert!(c.is_plain_lc());
        assert_eq!(c.name(), "AAC-LC");
    }

    #[test]
    fn explicit_sbr_is_he_aac() {
        // object type 5, rate index 6 (24000), 2 ch, ext rate index 3 (48000), core type 2
        let c = AudioSpecificConfig::parse(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
        assert!(c.sbr);
        assert!(!c.is_plain_lc());
        assert_eq!(c.name(), "HE-AAC");
    }

    #[test]
    fn sync_extension_announces_sbr() {
        // AAC-LC 22050 mono + 0x2b7 sync extension, SBR type 5, flag 1, rate index 3
        let c = AudioSpecificConfig::parse(&[0x13, 0x88, 0x56, 0xe5, 0x98]).unwrap();
        assert!(c.sbr, "{c:?}");
        assert_eq!(c.name(), "HE-AAC");
    }

    #[test]
    fn usac_is_named() {
        // escape 31 + 6 bits (42-32=10), rate index 4, 1 ch
        let mut bits: u32 = 0;
        bits = (bits << 5) | 31;
        bits = (bits << 6) | 10;
        bits = (bits << 4) | 4;
        bits = (bits << 4) | 1;
        bits <<= 32 - 19;
        let c = AudioSpecificConfig::parse(&bits.to_be_bytes()).unwrap();
        assert_eq!(c.object_type, 42);
        assert_eq!(c.name(), "xHE-AAC (USAC)");
    }

    #[test]
    fn cut_short_is_an_error_not_a_panic() {
        assert!(AudioSpecificConfig::parse(&[]).is_err());
        assert!(asc_from_esds(&[0, 0, 0, 0, 3, 0x80]).is_err());
    }
}
