#!/usr/bin/env bash
# Builds recpipe's packages into dist/, from a clean checkout, on Debian or
# Ubuntu with Rust (rustup) installed:
#
#   recpipe-VERSION-x86_64-unknown-linux-musl.tar.gz  static Linux binary
#                                                     (TSD's Linux machines)
#   recpipe-VERSION-x86_64-pc-windows-gnu.zip         Windows, unpack anywhere
#   recpipe-VERSION-x86_64-pc-windows-gnu.msi         Windows installer, per user
#   SHA256SUMS                                        of the three
#
# Each package holds the program, README.md, docs/, the pipeline templates
# (pipelines/), the licences of everything bundled (LICENSES/, OpenSSL's
# included), the shell completions and man pages made from the program's
# own command-line definitions, and a SHA256SUMS of its files. The MSI is
# described in packaging/recpipe.wxs (msitools' wixl builds it on Linux).
#
# Usage: scripts/dist.sh [--profile release|debug] [--out DIR] [--no-build]
#   --profile  the cargo profile to package (default release; the package
#              tests use debug to reuse the test builds)
#   --out      where the packages go (default dist/; earlier packages in it
#              are replaced)
#   --no-build package the binaries already built (in $CARGO_TARGET_DIR,
#              default target/; fails if absent)
#
# Installs what it needs when it is missing (musl-tools, the MinGW-w64 cross
# compiler, msitools and wixl, zip, the two Rust targets).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

profile=release
out=dist
build=1
while [ $# -gt 0 ]; do
    case $1 in
        --profile) profile=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "scripts/dist.sh: unknown argument $1 (see the comment at the top)" >&2; exit 2 ;;
    esac
done
case $profile in
    release) cargo_profile=release; profile_dir=release ;;
    debug | dev) cargo_profile=dev; profile_dir=debug ;;
    *) echo "scripts/dist.sh: --profile is release or debug, not $profile" >&2; exit 2 ;;
esac

linux=x86_64-unknown-linux-musl
windows=x86_64-pc-windows-gnu

need=()
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v msibuild >/dev/null 2>&1 || need+=(msitools)
command -v wixl >/dev/null 2>&1 || need+=(wixl)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v make >/dev/null 2>&1 || need+=(make)
command -v perl >/dev/null 2>&1 || need+=(perl)
if [ ${#need[@]} -gt 0 ]; then
    echo "scripts/dist.sh: installing ${need[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi
for t in $linux $windows; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    echo "scripts/dist.sh: the work tree has uncommitted changes; the packages name commit $commit all the same" >&2
fi
# Reproducible archives: every file dated to the commit.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)

if [ "$build" -eq 1 ]; then
    for t in $linux $windows; do
        echo "scripts/dist.sh: building $t ($profile)" >&2
        cargo build --locked --profile "$cargo_profile" --target "$t" --bin recpipe
    done
fi
target_dir=${CARGO_TARGET_DIR:-target}
linux_bin=$target_dir/$linux/$profile_dir/recpipe
windows_bin=$target_dir/$windows/$profile_dir/recpipe.exe
for b in "$linux_bin" "$windows_bin"; do
    [ -x "$b" ] || { echo "scripts/dist.sh: $b is missing; run without --no-build" >&2; exit 1; }
done
# Static: no interpreter, no shared libraries (TSD's machines have no
# toolchain, and their C library is not ours to choose).
if file -L "$linux_bin" | grep -q 'dynamically linked'; then
    echo "scripts/dist.sh: $linux_bin is dynamically linked: $(file -L "$linux_bin")" >&2
    exit 1
fi

work=$(mktemp -d -t recpipe-dist.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Completions and man pages from the program itself (the static Linux one
# runs here, whatever the host's C library).
"$linux_bin" generate-assets "$work/assets"

# What every package holds besides the program.
common() {
    local dir=$1 target=$2
    mkdir -p "$dir/docs" "$dir/pipelines"
    cp README.md "$dir/"
    cp docs/*.md "$dir/docs/"
    cp pipelines/*.toml "$dir/pipelines/"
    python3 packaging/licenses.py "$target" "$dir/LICENSES"
}

sums() {
    (cd "$1" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort |
        xargs -d '\n' sha256sum > SHA256SUMS)
}

normalize() {
    find "$1" -exec touch -h -d "@$epoch" {} +
}

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/recpipe-*.tar.gz "$out"/recpipe-*.zip "$out"/recpipe-*.msi "$out/SHA256SUMS"

# The static Linux binary.
lname=recpipe-$version-$linux
ldir=$work/$lname
mkdir -p "$ldir"
install -m 0755 "$linux_bin" "$ldir/recpipe"
common "$ldir" $linux
cp -r "$work/assets/completions" "$ldir/completions"
mkdir -p "$ldir/man/man1"
cp "$work/assets/man/"*.1 "$ldir/man/man1/"
sums "$ldir"
normalize "$ldir"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -C "$work" -czf "$out/$lname.tar.gz" "$lname"

# Windows: the same folder as a .zip and as the installer's contents.
wname=recpipe-$version-$windows
wdir=$work/$wname
mkdir -p "$wdir"
cp "$windows_bin" "$wdir/recpipe.exe"
common "$wdir" $windows
mkdir -p "$wdir/completions"
cp "$work/assets/completions/_recpipe.ps1" "$wdir/completions/recpipe.ps1"
sums "$wdir"
normalize "$wdir"
(cd "$work" && find "$wname" -print | LC_ALL=C sort | zip -X -q -@ "$out/$wname.zip")

# The MSI: the staged folder as components (wixl-heat), the product
# (packaging/recpipe.wxs), then what wixl cannot express yet, written into
# the database with msibuild: the PATH entry (Environment table and its two
# standard actions) and the mark shortcut's hotkey and window state.
(cd "$wdir" && find . -type f -printf '%P\n' | LC_ALL=C sort |
    wixl-heat -p "" --directory-ref INSTALLDIR --component-group CG.files \
        --var var.SourceDir > "$work/files.wxs")
msi=$out/$wname.msi
# wixl wants the source folder relative to where it runs.
(cd "$work" && wixl -a x64 -D Version="$version" -D SourceDir="$wname" -o "$msi" \
    "$root/packaging/recpipe.wxs" files.wxs)
msibuild "$msi" -q "CREATE TABLE \`Environment\` (\`Environment\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL LOCALIZABLE, \`Value\` CHAR(255) LOCALIZABLE, \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`Environment\`)"
# "=-PATH": set at install, removed at uninstall, the user's variable;
# "[~];[INSTALLDIR]": appended to what PATH already holds.
msibuild "$msi" -q "INSERT INTO \`Environment\` (\`Environment\`, \`Name\`, \`Value\`, \`Component_\`) VALUES ('UserPath', '=-PATH', '[~];[INSTALLDIR]', 'PathEntry')"
msibuild "$msi" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('RemoveEnvironmentStrings', 3300)"
msibuild "$msi" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('WriteEnvironmentStrings', 5200)"
# Ctrl+Alt+M: the key 'M' (0x4D) with HOTKEYF_CONTROL|HOTKEYF_ALT (0x06);
# ShowCmd 7: minimized without taking the focus from the meeting.
msibuild "$msi" -q "UPDATE \`Shortcut\` SET \`Hotkey\` = 1613, \`ShowCmd\` = 7 WHERE \`Shortcut\` = 'MarkShortcut'"

(cd "$out" && sha256sum "$lname.tar.gz" "$wname.zip" "$wname.msi" > SHA256SUMS)
echo "scripts/dist.sh: $out/ holds, for $version (commit $commit, $profile):" >&2
(cd "$out" && ls -l) >&2
