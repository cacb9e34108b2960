#!/usr/bin/env bash
# Reading Zoom's burned-in clock (src/clock) against ffmpeg decoding the
# same keyframes, in paired rounds of one run (issue 25, item 5).
#
#   benches/clock-vs-ffmpeg.sh [MINUTES] [--keyint SECONDS] [--rounds N]
#
# MINUTES (default 60) of 1280x720 H.264 High with B-frames at 25 fps:
# ffmpeg's moving `testsrc2` with the clock drawn at the bottom right the
# way the tests draw it (drawtext, DejaVu Sans 22, white on a 0.6 black
# box), keyframes every SECONDS (default 2), and a 10-minute pause in the
# middle: two parts drawn with clocks apart and joined, the jump falling
# between two keyframes (at half the length plus 7.32 s). Made once and
# cached under target/clock-bench/.
#
# Why 2 s: it is x264's and most converters' usual interval for 25 fps
# (`-g 50`), and it is the hard case for the goal: ffmpeg's work is
# keyframes only, recpipe's fixed costs (learning, the jump search) come
# on top, so the more keyframes per minute the closer the ratio gets to
# the decoders' per-keyframe cost alone. A long-GOP variant (`--keyint
# 10`) shows the other side: fewer keyframes, but a jump search over up
# to a whole GOP of frames.
#
# Each round runs, one after the other, `clock-bench FILE` (the release
# bench binary `benches/clock.rs`, calling `recpipe::clock::read` once)
# and `ffmpeg -skip_frame nokey -i FILE -f null -`, each under
# /usr/bin/time for wall time, CPU time and peak RSS. The bench fails
# unless recpipe's map starts at the clock drawn and has the one jump
# drawn, to the frame, so it cannot pass by reading nothing. The goal:
# recpipe ≤ 1.5× ffmpeg's wall time; the CPU-time ratio is printed too.
#
# Needs ffmpeg with libx264 and the DejaVu fonts. Prefix with `nice -n
# 10` on a shared machine; the load average is printed with the results.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=60
keyint=2
rounds=3
while [ $# -gt 0 ]; do
    case $1 in
        --keyint) keyint=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        [0-9]*) minutes=$1; shift ;;
        *) echo "usage: $0 [MINUTES] [--keyint SECONDS] [--rounds N]" >&2; exit 2 ;;
    esac
done
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed" >&2; exit 1; }
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
[ -f "$font" ] || { echo "$font is needed (fonts-dejavu-core)" >&2; exit 1; }

target=${CARGO_TARGET_DIR:-target}
cache="$target/clock-bench"
mkdir -p "$cache"
video="$cache/clock-${minutes}min-key${keyint}s.mp4"

# 2026-11-20 09:30:00 on the clock's calendar, as in tests/it/clock.rs.
epoch=1795167000
fps=25
# The first part ends 7.32 s after half-way (between two keyframes for
# any interval over 1 s that divides the half); the second part's clock
# starts 10 minutes of pause later.
part1=$(echo "$minutes * 30 + 7.32" | bc)
part2=$(echo "$minutes * 60 - $part1" | bc)
pause=600
epoch2=$(echo "$epoch + $part1 + $pause" | bc | cut -d. -f1)
# The clock of part 2 shows epoch2 + its pts (the whole second drawn).
jump_by=$(echo "$epoch2 - $epoch - $part1" | bc)

if [ ! -s "$video" ]; then
    echo "making $video (once; x264 takes a while)" >&2
    draw() {
        echo "drawtext=fontfile=$font:fontsize=22:fontcolor=white:box=1:boxcolor=black@0.6:x=w-tw-8:y=h-th-8:text='%{pts\\:gmtime\\:$1\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}'"
    }
    g=$((keyint * fps))
    ffmpeg -v error -y \
        -f lavfi -t "$part1" -i "testsrc2=s=1280x720:r=$fps" \
        -f lavfi -t "$part2" -i "testsrc2=s=1280x720:r=$fps" \
        -filter_complex "[0:v]$(draw $epoch),format=yuv420p[a];[1:v]$(draw "$epoch2"),format=yuv420p[b];[a][b]concat=n=2:v=1[out]" \
        -map '[out]' -c:v libx264 -profile:v high -bf 3 -g "$g" -keyint_min "$g" \
        -sc_threshold 0 -crf 30 -preset superfast "$video.part.mp4"
    mv "$video.part.mp4" "$video"
fi

echo "building the bench binary (release)" >&2
bin=$(cargo bench --bench clock --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "clock" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "the bench binary did not build" >&2; exit 1; }

keyframes=$(ffprobe -v error -select_streams v:0 -skip_frame nokey -count_frames \
    -show_entries stream=nb_read_frames -of csv=p=0 "$video")
expected_first=$(TZ=UTC date -d "@$epoch" +%Y-%m-%dT%H:%M:%S.000)
echo "$video: ${minutes} min, keyframes every ${keyint} s ($keyframes), pause of ${pause} s at ${part1} s (clock jumps by ${jump_by} s)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# measure OUT CMD...: runs CMD under /usr/bin/time; prints "wall cpu rss_mib".
measure() {
    local out=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$out.time" "$@" >"$out" 2>"$out.err" || {
        echo "failed: $*" >&2; cat "$out.err" >&2; exit 1
    }
    read -r wall user sys rss <"$out.time"
    echo "$wall $(echo "$user + $sys" | bc) $(echo "scale=1; $rss / 1024" | bc)"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-6s %10s %9s %9s %10s %9s %9s %7s %9s\n' round recpipe_s cpu_s rss_MiB ffmpeg_s cpu_s rss_MiB ratio cpu_ratio
ratios=()
cpu_ratios=()
for r in $(seq "$rounds"); do
    read -r rw rc rm < <(measure "$work/recpipe" "$bin" "$video")
    read -r fw fc fm < <(measure "$work/ffmpeg" ffmpeg -v error -skip_frame nokey -i "$video" -f null -)
    ratio=$(echo "scale=2; $rw / $fw" | bc)
    cpu_ratio=$(echo "scale=2; $rc / $fc" | bc)
    ratios+=("$ratio")
    cpu_ratios+=("$cpu_ratio")
    printf '%-6s %10s %9s %9s %10s %9s %9s %7s %9s\n' "$r" "$rw" "$rc" "$rm" "$fw" "$fc" "$fm" "$ratio" "$cpu_ratio"
    # The map must be the one drawn: first reading and the jump, to the frame.
    python3 - "$work/recpipe" "$expected_first" "$part1" "$jump_by" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
first, at, by = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
ok = (got.get("first") == first and len(got.get("jumps", [])) == 1
      and abs(got["jumps"][0]["at"] - at) < 0.02 and abs(got["jumps"][0]["by"] - by) < 0.02)
if not ok:
    sys.exit(f"wrong clock map: {got}, drawn: first {first}, jump at {at} by {by}")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "map read: $(cat "$work/recpipe")"
# summary NAME VALUES...: the median and range of the values.
summary() {
    local name=$1 sorted; shift
    sorted=$(printf '%s\n' "$@" | sort -n)
    echo "ratio recpipe/ffmpeg ($name): median $(echo "$sorted" | sed -n "$(((rounds + 1) / 2))p"), range $(echo "$sorted" | head -1)-$(echo "$sorted" | tail -1)"
}
summary wall "${ratios[@]}"
# CPU time is steadier than wall time on a busy machine; with both using
# every core, the wall ratio on an idle machine approaches it.
summary "CPU time" "${cpu_ratios[@]}"
echo "goal: wall ratio <= 1.5"
