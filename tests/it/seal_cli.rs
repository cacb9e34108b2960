//! `recpipe keygen`, `seal` and `decrypt` run as a user would, on a fresh
//! temporary folder each: exit codes, file modes, no overwriting, and no
//! output left behind when a sealed file was altered or cut short.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn recpipe(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Makes an identity file `id` in `dir` and returns its recipient.
fn keygen(dir: &Path, name: &str) -> String {
    let o = recpipe(dir, &["keygen", "-o", name]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recipient = stdout(&o).trim().to_string();
    assert!(recipient.starts_with("recpipe1"), "{recipient}");
    recipient
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn keygen_writes_a_private_file_and_never_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let recipient = keygen(dir.path(), "id");
    let text = fs::read_to_string(dir.path().join("id")).unwrap();
    assert!(text.contains(&format!("# recipient: {recipient}")));
    assert!(text.lines().any(|l| l.starts_with("RECPIPE-SECRET-KEY-1")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("id"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = recpipe(dir.path(), &["keygen", "-o", "id"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
    assert_eq!(fs::read_to_string(dir.path().join("id")).unwrap(), text);
    // No temporary file is left beside it.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    let y = recpipe(dir.path(), &["keygen", "-y", "id"]);
    assert_eq!(y.status.code(), Some(0));
    assert_eq!(stdout(&y).trim(), recipient);
}

#[test]
fn keygen_without_output_prints_identity_and_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let o = recpipe(dir.path(), &["keygen"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("RECPIPE-SECRET-KEY-1")));
    assert!(stderr(&o).contains("recpipe1"));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn seal_then_decrypt_round_trips_for_each_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a");
    let b = keygen(dir.path(), "b");
    fs::write(
        dir.path().join("recipients"),
        format!("# backup key\n{b}\n"),
    )
    .unwrap();
    let plain = sample(300_000);
    fs::write(dir.path().join("consent.pdf"), &plain).unwrap();
    let o = recpipe(
        dir.path(),
        &["seal", "-r", &a, "-R", "recipients", "consent.pdf"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("consent.pdf.sealed\tsha256:"));
    let sealed = fs::read(dir.path().join("consent.pdf.sealed")).unwrap();
    assert!(sealed.starts_with(b"recpipe-seal\x01"));
    for (id, out) in [("a", "out-a"), ("b", "out-b")] {
        fs::create_dir(dir.path().join(out)).unwrap();
        let o = recpipe(
            dir.path(),
            &["decrypt", "-i", id, "-o", out, "consent.pdf.sealed"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            fs::read(dir.path().join(out).join("consent.pdf")).unwrap(),
            plain
        );
    }
    // Decrypting again would overwrite: refused, file unchanged.
    let o = recpipe(
        dir.path(),
        &["decrypt", "-i", "a", "-o", "out-a", "consent.pdf.sealed"],
    );
    assert_eq!(o.status.code(), Some(2));
    // Sealing again would overwrite: refused.
    let o = recpipe(dir.path(), &["seal", "-r", &a, "consent.pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        fs::read(dir.path().join("consent.pdf.sealed")).unwrap(),
        sealed
    );
}

#[test]
fn decrypt_leaves_no_output_when_the_file_was_altered_or_cut() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a");
    fs::write(dir.path().join("notes.txt"), sample(200_000)).unwrap();
    let o = recpipe(dir.path(), &["seal", "-r", &a, "notes.txt"]);
    assert_eq!(o.status.code(), Some(0));
    let sealed = fs::read(dir.path().join("notes.txt.sealed")).unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    let mut altered = sealed.clone();
    let last = altered.len() - 3;
    altered[last] ^= 1;
    let cut = sealed[..sealed.len() - 100].to_vec();
    for (name, bytes) in [("altered.sealed", altered), ("cut.sealed", cut)] {
        fs::write(dir.path().join(name), bytes).unwrap();
        let o = recpipe(dir.path(), &["decrypt", "-i", "a", "-o", "out", name]);
        assert_eq!(o.status.code(), Some(4), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
        assert_eq!(
            fs::read_dir(dir.path().join("out")).unwrap().count(),
            0,
            "{name} left output"
        );
    }
}

#[test]
fn wrong_identities_and_bad_recipients_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a");
    keygen(dir.path(), "b");
    fs::write(dir.path().join("f"), b"x").unwrap();
    assert_eq!(
        recpipe(dir.path(), &["seal", "-r", &a, "f"]).status.code(),
        Some(0)
    );
    fs::create_dir(dir.path().join("out")).unwrap();
    let o = recpipe(dir.path(), &["decrypt", "-i", "b", "-o", "out", "f.sealed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("none of the given identities"));
    assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 0);
    // A secret key given as a recipient is refused and not echoed.
    let secret = fs::read_to_string(dir.path().join("a")).unwrap();
    let secret = secret.lines().last().unwrap();
    let o = recpipe(dir.path(), &["seal", "-r", secret, "-o", "g", "f"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("secret key"));
    assert!(!stderr(&o).contains(&secret[20..]));
    // A damaged recipients file names its line.
    fs::write(dir.path().join("list"), format!("{a}\nrecpipe1qqqq\n")).unwrap();
    let o = recpipe(dir.path(), &["seal", "-R", "list", "-o", "h", "f"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("list:2:"), "{}", stderr(&o));
    // A recipient given as an identity file.
    fs::write(dir.path().join("pub"), format!("{a}\n")).unwrap();
    let o = recpipe(
        dir.path(),
        &["decrypt", "-i", "pub", "-o", "out", "f.sealed"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pub:1:"), "{}", stderr(&o));
}

#[test]
fn a_passphrase_is_never_taken_from_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let o = recpipe(dir.path(), &["decrypt", "--passphrase=hunter2", "f.sealed"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // Without a terminal the prompt fails: nothing is read from stdin.
    fs::write(dir.path().join("f.sealed"), b"recpipe-seal").unwrap();
    let o = recpipe(dir.path(), &["decrypt", "--passphrase", "f.sealed"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("terminal"), "{}", stderr(&o));
    assert!(!dir.path().join("f").exists());
}
