#!/usr/bin/env python3
"""Packs the polymix wheel, called by //bindings/python:wheel (no setuptools, no network: zipfile and the wheel
format, PEP 427/491, by hand).

    make_wheel.py --out polymix-0.1.0-cp311-cp311-linux_x86_64.whl --version 0.1.0 --core _core.so FILES...

FILES are the package's .py and .pyi files, hand-written (bindings/python/polymix/...) or generated (the same
path under the output tree); each goes into the wheel at its path from "bindings/python/" on. _core.so goes to
polymix/_core.so with the libraries it needs beside it.

Note [Libraries beside the extension]
A user installs the wheel with plain `pip install` on a machine that has Python and the base system, nothing
else: no oneDNN, no Abseil, no OpenMP runtime. So every library that `ldd _core.so` resolves outside the base
system is copied beside _core.so in polymix/ (with the Debian copyright file of its package under the
dist-info's licenses/), and _core.so carries an RPATH of $ORIGIN as DT_RPATH (its linkopts in
bindings/python/BUILD): the loader then looks in the extension's folder for its own needs and for theirs
(oneDNN's libOpenCL), without LD_LIBRARY_PATH. The base system is glibc, libstdc++ and libgcc_s (apt itself
needs the last two, so every Debian has them). The wheel runs on Linux with glibc as new as the build machine's
(Debian 12: 2.36), hence the plain linux_x86_64 tag rather than a manylinux one: it makes no manylinux promise.
"""

import argparse
import base64
import hashlib
import os
import re
import subprocess
import sys
import zipfile

# Fixed timestamp (the zip format's earliest) so that the same inputs give the same wheel.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_BASE_SYSTEM = re.compile(r"^(linux-vdso|ld-linux.*|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so")
_SOURCE_ROOT = "bindings/python/"


def _record_hash(data):
    """RECORD's hash field: sha256 in urlsafe base64 without padding (PEP 376/427)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "sha256=" + digest


def _package_path(path):
    """The path inside the wheel of a package file given by its Bazel path (source or output tree)."""
    index = path.rfind(_SOURCE_ROOT)
    if index < 0:
        raise ValueError("[make_wheel] expected a file under %s, got %s" % (_SOURCE_ROOT, path))
    return path[index + len(_SOURCE_ROOT):]


def _needed_libraries(core):
    """(soname, resolved path) of every library ldd finds for core outside the base system."""
    libraries = []
    for line in subprocess.run(["ldd", core], check=True, capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] != "=>" or _BASE_SYSTEM.match(parts[0]):
            continue
        if not os.path.isfile(parts[2]):
            raise ValueError("[make_wheel] _core.so needs %s, which ldd does not find (%s)" % (parts[0], parts[2]))
        libraries.append((parts[0], parts[2]))
    return libraries


def _debian_copyright(path):
    """(package name, copyright file) of the Debian package that ships path, or None where dpkg does not know."""
    result = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
    if result.returncode != 0 or ":" not in result.stdout:
        return None
    package = result.stdout.splitlines()[0].split(":")[0]
    copyright_file = "/usr/share/doc/%s/copyright" % package
    return (package, copyright_file) if os.path.isfile(copyright_file) else None


def _metadata(version):
    """The dist-info's METADATA (core metadata 2.1)."""
    return "\n".join([
        "Metadata-Version: 2.1",
        "Name: polymix",
        "Version: " + version,
        "Summary: MXNet 1.x's Python API (import polymix as mx) over the Polymix C++ engine",
        "License: Apache-2.0",
        "Requires-Python: >=3.11,<3.12",
        "Requires-Dist: numpy",
        "",
        "The polymix package runs MXNet 1.x code (mx.nd, mx.sym, mx.autograd, mx.gluon) with `import polymix as mx`.",
        "The shared libraries _core.so needs (oneDNN, Abseil, libgomp, libOpenCL) are packed beside it; their",
        "Debian copyright files are in the dist-info's licenses/ folder.",
        "",
    ])


def _wheel_file(tag):
    """The dist-info's WHEEL."""
    return "Wheel-Version: 1.0\nGenerator: polymix make_wheel.py\nRoot-Is-Purelib: false\nTag: %s\n" % tag


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--core", required=True, help="the built polymix/_core.so")
    parser.add_argument("--tag", default="cp311-cp311-linux_x86_64")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    entries = {}  # path in the wheel -> (bytes, executable)
    for path in args.files:
        with open(path, "rb") as stream:
            entries[_package_path(path)] = (stream.read(), False)
    init = entries.get("polymix/__init__.py", (b"", False))[0].decode("utf-8")
    declared = re.search(r'^__version__ = "([^"]+)"', init, re.M)
    if not declared or declared.group(1) != args.version:
        raise ValueError("[make_wheel] polymix/__init__.py's __version__ should be %s (the wheel's version), got %s"
                         % (args.version, declared.group(1) if declared else "none"))

    dist_info = "polymix-%s.dist-info" % args.version
    with open(args.core, "rb") as stream:
        entries["polymix/_core.so"] = (stream.read(), True)
    for soname, path in _needed_libraries(args.core):
        with open(path, "rb") as stream:
            entries["polymix/" + soname] = (stream.read(), True)
        copyright_info = _debian_copyright(path)
        if copyright_info:
            with open(copyright_info[1], "rb") as stream:
                entries["%s/licenses/%s.copyright" % (dist_info, copyright_info[0])] = (stream.read(), False)
    entries[dist_info + "/METADATA"] = (_metadata(args.version).encode("utf-8"), False)
    entries[dist_info + "/WHEEL"] = (_wheel_file(args.tag).encode("utf-8"), False)

    record = ["%s,%s,%d" % (name, _record_hash(data), len(data)) for name, (data, _) in sorted(entries.items())]
    record.append(dist_info + "/RECORD,,")
    entries[dist_info + "/RECORD"] = (("\n".join(record) + "\n").encode("utf-8"), False)

    # The dist-info goes last, as PEP 427 recommends (installers may stream the archive).
    order = sorted(entries, key=lambda name: (name.startswith(dist_info), name))
    with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name in order:
            data, executable = entries[name]
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
