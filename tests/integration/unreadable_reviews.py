#!/usr/bin/python3
"""unreadable_reviews.py: writes the reviews test_unreadable.sh sends, into DIR.

Each is written as the API server writes it (Go's encoding/json: kind and apiVersion first, then
request with uid and kind first; NUL as \\u0000), then spoiled in one way. NAME.json is the body;
the names say what the answer must be. Usage: unreadable_reviews.py DIR MAX_BODY
"""
import json
import os
import sys

out, max_body = sys.argv[1], int(sys.argv[2])


def review(group, kind, resource, obj, name="", namespace="proj-alpha", uid="5a000000-0000-4000-8000-00000000001"):
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
            "request": {"uid": uid, "kind": {"group": group, "version": "v1", "kind": kind},
                        "resource": {"group": group, "version": "v1", "resource": resource},
                        "name": name, "namespace": namespace, "operation": "CREATE",
                        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
                        "object": obj, "dryRun": False}}


def token(audiences, annotations=None):
    obj = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
           "metadata": {"name": "session-abc-sa", "namespace": "proj-alpha", "annotations": annotations or {}},
           "spec": {"audiences": audiences, "expirationSeconds": 3600}}
    return review("authentication.k8s.io", "TokenRequest", "serviceaccounts", obj, name="session-abc-sa")


def write(name, text):
    with open(os.path.join(out, name + ".json"), "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())


def dump(doc):
    return json.dumps(doc, separators=(",", ":"))  # ensure_ascii: NUL as \u0000, as Go writes it


# NUL where the policy compares: denied; in free text, or an unjudged kind: allowed.
write("deny-nul-audience", dump(token(["https://kubernetes.default.svc", "vault\u0000"])))
write("allow-nul-annotation", dump(token(["https://kubernetes.default.svc"], {"note": "a\u0000b"})))
write("allow-nul-configmap", dump(review("", "ConfigMap", "configmaps",
                                         {"metadata": {"name": "c"}, "data": {"k\u0000": "v\u0000"}})))
rb = json.load(open(os.path.join(os.environ["SA_SRC"], "tests", "fixtures", "rolebinding-v1.json")))
# What the strict reader refuses, of a review that still reads: denied for a judged kind.
text = dump(rb)
write("deny-duplicate-key", text.replace('"roleRef":', '"roleRef":{"apiGroup":"rbac.authorization.k8s.io",'
                                        '"kind":"ClusterRole","name":"cluster-admin"},"roleRef":', 1))
write("deny-invalid-utf8", text.encode().replace(b'"name":"alice"}', b'"name":"al\xc0\xafice"}'))
deep = {}
node = deep
for _ in range(300):
    node["f:x"] = {}
    node = node["f:x"]
rb["request"]["object"]["metadata"]["managedFields"] = [{"manager": "m", "fieldsV1": deep}]
write("deny-deep-managed-fields", dump(rb))
# Over --max-body: a judged kind is denied, an unjudged one allowed; a non-review stays 413.
pad = "x" * (max_body + 1000)
big = token(["https://kubernetes.default.svc"], {"pad": pad})
write("deny-oversized-token", dump(big))
write("allow-oversized-configmap", dump(review("", "ConfigMap", "configmaps", {"data": {"pad": pad}})))
write("refuse-oversized-not-review", dump({"pad": pad}))
# Not an AdmissionReview at all: HTTP 400.
write("refuse-no-uid", '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"kind":{"kind":"Pod"},"a":1,"a":2}}')
