#!/usr/bin/env bash
# test_check_includes.sh: the module graph of this tree is flat (.ci/check-includes passes), and the
# checker catches each kind of breach on a copy of the tree: an include of a higher layer, a
# module missing from docs/design.md's table, a file over 700 lines.
set -uo pipefail
SRC=${SA_SRC:?}
CHECK=$SRC/.ci/check-includes
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }

out=$(/usr/bin/python3 "$CHECK" "$SRC" 2>&1); rc=$?
echo "$out" | tail -1
[ $rc -eq 0 ] && ok "this tree passes" || { echo "$out"; bad "this tree passes (rc $rc)"; }

# breach CASE EXPECTED_LINE EDIT...: copy the tree, apply the edit, expect exit 1 and the line.
breach() {
  local what=$1 want=$2; shift 2
  rm -rf "$TMP/t"; mkdir -p "$TMP/t"
  cp -r "$SRC/src" "$SRC/include" "$SRC/docs" "$TMP/t/"
  (cd "$TMP/t" && eval "$@")
  out=$(/usr/bin/python3 "$CHECK" "$TMP/t" 2>&1); rc=$?
  if [ $rc -eq 1 ] && grep -qF -- "$want" <<<"$out"; then ok "$what"; else echo "$out"; bad "$what (rc $rc)"; fi
}
breach "a utility that includes the core is refused" "src/buf.c:" \
  "sed -i '0,/#include \"sa_buf.h\"/s//#include \"sa_buf.h\"\n#include \"sa_admit.h\"/' src/buf.c"
breach "a module missing from the table is refused" "src/stray.c: its module is not in the layer table" \
  "printf '/* stray */\n' > src/stray.c"
breach "a file over 700 lines is refused" "src/map.c: 801 lines, over 700" \
  "for i in \$(seq \$((801 - \$(wc -l < src/map.c)))); do echo '/* */' >> src/map.c; done"
breach "no table at all is refused" "no layer table" "sed -i 's/check-includes: the layer table starts here//' docs/design.md"

echo "$fails failed"
[ $fails -eq 0 ]
