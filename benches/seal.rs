//! Sealing and opening throughput, in memory.
//!
//! `seal` is the pipeline's path: AES-256-GCM STREAM plus SHA-256 of the
//! plaintext and of the sealed bytes, in one pass over the data (the sealed
//! bytes' hash on a helper thread, so on two cores). `open` decrypts and
//! authenticates (and hashes the plaintext). The goal is ≥ 2 GB/s each on a
//! CPU with AES-NI; `benches/seal-vs-age.sh` times the `age` command on the
//! same data in the same run for comparison.
//!
//! Size: `RECPIPE_BENCH_MIB` (default 256).

use aes_gcm::aead::array::Array;
use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recpipe::seal::{Identity, SEGMENT_SIZE, SealWriter, Unlock, decrypt};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::io::{self, Write};
use std::time::Duration;

fn size() -> usize {
    std::env::var("RECPIPE_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256usize)
        << 20
}

fn plaintext(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn bench(c: &mut Criterion) {
    let len = size();
    let plain = plaintext(len);
    let id = Identity::generate().expect("random identity");
    let recipients = [id.recipient()];

    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Bytes(len as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("seal_in_memory", |b| {
        b.iter(|| {
            let mut w = SealWriter::new(io::sink(), &recipients).expect("seal");
            // The pipeline writes in 128 KiB pieces.
            for chunk in plain.chunks(128 << 10) {
                w.write_all(chunk).expect("write");
            }
            black_box(w.finish().expect("finish").summary)
        })
    });

    let mut w =
        SealWriter::new(Vec::with_capacity(len + len / 1000 + 4096), &recipients).expect("seal");
    w.write_all(&plain).expect("write");
    let sealed = w.finish().expect("finish").writer;
    let ids = [id];
    group.bench_function("open_in_memory", |b| {
        b.iter(|| {
            black_box(
                decrypt(&sealed[..], Unlock::Identities(&ids), &mut io::sink()).expect("open"),
            )
        })
    });

    // The parts the two paths are made of, to read the figures above by:
    // seal ≈ AES-GCM + 2 × SHA-256, open ≈ AES-GCM + SHA-256.
    group.bench_function("part_sha256", |b| {
        b.iter(|| black_box(Sha256::digest(&plain)))
    });
    let aead = Aes256Gcm::new(&Array::from([7u8; 32]));
    let mut buf = Vec::with_capacity(SEGMENT_SIZE + 16);
    group.bench_function("part_aes256gcm", |b| {
        b.iter(|| {
            for seg in plain.chunks(SEGMENT_SIZE) {
                buf.clear();
                buf.extend_from_slice(seg);
                aead.encrypt_in_place(&Array::default(), &[], &mut buf)
                    .expect("encrypt");
            }
            black_box(&buf);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
