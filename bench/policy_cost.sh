#!/usr/bin/env bash
# policy_cost.sh: how large a trusted role's UPDATE the generated admission policies judge within
# kube-apiserver's CEL cost limits (not part of CI: it measures where a limit falls, and the limit
# is the API server's). Starts kube-apiserver and etcd on loopback (tests/e2e/cluster.sh), applies
# `generate --only validating` for examples/policy.yaml, then for each N creates the trusted
# ClusterRole system:image-puller with N rules (2 grants each) as a system:masters user and sends
# an UPDATE (dry run) that reorders them and adds one grant: judged, it is refused for that grant
# (rbac-session-binding "adds get on pods"); past the cost limit the API server cancels the
# evaluation and the request fails (failurePolicy Fail: refused as well, HTTP 422).
#   bash bench/policy_cost.sh [N...]      default: 100 300 600 1000
cd "$(dirname "$0")/.."
source tests/e2e/lib.sh
source tests/e2e/cluster.sh
trap 'cluster_stop; rm -rf "$W"' EXIT
cluster_find_assets >"$W/why" || { cat "$W/why"; exit 1; }
cluster_start >"$W/why" 2>&1 || { tail -n 20 "$W/why"; exit 1; }
"$SA_BIN" generate --kube-version 1.33 --only validating --policy examples/policy.yaml \
  --public-key examples/example-public.pem >"$W/policies.yaml" 2>/dev/null
[ $# -gt 0 ] || set -- 100 300 600 1000
KUBE_URL=$KUBE_URL W=$W "$PY" bench/policy_cost.py "$W/policies.yaml" "$@"
