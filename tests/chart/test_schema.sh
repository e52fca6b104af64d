#!/usr/bin/env bash
# Wrong values are refused at install time: by values.schema.json, or by the templates' own checks.
source "$(dirname "$0")/lib.sh"

# refuse EXPECTED-MESSAGE [helm value args]...: helm template must exit non-zero and print the message.
refuse() {
  local want=$1; shift
  if "$HELM" template sa "$CHART" --namespace session-admission "$@" >"$TMP/out" 2>"$TMP/err"; then
    fail "accepted: $* (expected: $want)"
  fi
  grep -qF -- "$want" "$TMP/err" || { cat "$TMP/err" >&2; fail "no '$want' in the error for: $*"; }
  echo "ok: refused $* -> $want"
}

# Schema: types, ranges and enums.
refuse "values don't meet the specifications of the schema" --set replicaCount=two
refuse "replicaCount: Invalid type. Expected: integer, given: string" --set replicaCount=two
refuse "replicaCount: Must be greater than or equal to 1" --set replicaCount=0
refuse "webhook.timeoutSeconds: Must be less than or equal to 30" --set webhook.timeoutSeconds=60
refuse "webhook.timeoutSeconds: Must be greater than or equal to 1" --set webhook.timeoutSeconds=0
refuse 'webhook.pods.failurePolicy must be one of the following: "Fail", "Ignore"' --set webhook.pods.failurePolicy=Never
refuse 'webhook.rbac.failurePolicy must be one of the following: "Fail", "Ignore"' --set webhook.rbac.failurePolicy=fail
refuse 'webhook.tokens.failurePolicy must be one of the following' --set webhook.tokens.failurePolicy=Retry
refuse 'webhook.pods.unlabelled.failurePolicy must be one of the following: "", "Fail", "Ignore"' \
  --set webhook.pods.unlabelled.failurePolicy=Never
refuse "webhook.pods.unlabelled.enabled: Invalid type. Expected: boolean, given: string" \
  --set-string webhook.pods.unlabelled.enabled=yes
refuse "server.tlsMinVersion must be one of the following" --set server.tlsMinVersion=1.0
refuse "certManager.enabled: Invalid type. Expected: boolean, given: string" --set-string certManager.enabled=yes
refuse "webhook.excludedNamespaces.0: Does not match pattern" --set 'webhook.excludedNamespaces[0]=Kube_System'
refuse "Additional property replicas is not allowed" --set replicas=3
refuse 'policy.kind: policy.kind does not match: "Policy"' --set policy.kind=Polcy
refuse "serviceMonitor.interval: Does not match pattern" --set-string serviceMonitor.interval=30
refuse "serviceMonitor.enabled: Invalid type. Expected: boolean" --set-string serviceMonitor.enabled=yes
refuse "Additional property podSelectr is not allowed" --set 'networkPolicy.metrics.from[0].podSelectr.x=y'
refuse "Additional property dashboards is not allowed" --set grafana.dashboards.enabled=true
refuse 'enforcement must be one of the following: "webhook", "policies", "both"' --set enforcement=Policies
refuse "policies.manifest: Invalid type. Expected: string" --set policies.manifest=1
refuse "Additional property manifests is not allowed" --set-string policies.manifests=x

# Template checks: things a schema cannot say.
refuse "publicKey.pem holds a private key" \
  --set-string publicKey.pem=$'-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----'
refuse 'publicKey.pem must be a PEM "PUBLIC KEY" block' --set-string publicKey.pem=not-a-key
refuse "set either certManager.enabled or tls.existingSecret, not both" \
  --set certManager.enabled=true --set tls.existingSecret=mine
# The grace period must cover the shutdown delay plus the drain (equal is refused: no margin).
refuse "terminationGracePeriodSeconds must be longer than server.shutdownDelaySeconds plus server.drainTimeoutSeconds" \
  --set terminationGracePeriodSeconds=10 --set server.drainTimeoutSeconds=10
refuse "terminationGracePeriodSeconds must be longer than server.shutdownDelaySeconds plus server.drainTimeoutSeconds" \
  --set terminationGracePeriodSeconds=15 --set server.shutdownDelaySeconds=5 --set server.drainTimeoutSeconds=10
refuse "terminationGracePeriodSeconds must be longer than server.shutdownDelaySeconds plus server.drainTimeoutSeconds" \
  --set terminationGracePeriodSeconds=20 --set server.shutdownDelaySeconds=15
# ... and one second more is enough.
if "$HELM" template sa "$CHART" --namespace session-admission --set terminationGracePeriodSeconds=16 \
    --set server.shutdownDelaySeconds=5 --set server.drainTimeoutSeconds=10 >"$TMP/out" 2>"$TMP/err"; then
  echo "ok: accepted a grace period one second over the shutdown delay plus the drain"
else
  cat "$TMP/err" >&2; fail "refused terminationGracePeriodSeconds=16 with a 5 s delay and a 10 s drain"
fi
refuse "server.shutdownDelaySeconds: Must be greater than or equal to 0" --set server.shutdownDelaySeconds=-1
refuse "server.shutdownDelaySeconds: Invalid type. Expected: integer" --set-string server.shutdownDelaySeconds=5s
refuse "clientAuth.caSecret is required when clientAuth.enabled" --set clientAuth.enabled=true
# helm template cannot read a Secret, so tls.existingSecret needs tls.caBundle there (install reads ca.crt).
refuse 'tls.existingSecret "mine" has no ca.crt this chart can read' --set tls.existingSecret=mine
