# The chart with every option set (tests/chart/values-full.yaml) installed for real, after the
# default release is uninstalled: its matchConditions, built from the exempt lists and the session
# ServiceAccount template those values set, run in the API server's own CEL. A request they skip
# must be one the server exempts, and one they send is judged (each sample here is refused unless
# exempt). Runs last: the default release is gone after it. Under enforcement=policies the same
# requests, judged by the policies generated for that policy where they cover them.
FULL_NS=e2e-full FULL=full

case_every_option_match_conditions() {
  [ "$KUBE_MINOR" -ge 28 ] || skip_case "webhook matchConditions need Kubernetes 1.28 (this is $KUBE_VERSION): the chart renders none"
  local r=/apis/rbac.authorization.k8s.io/v1 a=/apis/admissionregistration.k8s.io/v1
  # helm uninstall takes the webhooks with it.
  h uninstall "$REL" --namespace "$NS"
  expect_code 404 GET "$a/mutatingwebhookconfigurations/$REL"
  expect_code 404 GET "$a/validatingwebhookconfigurations/$REL"
  # ... but not the param-informer keeper (admission-policies-keeper.yaml): without it this API
  # server would never find the params of the release installed next (kubernetes#130887).
  [ "$ENFORCEMENT" = webhook ] || expect_code 200 GET "$a/validatingadmissionpolicybindings/session-admission-params-keeper-$NS-$REL"
  create /api/v1/namespaces "{apiVersion: v1, kind: Namespace, metadata: {name: $FULL_NS}}"
  # The Prometheus Operator's kinds need its CRDs, which this API server does not have.
  # Under enforcement=policies, with its policy's own generate output (policies.manifest), as a
  # user with a policy of their own installs it: the policies' matchConditions run here too.
  local more=()
  if [ "$ENFORCEMENT" != webhook ]; then
    policies_manifest "$W/full-policies.yaml" "$FULL_NS" -f "$SA_SRC/tests/chart/values-full.yaml"
    more=("${ENF[@]}" --set-file "policies.manifest=$W/full-policies.yaml")
  fi
  h install "$FULL" "$CHART" --namespace "$FULL_NS" -f "$SA_SRC/tests/chart/values-full.yaml" \
    --set serviceMonitor.enabled=false --set prometheusRule.enabled=false "${more[@]}"
  [ "$ENFORCEMENT" = webhook ] || policies_deciding
  h get manifest "$FULL" --namespace "$FULL_NS"
  cp "$W/helm.out" "$W/full-installed.yaml"
  # The server again, with this release's policy (its ConfigMap), and its webhooks calling it.
  if [ "$(kapi GET "/api/v1/namespaces/$FULL_NS/configmaps/session-admission-full-policy")" = 200 ]; then
    jget 'd["data"]["policy.yaml"]' >"$W/policy.full"
  else # enforcement=policies left no webhook server: the policy the manifest was generated from
    cp "$W/full-policies.yaml.policy" "$W/policy.full"
  fi
  webhook_stop
  cp "$W/policy.full" "$W/webhook/policy.yaml"
  webhook_start
  on_loopback session-admission-full "$W/full-installed.yaml"

  # Its session ServiceAccounts are agent-<id>; its aggregation user is the controller-manager.
  namespace project-a agent-abc
  local binding="roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: agent-abc, namespace: project-a}]"
  local labelled="labels: {kubernetes.io/bootstrapping: rbac-defaults}"
  local crb="apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding"
  # Sent and refused: an ordinary user's self-labelled bindings, cluster-wide and in namespaces
  # (kube-system's too: with matchConditions the RBAC webhooks have no namespaceSelector).
  KAPI_AS=alice@example.com expect_denied rbac-session-binding validate-cluster-rbac 'ClusterRoleBinding e2e-full-self' \
    POST "$r/clusterrolebindings" "$crb
metadata: {name: e2e-full-self, $labelled}
$binding"
  KAPI_AS=alice@example.com expect_denied rbac-session-binding validate-rbac 'RoleBinding project-a/e2e-full-self' \
    POST "$r/namespaces/project-a/rolebindings" "${crb/ClusterRoleBinding/RoleBinding}
metadata: {name: e2e-full-self, $labelled}
$binding"
  KAPI_AS=alice@example.com POLICY_RULES="rbac-session-binding rbac-cross-namespace" \
    expect_denied rbac-session-binding validate-rbac 'RoleBinding kube-system/e2e-full-self' \
    POST "$r/namespaces/kube-system/rolebindings" "${crb/ClusterRoleBinding/RoleBinding}
metadata: {name: e2e-full-self, $labelled}
$binding"
  # The bootstrap: skipped when labelled (as kube-apiserver's loopback client, in system:masters);
  # sent when unlabelled.
  KAPI_AS=system:apiserver create "$r/clusterrolebindings?dryRun=All" "$crb
metadata: {name: e2e-full-bootstrap, $labelled}
$binding"
  expect_not_judged ClusterRoleBinding e2e-full-bootstrap
  KAPI_AS=system:apiserver expect_denied rbac-session-binding validate-cluster-rbac 'ClusterRoleBinding e2e-full-bootstrap-plain' \
    POST "$r/clusterrolebindings" "$crb
metadata: {name: e2e-full-bootstrap-plain}
$binding"
  # The name alone (outside system:masters, allowed by RBAC through a binding of its own): sent.
  create "$r/clusterrolebindings" "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding,
    metadata: {name: e2e-full-apiserver-name}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin},
    subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: 'system:apiserver'}]}"
  KAPI_AS=system:apiserver KAPI_GROUPS= expect_denied rbac-session-binding validate-cluster-rbac \
    'ClusterRoleBinding e2e-full-name-only' POST "$r/clusterrolebindings" "$crb
metadata: {name: e2e-full-name-only, $labelled}
$binding"
  expect_code 200 DELETE "$r/clusterrolebindings/e2e-full-apiserver-name"
  # Aggregation: the user these values name is skipped on a labelled ClusterRole; the default
  # one (the aggregation controller), which these values do not list, is sent.
  local role="apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole"
  local wide="rules: [{apiGroups: [''], resources: ['*'], verbs: [request-serviceaccounts-token-audience]}]"
  create "$r/clusterroles" "$role
metadata: {name: e2e-full-aggregated, $labelled}
rules: []"
  KAPI_AS=system:kube-controller-manager expect_code 200 PUT "$r/clusterroles/e2e-full-aggregated" "$role
metadata: {name: e2e-full-aggregated, $labelled}
$wide"
  grep '"msg":"review"' "$W/webhook.log" | grep '"name":"e2e-full-aggregated"' | grep -q '"operation":"UPDATE"' \
    && fail "the controller-manager's update of a labelled ClusterRole was sent"
  # Not skipped: its update of a ClusterRole that carried no label, a labelled one it creates.
  create "$r/clusterroles" "$role
metadata: {name: e2e-full-aggregated-plain}
rules: []"
  KAPI_AS=system:kube-controller-manager expect_denied rbac-token-audience validate-cluster-rbac \
    'ClusterRole e2e-full-aggregated-plain' PUT "$r/clusterroles/e2e-full-aggregated-plain" "$role
metadata: {name: e2e-full-aggregated-plain, $labelled}
$wide"
  KAPI_AS=system:kube-controller-manager expect_denied rbac-token-audience validate-cluster-rbac \
    'ClusterRole e2e-full-aggregated-new' POST "$r/clusterroles" "$role
metadata: {name: e2e-full-aggregated-new, $labelled}
$wide"
  create "$r/clusterroles" "$role
metadata: {name: e2e-full-aggregated-2, $labelled}
rules: []"
  KAPI_AS=system:serviceaccount:kube-system:clusterrole-aggregation-controller expect_denied rbac-token-audience \
    validate-cluster-rbac 'ClusterRole e2e-full-aggregated-2' PUT "$r/clusterroles/e2e-full-aggregated-2" "$role
metadata: {name: e2e-full-aggregated-2, $labelled}
$wide"
  # Pods without the session label (example.com/session here): sent when they run as agent-<id>.
  KAPI_AS=alice@example.com expect_denied session-pod validate-unlabelled-pods agent-abc \
    POST /api/v1/namespaces/project-a/pods "{apiVersion: v1, kind: Pod, metadata: {name: e2e-full-borrower},
      spec: {serviceAccountName: agent-abc, containers: [{name: c, image: busybox}]}}"
  KAPI_AS=alice@example.com create "/api/v1/namespaces/project-a/pods?dryRun=All" \
    "{apiVersion: v1, kind: Pod, metadata: {name: e2e-full-plain}, spec: {containers: [{name: c, image: busybox}]}}"
  expect_not_judged Pod e2e-full-plain
}
