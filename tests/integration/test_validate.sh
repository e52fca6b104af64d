#!/usr/bin/env bash
# test_validate.sh: every fixture of tests/validate/cases through the offline `review --path
# /validate` and through the real TLS server, one server per test policy. The two answers must
# be byte-identical; tests/validate/check.py then judges the answer against expected.json
# (allowed, 403, each message naming rule, object and offending value, warnings, audit
# annotations).
source "$(dirname "$0")/lib.sh"
VAL=$SA_SRC/tests/validate
KEY=$SA_SRC/examples/example-public.pem

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
declare -A URLS
for policy in "$VAL"/policy*.yaml; do
  p=$(basename "$policy")
  port=$(free_port)
  start_server "${p%.yaml}" --listen "127.0.0.1:$port" --tls-cert "$TMP/certs/tls.crt" \
    --tls-key "$TMP/certs/tls.key" --policy "$policy" --public-key "$KEY"
  URLS[$p]=https://localhost:$port
  wait_ready "${URLS[$p]}" "$CA"
done

mkdir -p "$TMP/out"
# NAME POLICY per line, from the expectation table.
/usr/bin/python3 -c 'import json,sys
for k, v in json.load(open(sys.argv[1])).items(): print(k, v["policy"])' "$VAL/expected.json" > "$TMP/cases"
while read -r name policy; do
  f=$VAL/cases/$name.json
  [ -f "$f" ] || continue # check.py reports a row without a fixture
  "$SA_BIN" review --policy "$VAL/$policy" --public-key "$KEY" --path /validate "$f" 2>"$TMP/review.err" \
    | head -c -1 > "$TMP/out/$name.json"
  code=$(curl -sS --max-time 10 --cacert "$CA" -H 'Content-Type: application/json' --data-binary "@$f" \
    -o "$TMP/out/$name.server" -w '%{http_code}' "${URLS[$policy]}/validate?timeout=10s")
  expect_eq "$name: server answers 200" "$code" "200"
  check "$name: server and review are byte-identical" cmp -s "$TMP/out/$name.server" "$TMP/out/$name.json"
done < "$TMP/cases"

# check.py exits 1 exactly when it reported a "not ok" line; a crash (a traceback, exit 1 too, or
# any other status) or an empty report fails on its own, never passes for want of lines.
rc=0
/usr/bin/python3 "$VAL/check.py" "$VAL/expected.json" "$VAL/cases" "$TMP/out" > "$TMP/check.txt" \
  2> "$TMP/check.err" || rc=$?
reported=0
while IFS= read -r line; do
  case $line in
    "ok - "*) pass "${line#ok - }" ;;
    *) fail "${line#not ok - }"; reported=1 ;;
  esac
done < "$TMP/check.txt"
check "check.py reported on every fixture" [ "$(grep -c ': allowed is ' "$TMP/check.txt")" -eq "$(wc -l < "$TMP/cases")" ]
if [ "$rc" -ne 0 ] && [ "$reported" -eq 0 ] || [ -s "$TMP/check.err" ] || [ "$rc" -gt 1 ]; then
  fail "check.py exited $rc: $(head -c 2000 "$TMP/check.err")"
fi
finish
