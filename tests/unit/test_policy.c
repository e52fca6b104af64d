/* test_policy.c: the YAML policy loader: defaults, the built-in example, every table, the
 * session ServiceAccount template, large tables, and the catalog of broken policies in
 * tests/policy/broken (each NN-name.yaml beside NN-name.expected, the exact error lines with
 * FILE for the file name). Runs in tests/. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sa_policy.h"
#include "sa_test.h"

#define HEADER "apiVersion: session-admission/v1alpha1\nkind: Policy\n"

static sa_policy *load(const char *text, sa_buf *errors)
{
    return sa_policy_load_text("test.yaml", text, strlen(text), errors);
}

static void check_defaults(const sa_policy *p)
{
    SA_CHECK_STR(p->sessions.label, "ambient-code.io/session-id");
    SA_CHECK_STR(p->sessions.sa_template, "session-{id}-sa");
    SA_CHECK_INT(p->sessions.id_max_length, 40);
    SA_CHECK_INT(p->sessions.on_mismatch, SA_MISMATCH_OVERRIDE);
    SA_CHECK_STR(p->sessions.key_env, "AMBIENT_CP_TOKEN_PUBLIC_KEY");
    SA_CHECK_STR(p->sessions.key_file, "/etc/session-admission/keys/public.pem");
    SA_CHECK(sa_nameset_match(p->sessions.containers, "ambient-code-runner"));
    SA_CHECK(sa_nameset_match(p->sessions.containers, "credential-github"));
    SA_CHECK_INT(p->sessions.init_containers, 0);
    SA_CHECK_STR(p->sessions.fingerprint_annotation, "ambient-code.io/cp-token-key-sha256");
    SA_CHECK(sa_nameset_match(p->sessions.forbidden_env, "GITHUB_TOKEN"));
    SA_CHECK(sa_nameset_match(p->sessions.forbidden_env, "JIRA_API_TOKEN"));
    SA_CHECK(!sa_nameset_match(p->sessions.forbidden_env, "HOME"));
    SA_CHECK_INT(sa_nameset_count(p->sessions.token_audiences), 0);
    SA_CHECK(sa_nameset_match(p->sessions.api_audiences,
                              "https://kubernetes.default.svc.cluster.local"));
    SA_CHECK(sa_nameset_match(p->sessions.api_audiences, "kubernetes.default.svc"));
    SA_CHECK(!sa_nameset_match(p->sessions.api_audiences, "api://AzureADTokenExchange"));
    SA_CHECK(sa_nameset_match(p->bindings.everyone_roles, "system:basic-user"));
    SA_CHECK(sa_nameset_match(p->bindings.everyone_roles, "system:openshift:scc:restricted-v2"));
    SA_CHECK(!sa_nameset_match(p->bindings.everyone_roles, "cluster-admin"));
    SA_CHECK(sa_nameset_match(p->exempt.bootstrap_users, "system:apiserver"));
    SA_CHECK(sa_nameset_match(p->exempt.aggregation_users, "system:kube-controller-manager"));
    SA_CHECK(
        sa_nameset_match(p->exempt.aggregation_users,
                         "system:serviceaccount:kube-system:clusterrole-aggregation-controller"));
    SA_CHECK(!sa_nameset_match(p->exempt.aggregation_users, "system:apiserver"));
    SA_CHECK_INT(p->modes[SA_RULE_SESSION_ENV_FROM_SECRET], SA_MODE_ENFORCE);
    SA_CHECK(sa_nameset_match(p->exempt_namespaces, "kube-system"));
    SA_CHECK(sa_nameset_match(p->exempt_namespaces, "kube-node-lease"));
    SA_CHECK(!sa_nameset_match(p->exempt_namespaces, "ambient-code"));
    SA_CHECK(sa_nameset_match(p->bindings.session_service_accounts, "session-abc-sa"));
    SA_CHECK(!sa_nameset_match(p->bindings.session_service_accounts, "default"));
    SA_CHECK(sa_nameset_match(p->bindings.namespace_groups, "any-namespace"));
    const sa_role_row *puller =
        sa_map_get(p->bindings.allowed_roles, "ClusterRole/system:image-puller");
    const sa_role_row *builder =
        sa_map_get(p->bindings.allowed_roles, "ClusterRole/system:image-builder");
    SA_CHECK(puller && puller->scope == SA_SCOPE_NAMESPACE && puller->cross_namespace == 1);
    SA_CHECK(builder && builder->scope == SA_SCOPE_NAMESPACE && builder->cross_namespace == 0);
    SA_CHECK_INT(sa_map_count(p->bindings.allowed_roles), 2);
    SA_CHECK_STR(sa_map_get(p->exempt.object_labels, "kubernetes.io/bootstrapping"),
                 "rbac-defaults");
    SA_CHECK_INT(sa_nameset_count(p->exempt.users), 0);
    SA_CHECK_INT(p->impersonation.resources, SA_RBAC_IMP_USERS);
    SA_CHECK_INT(sa_nameset_count(p->impersonation.names), 0);
    SA_CHECK_INT(p->naudiences, 1);
    const sa_audience_row *az = sa_map_get(p->audience_index, "api://AzureADTokenExchange");
    SA_CHECK(az == &p->audiences[0]);
    if (az) {
        SA_CHECK_INT(az->nroles, 1);
        SA_CHECK_INT(az->nsubjects, 1);
        SA_CHECK_STR(az->subjects[0].kind, "Group");
        SA_CHECK_STR(az->subjects[0].name, "system:nodes");
        SA_CHECK_STR(az->subjects[0].namespace_, "");
    }
    const sa_audience_list *l =
        sa_map_get(p->audience_roles, "system:node:credential-provider-token-audience");
    SA_CHECK(l && l->n == 1 && l->rows[0] == az);
    for (int i = 0; i < SA_RULE_COUNT; i++)
        SA_CHECK_INT(p->modes[i], SA_MODE_ENFORCE);
}

/* The compiled-in example, the file itself and a policy of only apiVersion and kind are the
 * same policy: the example documents the defaults. */
static void test_builtin_is_defaults(void)
{
    sa_buf errors = SA_BUF_INIT, s1 = SA_BUF_INIT, s2 = SA_BUF_INIT, s3 = SA_BUF_INIT;
    sa_policy *builtin = sa_policy_builtin(&errors);
    sa_policy *file = sa_policy_load_file("../examples/policy.yaml", &errors);
    sa_policy *minimal = load(HEADER, &errors);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    SA_CHECK(builtin && file && minimal);
    if (builtin && file && minimal) {
        SA_CHECK_STR(builtin->source, "<built-in>");
        check_defaults(builtin);
        check_defaults(file);
        check_defaults(minimal);
        sa_policy_summary(builtin, &s1);
        sa_policy_summary(file, &s2);
        sa_policy_summary(minimal, &s3);
        SA_CHECK_STR(sa_buf_str(&s1), sa_buf_str(&s3));
        SA_CHECK_STR(sa_buf_str(&s2), sa_buf_str(&s3));
        SA_CHECK_STR(sa_buf_str(&s1),
                     "exemptNamespaces=3 containers=1 forbiddenEnv=3 tokenAudiences=0 "
                     "apiAudiences=3 sessionServiceAccounts=1 namespaceGroups=1 allowedRoles=2 "
                     "everyoneRoles=18 exempt.objectLabels=1 exempt.bootstrapUsers=1 "
                     "exempt.aggregationUsers=2 exempt.users=0 exempt.groups=0 "
                     "impersonation.names=0 audiences=1 modes=enforce:7,warn:0,audit:0");
    }
    sa_policy_free(builtin);
    sa_policy_free(file);
    sa_policy_free(minimal);
    sa_buf_free(&errors);
    sa_buf_free(&s1);
    sa_buf_free(&s2);
    sa_buf_free(&s3);
}

static void test_custom_values(void)
{
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = load(
        HEADER
        "exemptNamespaces: [kube-system, 'team-*']\n"
        "sessions:\n"
        "  label: example.com/sid\n"
        "  serviceAccount: {template: 'ambient-session-{id}', idMaxLength: 20, onMismatch: deny}\n"
        "  publicKey:\n"
        "    env: CP_KEY\n"
        "    containers: [ambient-code-runner, 'credential-*']\n"
        "    initContainers: true\n"
        "  tokenAudiences: [https://vault.example.com]\n"
        "bindings:\n"
        "  sessionServiceAccounts: [ambient-session-*, 'session-*-sa']\n"
        "  namespaceGroups: []\n"
        "  allowedRoles:\n"
        "    - {kind: Role, name: reader}\n"
        "    - {kind: ClusterRole, name: view, scope: any}\n"
        "    - {kind: ClusterRole, name: admin-lite, scope: cluster, crossNamespace: false}\n"
        "exempt:\n"
        "  users: [system:kube-controller-manager]\n"
        "  groups: ['system:masters']\n"
        "impersonation:\n"
        "  resources: [users, groups, userextras/*, uids, serviceaccounts]\n"
        "  names: [alice@example.com, bob@example.com]\n"
        "audiences:\n"
        "  - audience: a\n"
        "    roles: [r1, r2]\n"
        "    subjects: [{kind: ServiceAccount, name: s, namespace: ns}, {kind: User, name: u}]\n"
        "  - audience: b\n"
        "    roles: [r1]\n"
        "    subjects: []\n"
        "modes: {rbac-impersonation: warn, session-pod: audit}\n",
        &errors);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    SA_CHECK(p != NULL);
    if (!p)
        return;
    SA_CHECK(sa_nameset_match(p->exempt_namespaces, "team-a"));
    SA_CHECK(!sa_nameset_match(p->exempt_namespaces, "kube-public"));
    SA_CHECK_STR(p->sessions.label, "example.com/sid");
    SA_CHECK_INT(p->sessions.id_max_length, 20);
    SA_CHECK_INT(p->sessions.on_mismatch, SA_MISMATCH_DENY);
    SA_CHECK_STR(p->sessions.key_env, "CP_KEY");
    /* Absent keys of a present section still take their defaults. */
    SA_CHECK_STR(p->sessions.key_file, "/etc/session-admission/keys/public.pem");
    SA_CHECK_STR(p->sessions.fingerprint_annotation, "ambient-code.io/cp-token-key-sha256");
    SA_CHECK(sa_nameset_match(p->sessions.forbidden_env, "GITLAB_TOKEN"));
    SA_CHECK(sa_nameset_match(p->sessions.containers, "credential-jira"));
    SA_CHECK(!sa_nameset_match(p->sessions.containers, "ambient-mcp"));
    SA_CHECK_INT(p->sessions.init_containers, 1);
    SA_CHECK(sa_nameset_match(p->sessions.token_audiences, "https://vault.example.com"));
    SA_CHECK(sa_nameset_match(p->bindings.session_service_accounts, "ambient-session-x"));
    SA_CHECK(sa_nameset_match(p->bindings.session_service_accounts, "session-x-sa"));
    SA_CHECK_INT(sa_nameset_count(p->bindings.namespace_groups), 0);
    const sa_role_row *r = sa_map_get(p->bindings.allowed_roles, "Role/reader");
    SA_CHECK(r && r->scope == SA_SCOPE_NAMESPACE && !r->cross_namespace);
    r = sa_map_get(p->bindings.allowed_roles, "ClusterRole/view");
    SA_CHECK(r && r->scope == SA_SCOPE_ANY);
    r = sa_map_get(p->bindings.allowed_roles, "ClusterRole/admin-lite");
    SA_CHECK(r && r->scope == SA_SCOPE_CLUSTER);
    SA_CHECK(sa_map_get(p->bindings.allowed_roles, "ClusterRole/system:image-puller") == NULL);
    /* exempt.objectLabels was absent: its default stays. */
    SA_CHECK_INT(sa_map_count(p->exempt.object_labels), 1);
    SA_CHECK(sa_nameset_match(p->exempt.users, "system:kube-controller-manager"));
    SA_CHECK_INT(p->impersonation.resources, SA_RBAC_IMP_USERS | SA_RBAC_IMP_GROUPS |
                                                 SA_RBAC_IMP_SERVICEACCOUNTS |
                                                 SA_RBAC_IMP_USEREXTRAS | SA_RBAC_IMP_UIDS);
    SA_CHECK(sa_nameset_match(p->impersonation.names, "bob@example.com"));
    SA_CHECK(!sa_nameset_match(p->impersonation.names, "eve@example.com"));
    SA_CHECK_INT(p->naudiences, 2);
    SA_CHECK(sa_map_get(p->audience_index, "api://AzureADTokenExchange") == NULL);
    const sa_audience_list *l = sa_map_get(p->audience_roles, "r1");
    SA_CHECK(l && l->n == 2 && l->rows[0] == &p->audiences[0] && l->rows[1] == &p->audiences[1]);
    l = sa_map_get(p->audience_roles, "r2");
    SA_CHECK(l && l->n == 1);
    SA_CHECK_STR(p->audiences[0].subjects[0].namespace_, "ns");
    SA_CHECK_STR(p->audiences[0].subjects[1].kind, "User");
    SA_CHECK_INT(p->modes[SA_RULE_RBAC_IMPERSONATION], SA_MODE_WARN);
    SA_CHECK_INT(p->modes[SA_RULE_SESSION_POD], SA_MODE_AUDIT);
    SA_CHECK_INT(p->modes[SA_RULE_RBAC_SESSION_BINDING], SA_MODE_ENFORCE);
    sa_policy_free(p);
    sa_buf_free(&errors);
}

static void check_sa(const sa_policy *p, const char *id, const char *want)
{
    sa_buf out = SA_BUF_INIT;
    int rc = sa_policy_session_sa(p, id, &out);
    if (want) {
        SA_CHECK_INT(rc, 0);
        SA_CHECK_STR(sa_buf_str(&out), want);
    } else if (rc != -1) {
        fprintf(stderr, "session id '%s' formed '%s', want a refusal\n", id, sa_buf_str(&out));
        SA_CHECK_INT(rc, -1);
    }
    sa_buf_free(&out);
}

static void test_session_sa(void)
{
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = load(HEADER, &errors);
    check_sa(p, "abc", "session-abc-sa");
    check_sa(p, "MixedCase-ID", "session-mixedcase-id-sa");
    /* 45 characters: lower-cased and cut to the first 40 */
    check_sa(p, "AbCdEfGhIj0123456789KlMnOpQrSt0123456789XYZWV",
             "session-abcdefghij0123456789klmnopqrst0123456789-sa");
    /* a cut that ends in '-' is still inside the name, so valid */
    check_sa(p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b",
             "session-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa--sa");
    check_sa(p, "a.b", "session-a.b-sa");
    check_sa(p, "", NULL);
    check_sa(p, "under_score", NULL);
    check_sa(p, "dot.", NULL); /* "session-dot.-sa": a label ending in '-' follows '.' */
    check_sa(p, "sp ace", NULL);
    check_sa(p, "caf\xc3\xa9", NULL);
    sa_policy_free(p);

    /* A template ending in {id}: the cut can leave a trailing '-', which is denied. */
    p = load(HEADER
             "sessions: {serviceAccount: {template: 'ambient-session-{id}', idMaxLength: 5}}\n",
             &errors);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    check_sa(p, "Abcdefgh", "ambient-session-abcde");
    check_sa(p, "abcd-efgh", NULL);
    sa_policy_free(p);
    sa_buf_free(&errors);
}

/* Every file of the catalog fails with exactly its expected lines. */
static void test_broken_catalog(void)
{
    glob_t g;
    SA_CHECK_INT(glob("policy/broken/*.yaml", 0, NULL, &g), 0);
    SA_CHECK(g.gl_pathc >= 25);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        sa_buf text = SA_BUF_INIT, want = SA_BUF_INIT, errors = SA_BUF_INIT;
        char err[256], expath[512];
        size_t n = strlen(path) - strlen(".yaml");
        snprintf(expath, sizeof expath, "%.*s.expected", (int)n, path);
        if (sa_buf_read_file(&text, path, 1 << 20, err, sizeof err) < 0 ||
            sa_buf_read_file(&want, expath, 1 << 20, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            SA_CHECK(!"catalog file unreadable");
        } else {
            sa_policy *p = sa_policy_load_text("FILE", sa_buf_str(&text), text.len, &errors);
            if (p || strcmp(sa_buf_str(&errors), sa_buf_str(&want)) != 0) {
                fprintf(stderr, "%s:\n got:\n%s want:\n%s", path, sa_buf_str(&errors),
                        sa_buf_str(&want));
                SA_CHECK(!"catalog mismatch");
            }
            sa_policy_free(p);
        }
        sa_buf_free(&text);
        sa_buf_free(&want);
        sa_buf_free(&errors);
    }
    globfree(&g);
}

static void test_file_errors(void)
{
    sa_buf errors = SA_BUF_INIT;
    SA_CHECK(sa_policy_load_file("policy/does-not-exist.yaml", &errors) == NULL);
    SA_CHECK_STR(sa_buf_str(&errors), "policy/does-not-exist.yaml:1:1: cannot load the policy: "
                                      "No such file or directory\n");
    sa_buf_reset(&errors);

    size_t big = 16u * 1024 * 1024 + 1;
    char *text = malloc(big);
    SA_CHECK(text != NULL);
    if (text) {
        memset(text, '#', big);
        SA_CHECK(sa_policy_load_text("big.yaml", text, big, &errors) == NULL);
        SA_CHECK_STR(sa_buf_str(&errors),
                     "big.yaml:1:1: the policy is larger than 16777216 bytes\n");
        free(text);
    }
    sa_buf_free(&errors);
}

/* A policy of 100,000 impersonation names and 10,000 allowed roles loads, and is quick. */
static void test_large_tables(void)
{
    sa_buf text = SA_BUF_INIT, errors = SA_BUF_INIT;
    sa_buf_puts(&text, HEADER "impersonation:\n  names:\n");
    for (int i = 0; i < 100000; i++)
        sa_buf_printf(&text, "    - operator-%d@example.com\n", i);
    sa_buf_puts(&text, "bindings:\n  allowedRoles:\n");
    for (int i = 0; i < 10000; i++)
        sa_buf_printf(&text, "    - {kind: ClusterRole, name: role-%d}\n", i);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sa_policy *p = sa_policy_load_text("big.yaml", text.data, text.len, &errors);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    if (p) {
        SA_CHECK_INT(sa_nameset_count(p->impersonation.names), 100000);
        SA_CHECK(sa_nameset_match(p->impersonation.names, "operator-99999@example.com"));
        SA_CHECK(sa_map_get(p->bindings.allowed_roles, "ClusterRole/role-9999") != NULL);
        printf("loaded %zu bytes, 110,000 rows in %.0f ms\n", text.len,
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    sa_policy_free(p);
    sa_buf_free(&text);
    sa_buf_free(&errors);
}

int main(void)
{
    SA_RUN(test_builtin_is_defaults);
    SA_RUN(test_custom_values);
    SA_RUN(test_session_sa);
    SA_RUN(test_broken_catalog);
    SA_RUN(test_file_errors);
    SA_RUN(test_large_tables);
    SA_TEST_END();
}
