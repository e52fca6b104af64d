# The chart as users install it: helm install with the default values into the real API server,
# helm upgrade keeping the generated CA, and the chart's webhooks pointed at the test's server.
# These cases run first and in this order: every later case needs the chart installed and its
# webhooks calling the server on loopback (the last case here).
NS=ambient-code REL=session-admission
CHART=$SA_SRC/charts/session-admission

# h ARGS...: helm against the test cluster; on failure its output is shown.
h() {
  "$HELM" "$@" >"$W/helm.out" 2>"$W/helm.err" || { cat "$W/helm.out" "$W/helm.err" >&2; fail "helm $*"; }
}

# manifest_paths FILE [DIR]: "API-PATH KIND/NAME" of each object in a rendered manifest; with DIR,
# each object is also written there as JSON, DIR/N.json, N counting from 1 in the same order.
manifest_paths() {
  "$PY" - "$1" "${2:-}" <<'PY'
import json, sys, yaml
n = 0
for o in yaml.safe_load_all(open(sys.argv[1])):
    if not o:
        continue
    gv, kind, m = o["apiVersion"], o["kind"], o["metadata"]
    plural = kind.lower()[:-1] + "ies" if kind.endswith("y") else kind.lower() + "s"
    base = "/api/v1" if gv == "v1" else "/apis/" + gv
    ns = "/namespaces/" + m["namespace"] if m.get("namespace") else ""
    print(f"{base}{ns}/{plural}/{m['name']} {kind}/{m['name']}")
    n += 1
    if sys.argv[2]:
        json.dump(o, open(f"{sys.argv[2]}/{n}.json", "w"))
PY
}

# cas: the stored Secret's ca.crt, then the caBundle of each stored webhook, one per line.
cas() {
  local secret=${1:-$REL-tls} ns=${2:-$NS} conf=${3:-$REL}
  kapi GET "/api/v1/namespaces/$ns/secrets/$secret" >/dev/null && jget 'd["data"]["ca.crt"]'
  local k
  for k in mutating validating; do
    kapi GET "/apis/admissionregistration.k8s.io/v1/${k}webhookconfigurations/$conf" >/dev/null
    jget '"\n".join(w["clientConfig"].get("caBundle", "") for w in d["webhooks"])'
  done
}

case_chart_install_default_values() {
  create /api/v1/namespaces "{apiVersion: v1, kind: Namespace, metadata: {name: $NS}}"
  # The control plane's keypair Secret, which the chart mounts public.pem from.
  create "/api/v1/namespaces/$NS/secrets" "$("$PY" - "$SA_SRC/examples/example-public.pem" <<'PY'
import base64, json, sys
pem = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ambient-cp-token-keypair"},
                  "data": {"public.pem": pem}}))
PY
)"
  # No --disable-openapi-validation: helm checks every object against the server's OpenAPI.
  h install "$REL" "$CHART" --namespace "$NS"
  h get manifest "$REL" --namespace "$NS"
  cp "$W/helm.out" "$W/rev1.yaml"
  local path what n=0
  while read -r path what; do
    expect_code 200 GET "$path" || fail "$what is not stored"
    n=$((n + 1))
  done < <(manifest_paths "$W/rev1.yaml")
  [ "$n" -ge 8 ] || fail "only $n objects in the manifest"
  echo "stored: $n objects"
  # The helm test pod (a hook, created by `helm test`) is accepted too: a server-side dry run,
  # with the ServiceAccount a controller-manager would have made.
  h get hooks "$REL" --namespace "$NS"
  create "/api/v1/namespaces/$NS/serviceaccounts" "{apiVersion: v1, kind: ServiceAccount, metadata: {name: default}}"
  create "/api/v1/namespaces/$NS/pods?dryRun=All" "$(cat "$W/helm.out")"
  # What the Deployment would mount: the policy from the chart's ConfigMap.
  kapi GET "/api/v1/namespaces/$NS/configmaps/$REL-policy" >/dev/null
  jget 'd["data"]["policy.yaml"]' >"$W/webhook/policy.yaml"
  "$SA_BIN" check-policy "$W/webhook/policy.yaml"
}

# Every option set (tests/chart/values-full.yaml), rendered by helm for this server's version:
# each object of a kind the server serves is accepted by a server-side dry run (its validation
# and admission, nothing stored). The Prometheus Operator's kinds need its CRDs, which are not
# here: those are listed in the case's log, not sent.
case_chart_every_option_accepted() {
  h template "$REL" "$CHART" --namespace "$NS" -f "$SA_SRC/tests/chart/values-full.yaml" \
    --kube-version "${KUBE_VERSION#v}"
  cp "$W/helm.out" "$W/full.yaml"
  mkdir -p "$W/full"
  local path what n=0 i=0 group
  while read -r path what; do
    i=$((i + 1))
    # The group version's discovery path: what precedes /namespaces/, else the last two parts.
    if [[ $path == */namespaces/* ]]; then group=${path%/namespaces/*}; else group=${path%/*/*}; fi
    if [ "$(kapi GET "$group")" != 200 ]; then
      echo "not served here, not sent: $what ($group)"
      continue
    fi
    KAPI_TYPE=application/json expect_code 201 POST "${path%/*}?dryRun=All" "$(cat "$W/full/$i.json")" \
      || fail "$what (every option) refused"
    n=$((n + 1))
  done < <(manifest_paths "$W/full.yaml" "$W/full")
  [ "$n" -ge 10 ] || fail "only $n objects of the every-option render accepted"
  echo "accepted (dry run): $n objects"
}

case_chart_upgrade_keeps_ca() {
  cas >"$W/ca1"
  [ "$(wc -l <"$W/ca1")" -eq 7 ] || fail "expected the Secret's ca.crt and 6 caBundles: $(cat "$W/ca1")"
  [ "$(sort -u "$W/ca1" | wc -l)" -eq 1 ] || fail "a caBundle differs from the Secret's ca.crt"
  h upgrade "$REL" "$CHART" --namespace "$NS" --set replicaCount=3
  expect_code 200 GET "/apis/apps/v1/namespaces/$NS/deployments/$REL"
  [ "$(jget 'd["spec"]["replicas"]')" = 3 ] || fail "the upgrade did not reach the Deployment"
  cas >"$W/ca2"
  diff "$W/ca1" "$W/ca2" >&2 || fail "helm upgrade replaced the generated CA"
}

case_chart_deleted_secret_new_ca() {
  expect_code 200 DELETE "/api/v1/namespaces/$NS/secrets/$REL-tls"
  h upgrade "$REL" "$CHART" --namespace "$NS" --set replicaCount=3
  cas >"$W/ca3"
  [ "$(sort -u "$W/ca3" | wc -l)" -eq 1 ] || fail "a caBundle differs from the new Secret's ca.crt"
  [ "$(head -n 1 "$W/ca3")" != "$(head -n 1 "$W/ca1")" ] || fail "deleting the Secret did not make a new CA"
}

case_chart_existing_secret_cabundle() {
  local ns=e2e-other
  create /api/v1/namespaces "{apiVersion: v1, kind: Namespace, metadata: {name: $ns}}"
  bash "$SA_SRC/certs/gen-certs.sh" --service other-session-admission --namespace "$ns" --out "$W/other" >/dev/null
  create "/api/v1/namespaces/$ns/secrets" "$("$PY" - "$W/other" <<'PY'
import base64, json, sys
d = {k: base64.b64encode(open(f"{sys.argv[1]}/{k}", "rb").read()).decode() for k in ("ca.crt", "tls.crt", "tls.key")}
print(json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mine"}, "type": "kubernetes.io/tls", "data": d}))
PY
)"
  h install other "$CHART" --namespace "$ns" --set tls.existingSecret=mine
  cas mine "$ns" other-session-admission >"$W/ca-other"
  [ "$(wc -l <"$W/ca-other")" -eq 7 ] && [ "$(sort -u "$W/ca-other" | wc -l)" -eq 1 ] \
    || fail "the caBundles are not the existing Secret's ca.crt: $(cat "$W/ca-other")"
  # Its webhooks call a Service nothing serves: gone before the cases that create pods and bindings.
  h uninstall other --namespace "$ns"
  expect_code 404 GET /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/other-session-admission
}

# on_loopback CONF MANIFEST: both webhook configurations named CONF, as the API server holds them,
# call the server on loopback by URL; everything else stays as MANIFEST rendered it (checked).
# Returns once the API server calls the server (its informer takes the change within a moment).
on_loopback() {
  local conf=$1 kind path
  "$PY" - "$2" "$W" <<'PY'
import json, sys, yaml
for o in yaml.safe_load_all(open(sys.argv[1])):
    if o and o["kind"].endswith("WebhookConfiguration"):
        json.dump(o, open(f"{sys.argv[2]}/rendered-{o['kind']}.json", "w"))
PY
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    path=/apis/admissionregistration.k8s.io/v1/${kind,,}s/$conf
    expect_code 200 GET "$path"
    "$PY" "$E2E/loopback_webhooks.py" "$RESP" "https://127.0.0.1:$WEBHOOK_PORT" "$W/webhook/ca.crt" >"$W/put.json"
    KAPI_TYPE=application/json expect_code 200 PUT "$path" "$(cat "$W/put.json")"
    "$PY" "$E2E/loopback_webhooks.py" --compare "$RESP" "$W/rendered-$kind.json" >&2 \
      || fail "$kind: the stored webhooks differ from the rendered ones"
  done
  local i probe
  for i in $(seq 1 100); do
    probe="{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: e2e-probe-$i},
      roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}, subjects: []}"
    kapi POST "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All" "$probe" >/dev/null
    grep '"msg":"review"' "$W/webhook.log" | grep -q "\"name\":\"e2e-probe-$i\"" && return 0
    sleep 0.1
  done
  fail "the API server never called the server on loopback: $(head -c 400 "$RESP")"
}

# The Deployment cannot run without nodes: the server runs on loopback with the policy from the
# chart's ConfigMap, and each webhook the chart registered calls it by URL, all else as rendered.
case_chart_webhooks_on_loopback() {
  webhook_start
  on_loopback "$REL" "$W/rev1.yaml"
}
