"""check.py: judges the responses of the validation fixtures against tests/validate/expected.json.

Usage: check.py EXPECTED_JSON CASES_DIR OUT_DIR
OUT_DIR holds NAME.json, the response AdmissionReview for cases/NAME.json. Prints one
"ok - ..." or "not ok - ..." line per assertion (test_validate.sh counts them).

Each row of expected.json says:
  policy      the policy file (beside expected.json) the case runs under
  allowed     the expected response.allowed
  object      how every message must name the object ("RoleBinding ns/name", "ClusterRole name")
  violations  the enforce-mode messages, in order: [rule id, substring, ...]; the denial message is
              exactly these, "; "-joined, each "RULE: OBJECT: ..." holding every substring
  warnings    the warn-mode warnings, in order, same shape; each at most 120 characters
  audit       rule id -> the audit annotation's messages, "; "-joined: [[substring, ...], ...]
A field left out means none of it: no status, no warnings, no auditAnnotations.
"""
import json
import os
import sys

WARNING_MAX = 120


def main():
    expected_path, cases_dir, out_dir = sys.argv[1:4]
    with open(expected_path) as f:
        expected = json.load(f)
    results = []

    def check(desc, cond, detail=""):
        results.append((bool(cond), desc + ("" if cond or not detail else ": " + detail)))

    fixtures = {n[:-5] for n in os.listdir(cases_dir) if n.endswith(".json")}
    check("every fixture has an expectation", fixtures <= set(expected), str(sorted(fixtures - set(expected))))
    check("every expectation has a fixture", set(expected) <= fixtures, str(sorted(set(expected) - fixtures)))

    for name in sorted(fixtures & set(expected)):
        want = expected[name]
        with open(os.path.join(cases_dir, name + ".json")) as f:
            request = json.load(f)
        try:
            with open(os.path.join(out_dir, name + ".json")) as f:
                got = json.load(f)
        except (OSError, ValueError) as e:
            check(name + ": response is an AdmissionReview", False, str(e))
            continue
        resp = got.get("response", {})
        check(name + ": answered in the request's apiVersion",
              got.get("apiVersion") == request["apiVersion"] and got.get("kind") == "AdmissionReview")
        check(name + ": response.uid = request.uid", resp.get("uid") == request["request"]["uid"])
        check(name + ": allowed is %s" % want["allowed"], resp.get("allowed") is want["allowed"],
              json.dumps(resp)[:400])
        check(name + ": a validating webhook never patches", "patch" not in resp and "patchType" not in resp)
        obj = want.get("object", "")

        violations = want.get("violations", [])
        if violations:
            status = resp.get("status", {})
            check(name + ": status code 403", status.get("code") == 403, str(status.get("code")))
            check_messages(check, name + ": denial", status.get("message", "").split("; "), violations, obj,
                           with_rule=True)
        else:
            check(name + ": no status", "status" not in resp, json.dumps(resp.get("status"))[:400])

        warnings = want.get("warnings", [])
        if warnings:
            got_w = resp.get("warnings", [])
            for w in got_w:
                check(name + ": warning within %d characters" % WARNING_MAX, len(w) <= WARNING_MAX, w)
            check_messages(check, name + ": warnings", got_w, warnings, obj, with_rule=True, cut=True)
        else:
            check(name + ": no warnings", "warnings" not in resp, str(resp.get("warnings")))

        audit = want.get("audit", {})
        got_a = resp.get("auditAnnotations", {})
        check(name + ": audit annotations for exactly %s" % sorted(audit), sorted(got_a) == sorted(audit),
              str(sorted(got_a)))
        for rule, msgs in audit.items():
            check_messages(check, name + ": audit " + rule, got_a.get(rule, "").split("; "),
                           [[rule] + m for m in msgs], obj, with_rule=False)

    for ok, desc in results:
        print(("ok - " if ok else "not ok - ") + desc)
    return 0 if all(ok for ok, _ in results) else 1


def check_messages(check, desc, got, want, obj, with_rule, cut=False):
    """got: the messages; want: [rule, substring, ...] each. A warning (cut) may end in "..." where
    the API server's limit cut it: substrings are looked for in what is left."""
    check(desc + ": %d messages" % len(want), len(got) == len(want), json.dumps(got)[:600])
    for i, (msg, w) in enumerate(zip(got, want)):
        rule, subs = w[0], w[1:]
        head = (rule + ": " if with_rule else "") + (obj + ": " if obj else "")
        if cut and msg.endswith("...") and len(msg) == WARNING_MAX:
            head = head[:len(msg) - 3]
        check("%s[%d] names rule and object (%s)" % (desc, i, head.strip()), msg.startswith(head), msg)
        for s in subs:
            check("%s[%d] names %s" % (desc, i, s), s in msg, msg)


if __name__ == "__main__":
    sys.exit(main())
