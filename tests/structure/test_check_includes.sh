#!/usr/bin/env bash
# test_check_includes.sh: the module graph of this tree is flat (.ci/check-includes passes), and the
# checker catches each kind of breach on a copy of the tree: an include of a higher layer, an
# include across sibling folders, a module missing from docs/design.md's table or outside its
# folder, a file over 700 lines.
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
breach "a utility that includes the core is refused" "src/core/buf.c:" \
  "sed -i '0,/#include \"sa_buf.h\"/s//#include \"sa_buf.h\"\n#include \"sa_admit.h\"/' src/core/buf.c"
breach "the core including the server is refused" "admit (folder core) includes state (folder serve)" \
  "sed -i '0,/#include \"sa_admit.h\"/s//#include \"sa_admit.h\"\n#include \"sa_state.h\"/' src/core/admit.c"
breach "the server including the command line is refused" "serve (folder serve) includes scan (folder cli)" \
  "sed -i '0,/#include \"sa_serve.h\"/s//#include \"sa_serve.h\"\n#include \"sa_scan.h\"/' src/serve/serve.c"
breach "a module outside its folder is refused" "src/core/log.c: module log belongs in folder serve" \
  "mv src/serve/log.c src/core/log.c"
breach "a module missing from the table is refused" "src/core/stray.c: its module is not in the layer table" \
  "printf '/* stray */\n' > src/core/stray.c"
breach "a file over 700 lines is refused" "src/core/map.c: 801 lines, over 700" \
  "for i in \$(seq \$((801 - \$(wc -l < src/core/map.c)))); do echo '/* */' >> src/core/map.c; done"
breach "no table at all is refused" "no layer table" "sed -i 's/check-includes: the layer table starts here//' docs/design.md"

echo "$fails failed"
[ $fails -eq 0 ]
