#!/usr/bin/env bash
# test_link_layers.sh: the linker, not only a script, refuses an upward call between the layer
# folders (CMakeLists.txt, sa_layer). On a copy of the tree, built once: each library's link
# check links (sa_core_links, sa_serve_links, sa_cli_links); then, one edit at a time, a core
# file including a server header fails to compile, a core function calling the server through a
# prototype of its own fails to link, and so does a server function calling the command line.
set -uo pipefail
SRC=${SA_SRC:?}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }

mkdir -p "$TMP/t"
cp -r "$SRC/CMakeLists.txt" "$SRC/cmake" "$SRC/src" "$SRC/include" "$SRC/examples" "$SRC/tests" "$TMP/t/"
B=$TMP/build
build() { cmake --build "$B" -j2 --target "$@" >"$TMP/out" 2>&1; }
if cmake -S "$TMP/t" -B "$B" -DCMAKE_BUILD_TYPE=Debug >"$TMP/out" 2>&1 &&
   build sa_core_links sa_serve_links sa_cli_links; then
  ok "every library links with only the libraries below it"
else
  cat "$TMP/out"; bad "every library links with only the libraries below it"
  echo "$fails failed"; exit 1
fi

# refused CASE TARGET EXPECTED FILE TEXT: append TEXT to FILE (a copy's), build TARGET, expect it
# to fail with EXPECTED in the output; then put the file back and see the target build again.
refused() {
  local what=$1 target=$2 want=$3 file=$TMP/t/$4 text=$5
  cp "$file" "$TMP/saved"
  printf '%s\n' "$text" >> "$file"
  if build "$target"; then
    bad "$what (the build passed)"
  elif grep -qF -- "$want" "$TMP/out"; then
    ok "$what"
  else
    cat "$TMP/out"; bad "$what (failed without: $want)"
  fi
  cp "$TMP/saved" "$file"
  build "$target" || { cat "$TMP/out"; bad "$what: the restored tree builds"; }
}
refused "the core including a server header does not compile" sa_core_links \
  "sa_state.h: No such file or directory" src/core/admit.c '#include "sa_state.h"'
refused "a core function calling the server does not link" sa_core_links \
  "undefined reference to \`sa_serve_main'" src/core/buf.c \
  'int sa_serve_main(int argc, char **argv);
int sa_buf_upward(void);
int sa_buf_upward(void) { return sa_serve_main(0, 0); }'
refused "a server function calling the command line does not link" sa_serve_links \
  "undefined reference to \`sa_commands_review'" src/serve/log.c \
  'int sa_commands_review(int argc, char **argv);
int sa_log_sideways(void);
int sa_log_sideways(void) { return sa_commands_review(0, 0); }'
refused "a command calling the server does not link" sa_cli_links \
  "undefined reference to \`sa_listener_port'" src/cli/scan.c \
  'struct sa_listener;
unsigned sa_listener_port(const struct sa_listener *l);
unsigned sa_scan_sideways(void);
unsigned sa_scan_sideways(void) { return sa_listener_port(0); }'

echo "$fails failed"
[ $fails -eq 0 ]
