//! Upload and read-back throughput of the SFTP destination against OpenSSH's
//! own `sftp` client, to the same loopback sshd, with the same file, in the
//! same run. `benches/upload-vs-sftp.sh` runs this and prints the ratios.
//!
//! A link: `RECPIPE_BENCH_DELAY_MS` (one way) and `RECPIPE_BENCH_RATE`
//! (MiB/s each way) route both tools through `../shared/tools/delay-relay.py`.
//!
//! Size: `RECPIPE_BENCH_MIB` (default 256). Each measurement includes
//! connecting and logging in, for both tools: a `recpipe` upload is
//! connect + `send` (upload to a partial, size check, rename); `sftp -b`
//! is connect + `put`. Read-back is connect + `verify` (read and SHA-256)
//! against connect + `get` to a local file. The paired rounds also run
//! recpipe with the sliding write buffer of `sftp::Levers` switched off,
//! so what it pays is measured in the same run.

// The test suite's sshd harness; the bench uses only part of it.
#[path = "../tests/it/util/sshd.rs"]
#[allow(dead_code)]
mod sshd;
// What the harness reports a test it cannot run with.
#[path = "../tests/it/util/skip.rs"]
#[allow(dead_code)]
mod skip;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use recpipe::config::VerifyMode;
use recpipe::destination::sftp::{Levers, SftpDestination, Target};
use recpipe::destination::{self, Expected, NoTerminal};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn size_mib() -> usize {
    std::env::var("RECPIPE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// A file of incompressible bytes, written in 1 MiB steps, and its hash.
fn make_file(path: &Path, mib: usize) -> Expected {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hasher = Sha256::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        hasher.update(&block);
        f.write_all(&block).unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
    Expected {
        len: (mib as u64) << 20,
        sha256: hasher.finalize().into(),
    }
}

/// `../shared/tools/delay-relay.py` in front of the sshd, stopped when
/// dropped.
struct Relay(std::process::Child);

impl Relay {
    /// Starts the relay when the environment asks for a link; returns it
    /// and the port both tools connect to.
    fn start(sshd_port: u16) -> (Option<Relay>, u16, String) {
        let delay = std::env::var("RECPIPE_BENCH_DELAY_MS").unwrap_or_else(|_| "0".into());
        let rate = std::env::var("RECPIPE_BENCH_RATE").ok();
        if delay == "0" && rate.is_none() {
            return (None, sshd_port, "loopback".into());
        }
        let relay = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/delay-relay.py");
        assert!(relay.is_file(), "{} is missing", relay.display());
        let port = sshd::free_port();
        let mut cmd = Command::new("python3");
        cmd.arg(&relay)
            .args([
                "--listen",
                &port.to_string(),
                "--to",
                &sshd_port.to_string(),
            ])
            .args(["--delay-ms", &delay]);
        if let Some(r) = &rate {
            cmd.args(["--rate", r]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("run delay-relay.py");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert!(line.starts_with("ready"), "the relay said {line:?}");
        let link = format!(
            "relay: {delay} ms each way{}",
            rate.map(|r| format!(", {r} MiB/s each way"))
                .unwrap_or_default()
        );
        (Some(Relay(child)), port, link)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Setup {
    sshd: sshd::Sshd,
    /// The port both tools connect to: the sshd's, or the relay's.
    port: u16,
    target: Target,
    local: PathBuf,
    expected: Expected,
}

impl Setup {
    fn remote(&self, name: &str) -> PathBuf {
        self.sshd.files.join(name)
    }

    /// Runs OpenSSH's sftp client with a batch of commands.
    fn sftp_batch(&self, batch: &str) {
        self.sftp_batch_with(batch, &[]);
    }

    fn sftp_batch_with(&self, batch: &str, extra: &[&str]) {
        let mut child = Command::new("sftp")
            .args(["-q", "-b", "-", "-P", &self.port.to_string()])
            .args(extra)
            .arg("-i")
            .arg(&self.sshd.client_key)
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.target.known_hosts.display()
            ))
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .arg(format!("{}@127.0.0.1", self.sshd.user))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run sftp");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(batch.as_bytes())
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "sftp batch failed: {batch}");
    }

    fn recpipe_upload(&self, name: &str) {
        self.recpipe_upload_with(name, Levers::default());
    }

    fn recpipe_upload_with(&self, name: &str, levers: Levers) {
        let mut d = SftpDestination::connect(&self.target, &NoTerminal).unwrap();
        d.set_levers(levers);
        destination::send(
            &mut d,
            &self.local,
            name,
            &self.expected,
            VerifyMode::Size,
            &mut |_| {},
        )
        .unwrap();
    }

    fn recpipe_readback(&self, name: &str) {
        self.recpipe_readback_with(name, Levers::default());
    }

    fn recpipe_readback_with(&self, name: &str, levers: Levers) {
        let mut d = SftpDestination::connect(&self.target, &NoTerminal).unwrap();
        d.set_levers(levers);
        destination::verify(&mut d, name, &self.expected, VerifyMode::Readback).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let mib = size_mib();
    let sshd = sshd::Sshd::start();
    let local_dir = tempfile::tempdir().unwrap();
    let local = local_dir.path().join("sealed.bin");
    let expected = make_file(&local, mib);
    let (_relay, port, link) = Relay::start(sshd.port);
    println!("link: {link}");
    // The host key is the sshd's, named by the port the tools connect to.
    let known_hosts = local_dir.path().join("known_hosts");
    std::fs::write(&known_hosts, sshd.known_hosts_line(port)).unwrap();
    let target = Target {
        host: "127.0.0.1".into(),
        port,
        user: sshd.user.clone(),
        path: sshd.files.display().to_string(),
        known_hosts,
        identity_file: Some(sshd.client_key.clone()),
        timeout: Duration::from_secs(120),
    };
    let s = Setup {
        sshd,
        port,
        target,
        local,
        expected,
    };

    let mut g = c.benchmark_group("upload");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(s.expected.len));

    g.bench_function("recpipe_put", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = std::fs::remove_file(s.remote("r.bin"));
                let t = Instant::now();
                s.recpipe_upload("r.bin");
                total += t.elapsed();
            }
            total
        })
    });
    g.bench_function("openssh_sftp_put", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let batch = format!(
                "put {} {}\n",
                s.local.display(),
                s.remote("o.bin").display()
            );
            for _ in 0..iters {
                let _ = std::fs::remove_file(s.remote("o.bin"));
                let t = Instant::now();
                s.sftp_batch(&batch);
                total += t.elapsed();
            }
            total
        })
    });

    // Read-back of the file recpipe uploaded, by both tools.
    s.recpipe_upload("v.bin");
    g.bench_function("recpipe_readback_verify", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                s.recpipe_readback("v.bin");
            }
            t.elapsed()
        })
    });
    let got = tempfile::tempdir().unwrap();
    let batch = format!(
        "get {} {}\n",
        s.remote("v.bin").display(),
        got.path().join("v.bin").display()
    );
    g.bench_function("openssh_sftp_get", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                s.sftp_batch(&batch);
            }
            t.elapsed()
        })
    });
    g.finish();
    paired(&s);
}

/// Wall-clock seconds, and CPU seconds (user + system) of this process and
/// of the children it waited for, from /proc/self/stat (Linux).
fn clocks() -> (Instant, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0.0))
                .collect()
        })
        .unwrap_or_default();
    // After "pid (comm)": utime, stime, cutime, cstime are fields 12..=15.
    let ticks: f64 = fields.get(11..15).map_or(0.0, |f| f.iter().sum());
    (Instant::now(), ticks / 100.0)
}

/// Runs `f`; returns its wall-clock and CPU seconds. recpipe's CPU is this
/// process's (all its threads); `sftp`'s is the child's, `ssh` included.
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let (t0, c0) = clocks();
    f();
    let (_, c1) = clocks();
    (t0.elapsed().as_secs_f64(), c1 - c0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// On a shared machine the load changes between criterion's benchmark
/// functions, which skews their ratios; here each round runs every tool
/// back to back, and the ratios are taken per round (medians printed as
/// `paired:` lines for the script). The client CPU-time ratios (above 1:
/// recpipe used less CPU) do not depend on how busy the machine is.
fn paired(s: &Setup) {
    let rounds: usize = std::env::var("RECPIPE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let put = format!(
        "put {} {}\n",
        s.local.display(),
        s.remote("o.bin").display()
    );
    let got = tempfile::tempdir().unwrap();
    let get = format!(
        "get {} {}\n",
        s.remote("v.bin").display(),
        got.path().join("v.bin").display()
    );
    let gcm = ["-c", "aes128-gcm@openssh.com"];
    let plain_write = Levers {
        sliding_write: false,
    };
    let (mut up, mut up_gcm, mut back, mut back_gcm) = (vec![], vec![], vec![], vec![]);
    let (mut up_cpu, mut back_cpu) = (vec![], vec![]);
    let mut up_lever = vec![];
    // Seconds per round: recpipe upload, sftp put, recpipe read-back, get.
    let (mut t_up, mut t_put, mut t_back, mut t_get) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        for f in ["r.bin", "p.bin", "o.bin"] {
            let _ = std::fs::remove_file(s.remote(f));
        }
        let r = timed(|| s.recpipe_upload("r.bin"));
        let p = timed(|| s.recpipe_upload_with("p.bin", plain_write));
        let o = timed(|| s.sftp_batch(&put));
        let _ = std::fs::remove_file(s.remote("o.bin"));
        let og = timed(|| s.sftp_batch_with(&put, &gcm));
        up.push(o.0 / r.0);
        up_gcm.push(og.0 / r.0);
        up_cpu.push(o.1 / r.1);
        up_lever.push(p.0 / r.0);
        t_up.push(r.0);
        t_put.push(o.0);
        let r = timed(|| s.recpipe_readback("v.bin"));
        let o = timed(|| s.sftp_batch(&get));
        let og = timed(|| s.sftp_batch_with(&get, &gcm));
        back.push(o.0 / r.0);
        back_gcm.push(og.0 / r.0);
        back_cpu.push(o.1 / r.1);
        t_back.push(r.0);
        t_get.push(o.0);
    }
    println!("paired: rounds {rounds}");
    let mib = s.expected.len as f64 / 1048576.0;
    println!(
        "paired: median MiB/s: recpipe upload {:.0}, sftp put {:.0}, recpipe read-back {:.0}, sftp get {:.0}",
        mib / median(t_up),
        mib / median(t_put),
        mib / median(t_back),
        mib / median(t_get)
    );
    println!(
        "paired: upload ratio vs sftp put (default cipher) {:.2}",
        median(up)
    );
    println!(
        "paired: upload ratio vs sftp put (-c aes128-gcm) {:.2}",
        median(up_gcm)
    );
    println!(
        "paired: read-back ratio vs sftp get (default cipher) {:.2}",
        median(back)
    );
    println!(
        "paired: read-back ratio vs sftp get (-c aes128-gcm) {:.2}",
        median(back_gcm)
    );
    println!(
        "paired: client CPU, sftp put / recpipe upload {:.2}",
        median(up_cpu)
    );
    println!(
        "paired: client CPU, sftp get / recpipe read-back {:.2}",
        median(back_cpu)
    );
    println!(
        "paired: lever sliding write, upload time without / with {:.2}",
        median(up_lever)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
