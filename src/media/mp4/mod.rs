//! A reader for MP4/M4A/MOV files as Zoom writes them: the box structure,
//! the movie index (`moov`) and each track's sample table.
//!
//! Invariants: the input is treated as hostile. Box sizes are checked
//! against the file and their parents before anything is read; tables are
//! allocated only after the box holding them is known to be large enough;
//! the `moov` box is the only thing held in memory, and it is capped. Sample
//! data is never read here: [`Track::samples`] yields offsets and sizes for
//! the caller to stream.

pub mod aac;
mod boxes;
mod bytes;
mod moov;
pub mod reader;
mod samples;
pub mod write;

pub use boxes::{BoxHeader, kind_name};
pub use samples::{Sample, SampleIter};

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The largest `moov` recpipe reads into memory. A one-hour Zoom recording
/// has a `moov` of a few megabytes.
const MAX_MOOV: u64 = 256 * 1024 * 1024;

/// What is wrong with a file, in the words a researcher needs.
#[derive(Debug, thiserror::Error)]
pub enum Mp4Error {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is not an MP4 file: {0}")]
    NotMp4(String),
    #[error("it is cut short: {0}")]
    Truncated(String),
    #[error("it has no 'moov' index, so Zoom did not finish writing it or it was cut")]
    NoMoov,
    #[error("it is damaged: {0}")]
    Malformed(String),
    #[error("it uses something recpipe does not support: {0}")]
    Unsupported(String),
}

impl Mp4Error {
    /// Unsupported is not broken: the file may be fine, recpipe cannot
    /// handle it. Both need a person.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Mp4Error::Unsupported(_))
    }
}

/// The parsed movie index.
#[derive(Debug, Clone)]
pub struct Movie {
    pub timescale: u32,
    pub duration: u64,
    pub tracks: Vec<Track>,
    /// `mvex` present: samples live in fragments, not in the sample tables.
    pub fragmented: bool,
}

impl Movie {
    /// Duration in seconds: the longest track, or the movie header's.
    pub fn duration_secs(&self) -> f64 {
        let tracks = self
            .tracks
            .iter()
            .map(|t| t.duration as f64 / t.timescale as f64)
            .fold(0.0, f64::max);
        if tracks > 0.0 || self.timescale == 0 {
            tracks
        } else {
            self.duration as f64 / self.timescale as f64
        }
    }
}

/// One edit-list entry (`elst`), in movie and media timescale units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub segment_duration: u64,
    /// -1 is an empty edit (a gap).
    pub media_time: i64,
}

#[derive(Debug, Clone)]
pub struct Track {
    pub id: u32,
    /// `vide`, `soun`, `text`, ...
    pub handler: [u8; 4],
    pub timescale: u32,
    pub duration: u64,
    pub codec: Codec,
    pub edits: Vec<Edit>,
    pub samples: SampleTable,
}

impl Track {
    pub fn is_video(&self) -> bool {
        &self.handler == b"vide"
    }

    pub fn is_audio(&self) -> bool {
        &self.handler == b"soun"
    }

    pub fn sample_count(&self) -> u32 {
        self.samples.sizes.count()
    }

    /// The samples in decode order.
    pub fn samples(&self) -> SampleIter<'_> {
        SampleIter::new(&self.samples)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Codec {
    Video {
        name: &'static str,
        width: u16,
        height: u16,
        /// `avcC` / `hvcC` record.
        config: Option<Vec<u8>>,
    },
    Aac {
        config: aac::AudioSpecificConfig,
        /// The raw AudioSpecificConfig bytes.
        asc: Vec<u8>,
        entry_channels: u16,
        entry_rate: u32,
    },
    /// Any other sample entry, by its printable type.
    Other(String),
    /// No sample description at all.
    Missing,
}

impl Codec {
    pub fn name(&self) -> String {
        match self {
            Codec::Video { name, .. } => name.to_string(),
            Codec::Aac { config, .. } => config.name(),
            Codec::Other(kind) => kind.clone(),
            Codec::Missing => "undescribed (the track has no sample description)".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SampleSizes {
    Fixed { size: u32, count: u32 },
    Table(Vec<u32>),
}

impl SampleSizes {
    pub fn count(&self) -> u32 {
        match self {
            SampleSizes::Fixed { count, .. } => *count,
            SampleSizes::Table(t) => t.len() as u32,
        }
    }

    pub fn get(&self, index: u32) -> Option<u32> {
        match self {
            SampleSizes::Fixed { size, count } => (index < *count).then_some(*size),
            SampleSizes::Table(t) => t.get(index as usize).copied(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StscEntry {
    pub first_chunk: u32,
    pub samples_per_chunk: u32,
    pub description: u32,
}

/// A track's sample table as stored: sizes, chunk offsets, the
/// sample-to-chunk runs, decode-time runs, composition offsets and sync
/// samples (`None` when every sample is a sync sample).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleTable {
    pub sizes: SampleSizes,
    pub chunk_offsets: Vec<u64>,
    pub stsc: Vec<StscEntry>,
    pub stts: Vec<(u32, u32)>,
    pub ctts: Vec<(u32, i32)>,
    pub sync: Option<Vec<u32>>,
}

/// An opened MP4 file: its top-level boxes and movie index, checked so that
/// every sample of every track lies inside the file.
#[derive(Debug)]
pub struct Mp4File {
    pub len: u64,
    pub boxes: Vec<BoxHeader>,
    pub movie: Movie,
    /// Whether `moov` comes before the media data.
    pub moov_first: bool,
}

impl Mp4File {
    /// Opens and checks a file. Reads box headers and the `moov` box only.
    /// Opens only a regular file, never through a link and never blocking
    /// ([`crate::fsutil::open_input`]).
    pub fn open(path: &Path) -> Result<Mp4File, Mp4Error> {
        let file = crate::fsutil::open_input(path)?;
        let len = file.metadata()?.len();
        Self::read(&mut BufReader::new(file), len)
    }

    /// As [`Mp4File::open`], from any seekable reader of `len` bytes.
    pub fn read<R: Read + Seek>(r: &mut R, len: u64) -> Result<Mp4File, Mp4Error> {
        if len == 0 {
            return Err(Mp4Error::Truncated("it is empty (0 bytes)".into()));
        }
        let boxes = boxes::top_level(r, len)?;
        let moovs: Vec<&BoxHeader> = boxes.iter().filter(|b| &b.kind == b"moov").collect();
        let moov = match moovs.as_slice() {
            [] => return Err(Mp4Error::NoMoov),
            [one] => **one,
            _ => {
                return Err(Mp4Error::Malformed(format!(
                    "it has {} 'moov' indexes where there must be one",
                    moovs.len()
                )));
            }
        };
        if boxes.iter().any(|b| &b.kind == b"moof") {
            return Err(Mp4Error::Unsupported(
                "fragmented MP4 ('moof' boxes); Zoom does not write it".into(),
            ));
        }
        if moov.body_len() > MAX_MOOV {
            return Err(Mp4Error::Unsupported(format!(
                "a 'moov' index of {} bytes (the limit is {MAX_MOOV})",
                moov.body_len()
            )));
        }
        let mut body = vec![0u8; moov.body_len() as usize];
        r.seek(SeekFrom::Start(moov.body_offset()))?;
        r.read_exact(&mut body)?;
        let movie = moov::parse_moov(&body)?;
        if movie.fragmented {
            return Err(Mp4Error::Unsupported(
                "fragmented MP4 ('mvex' in the index); Zoom does not write it".into(),
            ));
        }
        for track in &movie.tracks {
            samples::validate(track, len)?;
        }
        let moov_first = boxes
            .iter()
            .position(|b| &b.kind == b"mdat")
            .is_none_or(|mdat| boxes.iter().position(|b| &b.kind == b"moov") < Some(mdat));
        Ok(Mp4File {
            len,
            boxes,
            movie,
            moov_first,
        })
    }
}
