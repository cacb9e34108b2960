#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with only Rust installed.
#
# Installs what the tests need when it is missing (ffmpeg/ffprobe as the
# media oracle, OpenSSH's sshd for the SFTP tests, the OpenSSL headers that
# libssh2 builds against), then runs the same checks CI runs: formatting,
# clippy with warnings as errors, and every test; then the same for the
# Windows build, whose tests run under Wine (scripts/test-windows.sh); then
# the package tests (scripts/test-packages.sh) are run on their own for now.
set -euo pipefail
cd "$(dirname "$0")/.."

# How long each phase took, on stderr, so a slow CI run shows where.
started=$SECONDS
phase() { echo "scripts/test.sh: [$((SECONDS - started)) s] $*" >&2; }

need=()
command -v ffmpeg  >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -x /usr/sbin/sshd ]             || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v sftp >/dev/null 2>&1   || need+=(openssh-client)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
# TSD's file API (tests/it/util/tsd_api.rs starts it per test; nothing is
# started here): it calls sudo, and its Python packages need libmagic and
# libsodium.
command -v sudo >/dev/null 2>&1   || need+=(sudo)
ldconfig -p | grep -q 'libmagic.so.1 '  || need+=(libmagic1)
ldconfig -p | grep -q 'libsodium.so.23 ' || need+=(libsodium23)
# recpipe init's tests answer it through a pseudo-terminal; the timeline
# test renders the picture in headless Chromium.
command -v tmux >/dev/null 2>&1 || need+=(tmux)
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

phase "tools ready"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The tests' Python packages, in a venv of their own.
RECPIPE_PYTHON=$(scripts/test-venv.sh)
export RECPIPE_PYTHON

phase "test venv ready"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
phase "fmt and clippy done"
# ffmpeg/ffprobe results are kept for the Windows run below, which cannot
# start the Linux tools under Wine (tests/it/util/tools.rs).
if [ -z "${RECPIPE_TOOL_CACHE:-}" ]; then
    RECPIPE_TOOL_CACHE=$(mktemp -d -t recpipe-tools.XXXXXX)
    export RECPIPE_TOOL_CACHE
    trap 'rm -rf "$RECPIPE_TOOL_CACHE"' EXIT
fi
cargo test --locked "$@"
phase "Linux tests done"

# The Windows build and every Windows test, under Wine.
scripts/test-windows.sh "$@"
phase "Windows tests done"

# The packages (scripts/dist.sh): scripts/test-packages.sh builds them from
# the debug builds and checks that the static Linux binary opens sealed files
# as inside TSD and the MSI installs, runs and uninstalls under Wine. It is
# not part of this command yet: its static build alone adds about ten
# minutes, and it has not yet run whole here (see docs/install.md).
