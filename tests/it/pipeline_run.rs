//! `recpipe run` end to end, with real parts: the sample recording (real
//! AAC and H.264 from ffmpeg) copied into a temp interim folder, a pipeline
//! sealing to a fresh key, a folder destination or a real OpenSSH sshd,
//! and the binary itself, killed at every durable step and at random
//! instants, then run again.

#[cfg(unix)]
use crate::util::sshd;
#[cfg(windows)]
use crate::util::wine_sshd;
use crate::util::world;

use crate::util::{stderr, stdout};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use world::{FOLDER, World, check_delivery};

#[test]
fn a_red_recording_goes_sealed_to_a_folder_and_the_interim_copy_is_shredded() {
    let w = World::new(&World::dir_destination(), "");
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists(), "the interim recording is removed");
    assert!(w.path("zoom").exists(), "the interim root stays");
    let log = stderr(&out);
    assert!(
        !log.contains("Pilot") && !log.contains("Ola") && !log.contains("Ingrid"),
        "{log}"
    );

    // A second run has nothing to do and sends nothing again.
    let again = w.run();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(w.delivered(&w.path("out")).len(), 5);
    let status = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["status", "--json"])
        .env("RECPIPE_STATE_DIR", w.path("state"))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["done"].as_array().unwrap().len(), 1);
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("Pilot"),
        "a finished journal keeps no names"
    );

    // The local log: one line per step of the recording, by its id; no
    // topic or participant name.
    let id = doc["done"][0]["id"].as_str().unwrap().to_string();
    let log = fs::read_to_string(w.path("state/recpipe.log")).unwrap();
    #[cfg(unix)]
    {
        // Readable by its owner only, as docs/operations promise.
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(w.path("state/recpipe.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "recpipe.log is {:o}", mode & 0o777);
    }
    let of = |what: &str| {
        log.lines()
            .filter(|l| l.contains(&format!("recording={id}")) && l.contains(what))
            .count()
    };
    assert_eq!(of("started"), 1, "{log}");
    assert_eq!(of("step recorded"), 4, "{log}");
    assert!(
        log.lines().any(|l| l.contains(&format!("recording={id}"))
            && l.contains(" done ")
            && l.contains("uploaded=5")),
        "{log}"
    );
    for name in ["Pilot", "Ola", "Ingrid", "heimesjukepleie"] {
        assert!(!log.contains(name), "{name} in the log:\n{log}");
    }
}

#[test]
fn after_sealed_removes_the_interim_copy_before_the_upload_and_a_later_run_delivers() {
    let w = World::new(&World::dir_destination(), "after = \"sealed\"");
    // The destination cannot be used yet: a file stands where its folder goes.
    fs::write(w.path("out"), b"not a folder").unwrap();
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !w.recording().exists(),
        "after = \"sealed\": the interim copy goes once every output is sealed, staged and opens"
    );
    let staged: Vec<PathBuf> = fs::read_dir(w.path("state/staged"))
        .unwrap()
        .flatten()
        .flat_map(|d| fs::read_dir(d.path()).unwrap().flatten())
        .map(|e| e.path())
        .collect();
    assert_eq!(staged.len(), 4, "{staged:?}");
    for f in &staged {
        w.open(f);
    }
    // Once the destination is there, the next run delivers what was sealed.
    fs::remove_file(w.path("out")).unwrap();
    let again = w.run();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}{}",
        stdout(&again),
        stderr(&again)
    );
    check_delivery(&w, &w.delivered(&w.path("out")));
}

/// The `[destination]` of a pipeline sending to a real sshd's
/// `interviews` folder, with the folder as this test sees it. On Windows
/// (under Wine) the server is the one scripts/test-windows.sh started.
#[cfg(unix)]
fn sftp_destination(server: &sshd::Sshd) -> (String, PathBuf) {
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npath = \"{}\"\nknown_hosts = \"{}\"\nidentity_file = \"{}\"\nverify = \"readback\"\n",
        server.port,
        server.user,
        server.files.join("interviews").display(),
        server.known_hosts().display(),
        server.client_key.display()
    );
    (dest, server.files.join("interviews"))
}

#[cfg(windows)]
fn sftp_destination(server: &wine_sshd::SharedSshd) -> (String, PathBuf) {
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npath = '{}'\nknown_hosts = '{}'\nidentity_file = '{}'\nverify = \"readback\"\n",
        server.port,
        server.user,
        server.remote("interviews"),
        server.known_hosts.display(),
        server.client_key.display()
    );
    (dest, server.files.join("interviews"))
}

#[test]
fn a_red_recording_goes_to_a_real_sftp_server() {
    #[cfg(unix)]
    let server = sshd::Sshd::start();
    #[cfg(windows)]
    let server = wine_sshd::SharedSshd::get();
    let (dest, delivered) = sftp_destination(&server);
    let w = World::new(&dest, "");
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    check_delivery(&w, &w.delivered(&delivered));
    assert!(!w.recording().exists());
}

#[cfg(unix)]
#[test]
fn a_login_that_needs_a_person_waits_and_keeps_everything() {
    let server = sshd::Sshd::start();
    // A key with a passphrase: someone must type it, and there is no terminal.
    let key = server.dir.path().join("locked");
    sshd::keygen(&key, "correct horse");
    let authorized = server.dir.path().join("authorized_keys");
    let mut keys = fs::read_to_string(&authorized).unwrap();
    keys.push_str(&fs::read_to_string(key.with_extension("pub")).unwrap());
    fs::write(&authorized, keys).unwrap();
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npath = \"{}\"\nknown_hosts = \"{}\"\nidentity_file = \"{}\"\n",
        server.port,
        server.user,
        server.files.join("interviews").display(),
        server.known_hosts().display(),
        key.display(),
    );
    let w = World::new(&dest, "");
    let out = w.command().env_remove("SSH_AUTH_SOCK").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("recpipe run"), "{}", stderr(&out));
    assert!(
        w.recording().join("video84213977051.mp4").exists(),
        "nothing deleted"
    );
    let staged: Vec<_> = fs::read_dir(w.path("state/staged"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(staged.len(), 1, "the sealed files are kept, staged");
    // Uploads overlap production, but a login that waits for a person
    // stops only the uploads: every output is sealed and staged, ready.
    let files: Vec<PathBuf> = fs::read_dir(staged[0].path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files {
        assert!(f.to_string_lossy().ends_with(".sealed"), "{}", f.display());
        w.open(f);
    }
}

/// After a crash: the invariant holds, and a rerun finishes the job (exit
/// 0, everything delivered, the interim copy removed).
fn rerun_finishes(w: &World, original: &Path, what: &str) {
    check_invariant(w, original);
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    check_delivery(w, &w.delivered(&w.path("out")));
    assert!(
        !w.recording().exists(),
        "{what}: interim removed after the rerun"
    );
}

/// Every input is intact where it was, or every output is verified where it
/// went; the destination never holds a partial under a final name.
fn check_invariant(w: &World, original: &Path) {
    let interim_whole = world::same_tree(original, &w.recording());
    let delivered = w.delivered(&w.path("out"));
    for f in &delivered {
        w.open(f); // a final name always holds a whole, authentic file
    }
    let outputs = delivered
        .iter()
        .filter(|p| !p.to_string_lossy().contains("_manifest."))
        .count();
    assert!(
        interim_whole || outputs == 4,
        "after a crash the recording is neither intact nor delivered: {delivered:?}"
    );
}

#[test]
fn a_crash_at_every_durable_step_is_finished_by_the_next_run() {
    let original = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join(FOLDER);
    let points = [
        "checked",
        "staged-output:1",
        "staged-output:3",
        "staged",
        "uploaded-output:1",
        "uploaded-output:4",
        "verified",
        "cleaned-up",
        "done",
    ];
    for point in points {
        let w = World::new(&World::dir_destination(), "");
        let crashed = w.run_with_fault(point);
        assert_ne!(
            crashed.status.code(),
            Some(0),
            "{point}: the fault hook stops the run"
        );
        rerun_finishes(&w, &original, point);
    }
}

#[test]
fn a_kill_at_any_instant_is_finished_by_the_next_run() {
    let original = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join(FOLDER);
    world::kill_at_spread_instants("", 8, |w, what| rerun_finishes(w, &original, what));
}

#[test]
fn a_second_run_while_one_holds_the_lock_exits_0_and_touches_nothing() {
    let w = World::new(&World::dir_destination(), "");
    let state = recpipe::journal::StateDir::open(&w.path("state")).unwrap();
    let lock = state.lock().unwrap().expect("the lock is free");
    let out = w.run();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("another recpipe run"),
        "{}",
        stderr(&out)
    );
    assert!(w.recording().join("video84213977051.mp4").exists());
    assert!(w.delivered(&w.path("out")).is_empty());
    drop(lock);
}

#[test]
fn a_file_changed_after_the_check_is_not_deleted_and_is_reported() {
    let w = World::new(&World::dir_destination(), "");
    let crashed = w.run_with_fault("verified");
    assert_ne!(crashed.status.code(), Some(0));
    let changed = w.recording().join("chat.txt");
    fs::write(&changed, "changed after the check\n").unwrap();
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        fs::read_to_string(&changed).unwrap(),
        "changed after the check\n"
    );
    assert!(
        stderr(&out).contains("left in the interim folder"),
        "{}",
        stderr(&out)
    );
    assert!(
        !w.recording().join("video84213977051.mp4").exists(),
        "the unchanged files are removed"
    );
}

#[cfg(unix)]
#[test]
fn a_recording_with_a_symlink_is_not_processed_and_the_target_survives() {
    let w = World::new(&World::dir_destination(), "");
    let target = w.path("precious.txt");
    fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, w.recording().join("notes.txt")).unwrap();
    let out = w.run();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
    assert!(w.recording().join("video84213977051.mp4").exists());
}

#[test]
fn a_bad_marks_file_stops_the_recording_with_its_line_and_deletes_nothing() {
    let w = World::new(&World::dir_destination(), "");
    fs::write(
        w.recording().join("recpipe-marks.txt"),
        "14:04:05 - 14:04:17\n14:70 - 14:71\n",
    )
    .unwrap();
    let out = w.run();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    assert!(w.recording().join("video84213977051.mp4").exists());
    assert!(w.delivered(&w.path("out")).is_empty());
}

#[test]
fn a_yellow_or_red_pipeline_sealed_to_the_demo_key_is_refused() {
    let w = World::new(&World::dir_destination(), "");
    let text = fs::read_to_string(w.path("pipeline.toml")).unwrap();
    let demo = text.replace(
        &w.identity.recipient().to_string(),
        recpipe::config::DEMO_RECIPIENT,
    );
    fs::write(w.path("pipeline.toml"), demo).unwrap();
    let out = w.run();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("public demo key"), "{}", stderr(&out));
    assert!(w.recording().join("video84213977051.mp4").exists());
}

/// Issue 13 item 11: a destination that is down shows each failed try and
/// its wait as it happens, without the recording's names; the recording
/// then waits with everything kept.
#[test]
fn retries_are_reported_as_they_happen_and_name_no_recording() {
    use recpipe::config::Pipeline;
    use recpipe::destination::{NoTerminal, RetryPolicy};
    use recpipe::journal::StateDir;
    use recpipe::pipeline::{self, Event, Options, Outcome};
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    // A port nobody listens on: every connection is refused, a retryable
    // failure.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"nobody\"\npath = \"interviews\"\nknown_hosts = \"known_hosts\"\n"
    );
    let w = World::new(&dest, "");
    fs::write(w.path("known_hosts"), "").unwrap();
    let pipeline = Pipeline::load(&w.path("pipeline.toml")).unwrap();
    let state = StateDir::open(&w.path("state")).unwrap();
    let stop = AtomicBool::new(false);
    let opts = Options {
        pipeline: &pipeline,
        recipients: pipeline::recipients(&pipeline).unwrap(),
        state: &state,
        prompter: &NoTerminal,
        retry: RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
        start: None,
        fault_hook: &|_| {},
        stop: &stop,
    };
    let mut events = Vec::new();
    pipeline::run(&opts, &[w.path("zoom")], &mut |e| events.push(e)).unwrap();
    let retries: Vec<(u32, Duration, &String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Retry {
                attempt,
                wait,
                error,
            } => Some((*attempt, *wait, error)),
            _ => None,
        })
        .collect();
    assert_eq!(
        retries.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
        [
            (1, Duration::from_millis(10)),
            (2, Duration::from_millis(20))
        ],
        "{events:?}"
    );
    for (_, _, error) in &retries {
        assert!(error.contains(&port.to_string()), "{error}");
        assert!(!error.contains("Pilot interview"), "{error}");
    }
    let outcomes: Vec<&Outcome> = events
        .iter()
        .filter_map(|e| match e {
            Event::Stopped { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert!(matches!(outcomes[..], [Outcome::Failed(_)]), "{outcomes:?}");
    assert!(w.recording().join("video84213977051.mp4").exists());
}

/// Issue 13: something else under an output's final name at the
/// destination is never replaced, and a rerun alone cannot change that:
/// the recording needs a person (exit 4), keeps everything, and finishes
/// once the other file is moved away.
#[test]
fn another_file_under_an_outputs_name_needs_a_person_and_keeps_everything() {
    let w = World::new(&World::dir_destination(), "");
    // Stopped once checked, before anything is made: the journal names the
    // recording's id, and with it the video's name at the destination
    // (`<start>_<id>_<label>.<ext>`, src/pipeline/names.rs).
    assert_ne!(w.run_with_fault("checked").status.code(), Some(0));
    let journal = fs::read_dir(w.path("state/journals"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a journal");
    let id = journal.file_stem().unwrap().to_string_lossy().into_owned();
    let taken = format!("20261120-140311_{id}_video-1.mp4.sealed");
    fs::create_dir_all(w.path("out")).unwrap();
    fs::write(w.path("out").join(&taken), b"someone else's file").unwrap();
    let original = w.path("original");
    world::copy_dir(&w.recording(), &original);
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("needs a person"), "{}", stderr(&out));
    assert!(stderr(&out).contains("move it away"), "{}", stderr(&out));
    assert!(
        world::same_tree(&original, &w.recording()),
        "nothing deleted"
    );
    assert_eq!(
        fs::read(w.path("out").join(&taken)).unwrap(),
        b"someone else's file",
        "never replaced"
    );
    // The next run says the same until a person acts.
    assert_eq!(w.run().status.code(), Some(4));

    fs::rename(w.path("out").join(&taken), w.path("moved-away")).unwrap();
    let out = w.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists());
}

/// Issue 14 item 7: a participant's track that is silent throughout (a
/// muted microphone) is delivered, with a warning in the run's summary and
/// in the manifest; the other tracks carry none.
#[test]
fn a_silent_track_is_delivered_with_a_warning_in_the_summary_and_the_manifest() {
    let w = World::new(&World::dir_destination(), "");
    let muted = w
        .recording()
        .join("Audio Record/audioIngrid Haugen184213977051.m4a");
    let length = crate::util::ffprobe_duration(&muted);
    fs::remove_file(&muted).unwrap();
    crate::util::tools::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=32000:cl=mono",
            "-t",
            &format!("{length:.3}"),
            "-c:a",
            "aac",
            "-b:a",
            "32k",
        ],
        &muted,
    );
    let out = w.run();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("silent throughout"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("participant-1.wav.sealed"), "{text}");
    assert!(!warnings[0].contains("Ingrid"), "{text}");

    let delivered = w.delivered(&w.path("out"));
    let manifest = delivered
        .iter()
        .find(|p| p.to_string_lossy().contains("_manifest."))
        .expect("a manifest");
    let m: serde_json::Value = serde_json::from_slice(&w.open(manifest)).unwrap();
    let silent: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["silent_throughout"] == true)
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(silent.len(), 1, "{m}");
    assert!(silent[0].contains("participant-1"), "{m}");
    // Delivered all the same, and silent indeed.
    let track = delivered
        .iter()
        .find(|p| p.to_string_lossy().contains("participant-1"))
        .unwrap();
    assert_eq!(world::peak(&w.open(track), 0.0, length - 0.5), 0);
    // The finished journal remembers the warning, not whose track it was.
    let done: Vec<_> = fs::read_dir(w.path("state/done"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(done.len(), 1, "one finished journal");
    for e in done {
        let journal = fs::read_to_string(e.path()).unwrap();
        assert!(journal.contains("\"silent\": true"), "{journal}");
        assert!(
            !journal.contains("Ingrid"),
            "a name in the journal: {journal}"
        );
    }
}
