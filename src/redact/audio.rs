//! Audio to WAV: an AAC-LC track decoded with symphonia and written as
//! 16-bit PCM WAV, with each redacted range replaced by digital silence
//! (timeline unchanged) or cut out (later audio moves up).
//!
//! Invariants: one pass over the input in sample order, one AAC frame in
//! memory at a time; the output is streamed into any writer, so the WAV
//! header is written first with a length computed from the sample table
//! (hound needs a seekable writer to patch its header afterwards, which a
//! sealing stream is not). Ranges are applied to the PCM sample: the start
//! rounds down, the end rounds up, so a redaction is never narrower than
//! asked. The edit list's priming is skipped, so PCM sample 0 is the first
//! presented instant, as in ffmpeg.

use super::{Counting, Input, Range, RedactError, RedactMode, Report, Timeline, merge};
use crate::media::audio::{AacFrames, AudioError, Frame, aac_decoder};
use crate::media::mp4::Codec;
use std::io::{BufWriter, Write};
use std::path::Path;
use symphonia::core::audio::SampleBuffer;

/// A decoder may deliver this many frames less than the table promises
/// (one AAC frame) before the shortfall is an error; the gap is silence.
const SLACK_FRAMES: u64 = 1024;

/// Decodes the audio track `track` (or the first audio track) of `path`
/// and writes it to `out` as 16-bit PCM WAV with `ranges` silenced or cut.
pub fn to_wav(
    path: &Path,
    track: Option<u32>,
    ranges: &[Range],
    mode: RedactMode,
    out: impl Write,
) -> Result<Report, RedactError> {
    let input = Input::open(path, track)?;
    let Prepared {
        decoder,
        rate,
        channels,
        pcm,
        spans,
        out_frames,
        data_len,
    } = prepare(&input, ranges, mode)?;
    let t = input.audio_track()?;
    let audio_err = |source| RedactError::Audio {
        path: path.to_path_buf(),
        source,
    };
    let mut out = Counting {
        inner: BufWriter::with_capacity(1 << 20, out),
        bytes: 0,
    };
    out.write_all(&wav_header(rate, channels, data_len as u32))
        .map_err(|e| input.write_err(e))?;

    let mut emit = Emitter {
        spans: &spans,
        span: 0,
        mode,
        length: pcm.length,
        channels: channels as usize,
        written: 0,
        bytes: Vec::new(),
    };
    let mut decoded = AacFrames::new(path, t, decoder).map_err(audio_err)?;
    let mut pcm_buf: Option<SampleBuffer<i16>> = None;
    let mut decoded_pos: u64 = 0; // PCM frames decoded so far, media timeline
    while decoded_pos < pcm.start + pcm.length {
        let Some(Frame { sample, audio }) = decoded.next_frame().map_err(audio_err)? else {
            break;
        };
        let at = |why: String| {
            audio_err(AudioError::Decode {
                frame: sample.index + 1,
                seconds: sample.dts as f64 / t.timescale as f64,
                why,
            })
        };
        let spec = *audio.spec();
        let (got_channels, frames) = (spec.channels.count(), audio.frames());
        let need = audio.capacity() as u64;
        let sb = match &mut pcm_buf {
            Some(sb) if sb.capacity() as u64 >= need * got_channels as u64 => sb,
            slot => slot.insert(SampleBuffer::<i16>::new(need, spec)),
        };
        sb.copy_interleaved_ref(audio);
        if got_channels != channels as usize {
            return Err(at(format!(
                "it decodes to {got_channels} channels where the file declares {channels}"
            )));
        }
        let samples = &sb.samples()[..frames * got_channels];
        let first = decoded_pos as i128 - pcm.start as i128;
        emit.push(first, samples, &mut out)
            .map_err(|e| input.write_err(e))?;
        decoded_pos += frames as u64;
    }
    if emit.written + SLACK_FRAMES < out_frames {
        return Err(audio_err(AudioError::Decode {
            frame: t.sample_count(),
            seconds: decoded_pos as f64 / rate as f64,
            why: format!(
                "it decodes to {} audio samples where its index promises {}",
                emit.written, out_frames
            ),
        }));
    }
    let pad = (out_frames - emit.written) as usize * channels as usize;
    out.write_all(&vec![0u8; pad * 2])
        .and_then(|_| out.flush())
        .map_err(|e| input.write_err(e))?;
    let removed = spans
        .iter()
        .map(|&(a, b)| Range::new(pcm.time_floor(a), pcm.time_ceil(b)))
        .collect();
    Ok(Report {
        removed,
        duration: pcm.time_floor(out_frames),
        bytes: out.bytes,
    })
}

/// What [`to_wav`] would do: the ranges silenced or cut (sample-exact),
/// the output's length and its exact size. Reads the index only.
pub fn plan(
    path: &Path,
    track: Option<u32>,
    ranges: &[Range],
    mode: RedactMode,
) -> Result<Report, RedactError> {
    let input = Input::open(path, track)?;
    let p = prepare(&input, ranges, mode)?;
    Ok(Report {
        removed: p.removed(),
        duration: p.pcm.time_floor(p.out_frames),
        bytes: 44 + p.data_len,
    })
}

struct Prepared {
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    rate: u32,
    channels: u16,
    /// The presentation timeline in PCM frames.
    pcm: Timeline,
    /// Sorted, disjoint `[start, end)` in presentation PCM frames.
    spans: Vec<(u64, u64)>,
    out_frames: u64,
    data_len: u64,
}

impl Prepared {
    fn removed(&self) -> Vec<Range> {
        self.spans
            .iter()
            .map(|&(a, b)| Range::new(self.pcm.time_floor(a), self.pcm.time_ceil(b)))
            .collect()
    }
}

fn prepare(input: &Input, ranges: &[Range], mode: RedactMode) -> Result<Prepared, RedactError> {
    let t = input.audio_track()?;
    let audio_err = |source| RedactError::Audio {
        path: input.path.clone(),
        source,
    };
    let decoder = aac_decoder(t).map_err(audio_err)?;
    let (rate, channels) = match &t.codec {
        Codec::Aac {
            config,
            entry_channels,
            ..
        } => (
            config.sample_rate,
            if config.channels > 0 {
                config.channels as u16
            } else {
                *entry_channels
            },
        ),
        other => return Err(audio_err(AudioError::Unsupported(other.name()))),
    };
    if rate == 0 || channels == 0 || channels > 8 {
        return Err(input.unsupported(format!("AAC with {channels} channels at {rate} Hz")));
    }
    let tl = Timeline::of(t, input.file.movie.timescale);
    let to_pcm = |units: u64| (units as u128 * rate as u128 / t.timescale as u128) as u64;
    let pcm = Timeline {
        timescale: rate,
        start: to_pcm(tl.start),
        length: to_pcm(tl.length),
    };
    let spans: Vec<(u64, u64)> = merge(ranges.to_vec())
        .iter()
        .map(|r| {
            (
                pcm.floor(r.start).min(pcm.length),
                pcm.ceil(r.end).min(pcm.length),
            )
        })
        .filter(|(a, b)| b > a)
        .collect();
    let removed_frames: u64 = spans.iter().map(|(a, b)| b - a).sum();
    let out_frames = match mode {
        RedactMode::Silence => pcm.length,
        RedactMode::Cut => pcm.length - removed_frames,
    };
    let data_len = out_frames * channels as u64 * 2;
    if data_len > u32::MAX as u64 - 36 {
        return Err(
            input.unsupported("audio too long for one WAV file (over 4 GiB of PCM)".to_string())
        );
    }
    Ok(Prepared {
        decoder,
        rate,
        channels,
        pcm,
        spans,
        out_frames,
        data_len,
    })
}

/// Writes decoded PCM to the output, silencing or dropping the spans.
struct Emitter<'a> {
    /// Sorted, disjoint `[start, end)` in presentation PCM frames.
    spans: &'a [(u64, u64)],
    span: usize,
    mode: RedactMode,
    length: u64,
    channels: usize,
    /// Frames written so far.
    written: u64,
    bytes: Vec<u8>,
}

impl Emitter<'_> {
    /// `samples` (interleaved) start at presentation frame `first`, which
    /// is negative while the decoder is still inside the priming.
    fn push(&mut self, first: i128, samples: &[i16], out: &mut impl Write) -> std::io::Result<()> {
        let frames = (samples.len() / self.channels) as i128;
        let lo = first.max(0);
        let hi = (first + frames).min(self.length as i128);
        let mut p = lo;
        self.bytes.clear();
        while p < hi {
            while self.span < self.spans.len() && (self.spans[self.span].1 as i128) <= p {
                self.span += 1;
            }
            let (in_span, until) = match self.spans.get(self.span) {
                Some(&(a, b)) if (a as i128) <= p => (true, (b as i128).min(hi)),
                Some(&(a, _)) => (false, (a as i128).min(hi)),
                None => (false, hi),
            };
            let from = ((p - first) as usize) * self.channels;
            let to = ((until - first) as usize) * self.channels;
            if !in_span {
                for s in &samples[from..to] {
                    self.bytes.extend_from_slice(&s.to_le_bytes());
                }
                self.written += (until - p) as u64;
            } else if self.mode == RedactMode::Silence {
                self.bytes.resize(self.bytes.len() + (to - from) * 2, 0);
                self.written += (until - p) as u64;
            }
            p = until;
        }
        out.write_all(&self.bytes)
    }
}

/// The canonical 44-byte header of a 16-bit PCM WAV file.
fn wav_header(rate: u32, channels: u16, data_len: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    let block = channels * 2;
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36 + data_len).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * block as u32).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_reads_back_with_hound() {
        let mut bytes = wav_header(32000, 1, 8).to_vec();
        bytes.extend_from_slice(&[1, 0, 2, 0, 3, 0, 4, 0]);
        let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(reader.spec().sample_rate, 32000);
        assert_eq!(reader.spec().channels, 1);
        let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
        assert_eq!(samples, vec![1, 2, 3, 4]);
    }

    #[test]
    fn emitter_silences_and_cuts_exact_frames() {
        let spans = [(2u64, 4u64)];
        let samples: Vec<i16> = (1..=6).collect();
        for (mode, want) in [
            (RedactMode::Silence, vec![2i16, 3, 0, 0, 6]),
            (RedactMode::Cut, vec![2i16, 3, 6]),
        ] {
            let mut e = Emitter {
                spans: &spans,
                span: 0,
                mode,
                length: 5,
                channels: 1,
                written: 0,
                bytes: Vec::new(),
            };
            let mut out = Vec::new();
            // the first sample is priming (presentation frame -1)
            e.push(-1, &samples, &mut out).unwrap();
            let got: Vec<i16> = out
                .chunks(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            assert_eq!(got, want, "{mode:?}");
        }
    }
}
