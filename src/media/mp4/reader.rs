//! Sample data read in the order a caller asks for it: one buffered pass
//! over the file, seeking forward (or back) only when the next sample is not
//! where the last one ended. Sample bytes are copied into the caller's
//! buffer or straight to a writer; nothing is kept.

use super::Sample;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// No sample recpipe copies or decodes is larger than this (a 4K keyframe
/// is a few megabytes).
pub const MAX_SAMPLE: u32 = 64 * 1024 * 1024;

pub struct SampleReader {
    reader: BufReader<File>,
    pos: u64,
}

impl SampleReader {
    pub fn open(path: &Path) -> io::Result<SampleReader> {
        Ok(SampleReader {
            reader: BufReader::with_capacity(1 << 20, crate::fsutil::open_input(path)?),
            pos: 0,
        })
    }

    fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        if offset != self.pos {
            match i64::try_from(offset as i128 - self.pos as i128) {
                Ok(delta) => self.reader.seek_relative(delta)?,
                Err(_) => {
                    self.reader.seek(SeekFrom::Start(offset))?;
                }
            }
            self.pos = offset;
        }
        Ok(())
    }

    /// Reads one sample into `buf` (resized to fit).
    pub fn read(&mut self, sample: &Sample, buf: &mut Vec<u8>) -> io::Result<()> {
        if sample.size > MAX_SAMPLE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "sample {} claims {} bytes, more than any real frame",
                    sample.index + 1,
                    sample.size
                ),
            ));
        }
        self.seek_to(sample.offset)?;
        buf.resize(sample.size as usize, 0);
        self.reader.read_exact(buf)?;
        self.pos += sample.size as u64;
        Ok(())
    }

    /// Reads `buf.len()` bytes at `offset` (a few header bytes).
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.seek_to(offset)?;
        self.reader.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// Copies `len` bytes at `offset` to `out`.
    pub fn copy_to(
        &mut self,
        offset: u64,
        len: u64,
        out: &mut (impl Write + ?Sized),
    ) -> Result<(), CopyError> {
        self.seek_to(offset).map_err(CopyError::Read)?;
        let mut left = len;
        while left > 0 {
            let buf = self.reader.fill_buf().map_err(CopyError::Read)?;
            if buf.is_empty() {
                return Err(CopyError::Read(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the file ends inside sample data at byte {}", self.pos),
                )));
            }
            let n = buf.len().min(left.min(usize::MAX as u64) as usize);
            out.write_all(&buf[..n]).map_err(CopyError::Write)?;
            self.reader.consume(n);
            self.pos += n as u64;
            left -= n as u64;
        }
        Ok(())
    }
}

/// Which side of a copy failed.
#[derive(Debug)]
pub enum CopyError {
    Read(io::Error),
    Write(io::Error),
}
