/* sa_generate.h: the policy compiled to admission policies the API server evaluates itself.
 *
 * `session-admission generate` writes the policy's rules as ValidatingAdmissionPolicies (CEL,
 * admissionregistration.k8s.io/v1, Kubernetes 1.30+) that decide as the C core decides: the same
 * scope and exemptions (matchConstraints and matchConditions), the same violations with the
 * same rule ids and messages, an UPDATE judged on what it adds (the violations' keys, as
 * sa_verdict.h keys them, computed for oldObject too), and the session pod mutation as a
 * MutatingAdmissionPolicy (Kubernetes 1.33+). The public key a session pod must carry
 * comes from a parameter ConfigMap, also written, so rotating the key is one object update.
 * A rule, or the part of one, that CEL cannot decide exactly is left to the webhook: said once
 * in err (one line each) and in a "# webhook-only:" comment of the output. Pure: policy in,
 * text out. */
#ifndef SA_GENERATE_H
#define SA_GENERATE_H

#include "sa_buf.h"
#include "sa_policy.h"
#include "sa_pubkey.h"

/* The Kubernetes minor versions generate knows (1.MIN .. 1.MAX); MAX is the default. */
#define SA_GENERATE_KUBE_MIN 30
#define SA_GENERATE_KUBE_MAX 36

/* The first Kubernetes minor version the mutation is generated for (see generate_mutate.c). */
#define SA_GENERATE_MUTATING_MIN 33

enum {
    SA_GENERATE_BOTH,
    SA_GENERATE_VALIDATING,
    SA_GENERATE_MUTATING
};

typedef struct sa_generate_options {
    int kube_minor;         /* SA_GENERATE_KUBE_MIN .. _MAX */
    int warn_only;          /* every binding [Warn, Audit]: to run next to the webhook */
    const char *namespace_; /* where the parameter ConfigMap lives */
    int only;               /* SA_GENERATE_BOTH, _VALIDATING or _MUTATING */
} sa_generate_options;

/* Appends the YAML stream to out. Returns 0; or -1 with the reason in err (a glob CEL cannot
 * say, out of memory), out then unusable. The webhook-only lines go to notes either way. */
int sa_generate(const sa_policy *p, const sa_pubkey *key, const sa_generate_options *o, sa_buf *out,
                sa_buf *notes, sa_buf *err);

/* Reads "1.33" (or "v1.33", "1.33.3") into *minor. Returns 0, or -1 with the reason in err. */
int sa_generate_kube_version(const char *text, int *minor, sa_buf *err);

#endif
