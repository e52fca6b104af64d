# What must be refused, through the API server: at least one case per rule id. Each asserts the
# API server's Status names the webhook that denied, carries the rule id and the server's own
# message (expect_denied), and that nothing was stored.
RBAC=/apis/rbac.authorization.k8s.io/v1

case_refuse_cluster_admin_binding_for_session_sa() {
  namespace project-a session-abc-sa
  expect_denied rbac-session-binding validate-cluster-rbac \
    'ClusterRoleBinding e2e-session-root: roleRef ClusterRole/cluster-admin is not in allowedRoles' \
    POST "$RBAC/clusterrolebindings" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-session-root}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: session-abc-sa, namespace: project-a}]"
  expect_code 404 GET "$RBAC/clusterrolebindings/e2e-session-root"
}

case_refuse_cross_namespace_binding() {
  namespace project-a session-abc-sa
  namespace project-b
  # system:image-builder is allowed in the session's own namespace only (no crossNamespace).
  expect_denied rbac-cross-namespace validate-rbac 'RoleBinding project-b/push-elsewhere' \
    POST "$RBAC/namespaces/project-b/rolebindings" "$(cat "$OBJ/image-builder-cross-namespace.yaml")"
  expect_code 404 GET "$RBAC/namespaces/project-b/rolebindings/push-elsewhere"
}

case_refuse_impersonation_legacy_verb() {
  expect_denied rbac-impersonation validate-cluster-rbac 'ClusterRole e2e-impersonate-alice' \
    POST "$RBAC/clusterroles" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-impersonate-alice}
rules: [{apiGroups: [''], resources: [users], verbs: [impersonate], resourceNames: [alice@example.com]}]"
}

# KEP-5284's constrained impersonation: the verb is only a string to an API server before 1.34,
# which stores the role all the same, so the webhook is what refuses it on every version.
case_refuse_impersonation_constrained_verb() {
  expect_denied rbac-impersonation validate-cluster-rbac 'ClusterRole e2e-impersonate-user-info' \
    POST "$RBAC/clusterroles" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-impersonate-user-info}
rules: [{apiGroups: [authentication.k8s.io], resources: [users], verbs: ['impersonate:user-info'], resourceNames: [alice@example.com]}]"
}

case_refuse_token_for_forbidden_audience() {
  namespace "$SESSION_NS" "$SESSION_SA"
  expect_denied session-token-audience validate-tokens 'https://vault.example.com' \
    POST "/api/v1/namespaces/$SESSION_NS/serviceaccounts/$SESSION_SA/token" \
    '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"audiences": ["https://vault.example.com"]}}'
}

case_refuse_audience_role_bound_to_serviceaccount() {
  # The node audience role (admitted in 20-flow.sh) may be bound to system:nodes only.
  expect_denied rbac-token-audience validate-cluster-rbac 'token-audience-for-sa' \
    POST "$RBAC/clusterrolebindings" "$(cat "$OBJ/node-audience-binding-sa.yaml")"
}

case_refuse_unlabelled_pod_borrowing_session_sa() {
  namespace "$SESSION_NS" "$SESSION_SA"
  expect_denied session-pod validate-unlabelled-pods "$SESSION_SA" \
    POST "/api/v1/namespaces/$SESSION_NS/pods" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-borrower, namespace: $SESSION_NS}
spec: {serviceAccountName: $SESSION_SA, containers: [{name: c, image: busybox}]}"
  expect_code 404 GET "/api/v1/namespaces/$SESSION_NS/pods/e2e-borrower"
}

case_refuse_session_pod_env_from_secret() {
  namespace "$SESSION_NS" "$SESSION_SA"
  expect_denied session-env-from-secret validate-pods 'Secret "github"' \
    POST "/api/v1/namespaces/$SESSION_NS/pods" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-env-from, namespace: $SESSION_NS, labels: {ambient-code.io/session-id: 7f3a9c2e}}
spec: {containers: [{name: runner, image: runner, envFrom: [{secretRef: {name: github}}]}]}"
}

# A debug container added to a running session pod goes through pods/ephemeralcontainers, which
# the API server sends as the whole Pod (an UPDATE): the new container's forbidden env is refused.
case_refuse_ephemeral_container_forbidden_env() {
  namespace "$SESSION_NS" "$SESSION_SA"
  local pod=/api/v1/namespaces/$SESSION_NS/pods/e2e-debug-target
  create "/api/v1/namespaces/$SESSION_NS/pods" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-debug-target, labels: {ambient-code.io/session-id: 7f3a9c2e}}
spec: {containers: [{name: runner, image: runner}]}"
  KAPI_TYPE=application/strategic-merge-patch+json expect_denied session-pod validate-pods \
    'ephemeralContainers[debug].env GITHUB_TOKEN is in sessions.forbiddenEnv' \
    PATCH "$pod/ephemeralcontainers" \
    '{"spec": {"ephemeralContainers": [{"name": "debug", "image": "busybox", "env": [{"name": "GITHUB_TOKEN", "value": "x"}]}]}}'
  expect_code 200 GET "$pod"
  [ "$(jget 'len(d["spec"].get("ephemeralContainers", []))')" = 0 ] || fail "the debug container was stored"
}

# system:image-builder is in allowedRoles: every session bound to it gets what it grants, so an
# UPDATE may not add a grant (a new role is created first; adding to its rules is the widening).
case_refuse_guarded_role_widened_by_update() {
  create "$RBAC/clusterroles" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:image-builder'}
rules: [{apiGroups: [image.openshift.io], resources: [imagestreams/layers], verbs: [get, update]}]"
  expect_judged validate ClusterRole system:image-builder allowed
  expect_denied rbac-session-binding validate-cluster-rbac 'which the old object did not grant' \
    PUT "$RBAC/clusterroles/system:image-builder" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:image-builder'}
rules:
  - {apiGroups: [image.openshift.io], resources: [imagestreams/layers], verbs: [get, update]}
  - {apiGroups: [''], resources: [pods], verbs: [create]}"
  expect_code 200 GET "$RBAC/clusterroles/system:image-builder"
  [ "$(jget 'len(d["rules"])')" = 1 ] || fail "the widened role was stored"
}

# DELETE is never sent to validation, so a guarded role deleted and created again is only a
# CREATE: the built-in ceiling of system:image-puller (OpenShift's bootstrap policy: get
# imagestreams/layers) is all it may grant, even what the escalation list would let through.
case_refuse_guarded_role_recreated_beyond_ceiling() {
  create "$RBAC/clusterroles" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:image-puller'}
rules: [{apiGroups: ['', image.openshift.io], resources: [imagestreams/layers], verbs: [get]}]"
  expect_judged validate ClusterRole system:image-puller allowed
  expect_code 200 DELETE "$RBAC/clusterroles/system:image-puller"
  expect_denied rbac-session-binding validate-cluster-rbac \
    'grants list on configmaps, beyond the ceiling of allowedRoles row ClusterRole/system:image-puller' \
    POST "$RBAC/clusterroles" "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:image-puller'}
rules:
  - {apiGroups: [image.openshift.io], resources: [imagestreams/layers], verbs: [get]}
  - {apiGroups: [''], resources: [configmaps], verbs: [list]}"
  expect_code 404 GET "$RBAC/clusterroles/system:image-puller"
}
