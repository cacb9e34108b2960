//! Pipeline files: the shipped ones load, every refusal names the file,
//! line and key, and each classification's policy holds.

use crate::util::{recpipe, stderr, stdout};
use recpipe::config::{
    AudioFormat, Classification, CleanupAfter, ConfigError, Destination, InterimAction, Pipeline,
    RedactMode, TrackKind, VerifyMode,
};
use std::path::Path;
use std::time::Duration;

const RED: &str = r#"name = "usn-red-tsd"
classification = "red"
[source]
dir = "/data/Zoom"
settle = "30s"
[redact]
marks = "recpipe-marks.txt"
mode = "silence"
pad = "1s"
[keep]
tracks = ["participant-audio", "mixed-audio"]
audio_format = "wav"
[seal]
recipients = ["recpipe188ja6x8khpnkg3a3nme2wm7ha3ezcrwgr3cm4szv9pzzs3mtgskq2rqglh"]
[destination]
kind = "sftp"
host = "tsd-fx01.tsd.usit.no"
port = 22
user = "p11-alice"
path = "/p11/data/durable/file-import/interviews"
known_hosts = "/home/a/.ssh/known_hosts"
verify = "readback"
[cleanup]
interim = "shred"
"#;

fn load(text: &str) -> Result<Pipeline, ConfigError> {
    Pipeline::from_toml(text, Path::new("/etc/recpipe/p.toml"))
}

/// The error text, which must start with `file:line: key 'k':`.
fn refused(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_issue_example_loads_with_every_value() {
    let p = load(RED).unwrap();
    assert_eq!(p.classification, Classification::Red);
    assert_eq!(p.source.settle.0, Duration::from_secs(30));
    assert_eq!(p.redact.mode, RedactMode::Silence);
    assert_eq!(p.redact.pad.0, Duration::from_secs(1));
    assert_eq!(
        p.keep.tracks,
        vec![TrackKind::ParticipantAudio, TrackKind::MixedAudio]
    );
    assert_eq!(p.keep.audio_format, AudioFormat::Wav);
    assert_eq!(p.cleanup.interim, InterimAction::Shred);
    assert_eq!(p.cleanup.after, CleanupAfter::Verified);
    match p.destination.unwrap() {
        Destination::Sftp {
            host,
            port,
            user,
            verify,
            identity_file,
            ..
        } => {
            assert_eq!(host, "tsd-fx01.tsd.usit.no");
            assert_eq!(port, 22);
            assert_eq!(user, "p11-alice");
            assert_eq!(verify, VerifyMode::Readback);
            assert_eq!(identity_file, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_keys_are_refused_with_file_line_and_key() {
    let text = RED.replace("pad = \"1s\"", "pad = \"1s\"\npadding = \"2s\"");
    let e = refused(&text);
    assert!(
        e.starts_with("/etc/recpipe/p.toml:10: key 'redact.padding':"),
        "{e}"
    );
}

#[test]
fn bad_values_are_refused_with_file_line_and_key() {
    let cases = [
        ("mode = \"silence\"", "mode = \"bleep\"", 8, "redact.mode"),
        ("settle = \"30s\"", "settle = \"30\"", 5, "source.settle"),
        (
            "interim = \"shred\"",
            "interim = \"burn\"",
            24,
            "cleanup.interim",
        ),
        ("port = 22", "port = 70000", 18, "destination.port"),
        (
            "verify = \"readback\"",
            "verify = \"hope\"",
            22,
            "destination.verify",
        ),
        (
            "\"mixed-audio\"]",
            "\"mixed-audio\", \"mixed-audio\"]",
            11,
            "keep.tracks",
        ),
        ("\"mixed-audio\"]", "\"screen\"]", 11, "keep.tracks"),
    ];
    for (from, to, line, key) in cases {
        let e = refused(&RED.replace(from, to));
        let want = format!("/etc/recpipe/p.toml:{line}: key '{key}': ");
        assert!(e.starts_with(&want), "{to}: want {want}, got {e}");
    }
}

#[test]
fn a_bad_element_of_a_multi_line_array_is_refused_with_its_own_line_and_the_array_key() {
    let text = RED.replace(
        "tracks = [\"participant-audio\", \"mixed-audio\"]",
        "tracks = [\n    \"participant-audio\",\n    # what we use\n    \"screen\",\n]",
    );
    let e = refused(&text);
    assert!(
        e.starts_with("/etc/recpipe/p.toml:14: key 'keep.tracks': "),
        "{e}"
    );
    // A key given as a dotted key at the top level is named in full too.
    let text = RED
        .replace("[cleanup]\ninterim = \"shred\"\n", "")
        .replacen("[source]", "cleanup.interim = \"burn\"\n[source]", 1);
    let e = refused(&text);
    assert!(
        e.starts_with("/etc/recpipe/p.toml:3: key 'cleanup.interim': "),
        "{e}"
    );
}

#[test]
fn red_and_yellow_must_be_sealed_sent_and_not_kept() {
    for class in ["red", "yellow"] {
        let text = RED.replace("\"red\"", &format!("\"{class}\""));
        let e = refused(&text.replace("[seal]\nrecipients = [\"recpipe188ja6x8khpnkg3a3nme2wm7ha3ezcrwgr3cm4szv9pzzs3mtgskq2rqglh\"]\n", ""));
        assert!(
            e.contains("key 'seal'") && e.contains("must be sealed"),
            "{e}"
        );
        let e = refused(&text.replace(
            "recipients = [\"recpipe188ja6x8khpnkg3a3nme2wm7ha3ezcrwgr3cm4szv9pzzs3mtgskq2rqglh\"]",
            "recipients = []",
        ));
        assert!(
            e.contains(":13: key 'seal'") && e.contains("recipients"),
            "{e}"
        );
        let cut = text.find("[destination]").unwrap();
        let end = text.find("[cleanup]").unwrap();
        let e = refused(&format!("{}{}", &text[..cut], &text[end..]));
        assert!(e.contains("key 'destination'"), "{e}");
        let e = refused(&text.replace("interim = \"shred\"", "interim = \"keep\""));
        assert!(
            e.contains(":24: key 'cleanup.interim'") && e.contains("must not be kept"),
            "{e}"
        );
    }
}

#[test]
fn red_refuses_chat_unless_allowed_by_name() {
    let text = RED.replace("\"mixed-audio\"]", "\"mixed-audio\", \"chat\"]");
    let e = refused(&text);
    assert!(e.contains("keep.tracks") && e.contains("chat"), "{e}");
    let allowed = text.replace(
        "audio_format = \"wav\"",
        "audio_format = \"wav\"\nallow_chat = true",
    );
    assert!(load(&allowed).unwrap().keep.keeps(TrackKind::Chat));
    // Yellow may keep chat.
    assert!(load(&text.replace("\"red\"", "\"yellow\"")).is_ok());
}

#[test]
fn green_may_keep_the_interim_copy_and_skip_sealing() {
    let text = "name = \"g\"\nclassification = \"green\"\n[keep]\ntracks = [\"video\"]\n[cleanup]\ninterim = \"keep\"\n";
    let p = load(text).unwrap();
    assert!(p.seal.is_none());
    assert_eq!(p.cleanup.interim, InterimAction::Keep);
    assert_eq!(p.redact.mode, RedactMode::Silence);
}

#[test]
fn after_sealed_needs_removal_and_a_seal() {
    let e = refused(
        &RED.replace(
            "interim = \"shred\"",
            "interim = \"shred\"\nafter = \"sealed\"",
        )
        .replace("classification = \"red\"", "classification = \"green\"")
        .replace("[seal]\nrecipients = [\"recpipe188ja6x8khpnkg3a3nme2wm7ha3ezcrwgr3cm4szv9pzzs3mtgskq2rqglh\"]\n", ""),
    );
    assert!(e.contains("cleanup.after") && e.contains("[seal]"), "{e}");
    assert!(
        load(&RED.replace(
            "interim = \"shred\"",
            "interim = \"delete\"\nafter = \"sealed\""
        ))
        .is_ok()
    );
}

#[test]
fn a_dir_destination_refuses_sftp_keys() {
    let text = "name = \"g\"\nclassification = \"green\"\n[keep]\ntracks = [\"video\"]\n[destination]\nkind = \"dir\"\npath = \"out\"\nhost = \"x\"\n";
    let e = refused(text);
    assert!(e.contains(":8: key 'destination.host'"), "{e}");
}

#[test]
fn relative_paths_are_relative_to_the_pipeline_file() {
    let text = "name = \"g\"\nclassification = \"green\"\n[source]\ndir = \"zoom\"\n[keep]\ntracks = [\"video\"]\n[destination]\nkind = \"dir\"\npath = \"../out\"\n";
    let p = load(text).unwrap();
    assert_eq!(p.source.dir, Path::new("/etc/recpipe/zoom"));
    match p.destination.unwrap() {
        Destination::Dir { path, .. } => assert_eq!(path, Path::new("/etc/recpipe/../out")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shipped_pipelines_pass_pipeline_check() {
    for name in ["usn-red-tsd", "usn-yellow-sftp", "demo-local"] {
        let file = format!("{}/pipelines/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let out = recpipe(&["pipeline", "check", &file]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains("valid."), "{}", stdout(&out));
    }
}

#[test]
fn pipeline_check_explains_a_refusal_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, RED.replace("mode = \"silence\"", "mode = \"bleep\"")).unwrap();
    let out = recpipe(&["pipeline", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.toml:8: key 'redact.mode'"), "{err}");
    assert!(err.contains("docs/pipeline-files.md"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

    /// Whatever a pipeline file holds, loading it answers with a pipeline
    /// or an error that starts with the file (and a line), never a panic.
    #[test]
    fn a_mangled_pipeline_file_is_loaded_or_refused_with_its_place(
        edits in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<char>(), 0u8..3),
            1..6,
        ),
    ) {
        let mut text: Vec<char> = RED.chars().collect();
        for (at, c, op) in edits {
            if text.is_empty() {
                break;
            }
            let i = at.index(text.len());
            match op {
                0 => text[i] = c,
                1 => {
                    text.remove(i);
                }
                _ => text.insert(i, c),
            }
        }
        let text: String = text.into_iter().collect();
        if let Err(e) = load(&text) {
            let shown = e.to_string();
            proptest::prop_assert!(shown.starts_with("/etc/recpipe/p.toml:"), "{}", shown);
        }
    }
}
