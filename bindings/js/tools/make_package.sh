#!/usr/bin/env bash
# Packs the polymix npm tarball (npm pack's layout: every file under package/), called by //bindings/js:package.
#
#   make_package.sh --out polymix.tgz --addon polymix_addon.so --library libpolymix.so \
#       --package-json package.json --types index.d.ts --readme README.md LIB_FILES...
#
# LIB_FILES (lib/*.js, the generated ops.js and ops.d.ts) go to package/lib/. The addon goes to
# package/prebuilds/<platform>-<arch>/polymix.node with libpolymix.so beside it.
#
# Note [Libraries beside the addon]
# A user installs the tarball with plain `npm install` on a machine that has Node.js and the base system, nothing
# else: no oneDNN, no Abseil, no OpenMP runtime, no compiler. So every library that `ldd libpolymix.so` resolves
# outside the base system is copied beside it (with the Debian copyright file of its package under
# licenses/), and the addon carries an RPATH of $ORIGIN as DT_RPATH: the loader then looks in the addon's
# folder for libpolymix.so's own needs too, and for theirs (oneDNN's libOpenCL), without LD_LIBRARY_PATH.
# The base system is glibc, libstdc++ and libgcc_s, which Node.js itself needs. The prebuild runs on Linux
# with glibc as new as the build machine's (Debian 12: 2.36).
set -euo pipefail

out="" addon="" library="" package_json="" types="" readme=""
lib_files=()
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --addon) addon="$2"; shift 2 ;;
    --library) library="$2"; shift 2 ;;
    --package-json) package_json="$2"; shift 2 ;;
    --types) types="$2"; shift 2 ;;
    --readme) readme="$2"; shift 2 ;;
    *) lib_files+=("$1"); shift ;;
  esac
done
for value in out addon library package_json types readme; do
  [ -n "${!value}" ] || { echo "make_package.sh: --${value//_/-} is required" >&2; exit 2; }
done

# Node's names for this machine (process.platform-process.arch).
case "$(uname -s)" in Linux) platform=linux ;; Darwin) platform=darwin ;; *) platform="$(uname -s | tr A-Z a-z)" ;; esac
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/package"
prebuilds="$root/prebuilds/$platform-$arch"
mkdir -p "$root/lib" "$prebuilds/licenses"

cp "$package_json" "$root/package.json"
cp "$types" "$root/index.d.ts"
cp "$readme" "$root/README.md"
for file in "${lib_files[@]}"; do cp "$file" "$root/lib/$(basename "$file")"; done
cp "$addon" "$prebuilds/polymix.node"
cp "$library" "$prebuilds/libpolymix.so"

# The base system: what every Linux that runs Node.js has (see the Note above).
is_base() {
  case "$1" in
    linux-vdso.so.*|ld-linux*.so.*|libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*) return 0 ;;
    libstdc++.so.*|libgcc_s.so.*) return 0 ;;
    *) return 1 ;;
  esac
}

ldd "$library" | while read -r name arrow path _; do
  [ "$arrow" = "=>" ] || continue
  is_base "$name" && continue
  if [ ! -f "$path" ]; then
    echo "make_package.sh: libpolymix.so needs $name, which ldd does not find ($path)" >&2
    exit 1
  fi
  cp -L "$path" "$prebuilds/$name"
  chmod 0755 "$prebuilds/$name"
  # The Debian copyright file of the package that ships the library, if dpkg knows it.
  package="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1 || true)"
  if [ -n "$package" ] && [ -f "/usr/share/doc/$package/copyright" ]; then
    cp "/usr/share/doc/$package/copyright" "$prebuilds/licenses/$package.copyright"
  fi
done
chmod -R u+w,a+r "$root"
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$prebuilds"/*.so* "$prebuilds/polymix.node"

# Reproducible: fixed order, times and owners.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" -czf "$out" package
