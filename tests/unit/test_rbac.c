/* test_rbac.c: the RBAC model against tables of (rule, request) -> granted. Each row names the
 * authorizer's rule it pins down (kubernetes/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go,
 * plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows, and for impersonation
 * staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation/mode.go). */
#include <stdlib.h>
#include <string.h>

#include "sa_json.h"
#include "sa_rbac.h"
#include "sa_test.h"

static cJSON *json(const char *text)
{
    cJSON *doc = NULL;
    char err[128];
    if (sa_json_parse(text, strlen(text), &doc, err, sizeof err) < 0)
        fprintf(stderr, "bad test JSON: %s: %s\n", err, text);
    return doc;
}

/* The rule read for the model; one at a time. */
static const sa_rbac_rule *view(const cJSON *doc)
{
    static sa_rbac_rule r;
    sa_rbac_rule_read(&r, doc);
    return &r;
}

#define ANY SA_RBAC_ANY
#define EVERY SA_RBAC_EVERY

static void test_resource_requests(void)
{
    static const struct {
        const char *why, *rule;
        sa_rbac_request req;
        int granted;
        /* clang-format off */
    } rows[] = {
        /* VerbMatches */
        {"exact verb", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"get", "", "pods", "", "x"}, 1},
        {"other verb", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"list", "", "pods", "", ""}, 0},
        {"* verb matches every verb, impersonate included",
         "{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"users\"]}",
         {"impersonate", "", "users", "", "alice"}, 1},
        {"verbs are case-sensitive", "{\"verbs\":[\"Get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"get", "", "pods", "", ""}, 0},
        {"no verbs grant nothing", "{\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"get", "", "pods", "", ""}, 0},
        /* APIGroupMatches */
        {"core group is \"\"", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"get", "apps", "pods", "", ""}, 0},
        {"* group matches every group", "{\"verbs\":[\"get\"],\"apiGroups\":[\"*\"],\"resources\":[\"pods\"]}",
         {"get", "apps", "pods", "", ""}, 1},
        {"* group matches the core group", "{\"verbs\":[\"get\"],\"apiGroups\":[\"*\"],\"resources\":[\"pods\"]}",
         {"get", "", "pods", "", ""}, 1},
        /* ResourceMatches */
        {"* resource matches a subresource", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*\"]}",
         {"get", "", "pods", "log", ""}, 1},
        {"a resource does not match its subresources",
         "{\"verbs\":[\"create\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"create", "", "pods", "exec", ""}, 0},
        {"resource/subresource exactly", "{\"verbs\":[\"create\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/exec\"]}",
         {"create", "", "pods", "exec", ""}, 1},
        {"resource/subresource does not match the resource",
         "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/exec\"]}",
         {"get", "", "pods", "", ""}, 0},
        {"*/subresource matches any resource's subresource",
         "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*/exec\"]}",
         {"get", "", "pods", "exec", ""}, 1},
        {"*/subresource needs a subresource", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*/exec\"]}",
         {"get", "", "exec", "", ""}, 0},
        {"*/subresource is the whole subresource", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*/exe\"]}",
         {"get", "", "pods", "exec", ""}, 0},
        {"resource/* is literal, not a wildcard", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/*\"]}",
         {"get", "", "pods", "exec", ""}, 0},
        {"a prefix is no match", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pod\"]}",
         {"get", "", "pods", "", ""}, 0},
        {"userextras/key", "{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"userextras/scopes\"]}",
         {"impersonate", "authentication.k8s.io", "userextras", "scopes", "view"}, 1},
        {"some subresource: resource/x", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"userextras/a\"]}",
         {"get", "", "userextras", ANY, "v"}, 1},
        {"some subresource: */x", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*/a\"]}",
         {"get", "", "userextras", ANY, "v"}, 1},
        {"some subresource: the bare resource is none", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"userextras\"]}",
         {"get", "", "userextras", ANY, "v"}, 0},
        /* ResourceNameMatches */
        {"no resourceNames: every name", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"get", "", "pods", "", EVERY}, 1},
        {"empty resourceNames: every name",
         "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[]}",
         {"get", "", "pods", "", "anything"}, 1},
        {"resourceNames: exact", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\"]}",
         {"get", "", "pods", "", "a"}, 1},
        {"resourceNames: a request without a name is not granted",
         "{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\"]}",
         {"list", "", "pods", "", ""}, 0},
        {"resourceNames \"*\" is literal", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"*\"]}",
         {"get", "", "pods", "", "a"}, 0},
        {"resourceNames \"*\" matches the name \"*\"",
         "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"*\"]}",
         {"get", "", "pods", "", "*"}, 1},
        {"resourceNames: not every name", "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\"]}",
         {"get", "", "pods", "", EVERY}, 0},
        /* Wrong types grant nothing. */
        {"verbs not a list", "{\"verbs\":\"*\",\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
         {"get", "", "pods", "", ""}, 0},
        {"non-string items skipped", "{\"verbs\":[5,\"get\"],\"apiGroups\":[null,\"\"],\"resources\":[[],\"pods\"]}",
         {"get", "", "pods", "", ""}, 1},
        {"rule not an object", "[\"*\"]", {"get", "", "pods", "", ""}, 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *rule = json(rows[i].rule);
        int got = sa_rbac_allows(view(rule), &rows[i].req);
        if (got != rows[i].granted)
            fprintf(stderr, "row %zu (%s): got %d\n", i, rows[i].why, got);
        SA_CHECK_INT(got, rows[i].granted);
        cJSON_Delete(rule);
    }
}

/* NonResourceURLMatches */
static void test_urls(void)
{
    static const struct {
        const char *urls, *verb, *path;
        int granted;
        /* clang-format off */
    } rows[] = {
        {"[\"/healthz\"]", "get", "/healthz", 1},
        {"[\"/healthz\"]", "get", "/healthz/etcd", 0},
        {"[\"/healthz/*\"]", "get", "/healthz/etcd", 1},
        {"[\"/healthz/*\"]", "get", "/healthz", 0},
        {"[\"/hea*\"]", "get", "/healthz", 1},          /* a prefix once the star is cut */
        {"[\"/api**\"]", "get", "/apis", 1},            /* every trailing star is cut */
        {"[\"*\"]", "get", "/anything", 1},
        {"[\"/healthz\"]", "post", "/healthz", 0},      /* the verb still has to match */
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"verbs\":[\"get\"],\"nonResourceURLs\":%s}", rows[i].urls);
        cJSON *rule = json(text);
        SA_CHECK_INT(sa_rbac_allows_url(view(rule), rows[i].verb, rows[i].path), rows[i].granted);
        cJSON_Delete(rule);
    }
}

static void test_impersonation(void)
{
    static const struct {
        const char *rule;
        unsigned kinds;
        /* clang-format off */
    } rows[] = {
        /* legacy: users, groups, serviceaccounts in the core group ... */
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"\"],\"resources\":[\"users\",\"groups\"]}",
         SA_RBAC_IMP_USERS | SA_RBAC_IMP_GROUPS},
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"\"],\"resources\":[\"serviceaccounts\"],\"resourceNames\":[\"a\"]}",
         SA_RBAC_IMP_SERVICEACCOUNTS},
        /* ... uids and userextras/<key> in authentication.k8s.io */
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"\"],\"resources\":[\"uids\",\"userextras/a\"]}", 0},
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"uids\",\"*/scopes\"]}",
         SA_RBAC_IMP_UIDS | SA_RBAC_IMP_USEREXTRAS},
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"users\"]}", 0},
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"apps\"],\"resources\":[\"*\"]}", 0},
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}",
         SA_RBAC_IMP_USERS | SA_RBAC_IMP_GROUPS | SA_RBAC_IMP_SERVICEACCOUNTS | SA_RBAC_IMP_UIDS |
             SA_RBAC_IMP_USEREXTRAS},
        /* legacy impersonate never asks about nodes */
        {"{\"verbs\":[\"impersonate\"],\"apiGroups\":[\"*\"],\"resources\":[\"nodes\"]}", 0},
        /* constrained verbs, all in authentication.k8s.io */
        {"{\"verbs\":[\"impersonate:user-info\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"users\",\"groups\",\"uids\",\"userextras/x\"]}",
         SA_RBAC_IMP_USERS | SA_RBAC_IMP_GROUPS | SA_RBAC_IMP_UIDS | SA_RBAC_IMP_USEREXTRAS},
        {"{\"verbs\":[\"impersonate:user-info\"],\"apiGroups\":[\"\"],\"resources\":[\"users\"]}", 0},
        {"{\"verbs\":[\"impersonate:user-info\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"serviceaccounts\",\"nodes\"]}", 0},
        {"{\"verbs\":[\"impersonate:serviceaccount\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"serviceaccounts\"]}",
         SA_RBAC_IMP_SERVICEACCOUNTS},
        {"{\"verbs\":[\"impersonate:arbitrary-node\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"nodes\"],\"resourceNames\":[\"n1\"]}",
         SA_RBAC_IMP_NODES},
        {"{\"verbs\":[\"impersonate:associated-node\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"nodes\"]}",
         SA_RBAC_IMP_ASSOCIATED_NODE},
        /* associated-node is asked with the name "*": a named rule grants it not */
        {"{\"verbs\":[\"impersonate:associated-node\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"nodes\"],\"resourceNames\":[\"n1\"]}", 0},
        /* "*" verbs cover every form */
        {"{\"verbs\":[\"*\"],\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"nodes\"]}",
         SA_RBAC_IMP_NODES | SA_RBAC_IMP_ASSOCIATED_NODE},
        {"{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}", 0x7f},
        /* the action half alone grants no identity */
        {"{\"verbs\":[\"impersonate-on:user-info:list\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}", 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *rule = json(rows[i].rule);
        unsigned got = sa_rbac_impersonation(view(rule));
        if (got != rows[i].kinds)
            fprintf(stderr, "row %zu: %s\n", i, rows[i].rule);
        SA_CHECK_INT(got, rows[i].kinds);
        cJSON_Delete(rule);
    }
    SA_CHECK_STR(sa_rbac_imp_name(5), "nodes");
    SA_CHECK_STR(sa_rbac_imp_name(6), "associated-node");
}

static void test_unknown_verbs(void)
{
    static const struct {
        const char *verb;
        int unknown;
        /* clang-format off */
    } rows[] = {
        {"impersonate", 0},
        {"impersonate:user-info", 0},
        {"impersonate:serviceaccount", 0},
        {"impersonate:arbitrary-node", 0},
        {"impersonate:associated-node", 0},
        {"impersonate-on:user-info:list", 0},
        {"impersonate-on:arbitrary-node:create", 0},
        {"impersonate:scheduled-node", 1},  /* KEP-5284's earlier name, never implemented */
        {"impersonate:user-infox", 1},
        {"impersonate:", 1},
        {"impersonate-on:user-info:", 1},
        {"impersonate-on:user-info", 1},
        {"impersonate-on:other:get", 1},
        {"impersonates", 1},
        {"Impersonate", 0},                 /* matches nothing: verbs are case-sensitive */
        {"get", 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[160];
        snprintf(text, sizeof text, "{\"verbs\":[\"get\",\"%s\"]}", rows[i].verb);
        cJSON *rule = json(text);
        const char *got = sa_rbac_unknown_impersonate_verb(view(rule));
        SA_CHECK_INT(got != NULL, rows[i].unknown);
        if (got)
            SA_CHECK_STR(got, rows[i].verb);
        cJSON_Delete(rule);
    }
}

static void test_core_resources(void)
{
    const char *const *list;
    size_t n = sa_rbac_core_list(&list);
    for (size_t i = 1; i < n; i++)
        SA_CHECK(strcmp(list[i - 1], list[i]) < 0); /* bsearch needs the order */
    for (size_t i = 0; i < n; i++)
        SA_CHECK(sa_rbac_core_resource(list[i]));
    SA_CHECK(sa_rbac_core_resource("pods/exec"));
    SA_CHECK(sa_rbac_core_resource("serviceaccounts/token"));
    SA_CHECK(sa_rbac_core_resource("nodes/proxy"));
    SA_CHECK(sa_rbac_core_resource("*/scale")); /* replicationcontrollers/scale */
    SA_CHECK(sa_rbac_core_resource("*/exec"));
    SA_CHECK(!sa_rbac_core_resource("*/nope"));
    SA_CHECK(!sa_rbac_core_resource("*"));
    SA_CHECK(!sa_rbac_core_resource("*/"));
    SA_CHECK(!sa_rbac_core_resource("vault"));
    /* OpenShift's legacy resources in the group "" (issue 19 part 5) */
    SA_CHECK(sa_rbac_core_resource("projects"));
    SA_CHECK(sa_rbac_core_resource("buildconfigs/instantiate"));
    SA_CHECK(sa_rbac_core_resource("*/instantiate"));
    /* ... as openshift/origin's groups_default_rules.go lists them in its legacy groups "" */
    SA_CHECK(sa_rbac_core_resource("builds/source"));
    SA_CHECK(sa_rbac_core_resource("builds/jenkinspipeline"));
    SA_CHECK(sa_rbac_core_resource("imagetags"));
    SA_CHECK(sa_rbac_core_resource("clusterroles"));
    SA_CHECK(sa_rbac_core_resource("*/docker"));
    SA_CHECK(!sa_rbac_core_resource("deployments"));
    SA_CHECK(!sa_rbac_core_resource("api://AzureADTokenExchange"));
    SA_CHECK(!sa_rbac_core_resource("Pods"));
}

static int count_grant(void *ctx, const sa_rbac_grant *g)
{
    (void)g;
    ++*(int *)ctx;
    return 0;
}

static void test_grants_and_cover(void)
{
    cJSON *rule =
        json("{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\",\"apps\"],"
             "\"resources\":[\"pods\",\"deployments\",\"*/scale\"],\"resourceNames\":[\"a\",\"b\"],"
             "\"nonResourceURLs\":[\"/x\"]}");
    int n = 0;
    SA_CHECK_INT(sa_rbac_each_grant(view(rule), 100, count_grant, &n), 0);
    SA_CHECK_INT(n, 2 * 2 * 3 * 2 + 2);
    n = 0;
    SA_CHECK_INT(sa_rbac_each_grant(view(rule), 25, count_grant, &n), -1); /* 26 grants */
    SA_CHECK_INT(n, 0);
    cJSON_Delete(rule);

    static const struct {
        const char *rule;
        sa_rbac_grant g;
        int covers;
        /* clang-format off */
    } rows[] = {
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"get", "", "pods", NULL}, 1},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"get", "", "pods", "a"}, 1},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\"]}",
         {"get", "", "pods", NULL}, 0},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"*", "", "pods", NULL}, 0},
        {"{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"*", "", "pods", NULL}, 1},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"get", "*", "pods", NULL}, 0},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"get", "", "*", NULL}, 0},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*\"]}", {"get", "", "pods/exec", NULL}, 1},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*/exec\"]}", {"get", "", "pods/exec", NULL}, 1},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/exec\"]}", {"get", "", "*/exec", NULL}, 0},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", {"get", "", "pods/exec", NULL}, 0},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/*\"]}", {"get", NULL, "/api/v1", NULL}, 1},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/v1\"]}", {"get", NULL, "/api/*", NULL}, 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *r = json(rows[i].rule);
        int got = sa_rbac_covers(view(r), &rows[i].g);
        if (got != rows[i].covers)
            fprintf(stderr, "cover row %zu\n", i);
        SA_CHECK_INT(got, rows[i].covers);
        cJSON_Delete(r);
    }
}

int main(void)
{
    SA_RUN(test_resource_requests);
    SA_RUN(test_urls);
    SA_RUN(test_impersonation);
    SA_RUN(test_unknown_verbs);
    SA_RUN(test_core_resources);
    SA_RUN(test_grants_and_cover);
    SA_TEST_END();
}
