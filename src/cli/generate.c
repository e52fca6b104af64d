/* generate.c: the policy as ValidatingAdmissionPolicies (see sa_generate.h): the documents, the
 * scope and exemptions every policy shares, the UPDATE rule, and the TokenRequest rule. The CEL of
 * the pod and binding rules is built in generate_pod.c and generate_rbac.c.
 *
 * Layout: one policy per rule id and object family (pods, tokens, bindings), so a binding's
 * validationActions is the rule's mode, as the webhook's modes are per rule; its name is
 * session-admission-<rule>-<family>, and its annotation session-admission.ambient-code.io/rule
 * says the rule id. */
#include "sa_generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "generate_internal.h"
#include "sa_emit.h"
#include "sa_map.h"

#define GROUP "admissionregistration.k8s.io"
#define RULE_ANNOTATION "session-admission.ambient-code.io/rule"
#define PARAMS_NAME "session-admission-params"
#define MESSAGE_MAX 1200
/* kube-apiserver's loopback client's group (admit.c, cluster_own_rbac) */
#define LOOPBACK_GROUP "system:masters"

void gen_str(sa_buf *out, const char *s)
{
    sa_cel_string(out, s);
}

static void remember(gen *g, int rc)
{
    g->failed |= rc < 0;
}

void gen_in_set(gen *g, sa_buf *out, const sa_nameset *s, const char *expr)
{
    remember(g, sa_cel_in_set(out, s, expr, g->err));
}

void gen_prefix_in_set(gen *g, sa_buf *out, const sa_nameset *s, const char *expr)
{
    remember(g, sa_cel_prefix_in_set(out, s, expr, g->err));
}

void gen_expand(gen *g, sa_buf *out, const char *tmpl, const gen_var *vars)
{
    for (const char *s = tmpl; *s; s++) {
        const char *end = s[0] == '$' && s[1] == '{' ? strchr(s, '}') : NULL;
        if (!end) {
            sa_buf_putc(out, *s);
            continue;
        }
        const gen_var *v = vars;
        while (v->name && (strlen(v->name) != (size_t)(end - s - 2) ||
                           strncmp(v->name, s + 2, (size_t)(end - s - 2)) != 0))
            v++;
        if (!v->name) {
            sa_buf_printf(g->err, "generate: no value for ${%.*s}", (int)(end - s - 2), s + 2);
            g->failed = 1;
            return;
        }
        sa_buf_puts(out, v->value);
        s = end;
    }
}

typedef struct key_list {
    const char **keys;
    size_t n;
} key_list;

static int collect_key(const char *key, void *ctx)
{
    key_list *kl = ctx;
    kl->keys[kl->n++] = key;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **gen_allowed_roles(gen *g, size_t *n)
{
    const sa_map *m = g->p->bindings.allowed_roles;
    key_list kl = {calloc(sa_map_count(m) + 1, sizeof(char *)), 0};
    *n = 0;
    if (!kl.keys) {
        g->failed = 1;
        return NULL;
    }
    sa_map_any(m, collect_key, &kl);
    qsort(kl.keys, kl.n, sizeof *kl.keys, by_name);
    *n = kl.n;
    return kl.keys;
}

void gen_describe(sa_buf *out, const char *kind_expr, const char *root)
{
    sa_buf_printf(out,
                  "(%s + \" \" + (" GEN_NS " != \"\" ? " GEN_NS " + \"/\" : \"\") + "
                  "(%s.metadata.?name.orValue(\"\") != \"\" ? %s.metadata.name : " GEN_NAME
                  " != \"\" ? " GEN_NAME " : %s.metadata.?generateName.orValue(\"\") + \"*\"))",
                  kind_expr, root, root, root);
}

/* validate_token.c: a session ServiceAccount's token names only the allowed audiences; an
 * audience of the audiences table also in a Pod-bound token one of its row's subjects asks for. */
void gen_token_violations(gen *g, sa_buf *out)
{
    const sa_policy *p = g->p;
    sa_buf allowed = SA_BUF_INIT, table = SA_BUF_INIT, tok = SA_BUF_INIT, api = SA_BUF_INIT;
    gen_in_set(g, &tok, p->sessions.token_audiences, "a");
    gen_in_set(g, &api, p->sessions.api_audiences, "a");
    sa_buf_printf(&allowed, "(%s || %s)", sa_buf_str(&tok), sa_buf_str(&api));
    /* audience -> who may ask: "U\x1f<user>" (a ServiceAccount by its user name) or "G\x1f<group>" */
    sa_buf_putc(&table, '{');
    for (size_t i = 0; i < p->naudiences; i++) {
        const sa_audience_row *row = &p->audiences[i];
        sa_buf_puts(&table, i ? ", " : "");
        gen_str(&table, row->audience);
        sa_buf_puts(&table, ": [");
        for (size_t s = 0; s < row->nsubjects; s++) {
            const sa_subject *sj = &row->subjects[s];
            sa_buf one = SA_BUF_INIT;
            if (strcmp(sj->kind, "Group") == 0)
                sa_buf_printf(&one, "G\x1f%s", sj->name);
            else if (strcmp(sj->kind, "User") == 0)
                sa_buf_printf(&one, "U\x1f%s", sj->name);
            else
                sa_buf_printf(&one, "U\x1fsystem:serviceaccount:%s:%s", sj->namespace_, sj->name);
            sa_buf_puts(&table, s ? ", " : "");
            gen_str(&table, sa_buf_str(&one));
            sa_buf_free(&one);
        }
        sa_buf_putc(&table, ']');
    }
    sa_buf_putc(&table, '}');
    /* clang-format off */
    const gen_var vars[] = {
        {"ALLOWED", sa_buf_str(&allowed)}, {"TABLE", sa_buf_str(&table)}, {"USER", GEN_USER},
        {"GROUPS", GEN_GROUPS}, {"SEP", GEN_SEP},
        {"WHAT", "\"TokenRequest for ServiceAccount \" + " GEN_NS " + \"/\" + " GEN_NAME}, {NULL, NULL}};
    /* clang-format on */
    gen_expand(
        g, out,
        "object.?spec.?audiences.orValue([]).filter(a, type(a) == string && !${ALLOWED} && "
        "(a in ${TABLE} ? !(object.spec.?boundObjectRef.?kind.orValue(\"\") == \"Pod\" && "
        "${TABLE}[a].exists(x, x == \"U\" + ${SEP} + ${USER} || (x.startsWith(\"G\" + ${SEP}) && "
        "x.substring(2) in ${GROUPS}))) : a != \"\"))"
        ".map(a, ${WHAT} + \": spec.audiences \\\"\" + a + \"\\\" is not in "
        "sessions.tokenAudiences nor sessions.apiAudiences\" + (a in ${TABLE} ? \", and the "
        "audiences table allows it only in a token bound to a Pod that one of its listed "
        "subjects asks for (user \" + ${USER} + \" did)\" : \"\"))",
        vars);
    g->failed |= allowed.oom | table.oom | tok.oom | api.oom;
    sa_buf_free(&allowed);
    sa_buf_free(&table);
    sa_buf_free(&tok);
    sa_buf_free(&api);
}

/* ---- documents ---------------------------------------------------------------------------- */

typedef enum family {
    FAMILY_PODS,
    FAMILY_TOKENS,
    FAMILY_BINDINGS,
    FAMILY_ROLES
} family;
static const char *const family_names[] = {"pods", "tokens", "bindings", "roles"};

static void add_condition(gen *g, cJSON *conds, const char *name, const char *expr)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "expression", expr);
    g->failed |= !cJSON_AddItemToArray(conds, c);
}

static void add_named(cJSON *list, const char *name, const char *expr)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    cJSON_AddStringToObject(v, "expression", expr);
    cJSON_AddItemToArray(list, v);
}

typedef struct label_ctx {
    sa_buf *out;
    const sa_map *labels;
    const char *root;
} label_ctx;

/* One exempt label: the object carries it with that value (admit.c, has_exempt_labels). */
static int add_label(const char *key, void *ctx)
{
    label_ctx *lc = ctx;
    sa_buf k = SA_BUF_INIT;
    gen_str(&k, key);
    sa_buf_printf(lc->out,
                  " && %s.metadata.?labels[?%s].hasValue() && %s.metadata.labels[%s] == ", lc->root,
                  sa_buf_str(&k), lc->root, sa_buf_str(&k));
    gen_str(lc->out, sa_map_get(lc->labels, key));
    lc->out->oom |= k.oom;
    sa_buf_free(&k);
    return 0;
}

/* admit.c refuses, in every mode and before any exemption, a review of a kind it judges that
 * holds a NUL outside free text (sa_nulmark.h). The API server validates names, keys and subjects
 * before admission, but not a TokenRequest's audiences: its strings, written out (a TokenRequest's
 * schema is small enough to name every string in it; nothing of it is free text but the
 * annotations' values). */
#define NUL "\"\\x00\""
static const char token_nul[] =
    "object.?spec.?audiences.orValue([]).exists(a, a.contains(" NUL ")) || "
    "object.?spec.?boundObjectRef.?kind.orValue(\"\").contains(" NUL ") || "
    "object.?spec.?boundObjectRef.?apiVersion.orValue(\"\").contains(" NUL ") || "
    "object.?spec.?boundObjectRef.?name.orValue(\"\").contains(" NUL ") || "
    "object.?spec.?boundObjectRef.?uid.orValue(\"\").contains(" NUL ") || "
    "object.?metadata.?name.orValue(\"\").contains(" NUL ") || "
    "object.?metadata.?generateName.orValue(\"\").contains(" NUL ") || "
    "object.?metadata.?namespace.orValue(\"\").contains(" NUL ") || " GEN_NAME ".contains(" NUL
    ") || " GEN_NS ".contains(" NUL ") || " GEN_USER ".contains(" NUL ") || "
    "request.userInfo.?uid.orValue(\"\").contains(" NUL ") || "
    "object.?metadata.?labels.orValue({}).exists(k, k.contains(" NUL
    ") || object.metadata.labels[k].contains(" NUL ")) || "
    "object.?metadata.?annotations.orValue({}).exists(k, k.contains(" NUL ")) || " GEN_GROUPS
    ".exists(x, x.contains(" NUL ")) || "
    "request.userInfo.?extra.orValue({}).exists(k, k.contains(" NUL
    ") || request.userInfo.extra[k].exists(x, x.contains(" NUL ")))";

/* validate_exempt (admit.c): exempt users and groups, the cluster's own RBAC writes, exempt
 * namespaces (a RoleBinding there still judged when it binds a session subject). */
static cJSON *conditions(gen *g, family f)
{
    const sa_policy *p = g->p;
    cJSON *conds = cJSON_CreateArray();
    sa_buf e = SA_BUF_INIT;
    /* a TokenRequest holding a NUL is refused before any rule (admit.c): judged by
     * session-admission-refused-tokens alone, whichever policy the API server asks first */
    if (f == FAMILY_TOKENS) {
        sa_buf_printf(&e, "!(%s)", token_nul);
        add_condition(g, conds, "no-nul", sa_buf_str(&e));
    }
    if (sa_nameset_count(p->exempt.users)) {
        sa_buf_reset(&e);
        sa_buf_puts(&e, "!");
        gen_in_set(g, &e, p->exempt.users, GEN_USER);
        add_condition(g, conds, "not-exempt-user", sa_buf_str(&e));
    }
    if (sa_nameset_count(p->exempt.groups)) {
        sa_buf_reset(&e);
        sa_buf_puts(&e, "!" GEN_GROUPS ".exists(g, ");
        gen_in_set(g, &e, p->exempt.groups, "g");
        sa_buf_putc(&e, ')');
        add_condition(g, conds, "not-exempt-group", sa_buf_str(&e));
    }
    int rbac = f == FAMILY_BINDINGS || f == FAMILY_ROLES;
    if (rbac && sa_map_count(p->exempt.object_labels) &&
        sa_nameset_count(p->exempt.bootstrap_users)) {
        sa_buf_reset(&e);
        sa_buf_puts(&e, "!(");
        gen_in_set(g, &e, p->exempt.bootstrap_users, GEN_USER);
        sa_buf_puts(&e, " && \"" LOOPBACK_GROUP "\" in " GEN_GROUPS);
        label_ctx lc = {&e, p->exempt.object_labels, "object"};
        sa_map_any(p->exempt.object_labels, add_label, &lc);
        sa_buf_putc(&e, ')');
        add_condition(g, conds, "not-cluster-bootstrap", sa_buf_str(&e));
    }
    /* the aggregation controller's UPDATE of a labelled ClusterRole no table trusts (a user not
     * among the bootstrap users, whose writes the condition above settles) */
    if (f == FAMILY_ROLES && sa_map_count(p->exempt.object_labels) &&
        sa_nameset_count(p->exempt.aggregation_users)) {
        sa_buf_reset(&e);
        sa_buf_puts(&e,
                    "!(request.kind.kind == \"ClusterRole\" && request.operation == \"UPDATE\" && "
                    "oldObject != null && !");
        gen_in_set(g, &e, p->exempt.bootstrap_users, GEN_USER);
        sa_buf_puts(&e, " && ");
        gen_in_set(g, &e, p->exempt.aggregation_users, GEN_USER);
        label_ctx lc = {&e, p->exempt.object_labels, "oldObject"};
        sa_map_any(p->exempt.object_labels, add_label, &lc);
        sa_buf_puts(&e, " && !");
        gen_role_guarded(g, &e);
        sa_buf_putc(&e, ')');
        add_condition(g, conds, "not-aggregation-controller", sa_buf_str(&e));
    }
    if (f == FAMILY_TOKENS) {
        /* validate_token.c: only a session ServiceAccount's tokens (request.name) are judged */
        sa_buf_reset(&e);
        gen_in_set(g, &e, p->bindings.session_service_accounts, GEN_NAME);
        add_condition(g, conds, "session-service-account", sa_buf_str(&e));
    }
    if (sa_nameset_count(p->exempt_namespaces)) {
        sa_buf_reset(&e);
        sa_buf_puts(&e, "!(" GEN_NS " != \"\" && ");
        gen_in_set(g, &e, p->exempt_namespaces, GEN_NS);
        sa_buf_putc(&e, ')');
        if (f == FAMILY_BINDINGS) {
            sa_buf_puts(&e, " || (request.kind.kind == \"RoleBinding\" && ");
            gen_binding_grants_session(g, &e);
            sa_buf_putc(&e, ')');
        }
        add_condition(g, conds, "not-exempt-namespace", sa_buf_str(&e));
    }
    g->failed |= e.oom;
    sa_buf_free(&e);
    return conds;
}

static cJSON *resource_rule(const char *group, const char *const *resources, int create_only)
{
    cJSON *r = cJSON_CreateObject();
    const char *groups[] = {group}, *versions[] = {"v1"};
    const char *ops[] = {"CREATE", "UPDATE"};
    size_t nres = 0;
    while (resources[nres])
        nres++;
    cJSON_AddItemToObject(r, "apiGroups", cJSON_CreateStringArray(groups, 1));
    cJSON_AddItemToObject(r, "apiVersions", cJSON_CreateStringArray(versions, 1));
    cJSON_AddItemToObject(r, "resources", cJSON_CreateStringArray(resources, (int)nres));
    cJSON_AddItemToObject(r, "operations", cJSON_CreateStringArray(ops, create_only ? 1 : 2));
    return r;
}

/* The webhook registrations' scope (charts/.../webhooks.yaml): DELETE and CONNECT are never
 * matched; pods/status and the other subresources are not judged. */
static cJSON *match_constraints(family f)
{
    static const char *const pods[] = {"pods", "pods/ephemeralcontainers", NULL};
    static const char *const tokens[] = {"serviceaccounts/token", NULL};
    static const char *const bindings[] = {"rolebindings", "clusterrolebindings", NULL};
    static const char *const roles[] = {"roles", "clusterroles", NULL};
    cJSON *m = cJSON_CreateObject(), *rules = cJSON_AddArrayToObject(m, "resourceRules");
    if (f == FAMILY_PODS)
        cJSON_AddItemToArray(rules, resource_rule("", pods, 0));
    else if (f == FAMILY_TOKENS)
        cJSON_AddItemToArray(rules, resource_rule("", tokens, 1));
    else
        cJSON_AddItemToArray(rules, resource_rule("rbac.authorization.k8s.io",
                                                  f == FAMILY_ROLES ? roles : bindings, 0));
    cJSON_AddStringToObject(m, "matchPolicy", "Equivalent");
    return m;
}

static void policy_name(char *out, size_t cap, sa_rule rule, family f)
{
    snprintf(out, cap, "session-admission-%s-%s", sa_verdict_rule_id(rule), family_names[f]);
}

static cJSON *metadata(const char *name, const char *rule)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", name);
    cJSON *labels = cJSON_AddObjectToObject(m, "labels");
    cJSON_AddStringToObject(labels, "app.kubernetes.io/managed-by", "session-admission-generate");
    if (rule)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "annotations"), RULE_ANNOTATION, rule);
    return m;
}

/* The variables and validation of one rule. An UPDATE is judged on what it adds (admit.c,
 * judge): the violations whose keys oldObject's judging gave too are not held against it. */
static void validation(gen *g, cJSON *spec, sa_rule rule, family f)
{
    cJSON *vars = cJSON_AddArrayToObject(spec, "variables");
    sa_buf now = SA_BUF_INIT, old = SA_BUF_INIT, msg = SA_BUF_INIT;
    if (f == FAMILY_TOKENS) {
        gen_token_violations(g, &now);
        add_named(vars, "added", sa_buf_str(&now));
        sa_buf_printf(&msg, "variables.added.map(m, \"%s: \" + m).join(\"; \")",
                      sa_verdict_rule_id(rule));
    } else {
        void (*records)(gen *, sa_rule, const char *, sa_buf *) = f == FAMILY_PODS ? gen_pod_records
                                                                  : f == FAMILY_ROLES
                                                                      ? gen_role_records
                                                                      : gen_binding_records;
        if (f == FAMILY_ROLES)
            gen_role_variables(g, vars, add_named);
        sa_buf_puts(&now, "(");
        records(g, rule, "object", &now);
        sa_buf_puts(&now, ").split(\"\\n\").filter(r, r != \"\")");
        add_named(vars, "violations", sa_buf_str(&now));
        sa_buf_puts(&old, "request.operation == \"UPDATE\" && oldObject != null ? (");
        records(g, rule, "oldObject", &old);
        /* an empty key is what could not be judged (SA_KEY_NONE): never excused */
        sa_buf_puts(
            &old,
            ").split(\"\\n\").filter(r, r != \"\").map(r, r.split(\"\\t\")[0]).filter(k, k != \"\") : []");
        add_named(vars, "oldKeys", sa_buf_str(&old));
        /* oldKeys only on an UPDATE: kube-apiserver plans a program anew at each evaluation (cel-go
         * with cost tracking), at a cost that grows with its size, and variables are evaluated
         * when first used */
        add_named(vars, "added",
                  "request.operation == \"UPDATE\" && oldObject != null ? variables.violations"
                  ".filter(r, !(r.split(\"\\t\")[0] in variables.oldKeys)) : variables.violations");
        sa_buf_printf(&msg, "variables.added.map(r, \"%s: \" + r.split(\"\\t\")[1]).join(\"; \")",
                      sa_verdict_rule_id(rule));
    }
    /* The API server drops a message over 5 KB (celconfig.MaxEvaluatedMessageExpressionSizeBytes)
     * for the static message: cut at MESSAGE_MAX code points (4 bytes at most each), counted. */
    sa_buf cut = SA_BUF_INIT, fixed = SA_BUF_INIT;
    sa_buf_printf(
        &cut,
        "[%s].map(m, size(m) > %d ? m.substring(0, %d) + \"... (\" + string(size(variables.added)) + "
        "\" violations in all)\" : m)[0]",
        sa_buf_str(&msg), MESSAGE_MAX, MESSAGE_MAX);
    sa_buf_printf(&fixed, "%s: the request violates %s", sa_verdict_rule_id(rule),
                  sa_verdict_rule_id(rule));
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "expression", "size(variables.added) == 0");
    cJSON_AddStringToObject(v, "message", sa_buf_str(&fixed));
    cJSON_AddStringToObject(v, "messageExpression", sa_buf_str(&cut));
    g->failed |= cut.oom | fixed.oom;
    sa_buf_free(&cut);
    sa_buf_free(&fixed);
    cJSON_AddStringToObject(v, "reason", "Forbidden");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "validations"), v);
    g->failed |= now.oom | old.oom | msg.oom;
    sa_buf_free(&now);
    sa_buf_free(&old);
    sa_buf_free(&msg);
}

static const char *const mode_actions[SA_MODE_COUNT] = {
    [SA_MODE_ENFORCE] = "Deny", [SA_MODE_WARN] = "Warn", [SA_MODE_AUDIT] = "Audit"};

/* The policy's binding: validationActions [action], or [Warn, Audit] under --actions warn; with
 * params, the key ConfigMap as its paramRef. */
static void add_binding(gen *g, cJSON *docs, const char *name, const char *action, int params)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "apiVersion", GROUP "/v1");
    cJSON_AddStringToObject(b, "kind", "ValidatingAdmissionPolicyBinding");
    cJSON_AddItemToObject(b, "metadata", metadata(name, NULL));
    cJSON *spec = cJSON_AddObjectToObject(b, "spec");
    cJSON_AddStringToObject(spec, "policyName", name);
    const char *actions[2] = {g->o->warn_only ? "Warn" : action, "Audit"};
    cJSON_AddItemToObject(spec, "validationActions",
                          cJSON_CreateStringArray(actions, g->o->warn_only ? 2 : 1));
    if (params) {
        cJSON *ref = cJSON_AddObjectToObject(spec, "paramRef");
        cJSON_AddStringToObject(ref, "name", PARAMS_NAME);
        cJSON_AddStringToObject(ref, "namespace", g->o->namespace_);
        cJSON_AddStringToObject(ref, "parameterNotFoundAction", "Deny");
    }
    cJSON_AddItemToArray(docs, b);
}

static void add_policy(gen *g, cJSON *docs, sa_rule rule, family f)
{
    char name[128];
    policy_name(name, sizeof name, rule, f);
    int params = rule == SA_RULE_SESSION_POD;
    cJSON *vap = cJSON_CreateObject();
    cJSON_AddStringToObject(vap, "apiVersion", GROUP "/v1");
    cJSON_AddStringToObject(vap, "kind", "ValidatingAdmissionPolicy");
    cJSON_AddItemToObject(vap, "metadata", metadata(name, sa_verdict_rule_id(rule)));
    cJSON *spec = cJSON_AddObjectToObject(vap, "spec");
    cJSON_AddStringToObject(spec, "failurePolicy", "Fail");
    if (params) {
        cJSON *pk = cJSON_AddObjectToObject(spec, "paramKind");
        cJSON_AddStringToObject(pk, "apiVersion", "v1");
        cJSON_AddStringToObject(pk, "kind", "ConfigMap");
    }
    cJSON_AddItemToObject(spec, "matchConstraints", match_constraints(f));
    cJSON *conds = conditions(g, f);
    if (cJSON_GetArraySize(conds))
        cJSON_AddItemToObject(spec, "matchConditions", conds);
    else
        cJSON_Delete(conds);
    validation(g, spec, rule, f);
    cJSON_AddItemToArray(docs, vap);

    add_binding(g, docs, name, mode_actions[g->p->modes[rule]], params);
}

/* MutatingAdmissionPolicy's API version in each Kubernetes version. */
static const char *mutating_version(int minor)
{
    return minor >= 36 ? "v1" : minor >= 34 ? "v1beta1" : "v1alpha1";
}

/* The session pod mutation (mutate.c): CREATE of a session pod outside the exempt namespaces
 * whose id forms a ServiceAccount name, unless the pod is to be refused for naming another
 * ServiceAccount (onMismatch: deny, session-pod enforced). */
static void add_mutating_policy(gen *g, cJSON *docs)
{
    const sa_policy *p = g->p;
    const char *name = "session-admission-session-pod-mutation";
    char api[64];
    snprintf(api, sizeof api, GROUP "/%s", mutating_version(g->o->kube_minor));
    cJSON *map = cJSON_CreateObject();
    cJSON_AddStringToObject(map, "apiVersion", api);
    cJSON_AddStringToObject(map, "kind", "MutatingAdmissionPolicy");
    cJSON_AddItemToObject(map, "metadata", metadata(name, sa_verdict_rule_id(SA_RULE_SESSION_POD)));
    cJSON *spec = cJSON_AddObjectToObject(map, "spec");
    cJSON_AddStringToObject(spec, "failurePolicy", "Fail");
    cJSON_AddStringToObject(spec, "reinvocationPolicy", "IfNeeded");
    cJSON *pk = cJSON_AddObjectToObject(spec, "paramKind");
    cJSON_AddStringToObject(pk, "apiVersion", "v1");
    cJSON_AddStringToObject(pk, "kind", "ConfigMap");
    static const char *const pods[] = {"pods", NULL};
    cJSON *m = cJSON_AddObjectToObject(spec, "matchConstraints");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(m, "resourceRules"), resource_rule("", pods, 1));
    cJSON_AddStringToObject(m, "matchPolicy", "Equivalent");

    sa_buf id = SA_BUF_INIT, want = SA_BUF_INIT, valid = SA_BUF_INIT, current = SA_BUF_INIT,
           e = SA_BUF_INIT;
    gen_pod_session_sa(g, "object", &id, &want, &valid, &current);
    cJSON *conds = cJSON_AddArrayToObject(spec, "matchConditions");
    if (sa_nameset_count(p->exempt_namespaces)) {
        sa_buf_puts(&e, "!");
        gen_in_set(g, &e, p->exempt_namespaces, GEN_NS);
        add_condition(g, conds, "not-exempt-namespace", sa_buf_str(&e));
    }
    sa_buf_reset(&e);
    sa_buf_printf(&e, "%s && %s", sa_buf_str(&id), sa_buf_str(&valid));
    add_condition(g, conds, "session-pod", sa_buf_str(&e));
    if (p->sessions.on_mismatch == SA_MISMATCH_DENY &&
        p->modes[SA_RULE_SESSION_POD] == SA_MODE_ENFORCE) {
        sa_buf_reset(&e);
        sa_buf_printf(&e, "%s in [\"\", \"default\", %s]", sa_buf_str(&current), sa_buf_str(&want));
        add_condition(g, conds, "not-refused-service-account", sa_buf_str(&e));
    }
    gen_mutations(g, sa_buf_str(&want), cJSON_AddArrayToObject(spec, "mutations"));
    cJSON_AddItemToArray(docs, map);
    g->failed |= id.oom | want.oom | valid.oom | current.oom | e.oom;
    sa_buf_free(&id);
    sa_buf_free(&want);
    sa_buf_free(&valid);
    sa_buf_free(&current);
    sa_buf_free(&e);

    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "apiVersion", api);
    cJSON_AddStringToObject(b, "kind", "MutatingAdmissionPolicyBinding");
    cJSON_AddItemToObject(b, "metadata", metadata(name, NULL));
    spec = cJSON_AddObjectToObject(b, "spec");
    cJSON_AddStringToObject(spec, "policyName", name);
    cJSON *ref = cJSON_AddObjectToObject(spec, "paramRef");
    cJSON_AddStringToObject(ref, "name", PARAMS_NAME);
    cJSON_AddStringToObject(ref, "namespace", g->o->namespace_);
    cJSON_AddStringToObject(ref, "parameterNotFoundAction", "Deny");
    cJSON_AddItemToArray(docs, b);
}

static cJSON *params_doc(const gen *g, const sa_pubkey *key)
{
    cJSON *cm = cJSON_CreateObject();
    cJSON_AddStringToObject(cm, "apiVersion", "v1");
    cJSON_AddStringToObject(cm, "kind", "ConfigMap");
    cJSON *m = metadata(PARAMS_NAME, NULL);
    cJSON_AddStringToObject(m, "namespace", g->o->namespace_);
    cJSON_AddItemToObject(cm, "metadata", m);
    cJSON *data = cJSON_AddObjectToObject(cm, "data");
    cJSON_AddStringToObject(data, "publicKey", key->pem);
    cJSON_AddStringToObject(data, "fingerprint", key->fingerprint);
    return cm;
}

static void add_refusal_policy(gen *g, cJSON *docs)
{
    const char *name = "session-admission-refused-tokens";
    cJSON *vap = cJSON_CreateObject();
    cJSON_AddStringToObject(vap, "apiVersion", GROUP "/v1");
    cJSON_AddStringToObject(vap, "kind", "ValidatingAdmissionPolicy");
    cJSON_AddItemToObject(vap, "metadata", metadata(name, "refused"));
    cJSON *spec = cJSON_AddObjectToObject(vap, "spec");
    cJSON_AddStringToObject(spec, "failurePolicy", "Fail");
    cJSON_AddItemToObject(spec, "matchConstraints", match_constraints(FAMILY_TOKENS));
    cJSON *v = cJSON_CreateObject();
    sa_buf e = SA_BUF_INIT;
    sa_buf_printf(&e, "!(%s)", token_nul);
    cJSON_AddStringToObject(v, "expression", sa_buf_str(&e));
    cJSON_AddStringToObject(v, "message",
                            "refused: session-admission: this TokenRequest holds a NUL (\\u0000), "
                            "which no name, key or value the policy compares may hold: it cannot "
                            "be judged");
    cJSON_AddStringToObject(v, "reason", "Forbidden");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "validations"), v);
    cJSON_AddItemToArray(docs, vap);
    g->failed |= e.oom;
    sa_buf_free(&e);

    add_binding(g, docs, name, "Deny", 0); /* in every mode, as admit.c refuses */
}

/* What the policies leave to the webhook: (rule id, kinds, why). */
static const struct {
    const char *rule, *kinds, *why;
} webhook_only[] = {
    {"refused", "Pod,RoleBinding,ClusterRoleBinding,Role,ClusterRole",
     "a NUL (\\u0000) outside free text is refused by the webhook; CEL cannot walk every string "
     "of an object (a TokenRequest's are written out: session-admission-refused-tokens)"},
};

int sa_generate(const sa_policy *p, const sa_pubkey *key, const sa_generate_options *o, sa_buf *out,
                sa_buf *notes, sa_buf *err)
{
    gen g = {p, o, err, 0};
    static const struct {
        sa_rule rule;
        family f;
        /* clang-format off */
    } covered[] = {
        {SA_RULE_SESSION_POD, FAMILY_PODS},
        {SA_RULE_SESSION_ENV_FROM_SECRET, FAMILY_PODS},
        {SA_RULE_SESSION_TOKEN_AUDIENCE, FAMILY_PODS},
        {SA_RULE_SESSION_TOKEN_AUDIENCE, FAMILY_TOKENS},
        {SA_RULE_RBAC_SESSION_BINDING, FAMILY_BINDINGS},
        {SA_RULE_RBAC_CROSS_NAMESPACE, FAMILY_BINDINGS},
        {SA_RULE_RBAC_TOKEN_AUDIENCE, FAMILY_BINDINGS},
        {SA_RULE_RBAC_IMPERSONATION, FAMILY_ROLES},
        {SA_RULE_RBAC_TOKEN_AUDIENCE, FAMILY_ROLES},
        {SA_RULE_RBAC_SESSION_BINDING, FAMILY_ROLES},
    };
    /* clang-format on */
    cJSON *docs = cJSON_CreateArray();
    cJSON_AddItemToArray(docs, params_doc(&g, key));
    int mutating = o->only != SA_GENERATE_VALIDATING && o->kube_minor >= SA_GENERATE_MUTATING_MIN;
    for (size_t i = 0;
         o->only != SA_GENERATE_MUTATING && i < sizeof covered / sizeof covered[0] && !g.failed;
         i++)
        add_policy(&g, docs, covered[i].rule, covered[i].f);
    if (o->only != SA_GENERATE_MUTATING && !g.failed)
        add_refusal_policy(&g, docs);
    if (mutating && !g.failed)
        add_mutating_policy(&g, docs);
    if (g.failed) {
        if (!err->len)
            sa_buf_puts(err, "out of memory");
        cJSON_Delete(docs);
        return -1;
    }
    sa_buf_printf(out,
                  "# session-admission generate: the policy %s as admission policies "
                  "for Kubernetes 1.%d.\n# Key sha256 %s, "
                  "in ConfigMap %s/%s.\n",
                  p->source, o->kube_minor, key->fingerprint, o->namespace_, PARAMS_NAME);
    if (o->only != SA_GENERATE_VALIDATING && !mutating) {
        sa_buf_printf(out,
                      "# webhook-only: mutation Pod: MutatingAdmissionPolicy is generated for "
                      "Kubernetes 1.%d and later\n",
                      SA_GENERATE_MUTATING_MIN);
        sa_buf_printf(notes,
                      "generate: webhook-only: mutation (Pod): MutatingAdmissionPolicy is "
                      "generated for Kubernetes 1.%d and later\n",
                      SA_GENERATE_MUTATING_MIN);
    }
    for (size_t i = 0; i < sizeof webhook_only / sizeof webhook_only[0]; i++) {
        sa_buf_printf(out, "# webhook-only: %s %s: %s\n", webhook_only[i].rule,
                      webhook_only[i].kinds, webhook_only[i].why);
        sa_buf_printf(notes, "generate: webhook-only: %s (%s): %s\n", webhook_only[i].rule,
                      webhook_only[i].kinds, webhook_only[i].why);
    }
    int rc = 0;
    for (cJSON *d = docs->child; d && rc == 0; d = d->next)
        rc = sa_emit_yaml(d, out, err);
    cJSON_Delete(docs);
    return rc;
}

int sa_generate_kube_version(const char *text, int *minor, sa_buf *err)
{
    const char *s = text[0] == 'v' ? text + 1 : text;
    char *end;
    long major = strtol(s, &end, 10);
    long m = *end == '.' ? strtol(end + 1, &end, 10) : -1;
    if (major != 1 || m < 0 || (*end && *end != '.')) {
        sa_buf_printf(err, "--kube-version %s: expected MAJOR.MINOR, e.g. 1.33", text);
        return -1;
    }
    if (m < SA_GENERATE_KUBE_MIN || m > SA_GENERATE_KUBE_MAX) {
        sa_buf_printf(err,
                      "--kube-version %s: this build generates for 1.%d to 1.%d "
                      "(ValidatingAdmissionPolicy v1 is served from 1.30)",
                      text, SA_GENERATE_KUBE_MIN, SA_GENERATE_KUBE_MAX);
        return -1;
    }
    *minor = (int)m;
    return 0;
}
