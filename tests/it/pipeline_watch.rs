//! `recpipe watch`: recordings that appear while it runs are processed
//! once each, only when they are complete and have settled.

use crate::util::world;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use world::{FOLDER, World, check_delivery};

/// A running `recpipe watch`, stopped when dropped.
struct Watch(Child);

impl Watch {
    fn start(w: &World) -> Watch {
        Watch::spawn(w, "2s", Stdio::null())
    }

    /// Rescanning every `rescan`, its stderr to `stderr`.
    fn spawn(w: &World, rescan: &str, stderr: Stdio) -> Watch {
        let child = Command::new(env!("CARGO_BIN_EXE_recpipe"))
            .args(["watch", "--rescan", rescan, "--pipeline"])
            .arg(w.path("pipeline.toml"))
            .env("RECPIPE_STATE_DIR", w.path("state"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        Watch(child)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Moves the sample recording out of the interim folder, to be copied in later.
fn take_out(w: &World) -> PathBuf {
    let aside = w.path("aside");
    fs::rename(w.recording(), &aside).unwrap();
    aside
}

/// Copies a folder in slowly: every file in four pieces, 300 ms apart.
fn copy_slowly(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_slowly(&e.path(), &target);
            continue;
        }
        let bytes = fs::read(e.path()).unwrap();
        let mut f = fs::File::create(&target).unwrap();
        for piece in bytes.chunks(bytes.len().div_ceil(4).max(1)) {
            f.write_all(piece).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[test]
fn a_recording_copied_in_slowly_is_processed_once_after_it_settles() {
    let w = World::with_settle(&World::dir_destination(), "", "2s");
    let aside = take_out(&w);
    let _watch = Watch::start(&w);
    std::thread::sleep(Duration::from_millis(500));
    copy_slowly(&aside, &w.recording());
    let out = w.path("out");
    wait_for("the delivery", Duration::from_secs(90), || {
        w.delivered(&out).len() == 5
    });
    check_delivery(&w, &w.delivered(&out));
    wait_for("the interim copy to go", Duration::from_secs(10), || {
        !w.recording().exists()
    });
    // Further passes send nothing again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(w.delivered(&out).len(), 5);
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        5,
        "no partial files left"
    );
}

#[test]
fn a_zoom_file_keeps_the_recording_waiting() {
    let w = World::with_settle(&World::dir_destination(), "", "1s");
    let converting = w.recording().join("double_click_to_convert_01.zoom");
    fs::write(&converting, b"zoom").unwrap();
    let _watch = Watch::start(&w);
    // Two passes of the watcher (its log says so) have seen the recording
    // and held it back.
    let log = w.path("state").join("recpipe.log");
    wait_for(
        "two passes that hold it back",
        Duration::from_secs(30),
        || fs::read_to_string(&log).is_ok_and(|t| t.matches("not processed").count() >= 2),
    );
    assert!(
        w.delivered(&w.path("out")).is_empty(),
        "nothing is sent while Zoom converts"
    );
    assert!(w.recording().join("video84213977051.mp4").exists());
    fs::remove_file(&converting).unwrap();
    wait_for("the delivery", Duration::from_secs(60), || {
        w.delivered(&w.path("out")).len() == 5
    });
}

#[test]
fn a_missing_folder_is_waited_for() {
    let w = World::with_settle(&World::dir_destination(), "", "1s");
    let aside = take_out(&w);
    let zoom = w.path("zoom");
    fs::remove_dir(&zoom).unwrap();
    let _watch = Watch::start(&w);
    std::thread::sleep(Duration::from_secs(1));
    world::copy_dir(&aside, &zoom.join(FOLDER));
    wait_for("the delivery", Duration::from_secs(60), || {
        w.delivered(&w.path("out")).len() == 5
    });
}

/// A pass that cannot run at all (here: the interim folder cannot be
/// read, for a watcher without root's capabilities) is reported and tried
/// again at the next rescan; watching goes on and delivers once it can.
#[cfg(target_os = "linux")]
#[test]
fn a_pass_that_cannot_run_is_tried_again_and_watching_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::with_settle(&World::dir_destination(), "", "1s");
    let zoom = w.path("zoom");
    fs::set_permissions(&zoom, fs::Permissions::from_mode(0o000)).unwrap();
    let log = w.path("watch.err");
    let child = Command::new("setpriv")
        .args([
            "--bounding-set",
            "-dac_override,-dac_read_search",
            "--inh-caps",
            "-all",
        ])
        .arg(env!("CARGO_BIN_EXE_recpipe"))
        .args(["watch", "--rescan", "2s", "--pipeline"])
        .arg(w.path("pipeline.toml"))
        .env("RECPIPE_STATE_DIR", w.path("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut watch = Watch(child);
    wait_for("a failed pass", Duration::from_secs(30), || {
        fs::read_to_string(&log).is_ok_and(|t| t.contains("could not be made"))
    });
    assert!(
        watch.0.try_wait().unwrap().is_none(),
        "watching goes on after a failed pass"
    );
    fs::set_permissions(&zoom, fs::Permissions::from_mode(0o755)).unwrap();
    wait_for("the delivery", Duration::from_secs(60), || {
        w.delivered(&w.path("out")).len() == 5
    });
    check_delivery(&w, &w.delivered(&w.path("out")));
}

/// A PC that sleeps, as the watch sees it: a wait that took far longer
/// than asked (here the process is stopped for 12 s). It then looks at the
/// folder at once, with no event and an hour before its next rescan, and
/// says so in plain words; a look that finds what the last one found does
/// not repeat the status line.
#[cfg(unix)]
#[test]
fn after_a_sleep_the_folder_is_looked_at_again_at_once() {
    let w = World::with_settle(&World::dir_destination(), "", "1s");
    fs::write(
        w.recording().join("double_click_to_convert_01.zoom"),
        b"zoom",
    )
    .unwrap();
    let err = w.path("watch.err");
    // Looking only when told (events) or after an hour.
    let watch = Watch::spawn(&w, "1h", fs::File::create(&err).unwrap().into());
    let log = w.path("state").join("recpipe.log");
    let looks = || {
        fs::read_to_string(&log)
            .map(|t| t.matches("not processed").count())
            .unwrap_or(0)
    };
    wait_for("the first look", Duration::from_secs(30), || looks() == 1);
    let pid = watch.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_secs(12));
    assert!(
        Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_for("a look after waking", Duration::from_secs(30), || {
        looks() == 2
    });
    let said = fs::read_to_string(&err).unwrap();
    assert_eq!(said.matches("(the PC slept?)").count(), 1, "{said}");
    // Watching starts over after the sleep.
    assert_eq!(said.matches("recpipe: watching ").count(), 2, "{said}");
    // Two looks found the same: the status line is shown once.
    assert_eq!(
        said.matches(
            "1 recording waits for Zoom to finish or for a login; watching for new recordings"
        )
        .count(),
        1,
        "{said}"
    );
    assert!(w.delivered(&w.path("out")).is_empty());
}

/// At the desk, a watch that needs a person's login (a TSD-like password
/// and one-time code) asks for Enter before it connects; the person comes
/// back after the server's login time and still logs in, and the
/// recording is delivered.
#[cfg(unix)]
#[test]
fn a_watch_asks_for_enter_before_a_login_that_needs_the_person() {
    use crate::util::{pane::Pane, sshd};
    if sshd::skip_without_pam("a watch's login at the desk") || !Pane::available() {
        return;
    }
    let s = sshd::Sshd::start_with(sshd::Options {
        pam: Some(sshd::PamLogin {
            password: "open sesame".into(),
            codes: vec!["12345678".into()],
        }),
        extra: vec!["LoginGraceTime 2".into()],
        ..Default::default()
    });
    let out = s.files.join("interviews");
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npath = \"{}\"\nknown_hosts = \"{}\"\nverify = \"readback\"\n",
        s.port,
        s.user,
        out.display(),
        s.known_hosts().display(),
    );
    let w = World::with_settle(&dest, "", "1s");
    let pipeline = w.path("pipeline.toml");
    let pane = Pane::start(
        w.root.path(),
        &[("RECPIPE_STATE_DIR", &w.path("state"))],
        &[
            "watch",
            "--rescan",
            "1h",
            "--pipeline",
            pipeline.to_str().unwrap(),
        ],
    );
    let screen = pane.wait_for("Log in: press Enter.");
    assert!(
        screen.contains(&format!("ready to go to {}@127.0.0.1", s.user)),
        "{screen}"
    );
    assert!(!screen.contains("Password"), "{screen}");
    std::thread::sleep(Duration::from_secs(3));
    pane.answer("Log in: press Enter.", "");
    pane.answer("Password", "open sesame");
    pane.answer("Verification code", "12345678");
    pane.wait_for("nothing to do; waiting for new recordings");
    check_delivery(&w, &w.delivered(&out));
}

/// Issue 28: a watch with no terminal (started at login) holds the state
/// folder's lock only during a pass, so a run (or a watch opened to log
/// in) can work between its passes instead of being turned away.
#[test]
fn a_watch_without_a_terminal_leaves_the_lock_free_between_passes() {
    let w = World::new(&World::dir_destination(), "[notify]\ndesktop = false\n");
    fs::write(
        w.recording().join("recpipe-marks.txt"),
        "16:00:00 - 16:00:05\n",
    )
    .unwrap();
    let log = w.path("state").join("recpipe.log");
    let _watch = Watch::spawn(&w, "1h", Stdio::null());
    wait_for("the watch's first pass", Duration::from_secs(60), || {
        fs::read_to_string(&log).is_ok_and(|l| l.contains("not processed"))
    });
    std::thread::sleep(Duration::from_millis(500));
    let out = w.run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("another recpipe run"), "{err}");
    assert_eq!(
        out.status.code(),
        Some(4),
        "the run made its own pass: {err}"
    );
}

/// Issue 28: a watch opened at a terminal (to log in) while another
/// recpipe holds the lock waits for it, says so, and then watches.
#[cfg(unix)]
#[test]
fn a_watch_at_a_terminal_waits_for_the_lock() {
    use crate::util::pane::Pane;
    if !Pane::available() {
        return;
    }
    let w = World::new(&World::dir_destination(), "[notify]\ndesktop = false\n");
    let state = recpipe::journal::StateDir::open(&w.path("state")).unwrap();
    let lock = state.lock().unwrap().expect("the lock is free");
    let pipeline = w.path("pipeline.toml");
    let pane = Pane::start(
        w.root.path(),
        &[("RECPIPE_STATE_DIR", &w.path("state"))],
        &[
            "watch",
            "--rescan",
            "1h",
            "--pipeline",
            pipeline.to_str().unwrap(),
        ],
    );
    pane.wait_for("this one starts when it is done");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !pane.screen().contains("watching"),
        "it went on without the lock:\n{}",
        pane.screen()
    );
    drop(lock);
    pane.wait_for("nothing to do; waiting for new recordings");
    check_delivery(&w, &w.delivered(&w.path("out")));
}
