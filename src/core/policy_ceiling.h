/* policy_ceiling.h: the ceiling of a bindings.allowedRoles row, for policy.c only (the module's
 * public interface is sa_policy.h). */
#ifndef SA_POLICY_CEILING_H
#define SA_POLICY_CEILING_H

#include "sa_policy.h"
#include "sa_yaml.h"

/* Reads the ceiling of the row at `at` (n, at path: a list of PolicyRules) into row, or, when n
 * is NULL, the built-in ceiling of a well-known role (system:image-puller, system:image-builder),
 * if any. Records errors in e. */
void sa_policy_ceiling_load(sa_yaml_errors *e, const sa_yaml_node *at, const sa_yaml_node *n,
                            const char *path, sa_role_row *row);
/* Frees what sa_policy_ceiling_load put in row. */
void sa_policy_ceiling_free(sa_role_row *row);

#endif
