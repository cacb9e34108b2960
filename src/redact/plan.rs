//! The plan for one recording: for every file, its fate — remuxed as
//! video, converted to audio (WAV or M4A), copied, or dropped — with the
//! exact ranges that will be removed from it, its output length and size.
//! Making a plan reads indexes only and writes nothing; [`produce`] then
//! makes one planned output into a writer.
//!
//! A recording stopped and restarted has segments: each media file is
//! planned with the marks of its own segment only ([`plan_segments`]), and
//! its output name carries the segment (`video1….mp4` stays as Zoom named
//! it; the pipeline's remote names add `-s2`, see [`FilePlan::segment`]).
//!
//! Invariants: a file not selected by `[keep] tracks` gets no output at
//! all. Text (chat, captions) cannot be redacted, so a recording with marks
//! whose text is to be kept is refused as a whole rather than leak what was
//! said or typed in a redacted range. Any media file recpipe cannot handle
//! fails the whole plan: nothing of the recording is processed.

use super::{Range, RedactError, RedactMode, Report, audio, m4a, video};
use crate::config::{AudioFormat, Keep, TrackKind};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One file of a recording, with the kind of track it holds (from its
/// discovered role: video, mixed audio, participant audio, chat, captions),
/// or `None` for anything else (playlist, marks, Zoom's status files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFile {
    pub path: PathBuf,
    pub kind: Option<TrackKind>,
}

/// What becomes of a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "fate", rename_all = "kebab-case")]
pub enum Fate {
    /// Remuxed as MP4 (video and its audio), ranges cut at keyframes.
    Video,
    /// Its audio written in `format`, ranges silenced or cut.
    Audio { format: AudioFormat },
    /// Copied unchanged.
    Copy,
    /// Not written anywhere.
    Drop { why: String },
    /// Not written anywhere and not removed either: a file recpipe does
    /// not know stays in the interim folder.
    Left { why: String },
}

/// A file with the segment it belongs to (see `discover::segments`):
/// `None` for the files of the whole folder (chat, captions …), and the
/// marks' ranges in the file's own time (as the recording model placed
/// them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    pub file: PlanFile,
    pub segment: Option<u32>,
    /// Where the file starts in its segment's time (the recording model's
    /// alignment): 0, or the leading empty edit its edit list states.
    pub lead: Duration,
    pub marked: Vec<Range>,
    /// A file recpipe does not know: never delivered, never removed.
    pub unknown: bool,
}

/// The plan for one file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FilePlan {
    pub path: PathBuf,
    pub kind: Option<TrackKind>,
    /// The segment of a media file, when the recording has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<u32>,
    /// Where the file starts in its segment's time ([`SegmentFile::lead`]);
    /// `marked`, `removed` and `duration` are in the file's own time.
    #[serde(skip_serializing_if = "Duration::is_zero")]
    pub lead: Duration,
    /// The marks' ranges of its segment, before widening: what
    /// [`produce`] must be given for this file.
    pub marked: Vec<Range>,
    pub fate: Fate,
    /// File name of the output (none when dropped).
    pub output: Option<PathBuf>,
    /// The ranges actually removed (widened as the format requires).
    pub removed: Vec<Range>,
    /// Length of the output's timeline (media only).
    pub duration: Option<Duration>,
    /// Size of the output in bytes (before sealing).
    pub bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Media(#[from] RedactError),
    #[error(
        "{}: it is {kind} text, which recpipe cannot redact, and this recording has marks; remove \"{kind}\" from [keep] tracks, or remove what the marks cover from the file by hand",
        path.display()
    )]
    TextWithMarks { path: PathBuf, kind: TrackKind },
    #[error("{}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Plans every file of a recording of one segment. `ranges` are the
/// recording's resolved marks (see [`super::marks::Marks::resolve`]).
pub fn plan(
    files: &[PlanFile],
    keep: &Keep,
    mode: RedactMode,
    ranges: &[Range],
) -> Result<Vec<FilePlan>, PlanError> {
    let files: Vec<SegmentFile> = files
        .iter()
        .map(|f| {
            let media = f
                .kind
                .is_some_and(|k| !matches!(k, TrackKind::Chat | TrackKind::Captions));
            SegmentFile {
                file: f.clone(),
                segment: media.then_some(1),
                lead: Duration::ZERO,
                marked: if media { ranges.to_vec() } else { Vec::new() },
                unknown: false,
            }
        })
        .collect();
    plan_segments(&files, keep, mode, !ranges.is_empty())
}

/// Plans every file of a recording: each media file with its own ranges
/// ([`SegmentFile::marked`]); text refused when the recording `has_marks`.
pub fn plan_segments(
    files: &[SegmentFile],
    keep: &Keep,
    mode: RedactMode,
    has_marks: bool,
) -> Result<Vec<FilePlan>, PlanError> {
    let several = files.iter().filter_map(|f| f.segment).any(|s| s != 1);
    let mut plans = Vec::with_capacity(files.len());
    for sf in files {
        let f = &sf.file;
        let marked = sf.marked.clone();
        let has_mixed = files
            .iter()
            .any(|o| o.file.kind == Some(TrackKind::MixedAudio) && o.segment == sf.segment);
        let drop = |why: &str| FilePlan {
            path: f.path.clone(),
            kind: f.kind,
            segment: sf.segment.filter(|_| several),
            lead: sf.lead,
            marked: Vec::new(),
            fate: Fate::Drop { why: why.into() },
            output: None,
            removed: Vec::new(),
            duration: None,
            bytes: None,
        };
        let audio_fate = Fate::Audio {
            format: keep.audio_format,
        };
        if sf.unknown {
            plans.push(FilePlan {
                fate: Fate::Left {
                    why: "recpipe does not know it; it stays in the interim folder".into(),
                },
                ..drop("")
            });
            continue;
        }
        let fate = match f.kind {
            None => {
                plans.push(drop("not a recording track"));
                continue;
            }
            Some(TrackKind::Video) if keep.keeps(TrackKind::Video) => Fate::Video,
            Some(TrackKind::Video) if keep.keeps(TrackKind::MixedAudio) && !has_mixed => audio_fate,
            Some(TrackKind::Video) => {
                plans.push(drop("video is not in [keep] tracks"));
                continue;
            }
            Some(kind @ (TrackKind::MixedAudio | TrackKind::ParticipantAudio)) => {
                if !keep.keeps(kind) {
                    plans.push(drop(&format!("{kind} is not in [keep] tracks")));
                    continue;
                }
                audio_fate
            }
            Some(kind @ (TrackKind::Chat | TrackKind::Captions)) => {
                if !keep.keeps(kind) {
                    plans.push(drop(&format!("{kind} is not in [keep] tracks")));
                    continue;
                }
                if has_marks {
                    return Err(PlanError::TextWithMarks {
                        path: f.path.clone(),
                        kind,
                    });
                }
                Fate::Copy
            }
        };
        let report = match &fate {
            Fate::Video => Some(video::plan(&f.path, &marked)?),
            Fate::Audio {
                format: AudioFormat::Wav,
            } => Some(audio::plan(&f.path, None, &marked, mode)?),
            Fate::Audio {
                format: AudioFormat::M4a,
            } => Some(m4a::plan(&f.path, None, &marked, mode)?),
            Fate::Copy | Fate::Drop { .. } | Fate::Left { .. } => None,
        };
        let bytes = match &report {
            Some(r) => Some(r.bytes),
            None => Some(
                std::fs::metadata(&f.path)
                    .map_err(|source| PlanError::Read {
                        path: f.path.clone(),
                        source,
                    })?
                    .len(),
            ),
        };
        plans.push(FilePlan {
            path: f.path.clone(),
            kind: f.kind,
            segment: sf.segment.filter(|_| several),
            lead: sf.lead,
            marked,
            output: Some(output_name(&f.path, &fate)),
            removed: report
                .as_ref()
                .map(|r| r.removed.clone())
                .unwrap_or_default(),
            duration: report.as_ref().map(|r| r.duration),
            bytes,
            fate,
        });
    }
    Ok(plans)
}

/// The output's file name: the input's, with the extension of its format.
fn output_name(path: &Path, fate: &Fate) -> PathBuf {
    let name = PathBuf::from(path.file_name().unwrap_or_default());
    match fate {
        Fate::Audio {
            format: AudioFormat::Wav,
        } => name.with_extension("wav"),
        Fate::Audio {
            format: AudioFormat::M4a,
        } => name.with_extension("m4a"),
        Fate::Video => name.with_extension("mp4"),
        Fate::Copy | Fate::Drop { .. } | Fate::Left { .. } => name,
    }
}

/// Makes the output of one planned file into `out`. A dropped file makes
/// nothing and returns `None`.
pub fn produce(
    file: &FilePlan,
    mode: RedactMode,
    ranges: &[Range],
    out: impl Write,
) -> Result<Option<Report>, PlanError> {
    let report = match &file.fate {
        Fate::Drop { .. } | Fate::Left { .. } => return Ok(None),
        Fate::Video => video::cut(&file.path, ranges, out)?,
        Fate::Audio {
            format: AudioFormat::Wav,
        } => audio::to_wav(&file.path, None, ranges, mode, out)?,
        Fate::Audio {
            format: AudioFormat::M4a,
        } => m4a::remux(&file.path, None, ranges, mode, out)?,
        Fate::Copy => {
            let read = |source| PlanError::Read {
                path: file.path.clone(),
                source,
            };
            let mut src = crate::fsutil::open_input(&file.path).map_err(read)?;
            let mut out = out;
            let bytes = std::io::copy(&mut src, &mut out).map_err(|source| {
                PlanError::Media(RedactError::Write {
                    path: file.path.clone(),
                    source,
                })
            })?;
            Report {
                removed: Vec::new(),
                duration: Duration::ZERO,
                bytes,
            }
        }
    };
    Ok(Some(report))
}
