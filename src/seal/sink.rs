//! [`SealedSink`]: where a [`super::SealWriter`]'s sealed bytes go. They are
//! hashed (SHA-256, for the upload checks) and written to the inner writer
//! on a helper thread, so sealing uses two cores: the caller's thread reads,
//! hashes the plaintext and encrypts; the helper hashes the sealed bytes and
//! makes the write calls (the kernel's copy into the page cache is a
//! quarter of sealing's CPU). Measured for 1 GiB in docs/performance.md.
//!
//! Invariants: bytes reach the inner writer in the order they were pushed,
//! and the digest is the same as hashing inline, whatever the push sizes; a
//! stream that stays within one batch (1 MiB) is written and hashed on the
//! caller's thread and never starts one, and so is every stream when the
//! system cannot start a thread; at most six batches exist at
//! once (the one being filled, two queued, the one being written, two kept
//! for reuse); after a write error nothing more is written (no file with a
//! hole in it), and the error is returned by the next `push` or by
//! `finish`; dropping the sink waits for the helper, so nothing is written
//! after the sink is gone.

use crate::digest::Sha256Digest;
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// How many bytes the helper gets at a time.
const BATCH: usize = 1 << 20;

/// What the helper gives back: the writer, the hash, and how writing went.
type HelperResult<W> = Option<(W, Sha256, io::Result<()>)>;

pub(super) struct SealedSink<W: Write + Send + 'static> {
    /// Bytes not yet handed to the helper.
    pending: Vec<u8>,
    state: State<W>,
}

enum State<W: Write + Send + 'static> {
    Inline {
        out: W,
        hash: Sha256,
        len: usize,
        /// No helper thread could be started: everything stays here.
        alone: bool,
    },
    Helper {
        batches: SyncSender<Vec<u8>>,
        /// Batches the helper is done with, for reuse.
        spent: Receiver<Vec<u8>>,
        worker: JoinHandle<HelperResult<W>>,
    },
    /// Finished, or stopped by an error.
    Ended,
}

fn stopped() -> io::Error {
    io::Error::other("an earlier write failed; the sealed output is incomplete")
}

impl<W: Write + Send + 'static> SealedSink<W> {
    pub(super) fn new(out: W) -> SealedSink<W> {
        SealedSink {
            pending: Vec::new(),
            state: State::Inline {
                out,
                hash: Sha256::new(),
                len: 0,
                alone: false,
            },
        }
    }

    /// Hashes and writes `data` after everything pushed before.
    pub(super) fn push(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.state {
            State::Inline {
                out,
                hash,
                len,
                alone,
            } if *alone || *len + data.len() <= BATCH => {
                if let Err(e) = out.write_all(data) {
                    self.state = State::Ended;
                    return Err(e);
                }
                hash.update(data);
                *len += data.len();
                return Ok(());
            }
            State::Inline { .. } => {
                if !self.start_helper() {
                    return self.push(data);
                }
            }
            State::Helper { .. } => {}
            State::Ended => return Err(stopped()),
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= BATCH {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Flushes the inner writer while it is still on this thread; once the
    /// helper has it, [`finish`](Self::finish) flushes it.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Inline { out, .. } => out.flush(),
            State::Helper { .. } => Ok(()),
            State::Ended => Err(stopped()),
        }
    }

    /// Writes what is left, flushes, and returns the writer and the digest
    /// of everything pushed.
    pub(super) fn finish(mut self) -> io::Result<(W, Sha256Digest)> {
        if matches!(self.state, State::Helper { .. }) && !self.pending.is_empty() {
            self.hand_over()?;
        }
        match std::mem::replace(&mut self.state, State::Ended) {
            State::Inline { mut out, hash, .. } => {
                out.flush()?;
                Ok((out, Sha256Digest::of(hash)))
            }
            State::Helper {
                batches, worker, ..
            } => {
                drop(batches);
                let (out, hash, written) = join(worker)?;
                written?;
                Ok((out, Sha256Digest::of(hash)))
            }
            State::Ended => Err(stopped()),
        }
    }

    /// Moves the writer and the hash so far to a new helper thread; when
    /// the system cannot start one, everything stays on this thread.
    fn start_helper(&mut self) -> bool {
        let (batches, incoming) = sync_channel::<Vec<u8>>(2);
        let (give_back, spent) = sync_channel::<Vec<u8>>(2);
        let (handover, taken) = sync_channel::<(W, Sha256)>(1);
        let worker = std::thread::Builder::new()
            .name("seal-out".into())
            .spawn(move || {
                let (mut out, mut hash) = taken.recv().ok()?;
                for batch in incoming {
                    hash.update(&batch);
                    if let Err(e) = out.write_all(&batch) {
                        // Dropping `incoming` makes the caller's next send fail.
                        return Some((out, hash, Err(e)));
                    }
                    let _ = give_back.try_send(batch);
                }
                let flushed = out.flush();
                Some((out, hash, flushed))
            });
        let Ok(worker) = worker else {
            if let State::Inline { alone, .. } = &mut self.state {
                *alone = true;
            }
            return false;
        };
        let State::Inline { out, hash, .. } = std::mem::replace(
            &mut self.state,
            State::Helper {
                batches,
                spent,
                worker,
            },
        ) else {
            unreachable!("a helper starts only from the inline state")
        };
        // The helper waits for exactly this one message.
        let _ = handover.send((out, hash));
        self.pending.reserve(BATCH);
        true
    }

    /// Sends the pending bytes to the helper; a helper that stopped on a
    /// write error hands it back here.
    fn hand_over(&mut self) -> io::Result<()> {
        let State::Helper { batches, spent, .. } = &self.state else {
            return Err(stopped());
        };
        let mut next = spent
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        next.clear();
        let full = std::mem::replace(&mut self.pending, next);
        if batches.send(full).is_ok() {
            return Ok(());
        }
        let State::Helper { worker, .. } = std::mem::replace(&mut self.state, State::Ended) else {
            unreachable!("matched above")
        };
        let (_, _, written) = join(worker)?;
        Err(written.err().unwrap_or_else(stopped))
    }
}

/// The helper's result; re-raises its panic.
fn join<W>(worker: JoinHandle<HelperResult<W>>) -> io::Result<(W, Sha256, io::Result<()>)> {
    match worker.join() {
        Ok(Some(ended)) => Ok(ended),
        Ok(None) => Err(io::Error::other("the sealed output's writer never started")),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

impl<W: Write + Send + 'static> Drop for SealedSink<W> {
    fn drop(&mut self) {
        if let State::Helper {
            batches, worker, ..
        } = std::mem::replace(&mut self.state, State::Ended)
        {
            drop(batches);
            // Whatever it wrote stays as it is: a stream without its last
            // segment, which never opens.
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer whose bytes the test can read after the sink is gone, and
    /// that fails once it holds `fail_after` bytes.
    #[derive(Clone, Default)]
    struct Shared {
        bytes: Arc<Mutex<Vec<u8>>>,
        fail_after: Option<usize>,
    }

    impl Write for Shared {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let mut bytes = self.bytes.lock().unwrap();
            if self
                .fail_after
                .is_some_and(|n| bytes.len() + data.len() > n)
            {
                return Err(io::Error::other("disk full"));
            }
            bytes.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect()
    }

    #[test]
    fn bytes_and_digest_are_as_pushed_at_any_size_and_push_pattern() {
        let all = data(3 * BATCH + 12_345);
        for len in [0, 1, BATCH - 1, BATCH, BATCH + 1, 2 * BATCH, all.len()] {
            for step in [1usize << 16, 65_552, BATCH + 7, 3 * BATCH] {
                let mut sink = SealedSink::new(Vec::new());
                for chunk in all[..len].chunks(step) {
                    sink.push(chunk).unwrap();
                }
                let (out, digest) = sink.finish().unwrap();
                assert!(out == all[..len], "length {len}, pushes of {step}");
                assert_eq!(digest, Sha256Digest::of_bytes(&all[..len]), "{len}, {step}");
            }
        }
    }

    #[test]
    fn without_a_helper_thread_everything_is_written_here_and_right() {
        // As when the system cannot start a thread.
        let all = data(3 * BATCH + 12_345);
        let mut sink = SealedSink::new(Vec::new());
        if let State::Inline { alone, .. } = &mut sink.state {
            *alone = true;
        }
        for chunk in all.chunks(65_552) {
            sink.push(chunk).unwrap();
        }
        assert!(matches!(sink.state, State::Inline { .. }), "no helper");
        let (out, digest) = sink.finish().unwrap();
        assert!(out == all);
        assert_eq!(digest, Sha256Digest::of_bytes(&all));
    }

    #[test]
    fn a_write_error_stops_all_later_writes_and_is_returned() {
        let all = data(6 * BATCH);
        for fail_after in [10, BATCH / 2, BATCH + 5, 3 * BATCH] {
            let out = Shared {
                fail_after: Some(fail_after),
                ..Shared::default()
            };
            let mut sink = SealedSink::new(out.clone());
            let pushed = all.chunks(65_552).try_for_each(|c| sink.push(c));
            let err = match pushed {
                Err(e) => e,
                Ok(()) => sink.finish().map(|_| ()).unwrap_err(),
            };
            assert!(err.to_string().contains("disk full"), "{fail_after}: {err}");
            let written = out.bytes.lock().unwrap().len();
            assert!(
                written <= fail_after,
                "{fail_after}: {written} bytes written"
            );
        }
    }

    #[test]
    fn a_sink_dropped_unfinished_has_written_a_prefix_and_stopped() {
        let all = data(5 * BATCH);
        let out = Shared::default();
        let mut sink = SealedSink::new(out.clone());
        sink.push(&all).unwrap();
        sink.push(&all[..100]).unwrap();
        drop(sink);
        let written = out.bytes.lock().unwrap().clone();
        // The helper has ended: what it wrote is all there will ever be.
        assert!(all.starts_with(&written));
        assert!(written.len() >= 4 * BATCH, "{} bytes", written.len());
        assert_eq!(Arc::strong_count(&out.bytes), 1, "the helper let go of it");
    }
}
