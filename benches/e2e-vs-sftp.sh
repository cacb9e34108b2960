#!/usr/bin/env bash
# End-to-end benchmark: `recpipe run` on a long recording (720p video with
# mixed audio, mixed audio, two participants) into a loopback OpenSSH sshd,
# against the floor a person scripting it by hand would hit in the same
# run: OpenSSH `sftp` putting the same output bytes and getting them back.
#
# Prints recpipe's wall time, the floor's, their ratio (goal <= 1.3),
# recpipe's peak memory (goal <= 100 MB whatever the recording's length),
# and each one's CPU time with how busy the machine's cores were meanwhile
# (the loopback sshd shares them).
#
# Usage: benches/e2e-vs-sftp.sh [--delay-ms N] [--rate MIBPS] [--profile DIR] [MINUTES]
#   (default 60 minutes, no delay, no cap; RECPIPE_BIN=path times that
#   recpipe binary instead of this tree's release build)
# --profile DIR: also prints where recpipe's time went, per stage (from the
# timestamps of its log) and per component (a second run of a copy of the
# recording under `perf record`, not timed); keeps the log and perf.data
# in DIR.
# With --delay-ms or --rate both recpipe and OpenSSH reach the sshd through
# ../shared/tools/delay-relay.py, which adds N ms each way (a round trip of
# 2N) and caps each direction at MIBPS, standing in for a real link. The
# goals of issue 17: <= 1.3 on loopback, <= 1.05 at 12 MiB/s (100 Mbit/s)
# with a 20 ms round trip, <= 1.3 at a 40 ms round trip unlimited.
# Needs ffmpeg, openssh-server, openssh-client, python3 (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
delay_ms=0
rate=""
profile=""
while [ $# -gt 0 ]; do
    case $1 in
        --delay-ms) delay_ms=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --profile) profile=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
        *) break ;;
    esac
done
minutes="${1:-60}"
secs=$((minutes * 60))
root="$(pwd)"
work="$(mktemp -d)"
sshd_pid=""
relay_pid=""
cleanup() {
    [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet
# RECPIPE_BIN: another build to time instead (e.g. one with a lever off).
bin="${RECPIPE_BIN:-${CARGO_TARGET_DIR:-target}/release/recpipe}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac

echo "making a ${minutes}-minute recording (720p) ..." >&2
rec="$work/zoom/2026-11-20 14.03.11 Bench"
mkdir -p "$rec/Audio Record"
aac=(-c:a aac -b:a 48k -ar 32000 -ac 1)
ffmpeg -v error -f lavfi -i "sine=frequency=300:sample_rate=32000:duration=$secs" "${aac[@]}" "$rec/audio1.m4a"
ffmpeg -v error -f lavfi -i "sine=frequency=440:sample_rate=32000:duration=$secs" "${aac[@]}" "$rec/Audio Record/audioA11.m4a"
ffmpeg -v error -f lavfi -i "sine=frequency=550:sample_rate=32000:duration=$secs" "${aac[@]}" "$rec/Audio Record/audioB21.m4a"
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=15:duration=$secs" -i "$rec/audio1.m4a" \
    -c:v libx264 -preset ultrafast -b:v 600k -g 150 -pix_fmt yuv420p -c:a copy "$rec/video1.mp4"
# One 30-second mark a sixth of the way in (minute 10 of an hour).
mark=$((secs / 6))
printf '+%02d:%02d:%02d - +%02d:%02d:%02d\n' $((mark / 3600)) $((mark / 60 % 60)) $((mark % 60)) \
    $(((mark + 30) / 3600)) $(((mark + 30) / 60 % 60)) $(((mark + 30) % 60)) > "$rec/recpipe-marks.txt"
touch -d '10 minutes ago' "$rec"/* "$rec/Audio Record"/* "$rec/Audio Record" "$rec"
du -sh "$rec" >&2
[ -n "$profile" ] && cp -a "$work/zoom" "$work/zoom-for-perf"

# A loopback sshd with its own keys.
mkdir "$work/sshd" "$work/remote"
scripts/loopback-sshd.sh "$work/sshd"
sshd_pid=$(cat "$work/sshd/pid")
port=$(cat "$work/sshd/port")
link="loopback"
if [ "$delay_ms" != 0 ] || [ -n "$rate" ]; then
    relay="$root/../shared/tools/delay-relay.py"
    [ -f "$relay" ] || { echo "e2e-vs-sftp.sh: $relay is missing" >&2; exit 2; }
    relay_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    args=(--listen "$relay_port" --to "$port" --delay-ms "$delay_ms")
    [ -n "$rate" ] && args+=(--rate "$rate")
    # Its stderr to a file: asyncio prints a traceback when it is stopped.
    python3 "$relay" "${args[@]}" > "$work/relay.out" 2> "$work/relay.err" &
    relay_pid=$!
    for _ in $(seq 100); do grep -q '^ready' "$work/relay.out" 2>/dev/null && break; sleep 0.1; done
    grep -q '^ready' "$work/relay.out" || { echo "e2e-vs-sftp.sh: the relay did not start" >&2; exit 1; }
    # The host key is the sshd's; known_hosts names it by the relay's port.
    sed -i "s/\[127.0.0.1\]:$port /[127.0.0.1]:$relay_port /" "$work/sshd/known_hosts"
    port=$relay_port
    link="relay: ${delay_ms} ms each way (round trip $((2 * delay_ms)) ms)${rate:+, ${rate} MiB/s each way}"
fi

"$bin" keygen -o "$work/project.identity" > /dev/null 2>&1
recipient=$("$bin" keygen -y "$work/project.identity")
cat > "$work/pipeline.toml" <<TOML
name = "bench"
classification = "red"
[source]
dir = "zoom"
settle = "1s"
[redact]
pad = "1s"
[keep]
tracks = ["video", "participant-audio", "mixed-audio"]
audio_format = "wav"
[seal]
recipients = ["$recipient"]
[destination]
kind = "sftp"
host = "127.0.0.1"
port = $port
user = "$(id -un)"
path = "$work/remote/up"
known_hosts = "$work/sshd/known_hosts"
identity_file = "$work/sshd/client_ed25519"
verify = "readback"
[cleanup]
interim = "delete"
TOML

measure() { # wall seconds, peak RSS (KiB), the command's CPU seconds, and
    # the share of the machine's CPU busy meanwhile (any process: the sshd too)
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
def ticks():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]
t = time.monotonic()
all0, idle0 = ticks()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t
all1, idle1 = ticks()
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode()); sys.exit(r.returncode)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
busy = 100 * (1 - (idle1 - idle0) / max(1, all1 - all0))
print(f"{wall:.2f} {u.ru_maxrss} {u.ru_utime + u.ru_stime:.2f} {busy:.0f}")
PY
}

sync
read -r rp_wall rp_rss rp_cpu rp_busy < <(measure "$bin" run --pipeline "$work/pipeline.toml" --state-dir "$work/state")

# The floor: the very bytes recpipe delivered, put and got back by OpenSSH sftp.
mkdir -p "$work/floor-src" "$work/remote/floor" "$work/floor-back"
cp "$work/remote/up"/* "$work/floor-src/"
{
    echo "cd $work/remote/floor"
    for f in "$work/floor-src"/*; do echo "put \"$f\""; done
    for f in "$work/floor-src"/*; do echo "get \"$(basename "$f")\" \"$work/floor-back/\""; done
} > "$work/batch"
sync
read -r fl_wall _ fl_cpu fl_busy < <(measure sftp -q -b "$work/batch" -i "$work/sshd/client_ed25519" -o UserKnownHostsFile="$work/sshd/known_hosts" -P "$port" "$(id -un)@127.0.0.1")
bytes=$(du -cb "$work/floor-src"/* | tail -1 | cut -f1)

echo "link: $link"
echo "recording: ${minutes} min; delivered $((bytes / 1048576)) MiB sealed in $(ls "$work/floor-src" | wc -l) files"
echo "recpipe run (check, redact, seal, upload, read back, delete): ${rp_wall} s, peak memory $((rp_rss / 1024)) MiB"
echo "floor (OpenSSH sftp put + get of the same bytes):            ${fl_wall} s"
echo "CPU: recpipe used ${rp_cpu} s, the machine's $(nproc) cores were ${rp_busy} % busy meanwhile (sshd included);"
echo "     sftp used ${fl_cpu} s, the cores were ${fl_busy} % busy meanwhile"
goal=1.3
[ -n "$rate" ] && goal=1.05
awk -v a="$rp_wall" -v b="$fl_wall" -v g="$goal" 'BEGIN { printf "ratio recpipe / floor: %.2f (goal <= %s)\n", a / b, g }'

[ -n "$profile" ] || exit 0
cp "$work/state/recpipe.log" "$profile/recpipe.log"
echo
echo "where recpipe's time went, by the timestamps of its log (the outputs are made and sent at once):"
python3 - "$work/state/recpipe.log" "$rp_wall" <<'PY'
import re, sys
from datetime import datetime
at = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+)\s+\w+\s+(started .*|step recorded .*step=(.*))$", line.strip())
    if m:
        key = m.group(3) or "started"
        at.setdefault(key, datetime.fromisoformat(m.group(1).replace("Z", "+00:00")))
spans = [(None, "started", "start, admit and check (every audio frame decoded)"),
         ("started", "outputs staged", "produce and seal every output (uploads run meanwhile)"),
         ("outputs staged", "outputs verified at the destination", "the uploads and read-backs still running after the last output was staged"),
         ("outputs verified at the destination", "interim copy cleaned up", "remove the interim copy"),
         ("interim copy cleaned up", "done", "the manifest: seal, upload, read back")]
total = float(sys.argv[2])
for a, b, what in spans:
    if b not in at or (a and a not in at):
        continue
    if a is None:
        secs = total - (at["done"] - at["started"]).total_seconds()
    else:
        secs = (at[b] - at[a]).total_seconds()
    print(f"  {secs:6.2f} s  {what}")
PY
rm -rf "$work/zoom" "$work/state"
mv "$work/zoom-for-perf" "$work/zoom"
sed -i "s|^path = \"$work/remote/up\"|path = \"$work/remote/perf\"|" "$work/pipeline.toml"
perf record -q -F 499 -g -o "$profile/perf.data" -- "$bin" run --pipeline "$work/pipeline.toml" --state-dir "$work/state" >/dev/null 2>&1
echo "recpipe's CPU by component (perf, one more run, all threads, self time):"
perf report -i "$profile/perf.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -6
perf report -i "$profile/perf.data" --no-children -g none --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -15
