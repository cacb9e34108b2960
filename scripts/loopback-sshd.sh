#!/usr/bin/env bash
# Starts a real OpenSSH sshd on a free port of 127.0.0.1, in its own folder,
# for the tests and benchmarks that cannot start one themselves (the Windows
# tests under Wine; benches/e2e-vs-sftp.sh). The Rust tests on Linux use
# tests/it/util/sshd.rs instead.
#
#   scripts/loopback-sshd.sh DIR     (DIR must exist and be empty)
#
# Returns once sshd serves (its banner is read). DIR then holds:
#   port, user          where and as whom to log in
#   client_ed25519      a private key the server accepts (no passphrase)
#   known_hosts         trusting the server's ed25519 host key
#   host_fingerprint    that key's SHA-256 fingerprint (ssh-keygen -l)
#   other_key           a 'TYPE BASE64' key that is not the server's
#   files/              a folder to upload into
#   sshd.log, pid       sshd's log, and its process id (kill it when done)
set -euo pipefail
d=$1

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
echo $! > "$d/pid"
banner=""
for _ in $(seq 100); do
    # The banner, read in a subshell: then sshd really serves.
    banner=$( (exec 3<> "/dev/tcp/127.0.0.1/$port" && timeout 2 head -c 4 <&3) 2>/dev/null || true)
    [ "$banner" = "SSH-" ] && break
    sleep 0.1
done
if [ "$banner" != "SSH-" ]; then
    echo "scripts/loopback-sshd.sh: sshd did not start:" >&2
    cat "$d/sshd.log" >&2
    kill "$(cat "$d/pid")" 2>/dev/null || true
    exit 1
fi
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" > "$d/known_hosts"
ssh-keygen -lf "$d/host_ed25519.pub" | cut -d' ' -f2 > "$d/host_fingerprint"
cut -d' ' -f1,2 "$d/other.pub" > "$d/other_key"
echo "$port" > "$d/port"
id -un > "$d/user"
