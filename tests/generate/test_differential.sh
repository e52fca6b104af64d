# test_differential.sh: the ctest wrapper of the differential test of `session-admission generate`
# (registered as generate.differential). The ValidatingAdmissionPolicies
# `generate` writes must decide exactly as the C core does: this first checks the VAP evaluator
# itself (vap_eval_selftest.py), then runs differential.py with the built binary on three
# policies, over the seeded corpus and every AdmissionReview the test suites hold. A binary
# without the generate command fails the test: it is what is being tested.
set -euo pipefail

SA_BIN=${SA_BIN:?SA_BIN must name the session-admission binary}
SA_SRC=${SA_SRC:?SA_SRC must name the repository root}
HERE="$SA_SRC/tests/generate"
PY=/usr/bin/python3
FAILS=0
PASSES=0

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }

if "$PY" "$HERE/vap_eval_selftest.py"; then
  pass "vap_eval.mjs decides as the Kubernetes sources say"
else
  fail "vap_eval.mjs self-test"
fi

if ! "$SA_BIN" generate --help >/dev/null 2>&1; then
  fail "$SA_BIN has no generate command (\`$SA_BIN generate --help\` fails): nothing to test"
else
  for policy in examples/policy.yaml tests/validate/policy-nodes.yaml tests/validate/policy-env-globs.yaml; do
    echo "# differential: $policy"
    if "$PY" "$HERE/differential.py" --binary "$SA_BIN" --policy "$SA_SRC/$policy" \
        --extra "$SA_SRC/tests/validate/cases" "$SA_SRC/tests/mutate" "$SA_SRC/tests/fixtures" \
                "$SA_SRC/examples/tests/reviews"; then
      pass "generate decides as the core for $policy"
    else
      fail "generate disagrees with the core for $policy (above)"
    fi
  done
fi

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
