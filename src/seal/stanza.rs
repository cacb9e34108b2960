//! Wrapping and unwrapping the file key in recipient stanzas.
//!
//! X25519: a fresh ephemeral secret per stanza; the wrap key is
//! HKDF-SHA256(ikm = shared secret, salt = ephemeral share ‖ recipient,
//! info = "recpipe-seal v1 X25519"); an all-zero shared secret is refused.
//! Argon2id: the wrap key is Argon2id (v1.3) over the passphrase with the
//! salt and costs stored in the stanza; opening refuses costs above
//! [`Argon2Params::MAX_M_COST_KIB`] and friends, so a hostile file cannot
//! make recpipe allocate gigabytes. In both, the file key is wrapped with
//! AES-256-GCM under an all-zero nonce (every wrap key is used once).

use super::error::{OpenError, SealError};
use super::header::Stanza;
use super::keys::{FileKey, Identity, Passphrase, Recipient};
use aes_gcm::aead::array::Array;
use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const INFO_X25519: &[u8] = b"recpipe-seal v1 X25519";

/// Argon2id costs for a passphrase stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes over memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Argon2Params {
    /// The costs `recpipe seal --passphrase` uses: 256 MiB, 3 passes, 4
    /// lanes (about a second on a laptop; age's scrypt default is 256 MiB).
    pub const SEAL: Argon2Params = Argon2Params {
        m_cost_kib: 256 * 1024,
        t_cost: 3,
        p_cost: 4,
    };
    /// Largest memory cost recpipe will spend opening a file (1 GiB).
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    /// Largest pass count recpipe will run.
    pub const MAX_T_COST: u32 = 16;
    /// Largest lane count recpipe will run.
    pub const MAX_P_COST: u32 = 16;

    fn check(&self) -> Result<(), OpenError> {
        if self.m_cost_kib > Self::MAX_M_COST_KIB
            || self.t_cost > Self::MAX_T_COST
            || self.p_cost > Self::MAX_P_COST
        {
            return Err(OpenError::ExcessiveWork(format!(
                "{} MiB × {} passes × {} lanes",
                self.m_cost_kib / 1024,
                self.t_cost,
                self.p_cost
            )));
        }
        Ok(())
    }

    fn derive(
        &self,
        passphrase: &Passphrase,
        salt: &[u8; 16],
    ) -> Result<Zeroizing<[u8; 32]>, String> {
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| e.to_string())?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|e| e.to_string())?;
        Ok(out)
    }
}

impl Default for Argon2Params {
    /// RFC 9106's second recommended setting: 64 MiB, 3 passes, 4 lanes.
    fn default() -> Argon2Params {
        Argon2Params {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 4,
        }
    }
}

fn aead(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(&Array::from(*key))
}

fn wrap(wrap_key: &[u8; 32], file_key: &FileKey) -> [u8; 48] {
    let mut buf = Zeroizing::new(Vec::with_capacity(48));
    buf.extend_from_slice(&file_key.0);
    // A 32-byte message under GCM cannot exceed any length limit.
    aead(wrap_key)
        .encrypt_in_place(&Array::default(), &[], &mut *buf)
        .expect("32 bytes are within AES-GCM's limits");
    let mut out = [0u8; 48];
    out.copy_from_slice(&buf);
    out
}

fn unwrap(wrap_key: &[u8; 32], wrapped: &[u8; 48]) -> Option<FileKey> {
    let mut buf = Zeroizing::new(wrapped.to_vec());
    aead(wrap_key)
        .decrypt_in_place(&Array::default(), &[], &mut *buf)
        .ok()?;
    let mut key = FileKey([0; 32]);
    key.0.copy_from_slice(&buf);
    Some(key)
}

fn x25519_wrap_key(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(recipient);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit.
    let _ = Hkdf::<Sha256>::new(Some(&salt), shared).expand(INFO_X25519, out.as_mut());
    out
}

/// Wraps `file_key` to `recipient` with the given ephemeral secret (fresh
/// and random in normal use; fixed only for test vectors).
pub(crate) fn x25519_wrap(
    file_key: &FileKey,
    recipient: &Recipient,
    ephemeral: StaticSecret,
) -> Result<Stanza, SealError> {
    let share = PublicKey::from(&ephemeral);
    let shared = ephemeral.diffie_hellman(&recipient.0);
    if !shared.was_contributory() {
        return Err(SealError::WeakRecipient);
    }
    let wrap_key = x25519_wrap_key(shared.as_bytes(), share.as_bytes(), recipient.0.as_bytes());
    Ok(Stanza::X25519 {
        ephemeral: share.to_bytes(),
        wrapped: wrap(&wrap_key, file_key),
    })
}

/// Tries to unwrap an X25519 stanza with `identity`; `None` if it was not
/// made for it (or the share is a low-order point).
pub(crate) fn x25519_unwrap(
    ephemeral: &[u8; 32],
    wrapped: &[u8; 48],
    identity: &Identity,
) -> Option<FileKey> {
    let share = PublicKey::from(*ephemeral);
    let shared = identity.0.diffie_hellman(&share);
    if !shared.was_contributory() {
        return None;
    }
    let recipient = identity.recipient();
    let wrap_key = x25519_wrap_key(shared.as_bytes(), ephemeral, recipient.0.as_bytes());
    unwrap(&wrap_key, wrapped)
}

/// Wraps `file_key` to a passphrase with the given salt and costs.
pub(crate) fn argon2_wrap(
    file_key: &FileKey,
    passphrase: &Passphrase,
    params: Argon2Params,
    salt: [u8; 16],
) -> Result<Stanza, SealError> {
    let wrap_key = params
        .derive(passphrase, &salt)
        .map_err(SealError::Argon2)?;
    Ok(Stanza::Argon2id {
        salt,
        m_cost_kib: params.m_cost_kib,
        t_cost: params.t_cost,
        p_cost: params.p_cost,
        wrapped: wrap(&wrap_key, file_key),
    })
}

/// Unwraps a passphrase stanza; refuses excessive costs before spending them.
pub(crate) fn argon2_unwrap(
    params: Argon2Params,
    salt: &[u8; 16],
    wrapped: &[u8; 48],
    passphrase: &Passphrase,
) -> Result<FileKey, OpenError> {
    params.check()?;
    let wrap_key = params.derive(passphrase, salt).map_err(OpenError::Argon2)?;
    unwrap(&wrap_key, wrapped).ok_or(OpenError::WrongPassphrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x25519_wraps_only_for_its_identity() {
        let id = Identity::from([3u8; 32]);
        let key = FileKey([8; 32]);
        let Stanza::X25519 { ephemeral, wrapped } =
            x25519_wrap(&key, &id.recipient(), StaticSecret::from([4u8; 32])).unwrap()
        else {
            panic!("not an X25519 stanza");
        };
        assert_eq!(x25519_unwrap(&ephemeral, &wrapped, &id).unwrap().0, [8; 32]);
        assert!(x25519_unwrap(&ephemeral, &wrapped, &Identity::from([5u8; 32])).is_none());
    }

    #[test]
    fn a_low_order_recipient_or_share_is_refused() {
        // The all-zero point gives an all-zero shared secret.
        let key = FileKey([8; 32]);
        assert!(matches!(
            x25519_wrap(
                &key,
                &Recipient::from([0u8; 32]),
                StaticSecret::from([4u8; 32])
            ),
            Err(SealError::WeakRecipient)
        ));
        assert!(x25519_unwrap(&[0; 32], &[0; 48], &Identity::from([3u8; 32])).is_none());
    }

    #[test]
    fn argon2_checks_costs_before_spending_them() {
        let huge = Argon2Params {
            m_cost_kib: u32::MAX,
            t_cost: 1,
            p_cost: 1,
        };
        let pass = Passphrase::new("x".into());
        assert!(matches!(
            argon2_unwrap(huge, &[0; 16], &[0; 48], &pass),
            Err(OpenError::ExcessiveWork(_))
        ));
        let small = Argon2Params {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        };
        let Stanza::Argon2id { salt, wrapped, .. } =
            argon2_wrap(&FileKey([1; 32]), &pass, small, [2; 16]).unwrap()
        else {
            panic!("not an Argon2id stanza");
        };
        assert_eq!(
            argon2_unwrap(small, &salt, &wrapped, &pass).unwrap().0,
            [1; 32]
        );
        assert!(matches!(
            argon2_unwrap(small, &salt, &wrapped, &Passphrase::new("y".into())),
            Err(OpenError::WrongPassphrase)
        ));
    }
}
