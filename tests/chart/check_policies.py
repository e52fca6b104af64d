#!/usr/bin/python3
"""Compares the admission policies `helm template` rendered (enforcement policies or both) with the
output of `session-admission generate` for the same policy, key, namespace and Kubernetes version.

Usage: check_policies.py RENDERED.yaml GENERATED.yaml --release R --namespace NS [--no-mutating]
Every ValidatingAdmissionPolicy, MutatingAdmissionPolicy and binding generate wrote must be rendered
exactly as written (the chart's labels aside: helm.sh/chart, app.kubernetes.io/*, managed-by Helm,
the rest of generate's labels kept), and nothing else of those kinds; the params ConfigMap must have
generate's name, be in NS, and hold generate's data byte for byte (publicKey and fingerprint, so the
chart reads the key as the server and generate do: src/core/pubkey.c). With --no-mutating the cluster does
not serve the MutatingAdmissionPolicy's version: none may be rendered. Besides generate's, the chart's
param-informer keepers (templates/admission-policies-keeper.yaml): one policy and binding per plugin
rendered (Validating, and Mutating where generate's is), kept on uninstall, naming a ConfigMap
paramKind, matching no served resource and never needing their param.
Prints every difference; exits 1 on any.
"""
import argparse
import json
import sys

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: these files are large

KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
         "MutatingAdmissionPolicyBinding")


def keepers(docs, a, mutating):
    """What is wrong with the rendered keepers (a list of reasons); mutating: a
    MutatingAdmissionPolicy of generate's is rendered."""
    name = f"session-admission-params-keeper-{a.namespace}-{a.release}"
    want = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    if mutating:
        want |= {"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}
    bad = []
    if sorted(d["kind"] for d in docs) != sorted(want):
        bad.append(f"keepers {sorted(d['kind'] for d in docs)}, want {sorted(want)}")
    for d in docs:
        what, spec = f"keeper {d['kind']} {d['metadata']['name']}", d.get("spec") or {}
        if d["metadata"]["name"] != name:
            bad.append(f"{what}: not named {name}")
        if d["kind"].endswith("Binding"):
            ref = spec.get("paramRef") or {}
            if spec.get("policyName") != name or ref.get("namespace") != a.namespace \
                    or ref.get("parameterNotFoundAction") != "Allow":
                bad.append(f"{what}: binds {spec.get('policyName')} with paramRef {ref}")
            if d["kind"].startswith("Validating") and spec.get("validationActions") != ["Audit"]:
                bad.append(f"{what}: validationActions {spec.get('validationActions')}")
        else:
            rules = (spec.get("matchConstraints") or {}).get("resourceRules") or []
            if spec.get("paramKind") != {"apiVersion": "v1", "kind": "ConfigMap"}:
                bad.append(f"{what}: paramKind {spec.get('paramKind')}")
            if not rules or any(r.get("apiGroups") != ["session-admission.ambient-code.io"] for r in rules):
                bad.append(f"{what}: matches {rules}, not only a group no API server serves")
            if spec.get("matchConditions") or spec.get("variables"):
                bad.append(f"{what}: has matchConditions or variables")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("generated")
    ap.add_argument("--release", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--no-mutating", action="store_true")
    a = ap.parse_args()
    rendered = [d for d in yaml.load_all(open(a.rendered), Loader=LOADER) if d]
    generated = [d for d in yaml.load_all(open(a.generated), Loader=LOADER) if d]
    bad = []

    gen_cm = [d for d in generated if d["kind"] == "ConfigMap"]
    assert len(gen_cm) == 1, "generate wrote no single ConfigMap"
    gen_cm = gen_cm[0]
    cms = [d for d in rendered if d["kind"] == "ConfigMap" and d["metadata"]["name"] == gen_cm["metadata"]["name"]]
    if len(cms) != 1:
        bad.append(f"{len(cms)} ConfigMaps {gen_cm['metadata']['name']} rendered")
    else:
        cm = cms[0]
        if cm["metadata"].get("namespace") != a.namespace:
            bad.append(f"params ConfigMap in {cm['metadata'].get('namespace')}, not {a.namespace}")
        if cm.get("data") != gen_cm.get("data"):
            bad.append(f"params ConfigMap data {json.dumps(cm.get('data'))} != generate's {json.dumps(gen_cm.get('data'))}")

    def key(d):
        return (d["kind"], d["metadata"]["name"])
    want = {key(d): d for d in generated if d["kind"] in KINDS
            and not (a.no_mutating and d["kind"].startswith("Mutating"))}
    keep = lambda d: (d["metadata"].get("annotations") or {}).get("helm.sh/resource-policy") == "keep"
    got = {key(d): d for d in rendered if d["kind"] in KINDS and not keep(d)}
    bad += keepers([d for d in rendered if d["kind"] in KINDS and keep(d)], a,
                   any(k[0].startswith("Mutating") for k in want))
    for k in sorted(set(want) | set(got)):
        if k not in got:
            bad.append(f"{k[0]} {k[1]}: not rendered")
            continue
        if k not in want:
            bad.append(f"{k[0]} {k[1]}: rendered, but not generate's (or its version is not served)")
            continue
        g, r = json.loads(json.dumps(want[k])), json.loads(json.dumps(got[k]))
        glabels, rlabels = g["metadata"].pop("labels", {}), r["metadata"].pop("labels", {})
        expect = dict(glabels, **{"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": a.release})
        for lk, lv in expect.items():
            if rlabels.get(lk) != lv:
                bad.append(f"{k[0]} {k[1]}: label {lk}={rlabels.get(lk)!r}, want {lv!r}")
        if "helm.sh/chart" not in rlabels:
            bad.append(f"{k[0]} {k[1]}: no helm.sh/chart label")
        if g != r:
            bad.append(f"{k[0]} {k[1]}: differs from generate's:\n    rendered  {json.dumps(r)[:400]}\n"
                       f"    generated {json.dumps(g)[:400]}")
    if bad:
        print(f"check_policies: {len(bad)} difference(s) between {a.rendered} and {a.generated}:", file=sys.stderr)
        for b in bad:
            print(f"  FAIL {b}", file=sys.stderr)
        return 1
    print(f"check_policies: {len(got)} admission policy objects and the params ConfigMap are generate's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
