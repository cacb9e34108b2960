//! Property tests over the header parser and the opener: whatever bytes
//! they are fed (random, or a real header with bytes changed, cut or
//! inserted), they return an error or a header, never panic, and never
//! open something they should not.

use proptest::prelude::*;
use recpipe::seal::{Identity, SealWriter, Unlock, decrypt, parse_header};
use std::io::Write;

fn real_file(id: &Identity) -> Vec<u8> {
    let mut w = SealWriter::new(Vec::new(), &[id.recipient()]).unwrap();
    w.write_all(b"an interview").unwrap();
    w.finish().unwrap().writer
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_header(&mut &bytes[..]);
    }

    #[test]
    fn random_bytes_after_the_magic_never_panic(
        version in prop_oneof![Just(1u8), any::<u8>()],
        rest in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bytes = b"recpipe-seal".to_vec();
        bytes.push(version);
        bytes.extend_from_slice(&rest);
        if let Ok(h) = parse_header(&mut &bytes[..]) {
            // Whatever parses re-encodes to the bytes it was read from.
            let enc = h.to_bytes();
            prop_assert_eq!(&bytes[..enc.len()], &enc[..]);
        }
    }

    #[test]
    fn altered_real_files_never_panic_and_never_open(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let id = Identity::generate().unwrap();
        let good = real_file(&id);
        let mut bytes = good.clone();
        for (at, value, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = value,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, value),
            }
        }
        let _ = parse_header(&mut &bytes[..]);
        let mut out = Vec::new();
        let opened = decrypt(&bytes[..], Unlock::Identities(std::slice::from_ref(&id)), &mut out);
        if bytes != good {
            prop_assert!(opened.is_err(), "an altered file opened");
        } else {
            prop_assert!(opened.is_ok());
        }
    }
}
