//! Audio decoding: AAC-LC frames taken from an MP4 track (through the
//! sample table of [`crate::media::mp4`]) and decoded with symphonia.
//!
//! Invariants: the file is read once, front to back in sample order, one
//! frame at a time; decoded audio is never written anywhere from here.
//! A frame that does not decode is an error naming its position.

use crate::media::mp4::reader::SampleReader;
use crate::media::mp4::{Codec, Sample, SampleIter, Track};
use std::path::Path;
use symphonia::core::audio::AudioBufferRef;
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

/// The one decode loop over an AAC-LC track, for every reader of decoded
/// audio (the completeness check, the redactor, the timeline): each frame
/// is read through [`SampleReader`] (one frame in memory, in sample order)
/// after the AAC frame-size limit is checked, and decoded by symphonia
/// inside `catch_unwind`, so a decoder panic on hostile input is a
/// [`AudioError::Decode`] naming the frame, never a crash.
pub struct AacFrames<'t> {
    track: &'t Track,
    samples: SampleIter<'t>,
    reader: SampleReader,
    buf: Vec<u8>,
    decoder: Box<dyn Decoder>,
}

/// One decoded frame and the sample it came from.
pub struct Frame<'a> {
    pub sample: Sample,
    pub audio: AudioBufferRef<'a>,
}

impl<'t> AacFrames<'t> {
    /// Decodes `track` of the file at `path` with `decoder` (from
    /// [`aac_decoder`]).
    pub fn new(
        path: &Path,
        track: &'t Track,
        decoder: Box<dyn Decoder>,
    ) -> Result<AacFrames<'t>, AudioError> {
        Ok(AacFrames {
            track,
            samples: track.samples(),
            reader: SampleReader::open(path)?,
            buf: Vec::new(),
            decoder,
        })
    }

    /// The decoded sample rate (the track's timescale where the decoder
    /// does not say).
    pub fn sample_rate(&self) -> u32 {
        self.decoder
            .codec_params()
            .sample_rate
            .unwrap_or(self.track.timescale)
            .max(1)
    }

    /// The next frame decoded, or `None` after the last.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, AudioError> {
        let Some(sample) = self.samples.next() else {
            return Ok(None);
        };
        let at = |why: String| AudioError::Decode {
            frame: sample.index + 1,
            seconds: sample.dts as f64 / f64::from(self.track.timescale.max(1)),
            why,
        };
        if sample.size > MAX_AAC_FRAME {
            return Err(at(format!("a frame of {} bytes is not AAC", sample.size)));
        }
        self.reader.read(&sample, &mut self.buf)?;
        let packet = Packet::new_from_slice(0, sample.dts, u64::from(sample.duration), &self.buf);
        let decoder = &mut self.decoder;
        // Moving the borrow in makes the closure FnOnce, so the decoded
        // buffer (which borrows the decoder) may leave it.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let decoder = decoder;
            decoder.decode(&packet)
        })) {
            Ok(Ok(audio)) => Ok(Some(Frame { sample, audio })),
            Ok(Err(e)) => Err(at(e.to_string())),
            Err(_) => Err(at("the decoder failed on this frame".into())),
        }
    }
}

/// Decodes every frame of an audio track to prove it decodes to the end.
pub fn decode_to_end(path: &Path, track: &Track) -> Result<Decoded, AudioError> {
    let mut frames = AacFrames::new(path, track, aac_decoder(track)?)?;
    let rate = frames.sample_rate();
    let (mut count, mut pcm_frames, mut peak) = (0, 0u64, 0f32);
    while let Some(frame) = frames.next_frame()? {
        pcm_frames += frame.audio.frames() as u64;
        peak = peak.max(peak_of(&frame.audio));
        count += 1;
    }
    Ok(Decoded {
        frames: count,
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
