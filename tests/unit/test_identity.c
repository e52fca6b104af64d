/* test_identity.c: binding subjects read as the identities RBAC matches them against (every
 * spelling of a ServiceAccount and of the groups that hold them), and which of them are a
 * session's by the policy. */
#include <string.h>

#include "sa_identity.h"
#include "sa_test.h"
#include "sa_test_policy.h"

static void test_subjects(void)
{
    static const struct {
        const char *subject;
        int session, service_account, all;
        const char *ns, *name; /* NULL: not checked */
        /* clang-format off */
    } cases[] = {
        {"{\"kind\":\"ServiceAccount\",\"name\":\"session-x-sa\",\"namespace\":\"p\"}", 1, 1, 0, "p", "session-x-sa"},
        /* A RoleBinding's SA subject without namespace lives in the binding's namespace (q). */
        {"{\"kind\":\"ServiceAccount\",\"name\":\"session-x-sa\"}", 1, 1, 0, "q", "session-x-sa"},
        /* Not a session SA by name, but still read as an SA: the audience check needs it. */
        {"{\"kind\":\"ServiceAccount\",\"name\":\"builder\",\"namespace\":\"p\"}", 0, 1, 0, "p", "builder"},
        /* The SA's username as a User subject is the SA. */
        {"{\"kind\":\"User\",\"name\":\"system:serviceaccount:p:session-x-sa\"}", 1, 1, 0, "p", "session-x-sa"},
        {"{\"kind\":\"User\",\"name\":\"system:serviceaccount:no-colon\"}", 0, 0, 0, NULL, NULL},
        {"{\"kind\":\"User\",\"name\":\"session-x-sa\"}", 0, 0, 0, NULL, NULL},
        /* Namespace groups count only for namespaces in namespaceGroups (team-*). */
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccounts:team-a\"}", 1, 0, 0, "team-a", NULL},
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccounts:other\"}", 0, 0, 0, "other", NULL},
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccounts:\"}", 0, 0, 0, NULL, NULL},
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccountsX\"}", 0, 0, 0, NULL, NULL},
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccounts\"}", 1, 0, 1, NULL, NULL},
        /* Wrong shapes are no identity at all. */
        {"{\"kind\":7,\"name\":\"session-x-sa\"}", 0, 0, 0, NULL, NULL},
        {"[\"ServiceAccount\"]", 0, 0, 0, NULL, NULL},
        {"{\"kind\":\"ServiceAccount\",\"name\":[\"session-x-sa\"]}", 0, 1, 0, "q", ""},
    };
    /* clang-format on */
    sa_policy *p = sa_test_policy("apiVersion: session-admission/v1alpha1\nkind: Policy\n"
                                  "bindings:\n  namespaceGroups: [\"team-*\"]\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *doc = cJSON_Parse(cases[i].subject);
        sa_identity id;
        SA_CHECK_INT(sa_identity_from_subject(p, doc, "q", &id), cases[i].session);
        SA_CHECK_INT(id.service_account, cases[i].service_account);
        SA_CHECK_INT(id.all_namespaces, cases[i].all);
        if (cases[i].ns) {
            SA_CHECK_INT(id.ns_len, strlen(cases[i].ns));
            SA_CHECK(id.ns && strncmp(id.ns, cases[i].ns, id.ns_len) == 0);
        }
        if (cases[i].name)
            SA_CHECK_STR(id.name, cases[i].name);
        if (id.service_account)
            SA_CHECK_STR(id.kind, "ServiceAccount");
        cJSON_Delete(doc);
    }
    sa_policy_free(p);
}

/* Whatever namespaceGroups says, the subjects every session is count: every ServiceAccount,
 * every authenticated identity, and the anonymous identity a session becomes by leaving its
 * token out (user system:anonymous, group system:unauthenticated: kubernetes
 * staging/src/k8s.io/apiserver/pkg/authentication/request/anonymous/anonymous.go). Namespace
 * groups follow namespaceGroups, and near misses of the names are nobody in particular. */
static void test_everyone_without_namespace_groups(void)
{
    static const struct {
        const char *subject;
        int session;
        /* clang-format off */
    } cases[] = {
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccounts\"}", 1},
        {"{\"kind\":\"Group\",\"name\":\"system:authenticated\"}", 1},
        {"{\"kind\":\"Group\",\"name\":\"system:unauthenticated\"}", 1},
        {"{\"kind\":\"User\",\"name\":\"system:anonymous\"}", 1},
        {"{\"kind\":\"Group\",\"name\":\"system:serviceaccounts:team-a\"}", 0},
        {"{\"kind\":\"Group\",\"name\":\"system:anonymous\"}", 0},
        {"{\"kind\":\"User\",\"name\":\"system:authenticated\"}", 0},
        {"{\"kind\":\"User\",\"name\":\"system:unauthenticated\"}", 0},
        {"{\"kind\":\"Group\",\"name\":\"system:authenticatedX\"}", 0},
    };
    /* clang-format on */
    sa_policy *p = sa_test_policy("apiVersion: session-admission/v1alpha1\nkind: Policy\n"
                                  "bindings: {namespaceGroups: []}\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *doc = cJSON_Parse(cases[i].subject);
        sa_identity id;
        SA_CHECK_INT(sa_identity_from_subject(p, doc, "q", &id), cases[i].session);
        SA_CHECK_INT(id.all_namespaces, cases[i].session);
        cJSON_Delete(doc);
    }
    sa_policy_free(p);
}

int main(void)
{
    SA_RUN(test_subjects);
    SA_RUN(test_everyone_without_namespace_groups);
    SA_TEST_END();
}
