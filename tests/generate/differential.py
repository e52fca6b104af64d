#!/usr/bin/python3
"""differential.py: the offline differential test of `session-admission generate`.

Why: `generate` compiles the policy file into ValidatingAdmissionPolicies whose CEL must decide
exactly as the C core does. This judges the same AdmissionReviews both ways and compares, per
review, the set of rule ids that fired:
  - the core: `BINARY review --path /validate` under a copy of the policy with every rule in
    audit mode, so each fired rule shows as a key of response.auditAnnotations (a response with
    allowed: false under that copy is a refusal outside any rule: recorded as rule "refused");
  - the policies: vap_eval.mjs (Kubernetes' VAP semantics on cel-js), where a policy fires when
    it matched and has violations or errors; its rule is its annotation
    session-admission.ambient-code.io/rule.
Pairs (rule, request kind) the stream declares with a comment line
`# webhook-only: <rule-id> <Kind,Kind>: <reason>` are left out of the comparison; a review the
core refuses outright (a NUL, an unreadable body) is judged by no rule, so only "refused" is
compared for it. A fired policy's violation messages must also read like the webhook's,
"<rule-id>: ..." (an evaluation error, "error: ...", never does), and each binding's
validationActions must match the rule's mode in the policy (enforce: Deny; warn: Warn and no
Deny; audit: Audit and no Deny); a mismatch is a disagreement too. Where both fire, messages
worded otherwise than the core's (the audit annotation's text) are counted and shown, and are
disagreements only with --exact-messages.

The reviews: corpus.py's seeded corpus (at least 2000), plus every AdmissionReview under the
--extra directories whose request.kind is one a handler judges (Pod, RoleBinding,
ClusterRoleBinding, Role, ClusterRole, TokenRequest); tests/mutate's fixtures (a pod, its
namespace and operation) are wrapped into Pod reviews, their expected mutated pod too. Files that
are neither are skipped.

usage: differential.py --binary PATH --policy POLICY.yaml [--corpus N] [--seed S]
                       [--extra DIR ...] [--generated FILE] [--public-key PEM] [--jobs N]
                       [--show N] [--exact-messages] [--cel-js lib/index.js]
Exit 0 only with 0 disagreements and at least 2000 generated reviews. Debian python3 +
python3-yaml only; node runs vap_eval.mjs.
"""
import argparse
import base64
import collections
import concurrent.futures
import copy
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
RULES = ["rbac-session-binding", "rbac-cross-namespace", "rbac-impersonation",
         "rbac-token-audience", "session-token-audience", "session-pod", "session-env-from-secret"]
REFUSED = "refused"
JUDGED_KINDS = {"Pod", "RoleBinding", "ClusterRoleBinding", "Role", "ClusterRole", "TokenRequest"}
RULE_ANNOTATION = "session-admission.ambient-code.io/rule"
MIN_GENERATED = 2000
WEBHOOK_ONLY = re.compile(r"^\s*#\s*webhook-only:\s*(\S+)\s+([^:]+?)\s*:\s*(.*)$")
NODE = shutil.which("node") or "node"


def die(msg):
    print("differential: " + msg, file=sys.stderr)
    sys.exit(2)


# ---- the generated stream ---------------------------------------------------------------------

def read_stream(args):
    """(docs, webhook_only {(rule, kind): reason}, the stream's text)."""
    if args.generated:
        with open(args.generated) as f:
            text = f.read()
    else:
        cmd = [args.binary, "generate", "--policy", args.policy]
        if args.public_key:
            cmd += ["--public-key", args.public_key]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            die("%s exited %d: %s" % (" ".join(cmd), out.returncode, out.stderr.strip()))
        text = out.stdout
    webhook_only = {}
    for line in text.splitlines():
        m = WEBHOOK_ONLY.match(line)
        if m:
            for kind in m.group(2).split(","):
                webhook_only[(m.group(1), kind.strip())] = m.group(3)
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        die("the generated stream is not YAML: %s" % e)
    return docs, webhook_only, text


def excluded(webhook_only, rule, kind):
    return (rule, kind) in webhook_only or (rule, "*") in webhook_only


def check_stream(docs, modes):
    """Problems of the stream itself: a policy without a rule annotation or binding, a binding
    naming no policy, validationActions that do not match the rule's mode."""
    problems = []
    vaps = {d["metadata"]["name"]: d for d in docs
            if isinstance(d, dict) and d.get("kind") == "ValidatingAdmissionPolicy"}
    bindings = [d for d in docs if isinstance(d, dict) and d.get("kind") == "ValidatingAdmissionPolicyBinding"]
    if not vaps:
        problems.append("the stream holds no ValidatingAdmissionPolicy")
    bound = collections.defaultdict(list)
    for b in bindings:
        name = (b.get("spec") or {}).get("policyName")
        if name not in vaps:
            problems.append("binding %s names policy %r, which the stream does not hold"
                            % (b["metadata"]["name"], name))
        else:
            bound[name].append(b)
    for name, vap in vaps.items():
        rule = ((vap.get("metadata") or {}).get("annotations") or {}).get(RULE_ANNOTATION)
        if rule not in RULES + [REFUSED]:
            problems.append("policy %s: annotation %s is %r, not a rule id" % (name, RULE_ANNOTATION, rule))
            continue
        if not bound[name]:
            problems.append("policy %s (%s) has no binding: it would never run" % (name, rule))
        mode = modes.get(rule, "enforce")
        for b in bound[name]:
            actions = (b.get("spec") or {}).get("validationActions") or []
            want = {"enforce": "Deny", "warn": "Warn", "audit": "Audit"}[mode]
            if want not in actions or (mode != "enforce" and "Deny" in actions):
                problems.append("binding %s of policy %s: validationActions %s, but rule %s is in mode %s"
                                % (b["metadata"]["name"], name, actions, rule, mode))
    return problems


# ---- the reviews ------------------------------------------------------------------------------

def is_review(doc):
    return (isinstance(doc, dict) and doc.get("kind") == "AdmissionReview" and
            isinstance(doc.get("request"), dict) and isinstance(doc["request"].get("kind"), dict))


def wrap_pod(pod, fixture, path, what):
    """A tests/mutate fixture's pod as the Pod review run_fixtures.py sends."""
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "fixture-%s-%s" % (os.path.basename(path), what),
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "operation": fixture.get("operation", "CREATE"),
        "namespace": fixture["namespace"],
        "name": (pod.get("metadata") or {}).get("name", ""),
        "userInfo": {"username": "system:serviceaccount:ambient-code:ambient-control-plane"},
        "object": pod, "dryRun": False}}


def substitute(value, pem, fp):
    if isinstance(value, dict):
        return {k: substitute(v, pem, fp) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, pem, fp) for v in value]
    return {"@PEM@": pem, "@FP@": fp}.get(value, value) if isinstance(value, str) else value


def extra_reviews(dirs, pem):
    """[(label, review, file or None)] from the test suites, and the count of files skipped."""
    out, skipped = [], 0
    for d in dirs:
        if not os.path.isdir(d):
            print("--extra %s: no such directory" % d)
        for path in sorted(glob.glob(os.path.join(d, "**", "*.json"), recursive=True)):
            try:
                with open(path, encoding="utf-8") as f:
                    doc = json.load(f)
            except (ValueError, UnicodeDecodeError):
                skipped += 1
                continue
            if is_review(doc):
                if doc["request"]["kind"].get("kind") in JUDGED_KINDS:
                    out.append((os.path.relpath(path, SRC), doc, path))
                else:
                    skipped += 1
            elif isinstance(doc, dict) and isinstance(doc.get("pod"), dict) and "namespace" in doc:
                out.append((os.path.relpath(path, SRC), wrap_pod(doc["pod"], doc, path, "pod"), None))
                want = (doc.get("expect") or {}).get("pod")
                if isinstance(want, dict):
                    pod = substitute(want, pem, "0" * 64)
                    out.append((os.path.relpath(path, SRC) + " (expected pod)",
                                wrap_pod(pod, doc, path, "expected"), None))
            else:
                skipped += 1
    return out, skipped


# ---- the core ---------------------------------------------------------------------------------

def audit_copy(policy_path, tmp):
    """The policy's text with its top-level modes: block replaced by every rule in audit."""
    with open(policy_path) as f:
        lines = f.read().splitlines()
    out, skipping = [], False
    for line in lines:
        if re.match(r"^modes\s*:", line):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "\t", "#")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    out.append("modes:")
    out += ["  %s: audit" % r for r in RULES]
    path = os.path.join(tmp, "policy-audit.yaml")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    with open(path) as f:
        if (yaml.safe_load(f) or {}).get("modes") != {r: "audit" for r in RULES}:
            die("could not write an all-audit copy of %s" % policy_path)
    return path


def core_verdict(job):
    """(rules fired {rule: message}, None) or (None, why) for one review."""
    binary, policy, key, path, body = job
    cmd = [binary, "review", "--policy", policy, "--path", "/validate"]
    if key:
        cmd += ["--public-key", key]
    cmd.append(path or "-")
    out = subprocess.run(cmd, input=None if path else body, capture_output=True)
    if out.returncode != 0:
        return None, "exit %d: %s" % (out.returncode, out.stderr.decode(errors="replace").strip()[-300:])
    try:
        resp = json.loads(out.stdout)["response"]
    except (ValueError, KeyError, TypeError):
        return None, "no AdmissionReview response on stdout: %r" % out.stdout[:200]
    fired = dict(resp.get("auditAnnotations") or {})
    if not resp.get("allowed", False):
        fired[REFUSED] = (resp.get("status") or {}).get("message", "")
    return fired, None


def probe_key(args, policy):
    """The PEM the core compares with, read from its own patch of a session pod, and checked
    against the file the corpus takes it from."""
    s = policy["sessions"]
    globs = corpus.as_list(s["publicKey"]["containers"])
    name = next((n for n in ["ambient-code-runner", "c"] + [g.replace("*", "x").replace("?", "x") for g in globs]
                 if any(fnmatch.fnmatchcase(n, g) for g in globs)), None)
    if name is None:
        die("no container name matches sessions.publicKey.containers %s" % globs)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe", "namespace": "probe",
                                                           "labels": {s["label"]: "probe"}},
           "spec": {"containers": [{"name": name, "image": "i"}]}}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "probe", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "probe",
        "operation": "CREATE", "userInfo": {"username": "probe"}, "object": pod}}
    cmd = [args.binary, "review", "--policy", args.policy, "--path", "/mutate", "-"]
    if args.public_key:
        cmd[2:2] = ["--public-key", args.public_key]
    out = subprocess.run(cmd, input=json.dumps(review).encode(), capture_output=True)
    if out.returncode != 0:
        die("probing the key: %s" % out.stderr.decode(errors="replace").strip())
    patch = json.loads(base64.b64decode(json.loads(out.stdout)["response"].get("patch", "") or "W10="))
    pems = [e["value"] for op in patch for e in (op.get("value") if isinstance(op.get("value"), list) else [])
            if isinstance(e, dict) and e.get("name") == s["publicKey"]["env"]]
    if not pems:
        die("probing the key: the core's patch of a session pod carries no %s" % s["publicKey"]["env"])
    key_file = args.public_key or s["publicKey"]["file"]
    if not args.public_key and not os.access(key_file, os.R_OK):
        key_file = corpus.EXAMPLE_KEY
    with open(key_file) as f:
        pem = f.read()
    if pems[0] != pem:
        die("the core uses another key than %s" % key_file)
    return pem


# ---- comparing --------------------------------------------------------------------------------

RULE_LISTS = ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")


def schema_valid(review):
    """False for a Role or ClusterRole no kube-apiserver sends to admission: its rules must be
    objects of string lists (the PolicyRule schema, which the API server decodes the request
    into before admission: a malformed shape is a 400 there). The core reads such shapes
    defensively (tests/validate/cases); the policies only ever see schema-valid objects."""
    req = review.get("request") or {}
    if (req.get("kind") or {}).get("kind") not in ("Role", "ClusterRole"):
        return True
    for obj in (req.get("object"), req.get("oldObject")):
        if obj is None:
            continue
        if not isinstance(obj, dict):
            return False
        rules = obj.get("rules")
        if rules is None:
            continue  # a nil list (rules is not omitempty): what an aggregated ClusterRole holds
        if not isinstance(rules, list):
            return False
        for r in rules:
            if not isinstance(r, dict):
                return False
            for f in RULE_LISTS:
                v = r.get(f, [])
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    return False
    return True


def trimmed(obj, limit=1500):
    text = json.dumps(obj, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "... (%d more characters)" % (len(text) - limit)


def compare(items, core, vap, webhook_only, exact):
    """Disagreements [(index, [reasons])], per rule counts, and how many reviews the core
    refused outright."""
    stats = {r: collections.Counter() for r in RULES + [REFUSED]}
    disagreements = []
    wording = []  # (index, rule, the core's text, the policies' text)
    refused_only = 0
    for i, (label, review, _path) in enumerate(items):
        fired, why = core[i]
        if fired is None:
            continue
        kind = review["request"]["kind"].get("kind", "")
        entries = vap[i]["policies"]
        by_rule = collections.defaultdict(list)
        for e in entries:
            if e["matched"] and (e["violations"] or e["errors"]):
                by_rule[e["rule"]].append(e)
        reasons = []
        # A review the core refuses outright (a NUL, an unreadable body) is judged by no rule:
        # only the refusal itself can be compared, and only when the stream claims to cover it.
        rules = [REFUSED] if REFUSED in fired else RULES + [REFUSED]
        if rules == [REFUSED]:
            refused_only += 1
        for rule in rules:
            if excluded(webhook_only, rule, kind):
                continue
            c, p = rule in fired, rule in by_rule
            stats[rule]["both fired" if c and p else "neither fired" if not c and not p
                        else "core only" if c else "policies only"] += 1
            if c != p:
                reasons.append("%s: the core %s, the policies %s" % (
                    rule, "fired" if c else "did not fire", "fired" if p else "did not fire"))
            for e in by_rule.get(rule, []):
                for m in e["violations"]:
                    if not m.startswith(rule + ": "):
                        reasons.append("%s: policy %s says %r, not \"%s: ...\"" % (rule, e["policy"], m, rule))
            if c and p and rule != REFUSED:
                said = "; ".join(m[len(rule) + 2:] if m.startswith(rule + ": ") else m
                                 for e in by_rule[rule] for m in e["violations"])
                if said.replace("; " + rule + ": ", "; ") != fired[rule]:
                    wording.append((i, rule, fired[rule], said))
                    if exact:
                        reasons.append("%s: the messages differ (--exact-messages)" % rule)
        for rule in by_rule:
            if rule not in RULES and rule != REFUSED:
                reasons.append("policy rule %r is no rule id" % rule)
        if reasons:
            disagreements.append((i, reasons))
    return disagreements, stats, refused_only, wording


def report(i, reasons, items, core, vap, webhook_only):
    label, review, _ = items[i]
    req = review["request"]
    kind = req["kind"].get("kind", "")
    print("--- %s (uid %s): %s %s %s/%s by %s" % (label, req.get("uid"), req.get("operation"), kind,
                                                req.get("namespace", ""), req.get("name", ""),
                                                (req.get("userInfo") or {}).get("username")))
    for r in reasons:
        print("  " + r)
    print("  core: %s" % json.dumps(core[i][0], sort_keys=True))
    for e in vap[i]["policies"]:
        if excluded(webhook_only, e["rule"], kind):
            continue
        if e["matched"] or e["rule"] in core[i][0]:
            print("  policy %s (%s): matched=%s %s violations=%s errors=%s" % (
                e["policy"], e["rule"], e["matched"], e["reason"], json.dumps(e["violations"]),
                json.dumps(e["errors"])))
            for f in e["failed"]:
                print("    failed validation %d: %s" % (f["index"], f["expression"].strip()[:600]))
    print("  object: %s" % trimmed(req.get("object")))
    if req.get("oldObject") is not None:
        print("  oldObject: %s" % trimmed(req.get("oldObject")))


def main():
    ap = argparse.ArgumentParser(description="differential test of session-admission generate")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--corpus", type=int, default=corpus.DEFAULT_COUNT, help="generated reviews")
    ap.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    ap.add_argument("--extra", nargs="*", default=[], help="directories of AdmissionReview JSON files")
    ap.add_argument("--generated", help="a VAP stream to test instead of `BINARY generate`'s")
    ap.add_argument("--public-key", help="passed to review (and generate); default: theirs")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=40, help="disagreements shown in full")
    ap.add_argument("--cel-js", help="cel-js lib/index.js (default: .tools/npm)")
    ap.add_argument("--exact-messages", action="store_true",
                    help="a message worded otherwise than the core's is a disagreement too")
    args = ap.parse_args()
    started = time.time()

    policy = corpus.load_policy(args.policy)
    docs, webhook_only, _ = read_stream(args)
    problems = check_stream(docs, policy.get("modes") or {})
    tmp = tempfile.mkdtemp(prefix="sa-differential.")
    try:
        pem = probe_key(args, policy)
        generated = corpus.generate(policy, pem, args.corpus, args.seed)
        extras, skipped = extra_reviews(args.extra, pem)
        unsendable = [label for label, r, _ in extras if not schema_valid(r)]
        extras = [e for e in extras if schema_valid(e[1])]
        for label in unsendable:
            print("not compared, kube-apiserver refuses its object by the schema before admission: %s" % label)
        items = [("generated #%d" % n, r, None) for n, r in enumerate(generated)] + extras
        print("corpus: %d reviews (%d generated, %d from the test suites)"
              % (len(items), len(generated), len(extras)))
        print("%d files under --extra are no AdmissionReview of a judged kind: skipped" % skipped)
        for (rule, kind), why in sorted(webhook_only.items()):
            print("webhook-only, not compared: %s on %s: %s" % (rule, kind, why))

        copy_path = audit_copy(args.policy, tmp)
        check = subprocess.run([args.binary, "check-policy", copy_path], capture_output=True, text=True)
        if check.returncode != 0:
            die("the all-audit copy of the policy is refused: %s" % check.stdout.strip())
        jobs = [(args.binary, copy_path, args.public_key, path,
                 None if path else json.dumps(review).encode()) for _, review, path in items]
        with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
            core = list(pool.map(core_verdict, jobs, chunksize=32))
        unusable = [(items[i][0], why) for i, (fired, why) in enumerate(core) if fired is None]
        for label, why in unusable:
            print("not compared, the core produced no response: %s: %s" % (label, why))

        # vap_eval.mjs sees unique uids; the order maps its answers back.
        reviews = []
        for n, (_, review, _) in enumerate(items):
            r = copy.deepcopy(review)
            r["request"]["uid"] = "%d/%s" % (n, r["request"].get("uid"))
            reviews.append(r)
        cmd = [NODE, os.path.join(HERE, "vap_eval.mjs")] + ([args.cel_js] if args.cel_js else [])
        out = subprocess.run(cmd, input=json.dumps({"docs": docs, "reviews": reviews}),
                             capture_output=True, text=True)
        if out.returncode != 0:
            die("vap_eval.mjs exited %d: %s" % (out.returncode, out.stderr.strip()[-2000:]))
        vap = json.loads(out.stdout)
        if len(vap) != len(items) or any(v["uid"] != r["request"]["uid"] for v, r in zip(vap, reviews)):
            die("vap_eval.mjs answered %d reviews out of order or not all of %d" % (len(vap), len(items)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    disagreements, stats, refused_only, wording = compare(items, core, vap, webhook_only,
                                                          args.exact_messages)
    print("%-24s %11s %13s %10s %14s" % ("rule", "both fired", "neither fired", "core only", "policies only"))
    for rule in RULES + [REFUSED]:
        s = stats[rule]
        print("%-24s %11d %13d %10d %14d" % (rule, s["both fired"], s["neither fired"], s["core only"],
                                            s["policies only"]))
    print("%d reviews refused by the core outright (a NUL, an unreadable body): compared on \"%s\" alone"
          % (refused_only, REFUSED))
    print("%d rule verdicts agree but word their messages differently than the core%s"
          % (len(wording), "" if args.exact_messages else " (not failing without --exact-messages)"))
    for i, rule, core_text, said in wording[:5]:
        print("  %s %s:\n    core:     %s\n    policies: %s" % (items[i][0], rule, core_text[:400], said[:400]))
    for p in problems:
        print("stream: " + p)
    for n, (i, reasons) in enumerate(disagreements):
        if n < args.show:
            report(i, reasons, items, core, vap, webhook_only)
        else:
            print("--- %s (uid %s): %s" % (items[i][0], items[i][1]["request"].get("uid"), "; ".join(reasons)))
    print("%d disagreements, %d stream problems, %d reviews not compared (%.0f s)"
          % (len(disagreements), len(problems), len(unusable), time.time() - started))
    ok = not disagreements and not problems and len(generated) >= MIN_GENERATED
    if len(generated) < MIN_GENERATED:
        print("the corpus holds %d generated reviews, fewer than %d" % (len(generated), MIN_GENERATED))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
