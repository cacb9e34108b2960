#!/usr/bin/env bash
# Redaction speed against ffmpeg, in one run: builds the criterion bench
# `benches/redact.rs` (which generates its inputs with ffmpeg and times
# recpipe and the equivalent ffmpeg commands side by side), runs it, and
# prints a table of median times and the recpipe/ffmpeg ratio per task.
#
#   benches/redact_vs_ffmpeg.sh            # 10-minute inputs
#   RECPIPE_BENCH_MINUTES=60 benches/redact_vs_ffmpeg.sh   # the issue's 1 hour
#
# Inputs are cached in $RECPIPE_BENCH_DIR (default: $TMPDIR/recpipe-bench);
# delete it to regenerate. Targets (issue 3): audio to WAV within 1.5x of
# ffmpeg; audio-only remux no slower than ffmpeg; keyframe cut at least
# 2x faster than ffmpeg's split + concat.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed" >&2; exit 1; }
minutes="${RECPIPE_BENCH_MINUTES:-10}"
export RECPIPE_BENCH_MINUTES="$minutes"
cargo bench --bench redact -- --noplot 2>&1 | tee /tmp/recpipe-bench.$$.log

target="${CARGO_TARGET_DIR:-target}/criterion"
echo
echo "median seconds, ${minutes}-minute inputs (criterion estimates in $target)"
printf '%-22s %10s %10s %8s\n' task recpipe ffmpeg ratio
for group in audio_wav audio_remux keyframe_cut; do
    dir="$target/${group}_${minutes}min"
    ours="$dir/recpipe/new/estimates.json"
    theirs=$(ls -d "$dir"/ffmpeg*/new/estimates.json 2>/dev/null | head -1)
    [ -f "$ours" ] && [ -n "$theirs" ] || { echo "$group: no estimates"; continue; }
    python3 - "$group" "$ours" "$theirs" <<'PY'
import json, sys
g, a, b = sys.argv[1:]
m = lambda p: json.load(open(p))["median"]["point_estimate"] / 1e9
x, y = m(a), m(b)
print(f"{g:<22} {x:10.3f} {y:10.3f} {x / y:8.2f}")
PY
done
grep -h "peak memory" /tmp/recpipe-bench.$$.log || true
rm -f /tmp/recpipe-bench.$$.log
