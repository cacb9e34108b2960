//! Property tests over recpipe's own MP4 reader with hostile input: the
//! sample recording's audio (index at the end) and video (index first),
//! with bytes of their index changed, removed or inserted, or the file cut
//! short anywhere. Whatever comes in, the reader answers with an error or
//! an index whose every sample lies inside the file, never a panic or an
//! allocation the file's size does not justify; a file cut short is always
//! refused; and an index it accepts decodes or fails cleanly.

use proptest::prelude::*;
use recpipe::media::audio::decode_to_end;
use recpipe::media::mp4::Mp4File;
use std::io::Cursor;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The two sample files, and where each one's `moov` box is.
fn files() -> &'static [(Vec<u8>, Range<usize>); 2] {
    static FILES: OnceLock<[(Vec<u8>, Range<usize>); 2]> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data/2026-11-20 14.03.11 Pilot interview");
        ["audio84213977051.m4a", "video84213977051.mp4"].map(|name| {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let moov = moov_range(&bytes);
            (bytes, moov)
        })
    })
}

/// The byte range of the top-level `moov` box (found by walking the
/// top-level box headers, independently of the reader under test).
fn moov_range(b: &[u8]) -> Range<usize> {
    let mut pos = 0;
    while pos + 8 <= b.len() {
        let size = u32::from_be_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
        if &b[pos + 4..pos + 8] == b"moov" {
            return pos..pos + size;
        }
        assert!(size >= 8, "the sample files use 32-bit box sizes");
        pos += size;
    }
    panic!("no moov in a sample file")
}

/// Reads `bytes` as the reader would read a file; checks what it accepts.
fn read_and_check(bytes: &[u8]) -> Option<Mp4File> {
    let len = bytes.len() as u64;
    let file = Mp4File::read(&mut Cursor::new(bytes), len).ok()?;
    for track in &file.movie.tracks {
        for s in track.samples() {
            assert!(
                s.offset + u64::from(s.size) <= len,
                "an accepted index has a sample past the end ({s:?}, file {len} bytes)"
            );
        }
    }
    Some(file)
}

fn word(value: u32, pick: u8) -> [u8; 4] {
    // Values that make sizes and counts hostile, and any value at all.
    match pick % 5 {
        0 => 0u32,
        1 => 1,
        2 => 0x7fff_ffff,
        3 => 0xffff_ffff,
        _ => value,
    }
    .to_be_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn a_damaged_index_is_refused_or_read_never_a_panic(
        which in 0usize..2,
        edits in proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<u32>(), 0u8..4, any::<u8>()),
            1..4,
        ),
    ) {
        let (original, moov) = &files()[which];
        let mut bytes = original.clone();
        for (at, value, op, pick) in edits {
            let end = moov.end.min(bytes.len());
            if moov.start >= end {
                break;
            }
            let i = moov.start + at.index(end - moov.start);
            match op {
                0 => bytes[i] = value as u8,
                1 => {
                    // A whole big-endian word, where sizes and counts live.
                    let i = i & !3;
                    if i + 4 <= bytes.len() {
                        bytes[i..i + 4].copy_from_slice(&word(value, pick));
                    }
                }
                2 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, value as u8),
            }
        }
        if let Some(file) = read_and_check(&bytes) {
            // What the reader accepted, the decoder reads to the end or
            // refuses, cleanly.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("damaged.mp4");
            std::fs::write(&path, &bytes).unwrap();
            for track in file.movie.tracks.iter().filter(|t| t.is_audio()) {
                let _ = decode_to_end(&path, track);
            }
        }
    }

    #[test]
    fn a_file_cut_short_anywhere_is_refused(
        which in 0usize..2,
        cut in any::<prop::sample::Index>(),
    ) {
        let (original, _) = &files()[which];
        let keep = cut.index(original.len());
        prop_assert!(
            read_and_check(&original[..keep]).is_none(),
            "a file cut to {} of {} bytes was accepted",
            keep,
            original.len()
        );
    }
}

#[test]
fn the_undamaged_files_are_read() {
    for (bytes, _) in files() {
        let file = read_and_check(bytes).expect("the sample files are whole");
        assert!(file.movie.tracks.iter().any(|t| t.is_audio()));
    }
}
