//! `[seal]` in pipeline files: recipients and recipients files are checked
//! with the sealing format's parser when the pipeline loads, and a bad one
//! is reported with the pipeline file, line and key.

use recpipe::config::{ConfigError, Pipeline};
use recpipe::seal::Identity;
use std::fs;

fn pipeline(seal: &str) -> String {
    format!(
        "name = \"interviews\"\nclassification = \"green\"\n\n[keep]\ntracks = [\"mixed-audio\"]\n\n[seal]\n{seal}\n"
    )
}

fn load(dir: &std::path::Path, text: &str) -> Result<Pipeline, ConfigError> {
    let path = dir.join("p.toml");
    fs::write(&path, text).unwrap();
    Pipeline::load(&path)
}

fn invalid(e: ConfigError) -> (usize, Option<String>, String) {
    match e {
        ConfigError::Invalid {
            line, key, message, ..
        } => (line, key, message),
        other => panic!("not an Invalid error: {other}"),
    }
}

#[test]
fn valid_recipients_load() {
    let dir = tempfile::tempdir().unwrap();
    let a = Identity::generate().unwrap().recipient();
    let b = Identity::generate().unwrap().recipient();
    fs::write(dir.path().join("backup.txt"), format!("# backup\n{b}\n")).unwrap();
    let p = load(
        dir.path(),
        &pipeline(&format!(
            "recipients = [\"{a}\"]\nrecipients_file = \"backup.txt\""
        )),
    )
    .unwrap();
    let seal = p.seal.unwrap();
    assert_eq!(seal.recipients, vec![a.clone()]);
    let file = seal.recipients_file.as_ref().unwrap();
    assert_eq!(file.path, dir.path().join("backup.txt"));
    assert_eq!(file.recipients, vec![b.clone()]);
    assert_eq!(seal.all().cloned().collect::<Vec<_>>(), vec![a, b]);
}

#[test]
fn a_malformed_recipient_is_refused_with_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let a = Identity::generate().unwrap().recipient().to_string();
    // Change the last character (part of the checksum) to another letter
    // of the encoding's alphabet: a single substitution the checksum catches.
    let last = a.chars().last().unwrap();
    let other = if last == 'q' { 'p' } else { 'q' };
    let damaged = format!("{}{other}", &a[..a.len() - 1]);
    assert_ne!(damaged, a);
    let text = pipeline(&format!("recipients = [\"{a}\", \"{damaged}\"]"));
    let (line, key, message) = invalid(load(dir.path(), &text).unwrap_err());
    assert_eq!(line, 8);
    assert_eq!(key.as_deref(), Some("seal.recipients"));
    assert!(message.contains("not a recipient"), "{message}");
    // A secret key in a pipeline file is refused, and not repeated.
    let id = Identity::generate().unwrap();
    let secret = id.to_secret_text();
    let text = pipeline(&format!("recipients = [\"{}\"]", *secret));
    let e = load(dir.path(), &text).unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("secret key"), "{shown}");
    assert!(!shown.contains(&secret[20..]), "{shown}");
    assert!(shown.contains("seal.recipients"), "{shown}");
}

#[test]
fn a_bad_or_missing_recipients_file_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let a = Identity::generate().unwrap().recipient().to_string();
    fs::write(dir.path().join("list.txt"), format!("{a}\nage1notours\n")).unwrap();
    let e = load(dir.path(), &pipeline("recipients_file = \"list.txt\"")).unwrap_err();
    let (line, key, message) = invalid(e);
    assert_eq!(line, 8);
    assert_eq!(key.as_deref(), Some("seal.recipients_file"));
    assert!(message.contains("list.txt:2:"), "{message}");
    let e = load(dir.path(), &pipeline("recipients_file = \"missing.txt\"")).unwrap_err();
    assert!(invalid(e).2.contains("missing.txt"));
    fs::write(dir.path().join("empty.txt"), "# nobody yet\n").unwrap();
    let e = load(dir.path(), &pipeline("recipients_file = \"empty.txt\"")).unwrap_err();
    assert!(invalid(e).2.contains("holds no recipient"));
}
