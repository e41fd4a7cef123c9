#!/usr/bin/env bash
# scripts/module-graph.sh [BUILD] -- the dependencies between poisonfarm's source files as they
# really are, from the built objects (who calls whom: nm's undefined symbols resolved to the object
# that defines them) and from the sources (who includes which poisonfarm header). Prints the
# file-level call edges, the module-level graph (a module = src/<module>*.c, see module() below) and
# any call cycle between files or between modules; exits 1 when there is a cycle. Run `make` first.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ -d "$BUILD/obj" ] || { echo "no $BUILD/obj: run make first" >&2; exit 2; }

# The module of a source file: its name up to the first '_', but for the modules whose own names
# hold one (mpi_util, h5_util) and the files that belong to another module (adam.c: the model's
# optimiser step; main.c: the command line's entry).
module() {
    case "$1" in
        mpi_util | h5_util) echo "$1" ;;
        adam) echo nn ;;
        main) echo cli ;;
        *) echo "${1%%_*}" ;;
    esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in src/*.c; do
    f=$(basename "$c" .c)
    o=$BUILD/obj/$f.o
    [ -f "$o" ] || { echo "no $o: run make first" >&2; exit 2; }
    nm "$o" | awk -v f="$f" '$2 ~ /^[TDBRC]$/ { print $3, f }' >>"$tmp/defs"
    nm "$o" | awk -v f="$f" '$1 == "U" { print f, $2 }' >>"$tmp/uses"
done
# file -> file call edges (a file's use of a symbol another file defines)
awk 'NR == FNR { def[$1] = $2; next } ($2 in def) && def[$2] != $1 { print $1, def[$2] }' \
    "$tmp/defs" "$tmp/uses" | sort -u >"$tmp/file-edges"

echo "== calls between source files (caller -> callee)"
awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print k ":" a[k] }' "$tmp/file-edges" | sort

while read -r a b; do echo "$(module "$a") $(module "$b")"; done <"$tmp/file-edges" |
    awk '$1 != $2' | sort -u >"$tmp/mod-edges"
echo
echo "== calls between modules (caller -> callee)"
awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print k ":" a[k] }' "$tmp/mod-edges" | sort

echo
echo "== modules whose headers each module includes (sources, internal and public headers)"
for f in src/*.c src/*.h include/poisonfarm/*.h; do
    b=$(basename "$f"); b=${b%.*}; b=${b%_internal}
    m=$(module "$b")
    grep -o '#include "poisonfarm/[a-z_0-9]*\.h"' "$f" | sed 's|.*poisonfarm/||; s|\.h"||' |
        while read -r h; do h=$(module "$h"); [ "$h" != "$m" ] && echo "$m $h"; done
done | sort -u >"$tmp/inc-edges"
awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print k ":" a[k] }' "$tmp/inc-edges" | sort

status=0
echo
# tsort names the files of each loop it finds.
cycles() { tsort <"$1" 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: /  /'; }
c=$(cycles "$tmp/file-edges")
if [ -z "$c" ]; then echo "no call cycle between source files"; else
    echo "CALL CYCLE between source files:"; echo "$c"; status=1; fi
c=$(cycles "$tmp/mod-edges")
if [ -z "$c" ]; then echo "no call cycle between modules"; else
    echo "CALL CYCLE between modules:"; echo "$c"; status=1; fi
c=$(cycles "$tmp/inc-edges")
if [ -z "$c" ]; then echo "no include cycle between modules"; else
    echo "INCLUDE CYCLE between modules:"; echo "$c"; status=1; fi
exit $status
