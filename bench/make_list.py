#!/usr/bin/env python3
"""make_list.py N OUT: a List of N objects in the shape of `kubectl get
roles,rolebindings,clusterroles,clusterrolebindings,pods -A -o json`, made by repeating the
objects of tests/scan/kubectl-get-all.json (a recorded dump: RBAC, session pods as the API server
returns them, status and all) under fresh names (but the ClusterRoles', which the policy names), for bench/run_scan.sh."""
import copy, json, os, sys

n, out = int(sys.argv[1]), sys.argv[2]
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "scan", "kubectl-get-all.json")
seed = json.load(open(src))["items"]
items = []
for i in range(n):
    o = copy.deepcopy(seed[i % len(seed)])
    # Fresh names; ClusterRoles keep theirs, which the policy's tables name.
    if o["kind"] != "ClusterRole":
        o["metadata"]["name"] = "%s-%d" % (o["metadata"]["name"], i)
    items.append(o)
json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items},
          open(out, "w"), indent=4)
