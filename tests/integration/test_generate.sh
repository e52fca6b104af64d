#!/usr/bin/env bash
# test_generate.sh: `generate` writes a YAML stream kubectl can apply: the key ConfigMap, one
# ValidatingAdmissionPolicy and binding per rule and family, validationActions from the rules'
# modes (or [Warn, Audit] with --actions warn), what is left to the webhook on stderr and in the
# output; bad flags and a glob CEL cannot say are refused with one line, exit 2. What the CEL
# decides is proven by tests/generate (offline, cel-js) and tests/e2e/policies.sh (kube-apiserver).
source "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2086
sa() { ${SA_WRAP:-} "$SA_BIN" "$@"; }
rc() { local r=0; "$@" >"$TMP/out" 2>"$TMP/err" || r=$?; echo "$r"; }
# The documents of $TMP/out, one line each: kind name [actions] [rule annotation]
docs() {
  /usr/bin/python3 - "$TMP/out" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d: continue
    spec = d.get("spec", {})
    extra = spec.get("validationActions") or (d.get("metadata", {}).get("annotations") or {}).get(
        "session-admission.ambient-code.io/rule", "")
    print(d["kind"], d["metadata"]["name"], extra if isinstance(extra, str) else ",".join(extra))
PY
}

KEY=$SA_SRC/examples/example-public.pem
expect_eq "generate for the example policy: exit 0" "$(rc sa generate --public-key "$KEY")" "0"
expect_eq "... the documents, in order" "$(docs)" "ConfigMap session-admission-params 
ValidatingAdmissionPolicy session-admission-session-pod-pods session-pod
ValidatingAdmissionPolicyBinding session-admission-session-pod-pods Deny
ValidatingAdmissionPolicy session-admission-session-env-from-secret-pods session-env-from-secret
ValidatingAdmissionPolicyBinding session-admission-session-env-from-secret-pods Deny
ValidatingAdmissionPolicy session-admission-session-token-audience-pods session-token-audience
ValidatingAdmissionPolicyBinding session-admission-session-token-audience-pods Deny
ValidatingAdmissionPolicy session-admission-session-token-audience-tokens session-token-audience
ValidatingAdmissionPolicyBinding session-admission-session-token-audience-tokens Deny
ValidatingAdmissionPolicy session-admission-rbac-session-binding-bindings rbac-session-binding
ValidatingAdmissionPolicyBinding session-admission-rbac-session-binding-bindings Deny
ValidatingAdmissionPolicy session-admission-rbac-cross-namespace-bindings rbac-cross-namespace
ValidatingAdmissionPolicyBinding session-admission-rbac-cross-namespace-bindings Deny
ValidatingAdmissionPolicy session-admission-rbac-token-audience-bindings rbac-token-audience
ValidatingAdmissionPolicyBinding session-admission-rbac-token-audience-bindings Deny
ValidatingAdmissionPolicy session-admission-rbac-impersonation-roles rbac-impersonation
ValidatingAdmissionPolicyBinding session-admission-rbac-impersonation-roles Deny
ValidatingAdmissionPolicy session-admission-rbac-token-audience-roles rbac-token-audience
ValidatingAdmissionPolicyBinding session-admission-rbac-token-audience-roles Deny
ValidatingAdmissionPolicy session-admission-rbac-session-binding-roles rbac-session-binding
ValidatingAdmissionPolicyBinding session-admission-rbac-session-binding-roles Deny
ValidatingAdmissionPolicy session-admission-refused-tokens refused
ValidatingAdmissionPolicyBinding session-admission-refused-tokens Deny
MutatingAdmissionPolicy session-admission-session-pod-mutation session-pod
MutatingAdmissionPolicyBinding session-admission-session-pod-mutation "
check "... the key and its fingerprint in the ConfigMap" /usr/bin/python3 -c '
import sys, yaml
cm = next(yaml.safe_load_all(open(sys.argv[1])))
assert cm["data"]["publicKey"] == open(sys.argv[2]).read(), "publicKey"
assert cm["data"]["fingerprint"] == "b3c98bf0b0bfb58fdc9373ca54b395eb65dbaf9804b42c48997fefc50f593e1c"
assert cm["metadata"]["namespace"] == "session-admission"' "$TMP/out" "$KEY"
check "... webhook-only rules on stderr: the NUL refusal alone" \
  sh -c "grep '^generate: webhook-only: ' '$TMP/err' | cut -d' ' -f3 | tr '\n' ' ' | grep -qx 'refused '"
check "... and as comments of the output (TokenRequests written out)" grep -q '^# webhook-only: refused Pod,RoleBinding,ClusterRoleBinding,Role,ClusterRole: ' "$TMP/out"
check "... every denial message is the rule id, then the webhook's message" /usr/bin/python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ValidatingAdmissionPolicy":
        rule = d["metadata"]["annotations"]["session-admission.ambient-code.io/rule"]
        v = d["spec"]["validations"][0]
        assert v["message"].startswith(rule + ": "), rule
        assert rule == "refused" or ("\"%s: \"" % rule) in v["messageExpression"], rule' "$TMP/out"

sed 's/^  session-pod: enforce/  session-pod: warn/; s/^  rbac-cross-namespace: enforce/  rbac-cross-namespace: audit/' \
  "$SA_SRC/examples/policy.yaml" > "$TMP/modes.yaml"
rc sa generate --policy "$TMP/modes.yaml" --public-key "$KEY" --namespace ops >/dev/null
check "modes: warn binds [Warn]" grep -qx 'ValidatingAdmissionPolicyBinding session-admission-session-pod-pods Warn' <(docs)
check "... audit binds [Audit]" grep -qx 'ValidatingAdmissionPolicyBinding session-admission-rbac-cross-namespace-bindings Audit' <(docs)
check "... --namespace places the ConfigMap and the paramRef" \
  sh -c "grep -c 'namespace: ops' '$TMP/out' | grep -qx 3"
rc sa generate --public-key "$KEY" --actions warn >/dev/null
expect_eq "--actions warn: every binding [Warn, Audit] (all eleven)" "$(docs | grep -c 'Binding .* Warn,Audit$')" "11"

expect_eq "--kube-version 1.29: exit 2" "$(rc sa generate --kube-version 1.29)" "2"
expect_eq "... one line" "$(cat "$TMP/err")" \
  "session-admission generate: --kube-version 1.29: this build generates for 1.30 to 1.36 (ValidatingAdmissionPolicy v1 is served from 1.30)"
expect_eq "--kube-version two: exit 2" "$(rc sa generate --kube-version two)" "2"
check "... says what it expected" grep -qx 'session-admission generate: --kube-version two: expected MAJOR.MINOR, e.g. 1.33' "$TMP/err"
expect_eq "--kube-version v1.33.3 is read as 1.33" "$(rc sa generate --kube-version v1.33.3 --public-key "$KEY")" "0"
check "... and said in the header" grep -q 'for Kubernetes 1.33\.$' "$TMP/out"
check "... MutatingAdmissionPolicy v1alpha1 there" grep -qx 'apiVersion: admissionregistration.k8s.io/v1alpha1' "$TMP/out"
expect_eq "--kube-version 1.34: v1beta1" "$(sa generate --kube-version 1.34 --only mutating --public-key "$KEY" 2>/dev/null | grep -c '^apiVersion: admissionregistration.k8s.io/v1beta1$')" "2"
expect_eq "--kube-version 1.36: v1" "$(sa generate --only mutating --public-key "$KEY" 2>/dev/null | grep -c '^apiVersion: admissionregistration.k8s.io/v1$')" "2"
rc sa generate --kube-version 1.32 --public-key "$KEY" >/dev/null
check "--kube-version 1.32: no MutatingAdmissionPolicy" sh -c "! grep -q 'kind: MutatingAdmissionPolicy' '$TMP/out'"
check "... the mutation said to be the webhook's" grep -q '^generate: webhook-only: mutation (Pod): MutatingAdmissionPolicy is generated for Kubernetes 1.33 and later' "$TMP/err"
rc sa generate --only validating --public-key "$KEY" >/dev/null
check "--only validating: no MutatingAdmissionPolicy" sh -c "! grep -q 'kind: MutatingAdmissionPolicy' '$TMP/out'"
check "... nor a note about it" sh -c "! grep -q 'webhook-only: mutation' '$TMP/err'"
rc sa generate --only mutating --public-key "$KEY" >/dev/null
expect_eq "--only mutating: the ConfigMap and the mutation" "$(docs)" "ConfigMap session-admission-params 
MutatingAdmissionPolicy session-admission-session-pod-mutation session-pod
MutatingAdmissionPolicyBinding session-admission-session-pod-mutation "
expect_eq "--only other: exit 2" "$(rc sa generate --only other)" "2"
expect_eq "--actions other: exit 2" "$(rc sa generate --actions other)" "2"

sed 's/^  forbiddenEnv: .*/  forbiddenEnv: ["[[:upper:]]*_TOKEN"]/' "$SA_SRC/examples/policy.yaml" > "$TMP/class.yaml"
expect_eq "a glob with [:class:]: exit 2" "$(rc sa generate --policy "$TMP/class.yaml" --public-key "$KEY")" "2"
check "... one line naming the glob" grep -q '^session-admission generate: the glob "\[\[:upper:\]\]\*_TOKEN" uses a bracket form' "$TMP/err"
expect_eq "... and nothing on stdout" "$(wc -c < "$TMP/out")" "0"
expect_eq "a broken policy: exit 2" "$(rc sa generate --policy "$SA_SRC/README.md")" "2"
check "generate --help names the command" sh -c "'$SA_BIN' generate --help | grep -q 'ValidatingAdmissionPolicies'"
check "the command list names generate" sh -c "'$SA_BIN' --help | grep -q '^  generate '"
finish
