#!/usr/bin/env bash
# policies.sh: the generated admission policies alone, behind a real kube-apiserver (no webhook
# registered): every document `generate` writes for examples/policy.yaml is created (the API server
# compiles each expression against the resources' schemas and refuses what it cannot compile),
# then policies_check.py sends session pods, TokenRequests and bindings through the API server
# (server-side dry-run) and compares each outcome and rule id with the C core's verdict on the
# review the API server would send (`review`), and the mutated session pod field by field with
# the webhook's patch. MutatingAdmissionPolicy is v1alpha1 in 1.33, behind its feature gate.
#   bash tests/e2e/policies.sh        Environment: as run.sh (SA_BIN, KUBEBUILDER_ASSETS, CI)
source "$(dirname "$0")/lib.sh"
source "$E2E/cluster.sh"
trap 'cluster_stop; [ -n "${SA_E2E_KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"' EXIT

[ -x "$SA_BIN" ] || { echo "FAIL: no server binary at $SA_BIN (build first)"; exit 1; }
if ! cluster_find_assets >"$W/why"; then
  if [ "${CI:-}" = true ]; then echo "not ok - policies: $(cat "$W/why") (CI=true: an API server is required)"; exit 1; fi
  echo "skip - policies: $(cat "$W/why")"; exit 0
fi
export KUBE_APISERVER_FLAGS="${KUBE_APISERVER_FLAGS:-} --feature-gates=MutatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/v1alpha1=true"
start=$SECONDS
if ! cluster_start >"$W/why" 2>&1; then tail -n 30 "$W/why"; echo "not ok - policies: the API server did not start"; exit 1; fi
minor=$("$KUBE_APISERVER" --version | sed -n 's/^Kubernetes v1\.\([0-9]*\).*/\1/p')
"$SA_BIN" generate --kube-version "1.$minor" --policy "$SA_SRC/examples/policy.yaml" \
  --public-key "$SA_SRC/examples/example-public.pem" >"$W/policies.yaml" 2>"$W/generate.err"
echo "# kube-apiserver 1.$minor, up in $((SECONDS - start)) s"
KUBE_URL=$KUBE_URL W=$W SA_BIN=$SA_BIN SA_SRC=$SA_SRC "$PY" "$E2E/policies_check.py" "$W/policies.yaml"
