#!/usr/bin/env bash
# Makes the sample Zoom recordings in this folder from nothing: scripted
# two-person interviews spoken by espeak-ng, laid out the way a newer Zoom
# client writes a local recording (video with a burned-in clock, mixed
# audio, one audio file per participant in "Audio Record/", chat,
# playlist) plus a recpipe marks file that marks passages for removal.
#
#   make-sample.sh pilot       "2026-11-20 14.03.11 Pilot interview": one
#                              segment, one wall-clock mark.
#   make-sample.sh follow-up   "2026-11-27 10.00.05 Follow-up interview":
#                              the recording was stopped after a false
#                              start and restarted, so two segments
#                              (video1<n>.mp4, video2<n>.mp4, ...); marks in
#                              the segment syntax; and a signed consent
#                              form, a file recpipe does not know.
#   make-sample.sh all         both.
#
# Each run replaces that folder. ffmpeg's AAC and x264 output is not byte
# for byte the same across versions, so remake only the folder you change.
#
# Needs Debian's ffmpeg, espeak-ng and sox (apt-get install espeak-ng sox
# libsox-fmt-all ffmpeg). The tests never run this; they use the files it
# made, which are committed. Everyone in it is fictional.
set -euo pipefail
cd "$(dirname "$0")"

RATE=32000                                   # Zoom's audio files are 32 kHz mono AAC
aac=(-c:a aac -b:a 32k -ar "$RATE" -ac 1)
voice_A="en-gb+m3"; voice_B="en-us+f3"       # A = interviewer, B = participant
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# speak TAG PHRASE TURN...: speaks the turns ("A|text" or "B|text") after
# 2 s of quiet, 1 s after each, into $work/TAG-a.wav (A's track),
# TAG-b.wav (B's) and TAG-mix.wav. Sets `total` (seconds) and `named`,
# one "from to" (seconds) per turn that contains PHRASE.
speak() {
  local tag=$1 phrase=$2; shift 2
  local gap=1.0 t=2.0 i=0 who text voice_var len
  local a_parts=() b_parts=()
  named=()
  sox -n -r 22050 -c 1 -b 16 "$work/$tag-lead.wav" trim 0 2.0
  a_parts+=("$work/$tag-lead.wav"); b_parts+=("$work/$tag-lead.wav")
  for turn in "$@"; do
    who=${turn%%|*}; text=${turn#*|}
    voice_var="voice_$who"
    espeak-ng -v "${!voice_var}" -s 140 -w "$work/$tag-say$i.wav" "$text"
    sox "$work/$tag-say$i.wav" -r 22050 -c 1 -b 16 "$work/$tag-utt$i.wav" pad 0 "$gap"
    len=$(soxi -D "$work/$tag-utt$i.wav")
    sox -n -r 22050 -c 1 -b 16 "$work/$tag-quiet$i.wav" trim 0 "$len"
    if [ "$who" = A ]; then a_parts+=("$work/$tag-utt$i.wav"); b_parts+=("$work/$tag-quiet$i.wav")
    else a_parts+=("$work/$tag-quiet$i.wav"); b_parts+=("$work/$tag-utt$i.wav"); fi
    if [[ "$text" == *"$phrase"* ]]; then named+=("$t $(echo "$t + $len" | bc)"); fi
    t=$(echo "$t + $len" | bc)
    i=$((i + 1))
  done
  sox "${a_parts[@]}" "$work/$tag-a.wav"
  sox "${b_parts[@]}" "$work/$tag-b.wav"
  sox -m "$work/$tag-a.wav" "$work/$tag-b.wav" "$work/$tag-mix.wav"
  total=$(soxi -D "$work/$tag-mix.wav")
}

# to_aac WAV M4A: as Zoom writes audio.
to_aac() { ffmpeg -v error -y -i "$1" "${aac[@]}" "$2"; }

# video WAV START NAMES MP4: a 320x180 video of the names, with the clock
# Zoom burns in with "Add a timestamp to the recording" (START, local time
# "YYYY-MM-DD HH:MM:SS", plus the time into the file), and WAV's sound.
video() {
  local wav=$1 start=$2 names_text=$3 out=$4 epoch clock names len
  epoch=$(TZ=UTC date -d "$start" +%s)
  len=$(soxi -D "$wav")
  clock="drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf:fontsize=14:fontcolor=white:box=1:boxcolor=black@0.6:x=w-tw-6:y=h-th-6:text='%{pts\\:gmtime\\:$epoch\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}'"
  names="drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fontsize=16:fontcolor=white:x=20:y=20:text='$names_text'"
  ffmpeg -v error -y -f lavfi -i "color=c=0x23395d:s=320x180:r=10:d=$len" -i "$wav" \
    -vf "$names,$clock" -c:v libx264 -preset slow -crf 32 -g 50 -pix_fmt yuv420p \
    "${aac[@]}" -shortest -movflags +faststart "$out"
}

# hms START SECONDS: the clock's time SECONDS after START.
hms() { TZ=UTC date -d "$1 UTC + $(printf '%.0f' "$2") seconds" +%H:%M:%S; }
# offset SECONDS: "+HH:MM:SS", SECONDS rounded to whole seconds.
offset() { TZ=UTC date -d "@$(printf '%.0f' "$1")" ++%H:%M:%S; }
# widened FROM TO: the range half a second wider on each side.
lo() { echo "$1 - 0.5" | bc; }
hi() { echo "$1 + 0.5" | bc; }

pilot() {
  local START_LOCAL="2026-11-20 14:03:11"      # the folder name's time stamp
  local FOLDER="2026-11-20 14.03.11 Pilot interview"
  local ID=84213977051
  local turns=(
    "A|Thank you for taking part. This interview is recorded, and you can stop at any time. Could you start by telling me about your work?"
    "B|Of course. I have worked as a nurse at the municipal health service for about eleven years, mostly in home care."
    "A|What does a normal day look like for you?"
    "B|We start at seven with a short meeting, and then each of us drives to between eight and twelve patients. Most visits are short."
    "A|How has the use of digital tools changed that work?"
    "B|Quite a lot. We now document everything on a tablet, and the medicine lists come straight from the doctor's system."
    "A|Were there any difficulties when the tablets were introduced?"
    "B|Yes. My colleague, Kari Jensen from the night shift, refused to use them for months, and there was a conflict about it."
    "A|I see. We will leave the name out of the transcript. What helped people get used to the new system?"
    "B|Mostly time, and a few colleagues who were good at explaining. After half a year nobody wanted to go back to paper."
    "A|Is there anything you think the developers of such systems should know?"
    "B|That we often work in cars and in patients' homes, with poor coverage. The system must work offline."
    "A|How do you handle that today, when the connection drops?"
    "B|We write notes on paper and type them in later, which takes time at the end of the day and sometimes leads to mistakes."
    "A|Do the patients notice any of this?"
    "B|Some do. Older patients sometimes ask what we are typing, and a few worry about who can read their information."
    "A|What do you tell them?"
    "B|That only the people who treat them can read it, and that they can ask to see what is written about them."
    "A|Looking ahead, what would you most like to change about the way you work?"
    "B|More time with each patient. The tools are fine now, but the schedule is too tight, and that is what people feel."
    "A|That is very helpful. Thank you for your time. I will stop the recording now."
  )
  speak pilot "Kari Jensen" "${turns[@]}"
  local from to; read -r from to <<<"${named[0]}"

  rm -rf "$FOLDER"; mkdir -p "$FOLDER/Audio Record"
  to_aac "$work/pilot-a.wav" "$FOLDER/Audio Record/audioIngrid Haugen1$ID.m4a"
  to_aac "$work/pilot-b.wav" "$FOLDER/Audio Record/audioOla Nordmann2$ID.m4a"
  to_aac "$work/pilot-mix.wav" "$FOLDER/audio$ID.m4a"
  video "$work/pilot-mix.wav" "$START_LOCAL" "Ingrid Haugen    |    Ola Nordmann" "$FOLDER/video$ID.mp4"

  printf '%s\n' "video$ID.mp4" "audio$ID.m4a" > "$FOLDER/playback$ID.m3u"
  cat > "$FOLDER/chat.txt" <<CHAT
14:03:20 From Ingrid Haugen to Everyone:
	Welcome, and thank you for joining.
14:04:02 From Ola Nordmann to Everyone:
	Thanks, the sound is fine on my side.
CHAT

  cat > "$FOLDER/recpipe-marks.txt" <<MARKS
# Passages to remove before the recording leaves this PC.
# Wall-clock times as on the clock burned into the video.
$(hms "$START_LOCAL" "$(lo "$from")") - $(hms "$START_LOCAL" "$(hi "$to")")   a third party is named
MARKS

  du -sh "$FOLDER"
  echo "marked: $(tail -1 "$FOLDER/recpipe-marks.txt")  (recording is ${total}s long)"
}

# consent_pdf FILE: a one-page PDF 1.4 (fictional signed consent form),
# with a correct cross-reference table.
consent_pdf() {
  local out=$1 body offsets=() obj
  local stream="BT /F1 14 Tf 50 780 Td (Consent to take part in a research interview) Tj
/F1 10 Tf 0 -28 Td (Project: Digital tools in home care. Follow-up interview, 27 November 2026.) Tj
0 -16 Td (I have read the information letter and agree that the interview is recorded.) Tj
0 -16 Td (I know that I can withdraw at any time without giving a reason.) Tj
0 -28 Td (Signed: Ola Nordmann \\(fictional sample data\\)) Tj ET"
  local objs=(
    "<< /Type /Catalog /Pages 2 0 R >>"
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
    "<< /Length ${#stream} >>
stream
$stream
endstream"
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
  )
  body=$'%PDF-1.4\n'
  for i in "${!objs[@]}"; do
    offsets+=("${#body}")
    obj="$((i + 1)) 0 obj
${objs[$i]}
endobj
"
    body+=$obj
  done
  local xref=${#body}
  body+="xref
0 $(( ${#objs[@]} + 1 ))
0000000000 65535 f "$'\n'
  for o in "${offsets[@]}"; do body+="$(printf '%010d' "$o") 00000 n "$'\n'; done
  body+="trailer
<< /Size $(( ${#objs[@]} + 1 )) /Root 1 0 R >>
startxref
$xref
%%EOF
"
  LC_ALL=C printf '%s' "$body" > "$out"
}

follow_up() {
  local START_LOCAL="2026-11-27 10:00:05"      # the folder name's time stamp
  local FOLDER="2026-11-27 10.00.05 Follow-up interview"
  local ID=87329014462
  # Zoom's clock when the recording was started again (after the false
  # start ended and a short wait): written into the marks file as
  # `segment 2 starts`.
  local START2="2026-11-27 10:01:12"
  local false_start=(
    "A|Hello again, and thank you for joining this follow-up interview. Can you hear me?"
    "B|Sorry, your voice keeps breaking up. Could you try again?"
    "A|Let me stop the recording and start it again."
  )
  local interview=(
    "A|The recording is on again. Last time you told me about the tablets. Has anything changed since then?"
    "B|Yes. We got a new version in the autumn, and it works offline now, which helps a lot in the cars."
    "A|Who decided to make that change?"
    "B|Our team leader, Per Olsen, pushed for it after a long winter of complaints."
    "A|Thank you. We will leave the name out. How did your colleagues react?"
    "B|Most were relieved. Some still write notes on paper first, out of habit."
    "A|Is there anything you would still like to change?"
    "B|The schedule. As Per Olsen says at every meeting, the tools are not the problem any more."
    "A|That is a good place to stop. Thank you again for your time."
  )
  speak s1 "Per Olsen" "${false_start[@]}"
  local total1=$total
  speak s2 "Per Olsen" "${interview[@]}"
  local f1 t1 f2 t2; read -r f1 t1 <<<"${named[0]}"; read -r f2 t2 <<<"${named[1]}"
  local end1; end1=$(hms "$START_LOCAL" "$total1")
  [[ "$end1" < "${START2#* }" ]] || { echo "segment 2 starts before segment 1 ends ($end1)" >&2; exit 1; }

  rm -rf "$FOLDER"; mkdir -p "$FOLDER/Audio Record"
  local s start
  for s in 1 2; do
    if [ "$s" = 1 ]; then start=$START_LOCAL; else start=$START2; fi
    # Newer clients write one file per participant and segment, the name
    # without spaces and the segment's digit before the folder's number.
    to_aac "$work/s$s-a.wav" "$FOLDER/Audio Record/audioIngridHaugen$s$ID.m4a"
    to_aac "$work/s$s-b.wav" "$FOLDER/Audio Record/audioOlaNordmann$s$ID.m4a"
    to_aac "$work/s$s-mix.wav" "$FOLDER/audio$s$ID.m4a"
    video "$work/s$s-mix.wav" "$start" "Ingrid Haugen    |    Ola Nordmann" "$FOLDER/video$s$ID.mp4"
  done
  printf '%s\n' "video1$ID.mp4" "audio1$ID.m4a" "video2$ID.mp4" "audio2$ID.m4a" > "$FOLDER/playback$ID.m3u"
  cat > "$FOLDER/chat.txt" <<CHAT
10:00:12 From Ola Nordmann to Everyone:
	The sound is breaking up on my side, sorry.
10:00:40 From Ingrid Haugen to Everyone:
	I will restart the recording, one moment.
CHAT
  consent_pdf "$FOLDER/Consent form - signed.pdf"

  cat > "$FOLDER/recpipe-marks.txt" <<MARKS
# Passages to remove before the recording leaves this PC.
# The recording was stopped after a false start and started again; this
# is Zoom's clock when segment 2 began.
segment 2 starts ${START2#* }
# Wall-clock time as on the clock burned into video2: in segment 2.
$(hms "$START2" "$(lo "$f1")") - $(hms "$START2" "$(hi "$t1")")   a third party is named
# Offset into segment 2.
2 $(offset "$(lo "$f2")") - $(offset "$(hi "$t2")")   the same third party is named again
MARKS

  du -sh "$FOLDER"
  echo "segment 1: ${total1}s, ends $end1; segment 2: ${total}s from ${START2#* }"
  grep -v '^#' "$FOLDER/recpipe-marks.txt" | sed 's/^/marks: /'
}

case "${1:-}" in
  pilot) pilot ;;
  follow-up) follow_up ;;
  all) pilot; follow_up ;;
  *) echo "usage: $0 pilot|follow-up|all" >&2; exit 2 ;;
esac
