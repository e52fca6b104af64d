/* sa_suite.h: test suites for a policy, behind `session-admission test` (like `kyverno test` or
 * `gator verify`): cases naming an object or a review, each judged through sa_scan, checked
 * against its expectations. The format is documented in examples/tests/suite.yaml:
 *
 *   apiVersion: session-admission/v1alpha1
 *   kind: TestSuite
 *   policy: ../policy.yaml            # relative to the suite; default: the built-in policy
 *   publicKey: ../example-public.pem  # default: as `scan` chooses (sa_load.h)
 *   cases:
 *     - name: the session pod runs as its session SA
 *       object: pods/session.yaml     # a file holding one object, or the object inline;
 *       review: reviews/x.json        #   or an AdmissionReview file instead
 *       oldObject: ...                # UPDATE: the object before (file or inline)
 *       operation: CREATE             # CREATE (default), UPDATE, DELETE
 *       user: alice                   # and groups: [...]
 *       expect:
 *         allowed: true               # or verdict: allowed|patched|warned|denied|not-judged
 *         rules: [session-pod]        # exactly these rules fired ([] for none)
 *         message: "substring"        # of the denial (or of the warnings)
 *         warning: "substring"        # of one warning
 *         patched: true
 *         fields: {spec.serviceAccountName: session-abc-sa}  # of the mutated object
 *
 * Files are read here (the suite and what its cases name); the judging is sa_scan's. */
#ifndef SA_SUITE_H
#define SA_SUITE_H

#include "sa_buf.h"

typedef struct sa_suite_totals {
    unsigned passed, failed;
} sa_suite_totals;

/* Runs the suite file at path, or every suite (*.yaml or *.yml of kind TestSuite) in the
 * directory at path, in name order. policy and key, when not NULL, override what each suite
 * names. Appends "PASS SUITE: NAME" or "FAIL SUITE: NAME: reason" per case to out, notes about
 * keys to notes, and counts into t. Returns 0, or -1 with one line in err when a suite itself is
 * unusable (cannot be read, is not a TestSuite, names a broken policy). */
int sa_suite_run(const char *path, const char *policy, const char *key, sa_buf *out, sa_buf *notes,
                 sa_suite_totals *t, char *err, size_t errlen);

#endif
