#!/usr/bin/env python3
"""policy_cost.py: the measuring half of bench/policy_cost.sh (see there)."""
import json, os, ssl, sys, time, urllib.request, urllib.error, yaml
URL, W = os.environ["KUBE_URL"], os.environ["W"]
CTX = ssl.create_default_context(cafile=f"{W}/pki/ca.crt")
CTX.load_cert_chain(f"{W}/pki/admin.crt", f"{W}/pki/admin.key")
def call(method, path, body=None, user=None, groups=()):
    req = urllib.request.Request(URL + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    if user:
        req.add_header("Impersonate-User", user)
        for g in groups: req.add_header("Impersonate-Group", g)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=60) as r: return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read() or b"{}")
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and not d["kind"].startswith("Mutating")]
call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "session-admission"}})
for d in docs:
    g = d["apiVersion"]; kind = d["kind"]
    path = "/api/v1/namespaces/session-admission/configmaps" if kind == "ConfigMap" else "/apis/%s/%s" % (g, kind.lower()[:-1] + "ies" if kind.endswith("y") else kind.lower() + "s")
    c, b = call("POST", path, d)
    assert c == 201, (kind, c, b.get("message"))
RB = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
ME = ("carol", ("system:masters",))
def rules(n): return [{"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get"], "resourceNames": ["r%d" % i]} for i in range(n)]
time.sleep(3)
for n in [int(x) for x in sys.argv[2:]]:
    name = "system:image-puller"
    call("DELETE", RB + "/" + name)
    o = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules(n)}
    t = time.time(); c, b = call("POST", RB, o, *ME); tc = time.time() - t
    if c != 201:
        print("n=%d CREATE: %d %s" % (n, c, b.get("message", "")[:300])); continue
    o = b; o["rules"] = [o["rules"][-1]] + o["rules"][:-1]   # reorder: adds nothing; every rule compared
    o["rules"].append({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]})  # one added grant
    t = time.time(); c2, b2 = call("PUT", RB + "/" + name + "?dryRun=All", o, *ME); tu = time.time() - t
    print("n=%d rules, %d bytes: CREATE %d in %.2f s; UPDATE (reordered, one rule added) %d in %.2f s: %s" % (
        n, len(json.dumps(o)), c, tc, c2, tu, b2.get("message", "")[140:400]))
