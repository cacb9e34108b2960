//! The Windows build against TSD's file API: the HTTPS client Windows users
//! get (ureq with rustls), chunked uploads with their MD5 checks, and a
//! whole scheduled run that leaves the interim copy only once every output
//! is verified at TSD. Under Wine the server runs on the Linux side
//! (tests/it/util/wine_tsd.rs).
#![cfg(windows)]

use crate::util::wine_tsd::SharedTsd;
use crate::util::world::{self, World};

#[test]
fn a_scheduled_run_on_windows_delivers_to_tsd_and_removes_the_interim_copy() {
    let s = SharedTsd::get();
    let w = World::new(&s.toml(), "");
    let api_key = std::fs::read_to_string(&s.api_key_file).unwrap();
    let out = w.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\nserver log:\n{}", s.log());
    let files = w.delivered(&s.landed);
    world::check_delivery(&w, &files);
    let manifest = files
        .iter()
        .find(|f| f.to_string_lossy().contains("manifest"))
        .expect("a manifest was delivered");
    let m: serde_json::Value = serde_json::from_slice(&w.open(manifest)).unwrap();
    assert_eq!(m["verification"], "chunk-md5");
    assert!(!w.recording().exists(), "the interim copy is still there");
    assert!(!stderr.contains(api_key.trim()), "{stderr}");

    // A second run finds it done and sends nothing again.
    let again = w.run();
    assert!(again.status.success());
    assert_eq!(w.delivered(&s.landed), files);
}
