#!/usr/bin/env bash
# Starts TSD's file API (the vendored real server, with TSD's authentication
# API emulated beside it by tests/it/util/tsd_server.py) on 127.0.0.1, in
# its own folder, for what cannot start one itself: the Windows tests under
# Wine (tests/it/util/wine_tsd.rs) and benches/tsd-vs-tacl.sh. The Rust
# tests on Linux use tests/it/util/tsd_api.rs instead.
#
#   scripts/loopback-tsd-api.sh DIR [PORT]   (DIR must exist and be empty;
#                                             PORT default: a free one)
#
# Needs the tests' venv (scripts/test-venv.sh), ../shared/vendor/tsd-file-api
# (or RECPIPE_TSD_FILE_API), and the group p11-member-group (made when run
# as root). RECPIPE_TSD_UNSIGNED=1 in the environment is passed on (the
# server then skips token signatures, as tacl's dev environment needs).
# Returns once the server listens. DIR then holds:
#   port            where it listens
#   api-key         an API key it accepts, with basic auth from 127.0.0.1
#   root/p11/import the project's import folder (GROUP/PATH/NAME lands here)
#   server.log, pid the server's log, and its process id (kill it when done)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
d=$(cd "$1" && pwd)
port=${2:-}
python=$("$repo/scripts/test-venv.sh")
vendor="${RECPIPE_TSD_FILE_API:-$repo/../shared/vendor/tsd-file-api}"
[ -f "$vendor/tsdfileapi/api.py" ] || { echo "loopback-tsd-api.sh: no tsd-file-api at $vendor" >&2; exit 1; }
getent group p11-member-group >/dev/null || groupadd -f p11-member-group

if [ -z "$port" ]; then
    while :; do
        port=$((20000 + RANDOM % 40000))
        (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
fi
cp -r "$vendor" "$d/server"
mkdir -p "$d/root"
key="loopback-key-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$key" > "$d/api-key"
secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
cat > "$d/state.json" <<JSON
{"secret": "$secret", "api_keys": {"$key": {"name": "recpipe"}},
 "basic_allowed": ["127.0.0.1"], "token_seconds": 3600, "refreshes": 5}
JSON
(cd "$d/server" && RECPIPE_TSD_ROOT="$d/root" RECPIPE_TSD_PORT="$port" \
    RECPIPE_TSD_STATE="$d/state.json" \
    exec "$python" "$repo/tests/it/util/tsd_server.py" >"$d/server.log" 2>&1) &
echo $! > "$d/pid"
for _ in $(seq 300); do
    (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "$port" > "$d/port"; exit 0; }
    kill -0 "$(cat "$d/pid")" 2>/dev/null || break
    sleep 0.2
done
echo "loopback-tsd-api.sh: the server did not start:" >&2
cat "$d/server.log" >&2
exit 1
