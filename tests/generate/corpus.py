#!/usr/bin/python3
"""corpus.py: a seeded generator of AdmissionReviews for the differential test of `generate`.

Why: the ValidatingAdmissionPolicies `session-admission generate` writes must decide exactly as
the C core does, and hand-written cases only reach the corners someone thought of. This writes
thousands of reviews (admission.k8s.io/v1, each with its own request.uid) drawn from the
policy's own tables and the edges its rules turn on: session and unlabelled Pods (CREATE,
UPDATE, pods/ephemeralcontainers, pods/status, DELETE; session ids of mixed case, too long, that
cannot form a DNS name; right, wrong, missing and deprecated ServiceAccount fields; containers,
init containers with and without restartPolicy Always, ephemeral containers; forbidden env, the
key env right, stale, set with valueFrom, missing, duplicated; envFrom Secrets, ConfigMaps and
prefixes; projected token volumes with audiences), TokenRequests, RoleBindings and
ClusterRoleBindings (every subject form, every role table), Roles and ClusterRoles (every verb
form, wildcards, subresources, resourceNames, nonResourceURLs, aggregation, guarded names,
bootstrap labels), UPDATEs whose oldObject is the same, narrower or wider, and the requesting
users the exemptions turn on. The same seed always gives the same corpus.

The "right" key is the PEM the core compares with; by default examples/example-public.pem, the
built-in example key `review` uses when the policy's key file cannot be read (differential.py
checks that against the binary).

usage: corpus.py [--seed S] [--count N] [--policy POLICY.yaml] [--public-key PEM] [-o FILE]
Writes one JSON list of AdmissionReviews (stdout by default). Debian python3 + python3-yaml only.
"""
import argparse
import copy
import fnmatch
import json
import os
import random
import string
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
DEFAULT_POLICY = os.path.join(SRC, "examples", "policy.yaml")
EXAMPLE_KEY = os.path.join(SRC, "examples", "example-public.pem")
DEFAULT_SEED = 20250611
DEFAULT_COUNT = 2400

RBAC = "rbac.authorization.k8s.io"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
STALE_PEM = ("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAstale0ld0ne\n"
             "-----END PUBLIC KEY-----\n")


def merge(base, over):
    """The policy as the binary reads it: every key left out takes the default's value."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


def load_policy(path=None):
    with open(DEFAULT_POLICY) as f:
        policy = yaml.safe_load(f)
    if path:
        with open(path) as f:
            merge(policy, yaml.safe_load(f) or {})
    return policy


def ascii_lower(s):
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def dns_subdomain(name):
    """k8sname.c's check: at most 253 of [a-z0-9-.], alphanumeric at both ends of every label."""
    if not name or len(name.encode()) > 253:
        return False
    for i, c in enumerate(name):
        if c in string.ascii_lowercase or c in string.digits:
            continue
        edge = i == 0 or i == len(name) - 1 or name[i - 1] == "." or name[i + 1] == "."
        if c not in "-." or edge:
            return False
    return True


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


class Corpus:
    def __init__(self, policy, pem, seed):
        self.p = policy
        self.pem = pem
        self.rng = random.Random(seed)
        self.seed = seed
        self.n = 0
        s = policy["sessions"]
        self.label = s["label"]
        self.template = s["serviceAccount"]["template"]
        self.id_max = int(s["serviceAccount"]["idMaxLength"])
        self.key_env = s["publicKey"]["env"]
        self.containers = as_list(s["publicKey"]["containers"])
        self.forbidden = as_list(s["forbiddenEnv"])
        self.token_audiences = as_list(s["tokenAudiences"])
        self.api_audiences = as_list(s["apiAudiences"])
        b = policy["bindings"]
        self.session_sa_globs = as_list(b.get("sessionServiceAccounts")) or [
            self.template.replace("{id}", "*")]
        self.namespace_groups = as_list(b["namespaceGroups"])
        self.allowed_roles = b["allowedRoles"] or []
        self.everyone_roles = as_list(b["everyoneRoles"])
        e = policy["exempt"]
        self.exempt_users = as_list(e["users"])
        self.exempt_groups = as_list(e["groups"])
        self.bootstrap_users = as_list(e["bootstrapUsers"])
        self.aggregation_users = as_list(e["aggregationUsers"])
        self.object_labels = e["objectLabels"] or {}
        self.imp_names = as_list(policy["impersonation"]["names"])
        self.audience_rows = policy["audiences"] or []
        self.exempt_namespaces = [self.instance(g) for g in as_list(policy["exemptNamespaces"])]
        self.namespaces = ["project-a", "project-b", "proj-alpha", "ambient-code", "default",
                           "team-x", "tekton-pipelines"]

    # ---- small choices ---------------------------------------------------------------------

    def pick(self, seq):
        return self.rng.choice(list(seq))

    def chance(self, p):
        return self.rng.random() < p

    def some(self, seq, lo=0, hi=None):
        seq = list(seq)
        hi = len(seq) if hi is None else min(hi, len(seq))
        return self.rng.sample(seq, self.rng.randint(min(lo, hi), hi))

    def token(self, n=6, alphabet=string.ascii_lowercase + string.digits):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def instance(self, glob):
        """A string the glob matches (its wildcards filled in), else the glob itself."""
        out, i = "", 0
        while i < len(glob):
            c = glob[i]
            if c == "*":
                out += self.pick(["", "x", self.token(4)])
            elif c == "?":
                out += "q"
            elif c == "[":
                j = glob.find("]", i + 2)
                if j < 0:
                    out += c
                else:
                    body = glob[i + 1:j]
                    cands = [ch for ch in string.ascii_letters + string.digits + "-_."
                             if fnmatch.fnmatchcase(ch, "[" + body + "]")]
                    out += cands[0] if cands else "x"
                    i = j
            else:
                out += c
            i += 1
        return out if fnmatch.fnmatchcase(out, glob) else glob

    def ns(self, exempt=0.12):
        if self.chance(exempt) and self.exempt_namespaces:
            return self.pick(self.exempt_namespaces + ["kube-system", "kube-public"])
        return self.pick(self.namespaces)

    def other_ns(self, ns):
        return self.pick([n for n in self.namespaces + ["kube-system"] if n != ns])

    # ---- sessions ----------------------------------------------------------------------------

    def session_id(self):
        m = self.id_max
        kinds = [
            lambda: self.token(8, "0123456789abcdef"),
            lambda: self.token(6),
            lambda: "".join(self.pick([c.upper(), c]) for c in self.token(10)),
            lambda: self.token(m + self.rng.randint(5, 30)),
            lambda: self.token(m),
            lambda: self.token(m + 1),
            lambda: self.token(m - 1) + "-" + self.token(5),      # the cut ends in '-'
            lambda: self.token(m - 1) + "." + self.token(5),      # the cut ends in '.'
            lambda: "".join(self.pick([c.upper(), c]) for c in self.token(m + 8)),
            lambda: self.pick(["", "_", "a_b", "-", "x.", ".x", "a..b", "UPPER", "ab cd",
                               "a/b", "-abc", "abc-", "é", "Ünï", "7F3A9C2E", "a.b", "0",
                               self.token(m) + "é", self.token(m - 1) + "é"]),
        ]
        weights = [5, 4, 4, 2, 1, 1, 2, 1, 1, 3]
        return self.rng.choices(kinds, weights)[0]()

    def session_sa(self, sid):
        """The ServiceAccount the core wants for the id, or None when the id cannot form one."""
        if not sid:
            return None
        name = self.template.replace("{id}", ascii_lower(sid)[:self.id_max])
        return name if dns_subdomain(name) else None

    def session_sa_name(self):
        """Some name the sessionServiceAccounts globs match."""
        name = self.session_sa(self.token(8, "0123456789abcdef"))
        if name and self.chance(0.7):
            return name
        return self.instance(self.pick(self.session_sa_globs))

    def non_session_sa(self):
        return self.pick(["default", "builder", "deployer", "ambient-control-plane", "runner",
                          "ambient-session-" + self.token(6), "session-" + self.token(4)])

    # ---- users ---------------------------------------------------------------------------------

    def sa_user(self, ns, name):
        return ("system:serviceaccount:%s:%s" % (ns, name),
                ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"])

    def user(self, ns="project-a", kind=None):
        """(username, groups): an ordinary user, an exempt-like identity, a session, a node..."""
        choices = {
            "plain": lambda: (self.pick(["alice@example.com", "bob@example.com", "dev", "kube:admin"]),
                              self.pick([["system:authenticated"], ["system:authenticated", "devs"],
                                         ["devs", "system:authenticated", "oidc:admins"]])),
            "control-plane": lambda: self.sa_user("ambient-code", "ambient-control-plane"),
            "session": lambda: self.sa_user(ns, self.session_sa_name()),
            "apiserver-masters": lambda: (self.pick(self.bootstrap_users or ["system:apiserver"]),
                                          ["system:authenticated", "system:masters"]),
            "apiserver": lambda: (self.pick(self.bootstrap_users or ["system:apiserver"]),
                                  ["system:authenticated"]),
            "masters": lambda: ("alice@example.com", ["system:masters", "system:authenticated"]),
            "controller-manager": lambda: (self.pick(self.aggregation_users or
                                                     ["system:kube-controller-manager"]),
                                           ["system:authenticated"]),
            "node": lambda: ("system:node:n1", ["system:nodes", "system:authenticated"]),
            "anonymous": lambda: ("system:anonymous", ["system:unauthenticated"]),
            "exempt-user": lambda: (self.pick(self.exempt_users or ["cluster-bootstrapper"]),
                                    ["system:authenticated"]),
            "exempt-group": lambda: ("carol", ["system:authenticated"] +
                                     [self.instance(self.pick(self.exempt_groups or
                                                              ["platform:break-glass"]))]),
            "no-groups": lambda: ("dave", []),
        }
        weights = {"plain": 30, "control-plane": 10, "session": 8, "apiserver-masters": 6,
                   "apiserver": 3, "masters": 2, "controller-manager": 5, "node": 3,
                   "anonymous": 1, "exempt-user": 2, "exempt-group": 2, "no-groups": 1}
        kind = kind or self.rng.choices(list(weights), list(weights.values()))[0]
        return choices[kind]()

    def rbac_writer(self, ns, obj, old=None):
        """Who writes an RBAC object: mostly anyone, but the identities the exemptions name
        (bootstrap users in or out of system:masters, the aggregation controller) often when
        the object or its old version carries the exempt labels, so those exemptions are
        exercised on objects that would otherwise be judged."""
        labels = dict(((obj or {}).get("metadata") or {}).get("labels") or {})
        labels.update(((old or {}).get("metadata") or {}).get("labels") or {})
        want = self.object_labels or BOOTSTRAP_LABEL
        if all(labels.get(k) == v for k, v in want.items()) and self.chance(0.7):
            return self.user(ns, self.pick(["apiserver-masters", "apiserver-masters", "apiserver",
                                            "masters", "controller-manager", "controller-manager"]))
        return self.user(ns)

    # ---- the envelope --------------------------------------------------------------------------

    def review(self, group, version, kind, resource, op, ns, name, obj, old, user, sub=""):
        self.n += 1
        username, groups = user
        userinfo = {"username": username, "uid": "uid-" + self.token(8)}
        if groups:
            userinfo["groups"] = groups
        if self.chance(0.05):
            userinfo["extra"] = {"authentication.kubernetes.io/node-name": ["n1"]}
        req = {
            "uid": "gen-%d-%05d" % (self.seed, self.n),
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group if kind != "TokenRequest" else "", "version": version,
                         "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group if kind != "TokenRequest" else "",
                                "version": version, "resource": resource},
        }
        if sub:
            req["subResource"] = sub
            req["requestSubResource"] = sub
        if name:
            req["name"] = name
        if ns:
            req["namespace"] = ns
        req["operation"] = op
        req["userInfo"] = userinfo
        req["object"] = obj
        req["oldObject"] = old
        req["dryRun"] = self.chance(0.05)
        req["options"] = {"apiVersion": "meta.k8s.io/v1",
                          "kind": {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions",
                                   "DELETE": "DeleteOptions"}.get(op, "CreateOptions")}
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}

    # ---- pods ------------------------------------------------------------------------------------

    def forbidden_name(self):
        """A name forbiddenEnv holds (a glob filled in), or one that only looks like it."""
        if self.forbidden and self.chance(0.7):
            return self.instance(self.pick(self.forbidden))
        base = self.pick(self.forbidden or ["GITHUB_TOKEN"])
        return self.pick([base.lower(), base + "S", "X" + base, base[:-1], "GH_TOKEN",
                          "GITHUB_APP_ID", "GIT_TOKEN"]).replace("*", "X")

    def key_entries(self, mode):
        k = self.key_env
        return {
            "right": [{"name": k, "value": self.pem}],
            "stale": [{"name": k, "value": STALE_PEM}],
            "no-newline": [{"name": k, "value": self.pem.rstrip("\n")}],
            "empty": [{"name": k, "value": ""}],
            "no-value": [{"name": k}],
            "valueFrom": [{"name": k, "valueFrom": {"secretKeyRef": {"name": "cp-key", "key": "public.pem"}}}],
            "valueFrom-and-value": [{"name": k, "value": self.pem,
                                     "valueFrom": {"configMapKeyRef": {"name": "cp", "key": "k"}}}],
            "dup-right-last": [{"name": k, "value": STALE_PEM}, {"name": k, "value": self.pem}],
            "dup-stale-last": [{"name": k, "value": self.pem}, {"name": k, "value": STALE_PEM}],
            "missing": [],
        }[mode]

    def env_from(self):
        out = []
        for _ in range(self.rng.choices([0, 1, 2], [6, 3, 1])[0]):
            ref = self.pick(["secretRef", "configMapRef", "configMapRef"])
            e = {ref: {"name": self.pick(["creds", "settings", "github", "app-config"])}}
            if self.chance(0.2):
                e[ref]["optional"] = True
            if self.chance(0.5):
                prefixes = ["", "GITHUB_", "GIT", "G", "GITLAB_", "JIRA_", "JIRA_API_TOKEN", "X_",
                            "APP_", "GH", "GITHUB_TOKEN", "GITHUB_TOKENX", "github_", "J", "T"]
                for f in self.forbidden:
                    cut = f.replace("*", "")
                    prefixes += [cut[:self.rng.randint(1, max(1, len(cut)))], cut]
                e["prefix"] = self.pick(prefixes)
            out.append(e)
        return out

    def container(self, name, key_mode, bad=0.0):
        env = [{"name": "VAR_%d" % i, "value": "v%d" % i} for i in range(self.rng.randint(0, 3))]
        if self.chance(0.1):
            env.append({"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})
        if self.chance(bad):
            env.insert(self.rng.randint(0, len(env)), {"name": self.forbidden_name(),
                                                       "value": "ghp_" + self.token(10)})
        for e in self.key_entries(key_mode):
            env.insert(self.rng.randint(0, len(env)), e)
        c = {"name": name, "image": "quay.io/ambient/" + name + ":latest"}
        if env or self.chance(0.5):
            c["env"] = env
        if self.chance(bad):
            c["envFrom"] = self.env_from()
        elif self.chance(0.15):
            c["envFrom"] = [{"configMapRef": {"name": "settings"}}]
        if self.chance(0.3):
            c["imagePullPolicy"] = "IfNotPresent"
            c["terminationMessagePath"] = "/dev/termination-log"
        return c

    def container_name(self):
        names = ["ambient-code-runner", "ambient-mcp", "credential-github", "credential-jira",
                 "sidecar", "git-sync", "x"]
        names += [self.instance(g) for g in self.containers if g != "*"]
        return self.pick(names)

    def key_mode(self, bad):
        if not self.chance(bad):
            return "right"
        return self.pick(["stale", "no-newline", "empty", "no-value", "valueFrom",
                          "valueFrom-and-value", "dup-right-last", "dup-stale-last", "missing",
                          "missing", "stale"])

    def token_volume(self, bad):
        vols = []
        if self.chance(0.7):
            vols.append({"name": "kube-api-access-" + self.token(5), "projected": {
                "defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})
        if self.chance(0.35):
            pool = self.api_audiences + self.token_audiences
            if self.chance(bad) or not pool:
                pool = ["vault", "https://vault.example.com", "sts.amazonaws.com", "",
                        "https://kubernetes.default.svc/"] + [r["audience"] for r in self.audience_rows]
            sources = [{"serviceAccountToken": {"audience": self.pick(pool), "expirationSeconds": 600,
                                                "path": "token-" + str(i)}}
                       for i in range(self.rng.randint(1, 2))]
            if self.chance(0.3):
                sources.insert(0, {"secret": {"name": "extra"}})
            vols.append({"name": "audience-token", "projected": {"sources": sources}})
        if self.chance(0.2):
            vols.append({"name": "cfg", "configMap": {"name": "settings"}})
        return vols

    def pod(self, ns, session, bad):
        """A Pod; session: carries the label; bad: how likely each part is wrong."""
        meta = {"labels": {"app": "runner"}}
        if self.chance(0.15):
            meta["generateName"] = "session-runner-"
        else:
            meta["name"] = "pod-" + self.token(6)
        if not self.chance(0.1):
            meta["namespace"] = ns
        spec = {}
        sid = None
        if session:
            sid = self.session_id()
            meta["labels"][self.label] = sid
            want = self.session_sa(sid)
            choice = "right" if want and not self.chance(bad) else self.pick(
                ["default", "other", "other-session", "missing", "missing", "right"])
            if choice == "right" and want:
                spec["serviceAccountName"] = want
            elif choice == "default":
                spec["serviceAccountName"] = "default"
            elif choice == "other":
                spec["serviceAccountName"] = self.non_session_sa()
            elif choice == "other-session":
                spec["serviceAccountName"] = self.session_sa_name()
            if self.chance(0.25):
                spec["serviceAccount"] = self.pick([spec.get("serviceAccountName", "default"),
                                                    want or "default", "default", self.non_session_sa()])
            annotations = {"ambient-code.io/cp-token-key-sha256": "0" * 64}
            if self.chance(0.5):
                meta["annotations"] = annotations
        else:
            r = self.rng.random()
            if r < 0.35:
                spec["serviceAccountName"] = self.session_sa_name()
            elif r < 0.45:
                spec["serviceAccount"] = self.session_sa_name()
            elif r < 0.5:
                spec["serviceAccountName"] = self.non_session_sa()
                spec["serviceAccount"] = self.session_sa_name()
            elif r < 0.8:
                spec["serviceAccountName"] = self.non_session_sa()
            if self.chance(0.2):
                meta["labels"]["ambient-code.io/session"] = "not-the-label"
        containers = [self.container(self.container_name(), self.key_mode(bad), bad)
                      for _ in range(self.rng.choices([1, 2, 3], [5, 3, 2])[0])]
        for i, c in enumerate(containers):  # names are unique within a pod
            c["name"] = "%s-%d" % (c["name"], i) if i and self.chance(0.5) else c["name"]
        spec["containers"] = containers
        if self.chance(0.35):
            inits = []
            for _ in range(self.rng.randint(1, 2)):
                c = self.container(self.pick(["init-git", "credential-github", "ambient-code-runner",
                                              "setup"]), self.key_mode(0.6), bad)
                if self.chance(0.5):
                    c["restartPolicy"] = self.pick(["Always", "Always", "OnFailure", "Never"])
                inits.append(c)
            spec["initContainers"] = inits
        vols = self.token_volume(bad)
        if vols:
            spec["volumes"] = vols
        if self.chance(0.5):
            spec["restartPolicy"] = self.pick(["Always", "Never", "OnFailure"])
            spec["dnsPolicy"] = "ClusterFirst"
        if self.chance(0.1):
            spec["ephemeralContainers"] = [self.ephemeral(bad)]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}

    def ephemeral(self, bad):
        c = self.container("debugger-" + self.token(3), self.pick(["missing", "right", "stale"]), bad)
        c["targetContainerName"] = "ambient-code-runner"
        return c

    def narrower_pod(self, pod):
        """The pod with one violation's cause removed (or unchanged when it has none)."""
        old = copy.deepcopy(pod)
        spec = old["spec"]

        def clean_env():
            c = spec["containers"][0]
            env = [e for e in c.get("env", []) if e.get("name") != self.key_env and
                   not any(fnmatch.fnmatchcase(e.get("name", ""), f) for f in self.forbidden)]
            c["env"] = env + self.key_entries("right")

        moves = [lambda: spec["containers"][0].pop("envFrom", None), clean_env,
                 lambda: spec.pop("volumes", None),
                 lambda: spec.pop("initContainers", None),
                 lambda: spec.pop("ephemeralContainers", None)]
        self.pick(moves)()
        return old

    def one_fault(self, pod):
        """A right session pod with exactly one thing wrong, so that every check the session-pod
        rules make is seen deciding alone (a rule that fires for two reasons hides either)."""
        meta, spec = pod["metadata"], pod["spec"]
        sid = self.token(8, "0123456789abcdef")
        meta["labels"][self.label] = sid
        spec["serviceAccountName"] = self.session_sa(sid)
        spec.pop("serviceAccount", None)
        spec.pop("ephemeralContainers", None)
        spec.pop("volumes", None)
        carriers = [c for c in spec["containers"]]
        for c in spec["containers"] + spec.get("initContainers", []):
            c["env"] = [e for e in c.get("env", []) if e.get("name") != self.key_env and
                        not any(fnmatch.fnmatchcase(e.get("name", ""), f) for f in self.forbidden)]
            c["env"] += self.key_entries("right")
            c.pop("envFrom", None)
        ctr = self.pick(carriers + spec.get("initContainers", []))
        prefixes = [f.replace("*", "")[:n] for f in self.forbidden for n in (1, 3, 7, 64)]
        faults = [
            lambda: ctr.__setitem__("envFrom", [{"configMapRef": {"name": "cfg"},
                                                 "prefix": self.pick(prefixes + ["NOPE_", "X"])}]),
            lambda: ctr.__setitem__("envFrom", [{"secretRef": {"name": "creds"}}]),
            lambda: ctr.__setitem__("envFrom", [{"secretRef": {"name": "creds"}, "prefix": "APP_"}]),
            lambda: ctr["env"].append({"name": self.forbidden_name(), "value": "x"}),
            lambda: ctr.__setitem__("env", [e for e in ctr["env"] if e["name"] != self.key_env] +
                                    self.key_entries(self.key_mode(1.0))),
            lambda: spec.__setitem__("serviceAccount", self.pick(["default", spec["serviceAccountName"]])),
            lambda: spec.__setitem__("serviceAccountName", self.pick(["default", self.session_sa_name()])),
            lambda: spec.pop("serviceAccountName"),
            lambda: meta["labels"].__setitem__(self.label, self.pick(
                ["", "_", sid.upper(), self.token(self.id_max - 1) + "-x", sid + "-" * 3,
                 self.token(self.id_max + 1), self.token(self.id_max).upper() + "Z"])),
            lambda: ctr.__setitem__("env", [e for e in ctr["env"] if e["name"] != self.key_env] +
                                    self.key_entries(self.pick(["dup-right-last", "dup-stale-last"]))),
            lambda: spec.__setitem__("ephemeralContainers", [self.ephemeral(self.pick([0.0, 1.0]))]),
            lambda: spec.__setitem__("volumes", self.token_volume(1.0)),
            lambda: spec.setdefault("initContainers", []).append(dict(
                self.container(self.container_name(), self.pick(["missing", "right", "stale"]), 0.0),
                **({"restartPolicy": "Always"} if self.chance(0.5) else {}))),
            lambda: None,
        ]
        self.pick(faults)()
        return pod

    def pod_reviews(self):
        ns = self.ns()
        session = self.chance(0.65)
        bad = self.pick([0.0, 0.0, 0.1, 0.3, 0.6])
        pod = self.pod(ns, session, bad)
        if session and self.chance(0.45):
            pod = self.one_fault(pod)
        name = pod["metadata"].get("name", "")
        r = self.rng.random()
        user = self.user(ns, self.pick(["control-plane", "control-plane", "plain", "session", "node"]))
        pod_args = ("", "v1", "Pod", "pods")
        if r < 0.5:
            return self.review(*pod_args, "CREATE", ns, name, pod, None, user)
        if not name:
            pod["metadata"]["name"] = name = "pod-" + self.token(6)
            pod["metadata"].pop("generateName", None)
        if r < 0.72:
            old = self.pick([lambda: copy.deepcopy(pod), lambda: self.narrower_pod(pod),
                             lambda: self.pod(ns, session, 0.5)])()
            old["metadata"]["name"] = name
            if self.chance(0.5):  # a label change, the usual UPDATE
                pod["metadata"]["labels"]["touched"] = "yes"
            if self.chance(0.15):  # the session label removed or added by the update
                (old if self.chance(0.5) else pod)["metadata"]["labels"].pop(self.label, None)
            return self.review(*pod_args, "UPDATE", ns, name, pod, old, user)
        if r < 0.9:
            old = copy.deepcopy(pod)
            old["spec"].pop("ephemeralContainers", None)
            pod["spec"].setdefault("ephemeralContainers", []).append(self.ephemeral(self.pick([0.0, 0.5, 0.9])))
            if self.chance(0.3):
                old["spec"]["ephemeralContainers"] = [self.ephemeral(0.9)]
            return self.review(*pod_args, "UPDATE", ns, name, pod, old,
                               self.user(ns, self.pick(["plain", "control-plane"])), "ephemeralcontainers")
        if r < 0.95:
            old = copy.deepcopy(pod)
            pod["status"] = {"phase": "Running"}
            return self.review(*pod_args, "UPDATE", ns, name, pod, old, self.user(ns, "node"), "status")
        return self.review(*pod_args, "DELETE", ns, name, None, pod, user)

    # ---- token requests ------------------------------------------------------------------------

    def table_requester(self, row):
        subjects = row.get("subjects") or []
        if not subjects:
            return self.user()
        s = self.pick(subjects)
        if s["kind"] == "User":
            return (s["name"], ["system:authenticated"])
        if s["kind"] == "Group":
            return (self.pick(["system:node:n1", "someone"]), [s["name"], "system:authenticated"])
        return self.sa_user(s.get("namespace", "default"), s["name"])

    def token_reviews(self):
        ns = self.ns(0.08)
        sa = self.session_sa_name() if self.chance(0.75) else self.non_session_sa()
        pools = [self.api_audiences, self.token_audiences, [r["audience"] for r in self.audience_rows],
                 ["vault", "https://vault.example.com", "sts.amazonaws.com", "", "api",
                  "https://kubernetes.default.svc/", "KUBERNETES.DEFAULT.SVC"]]
        auds = []
        for _ in range(self.rng.choices([0, 1, 2, 3], [1, 6, 2, 1])[0]):
            pool = self.rng.choices(pools, [5, 2, 3, 3])[0] or pools[0]
            auds.append(self.pick(pool))
        if auds and self.chance(0.03):  # the API server does not validate audiences: a NUL arrives
            auds[-1] += "\u0000" + self.token(2)
        spec = {"audiences": auds}
        if self.chance(0.8):
            spec["expirationSeconds"] = self.pick([600, 3600, 3607])
        ref = self.rng.random()
        if ref < 0.5:
            spec["boundObjectRef"] = {"kind": "Pod", "apiVersion": "v1", "name": "pod-" + self.token(4),
                                      "uid": "b0b0b0b0-" + self.token(4)}
        elif ref < 0.65:
            spec["boundObjectRef"] = {"kind": "Secret", "apiVersion": "v1", "name": "s"}
        elif ref < 0.7:
            spec["boundObjectRef"] = {"kind": "pod", "apiVersion": "v1", "name": "p"}
        u = self.rng.random()
        if u < 0.35:
            user = self.user(ns, "node")
        elif u < 0.55:
            user = self.sa_user(ns, sa)
        elif u < 0.7 and self.audience_rows:
            user = self.table_requester(self.pick(self.audience_rows))
        else:
            user = self.user(ns)
        obj = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "metadata": {"name": sa, "namespace": ns}, "spec": spec, "status": {"token": ""}}
        if self.chance(0.2):
            obj["metadata"] = {"creationTimestamp": None}
        return self.review("authentication.k8s.io", "v1", "TokenRequest", "serviceaccounts",
                           "CREATE", ns, sa, obj, None, user, "token")

    # ---- bindings ------------------------------------------------------------------------------

    def subject(self, ns, cluster):
        o = self.other_ns(ns)
        sess = self.session_sa_name()
        forms = [
            lambda: {"kind": "ServiceAccount", "name": sess, "namespace": ns or self.pick(self.namespaces)},
            lambda: {"kind": "ServiceAccount", "name": sess},
            lambda: {"kind": "ServiceAccount", "name": sess, "namespace": o},
            lambda: {"kind": "ServiceAccount", "name": self.non_session_sa(), "namespace": ns or o},
            lambda: {"kind": "User", "name": "system:serviceaccount:%s:%s" % (ns or o, sess)},
            lambda: {"kind": "User", "name": "system:serviceaccount:%s:%s" % (o, sess)},
            lambda: {"kind": "User", "name": self.pick(["system:serviceaccount:" + o,
                                                        "system:serviceaccount::" + sess,
                                                        "system:serviceaccount:%s:%s:x" % (o, sess)])},
            lambda: {"kind": "Group", "name": "system:serviceaccounts"},
            lambda: {"kind": "Group", "name": "system:serviceaccounts:" + (ns or o)},
            lambda: {"kind": "Group", "name": "system:serviceaccounts:" + o},
            lambda: {"kind": "Group", "name": self.pick(["system:serviceaccounts:", "system:serviceaccount"])},
            lambda: {"kind": "Group", "name": "system:authenticated"},
            lambda: {"kind": "Group", "name": "system:unauthenticated"},
            lambda: {"kind": "User", "name": "system:anonymous"},
            lambda: {"kind": "User", "name": self.pick(["alice@example.com", "system:node:n1", "dev"])},
            lambda: {"kind": "Group", "name": self.pick(["devs", "system:nodes", "system:masters"])},
        ]
        for row in self.audience_rows:
            for s in row.get("subjects") or []:
                forms.append(lambda s=s: {k: v for k, v in s.items()})
        s = self.pick(forms)()
        if s["kind"] in ("User", "Group"):
            s["apiGroup"] = RBAC
        elif self.chance(0.3):
            s["apiGroup"] = ""
        return s

    def role_ref(self, ns):
        refs = []
        for row in self.allowed_roles:
            refs += [(row["kind"], row["name"])] * 3
            refs.append(("Role" if row["kind"] == "ClusterRole" else "ClusterRole", row["name"]))
        for e in self.everyone_roles:
            if "/" in e:
                refs.append(("Role", e.split("/", 1)[1]))
            else:
                refs.append(("ClusterRole", e))
        for row in self.audience_rows:
            for r in row.get("roles") or []:
                refs += [("ClusterRole", r), ("Role", r)]
        refs += [("ClusterRole", n) for n in ["cluster-admin", "edit", "view", "admin"]]
        refs += [("Role", "tenant-" + self.token(3)), ("ClusterRole", "custom-" + self.token(3))]
        kind, name = self.pick(refs)
        return {"apiGroup": RBAC, "kind": kind, "name": name}

    def binding_ns(self):
        for e in self.everyone_roles:
            if "/" in e and self.chance(0.04):
                return e.split("/", 1)[0]
        return self.ns(0.15)

    def binding(self, cluster):
        ns = "" if cluster else self.binding_ns()
        meta = {"name": "binding-" + self.token(5)}
        if ns:
            meta["namespace"] = ns
        if self.chance(0.2):
            meta["labels"] = dict(self.object_labels or BOOTSTRAP_LABEL)
        subjects = [self.subject(ns, cluster) for _ in range(self.rng.choices([0, 1, 2, 3], [1, 8, 3, 1])[0])]
        ref = self.role_ref(ns)
        roles = [e.split("/", 1) for e in self.everyone_roles if "/" in e]
        if not cluster and roles and self.chance(0.15):
            # a Role everyoneRoles names as <ns>/<name>: in its namespace it grants nothing new,
            # in any other it is some Role of that name
            role_ns, name = self.pick(roles)
            ns = role_ns if self.chance(0.7) else ns
            meta["namespace"] = ns
            ref = {"apiGroup": RBAC, "kind": self.pick(["Role", "Role", "ClusterRole"]), "name": name}
            subjects = [self.subject(ns, cluster) for _ in range(self.rng.randint(1, 2))]
        obj = {"apiVersion": RBAC + "/v1", "kind": "ClusterRoleBinding" if cluster else "RoleBinding",
               "metadata": meta, "roleRef": ref}
        if subjects or self.chance(0.5):
            obj["subjects"] = subjects
        return obj, ns

    def binding_reviews(self):
        cluster = self.chance(0.35)
        obj, ns = self.binding(cluster)
        kind, res = ("ClusterRoleBinding", "clusterrolebindings") if cluster else ("RoleBinding", "rolebindings")
        name = obj["metadata"]["name"]
        user = self.rbac_writer(ns or "project-a", obj)
        r = self.rng.random()
        if r < 0.6:
            return self.review(RBAC, "v1", kind, res, "CREATE", ns, name, obj, None, user)
        if r < 0.95:
            old = copy.deepcopy(obj)
            subs = old.get("subjects") or []
            move = self.pick(["same", "narrower", "wider", "relabel", "other"])
            if move == "narrower" and subs:
                subs.pop(self.rng.randrange(len(subs)))  # the new object adds a subject
            elif move == "wider":
                old.setdefault("subjects", []).append(self.subject(ns, cluster))
            elif move == "relabel":
                old["metadata"].pop("labels", None)
                obj["metadata"].setdefault("labels", {})["touched"] = "yes"
            elif move == "other":
                old = self.binding(cluster)[0]
                old["metadata"] = copy.deepcopy(obj["metadata"])
            user = self.rbac_writer(ns or "project-a", obj, old)
            return self.review(RBAC, "v1", kind, res, "UPDATE", ns, name, obj, old, user)
        return self.review(RBAC, "v1", kind, res, "DELETE", ns, name, None, obj, user)

    # ---- roles ---------------------------------------------------------------------------------

    VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*",
             "impersonate", "impersonate:user-info", "impersonate:serviceaccount",
             "impersonate:arbitrary-node", "impersonate:associated-node", "impersonate:bogus",
             "impersonate-on:user-info:get", "escalate", "bind", "approve", "sign",
             "request-serviceaccounts-token-audience", "GET", "use"]
    GROUPS = ["", "*", RBAC, "authentication.k8s.io", "image.openshift.io", "build.openshift.io",
              "apps", "certificates.k8s.io", "admissionregistration.k8s.io", "project.openshift.io"]
    RESOURCES = ["pods", "pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "pods/*",
                 "*/exec", "*", "*/*", "secrets", "configmaps", "serviceaccounts",
                 "serviceaccounts/token", "users", "groups", "uids", "userextras/scopes",
                 "userextras/*", "*/scopes", "nodes", "nodes/proxy", "roles", "clusterroles",
                 "rolebindings", "imagestreams", "imagestreams/layers", "builds", "builds/details",
                 "namespaces", "namespaces/finalize", "persistentvolumes", "certificatesigningrequests",
                 "certificatesigningrequests/approval", "signers", "validatingwebhookconfigurations",
                 "mutatingadmissionpolicies", "pods/ephemeralcontainers", "deployments", "vault",
                 "api://AzureADTokenExchange", "https://vault.example.com"]

    def rule(self, kind_ns):
        """One PolicyRule, from templates that sit on the policy's lines and random mixes."""
        names = self.imp_names + ["*", "mallory", "node-1", "system:admin", "scopes-value"]
        auds = [r["audience"] for r in self.audience_rows] + ["vault", "*"]
        templates = [
            lambda: {"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]},
            lambda: {"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get"]},
            lambda: {"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"],
                     "verbs": ["get", "update"]},
            lambda: {"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams"], "verbs": ["create"]},
            lambda: {"apiGroups": ["", "build.openshift.io"], "resources": ["builds/details"], "verbs": ["update"]},
            lambda: {"apiGroups": ["", "build.openshift.io"], "resources": ["builds"], "verbs": ["get"]},
            lambda: dict({"apiGroups": [self.pick(["", "*"])],
                          "resources": self.some(["users", "groups", "serviceaccounts"], 1),
                          "verbs": ["impersonate"]},
                         **({"resourceNames": self.some(names, 1, 3)} if self.chance(0.7) else {})),
            lambda: dict({"apiGroups": ["authentication.k8s.io"],
                          "resources": self.some(["users", "groups", "uids", "userextras/scopes",
                                                  "userextras/*", "serviceaccounts", "nodes"], 1, 3),
                          "verbs": self.some(["impersonate", "impersonate:user-info",
                                              "impersonate:serviceaccount", "impersonate:arbitrary-node",
                                              "impersonate:associated-node"], 1, 2)},
                         **({"resourceNames": self.some(names, 1, 2)} if self.chance(0.6) else {})),
            lambda: dict({"apiGroups": [self.pick(["", "*"])], "resources": self.some(auds, 1, 2),
                          "verbs": ["request-serviceaccounts-token-audience"]},
                         **({"resourceNames": [self.session_sa_name()]} if self.chance(0.3) else {})),
            lambda: {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
            lambda: {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            lambda: {"apiGroups": [self.pick(["", "*"])], "resources": self.some(auds + ["pods", "nodes/proxy"], 1, 3),
                     "verbs": ["*"]},
            lambda: {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                     **({"resourceNames": ["one"]} if self.chance(0.5) else {})},
            lambda: {"apiGroups": [""], "resources": [self.pick(["pods/exec", "pods/attach", "*/exec",
                                                                 "pods/portforward", "nodes/proxy"])],
                     "verbs": [self.pick(["create", "get", "*"])]},
            lambda: {"apiGroups": [RBAC], "resources": [self.pick(["roles", "clusterroles", "*"])],
                     "verbs": [self.pick(["bind", "escalate"])]},
            lambda: {"apiGroups": [""], "resources": ["namespaces"], "verbs": [self.pick(["update", "patch", "get"])]},
            lambda: {"apiGroups": ["certificates.k8s.io"], "resources": [self.pick(["certificatesigningrequests/approval", "signers"])],
                     "verbs": [self.pick(["update", "approve", "sign"])]},
            lambda: {"apiGroups": ["admissionregistration.k8s.io"],
                     "resources": [self.pick(["validatingwebhookconfigurations", "validatingadmissionpolicies",
                                              "mutatingwebhookconfigurations"])],
                     "verbs": [self.pick(["update", "get", "create"])]},
            lambda: {"nonResourceURLs": self.some(["/healthz", "/api/*", "*", "/version"], 1, 2),
                     "verbs": [self.pick(["get", "*"])]},
            lambda: {"apiGroups": self.some(self.GROUPS, 1, 3), "resources": self.some(self.RESOURCES, 1, 4),
                     "verbs": self.some(self.VERBS, 1, 4),
                     **({"resourceNames": self.some(names, 1, 2)} if self.chance(0.25) else {})},
            lambda: {"apiGroups": ["", "apps"], "resources": ["pods", "deployments"], "verbs": ["GET", "list"]},
        ]
        weights = [6, 5, 2, 2, 2, 2, 6, 5, 4, 2, 1, 2, 2, 2, 1, 1, 1, 1, 2, 8, 1]
        for row in self.allowed_roles:
            for c in row.get("ceiling") or []:
                templates.append(lambda c=c: copy.deepcopy(c))
                weights.append(3)
        if self.chance(0.01):  # too many grants to judge one by one
            return {"apiGroups": self.GROUPS, "resources": self.RESOURCES,
                    "verbs": self.VERBS, "resourceNames": ["a", "b", "c", "d"]}
        return self.rng.choices(templates, weights)[0]()

    def role_name(self, cluster):
        names = [row["name"] for row in self.allowed_roles] * 3
        names += [e for e in self.everyone_roles if "/" not in e]
        for row in self.audience_rows:
            names += list(row.get("roles") or []) * 2
        names += ["edit", "view", "admin", "tenant-" + self.token(3), "project-a-impersonate",
                  "custom-" + self.token(3), "system:controller:foo"]
        return self.pick(names)

    def role(self, cluster):
        meta = {}
        ns = ""
        if cluster:
            name = self.role_name(True)
        else:
            everyone_roles = [e.split("/", 1) for e in self.everyone_roles if "/" in e]
            if everyone_roles and self.chance(0.15):
                ns, name = self.pick(everyone_roles)
            else:
                ns, name = self.ns(0.15), self.role_name(False)
            meta["namespace"] = ns
        meta["name"] = name
        labels = {}
        if self.chance(0.2):
            labels.update(self.object_labels or BOOTSTRAP_LABEL)
        if cluster and self.chance(0.2):
            target = self.pick([row["name"] for row in self.allowed_roles] +
                               [e for e in self.everyone_roles if "/" not in e][:3] +
                               ["edit", "view", "admin"])
            labels[AGGREGATE_TO + target] = self.pick(["true", "true", "false"])
        if labels:
            meta["labels"] = labels
        obj = {"apiVersion": RBAC + "/v1", "kind": "ClusterRole" if cluster else "Role",
               "metadata": meta, "rules": [self.rule(ns) for _ in range(self.rng.choices([0, 1, 2, 3, 4], [1, 6, 4, 2, 1])[0])]}
        if cluster and self.chance(0.1):
            obj["aggregationRule"] = {"clusterRoleSelectors": [
                {"matchLabels": {AGGREGATE_TO + self.pick(["edit", "view", name]): "true"}}]}
            if self.chance(0.5):
                obj["rules"] = []  # as admin, edit and view are made: the controller fills them
        if not obj["rules"] and self.chance(0.5):
            obj["rules"] = None  # no rules: the API server sends the nil list as null (no omitempty)
        return obj, ns

    def role_reviews(self):
        cluster = self.chance(0.6)
        obj, ns = self.role(cluster)
        kind, res = ("ClusterRole", "clusterroles") if cluster else ("Role", "roles")
        name = obj["metadata"]["name"]
        user = self.rbac_writer(ns or "project-a", obj)
        r = self.rng.random()
        if r < 0.55:
            return self.review(RBAC, "v1", kind, res, "CREATE", ns, name, obj, None, user)
        if r < 0.97:
            old = copy.deepcopy(obj)
            rules = old["rules"] = old["rules"] or []
            move = self.pick(["same", "narrower", "wider", "reorder", "relabel", "aggregation", "other"])
            if move == "narrower" and rules:
                rules.pop(self.rng.randrange(len(rules)))  # the new object adds a rule
            elif move == "wider":
                rules.append(self.rule(ns))
            elif move == "reorder":
                self.rng.shuffle(rules)
            elif move == "relabel":
                if old["metadata"].get("labels") and self.chance(0.5):
                    old["metadata"].pop("labels")
                else:
                    old["metadata"]["labels"] = dict(self.object_labels or BOOTSTRAP_LABEL)
            elif move == "aggregation":
                if "aggregationRule" in old:
                    old.pop("aggregationRule")
                else:
                    old["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}
            elif move == "other":
                old = self.role(cluster)[0]
                old["metadata"] = copy.deepcopy(obj["metadata"])
            if not old["rules"]:
                old["rules"] = None  # read back from etcd, an empty list is nil
            user = self.rbac_writer(ns or "project-a", obj, old)
            if self.chance(0.2):
                user = self.user(ns or "project-a", "controller-manager")
            return self.review(RBAC, "v1", kind, res, "UPDATE", ns, name, obj, old, user)
        return self.review(RBAC, "v1", kind, res, "DELETE", ns, name, None, obj, user)

    # ---- kinds nothing judges -------------------------------------------------------------------

    def other_reviews(self):
        ns = self.ns()
        kind, res, obj = self.pick([
            ("ConfigMap", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                         "metadata": {"name": "cm", "namespace": ns,
                                                      "labels": {self.label: self.session_id()}},
                                         "data": {"GITHUB_TOKEN": "x"}}),
            ("ServiceAccount", "serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                   "metadata": {"name": self.session_sa_name(), "namespace": ns}}),
        ])
        return self.review("", "v1", kind, res, "CREATE", ns, obj["metadata"]["name"], obj, None, self.user(ns))

    def generate(self, count):
        makers = [self.pod_reviews, self.token_reviews, self.binding_reviews, self.role_reviews,
                  self.other_reviews]
        weights = [34, 14, 24, 26, 2]
        return [self.rng.choices(makers, weights)[0]() for _ in range(count)]


def generate(policy, pem, count=DEFAULT_COUNT, seed=DEFAULT_SEED):
    """count AdmissionReviews for the policy (a merged mapping, load_policy) and key PEM."""
    return Corpus(policy, pem, seed).generate(count)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT)
    ap.add_argument("--policy", help="the policy file (default: examples/policy.yaml)")
    ap.add_argument("--public-key", default=EXAMPLE_KEY, help="the key PEM session pods should carry")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args()
    with open(args.public_key) as f:
        pem = f.read()
    reviews = generate(load_policy(args.policy), pem, args.count, args.seed)
    text = json.dumps(reviews, indent=None, separators=(",", ":")) + "\n"
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
