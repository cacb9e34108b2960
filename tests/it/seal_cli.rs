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
    crate::util::private_under_wine(&dir.join(name));
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

/// Issue 13 item 6: an identity file that others can read is refused, as
/// OpenSSH refuses such a private key; made private, it works.
#[cfg(unix)]
#[test]
fn decrypt_refuses_an_identity_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "id");
    fs::write(dir.path().join("f"), b"secret words").unwrap();
    assert!(
        recpipe(dir.path(), &["seal", "-r", &a, "f"])
            .status
            .success()
    );
    fs::remove_file(dir.path().join("f")).unwrap();
    for mode in [0o644, 0o640, 0o604] {
        fs::set_permissions(dir.path().join("id"), fs::Permissions::from_mode(mode)).unwrap();
        let o = recpipe(dir.path(), &["decrypt", "-i", "id", "f.sealed"]);
        assert_eq!(o.status.code(), Some(2), "{mode:o}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("readable only by you"),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
        assert!(!dir.path().join("f").exists());
    }
    fs::set_permissions(dir.path().join("id"), fs::Permissions::from_mode(0o600)).unwrap();
    let o = recpipe(dir.path(), &["decrypt", "-i", "id", "f.sealed"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"secret words");
}

/// Issue 13 item 8: `-o` creates the folder it names, and takes a file name
/// for a single input.
#[test]
fn decrypt_output_creates_its_folder_or_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "id");
    for n in ["one", "two"] {
        fs::write(dir.path().join(n), n.as_bytes()).unwrap();
        assert!(recpipe(dir.path(), &["seal", "-r", &a, n]).status.success());
    }
    // Several inputs: a folder, made with its parents.
    let o = recpipe(
        dir.path(),
        &[
            "decrypt",
            "-i",
            "id",
            "-o",
            "new/out",
            "one.sealed",
            "two.sealed",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read(dir.path().join("new/out/one")).unwrap(), b"one");
    assert_eq!(fs::read(dir.path().join("new/out/two")).unwrap(), b"two");
    // One input and a trailing slash: a folder too.
    let o = recpipe(
        dir.path(),
        &["decrypt", "-i", "id", "-o", "more/", "one.sealed"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read(dir.path().join("more/one")).unwrap(), b"one");
    // One input and a name: the output file, never overwritten.
    let o = recpipe(
        dir.path(),
        &["decrypt", "-i", "id", "-o", "mine.txt", "two.sealed"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read(dir.path().join("mine.txt")).unwrap(), b"two");
    let o = recpipe(
        dir.path(),
        &["decrypt", "-i", "id", "-o", "mine.txt", "one.sealed"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(fs::read(dir.path().join("mine.txt")).unwrap(), b"two");
}

/// The partial outputs in `dir` (decrypt's own temporary files).
#[cfg(unix)]
fn partials(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".recpipe-partial"))
        .collect()
}

/// Issue 13 item 4: Ctrl-C (SIGINT) or SIGTERM while decrypting removes the
/// partial plaintext. The sealed input is a FIFO the test feeds, so the
/// decrypt is caught, deterministically, with plaintext already written.
#[cfg(unix)]
#[test]
fn an_interrupted_decrypt_leaves_no_plaintext() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "id");
    fs::write(dir.path().join("big"), sample(4 << 20)).unwrap();
    assert!(
        recpipe(dir.path(), &["seal", "-r", &a, "big"])
            .status
            .success()
    );
    let sealed = fs::read(dir.path().join("big.sealed")).unwrap();
    for signal in ["INT", "TERM"] {
        let out = dir.path().join(format!("out-{signal}"));
        fs::create_dir(&out).unwrap();
        let fifo = dir.path().join(format!("fifo-{signal}.sealed"));
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_recpipe"))
            .current_dir(dir.path())
            .arg("decrypt")
            .args(["-i", "id", "-o"])
            .arg(&out)
            .arg(&fifo)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut w = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        // Half the file: plaintext lands in the partial, then it waits.
        w.write_all(&sealed[..sealed.len() / 2]).unwrap();
        w.flush().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let grown = partials(&out)
                .iter()
                .any(|p| fs::metadata(out.join(p)).is_ok_and(|m| m.len() > 1 << 20));
            if grown {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no partial grew");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let status = child.wait().unwrap();
        drop(w);
        assert_eq!(status.code(), Some(130), "SIG{signal}");
        assert_eq!(partials(&out), Vec::<String>::new(), "SIG{signal}");
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "SIG{signal}");
    }
}

/// Issue 13 item 4: what a killed decrypt left (no owner holds its lock) is
/// removed by the next decrypt into that folder; a live one's is not.
#[test]
fn the_next_decrypt_removes_stale_partials_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "id");
    fs::write(dir.path().join("f"), b"words").unwrap();
    assert!(
        recpipe(dir.path(), &["seal", "-r", &a, "f"])
            .status
            .success()
    );
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let stale = out.join(".f.Ab12Cd.decrypt.recpipe-partial");
    fs::write(&stale, b"plaintext left by a killed decrypt").unwrap();
    let live = out.join(".g.Xy34Zw.decrypt.recpipe-partial");
    let held = fs::File::create(&live).unwrap();
    held.lock().unwrap();
    // Not decrypt's: left alone.
    let other = out.join(".f.sealed.recpipe-partial");
    fs::write(&other, b"an upload's partial").unwrap();
    let o = recpipe(
        dir.path(),
        &["decrypt", "-i", "id", "-o", "out", "f.sealed"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("Removed 1 partial"), "{}", stderr(&o));
    assert!(!stale.exists());
    assert!(live.exists());
    assert!(other.exists());
    assert_eq!(fs::read(out.join("f")).unwrap(), b"words");
}

/// The exit statuses the README's command table gives for `keygen`, `seal`
/// and `decrypt` (issue 13 item 9): a case for each, run here, and the row
/// lists exactly the statuses run. 130 is run by
/// `an_interrupted_decrypt_leaves_no_plaintext`.
#[test]
fn exit_statuses_are_the_ones_the_readme_gives() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let code = |args: &[&str]| recpipe(d, args).status.code().unwrap();
    let mut ran: std::collections::BTreeMap<&str, Vec<i32>> = Default::default();
    let mut check = |command: &'static str, expected: i32, got: i32| {
        assert_eq!(got, expected, "recpipe {command}");
        ran.entry(command).or_default().push(expected);
    };

    check("keygen", 0, code(&["keygen", "-o", "id"]));
    crate::util::private_under_wine(&d.join("id"));
    check("keygen", 2, code(&["keygen", "-o", "id"]));
    check("keygen", 1, code(&["keygen", "-o", "no/such/folder/id"]));

    let a = stdout(&recpipe(d, &["keygen", "-y", "id"]))
        .trim()
        .to_string();
    fs::write(d.join("f"), sample(100_000)).unwrap();
    check("seal", 0, code(&["seal", "-r", &a, "f"]));
    check(
        "seal",
        2,
        code(&["seal", "-r", "recpipe1qqqq", "-o", "g", "f"]),
    );
    check("seal", 1, code(&["seal", "-r", &a, "-o", "g", "missing"]));

    keygen(d, "other");
    fs::create_dir(d.join("out")).unwrap();
    check(
        "decrypt",
        0,
        code(&["decrypt", "-i", "id", "-o", "out", "f.sealed"]),
    );
    check(
        "decrypt",
        2,
        code(&["decrypt", "-i", "other", "-o", "out2/", "f.sealed"]),
    );
    let mut bytes = fs::read(d.join("f.sealed")).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 1;
    fs::write(d.join("bad.sealed"), &bytes).unwrap();
    check(
        "decrypt",
        4,
        code(&["decrypt", "-i", "id", "-o", "out3/", "bad.sealed"]),
    );
    fs::create_dir(d.join("dir.sealed")).unwrap();
    check(
        "decrypt",
        1,
        code(&["decrypt", "-i", "id", "-o", "out4/", "dir.sealed"]),
    );
    ran.entry("decrypt").or_default().push(130);

    for (command, codes) in ran {
        crate::util::assert_readme_row(command, &codes);
    }
}

/// Issue 11: `seal --passphrase` asks twice at the terminal (a pseudo-
/// terminal made by util-linux `script`), and `decrypt --passphrase` opens
/// the result; without a terminal it refuses and writes nothing.
#[cfg(unix)]
#[test]
fn seal_with_a_passphrase_at_the_terminal_and_open_it() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("f"), b"words for someone without key files").unwrap();
    let o = recpipe(d, &["seal", "--passphrase", "f"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("terminal"), "{}", stderr(&o));
    assert!(!d.join("f.sealed").exists());
    let at_terminal = |command: &str, answers: &[&str]| {
        let mut child = Command::new("script")
            .args(["-qec", command, "/dev/null"])
            .current_dir(d)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        for a in answers {
            std::thread::sleep(std::time::Duration::from_millis(500));
            writeln!(input, "{a}").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        drop(input);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let bin = env!("CARGO_BIN_EXE_recpipe");
    let (code, text) = at_terminal(&format!("{bin} seal --passphrase f"), &["a b c", "a b c"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("a b c"), "the passphrase was echoed: {text}");
    fs::remove_file(d.join("f")).unwrap();
    let (code, text) = at_terminal(&format!("{bin} decrypt --passphrase f.sealed"), &["a b c"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        fs::read(d.join("f")).unwrap(),
        b"words for someone without key files"
    );
}

/// Issue 26 item 8: a decrypt of many files that stops at an error other
/// than an altered file says how many files it never tried, and which.
#[test]
fn a_decrypt_that_stops_says_which_files_it_never_tried() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a");
    for name in ["one", "two", "three"] {
        fs::write(dir.path().join(name), sample(10_000)).unwrap();
        let o = recpipe(dir.path(), &["seal", "-r", &a, name]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    fs::create_dir(dir.path().join("out")).unwrap();
    // `two`'s output is there already: decrypting it would overwrite.
    fs::write(dir.path().join("out").join("two"), b"kept").unwrap();
    let o = recpipe(
        dir.path(),
        &[
            "decrypt",
            "-i",
            "a",
            "-o",
            "out",
            "one.sealed",
            "two.sealed",
            "three.sealed",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("stopped at two.sealed"), "{err}");
    assert!(err.contains("1 file(s) after it were not tried"), "{err}");
    assert!(err.contains("three.sealed"), "{err}");
    assert_eq!(
        fs::read(dir.path().join("out").join("one")).unwrap(),
        sample(10_000)
    );
    assert_eq!(
        fs::read(dir.path().join("out").join("two")).unwrap(),
        b"kept"
    );
    assert!(!dir.path().join("out").join("three").exists());
}
