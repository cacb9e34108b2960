#!/usr/bin/env bash
# The Windows build and its test suite, on Linux, under Wine.
#
# Installs what it needs when it is missing (the MinGW-w64 cross compiler,
# Wine, the Rust standard library for x86_64-pc-windows-gnu), builds the
# Windows target with warnings as errors, then runs every test of
# the Windows target under Wine: `cargo test --target x86_64-pc-windows-gnu`
# starts each test executable through windows/wine-runner.sh
# (.cargo/config.toml), which builds windows/bcryptprimitives.dll and places
# it beside the executables.
#
# The SFTP tests of the Windows build talk to a real OpenSSH sshd that this
# script starts on the Linux side (sshd cannot run under Wine) and describes
# to them in RECPIPE_WINE_SSHD (tests/it/util/wine_sshd.rs); the TSD tests
# to TSD's file API, started the same way and named in RECPIPE_WINE_TSD
# (tests/it/util/wine_tsd.rs).
#
# Tests that need ffmpeg/ffprobe read their results from RECPIPE_TOOL_CACHE
# (tests/it/util/tools.rs), which the Linux run fills: scripts/test.sh runs
# the Linux tests with it first. Run alone, this script first runs the Linux
# tests to fill a fresh cache. Arguments go to both `cargo test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-pc-windows-gnu

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null 2>&1 || need+=(wine wine64)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
    echo "scripts/test-windows.sh: installing ${need[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target"

own_cache=""
sshd_dir=""
sshd_pid=""
tsd_dir=""
cleanup() {
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
    [ -n "$sshd_dir" ] && rm -rf "$sshd_dir"
    [ -n "$tsd_dir" ] && [ -f "$tsd_dir/pid" ] && kill "$(cat "$tsd_dir/pid")" 2>/dev/null
    [ -n "$tsd_dir" ] && rm -rf "$tsd_dir"
    [ -n "$own_cache" ] && rm -rf "$own_cache"
    return 0
}
trap cleanup EXIT

# Starts the sshd for the Windows SFTP tests (scripts/loopback-sshd.sh);
# exports RECPIPE_WINE_SSHD.
start_sshd() {
    sshd_dir=$(mktemp -d -t recpipe-wine-sshd.XXXXXX)
    scripts/loopback-sshd.sh "$sshd_dir"
    sshd_pid=$(cat "$sshd_dir/pid")
    export RECPIPE_WINE_SSHD="$sshd_dir"
}

# Starts TSD's file API for the Windows TSD tests
# (scripts/loopback-tsd-api.sh); exports RECPIPE_WINE_TSD.
start_tsd_api() {
    tsd_dir=$(mktemp -d -t recpipe-wine-tsd.XXXXXX)
    scripts/loopback-tsd-api.sh "$tsd_dir"
    export RECPIPE_WINE_TSD="$tsd_dir"
}

if [ -z "${RECPIPE_TOOL_CACHE:-}" ]; then
    RECPIPE_TOOL_CACHE=$(mktemp -d -t recpipe-tools.XXXXXX)
    own_cache=$RECPIPE_TOOL_CACHE
    export RECPIPE_TOOL_CACHE
    echo "scripts/test-windows.sh: running the Linux tests to fill $RECPIPE_TOOL_CACHE" >&2
    cargo test --locked "$@"
fi

# Benchmarks are Linux-only (they race OpenSSH, age and ffmpeg); not built here.
# The test builds' compiler settings (clippy as recpipe's compiler, warnings
# as errors): the build scripts/test.sh made is reused as it is.
. scripts/test-build-env.sh
start_sshd
start_tsd_api
# Run from scripts/test.sh, the build names both targets
# (RECPIPE_TEST_TARGETS): the Linux tests are not run again here.
if [ -n "${RECPIPE_TEST_TARGETS:-}" ]; then
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUNNER=$PWD/scripts/runner-skip.sh \
        cargo test --locked $RECPIPE_TEST_TARGETS "$@"
else
    cargo test --target "$target" --locked "$@"
fi
