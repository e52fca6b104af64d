#!/usr/bin/env bash
# test_scan.sh: `scan` on every input form (JSON, YAML, several documents, List, stdin, helm
# template output), its verdicts, rows, -o json (parsed by python3), exit codes 0/1/2, its
# errors (one line naming file and document), YAML typing as kubectl's, the audit of a recorded
# `kubectl get -A -o json` dump, hostile input (binary, truncated, 100,000 objects), and the key
# it judges with.
source "$(dirname "$0")/lib.sh"

# SA_WRAP (the valgrind stage) wraps every run of the binary, so memory errors fail the test.
# shellcheck disable=SC2086
sa() { ${SA_WRAP:-} "$SA_BIN" "$@"; }

KEY="$SA_SRC/examples/example-public.pem"
OBJ="$SA_SRC/examples/tests/objects"
DUMP="$SA_SRC/tests/scan/kubectl-get-all.json"
scan() { sa scan --public-key "$KEY" "$@"; }
# rc COMMAND...: the exit status, whatever it is.
rc() { local r=0; "$@" >"$TMP/out" 2>"$TMP/err" || r=$?; echo "$r"; }
# rows FILE: "verdict kind namespace/name rules" per -o json row, via python3's json.
rows() {
  /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    where = (d["namespace"] + "/" if d["namespace"] else "") + d["name"]
    print(d["verdict"], d["kind"], where, ",".join(d["rules"]) or "-")' "$1"
}

# --- input forms -------------------------------------------------------------------------------
expect_eq "one YAML object, allowed: exit 0" "$(rc scan "$OBJ/image-builder-rolebinding.yaml")" "0"
expect_eq "one YAML object, denied: exit 1" "$(rc scan "$OBJ/image-builder-clusterrolebinding.yaml")" "1"
check "a denied row names verdict, kind, name and rule" grep -Eq '^denied +ClusterRoleBinding +session-abc-image-builder +rbac-session-binding +rbac-session-binding: ' "$TMP/out"
check "the summary line" grep -qx '1 objects: 0 allowed, 0 patched, 0 warned, 1 denied, 0 not judged' "$TMP/out"

/usr/bin/python3 - "$OBJ/image-builder-rolebinding.yaml" "$TMP/rb.json" <<'PY'
import json, sys, yaml
json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"))
PY
expect_eq "a JSON file: exit 0" "$(rc scan -o json "$TMP/rb.json")" "0"
expect_eq "a JSON file: its row" "$(rows "$TMP/out")" "allowed RoleBinding project-a/session-abc-image-builder -"

cat "$OBJ/session-pod.yaml" > "$TMP/multi.yaml"
printf -- '---\n# an empty document, as helm template leaves them\n---\n' >> "$TMP/multi.yaml"
cat "$OBJ/edit-session-sa.yaml" >> "$TMP/multi.yaml"
printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: project-a}\ndata: {a: b}\n' >> "$TMP/multi.yaml"
MULTI_ROWS="patched Pod proj-alpha/session-7f3a9c2e-runner -
denied RoleBinding project-a/session-edit rbac-session-binding
not-judged ConfigMap project-a/settings -"
expect_eq "multi-document YAML with a denial: exit 1" "$(rc scan -o json "$TMP/multi.yaml")" "1"
expect_eq "multi-document YAML: a row per object, empty documents skipped" "$(rows "$TMP/out")" "$MULTI_ROWS"
check "-o json: the summary goes to stderr" grep -qx '3 objects: 0 allowed, 1 patched, 0 warned, 1 denied, 1 not judged' "$TMP/err"
expect_eq "-o json: document numbers count empty ones" \
  "$(/usr/bin/python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["document"]) for l in open(sys.argv[1])))' "$TMP/out")" "1 3 4"

expect_eq "stdin (-): exit 1" "$(rc scan -o json - < "$TMP/multi.yaml")" "1"
expect_eq "stdin: the same rows" "$(rows "$TMP/out")" "$MULTI_ROWS"
check "stdin: rows name <stdin>" grep -q '"file":"<stdin>"' "$TMP/out"
expect_eq "several files: exit 1" "$(rc scan -o json "$TMP/rb.json" "$TMP/multi.yaml")" "1"
expect_eq "several files: 4 rows" "$(wc -l < "$TMP/out")" "4"

# helm template output: `---` separated documents with "# Source:" comments, the real helm binary.
HELM_BIN="$SA_SRC/.tools/bin/helm"
if [ -x "$HELM_BIN" ]; then
  "$HELM_BIN" template rel "$SA_SRC/charts/session-admission" --namespace sa-system > "$TMP/helm.yaml"
  expect_eq "helm template output: exit 0" "$(rc scan -o json - < "$TMP/helm.yaml")" "0"
  expect_eq "... one row per rendered object" "$(wc -l < "$TMP/out")" "$(grep -c '^kind: ' "$TMP/helm.yaml")"
  check "... a cluster-scoped kind no webhook judges shows no namespace" \
    grep -q '"verdict":"not-judged","kind":"MutatingWebhookConfiguration","namespace":"","name":"rel-session-admission"' "$TMP/out"
else
  skip "helm template output: no helm at $HELM_BIN (bash .ci/setup installs it)"
fi

# A typed list as the API returns it (PodList): items carry no kind of their own.
/usr/bin/python3 - "$DUMP" "$TMP/podlist.json" <<'PY'
import json, sys
items = [i for i in json.load(open(sys.argv[1]))["items"] if i["kind"] == "Pod"]
for i in items:
    del i["kind"], i["apiVersion"]
json.dump({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}, open(sys.argv[2], "w"))
PY
expect_eq "a PodList: exit 1" "$(rc scan -o json "$TMP/podlist.json")" "1"
expect_eq "a PodList: items are Pods" "$(rows "$TMP/out" | cut -d' ' -f1,2 | tr '\n' ' ')" \
  "allowed Pod patched Pod denied Pod allowed Pod allowed Pod "
expect_eq "a PodList: rows carry the item index" \
  "$(/usr/bin/python3 -c 'import json,sys; print([json.loads(l)["item"] for l in open(sys.argv[1])])' "$TMP/out")" "[0, 1, 2, 3, 4]"

# --- the audit: a recorded `kubectl get roles,rolebindings,clusterroles,clusterrolebindings,pods -A -o json`
expect_eq "audit of the kubectl dump: exit 1" "$(rc scan -o json - < "$DUMP")" "1"
expect_eq "audit: what already violates the policy" "$(rows "$TMP/out" | grep -v '^allowed')" \
"denied RoleBinding project-a/debug-edit rbac-session-binding
denied ClusterRole cluster-admin rbac-impersonation,rbac-token-audience
denied ClusterRole project-a-impersonate rbac-impersonation
denied ClusterRoleBinding session-7f3a9c2e-admin rbac-session-binding
patched Pod project-a/session-0b1d44aa-runner -
denied Pod project-b/session-c0ffee00-runner session-pod"
check "audit: the summary" grep -qx '19 objects: 13 allowed, 1 patched, 0 warned, 5 denied, 0 not judged' "$TMP/err"
check "audit: a mutated pod as the API server returns it (status, kubelet's token volume) is allowed unchanged" \
  grep -q '"verdict":"allowed","kind":"Pod","namespace":"project-a","name":"session-7f3a9c2e-runner"' "$TMP/out"
expect_eq "audit as YAML (kubectl get -o yaml): the same rows" \
  "$(/usr/bin/python3 -c 'import json,sys,yaml; yaml.safe_dump(json.load(open(sys.argv[1])), sys.stdout)' "$DUMP" | sa scan --public-key "$KEY" -o json - 2>/dev/null | sed 's/,"file".*//')" \
  "$(sa scan --public-key "$KEY" -o json "$DUMP" 2>/dev/null | sed 's/,"file".*//')"

# Warn mode: the same audit before turning rules to enforce.
sed 's/: enforce$/: warn/' "$SA_SRC/examples/policy.yaml" > "$TMP/warn-policy.yaml"
expect_eq "audit under a warn-mode policy: exit 0" "$(rc scan --policy "$TMP/warn-policy.yaml" -o json "$DUMP")" "0"
expect_eq "warn mode: the violations are rows of verdict warned" "$(rows "$TMP/out" | grep -c '^warned')" "5"
# Exemptions by who writes follow --user: the API server writes its bootstrap roles.
expect_eq "audit as system:apiserver in system:masters: the bootstrap cluster-admin is exempt" \
  "$(scan -o json --user system:apiserver --group system:masters "$DUMP" 2>/dev/null | grep '"name":"cluster-admin"' | sed 's/,"rules.*//')" \
  '{"verdict":"allowed","kind":"ClusterRole","namespace":"","name":"cluster-admin"
{"verdict":"allowed","kind":"ClusterRoleBinding","namespace":"","name":"cluster-admin"' 

# --- --show-patched, user, groups, operation -----------------------------------------------------
expect_eq "--show-patched: exit 0" "$(rc scan -o json --show-patched "$OBJ/session-pod.yaml")" "0"
expect_eq "--show-patched: the mutated object" "$(json_get 'd["patched"]["spec"]["serviceAccountName"]' < "$TMP/out")" "session-7f3a9c2e-sa"
scan --show-patched "$OBJ/session-pod.yaml" > "$TMP/table" 2>/dev/null || true
check "--show-patched in a table: an indented line" grep -q '^  patched: {' "$TMP/table"
sed 's/exempt:/exempt:\n  users: [platform-admin]\n  groups: ["platform:break-glass"]\nexemptUnused:/' "$SA_SRC/examples/policy.yaml" \
  | grep -v '^exemptUnused:\|^  users: \[\]\|^  groups: \[\]' > "$TMP/exempt-policy.yaml"
sa check-policy "$TMP/exempt-policy.yaml" >/dev/null 2>&1 || fail "the exempt policy fixture is valid"
expect_eq "an exempt --user is not judged by the validators" "$(rc scan --policy "$TMP/exempt-policy.yaml" --user platform-admin "$OBJ/edit-session-sa.yaml")" "0"
expect_eq "another user is" "$(rc scan --policy "$TMP/exempt-policy.yaml" --user alice "$OBJ/edit-session-sa.yaml")" "1"
expect_eq "an exempt --group (repeatable)" "$(rc scan --policy "$TMP/exempt-policy.yaml" --group team-a --group platform:break-glass "$OBJ/edit-session-sa.yaml")" "0"
expect_eq "--operation DELETE: no webhook is registered" "$(rc scan -o json --operation DELETE "$OBJ/edit-session-sa.yaml")" "0"
expect_eq "--operation DELETE: not judged" "$(rows "$TMP/out")" "not-judged RoleBinding project-a/session-edit -"
expect_eq "--operation UPDATE: a pod is validated, not mutated" "$(rc scan -o json --operation UPDATE "$OBJ/session-pod.yaml")" "1"
expect_eq "--operation UPDATE: the unmutated session pod is denied" "$(rows "$TMP/out")" "denied Pod proj-alpha/session-7f3a9c2e-runner session-pod"
# A pod without the session label is validated too (the chart's validate-unlabelled-pods): one
# running as a session ServiceAccount is refused.
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: project-a}\nspec: {serviceAccountName: session-abc-sa, containers: [{name: c, image: i}]}\n' > "$TMP/nolabel.yaml"
expect_eq "a pod without the session label running as a session SA: exit 1" "$(rc scan -o json "$TMP/nolabel.yaml")" "1"
expect_eq "... denied" "$(rows "$TMP/out")" "denied Pod project-a/p session-pod"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {ambient-code.io/session-id: x}}\nspec: {containers: [{name: c, image: i}]}\n' > "$TMP/nons.yaml"
expect_eq "no namespace: default, as kubectl" "$(scan -o json "$TMP/nons.yaml" 2>/dev/null | json_get 'd["namespace"]')" "default"
expect_eq "--namespace sets it" "$(scan -o json --namespace team-x "$TMP/nons.yaml" 2>/dev/null | json_get 'd["namespace"]')" "team-x"
expect_eq "a cluster-scoped object has no namespace, even if it names one" \
  "$(printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: x}\nrules: []\n' | scan -o json - 2>/dev/null | json_get 'd["namespace"]')" ""

# --- YAML typing, as kubectl (sigs.k8s.io/yaml, go-yaml v2) reads it --------------------------------
# A quoted "true" is the string a forbidden-env value may be; a plain yes is the boolean true, so
# an env value of yes is not a string (the API server would refuse the pod, not this webhook).
cat > "$TMP/typing.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: session-typed
  namespace: project-a
  labels: {ambient-code.io/session-id: "0755"}
spec:
  containers: [{name: runner, image: runner}]
EOF
expect_eq "a quoted label value stays a string (\"0755\" is the session id)" \
  "$(scan -o json --show-patched "$TMP/typing.yaml" 2>/dev/null | json_get 'd["patched"]["spec"]["serviceAccountName"]')" "session-0755-sa"
sed 's/"0755"/0755/' "$TMP/typing.yaml" > "$TMP/typing-plain.yaml"
expect_eq "a plain 0755 is the octal number 493, not a string: the session label is not a string, so no mutation" \
  "$(scan -o json --show-patched "$TMP/typing-plain.yaml" 2>/dev/null | json_get 'd.get("patched")')" "None"
# --- exit 2: unusable input, one line naming the file and the document ----------------------------
# one_line DESCRIPTION FILE WANT_REGEX: exit 2, nothing on stdout, exactly one stderr line matching.
one_line() {
  local d=$1 f=$2 want=$3
  expect_eq "$d: exit 2" "$(rc scan "$f")" "2"
  expect_eq "$d: nothing judged" "$(wc -c < "$TMP/out")" "0"
  expect_eq "$d: one line on stderr" "$(wc -l < "$TMP/err")" "1"
  check "$d: names file and document ($(cat "$TMP/err"))" grep -Eq "$want" "$TMP/err"
}
head -c 700 "$DUMP" > "$TMP/truncated.json"
one_line "truncated JSON" "$TMP/truncated.json" "^session-admission scan: .*truncated.json: document 1: .*not valid JSON"
head -c 300 "$OBJ/session-pod.yaml" > "$TMP/truncated.yaml"; printf '  - {name: x' >> "$TMP/truncated.yaml"
one_line "truncated YAML" "$TMP/truncated.yaml" "truncated.yaml: document 1: line [0-9]+ column [0-9]+: "
head -c 4096 /dev/urandom > "$TMP/binary.bin"; printf '\0\377\376' >> "$TMP/binary.bin"
one_line "binary input" "$TMP/binary.bin" "binary.bin: document 1: "
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: b}\n' > "$TMP/nokind.yaml"
one_line "a document without apiVersion" "$TMP/nokind.yaml" "nokind.yaml: document 2: has no apiVersion$"
printf -- '- just\n- a list\n' > "$TMP/seq.yaml"
one_line "a document that is not a mapping" "$TMP/seq.yaml" "seq.yaml: document 1: is not a mapping"
printf 'apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Pod, metadata: {name: a}}\n  - 42\n' > "$TMP/baditem.yaml"
one_line "a List item that is no object" "$TMP/baditem.yaml" "baditem.yaml: document 1: items\[1\] is not a mapping"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, name: b}\n' > "$TMP/dup.yaml"
one_line "a duplicate key" "$TMP/dup.yaml" "dup.yaml: document 1: duplicate .*\"name\""
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: base, namespace: n}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  <<: {name: x}\n' > "$TMP/merge.yaml"
one_line "a merge key" "$TMP/merge.yaml" "merge.yaml: document 2: line 8 column 3: merge keys"
# Columns count characters, as the policy loader's do (tests/policy/broken/52-multibyte-column),
# whether libyaml's parser or its reader (a byte offset) found the error: "équipe" is six columns.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {team: \xc3\xa9quipe, n: .nan}}\n' > "$TMP/multibyte.yaml"
one_line "a multi-byte line" "$TMP/multibyte.yaml" "multibyte.yaml: document 1: line 3 column 47: NaN and infinity"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "\xc3\xa9quipe\001"}\n' > "$TMP/multibyte-reader.yaml"
one_line "a multi-byte line, reader error" "$TMP/multibyte-reader.yaml" "multibyte-reader.yaml: document 1: line 3 column 25: YAML syntax error: control characters"
/usr/bin/python3 - "$TMP/laughs.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
    for i in range(1, 10):
        f.write("a%d: &a%d [%s]\n" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)))
PY
one_line "billion laughs" "$TMP/laughs.yaml" "laughs.yaml: document 1: line [0-9]+ column [0-9]+: aliases expand to more than"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nan, namespace: n}\ndata: {a: .nan}\n' > "$TMP/nan.yaml"
one_line "NaN" "$TMP/nan.yaml" "nan.yaml: document 1: .*NaN"
one_line "a missing file" "$TMP/missing.yaml" "missing.yaml: No such file"
expect_eq "a good file and a bad one: nothing is judged" "$(rc scan "$OBJ/edit-session-sa.yaml" "$TMP/truncated.json")" "2"
expect_eq "... no rows" "$(wc -c < "$TMP/out")" "0"
expect_eq "-o yaml is refused: exit 2" "$(rc scan -o yaml "$TMP/rb.json")" "2"
expect_eq "no file: exit 2" "$(rc scan)" "2"
expect_eq "--operation CONNECT is refused: exit 2" "$(rc scan --operation CONNECT "$TMP/rb.json")" "2"

# Aliases within the bound are expanded, as kubectl does.
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: session-a\n  namespace: project-a\n  labels: &l {ambient-code.io/session-id: abc}\n  annotations: *l\nspec: {containers: [{name: c, image: i}]}\n' > "$TMP/alias.yaml"
expect_eq "an alias is expanded" "$(scan -o json --show-patched "$TMP/alias.yaml" 2>/dev/null | json_get 'd["patched"]["metadata"]["annotations"]["ambient-code.io/session-id"]')" "abc"

# --- size: an unknown kind and 100,000 objects ------------------------------------------------------
if [ -n "${SA_WRAP:-}" ]; then
  skip "100,000 objects under $SA_WRAP: minutes; the release and asan stages run it"
else
/usr/bin/python3 - "$TMP/big.json" <<'PY'
import json, sys
items = [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w%d" % i, "namespace": "n"}} for i in range(99990)]
items += [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b%d" % i, "namespace": "project-a"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
           "subjects": [{"kind": "ServiceAccount", "name": "session-x-sa", "namespace": "project-a"}]} for i in range(10)]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(sys.argv[1], "w"))
PY
expect_eq "a 100,000-object List of mostly unknown kinds: exit 1" "$(rc scan "$TMP/big.json")" "1"
check "100,000 rows and the summary" grep -qx '100000 objects: 0 allowed, 0 patched, 0 warned, 10 denied, 99990 not judged' "$TMP/out"
fi

# --- keys ------------------------------------------------------------------------------------------
sa scan "$TMP/rb.json" >/dev/null 2>"$TMP/err" || true
check "without --public-key and no readable key file: the example key, said on stderr" \
  grep -q 'sessions.publicKey.file /etc/session-admission/keys/public.pem cannot be read here (No such file or directory): using the built-in example key, SHA-256 b3c98bf0b0bfb58fdc9373ca54b395eb65dbaf9804b42c48997fefc50f593e1c' "$TMP/err"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/own.key" 2>/dev/null
openssl pkey -in "$TMP/own.key" -pubout -out "$TMP/own.pem" 2>/dev/null
own_fp=$(openssl pkey -pubin -in "$TMP/own.pem" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
sed "s|/etc/session-admission/keys/public.pem|$TMP/own.pem|" "$SA_SRC/examples/policy.yaml" > "$TMP/own-policy.yaml"
expect_eq "the policy's readable key file is used" \
  "$(sa scan --policy "$TMP/own-policy.yaml" -o json --show-patched "$OBJ/session-pod.yaml" 2>"$TMP/err" | json_get 'd["patched"]["metadata"]["annotations"]["ambient-code.io/cp-token-key-sha256"]')" "$own_fp"
expect_eq "... and nothing is said about it" "$(grep -c 'example key' "$TMP/err")" "0"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMP/weak.key" 2>/dev/null
openssl pkey -in "$TMP/weak.key" -pubout -out "$TMP/weak.pem" 2>/dev/null
sed "s|/etc/session-admission/keys/public.pem|$TMP/weak.pem|" "$SA_SRC/examples/policy.yaml" > "$TMP/weak-policy.yaml"
expect_eq "a 1024-bit key in the policy's key file: exit 2" "$(rc sa scan --policy "$TMP/weak-policy.yaml" "$TMP/rb.json")" "2"
check "... saying why" grep -q 'sessions.publicKey.file refused: .*RSA key of 1024 bits; at least 2048 required' "$TMP/err"
sa review "$SA_SRC/tests/fixtures/pod-plain-v1.json" >/dev/null 2>"$TMP/err" || true
check "review says so too" grep -q 'using the built-in example key, SHA-256 b3c98bf0' "$TMP/err"
expect_eq "review takes the policy's key file" \
  "$(sa review --policy "$TMP/own-policy.yaml" "$SA_SRC/tests/fixtures/pod-plain-v1.json" 2>&1 >/dev/null | grep -c 'example key')" "0"
finish
