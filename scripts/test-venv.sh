#!/usr/bin/env bash
# The Python the tests use: a venv in target/test-venv with the PyPI
# packages named in scripts/test-requirements.txt (the independent opener
# of the seal test vectors needs `cryptography`; the TSD file-API harness
# needs the server's packages). Made once, remade when the requirements
# change; prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/test-venv
req=scripts/test-requirements.txt
stamp=$venv/.requirements
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$stamp"; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
    cp "$req" "$stamp"
fi
echo "$PWD/$venv/bin/python"
