# The platform's flow from the seeds, through the API server: what the control plane creates for a
# session (namespace, ServiceAccount, pod, token, RoleBindings) and the node token-audience RBAC
# is admitted, and the stored objects are what the contract says. The objects are the ones the
# offline suite judges (examples/tests/objects), sent as YAML.
OBJ=$SA_SRC/examples/tests/objects
SESSION_NS=proj-alpha SESSION_SA=session-7f3a9c2e-sa

case_session_pod_from_seeds() {
  namespace "$SESSION_NS" "$SESSION_SA"
  # As the control plane creates it: no serviceAccountName (the API server sets "default").
  create "/api/v1/namespaces/$SESSION_NS/pods" "$(cat "$OBJ/session-pod.yaml")"
  expect_code 200 GET "/api/v1/namespaces/$SESSION_NS/pods/session-7f3a9c2e-runner"
  [ "$(jget 'd["spec"]["serviceAccountName"]')" = "$SESSION_SA" ] \
    || fail "the stored pod runs as $(jget 'd["spec"]["serviceAccountName"]')"
  local fp
  fp=$(openssl pkey -pubin -in "$SA_SRC/examples/example-public.pem" -outform DER | sha256sum | cut -d' ' -f1)
  [ "$(jget 'd["metadata"]["annotations"].get("ambient-code.io/cp-token-key-sha256")')" = "$fp" ] \
    || fail "fingerprint annotation: $(jget 'd["metadata"].get("annotations")')"
  # Every container (the chart's containers: ["*"]) carries the key, once, as the PEM.
  "$PY" - "$RESP" "$SA_SRC/examples/example-public.pem" <<'PY'
import json, sys
pod, pem = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
for c in pod["spec"]["containers"]:
    keys = [e for e in c.get("env", []) if e["name"] == "AMBIENT_CP_TOKEN_PUBLIC_KEY"]
    assert len(keys) == 1, f"FAIL: container {c['name']}: {len(keys)} key entries"
    assert keys[0].get("value", "").strip() == pem.strip(), f"FAIL: container {c['name']}: not the key"
print(len(pod["spec"]["containers"]), "containers carry the key")
PY
  expect_judged mutate Pod session-7f3a9c2e-runner patched
  expect_judged validate Pod session-7f3a9c2e-runner allowed
}

case_session_token_default_audiences() {
  namespace "$SESSION_NS" "$SESSION_SA"
  [ "$(token_request "$SESSION_NS" "$SESSION_SA")" = 201 ] || fail "TokenRequest: $(head -c 400 "$RESP")"
  [ "$(jget 'd["spec"]["audiences"]')" = '["https://kubernetes.default.svc"]' ] \
    || fail "audiences: $(jget 'd["spec"]["audiences"]')"
  local token
  token=$(jget 'd["status"]["token"]')
  create /apis/authentication.k8s.io/v1/tokenreviews \
    "{\"apiVersion\": \"authentication.k8s.io/v1\", \"kind\": \"TokenReview\", \"spec\": {\"token\": \"$token\"}}"
  [ "$(jget 'd["status"].get("authenticated")')" = True ] || [ "$(jget 'd["status"].get("authenticated")')" = true ] \
    || fail "the token does not authenticate: $(head -c 400 "$RESP")"
  [ "$(jget 'd["status"]["user"]["username"]')" = "system:serviceaccount:$SESSION_NS:$SESSION_SA" ] \
    || fail "the token is for $(jget 'd["status"]["user"]["username"]')"
  expect_judged validate TokenRequest "$SESSION_SA" allowed
  # The same with kubectl where there is one (envtest assets may hold it): the token's aud claim.
  [ -n "$KUBECTL" ] || { echo "no kubectl: the TokenRequest above is what kubectl create token sends"; return 0; }
  "$KUBECTL" --kubeconfig "$W/kubeconfig" create token "$SESSION_SA" -n "$SESSION_NS" >"$W/kubectl-token"
  "$PY" - "$W/kubectl-token" <<'PY'
import base64, json, sys
claims = open(sys.argv[1]).read().strip().split(".")[1]
aud = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["aud"]
assert aud == ["https://kubernetes.default.svc"], f"FAIL: kubectl create token: aud {aud}"
print("kubectl create token: aud", aud)
PY
}

case_image_builder_rolebinding() {
  namespace project-a session-abc-sa
  create /apis/rbac.authorization.k8s.io/v1/namespaces/project-a/rolebindings "$(cat "$OBJ/image-builder-rolebinding.yaml")"
  expect_judged validate RoleBinding session-abc-image-builder allowed
}

case_image_puller_rolebinding() {
  namespace ambient-runner-images
  create /apis/rbac.authorization.k8s.io/v1/namespaces/ambient-runner-images/rolebindings "$(cat "$OBJ/ambient-image-puller.yaml")"
  expect_judged validate RoleBinding ambient-image-puller allowed
}

case_node_token_audience_role_and_binding() {
  create /apis/rbac.authorization.k8s.io/v1/clusterroles "$(cat "$OBJ/node-audience-role.yaml")"
  create /apis/rbac.authorization.k8s.io/v1/clusterrolebindings "$(cat "$OBJ/node-audience-binding.yaml")"
  expect_judged validate ClusterRole system:node:credential-provider-token-audience allowed
  expect_judged validate ClusterRoleBinding system:node:credential-provider-token-audience allowed
}
