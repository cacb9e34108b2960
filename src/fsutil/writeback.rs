//! Writing a large file so that its final fsync finds little left to do.
//!
//! Sealing and staging write hundreds of megabytes and then fsync before
//! the file gets its name. Left to itself, the kernel keeps most of that in
//! memory and writes it out only at the fsync, after all the work, so the
//! disk idles while the CPU seals and the CPU idles while the disk writes.
//! [`WriteBack`] starts writing each 8 MiB window out as soon as it is
//! complete and waits for the window before it, so the disk works while
//! the CPU does and no more than two windows are ever unwritten (the
//! pattern the Linux kernel's own developers give for streaming writers).
//!
//! Invariants: this only changes when data reaches the disk, never whether:
//! the caller's fsync stays the one guarantee, so an error from the hint
//! (a file system without `sync_file_range`) is ignored here and any real
//! I/O error is reported by that fsync. On systems other than Linux it
//! writes straight through (Windows flushes at the end only:
//! `FlushFileBuffers` has no ranged form).

use std::fs::File;
use std::io::{self, Write};

/// How much is written before it is handed to the disk.
const WINDOW: u64 = 8 << 20;

/// A writer that has the kernel write each finished window out while the
/// next is being written (see the module doc).
pub struct WriteBack<F> {
    inner: F,
    /// Bytes written through this writer.
    written: u64,
    /// Start of the first window not yet handed to the disk.
    started: u64,
}

impl<F: FileWriter> WriteBack<F> {
    /// Writes through `inner`, which is positioned at offset 0 (a new file).
    pub fn new(inner: F) -> WriteBack<F> {
        WriteBack {
            inner,
            written: 0,
            started: 0,
        }
    }

    /// The file, to be fsynced by the caller.
    pub fn into_inner(self) -> F {
        self.inner
    }

    fn hand_over_windows(&mut self) {
        while self.written - self.started >= WINDOW {
            #[cfg(target_os = "linux")]
            {
                use std::os::fd::AsRawFd;
                let fd = self.inner.file().as_raw_fd();
                let window = WINDOW as libc::off64_t;
                let start = self.started as libc::off64_t;
                // SAFETY: plain system calls on an open descriptor; they
                // touch no memory of ours. Errors are ignored (module doc).
                unsafe {
                    libc::sync_file_range(fd, start, window, libc::SYNC_FILE_RANGE_WRITE);
                    if start >= window {
                        libc::sync_file_range(
                            fd,
                            start - window,
                            window,
                            libc::SYNC_FILE_RANGE_WAIT_BEFORE
                                | libc::SYNC_FILE_RANGE_WRITE
                                | libc::SYNC_FILE_RANGE_WAIT_AFTER,
                        );
                    }
                }
            }
            self.started += WINDOW;
        }
    }
}

impl<F: FileWriter> Write for WriteBack<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        self.hand_over_windows();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A file, owned or borrowed, that [`WriteBack`] writes to.
pub trait FileWriter: Write {
    fn file(&self) -> &File;
}

impl FileWriter for File {
    fn file(&self) -> &File {
        self
    }
}

impl FileWriter for &mut File {
    fn file(&self) -> &File {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_byte_arrives_in_order_across_windows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(3 * WINDOW + 12345)).map(|i| (i % 251) as u8).collect();
        let mut w = WriteBack::new(File::create(&path).unwrap());
        for chunk in data.chunks(1 << 20) {
            w.write_all(chunk).unwrap();
        }
        assert_eq!(w.started, 3 * WINDOW, "three whole windows handed over");
        w.into_inner().sync_all().unwrap();
        let mut back = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut back).unwrap();
        assert!(back == data);
    }

    #[test]
    fn a_borrowed_file_is_written_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut file = File::create(&path).unwrap();
        let mut w = WriteBack::new(&mut file);
        w.write_all(b"words").unwrap();
        file.sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"words");
    }
}
