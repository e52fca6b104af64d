#!/usr/bin/env bash
# The e2e suite: session-admission behind a real kube-apiserver (the repository README's
# "End-to-end tests"). Starts etcd and kube-apiserver (cluster.sh), installs the chart with helm,
# runs the webhook server on loopback and points the chart's webhooks at it, then runs every
# case_* function of cases/*.sh in file order, one line each, and the closing line
# "N passed, N failed[, N skipped]". Exits 1 when a case failed.
#   bash tests/e2e/run.sh [REGEX]   only the cases whose name matches REGEX (the chart's always run)
#   SA_E2E_ENFORCEMENT=policies bash tests/e2e/run.sh   the chart installed with enforcement=policies
#       (the API server started with MutatingAdmissionPolicy's feature gate): each refusal and
#       admission judged by the generated policies where they cover it and by the webhook where
#       they leave it to it; cases about the webhook server itself are skipped, counted.
#       SA_E2E_MAP=off: without the feature gate, so the mutation stays the webhook's
# Environment: SA_BIN (default build/session-admission), HELM (default .tools/bin/helm),
# KUBEBUILDER_ASSETS (a folder with kube-apiserver and etcd, kubectl optional), KUBECTL (empty:
# none), KUBE_APISERVER_FLAGS (more flags, e.g. feature gates), CI=true (no API server fails),
# SA_E2E_KEEP=1 (keep the run's folder: logs, PKI, kubeconfig).
source "$(dirname "$0")/lib.sh"
source "$E2E/cluster.sh"
for f in "$E2E"/cases/*.sh; do source "$f"; done
only=${1:-}

cleanup() {
  # (a server that already died must not end the trap, under errexit, before cluster_stop)
  if [ -s "$W/webhook.pid" ] && ! kill -KILL "$(cat "$W/webhook.pid")" 2>/dev/null; then
    echo "# the webhook server had already exited"
  fi
  cluster_stop
  if [ -n "${SA_E2E_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SA_BIN" ] || { echo "FAIL: no server binary at $SA_BIN (build first)"; exit 1; }
# MutatingAdmissionPolicy is v1alpha1 in 1.33 and v1beta1 in 1.34-1.35, off unless enabled (an
# API server that knows neither flag value refuses to start: policies.sh passes the same).
[ "$ENFORCEMENT" = webhook ] || [ "${SA_E2E_MAP:-on}" = off ] || KUBE_APISERVER_FLAGS="${KUBE_APISERVER_FLAGS:-} --feature-gates=MutatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/v1alpha1=true"
[ -x "$HELM" ] || { echo "FAIL: helm not found at $HELM (run .ci/setup)"; exit 1; }

if ! cluster_find_assets >"$W/why"; then
  if [ "${CI:-}" = true ]; then
    echo "not ok - e2e: $(cat "$W/why") (CI=true: an API server is required)"; FAILED=1
  else
    echo "skip - e2e: $(cat "$W/why")"; SKIPPED=1
  fi
  finish
  exit
fi
start=$SECONDS
if ! cluster_start >"$W/why" 2>&1 || [ "$(kapi GET /version)" != 200 ]; then
  tail -n 30 "$W/why"
  echo "not ok - e2e: $KUBE_APISERVER and $ETCD did not start (logs above)"; FAILED=1
  finish
  exit
fi
KUBE_VERSION=$(jget 'd["gitVersion"]') KUBE_MINOR=$(jget 'int(d["minor"].rstrip("+"))')
export KUBE_VERSION KUBE_MINOR
echo "# $KUBE_APISERVER ($KUBE_VERSION) and $ETCD, ready in $((SECONDS - start)) s; kubectl: ${KUBECTL:-none}; enforcement: $ENFORCEMENT${SA_E2E_MAP:+ (MutatingAdmissionPolicy: $SA_E2E_MAP)}"

# The webhook server's certificates; its port, fixed for the run (the registered URLs name it).
bash "$SA_SRC/certs/gen-certs.sh" --out "$W/webhook" >/dev/null
WEBHOOK_PORT=$(free_port)
export KUBECONFIG=$W/kubeconfig HELM_CACHE_HOME=$W/helm/cache HELM_CONFIG_HOME=$W/helm/config HELM_DATA_HOME=$W/helm/data

for f in "$E2E"/cases/*.sh; do
  for name in $(sed -n 's/^case_\([a-z0-9_]*\)() .*/\1/p' "$f"); do
    # The chart's cases (10-chart.sh) install what every other case needs.
    [ -z "$only" ] || [[ $name =~ $only ]] || [ "$(basename "$f")" = 10-chart.sh ] || continue
    run_case "$name"
  done
  if [ "$(basename "$f")" = 10-chart.sh ] && [ "$FAILED" -ne 0 ]; then
    echo "# the chart is not installed and pointed at the server: the other cases cannot run"
    break
  fi
done
echo "# $((SECONDS - start)) s"
finish
