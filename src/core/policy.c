/* policy.c: the policy tables, loaded from YAML (see sa_policy.h).
 *
 * Two passes. The first reads the file into a tree with positions (sa_yaml.h), refusing what a
 * policy never needs but an attacker could use. The second walks that tree against the format,
 * section by section, with the checks of sa_schema.h, and collects every error, not only the
 * first, each as "FILE:LINE:COLUMN: what was expected". The audiences table is loaded by
 * policy_audiences.c.
 *
 * A key that is absent takes its value from default_policy below, which is parsed with the same
 * code: defaults and user values go through one set of checks, and the defaults are the values
 * examples/policy.yaml documents. */
#include "sa_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_k8sname.h"
#include "sa_schema.h"
#include "sa_yaml.h"

#include "policy_audiences.h"
#include "policy_ceiling.h"

extern const char sa_example_policy[];
extern const size_t sa_example_policy_len;

/* The values of absent keys. Rows of allowedRoles and audiences are taken whole. */
static const char default_policy[] =
    "apiVersion: session-admission/v1alpha1\n"
    "kind: Policy\n"
    "exemptNamespaces: [kube-system, kube-public, kube-node-lease]\n"
    "sessions:\n"
    "  label: ambient-code.io/session-id\n"
    "  serviceAccount: {template: 'session-{id}-sa', idMaxLength: 40, onMismatch: override}\n"
    "  publicKey:\n"
    "    env: AMBIENT_CP_TOKEN_PUBLIC_KEY\n"
    "    file: /etc/session-admission/keys/public.pem\n"
    "    containers: ['*']\n"
    "    initContainers: false\n"
    "    fingerprintAnnotation: ambient-code.io/cp-token-key-sha256\n"
    "  forbiddenEnv: [GITHUB_TOKEN, GITLAB_TOKEN, JIRA_API_TOKEN]\n"
    "  tokenAudiences: []\n"
    "  apiAudiences: [https://kubernetes.default.svc.cluster.local, https://kubernetes.default.svc,\n"
    "                 kubernetes.default.svc]\n"
    "bindings:\n"
    "  namespaceGroups: ['*']\n"
    "  allowedRoles:\n"
    "    - {kind: ClusterRole, name: system:image-puller, scope: namespace, crossNamespace: true}\n"
    "    - {kind: ClusterRole, name: system:image-builder, scope: namespace}\n"
    "  everyoneRoles: [system:basic-user, system:discovery, system:public-info-viewer,\n"
    "    system:service-account-issuer-discovery, basic-user, cluster-status, self-access-reviewer,\n"
    "    system:openshift:discovery, system:openshift:public-info-viewer,\n"
    "    system:openshift:scc:restricted-v2, system:oauth-token-deleter, system:scope-impersonation,\n"
    "    system:webhook, system:build-strategy-docker, system:build-strategy-source,\n"
    "    system:build-strategy-jenkinspipeline, kube-public/kubeadm:bootstrap-signer-clusterinfo,\n"
    "    tekton-pipelines/tekton-pipelines-info]\n"
    "exempt:\n"
    "  objectLabels: {kubernetes.io/bootstrapping: rbac-defaults}\n"
    "  bootstrapUsers: [system:apiserver]\n"
    "  aggregationUsers: [system:serviceaccount:kube-system:clusterrole-aggregation-controller,\n"
    "                     system:kube-controller-manager]\n"
    "  users: []\n"
    "  groups: []\n"
    "impersonation: {resources: [users], names: []}\n"
    "audiences:\n"
    "  - audience: api://AzureADTokenExchange\n"
    "    roles: [system:node:credential-provider-token-audience]\n"
    "    subjects: [{kind: Group, name: system:nodes}]\n"
    "modes: {}\n";

static char *dup_qualified(sa_yaml_errors *e, const sa_schema_section *s, const char *key)
{
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *n = sa_schema_field(s, key, path);
    char *v = sa_schema_dup_name(e, n, path);
    if (v && !sa_k8sname_qualified(v)) {
        sa_schema_expected(e, n, path, "a label key ([prefix/]name, name at most 63 characters)");
        free(v);
        return NULL;
    }
    return v;
}

int sa_policy_session_sa(const sa_policy *p, const char *session_id, sa_buf *out)
{
    return sa_k8sname_session_sa(p->sessions.sa_template, p->sessions.id_max_length, session_id,
                                 out);
}

/* ---- the sections ------------------------------------------------------------------------ */

static void load_service_account(sa_yaml_errors *e, const sa_schema_section *sessions, sa_policy *p)
{
    static const char *const keys[] = {"template", "idMaxLength", "onMismatch", NULL};
    static const char *const mismatch[] = {
        [SA_MISMATCH_OVERRIDE] = "override", [SA_MISMATCH_DENY] = "deny"};
    sa_schema_section s;
    sa_schema_subsection(e, sessions, "serviceAccount", keys, &s);
    char path[SA_SCHEMA_PATH_LEN];

    const sa_yaml_node *n = sa_schema_field(&s, "template", path);
    p->sessions.sa_template = sa_schema_dup_name(e, n, path);
    const char *t = p->sessions.sa_template;
    size_t fixed = SA_K8SNAME_SUBDOMAIN_MAX;
    if (t) {
        const char *at = strstr(t, SA_K8SNAME_ID_PLACEHOLDER);
        sa_buf probe = SA_BUF_INIT;
        if (!at || strstr(at + 1, SA_K8SNAME_ID_PLACEHOLDER)) {
            sa_schema_expected(e, n, path, "a template with exactly one {id}");
        } else if (sa_k8sname_session_sa(t, 1, "a", &probe) < 0) {
            sa_schema_expected(e, n, path,
                               "a template that forms a DNS-1123 name ([a-z0-9-.], "
                               "alphanumeric at both ends)");
        } else {
            fixed = strlen(t) - strlen(SA_K8SNAME_ID_PLACEHOLDER);
        }
        sa_buf_free(&probe);
    }

    n = sa_schema_field(&s, "idMaxLength", path);
    /* Leaves room for the template's fixed part within 253 characters. */
    long max = (long)(SA_K8SNAME_SUBDOMAIN_MAX - (fixed < SA_K8SNAME_SUBDOMAIN_MAX ? fixed : 0));
    long v;
    if (sa_schema_want_int(e, n, path, 1, max, &v) == 0)
        p->sessions.id_max_length = (int)v;

    n = sa_schema_field(&s, "onMismatch", path);
    int m = sa_schema_want_enum(e, n, path, mismatch, sizeof mismatch / sizeof mismatch[0]);
    if (m >= 0)
        p->sessions.on_mismatch = (sa_on_mismatch)m;
}

static void load_public_key(sa_yaml_errors *e, const sa_schema_section *sessions, sa_policy *p)
{
    static const char *const keys[] = {
        "env", "file", "containers", "initContainers", "fingerprintAnnotation", NULL};
    sa_schema_section s;
    sa_schema_subsection(e, sessions, "publicKey", keys, &s);
    char path[SA_SCHEMA_PATH_LEN];

    const sa_yaml_node *n = sa_schema_field(&s, "env", path);
    p->sessions.key_env = sa_schema_dup_name(e, n, path);
    if (p->sessions.key_env && !sa_k8sname_c_identifier(p->sessions.key_env))
        sa_schema_expected(e, n, path, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");

    p->sessions.key_file = sa_schema_dup_name(e, sa_schema_field(&s, "file", path), path);
    p->sessions.containers = sa_schema_names_field(e, &s, "containers", SA_SCHEMA_NAMES_GLOB, NULL);
    sa_schema_want_bool(e, sa_schema_field(&s, "initContainers", path), path,
                        &p->sessions.init_containers);
    p->sessions.fingerprint_annotation = dup_qualified(e, &s, "fingerprintAnnotation");
}

static void load_sessions(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p)
{
    static const char *const keys[] = {
        "label",          "serviceAccount", "publicKey", "forbiddenEnv",
        "tokenAudiences", "apiAudiences",   NULL};
    sa_schema_section s;
    sa_schema_subsection(e, top, "sessions", keys, &s);
    p->sessions.label = dup_qualified(e, &s, "label");
    load_service_account(e, &s, p);
    load_public_key(e, &s, p);
    p->sessions.forbidden_env =
        sa_schema_names_field(e, &s, "forbiddenEnv", SA_SCHEMA_NAMES_GLOB, NULL);
    p->sessions.token_audiences = sa_schema_names_field(
        e, &s, "tokenAudiences", SA_SCHEMA_NAMES_EXACT, "audiences are granted one by one");
    p->sessions.api_audiences =
        sa_schema_names_field(e, &s, "apiAudiences", SA_SCHEMA_NAMES_EXACT,
                              "the API server's audiences are exact strings");
}

static void role_row_free(void *row)
{
    sa_role_row *r = row;
    sa_policy_ceiling_free(r);
    free(r->kind);
    free(r->name);
    free(r);
}

/* The kinds of role a row of bindings.allowedRoles names. */
typedef enum role_kind {
    ROLE_KIND_ROLE,
    ROLE_KIND_CLUSTER_ROLE,
    ROLE_KINDS
} role_kind;

static void load_role_row(sa_yaml_errors *e, const sa_yaml_node *row, const char *rpath,
                          sa_map *index)
{
    static const char *const keys[] = {"kind", "name", "scope", "crossNamespace", "ceiling", NULL};
    static const char *const kinds[ROLE_KINDS] = {
        [ROLE_KIND_ROLE] = "Role", [ROLE_KIND_CLUSTER_ROLE] = "ClusterRole"};
    static const char *const scopes[] = {
        [SA_SCOPE_NAMESPACE] = "namespace", [SA_SCOPE_CLUSTER] = "cluster", [SA_SCOPE_ANY] = "any"};
    if (sa_schema_want_type(e, row, rpath, SA_YAML_MAP) < 0)
        return;
    sa_schema_known_keys(e, row, rpath, keys);
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *n;
    int kind = -1, scope = SA_SCOPE_NAMESPACE, cross = 0;
    const char *name = NULL;

    if ((n = sa_schema_required(e, row, rpath, "kind", "Role or ClusterRole", path)))
        kind = sa_schema_want_enum(e, n, path, kinds, ROLE_KINDS);
    if ((n = sa_schema_required(e, row, rpath, "name", "the role's name", path)))
        name = sa_schema_want_exact(e, n, path, "roles are looked up by name");
    sa_schema_join_path(path, rpath, "scope");
    if ((n = sa_yaml_member(row, "scope"))) {
        scope = sa_schema_want_enum(e, n, path, scopes, sizeof scopes / sizeof scopes[0]);
        if (kind == ROLE_KIND_ROLE && scope > 0 && scope != SA_SCOPE_NAMESPACE) {
            sa_schema_expected(e, n, path,
                               "namespace for a Role (only a RoleBinding can reference it)");
            scope = -1;
        }
    }
    sa_schema_join_path(path, rpath, "crossNamespace");
    if ((n = sa_yaml_member(row, "crossNamespace")) && sa_schema_want_bool(e, n, path, &cross) < 0)
        cross = -1;
    if (kind < 0 || !name || scope < 0 || cross < 0)
        return;

    sa_role_row *r = calloc(1, sizeof *r);
    sa_buf key = SA_BUF_INIT;
    sa_buf_printf(&key, "%s/%s", kinds[kind], name);
    if (r) {
        r->kind = strdup(kinds[kind]);
        r->name = strdup(name);
        r->scope = (sa_scope)scope;
        r->cross_namespace = cross;
    }
    if (r && r->kind && r->name) {
        sa_schema_join_path(path, rpath, "ceiling");
        sa_policy_ceiling_load(e, row, sa_yaml_member(row, "ceiling"), path, r);
    }
    int rc = !r || !r->kind || !r->name || key.oom ? -1 : sa_map_put(index, key.data, r);
    if (rc == 1)
        SA_YAML_NODE_ERROR(e, row, "%s: duplicate row for %s", rpath, key.data);
    else if (rc < 0)
        SA_YAML_NODE_ERROR(e, row, "out of memory");
    if (rc != 0 && r)
        role_row_free(r);
    sa_buf_free(&key);
}

/* Absent sessionServiceAccounts: the names the template forms, {id} read as "*" (a template is
 * a DNS-1123 name with one {id}, so it holds no other glob character). An empty set when the
 * template itself was refused; NULL only when out of memory. */
static sa_nameset *session_globs_from_template(const char *t)
{
    sa_nameset *set = sa_nameset_new();
    const char *at = t ? strstr(t, SA_K8SNAME_ID_PLACEHOLDER) : NULL;
    if (!set || !at)
        return set;
    sa_buf glob = SA_BUF_INIT;
    sa_buf_printf(&glob, "%.*s*%s", (int)(at - t), t, at + strlen(SA_K8SNAME_ID_PLACEHOLDER));
    if (glob.oom || sa_nameset_add(set, glob.data) < 0) {
        sa_nameset_free(set);
        set = NULL;
    }
    sa_buf_free(&glob);
    return set;
}

/* Every name the template forms must be a session ServiceAccount by sessionServiceAccounts: the
 * mutation names pods' ServiceAccounts by the template, the binding and token checks know
 * sessions by the globs, and the chart builds its pod matchCondition from the same globs, so a
 * name outside them would be a session nobody guards. Probed with the shortest and the longest
 * ids of letters, digits and '-'. */
static void check_template_covered(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                                   const sa_policy *p)
{
    if (!p->sessions.sa_template || !p->sessions.id_max_length ||
        !p->bindings.session_service_accounts)
        return;
    char longest[SA_K8SNAME_SUBDOMAIN_MAX + 1];
    int len = p->sessions.id_max_length < (int)SA_K8SNAME_SUBDOMAIN_MAX
                  ? p->sessions.id_max_length
                  : (int)SA_K8SNAME_SUBDOMAIN_MAX;
    memset(longest, 'z', (size_t)len);
    longest[len] = '\0';
    const char *const probes[] = {"a", "0", "a-0", longest};
    sa_buf name = SA_BUF_INIT;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        sa_buf_reset(&name);
        if (sa_policy_session_sa(p, probes[i], &name) == 0 &&
            !sa_nameset_match(p->bindings.session_service_accounts, sa_buf_str(&name))) {
            SA_YAML_NODE_ERROR(e, n,
                               "%s: does not match %.80s, which sessions.serviceAccount.template "
                               "%s forms: every session ServiceAccount must be one of these globs",
                               path, sa_buf_str(&name), p->sessions.sa_template);
            break;
        }
    }
    sa_buf_free(&name);
}

/* An everyoneRoles entry with a '/' names a Role as <namespace>/<name>: one '/', a namespace
 * (a DNS-1123 label) before it and a name after it; anything else could never match. */
static void check_everyone_roles(sa_yaml_errors *e, const sa_yaml_node *list, const char *path)
{
    for (size_t i = 0; list && list->type == SA_YAML_LIST && i < list->n; i++) {
        const sa_yaml_node *n = list->items[i];
        const char *slash = n->type == SA_YAML_SCALAR ? strchr(n->text, '/') : NULL;
        if (!slash)
            continue;
        size_t ns = (size_t)(slash - n->text);
        if (ns && ns <= 63 && sa_k8sname_subdomain(n->text, ns) && !memchr(n->text, '.', ns) &&
            slash[1] && !strchr(slash + 1, '/'))
            continue;
        char ipath[SA_SCHEMA_PATH_LEN];
        sa_schema_path(ipath, "%s[%zu]", path, i);
        sa_schema_expected(e, n, ipath, "a ClusterRole's name, or a Role as <namespace>/<name>");
    }
}

static void load_bindings(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p)
{
    static const char *const keys[] = {"sessionServiceAccounts", "namespaceGroups", "allowedRoles",
                                       "everyoneRoles", NULL};
    sa_schema_section s;
    sa_schema_subsection(e, top, "bindings", keys, &s);
    char path[SA_SCHEMA_PATH_LEN];
    sa_schema_join_path(path, s.path, "sessionServiceAccounts");
    const sa_yaml_node *globs = sa_yaml_member(s.user, "sessionServiceAccounts");
    if (globs) {
        p->bindings.session_service_accounts =
            sa_schema_names(e, globs, path, SA_SCHEMA_NAMES_GLOB, 1, NULL);
        check_template_covered(e, globs, path, p);
    } else {
        p->bindings.session_service_accounts = session_globs_from_template(p->sessions.sa_template);
        if (!p->bindings.session_service_accounts)
            SA_YAML_NODE_ERROR(e, s.def, "out of memory");
    }
    p->bindings.namespace_groups =
        sa_schema_names_field(e, &s, "namespaceGroups", SA_SCHEMA_NAMES_GLOB, NULL);
    p->bindings.everyone_roles = sa_schema_names_field(
        e, &s, "everyoneRoles", SA_SCHEMA_NAMES_EXACT, "roles are looked up by name");
    check_everyone_roles(e, sa_schema_field(&s, "everyoneRoles", path), path);

    p->bindings.allowed_roles = sa_map_new();
    const sa_yaml_node *rows = sa_schema_field(&s, "allowedRoles", path);
    if (!p->bindings.allowed_roles)
        SA_YAML_NODE_ERROR(e, rows, "out of memory");
    else if (sa_schema_want_type(e, rows, path, SA_YAML_LIST) == 0)
        for (size_t i = 0; i < rows->n; i++) {
            char rpath[SA_SCHEMA_PATH_LEN];
            sa_schema_path(rpath, "%s[%zu]", path, i);
            load_role_row(e, rows->items[i], rpath, p->bindings.allowed_roles);
        }
}

static void load_exempt(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p)
{
    static const char *const keys[] = {"objectLabels", "bootstrapUsers", "aggregationUsers",
                                       "users",        "groups",         NULL};
    sa_schema_section s;
    sa_schema_subsection(e, top, "exempt", keys, &s);
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *labels = sa_schema_field(&s, "objectLabels", path);
    p->exempt.object_labels = sa_map_new();
    if (!p->exempt.object_labels)
        SA_YAML_NODE_ERROR(e, labels, "out of memory");
    else if (sa_schema_want_type(e, labels, path, SA_YAML_MAP) == 0)
        for (size_t i = 0; i < labels->n; i++) {
            const sa_yaml_node *k = labels->items[2 * i], *v = labels->items[2 * i + 1];
            char lpath[SA_SCHEMA_PATH_LEN];
            sa_schema_join_path(lpath, path, k->type == SA_YAML_SCALAR ? k->text : "?");
            if (k->type == SA_YAML_SCALAR && !sa_k8sname_qualified(k->text))
                sa_schema_expected(e, k, path,
                                   "a label key ([prefix/]name, name at most 63 characters)");
            const char *value = sa_schema_want_string(e, v, lpath, "a label value (a string)");
            if (k->type != SA_YAML_SCALAR || !value)
                continue;
            char *copy = strdup(value);
            /* A duplicate key (rc 1) was reported while reading the tree. */
            int rc = copy ? sa_map_put(p->exempt.object_labels, k->text, copy) : -1;
            if (rc != 0)
                free(copy);
            if (rc < 0)
                SA_YAML_NODE_ERROR(e, k, "out of memory");
        }
    p->exempt.bootstrap_users =
        sa_schema_names_field(e, &s, "bootstrapUsers", SA_SCHEMA_NAMES_EXACT,
                              "the cluster's own identities are trusted by name");
    p->exempt.aggregation_users =
        sa_schema_names_field(e, &s, "aggregationUsers", SA_SCHEMA_NAMES_EXACT,
                              "the cluster's own identities are trusted by name");
    p->exempt.users = sa_schema_names_field(e, &s, "users", SA_SCHEMA_NAMES_GLOB, NULL);
    p->exempt.groups = sa_schema_names_field(e, &s, "groups", SA_SCHEMA_NAMES_GLOB, NULL);
}

static void load_impersonation(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p)
{
    static const char *const keys[] = {"resources", "names", NULL};
    const char *resources[SA_RBAC_IMP_KINDS];
    for (unsigned i = 0; i < SA_RBAC_IMP_KINDS; i++)
        resources[i] = sa_rbac_imp_name(i);
    sa_schema_section s;
    sa_schema_subsection(e, top, "impersonation", keys, &s);
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *list = sa_schema_field(&s, "resources", path);
    if (sa_schema_want_type(e, list, path, SA_YAML_LIST) == 0)
        for (size_t i = 0; i < list->n; i++) {
            char ipath[SA_SCHEMA_PATH_LEN];
            sa_schema_path(ipath, "%s[%zu]", path, i);
            int r = sa_schema_want_enum(e, list->items[i], ipath, resources, SA_RBAC_IMP_KINDS);
            if (r < 0)
                continue;
            if (p->impersonation.resources & (1u << r))
                SA_YAML_NODE_ERROR(e, list->items[i], "%s: duplicate entry '%s'", ipath,
                                   resources[r]);
            p->impersonation.resources |= 1u << r;
        }
    p->impersonation.names = sa_schema_names_field(
        e, &s, "names", SA_SCHEMA_NAMES_EXACT, "impersonation is granted on exactly named users");
}

static void load_modes(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p)
{
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *modes = sa_schema_field(top, "modes", path);
    for (int i = 0; i < SA_RULE_COUNT; i++)
        p->modes[i] = SA_MODE_ENFORCE;
    if (sa_schema_want_type(e, modes, path, SA_YAML_MAP) < 0)
        return;
    const char *mode_names[SA_MODE_COUNT];
    for (int m = 0; m < SA_MODE_COUNT; m++)
        mode_names[m] = sa_verdict_mode_name((sa_mode)m);
    for (size_t i = 0; i < modes->n; i++) {
        const sa_yaml_node *k = modes->items[2 * i], *v = modes->items[2 * i + 1];
        if (k->type != SA_YAML_SCALAR)
            continue;
        int rule = sa_verdict_rule_from_id(k->text);
        if (rule < 0) {
            sa_buf ids = SA_BUF_INIT;
            for (int r = 0; r < SA_RULE_COUNT; r++)
                sa_buf_printf(&ids, "%s%s", r ? ", " : "", sa_verdict_rule_id((sa_rule)r));
            char buf[SA_SCHEMA_FOUND_LEN];
            SA_YAML_NODE_ERROR(e, k, "unknown rule id %s in modes (expected one of: %s)",
                               sa_schema_found(k, buf, sizeof buf), sa_buf_str(&ids));
            sa_buf_free(&ids);
            continue;
        }
        char mpath[SA_SCHEMA_PATH_LEN];
        sa_schema_join_path(mpath, path, k->text);
        int m = sa_schema_want_enum(e, v, mpath, mode_names, SA_MODE_COUNT);
        if (m >= 0)
            p->modes[rule] = (sa_mode)m;
    }
}

#define API_VERSION "session-admission/v1alpha1"
#define KIND "Policy"

static void load_header(sa_yaml_errors *e, const sa_yaml_node *root)
{
    static const char *const keys[] = {"apiVersion", API_VERSION, "kind", KIND};
    for (size_t i = 0; i < 4; i += 2) {
        const sa_yaml_node *n = sa_yaml_member(root, keys[i]);
        char what[64];
        snprintf(what, sizeof what, "%s: %s", keys[i], keys[i + 1]);
        if (!n) {
            SA_YAML_NODE_ERROR(e, root, "missing key '%s' (expected %s)", keys[i], what);
            continue;
        }
        if (n->type != SA_YAML_SCALAR || strcmp(n->text, keys[i + 1]) != 0)
            sa_schema_expected(e, n, keys[i], keys[i + 1]);
    }
}

/* ---- loading ----------------------------------------------------------------------------- */

/* Checks the whole tree and fills p. The defaults tree is trusted (a unit test loads it). */
static void load_policy(sa_yaml_errors *e, const sa_yaml_node *root, const sa_yaml_node *defaults,
                        sa_policy *p)
{
    static const char *const keys[] = {"apiVersion", "kind",   "exemptNamespaces", "sessions",
                                       "bindings",   "exempt", "impersonation",    "audiences",
                                       "modes",      NULL};
    sa_schema_section top = {root, defaults, ""};
    sa_schema_known_keys(e, root, "the policy", keys);
    load_header(e, root);
    p->exempt_namespaces =
        sa_schema_names_field(e, &top, "exemptNamespaces", SA_SCHEMA_NAMES_GLOB, NULL);
    load_sessions(e, &top, p);
    load_bindings(e, &top, p);
    load_exempt(e, &top, p);
    load_impersonation(e, &top, p);
    sa_policy_audiences_load(e, &top, p);
    load_modes(e, &top, p);
}

/* The parsed default_policy, shared read-only by every load. Parsed per call: it is small, and
 * a load happens only at start and on reload. */
static sa_yaml_node *defaults_tree(sa_buf *errors)
{
    sa_yaml_errors e = {.name = "<defaults>"};
    sa_yaml_node *root;
    int rc = sa_yaml_parse(&e, default_policy, sizeof default_policy - 1, &root);
    if (sa_yaml_errors_flush(&e, errors) || rc < 0) {
        sa_yaml_free(root);
        return NULL;
    }
    return root;
}

/* Parses and checks; every error is recorded in e (named after the file). */
static sa_policy *load(sa_yaml_errors *e, const char *text, size_t len, sa_buf *errors)
{
    if (len > SA_POLICY_MAX_BYTES) {
        sa_yaml_error_at(e, 1, 1, "the policy is larger than %u bytes", SA_POLICY_MAX_BYTES);
        return NULL;
    }
    sa_yaml_node *root = NULL;
    if (sa_yaml_parse(e, text, len, &root) < 0)
        return NULL;
    sa_policy *p = NULL;
    sa_yaml_node *defaults = NULL;
    if (!root || sa_yaml_is_null(root)) {
        sa_yaml_error_at(e, root ? root->line : 1, root ? root->col : 1,
                         "the policy is empty (expected a mapping with apiVersion: " API_VERSION
                         " and kind: " KIND ")");
    } else if (sa_schema_want_type(e, root, "the policy", SA_YAML_MAP) == 0) {
        defaults = defaults_tree(errors);
        p = calloc(1, sizeof *p);
        if (!defaults || !p || !(p->source = strdup(e->name)))
            sa_yaml_error_at(e, 1, 1, "out of memory or broken built-in defaults");
        else
            load_policy(e, root, defaults, p);
    }
    sa_yaml_free(defaults);
    sa_yaml_free(root);
    return p;
}

sa_policy *sa_policy_load_text(const char *name, const char *text, size_t len, sa_buf *errors)
{
    sa_yaml_errors e = {.name = name};
    sa_policy *p = load(&e, text, len, errors);
    if (sa_yaml_errors_flush(&e, errors)) {
        sa_policy_free(p);
        return NULL;
    }
    return p;
}

sa_policy *sa_policy_load_file(const char *path, sa_buf *errors)
{
    sa_buf text = SA_BUF_INIT;
    char err[512];
    if (sa_buf_read_file(&text, path, SA_POLICY_MAX_BYTES, err, sizeof err) < 0) {
        /* err starts with the path already; keep the FILE:LINE:COLUMN shape of all errors. */
        size_t plen = strlen(path);
        const char *why = strncmp(err, path, plen) == 0 && err[plen] == ':' ? err + plen + 2 : err;
        sa_buf_printf(errors, "%s:1:1: cannot load the policy: %s\n", path, why);
        sa_buf_free(&text);
        return NULL;
    }
    sa_policy *p = sa_policy_load_text(path, sa_buf_str(&text), text.len, errors);
    sa_buf_free(&text);
    return p;
}

sa_policy *sa_policy_builtin(sa_buf *errors)
{
    return sa_policy_load_text("<built-in>", sa_example_policy, sa_example_policy_len, errors);
}

static void free_string(void *s)
{
    free(s);
}

void sa_policy_free(sa_policy *p)
{
    if (!p)
        return;
    free(p->source);
    sa_nameset_free(p->exempt_namespaces);
    free(p->sessions.label);
    free(p->sessions.sa_template);
    free(p->sessions.key_env);
    free(p->sessions.key_file);
    sa_nameset_free(p->sessions.containers);
    free(p->sessions.fingerprint_annotation);
    sa_nameset_free(p->sessions.forbidden_env);
    sa_nameset_free(p->sessions.token_audiences);
    sa_nameset_free(p->sessions.api_audiences);
    sa_nameset_free(p->bindings.session_service_accounts);
    sa_nameset_free(p->bindings.namespace_groups);
    sa_nameset_free(p->bindings.everyone_roles);
    sa_map_free(p->bindings.allowed_roles, role_row_free);
    sa_map_free(p->exempt.object_labels, free_string);
    sa_nameset_free(p->exempt.bootstrap_users);
    sa_nameset_free(p->exempt.aggregation_users);
    sa_nameset_free(p->exempt.users);
    sa_nameset_free(p->exempt.groups);
    sa_nameset_free(p->impersonation.names);
    sa_policy_audiences_free(p);
    free(p);
}

void sa_policy_summary(const sa_policy *p, sa_buf *out)
{
    int per_mode[SA_MODE_COUNT] = {0};
    for (int i = 0; i < SA_RULE_COUNT; i++)
        per_mode[p->modes[i]]++;
    sa_buf_printf(
        out,
        "exemptNamespaces=%zu containers=%zu forbiddenEnv=%zu tokenAudiences=%zu "
        "apiAudiences=%zu sessionServiceAccounts=%zu namespaceGroups=%zu "
        "allowedRoles=%zu everyoneRoles=%zu exempt.objectLabels=%zu "
        "exempt.bootstrapUsers=%zu exempt.aggregationUsers=%zu exempt.users=%zu "
        "exempt.groups=%zu "
        "impersonation.names=%zu audiences=%zu modes=enforce:%d,warn:%d,audit:%d",
        sa_nameset_count(p->exempt_namespaces), sa_nameset_count(p->sessions.containers),
        sa_nameset_count(p->sessions.forbidden_env), sa_nameset_count(p->sessions.token_audiences),
        sa_nameset_count(p->sessions.api_audiences),
        sa_nameset_count(p->bindings.session_service_accounts),
        sa_nameset_count(p->bindings.namespace_groups), sa_map_count(p->bindings.allowed_roles),
        sa_nameset_count(p->bindings.everyone_roles), sa_map_count(p->exempt.object_labels),
        sa_nameset_count(p->exempt.bootstrap_users), sa_nameset_count(p->exempt.aggregation_users),
        sa_nameset_count(p->exempt.users), sa_nameset_count(p->exempt.groups),
        sa_nameset_count(p->impersonation.names), p->naudiences, per_mode[SA_MODE_ENFORCE],
        per_mode[SA_MODE_WARN], per_mode[SA_MODE_AUDIT]);
}
