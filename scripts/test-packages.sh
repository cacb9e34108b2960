#!/usr/bin/env bash
# The package tests (the last step of scripts/test.sh): makes the three
# packages with scripts/dist.sh from the debug builds, then uses each the
# way its users will.
#
# - The static Linux binary (what a researcher imports into TSD): static
#   (`file`, `ldd`), `--version` names the version and commit, and, run with
#   an empty environment (no Rust, no cargo, nothing on PATH but /usr/bin and
#   /bin): `check` says the sample is complete; `keygen` makes a project key
#   as inside TSD; a red pipeline run seals the sample's outputs into a
#   folder destination as the PC would; `decrypt` opens every sealed file
#   there, and ffprobe reads the opened audio back. That is docs/tsd.md's
#   path, end to end.
# - The MSI: `msiinfo` shows the tables and rows the installer needs (files,
#   per-user folders, PATH entry, the three Start-menu shortcuts, the mark
#   hotkey); under Wine, in a fresh prefix, `msiexec /i … /qn` installs it
#   into %LOCALAPPDATA%\Programs\recpipe, on the user's PATH, with its
#   Start-menu entries; the installed recpipe.exe answers `--version` and
#   `check`s the sample; `msiexec /x … /qn` removes files, shortcuts and the
#   PATH entry again.
# - The .zip holds the same files as the MSI; every SHA256SUMS verifies.
#
# Reuses builds: the Windows recpipe.exe is the one the Windows tests built
# (`cargo test --no-run` for the targets they were built with,
# RECPIPE_TEST_TARGETS, is then a no-op);
# the musl binary is a debug build. Set RECPIPE_PACKAGE_PROFILE=release to
# test release packages instead.
set -euo pipefail
cd "$(dirname "$0")/.."

linux=x86_64-unknown-linux-musl
windows=x86_64-pc-windows-gnu
profile=${RECPIPE_PACKAGE_PROFILE:-debug}
started=$(date +%s)

fails=0
ok() { echo "  ok: $*"; }
bad() { echo "  FAILED: $*" >&2; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

need=()
command -v file >/dev/null 2>&1 || need+=(file)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v msiextract >/dev/null 2>&1 || need+=(msitools)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi

tmp=$(mktemp -d -t recpipe-packages.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "$profile" = debug ]; then
    echo "test-packages: building the debug binaries (Windows: reusing the test build)" >&2
    . scripts/test-build-env.sh
    cargo build --locked --target $linux --bin recpipe
    cargo test --locked ${RECPIPE_TEST_TARGETS:---target $windows} --no-run -q
    scripts/dist.sh --profile debug --no-build --out "$tmp/dist"
else
    scripts/dist.sh --profile "$profile" --out "$tmp/dist"
fi
dist=$tmp/dist
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
commit=$(git rev-parse --short=12 HEAD)
lname=recpipe-$version-$linux
wname=recpipe-$version-$windows
sample=$(pwd)/sample-data/"2026-11-20 14.03.11 Pilot interview"

echo "test-packages: SHA256SUMS" >&2
check "dist/SHA256SUMS verifies" bash -c "cd '$dist' && sha256sum --quiet -c SHA256SUMS"
check "dist/SHA256SUMS names the three packages" \
    test "$(awk '{print $2}' "$dist/SHA256SUMS" | LC_ALL=C sort | tr '\n' ' ')" = \
    "$(printf '%s\n' "$lname.tar.gz" "$wname.msi" "$wname.zip" | LC_ALL=C sort | tr '\n' ' ')"

echo "test-packages: the static Linux binary ($lname.tar.gz)" >&2
mkdir -p "$tmp/tsd"
tar -xzf "$dist/$lname.tar.gz" -C "$tmp/tsd"
pkg=$tmp/tsd/$lname
bin=$pkg/recpipe
check "the tarball's SHA256SUMS verifies" bash -c "cd '$pkg' && sha256sum --quiet -c SHA256SUMS"
for f in README.md docs/tsd.md docs/install.md pipelines/usn-red-tsd.toml LICENSES/THIRD-PARTY.md \
    LICENSES/openssl-LICENSE.txt LICENSES/libssh2-COPYING LICENSES/musl-COPYRIGHT \
    completions/recpipe.bash completions/_recpipe completions/recpipe.fish man/man1/recpipe.1 \
    man/man1/recpipe-decrypt.1; do
    check "the tarball holds $f" test -s "$pkg/$f"
done
check "file(1) says statically linked" bash -c "file -L '$bin' | grep -Eq 'static(ally|-pie) linked'"
check "ldd says it is not dynamic" bash -c "! ldd '$bin' 2>&1 | grep -q '=>'"
# As on a TSD machine: no Rust, no cargo, an empty environment.
bare() { env -i PATH=/usr/bin:/bin HOME="$tmp/tsd/home" LANG=C.UTF-8 "$@"; }
mkdir -p "$tmp/tsd/home"
v=$(bare "$bin" --version)
check "--version names version and commit ($v)" test "$v" = "recpipe $version (commit $commit)"
out=$(bare "$bin" check "$sample" 2>&1) && rc=0 || rc=$?
check "check on the sample exits 0" test "$rc" -eq 0
check "check on the sample says complete" grep -q "1 complete, 0 in progress, 0 broken" <<<"$out"

# The project's key pair, made where the data will be opened (inside TSD).
key=$tmp/tsd/home/project.identity
recipient=$(bare "$bin" keygen -o "$key" 2>/dev/null | grep -o 'recpipe1[0-9a-z]*' | head -n 1)
check "keygen printed a recipient" test -n "$recipient"
# The PC's side: a red pipeline sealing to that recipient into a folder.
mkdir -p "$tmp/pc/zoom" "$tmp/pc/import"
cp -r "$sample" "$tmp/pc/zoom/"
cat > "$tmp/pc/red.toml" <<EOF
name = "package-test"
classification = "red"
[source]
dir = "$tmp/pc/zoom"
settle = "0s"
[redact]
marks = "recpipe-marks.txt"
mode = "silence"
pad = "1s"
[keep]
tracks = ["participant-audio", "mixed-audio"]
audio_format = "wav"
[seal]
recipients = ["$recipient"]
[destination]
kind = "dir"
path = "$tmp/pc/import"
verify = "readback"
[cleanup]
interim = "shred"
after = "verified"
EOF
out=$(bare "$bin" run --pipeline "$tmp/pc/red.toml" --state-dir "$tmp/pc/state" 2>&1) && rc=0 || rc=$?
check "the red pipeline run exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || echo "$out" >&2
mapfile -t sealed < <(find "$tmp/pc/import" -type f -name '*.sealed' | sort)
check "the run delivered sealed files (${#sealed[@]})" test "${#sealed[@]}" -ge 3
check "nothing unsealed was delivered" test -z "$(find "$tmp/pc/import" -type f ! -name '*.sealed')"
check "the interim copy was shredded after the upload was verified" \
    test -z "$(find "$tmp/pc/zoom" -type f -name '*.m4a')"
# Inside TSD: open them.
mkdir -p "$tmp/tsd/opened" "$tmp/tsd/tampered"
out=$(bare "$bin" decrypt -i "$key" -o "$tmp/tsd/opened" "${sealed[@]}" 2>&1) && rc=0 || rc=$?
check "decrypt exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || echo "$out" >&2
mapfile -t wavs < <(find "$tmp/tsd/opened" -type f -name '*.wav' | sort)
check "decrypt opened the audio (${#wavs[@]} WAV files)" test "${#wavs[@]}" -ge 3
for w in "${wavs[@]}"; do
    d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$w" || echo 0)
    check "ffprobe reads $(basename "$w") (${d} s)" awk -v d="$d" 'BEGIN { exit !(d > 150 && d < 170) }'
done
# A tampered file opens to nothing.
if [ "${#sealed[@]}" -gt 0 ]; then
    cp "${sealed[0]}" "$tmp/tampered.sealed"
    printf 'x' | dd of="$tmp/tampered.sealed" bs=1 seek=5000 conv=notrunc status=none
    bare "$bin" decrypt -i "$key" -o "$tmp/tsd/tampered" "$tmp/tampered.sealed" >/dev/null 2>&1 && rc=0 || rc=$?
    check "a tampered file: decrypt exits 4 (broken)" test "$rc" -eq 4
    check "a tampered file: no output" test -z "$(find "$tmp/tsd/tampered" -type f 2>/dev/null)"
fi

echo "test-packages: the MSI ($wname.msi)" >&2
msi=$dist/$wname.msi
# msiinfo prints its tables with Windows line ends.
msiinfo() { command msiinfo "$@" | tr -d '\r'; }
export -f msiinfo
tables=$(msiinfo tables "$msi")
for t in File Component Directory Feature FeatureComponents Shortcut Environment Registry RemoveFile \
    InstallExecuteSequence Media Property; do
    check "msiinfo: table $t" grep -qx "$t" <<<"$tables"
done
check "msiinfo: installs into LocalAppDataFolder\\Programs\\recpipe" \
    bash -c "msiinfo export '$msi' Directory | grep -P '^INSTALLDIR\tProgramsDir\trecpipe\$' >/dev/null &&
             msiinfo export '$msi' Directory | grep -P '^ProgramsDir\tLocalAppDataFolder\tPrograms\$' >/dev/null"
check "msiinfo: per-user (ALLUSERS unset, no elevation asked)" \
    bash -c "! msiinfo export '$msi' Property | grep -q '^ALLUSERS' && msiinfo suminfo '$msi' | grep -q '^Source: 10 '"
shortcuts=$(msiinfo export "$msi" Shortcut)
check "msiinfo: Start-menu entry \"recpipe watch\"" grep -qP '^WatchShortcut\tMenuDir\trecpipe watch\t' <<<"$shortcuts"
check "msiinfo: \"recpipe mark\" with hotkey Ctrl+Alt+M, minimized" \
    grep -qP '^MarkShortcut\tMenuDir\trecpipe mark\t.*\t1613\t\t\t7\t' <<<"$shortcuts"
check "msiinfo: Start-menu entry \"recpipe init\"" grep -qP '^InitShortcut\tMenuDir\trecpipe init\t' <<<"$shortcuts"
check "msiinfo: the user's PATH gets the install folder" \
    bash -c "msiinfo export '$msi' Environment | grep -qF \$'=-PATH\t[~];[INSTALLDIR]\tPathEntry'"
check "msiinfo: the PATH actions are sequenced" \
    bash -c "msiinfo export '$msi' InstallExecuteSequence | grep -q WriteEnvironmentStrings &&
             msiinfo export '$msi' InstallExecuteSequence | grep -q RemoveEnvironmentStrings"
check "msiinfo: version $version" bash -c "msiinfo export '$msi' Property | grep -qP '^ProductVersion\t$version\$'"

echo "test-packages: the .zip holds the same files as the MSI" >&2
mkdir -p "$tmp/zip" "$tmp/msi"
(cd "$tmp/zip" && unzip -q "$dist/$wname.zip")
check "the zip's SHA256SUMS verifies" bash -c "cd '$tmp/zip/$wname' && sha256sum --quiet -c SHA256SUMS"
msiextract -C "$tmp/msi" "$msi" >/dev/null
msi_root=$(dirname "$(find "$tmp/msi" -name recpipe.exe | head -n 1)")
check "the MSI and the zip hold the same files, byte for byte" \
    diff -r "$tmp/zip/$wname" "$msi_root"

echo "test-packages: install, run and uninstall under Wine" >&2
export WINEPREFIX=$tmp/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wineboot -i >/dev/null 2>&1
wineserver -w
user=$(wine cmd /c 'echo %USERNAME%' 2>/dev/null | tr -d '\r')
home=$WINEPREFIX/drive_c/users/$user
installed=$home/AppData/Local/Programs/recpipe
menu="$home/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/recpipe"
winpath() { printf 'Z:%s' "${1//\//\\}"; }
wine msiexec /i "$(winpath "$msi")" /qn >/dev/null 2>&1 && rc=0 || rc=$?
wineserver -w
check "msiexec /i /qn exits 0" test "$rc" -eq 0
check "recpipe.exe is in %LOCALAPPDATA%\\Programs\\recpipe" test -f "$installed/recpipe.exe"
check "the docs and licences are installed" \
    test -f "$installed/docs/tsd.md" -a -f "$installed/LICENSES/openssl-LICENSE.txt"
for s in "recpipe watch" "recpipe mark" "recpipe init"; do
    check "Start menu: $s" test -f "$menu/$s.lnk"
done
user_path=$(wine reg query 'HKCU\Environment' /v PATH 2>/dev/null | tr -d '\r')
check "the user's PATH names the install folder" grep -qi 'AppData\\Local\\Programs\\recpipe' <<<"$user_path"
# Wine 8 lacks bcryptprimitives.dll, which Windows 10 and 11 have; the test
# gives this Wine what the real system has (windows/wine-runner.sh builds the
# same stand-in for the test executables). It is never in the package.
x86_64-w64-mingw32-gcc -O2 -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    windows/bcryptprimitives.c -ladvapi32
v=$(wine "$installed/recpipe.exe" --version 2>/dev/null | tr -d '\r')
check "the installed recpipe.exe --version ($v)" test "$v" = "recpipe $version (commit $commit)"
out=$(wine "$installed/recpipe.exe" check "$(winpath "$sample")" 2>&1 | tr -d '\r') && rc=0 || rc=$?
check "the installed recpipe.exe checks the sample: exit 0" test "$rc" -eq 0
check "the installed recpipe.exe checks the sample: complete" \
    grep -q "1 complete, 0 in progress, 0 broken" <<<"$out"
wine msiexec /x "$(winpath "$msi")" /qn >/dev/null 2>&1 && rc=0 || rc=$?
wineserver -w
check "msiexec /x /qn exits 0" test "$rc" -eq 0
check "uninstall removed the program folder" test ! -e "$installed"
check "uninstall removed the Start-menu entries" test ! -e "$menu"
user_path=$(wine reg query 'HKCU\Environment' /v PATH 2>/dev/null | tr -d '\r' || true)
check "uninstall removed the PATH entry" bash -c "! grep -qi 'Programs\\\\recpipe' <<<'$user_path'"
wineserver -k 2>/dev/null || true

echo "test-packages: $((fails)) failed, in $(($(date +%s) - started)) s" >&2
[ "$fails" -eq 0 ]
