#!/usr/bin/env bash
# bench/apiserver_latency.sh: the latency kube-apiserver adds per RoleBinding create and per session
# pod create with the webhook, and with the generated admission policies instead, side by side on
# the same real API server in one run (issue 21).
#
#   bash bench/apiserver_latency.sh      (about 3 minutes on 2 cores; appends to bench/apiserver-latency.md)
#
# Starts etcd and kube-apiserver on loopback as the e2e suite does (tests/e2e/cluster.sh), with the
# MutatingAdmissionPolicy feature gate, and `serve` on loopback TLS with examples/policy.yaml and
# examples/example-public.pem. The webhook configurations are the chart's (helm template, default
# values), each webhook pointed at the loopback server by URL (tests/e2e/loopback_webhooks.py),
# everything else as rendered (failurePolicy Fail, rules, selectors, matchConditions). The policies
# are `generate --kube-version 1.MINOR` of the same files. bench/apiserver_latency.py then times, in
# rounds of A (nothing of ours), B (the webhook), C (the policies), N dry-run creates of each
# request per configuration, and writes the section. Loopback only; every wait is bounded.
# Environment: SA_BIN (build/session-admission), N (300), ROUNDS (10), WARMUP (10),
# SA_BENCH_OUT (bench/apiserver-latency.md), KUBEBUILDER_ASSETS (as tests/e2e/cluster.sh),
# SA_BIN_COMMIT (the commit SA_BIN was built from, when it is not this work tree's build),
# SA_CHART (the chart whose webhook configurations are registered; charts/session-admission),
# SA_E2E_KEEP=1 (keep the run's folder: logs, PKI, the rendered objects).
source "$(dirname "$0")/../tests/e2e/lib.sh"
source "$E2E/cluster.sh"
OUT=${SA_BENCH_OUT:-$SA_SRC/bench/apiserver-latency.md}
N=${N:-300} ROUNDS=${ROUNDS:-10} WARMUP=${WARMUP:-10}
CHART=${SA_CHART:-$SA_SRC/charts/session-admission}
cleanup() {
  webhook_stop 2>/dev/null || true
  cluster_stop
  if [ -n "${SA_E2E_KEEP:-}" ]; then echo "# kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "bench/apiserver_latency.sh: line $LINENO failed" >&2' ERR

[ -x "$SA_BIN" ] || { echo "no server binary at $SA_BIN (build first)"; exit 1; }
[ -x "$HELM" ] || { echo "helm not found at $HELM (run .ci/setup)"; exit 1; }
cluster_find_assets >"$W/why" || { cat "$W/why"; exit 1; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
others_before=$(pgrep -xc kube-apiserver || true)
export KUBE_APISERVER_FLAGS="${KUBE_APISERVER_FLAGS:-} --feature-gates=MutatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/v1alpha1=true"
start=$SECONDS
cluster_start >"$W/why" 2>&1 || { tail -n 30 "$W/why"; echo "the API server did not start"; exit 1; }
[ "$(kapi GET /version)" = 200 ] || { echo "GET /version: $(head -c 300 "$RESP")"; exit 1; }
KUBE_VERSION=$(jget 'd["gitVersion"]') KUBE_MINOR=$(jget 'int(d["minor"].rstrip("+"))')
echo "# kube-apiserver $KUBE_VERSION up in $((SECONDS - start)) s" >&2

# The policies, and the webhook server with its certificates.
"$SA_BIN" generate --kube-version "1.$KUBE_MINOR" --policy "$SA_SRC/examples/policy.yaml" \
  --public-key "$SA_SRC/examples/example-public.pem" >"$W/policies.yaml" 2>"$W/generate.err"
bash "$SA_SRC/certs/gen-certs.sh" --out "$W/webhook" >/dev/null
cp "$SA_SRC/examples/policy.yaml" "$W/webhook/policy.yaml"
WEBHOOK_PORT=$(free_port)
webhook_start

# The chart's webhook configurations, pointed at the loopback server.
HELM_CACHE_HOME=$W/helm/cache HELM_CONFIG_HOME=$W/helm/config HELM_DATA_HOME=$W/helm/data \
  "$HELM" template session-admission "$CHART" --namespace ambient-code \
  --kube-version "${KUBE_VERSION#v}" >"$W/chart.yaml"
"$PY" - "$W/chart.yaml" "$W" <<'PY'
import json, sys, yaml
for o in yaml.safe_load_all(open(sys.argv[1])):
    if o and o["kind"].endswith("WebhookConfiguration"):
        json.dump(o, open(f"{sys.argv[2]}/rendered-{o['kind']}.json", "w"))
PY
for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
  "$PY" "$E2E/loopback_webhooks.py" "$W/rendered-$kind.json" "https://127.0.0.1:$WEBHOOK_PORT" \
    "$W/webhook/ca.crt" >"$W/$kind.json"
done

if [ -n "${SA_BIN_COMMIT:-}" ]; then
  commit=$SA_BIN_COMMIT built="$SA_BIN, built from commit $SA_BIN_COMMIT"
else
  commit=$(git -C "$SA_SRC" rev-parse --short HEAD)
  dirty=$(git -C "$SA_SRC" status --porcelain -- src include CMakeLists.txt | awk '{print $2}' | tr '\n' ' ')
  built="$SA_BIN, the work tree of commit $commit${dirty:+ with uncommitted changes in ${dirty% }}"
  [ -z "$dirty" ] || commit+="+changes"
fi
META="## $(date -u +%Y-%m-%dT%H:%MZ), commit $commit, kube-apiserver $KUBE_VERSION, $(nproc) CPUs, load average $load_before at the start

Server: $built; webhook configurations from ${CHART#"$SA_SRC/"} (default values).
The API server, etcd, the webhook server and the client share the machine; other kube-apiservers
running on it at the start: $others_before.
Command: \`N=$N ROUNDS=$ROUNDS WARMUP=$WARMUP bash bench/apiserver_latency.sh\`."
export META N ROUNDS WARMUP
KUBE_URL=$KUBE_URL W=$W SA_SRC=$SA_SRC APISERVER_PID=${CLUSTER_PIDS[1]} WEBHOOK_PID=$(cat "$W/webhook.pid") \
  OUT_SECTION=$W/section.md "$PY" "$SA_SRC/bench/apiserver_latency.py" "$W/policies.yaml" \
  "$W/MutatingWebhookConfiguration.json" "$W/ValidatingWebhookConfiguration.json"
[ -s "$OUT" ] || printf '%s\n\n%s\n' "# API server latency: webhook vs generated admission policies" \
  "Written by \`bash bench/apiserver_latency.sh\` (each run appends a section; see bench/README.md)." >"$OUT"
{ echo; cat "$W/section.md"; echo; echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); other kube-apiservers running: $(($(pgrep -xc kube-apiserver || true) - 1))."; } >>"$OUT"
echo "# appended to $OUT ($((SECONDS - start)) s in all)" >&2
