//! `recpipe init`: the guided setup, driven through a real pseudo-terminal
//! (tmux) as a person would answer it, for each destination kind, and the
//! scripted form (`--yes` and flags) IT uses. Each writes a pipeline that
//! `Pipeline::load` accepts with exactly the answers given.

#[cfg(unix)]
use crate::util::pane::Pane;
use crate::util::{recpipe, stderr, stdout};
use recpipe::config::{Classification, Destination, Pipeline, TrackKind};
use std::path::Path;
use std::process::Command;

/// A fresh project key pair; returns the recipient.
fn project_recipient(dir: &Path) -> String {
    let out = recpipe(&[
        "keygen",
        "-o",
        dir.join("project.identity").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn scripted_setup_with_yes_writes_a_valid_dir_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let recipient = project_recipient(tmp.path());
    let out_file = tmp.path().join("conf").join("pipeline.toml");
    let dest = tmp.path().join("sealed");
    let zoom = tmp.path().join("Zoom");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_recpipe"))
            .args([
                "init",
                "--yes",
                "--destination",
                "dir",
                "--tracks",
                "mixed-audio,video",
            ])
            .arg("--dir")
            .arg(&dest)
            .arg("--zoom-dir")
            .arg(&zoom)
            .args(["--recipient", &recipient, "--audio-format", "m4a"])
            .arg("--output")
            .arg(&out_file)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("valid."),
        "the pipeline check ran: {}",
        stdout(&out)
    );
    let p = Pipeline::load(&out_file).unwrap();
    assert_eq!(p.classification, Classification::Red);
    assert_eq!(p.source.dir, zoom);
    assert_eq!(p.keep.tracks, vec![TrackKind::MixedAudio, TrackKind::Video]);
    assert_eq!(recipient_texts(&p), vec![recipient.clone()]);
    assert!(matches!(p.destination, Some(Destination::Dir { ref path, .. }) if *path == dest));
    // A second run never replaces the file without --force.
    let before = std::fs::read(&out_file).unwrap();
    let again = run();
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(&out_file).unwrap(), before);
}

#[test]
fn without_a_terminal_or_yes_it_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .arg("init")
        .env("RECPIPE_CONFIG_DIR", tmp.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(!tmp.path().join("pipeline.toml").exists());
}

#[test]
fn red_data_without_a_recipient_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["init", "--yes", "--destination", "dir", "--dir", "/tmp/x"])
        .env("RECPIPE_CONFIG_DIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must be sealed"), "{}", stderr(&out));
    assert!(!tmp.path().join("pipeline.toml").exists());
}

#[cfg(unix)]
#[test]
fn guided_setup_at_a_terminal_for_a_folder_destination() {
    if !Pane::available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let recipient = project_recipient(tmp.path());
    let (conf, xdg, zoom, dest) = (
        tmp.path().join("conf"),
        tmp.path().join("xdg"),
        tmp.path().join("Zoom"),
        tmp.path().join("sealed"),
    );
    let pane = Pane::start(
        tmp.path(),
        &[
            ("RECPIPE_CONFIG_DIR", &conf),
            ("XDG_CONFIG_HOME", &xdg),
            ("HOME", tmp.path()),
        ],
        &["init"],
    );
    let s = pane.wait_for("Classification (green, yellow, red) [red]:");
    assert!(s.contains("All interview audio counts as red data"), "{s}");
    pane.answer("Classification (green, yellow, red) [red]:", "yellow");
    pane.answer("Zoom's recording folder [", zoom.to_str().unwrap());
    pane.answer(
        "Tracks, comma-separated [participant-audio,mixed-audio]:",
        "",
    );
    pane.answer("Audio as wav", "flac");
    pane.wait_for("answer wav or m4a");
    pane.answer("Audio as wav", "wav");
    pane.answer("Destination (sftp, tsd-api, dir) [sftp]:", "dir");
    pane.answer("Destination folder:", dest.to_str().unwrap());
    pane.answer("Recipient:", &recipient);
    pane.answer("(a TSD login, a problem)? [y]:", "n");
    pane.answer("(a scheduled task)? [n]:", "y");
    pane.answer("(it works in the background and notifies you)? [n]:", "y");
    let s = pane.wait_for("EXIT=");
    assert!(s.contains("EXIT=0"), "{s}");
    assert!(s.contains("valid."), "the pipeline check ran:\n{s}");
    let p = Pipeline::load(&conf.join("pipeline.toml")).unwrap();
    assert_eq!(p.classification, Classification::Yellow);
    assert_eq!(p.source.dir, zoom);
    assert_eq!(
        p.keep.tracks,
        vec![TrackKind::ParticipantAudio, TrackKind::MixedAudio]
    );
    assert!(matches!(p.destination, Some(Destination::Dir { ref path, .. }) if *path == dest));
    assert_eq!(recipient_texts(&p), vec![recipient]);
    let service = std::fs::read_to_string(xdg.join("systemd/user/recpipe.service")).unwrap();
    assert!(
        service.contains(&format!(
            "run --pipeline \"{}\"",
            conf.join("pipeline.toml").display()
        )),
        "{service}"
    );
    assert!(xdg.join("systemd/user/recpipe.timer").is_file());
    assert!(!p.notify.desktop, "notifications were turned off");
    let watch = std::fs::read_to_string(xdg.join("systemd/user/recpipe-watch.service")).unwrap();
    assert!(
        watch.contains(&format!(
            "watch --pipeline \"{}\"\n",
            conf.join("pipeline.toml").display()
        )),
        "{watch}"
    );
    assert!(watch.contains("WantedBy=default.target"), "{watch}");
}

#[cfg(unix)]
#[test]
fn guided_setup_at_a_terminal_for_sftp_trusts_the_host_after_comparing() {
    use crate::util::sshd::Sshd;
    if !Pane::available() {
        return;
    }
    let server = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let recipient = project_recipient(tmp.path());
    let recipient_file = tmp.path().join("p11.recipient");
    std::fs::write(
        &recipient_file,
        format!("# p11, made inside TSD\n{recipient}\n"),
    )
    .unwrap();
    let conf = tmp.path().join("conf");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let pane = Pane::start(
        tmp.path(),
        &[
            ("RECPIPE_CONFIG_DIR", &conf),
            ("HOME", &home),
            ("XDG_CONFIG_HOME", &home),
        ],
        &["init"],
    );
    pane.answer("Classification (green, yellow, red) [red]:", "");
    pane.answer("Zoom's recording folder [", "");
    pane.answer("Tracks, comma-separated", "participant-audio");
    pane.answer("Audio as wav", "m4a");
    pane.answer("Destination (sftp, tsd-api, dir) [sftp]:", "");
    pane.answer("TSD project number (such as p11):", "11");
    pane.wait_for("is not a TSD project number");
    pane.answer("TSD project number (such as p11):", "p11");
    pane.answer("Your user name in the project", "alice");
    pane.answer("SFTP host [tsd-fx01.tsd.usit.no]:", "127.0.0.1");
    pane.answer("SFTP port [22]:", &server.port.to_string());
    pane.answer(
        "Folder on the server [/p11/data/durable/file-import/interviews]:",
        "",
    );
    pane.answer("Recipient:", recipient_file.to_str().unwrap());
    pane.answer("(a TSD login, a problem)? [y]:", "");
    let s = pane.wait_for("server's administrators publish");
    assert!(s.contains("SHA256:"), "the fingerprint is shown:\n{s}");
    pane.answer(
        "server's administrators publish (TSD: on its web pages)? [n]:",
        "y",
    );
    pane.answer("(a scheduled task)? [n]:", "");
    pane.answer("(it works in the background and notifies you)? [n]:", "");
    let s = pane.wait_for("EXIT=");
    assert!(s.contains("EXIT=0"), "{s}");
    let p = Pipeline::load(&conf.join("pipeline.toml")).unwrap();
    assert_eq!(p.classification, Classification::Red);
    assert_eq!(p.keep.tracks, vec![TrackKind::ParticipantAudio]);
    match &p.destination {
        Some(Destination::Sftp {
            host,
            port,
            user,
            path,
            ..
        }) => {
            assert_eq!((host.as_str(), *port), ("127.0.0.1", server.port));
            assert_eq!(user, "p11-alice");
            assert_eq!(path, "/p11/data/durable/file-import/interviews");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(recipient_texts(&p), vec![recipient]);
    let known = std::fs::read_to_string(home.join(".ssh/known_hosts")).unwrap();
    let key = server.host_key.split_whitespace().nth(1).unwrap();
    assert!(
        known.contains(&format!("[127.0.0.1]:{}", server.port)) && known.contains(key),
        "{known}"
    );
    assert!(
        !home.join("systemd/user/recpipe.service").exists(),
        "no schedule was asked for"
    );
    assert!(p.notify.desktop, "notifications are on by default");
    assert!(!home.join("systemd/user/recpipe-watch.service").exists());
}

/// Issue 15: `init` writes a TSD file-API pipeline (an import link with a
/// secret here) that loads with exactly the answers given; a link that is
/// not one is refused before anything is written.
#[test]
fn scripted_setup_writes_a_tsd_api_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let recipient = project_recipient(tmp.path());
    let out_file = tmp.path().join("pipeline.toml");
    let key_file = tmp.path().join("tsd-api-key");
    let secret_file = tmp.path().join("link-secret");
    let link_id = "0a1b2c3d-0000-4000-8000-00000000abcd";
    let init = |link: &str| {
        Command::new(env!("CARGO_BIN_EXE_recpipe"))
            .args([
                "init",
                "--yes",
                "--destination",
                "tsd-api",
                "--project",
                "P11",
            ])
            .args([
                "--remote-path",
                "/interviews/2026/",
                "--tsd-auth",
                "import-link",
            ])
            .args(["--link", link])
            .arg("--secret-file")
            .arg(&secret_file)
            .arg("--api-key-file")
            .arg(&key_file)
            .args(["--recipient", &recipient])
            .arg("--zoom-dir")
            .arg(tmp.path().join("Zoom"))
            .arg("--output")
            .arg(&out_file)
            .output()
            .unwrap()
    };
    let bad = init("https://data.tsd.usit.no/c/not-a-link");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(!out_file.exists(), "nothing written for a bad link");

    let out = init(&format!("https://data.tsd.usit.no/c/{link_id}"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let p = Pipeline::load(&out_file).unwrap();
    assert_eq!(p.name, "red-p11-api");
    let Some(Destination::Tsd(t)) = &p.destination else {
        panic!("not a TSD destination: {:?}", p.destination);
    };
    assert_eq!(t.project, "p11");
    assert_eq!(t.group, "p11-member-group");
    assert_eq!(t.path, "interviews/2026");
    assert_eq!(t.api_key_file, key_file);
    assert_eq!(
        t.auth,
        recpipe::config::TsdAuth::ImportLink {
            link_id: link_id.into(),
            secret_file: Some(secret_file.clone()),
        }
    );
    assert_eq!(t.verify, recpipe::config::VerifyMode::ChunkMd5);
}

/// Issue 28: `--no-notify` turns the notifications off in the pipeline
/// file, and `--watch-at-login` writes the systemd user service that starts
/// `recpipe watch` at login with no terminal.
#[cfg(unix)]
#[test]
fn scripted_setup_can_start_watch_at_login_without_notifications() {
    let tmp = tempfile::tempdir().unwrap();
    let recipient = project_recipient(tmp.path());
    let out_file = tmp.path().join("conf").join("pipeline.toml");
    let xdg = tmp.path().join("xdg");
    let out = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["init", "--yes", "--destination", "dir", "--no-notify"])
        .arg("--watch-at-login")
        .arg("--dir")
        .arg(tmp.path().join("sealed"))
        .arg("--zoom-dir")
        .arg(tmp.path().join("Zoom"))
        .args(["--recipient", &recipient])
        .arg("--output")
        .arg(&out_file)
        .env("XDG_CONFIG_HOME", &xdg)
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let p = Pipeline::load(&out_file).unwrap();
    assert!(!p.notify.desktop);
    let unit = std::fs::read_to_string(xdg.join("systemd/user/recpipe-watch.service")).unwrap();
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_recpipe"));
    assert!(
        unit.contains(&format!(
            "ExecStart=\"{}\" watch --pipeline \"{}\"\n",
            exe.display(),
            out_file.display()
        )),
        "{unit}"
    );
    assert!(unit.contains("StandardInput=null\n"), "{unit}");
    assert!(unit.contains("WantedBy=default.target\n"), "{unit}");
    assert!(
        stderr(&out).contains("systemctl --user enable --now recpipe-watch.service"),
        "{}",
        stderr(&out)
    );
    // No scheduled run was asked for.
    assert!(!xdg.join("systemd/user/recpipe.timer").exists());
}

/// The recipients a written pipeline seals to, as text.
fn recipient_texts(p: &recpipe::config::Pipeline) -> Vec<String> {
    let seal = p.seal.as_ref().expect("a [seal] table");
    seal.all().map(ToString::to_string).collect()
}
