#!/usr/bin/env bash
# helm lint --strict: default values, every option set, the operator kit on the defaults, and
# cert-manager mode.
source "$(dirname "$0")/lib.sh"

lint() {
  local out
  out=$("$HELM" lint --strict "$CHART" "$@" 2>&1) || { echo "$out" >&2; fail "helm lint --strict $*"; }
  grep -q '1 chart(s) linted, 0 chart(s) failed' <<<"$out" || { echo "$out" >&2; fail "lint summary for $*"; }
  ! grep -q '^\[\(WARNING\|ERROR\)\]' <<<"$out" || { echo "$out" >&2; fail "lint findings for $*"; }
  echo "ok: helm lint --strict $*"
}
lint
lint -f "$HERE/values-full.yaml"
lint --set serviceMonitor.enabled=true --set prometheusRule.enabled=true --set grafana.dashboard.enabled=true \
  --set networkPolicy.enabled=true
lint --set certManager.enabled=true
lint --set certManager.enabled=true --set certManager.issuerRef.kind=ClusterIssuer --set certManager.issuerRef.name=platform-ca
