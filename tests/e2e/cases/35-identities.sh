# Every identity a session can act as (issue 19, part 4), through the API server: a session can
# always leave its token out, and the API server then names it user system:anonymous in group
# system:unauthenticated (staging/src/k8s.io/apiserver/pkg/authentication/request/anonymous), so
# bindings to those are grants to every session; the standard anonymous bindings (public OIDC
# discovery, kubeadm's cluster-info Role in kube-public) pass through bindings.everyoneRoles, and
# work: an anonymous request reads what they grant.
RBAC=/apis/rbac.authorization.k8s.io/v1

case_refuse_cluster_admin_for_unauthenticated() {
  expect_denied rbac-session-binding validate-cluster-rbac \
    'roleRef ClusterRole/cluster-admin is not in allowedRoles (subject Group system:unauthenticated)' \
    POST "$RBAC/clusterrolebindings" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-open-door}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:unauthenticated}]"
  expect_code 404 GET "$RBAC/clusterrolebindings/e2e-open-door"
}

case_refuse_cluster_admin_for_anonymous() {
  expect_denied rbac-session-binding validate-cluster-rbac \
    'roleRef ClusterRole/cluster-admin is not in allowedRoles (subject User system:anonymous)' \
    POST "$RBAC/clusterrolebindings" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-open-door-anonymous}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}]"
  expect_code 404 GET "$RBAC/clusterrolebindings/e2e-open-door-anonymous"
}

# anonymous_get PATH: the API server's answer to a request with no credentials at all.
anonymous_get() {
  curl -sS --max-time 20 --cacert "$W/pki/ca.crt" -o "$RESP" -w '%{http_code}' "$KUBE_URL$1"
}

case_admit_oidc_discovery_for_unauthenticated() {
  # Kubernetes' documented recipe for public service-account issuer discovery.
  [ "$(anonymous_get /openid/v1/jwks)" = 401 ] || [ "$(anonymous_get /openid/v1/jwks)" = 403 ] \
    || fail "anonymous /openid/v1/jwks before the binding: HTTP $(anonymous_get /openid/v1/jwks)"
  create "$RBAC/clusterrolebindings" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-oidc-reviewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:service-account-issuer-discovery}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:unauthenticated}]"
  expect_judged validate ClusterRoleBinding e2e-oidc-reviewer allowed
  # RBAC takes about a second to see a new binding: bounded retries.
  local i code
  for i in $(seq 1 20); do
    code=$(anonymous_get /openid/v1/jwks)
    [ "$code" = 200 ] && break
    sleep 0.25
  done
  [ "$code" = 200 ] || fail "anonymous /openid/v1/jwks after the binding: HTTP $code"
  echo "an anonymous client reads the issuer's keys: $(jget 'len(d["keys"])') key(s)"
}

case_admit_kubeadm_cluster_info_for_anonymous() {
  # kubeadm's bootstrap discovery: a Role in kube-public reading the cluster-info ConfigMap, bound
  # to the user system:anonymous. kube-public is exempt, but a binding there that reaches a
  # session is judged; this one passes because its Role is in everyoneRoles as
  # kube-public/kubeadm:bootstrap-signer-clusterinfo.
  local code
  code=$(kapi POST /api/v1/namespaces/kube-public/configmaps \
    "{apiVersion: v1, kind: ConfigMap, metadata: {name: cluster-info, namespace: kube-public}, data: {kubeconfig: e2e}}")
  [ "$code" = 201 ] || [ "$code" = 409 ] || fail "ConfigMap cluster-info: HTTP $code: $(head -c 300 "$RESP")"
  create "$RBAC/namespaces/kube-public/roles" "
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: kube-public}
rules: [{apiGroups: [''], resources: [configmaps], resourceNames: [cluster-info], verbs: [get]}]"
  create "$RBAC/namespaces/kube-public/rolebindings" "
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: kube-public}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: 'kubeadm:bootstrap-signer-clusterinfo'}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}]"
  local i
  for i in $(seq 1 20); do
    code=$(anonymous_get /api/v1/namespaces/kube-public/configmaps/cluster-info)
    [ "$code" = 200 ] && break
    sleep 0.25
  done
  [ "$code" = 200 ] || fail "anonymous GET cluster-info: HTTP $code"
  # Another Role bound to system:anonymous there is a grant to every session. (It also reaches
  # beyond kube-public: the webhook reports both rules, the API server only its first policy's.)
  POLICY_RULES="rbac-session-binding rbac-cross-namespace" POLICY_FRAGMENT='RoleBinding kube-public/e2e-peek: ' \
    expect_denied rbac-session-binding validate-rbac 'roleRef Role/e2e-peek is not in allowedRoles' \
    POST "$RBAC/namespaces/kube-public/rolebindings" "
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: e2e-peek, namespace: kube-public}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: e2e-peek}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}]"
}

# session_pod_env_from NAME PREFIX: a session pod taking a ConfigMap's keys as env under PREFIX.
session_pod_env_from() {
  echo "
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $SESSION_NS, labels: {ambient-code.io/session-id: 7f3a9c2e}}
spec: {containers: [{name: runner, image: runner, envFrom: [{prefix: $2, configMapRef: {name: settings}}]}]}"
}

case_refuse_session_pod_env_from_forbidden_prefix() {
  namespace "$SESSION_NS" "$SESSION_SA"
  # GITHUB_ and a key TOKEN make GITHUB_TOKEN, which sessions.forbiddenEnv lists.
  POLICY_FRAGMENT='envFrom prefix GITHUB_ can form a name in sessions.forbiddenEnv' \
    expect_denied session-pod validate-pods 'envFrom[0] prefix GITHUB_ can form a name in sessions.forbiddenEnv' \
    POST "/api/v1/namespaces/$SESSION_NS/pods" "$(session_pod_env_from e2e-prefix-github GITHUB_)"
  expect_code 404 GET "/api/v1/namespaces/$SESSION_NS/pods/e2e-prefix-github"
}

case_admit_session_pod_env_from_other_prefix() {
  namespace "$SESSION_NS" "$SESSION_SA"
  create "/api/v1/namespaces/$SESSION_NS/pods" "$(session_pod_env_from e2e-prefix-app APP_)"
  expect_judged validate Pod e2e-prefix-app allowed
}
