//! Test harness for the Windows build: TSD's file API that its TSD tests
//! talk to. The server is Python on the Linux side (the vendored real
//! server, with TSD's authentication emulated), so `scripts/test-windows.sh`
//! starts one before it runs the Windows tests (with
//! `scripts/loopback-tsd-api.sh`) and names its folder in
//! `RECPIPE_WINE_TSD` (a Linux path; Wine shows the Linux root as drive
//! `Z:`). Each [`SharedTsd`] uploads under a folder of its own below the
//! member group, so tests running at once never meet.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct SharedTsd {
    pub port: u16,
    /// The API key file (basic auth from 127.0.0.1), as Windows sees it.
    pub api_key_file: PathBuf,
    /// This test's folder under `p11-member-group`.
    pub path: String,
    /// Where this test's uploads land, as Windows sees it.
    pub landed: PathBuf,
    log: PathBuf,
}

impl SharedTsd {
    /// The server, as `TsdServer::start` gives one on Unix.
    pub fn start() -> Option<SharedTsd> {
        Some(SharedTsd::get())
    }

    /// This test's folder under the member group.
    pub fn base(&self) -> &str {
        &self.path
    }

    pub fn get() -> SharedTsd {
        let dir = std::env::var("RECPIPE_WINE_TSD").expect(
            "RECPIPE_WINE_TSD is not set: the Windows TSD tests need the file API \
             that scripts/test-windows.sh starts on the Linux side",
        );
        let on_windows = |rel: &str| PathBuf::from(format!("Z:{dir}/{rel}"));
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = format!(
            "t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let port = std::fs::read_to_string(on_windows("port"))
            .expect("the server's port file")
            .trim()
            .parse()
            .expect("a port number");
        SharedTsd {
            port,
            api_key_file: on_windows("api-key"),
            landed: on_windows(&format!("root/p11/import/p11-member-group/{path}")),
            path,
            log: on_windows("server.log"),
        }
    }

    /// The `[destination]` table of a pipeline sending here by basic auth.
    pub fn toml(&self) -> String {
        format!(
            "[destination]\nkind = \"tsd\"\nproject = \"p11\"\nurl = \"http://127.0.0.1:{}\"\npath = \"{}\"\nauth = \"basic\"\napi_key_file = '{}'\nchunk_size = 262144\n",
            self.port,
            self.path,
            self.api_key_file.display()
        )
    }

    /// The pipeline's view of this server: project p11, `path` (which
    /// should start with this test's [`SharedTsd::path`]) under the member
    /// group, `auth` as given.
    pub fn config(
        &self,
        path: &str,
        auth: recpipe::config::TsdAuth,
        chunk_size: u64,
    ) -> recpipe::config::Tsd {
        recpipe::config::Tsd {
            project: "p11".into(),
            url: format!("http://127.0.0.1:{}", self.port),
            group: "p11-member-group".into(),
            path: path.into(),
            auth,
            api_key_file: self.api_key_file.clone(),
            chunk_size,
            verify: recpipe::config::VerifyMode::ChunkMd5,
        }
    }

    /// The member group's folder, where `PATH/NAME` lands, seen from here.
    pub fn group_dir(&self) -> PathBuf {
        self.landed.parent().unwrap().to_path_buf()
    }

    /// The whole log, of every test of the run.
    pub fn full_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The end of the server's log (it serves every test of the run).
    pub fn log(&self) -> String {
        super::wine_sshd::tail(&self.log)
    }
}
