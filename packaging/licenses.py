#!/usr/bin/env python3
"""Collects the licences of everything a recpipe binary bundles.

Usage: licenses.py TARGET OUT_DIR

Walks `cargo metadata --filter-platform TARGET` from the recpipe package
through normal dependencies only (build scripts, proc macros and
dev-dependencies are not part of the binary) and writes into OUT_DIR:

- THIRD-PARTY.md: every bundled crate with its version and SPDX licence,
  and the C libraries some of them build in (OpenSSL, libssh2, zlib);
- crates/NAME-VERSION/: each crate's own licence files, as published;
- the C libraries' licence texts (openssl-LICENSE.txt, libssh2-COPYING,
  zlib-LICENSE) taken from the very sources that were compiled.

Fails if a bundled crate ships no licence file and is not under a licence
whose standard text is in packaging/licenses/ (so nothing is shipped
without its licence). A licence whose text names the holder (BSD-2-Clause)
gets the holder from the crate's Cargo.toml authors.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "COPYRIGHT", "NOTICE", "UNLICENSE")
# Licences whose standard text is in packaging/licenses/ (for crates that
# publish no licence file of their own).
STANDARD_TEXTS = ("MIT", "Apache-2.0", "MPL-2.0")
# Licences whose text must carry the holder's copyright line: for a crate
# that publishes no licence file, the standard text in packaging/licenses/
# is written into its folder behind "Copyright (c)" and the authors its
# Cargo.toml names.
HOLDER_TEXTS = ("BSD-2-Clause",)
# C sources vendored inside crates, and where their licence text lives.
VENDORED_C = {
    "openssl-src": ("OpenSSL", "openssl/LICENSE.txt", "openssl-LICENSE.txt", "Apache-2.0"),
    "libssh2-sys": ("libssh2", "libssh2/COPYING", "libssh2-COPYING", "BSD-3-Clause"),
    "libz-sys": ("zlib", "src/zlib/LICENSE", "zlib-LICENSE", "Zlib"),
}


def main():
    target, out = sys.argv[1], pathlib.Path(sys.argv[2])
    here = pathlib.Path(__file__).resolve().parent
    meta = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--locked", "--format-version", "1", "--filter-platform", target]
        )
    )
    pkgs = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "recpipe")
    # Build dependencies are compiled into the binary only when they are
    # also normal dependencies; openssl-src is a build dependency whose
    # output (libcrypto) is linked in, so it is followed as well.
    seen, stack = set(), [root]
    while stack:
        node = nodes[stack.pop()]
        for dep in node["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            pkg = pkgs[dep["pkg"]]
            linked = None in kinds or (kinds == {"build"} and pkg["name"] in VENDORED_C)
            if linked and not any(t["kind"] == ["proc-macro"] for t in pkg["targets"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# What this package bundles, and under which licences",
        "",
        "recpipe itself: MIT OR Apache-2.0 (recpipe-LICENSE-MIT, recpipe-LICENSE-APACHE).",
        "",
        "The Rust standard library: MIT OR Apache-2.0 (rust-COPYRIGHT-library.html).",
        "",
    ]
    c_lines, missing = [], []
    for pid in sorted(seen, key=lambda i: (pkgs[i]["name"], pkgs[i]["version"])):
        p = pkgs[pid]
        name, version = p["name"], p["version"]
        src = pathlib.Path(p["manifest_path"]).parent
        files = sorted(f for f in os.listdir(src) if f.upper().startswith(LICENSE_PREFIXES) and (src / f).is_file())
        if p.get("license_file"):
            lf = (src / p["license_file"]).resolve()
            if lf.is_file() and lf.name not in files:
                files.append(str(lf.relative_to(src)))
        dest = out / "crates" / f"{name}-{version}"
        if files:
            dest.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copyfile(src / f, dest / pathlib.Path(f).name)
            where = f"crates/{name}-{version}/"
        elif (p.get("license") or "") in HOLDER_TEXTS and p.get("authors"):
            dest.mkdir(parents=True, exist_ok=True)
            text = (here / "licenses" / f"{p['license']}.txt").read_text()
            holders = ", ".join(p["authors"])
            (dest / "LICENSE").write_text(f"Copyright (c) {holders}\n\n{text}")
            where = f"crates/{name}-{version}/, the standard text with its authors' copyright line"
        else:
            spdx = p.get("license") or ""
            std = [l for l in STANDARD_TEXTS if l in spdx]
            if not std:
                missing.append(f"{name} {version} ({spdx or 'no licence'})")
                continue
            where = "standard text: " + ", ".join(f"{l}.txt" for l in std)
        lines.append(f"- {name} {version}: {p.get('license') or p.get('license_file')} ({where})")
        if name in VENDORED_C:
            lib, rel, fname, spdx = VENDORED_C[name]
            text = src / rel
            if not text.is_file():
                missing.append(f"{lib} licence text {text}")
                continue
            shutil.copyfile(text, out / fname)
            c_lines.append(f"- {lib}, built from the sources in {name} {version}: {spdx} ({fname})")
    if any(pkgs[i]["license"] == "MPL-2.0" for i in seen):
        c_lines += [
            "",
            "The MPL-2.0 crates (symphonia) are used unmodified; their source code is",
            "published on crates.io under the names and versions listed below.",
        ]
    if missing:
        sys.exit("licenses.py: no licence text for: " + "; ".join(missing))
    lines[6:6] = ["C libraries compiled in:", ""] + c_lines + ["", "Rust crates:", ""]
    for l in STANDARD_TEXTS:
        shutil.copyfile(here / "licenses" / f"{l}.txt", out / f"{l}.txt")
    mit = (here / "licenses" / "MIT.txt").read_text()
    (out / "recpipe-LICENSE-MIT").write_text("Copyright (c) 2026 The recpipe authors\n\n" + mit)
    shutil.copyfile(here / "licenses" / "Apache-2.0.txt", out / "recpipe-LICENSE-APACHE")
    sysroot = subprocess.check_output(["rustc", "--print", "sysroot"], text=True).strip()
    std = pathlib.Path(sysroot) / "share/doc/rust/COPYRIGHT-library.html"
    if std.is_file():
        shutil.copyfile(std, out / "rust-COPYRIGHT-library.html")
    else:
        sys.exit(f"licenses.py: {std} is missing (the Rust standard library's licence)")
    extra = {
        "x86_64-unknown-linux-musl": [
            ("musl libc (MIT), linked statically", "/usr/share/doc/musl/copyright", "musl-COPYRIGHT"),
        ],
        "x86_64-pc-windows-gnu": [
            ("MinGW-w64 runtime (ZPL-2.1, MIT and public domain parts), linked statically",
             "/usr/share/doc/mingw-w64-common/copyright", "mingw-w64-COPYRIGHT"),
        ],
    }.get(target, [])
    for what, path, fname in extra:
        if not os.path.isfile(path):
            sys.exit(f"licenses.py: {path} is missing ({what})")
        shutil.copyfile(path, out / fname)
        lines.insert(6, f"{what} ({fname}).")
        lines.insert(7, "")
    (out / "THIRD-PARTY.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
