#!/usr/bin/env bash
# test_suite.sh: `session-admission test`: the shipped suites for the example policy pass; every
# kind of mismatch FAILs with its reason (tests/suite/failing.yaml); YAML typing as kubectl's
# (tests/suite/typing.yaml); a directory runs each suite in it; unusable suites exit 2 with one
# line.
source "$(dirname "$0")/lib.sh"

# SA_WRAP (the valgrind stage) wraps every run of the binary, so memory errors fail the test.
# shellcheck disable=SC2086
sa() { ${SA_WRAP:-} "$SA_BIN" "$@"; }

rc() { local r=0; "$@" >"$TMP/out" 2>"$TMP/err" || r=$?; echo "$r"; }
cd "$SA_SRC"

expect_eq "the shipped suites (examples/tests) pass: exit 0" "$(rc sa test examples/tests)" "0"
expect_eq "... the last line" "$(tail -n 1 "$TMP/out")" "26 passed, 0 failed"
expect_eq "... one PASS line per case, both suites" "$(grep -c '^PASS examples/tests/\(suite\|named-operators\).yaml: ' "$TMP/out")" "26"
check "... the session pod case" grep -qx 'PASS examples/tests/suite.yaml: a session pod gets its session ServiceAccount and the key' "$TMP/out"
expect_eq "... the suites name their key: nothing said on stderr" "$(cat "$TMP/err")" ""
expect_eq "one suite file: exit 0" "$(rc sa test examples/tests/named-operators.yaml)" "0"
expect_eq "... its count" "$(tail -n 1 "$TMP/out")" "3 passed, 0 failed"

expect_eq "YAML typing suite: exit 0" "$(rc sa test tests/suite/typing.yaml)" "0"
expect_eq "... passes" "$(tail -n 1 "$TMP/out")" "1 passed, 0 failed"
check "a suite naming no key: the example key, said on stderr" grep -q 'using the built-in example key, SHA-256 b3c98bf0' "$TMP/err"

expect_eq "every failing case: exit 1" "$(rc sa test tests/suite/failing.yaml)" "1"
expect_eq "... the closing line" "$(tail -n 1 "$TMP/out")" "0 passed, 17 failed"
F="FAIL tests/suite/failing.yaml"
while IFS= read -r want; do
  check "reason: $want" grep -qxF "$want" "$TMP/out"
done <<EOF2
$F: wrong verdict: verdict denied, expected allowed: rbac-session-binding: RoleBinding project-a/session-edit: roleRef ClusterRole/edit is not in allowedRoles (subject ServiceAccount project-a/session-abc-sa)
$F: wrong allowed: allowed, expected not allowed: allowed
$F: wrong rules: rules [rbac-session-binding], expected [rbac-cross-namespace]
$F: unknown rule id: expect.rules: unknown rule id "no-such-rule"
$F: not patched: not patched, expected patched: rbac-session-binding: RoleBinding project-a/session-edit: roleRef ClusterRole/edit is not in allowedRoles (subject ServiceAccount project-a/session-abc-sa)
$F: a field with the wrong type: data.octal is 493, expected "0755"
$F: fields that are not a map: expect.fields: an object of paths and values
$F: a malformed field path: expect.fields: malformed path data..x
$F: a missing object file: object: tests/suite/objects/missing.yaml: No such file or directory
$F: a typo in a key: unknown key "expected"
$F: an unknown expectation: unknown expectation "allowd" (verdict, allowed, rules, message, warning, patched, fields)
$F: both object and review: needs exactly one of object and review
$F: a file of two objects: object: tests/suite/../../tests/suite/two.yaml holds 2 objects, not one
$F: a bad operation: operation: CREATE, UPDATE or DELETE
$F: a broken review file: unusable: body is not valid JSON (error at byte 0)
EOF2
check "message and warning mismatches show what was there" grep -q "^$F: no warning: no warning contains \"anything\" (denied: rbac-session-binding: " "$TMP/out"

# A directory: each suite in name order, the other YAML files (objects, policies) skipped.
mkdir -p "$TMP/dir/objects"
cp examples/tests/objects/edit-session-sa.yaml "$TMP/dir/objects/"
cp examples/policy.yaml "$TMP/dir/b-policy.yaml"
for s in a c; do
  printf 'apiVersion: session-admission/v1alpha1\nkind: TestSuite\npolicy: b-policy.yaml\ncases:\n  - name: %s\n    object: objects/edit-session-sa.yaml\n    expect: {allowed: %s}\n' "$s" "$([ $s = a ] && echo false || echo true)" > "$TMP/dir/$s-suite.yaml"
done
expect_eq "a directory with a failing suite: exit 1" "$(rc sa test "$TMP/dir")" "1"
expect_eq "... its suites in order, then the counts" "$(sed "s|$TMP/dir/||" "$TMP/out" | cut -c1-21)" "PASS a-suite.yaml: a
FAIL c-suite.yaml: c:
1 passed, 1 failed"
expect_eq "--policy overrides the suites' own" "$(rc sa test --policy "$TMP/dir/b-policy.yaml" --public-key examples/example-public.pem "$TMP/dir/a-suite.yaml")" "0"

# Unusable suites: exit 2, one line, nothing judged.
unusable() { # DESCRIPTION FILE REGEX
  expect_eq "$1: exit 2" "$(rc sa test "$2")" "2"
  expect_eq "$1: one line on stderr" "$(grep -c . "$TMP/err")" "1"
  check "$1: says why ($(cat "$TMP/err"))" grep -Eq "$3" "$TMP/err"
  expect_eq "$1: the counts still close stdout" "$(tail -n 1 "$TMP/out")" "0 passed, 0 failed"
}
unusable "a missing suite" "$TMP/nope.yaml" "nope.yaml: No such file"
unusable "not a suite" examples/policy.yaml "policy.yaml: not a suite"
printf 'apiVersion: session-admission/v1alpha1\nkind: TestSuite\ncases: []\n' > "$TMP/empty.yaml"
unusable "no cases" "$TMP/empty.yaml" "empty.yaml: cases must be a non-empty list"
printf 'apiVersion: session-admission/v1alpha1\nkind: TestSuite\npolicy: broken.yaml\ncases: [{name: x, object: y, expect: {}}]\n' > "$TMP/brokenpol.yaml"
printf 'apiVersion: session-admission/v1alpha1\nkind: Policy\nsessions: {label: 42x!}\n' > "$TMP/broken.yaml"
unusable "a broken policy" "$TMP/brokenpol.yaml" "brokenpol.yaml: policy refused"
printf 'apiVersion: session-admission/v1alpha1\nkind: TestSuite\ncases:\n  - {name: x\n' > "$TMP/trunc.yaml"
unusable "a truncated suite" "$TMP/trunc.yaml" "trunc.yaml: document 1: line [0-9]+ column [0-9]+: "
head -c 3000 /dev/urandom > "$TMP/binary.yaml"
unusable "binary" "$TMP/binary.yaml" "binary.yaml: document 1: "
mkdir -p "$TMP/none"
unusable "a directory without suites" "$TMP/none" "none: no suite"
expect_eq "no argument: exit 2" "$(rc sa test)" "2"
finish
