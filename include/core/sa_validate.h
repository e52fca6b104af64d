/* sa_validate.h: the validators behind POST /validate, one handler per kind of object (what
 * admit.c dispatches to). The helpers the validators share are private to them
 * (src/core/validate_internal.h).
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

#include "sa_handler.h"
#include "sa_policy.h"

/* RoleBinding and ClusterRoleBinding: rbac-session-binding, rbac-cross-namespace and the
 * binding half of rbac-token-audience (validate_binding.c). */
sa_handler_fn sa_validate_binding;
/* Whether the review's binding (its object) grants its role to a session identity: judged
 * even in an exempt namespace, since RBAC grants a RoleBinding's role in its namespace to
 * subjects of any namespace. */
int sa_validate_binding_grants_session(const sa_policy *p, const sa_review *r);
/* Role and ClusterRole, on what their rules grant (sa_rbac.h): rbac-impersonation, the rule half
 * of rbac-token-audience, and the guards on the roles the tables trust (validate_role.c). */
sa_handler_fn sa_validate_role;
/* Whether the review's Role or ClusterRole is guarded: in bindings.allowedRoles or
 * bindings.everyoneRoles, or named by the audiences table (what sessions, every identity or nodes
 * hold), so that no write into it, not even the aggregation controller's, is exempt. */
int sa_validate_role_guarded(const sa_policy *p, const sa_review *r);
/* TokenRequest on serviceaccounts/token: session-token-audience (validate_token.c). */
sa_handler_fn sa_validate_token_request;
/* Pod: session-pod, and session-token-audience for projected token volumes (validate_pod.c). */
sa_handler_fn sa_validate_pod;

#endif
