//! Keys and their text forms: the per-file key, X25519 recipients (public,
//! `recpipe1…`) and identities (secret, `RECPIPE-SECRET-KEY-1…`), and
//! passphrases.
//!
//! Both text forms are Bech32 (BIP 173) over the 32 raw key bytes, with
//! different prefixes, so one can never be taken for the other. Secrets are
//! zeroized on drop, have no `Display`, and their `Debug` shows nothing
//! secret (an identity shows its public recipient).

use super::error::{KeyError, SealError};
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use std::fmt;
use std::str::FromStr;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// Prefix (Bech32 human-readable part) of recipients.
pub(crate) const RECIPIENT_HRP: &str = "recpipe";
/// Prefix of identities; written upper case.
pub(crate) const IDENTITY_HRP: &str = "recpipe-secret-key-";

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), SealError> {
    getrandom::fill(buf).map_err(|e| SealError::Random(e.to_string()))
}

/// The random key a file's payload and header MAC are derived from.
/// Zeroized on drop; `Debug` prints no bytes.
pub struct FileKey(pub(crate) [u8; 32]);

impl FileKey {
    pub(crate) fn generate() -> Result<FileKey, SealError> {
        let mut key = FileKey([0; 32]);
        random(&mut key.0)?;
        Ok(key)
    }
}

impl Drop for FileKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<secret>)")
    }
}

/// A passphrase, zeroized on drop. `Debug` prints no characters of it.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: String) -> Passphrase {
        Passphrase(Zeroizing::new(text))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Passphrase {
    fn from(text: String) -> Passphrase {
        Passphrase::new(text)
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<secret>)")
    }
}

/// A public key files are sealed to: `recpipe1…` (Bech32).
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient(pub(crate) PublicKey);

impl Recipient {
    /// The raw 32-byte X25519 public key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl From<[u8; 32]> for Recipient {
    fn from(bytes: [u8; 32]) -> Recipient {
        Recipient(PublicKey::from(bytes))
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(RECIPIENT_HRP);
        bech32::encode_lower_to_fmt::<Bech32, _>(f, hrp, self.0.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

impl FromStr for Recipient {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Recipient, KeyError> {
        let bytes = decode_key(
            s,
            RECIPIENT_HRP,
            IDENTITY_HRP,
            KeyError::IdentityGivenAsRecipient,
            KeyError::NotRecipient,
        )?;
        Ok(Recipient::from(*bytes))
    }
}

/// A secret key that opens files sealed to its [`Recipient`]:
/// `RECPIPE-SECRET-KEY-1…` (Bech32, upper case). Zeroized on drop; it has
/// no `Display` (use [`Identity::to_secret_text`] deliberately) and its
/// `Debug` shows only the public recipient.
#[derive(Clone)]
pub struct Identity(pub(crate) StaticSecret);

impl Identity {
    /// A new random identity.
    pub fn generate() -> Result<Identity, SealError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random(bytes.as_mut())?;
        Ok(Identity(StaticSecret::from(*bytes)))
    }

    /// The recipient (public key) that files for this identity are sealed to.
    pub fn recipient(&self) -> Recipient {
        Recipient(PublicKey::from(&self.0))
    }

    /// The secret text form, for writing an identity file. Never log it.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let hrp = Hrp::parse_unchecked(IDENTITY_HRP);
        let mut out = Zeroizing::new(String::with_capacity(80));
        // Writing to a String cannot fail.
        let _ = bech32::encode_upper_to_fmt::<Bech32, _>(&mut *out, hrp, self.0.as_bytes());
        out
    }
}

impl From<[u8; 32]> for Identity {
    fn from(bytes: [u8; 32]) -> Identity {
        Identity(StaticSecret::from(bytes))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity(<secret> for {})", self.recipient())
    }
}

impl FromStr for Identity {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Identity, KeyError> {
        let bytes = decode_key(
            s,
            IDENTITY_HRP,
            RECIPIENT_HRP,
            KeyError::RecipientGivenAsIdentity,
            KeyError::NotIdentity,
        )?;
        Ok(Identity(StaticSecret::from(*bytes)))
    }
}

/// Whether `s` starts with `hrp` followed by the Bech32 separator `1`.
/// Decodes the key text `s` whose prefix must be `want`. The other kind
/// of key (prefix `other`, even when its text is damaged) is `other_kind`;
/// anything else is `not_key`.
fn decode_key(
    s: &str,
    want: &str,
    other: &str,
    other_kind: KeyError,
    not_key: KeyError,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let s = s.trim();
    let (hrp, bytes) = match decode_32(s) {
        Ok(decoded) => decoded,
        Err(KeyError::BadEncoding) if looks_like(s, other) => return Err(other_kind),
        Err(KeyError::BadEncoding) if !looks_like(s, want) => return Err(not_key),
        Err(e) => return Err(e),
    };
    if hrp == want {
        Ok(bytes)
    } else if hrp == other {
        Err(other_kind)
    } else {
        Err(not_key)
    }
}

fn looks_like(s: &str, hrp: &str) -> bool {
    s.len() > hrp.len()
        && s.is_char_boundary(hrp.len())
        && s[..hrp.len()].eq_ignore_ascii_case(hrp)
        && s.as_bytes()[hrp.len()] == b'1'
        && !s[hrp.len() + 1..].contains('1')
}

/// Decodes Bech32 text holding exactly 32 bytes; the returned prefix is
/// lower case. The bytes are returned in a zeroizing buffer.
fn decode_32(s: &str) -> Result<(String, Zeroizing<[u8; 32]>), KeyError> {
    let checked = CheckedHrpstring::new::<Bech32>(s).map_err(|_| KeyError::BadEncoding)?;
    let mut out = Zeroizing::new([0u8; 32]);
    let mut n = 0;
    for b in checked.byte_iter() {
        if n < 32 {
            out[n] = b;
        }
        n += 1;
    }
    if n != 32 {
        return Err(KeyError::WrongLength(n));
    }
    Ok((checked.hrp().to_lowercase(), out))
}

/// Parses a recipients list: one recipient per line; blank lines and lines
/// starting with `#` are ignored. Errors carry the 1-based line number.
pub fn parse_recipients(text: &str) -> Result<Vec<Recipient>, (usize, KeyError)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(line.parse().map_err(|e| (i + 1, e))?);
    }
    Ok(out)
}

/// Parses an identity file: one identity per line; blank lines and `#`
/// comments (keygen writes the creation time and the recipient as comments)
/// are ignored. Errors carry the 1-based line number and never the text.
pub fn parse_identities(text: &str) -> Result<Vec<Identity>, (usize, KeyError)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(line.parse().map_err(|e| (i + 1, e))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_text_round_trips_and_has_its_prefix() {
        let id = Identity::from([7u8; 32]);
        let r = id.recipient();
        let text = r.to_string();
        assert!(text.starts_with("recpipe1"), "{text}");
        assert_eq!(text.parse::<Recipient>().unwrap(), r);
        assert_eq!(text.to_uppercase().parse::<Recipient>().unwrap(), r);
    }

    #[test]
    fn identity_text_round_trips_and_has_its_prefix() {
        let id = Identity::from([9u8; 32]);
        let text = id.to_secret_text();
        assert!(text.starts_with("RECPIPE-SECRET-KEY-1"), "{}", *text);
        let back: Identity = text.parse().unwrap();
        assert_eq!(back.0.to_bytes(), [9u8; 32]);
    }

    #[test]
    fn a_recipient_is_not_an_identity_and_back() {
        let id = Identity::from([1u8; 32]);
        let secret = id.to_secret_text();
        let public = id.recipient().to_string();
        assert_eq!(
            secret.parse::<Recipient>(),
            Err(KeyError::IdentityGivenAsRecipient)
        );
        assert_eq!(
            public.parse::<Identity>().unwrap_err(),
            KeyError::RecipientGivenAsIdentity
        );
    }

    #[test]
    fn damaged_text_is_refused() {
        let public = Identity::from([1u8; 32]).recipient().to_string();
        let mut damaged: Vec<char> = public.chars().collect();
        let i = damaged.len() - 10;
        damaged[i] = if damaged[i] == 'q' { 'p' } else { 'q' };
        let damaged: String = damaged.into_iter().collect();
        assert_eq!(damaged.parse::<Recipient>(), Err(KeyError::BadEncoding));
        assert_eq!("age1xyz".parse::<Recipient>(), Err(KeyError::NotRecipient));
        assert_eq!("".parse::<Recipient>(), Err(KeyError::NotRecipient));
        let short = bech32::encode::<Bech32>(Hrp::parse("recpipe").unwrap(), &[1; 31]).unwrap();
        assert_eq!(short.parse::<Recipient>(), Err(KeyError::WrongLength(31)));
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let id = Identity::from([0x42u8; 32]);
        let secret = id.to_secret_text();
        let shown = format!(
            "{id:?} {:?} {:?}",
            FileKey([0x42; 32]),
            Passphrase::new("hunter2".into())
        );
        assert!(!shown.contains(&secret[20..]));
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("42, 42") && !shown.contains("0x42"));
        assert!(shown.contains(&id.recipient().to_string()));
    }

    #[test]
    fn lists_skip_comments_and_report_lines() {
        let a = Identity::from([1u8; 32]).recipient();
        let b = Identity::from([2u8; 32]).recipient();
        let text = format!("# project key\n{a}\n\n  {b}  \n");
        assert_eq!(parse_recipients(&text).unwrap(), vec![a.clone(), b]);
        let bad = format!("{a}\nnot-a-key\n");
        assert_eq!(
            parse_recipients(&bad).unwrap_err(),
            (2, KeyError::NotRecipient)
        );
        let ids = format!(
            "# created\n{}\n",
            *Identity::from([3u8; 32]).to_secret_text()
        );
        assert_eq!(parse_identities(&ids).unwrap().len(), 1);
        assert_eq!(
            parse_identities(&format!("{a}\n")).unwrap_err(),
            (1, KeyError::RecipientGivenAsIdentity)
        );
    }
}
