#!/usr/bin/env bash
# Makes the sample Zoom recording in this folder from nothing: a scripted
# two-person interview spoken by espeak-ng, laid out the way a newer Zoom
# client writes a local recording (video with a burned-in clock, mixed
# audio, one audio file per participant in "Audio Record/", chat,
# playlist) plus a recpipe marks file that marks one passage for removal.
#
# Needs Debian's ffmpeg, espeak-ng and sox. The tests never run this; they
# use the files it made, which are committed. Everyone in it is fictional.
set -euo pipefail
cd "$(dirname "$0")"

START_LOCAL="2026-11-20 14:03:11"          # the folder name's time stamp
FOLDER="2026-11-20 14.03.11 Pilot interview"
ID=84213977051
RATE=32000                                   # Zoom's audio files are 32 kHz mono AAC
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Who says what, in order. A = interviewer, B = participant.
turns=(
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

voice_A="en-gb+m3"; voice_B="en-us+f3"
gap=1.0
a_parts=(); b_parts=(); t=2.0; marks_from=""; marks_to=""
sox -n -r 22050 -c 1 -b 16 "$work/lead.wav" trim 0 2.0
a_parts+=("$work/lead.wav"); b_parts+=("$work/lead.wav")
i=0
for turn in "${turns[@]}"; do
  who=${turn%%|*}; text=${turn#*|}
  voice_var="voice_$who"
  espeak-ng -v "${!voice_var}" -s 140 -w "$work/say$i.wav" "$text"
  sox "$work/say$i.wav" -r 22050 -c 1 -b 16 "$work/utt$i.wav" pad 0 "$gap"
  len=$(soxi -D "$work/utt$i.wav")
  sox -n -r 22050 -c 1 -b 16 "$work/quiet$i.wav" trim 0 "$len"
  if [ "$who" = A ]; then a_parts+=("$work/utt$i.wav"); b_parts+=("$work/quiet$i.wav")
  else a_parts+=("$work/quiet$i.wav"); b_parts+=("$work/utt$i.wav"); fi
  if [[ "$text" == *"Kari Jensen"* ]]; then marks_from=$t; marks_to=$(echo "$t + $len" | bc); fi
  t=$(echo "$t + $len" | bc)
  i=$((i + 1))
done
sox "${a_parts[@]}" "$work/a.wav"
sox "${b_parts[@]}" "$work/b.wav"
sox -m "$work/a.wav" "$work/b.wav" "$work/mix.wav"
total=$(soxi -D "$work/mix.wav")

rm -rf "$FOLDER"; mkdir -p "$FOLDER/Audio Record"
aac=(-c:a aac -b:a 32k -ar "$RATE" -ac 1)
ffmpeg -v error -y -i "$work/a.wav" "${aac[@]}" "$FOLDER/Audio Record/audioIngrid Haugen1$ID.m4a"
ffmpeg -v error -y -i "$work/b.wav" "${aac[@]}" "$FOLDER/Audio Record/audioOla Nordmann2$ID.m4a"
ffmpeg -v error -y -i "$work/mix.wav" "${aac[@]}" "$FOLDER/audio$ID.m4a"

# The clock Zoom burns in with "Add a timestamp to the recording": the
# folder's start time plus the time into the recording.
epoch=$(TZ=UTC date -d "$START_LOCAL" +%s)
clock="drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf:fontsize=14:fontcolor=white:box=1:boxcolor=black@0.6:x=w-tw-6:y=h-th-6:text='%{pts\\:gmtime\\:$epoch\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}'"
names="drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fontsize=16:fontcolor=white:x=20:y=20:text='Ingrid Haugen    |    Ola Nordmann'"
ffmpeg -v error -y -f lavfi -i "color=c=0x23395d:s=320x180:r=10:d=$total" -i "$work/mix.wav" \
  -vf "$names,$clock" -c:v libx264 -preset slow -crf 32 -g 50 -pix_fmt yuv420p \
  "${aac[@]}" -shortest -movflags +faststart "$FOLDER/video$ID.mp4"

printf '%s\n' "video$ID.mp4" "audio$ID.m4a" > "$FOLDER/playback$ID.m3u"
cat > "$FOLDER/chat.txt" <<CHAT
14:03:20 From Ingrid Haugen to Everyone:
	Welcome, and thank you for joining.
14:04:02 From Ola Nordmann to Everyone:
	Thanks, the sound is fine on my side.
CHAT

hms() { TZ=UTC date -d "$START_LOCAL UTC + $(printf '%.0f' "$1") seconds" +%H:%M:%S; }
cat > "$FOLDER/recpipe-marks.txt" <<MARKS
# Passages to remove before the recording leaves this PC.
# Wall-clock times as on the clock burned into the video.
$(hms "$(echo "$marks_from - 0.5" | bc)") - $(hms "$(echo "$marks_to + 0.5" | bc)")   a third party is named
MARKS

du -sh "$FOLDER"
echo "marked: $(cat "$FOLDER/recpipe-marks.txt" | tail -1)  (recording is ${total}s long)"
