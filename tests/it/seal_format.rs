//! The sealing format through the public API: round trips at the segment
//! boundaries and at several MB, every region altered, truncation at and
//! between segment boundaries, segments swapped, duplicated or appended,
//! wrong identities, several recipients, passphrases, and the pipeline's
//! verification of a sealed file.

use recpipe::seal::{
    Argon2Params, Identity, OpenError, OpenReader, Passphrase, Recipient, SEGMENT_SIZE, SealWriter,
    Sealed, TAG_SIZE, Unlock, decrypt, verify_sealed,
};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// Header of a file sealed to one recipient, payload nonce included.
const HEAD_ONE: usize = 12 + 1 + 1 + (3 + 80) + 32 + 16;
const FULL: usize = SEGMENT_SIZE + TAG_SIZE;

fn data(len: usize, seed: u64) -> Vec<u8> {
    // xorshift: incompressible and different for each seed.
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn seal_to(recipients: &[Recipient], plaintext: &[u8]) -> Sealed<Vec<u8>> {
    let mut w = SealWriter::new(Vec::new(), recipients).unwrap();
    // Odd-sized writes, so segments straddle write calls.
    for chunk in plaintext.chunks(7919) {
        w.write_all(chunk).unwrap();
    }
    w.finish().unwrap()
}

fn open(sealed: &[u8], id: &Identity) -> Result<Vec<u8>, OpenError> {
    let mut out = Vec::new();
    decrypt(
        sealed,
        Unlock::Identities(std::slice::from_ref(id)),
        &mut out,
    )?;
    Ok(out)
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[test]
fn round_trips_at_segment_boundaries_and_several_megabytes() {
    let id = Identity::generate().unwrap();
    let sizes = [
        0,
        1,
        SEGMENT_SIZE - 1,
        SEGMENT_SIZE,
        SEGMENT_SIZE + 1,
        2 * SEGMENT_SIZE,
        5 * 1024 * 1024 + 3,
    ];
    for (i, &len) in sizes.iter().enumerate() {
        let plain = data(len, i as u64);
        let sealed = seal_to(&[id.recipient()], &plain);
        let segments = len.div_ceil(SEGMENT_SIZE).max(1);
        assert_eq!(
            sealed.writer.len(),
            HEAD_ONE + len + segments * TAG_SIZE,
            "size {len}"
        );
        assert_eq!(sealed.summary.plaintext_len, len as u64);
        assert_eq!(sealed.summary.plaintext_sha256.0, sha(&plain));
        assert_eq!(sealed.summary.sealed_len, sealed.writer.len() as u64);
        assert_eq!(sealed.summary.sealed_sha256.0, sha(&sealed.writer));
        assert_eq!(open(&sealed.writer, &id).unwrap(), plain, "size {len}");
        // The streaming reader, read in small pieces, agrees.
        let mut r = OpenReader::new(
            &sealed.writer[..],
            Unlock::Identities(std::slice::from_ref(&id)),
        )
        .unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, plain);
        assert_eq!(r.summary().plaintext_sha256.0, sha(&plain));
    }
}

#[test]
fn two_seals_of_the_same_file_differ() {
    let id = Identity::generate().unwrap();
    let a = seal_to(&[id.recipient()], b"same");
    let b = seal_to(&[id.recipient()], b"same");
    assert_ne!(a.writer, b.writer);
    assert_eq!(a.summary.plaintext_sha256, b.summary.plaintext_sha256);
}

#[test]
fn every_byte_of_header_and_payload_is_protected() {
    let id = Identity::generate().unwrap();
    let plain = data(2 * SEGMENT_SIZE + 100, 7);
    let sealed = seal_to(&[id.recipient()], &plain).writer;
    // Every header byte, then bytes spread over each segment and each tag.
    let mut positions: Vec<usize> = (0..HEAD_ONE).collect();
    for seg in 0..3 {
        let start = HEAD_ONE + seg * FULL;
        let end = (start + FULL).min(sealed.len());
        positions.extend([
            start,
            start + 50,
            end - TAG_SIZE - 1,
            end - TAG_SIZE,
            end - 1,
        ]);
    }
    for at in positions {
        let mut bad = sealed.clone();
        bad[at] ^= 0x20;
        let err = open(&bad, &id).expect_err(&format!("byte {at} altered, still opened"));
        let expected = match at {
            0..12 => matches!(err, OpenError::NotSealed),
            12 => matches!(err, OpenError::UnsupportedVersion(_)),
            13 | 15 | 16 => matches!(err, OpenError::MalformedHeader(_)),
            // The stanza's kind (now unknown), ephemeral share or wrapped key.
            14 | 17..97 => matches!(err, OpenError::NoMatch),
            97..129 => matches!(err, OpenError::HeaderMac),
            // The payload nonce changes the payload key: segment 0 fails.
            _ => matches!(err, OpenError::Segment { .. }),
        };
        assert!(expected, "byte {at}: {err:?}");
        assert!(err.is_corrupt() || matches!(err, OpenError::NoMatch));
    }
}

#[test]
fn the_stanza_count_and_length_fields_are_protected() {
    let id = Identity::generate().unwrap();
    let sealed = seal_to(&[id.recipient()], b"x").writer;
    for (at, value) in [(13, 2u8), (15, 1), (16, 81)] {
        let mut bad = sealed.clone();
        bad[at] = value;
        assert!(open(&bad, &id).is_err(), "byte {at} set to {value}");
    }
}

#[test]
fn truncation_at_and_between_segment_boundaries_is_detected() {
    let id = Identity::generate().unwrap();
    let plain = data(3 * SEGMENT_SIZE + 10, 3);
    let sealed = seal_to(&[id.recipient()], &plain).writer;
    let mut cuts = vec![0, 5, HEAD_ONE - 16, HEAD_ONE - 1, HEAD_ONE, HEAD_ONE + 1];
    for k in 1..=3 {
        let boundary = HEAD_ONE + k * FULL;
        cuts.extend([boundary - 1, boundary, boundary + 1, boundary - FULL / 2]);
    }
    cuts.push(sealed.len() - 1);
    for cut in cuts {
        let err = open(&sealed[..cut], &id).expect_err(&format!("cut at {cut} still opened"));
        assert!(err.is_corrupt(), "cut at {cut}: {err:?}");
    }
    // Cut exactly after a full segment: named as truncation.
    let err = open(&sealed[..HEAD_ONE + 2 * FULL], &id).unwrap_err();
    assert!(matches!(err, OpenError::Truncated), "{err:?}");
}

#[test]
fn swapped_duplicated_dropped_or_appended_segments_are_detected() {
    let id = Identity::generate().unwrap();
    let plain = data(3 * SEGMENT_SIZE + 10, 4);
    let sealed = seal_to(&[id.recipient()], &plain).writer;
    let seg =
        |k: usize| &sealed[HEAD_ONE + k * FULL..(HEAD_ONE + (k + 1) * FULL).min(sealed.len())];
    let head = &sealed[..HEAD_ONE];
    let build = |order: &[usize]| {
        let mut out = head.to_vec();
        for &k in order {
            out.extend_from_slice(seg(k));
        }
        out
    };
    for order in [
        &[1, 0, 2, 3][..],
        &[0, 2, 1, 3],
        &[0, 1, 1, 2, 3],
        &[0, 2, 3],
        &[0, 1, 2, 3, 3],
        &[0, 1, 2, 2],
    ] {
        assert!(
            open(&build(order), &id).is_err(),
            "segment order {order:?} opened"
        );
    }
    assert_eq!(open(&build(&[0, 1, 2, 3]), &id).unwrap(), plain);
    // Appending anything after the last segment fails it.
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(open(&longer, &id).is_err());
    // A segment from another file sealed with another key does not fit.
    let other = seal_to(&[id.recipient()], &plain).writer;
    let mut mixed = sealed.clone();
    mixed[HEAD_ONE + FULL..HEAD_ONE + 2 * FULL]
        .copy_from_slice(&other[HEAD_ONE + FULL..HEAD_ONE + 2 * FULL]);
    assert!(matches!(
        open(&mixed, &id),
        Err(OpenError::Segment { index: 1 })
    ));
}

#[test]
fn nothing_is_released_before_its_segment_authenticates() {
    let id = Identity::generate().unwrap();
    let plain = data(2 * SEGMENT_SIZE + 10, 5);
    let mut sealed = seal_to(&[id.recipient()], &plain).writer;
    let n = sealed.len();
    sealed[n - 5] ^= 1; // last segment's tag
    let mut out = Vec::new();
    let err = decrypt(
        &sealed[..],
        Unlock::Identities(std::slice::from_ref(&id)),
        &mut out,
    )
    .unwrap_err();
    assert!(matches!(err, OpenError::Segment { index: 2 }), "{err:?}");
    // Only the two authenticated segments were handed out.
    assert_eq!(out, plain[..2 * SEGMENT_SIZE]);
    // The reader's error is sticky.
    let mut r =
        OpenReader::new(&sealed[..], Unlock::Identities(std::slice::from_ref(&id))).unwrap();
    let mut sink = Vec::new();
    let err = r.read_to_end(&mut sink).unwrap_err();
    assert!(matches!(
        OpenError::from_io(err),
        OpenError::Segment { index: 2 }
    ));
    assert!(r.read(&mut [0u8; 10]).is_err());
}

#[test]
fn several_recipients_each_open_and_others_do_not() {
    let ids: Vec<Identity> = (0..3).map(|_| Identity::generate().unwrap()).collect();
    let recipients: Vec<Recipient> = ids[..2].iter().map(|i| i.recipient()).collect();
    let plain = data(100_000, 9);
    let sealed = seal_to(&recipients, &plain).writer;
    assert_eq!(open(&sealed, &ids[0]).unwrap(), plain);
    assert_eq!(open(&sealed, &ids[1]).unwrap(), plain);
    assert!(matches!(open(&sealed, &ids[2]), Err(OpenError::NoMatch)));
    // A list of identities opens if any of them matches.
    let mut out = Vec::new();
    decrypt(
        &sealed[..],
        Unlock::Identities(&[ids[2].clone(), ids[1].clone()]),
        &mut out,
    )
    .unwrap();
    assert_eq!(out, plain);
    assert!(matches!(
        decrypt(&sealed[..], Unlock::Identities(&[]), &mut Vec::new()),
        Err(OpenError::NoMatch)
    ));
}

#[test]
fn sealing_needs_a_recipient() {
    assert!(SealWriter::new(Vec::new(), &[]).is_err());
}

#[test]
fn passphrases_open_and_wrong_ones_do_not() {
    let params = Argon2Params {
        m_cost_kib: 1024,
        t_cost: 1,
        p_cost: 1,
    };
    let pass = Passphrase::new("lang og sikker passfrase".into());
    let plain = data(SEGMENT_SIZE + 5, 11);
    let mut w = SealWriter::with_passphrase(Vec::new(), &pass, params).unwrap();
    w.write_all(&plain).unwrap();
    let sealed = w.finish().unwrap().writer;
    let mut out = Vec::new();
    decrypt(&sealed[..], Unlock::Passphrase(&pass), &mut out).unwrap();
    assert_eq!(out, plain);
    let wrong = Passphrase::new("lang og sikker passfrase!".into());
    assert!(matches!(
        decrypt(&sealed[..], Unlock::Passphrase(&wrong), &mut Vec::new()),
        Err(OpenError::WrongPassphrase)
    ));
    let id = Identity::generate().unwrap();
    assert!(matches!(
        open(&sealed, &id),
        Err(OpenError::NeedsPassphrase)
    ));
    let to_key = seal_to(&[id.recipient()], b"k").writer;
    assert!(matches!(
        decrypt(&to_key[..], Unlock::Passphrase(&pass), &mut Vec::new()),
        Err(OpenError::NeedsIdentity)
    ));
}

#[test]
fn verify_sealed_accepts_the_written_file_and_nothing_else() {
    let id = Identity::generate().unwrap();
    let plain = data(3 * SEGMENT_SIZE / 2, 12);
    let sealed = seal_to(&[id.recipient()], &plain);
    verify_sealed(&sealed.writer[..], &sealed.file_key, &sealed.summary).unwrap();
    // Altered anywhere, shortened, or checked against another file's key
    // or summary: refused.
    for at in [20, HEAD_ONE + 3, sealed.writer.len() - 1] {
        let mut bad = sealed.writer.clone();
        bad[at] ^= 1;
        assert!(verify_sealed(&bad[..], &sealed.file_key, &sealed.summary).is_err());
    }
    let short = &sealed.writer[..sealed.writer.len() - 1];
    assert!(verify_sealed(short, &sealed.file_key, &sealed.summary).is_err());
    let other = seal_to(&[id.recipient()], &plain);
    assert!(verify_sealed(&other.writer[..], &sealed.file_key, &sealed.summary).is_err());
    let err = verify_sealed(&other.writer[..], &other.file_key, &sealed.summary).unwrap_err();
    assert!(matches!(err, OpenError::Mismatch(_)), "{err:?}");
}

#[test]
fn errors_and_debug_output_hold_no_secrets() {
    let id = Identity::generate().unwrap();
    let secret = id.to_secret_text();
    let sealed = seal_to(&[id.recipient()], b"secret interview");
    let shown = format!("{id:?} {:?} {:?}", sealed.file_key, sealed);
    assert!(!shown.contains(&secret["RECPIPE-SECRET-KEY-1".len()..]));
    let key_hex: String = sealed.summary.sealed_sha256.to_string();
    assert!(shown.contains(&key_hex), "the summary is shown");
    let mut bad = sealed.writer.clone();
    bad[HEAD_ONE] ^= 1;
    let err = open(&bad, &id).unwrap_err();
    assert!(!err.to_string().contains(&secret[20..]));
}

#[test]
fn a_writer_dropped_without_finish_leaves_a_stream_that_never_opens() {
    let id = Identity::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The last two outgrow what is written on the caller's thread: their
    // sealed bytes are written by a helper, which the drop waits for.
    for len in [
        0,
        10,
        SEGMENT_SIZE,
        3 * SEGMENT_SIZE + 1,
        40 * SEGMENT_SIZE + 7,
        200 * SEGMENT_SIZE,
    ] {
        let path = dir.path().join(format!("{len}.sealed"));
        {
            let file = std::fs::File::create(&path).unwrap();
            let mut w = SealWriter::new(file, &[id.recipient()]).unwrap();
            w.write_all(&data(len, 13)).unwrap();
            w.flush().unwrap();
        }
        let out = std::fs::read(&path).unwrap();
        if len >= 40 * SEGMENT_SIZE {
            // All but the segment being filled and the helper's last batch.
            assert!(out.len() > len / 2, "{len}: {} bytes written", out.len());
        }
        let err = open(&out, &id).unwrap_err();
        assert!(err.is_corrupt(), "{len}: {err:?}");
    }
}
