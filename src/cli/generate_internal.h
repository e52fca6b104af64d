/* generate_internal.h: what the parts of generate (generate.c and the generate_*.c builders of
 * each object family's CEL) share. Private to them.
 *
 * Each family builder writes one CEL string expression for a root ("object" or "oldObject"):
 * the violations of one rule, one per line, each "KEY\tMESSAGE". KEY is what sa_verdict.h keys
 * the violation by (its parts joined by \x1f), MESSAGE the webhook's message without the rule
 * id. Strings, joined and split, because CEL in these Kubernetes versions has no flatten: a
 * violation found inside two nested lists (a container's env) can only be carried out as text.
 * The names in keys and messages are ones the API server validates (no newline nor tab); a
 * value that holds one only splits into lines that are themselves violations. */
#ifndef SA_GENERATE_INTERNAL_H
#define SA_GENERATE_INTERNAL_H

#include <cjson/cJSON.h>

#include "sa_cel.h"
#include "sa_generate.h"

typedef struct gen {
    const sa_policy *p;
    const sa_generate_options *o;
    sa_buf *err; /* the first reason generation failed */
    int failed;
} gen;

/* A CEL key part separator, as a CEL string literal: \x1f, which no Kubernetes name holds. */
#define GEN_SEP "\"\\x1f\""

/* sa_cel_in_set / sa_cel_prefix_in_set, a failure remembered in g. */
void gen_in_set(gen *g, sa_buf *out, const sa_nameset *s, const char *expr);
void gen_prefix_in_set(gen *g, sa_buf *out, const sa_nameset *s, const char *expr);
/* bindings.allowedRoles' keys ("Kind/name"), sorted so that the output is the same every run (the
 * map's order is its hash seed's): an array the caller frees, borrowing the policy's strings;
 * NULL (with g failed) out of memory. */
const char **gen_allowed_roles(gen *g, size_t *n);
/* A string literal. */
void gen_str(sa_buf *out, const char *s);

/* The CEL is written as templates: ${NAME} is replaced by the value of that name in vars (a
 * list ended by {NULL, NULL}); a name vars lacks is a bug, and fails g. */
typedef struct gen_var {
    const char *name, *value;
} gen_var;
void gen_expand(gen *g, sa_buf *out, const char *tmpl, const gen_var *vars);

/* The request's fields, as CEL that reads "" when one is unset. */
#define GEN_NS "request.?namespace.orValue(\"\")"
#define GEN_NAME "request.?name.orValue(\"\")"
#define GEN_USER "request.userInfo.?username.orValue(\"\")"
#define GEN_GROUPS "request.userInfo.?groups.orValue([])"

/* The family builders: one rule's violations of root as a CEL string (see the top). */
void gen_pod_records(gen *g, sa_rule rule, const char *root, sa_buf *out);
void gen_binding_records(gen *g, sa_rule rule, const char *root, sa_buf *out);
void gen_role_records(gen *g, sa_rule rule, const char *root, sa_buf *out);
/* The tables the role records read (generate_tables.c), as CEL literals: whether the string a is a
 * core group resource (sa_rbac_core_resource); audience -> the roles its row names; allowedRoles
 * "Kind/name" -> the index of its ceiling in ceilings, or -1; every role the audiences name. */
void gen_core_resource(sa_buf *out);
void gen_audience_table(gen *g, sa_buf *out);
void gen_role_tables(gen *g, sa_buf *rows, sa_buf *ceilings);
void gen_audience_roles(gen *g, sa_buf *out);
/* The variables the role records read (roleName, trusted, ceilingIndex, audienceRole,
 * aggregator), each added to vars by add(vars, name, expression). */
void gen_role_variables(gen *g, cJSON *vars, void (*add)(cJSON *, const char *, const char *));
/* Whether the request's Role or ClusterRole is guarded (sa_validate_role_guarded), as CEL that
 * reads no variables (for a matchCondition). */
void gen_role_guarded(gen *g, sa_buf *out);
/* Whether the request's binding binds a session subject (sa_validate_binding_grants_session). */
void gen_binding_grants_session(gen *g, sa_buf *out);
/* A TokenRequest's violations, as a CEL list of messages (CREATE only: no keys needed). */
void gen_token_violations(gen *g, sa_buf *out);

/* The session ServiceAccount of root's pod: whether it carries the session label, the name the
 * template forms from its value, whether that is a valid name (sa_policy_session_sa), and the
 * ServiceAccount the pod names now. */
void gen_pod_session_sa(gen *g, const char *root, sa_buf *present, sa_buf *want, sa_buf *valid,
                        sa_buf *current);
/* The JSONPatch mutations of a session pod, appended to mutations (a cJSON array); want is the
 * CEL of the session ServiceAccount's name, written into them (kube-apiserver 1.33's alpha
 * MutatingAdmissionPolicy at times compiles mutations without the policy's variables: "undefined
 * field 'want'", and then refuses every pod), and they read params (the key ConfigMap). */
void gen_mutations(gen *g, const char *want, cJSON *mutations);

/* "Kind ns/name" of root as sa_validate_describe writes it, as a CEL string expression. */
void gen_describe(sa_buf *out, const char *kind_expr, const char *root);

#endif
