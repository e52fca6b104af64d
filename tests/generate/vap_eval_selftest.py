#!/usr/bin/python3
"""vap_eval_selftest.py: checks vap_eval.mjs itself against the Kubernetes behaviour it copies.

Why: differential.py trusts vap_eval.mjs to decide as kube-apiserver's ValidatingAdmissionPolicy
plugin would; a bug there would hide (or invent) disagreements with the C core. Each case here is
one rule of the Kubernetes sources (matching, selectors, params, matchConditions, variables,
messages, failurePolicy, the CEL inputs) on a small hand-written policy, and the hand-written
sample-vap.yaml is run against reviews from corpus.py. Prints "ok - ..." / "not ok - ..." and
exits 1 on a failure. Debian python3 + python3-yaml; node runs vap_eval.mjs.
"""
import json
import os
import shutil
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402

NODE = shutil.which("node") or "node"
RULE = "session-admission.ambient-code.io/rule"


def vap(name, validations, match=None, **spec):
    spec = dict(spec)
    spec["matchConstraints"] = match if match is not None else {"resourceRules": [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}]}
    spec["validations"] = validations
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name, "annotations": {RULE: "session-pod"}}, "spec": spec}


def binding(policy, actions=("Deny",), **spec):
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": policy + "-b"},
            "spec": dict({"policyName": policy, "validationActions": list(actions)}, **spec)}


def review(op="CREATE", ns="project-a", obj=None, old=None, resource="pods", sub="", name="p",
           kind=("", "v1", "Pod"), user="alice", **extra):
    req = {"uid": "u", "kind": {"group": kind[0], "version": kind[1], "kind": kind[2]},
           "resource": {"group": kind[0], "version": kind[1], "resource": resource},
           "operation": op, "userInfo": {"username": user, "groups": ["system:authenticated"]},
           "object": obj, "oldObject": old, "dryRun": False}
    if ns:
        req["namespace"] = ns
    if name:
        req["name"] = name
    if sub:
        req["subResource"] = sub
    req.update(extra)
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def pod(labels=None, **spec):
    meta = {"name": "p", "namespace": "project-a"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": dict({"containers": [{"name": "c", "image": "i"}]}, **spec)}


def evaluate(docs, reviews):
    out = subprocess.run([NODE, os.path.join(HERE, "vap_eval.mjs")],
                         input=json.dumps({"docs": docs, "reviews": reviews}),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("vap_eval.mjs exited %d: %s" % (out.returncode, out.stderr))
    return json.loads(out.stdout)


FALSE = [{"expression": "false", "message": "session-pod: denied"}]
P = "p1"


def one(docs, rev):
    """The single policy entry vap_eval gives the review."""
    res = evaluate(docs, [rev])[0]["policies"]
    assert len(res) == 1, res
    return res[0]


def fires(e):
    return e["matched"] and bool(e["violations"] or e["errors"])


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def resource_rules_and_subresources():
    rules = lambda res, ops=("*",), **kw: {"resourceRules": [dict(
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": list(ops), "resources": res}, **kw)]}
    cases = [
        (["pods"], "", True), (["pods"], "ephemeralcontainers", False),
        (["pods/ephemeralcontainers"], "ephemeralcontainers", True), (["pods/ephemeralcontainers"], "", False),
        (["*"], "", True), (["*"], "status", False), (["*/*"], "status", True), (["pods/*"], "status", True),
        (["*/status"], "status", True), (["*/status"], "", False),
    ]
    for res, sub, want in cases:
        e = one([vap(P, FALSE, rules(res)), binding(P)], review("UPDATE", sub=sub, obj=pod(), old=pod()))
        assert e["matched"] == want, (res, sub, e)
    e = one([vap(P, FALSE, rules(["pods"], ["CREATE"])), binding(P)], review("UPDATE", obj=pod(), old=pod()))
    assert not e["matched"], e
    e = one([vap(P, FALSE, rules(["pods"], scope="Cluster")), binding(P)], review(obj=pod()))
    assert not e["matched"], e
    e = one([vap(P, FALSE, rules(["roles"], scope="Namespaced") | {}), binding(P)],
            review(obj={}, ns="", resource="roles"))
    assert not e["matched"], e
    m = rules(["pods"])
    m["resourceRules"][0]["resourceNames"] = ["other"]
    assert not one([vap(P, FALSE, m), binding(P)], review(obj=pod()))["matched"]
    m["excludeResourceRules"] = m.pop("resourceRules")
    m["resourceRules"] = rules(["pods"])["resourceRules"]
    assert one([vap(P, FALSE, m), binding(P)], review(obj=pod()))["matched"]
    m["excludeResourceRules"][0]["resourceNames"] = ["p"]
    assert not one([vap(P, FALSE, m), binding(P)], review(obj=pod()))["matched"]


@case
def namespace_and_object_selectors():
    m = {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}],
         "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                     "values": ["kube-system"]}]}}
    docs = [vap(P, FALSE, m), binding(P)]
    assert one(docs, review(obj=pod()))["matched"]
    assert not one(docs, review(ns="kube-system", obj=pod()))["matched"]
    # a cluster-scoped request always passes the namespaceSelector
    assert one(docs, review(ns="", obj={}, resource="clusterroles"))["matched"]
    # labels of a Namespace in the stream, or of the review's test-only namespaceObject
    m2 = dict(m, namespaceSelector={"matchLabels": {"tier": "tenant"}})
    nsdoc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "project-a", "labels": {"tier": "tenant"}}}
    assert one([vap(P, FALSE, m2), binding(P), nsdoc], review(obj=pod()))["matched"]
    assert not one([vap(P, FALSE, m2), binding(P)], review(obj=pod()))["matched"]
    r = review(obj=pod())
    r["namespaceObject"] = {"metadata": {"name": "project-a", "labels": {"tier": "tenant"}}}
    assert one([vap(P, FALSE, m2), binding(P)], r)["matched"]
    # objectSelector: the object's labels or the old object's
    m3 = dict(m, objectSelector={"matchExpressions": [{"key": "s", "operator": "Exists"}]})
    docs = [vap(P, FALSE, m3), binding(P)]
    assert one(docs, review(obj=pod({"s": ""})))["matched"]
    assert not one(docs, review(obj=pod({})))["matched"]
    assert not one(docs, review(obj=pod()))["matched"]
    assert one(docs, review("UPDATE", obj=pod({}), old=pod({"s": "x"})))["matched"]
    assert one(docs, review("DELETE", obj=None, old=pod({"s": "x"})))["matched"]
    for op, vals, labels, want in [("In", ["a"], {"s": "a"}, True), ("In", ["a"], {}, False),
                                   ("NotIn", ["a"], {}, True), ("NotIn", ["a"], {"s": "a"}, False),
                                   ("DoesNotExist", [], {}, True), ("DoesNotExist", [], {"s": "a"}, False)]:
        expr = {"key": "s", "operator": op}
        if vals:
            expr["values"] = vals
        m4 = dict(m, objectSelector={"matchExpressions": [expr]})
        assert one([vap(P, FALSE, m4), binding(P)], review(obj=pod(labels)))["matched"] == want, (op, labels)
    # the binding's matchResources narrows further
    b = binding(P, matchResources={"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "project-b"}}})
    e = one([vap(P, FALSE, m), b], review(obj=pod()))
    assert not e["matched"] and e["reason"].startswith("binding"), e


@case
def match_conditions_and_failure_policy():
    cond = lambda *exprs: [{"name": "c%d" % i, "expression": x} for i, x in enumerate(exprs)]
    e = one([vap(P, FALSE, matchConditions=cond("object.nope", "false")), binding(P)], review(obj=pod()))
    assert e["matched"] and not fires(e), e  # a false condition wins over an error
    e = one([vap(P, FALSE, matchConditions=cond("object.nope", "true")), binding(P)], review(obj=pod()))
    assert fires(e) and e["violations"][0].startswith("error: ") and e["errors"], e
    e = one([vap(P, FALSE, matchConditions=cond("object.nope"), failurePolicy="Ignore"), binding(P)], review(obj=pod()))
    assert not fires(e) and e["ignoredErrors"], e
    e = one([vap(P, [{"expression": "object.nope == 1"}], failurePolicy="Ignore"), binding(P)], review(obj=pod()))
    assert not fires(e) and e["ignoredErrors"], e
    e = one([vap(P, [{"expression": "object.nope == 1"}]), binding(P)], review(obj=pod()))
    assert fires(e) and "No such key" in e["errors"][0], e
    e = one([vap(P, FALSE, matchConditions=cond("namespaceObject == null")), binding(P)], review(obj=pod()))
    assert fires(e), e  # the matcher passes no namespace
    e = one([vap(P, [{"expression": "namespaceObject.metadata.name == 'project-a'"}]), binding(P)], review(obj=pod()))
    assert not fires(e), e
    assert evaluate([vap(P, FALSE)], [review(obj=pod())])[0]["policies"] == []  # no binding, no policy
    e = one([vap(P, FALSE), binding(P, ("Warn", "Audit"))], review(obj=pod()))
    assert e["actions"] == ["Warn", "Audit"] and e["rule"] == "session-pod", e


@case
def variables_and_messages():
    v = [{"name": "bad", "expression": "object.nope"}, {"name": "n", "expression": "size(object.spec.containers)"},
         {"name": "m", "expression": "variables.n + 1"}]
    e = one([vap(P, [{"expression": "variables.m == 2"}], variables=v), binding(P)], review(obj=pod()))
    assert not fires(e), e  # the erroring variable is never used
    e = one([vap(P, [{"expression": "variables.bad == 1"}], variables=v), binding(P)], review(obj=pod()))
    assert fires(e) and "variable 'bad'" in e["errors"][0], e
    v2 = [{"name": "a", "expression": "variables.b"}, {"name": "b", "expression": "1"}]
    e = one([vap(P, [{"expression": "variables.a == 1"}], variables=v2), binding(P)], review(obj=pod()))
    assert e["errors"], e  # a variable sees only earlier ones
    e = one([vap(P, [{"expression": "false"}], matchConditions=[{"name": "v", "expression": "variables.n == 1"}],
                 variables=v), binding(P)], review(obj=pod()))
    assert fires(e), e  # matchConditions see the variables
    msgs = [({"messageExpression": "'session-pod: x' + string(variables.n)"}, "session-pod: x1"),
            ({"messageExpression": "'  '", "message": "session-pod: m"}, "session-pod: m"),
            ({"messageExpression": "'a\\nb'", "message": "session-pod: m"}, "session-pod: m"),
            ({"messageExpression": "object.nope", "message": "session-pod: m"}, "session-pod: m"),
            ({"messageExpression": "1", "message": "session-pod: m"}, "session-pod: m"),
            ({}, "failed expression: false"),
            ({"message": "  session-pod: trimmed  "}, "session-pod: trimmed")]
    for extra, want in msgs:
        e = one([vap(P, [dict({"expression": "false"}, **extra)], variables=v), binding(P)], review(obj=pod()))
        assert e["violations"] == [want], (extra, e)
    e = one([vap(P, [{"expression": "true"}, {"expression": "1 == 1 && false", "message": "session-pod: 2"}]),
             binding(P)], review(obj=pod()))
    assert e["violations"] == ["session-pod: 2"] and e["failed"][0]["index"] == 1, e
    e = one([vap(P, [{"expression": "'x'"}]), binding(P)], review(obj=pod()))
    assert e["errors"], e  # a validation must be a bool
    e = one([vap(P, [{"expression": "true"}], auditAnnotations=[{"key": "k", "valueExpression": "object.nope"}]),
             binding(P)], review(obj=pod()))
    assert fires(e), e
    e = one([vap(P, [{"expression": "true"}], auditAnnotations=[{"key": "k", "valueExpression": "' v '"}]),
             binding(P)], review(obj=pod()))
    assert not fires(e) and e["auditAnnotations"] == {"k": "v"}, e


@case
def params():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t", "namespace": "sa"}, "data": {"x": "1"}}
    val = [{"expression": "params.data.x == '1'"}]
    kind = {"apiVersion": "v1", "kind": "ConfigMap"}
    ref = lambda **kw: {"paramRef": dict({"name": "t", "namespace": "sa", "parameterNotFoundAction": "Deny"}, **kw)}
    e = one([vap(P, val, paramKind=kind), binding(P, **ref()), cm], review(obj=pod()))
    assert e["matched"] and not fires(e), e
    e = one([vap(P, val, paramKind=kind), binding(P, **ref(name="gone")), cm], review(obj=pod()))
    assert fires(e) and "parameterNotFoundAction" in e["errors"][0], e
    e = one([vap(P, val, paramKind=kind, failurePolicy="Ignore"), binding(P, **ref(name="gone")), cm], review(obj=pod()))
    assert not fires(e), e
    e = one([vap(P, FALSE, paramKind=kind), binding(P, **ref(name="gone", parameterNotFoundAction="Allow")), cm],
            review(obj=pod()))
    assert not fires(e), e  # no params, no evaluation
    local = dict(cm, metadata={"name": "t", "namespace": "project-a"})
    r = ref()
    del r["paramRef"]["namespace"]
    e = one([vap(P, val, paramKind=kind), binding(P, **r), local], review(obj=pod()))
    assert not fires(e), e  # the request's namespace
    any_res = {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}]}
    e = one([vap(P, val, any_res, paramKind=kind), binding(P, **r), local],
            review(obj={}, ns="", resource="clusterroles"))
    assert fires(e) and "cluster-scoped" in e["errors"][0], e
    e = one([vap(P, [{"expression": "params == null"}], paramKind=kind), binding(P)], review(obj=pod()))
    assert not fires(e), e  # paramKind without paramRef: params null
    sel = {"paramRef": {"selector": {"matchLabels": {"t": "1"}}, "namespace": "sa", "parameterNotFoundAction": "Deny"}}
    two = [dict(cm, metadata={"name": n, "namespace": "sa", "labels": {"t": "1"}}, data={"x": v})
           for n, v in (("a", "1"), ("b", "2"))]
    e = one([vap(P, val, paramKind=kind), binding(P, **sel)] + two, review(obj=pod()))
    assert len(e["violations"]) == 1, e  # evaluated once per param
    nsk = {"apiVersion": "v1", "kind": "Namespace"}
    nsdoc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}}
    e = one([vap(P, [{"expression": "params.metadata.name == 't'"}], paramKind=nsk), binding(P, **ref()), nsdoc],
            review(obj=pod()))
    assert fires(e) and "cluster-scoped" in e["errors"][0], e  # no namespace for a cluster-scoped kind
    r = ref()
    del r["paramRef"]["namespace"]
    e = one([vap(P, [{"expression": "params.metadata.name == 't'"}], paramKind=nsk), binding(P, **r), nsdoc],
            review(obj=pod()))
    assert e["matched"] and not fires(e), e


@case
def cel_inputs():
    checks = [
        "!has(request.subResource)", "!has(request.requestSubResource)", "request.dryRun == false",
        "request.namespace == 'project-a'", "request.operation == 'CREATE'", "!has(request.uid)",
        "request.requestKind.kind == 'Pod'", "request.userInfo.username == 'alice'",
        "oldObject == null", "!has(object.spec.env)", "object.spec.n == 3", "type(object.spec.n) == int",
        "object.spec.d == 1.5", "'system:authenticated' in request.userInfo.groups",
        "!has(request.userInfo.extra)", "'a_b_c'.replace('_', '-') == 'a-b-c'", "'ab'.charAt(1) == 'b'",
        "sets.contains(['a', 'b'], ['b'])", "['x', 'y'].indexOf('y') == 1",
    ]
    obj = pod(env=None, n=3, d=1.5)
    e = one([vap(P, [{"expression": c, "message": c} for c in checks]), binding(P)], review(obj=obj))
    assert e["matched"] and not e["violations"] and not e["errors"], e
    r = review(obj=pod())
    del r["request"]["dryRun"]
    e = one([vap(P, [{"expression": "request.dryRun == false"}]), binding(P)], r)
    assert e["matched"] and not fires(e), e  # always set, as a *bool
    r = review("UPDATE", sub="ephemeralcontainers", obj=pod(), old=pod(), resource="pods")
    m = {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"],
                            "resources": ["pods/ephemeralcontainers"]}]}
    e = one([vap(P, [{"expression": "request.subResource == 'ephemeralcontainers' && oldObject != null"}], m),
             binding(P)], r)
    assert e["matched"] and not fires(e), e
    e = one([vap(P, [{"expression": "!has(request.namespace) && namespaceObject == null"}],
                 {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}]}),
             binding(P)], review(obj={}, ns="", resource="clusterroles"))
    assert not fires(e), e


@case
def sample_vap_on_the_corpus():
    with open(os.path.join(HERE, "sample-vap.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    policy = corpus.load_policy()
    with open(corpus.EXAMPLE_KEY) as f:
        pem = f.read()
    reviews = corpus.generate(policy, pem, 400, 7)
    out = evaluate(docs, reviews)
    seen = {"fired": 0, "clean": 0, "skipped": 0}
    for r, o in zip(reviews, out):
        req = r["request"]
        (e,) = o["policies"]
        judged = (req["kind"]["kind"] == "Pod" and req["operation"] in ("CREATE", "UPDATE") and
                  req.get("subResource", "") in ("", "ephemeralcontainers") and
                  req["namespace"] not in ("kube-system", "kube-public", "kube-node-lease"))
        assert e["matched"] == judged, (req["uid"], e)
        obj = req.get("object") or {}
        labelled = "ambient-code.io/session-id" in ((obj.get("metadata") or {}).get("labels") or {})
        spec = obj.get("spec") or {}
        bad = [c["name"] for lst in ("containers", "initContainers", "ephemeralContainers")
               for c in spec.get(lst) or [] for v in c.get("env") or []
               if v.get("name") in ("GITHUB_TOKEN", "GITLAB_TOKEN", "JIRA_API_TOKEN")]
        want = judged and labelled and bool(bad)
        assert fires(e) == want and not e["errors"], (req["uid"], e, bad)
        if want:
            name = obj["metadata"].get("name", "")
            assert e["violations"] == ["session-pod: Pod %s/%s: container %s carries a name in "
                                       "sessions.forbiddenEnv" % (req["namespace"], name, bad[0])], e
            seen["fired"] += 1
        elif judged and labelled:
            seen["clean"] += 1
        elif judged:
            seen["skipped"] += 1
            assert "matchCondition" in e["reason"], e
    assert all(seen.values()), seen


def main():
    fails = 0
    for fn in CASES:
        try:
            fn()
            print("ok - vap_eval: " + fn.__name__.replace("_", " "))
        except AssertionError as e:
            fails += 1
            print("not ok - vap_eval: %s: %s" % (fn.__name__.replace("_", " "), str(e)[:2000]))
    print("%d passed, %d failed" % (len(CASES) - fails, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
