#!/usr/bin/env bash
# recpipe's TSD file-API upload against TSD's own client, tacl (PyPI
# tsd-api-client, `tacl p11 --env dev --upload`), to the same local file-API
# server (the vendored real server, tests/it/util/tsd_server.py, on
# localhost:3003 where tacl's dev environment looks), the same sealed files,
# in the same run, both as resumable chunked uploads of 50 MB chunks
# (tacl's default chunk size; its resumable threshold is lowered so it
# chunks as recpipe does). Wall time includes each tool's start and login.
# Prints the throughput ratio recpipe / tacl (goal >= 1.0), and where the
# CPU went in each run: the client's own, and the server's (it shares the
# machine's cores, and what a client asks of it per chunk costs there).
#
# Usage: benches/tsd-vs-tacl.sh [MiB per file] [files]   (default 256 3)
set -euo pipefail
cd "$(dirname "$0")/.."
mib="${1:-256}"
count="${2:-3}"
python=$(scripts/test-venv.sh)
venv_bin=$(dirname "$python")

work=$(mktemp -d -t tsd-bench.XXXXXX)
cleanup() { [ -f "$work/tsd/pid" ] && kill "$(cat "$work/tsd/pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/tsd" "$work/files"
RECPIPE_TSD_UNSIGNED=1 scripts/loopback-tsd-api.sh "$work/tsd" 3003
key=$(cat "$work/tsd/api-key")

# "Sealed" files: random bytes are what sealed files look like.
for i in $(seq "$count"); do
    head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/files/f$i.sealed"
done
total=$((mib * count))

# The dev profile: dependencies are optimised there too (Cargo.toml). The
# test binary is run directly, so cargo's own start-up is not timed.
bin=$(cargo test --test it --no-run 2>&1 | grep -o 'target/[a-z]*/deps/it-[0-9a-f]*' | head -1)
server_pid=$(cat "$work/tsd/pid")
tck=$(getconf CLK_TCK)
server_cpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$server_pid/stat"; }
client_cpu() { awk '{ printf "%.2f", $1 + $2 }' "$work/time"; }

s0=$(server_cpu)
start=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$work/time" env RECPIPE_TSD_BENCH_URL=http://127.0.0.1:3003 RECPIPE_TSD_BENCH_KEY="$work/tsd/api-key" \
    RECPIPE_TSD_BENCH_DIR="$work/files" \
    "$bin" destination_tsd::bench_upload --ignored --exact --quiet >"$work/recpipe.log" 2>&1 \
    || { cat "$work/recpipe.log" >&2; exit 1; }
recpipe_s=$(echo "$(date +%s.%N) - $start" | bc)
recpipe_cpu=$(client_cpu)
s1=$(server_cpu)

export venv_bin key work
start=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$work/time" bash -c '
for f in "$work"/files/*; do
    "$venv_bin/tacl" p11 --env dev --basic --api-key "$key" --upload "$f" \
        --remote-path tacl --resumable-threshold 1mb >/dev/null
done'
tacl_s=$(echo "$(date +%s.%N) - $start" | bc)
tacl_cpu=$(client_cpu)
s2=$(server_cpu)

for f in "$work"/files/*; do
    n=$(basename "$f")
    for who in recpipe tacl; do
        cmp -s "$f" "$work/tsd/root/p11/import/p11-member-group/$who/$n" \
            || { echo "$who: $n did not land intact" >&2; exit 1; }
    done
done
awk -v t="$total" -v r="$recpipe_s" -v c="$tacl_s" -v rc="$recpipe_cpu" -v cc="$tacl_cpu" \
    -v rs="$(echo "$s1 - $s0" | bc)" -v cs="$(echo "$s2 - $s1" | bc)" -v n="$(nproc)" 'BEGIN {
    printf "%d MiB in all, loopback file API, %d cores\n", t, n
    printf "  recpipe  %6.1f s  %6.0f MiB/s   CPU: client %5.2f s, server %5.2f s\n", r, t / r, rc, rs
    printf "  tacl     %6.1f s  %6.0f MiB/s   CPU: client %5.2f s, server %5.2f s\n", c, t / c, cc, cs
    printf "ratio (recpipe / tacl throughput): %.2f\n", c / r
}'
