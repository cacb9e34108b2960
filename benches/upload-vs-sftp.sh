#!/usr/bin/env bash
# recpipe's SFTP upload and read-back against OpenSSH's sftp client, same
# loopback sshd, same file, same run (benches/upload.rs does the timing,
# both tools included), then the ratios the issue asks for:
#   upload:    OpenSSH `sftp put` time / recpipe upload time    (goal >= 1.0)
#   read-back: OpenSSH `sftp get` time / recpipe verify time    (goal >= 1.0)
# A ratio above 1 means recpipe was faster. The paired rounds also time
# recpipe with its sliding write buffer switched off and print what it
# pays: the time without it over the time with it (above 1: it pays).
#
# Usage: benches/upload-vs-sftp.sh [--delay-ms N] [--rate MIBPS] [MiB]
#   (default 1024 MiB, i.e. 1 GiB; no delay, no cap)
# With --delay-ms or --rate both tools reach the sshd through
# ../shared/tools/delay-relay.py, which adds N ms each way (a round trip of
# 2N ms) and caps each direction at MIBPS MiB/s.
set -euo pipefail
cd "$(dirname "$0")/.."
delay_ms=0
rate=""
while [ $# -gt 0 ]; do
    case "$1" in
        --delay-ms) delay_ms=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        *) break ;;
    esac
done
mib="${1:-1024}"
target="${CARGO_TARGET_DIR:-target}"

env RECPIPE_BENCH_MIB="$mib" RECPIPE_BENCH_DELAY_MS="$delay_ms" ${rate:+RECPIPE_BENCH_RATE="$rate"} \
    cargo bench --bench upload | tee "$target/upload-bench.log"

mean_ns() { # criterion's mean point estimate, in ns
    sed -E 's/.*"mean":\{[^}]*\},"point_estimate":([0-9.e+]+).*/\1/' \
        "$target/criterion/upload/$1/new/estimates.json"
}
ratio() { awk -v a="$(mean_ns "$1")" -v b="$(mean_ns "$2")" 'BEGIN { printf "%.2f", a / b }'; }
mibps() { awk -v ns="$(mean_ns "$1")" -v m="$mib" 'BEGIN { printf "%.0f MiB/s", m / (ns / 1e9) }'; }

echo
echo "file: $mib MiB, $(grep -m1 '^link: ' "$target/upload-bench.log" | sed 's/^link: //') (connect + login included for both tools)"
printf '  recpipe upload        %s\n' "$(mibps recpipe_put)"
printf '  OpenSSH sftp put      %s\n' "$(mibps openssh_sftp_put)"
printf '  recpipe read-back     %s\n' "$(mibps recpipe_readback_verify)"
printf '  OpenSSH sftp get      %s\n' "$(mibps openssh_sftp_get)"
echo "upload ratio (recpipe / OpenSSH throughput):    $(ratio openssh_sftp_put recpipe_put)"
echo "read-back ratio (recpipe / OpenSSH throughput): $(ratio openssh_sftp_get recpipe_readback_verify)"
echo "the same, paired round by round (robust to a machine whose load changes):"
grep '^paired:' "$target/upload-bench.log" | sed 's/^paired: /  /'
