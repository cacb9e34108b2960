#!/usr/bin/env bash
# Times `recpipe seal` / `recpipe decrypt` against `age -r` / `age -d` on
# the same file in the same run, and prints throughput and the ratio.
#
#   benches/seal-vs-age.sh [SIZE_MIB]      (default 1024)
#
# Two tables: CPU time (user + system) of each, and wall-clock time of
# what a person waits for when the file must be on disk: recpipe seal
# (which fsyncs before the file gets its name), `age -r` then `sync`, and
# `cat` then `sync`, the disk floor. The goals of issue 17 are printed
# beside their ratios: seal >= 1.0x age+sync, <= 1.2x the floor.
#
# Needs the release binary (built here if missing) and the `age` command
# (Debian package `age`; installed with apt-get when missing and root).
# Files are written to a temporary folder on the same disk as $TMPDIR and
# each run ends with the page cache warm, so this measures CPU, not disk.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib=${1:-1024}
target=${CARGO_TARGET_DIR:-target}
bin="$target/release/recpipe"
[ -x "$bin" ] || cargo build --release --bin recpipe >&2

if ! command -v age >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age >/dev/null
    else
        echo "seal-vs-age.sh: install the 'age' package first" >&2
        exit 2
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c "$((size_mib << 20))" /dev/urandom > "$work/plain"

"$bin" keygen -o "$work/rp.id" > "$work/rp.pub" 2>/dev/null
age-keygen -o "$work/age.id" 2>/dev/null
age_pub=$(age-keygen -y "$work/age.id")
mkdir "$work/out"

# Best of three times, in seconds, of a command that must succeed: CPU
# time (user + system), which other load on a shared machine disturbs
# less than wall-clock time; set MEASURE=wall for wall-clock time.
best() {
    local best_t="" t
    for _ in 1 2 3; do
        "$@" reset
        if [ "${MEASURE:-cpu}" = wall ]; then
            TIMEFORMAT='%R'
        else
            TIMEFORMAT='%U+%S'
        fi
        t=$( { time "$@" run >/dev/null; } 2>&1 | tail -1 | bc -l)
        if [ -z "$best_t" ] || [ "$(echo "$t < $best_t" | bc -l)" -eq 1 ]; then best_t=$t; fi
    done
    echo "$best_t"
}

rp_seal() { case $1 in reset) rm -f "$work/plain.sealed" ;; run) "$bin" seal -R "$work/rp.pub" "$work/plain" >/dev/null ;; esac; }
age_seal() { case $1 in reset) rm -f "$work/plain.age" ;; run) age -r "$age_pub" -o "$work/plain.age" "$work/plain" ;; esac; }
rp_open() { case $1 in reset) rm -f "$work/out/plain" ;; run) "$bin" decrypt -i "$work/rp.id" -o "$work/out" "$work/plain.sealed" >/dev/null ;; esac; }
# recpipe syncs every output to disk before giving it its name; this is
# age with the same sync, for a like-for-like comparison.
age_seal_sync() { case $1 in reset) rm -f "$work/plain.age" ;; run) age -r "$age_pub" -o "$work/plain.age" "$work/plain" && sync "$work/plain.age" ;; esac; }
age_open() { case $1 in reset) rm -f "$work/out/plain.age-out" ;; run) age -d -i "$work/age.id" -o "$work/out/plain.age-out" "$work/plain.age" ;; esac; }
sha() { case $1 in reset) ;; run) sha256sum "$work/plain" >/dev/null ;; esac; }
# The disk floor: the same bytes copied and synced, no work on them.
cat_sync() { case $1 in reset) rm -f "$work/copy" ;; run) cat "$work/plain" > "$work/copy" && sync "$work/copy" ;; esac; }

cat "$work/plain" > /dev/null
t_rp_seal=$(best rp_seal)
t_age_seal=$(best age_seal)
t_age_seal_sync=$(best age_seal_sync)
t_rp_open=$(best rp_open)
t_age_open=$(best age_open)
t_sha=$(best sha)
w_rp_seal=$(MEASURE=wall best rp_seal)
w_age_seal_sync=$(MEASURE=wall best age_seal_sync)
w_cat_sync=$(MEASURE=wall best cat_sync)
cmp -s "$work/plain" "$work/out/plain" || { echo "recpipe round trip differs" >&2; exit 1; }
cmp -s "$work/plain" "$work/out/plain.age-out" || { echo "age round trip differs" >&2; exit 1; }

rate() { echo "scale=0; $size_mib / $1" | bc -l; }
echo "file: $size_mib MiB, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${MEASURE:-cpu} time"
printf '%-34s %8.3f s %7s MiB/s\n' "recpipe seal (incl. 2x SHA-256)" "$t_rp_seal" "$(rate "$t_rp_seal")"
printf '%-34s %8.3f s %7s MiB/s\n' "age -r" "$t_age_seal" "$(rate "$t_age_seal")"
printf '%-34s %8.3f s %7s MiB/s\n' "age -r, then sync" "$t_age_seal_sync" "$(rate "$t_age_seal_sync")"
printf '%-34s %8.3f s %7s MiB/s\n' "recpipe decrypt" "$t_rp_open" "$(rate "$t_rp_open")"
printf '%-34s %8.3f s %7s MiB/s\n' "age -d" "$t_age_open" "$(rate "$t_age_open")"
printf '%-34s %8.3f s %7s MiB/s\n' "sha256sum (reference)" "$t_sha" "$(rate "$t_sha")"
echo "seal: age/recpipe time ratio $(echo "scale=2; $t_age_seal / $t_rp_seal" | bc -l) (>1: recpipe faster)"
echo "seal: (age+sync)/recpipe time ratio $(echo "scale=2; $t_age_seal_sync / $t_rp_seal" | bc -l)"
echo "open: age/recpipe time ratio $(echo "scale=2; $t_age_open / $t_rp_open" | bc -l) (>1: recpipe faster)"
echo
echo "wall time, output on disk:"
printf '%-34s %8.3f s %7s MiB/s\n' "recpipe seal (incl. fsync)" "$w_rp_seal" "$(rate "$w_rp_seal")"
printf '%-34s %8.3f s %7s MiB/s\n' "age -r, then sync" "$w_age_seal_sync" "$(rate "$w_age_seal_sync")"
printf '%-34s %8.3f s %7s MiB/s\n' "cat, then sync (disk floor)" "$w_cat_sync" "$(rate "$w_cat_sync")"
echo "seal vs age+sync: $(echo "scale=2; $w_age_seal_sync / $w_rp_seal" | bc -l)x age's speed (goal >= 1.0)"
echo "seal vs the floor: $(echo "scale=2; $w_rp_seal / $w_cat_sync" | bc -l)x the floor's time (goal <= 1.2)"
