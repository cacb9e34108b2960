//! Sample tables turned into samples: the consistency and bounds check run
//! on every track before anything trusts it, and the iterator that yields
//! each sample's offset, size and timing in decode order without expanding
//! the tables.

use super::{Mp4Error, SampleSizes, SampleTable, Track};

/// One sample (an encoded frame) as the sample table describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// 0-based position in decode order.
    pub index: u32,
    pub offset: u64,
    pub size: u32,
    /// Decode time in the track's timescale.
    pub dts: u64,
    /// Duration in the track's timescale.
    pub duration: u32,
    /// Presentation time minus decode time.
    pub cts_offset: i32,
    /// A random-access point (keyframe).
    pub is_sync: bool,
}

/// A run of chunks sharing one samples-per-chunk count.
struct ChunkRun {
    first_chunk: u32, // 0-based
    end_chunk: u32,   // exclusive
    samples_per_chunk: u32,
}

fn chunk_runs(table: &SampleTable, track: u32) -> Result<Vec<ChunkRun>, Mp4Error> {
    let chunks = u32::try_from(table.chunk_offsets.len())
        .map_err(|_| Mp4Error::Malformed(format!("track {track} has too many chunks")))?;
    let mut runs = Vec::with_capacity(table.stsc.len());
    for (i, e) in table.stsc.iter().enumerate() {
        if e.first_chunk == 0 || e.first_chunk > chunks {
            return Err(Mp4Error::Malformed(format!(
                "track {track}'s sample-to-chunk table names chunk {} of {chunks}",
                e.first_chunk
            )));
        }
        let end = match table.stsc.get(i + 1) {
            Some(next) if next.first_chunk <= e.first_chunk => {
                return Err(Mp4Error::Malformed(format!(
                    "track {track}'s sample-to-chunk table is out of order"
                )));
            }
            Some(next) => next.first_chunk - 1,
            None => chunks,
        };
        if i == 0 && e.first_chunk != 1 {
            return Err(Mp4Error::Malformed(format!(
                "track {track}'s sample-to-chunk table does not start at the first chunk"
            )));
        }
        runs.push(ChunkRun {
            first_chunk: e.first_chunk - 1,
            end_chunk: end.min(chunks),
            samples_per_chunk: e.samples_per_chunk,
        });
    }
    Ok(runs)
}

/// Checks that the tables agree with each other and that every sample lies
/// inside a file of `file_len` bytes.
pub fn validate(track: &Track, file_len: u64) -> Result<(), Mp4Error> {
    let t = &track.samples;
    let id = track.id;
    let count = t.sizes.count() as u64;
    if count == 0 {
        return Ok(());
    }
    let runs = chunk_runs(t, id)?;
    let in_chunks: u64 = runs
        .iter()
        .map(|r| (r.end_chunk - r.first_chunk) as u64 * r.samples_per_chunk as u64)
        .sum();
    if in_chunks < count {
        return Err(Mp4Error::Malformed(format!(
            "track {id} lists {count} samples but its chunks hold only {in_chunks}"
        )));
    }
    let timed: u64 = t.stts.iter().map(|(n, _)| *n as u64).sum();
    if timed != count {
        return Err(Mp4Error::Malformed(format!(
            "track {id} lists {count} samples but times {timed}"
        )));
    }
    if !t.ctts.is_empty() {
        let offsets: u64 = t.ctts.iter().map(|(n, _)| *n as u64).sum();
        if offsets < count {
            return Err(Mp4Error::Malformed(format!(
                "track {id} lists {count} samples but gives composition offsets for {offsets}"
            )));
        }
    }
    if let Some(sync) = &t.sync
        && sync.iter().any(|&s| s == 0 || s as u64 > count)
    {
        return Err(Mp4Error::Malformed(format!(
            "track {id} names a keyframe that does not exist"
        )));
    }
    // Bounds, chunk by chunk: the chunk's end is its offset plus the sizes
    // of its samples.
    let mut sample = 0u64;
    for run in &runs {
        for chunk in run.first_chunk..run.end_chunk {
            if sample >= count {
                return Ok(());
            }
            let n = (run.samples_per_chunk as u64).min(count - sample);
            let bytes: u64 = match &t.sizes {
                SampleSizes::Fixed { size, .. } => n * *size as u64,
                SampleSizes::Table(sizes) => sizes[sample as usize..(sample + n) as usize]
                    .iter()
                    .map(|s| *s as u64)
                    .sum(),
            };
            let start = t.chunk_offsets[chunk as usize];
            let end = start.saturating_add(bytes);
            if end > file_len {
                return Err(Mp4Error::Truncated(format!(
                    "track {id} has samples (from sample {}) at bytes {start}..{end}, beyond the end of the file at {file_len}",
                    sample + 1
                )));
            }
            sample += n;
        }
    }
    Ok(())
}

/// Yields every sample of a validated track in decode order.
pub struct SampleIter<'a> {
    table: &'a SampleTable,
    runs: std::vec::IntoIter<ChunkRun>,
    run: Option<ChunkRun>,
    chunk: u32,
    left_in_chunk: u32,
    offset: u64,
    index: u32,
    count: u32,
    dts: u64,
    stts: usize,
    stts_left: u32,
    ctts: usize,
    ctts_left: u32,
    sync: usize,
}

impl<'a> SampleIter<'a> {
    /// An iterator over `table`. A table that fails [`validate`] yields
    /// nothing.
    pub fn new(table: &'a SampleTable) -> Self {
        let runs = chunk_runs(table, 0).unwrap_or_default();
        SampleIter {
            table,
            runs: runs.into_iter(),
            run: None,
            chunk: 0,
            left_in_chunk: 0,
            offset: 0,
            index: 0,
            count: table.sizes.count(),
            dts: 0,
            stts: 0,
            stts_left: table.stts.first().map_or(0, |e| e.0),
            ctts: 0,
            ctts_left: table.ctts.first().map_or(0, |e| e.0),
            sync: 0,
        }
    }

    fn next_chunk(&mut self) -> Option<()> {
        loop {
            if let Some(run) = &self.run
                && self.chunk + 1 < run.end_chunk
            {
                self.chunk += 1;
            } else {
                let run = self.runs.next()?;
                self.chunk = run.first_chunk;
                let empty = run.first_chunk >= run.end_chunk;
                self.run = Some(run);
                if empty {
                    continue;
                }
            }
            let run = self.run.as_ref()?;
            self.left_in_chunk = run.samples_per_chunk;
            self.offset = *self.table.chunk_offsets.get(self.chunk as usize)?;
            if self.left_in_chunk > 0 {
                return Some(());
            }
        }
    }
}

impl Iterator for SampleIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.index >= self.count {
            return None;
        }
        if self.left_in_chunk == 0 {
            self.next_chunk()?;
        }
        let size = self.table.sizes.get(self.index)?;
        while self.stts_left == 0 {
            self.stts += 1;
            self.stts_left = self.table.stts.get(self.stts)?.0;
        }
        let duration = self.table.stts[self.stts].1;
        self.stts_left -= 1;
        let cts_offset = if self.table.ctts.is_empty() {
            0
        } else {
            while self.ctts_left == 0 {
                self.ctts += 1;
                self.ctts_left = self.table.ctts.get(self.ctts)?.0;
            }
            self.ctts_left -= 1;
            self.table.ctts[self.ctts].1
        };
        let is_sync = match &self.table.sync {
            None => true,
            Some(sync) => {
                while sync.get(self.sync).is_some_and(|&s| s < self.index + 1) {
                    self.sync += 1;
                }
                sync.get(self.sync) == Some(&(self.index + 1))
            }
        };
        let sample = Sample {
            index: self.index,
            offset: self.offset,
            size,
            dts: self.dts,
            duration,
            cts_offset,
            is_sync,
        };
        self.offset += size as u64;
        self.dts += duration as u64;
        self.left_in_chunk -= 1;
        self.index += 1;
        Some(sample)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Codec, StscEntry};
    use super::*;

    fn track(table: SampleTable) -> Track {
        Track {
            id: 1,
            handler: *b"soun",
            timescale: 1000,
            duration: 0,
            codec: Codec::Missing,
            edits: vec![],
            samples: table,
        }
    }

    fn table() -> SampleTable {
        SampleTable {
            sizes: SampleSizes::Table(vec![10, 20, 30, 40, 50]),
            chunk_offsets: vec![100, 1000],
            stsc: vec![
                StscEntry {
                    first_chunk: 1,
                    samples_per_chunk: 2,
                    description: 1,
                },
                StscEntry {
                    first_chunk: 2,
                    samples_per_chunk: 3,
                    description: 1,
                },
            ],
            stts: vec![(5, 1024)],
            ctts: vec![],
            sync: Some(vec![1, 4]),
        }
    }

    #[test]
    fn iterates_offsets_times_and_keyframes() {
        let t = table();
        let got: Vec<(u64, u32, u64, bool)> = SampleIter::new(&t)
            .map(|s| (s.offset, s.size, s.dts, s.is_sync))
            .collect();
        assert_eq!(
            got,
            vec![
                (100, 10, 0, true),
                (110, 20, 1024, false),
                (1000, 30, 2048, false),
                (1030, 40, 3072, true),
                (1070, 50, 4096, false),
            ]
        );
    }

    #[test]
    fn a_sample_past_the_end_is_truncation() {
        let t = track(table());
        assert!(validate(&t, 1120).is_ok());
        let err = validate(&t, 1119).unwrap_err();
        assert!(matches!(err, Mp4Error::Truncated(_)), "{err}");
    }

    #[test]
    fn inconsistent_tables_are_malformed() {
        let mut t = table();
        t.stts = vec![(4, 1024)];
        assert!(matches!(
            validate(&track(t), 10_000),
            Err(Mp4Error::Malformed(_))
        ));
        let mut t = table();
        t.stsc[0].first_chunk = 3;
        assert!(matches!(
            validate(&track(t), 10_000),
            Err(Mp4Error::Malformed(_))
        ));
        let mut t = table();
        t.sync = Some(vec![9]);
        assert!(matches!(
            validate(&track(t), 10_000),
            Err(Mp4Error::Malformed(_))
        ));
        let mut t = table();
        t.stsc[1].samples_per_chunk = 1;
        assert!(matches!(
            validate(&track(t), 10_000),
            Err(Mp4Error::Malformed(_))
        ));
    }

    #[test]
    fn huge_fixed_size_counts_are_checked_without_a_loop_per_sample() {
        let t = SampleTable {
            sizes: SampleSizes::Fixed {
                size: 1,
                count: u32::MAX,
            },
            chunk_offsets: vec![0],
            stsc: vec![StscEntry {
                first_chunk: 1,
                samples_per_chunk: u32::MAX,
                description: 1,
            }],
            stts: vec![(u32::MAX, 1)],
            ctts: vec![],
            sync: None,
        };
        assert!(matches!(
            validate(&track(t), 1000),
            Err(Mp4Error::Truncated(_))
        ));
    }
}
