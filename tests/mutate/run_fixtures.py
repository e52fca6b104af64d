#!/usr/bin/python3
"""run_fixtures.py: checks the session pod mutation against tests/mutate/*.json.

Each fixture holds a pod, the namespace and operation of its request, an optional policy (a file
beside it; default examples/policy.yaml) and what must come back. For each one this wraps the pod
in an AdmissionReview, runs `$SA_BIN review`, and checks the response. A returned patch is applied
with python3-jsonpatch, an RFC 6902 implementation nobody here wrote, and the resulting pod must
equal the expected one exactly; then the patched pod is reviewed again and must get no patch.
Pods say "@PEM@" and "@FP@" for the key and its fingerprint, which come from the openssl
CLI, not from the webhook. Uses only Debian's python3 with python3-jsonpatch.
"""
import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import jsonpatch

SA_BIN = os.environ["SA_BIN"]
SA_SRC = os.environ["SA_SRC"]
HERE = os.path.join(SA_SRC, "tests", "mutate")
KEY = os.path.join(SA_SRC, "examples", "example-public.pem")
DEFAULT_POLICY = os.path.join(SA_SRC, "examples", "policy.yaml")

PEM = subprocess.run(["openssl", "pkey", "-pubin", "-in", KEY], check=True,
                     capture_output=True, text=True).stdout
DER = subprocess.run(["openssl", "pkey", "-pubin", "-in", KEY, "-outform", "DER"], check=True,
                     capture_output=True).stdout
FP = hashlib.sha256(DER).hexdigest()


def substitute(value):
    """The expected pod with @PEM@ and @FP@ replaced by the real key and fingerprint."""
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if value == "@PEM@":
        return PEM
    if value == "@FP@":
        return FP
    return value


def review(fixture, pod, policy, tmp):
    """Runs `review` on the pod; returns the response object."""
    uid = "uid-" + os.urandom(4).hex()
    request = {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": fixture.get("operation", "CREATE"),
            "namespace": fixture["namespace"],
            "name": pod["metadata"].get("name", ""),
            "userInfo": {"username": "system:serviceaccount:ambient-code:ambient-control-plane"},
            "object": pod,
            "dryRun": False,
        },
    }
    path = os.path.join(tmp, "review.json")
    with open(path, "w") as f:
        json.dump(request, f)
    out = subprocess.run([SA_BIN, "review", "--path", "/mutate", "--public-key", KEY,
                          "--policy", policy, path], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"review exited {out.returncode}: {out.stderr.strip()}")
    doc = json.loads(out.stdout)
    assert doc["apiVersion"] == "admission.k8s.io/v1" and doc["kind"] == "AdmissionReview", doc
    assert doc["response"]["uid"] == uid, "response.uid differs from request.uid"
    return doc["response"]


def check(fixture, tmp):
    policy = os.path.join(HERE, fixture["policy"]) if "policy" in fixture else DEFAULT_POLICY
    pod = substitute(fixture["pod"])
    expect = fixture["expect"]
    resp = review(fixture, pod, policy, tmp)
    assert resp["allowed"] == expect["allowed"], f"allowed={resp['allowed']}: {resp}"
    if "warnings" in expect:
        assert resp.get("warnings") == expect["warnings"], resp.get("warnings")
    else:
        assert "warnings" not in resp, resp["warnings"]
    if not expect["allowed"]:
        assert resp["status"]["code"] == expect["code"], resp["status"]
        assert resp["status"]["message"] == expect["message"], resp["status"]["message"]
        assert "patch" not in resp, "a denial carries a patch"
        return
    if expect.get("patch") is False:
        assert "patch" not in resp and "patchType" not in resp, "unexpected patch"
        return
    assert resp["patchType"] == "JSONPatch", resp
    patch = json.loads(base64.b64decode(resp["patch"], validate=True))
    got = jsonpatch.apply_patch(pod, patch)
    want = substitute(expect["pod"])
    if got != want:
        raise AssertionError("patched pod differs:\n got: %s\nwant: %s"
                             % (json.dumps(got, sort_keys=True), json.dumps(want, sort_keys=True)))
    again = review(fixture, got, policy, tmp)
    assert again["allowed"] is True and "patch" not in again, \
        f"the patched pod was patched again: {again}"


def main():
    files = sorted(glob.glob(os.path.join(HERE, "[0-9]*.json")))
    assert len(files) >= 20, "fixtures are missing"
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            name = os.path.basename(path)
            with open(path) as f:
                fixture = json.load(f)
            try:
                check(fixture, tmp)
                print(f"ok - {name}: {fixture['description']}")
            except (AssertionError, KeyError, ValueError, jsonpatch.JsonPatchException) as e:
                failed += 1
                print(f"not ok - {name}: {e}")
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
