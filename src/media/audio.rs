//! Audio decoding: AAC-LC frames taken from an MP4 track (through the
//! sample table of [`crate::media::mp4`]) and decoded with symphonia.
//!
//! Invariants: the file is read once, front to back in sample order, one
//! frame at a time; decoded audio is never written anywhere from here.
//! A frame that does not decode is an error naming its position.

use crate::media::mp4::{Codec, Track};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use symphonia::core::codecs::{CODEC_TYPE_AAC, CodecParameters, Decoder, DecoderOptions};
use symphonia::core::formats::Packet;

/// No AAC frame is larger than this (6144 bits per channel, 8 channels).
const MAX_AAC_FRAME: u32 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("its audio is {0}, which recpipe cannot decode (it handles AAC-LC, as Zoom writes)")]
    Unsupported(String),
    #[error("its audio does not decode at {seconds:.2} s (frame {frame}): {why}")]
    Decode {
        frame: u32,
        seconds: f64,
        why: String,
    },
}

/// What decoding a whole track found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    pub frames: u32,
    /// Decoded length in seconds (PCM samples per channel / rate).
    pub seconds: f64,
    /// The largest absolute sample, full scale 1.0: below 0.001
    /// (−60 dBFS) throughout, the track is silent (a muted microphone).
    pub peak: f32,
}

/// Makes a symphonia AAC decoder for a track, or says why it cannot.
pub fn aac_decoder(track: &Track) -> Result<Box<dyn Decoder>, AudioError> {
    let (config, asc) = match &track.codec {
        Codec::Aac { config, asc, .. } => (config, asc),
        other => return Err(AudioError::Unsupported(other.name())),
    };
    if !config.is_plain_lc() {
        return Err(AudioError::Unsupported(config.name()));
    }
    let mut params = CodecParameters::new();
    params
        .for_codec(CODEC_TYPE_AAC)
        .with_sample_rate(config.sample_rate)
        .with_extra_data(asc.clone().into_boxed_slice());
    symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| AudioError::Unsupported(format!("{} ({e})", config.name())))
}

/// Decodes every frame of an audio track to prove it decodes to the end.
pub fn decode_to_end(path: &Path, track: &Track) -> Result<Decoded, AudioError> {
    let mut decoder = aac_decoder(track)?;
    let mut reader = BufReader::with_capacity(256 * 1024, crate::fsutil::open_input(path)?);
    let mut pos = 0u64;
    let mut buf = Vec::new();
    let mut pcm_frames = 0u64;
    let rate = decoder
        .codec_params()
        .sample_rate
        .unwrap_or(track.timescale)
        .max(1);
    let mut frames = 0;
    let mut peak = 0f32;
    for sample in track.samples() {
        let at = |why: String| AudioError::Decode {
            frame: sample.index + 1,
            seconds: sample.dts as f64 / track.timescale as f64,
            why,
        };
        if sample.size > MAX_AAC_FRAME {
            return Err(at(format!("a frame of {} bytes is not AAC", sample.size)));
        }
        if sample.offset != pos {
            match i64::try_from(sample.offset as i128 - pos as i128) {
                Ok(delta) => reader.seek_relative(delta)?,
                Err(_) => {
                    reader.seek(SeekFrom::Start(sample.offset))?;
                }
            }
        }
        buf.resize(sample.size as usize, 0);
        reader.read_exact(&mut buf)?;
        pos = sample.offset + sample.size as u64;
        let packet = Packet::new_from_slice(0, sample.dts, sample.duration as u64, &buf);
        // symphonia is a third-party decoder fed hostile input: a panic in
        // it becomes a decode error for this file, not a crash of recpipe.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            decoder.decode(&packet).map(|b| (b.frames(), peak_of(&b)))
        }));
        match result {
            Ok(Ok((n, p))) => {
                pcm_frames += n as u64;
                peak = peak.max(p);
            }
            Ok(Err(e)) => return Err(at(e.to_string())),
            Err(_) => return Err(at("the decoder failed on this frame".into())),
        }
        frames += 1;
    }
    Ok(Decoded {
        frames,
        seconds: pcm_frames as f64 / rate as f64,
        peak,
    })
}

/// The largest absolute sample of a decoded buffer (AAC decodes to f32;
/// any other sample type counts as loud, so nothing is called silent by
/// mistake).
fn peak_of(b: &symphonia::core::audio::AudioBufferRef<'_>) -> f32 {
    use symphonia::core::audio::{AudioBufferRef, Signal};
    match b {
        AudioBufferRef::F32(buf) => (0..buf.spec().channels.count())
            .flat_map(|c| buf.chan(c).iter())
            .fold(0f32, |m, s| m.max(s.abs())),
        _ => 1.0,
    }
}
