/* sa_validate.h: the validators behind POST /validate, one handler per kind of object, and the
 * few helpers they share.
 *
 * Each handler judges the request's new object and records every violation it finds, in the
 * rule's mode, through sa_verdict, with a key naming what the violation is about: for an UPDATE,
 * admit.c runs the handler on the oldObject first and drops the violations whose keys it already
 * had. (The Role handler also compares an allowed role's new rules with its oldObject's.)
 * Exemptions (labels, users, groups, namespaces) and DELETE/CONNECT are settled in admit.c
 * before any handler runs, so handlers only ever see requests to judge. Handlers read the
 * object defensively: a field of the wrong type is skipped, never trusted, never a crash. */
#ifndef SA_VALIDATE_H
#define SA_VALIDATE_H

#include <stddef.h>

#include "sa_admit.h"
#include "sa_policy.h"

/* RoleBinding and ClusterRoleBinding: rbac-session-binding, rbac-cross-namespace and the
 * binding half of rbac-token-audience (validate_binding.c). */
sa_admit_handler_fn sa_validate_binding;
/* Whether the review's binding (its object) grants its role to a session identity: judged
 * even in an exempt namespace, since RBAC grants a RoleBinding's role in its namespace to
 * subjects of any namespace. */
int sa_validate_binding_grants_session(const sa_policy *p, const sa_review *r);
/* Role and ClusterRole, on what their rules grant (sa_rbac.h): rbac-impersonation, the rule half
 * of rbac-token-audience, and the guards on the roles the tables trust (validate_role.c). */
sa_admit_handler_fn sa_validate_role;
/* TokenRequest on serviceaccounts/token: session-token-audience (validate_token.c). */
sa_admit_handler_fn sa_validate_token_request;
/* Pod: session-pod, and session-token-audience for projected token volumes (validate_pod.c). */
sa_admit_handler_fn sa_validate_pod;

/* ---- shared helpers (validate_common.c) ---------------------------------------------------- */

/* The first element of a JSON array, or NULL when arr is absent or not an array: lets every
 * walk over a request's lists skip wrong types without a separate check. */
const cJSON *sa_validate_items(const cJSON *arr);

/* "Kind namespace/name" or, for a cluster-scoped object, "Kind name", for messages. The name
 * is the object's metadata.name, else request.name, else metadata.generateName followed by
 * "*". Cut to fit cap. */
void sa_validate_describe(const sa_review *r, char *out, size_t cap);

/* Records a session-token-audience violation when a session ServiceAccount asks for audience
 * aud, which neither sessions.tokenAudiences nor sessions.apiAudiences (the API server's own
 * audiences) lists. what names the object, field the place of the audience (e.g.
 * "spec.audiences[0]"). An empty audience is the API server's own too: allowed. */
void sa_validate_session_audience(const sa_policy *p, sa_verdict *v, const char *what,
                                  const char *field, const char *aud);

/* ---- exposed for unit tests ------------------------------------------------------------------ */

/* A binding subject, read as the identity RBAC will match it against. */
typedef struct sa_identity {
    const char *kind;       /* "ServiceAccount" for both forms below, else the subject's kind */
    int service_account;    /* a ServiceAccount subject, or a User subject named
                             * system:serviceaccount:<ns>:<name> (RBAC matches it the same) */
    int all_namespaces;     /* group system:serviceaccounts or system:authenticated: every
                             * ServiceAccount of the cluster */
    const char *ns;         /* the namespace it lives in (not NUL-terminated), when known */
    size_t ns_len;
    const char *name;       /* the ServiceAccount's name, or the subject's name otherwise */
} sa_identity;

/* Reads subject (one element of a binding's subjects) into id. default_ns fills a
 * ServiceAccount subject's missing namespace (a RoleBinding's own). Returns 1 when the subject
 * is a session identity by the policy: a session ServiceAccount, the group
 * system:serviceaccounts:<ns> of a namespace in namespaceGroups, or system:serviceaccounts (or
 * system:authenticated, which holds every ServiceAccount too)
 * itself while namespaceGroups is not empty; 0 otherwise, also for a malformed subject. */
int sa_validate_session_identity(const sa_policy *p, const cJSON *subject, const char *default_ns,
                                 sa_identity *id);

#endif
