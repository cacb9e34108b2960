#!/usr/bin/env bash
# Cargo's runner for the x86_64-pc-windows-gnu target (.cargo/config.toml):
# runs one Windows executable under Wine, so that
# `cargo test --target x86_64-pc-windows-gnu` runs every test on Linux.
#
# Before it starts the program it
# - builds windows/bcryptprimitives.dll (the ProcessPrng stand-in Wine 8
#   lacks) once into the target folder and copies it beside the program and
#   beside the recpipe.exe the CLI tests start;
# - uses one Wine prefix per target folder (created on first use, without
#   Mono or Gecko), WINEDEBUG=-all;
# - gives RECPIPE_TOOL_CACHE (the ffmpeg/ffprobe results the Linux run
#   stored, see tests/common/tools.rs) as a Windows path (Z: is /).
set -euo pipefail

exe=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exe_dir=$(cd "$(dirname "$exe")" && pwd)
case "$(basename "$exe_dir")" in
    deps | examples) profile_dir=$(dirname "$exe_dir") ;;
    *) profile_dir=$exe_dir ;;
esac

dll=$profile_dir/bcryptprimitives.dll
src=$here/bcryptprimitives.c
if [ ! -e "$dll" ] || [ "$src" -nt "$dll" ]; then
    tmp=$dll.tmp-$$
    x86_64-w64-mingw32-gcc -O2 -shared -o "$tmp" "$src" -ladvapi32
    mv -f "$tmp" "$dll"
fi
if [ "$exe_dir" != "$profile_dir" ] && ! cmp -s "$dll" "$exe_dir/bcryptprimitives.dll"; then
    cp -f "$dll" "$exe_dir/bcryptprimitives.dll.tmp-$$"
    mv -f "$exe_dir/bcryptprimitives.dll.tmp-$$" "$exe_dir/bcryptprimitives.dll"
fi

export WINEPREFIX=${RECPIPE_WINEPREFIX:-$(dirname "$profile_dir")/wine-prefix}
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono or Gecko installer dialogs when the prefix is created.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
if [ -n "${RECPIPE_TOOL_CACHE:-}" ] && [ "${RECPIPE_TOOL_CACHE#/}" != "$RECPIPE_TOOL_CACHE" ]; then
    export RECPIPE_TOOL_CACHE="Z:${RECPIPE_TOOL_CACHE//\//\\}"
fi

exec wine "$exe" "$@"
