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
# to them in RECPIPE_WINE_SSHD (tests/common/wine_sshd.rs).
#
# Tests that need ffmpeg/ffprobe read their results from RECPIPE_TOOL_CACHE
# (tests/common/tools.rs), which the Linux run fills: scripts/test.sh runs
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
cleanup() {
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
    [ -n "$sshd_dir" ] && rm -rf "$sshd_dir"
    [ -n "$own_cache" ] && rm -rf "$own_cache"
    return 0
}
trap cleanup EXIT

# Starts the sshd for the Windows SFTP tests, in its own folder, on a free
# port of 127.0.0.1; exports RECPIPE_WINE_SSHD.
start_sshd() {
    sshd_dir=$(mktemp -d -t recpipe-wine-sshd.XXXXXX)
    local d=$sshd_dir port banner=""
    ssh-keygen -q -t ed25519 -N '' -C recpipe-test -f "$d/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C recpipe-test -f "$d/client_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C recpipe-test -f "$d/other"
    cp "$d/client_ed25519.pub" "$d/authorized_keys"
    mkdir "$d/files"
    while :; do
        port=$((20000 + RANDOM % 40000))
        (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; fi
    cat > "$d/sshd_config" <<CFG
ListenAddress 127.0.0.1:$port
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $(id -un)
MaxStartups 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
CFG
    /usr/sbin/sshd -D -e -f "$d/sshd_config" < /dev/null > /dev/null 2> "$d/sshd.log" &
    sshd_pid=$!
    for _ in $(seq 100); do
        # The banner, read in a subshell: then sshd really serves.
        banner=$( (exec 3<> "/dev/tcp/127.0.0.1/$port" && timeout 2 head -c 4 <&3) 2>/dev/null || true)
        [ "$banner" = "SSH-" ] && break
        sleep 0.1
    done
    if [ "$banner" != "SSH-" ]; then
        echo "scripts/test-windows.sh: sshd did not start:" >&2
        cat "$d/sshd.log" >&2
        exit 1
    fi
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" > "$d/known_hosts"
    ssh-keygen -lf "$d/host_ed25519.pub" | cut -d' ' -f2 > "$d/host_fingerprint"
    cut -d' ' -f1,2 "$d/other.pub" > "$d/other_key"
    echo "$port" > "$d/port"
    id -un > "$d/user"
    export RECPIPE_WINE_SSHD="$d"
}

if [ -z "${RECPIPE_TOOL_CACHE:-}" ]; then
    RECPIPE_TOOL_CACHE=$(mktemp -d -t recpipe-tools.XXXXXX)
    own_cache=$RECPIPE_TOOL_CACHE
    export RECPIPE_TOOL_CACHE
    echo "scripts/test-windows.sh: running the Linux tests to fill $RECPIPE_TOOL_CACHE" >&2
    cargo test --locked "$@"
fi

# Benchmarks are Linux-only (they race OpenSSH, age and ffmpeg); not built here.
# Warnings in the Windows build are errors. This is rustc's own lints, not a
# separate clippy pass: a second full check of the Windows build would add
# about ten minutes to CI, and clippy's lints are the same on both targets
# (scripts/test.sh runs clippy on the Linux build). Dependencies are not
# affected: cargo caps their lints.
start_sshd
RUSTFLAGS="${RUSTFLAGS:-} -D warnings" cargo test --target "$target" --locked "$@"
