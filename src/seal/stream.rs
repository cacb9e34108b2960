//! The payload cipher: AES-256-GCM in the STREAM construction.
//!
//! The payload key is HKDF-SHA256(ikm = file key, salt = payload nonce,
//! info = "recpipe-seal v1 payload"). Segment `i` (counting from 0) is
//! sealed under the 12-byte GCM nonce `0^7 ‖ be32(i) ‖ last`, where `last`
//! is 1 for the final segment and 0 otherwise (aead-stream's `StreamBE32`),
//! with no associated data. Because the position and the last flag are in
//! the nonce, a segment moved, repeated, dropped or falsely marked last
//! fails to authenticate.

use super::keys::FileKey;
use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm::aead::array::Array;
use aes_gcm::{Aes256Gcm, KeyInit};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

const INFO_PAYLOAD: &[u8] = b"recpipe-seal v1 payload";

/// Seals and opens the segments of one file's payload.
pub(crate) struct PayloadCipher(StreamBE32<Aes256Gcm>);

impl PayloadCipher {
    pub(crate) fn new(file_key: &FileKey, payload_nonce: &[u8; 16]) -> PayloadCipher {
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit.
        let _ = Hkdf::<Sha256>::new(Some(payload_nonce), &file_key.0)
            .expand(INFO_PAYLOAD, key.as_mut());
        let aead = Aes256Gcm::new(&Array::from(*key));
        PayloadCipher(StreamBE32::from_aead(aead, &Array::default()))
    }

    /// Encrypts the plaintext in `buf` in place and appends the tag.
    pub(crate) fn seal(&self, index: u32, last: bool, buf: &mut Vec<u8>) {
        // A segment of at most 64 KiB is far within AES-GCM's limits and
        // the Vec grows as needed, so this cannot fail.
        self.0
            .encrypt_in_place(index, last, &[], buf)
            .expect("a 64 KiB segment is within AES-GCM's limits");
    }

    /// Checks and decrypts the segment in `buf` in place (the tag is
    /// removed). On failure `buf` holds no plaintext.
    pub(crate) fn open(&self, index: u32, last: bool, buf: &mut Vec<u8>) -> bool {
        let ok = self.0.decrypt_in_place(index, last, &[], buf).is_ok();
        if !ok {
            buf.clear();
        }
        ok
    }
}
