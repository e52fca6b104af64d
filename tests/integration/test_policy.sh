#!/usr/bin/env bash
# test_policy.sh: `check-policy` on the documented example (OK and its table sizes, exit 0) and
# on every file of the broken-policy catalog (its exact error lines with the path given, exit 1).
source "$(dirname "$0")/lib.sh"

out=$("$SA_BIN" check-policy "$SA_SRC/examples/policy.yaml"); rc=$?
expect_eq "examples/policy.yaml passes" "$rc" "0"
case "$out" in "OK exemptNamespaces=3 "*"audiences=1 modes=enforce:7,warn:0,audit:0") pass "OK with the table sizes" ;; *) fail "summary: $out" ;; esac

n=0
for f in "$SA_SRC"/tests/policy/broken/*.yaml; do
  n=$((n + 1))
  rc=0
  got=$("$SA_BIN" check-policy "$f" 2>&1) || rc=$?
  want=$(sed "s|^FILE:|$f:|" "${f%.yaml}.expected")
  expect_eq "$(basename "$f"): exit 1" "$rc" "1"
  expect_eq "$(basename "$f"): error lines" "$got" "$want"
done
check "the catalog holds at least 25 files ($n)" test "$n" -ge 25
rc=0; "$SA_BIN" check-policy "$TMP/missing.yaml" >/dev/null 2>&1 || rc=$?
expect_eq "a missing file exits 1" "$rc" "1"
finish
