#!/usr/bin/python3
"""make_reviews.py OUTDIR: writes the benchmark's inputs, so they are generated, never hand-edited.

Reviews (AdmissionReview v1, as kube-apiserver sends them):
  session-pod.json      a session pod of the ambient-code platform's shape: ambient-code-runner,
                        ambient-mcp and two credential-* sidecars, ~20 env vars each (~7 KB)
  plain-pod.json        a pod that is not a session pod (passes untouched)
  rolebinding.json      a RoleBinding of a session ServiceAccount to an allowed ClusterRole
  clusterrole.json      a ClusterRole granting impersonate on exactly named users
  clusterrole-update.json, allowedrole-update.json  UPDATEs (old object = new object) of that
                        ClusterRole and of an allowedRoles role
  pod-N.json            the session pod with N = 1, 10, 100, 500 containers (scaling)
Policies (the same tables, each with ROWS rows; the rows the reviews hit are the last ones):
  policy-10.yaml, policy-100000.yaml
"""
import json
import os
import sys

NS = "proj-alpha"
SID = "7F3a9c2e-Bench"


def env(prefix, n):
    names = ["LOG_LEVEL", "HOME", "WORKSPACE_DIR", "SESSION_ID", "PROJECT_NAME", "BACKEND_API_URL",
             "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "HTTP_PROXY", "NO_PROXY",
             "MODEL_NAME", "MAX_TOKENS", "TIMEOUT_SECONDS", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
             "REPO_URL", "BRANCH", "INTERACTIVE", "TZ", "LANG", "PYTHONUNBUFFERED", "USER_ID"]
    out = []
    for i in range(n):
        name = f"{prefix}_{names[i % len(names)]}" if i >= len(names) else names[i]
        out.append({"name": name, "value": f"{prefix.lower()}-{i}"})
    out[3] = {"name": "SESSION_ID", "value": SID}
    out[-1] = {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    return out


def container(name, image, n_env=20):
    return {
        "name": name,
        "image": f"quay.io/ambient_code/{image}@sha256:" + "0123456789abcdef" * 4,
        "imagePullPolicy": "IfNotPresent",
        "env": env(name.upper().replace("-", "_"), n_env),
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                      "limits": {"cpu": "2", "memory": "4Gi"}},
        "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"},
                         {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                          "readOnly": True}],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    }


def session_pod(n_containers=4):
    names = [("ambient-code-runner", "runner"), ("ambient-mcp", "mcp"),
             ("credential-github", "credential-github"), ("credential-jira", "credential-jira")]
    conts = []
    for i in range(n_containers):
        name, image = names[i] if i < len(names) else (f"credential-extra-{i}", "credential-generic")
        conts.append(container(name, image))
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": f"session-{SID.lower()}-runner", "namespace": NS,
            "labels": {"ambient-code.io/session-id": SID, "ambient-code.io/managed": "true",
                       "ambient-code.io/managed-by": "ambient-control-plane",
                       "app.kubernetes.io/component": "session-runner"},
            "annotations": {"ambient-code.io/session-name": "fix the flaky test",
                            "openshift.io/scc": "restricted-v2"},
            "ownerReferences": [{"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "AgenticSession",
                                 "name": f"session-{SID.lower()}", "uid": "5d1f6a9e-8a57-4c1b-9d2e-0b7c0e4b2f11",
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "serviceAccountName": "default", "restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": conts,
            "volumes": [{"name": "workspace", "emptyDir": {"sizeLimit": "10Gi"}},
                        {"name": "kube-api-access", "projected": {"sources": [
                            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]}}],
        },
    }


def plain_pod():
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-5c9f7d8b6-x2k4q", "namespace": NS,
                         "labels": {"app": "web", "pod-template-hash": "5c9f7d8b6"}},
            "spec": {"serviceAccountName": "web", "containers": [container("web", "web", 8)]}}


def review(obj, kind, group, resource, name):
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "0f8c5b6e-3d2a-4b7e-9c1d-2a4e6f8b0c13",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "requestKind": {"group": group, "version": "v1", "kind": kind},
        "requestResource": {"group": group, "version": "v1", "resource": resource},
        "name": name, "namespace": NS, "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:ambient-code:ambient-control-plane",
                     "uid": "b7a1c3d5-0e2f-4a6b-8c9d-1e3f5a7b9c0d",
                     "groups": ["system:serviceaccounts", "system:serviceaccounts:ambient-code",
                                "system:authenticated"]},
        "object": obj, "oldObject": None, "dryRun": False,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}


def pod_review(pod):
    return review(pod, "Pod", "", "pods", pod["metadata"]["name"])


RBAC = "rbac.authorization.k8s.io"


def rolebinding():
    obj = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
           "metadata": {"name": f"session-{SID.lower()}-bench", "namespace": NS},
           "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "bench-role-target"},
           "subjects": [{"kind": "ServiceAccount", "name": f"session-{SID.lower()}-sa", "namespace": NS}]}
    return review(obj, "RoleBinding", RBAC, "rolebindings", obj["metadata"]["name"])


def clusterrole():
    obj = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
           "metadata": {"name": f"{NS}-impersonate"},
           "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"],
                      "resourceNames": ["target-user@example.com"]},
                     {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]}
    return review(obj, "ClusterRole", RBAC, "clusterroles", obj["metadata"]["name"])


def update(rev, name, rules):
    """The review as an UPDATE whose old object is the new one: judged twice (old, then new)."""
    rev = json.loads(json.dumps(rev))
    req = rev["request"]
    req["operation"] = "UPDATE"
    req["name"] = req["object"]["metadata"]["name"] = name
    if rules is not None:
        req["object"]["rules"] = rules
    req["oldObject"] = json.loads(json.dumps(req["object"]))
    return rev


def policy(rows):
    """Every table has `rows` rows; the rows the reviews hit come last. Names are short so that
    100,000 rows of every table fit the loader's 16 MiB file limit."""
    fill = range(rows - 1)

    def flow(fmt, last):
        return "[" + ", ".join(fmt % i for i in fill) + (", " if rows > 1 else "") + last + "]"

    lines = ["# generated by bench/make_reviews.py", "apiVersion: session-admission/v1alpha1", "kind: Policy",
             "exemptNamespaces: " + flow("x%d", "kube-system"),
             "sessions:",
             "  forbiddenEnv: " + flow("F%d", "GITHUB_TOKEN"),
             "  tokenAudiences: " + flow("t%d", "vault"),
             "bindings:", "  allowedRoles:"]
    lines += [f"  - {{kind: ClusterRole, name: r{i}}}" for i in fill]
    lines += ["  - {kind: ClusterRole, name: bench-role-target}",
              "impersonation:", "  resources: [users]",
              "  names: " + flow("u%d", "target-user@example.com"),
              "audiences:"]
    lines += [f"- {{audience: a{i}, roles: [a{i}], subjects: [{{kind: Group, name: system:nodes}}]}}"
              for i in fill]
    lines += ["- {audience: api://AzureADTokenExchange, roles: [system:node:credential-provider-token-audience],",
              "   subjects: [{kind: Group, name: system:nodes}]}"]
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(name, data):
        with open(os.path.join(out, name), "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data, separators=(",", ":")))

    write("session-pod.json", pod_review(session_pod()))
    write("plain-pod.json", pod_review(plain_pod()))
    write("rolebinding.json", rolebinding())
    write("clusterrole.json", clusterrole())
    write("clusterrole-update.json", update(clusterrole(), f"{NS}-impersonate", None))
    # An allowed role (bench-role-target) is compared grant by grant with its old object.
    write("allowedrole-update.json", update(clusterrole(), "bench-role-target", [
        {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get"]}]))
    for n in (1, 10, 100, 500):
        write(f"pod-{n}.json", pod_review(session_pod(n)))
    for rows in (10, 100000):
        write(f"policy-{rows}.yaml", policy(rows))


if __name__ == "__main__":
    main()
