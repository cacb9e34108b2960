//! Keeps libssh2's SFTP write pipeline full across recpipe's chunks:
//! [`SlidingWriter`] hands `libssh2_sftp_write` one sliding buffer instead
//! of one `write_all` per chunk, which lets the requests in flight drain to
//! none at the end of every chunk.
//!
//! libssh2's write contract (1.11, `sftp_write` in its `sftp.c`): a call
//! turns the bytes it has not seen yet into 30,000-byte WRITE requests,
//! sends what the channel window allows, and returns how many bytes the
//! server has acknowledged, in order, at least one request's worth. The
//! bytes it sent but were not acknowledged yet stay queued inside libssh2,
//! and the next call must pass a buffer that starts at the first byte not
//! yet reported acknowledged and still holds those bytes: libssh2 skips
//! the first `sent - reported` bytes of it (by offset, without reading
//! them) and makes requests of the rest. A buffer that starts anywhere else
//! silently writes the wrong bytes at the wrong offsets.
//!
//! Invariants of [`SlidingWriter`]: `buf[start..end]` always holds exactly
//! the bytes of the stream from the first one libssh2 has not reported
//! acknowledged (`acked`) to the last one pushed, in order; `start` moves
//! only by what a write returned, `end` only by what was pushed, and a
//! compaction moves `buf[start..end]` to the front unchanged. So every call
//! is given `[first unacknowledged byte .. end of what is filled]`, as the
//! contract asks, and a write never returns more than it was given (checked).
//! [`SlidingWriter::finish`] returns only when every byte pushed is
//! acknowledged. A write that acknowledges nothing is an error, never a loop.

use std::io::{self, ErrorKind, Write};

/// Feeds a stream of byte slices of any size to a libssh2 SFTP file handle
/// through one sliding buffer, so the requests of the next bytes are queued
/// while those of the last ones are still in flight.
pub struct SlidingWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// `buf[start..end]`: pushed, not yet reported acknowledged.
    start: usize,
    end: usize,
    /// Bytes reported acknowledged so far.
    acked: u64,
}

impl<W: Write> SlidingWriter<W> {
    /// A writer to `out` whose sliding buffer holds `capacity` bytes (at
    /// least 1): at most that much is queued in libssh2 at once.
    pub fn new(out: W, capacity: usize) -> SlidingWriter<W> {
        SlidingWriter {
            out,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            acked: 0,
        }
    }

    /// Bytes the server has acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Appends `data` to the stream, writing (and so waiting for
    /// acknowledgements) only as much as is needed to make room for it.
    pub fn push(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            if self.end == self.buf.len() {
                if self.start >= self.buf.len() / 2 && self.start > 0 {
                    self.compact();
                } else {
                    self.write_once()?;
                }
                continue;
            }
            let n = data.len().min(self.buf.len() - self.end);
            self.buf[self.end..self.end + n].copy_from_slice(&data[..n]);
            self.end += n;
            data = &data[n..];
        }
        Ok(())
    }

    /// Writes until every byte pushed is acknowledged; returns the total
    /// and the handle.
    pub fn finish(mut self) -> io::Result<(u64, W)> {
        while self.start < self.end {
            self.write_once()?;
        }
        Ok((self.acked, self.out))
    }

    /// One `libssh2_sftp_write` of `[first unacknowledged .. filled]`.
    fn write_once(&mut self) -> io::Result<()> {
        let pending = self.end - self.start;
        let n = self.out.write(&self.buf[self.start..self.end])?;
        if n == 0 {
            return Err(io::Error::new(
                ErrorKind::WriteZero,
                "the server acknowledged nothing of a write",
            ));
        }
        if n > pending {
            return Err(io::Error::other(format!(
                "libssh2 reported {n} bytes written of {pending} given"
            )));
        }
        self.start += n;
        self.acked += n as u64;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(())
    }

    /// Moves the unacknowledged bytes to the front of the buffer.
    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Acknowledges at most `ack` bytes per call, like libssh2 one request
    /// at a time, keeping what it acknowledged: a call that did not start
    /// at the first unacknowledged byte shows as bytes out of order.
    struct Acker {
        ack: usize,
        got: Vec<u8>,
        calls: usize,
    }

    impl Write for Acker {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            let n = buf.len().min(self.ack);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 253) as u8).collect()
    }

    #[test]
    fn every_byte_arrives_once_in_order_whatever_the_sizes() {
        let data = bytes(1_000_003);
        for capacity in [1, 2, 7, 30_000, 30_001, 100_000, 2_000_000] {
            for ack in [1, 3, 30_000, 1 << 20] {
                let mut w = SlidingWriter::new(
                    Acker {
                        ack,
                        got: Vec::new(),
                        calls: 0,
                    },
                    capacity,
                );
                let mut rest = &data[..];
                let mut step = 1;
                while !rest.is_empty() {
                    let n = step.min(rest.len());
                    w.push(&rest[..n]).unwrap();
                    rest = &rest[n..];
                    step = step * 3 + 1;
                }
                let (total, out) = w.finish().unwrap();
                assert_eq!(total, data.len() as u64);
                assert!(out.got == data, "capacity {capacity}, ack {ack}");
            }
        }
    }

    #[test]
    fn nothing_pushed_writes_nothing() {
        let w = SlidingWriter::new(
            Acker {
                ack: 10,
                got: Vec::new(),
                calls: 0,
            },
            64,
        );
        let (total, out) = w.finish().unwrap();
        assert_eq!((total, out.calls), (0, 0));
    }

    #[derive(Debug)]
    struct Stuck;
    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Ok(0)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_that_acknowledges_nothing_is_an_error() {
        let mut w = SlidingWriter::new(Stuck, 4);
        w.push(b"abc").unwrap();
        assert_eq!(w.finish().unwrap_err().kind(), ErrorKind::WriteZero);
    }
}
