//! Streaming helpers shared by the backends: copy a local file in
//! [`CHUNK`]s with the next chunk read ahead by a helper thread, and hash a
//! stream with SHA-256 on a helper thread while the next chunk is read. So
//! reading the local disk, SHA-256 and the SSH work (encryption, network)
//! run at the same time instead of taking turns. Memory stays at a few
//! chunks whatever the file size; each byte is read once.

use super::{CHUNK, Progress};
use sha2::{Digest, Sha256};
use std::io::{self, ErrorKind, Read};
use std::sync::mpsc::sync_channel;

/// Buffers in flight between the two threads.
const BUFFERS: usize = 3;

/// Reads until `buf` is full or the end; returns how much was read.
pub(crate) fn read_full(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match src.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Passes everything `src` yields to `sink`, chunk by chunk, while a helper
/// thread reads the next chunks. Returns the bytes passed on. The first
/// error (reading, as mapped by `read_err`, or from `sink`) stops both.
pub(crate) fn copy_read_ahead<E>(
    src: &mut (impl Read + Send),
    mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    read_err: impl Fn(io::Error) -> E,
) -> Result<u64, E> {
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(BUFFERS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BUFFERS);
        for _ in 0..BUFFERS {
            let _ = empty_tx.send(vec![0u8; CHUNK]);
        }
        scope.spawn(move || {
            // Ends when the consumer hangs up (done or failed) or at the end.
            while let Ok(mut buf) = empty_rx.recv() {
                buf.resize(CHUNK, 0);
                match read_full(src, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        if full_tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        let mut total = 0u64;
        for item in full_rx.iter() {
            let buf = item.map_err(&read_err)?;
            sink(&buf)?;
            total += buf.len() as u64;
            let _ = empty_tx.send(buf);
        }
        Ok(total)
    })
}

/// SHA-256 and length of everything `src` yields. `src` is read on this
/// thread (it may be a network stream that must stay here) while a helper
/// thread hashes the chunks already read.
pub(crate) fn hash_stream(
    src: &mut impl Read,
    progress: Progress<'_>,
) -> io::Result<([u8; 32], u64)> {
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Vec<u8>>(BUFFERS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BUFFERS);
        for _ in 0..BUFFERS {
            let _ = empty_tx.send(vec![0u8; CHUNK]);
        }
        let hasher = scope.spawn(move || {
            let mut h = Sha256::new();
            for buf in full_rx.iter() {
                h.update(&buf);
                let _ = empty_tx.send(buf);
            }
            <[u8; 32]>::from(h.finalize())
        });
        let gone = || io::Error::other("the hashing thread stopped");
        let mut len = 0u64;
        loop {
            let mut buf = empty_rx.recv().map_err(|_| gone())?;
            buf.resize(CHUNK, 0);
            let n = read_full(src, &mut buf)?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            len += n as u64;
            full_tx.send(buf).map_err(|_| gone())?;
            progress(len);
        }
        drop(full_tx);
        let digest = hasher.join().map_err(|_| gone())?;
        Ok((digest, len))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<u8> {
        (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn hash_stream_matches_a_one_shot_hash() {
        let data = data();
        let mut positions = Vec::new();
        let (sha, len) = hash_stream(&mut &data[..], &mut |p| positions.push(p)).unwrap();
        assert_eq!(len, data.len() as u64);
        assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(positions.last(), Some(&len));
    }

    #[test]
    fn copy_read_ahead_passes_every_byte_in_order() {
        let data = data();
        let mut out = Vec::new();
        let n = copy_read_ahead(
            &mut &data[..],
            |chunk| {
                out.extend_from_slice(chunk);
                Ok::<(), io::Error>(())
            },
            |e| e,
        )
        .unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(out, data);
    }

    #[test]
    fn a_failing_sink_stops_the_copy() {
        let data = data();
        let mut calls = 0;
        let err = copy_read_ahead(
            &mut &data[..],
            |_| {
                calls += 1;
                Err(io::Error::other("disk full"))
            },
            |e| e,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(calls, 1);
    }

    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("bad sector"))
        }
    }

    #[test]
    fn read_errors_come_back() {
        let e = copy_read_ahead(&mut Broken, |_| Ok::<(), io::Error>(()), |e| e).unwrap_err();
        assert_eq!(e.to_string(), "bad sector");
        assert!(hash_stream(&mut Broken, &mut |_| {}).is_err());
    }
}
