# The chart as users install it: helm install with the default values into the real API server,
# helm upgrade keeping the generated CA, and the chart's webhooks pointed at the test's server.
# These cases run first and in this order: every later case needs the chart installed and its
# webhooks calling the server on loopback (the last case here).
NS=ambient-code REL=session-admission
CHART=$SA_SRC/charts/session-admission
# The chart's values for the suite's enforcement (lib.sh): given to every install and upgrade.
ENF=()
[ "$ENFORCEMENT" = webhook ] || ENF=(--set "enforcement=$ENFORCEMENT")

# map_api_versions: --api-versions for each MutatingAdmissionPolicy version this API server serves,
# which helm template cannot discover (helm install does).
map_api_versions() {
  local v
  for v in v1alpha1 v1beta1 v1; do
    [ "$(kapi GET "/apis/admissionregistration.k8s.io/$v")" = 200 ] && grep -q '"kind":"MutatingAdmissionPolicy"' "$RESP" \
      && echo "--api-versions admissionregistration.k8s.io/$v/MutatingAdmissionPolicy"
  done
  return 0
}

# policies_manifest OUT NAMESPACE [helm value args]: `session-admission generate` for the policy
# those values give the chart (its rendered policy ConfigMap: what the webhook server loads), this
# API server's minor and NAMESPACE, as a user writes policies.manifest.
policies_manifest() {
  local out=$1 ns=$2; shift 2
  h template "$REL" "$CHART" --namespace "$ns" --show-only templates/configmap-policy.yaml "$@"
  "$PY" -c 'import sys, yaml; open(sys.argv[2], "w").write(yaml.safe_load(open(sys.argv[1]))["data"]["policy.yaml"])' \
    "$W/helm.out" "$out.policy"
  "$SA_BIN" generate --policy "$out.policy" --kube-version "1.$KUBE_MINOR" --namespace "$ns" \
    --public-key "$SA_SRC/examples/example-public.pem" >"$out" 2>"$out.err" || { cat "$out.err" >&2; fail "generate"; }
}

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

# cas: the stored Secret's ca.crt, then the caBundle of each stored webhook, one per line (a
# configuration the chart did not render, under enforcement=policies, has none).
cas() {
  local secret=${1:-$REL-tls} ns=${2:-$NS} conf=${3:-$REL}
  kapi GET "/api/v1/namespaces/$ns/secrets/$secret" >/dev/null && jget 'd["data"]["ca.crt"]'
  local k
  for k in mutating validating; do
    [ "$(kapi GET "/apis/admissionregistration.k8s.io/v1/${k}webhookconfigurations/$conf")" = 200 ] || continue
    jget '"\n".join(w["clientConfig"].get("caBundle", "") for w in d["webhooks"])'
  done
}

# webhooks_in MANIFEST: how many webhooks the rendered configurations hold.
webhooks_in() {
  "$PY" -c 'import sys, yaml; print(sum(len(o["webhooks"]) for o in yaml.safe_load_all(open(sys.argv[1]))
    if o and o["kind"].endswith("WebhookConfiguration")))' "$1"
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
  h install "$REL" "$CHART" --namespace "$NS" "${ENF[@]}"
  h get manifest "$REL" --namespace "$NS"
  cp "$W/helm.out" "$W/rev1.yaml"
  local path what n=0
  while read -r path what; do
    expect_code 200 GET "$path" || fail "$what is not stored"
    n=$((n + 1))
  done < <(manifest_paths "$W/rev1.yaml")
  [ "$n" -ge 8 ] || fail "only $n objects in the manifest"
  echo "stored: $n objects"
  # Under enforcement=policies the chart may leave no webhook at all (generate covering every rule):
  # then no webhook server, no test pod, no policy ConfigMap; the suite's server on loopback still
  # runs, with the chart's policy, and nothing calls it.
  # The ServiceAccount a controller-manager would have made (the test pods below run as it).
  create "/api/v1/namespaces/$NS/serviceaccounts" "{apiVersion: v1, kind: ServiceAccount, metadata: {name: default}}"
  if ! grep -q '^kind: Deployment' "$W/rev1.yaml"; then
    [ "$ENFORCEMENT" != webhook ] || fail "no Deployment under enforcement=webhook"
    echo "no webhook registration left under enforcement=$ENFORCEMENT: no webhook server installed"
    "$PY" -c 'import sys, yaml; print(yaml.safe_dump(yaml.safe_load(open(sys.argv[1]))["policy"]))' \
      "$CHART/values.yaml" >"$W/webhook/policy.yaml"
    "$SA_BIN" check-policy "$W/webhook/policy.yaml"
    return 0
  fi
  # The helm test pod (a hook, created by `helm test`) is accepted too: a server-side dry run.
  h get hooks "$REL" --namespace "$NS"
  create "/api/v1/namespaces/$NS/pods?dryRun=All" "$(cat "$W/helm.out")"
  # What the Deployment would mount: the policy from the chart's ConfigMap.
  kapi GET "/api/v1/namespaces/$NS/configmaps/$REL-policy" >/dev/null
  jget 'd["data"]["policy.yaml"]' >"$W/webhook/policy.yaml"
  "$SA_BIN" check-policy "$W/webhook/policy.yaml"
}

# no_webhook_server: the installed release has no webhook server (enforcement=policies left no
# webhook registration).
no_webhook_server() { ! grep -q '^kind: Deployment' "$W/rev1.yaml"; }

# The admission policies the install left in the API server: none under enforcement=webhook; under
# policies, every policy and binding of the chart's shipped file for this minor (the mutating ones
# as this server serves MutatingAdmissionPolicy), their params ConfigMap in the release namespace
# holding the key the webhook server mounts (read from the keypair Secret at install) with the
# server's fingerprint, and the validating webhook left only for what the file leaves to it.
# Returns once the policies decide (the API server takes a new policy within about a second).
case_chart_admission_policies() {
  local a=/apis/admissionregistration.k8s.io
  kapi GET "$a/v1/validatingadmissionpolicies?labelSelector=app.kubernetes.io/instance=$REL" >/dev/null
  local names keeper=session-admission-params-keeper-$NS-$REL
  # (the param-informer keeper, kept on uninstall, is the chart's own: checked apart)
  names=$(jget '" ".join(sorted(i["metadata"]["name"] for i in d["items"]
    if i["metadata"].get("annotations", {}).get("helm.sh/resource-policy") != "keep"))')
  if [ "$ENFORCEMENT" = webhook ]; then
    [ -z "$names" ] || fail "enforcement=webhook installed admission policies: $names"
    ! grep -q '^kind: .*AdmissionPolicy' "$W/rev1.yaml" || fail "the webhook manifest holds admission policies"
    echo "no admission policies under enforcement=webhook"
    return 0
  fi
  local file
  file=$(ls "$CHART"/files/policies/k8s-1.*.yaml | sort -V | awk -v m="$KUBE_MINOR" -F'k8s-1.' '{split($2, x, "."); if (x[1] + 0 <= m) f = $0} END {print f}')
  [ -n "$file" ] || fail "no shipped policies file for 1.$KUBE_MINOR"
  echo "shipped file: $file"
  local want
  want=$("$PY" -c 'import sys, yaml; print(" ".join(sorted(d["metadata"]["name"] for d in yaml.safe_load_all(open(sys.argv[1]))
    if d and d["kind"] == "ValidatingAdmissionPolicy")))' "$file")
  [ "$names" = "$want" ] || fail "stored ValidatingAdmissionPolicies [$names], the file's [$want]"
  kapi GET "$a/v1/validatingadmissionpolicybindings?labelSelector=app.kubernetes.io/instance=$REL" >/dev/null
  [ "$(jget '" ".join(sorted(i["metadata"]["name"] for i in d["items"] if i["metadata"]["name"] != "'"$keeper"'"))')" = "$want" ] \
    || fail "stored bindings: $(head -c 300 "$RESP")"
  [ "$(jget "all(i['spec']['paramRef']['namespace'] == '$NS' for i in d['items'] if 'paramRef' in i['spec'])")" = true ] \
    || fail "a binding's paramRef is not in $NS: $(head -c 300 "$RESP")"
  expect_code 200 GET "$a/v1/validatingadmissionpolicies/$keeper"
  [ "$(jget 'd["metadata"]["annotations"]["helm.sh/resource-policy"]')" = keep ] || fail "the keeper is not kept on uninstall"
  # The mutation: a MutatingAdmissionPolicy where this server serves the file's version, else the webhook.
  local map_version
  map_version=$("$PY" -c 'import sys, yaml; print(next((d["apiVersion"] for d in yaml.safe_load_all(open(sys.argv[1]))
    if d and d["kind"] == "MutatingAdmissionPolicy"), ""))' "$file")
  if [ -n "$map_version" ] && [ "$(kapi GET "/apis/$map_version/mutatingadmissionpolicies/session-admission-session-pod-mutation")" = 200 ]; then
    expect_code 404 GET "$a/v1/mutatingwebhookconfigurations/$REL"
    echo "the mutation is the MutatingAdmissionPolicy ($map_version); no mutating webhook"
  else
    expect_code 200 GET "$a/v1/mutatingwebhookconfigurations/$REL"
    echo "the mutation stays the webhook's (MutatingAdmissionPolicy ${map_version:-absent} not served)"
  fi
  # What the validating webhook still gets: the kinds of the file's webhook-only lines.
  local got_res="" want_res
  [ "$(kapi GET "$a/v1/validatingwebhookconfigurations/$REL")" != 200 ] \
    || got_res=$(jget '" ".join(sorted(r for w in d["webhooks"] for rule in w["rules"] for r in rule["resources"]))')
  want_res=$("$PY" - "$file" <<'PY'
import re, sys
res = {"Pod": ["pods", "pods/ephemeralcontainers"], "TokenRequest": ["serviceaccounts/token"], "RoleBinding": ["rolebindings"],
       "Role": ["roles"], "ClusterRoleBinding": ["clusterrolebindings"], "ClusterRole": ["clusterroles"]}
kinds = {k for rule, ks in re.findall(r"(?m)^# webhook-only: (\S+) (\S+):", open(sys.argv[1]).read())
         if rule not in ("mutation", "refused") for k in ks.split(",")}
# validate-pods and validate-unlabelled-pods both take pods and pods/ephemeralcontainers
out = [r for k in kinds for r in res[k] * (2 if k == "Pod" else 1)]
print(" ".join(sorted(out)))
PY
)
  [ "$got_res" = "$want_res" ] || fail "the validating webhooks take [$got_res], the file leaves them [$want_res]"
  echo "the validating webhook takes only: ${got_res:-nothing (not registered)}"
  # The key: the keypair Secret's public.pem, as the server reads it.
  expect_code 200 GET "/api/v1/namespaces/$NS/configmaps/session-admission-params"
  local fp
  fp=$(openssl pkey -pubin -in "$SA_SRC/examples/example-public.pem" -outform DER | sha256sum | cut -d' ' -f1)
  [ "$(jget 'd["data"]["fingerprint"]')" = "$fp" ] || fail "params fingerprint $(jget 'd["data"]["fingerprint"]'), the key's $fp"
  [ "$(jget 'd["data"]["publicKey"]')" = "$(openssl pkey -pubin -in "$SA_SRC/examples/example-public.pem")" ] \
    || fail "params publicKey is not the keypair Secret's key"
  policies_deciding
}

# policies_deciding: returns once the installed policies refuse a binding (a dry run), as a new
# policy takes the API server about a second.
policies_deciding() {
  local i
  for i in $(seq 1 50); do
    [ "$(kapi POST "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All" "{apiVersion: rbac.authorization.k8s.io/v1,
      kind: ClusterRoleBinding, metadata: {name: e2e-policies-ready}, roleRef: {apiGroup: rbac.authorization.k8s.io,
      kind: ClusterRole, name: cluster-admin}, subjects: [{kind: Group, name: system:unauthenticated, apiGroup: rbac.authorization.k8s.io}]}")" = 403 ] \
      && grep -q "ValidatingAdmissionPolicy 'session-admission-rbac-session-binding-bindings'" "$RESP" && return 0
    sleep 0.2
  done
  fail "the policies never refused a binding: $(head -c 300 "$RESP")"
}

# Every option set (tests/chart/values-full.yaml), rendered by helm for this server's version:
# each object of a kind the server serves is accepted by a server-side dry run (its validation
# and admission, nothing stored). The Prometheus Operator's kinds need its CRDs, which are not
# here: those are listed in the case's log, not sent.
case_chart_every_option_accepted() {
  local more=()
  if [ "$ENFORCEMENT" != webhook ]; then
    # A policy of the user's own (values-full's): its generate output in policies.manifest.
    policies_manifest "$W/full-policies.yaml" "$NS" -f "$SA_SRC/tests/chart/values-full.yaml"
    more=("${ENF[@]}" --set-file "policies.manifest=$W/full-policies.yaml" $(map_api_versions))
  fi
  h template "$REL" "$CHART" --namespace "$NS" -f "$SA_SRC/tests/chart/values-full.yaml" \
    --kube-version "${KUBE_VERSION#v}" "${more[@]}"
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
    if [ "$ENFORCEMENT" != webhook ] && [ "$(kapi GET "$path")" = 200 ]; then
      # The default release's policies and params ConfigMap have these names (generate's): a
      # dry-run replacement of the stored object instead (the same validation).
      "$PY" -c 'import json, sys; o = json.load(open(sys.argv[2])); o["metadata"]["resourceVersion"] = json.load(open(sys.argv[1]))["metadata"]["resourceVersion"]; print(json.dumps(o))' \
        "$RESP" "$W/full/$i.json" >"$W/full/$i.put.json"
      KAPI_TYPE=application/json expect_code 200 PUT "$path?dryRun=All" "$(cat "$W/full/$i.put.json")" \
        || fail "$what (every option) refused"
    else
      KAPI_TYPE=application/json expect_code 201 POST "${path%/*}?dryRun=All" "$(cat "$W/full/$i.json")" \
        || fail "$what (every option) refused"
    fi
    n=$((n + 1))
  done < <(manifest_paths "$W/full.yaml" "$W/full")
  [ "$n" -ge 10 ] || fail "only $n objects of the every-option render accepted"
  echo "accepted (dry run): $n objects"
}

case_chart_upgrade_keeps_ca() {
  ! no_webhook_server || skip_case "enforcement=$ENFORCEMENT left no webhook: no serving certificate to keep"
  cas >"$W/ca1"
  local hooks=6
  [ "$ENFORCEMENT" = webhook ] || hooks=$(webhooks_in "$W/rev1.yaml")
  [ "$(wc -l <"$W/ca1")" -eq $((hooks + 1)) ] || fail "expected the Secret's ca.crt and $hooks caBundles: $(cat "$W/ca1")"
  [ "$(sort -u "$W/ca1" | wc -l)" -eq 1 ] || fail "a caBundle differs from the Secret's ca.crt"
  h upgrade "$REL" "$CHART" --namespace "$NS" --set replicaCount=3 "${ENF[@]}"
  expect_code 200 GET "/apis/apps/v1/namespaces/$NS/deployments/$REL"
  [ "$(jget 'd["spec"]["replicas"]')" = 3 ] || fail "the upgrade did not reach the Deployment"
  cas >"$W/ca2"
  diff "$W/ca1" "$W/ca2" >&2 || fail "helm upgrade replaced the generated CA"
}

case_chart_deleted_secret_new_ca() {
  ! no_webhook_server || skip_case "enforcement=$ENFORCEMENT left no webhook: no serving certificate to renew"
  expect_code 200 DELETE "/api/v1/namespaces/$NS/secrets/$REL-tls"
  h upgrade "$REL" "$CHART" --namespace "$NS" --set replicaCount=3 "${ENF[@]}"
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

# on_loopback CONF MANIFEST: the webhook configurations named CONF that MANIFEST holds (both,
# unless enforcement=policies left one out), as the API server holds them, call the server on
# loopback by URL; everything else stays as MANIFEST rendered it (checked). Returns once the API
# server calls the server (its informer takes the change within a moment). $W/conf is CONF after.
on_loopback() {
  local conf=$1 kind path
  echo "$conf" >"$W/conf"
  rm -f "$W"/rendered-*WebhookConfiguration.json
  "$PY" - "$2" "$W" <<'PY'
import json, sys, yaml
for o in yaml.safe_load_all(open(sys.argv[1])):
    if o and o["kind"].endswith("WebhookConfiguration"):
        json.dump(o, open(f"{sys.argv[2]}/rendered-{o['kind']}.json", "w"))
PY
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    path=/apis/admissionregistration.k8s.io/v1/${kind,,}s/$conf
    if [ ! -f "$W/rendered-$kind.json" ]; then
      [ "$ENFORCEMENT" != webhook ] || fail "the chart rendered no $kind"
      expect_code 404 GET "$path"
      echo "no $kind: enforcement=$ENFORCEMENT left nothing to it"
      continue
    fi
    expect_code 200 GET "$path"
    "$PY" "$E2E/loopback_webhooks.py" "$RESP" "https://127.0.0.1:$WEBHOOK_PORT" "$W/webhook/ca.crt" >"$W/put.json"
    KAPI_TYPE=application/json expect_code 200 PUT "$path" "$(cat "$W/put.json")"
    "$PY" "$E2E/loopback_webhooks.py" --compare "$RESP" "$W/rendered-$kind.json" >&2 \
      || fail "$kind: the stored webhooks differ from the rendered ones"
  done
  # The probe: a dry-run write the webhook is sent (a ClusterRoleBinding; a ClusterRole where the
  # policies judge the bindings).
  local i probe resource=clusterrolebindings
  if [ "$ENFORCEMENT" != webhook ] && ! webhook_covers validate clusterrolebindings; then
    webhook_covers validate clusterroles || { echo "no validating webhook for cluster RBAC: no probe"; return 0; }
    resource=clusterroles
  fi
  for i in $(seq 1 100); do
    if [ $resource = clusterroles ]; then
      probe="{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: e2e-probe-$i}, rules: []}"
    else
      probe="{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: e2e-probe-$i},
      roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}, subjects: []}"
    fi
    kapi POST "/apis/rbac.authorization.k8s.io/v1/$resource?dryRun=All" "$probe" >/dev/null
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
