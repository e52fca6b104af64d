#!/usr/bin/env bash
# policies_vap.sh: the differential test of `session-admission generate` through a real kube-apiserver,
# with NO webhook registered: the API server's own ValidatingAdmissionPolicy plugin decides, and
# each of its verdicts is compared with the C core's (`session-admission review --path /validate`)
# on the AdmissionReview the API server would have sent a webhook for the same request.
#
# Starts etcd and kube-apiserver as run.sh does (cluster.sh; MutatingAdmissionPolicy stays off:
# the mutation is not under test, so its documents are skipped and the core judges /validate only),
# then, in order:
#   0. namespaces, ServiceAccounts (there is no controller-manager: no "default" SA by itself), a
#      ClusterRole bound to system:authenticated that lets every impersonated identity create and
#      update pods, pods/ephemeralcontainers, TokenRequests, RoleBindings and ClusterRoleBindings,
#      with bind and escalate on roles and clusterroles (so RBAC's own escalation check lets every
#      binding through and only admission decides), and the objects the UPDATE cases update,
#      created for real while no policy exists (some of them violate the policy);
#   A. every case once as a server-side dry run (?dryRun=All) with no policy: it must be admitted,
#      and the object the API server answers (after its defaulting and mutating admission, e.g. the
#      ServiceAccount plugin's kube-api-access volume, a RoleBinding subject's apiGroup, a
#      TokenRequest's default audiences) is the object of the review the core judges;
#   1. `generate --kube-version 1.<minor>` for examples/policy.yaml and the example key, every
#      document POSTed with fieldValidation=Strict (a refusal is a failure, printed with the API
#      server's error); then bounded polling (30 s) until each policy denies a probe and the right
#      session pod is admitted (the ConfigMap param is seen);
#   B. every case again, as the identity it names (Impersonate-User / Impersonate-Group; the
#      userInfo of the review is what the API server's SelfSubjectReview says that identity is);
#   C. the bindings replaced by those of `generate --actions warn` ([Warn, Audit]), and every case
#      once more: each is admitted, and each policy that fires says so in a Warning header, so the
#      whole set of rules that fire is known (with Deny the API server names one denial only).
# A case agrees when both admit, or both deny and the API server's message names a rule id that
# the core's denial names too (and the denying policy's annotation is that rule), and under Warn
# the rules whose policies warned are exactly the rules the core's denial names. Rules the
# generated stream marks `# webhook-only: <rule> <Kinds>` are not compared for those kinds.
# Prints one line per case (ok / not ok with both verdicts and messages), then
# "N cases, N disagreements"; exits 1 on a disagreement, a refused document or a case the API
# server refused without the policies (a broken corpus). Notes (not failures): whether `generate`
# writes the same text on every run; the policies' type checking, when something wrote it (a
# type-checking warning fails).
#   bash tests/e2e/policies_vap.sh [REGEX]   only the cases whose name matches REGEX
# Environment: as run.sh (SA_BIN, KUBEBUILDER_ASSETS, KUBE_APISERVER_FLAGS, CI=true, SA_E2E_KEEP=1).
source "$(dirname "$0")/lib.sh"
source "$E2E/cluster.sh"

cleanup() {
  cluster_stop
  if [ -n "${SA_E2E_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SA_BIN" ] || { echo "FAIL: no server binary at $SA_BIN (build first)"; exit 1; }

if ! cluster_find_assets >"$W/why"; then
  if [ "${CI:-}" = true ]; then
    echo "not ok - policies: $(cat "$W/why") (CI=true: an API server is required)"; exit 1
  fi
  echo "skip - policies: $(cat "$W/why")"
  exit 0
fi
start=$SECONDS
if ! cluster_start >"$W/why" 2>&1 || [ "$(kapi GET /version)" != 200 ]; then
  tail -n 30 "$W/why"
  echo "not ok - policies: $KUBE_APISERVER and $ETCD did not start (logs above)"
  exit 1
fi
KUBE_VERSION=$(jget 'd["gitVersion"]') KUBE_MINOR=$(jget 'int(d["minor"].rstrip("+"))')
echo "# $KUBE_APISERVER ($KUBE_VERSION) and $ETCD, ready in $((SECONDS - start)) s; no webhook registered"
if [ "$KUBE_MINOR" -lt 30 ]; then
  echo "skip - policies: ValidatingAdmissionPolicy v1 needs Kubernetes 1.30 (this is $KUBE_VERSION)"
  exit 0
fi

PARAMS_NS=session-admission
if ! "$SA_BIN" generate --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
    --kube-version "1.$KUBE_MINOR" --namespace "$PARAMS_NS" >"$W/generated.yaml" 2>"$W/generate.err"; then
  cat "$W/generate.err"
  echo "not ok - policies: generate --kube-version 1.$KUBE_MINOR failed"
  exit 1
fi
"$SA_BIN" generate --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --kube-version "1.$KUBE_MINOR" --namespace "$PARAMS_NS" --actions warn >"$W/generated-warn.yaml" 2>/dev/null \
  || { echo "not ok - policies: generate --actions warn failed"; exit 1; }

# The driver (python3 + python3-yaml, Debian's): the corpus, both phases and the comparison.
cat >"$W/policies.py" <<'PY'
import copy
import difflib
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.parse

import yaml

W = os.environ["W"]
SA_BIN = os.environ["SA_BIN"]
SRC = os.environ["SA_SRC"]
PARAMS_NS = os.environ["PARAMS_NS"]
ONLY = re.compile(os.environ.get("ONLY") or "")
POLICY = os.path.join(SRC, "examples", "policy.yaml")
KEYFILE = os.path.join(SRC, "examples", "example-public.pem")
PEM = open(KEYFILE).read()
RULES = ["rbac-session-binding", "rbac-cross-namespace", "rbac-impersonation", "rbac-token-audience",
         "session-token-audience", "session-pod", "session-env-from-secret", "refused"]
RULE_RE = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, RULES)) + r"): ")
VAP_RE = re.compile(r"ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request")
ANNOTATION = "session-admission.ambient-code.io/rule"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
DRY = "dryRun=All"


def out(line):
    print(line, flush=True)


# --- the API client: the admin's client certificate, impersonating ---------------------------
class Kube:
    def __init__(self):
        url = urllib.parse.urlparse(os.environ["KUBE_URL"])
        self.host, self.port = url.hostname, url.port
        self.ctx = ssl.create_default_context(cafile=os.path.join(W, "pki", "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(W, "pki", "admin.crt"), os.path.join(W, "pki", "admin.key"))
        self.conn = None

    def req(self, method, path, body=None, who=None):
        """One request; who is (user, groups or None). Returns (status, parsed body, headers)."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
                self.conn.putrequest(method, path, skip_accept_encoding=True)
                self.conn.putheader("Accept", "application/json")
                if who:
                    self.conn.putheader("Impersonate-User", who[0])
                    for g in who[1] or []:
                        self.conn.putheader("Impersonate-Group", g)
                if data is not None:
                    self.conn.putheader("Content-Type", "application/json")
                    self.conn.putheader("Content-Length", str(len(data)))
                self.conn.endheaders(data)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    parsed = json.loads(raw) if raw else {}
                except ValueError:
                    parsed = {"message": raw.decode(errors="replace")}
                return r.status, parsed, r.getheaders()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def must(self, method, path, body=None, ok=(200, 201), who=None):
        st, d, _ = self.req(method, path, body, who)
        if st not in ok:
            raise SystemExit("setup: %s %s: HTTP %d: %s" % (method, path, st, d.get("message", d)))
        return d


K = Kube()


def with_query(path, q):
    return path + ("&" if "?" in path else "?") + q


# --- identities -------------------------------------------------------------------------------
WHO = {
    "alice": ("alice@example.com", None),
    "session-sa": ("system:serviceaccount:proj-a:session-abc-sa", None),
    "node": ("system:node:node-1", ["system:nodes"]),
    "apiserver": ("system:apiserver", ["system:masters"]),
    "apiserver-name-only": ("system:apiserver", None),
    "controller-manager": ("system:kube-controller-manager", None),
}
USERINFO = {}


def userinfo(who):
    """The userInfo the API server gives an impersonated identity (SelfSubjectReview)."""
    if who not in USERINFO:
        d = K.must("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                   {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, who=WHO[who])
        ui = d["status"]["userInfo"]
        if ui.get("username") != WHO[who][0]:
            raise SystemExit("impersonation of %s gave %s" % (WHO[who][0], ui))
        USERINFO[who] = ui
    return USERINFO[who]


# --- object builders --------------------------------------------------------------------------
KEY_ENV = "AMBIENT_CP_TOKEN_PUBLIC_KEY"
LABEL = "ambient-code.io/session-id"
LONG_ID = "Session0123456789abcdefghijklmnopqrstuvwxyz0123456789"  # 53 characters, mixed case
LONG_SA = "session-" + LONG_ID.lower()[:40] + "-sa"
STALE = PEM.replace("MIIC", "MIID", 1)
DOT_CUT_ID = "a" * 39 + ".b"  # cut to 40 characters it ends in ".": session-aaa.-sa is no DNS name
DASH_CUT_ID = "B" * 39 + "-c"  # cut to 40: session-bbb--sa, a DNS name
DASH_SA = "session-" + DASH_CUT_ID.lower()[:40] + "-sa"


def key(v="right"):
    if v == "right":
        return {"name": KEY_ENV, "value": PEM}
    if v == "stale":
        return {"name": KEY_ENV, "value": STALE}
    if v == "no-newline":
        return {"name": KEY_ENV, "value": PEM.rstrip("\n")}
    if v == "valueFrom":
        return {"name": KEY_ENV, "valueFrom": {"configMapKeyRef": {"name": "keys", "key": "public.pem"}}}
    raise ValueError(v)


def ctr(name="runner", keys=("right",), env=(), env_from=(), **extra):
    c = {"name": name, "image": "registry.example/%s:1" % name}
    e = [key(k) for k in keys] + [dict(x) for x in env]
    if e:
        c["env"] = e
    if env_from:
        c["envFrom"] = [dict(x) for x in env_from]
    c.update(extra)
    return c


def pod(name, ns="proj-a", label="abc", sa="session-abc-sa", containers=None, init=None, volumes=None,
        generate_name=False, deprecated_sa=None):
    meta = {"generateName": name + "-"} if generate_name else {"name": name}
    if label is not None:
        meta["labels"] = {LABEL: label}
    spec = {"containers": containers if containers is not None else [ctr()]}
    if sa is not None:
        spec["serviceAccountName"] = sa
    if deprecated_sa is not None:
        spec["serviceAccount"] = deprecated_sa
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def token_volume(audience, name="tok"):
    return {"name": name, "projected": {"sources": [
        {"serviceAccountToken": {"audience": audience, "expirationSeconds": 3600, "path": "t"}}]}}


def SA(name, ns=None):
    s = {"kind": "ServiceAccount", "name": name}
    if ns:
        s["namespace"] = ns
    return s


def User(name):
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}


def Group(name):
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}


def ref(kind, name):
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def rb(name, role, subjects, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "roleRef": role, "subjects": subjects}


def crb(name, role, subjects, labels=None):
    b = rb(name, role, subjects, labels)
    b["kind"] = "ClusterRoleBinding"
    return b


CR = lambda n: ref("ClusterRole", n)  # noqa: E731
R = lambda n: ref("Role", n)  # noqa: E731
PULLER, BUILDER, ADMIN = CR("system:image-puller"), CR("system:image-builder"), CR("cluster-admin")
AUD_ROLE = CR("system:node:credential-provider-token-audience")
BOOT = {"kubernetes.io/bootstrapping": "rbac-defaults"}

# --- the corpus -------------------------------------------------------------------------------
# A case: name, who, the review's coordinates, the request (method, path, body) or, for an
# UPDATE, "update": (path of the stored object, edit function, subresource path or None).
CASES = []


def case(name, who, **kw):
    CASES.append(dict(name=name, who=who, **kw))


def pod_case(name, body, ns="proj-a", who="alice"):
    n = body["metadata"].get("name", "")
    case(name, who, kind=("", "v1", "Pod"), resource=("", "v1", "pods"), sub="", ns=ns, rname=n,
         op="CREATE", method="POST", path="/api/v1/namespaces/%s/pods" % ns, body=body)


def token_case(name, sa, audiences=None, ns="proj-a", who="alice", bound_pod=None):
    spec = {}
    if audiences is not None:
        spec["audiences"] = audiences
    if bound_pod:
        spec["boundObjectRef"] = {"apiVersion": "v1", "kind": "Pod", "name": bound_pod}
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
    case(name, who, kind=("authentication.k8s.io", "v1", "TokenRequest"), resource=("", "v1", "serviceaccounts"),
         sub="token", ns=ns, rname=sa, op="CREATE", method="POST",
         path="/api/v1/namespaces/%s/serviceaccounts/%s/token" % (ns, sa), body=body)


def rb_case(name, body, ns="proj-a", who="alice"):
    case(name, who, kind=("rbac.authorization.k8s.io", "v1", "RoleBinding"),
         resource=("rbac.authorization.k8s.io", "v1", "rolebindings"), sub="", ns=ns,
         rname=body["metadata"]["name"], op="CREATE", method="POST",
         path="%s/namespaces/%s/rolebindings" % (RBAC, ns), body=body)


def crb_case(name, body, who="alice"):
    case(name, who, kind=("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
         resource=("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), sub="", ns="",
         rname=body["metadata"]["name"], op="CREATE", method="POST", path="%s/clusterrolebindings" % RBAC,
         body=body)


def update_case(name, kind, resource, ns, rname, path, edit, sub="", who="alice"):
    case(name, who, kind=kind, resource=resource, sub=sub, ns=ns, rname=rname, op="UPDATE", method="PUT",
         path=path + ("/" + sub if sub else ""), stored=path, edit=edit)


# Pods (CREATE)
pod_case("pod-session-right", pod("p-right"))
pod_case("pod-session-right-generate-name", pod("p-gen", generate_name=True))
pod_case("pod-session-id-mixed-case", pod("p-mixed", label="ABC"))
pod_case("pod-session-id-too-long-cut", pod("p-long", label=LONG_ID, sa=LONG_SA))
pod_case("pod-session-id-too-long-uncut-sa", pod("p-long-uncut", label=LONG_ID[:45], sa="session-abc-sa"))
pod_case("pod-session-id-cut-ends-in-dot", pod("p-cut-dot", label=DOT_CUT_ID, sa="default"))
pod_case("pod-session-id-cut-ends-in-dash", pod("p-cut-dash", label=DASH_CUT_ID, sa=DASH_SA))
pod_case("pod-session-id-with-dot", pod("p-dot", label="a.b", sa="session-a.b-sa"))
pod_case("pod-session-id-double-dot", pod("p-dotdot", label="a..b", sa="default"))
pod_case("pod-session-id-underscore", pod("p-underscore", label="a_b", sa="default"))
pod_case("pod-session-id-empty", pod("p-empty-id", label="", sa="default"))
pod_case("pod-session-no-sa-defaulted", pod("p-no-sa", sa=None))
pod_case("pod-session-deprecated-sa-only", pod("p-deprecated", sa=None, deprecated_sa="session-abc-sa"))
pod_case("pod-session-wrong-sa", pod("p-wrong-sa", sa="builder"))
pod_case("pod-session-other-session-sa", pod("p-other-sa", sa="session-7f3a9c2e-sa"))
pod_case("pod-session-label-of-other-session", pod("p-label-other", label="7F3A9C2E", sa="session-abc-sa"))
pod_case("pod-session-forbidden-env", pod("p-github", containers=[ctr(env=[{"name": "GITHUB_TOKEN", "value": "x"}])]))
pod_case("pod-session-forbidden-env-init",
         pod("p-github-init", init=[ctr("setup", keys=(), env=[{"name": "JIRA_API_TOKEN", "value": "x"}])]))
pod_case("pod-session-near-forbidden-env",
         pod("p-github-near", containers=[ctr(env=[{"name": "GITHUB_TOKEN_FILE", "value": "/t"}])]))
pod_case("pod-session-forbidden-env-valuefrom", pod("p-gitlab-ref", containers=[ctr(env=[
    {"name": "GITLAB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])]))
pod_case("pod-session-envfrom-secret", pod("p-envfrom-secret", containers=[ctr(env_from=[{"secretRef": {"name": "creds"}}])]))
pod_case("pod-session-envfrom-secret-init",
         pod("p-envfrom-secret-init", init=[ctr("setup", keys=(), env_from=[{"secretRef": {"name": "creds"}}])]))
pod_case("pod-session-envfrom-configmap", pod("p-envfrom-cm", containers=[ctr(env_from=[{"configMapRef": {"name": "settings"}}])]))
pod_case("pod-session-envfrom-prefix-forbidden",
         pod("p-prefix-github", containers=[ctr(env_from=[{"prefix": "GITHUB_", "configMapRef": {"name": "settings"}}])]))
pod_case("pod-session-envfrom-prefix-whole-name",
         pod("p-prefix-whole", containers=[ctr(env_from=[{"prefix": "GITLAB_TOKEN", "configMapRef": {"name": "settings"}}])]))
pod_case("pod-session-envfrom-prefix-other",
         pod("p-prefix-app", containers=[ctr(env_from=[{"prefix": "APP_", "configMapRef": {"name": "settings"}}])]))
pod_case("pod-session-key-missing", pod("p-key-missing", containers=[ctr(keys=())]))
pod_case("pod-session-key-stale", pod("p-key-stale", containers=[ctr(keys=("stale",))]))
pod_case("pod-session-key-no-trailing-newline", pod("p-key-nonl", containers=[ctr(keys=("no-newline",))]))
pod_case("pod-session-key-valuefrom", pod("p-key-valuefrom", containers=[ctr(keys=("valueFrom",))]))
pod_case("pod-session-key-duplicate-last-right", pod("p-key-dup-ok", containers=[ctr(keys=("stale", "right"))]))
pod_case("pod-session-key-duplicate-last-stale", pod("p-key-dup-bad", containers=[ctr(keys=("right", "stale"))]))
pod_case("pod-session-second-container-no-key", pod("p-two", containers=[ctr(), ctr("sidecar", keys=())]))
pod_case("pod-session-init-without-key", pod("p-init", init=[ctr("setup", keys=())]))
pod_case("pod-session-native-sidecar-without-key",
         pod("p-native-sidecar", init=[ctr("proxy", keys=(), restartPolicy="Always")]))
pod_case("pod-session-native-sidecar-with-key", pod("p-native-sidecar-ok", init=[ctr("proxy", restartPolicy="Always")]))
pod_case("pod-session-token-volume-vault", pod("p-vol-vault", volumes=[token_volume("vault")]))
pod_case("pod-session-token-volume-api-audience",
         pod("p-vol-api", volumes=[token_volume("https://kubernetes.default.svc")]))
pod_case("pod-session-token-volume-azure", pod("p-vol-azure", volumes=[token_volume("api://AzureADTokenExchange")]))
pod_case("pod-session-several-violations", pod("p-many", sa="builder", containers=[
    ctr(keys=("stale",), env=[{"name": "GITHUB_TOKEN", "value": "x"}], env_from=[{"secretRef": {"name": "creds"}}])],
    volumes=[token_volume("vault")]))
pod_case("pod-unlabelled-session-sa", pod("p-unlabelled-session", label=None, containers=[ctr(keys=())]))
pod_case("pod-unlabelled-session-sa-deprecated-field",
         pod("p-unlabelled-deprecated", label=None, sa=None, deprecated_sa="session-7f3a9c2e-sa", containers=[ctr(keys=())]))
pod_case("pod-unlabelled-session-sa-forbidden-env", pod("p-unlabelled-github", label=None, containers=[
    ctr(keys=(), env=[{"name": "GITHUB_TOKEN", "value": "x"}])]))
pod_case("pod-plain", pod("p-plain", label=None, sa=None, containers=[ctr(keys=())]))
pod_case("pod-plain-forbidden-env-and-secret", pod("p-plain-github", label=None, sa="builder", containers=[
    ctr(keys=(), env=[{"name": "GITHUB_TOKEN", "value": "x"}], env_from=[{"secretRef": {"name": "creds"}}])],
    volumes=[token_volume("vault")]))
pod_case("pod-plain-sa-like-session-prefix", pod("p-plain-sessionish", label=None, sa="session-abc", containers=[ctr(keys=())]))
pod_case("pod-kube-system-session-wrong-sa", pod("p-ks-wrong", ns="kube-system", sa="default", containers=[
    ctr(keys=(), env=[{"name": "GITHUB_TOKEN", "value": "x"}])]), ns="kube-system")
pod_case("pod-kube-system-unlabelled-session-sa",
         pod("p-ks-unlabelled", ns="kube-system", label=None, sa="session-ks-sa", containers=[ctr(keys=())]), ns="kube-system")
pod_case("pod-by-session-sa-itself-right", pod("p-self"), who="session-sa")
pod_case("pod-by-session-sa-itself-secret", pod("p-self-secret", containers=[ctr(env_from=[{"secretRef": {"name": "c"}}])]),
         who="session-sa")
pod_case("pod-other-namespace-right", pod("p-b-right", ns="proj-b", label="def", sa="session-def-sa"), ns="proj-b")

# TokenRequests (serviceaccounts/token CREATE)
token_case("token-session-default-audiences", "session-abc-sa")
token_case("token-session-api-audience", "session-abc-sa", ["https://kubernetes.default.svc.cluster.local"])
token_case("token-session-vault", "session-abc-sa", ["vault"])
token_case("token-session-api-and-vault", "session-abc-sa", ["https://kubernetes.default.svc", "vault"])
token_case("token-session-vault-by-itself", "session-abc-sa", ["vault"], who="session-sa")
token_case("token-session-azure-by-user", "session-abc-sa", ["api://AzureADTokenExchange"])
token_case("token-session-azure-by-node-unbound", "session-abc-sa", ["api://AzureADTokenExchange"], who="node")
token_case("token-session-azure-by-node-bound-to-pod", "session-abc-sa", ["api://AzureADTokenExchange"], who="node",
           bound_pod="upd-session-good")
token_case("token-session-azure-by-user-bound-to-pod", "session-abc-sa", ["api://AzureADTokenExchange"],
           bound_pod="upd-session-good")
token_case("token-session-other-namespace-vault", "session-def-sa", ["vault"], ns="proj-b")
token_case("token-default-sa-vault", "default", ["vault"])
token_case("token-default-sa-default-audiences", "default")
token_case("token-builder-sa-azure-by-user", "builder", ["api://AzureADTokenExchange"])
token_case("token-kube-system-session-vault", "session-ks-sa", ["vault"], ns="kube-system")

# RoleBindings and ClusterRoleBindings (CREATE)
SUBJECTS = [
    ("sa", lambda: SA("session-abc-sa", "proj-a")),
    ("sa-no-namespace", lambda: SA("session-abc-sa")),
    ("sa-other-ns", lambda: SA("session-def-sa", "proj-b")),
    ("user-sa-name", lambda: User("system:serviceaccount:proj-a:session-abc-sa")),
    ("user-sa-name-other-ns", lambda: User("system:serviceaccount:proj-b:session-def-sa")),
    ("group-all-sas", lambda: Group("system:serviceaccounts")),
    ("group-ns-sas", lambda: Group("system:serviceaccounts:proj-a")),
    ("group-other-ns-sas", lambda: Group("system:serviceaccounts:proj-b")),
    ("group-authenticated", lambda: Group("system:authenticated")),
    ("group-unauthenticated", lambda: Group("system:unauthenticated")),
    ("user-anonymous", lambda: User("system:anonymous")),
    ("user-alice", lambda: User("alice@example.com")),
    ("sa-default", lambda: SA("default", "proj-a")),
    ("user-sa-name-default", lambda: User("system:serviceaccount:proj-a:default")),
    ("user-sa-prefix-no-name", lambda: User("system:serviceaccount:proj-a")),
    ("group-ns-sas-empty-ns", lambda: Group("system:serviceaccounts:")),
    ("group-ns-sas-extra-colon", lambda: Group("system:serviceaccounts:proj-a:x")),
    ("user-sa-name-five-parts", lambda: User("system:serviceaccount:proj-a:session-x:y-sa")),
    ("user-sa-name-empty-ns", lambda: User("system:serviceaccount::session-abc-sa")),
    ("user-sa-name-prefix-case", lambda: User("System:serviceaccount:proj-a:session-abc-sa")),
    ("sa-kube-system-session", lambda: SA("session-ks-sa", "kube-system")),
]
for sname, subject in SUBJECTS:
    rb_case("rb-cluster-admin-" + sname, rb("rb-admin-" + sname, ADMIN, [subject()]))
for sname in ["sa", "sa-other-ns", "user-sa-name-other-ns", "group-other-ns-sas", "group-all-sas", "user-alice"]:
    subject = dict(SUBJECTS)[sname]
    rb_case("rb-image-puller-" + sname, rb("rb-puller-" + sname, PULLER, [subject()]))
    rb_case("rb-image-builder-" + sname, rb("rb-builder-" + sname, BUILDER, [subject()]))
for sname in ["group-authenticated", "group-unauthenticated", "user-anonymous", "sa", "group-all-sas"]:
    subject = dict(SUBJECTS)[sname]
    rb_case("rb-everyone-role-basic-user-" + sname, rb("rb-basic-" + sname, CR("system:basic-user"), [subject()]))
    crb_case("crb-everyone-role-discovery-" + sname, crb("crb-discovery-" + sname, CR("system:discovery"), [subject()]))
    crb_case("crb-cluster-admin-" + sname, crb("crb-admin-" + sname, ADMIN, [subject()]))
crb_case("crb-cluster-admin-user-sa-name", crb("crb-admin-user-sa-name", ADMIN,
                                               [User("system:serviceaccount:proj-a:session-abc-sa")]))
crb_case("crb-cluster-admin-group-ns-sas", crb("crb-admin-group-ns", ADMIN, [Group("system:serviceaccounts:proj-b")]))
crb_case("crb-cluster-admin-user-alice", crb("crb-admin-alice", ADMIN, [User("alice@example.com")]))
crb_case("crb-image-puller-sa", crb("crb-puller-sa", PULLER, [SA("session-abc-sa", "proj-a")]))
crb_case("crb-image-builder-sa", crb("crb-builder-sa", BUILDER, [SA("session-abc-sa", "proj-a")]))
crb_case("crb-view-mixed-subjects", crb("crb-view-mixed", CR("view"),
                                        [User("alice@example.com"), SA("session-def-sa", "proj-b")]))
rb_case("rb-role-named-like-allowed-clusterrole", rb("rb-role-puller", R("system:image-puller"), [SA("session-abc-sa")]))
rb_case("rb-role-local", rb("rb-role-local", R("e2e-peek"), [SA("session-abc-sa")]))
rb_case("rb-role-local-non-session", rb("rb-role-local-alice", R("e2e-peek"), [User("alice@example.com")]))
rb_case("rb-image-puller-several-namespaces", rb("rb-puller-many", PULLER,
                                                 [SA("session-abc-sa"), SA("session-def-sa", "proj-b"),
                                                  Group("system:serviceaccounts:images")]), ns="images")
rb_case("rb-image-builder-mixed", rb("rb-builder-mixed", BUILDER,
                                     [SA("session-abc-sa"), SA("session-def-sa", "proj-b"), User("alice@example.com")]))
rb_case("rb-kube-system-cluster-admin-session-sa", rb("rb-ks-admin-sa", ADMIN, [SA("session-abc-sa", "proj-a")]),
        ns="kube-system")
rb_case("rb-kube-system-cluster-admin-user", rb("rb-ks-admin-user", ADMIN, [User("alice@example.com")]), ns="kube-system")
rb_case("rb-kube-system-cluster-admin-group-authenticated",
        rb("rb-ks-admin-authn", ADMIN, [Group("system:authenticated")]), ns="kube-system")
rb_case("rb-kube-system-image-builder-own-sa", rb("rb-ks-builder", BUILDER, [SA("session-ks-sa")]), ns="kube-system")
rb_case("rb-kube-system-cluster-admin-kube-system-session-sa", rb("rb-ks-admin-ks-sa", ADMIN, [SA("session-ks-sa")]),
        ns="kube-system")
rb_case("rb-kube-system-view-group-kube-system-sas",
        rb("rb-ks-view-group", CR("view"), [Group("system:serviceaccounts:kube-system")]), ns="kube-system")
rb_case("rb-duplicate-subjects", rb("rb-dup", BUILDER, [SA("session-def-sa", "proj-b"), SA("session-def-sa", "proj-b")]))
case("rb-generate-name-cluster-admin-sa", "alice", kind=("rbac.authorization.k8s.io", "v1", "RoleBinding"),
     resource=("rbac.authorization.k8s.io", "v1", "rolebindings"), sub="", ns="proj-a", rname="", op="CREATE",
     method="POST", path=RBAC + "/namespaces/proj-a/rolebindings",
     body={"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"generateName": "rb-gen-"},
           "roleRef": ADMIN, "subjects": [SA("session-abc-sa")]})
rb_case("rb-kube-public-clusterinfo-anonymous",
        rb("rb-kp-clusterinfo", R("kubeadm:bootstrap-signer-clusterinfo"), [User("system:anonymous")]), ns="kube-public")
rb_case("rb-kube-public-other-role-anonymous", rb("rb-kp-peek", R("e2e-peek"), [User("system:anonymous")]),
        ns="kube-public")
rb_case("rb-everyone-role-as-role-wrong-namespace",
        rb("rb-clusterinfo-elsewhere", R("kubeadm:bootstrap-signer-clusterinfo"), [User("system:anonymous")]))
rb_case("rb-audience-role-nodes", rb("rb-aud-nodes", AUD_ROLE, [Group("system:nodes")]))
rb_case("rb-audience-role-alice", rb("rb-aud-alice", AUD_ROLE, [User("alice@example.com")]))
rb_case("rb-audience-role-session-sa", rb("rb-aud-sa", AUD_ROLE, [SA("session-abc-sa")]))
crb_case("crb-audience-role-nodes", crb("crb-aud-nodes", AUD_ROLE, [Group("system:nodes")]))
crb_case("crb-audience-role-nodes-and-alice", crb("crb-aud-mixed", AUD_ROLE, [Group("system:nodes"), User("alice@example.com")]))
crb_case("crb-bootstrap-labelled-by-apiserver", crb("crb-boot", ADMIN, [SA("session-abc-sa", "proj-a")], BOOT),
         who="apiserver")
crb_case("crb-bootstrap-unlabelled-by-apiserver", crb("crb-boot-unlabelled", ADMIN, [SA("session-abc-sa", "proj-a")]),
         who="apiserver")
crb_case("crb-bootstrap-labelled-by-apiserver-name-only",
         crb("crb-boot-name-only", ADMIN, [SA("session-abc-sa", "proj-a")], BOOT), who="apiserver-name-only")
crb_case("crb-bootstrap-labelled-by-alice", crb("crb-boot-alice", ADMIN, [SA("session-abc-sa", "proj-a")], BOOT))
rb_case("rb-bootstrap-labelled-by-apiserver", rb("rb-boot", BUILDER, [SA("session-def-sa", "proj-b")], BOOT),
        who="apiserver")
rb_case("rb-by-session-sa-itself", rb("rb-self", ADMIN, [SA("session-abc-sa")]), who="session-sa")


# UPDATEs of objects created for real before any policy (STORED below)
def edit_label(o):
    o["metadata"].setdefault("labels", {})["e2e-touched"] = "yes"


def edit_add_subject(s):
    return lambda o: o["subjects"].append(s)


def edit_image(o):
    o["spec"]["containers"][0]["image"] = "registry.example/runner:2"


def edit_session_label(v):
    return lambda o: o["metadata"]["labels"].__setitem__(LABEL, v)


def edit_ephemeral(**kw):
    def f(o):
        o["spec"].setdefault("ephemeralContainers", []).append(
            dict({"name": "debug", "image": "busybox", "terminationMessagePolicy": "File"}, **kw))
    return f


POD_K, POD_R = ("", "v1", "Pod"), ("", "v1", "pods")
RB_K, RB_R = ("rbac.authorization.k8s.io", "v1", "RoleBinding"), ("rbac.authorization.k8s.io", "v1", "rolebindings")
CRB_K = ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")
CRB_R = ("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
STORED = {
    "/api/v1/namespaces/proj-a/pods/upd-session-good": pod("upd-session-good"),
    "/api/v1/namespaces/proj-a/pods/upd-session-bad": pod("upd-session-bad", sa="builder", containers=[
        ctr(keys=(), env=[{"name": "GITHUB_TOKEN", "value": "x"}], env_from=[{"secretRef": {"name": "creds"}}])]),
    "/api/v1/namespaces/proj-a/pods/upd-unlabelled-session": pod("upd-unlabelled-session", label=None,
                                                                 containers=[ctr(keys=())]),
    "/api/v1/namespaces/proj-a/pods/upd-plain": pod("upd-plain", label=None, sa="default", containers=[ctr(keys=())]),
    RBAC + "/namespaces/proj-a/rolebindings/upd-admin": rb("upd-admin", ADMIN, [SA("session-abc-sa", "proj-a")]),
    RBAC + "/namespaces/proj-a/rolebindings/upd-cross": rb("upd-cross", BUILDER, [SA("session-def-sa", "proj-b")]),
    RBAC + "/namespaces/proj-a/rolebindings/upd-aud": rb("upd-aud", AUD_ROLE, [User("alice@example.com")]),
    RBAC + "/namespaces/proj-a/rolebindings/upd-clean": rb("upd-clean", PULLER, [SA("session-abc-sa")]),
    RBAC + "/clusterrolebindings/upd-crb-boot": crb("upd-crb-boot", ADMIN, [SA("session-abc-sa", "proj-a")], BOOT),
    RBAC + "/namespaces/kube-system/rolebindings/upd-ks-admin": rb("upd-ks-admin", ADMIN, [SA("session-abc-sa", "proj-a")]),
    RBAC + "/clusterrolebindings/upd-crb-builder": crb("upd-crb-builder", BUILDER, [SA("session-abc-sa", "proj-a")]),
}
P = "/api/v1/namespaces/proj-a/pods/"
B = RBAC + "/namespaces/proj-a/rolebindings/"
C = RBAC + "/clusterrolebindings/"


def pod_update(name, pname, edit, sub=""):
    update_case(name, POD_K, POD_R, "proj-a", pname, P + pname, edit, sub)


def rb_update(name, bname, edit):
    update_case(name, RB_K, RB_R, "proj-a", bname, B + bname, edit)


pod_update("upd-pod-good-label", "upd-session-good", edit_label)
pod_update("upd-pod-good-session-label-case", "upd-session-good", edit_session_label("AbC"))
pod_update("upd-pod-good-session-label-other-id", "upd-session-good", edit_session_label("def"))
pod_update("upd-pod-bad-label", "upd-session-bad", edit_label)
pod_update("upd-pod-bad-image", "upd-session-bad", edit_image)
pod_update("upd-pod-bad-session-label-other-id", "upd-session-bad", edit_session_label("def"))
pod_update("upd-pod-unlabelled-session-label", "upd-unlabelled-session", edit_label)
pod_update("upd-pod-plain-becomes-session", "upd-plain", lambda o: o["metadata"].setdefault("labels", {}).__setitem__(LABEL, "abc"))
pod_update("upd-ephemeral-good-plain", "upd-session-good", edit_ephemeral(), "ephemeralcontainers")
pod_update("upd-ephemeral-good-forbidden-env", "upd-session-good",
           edit_ephemeral(env=[{"name": "GITHUB_TOKEN", "value": "x"}]), "ephemeralcontainers")
pod_update("upd-ephemeral-good-envfrom-secret", "upd-session-good",
           edit_ephemeral(envFrom=[{"secretRef": {"name": "creds"}}]), "ephemeralcontainers")
pod_update("upd-ephemeral-good-envfrom-prefix", "upd-session-good",
           edit_ephemeral(envFrom=[{"prefix": "JIRA_", "configMapRef": {"name": "settings"}}]), "ephemeralcontainers")
pod_update("upd-ephemeral-bad-plain", "upd-session-bad", edit_ephemeral(), "ephemeralcontainers")
pod_update("upd-ephemeral-bad-same-secret", "upd-session-bad",
           edit_ephemeral(envFrom=[{"secretRef": {"name": "creds"}}]), "ephemeralcontainers")
pod_update("upd-ephemeral-unlabelled-session-forbidden-env", "upd-unlabelled-session",
           edit_ephemeral(env=[{"name": "GITLAB_TOKEN", "value": "x"}]), "ephemeralcontainers")
pod_update("upd-ephemeral-plain-forbidden-env", "upd-plain",
           edit_ephemeral(env=[{"name": "GITLAB_TOKEN", "value": "x"}]), "ephemeralcontainers")
pod_update("upd-status-bad", "upd-session-bad", lambda o: o.setdefault("status", {}).__setitem__("message", "e2e"), "status")
rb_update("upd-rb-admin-label", "upd-admin", edit_label)
rb_update("upd-rb-admin-add-alice", "upd-admin", edit_add_subject(User("alice@example.com")))
rb_update("upd-rb-admin-add-session-sa", "upd-admin", edit_add_subject(SA("session-7f3a9c2e-sa", "proj-a")))
rb_update("upd-rb-admin-add-other-ns-session-sa", "upd-admin", edit_add_subject(SA("session-def-sa", "proj-b")))
rb_update("upd-rb-admin-same-sa-as-user", "upd-admin",
          lambda o: o.__setitem__("subjects", [User("system:serviceaccount:proj-a:session-abc-sa")]))
rb_update("upd-rb-admin-same-sa-without-namespace", "upd-admin", lambda o: o.__setitem__("subjects", [SA("session-abc-sa")]))
rb_update("upd-rb-admin-reorder", "upd-admin",
          lambda o: o.__setitem__("subjects", [User("alice@example.com")] + o["subjects"]))
rb_update("upd-rb-cross-label", "upd-cross", edit_label)
rb_update("upd-rb-cross-add-another-ns", "upd-cross", edit_add_subject(Group("system:serviceaccounts:images")))
rb_update("upd-rb-cross-add-own-ns", "upd-cross", edit_add_subject(SA("session-abc-sa", "proj-a")))
rb_update("upd-rb-aud-label", "upd-aud", edit_label)
rb_update("upd-rb-aud-add-nodes", "upd-aud", edit_add_subject(Group("system:nodes")))
rb_update("upd-rb-aud-add-bob", "upd-aud", edit_add_subject(User("bob@example.com")))
rb_update("upd-rb-clean-add-other-ns-sa", "upd-clean", edit_add_subject(SA("session-def-sa", "proj-b")))
rb_update("upd-rb-clean-add-authenticated", "upd-clean", edit_add_subject(Group("system:authenticated")))
boot_add = edit_add_subject(SA("session-def-sa", "proj-b"))
update_case("upd-crb-boot-add-sa-by-apiserver", CRB_K, CRB_R, "", "upd-crb-boot", C + "upd-crb-boot", boot_add,
            who="apiserver")
update_case("upd-crb-boot-add-sa-by-alice", CRB_K, CRB_R, "", "upd-crb-boot", C + "upd-crb-boot", boot_add)
update_case("upd-crb-boot-unlabel-and-add-sa-by-apiserver", CRB_K, CRB_R, "", "upd-crb-boot", C + "upd-crb-boot",
            lambda o: (boot_add(o), o["metadata"].pop("labels")), who="apiserver")
update_case("upd-crb-boot-unlabel-only-by-alice", CRB_K, CRB_R, "", "upd-crb-boot", C + "upd-crb-boot",
            lambda o: o["metadata"].pop("labels"))
KS = RBAC + "/namespaces/kube-system/rolebindings/upd-ks-admin"
update_case("upd-rb-kube-system-add-alice", RB_K, RB_R, "kube-system", "upd-ks-admin", KS,
            edit_add_subject(User("alice@example.com")))
update_case("upd-rb-kube-system-add-session-sa", RB_K, RB_R, "kube-system", "upd-ks-admin", KS,
            edit_add_subject(SA("session-def-sa", "proj-b")))
update_case("upd-rb-kube-system-drop-session-sa", RB_K, RB_R, "kube-system", "upd-ks-admin", KS,
            lambda o: o.__setitem__("subjects", [User("alice@example.com")]))
update_case("upd-crb-builder-label", CRB_K, CRB_R, "", "upd-crb-builder", C + "upd-crb-builder", edit_label)
update_case("upd-crb-builder-add-group", CRB_K, CRB_R, "", "upd-crb-builder", C + "upd-crb-builder",
            edit_add_subject(Group("system:serviceaccounts:proj-b")))

# A NUL in an audience: the API server does not validate audiences, and sends it as \u0000.
token_case("token-session-nul-audience", "session-abc-sa", ["vault\u0000x"])
token_case("token-other-sa-nul-audience", "builder", ["https://kubernetes.default.svc\u0000"])

# Roles and ClusterRoles (rbac-impersonation, the rule half of rbac-token-audience, the guards on
# trusted roles), CREATE and UPDATE. Escalate on roles (above) lets RBAC's own check through.
ROLE_K, ROLE_R = ("rbac.authorization.k8s.io", "v1", "Role"), ("rbac.authorization.k8s.io", "v1", "roles")
CR_K, CR_R = ("rbac.authorization.k8s.io", "v1", "ClusterRole"), ("rbac.authorization.k8s.io", "v1", "clusterroles")


def rule(verbs, resources, groups=("",), names=None):
    r = {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
    if names:
        r["resourceNames"] = list(names)
    return r


def role(name, rules, kind="ClusterRole", labels=None, aggregation=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    o = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": rules}
    if aggregation:
        o["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregation}]}
    return o


def cr_case(name, body, who="alice"):
    case(name, who, kind=CR_K, resource=CR_R, sub="", ns="", rname=body["metadata"]["name"], op="CREATE",
         method="POST", path="%s/clusterroles" % RBAC, body=body)


def role_case(name, body, ns="proj-a", who="alice"):
    case(name, who, kind=ROLE_K, resource=ROLE_R, sub="", ns=ns, rname=body["metadata"]["name"], op="CREATE",
         method="POST", path="%s/namespaces/%s/roles" % (RBAC, ns), body=body)


AUD = "api://AzureADTokenExchange"
AUD_ROLE_NAME = "system:node:credential-provider-token-audience"
BUILDER_CEILING = [rule(["get", "update"], ["imagestreams/layers"], ("", "image.openshift.io")),
                   rule(["create"], ["imagestreams"], ("", "image.openshift.io")),
                   rule(["update"], ["builds/details"], ("", "build.openshift.io")),
                   rule(["get"], ["builds"], ("", "build.openshift.io"))]
cr_case("cr-plain-reader", role("e2e-reader", [rule(["get", "list", "watch"], ["pods", "configmaps"])]))
cr_case("cr-impersonate-users-every", role("e2e-imp-every", [rule(["impersonate"], ["users"])]))
cr_case("cr-impersonate-named", role("e2e-imp-named", [rule(["impersonate"], ["users", "groups"], names=["alice"])]))
cr_case("cr-impersonate-wildcard-name", role("e2e-imp-star", [rule(["impersonate"], ["groups"], names=["*"])]))
cr_case("cr-impersonate-unknown-verb", role("e2e-imp-bogus", [rule(["impersonate:bogus"], ["users"],
                                                                   ("authentication.k8s.io",), ["x"])]))
cr_case("cr-impersonate-userextras", role("e2e-imp-extras", [rule(["impersonate"], ["userextras/scopes"],
                                                                  ("authentication.k8s.io",), ["view"])]))
cr_case("cr-impersonate-associated-node", role("e2e-imp-assoc", [rule(["impersonate:associated-node"], ["nodes"],
                                                                      ("authentication.k8s.io",))]))
cr_case("cr-star-verbs-pods", role("e2e-star-pods", [rule(["*"], ["pods"])]))
role_case("role-impersonate-users", role("e2e-role-imp-users", [rule(["impersonate"], ["users"], names=["a"])], "Role"))
role_case("role-impersonate-sa", role("e2e-role-imp-sa", [rule(["impersonate"], ["serviceaccounts"], names=["x"])],
                                      "Role"))
cr_case("cr-audience-role-own-audience", role(AUD_ROLE_NAME, [rule(["request-serviceaccounts-token-audience"], [AUD]),
                                                              rule(["create"], ["serviceaccounts/token"])]))
cr_case("cr-audience-role-extra-grant", role(AUD_ROLE_NAME, [rule(["request-serviceaccounts-token-audience"], [AUD]),
                                                             rule(["get"], ["pods"])]))
cr_case("cr-audience-vault", role("e2e-aud-vault", [rule(["request-serviceaccounts-token-audience"], ["vault"])]))
cr_case("cr-audience-not-this-role", role("e2e-aud-other", [rule(["request-serviceaccounts-token-audience"], [AUD])]))
cr_case("cr-star-verbs-audience", role("e2e-star-aud", [rule(["*"], ["https://vault.example.com"])]))
cr_case("cr-builder-within-ceiling", role("system:image-builder", BUILDER_CEILING))
cr_case("cr-builder-beyond-ceiling", role("system:image-builder", BUILDER_CEILING + [rule(["create"], ["pods/exec"])]))
cr_case("cr-builder-aggregation-rule", role("system:image-builder", BUILDER_CEILING,
                                            aggregation={"e2e/feeds": "true"}))
# A role without rules reaches admission as rules: null (ClusterRole.Rules has no omitempty), as
# Kubernetes' own admin, edit and view ClusterRoles are made: an aggregationRule and no rules.
cr_case("cr-aggregated-no-rules", role("e2e-aggregated", None, aggregation={"e2e/feeds-aggregated": "true"}))
cr_case("cr-builder-aggregated-no-rules", role("system:image-builder", None, aggregation={"e2e/feeds": "true"}))
role_case("role-no-rules", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                            "metadata": {"name": "e2e-role-empty"}})
# A label key's name part holds no ":" (the API server refuses "aggregate-to-system:image-puller"
# with a 422 before admission): only a trusted role without one can be fed by label.
cr_case("cr-feeds-everyone-role-secrets", role("e2e-feeder", [rule(["get"], ["secrets"])],
                                               labels={"rbac.authorization.k8s.io/aggregate-to-basic-user": "true"}))
cr_case("cr-feeds-everyone-role-reader", role("e2e-feeder-ok", [rule(["get"], ["pods"])],
                                              labels={"rbac.authorization.k8s.io/aggregate-to-basic-user": "true"}))
cr_case("cr-feeds-view", role("e2e-feeder-view", [rule(["get"], ["secrets"])],
                              labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"}))
PULLER_PATH = RBAC + "/clusterroles/system:image-puller"
STORED[PULLER_PATH] = role("system:image-puller", [rule(["get"], ["imagestreams/layers"], ("", "image.openshift.io")),
                                                   rule(["get"], ["imagestreams/layers"], ("image.openshift.io",))])
STORED[RBAC + "/clusterroles/e2e-upd-aggregated"] = role("e2e-upd-aggregated", None,
                                                         aggregation={"e2e/feeds-upd": "true"})
STORED[RBAC + "/namespaces/proj-a/roles/upd-role-imp"] = role("upd-role-imp", [rule(["impersonate"], ["serviceaccounts"])],
                                                            "Role")


def cr_update(name, rname, edit, who="alice"):
    update_case(name, CR_K, CR_R, "", rname, RBAC + "/clusterroles/" + rname, edit, who=who)


def add_rule(r):
    return lambda o: o.update(rules=(o.get("rules") or []) + [r])  # a stored role without rules reads as null


cr_update("upd-cr-puller-label", "system:image-puller", edit_label)
cr_update("upd-cr-puller-reorder", "system:image-puller", lambda o: o["rules"].reverse())
cr_update("upd-cr-puller-drop-rule", "system:image-puller", lambda o: o["rules"].pop())
cr_update("upd-cr-puller-add-exec", "system:image-puller", add_rule(rule(["create"], ["pods/exec"])))
cr_update("upd-cr-puller-add-within-ceiling", "system:image-puller",
          add_rule(rule(["get"], ["imagestreams/layers"], ("",))))
cr_update("upd-cr-puller-add-exec-by-aggregator", "system:image-puller", add_rule(rule(["create"], ["pods/exec"])),
          who="controller-manager")
cr_update("upd-cr-aggregated-label", "e2e-upd-aggregated", edit_label)
cr_update("upd-cr-aggregated-add-impersonate", "e2e-upd-aggregated", add_rule(rule(["impersonate"], ["users"])))
cr_update("upd-cr-discovery-add-secrets", "system:discovery", add_rule(rule(["get"], ["secrets"])))
cr_update("upd-cr-discovery-add-covered-url", "system:discovery", add_rule({"nonResourceURLs": ["/api"], "verbs": ["get"]}))
cr_update("upd-cr-discovery-add-url", "system:discovery", add_rule({"nonResourceURLs": ["/metrics"], "verbs": ["get"]}))
update_case("upd-role-imp-label", ROLE_K, ROLE_R, "proj-a", "upd-role-imp", RBAC + "/namespaces/proj-a/roles/upd-role-imp",
            edit_label)
update_case("upd-role-imp-name-more", ROLE_K, ROLE_R, "proj-a", "upd-role-imp",
            RBAC + "/namespaces/proj-a/roles/upd-role-imp", add_rule(rule(["impersonate"], ["users"])))

# Probes: one request each policy denies alone (and the right pod, admitted once the param is read).
PROBES = {
    "session-admission-session-pod-pods": "pod-session-wrong-sa",
    "session-admission-session-env-from-secret-pods": "pod-session-envfrom-configmap+secret",
    "session-admission-session-token-audience-pods": "pod-session-token-volume-vault",
    "session-admission-session-token-audience-tokens": "token-session-vault",
    "session-admission-rbac-session-binding-bindings": "rb-cluster-admin-sa",
    "session-admission-rbac-cross-namespace-bindings": "rb-image-builder-sa-other-ns",
    "session-admission-rbac-token-audience-bindings": "rb-audience-role-alice",
    "session-admission-rbac-impersonation-roles": "cr-impersonate-users-every",
    "session-admission-rbac-token-audience-roles": "cr-audience-vault",
    "session-admission-rbac-session-binding-roles": "cr-builder-beyond-ceiling",
}
pod_case("pod-session-envfrom-configmap+secret",
         pod("p-probe-secret", containers=[ctr(env_from=[{"secretRef": {"name": "creds"}}])]))


# --- setup: what exists before any policy -----------------------------------------------------
def setup():
    for ns in ["proj-a", "proj-b", "images", PARAMS_NS]:
        K.must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    sas = {"proj-a": ["default", "builder", "session-abc", "session-abc-sa", "session-7f3a9c2e-sa", "session-a.b-sa",
                      LONG_SA, DASH_SA],
           "proj-b": ["default", "session-def-sa"], "images": ["default"],
           "kube-system": ["default", "session-ks-sa"]}
    for ns, names in sas.items():
        for n in names:
            K.must("POST", "/api/v1/namespaces/%s/serviceaccounts" % ns,
                   {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": n}})
    K.must("POST", RBAC + "/clusterroles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "e2e-policies-requester"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "pods/ephemeralcontainers", "pods/status"],
             "verbs": ["get", "create", "update", "patch"]},
            {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings", "clusterrolebindings"],
             "verbs": ["get", "create", "update", "patch"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles"],
             "verbs": ["get", "create", "update", "patch", "bind", "escalate"]}]})
    # system:authenticated covers every impersonated identity (system:anonymous is never a requester).
    K.must("POST", RBAC + "/clusterrolebindings", crb("e2e-policies-requesters", CR("e2e-policies-requester"),
                                                       [Group("system:authenticated")]))
    for path, body in STORED.items():
        K.must("POST", path.rsplit("/", 1)[0], body)


# --- the review the API server would send, and the core's verdict on it ---------------------
def gvk(t):
    return {"group": t[0], "version": t[1], "kind": t[2]}


def gvr(t):
    return {"group": t[0], "version": t[1], "resource": t[2]}


def review_for(c, obj, old, n):
    obj = copy.deepcopy(obj)
    if c["kind"][2] == "TokenRequest":
        obj["status"] = {"token": "", "expirationTimestamp": None}  # cleared before admission
    req = {"uid": "e2e-%04d" % n, "kind": gvk(c["kind"]), "resource": gvr(c["resource"]),
           "requestKind": gvk(c["kind"]), "requestResource": gvr(c["resource"]),
           "name": c["rname"], "operation": c["op"], "userInfo": userinfo(c["who"]),
           "object": obj, "oldObject": old, "dryRun": True,
           "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions" if c["op"] == "CREATE" else "UpdateOptions",
                       "dryRun": ["All"]}}
    if c["sub"]:
        req["subResource"] = req["requestSubResource"] = c["sub"]
    if c["ns"]:
        req["namespace"] = c["ns"]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def core_verdict(c, review):
    path = os.path.join(W, "reviews", c["name"] + ".json")
    with open(path, "w") as f:
        json.dump(review, f, indent=1)
    p = subprocess.run([SA_BIN, "review", "--policy", POLICY, "--public-key", KEYFILE, "--path", "/validate", path],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise SystemExit("review %s: exit %d: %s" % (path, p.returncode, p.stderr))
    resp = json.loads(p.stdout)["response"]
    return resp["allowed"], resp.get("status", {}).get("message", "")


def webhook_only(text):
    pairs = set()
    for line in text.splitlines():
        m = re.match(r"^\s*#\s*webhook-only:\s*(\S+)\s+([^:]+?)\s*:", line)
        if m:
            pairs.update((m.group(1), k.strip()) for k in m.group(2).split(","))
    return pairs


# --- the run ----------------------------------------------------------------------------------
def send(c, body):
    return K.req(c["method"], with_query(c["path"], DRY), body, WHO[c["who"]])


def main():
    os.makedirs(os.path.join(W, "reviews"), exist_ok=True)
    failures = 0
    setup()
    by_name = {c["name"]: c for c in CASES}
    assert len(by_name) == len(CASES), "duplicate case names"
    selected = [c for c in CASES if ONLY.search(c["name"])]

    # Phase A: no policy. Each case is admitted; its object is the one the core judges.
    for c in CASES:
        c["old"] = None
        if c["op"] == "UPDATE":
            st, stored, _ = K.req("GET", c["stored"])
            c["old"] = stored
            c["body"] = copy.deepcopy(stored)
            c["edit"](c["body"])
        st, d, _ = send(c, c["body"])
        c["phase_a"] = (st, d)
    broken = [c for c in CASES if c["phase_a"][0] not in (200, 201)]
    for c in broken:
        out("not ok - %s: refused with no policy in place (the corpus is wrong): HTTP %d: %s"
            % (c["name"], c["phase_a"][0], c["phase_a"][1].get("message", "")))
    failures += len(broken)

    # The generated documents.
    text = open(os.path.join(W, "generated.yaml")).read()
    skip_pairs = webhook_only(text)
    docs = [d for d in yaml.safe_load_all(text) if d]
    rule_of = {}
    refused = 0
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        api = d["apiVersion"]
        if kind.startswith("Mutating"):
            out("# skipped %s %s (%s): the mutation is not under test" % (kind, name, api))
            continue
        if kind == "ConfigMap":
            path = "/api/v1/namespaces/%s/configmaps" % d["metadata"].get("namespace", PARAMS_NS)
        else:
            plural = {"ValidatingAdmissionPolicy": "validatingadmissionpolicies",
                      "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings"}[kind]
            path = "/apis/%s/%s" % (api, plural)
        st, resp, hdrs = K.req("POST", with_query(path, "fieldValidation=Strict"), d)
        warn = [v for k, v in hdrs if k.lower() == "warning"]
        if st != 201:
            refused += 1
            out("not ok - apply %s %s: HTTP %d: %s" % (kind, name, st, resp.get("message", resp)))
        else:
            out("ok - apply %s %s%s" % (kind, name, ("; warnings: " + " | ".join(warn)) if warn else ""))
        if kind == "ValidatingAdmissionPolicy":
            rule_of[name] = d["metadata"].get("annotations", {}).get(ANNOTATION, "")
    failures += refused

    # In effect: each policy denies its probe, and the right session pod is admitted.
    t0 = time.time()
    pending = dict(PROBES)
    right_ok = False
    while time.time() - t0 < 30 and (pending or not right_ok):
        for pol, cname in list(pending.items()):
            st, d, _ = send(by_name[cname], by_name[cname]["body"])
            if st >= 400 and ("ValidatingAdmissionPolicy '%s'" % pol) in d.get("message", ""):
                del pending[pol]
        if not right_ok:
            right_ok = send(by_name["pod-session-right"], by_name["pod-session-right"]["body"])[0] == 201
        if pending or not right_ok:
            time.sleep(0.25)
    out("# policies in effect after %.1f s%s" % (time.time() - t0, "" if not pending and right_ok else
        "; NOT in effect by 30 s: %s%s" % (", ".join(sorted(pending)), "" if right_ok else
                                             "; the right session pod is still refused")))
    if pending or not right_ok:
        failures += 1

    deterministic()

    # Phase B: the policies decide (Deny); the core judges the phase-A object.
    judged = []
    n = 0
    for c in selected:
        st_a, obj = c["phase_a"]
        if st_a not in (200, 201):
            continue
        n += 1
        core_ok, core_msg = core_verdict(c, review_for(c, obj, c["old"], n))
        kind = c["kind"][2]
        core_rules = set(RULE_RE.findall(core_msg))
        if not core_ok and "holds a NUL (\\u0000)" in core_msg:
            core_rules.add("refused")  # admit.c's refusal, in every mode, before any rule
        c["core"] = (core_ok, core_msg, {r for r in core_rules if (r, kind) not in skip_pairs})
        if not core_ok and core_rules and not c["core"][2]:
            out("skip - %s: the core denies by webhook-only rules only (%s)" % (c["name"], ", ".join(sorted(core_rules))))
            continue
        st, d, hdrs = send(c, c["body"])
        c["deny"] = (st, "" if st in (200, 201) else d.get("message", ""), warnings_of(hdrs))
        judged.append(c)

    # Phase C: the same policies bound with `generate --actions warn`: every request is admitted and
    # each policy that fires says so in a warning, so the whole set of fired rules is compared.
    warn_ready = switch_to_warn(rule_of, by_name)
    if not warn_ready:
        failures += 1
    for c in judged:
        st, d, hdrs = send(c, c["body"])
        c["warn"] = (st, d.get("message", "") if st >= 400 else "", warnings_of(hdrs))

    # What the API server's type checking (its policy controller, asynchronous) found.
    checked = 0
    for name in rule_of:
        st, d, _ = K.req("GET", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/" + name)
        tc = d.get("status", {}).get("typeChecking")
        checked += tc is not None
        for w in (tc or {}).get("expressionWarnings") or []:
            failures += 1
            out("not ok - type checking of %s: %s: %s" % (name, w.get("fieldRef"), w.get("warning")))
    if checked:
        out("# type checking done for %d of %d policies" % (checked, len(rule_of)))
    else:
        out("# no type checking: status.typeChecking is kube-controller-manager's to write, and none runs here")

    disagreements = 0
    for c in judged:
        core_ok, core_msg, core_rules = c["core"]
        st, api_msg, _ = c["deny"]
        api_ok = st in (200, 201)
        api_rules = set(RULE_RE.findall(api_msg))
        whys = []
        if api_ok != core_ok:
            whys.append("verdicts differ")
        elif not api_ok:
            pols = VAP_RE.findall(api_msg)
            if not pols:
                whys.append("the API server's denial is not a policy's")
            elif not (api_rules & core_rules):
                whys.append("no rule id in common")
            elif any(rule_of.get(p) and rule_of[p] not in api_rules for p, _ in pols):
                whys.append("the denying policy's annotation names another rule")
        wst, wmsg, wlist = c["warn"]
        fired, bad = fired_rules(wlist, rule_of)
        if warn_ready:
            if wst not in (200, 201):
                whys.append("refused under the Warn bindings: HTTP %d: %s" % (wst, wmsg))
            elif bad:
                whys.append("a warning that names no rule or another rule than its policy's: " + " | ".join(bad))
            elif fired != core_rules:
                whys.append("fired rules differ under Warn: policies %s, core %s"
                            % (sorted(fired) or "none", sorted(core_rules) or "none"))
        if whys:
            disagreements += 1
            out("not ok - %s: %s\n    API server (Deny): %s%s\n    API server (Warn): %s\n    core: %s%s\n    review: %s" % (
                c["name"], "; ".join(whys), "admitted" if api_ok else "denied (HTTP %d)" % st,
                (": " + api_msg) if api_msg else "", " | ".join(wlist) or "no warning",
                "allowed" if core_ok else "denied", (": " + core_msg) if core_msg else "",
                os.path.join(W, "reviews", c["name"] + ".json")))
        else:
            out("ok - %s: %s%s" % (c["name"], "both admit" if api_ok else "both deny (%s)" % ", ".join(sorted(api_rules & core_rules)),
                                   "; all fired: " + ", ".join(sorted(core_rules)) if len(core_rules) > 1 else ""))
    out("%d cases, %d disagreements" % (len(judged), disagreements))
    if refused:
        out("# %d generated document(s) refused by the API server" % refused)
    sys.exit(1 if disagreements or failures else 0)


WARN_RE = re.compile(r"Validation failed for ValidatingAdmissionPolicy '([^']+)' with binding '[^']+': (.*)$", re.S)


def warnings_of(hdrs):
    """The Warning headers' texts (RFC 7234: 299 - "text"), kube-apiserver's own duplicate-env ones left out."""
    texts = []
    for k, v in hdrs:
        if k.lower() != "warning":
            continue
        m = re.match(r'^\d{3} \S+ "(.*)"$', v, re.S)
        t = m.group(1).replace('\\"', '"') if m else v
        if "ValidatingAdmissionPolicy" in t and t not in texts:
            texts.append(t)
    return texts


def fired_rules(warnings, rule_of):
    fired, bad = set(), []
    for t in warnings:
        m = WARN_RE.match(t)
        if not m:
            bad.append(t)
            continue
        rule = rule_of.get(m.group(1), "")
        named = RULE_RE.match(m.group(2))
        if not named or named.group(1) != rule:
            bad.append(t)
        fired.add(rule)
    return fired, bad


def deterministic(runs=6):
    """Notes (not a failure) whether generate writes the same text on every run."""
    args = [SA_BIN, "generate", "--policy", POLICY, "--public-key", KEYFILE, "--kube-version",
            "1." + os.environ["KUBE_MINOR"], "--namespace", PARAMS_NS]
    first = open(os.path.join(W, "generated.yaml")).read().splitlines()
    for _ in range(runs):
        again = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.splitlines()
        if again != first:
            lines = list(difflib.unified_diff(first, again, lineterm="", n=0))[2:]
            diff = [next(l for l in lines if l[:1] == c) for c in "-+"]
            out("# note: generate is not deterministic: two runs differ in %d lines, e.g.\n#   %s"
                % (sum(1 for a, b in zip(first, again) if a != b) + abs(len(first) - len(again)),
                   "\n#   ".join(x[:150] for x in diff)))
            return False
    return True


def switch_to_warn(rule_of, by_name):
    """Rebinds every policy with the bindings of `generate --actions warn` (the policies must be the
    same as the Deny output's), then waits until each probe is admitted with its policy's warning."""
    docs = [d for d in yaml.safe_load_all(open(os.path.join(W, "generated-warn.yaml"))) if d]
    deny_docs = [d for d in yaml.safe_load_all(open(os.path.join(W, "generated.yaml"))) if d]
    deny_specs = {d["metadata"]["name"]: d["spec"] for d in deny_docs if d["kind"] == "ValidatingAdmissionPolicy"}
    deny_bindings = {d["metadata"]["name"]: d["spec"] for d in deny_docs if d["kind"] == "ValidatingAdmissionPolicyBinding"}
    ok = True
    base = "/apis/admissionregistration.k8s.io/v1/"
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        if kind == "ValidatingAdmissionPolicy":
            # The policies stay as applied from the Deny output; generate may write the same
            # expressions in another order from one run to the next (see deterministic()).
            if name not in deny_specs:
                out("not ok - generate --actions warn wrote policy %s, which the Deny output has not" % name)
                ok = False
        elif kind == "ValidatingAdmissionPolicyBinding":
            want = copy.deepcopy(deny_bindings.get(name))
            if want is not None:
                want["validationActions"] = d["spec"].get("validationActions")
            if want != d["spec"] or d["spec"].get("validationActions") != ["Warn", "Audit"]:
                out("not ok - generate --actions warn: binding %s is %s, not the Deny output's with [Warn, Audit]"
                    % (name, json.dumps(d["spec"])))
                ok = False
            st, cur, _ = K.req("GET", base + "validatingadmissionpolicybindings/" + name)
            cur["spec"] = d["spec"]
            st, resp, _ = K.req("PUT", with_query(base + "validatingadmissionpolicybindings/" + name,
                                                  "fieldValidation=Strict"), cur)
            if st != 200:
                out("not ok - rebind %s with %s: HTTP %d: %s" % (name, d["spec"].get("validationActions"), st,
                                                               resp.get("message", resp)))
                ok = False
    t0 = time.time()
    pending = dict(PROBES)
    while pending and time.time() - t0 < 30:
        for pol, cname in list(pending.items()):
            st, d, hdrs = send(by_name[cname], by_name[cname]["body"])
            if st in (200, 201) and any(("ValidatingAdmissionPolicy '%s'" % pol) in w for w in warnings_of(hdrs)):
                del pending[pol]
        if pending:
            time.sleep(0.25)
    out("# Warn bindings in effect after %.1f s%s" % (time.time() - t0, "" if not pending else
        "; NOT in effect by 30 s: " + ", ".join(sorted(pending))))
    return ok and not pending


main()
PY

export W SA_BIN SA_SRC KUBE_URL KUBE_MINOR PARAMS_NS ONLY=${1:-}
rc=0
"$PY" "$W/policies.py" || rc=$?
echo "# $((SECONDS - start)) s"
exit "$rc"
