#!/usr/bin/env bash
# helm template in every certificate mode and with every option set; check_render.py asserts on the objects.
source "$(dirname "$0")/lib.sh"

# render NAME MODE RELEASE NAMESPACE [helm value args: -f FILE / --set K=V]...
render() {
  local name=$1 mode=$2 release=$3 ns=$4; shift 4
  "$HELM" template "$release" "$CHART" --namespace "$ns" "$@" >"$TMP/$name.yaml" \
    || fail "helm template ($name) exited non-zero"
  "$PY" "$HERE/check_render.py" "$TMP/$name.yaml" --release "$release" --namespace "$ns" --mode "$mode" "$@" \
    || fail "rendered objects ($name) are wrong"
}

render default generated sa session-admission
render self-signed generated admission platform-webhooks \
  --set certManager.enabled=false --set autoscaling.enabled=true --set webhook.tokens.enabled=false \
  --set 'webhook.excludedNamespaces={monitoring,tenant-system}'
render cert-manager cert-manager sa session-admission --set certManager.enabled=true
render operator-kit generated sa session-admission --set serviceMonitor.enabled=true \
  --set prometheusRule.enabled=true --set grafana.dashboard.enabled=true --set networkPolicy.enabled=true
render cert-manager-issuer cert-manager sa ambient-code --set certManager.enabled=true \
  --set certManager.issuerRef.kind=ClusterIssuer --set certManager.issuerRef.name=platform-ca
render full existing-secret session-admission ambient-code -f "$HERE/values-full.yaml"
# The registrations per Kubernetes version: before 1.28 (no webhook matchConditions) and after.
for kv in 1.26.0 1.30.0; do
  render "default-$kv" generated sa session-admission --kube-version "$kv"
  render "full-$kv" existing-secret session-admission ambient-code -f "$HERE/values-full.yaml" --kube-version "$kv"
  render "unlabelled-$kv" generated sa session-admission --kube-version "$kv" \
    --set webhook.pods.unlabelled.failurePolicy=Ignore --set webhook.rbac.failurePolicy=Ignore
  render "no-unlabelled-$kv" generated sa session-admission --kube-version "$kv" \
    --set webhook.pods.unlabelled.enabled=false --set webhook.rbac.enabled=false
done

# enforcement policies and both: the generated policies beside the webhooks they leave (which ones
# check_render recomputes from the shipped file's "# webhook-only:" lines); the MutatingAdmissionPolicy
# only where the cluster serves its version. test_policies.sh checks the policies themselves.
key=(--set-file "publicKey.pem=$SA_SRC/examples/example-public.pem")
map=admissionregistration.k8s.io/v1alpha1/MutatingAdmissionPolicy
render policies-1.30 generated sa session-admission --kube-version 1.30.0 --set enforcement=policies "${key[@]}"
render policies-1.33 generated sa ambient-code --kube-version 1.33.0 --set enforcement=policies "${key[@]}"
render policies-1.33-map generated sa ambient-code --kube-version 1.33.0 --set enforcement=policies "${key[@]}" \
  --api-versions "$map"
render both-1.33-map cert-manager sa ambient-code --kube-version 1.33.0 --set enforcement=both "${key[@]}" \
  --api-versions "$map" --set certManager.enabled=true
render policies-1.34-beta generated sa session-admission --kube-version 1.34.0 --set enforcement=policies "${key[@]}" \
  --api-versions admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy --set webhook.rbac.enabled=false
render policies-1.36 existing-secret admission platform --kube-version 1.36.0 --set enforcement=policies "${key[@]}" \
  --set tls.existingSecret=mine --set-string "tls.caBundle=$("$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["tls"]["caBundle"])' "$HERE/values-full.yaml")"
# A manifest that leaves nothing to the webhook (as generate will once it writes the Role rules):
# no webhook registration, so no webhook server either.
grep -v '^# webhook-only: rbac-' "$CHART/files/policies/k8s-1.36.yaml" >"$TMP/no-webhook-only.yaml"
render policies-nothing-left generated sa session-admission --kube-version 1.36.0 --set enforcement=policies "${key[@]}" \
  --set-file "policies.manifest=$TMP/no-webhook-only.yaml"
grep -q '^kind: Deployment' "$TMP/policies-nothing-left.yaml" && fail "a Deployment with no webhook registration left"

# Chart-generated certificates differ on every render that cannot look up the stored Secret
# (which is why install and upgrade must reuse it; tests/e2e/cases/10-chart.sh checks they do).
ca() { grep -m1 '^  ca.crt:' "$TMP/$1.yaml"; }
"$HELM" template sa "$CHART" --namespace session-admission >"$TMP/again.yaml"
[ "$(ca default)" != "$(ca again)" ] || fail "two renders without a cluster produced the same CA"
echo "ok: all renders asserted"
