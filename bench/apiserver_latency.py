#!/usr/bin/python3
"""apiserver_latency.py: the timing half of bench/apiserver_latency.sh (which starts etcd,
kube-apiserver and the webhook server on loopback, and passes what they are through the
environment). Not meant to be run alone.

Three configurations of the one API server, switched between blocks:
  A  baseline: nothing of ours registered (the generated policies exist, but unbound)
  B  webhook: the chart's MutatingWebhookConfiguration and ValidatingWebhookConfiguration,
     pointed at `serve` on loopback TLS (failurePolicy as rendered: Fail)
  C  policies: the bindings of the generated ValidatingAdmissionPolicies and the
     MutatingAdmissionPolicy created; no webhook
Each switch waits until every probe answers as the configuration must (a denial names the webhook
or the policy and rule, the session pod comes back mutated, or not at all in A), then sends
untimed warm-up requests. A round is A, B, C; each block times N/ROUNDS RoleBinding creates, then
N/ROUNDS session pod creates, all ?dryRun=All (admission runs in full, nothing is stored), over one
kept-alive HTTP/1.1 TLS connection as the admin. Every answer must be 201, and the pod must come
back mutated (B, C) or untouched (A); any other answer fails the run.

Environment: KUBE_URL, W (the run's folder: pki/, webhook.log), SA_SRC, APISERVER_PID,
WEBHOOK_PID, N (300), ROUNDS (10), WARMUP (10), OUT_SECTION (the markdown section to write),
META (lines for the section's header).
Arguments: POLICIES.yaml MUTATING.json VALIDATING.json
"""
import http.client
import json
import os
import random
import ssl
import statistics
import sys
import time

import yaml

URL = os.environ["KUBE_URL"]
W = os.environ["W"]
SRC = os.environ["SA_SRC"]
sys.path.insert(0, os.path.join(SRC, "bench"))
import make_reviews  # noqa: E402  (the platform's session pod, as bench/run.sh sends it)

N = int(os.environ.get("N", "300"))
ROUNDS = int(os.environ.get("ROUNDS", "10"))
WARMUP = int(os.environ.get("WARMUP", "10"))
PIDS = {"apiserver": int(os.environ["APISERVER_PID"]), "webhook": int(os.environ["WEBHOOK_PID"])}
TICK = os.sysconf("SC_CLK_TCK")
if N % ROUNDS:
    sys.exit(f"N={N} is not a multiple of ROUNDS={ROUNDS}")
PER_BLOCK = N // ROUNDS

HOST, PORT = URL.split("//")[1].split(":")
CTX = ssl.create_default_context(cafile=f"{W}/pki/ca.crt")
CTX.load_cert_chain(f"{W}/pki/admin.crt", f"{W}/pki/admin.key")
PLURAL = {"ConfigMap": "configmaps", "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
          "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
          "MutatingAdmissionPolicy": "mutatingadmissionpolicies",
          "MutatingAdmissionPolicyBinding": "mutatingadmissionpolicybindings",
          "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
          "ValidatingWebhookConfiguration": "validatingwebhookconfigurations"}
NAMES = {"A": "baseline (nothing of ours)", "B": "webhook", "C": "generated policies"}


class Client:
    """One kept-alive HTTP/1.1 connection; counts the connections it had to open."""

    def __init__(self):
        self.conn, self.opened = None, 0

    def call(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(HOST, int(PORT), context=CTX, timeout=30)
            self.conn.connect()
            self.opened += 1
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            t0 = time.perf_counter_ns()
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            data = r.read()
            t1 = time.perf_counter_ns()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, data, (t1 - t0) / 1e6


ctl, timed = Client(), Client()


def jcall(method, path, obj=None):
    code, data, _ = ctl.call(method, path, None if obj is None else json.dumps(obj).encode())
    try:
        return code, json.loads(data)
    except ValueError:
        return code, {"message": data[:300].decode(errors="replace")}


def must(code_want, method, path, obj=None):
    code, body = jcall(method, path, obj)
    if code not in code_want:
        sys.exit(f"{method} {path}: HTTP {code}, want {code_want}: {body.get('message', '')[:400]}")
    return body


def path_of(d, name=False):
    v, ns = d["apiVersion"], d["metadata"].get("namespace")
    base = "/api/v1" if v == "v1" else "/apis/" + v
    return base + (f"/namespaces/{ns}" if ns else "") + "/" + PLURAL[d["kind"]] + (
        "/" + d["metadata"]["name"] if name else "")


# --- the objects ------------------------------------------------------------------------------------
NS, SID = make_reviews.NS, make_reviews.SID
SESSION_SA = f"session-{SID.lower()}-sa"
RBAC = "rbac.authorization.k8s.io"
POD = make_reviews.session_pod()
ROLEBINDING = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
               "metadata": {"name": f"session-{SID.lower()}-puller", "namespace": NS},
               "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "system:image-puller"},
               "subjects": [{"kind": "ServiceAccount", "name": SESSION_SA, "namespace": NS}]}
POD_PATH = f"/api/v1/namespaces/{NS}/pods?dryRun=All"
RB_PATH = f"/apis/{RBAC}/v1/namespaces/{NS}/rolebindings?dryRun=All"
BODY = {"rolebinding": (RB_PATH, json.dumps(ROLEBINDING).encode()), "pod": (POD_PATH, json.dumps(POD).encode())}
KEY_ENV = "AMBIENT_CP_TOKEN_PUBLIC_KEY"
FP_ANN = "ambient-code.io/cp-token-key-sha256"


def pod_state(body):
    """'mutated' when the answer is the session pod as the policy wants it, 'untouched' when it is
    as sent, else a description."""
    spec, ann = body["spec"], body["metadata"].get("annotations") or {}
    keyed = [any(e["name"] == KEY_ENV for e in c.get("env", [])) for c in spec["containers"]]
    if spec.get("serviceAccountName") == SESSION_SA and all(keyed) and FP_ANN in ann:
        return "mutated"
    if spec.get("serviceAccountName") == "default" and not any(keyed) and FP_ANN not in ann:
        return "untouched"
    return f"half-mutated (sa {spec.get('serviceAccountName')}, keyed {keyed}, annotation {FP_ANN in ann})"


def variant(env=None, **spec):
    p = json.loads(json.dumps(POD))
    if env:
        p["spec"]["containers"][0]["env"].append(env)
    p["spec"].update(spec)
    return p


def rb(name, role, subjects):
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": NS},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}, "subjects": subjects}


envfrom = variant()
envfrom["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "creds"}}]
vault = variant()
vault["spec"]["volumes"].append({"name": "vault", "projected": {"sources": [
    {"serviceAccountToken": {"audience": "vault", "path": "t"}}]}})
# (probe, path, rule, family of the generated policy, webhook that judges it)
PROBES = [
    (variant({"name": "GITHUB_TOKEN", "value": "x"}), POD_PATH, "session-pod", "pods", "validate-pods"),
    (envfrom, POD_PATH, "session-env-from-secret", "pods", "validate-pods"),
    (vault, POD_PATH, "session-token-audience", "pods", "validate-pods"),
    (rb("probe-admin", "cluster-admin", [{"kind": "ServiceAccount", "name": SESSION_SA, "namespace": NS}]),
     RB_PATH, "rbac-session-binding", "bindings", "validate-rbac"),
    (rb("probe-xns", "system:image-builder", [{"kind": "ServiceAccount", "name": SESSION_SA, "namespace": "proj-beta"}]),
     RB_PATH, "rbac-cross-namespace", "bindings", "validate-rbac"),
    (rb("probe-aud", "system:node:credential-provider-token-audience", [{"apiGroup": RBAC, "kind": "User", "name": "alice"}]),
     RB_PATH, "rbac-token-audience", "bindings", "validate-rbac"),
]


def verdict(code, body, rule, family, hook):
    msg = body.get("message", "")
    if code == 201:
        return "admitted"
    if code == 403 and msg.startswith(f'admission webhook "{hook}.session-admission.ambient-code.io" denied') \
            and f"{rule}: " in msg:
        return "webhook"
    if code == 403 and f"ValidatingAdmissionPolicy 'session-admission-{rule}-{family}'" in msg and f"{rule}: " in msg:
        return "policy"
    return f"HTTP {code}: {msg[:200]}"


WANT = {"A": ("admitted", "untouched"), "B": ("webhook", "mutated"), "C": ("policy", "mutated")}
webhook_log = open(f"{W}/webhook.log", "rb")


def reviews_since():
    """Reviews the webhook server logged since the last call."""
    return sum(line.count(b'"msg":"review"') for line in webhook_log.readlines())


def observe():
    got = [verdict(*jcall("POST", path, obj), rule, fam, hook) for obj, path, rule, fam, hook in PROBES]
    code, body = jcall("POST", POD_PATH, POD)
    return got, (pod_state(body) if code == 201 else f"HTTP {code}: {body.get('message', '')[:200]}")


def in_effect(cfg):
    want_probe, want_pod = WANT[cfg]
    reviews_since()
    got, pod = observe()
    quiet = reviews_since() == 0
    ok = all(g == want_probe for g in got) and pod == want_pod and (cfg == "B" or quiet)
    return ok, (got, pod, "no reviews at the webhook" if quiet else "reviews at the webhook")


# --- switching ------------------------------------------------------------------------------------
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
bindings = [d for d in docs if d["kind"].endswith("Binding")]
hooks = [json.load(open(f)) for f in sys.argv[2:4]]
for n in ("session-admission", NS, "proj-beta"):
    must((201,), "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})
# No controller-manager: the ServiceAccount admission plugin wants the pod's "default" as sent and
# the session SA it is given by the mutation.
for sa in ("default", SESSION_SA):
    must((201,), "POST", f"/api/v1/namespaces/{NS}/serviceaccounts",
         {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}})
for d in docs:
    if d not in bindings:
        must((201,), "POST", path_of(d), d)
state = "A"
switch_s = {}


def switch(cfg):
    global state
    t0 = time.time()
    if state == "B":
        for h in hooks:
            must((200,), "DELETE", path_of(h, True))
    if state == "C":
        for b in bindings:
            must((200,), "DELETE", path_of(b, True))
    if cfg == "B":
        for h in hooks:
            must((201,), "POST", path_of(h), h)
    if cfg == "C":
        for b in bindings:
            must((201,), "POST", path_of(b), b)
    state = cfg
    ok, why = in_effect(cfg)
    while not ok and time.time() - t0 < 60:
        time.sleep(0.2)
        ok, why = in_effect(cfg)
    if not ok:
        sys.exit(f"configuration {cfg} ({NAMES[cfg]}) not in effect after 60 s: {why}")
    switch_s.setdefault(cfg, []).append(time.time() - t0)


# --- measuring ------------------------------------------------------------------------------------
def cpu(pid):
    """CPU seconds of all the process's threads (schedstat: nanoseconds, where /proc/PID/stat counts
    10 ms ticks)."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total / 1e9


def scrape():
    """The API server's admission histograms: {(metric, name or policy label, type label): [sum, count]}."""
    code, data, _ = ctl.call("GET", "/metrics")
    if code != 200:
        sys.exit(f"GET /metrics: HTTP {code}")
    out = {}
    for line in data.decode().splitlines():
        if not line.startswith("apiserver_") or "admission" not in line[:line.find("{")]:
            continue
        metric = line[:line.index("{")]
        for suffix, i in (("_sum", 0), ("_count", 1)):
            if metric.endswith(suffix):
                labels = dict(kv.split("=", 1) for kv in line[line.index("{") + 1:line.rindex("}")].split(",") if "=" in kv)
                lab = lambda k: labels.get(k, '""').strip('"')
                key = (metric[:-len(suffix)], lab("name") or lab("policy"), lab("type"))
                out.setdefault(key, [0.0, 0.0])[i] += float(line.rsplit(" ", 1)[1])
    return out


samples = {(c, k): [] for c in "ABC" for k in BODY}
round_medians = {(c, k): [] for c in "ABC" for k in BODY}
cpu_s = {(c, k, p): 0.0 for c in "ABC" for k in BODY for p in PIDS}
metrics = {(c, k): {} for c in "ABC" for k in BODY}
webhook_reviews = {(c, k): 0 for c in "ABC" for k in BODY}
failures = []


def send(cfg, kind):
    path, body = BODY[kind]
    code, data, ms = timed.call("POST", path, body)
    if code != 201:
        failures.append(f"{cfg} {kind}: HTTP {code}: {data[:300]!r}")
    elif kind == "pod" and pod_state(json.loads(data)) != WANT[cfg][1]:
        failures.append(f"{cfg} pod: {pod_state(json.loads(data))}")
    return ms


def block(cfg, kind):
    for _ in range(3):
        send(cfg, kind)  # after the scrape and the other kind: untimed
    m0, c0 = scrape(), {p: cpu(pid) for p, pid in PIDS.items()}
    reviews_since()
    got = [send(cfg, kind) for _ in range(PER_BLOCK)]
    webhook_reviews[(cfg, kind)] += reviews_since()
    c1, m1 = {p: cpu(pid) for p, pid in PIDS.items()}, scrape()
    for p in PIDS:
        cpu_s[(cfg, kind, p)] += c1[p] - c0[p]
    acc = metrics[(cfg, kind)]
    for key, (s, n) in m1.items():
        s0, n0 = m0.get(key, (0.0, 0.0))
        a = acc.setdefault(key, [0.0, 0.0])
        a[0] += s - s0
        a[1] += n - n0
    samples[(cfg, kind)] += got
    round_medians[(cfg, kind)].append(statistics.median(got))


t_start = time.time()
loads = []
for r in range(ROUNDS):
    for cfg in "ABC":
        switch(cfg)
        for _ in range(WARMUP):
            for kind in BODY:
                send(cfg, kind)
        for kind in BODY:
            block(cfg, kind)
    loads.append(open("/proc/loadavg").read().split()[0])
    print(f"# round {r + 1}/{ROUNDS} done, {time.time() - t_start:.0f} s", file=sys.stderr, flush=True)
    if failures:
        break
switch("A")
elapsed = time.time() - t_start


# --- the section ----------------------------------------------------------------------------------
def p90(xs):
    return statistics.quantiles(xs, n=10, method="inclusive")[8]


def med_diff_ci(x, base, rng, reps=2000):
    ds = sorted(statistics.median(rng.choices(x, k=len(x))) - statistics.median(rng.choices(base, k=len(base)))
                for _ in range(reps))
    return ds[int(0.025 * reps)], ds[int(0.975 * reps) - 1]


rng = random.Random(21)
lines = os.environ.get("META", "").splitlines() + [""]
if failures:
    lines += [f"**FAILED: {len(failures)} unexpected answers**; the first:", ""] + [f"    {f}" for f in failures[:5]]
    print("\n".join(lines))
    sys.exit(1)
what = {"rolebinding": "RoleBinding create (session SA to system:image-puller)",
        "pod": f"session pod create (the platform's shape: 4 containers, 20 env each, {len(BODY['pod'][1]) / 1024:.1f} KB)"}
lines += [f"{N} timed requests per configuration and request, in {ROUNDS} rounds of A, B, C "
          f"({PER_BLOCK} RoleBindings, then {PER_BLOCK} pods per block; {WARMUP} untimed of each after every switch), "
          f"all `?dryRun=All`, over one kept-alive HTTP/1.1 TLS connection "
          f"({timed.opened} opened) from python3 http.client as the admin; every answer 201 and the pod "
          f"mutated as it must be (0 failures). {elapsed:.0f} s of rounds; switching took "
          + ", ".join(f"{c} {statistics.median(v):.1f} s" for c, v in sorted(switch_s.items()))
          + " (median, until every probe answered as the configuration must). Load average (1 min) after each round: "
          + ", ".join(loads) + ".", ""]
for kind in BODY:
    base = samples[("A", kind)]
    lines += [f"**{what[kind]}**", "",
              "| configuration | median ms | p90 ms | p99 ms | added median ms (95% CI) | added p90 ms | apiserver CPU ms/req | webhook CPU ms/req | reviews/req at the webhook |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for cfg in "ABC":
        xs = samples[(cfg, kind)]
        row = [NAMES[cfg], f"{statistics.median(xs):.2f}", f"{p90(xs):.2f}",
               f"{statistics.quantiles(xs, n=100, method='inclusive')[98]:.2f}"]
        if cfg == "A":
            row += ["", ""]
        else:
            lo, hi = med_diff_ci(xs, base, rng)
            row += [f"{statistics.median(xs) - statistics.median(base):+.2f} ({lo:+.2f} to {hi:+.2f})",
                    f"{p90(xs) - p90(base):+.2f}"]
        row += [f"{cpu_s[(cfg, kind, 'apiserver')] * 1000 / N:.2f}", f"{cpu_s[(cfg, kind, 'webhook')] * 1000 / N:.2f}",
                f"{webhook_reviews[(cfg, kind)] / N:g}"]
        lines.append("| " + " | ".join(row) + " |")
    bm = statistics.median(samples[("B", kind)]) - statistics.median(base)
    cm = statistics.median(samples[("C", kind)]) - statistics.median(base)
    bp = p90(samples[("B", kind)]) - p90(base)
    cp = p90(samples[("C", kind)]) - p90(base)
    ratio = lambda a, b: f"{a / b:.2f}" if b > 0.05 else "n/a (the denominator is within 0.05 ms of 0)"
    lines += ["", f"webhook-added / policies-added: **{ratio(bm, cm)}** at the median, {ratio(bp, cp)} at p90 "
              f"(policies-added / webhook-added: {ratio(cm, bm)} and {ratio(cp, bp)}).", ""]
    # The API server's own admission metrics, per request of the block.
    step = lambda cfg, t: metrics[(cfg, kind)].get(("apiserver_admission_step_admission_duration_seconds", "", t), [0, 1])
    plugin = lambda cfg, name, t: metrics[(cfg, kind)].get(
        ("apiserver_admission_controller_admission_duration_seconds", name, t), [0, 0])[0]
    cells = []
    for cfg in "ABC":
        n_req = step(cfg, "admit")[1] or 1
        parts = [f"mutating phase {step(cfg, 'admit')[0] * 1000 / n_req:.2f}",
                 f"validating phase {step(cfg, 'validate')[0] * 1000 / n_req:.2f}"]
        for name, t in (("MutatingAdmissionWebhook", "admit"), ("ValidatingAdmissionWebhook", "validate"),
                        ("MutatingAdmissionPolicy", "admit"), ("ValidatingAdmissionPolicy", "validate")):
            if (cfg == "B") == ("Webhook" in name) or cfg == "A":
                parts.append(f"{name} {plugin(cfg, name, t) * 1000 / n_req:.3f}")
        cells.append(f"{cfg}: " + ", ".join(parts))
    lines += ["The API server's own admission metrics (mean ms per request; "
              "`apiserver_admission_step_admission_duration_seconds`, `..._controller_...` per plugin): "
              + "; ".join(cells) + ".", ""]
    # Per webhook (B). Per policy there is none: kube-apiserver 1.33's
    # apiserver_validating_admission_policy_check_duration_seconds counted only denials here.
    per = []
    for cfg, prefix in (("B", "apiserver_admission_webhook_admission_duration_seconds"),):
        n_req = step(cfg, "admit")[1] or 1
        for (m, name, t), (sm, n) in sorted(metrics[(cfg, kind)].items()):
            if m == prefix and n > 0:
                per.append(f"{cfg} {name.replace('.session-admission.ambient-code.io', '')}"
                           f" {sm * 1000 / n_req:.2f} ({n / n_req:g}/req)")
    if per:
        lines += ["Per webhook (mean ms per request, `apiserver_admission_webhook_admission_duration_seconds`): " + "; ".join(per) + ".", ""]
    lines += ["Median of each round (ms), A / B / C: " + "; ".join(
        f"{a:.2f} / {b:.2f} / {c:.2f}" for a, b, c in zip(*(round_medians[(cfg, kind)] for cfg in "ABC"))) + ".", ""]
with open(f"{W}/metric-keys.txt", "w") as f:
    f.write("\n".join(sorted(" ".join(k) for k in set().union(*(m.keys() for m in metrics.values())))) + "\n")
print("\n".join(lines))
with open(os.environ["OUT_SECTION"], "w") as f:
    f.write("\n".join(lines))
