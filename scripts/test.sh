#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with only Rust installed.
#
# 1. Installs what the tests need when it is missing, in one apt run: the
#    media oracle (ffmpeg/ffprobe), OpenSSH's sshd and clients, the C
#    toolchains of the two shipped builds (musl-tools; MinGW-w64), Wine,
#    the tools that read packages (msitools, wixl, file, unzip, zip), and
#    what TSD's file API and the terminal and picture tests need.
# 2. Formatting.
# 3. One build of the tests for both shipped targets, the static Linux
#    binary (x86_64-unknown-linux-musl) and Windows (x86_64-pc-windows-gnu),
#    with clippy as the compiler of recpipe's own code and warnings as
#    errors. One cargo run for both lets the two targets share build
#    scripts and proc macros and keeps both cores busy while each target's
#    vendored OpenSSL compiles; a separate `cargo clippy` pass would check
#    every dependency once more. Every later cargo run names both targets
#    too (RECPIPE_TEST_TARGETS), so nothing is built twice.
# 4. The Linux tests, on the static binary the Linux package ships.
# 5. The Windows tests under Wine (scripts/test-windows.sh).
# 6. The packages (scripts/test-packages.sh), made from these builds.
#
# Arguments go to every `cargo test` (a test name filters, as usual).
# A plain `cargo test` (host target, no clippy) still works for quick runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# How long each phase took, on stderr, so a slow CI run shows where.
started=$SECONDS
phase() { echo "scripts/test.sh: [$((SECONDS - started)) s] $*" >&2; }

linux=x86_64-unknown-linux-musl
windows=x86_64-pc-windows-gnu

need=()
command -v ffmpeg  >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -x /usr/sbin/sshd ]             || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v sftp >/dev/null 2>&1   || need+=(openssh-client)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v make >/dev/null 2>&1   || need+=(make)
command -v perl >/dev/null 2>&1   || need+=(perl)
# The two shipped builds: musl for the static Linux binary, MinGW-w64 for
# Windows; both build OpenSSL from source (vendored) for libssh2.
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null 2>&1   || need+=(wine wine64)
# The package tests (scripts/dist.sh, scripts/test-packages.sh).
command -v msibuild >/dev/null 2>&1 || need+=(msitools)
command -v wixl >/dev/null 2>&1   || need+=(wixl)
command -v zip >/dev/null 2>&1    || need+=(zip)
command -v unzip >/dev/null 2>&1  || need+=(unzip)
command -v file >/dev/null 2>&1   || need+=(file)
# TSD's file API (tests/it/util/tsd_api.rs starts it per test; nothing is
# started here): it calls sudo, and its Python packages need libmagic and
# libsodium.
command -v sudo >/dev/null 2>&1   || need+=(sudo)
ldconfig -p | grep -q 'libmagic.so.1 '  || need+=(libmagic1)
ldconfig -p | grep -q 'libsodium.so.23 ' || need+=(libsodium23)
# recpipe init's tests answer it through a pseudo-terminal; the timeline
# test renders the picture in headless Chromium.
command -v tmux >/dev/null 2>&1 || need+=(tmux)
# The notification tests run a private session bus (dbus-daemon --session).
command -v dbus-daemon >/dev/null 2>&1 || need+=(dbus-daemon)
command -v rclone >/dev/null 2>&1 || need+=(rclone)   # a second SFTP server (issue 26)
# The clock tests draw Zoom's clock in two font families.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || need+=(fonts-liberation)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The one-time code of the keyboard-interactive SFTP test (PAM, needs root).
if [ "$(id -u)" -eq 0 ]; then
    ls /lib/*/security/pam_google_authenticator.so /usr/lib/*/security/pam_google_authenticator.so \
        >/dev/null 2>&1 || need+=(libpam-google-authenticator)
fi

if [ ${#need[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${need[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
for t in $linux $windows; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
phase "tools ready"

# The tests' Python packages, in a venv of their own.
RECPIPE_PYTHON=$(scripts/test-venv.sh)
export RECPIPE_PYTHON
phase "test venv ready"

cargo fmt --check

# One set of compiler settings for every cargo run below and in the
# scripts it calls (clippy as recpipe's compiler, warnings as errors).
. scripts/test-build-env.sh
# Every cargo run of the test build names both targets: cargo unifies the
# dependencies' features across the targets of one run, so a run naming
# one of them alone would build it a second time. Each test step picks
# its target by giving the other one scripts/runner-skip.sh.
RECPIPE_TEST_TARGETS="--target $linux --target $windows"
export RECPIPE_TEST_TARGETS
skip=$PWD/scripts/runner-skip.sh
cargo test --locked --no-run $RECPIPE_TEST_TARGETS "$@"
# The benchmarks race OpenSSH, age and ffmpeg on Linux only: compiled (and
# so linted) here, run by benches/*.sh.
cargo test --locked --no-run --target $linux --benches
phase "builds done (both targets, clippy clean)"

# The tests wait on servers, Wine and settle times more than they compute:
# four at a time on two cores took the Linux suite from 139 s to 108 s and
# the Windows one from 89 s to 77 s.
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-4}

# ffmpeg/ffprobe results are kept for the Windows run below, which cannot
# start the Linux tools under Wine (tests/it/util/tools.rs).
if [ -z "${RECPIPE_TOOL_CACHE:-}" ]; then
    RECPIPE_TOOL_CACHE=$(mktemp -d -t recpipe-tools.XXXXXX)
    export RECPIPE_TOOL_CACHE
    trap 'rm -rf "$RECPIPE_TOOL_CACHE"' EXIT
fi
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$skip cargo test --locked $RECPIPE_TEST_TARGETS "$@"
phase "Linux tests done"

# Every Windows test, under Wine.
scripts/test-windows.sh "$@"
phase "Windows tests done"

# The three packages (scripts/dist.sh), made from the builds above and used
# as their users will: the static Linux binary as inside TSD, the MSI
# installed, run and removed under Wine.
scripts/test-packages.sh
phase "package tests done"
