//! What a validated pipeline will do, in plain words, for
//! `recpipe pipeline check`. Recipients are shown shortened; nothing secret
//! is ever part of a pipeline, but long keys make the text hard to read.

use super::*;

/// One sentence per stage, in the order the stages run.
pub fn describe(p: &Pipeline) -> Vec<String> {
    let mut out = Vec::new();
    out.push(format!(
        "Pipeline \"{}\" handles {} data ({}).",
        p.name,
        p.classification,
        match p.classification {
            Classification::Red =>
                "sensitive personal data: every output is sealed and the interim copy removed",
            Classification::Yellow =>
                "personal data: every output is sealed and the interim copy removed",
            Classification::Green => "no personal data",
        }
    ));
    out.push(format!(
        "Looks for recordings in {}; a recording counts as finished when Zoom has converted it, every file is whole, and nothing in it has changed for {}.",
        p.source.dir.display(),
        p.source.settle
    ));
    let pad = if p.redact.pad.0.is_zero() {
        String::new()
    } else {
        format!(", each widened by {} on both sides", p.redact.pad)
    };
    let audio = match p.redact.mode {
        RedactMode::Silence => "becomes silence and the timeline stays as it was",
        RedactMode::Cut => "is cut out and later audio moves up",
    };
    out.push(format!(
        "Redacts the time ranges listed in \"{}\" inside each recording folder{pad}: audio in a range {audio}; video loses every whole group of pictures that touches a range, and its own sound loses the same span.",
        p.redact.marks
    ));
    let all = [
        TrackKind::Video,
        TrackKind::MixedAudio,
        TrackKind::ParticipantAudio,
        TrackKind::Chat,
        TrackKind::Captions,
    ];
    let kept: Vec<String> = p.keep.tracks.iter().map(|t| t.to_string()).collect();
    let dropped: Vec<String> = all
        .iter()
        .filter(|t| !p.keep.keeps(**t))
        .map(|t| t.to_string())
        .collect();
    let format = match p.keep.audio_format {
        AudioFormat::Wav => "audio as 16-bit WAV",
        AudioFormat::M4a => "audio as M4A (the original AAC, not re-encoded)",
    };
    out.push(format!(
        "Keeps {} ({format}). {}",
        kept.join(", "),
        if dropped.is_empty() {
            "Drops nothing.".to_string()
        } else {
            format!(
                "Drops {}: those files are never copied anywhere.",
                dropped.join(", ")
            )
        }
    ));
    match &p.seal {
        Some(s) => {
            let mut who: Vec<String> = s
                .recipients
                .iter()
                .map(|r| shorten(&r.to_string()))
                .collect();
            if let Some(f) = &s.recipients_file {
                who.push(format!("the recipients listed in {}", f.path.display()));
            }
            out.push(format!(
                "Seals (encrypts) every output to {}; only the matching private keys can open them, and nothing leaves this PC unsealed.",
                who.join(", ")
            ));
            if s.all().any(|r| r.to_string() == DEMO_RECIPIENT) {
                out.push(
                    "WARNING: one recipient is the public demo key (sample-data/demo-identity.txt), whose secret anyone can read. Replace it with your project's key (`recpipe keygen`); `recpipe run` refuses to seal yellow or red data to it."
                        .to_string(),
                );
            }
        }
        None => out.push(
            "Does not seal the outputs: they are copied unencrypted (allowed for green data only)."
                .to_string(),
        ),
    }
    match &p.destination {
        Some(Destination::Sftp {
            host,
            port,
            user,
            path,
            known_hosts,
            identity_file,
            verify,
        }) => {
            let login = match identity_file {
                Some(f) => format!("with the key {}", f.display()),
                None => "with ssh-agent, or a password and one-time code typed at the terminal (a scheduled job cannot answer those and will wait)".to_string(),
            };
            out.push(format!(
                "Uploads by SFTP to {user}@{host}:{port} into {path}, after checking the server's host key against {}; logs in {login}; {}.",
                known_hosts.display(),
                verify_words(*verify)
            ));
        }
        Some(Destination::Dir { path, verify }) => out.push(format!(
            "Copies to the folder {}; {}.",
            path.display(),
            verify_words(*verify)
        )),
        Some(Destination::Tsd(t)) => out.extend(describe_tsd(t)),
        None => out.push("Sends the outputs nowhere (green data only).".to_string()),
    }
    let action = match p.cleanup.interim {
        InterimAction::Shred => {
            "Shreds the interim recording (overwrites each file once with random bytes, then deletes it)"
        }
        InterimAction::Delete => "Deletes the interim recording (without overwriting)",
        InterimAction::Keep => "Keeps the interim recording where it is",
    };
    out.push(match (p.cleanup.interim, p.cleanup.after) {
        (InterimAction::Keep, _) => format!("{action}."),
        (_, CleanupAfter::Verified) => format!(
            "{action} only after every output made from it is verified at the destination."
        ),
        (_, CleanupAfter::Sealed) => format!(
            "{action} as soon as every output is sealed, staged and checked to open, before the upload: until the upload is verified, the sealed copies in recpipe's staging folder are the only copy, and only the project's private key can open them."
        ),
    });
    out
}

fn verify_words(v: VerifyMode) -> &'static str {
    match v {
        VerifyMode::Readback => {
            "verifies every upload by reading it back and comparing its SHA-256 with what was sent"
        }
        VerifyMode::Size => "verifies every upload by its size only",
        VerifyMode::ChunkMd5 => {
            "verifies every upload chunk by chunk (each chunk's MD5 compared with what the server recorded as it arrived) and by its size at the end; an import token cannot read files back, so this is all TSD's file API offers"
        }
    }
}

/// The TSD file API route: where files land, and what the route needs.
fn describe_tsd(t: &Tsd) -> Vec<String> {
    let folder = if t.path.is_empty() {
        t.group.clone()
    } else {
        format!("{}/{}", t.group, t.path)
    };
    let route = match &t.auth {
        TsdAuth::Basic => format!(
            "Logs in with auth = \"basic\": the API key in {} alone, which TSD accepts only from an address it allow-listed for that key (ask TSD to allow this PC's address); no person is needed, so a scheduled run uploads.",
            t.api_key_file.display()
        ),
        TsdAuth::ImportLink {
            link_id,
            secret_file,
        } => format!(
            "Logs in with auth = \"import-link\": the import link {link_id} that the project owner made in TSD, with the API key in {}{}; no person is needed, so a scheduled run uploads, for as long as the link is valid.",
            t.api_key_file.display(),
            secret_file
                .as_ref()
                .map(|f| format!(" and the link's secret in {}", f.display()))
                .unwrap_or_default()
        ),
        TsdAuth::Login => format!(
            "Logs in with auth = \"login\": a TSD user name (pXX-name), password and one-time code typed at the terminal, with the API key in {}; the token is renewed with refresh tokens for a working day. A scheduled run cannot answer and waits for `recpipe run` from a terminal.",
            t.api_key_file.display()
        ),
    };
    vec![
        format!(
            "Uploads over HTTPS to TSD's file API at {} for project {}, into the import area's folder {folder} (inside TSD: /tsd/{}/data/durable/file-import/{folder}), in resumable chunks of {} bytes; an existing file of the same name is never overwritten; {}.",
            t.url,
            t.project,
            t.project,
            t.chunk_size,
            verify_words(t.verify)
        ),
        route,
    ]
}

/// `recpipe1abcdefgh…wxyz`: enough to tell keys apart.
fn shorten(recipient: &str) -> String {
    let chars: Vec<char> = recipient.chars().collect();
    if chars.len() <= 24 {
        return recipient.to_string();
    }
    let head: String = chars[..14].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}
