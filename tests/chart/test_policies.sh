#!/usr/bin/env bash
# enforcement=policies and both, against the real `session-admission generate` (SA_BIN, the freshly
# built binary under ctest):
#   1. files/policies/ is what tests/chart/generate-policies.sh writes now, from the chart's default
#      policy: a changed policy or generate fails here until the files are regenerated;
#   2. for every Kubernetes minor generate knows, the rendered policies are generate's own output
#      for that minor (the chart's file selection and its YAML round trip lose nothing), with the
#      chart's key and the release namespace exactly as generate writes them for that key and
#      namespace (a key PEM laid out oddly included: the fingerprint is the server's);
#   3. a user's policy (tests/chart/values-full.yaml) with its generate output in policies.manifest;
#   4. the "# webhook-only:" lines decide which webhooks stay (check_render.py recomputes them);
#   5. what must be refused: a changed policy without a manifest, no key at render time, a private
#      key, a cluster before 1.30, a manifest for a newer minor, one that is not generate's, a kind
#      the chart cannot register a webhook for.
source "$(dirname "$0")/lib.sh"
SA_BIN=${SA_BIN:-$SA_SRC/build/session-admission}
[ -x "$SA_BIN" ] || fail "no session-admission binary at $SA_BIN (build first, or set SA_BIN)"
export SA_BIN

# 1. The shipped files are fresh.
bash "$HERE/generate-policies.sh" --out "$TMP/fresh" >"$TMP/regen.out" || { cat "$TMP/regen.out" >&2; fail "generate-policies.sh"; }
if ! diff -r "$CHART/files/policies" "$TMP/fresh" >"$TMP/regen.diff"; then
  head -n 40 "$TMP/regen.diff" >&2
  fail "charts/session-admission/files/policies/ is stale (policy or generate changed): run bash tests/chart/generate-policies.sh"
fi
echo "ok: files/policies/ is what generate writes now ($(cat "$TMP/regen.out" | sed 's/^wrote [^:]*: //'))"

# The chart's policy as the webhook server gets it (the policy ConfigMap), for generate.
policy_of() { # policy_of OUT [helm args]: data.policy.yaml of the rendered policy ConfigMap
  local out=$1; shift
  "$HELM" template sa "$CHART" "$@" --show-only templates/configmap-policy.yaml >"$TMP/cm.yaml" || fail "helm template $*"
  "$PY" -c 'import sys, yaml; open(sys.argv[2], "w").write(yaml.safe_load(open(sys.argv[1]))["data"]["policy.yaml"])' \
    "$TMP/cm.yaml" "$out"
}
policy_of "$TMP/policy.yaml" --namespace session-admission

# A key of its own, its PEM laid out as no encoder writes it (text before the block, 76-column
# lines, CRLF): the chart must re-encode it as the server does.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out "$TMP/key.pem"
"$PY" - "$TMP/key.pem" "$TMP/odd-key.pem" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
body = "".join(lines[1:-2])
odd = ["subject: the control plane's token key", lines[0]] + [body[i:i + 76] for i in range(0, len(body), 76)] + [lines[-2], ""]
open(sys.argv[2], "w", newline="").write("\r\n".join(odd))
PY

newest=$(cd "$TMP" && "$SA_BIN" generate --policy policy.yaml --public-key key.pem 2>/dev/null \
  | sed -n '1s/.* for Kubernetes 1\.\([0-9]*\)\.$/\1/p')
[ -n "$newest" ] || fail "generate names no default Kubernetes version"
oldest=$newest
while [ "$oldest" -gt 1 ] && "$SA_BIN" generate --policy "$TMP/policy.yaml" --public-key "$TMP/key.pem" \
    --kube-version "1.$((oldest - 1))" >/dev/null 2>&1; do oldest=$((oldest - 1)); done

# 2. Every minor, with and without the MutatingAdmissionPolicy's version served; check_render.py (the
# webhooks and every other object; slower, it evaluates CEL) on the minors a shipped file starts at.
ns=platform-admission
served=(--api-versions admissionregistration.k8s.io/v1alpha1/MutatingAdmissionPolicy
        --api-versions admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy)
for ((m = oldest; m <= newest; m++)); do
  "$SA_BIN" generate --policy "$TMP/policy.yaml" --public-key "$TMP/odd-key.pem" --namespace "$ns" \
    --kube-version "1.$m" >"$TMP/gen-$m.yaml" 2>/dev/null || fail "generate --kube-version 1.$m"
  for mode in policies both; do
    "$HELM" template sa "$CHART" --namespace "$ns" --kube-version "1.$m.0" --set enforcement=$mode \
      --set-file "publicKey.pem=$TMP/odd-key.pem" "${served[@]}" >"$TMP/r-$m-$mode.yaml" \
      || fail "helm template enforcement=$mode --kube-version 1.$m"
    "$PY" "$HERE/check_policies.py" "$TMP/r-$m-$mode.yaml" "$TMP/gen-$m.yaml" --release sa --namespace "$ns" \
      >/dev/null || fail "enforcement=$mode on 1.$m: the rendered policies are not generate's"
    [ -f "$CHART/files/policies/k8s-1.$m.yaml" ] || continue
    "$PY" "$HERE/check_render.py" "$TMP/r-$m-$mode.yaml" --release sa --namespace "$ns" --mode generated \
      --kube-version "1.$m.0" --set enforcement=$mode --set-file "publicKey.pem=$TMP/odd-key.pem" "${served[@]}" \
      >/dev/null || fail "enforcement=$mode on 1.$m: rendered objects are wrong"
  done
  # Without the gated versions served (helm template's default, a cluster without the gate).
  "$HELM" template sa "$CHART" --namespace "$ns" --kube-version "1.$m.0" --set enforcement=policies \
    --set-file "publicKey.pem=$TMP/odd-key.pem" >"$TMP/r-$m-plain.yaml" || fail "helm template 1.$m"
  no_map=--no-mutating
  [ "$m" -lt 36 ] || no_map=""   # v1 is GA from 1.36: always served
  "$PY" "$HERE/check_policies.py" "$TMP/r-$m-plain.yaml" "$TMP/gen-$m.yaml" --release sa --namespace "$ns" $no_map \
    >/dev/null || fail "enforcement=policies on 1.$m without --api-versions"
  [ -f "$CHART/files/policies/k8s-1.$m.yaml" ] || continue
  "$PY" "$HERE/check_render.py" "$TMP/r-$m-plain.yaml" --release sa --namespace "$ns" --mode generated \
    --kube-version "1.$m.0" --set enforcement=policies --set-file "publicKey.pem=$TMP/odd-key.pem" \
    >/dev/null || fail "enforcement=policies on 1.$m without --api-versions: rendered objects are wrong"
done
echo "ok: Kubernetes 1.$oldest to 1.$newest, policies and both: the rendered policies are generate's, key and namespace included"

# 3. A user's policy: values-full's (other names, another release), its generate output given.
policy_of "$TMP/full-policy.yaml" --namespace ambient-code -f "$HERE/values-full.yaml"
full_pem=$("$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["publicKey"]["pem"], end="")' "$HERE/values-full.yaml")
printf '%s' "$full_pem" >"$TMP/full-key.pem"
"$SA_BIN" generate --policy "$TMP/full-policy.yaml" --public-key "$TMP/full-key.pem" --namespace ambient-code \
  --kube-version 1.33 >"$TMP/full-gen.yaml" 2>/dev/null || fail "generate for values-full's policy"
full=(--namespace ambient-code -f "$HERE/values-full.yaml" --kube-version 1.33.0 --set enforcement=policies
      --set-file "policies.manifest=$TMP/full-gen.yaml" --api-versions admissionregistration.k8s.io/v1alpha1/MutatingAdmissionPolicy)
"$HELM" template session-admission "$CHART" "${full[@]}" >"$TMP/full.yaml" || fail "helm template values-full, enforcement=policies"
"$PY" "$HERE/check_policies.py" "$TMP/full.yaml" "$TMP/full-gen.yaml" --release session-admission --namespace ambient-code \
  || fail "values-full with its manifest: the rendered policies are not generate's"
"$PY" "$HERE/check_render.py" "$TMP/full.yaml" --release session-admission --mode existing-secret "${full[@]}" \
  || fail "values-full with its manifest: rendered objects are wrong"
echo "ok: a user's policy with its generate output in policies.manifest"

# 4. The webhook-only lines decide: a kind a line names stays sent to the webhook.
base=$CHART/files/policies/k8s-1.33.yaml
key=(--set-file "publicKey.pem=$TMP/key.pem")
for kinds in Pod TokenRequest RoleBinding ClusterRoleBinding,TokenRequest; do
  sed "3i # webhook-only: e2e-rule $kinds: a test of the chart" "$base" >"$TMP/wo.yaml"
  args=(--namespace session-admission --kube-version 1.33.0 --set enforcement=policies "${key[@]}"
        --set-file "policies.manifest=$TMP/wo.yaml")
  "$HELM" template sa "$CHART" "${args[@]}" >"$TMP/wo-r.yaml" || fail "helm template with a webhook-only line for $kinds"
  "$PY" "$HERE/check_render.py" "$TMP/wo-r.yaml" --release sa --mode generated "${args[@]}" >/dev/null \
    || fail "webhook-only $kinds: the webhooks rendered are not the ones the lines leave"
done
# (The lines of "refused", the webhook's NUL refusal, and "mutation" keep nothing: the renders above.)
echo "ok: the webhook-only lines decide which webhooks stay"

# 5. Refusals.
refuse() { # refuse EXPECTED-MESSAGE [helm args]...
  local want=$1; shift
  if "$HELM" template sa "$CHART" --namespace session-admission "$@" >"$TMP/out" 2>"$TMP/err"; then
    fail "accepted: $* (expected: $want)"
  fi
  grep -qF -- "$want" "$TMP/err" || { cat "$TMP/err" >&2; fail "no '$want' in the error for: $*"; }
  [ "$(grep -c . "$TMP/err")" -le 3 ] || { cat "$TMP/err" >&2; fail "not a short reason for: $*"; }
  echo "ok: refused $* -> $want"
}
p=(--kube-version 1.33.0 "${key[@]}")
refuse "enforcement=policies: policy is not the chart's default, for which files/policies/ were generated" \
  "${p[@]}" --set enforcement=policies --set 'policy.sessions.forbiddenEnv={GITHUB_TOKEN}'
refuse "enforcement=both: policy is not the chart's default" "${p[@]}" --set enforcement=both --set policy.modes.session-pod=warn
refuse "the chart cannot read public.pem of Secret session-admission/ambient-cp-token-keypair" \
  --kube-version 1.33.0 --set enforcement=policies
refuse "holds a private key" --kube-version 1.33.0 --set enforcement=policies \
  --set-string $'publicKey.pem=-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----'
refuse 'holds no readable PEM "PUBLIC KEY" block' --kube-version 1.33.0 --set enforcement=policies \
  --set-string $'publicKey.pem=-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----'
refuse "needs ValidatingAdmissionPolicy v1 (Kubernetes 1.30 or later); this cluster is 1.29" \
  --kube-version 1.29.0 "${key[@]}" --set enforcement=policies
refuse "policies.manifest was generated for Kubernetes 1.36, this cluster is 1.33" "${p[@]}" --set enforcement=policies \
  --set-file "policies.manifest=$CHART/files/policies/k8s-1.36.yaml"
refuse "policies.manifest is not the output of session-admission generate" "${p[@]}" --set enforcement=policies \
  --set-file "policies.manifest=$TMP/key.pem"
sed "3i # webhook-only: e2e-rule Namespace: a kind the chart registers no webhook for" "$base" >"$TMP/wo.yaml"
refuse "leaves kind Namespace to the webhook, which this chart does not register for it" "${p[@]}" \
  --set enforcement=policies --set-file "policies.manifest=$TMP/wo.yaml"
{ cat "$base"; printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: x}\n'; } >"$TMP/extra.yaml"
refuse "holds a Secret: only generate's ConfigMap and admission policies belong there" "${p[@]}" \
  --set enforcement=policies --set-file "policies.manifest=$TMP/extra.yaml"
refuse 'enforcement must be one of the following: "webhook", "policies", "both"' --set enforcement=policy

# ... and accepted: the same policy written out again (toYaml of equal values: the same sha256), a
# changed policy with its manifest, a changed policy under enforcement=webhook.
accept() {
  "$HELM" template sa "$CHART" --namespace session-admission "$@" >"$TMP/out" 2>"$TMP/err" \
    || { cat "$TMP/err" >&2; fail "refused: $*"; }
  echo "ok: accepted $*"
}
accept "${p[@]}" --set enforcement=policies --set 'policy.sessions.forbiddenEnv={GITHUB_TOKEN,GITLAB_TOKEN,JIRA_API_TOKEN}'
accept "${p[@]}" --set enforcement=policies --set 'policy.sessions.forbiddenEnv={GITHUB_TOKEN}' \
  --set-file "policies.manifest=$base"
accept --set 'policy.sessions.forbiddenEnv={GITHUB_TOKEN}'
echo "ok: enforcement policies and both"
