#!/usr/bin/python3
"""Asserts on the objects `helm template` rendered from charts/session-admission.

Usage: check_render.py RENDERED.yaml --release R --namespace NS --mode MODE [-f VALUES]... [--set K=V]...
       [--set-string K=V]... [--set-file K=PATH]... [--kube-version V] [--api-versions GVK]...
The expected values come from the chart's values.yaml merged with the same -f/--set given to helm, and
the properties that must hold whatever the values (security context, probes, the keypair Secret's
private key never mounted, ...) are checked as constants. With enforcement policies or both, the
webhooks expected are recomputed here from the generated manifest's "# webhook-only:" lines (the
rules of templates/_policies.tpl, written again independently); the policies themselves are
test_policies.sh's (check_policies.py). Prints every failed check; exits 1 on any.
"""
import argparse
import base64
import copy
import fnmatch
import json
import os
import posixpath
import re
import subprocess
import sys
import tempfile

import yaml

SA_SRC = os.environ.get("SA_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
CHART = os.path.join(SA_SRC, "charts", "session-admission")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


def set_path(values, dotted, raw):
    keys = dotted.split(".")
    node = values
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    # helm's --set list syntax {a,b}; everything else parses as a YAML scalar, as helm does.
    if raw.startswith("{") and raw.endswith("}"):
        node[keys[-1]] = [yaml.safe_load(x) for x in raw[1:-1].split(",") if x]
    else:
        node[keys[-1]] = yaml.safe_load(raw)


def fullname(v, release):
    if v.get("fullnameOverride"):
        return v["fullnameOverride"][:63].rstrip("-")
    name = v.get("nameOverride") or "session-admission"
    return (release if name in release else f"{release}-{name}")[:63].rstrip("-")


def one(objs, kind, name=None):
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    check(len(found) == 1, f"expected exactly one {kind} {name or ''}, found {len(found)}")
    return found[0] if found else {}


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check_pod_volumes(pod_spec, where):
    """Every Secret volume projects named items only, so no unlisted key (private.pem) can be mounted."""
    for vol in pod_spec.get("volumes", []):
        src = vol.get("secret") or vol.get("configMap")
        if src is None:
            continue
        check(src.get("items"), f"{where}: volume {vol['name']} mounts a whole Secret/ConfigMap (no items)")
    for c in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        for m in c.get("volumeMounts", []):
            check("subPath" not in m, f"{where}: {c['name']} mounts {m['name']} with subPath (no live updates)")


def check_deployment(objs, v, ns, fn):
    dep = one(objs, "Deployment", fn)
    spec = dep.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    if v["autoscaling"]["enabled"]:
        check("replicas" not in spec, "Deployment sets replicas while the HPA owns them")
    else:
        check(spec.get("replicas") == v["replicaCount"], f"replicas {spec.get('replicas')} != {v['replicaCount']}")
    check(spec["selector"]["matchLabels"] == {"app.kubernetes.io/name": v.get("nameOverride") or "session-admission",
                                               "app.kubernetes.io/instance": args.release},
          f"Deployment selector {spec['selector']}")
    check(pod.get("automountServiceAccountToken") is False, "pod automountServiceAccountToken is not false")
    check(pod.get("serviceAccountName") == (v["serviceAccount"]["name"] or fn), "pod serviceAccountName")
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, "pod runAsNonRoot")
    check(psc.get("seccompProfile") == {"type": "RuntimeDefault"}, "pod seccompProfile RuntimeDefault")
    check(pod.get("priorityClassName") == (v["priorityClassName"] or None), "priorityClassName")
    if v["affinity"]:
        check(pod.get("affinity") == v["affinity"], "affinity from values not used")
    else:
        pref = pod.get("affinity", {}).get("podAntiAffinity", {}).get("preferredDuringSchedulingIgnoredDuringExecution", [])
        check(len(pref) == 1 and pref[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
              and pref[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname",
              f"preferred pod anti-affinity on the pod's own labels per node: {pod.get('affinity')}")
    check(len(pod.get("containers", [])) == 1, "one container")
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True, "container runAsNonRoot")
    check(sc.get("readOnlyRootFilesystem") is True, "container readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False, "container allowPrivilegeEscalation")
    check(sc.get("privileged") is False, "container privileged")
    check(sc.get("capabilities") == {"drop": ["ALL"]}, f"container capabilities {sc.get('capabilities')}")
    check(sc.get("seccompProfile") == {"type": "RuntimeDefault"}, "container seccompProfile")
    check(c.get("args") == ["serve"], f"container args {c.get('args')}")
    image = v["image"]["repository"] + (("@" + v["image"]["digest"]) if v["image"]["digest"]
                                         else ":" + (v["image"]["tag"] or "0.1.0"))
    check(c.get("image") == image, f"image {c.get('image')} != {image}")

    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(ports == {"https": v["server"]["port"], "metrics": v["server"]["metricsPort"]}, f"container ports {ports}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet", {})
        # With client certificates required, the kubelet (no certificate) probes the metrics port.
        port, scheme = ("metrics", "HTTP") if v["clientAuth"]["enabled"] else ("https", "HTTPS")
        check(get == {"path": path, "port": port, "scheme": scheme}, f"{probe} {get}")
        want = v["probes"]["liveness" if probe == "livenessProbe" else "readiness"]
        for k, val in want.items():
            check(c[probe].get(k) == val, f"{probe}.{k} {c[probe].get(k)} != {val}")

    env = env_of(c)
    want_env = {
        "SA_LISTEN": f"0.0.0.0:{v['server']['port']}",
        "SA_METRICS_LISTEN": f"0.0.0.0:{v['server']['metricsPort']}",
        "SA_TLS_CERT": "/etc/session-admission/tls/tls.crt",
        "SA_TLS_KEY": "/etc/session-admission/tls/tls.key",
        "SA_POLICY": "/etc/session-admission/policy/policy.yaml",
        "SA_PUBLIC_KEY": "/etc/session-admission/keys/public.pem",
        "SA_TLS_MIN_VERSION": v["server"]["tlsMinVersion"],
        "SA_MAX_BODY": str(v["server"]["maxBodyBytes"]),
        "SA_LOG_FORMAT": v["server"]["logFormat"],
        "SA_LOG_LEVEL": v["server"]["logLevel"],
        "SA_SHUTDOWN_DELAY": str(v["server"]["shutdownDelaySeconds"]),
        "SA_DRAIN_TIMEOUT": str(v["server"]["drainTimeoutSeconds"]),
    }
    if v["server"]["threads"]:
        want_env["SA_THREADS"] = str(v["server"]["threads"])
    if v["clientAuth"]["enabled"]:
        want_env["SA_CLIENT_CA"] = "/etc/session-admission/client-ca/ca.crt"
        if v["clientAuth"]["commonName"]:
            want_env["SA_CLIENT_CN"] = v["clientAuth"]["commonName"]
    check(env == want_env, f"container env {env} != {want_env}")
    check(pod.get("terminationGracePeriodSeconds", 0) >
          int(env.get("SA_SHUTDOWN_DELAY", 1 << 30)) + int(env.get("SA_DRAIN_TIMEOUT", 1 << 30)),
          "terminationGracePeriodSeconds not longer than the shutdown delay plus the drain timeout")

    # Each file the server is pointed at lives in a directory mount of the volume that holds it.
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    volumes = {vol["name"]: vol for vol in pod.get("volumes", [])}
    for var in ("SA_TLS_CERT", "SA_TLS_KEY", "SA_POLICY", "SA_PUBLIC_KEY", "SA_CLIENT_CA"):
        if var not in env:
            continue
        d, f = posixpath.split(env[var])
        m = mounts.get(d)
        if not check(m is not None, f"{var}: no volume mounted at {d}"):
            continue
        check(m.get("readOnly") is True, f"mount {d} is not readOnly")
        vol = volumes[m["name"]]
        src = vol.get("secret") or vol.get("configMap") or {}
        check(f in [i["path"] for i in src.get("items", [])], f"{var}: volume {vol['name']} does not project {f}")
    check_pod_volumes(pod, "Deployment")

    key = volumes.get("public-key", {})
    want_items = [{"key": "public.pem", "path": "public.pem"}]
    if v["publicKey"]["pem"]:
        check(key.get("configMap", {}).get("name") == f"{fn}-public-key", f"public key from the chart's ConfigMap: {key}")
        cm = one(objs, "ConfigMap", f"{fn}-public-key")
        check(list(cm.get("data", {})) == ["public.pem"], "public key ConfigMap holds public.pem only")
        check(cm.get("data", {}).get("public.pem", "").strip() == v["publicKey"]["pem"].strip(), "public.pem content")
        check(key["configMap"].get("items") == want_items, f"public key items {key['configMap'].get('items')}")
    else:
        sec = key.get("secret", {})
        check(sec.get("secretName") == v["publicKey"]["existingSecret"], f"public key Secret {sec.get('secretName')}")
        check(sec.get("items") == want_items, f"only public.pem projected from the keypair Secret: {sec.get('items')}")

    pol = volumes.get("policy", {}).get("configMap", {})
    cm = one(objs, "ConfigMap", pol.get("name"))
    check(yaml.safe_load(cm.get("data", {}).get("policy.yaml", "")) == v["policy"],
          "ConfigMap policy.yaml is not the policy from values")
    return dep, pod, volumes


CEL_LIB = os.path.join(SA_SRC, ".tools", "npm", "node_modules", "@marcbachmann", "cel-js", "lib", "index.js")


def cel(cases):
    """Evaluates [(expr, vars)] with an independent CEL implementation (tests/chart/cel_eval.mjs).
    Returns a list of {"value": ...} or {"error": ...}; a checker that cannot run fails."""
    r = subprocess.run(["node", os.path.join(SA_SRC, "tests", "chart", "cel_eval.mjs"), CEL_LIB],
                       input=json.dumps([{"expr": e, "vars": v} for e, v in cases]), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"cel_eval.mjs failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def request(user, op, kind, obj, old=None, groups=("system:authenticated",)):
    """The variables of a matchCondition for one AdmissionRequest."""
    return {"request": {"operation": op, "kind": {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": kind},
                        "userInfo": {"username": user, "groups": list(groups)}},
            "object": obj, "oldObject": old}


def called(w, cases):
    """For each (name, vars, want): whether the API server would call webhook w (every
    matchCondition true); an evaluation error fails the check (failurePolicy would decide)."""
    conds = w.get("matchConditions", [])
    results = cel([(c["expression"], vars_) for _, vars_, _ in cases for c in conds])
    for i, (name, _, want) in enumerate(cases):
        res = results[i * len(conds):(i + 1) * len(conds)]
        errs = [r["error"] for r in res if "error" in r]
        check(not errs, f"{w['name']}: {name}: matchConditions fail to evaluate: {errs}")
        got = all(r.get("value") is True for r in res)
        check(got == want, f"{w['name']}: {name}: called={got}, want {want}")


def check_rbac_conditions(w, v):
    """The RBAC webhooks skip exactly what the server exempts by who asks."""
    check([c["name"] for c in w.get("matchConditions", [])] == ["not-cluster-bootstrap", "not-role-aggregation"],
          f"{w['name']}: matchConditions {w.get('matchConditions')}")
    exempt = v["policy"].get("exempt", {})
    labels = exempt.get("objectLabels", {"kubernetes.io/bootstrapping": "rbac-defaults"})
    boot = exempt.get("bootstrapUsers", ["system:apiserver"])
    agg = exempt.get("aggregationUsers", ["system:serviceaccount:kube-system:clusterrole-aggregation-controller",
                                          "system:kube-controller-manager"])
    lab = {"metadata": {"name": "x", "labels": dict(labels, extra="1")}}
    plain = {"metadata": {"name": "x"}}
    wrong = {"metadata": {"name": "x", "labels": {k: val + "x" for k, val in labels.items()}}}
    cases = [("an ordinary user's labelled ClusterRoleBinding", request("alice", "CREATE", "ClusterRoleBinding", lab), True),
             ("an ordinary user's plain Role", request("alice", "CREATE", "Role", plain), True),
             ("an ordinary user's UPDATE of a labelled ClusterRole", request("alice", "UPDATE", "ClusterRole", lab, lab), True)]
    for u in boot:
        # The loopback client is in system:masters; the bootstrap name alone is not exempt.
        masters = ("system:authenticated", "system:masters")
        cases += [(f"{u}'s labelled ClusterRoleBinding", request(u, "CREATE", "ClusterRoleBinding", lab, None, masters), not labels),
                  (f"{u}'s labelled RoleBinding update", request(u, "UPDATE", "RoleBinding", lab, lab, masters), not labels),
                  (f"{u}'s labelled ClusterRoleBinding outside system:masters", request(u, "CREATE", "ClusterRoleBinding", lab), True),
                  (f"{u}'s unlabelled ClusterRole", request(u, "CREATE", "ClusterRole", plain), True),
                  (f"{u}'s ClusterRole with other label values", request(u, "CREATE", "ClusterRole", wrong), True)]
    # The roles sessions, nodes or everyone hold are judged whoever writes them (the server's
    # sa_validate_role_guarded): the aggregation controller's writes into them are sent.
    b = v["policy"].get("bindings", {})
    guarded = [r["name"] for r in b.get("allowedRoles", []) if r.get("kind") == "ClusterRole"]
    guarded += [r for r in b.get("everyoneRoles", []) if "/" not in r] + [n for a in v["policy"].get("audiences", []) for n in a.get("roles", [])]
    for u in agg:
        for g in guarded:
            glab, gplain = ({"metadata": dict(o["metadata"], name=g)} for o in (lab, plain))
            cases.append((f"{u} aggregating guarded ClusterRole {g}", request(u, "UPDATE", "ClusterRole", gplain, glab), True))
        cases += [(f"{u} aggregating a labelled ClusterRole", request(u, "UPDATE", "ClusterRole", plain, lab), not labels),
                  (f"{u} aggregating a ClusterRole that carried no label", request(u, "UPDATE", "ClusterRole", lab, plain), True),
                  (f"{u} creating a labelled ClusterRole", request(u, "CREATE", "ClusterRole", lab), True),
                  (f"{u} updating a labelled ClusterRoleBinding", request(u, "UPDATE", "ClusterRoleBinding", lab, lab), True)]
    called(w, cases)


def session_globs(policy):
    """bindings.sessionServiceAccounts as the server reads it: a string or a list; absent, the
    names the template forms ({id} read as "*")."""
    b = policy.get("bindings", {})
    if "sessionServiceAccounts" in b:
        g = b["sessionServiceAccounts"]
        return [g] if isinstance(g, str) else list(g)
    tmpl = policy.get("sessions", {}).get("serviceAccount", {}).get("template", "session-{id}-sa")
    return [tmpl.replace("{id}", "*")]


def check_pod_conditions(w, v):
    """Unlabelled pods: sent exactly when their ServiceAccount is a session's by the globs the
    server judges (fnmatch; these values hold no bracket or backslash, where Python's fnmatch and
    glibc's differ). tests/integration/chart_conditions.py asks the server itself."""
    check([c["name"] for c in w.get("matchConditions", [])] == ["runs-as-session-serviceaccount"],
          f"{w['name']}: matchConditions {w.get('matchConditions')}")
    tmpl = v["policy"].get("sessions", {}).get("serviceAccount", {}).get("template", "session-{id}-sa")
    pre, _, suf = tmpl.partition("{id}")
    globs = session_globs(v["policy"])

    def pod(sa):
        spec = {"containers": [{"name": "c"}]}
        if sa is not None:
            spec["serviceAccountName"] = sa
        return {"request": {"operation": "CREATE"}, "object": {"metadata": {"name": "p"}, "spec": spec}, "oldObject": None}

    def session(sa):
        return any(fnmatch.fnmatchcase(sa, g) for g in globs)
    names = [("a session SA", pre + "abc" + suf), ("a one-letter session id's SA", pre + "a" + suf),
             ("default", "default"), ("only the template's fixed parts", pre + suf),
             ("the prefix only", pre + "abc"), ("a name with a dot", pre + "a.b" + suf)]
    cases = [(f"a pod running as {d} ({n})", pod(n), session(n)) for d, n in names]
    check(cases[0][2] and cases[1][2], f"the template's names are session SAs by {globs}")
    called(w, cases + [("a pod with no serviceAccountName", pod(None), False)])


def manifest_text(v, kube):
    """The generated manifest the chart uses: policies.manifest, else the shipped file of the
    highest minor not above the cluster's."""
    if v.get("policies", {}).get("manifest"):
        return v["policies"]["manifest"]
    d = os.path.join(CHART, "files", "policies")
    minors = sorted(int(m.group(1)) for f in os.listdir(d) if (m := re.fullmatch(r"k8s-1\.(\d+)\.yaml", f)))
    best = [m for m in minors if m <= kube[1]]
    return open(os.path.join(d, f"k8s-1.{best[-1]}.yaml")).read() if best else ""


def webhook_plan(v, kube, api_versions):
    """What the chart registers: {"mutate", "pods", "tokens", "rbac", "clusterRbac", "server",
    "mutatingPolicy"}. enforcement webhook and both: every webhook. policies: a kind stays sent to
    the validating webhook when a "# webhook-only: RULE KINDS:" line names it (but for the lines of
    "mutation" and "refused"); the mutating webhook stays unless the manifest's
    MutatingAdmissionPolicy version is served (--api-versions, or v1 from 1.36)."""
    mode = v.get("enforcement", "webhook")
    plan = {"mutate": True, "pods": True, "tokens": True, "rbac": ["rolebindings", "roles"],
            "clusterRbac": ["clusterrolebindings", "clusterroles"], "mutatingPolicy": ""}
    if mode != "webhook":
        docs = [d for d in yaml.load_all(manifest_text(v, kube), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]
        maps = [d["apiVersion"] for d in docs if d["kind"] == "MutatingAdmissionPolicy"]
        if maps and (f"{maps[0]}/MutatingAdmissionPolicy" in api_versions
                     or (maps[0] == "admissionregistration.k8s.io/v1" and kube >= (1, 36))):
            plan["mutatingPolicy"] = maps[0]
    if mode == "policies":
        kinds = set()
        for rule, ks in re.findall(r"(?m)^# webhook-only: (\S+) (\S+):", manifest_text(v, kube)):
            if rule not in ("mutation", "refused"):
                kinds |= set(ks.split(","))
        plan.update(mutate=not plan["mutatingPolicy"], pods="Pod" in kinds, tokens="TokenRequest" in kinds,
                    rbac=[r for k, r in (("RoleBinding", "rolebindings"), ("Role", "roles")) if k in kinds],
                    clusterRbac=[r for k, r in (("ClusterRoleBinding", "clusterrolebindings"),
                                                ("ClusterRole", "clusterroles")) if k in kinds])
    w = v["webhook"]
    plan["server"] = bool(plan["mutate"] or plan["pods"] or (w["tokens"]["enabled"] and plan["tokens"])
                          or (w["rbac"]["enabled"] and (plan["rbac"] or plan["clusterRbac"])))
    return plan


def check_webhooks(objs, v, ns, fn, ca_bundle, kube, plan):
    sess = v["policy"].get("sessions", {}).get("label", "ambient-code.io/session-id")
    excluded = {"kube-system", ns, *v["webhook"]["excludedNamespaces"]}
    mc = kube >= (1, 28)
    svc = one(objs, "Service", fn)
    sports = {p["name"]: (p["port"], p["targetPort"]) for p in svc.get("spec", {}).get("ports", [])}
    check(sports == {"https": (v["service"]["port"], "https"), "metrics": (v["service"]["metricsPort"], "metrics")},
          f"Service ports {sports}")

    def common(w, path, failure, namespaces=True):
        n = w["name"]
        check(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+){2,}", n), f"{n}: webhook name must be fully qualified")
        check(w.get("sideEffects") == "None", f"{n}: sideEffects")
        check(w.get("admissionReviewVersions") == ["v1", "v1beta1"], f"{n}: admissionReviewVersions")
        check(w.get("timeoutSeconds") == v["webhook"]["timeoutSeconds"], f"{n}: timeoutSeconds {w.get('timeoutSeconds')}")
        check(1 <= w.get("timeoutSeconds", 0) <= 30, f"{n}: timeoutSeconds outside the API's 1..30")
        check(w.get("matchPolicy") == "Equivalent", f"{n}: matchPolicy")
        check(w.get("failurePolicy") == failure, f"{n}: failurePolicy {w.get('failurePolicy')} != {failure}")
        if namespaces:
            nsel = w.get("namespaceSelector", {})
            exprs = nsel.get("matchExpressions", [])
            check(nsel.keys() == {"matchExpressions"} and len(exprs) == 1 and exprs[0]["key"] == "kubernetes.io/metadata.name"
                  and exprs[0]["operator"] == "NotIn" and set(exprs[0]["values"]) == excluded,
                  f"{n}: namespaceSelector must exclude exactly {sorted(excluded)}: {nsel}")
        else:
            check("namespaceSelector" not in w, f"{n}: must see every namespace: {w.get('namespaceSelector')}")
        cc = w.get("clientConfig", {})
        check(cc.get("service") == {"name": fn, "namespace": ns, "path": path, "port": v["service"]["port"]},
              f"{n}: clientConfig.service {cc.get('service')}")
        check("url" not in cc, f"{n}: clientConfig.url")
        check(cc.get("caBundle") == ca_bundle, f"{n}: caBundle {'missing' if ca_bundle else 'must be absent'}")

    def pod_selector(w, operator):
        check(w.get("objectSelector") == {"matchExpressions": [{"key": sess, "operator": operator}]},
              f"{w['name']}: objectSelector must be {sess} {operator}: {w.get('objectSelector')}")

    pod_rules = [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                  "operations": ["CREATE", "UPDATE"], "scope": "Namespaced"},
                 {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods/ephemeralcontainers"],
                  "operations": ["UPDATE"], "scope": "Namespaced"}]

    mwcs = [o for o in objs if o["kind"] == "MutatingWebhookConfiguration"]
    check(len(mwcs) == (1 if plan["mutate"] else 0), f"{len(mwcs)} MutatingWebhookConfigurations, mutate={plan['mutate']}")
    mwc = mwcs[0] if mwcs else {}
    if mwc:
        check(mwc["metadata"]["name"] == fn, f"MutatingWebhookConfiguration name {mwc['metadata']['name']}")
        check(len(mwc.get("webhooks", [])) == 1, "one mutating webhook")
        m = mwc["webhooks"][0]
        common(m, "/mutate", v["webhook"]["pods"]["failurePolicy"])
        pod_selector(m, "Exists")
        check("matchConditions" not in m, "mutating webhook: no matchConditions")
        check(m.get("reinvocationPolicy") == "IfNeeded", "mutating reinvocationPolicy IfNeeded")
        check(m.get("rules") == [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                                  "operations": ["CREATE"], "scope": "Namespaced"}], f"mutating rules {m.get('rules')}")

    unlabelled = v["webhook"]["pods"].get("unlabelled", {})
    rbac_on = v["webhook"]["rbac"]["enabled"]
    want = ({"validate-pods"} if plan["pods"] else set()) \
        | ({"validate-rbac"} if rbac_on and plan["rbac"] else set()) \
        | ({"validate-cluster-rbac"} if rbac_on and plan["clusterRbac"] else set()) \
        | ({"validate-tokens"} if v["webhook"]["tokens"]["enabled"] and plan["tokens"] else set()) \
        | ({"validate-unlabelled-pods"} if unlabelled.get("enabled", True) and plan["pods"] else set())
    vwcs = [o for o in objs if o["kind"] == "ValidatingWebhookConfiguration"]
    check(len(vwcs) == (1 if want else 0), f"{len(vwcs)} ValidatingWebhookConfigurations for webhooks {sorted(want)}")
    vwc = vwcs[0] if vwcs else {}
    check(not vwc or vwc["metadata"]["name"] == fn, "ValidatingWebhookConfiguration name")
    byname = {w["name"].split(".")[0]: w for w in vwc.get("webhooks", [])}
    check(set(byname) == want, f"validating webhooks {sorted(byname)} != {sorted(want)}")
    for w in byname.values():
        check("reinvocationPolicy" not in w, f"{w['name']}: reinvocationPolicy on a validating webhook")
    if "validate-rbac" in byname:
        # No label exempts an RBAC object: no objectSelector. With matchConditions every namespace
        # is sent and the cluster's own requests are skipped; before, excluded namespaces are not sent.
        w = byname["validate-rbac"]
        common(w, "/validate", v["webhook"]["rbac"]["failurePolicy"], namespaces=not mc)
        check(w.get("rules") == [{"apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["v1"],
                                  "resources": plan["rbac"],
                                  "operations": ["CREATE", "UPDATE"], "scope": "Namespaced"}], f"rbac rules {w.get('rules')}")
    if "validate-cluster-rbac" in byname:
        w2 = byname["validate-cluster-rbac"]
        common(w2, "/validate", v["webhook"]["rbac"]["failurePolicy"], namespaces=False)
        check(w2.get("rules") == [{"apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["v1"],
                                   "resources": plan["clusterRbac"],
                                   "operations": ["CREATE", "UPDATE"], "scope": "Cluster"}], f"cluster rbac rules {w2.get('rules')}")
    for x in (byname.get("validate-rbac"), byname.get("validate-cluster-rbac")):
        if x:
            check("objectSelector" not in x, f"{x['name']}: no objectSelector (a label exempts nothing): {x.get('objectSelector')}")
            if mc:
                check_rbac_conditions(x, v)
            else:
                check("matchConditions" not in x, f"{x['name']}: matchConditions before Kubernetes 1.28")
    if "validate-tokens" in byname:
        w = byname["validate-tokens"]
        common(w, "/validate", v["webhook"]["tokens"]["failurePolicy"])
        check(w.get("rules") == [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["serviceaccounts/token"],
                                  "operations": ["CREATE"], "scope": "Namespaced"}], f"token rules {w.get('rules')}")
    if plan["pods"]:
        w = byname.get("validate-pods", {"name": "validate-pods"})
        common(w, "/validate", v["webhook"]["pods"]["failurePolicy"])
        pod_selector(w, "Exists")
        check("matchConditions" not in w, "validate-pods: every session pod is sent")
        check(w.get("rules") == pod_rules, f"pod rules {w.get('rules')}")
    if "validate-unlabelled-pods" in byname:
        w = byname["validate-unlabelled-pods"]
        failure = unlabelled.get("failurePolicy") or ("Fail" if mc else "Ignore")
        common(w, "/validate", failure)
        pod_selector(w, "DoesNotExist")
        check(w.get("rules") == pod_rules, f"unlabelled pod rules {w.get('rules')}")
        if mc:
            check_pod_conditions(w, v)
        else:
            check("matchConditions" not in w, f"{w['name']}: matchConditions before Kubernetes 1.28")
    return mwc, vwc


def openssl(*argv, stdin=None):
    return subprocess.run(["openssl", *argv], input=stdin, capture_output=True, text=True)


def check_generated_tls(objs, fn, ns, ca_b64):
    """The chart-made CA and certificate: a real chain with the Service's names, key matching."""
    sec = one(objs, "Secret", f"{fn}-tls")
    check(sec.get("type") == "kubernetes.io/tls", "TLS Secret type")
    data = sec.get("data", {})
    check(set(data) == {"ca.crt", "tls.crt", "tls.key"}, f"TLS Secret keys {sorted(data)}")
    check(data.get("ca.crt") == ca_b64, "caBundle is not the Secret's ca.crt")
    with tempfile.TemporaryDirectory() as d:
        for k in data:
            with open(os.path.join(d, k), "wb") as f:
                f.write(base64.b64decode(data[k]))
        r = openssl("verify", "-CAfile", f"{d}/ca.crt", f"{d}/tls.crt")
        check(r.returncode == 0, f"openssl verify: {r.stdout}{r.stderr}")
        r = openssl("x509", "-in", f"{d}/tls.crt", "-noout", "-ext", "subjectAltName")
        for name in (fn, f"{fn}.{ns}", f"{fn}.{ns}.svc"):
            check(f"DNS:{name}," in r.stdout + ",", f"serving certificate lacks SAN {name}: {r.stdout}")
        pub_cert = openssl("x509", "-in", f"{d}/tls.crt", "-noout", "-pubkey").stdout
        pub_key = openssl("pkey", "-in", f"{d}/tls.key", "-pubout").stdout
        check(pub_cert and pub_cert == pub_key, "tls.key does not match tls.crt")


def check_cert_manager(objs, v, fn, ns, mwc, vwc):
    want = f"{ns}/{fn}-serving"
    for cfg in (c for c in (mwc, vwc) if c):
        got = cfg.get("metadata", {}).get("annotations", {}).get("cert-manager.io/inject-ca-from")
        check(got == want, f"{cfg.get('kind')}: inject-ca-from {got} != {want}")
    check(not [o for o in objs if o["kind"] == "Secret"], "cert-manager mode must not render a Secret")
    crt = one(objs, "Certificate", f"{fn}-serving")
    spec = crt.get("spec", {})
    check(spec.get("secretName") == f"{fn}-tls", "serving Certificate secretName")
    check({fn, f"{fn}.{ns}", f"{fn}.{ns}.svc"} <= set(spec.get("dnsNames", [])), f"dnsNames {spec.get('dnsNames')}")
    check("server auth" in spec.get("usages", []), "serving Certificate usages")
    issuers = [o for o in objs if o["kind"] == "Issuer"]
    if v["certManager"]["issuerRef"]:
        check(spec.get("issuerRef") == v["certManager"]["issuerRef"], f"issuerRef {spec.get('issuerRef')}")
        check(not issuers and len([o for o in objs if o["kind"] == "Certificate"]) == 1,
              "an external issuerRef must not render the chart's own CA")
    else:
        self_signed = one(objs, "Issuer", f"{fn}-selfsigned")
        check(self_signed.get("spec") == {"selfSigned": {}}, "self-signed Issuer")
        ca = one(objs, "Certificate", f"{fn}-ca")
        check(ca.get("spec", {}).get("isCA") is True and ca["spec"]["issuerRef"]["name"] == f"{fn}-selfsigned",
              "CA Certificate from the self-signed Issuer")
        ca_issuer = one(objs, "Issuer", f"{fn}-ca")
        check(ca_issuer.get("spec", {}).get("ca", {}).get("secretName") == ca.get("spec", {}).get("secretName"),
              "CA Issuer backed by the CA Certificate's Secret")
        check(spec.get("issuerRef") == {"kind": "Issuer", "name": f"{fn}-ca"}, f"serving issuerRef {spec.get('issuerRef')}")


def check_operator_kit(objs, v, fn, dep):
    """ServiceMonitor, PrometheusRule, dashboard ConfigMap and NetworkPolicy: each only when enabled,
    each aimed at this release's pods, Service port and container ports."""
    kinds = {"ServiceMonitor": v["serviceMonitor"]["enabled"], "PrometheusRule": v["prometheusRule"]["enabled"],
             "NetworkPolicy": v["networkPolicy"]["enabled"]}
    for kind, enabled in kinds.items():
        n = len([o for o in objs if o["kind"] == kind])
        check(n == (1 if enabled else 0), f"{kind}: {n} rendered with enabled={enabled}")
    dashboards = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == f"{fn}-dashboard"]
    check(len(dashboards) == (1 if v["grafana"]["dashboard"]["enabled"] else 0), "dashboard ConfigMap vs grafana.dashboard.enabled")
    selector = dep["spec"]["selector"]["matchLabels"]
    name = v.get("nameOverride") or "session-admission"
    c = dep["spec"]["template"]["spec"]["containers"][0]
    cports = {p["name"]: p["containerPort"] for p in c["ports"]}

    if v["serviceMonitor"]["enabled"]:
        sm = one(objs, "ServiceMonitor", fn)
        spec = sm.get("spec", {})
        svc = one(objs, "Service", fn)
        check(sm["apiVersion"] == "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
        check(spec.get("selector", {}).get("matchLabels") == selector, f"ServiceMonitor selector {spec.get('selector')}")
        check(all(svc["metadata"]["labels"].get(k) == val for k, val in selector.items()),
              "the Service does not carry the labels the ServiceMonitor selects")
        check(spec.get("namespaceSelector") == {"matchNames": [args.namespace]}, "ServiceMonitor namespaceSelector")
        # The job label is the chart name, which SessionAdmissionDown matches.
        check(spec.get("jobLabel") == "app.kubernetes.io/name" and svc["metadata"]["labels"].get("app.kubernetes.io/name") == name,
              "ServiceMonitor jobLabel")
        eps = spec.get("endpoints", [])
        sports = {p["name"]: p for p in svc["spec"]["ports"]}
        check(len(eps) == 1 and eps[0].get("port") == "metrics" and sports.get("metrics", {}).get("targetPort") == "metrics"
              and eps[0].get("path") == "/metrics" and eps[0].get("scheme") == "http", f"ServiceMonitor endpoint {eps}")
        if eps:
            check((eps[0].get("interval"), eps[0].get("scrapeTimeout")) ==
                  (v["serviceMonitor"]["interval"], v["serviceMonitor"]["scrapeTimeout"]), "ServiceMonitor interval")
        for k, val in v["serviceMonitor"]["labels"].items():
            check(sm["metadata"]["labels"].get(k) == val, f"ServiceMonitor label {k}")

    if v["prometheusRule"]["enabled"]:
        pr = one(objs, "PrometheusRule", fn)
        with open(os.path.join(CHART, "files", "prometheus-rules.yaml")) as f:
            want = yaml.safe_load(f.read().replace('job="session-admission"', f'job="{name}"'))
        check(pr.get("spec") == want, "PrometheusRule spec is not files/prometheus-rules.yaml (job = chart name)")
        alerts = [r for g in pr.get("spec", {}).get("groups", []) for r in g["rules"]]
        check(len(alerts) >= 7 and all(r.get("annotations", {}).get("runbook") and r.get("labels", {}).get("severity")
                                       for r in alerts), "every alert has a runbook and a severity")
        for k, val in v["prometheusRule"]["labels"].items():
            check(pr["metadata"]["labels"].get(k) == val, f"PrometheusRule label {k}")

    if dashboards:
        cm = dashboards[0]
        check(cm["metadata"]["labels"].get("grafana_dashboard") == "1", "dashboard ConfigMap lacks grafana_dashboard: \"1\"")
        for k, val in v["grafana"]["dashboard"]["labels"].items():
            check(cm["metadata"]["labels"].get(k) == val, f"dashboard label {k}")
        check(cm["metadata"].get("annotations", {}) == v["grafana"]["dashboard"]["annotations"], "dashboard annotations")
        with open(os.path.join(CHART, "files", "grafana-dashboard.json")) as f:
            want = json.load(f)
        got = json.loads(cm.get("data", {}).get("session-admission.json", "null"))
        check(got == want, "dashboard ConfigMap is not files/grafana-dashboard.json")

    if v["networkPolicy"]["enabled"]:
        np = one(objs, "NetworkPolicy", fn)
        spec = np.get("spec", {})
        check(spec.get("podSelector") == {"matchLabels": selector}, f"NetworkPolicy podSelector {spec.get('podSelector')}")
        check(spec.get("policyTypes") == ["Ingress"], f"NetworkPolicy policyTypes {spec.get('policyTypes')}")
        rules = spec.get("ingress", [])
        # Exactly two rules, the webhook port and the metrics port, each the container's port.
        want = [([{"port": cports.get("https"), "protocol": "TCP"}], v["networkPolicy"]["webhook"]["from"]),
                ([{"port": cports.get("metrics"), "protocol": "TCP"}], v["networkPolicy"]["metrics"]["from"])]
        got = [(r.get("ports"), r.get("from", [])) for r in rules]
        check(got == want, f"NetworkPolicy ingress {got} != {want} (container ports {cports})")


def check_test_pod(objs, v, fn, ns, tls_secret):
    pods = [o for o in objs if o["kind"] == "Pod"]
    check(len(pods) == 1, "one helm test pod")
    if not pods:
        return
    p = pods[0]
    check(p["metadata"].get("annotations", {}).get("helm.sh/hook") == "test", "test pod hook annotation")
    c = p["spec"]["containers"][0]
    argv = c.get("command", []) + c.get("args", [])
    if v["clientAuth"]["enabled"]:
        # No client certificate to present: the test asks the plain metrics port.
        url = f"http://{fn}.{ns}.svc:{v['service']['metricsPort']}/readyz"
        check(argv[:1] == ["curl"] and url in argv and "--fail" in argv, f"test pod must curl --fail {url}: {argv}")
    else:
        url = f"https://{fn}.{ns}.svc:{v['service']['port']}/readyz"
        check(argv[:1] == ["curl"] and url in argv and "--fail" in argv, f"test pod must curl --fail {url}: {argv}")
        check("-k" not in argv and "--insecure" not in argv, "test pod must verify the certificate")
        cacert = argv[argv.index("--cacert") + 1] if "--cacert" in argv else ""
        vol = {x["name"]: x for x in p["spec"].get("volumes", [])}
        mount = [m for m in c.get("volumeMounts", []) if cacert.startswith(m["mountPath"] + "/")]
        check(len(mount) == 1, f"--cacert {cacert!r} is not a mounted file")
        if mount:
            sec = vol[mount[0]["name"]].get("secret", {})
            check(sec.get("secretName") == tls_secret and sec.get("items") == [{"key": "ca.crt", "path": "ca.crt"}],
                  f"test pod must mount only ca.crt of {tls_secret}: {sec}")
    check(p["spec"].get("securityContext", {}).get("runAsNonRoot") is True, "test pod runAsNonRoot")
    check_pod_volumes(p["spec"], "test pod")


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("--release", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--mode", required=True, choices=["generated", "cert-manager", "existing-secret"])
    ap.add_argument("-f", dest="values", action="append", default=[])
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--set-string", dest="set_strings", action="append", default=[])
    ap.add_argument("--set-file", dest="set_files", action="append", default=[])
    ap.add_argument("--api-versions", dest="api_versions", action="append", default=[])
    # helm's default for `helm template` (v3.10.1) is the Kubernetes version it was built with.
    ap.add_argument("--kube-version", default="1.25.0")
    args = ap.parse_args()
    kube = tuple(int(x) for x in re.match(r"v?(\d+)\.(\d+)", args.kube_version).groups())

    with open(os.path.join(CHART, "values.yaml")) as f:
        v = yaml.safe_load(f)
    for path in args.values:
        with open(path) as f:
            v = merge(v, yaml.safe_load(f))
    for s in args.sets:
        k, _, raw = s.partition("=")
        set_path(v, k, raw)
    for s in args.set_strings + args.set_files:
        k, _, raw = s.partition("=")
        set_path(v, k, "x")
        node = v
        for key in k.split(".")[:-1]:
            node = node[key]
        node[k.split(".")[-1]] = open(raw).read() if s in args.set_files else raw
    ns, fn = args.namespace, fullname(v, args.release)

    with open(args.rendered) as f:
        text = f.read()
    objs = [o for o in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if o]
    check(objs, "nothing rendered")

    # The control plane's private key must not appear in any object: not as an item, not in a comment.
    check("private.pem" not in text and "private.pem" not in yaml.safe_dump_all(objs),
          "private.pem appears in the rendered chart")
    cluster_scoped = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                      "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding")
    for o in objs:
        if o["kind"] not in cluster_scoped:
            check(o["metadata"].get("namespace") == ns, f"{o['kind']} {o['metadata']['name']} not in {ns}")

    plan = webhook_plan(v, kube, args.api_versions)
    # (the param-informer keepers, kept on uninstall, are check_policies.py's to check)
    keeper = lambda o: (o["metadata"].get("annotations") or {}).get("helm.sh/resource-policy") == "keep"
    policies = [o for o in objs if o["kind"] in cluster_scoped[2:] and not keeper(o)]
    check(bool(policies) == (v.get("enforcement", "webhook") != "webhook"),
          f"{len(policies)} admission policy objects with enforcement={v.get('enforcement', 'webhook')}")
    maps = [o for o in policies if o["kind"].startswith("Mutating")]
    check(len(maps) == (2 if plan["mutatingPolicy"] else 0) and all(o["apiVersion"] == plan["mutatingPolicy"] for o in maps),
          f"MutatingAdmissionPolicy objects {[o['apiVersion'] for o in maps]}, want {plan['mutatingPolicy'] or 'none'}")
    if not plan["server"]:
        # No webhook registration remains: nothing of the webhook server is rendered.
        left = [f"{o['kind']}/{o['metadata']['name']}" for o in objs
                if o["kind"] not in cluster_scoped[2:] and o["metadata"]["name"] != "session-admission-params"]
        check(not left, f"no webhook registration remains, yet rendered: {left}")
        return report(objs)

    sa = one(objs, "ServiceAccount", v["serviceAccount"]["name"] or fn)
    check(sa.get("automountServiceAccountToken") is False, "ServiceAccount automountServiceAccountToken")

    dep, pod, volumes = check_deployment(objs, v, ns, fn)
    tls_secret = volumes.get("tls", {}).get("secret", {}).get("secretName")

    pdbs = [o for o in objs if o["kind"] == "PodDisruptionBudget"]
    if v["podDisruptionBudget"]["enabled"]:
        check(len(pdbs) == 1 and pdbs[0]["spec"] == {"minAvailable": v["podDisruptionBudget"]["minAvailable"],
                                                    "selector": dep["spec"]["selector"]}, f"PDB {pdbs}")
    else:
        check(not pdbs, "PDB rendered while disabled")
    hpas = [o for o in objs if o["kind"] == "HorizontalPodAutoscaler"]
    if v["autoscaling"]["enabled"]:
        a = v["autoscaling"]
        check(len(hpas) == 1, "HPA missing while autoscaling.enabled")
        h = hpas[0]["spec"] if hpas else {}
        check(h.get("scaleTargetRef") == {"apiVersion": "apps/v1", "kind": "Deployment", "name": fn}, "HPA target")
        check((h.get("minReplicas"), h.get("maxReplicas")) == (a["minReplicas"], a["maxReplicas"]), "HPA bounds")
        targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in h.get("metrics", [])}
        want = {"cpu": a["targetCPUUtilizationPercentage"]}
        if a["targetMemoryUtilizationPercentage"]:
            want["memory"] = a["targetMemoryUtilizationPercentage"]
        check(targets == want, f"HPA targets {targets} != {want}")
    else:
        check(not hpas, "HPA rendered while autoscaling is disabled")

    check_operator_kit(objs, v, fn, dep)

    if args.mode == "generated":
        secret = [o for o in objs if o["kind"] == "Secret"]
        ca_b64 = secret[0]["data"]["ca.crt"] if secret else None
        check(ca_b64, "generated mode: no TLS Secret with ca.crt")
        check(tls_secret == f"{fn}-tls", f"tls volume Secret {tls_secret}")
        mwc, vwc = check_webhooks(objs, v, ns, fn, ca_b64, kube, plan)
        check_generated_tls(objs, fn, ns, ca_b64)
    elif args.mode == "cert-manager":
        check(tls_secret == f"{fn}-tls", f"tls volume Secret {tls_secret}")
        mwc, vwc = check_webhooks(objs, v, ns, fn, None, kube, plan)
        check_cert_manager(objs, v, fn, ns, mwc, vwc)
    else:
        check(tls_secret == v["tls"]["existingSecret"], f"tls volume Secret {tls_secret}")
        check(not [o for o in objs if o["kind"] in ("Secret", "Certificate", "Issuer")],
              "existing-secret mode must not render certificates")
        mwc, vwc = check_webhooks(objs, v, ns, fn, base64.b64encode(v["tls"]["caBundle"].encode()).decode(), kube, plan)
    if args.mode != "cert-manager":
        for cfg in (mwc, vwc):
            check("cert-manager.io/inject-ca-from" not in cfg.get("metadata", {}).get("annotations", {}),
                  f"{cfg.get('kind')}: inject-ca-from without cert-manager")
    check_test_pod(objs, v, fn, ns, tls_secret)
    return report(objs)


def report(objs):
    if failures:
        print(f"check_render: {len(failures)} failed check(s) in {args.rendered} ({args.mode}):", file=sys.stderr)
        for f in failures:
            print(f"  FAIL {f}", file=sys.stderr)
        sys.exit(1)
    print(f"check_render: {args.mode} ({len(objs)} objects) ok")


if __name__ == "__main__":
    main()
