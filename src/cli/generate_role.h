/* generate_role.h: what the CEL of the Role and ClusterRole rules shares between generate_role.c
 * (the records, audiences, grants, ceilings) and generate_impersonation.c (rbac-impersonation):
 * a rule's lists as CEL, the bounds validate_role.c keeps, and the expansion of a template with
 * them. Private to src/cli/generate_*.c. */
#ifndef GENERATE_ROLE_H
#define GENERATE_ROLE_H

#include "generate_internal.h"
#include "sa_rbac.h"

/* As validate_role.c: a rule writing more grants than this is refused as too large to judge. */
#define GRANTS_MAX "4096"
#define COMPARISONS_MAX "1048576"
#define URL_STARS_MAX 8
#define AGGREGATE_TO "rbac.authorization.k8s.io/aggregate-to-"

/* A rule r's lists. */
#define V "r.?verbs.orValue([])"
#define G "r.?apiGroups.orValue([])"
#define RS "r.?resources.orValue([])"
#define NM "r.?resourceNames.orValue([])"
#define U "r.?nonResourceURLs.orValue([])"
#define NAMES "(size(" NM ") == 0 ? [\"\"] : " NM ")"
#define ISROLE "(request.kind.kind == \"Role\")"
#define STAR "(" V ".exists(v, v == \"*\") ? \" (verbs \\\"*\\\")\" : \"\")"
/* Too many grants to judge one by one (sa_rbac_each_grant): the product of the lists past
 * GRANTS_MAX, each list bounded first so that the product cannot overflow. */
#define TOO_MANY                                                                                  \
    "(size(" V ") > " GRANTS_MAX " || size(" G ") > " GRANTS_MAX " || size(" RS ") > " GRANTS_MAX \
    " || size(" NM ") > " GRANTS_MAX " || size(" U ") > " GRANTS_MAX " || size(" V ") * size(" G  \
    ") * size(" RS ") * size(" NAMES ") > " GRANTS_MAX " || size(" V ") * size(" U                \
    ") > " GRANTS_MAX " - size(" V ") * size(" G ") * size(" RS ") * size(" NAMES "))"

/* The record (KEY\tMESSAGE) of a violation whose key no old object excuses: "" (see
 * validation() in generate.c, which never excuses an empty key), as SA_KEY_NONE. */
#define NONE_KEY "\"\\t\""

typedef struct role_cel {
    gen *g;
    const char *root;
    int update; /* root is the object: an UPDATE compares with oldObject */
    sa_buf upd, what, where, imp_any;
} role_cel;

/* Expands tmpl into out with the rule's variables (${V}, ${WHAT}, ...) and, when extra_name is
 * not NULL, ${extra_name} as extra. */
void gen_role_expand(role_cel *rc, sa_buf *out, const char *tmpl, const char *extra_name,
                     const char *extra);
/* Whether the rule r allows the request q (its name SA_RBAC_ANY: some name; its verb NULL: the
 * caller asks the verbs), as RuleAllows decides it. */
void gen_role_allows(sa_buf *out, const sa_rbac_request *q);
/* Whether the rule r grants impersonation of kind k (sa_rbac_impersonation). */
void gen_role_grants_kind(sa_buf *out, unsigned k);
/* The records of rbac-impersonation for the rule r (the clauses of sa_rbac_imp_check). */
void gen_role_impersonation(role_cel *rc, sa_buf *out);

#endif
