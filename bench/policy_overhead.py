#!/usr/bin/python3
"""policy_overhead.py: the timing half of bench/policy_overhead.sh (run by it; reads W, KUBE_URL, N,
ROUNDS). Creates the generated policies (unbound) and a trivial one, then in each round binds each
configuration alone (none, the trivial policy, each RoleBinding policy), waits until its probe
answers as that configuration must (bounded), sends 10 untimed and N timed dry-run RoleBinding
creates (admitted by every policy), and writes a Markdown section: median per configuration and
what it adds over none, with a bootstrap 95% interval. Exits 1 on any unexpected answer."""
import json
import os
import random
import ssl
import statistics
import sys
import time
import urllib.parse
import http.client

import yaml

W, N, ROUNDS = os.environ["W"], int(os.environ["N"]), int(os.environ["ROUNDS"])
URL = urllib.parse.urlparse(os.environ["KUBE_URL"])
ctx = ssl.create_default_context(cafile=W + "/pki/ca.crt")
ctx.load_cert_chain(W + "/pki/admin.crt", W + "/pki/admin.key")
conn = http.client.HTTPSConnection(URL.hostname, URL.port, context=ctx, timeout=40)
A = "/apis/admissionregistration.k8s.io/v1/"
RB_PATH = "/apis/rbac.authorization.k8s.io/v1/namespaces/proj-a/rolebindings?dryRun=All"


def call(method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def must(method, path, body=None, ok=(200, 201)):
    code, data = call(method, path, body)
    if code not in ok:
        sys.exit(f"{method} {path}: HTTP {code}: {data[:300]!r}")


def rb(name, role, subject):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [subject]}


SESSION_SA = {"kind": "ServiceAccount", "name": "session-7f3a9c2e-bench-sa", "namespace": "proj-a"}
TIMED = rb("bench", "system:image-puller", SESSION_SA)  # an allowedRoles row: admitted
TRIVIAL = "bench-trivial"
# Configuration -> (policy to bind or None, a RoleBinding it denies).
CONFIGS = {
    "none": (None, None),
    "trivial": (TRIVIAL, rb("bench-probe-trivial", "system:image-puller", SESSION_SA)),
    "rbac-session-binding": ("session-admission-rbac-session-binding-bindings",
                             rb("bench-probe", "cluster-admin", SESSION_SA)),
    "rbac-cross-namespace": ("session-admission-rbac-cross-namespace-bindings",
                             rb("bench-probe", "system:image-builder",
                                {"kind": "ServiceAccount", "name": "session-def-sa", "namespace": "proj-b"})),
    "rbac-token-audience": ("session-admission-rbac-token-audience-bindings",
                            rb("bench-probe", "system:node:credential-provider-token-audience",
                               {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"})),
}

for ns in ("proj-a", "proj-b", "session-admission"):
    must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
docs = [d for d in yaml.safe_load_all(open(W + "/generated.yaml")) if d]
bindings = {}
for d in docs:
    if d["kind"] == "ConfigMap":
        must("POST", "/api/v1/namespaces/session-admission/configmaps", d)
    elif d["kind"] == "ValidatingAdmissionPolicy":
        must("POST", A + "validatingadmissionpolicies", d)
    elif d["kind"] == "ValidatingAdmissionPolicyBinding":
        bindings[d["spec"]["policyName"]] = d
must("POST", A + "validatingadmissionpolicies", {
    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": TRIVIAL},
    "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{
        "apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
        "resources": ["rolebindings"]}]},
        "validations": [{"expression": 'object.metadata.name != "bench-probe-trivial"'}]}})
bindings[TRIVIAL] = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
                     "metadata": {"name": TRIVIAL}, "spec": {"policyName": TRIVIAL, "validationActions": ["Deny"]}}
for name, _ in CONFIGS.values():
    if name and name not in bindings:
        sys.exit(f"generate wrote no binding for {name}")


def wait_for(cfg, previous):
    """Until cfg's probe is denied by its policy and the previous configuration's is admitted."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ok = True
        for c in {cfg, previous} - {"none"}:
            code, data = call("POST", RB_PATH, CONFIGS[c][1])
            denied = code in (403, 422) and f"'{CONFIGS[c][0]}'".encode() in data
            ok &= denied if c == cfg else code == 201
        if ok:
            return
        time.sleep(0.2)
    sys.exit(f"configuration {cfg}: its policy never took effect")


samples = {c: [] for c in CONFIGS}
bound, previous = None, "none"
for _ in range(ROUNDS):
    for cfg, (name, _) in CONFIGS.items():
        if bound:
            must("DELETE", A + "validatingadmissionpolicybindings/" + bound)
        if name:
            must("POST", A + "validatingadmissionpolicybindings", bindings[name])
        bound = name
        wait_for(cfg, previous)
        previous = cfg
        for i in range(10 + N):
            t = time.perf_counter()
            code, data = call("POST", RB_PATH, TIMED)
            ms = (time.perf_counter() - t) * 1000
            if code != 201:
                sys.exit(f"{cfg}: the timed RoleBinding answered HTTP {code}: {data[:300]!r}")
            if i >= 10:
                samples[cfg].append(ms)


def added_ci(xs, base):
    rng = random.Random(1)
    boot = sorted(statistics.median(rng.choices(xs, k=len(xs))) - statistics.median(rng.choices(base, k=len(base)))
                  for _ in range(1000))
    return boot[25], boot[974]


base = samples["none"]
print(f"{ROUNDS} rounds of every configuration in turn, {N} timed dry-run creates of a RoleBinding of a session "
      f"ServiceAccount to system:image-puller per block (10 untimed after each switch), one kept-alive TLS "
      f"connection from python3 http.client as the admin; every answer 201.\n")
print("| bound | median ms | added median ms (95% CI) |")
print("|---|---:|---:|")
for cfg, xs in samples.items():
    if cfg == "none":
        print(f"| nothing | {statistics.median(xs):.2f} | |")
        continue
    lo, hi = added_ci(xs, base)
    what = "a policy whose one validation compares the name" if cfg == "trivial" else f"generate's {cfg} (RoleBindings)"
    print(f"| {what} | {statistics.median(xs):.2f} | +{statistics.median(xs) - statistics.median(base):.2f} "
          f"({lo:+.2f} to {hi:+.2f}) |")
trivial = statistics.median(samples["trivial"]) - statistics.median(base)
gen = [statistics.median(samples[c]) - statistics.median(base) for c in CONFIGS if c.startswith("rbac-")]
print(f"\nThe trivial policy's added median over the mean of generate's three: **{trivial / (sum(gen) / len(gen)):.2f}**.")
