//! `[destination] kind = "tsd"` in pipeline files: each key checked with
//! its line and key, each route explained by `recpipe pipeline check`, and
//! the shipped TSD templates valid. No server needed.

use recpipe::config::{self, VerifyMode};
use std::path::Path;

fn pipeline(destination: &str) -> Result<config::Pipeline, config::ConfigError> {
    let text = format!(
        "name = \"t\"\nclassification = \"red\"\n[keep]\ntracks = [\"mixed-audio\"]\n[seal]\nrecipients = [\"{}\"]\n{destination}\n",
        config::DEMO_RECIPIENT
    );
    config::Pipeline::from_toml(&text, Path::new("/etc/recpipe/p.toml"))
}

#[test]
fn the_tsd_keys_are_checked_and_explained() {
    let p = pipeline(
        "[destination]\nkind = \"tsd\"\nproject = \"p11\"\nauth = \"basic\"\napi_key_file = \"key\"\npath = \"/a/b/\"",
    )
    .unwrap();
    let Some(config::Destination::Tsd(t)) = &p.destination else {
        panic!("{:?}", p.destination)
    };
    assert_eq!(t.url, config::TSD_DEFAULT_URL);
    assert_eq!(t.group, "p11-member-group");
    assert_eq!(t.path, "a/b");
    assert_eq!(t.api_key_file, Path::new("/etc/recpipe/key"));
    assert_eq!(t.verify, VerifyMode::ChunkMd5);
    assert_eq!(t.chunk_size, config::TSD_DEFAULT_CHUNK_SIZE);
    let words = config::describe(&p).join("\n");
    assert!(words.contains("allow-listed"), "{words}");
    assert!(
        words.contains("/tsd/p11/data/durable/file-import/p11-member-group/a/b"),
        "{words}"
    );
    assert!(words.contains("MD5"), "{words}");

    let link = pipeline(
        "[destination]\nkind = \"tsd\"\nproject = \"p11\"\nauth = \"import-link\"\napi_key_file = \"key\"\nlink = \"https://data.tsd.usit.no/i/0A1B2C3D-0000-4000-8000-00000000ABCD\"",
    )
    .unwrap();
    let words = config::describe(&link).join("\n");
    assert!(
        words.contains("0a1b2c3d-0000-4000-8000-00000000abcd"),
        "{words}"
    );
    assert!(words.contains("project owner"), "{words}");
    let login = pipeline(
        "[destination]\nkind = \"tsd\"\nproject = \"p11\"\nauth = \"login\"\napi_key_file = \"key\"",
    )
    .unwrap();
    assert!(
        config::describe(&login)
            .join("\n")
            .contains("one-time code")
    );
}

#[test]
fn bad_tsd_keys_are_refused_with_line_and_key() {
    let base = "[destination]\nkind = \"tsd\"\nproject = \"p11\"\napi_key_file = \"key\"\n";
    for (extra, key, words) in [
        (
            "auth = \"basic\"\nurl = \"http://api.tsd.usit.no\"",
            "destination.url",
            "https://",
        ),
        (
            "auth = \"basic\"\nverify = \"readback\"",
            "destination.verify",
            "chunk-md5",
        ),
        (
            "auth = \"basic\"\napi_key = \"SECRET\"",
            "destination.api_key",
            "unknown field",
        ),
        ("auth = \"sso\"", "destination.auth", "basic"),
        (
            "auth = \"import-link\"",
            "destination.auth",
            "destination.link",
        ),
        (
            "auth = \"import-link\"\nlink = \"https://data.tsd.usit.no/c/0a1b2c3d-0000-4000-8000-00000000abcd\"",
            "destination.link",
            "secret_file",
        ),
        (
            "auth = \"basic\"\nlink = \"0a1b2c3d-0000-4000-8000-00000000abcd\"",
            "destination.link",
            "import-link",
        ),
        (
            "auth = \"basic\"\npath = \"a b\"",
            "destination.path",
            "importer",
        ),
        (
            "auth = \"basic\"\ngroup = \"p12-member-group\"",
            "destination.group",
            "p11",
        ),
        ("auth = \"basic\"\nhost = \"x\"", "destination.host", "sftp"),
        (
            "auth = \"basic\"\nchunk_size = 10",
            "destination.chunk_size",
            "65536",
        ),
    ] {
        let err = pipeline(&format!("{base}{extra}")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(key) && text.contains(words),
            "{extra}: {text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
    let err = pipeline("[destination]\nkind = \"tsd\"\nauth = \"basic\"\napi_key_file = \"k\"")
        .unwrap_err();
    assert!(err.to_string().contains("project"), "{err}");
    // TSD's keys are TSD's; chunk-md5 is TSD's verification.
    let err =
        pipeline("[destination]\nkind = \"dir\"\npath = \"out\"\nproject = \"p11\"").unwrap_err();
    assert!(err.to_string().contains("kind = \"tsd\""), "{err}");
    let err = pipeline("[destination]\nkind = \"dir\"\npath = \"out\"\nverify = \"chunk-md5\"")
        .unwrap_err();
    assert!(err.to_string().contains("tsd"), "{err}");
}

#[test]
fn the_shipped_tsd_templates_pass_pipeline_check() {
    for name in ["usn-red-tsd-api", "usn-red-tsd"] {
        let file = format!("{}/pipelines/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_recpipe"))
            .args(["pipeline", "check", &file])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("tsd") || text.contains("TSD"), "{text}");
    }
    let api = std::fs::read_to_string(format!(
        "{}/pipelines/usn-red-tsd.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert!(api.contains("recpipe trust-host tsd-fx01.tsd.usit.no"));
}
