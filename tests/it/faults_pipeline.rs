//! Fault injection around whole runs (`recpipe run`, the real binary): a
//! file that cannot be removed, a file swapped for a copy after the check,
//! a crash at every durable step with `after = "sealed"`, an unreadable
//! folder in one recording, a journal that cannot be read, an input that
//! changes before anything was delivered. Each ends with the invariant:
//! every recording intact where it was, or verified where it went, and
//! nothing delivered that its marks did not allow (`check_delivery`
//! checks the marked passage is silent in every delivery).

use crate::util::world::{self, FOLDER, World, check_delivery, check_outputs};
use crate::util::{stderr, stdout};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VIDEO: &str = "video84213977051.mp4";
const MIXED: &str = "audio84213977051.m4a";

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join(FOLDER)
}

fn expect_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: {}{}",
        stdout(out),
        stderr(out)
    );
}

/// The journals `status --json` lists as unfinished.
fn unfinished(w: &World) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["status", "--json"])
        .env("RECPIPE_STATE_DIR", w.path("state"))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["unfinished"].as_array().unwrap().len()
}

/// A file that cannot be removed (immutable stands in for one held open
/// by another program) keeps its recording's journal open: the next run
/// retries it and never takes what is left for a new recording, so the
/// mixed audio is never delivered a second time without its marks.
#[cfg(target_os = "linux")]
#[test]
fn a_file_that_cannot_be_removed_keeps_its_recording_until_it_can() {
    let w = World::new(&World::dir_destination(), "");
    let mixed = w.recording().join(MIXED);
    let chattr = |flag: &str| {
        let ok = Command::new("chattr")
            .arg(flag)
            .arg(&mixed)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "chattr {flag} (needs root and a filesystem with attributes)"
        );
    };
    chattr("+i");
    let first = w.run();
    expect_exit(&first, 4, "the first run");
    let text = stderr(&first);
    assert!(
        text.contains("the mixed audio in the recording folder")
            && text.contains("could not be removed"),
        "the file is named by role and folder: {text}"
    );
    assert!(!text.contains("Pilot"), "{text}");
    check_outputs(&w, &w.delivered(&w.path("out")));
    assert_eq!(unfinished(&w), 1, "the recording keeps its journal");

    // The next run retries, and delivers nothing new.
    let second = w.run();
    expect_exit(&second, 4, "the second run");
    check_outputs(&w, &w.delivered(&w.path("out")));
    assert!(mixed.exists());

    // Once the file can go, the recording is finished.
    chattr("-i");
    let third = w.run();
    expect_exit(&third, 0, "the third run");
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists(), "the interim copy is gone");
    assert_eq!(unfinished(&w), 0);
}

/// A file replaced by a copy of itself (`cp -p`) after the check is not
/// the file that was checked: it is left, reported by role, and never
/// processed as a new recording, however often recpipe runs.
#[test]
fn a_file_replaced_after_the_check_is_left_and_never_delivered_again() {
    let w = World::new(&World::dir_destination(), "");
    let crashed = w.run_with_fault("verified");
    assert_ne!(crashed.status.code(), Some(0));
    let video = w.recording().join(VIDEO);
    let copy = w.recording().join("copy.tmp");
    fs::copy(&video, &copy).unwrap();
    let times = fs::metadata(&video).unwrap().modified().unwrap();
    fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(times)
        .unwrap();
    fs::rename(&copy, &video).unwrap();

    for run in ["the first run", "the second run"] {
        let out = w.run();
        expect_exit(&out, 4, run);
        let text = stderr(&out);
        assert!(
            text.contains("the video in the recording folder"),
            "{run}: {text}"
        );
        assert!(video.exists(), "{run}: the replaced file is kept");
        check_outputs(&w, &w.delivered(&w.path("out")));
    }
    // The person removes it: the recording is finished.
    fs::remove_file(&video).unwrap();
    expect_exit(&w.run(), 0, "after the person removed it");
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists());
}

/// Every sealed output staged for a recording, each checked to open.
fn staged_outputs(w: &World) -> usize {
    let Ok(dirs) = fs::read_dir(w.path("state/staged")) else {
        return 0;
    };
    let files: Vec<PathBuf> = dirs
        .flatten()
        .flat_map(|d| fs::read_dir(d.path()).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".sealed"))
        .filter(|p| !p.to_string_lossy().contains("_manifest."))
        .collect();
    for f in &files {
        w.open(f);
    }
    files.len()
}

/// With `after = "sealed"`: the interim copy is whole, or every output is
/// sealed and staged (or delivered), and opens.
fn check_sealed_invariant(w: &World, what: &str) {
    let whole = world::same_tree(&sample(), &w.recording());
    let delivered = w.delivered(&w.path("out"));
    for f in &delivered {
        w.open(f);
    }
    let outputs = delivered
        .iter()
        .filter(|p| !p.to_string_lossy().contains("_manifest."))
        .count();
    assert!(
        whole || outputs + staged_outputs(w) >= 4,
        "{what}: neither intact nor sealed and staged: delivered {delivered:?}"
    );
}

fn rerun_finishes_sealed(w: &World, what: &str) {
    check_sealed_invariant(w, what);
    expect_exit(&w.run(), 0, what);
    check_delivery(w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists(), "{what}: interim removed");
}

#[test]
fn after_sealed_a_crash_at_every_durable_step_is_finished_by_the_next_run() {
    let points = [
        "checked",
        "staged-output:1",
        "staged-output:4",
        "staged",
        "removing-interim",
        "uploaded-output:1",
        "uploaded-output:4",
        "verified",
        "cleaned-up",
        "done",
    ];
    for point in points {
        let w = World::new(&World::dir_destination(), "after = \"sealed\"");
        let crashed = w.run_with_fault(point);
        assert_ne!(crashed.status.code(), Some(0), "{point}: the hook stops it");
        rerun_finishes_sealed(&w, point);
    }
}

/// A crash in the middle of removing the interim copy (`after =
/// "sealed"`): one file already gone, one under shred's hidden name. The
/// rerun finishes the removal and the uploads, with no false "changed".
#[test]
fn after_sealed_a_crash_inside_the_removal_is_finished_by_the_next_run() {
    let w = World::new(&World::dir_destination(), "after = \"sealed\"");
    let crashed = w.run_with_fault("removing-interim");
    assert_ne!(crashed.status.code(), Some(0));
    fs::remove_file(w.recording().join(VIDEO)).unwrap();
    fs::rename(
        w.recording().join(MIXED),
        w.recording().join(".recpipe-shred-0123456789abcdef"),
    )
    .unwrap();
    rerun_finishes_sealed(&w, "mid-removal");
}

#[test]
fn after_sealed_a_kill_at_any_instant_is_finished_by_the_next_run() {
    world::kill_at_spread_instants("after = \"sealed\"", 4, rerun_finishes_sealed);
}

/// A second recording, the sample under another topic.
#[cfg(target_os = "linux")]
fn second_recording(w: &World) -> PathBuf {
    let dir = w.path("zoom").join("2026-11-20 14.03.11 Second interview");
    world::copy_dir(&sample(), &dir);
    dir
}

/// One recording's unreadable sub-folder is that recording's trouble: the
/// recording beside it is processed, the run says which needs a person,
/// and no topic reaches the output. root reads everything, so the run is
/// started without the capabilities that let it.
#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_folder_in_one_recording_does_not_stop_the_others() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new(&World::dir_destination(), "");
    let other = second_recording(&w);
    let locked = other.join("Audio Record");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let c = w.command();
    let out = Command::new("setpriv")
        .args([
            "--bounding-set",
            "-dac_override,-dac_read_search",
            "--inh-caps",
            "-all",
        ])
        .arg(c.get_program())
        .args(c.get_args())
        .env("RECPIPE_STATE_DIR", w.path("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    expect_exit(&out, 4, "one recording needs a person");
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists(), "the good recording is done");
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("cannot read"), "{text}");
    assert!(
        !text.contains("Second interview") && !text.contains("Pilot"),
        "{text}"
    );
    assert!(
        world::same_tree(&sample(), &other),
        "the unreadable recording is untouched"
    );
}

/// A journal that cannot be read is reported with what to do; the other
/// recordings are processed.
#[test]
fn a_journal_that_cannot_be_read_does_not_stop_the_others() {
    let w = World::new(&World::dir_destination(), "");
    fs::create_dir_all(w.path("state/journals")).unwrap();
    fs::write(
        w.path("state/journals/0123456789abcdef.json"),
        b"{\"version\":1,",
    )
    .unwrap();
    let out = w.run();
    expect_exit(&out, 1, "a journal cannot be read");
    assert!(stderr(&out).contains("move it aside"), "{}", stderr(&out));
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists());
    assert!(w.path("state/journals/0123456789abcdef.json").exists());
}

/// An input that changes after the check but before anything of it was
/// delivered: the journal is dropped and the folder checked afresh once
/// it has settled; what is delivered is made from the new files.
#[test]
fn an_input_changed_before_any_delivery_is_checked_afresh() {
    let w = World::new(&World::dir_destination(), "");
    let crashed = w.run_with_fault("checked");
    assert_ne!(crashed.status.code(), Some(0));
    let chat = w.recording().join("chat.txt");
    let mut text = fs::read_to_string(&chat).unwrap();
    text.push_str("14:05:00 From Ola : one more line\n");
    fs::write(&chat, &text).unwrap();
    let out = w.run();
    expect_exit(&out, 3, "the changed recording waits");
    assert!(stderr(&out).contains("checked again"), "{}", stderr(&out));
    assert!(w.delivered(&w.path("out")).is_empty());
    assert_eq!(unfinished(&w), 0, "its journal is dropped");
    expect_exit(&w.run(), 0, "checked afresh");
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists());
}

/// A full disk under the state folder while the outputs are sealed there
/// (the sealed bytes are written on a helper thread, so the error comes
/// back from it): the run stops and says so, the recording stays whole
/// where it was, and what was sent meanwhile (the quick outputs go first)
/// is as its marks allow; once space is freed, the next run delivers every
/// output and removes the interim copy.
#[cfg(target_os = "linux")]
#[test]
fn a_full_state_folder_while_sealing_stops_cleanly_and_a_rerun_delivers() {
    use crate::util::tmpfs::{Tmpfs, needs_root};
    if !needs_root("a_full_state_folder_while_sealing_…") {
        return;
    }
    let w = World::new(&World::dir_destination(), "");
    let state = Tmpfs::mount("2m");
    let run = || {
        w.command()
            .env("RECPIPE_STATE_DIR", &state.path)
            .output()
            .unwrap()
    };
    let out = run();
    expect_exit(&out, 4, "state folder full");
    let said = stderr(&out);
    assert!(
        said.contains("cannot write the output") && said.contains("No space left"),
        "{said}"
    );
    assert!(world::same_tree(&sample(), &w.recording()));
    let sent = w.delivered(&w.path("out"));
    assert!(sent.len() < 4, "{sent:?}");
    world::check_files(&w, &sent);

    state.resize("64m");
    expect_exit(&run(), 0, "space freed");
    check_delivery(&w, &w.delivered(&w.path("out")));
    assert!(!w.recording().exists());
}
