#!/usr/bin/python3
"""chart_conditions.py: the chart's matchConditions and the server agree on what the webhook judges.

Usage: chart_conditions.py RENDERED.yaml SA_BIN PUBLIC_KEY WORKDIR
From a `helm template --kube-version 1.30` render it takes the policy (ConfigMap) and the
matchConditions of the RBAC and unlabelled-pod webhooks, then for each sample request (objects the
policy would deny unless the request is exempt) evaluates the conditions with an independent CEL
implementation (tests/chart/cel_eval.mjs) and runs the real binary (`review --path /validate`). A
request the API server would not send must be one the server exempts, and one it sends must be
judged (denied here). Prints "ok - ..." / "not ok - ..." lines; exits 1 on any failure.
"""
import copy
import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chart"))
from check_render import cel, session_globs  # noqa: E402  (the chart tests' CEL runner and glob reader)

RBAC = "rbac.authorization.k8s.io"
RESOURCES = {"ClusterRoleBinding": "clusterrolebindings", "ClusterRole": "clusterroles",
             "RoleBinding": "rolebindings", "Role": "roles", "Pod": "pods"}


def review(kind, op, user, obj, old=None, ns="", groups=("system:authenticated",)):
    group = "" if kind == "Pod" else RBAC
    req = {"uid": "c0000000-0000-4000-8000-000000000001",
           "kind": {"group": group, "version": "v1", "kind": kind},
           "resource": {"group": group, "version": "v1", "resource": RESOURCES[kind]},
           "name": obj["metadata"]["name"], "operation": op,
           "userInfo": {"username": user, "groups": list(groups)},
           "object": obj, "oldObject": old}
    if ns:
        req["namespace"] = ns
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def main():
    rendered, sa_bin, key, work = sys.argv[1:5]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and "policy.yaml" in d.get("data", {}))
    policy_path = os.path.join(work, "policy.yaml")
    with open(policy_path, "w") as f:
        f.write(cm["data"]["policy.yaml"])
    policy = yaml.safe_load(cm["data"]["policy.yaml"])
    vwc = next(d for d in docs if d["kind"] == "ValidatingWebhookConfiguration")
    hooks = {w["name"].split(".")[0]: w for w in vwc["webhooks"]}
    labels = policy.get("exempt", {}).get("objectLabels", {"kubernetes.io/bootstrapping": "rbac-defaults"})
    tmpl = policy.get("sessions", {}).get("serviceAccount", {}).get("template", "session-{id}-sa")
    session_sa = tmpl.replace("{id}", "abc")
    boot = policy.get("exempt", {}).get("bootstrapUsers", ["system:apiserver"])
    agg = policy.get("exempt", {}).get("aggregationUsers",
                                       ["system:serviceaccount:kube-system:clusterrole-aggregation-controller"])

    def meta(name, labelled, ns=None):
        m = {"name": name}
        if labelled:
            m["labels"] = dict(labels)
        if ns:
            m["namespace"] = ns
        return m

    def crb(labelled):
        return {"apiVersion": RBAC + "/v1", "kind": "ClusterRoleBinding", "metadata": meta("root", labelled),
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": session_sa, "namespace": "project-a"}]}

    def rb(labelled):
        o = crb(labelled)
        o.update(kind="RoleBinding", metadata=meta("root", labelled, "kube-system"))
        return o

    def role(labelled):
        return {"apiVersion": RBAC + "/v1", "kind": "ClusterRole", "metadata": meta("wide", labelled),
                # Two rules, so one is enforced whatever mode the other's rule is in.
                "rules": [{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]},
                          {"apiGroups": [""], "resources": ["*"], "verbs": ["request-serviceaccounts-token-audience"]}]}

    def pod(sa):
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "project-a"},
                "spec": {"serviceAccountName": sa, "containers": [{"name": "c", "image": "busybox"}]}}

    empty_role = role(True)
    empty_role["rules"] = []
    # (description, webhook, review): every object here is denied unless its request is exempt.
    samples = [("an ordinary user's self-labelled ClusterRoleBinding", "validate-cluster-rbac",
                review("ClusterRoleBinding", "CREATE", "alice@example.com", crb(True))),
               ("an ordinary user's self-labelled RoleBinding in kube-system", "validate-rbac",
                review("RoleBinding", "CREATE", "alice@example.com", rb(True), ns="kube-system"))]
    # kube-apiserver's loopback client is its bootstrap user in the group system:masters
    # (apiserver pkg/server/config.go, AuthorizeClientBearerToken); the name alone is not exempt.
    loopback = ("system:authenticated", "system:masters")
    for u in boot:
        samples += [(f"{u}'s labelled ClusterRoleBinding", "validate-cluster-rbac",
                     review("ClusterRoleBinding", "CREATE", u, crb(True), groups=loopback)),
                    (f"{u}'s labelled RoleBinding in kube-system", "validate-rbac",
                     review("RoleBinding", "CREATE", u, rb(True), ns="kube-system", groups=loopback)),
                    (f"{u}'s labelled ClusterRoleBinding without system:masters", "validate-cluster-rbac",
                     review("ClusterRoleBinding", "CREATE", u, crb(True))),
                    (f"{u}'s unlabelled ClusterRoleBinding", "validate-cluster-rbac",
                     review("ClusterRoleBinding", "CREATE", u, crb(False)))]
    for u in agg:
        samples += [(f"{u} aggregating into a labelled ClusterRole", "validate-cluster-rbac",
                     review("ClusterRole", "UPDATE", u, role(True), empty_role)),
                    (f"{u} aggregating into a ClusterRole that carried no label", "validate-cluster-rbac",
                     review("ClusterRole", "UPDATE", u, role(True), dict(empty_role, metadata=meta("wide", False)))),
                    (f"{u} creating a labelled ClusterRole", "validate-cluster-rbac",
                     review("ClusterRole", "CREATE", u, role(True)))]
    samples += [("an unlabelled pod running as a session ServiceAccount", "validate-unlabelled-pods",
                 review("Pod", "CREATE", "alice@example.com", pod(session_sa), ns="project-a"))]
    # Unlabelled pods running as names near the session globs: sent exactly when the server
    # judges the name a session's (and so denies the pod).
    pod_names = ["default", session_sa, tmpl.replace("{id}", ""), tmpl.replace("{id}", "a.b")]
    for g in session_globs(policy):
        plain = g.replace("\\", "")
        pod_names += [plain.replace("*", "x").replace("?", "q"), plain.replace("*", "").replace("?", ""),
                      plain.replace("*", "x.y").replace("?", "qq"), g, plain, plain.split("*")[0] + "zz"]
    pod_names = sorted(set(n for n in pod_names if n))

    results = []

    def check(desc, cond, detail=""):
        results.append((bool(cond), desc + ("" if cond or not detail else ": " + detail)))

    def server_allows(rev, i):
        path = os.path.join(work, f"review-{i}.json")
        with open(path, "w") as f:
            json.dump(rev, f)
        r = subprocess.run([sa_bin, "review", "--policy", policy_path, "--public-key", key, "--path", "/validate", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"review failed ({r.returncode}): {r.stderr.strip()}")
        return json.loads(r.stdout)["response"]["allowed"]

    for i, (desc, hook, rev) in enumerate(samples):
        w = hooks.get(hook)
        check(f"{hook} is registered", w is not None)
        if w is None:
            continue
        conds = w.get("matchConditions", [])
        check(f"{hook} has matchConditions", conds)
        req = rev["request"]
        res = cel([(c["expression"], {"request": req, "object": req["object"], "oldObject": req["oldObject"]})
                   for c in conds])
        errs = [r["error"] for r in res if "error" in r]
        check(f"{desc}: matchConditions evaluate", not errs, str(errs))
        sent = all(r.get("value") is True for r in res)
        allowed = server_allows(rev, i)
        check(f"{desc}: sent={sent}, and the server {'allows' if allowed else 'denies'} it", sent != allowed)
    conds = hooks["validate-unlabelled-pods"].get("matchConditions", [])
    for j, name in enumerate(pod_names):
        req = review("Pod", "CREATE", "alice@example.com", pod(name), ns="project-a")["request"]
        res = cel([(c["expression"], {"request": req, "object": req["object"], "oldObject": None}) for c in conds])
        sent = all(r.get("value") is True for r in res)
        allowed = server_allows({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}, 1000 + j)
        check(f"an unlabelled pod running as {name!r}: sent={sent}, and the server "
              f"{'allows' if allowed else 'denies'} it", sent != allowed)

    for ok, desc in results:
        print(("ok - " if ok else "not ok - ") + desc)
    return 0 if results and all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
