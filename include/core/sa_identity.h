/* sa_identity.h: a binding subject read as the identity RBAC matches it against, and whether
 * that identity is a session's by the policy.
 *
 * RBAC does not match subjects by their kind alone: a User subject named
 * system:serviceaccount:<ns>:<name> binds that ServiceAccount, the group
 * system:serviceaccounts:<ns> every ServiceAccount of the namespace, and system:serviceaccounts
 * or system:authenticated every one of the cluster. A session can also drop its token and be
 * anonymous: system:unauthenticated and the user system:anonymous are every session too. The
 * binding validator judges the identity, not the spelling, so a session's grant cannot slip
 * past it written another way. */
#ifndef SA_IDENTITY_H
#define SA_IDENTITY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sa_policy.h"

typedef struct sa_identity {
    const char *kind;    /* "ServiceAccount" for both forms below, else the subject's kind */
    int service_account; /* a ServiceAccount subject, or a User subject named
                             * system:serviceaccount:<ns>:<name> (RBAC matches it the same) */
    int all_namespaces;  /* a subject every session is (groups system:serviceaccounts,
                             * system:authenticated, system:unauthenticated, user
                             * system:anonymous) */
    const char *ns;      /* the namespace it lives in (not NUL-terminated), when known */
    size_t ns_len;
    const char *name; /* the ServiceAccount's name, or the subject's name otherwise */
} sa_identity;

/* Reads subject (one element of a binding's subjects) into id, whose strings point into subject
 * (or are default_ns). default_ns fills a ServiceAccount subject's missing namespace (a
 * RoleBinding's own). Returns 1 when the subject is a session identity by the policy: a session
 * ServiceAccount, the group system:serviceaccounts:<ns> of a namespace in namespaceGroups, or a
 * subject every session is (all_namespaces), whatever namespaceGroups says; 0 otherwise, also
 * for a malformed subject. */
int sa_identity_from_subject(const sa_policy *p, const cJSON *subject, const char *default_ns,
                             sa_identity *id);

#endif
