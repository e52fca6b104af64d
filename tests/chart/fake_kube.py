#!/usr/bin/python3
"""A stand-in Kubernetes API server, just enough for `helm install` / `helm upgrade` / `helm get`.

It serves discovery for the kinds the chart renders, stores what helm creates in memory, and answers
GET (one object or a label-selected list), POST, PUT, PATCH (JSON merge) and DELETE. It exists so the
chart's `lookup` of its stored TLS Secret runs for real: `helm template` and `--dry-run` never look up.
Prints the port it listens on, then serves until killed.
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GROUPS = {  # group/version -> [(resource, kind, namespaced)]
    "v1": [("secrets", "Secret", True), ("configmaps", "ConfigMap", True), ("services", "Service", True),
           ("serviceaccounts", "ServiceAccount", True), ("pods", "Pod", True), ("namespaces", "Namespace", False)],
    "apps/v1": [("deployments", "Deployment", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "admissionregistration.k8s.io/v1": [("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
                                        ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False)],
}
KINDS = {r: k for rs in GROUPS.values() for r, k, _ in rs}
store = {}  # (gv, namespace or "", resource, name) -> object
lock = threading.Lock()
rv = [1]


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    target = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def selected(obj, selector):
    labels = obj.get("metadata", {}).get("labels", {}) or {}
    for term in filter(None, selector.split(",")):
        k, _, v = term.partition("=")
        if labels.get(k) != v:
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("fake-kube: " + (fmt % a) + "\n")

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, msg):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": msg,
                          "reason": reason, "code": code})

    def route(self):
        """-> (gv, namespace, resource, name) for resource paths, or None."""
        path = urlparse(self.path).path
        m = re.fullmatch(r"/(?:api/(v1)|apis/([^/]+/[^/]+))(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?", path)
        if not m or m.group(4) not in KINDS:
            return None
        return (m.group(1) or m.group(2), m.group(3) or "", m.group(4), m.group(5))

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        path = urlparse(self.path).path
        if path == "/version":
            return self.reply(200, {"major": "1", "minor": "27", "gitVersion": "v1.27.3", "platform": "linux/amd64"})
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if path == "/apis":
            groups = [{"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                       "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]}}
                      for gv in GROUPS if "/" in gv]
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        gv = path[len("/api/"):] if path == "/api/v1" else path[len("/apis/"):]
        if gv in GROUPS and path in ("/api/v1", "/apis/" + gv):
            res = [{"name": r, "singularName": "", "namespaced": ns, "kind": k,
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]} for r, k, ns in GROUPS[gv]]
            return self.reply(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res})
        r = self.route()
        if r is None:
            return self.status(404, "NotFound", f"no route {path}")
        with lock:
            if r[3]:
                obj = store.get(r)
                return self.reply(200, obj) if obj else self.status(404, "NotFound", f'{r[2]} "{r[3]}" not found')
            sel = parse_qs(urlparse(self.path).query).get("labelSelector", [""])[0]
            items = [o for k, o in store.items() if k[:3] == r[:3] and selected(o, sel)]
        return self.reply(200, {"kind": KINDS[r[2]] + "List", "apiVersion": r[0],
                                "metadata": {"resourceVersion": str(rv[0])}, "items": items})

    def save(self, key, obj, code):
        with lock:
            rv[0] += 1
            meta = obj.setdefault("metadata", {})
            meta["resourceVersion"] = str(rv[0])
            meta.setdefault("uid", f"uid-{rv[0]}")
            meta.setdefault("creationTimestamp", "2024-01-01T00:00:00Z")
            if key[1]:
                meta["namespace"] = key[1]
            store[key] = obj
        self.reply(code, obj)

    def do_POST(self):
        r = self.route()
        if r is None or r[3]:
            return self.status(404, "NotFound", self.path)
        obj = self.body()
        key = r[:3] + (obj["metadata"]["name"],)
        if key in store:
            return self.status(409, "AlreadyExists", f"{key} exists")
        self.save(key, obj, 201)

    def do_PUT(self):
        r = self.route()
        if r is None or r not in store:
            return self.status(404, "NotFound", self.path)
        self.save(r, self.body(), 200)

    def do_PATCH(self):
        r = self.route()
        if r is None or r not in store:
            return self.status(404, "NotFound", self.path)
        self.save(r, merge_patch(store[r], self.body()), 200)

    def do_DELETE(self):
        r = self.route()
        with lock:
            obj = store.pop(r, None) if r else None
        self.reply(200, obj) if obj else self.status(404, "NotFound", self.path)


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
