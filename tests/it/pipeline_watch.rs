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
        let child = Command::new(env!("CARGO_BIN_EXE_recpipe"))
            .args(["watch", "--rescan", "2s", "--pipeline"])
            .arg(w.path("pipeline.toml"))
            .env("RECPIPE_STATE_DIR", w.path("state"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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
        fs::read_to_string(&log).is_ok_and(|t| t.contains("could not run"))
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
