#!/usr/bin/env bash
# test_format.sh: every C file of the tree is as .clang-format lays it out (Debian 12's
# clang-format 14, installed by .ci/setup; another major version may lay it out otherwise, so it
# is refused rather than trusted), and the check catches a misformatted file on a copy.
# To fix a failure: clang-format -i FILE (tables laid out by hand go between
# /* clang-format off */ and /* clang-format on */).
set -uo pipefail
SRC=${SA_SRC:?}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }

version=$(clang-format --version 2>/dev/null) || { echo "not ok - clang-format is not installed (bash .ci/setup)"; exit 1; }
case "$version" in *"version 14."*) ok "clang-format 14 ($version)" ;; *) bad "clang-format 14 is needed, found: $version" ;; esac

# check ROOT: clang-format's complaints about the C files under ROOT, exit status as its.
check() {
  (cd "$1" && find src include tests/unit tests/fuzz bench cmake -name '*.[ch]' -print0 |
    xargs -0 clang-format --style=file --dry-run --Werror 2>&1)
}
n=$(cd "$SRC" && find src include tests/unit tests/fuzz bench cmake -name '*.[ch]' | wc -l)
if out=$(check "$SRC"); then ok "the $n C files are formatted"; else echo "$out" | head -40; bad "the $n C files are formatted"; fi

mkdir -p "$TMP/t"
cp -r "$SRC/.clang-format" "$SRC/src" "$SRC/include" "$SRC/bench" "$SRC/cmake" "$TMP/t/"
mkdir -p "$TMP/t/tests" && cp -r "$SRC/tests/unit" "$SRC/tests/fuzz" "$TMP/t/tests/"
sed -i '0,/^{$/s//{  int  misformatted ;/' "$TMP/t/src/core/buf.c"
if out=$(check "$TMP/t"); then bad "a misformatted file is refused"
elif grep -q "src/core/buf.c:.*code should be clang-formatted" <<<"$out"; then ok "a misformatted file is refused"
else echo "$out" | head; bad "a misformatted file is refused (no line names src/core/buf.c)"; fi

echo "$fails failed"
[ $fails -eq 0 ]
