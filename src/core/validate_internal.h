/* validate_internal.h: the helpers the validators (validate_*.c) share, defined in
 * validate_common.c. Private to the validators: the rest of the project reaches them only
 * through the handlers in sa_validate.h, so they are no one else's interface. */
#ifndef SA_VALIDATE_INTERNAL_H
#define SA_VALIDATE_INTERNAL_H

#include <stddef.h>

#include "sa_validate.h"

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

/* Whether bindings.everyoneRoles lists the role, which every identity holds already: a
 * ClusterRole by its name, a Role as "<namespace>/<name>" (RBAC names are path segments, which
 * cannot hold '/': staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go, used for
 * roles by ValidateRBACName in pkg/apis/rbac/validation/validation.go). ns is the Role's. */
int sa_validate_everyone_role(const sa_policy *p, const char *kind, const char *ns,
                              const char *name);

#endif
