/* test_validate.c: the validators' tricky helpers (who is a session identity, how objects are
 * named), the exemptions in front of them, the audience
 * subject intersection, and malformed objects that must be skipped, never trusted. The fixtures
 * in tests/validate/ cover the rules end to end through review and the server. */
#include <stdlib.h>
#include <string.h>

#include "sa_pubkey.h"
#include "sa_test.h"
#include "sa_validate.h"

extern const char sa_example_public_key[];
extern const size_t sa_example_public_key_len;

static const char base_policy[] =
    "apiVersion: session-admission/v1alpha1\n"
    "kind: Policy\n"
    "bindings:\n"
    "  namespaceGroups: [\"team-*\"]\n"
    "exempt:\n"
    "  objectLabels: {a: \"1\", b: \"2\"}\n"
    "  users: [root]\n"
    "  groups: [\"ops:*\"]\n"
    "impersonation:\n"
    "  resources: [users, uids]\n"
    "  names: [alice]\n"
    "audiences:\n"
    "  - {audience: aud-one, roles: [both], subjects: [{kind: Group, name: system:nodes},\n"
    "                                                  {kind: User, name: carol}]}\n"
    "  - {audience: aud-two, roles: [both], subjects: [{kind: Group, name: system:nodes}]}\n";

static sa_snapshot *snapshot(const char *policy_text)
{
    sa_buf errors = SA_BUF_INIT;
    char err[256];
    sa_policy *p = sa_policy_load_text("test", policy_text, strlen(policy_text), &errors);
    if (!p)
        fprintf(stderr, "policy refused:\n%s", sa_buf_str(&errors));
    sa_buf_free(&errors);
    sa_pubkey *k = sa_pubkey_parse(sa_example_public_key, sa_example_public_key_len, err, sizeof err);
    return sa_snapshot_new(p, k);
}

static cJSON *json(const char *text)
{
    cJSON *doc = NULL;
    char err[128];
    if (sa_json_parse(text, strlen(text), &doc, err, sizeof err) < 0)
        fprintf(stderr, "bad test JSON: %s\n", err);
    return doc;
}

/* ---- session identities ------------------------------------------------------------------ */

static void test_session_identity(void)
{
    static const struct {
        const char *subject;
        int session, service_account, all;
        const char *ns, *name;          /* NULL: not checked */
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
    sa_snapshot *s = snapshot(base_policy);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *doc = json(cases[i].subject);
        sa_identity id;
        SA_CHECK_INT(sa_validate_session_identity(s->policy, doc, "q", &id), cases[i].session);
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
    sa_snapshot_release(s);

    /* With namespaceGroups: [] no ServiceAccount group is judged, the all-SAs one included. */
    s = snapshot("apiVersion: session-admission/v1alpha1\nkind: Policy\nbindings: {namespaceGroups: []}\n");
    cJSON *all = json("{\"kind\":\"Group\",\"name\":\"system:serviceaccounts\"}");
    cJSON *team = json("{\"kind\":\"Group\",\"name\":\"system:serviceaccounts:team-a\"}");
    sa_identity id;
    SA_CHECK_INT(sa_validate_session_identity(s->policy, all, "q", &id), 0);
    SA_CHECK_INT(sa_validate_session_identity(s->policy, team, "q", &id), 0);
    cJSON_Delete(all);
    cJSON_Delete(team);
    sa_snapshot_release(s);
}

/* ---- naming objects ------------------------------------------------------------------------- */

static void describe(const char *kind, const char *ns, const char *name, const char *object,
                     const char *want)
{
    sa_review r = {.kind = kind, .namespace_ = ns, .name = name};
    cJSON *doc = object ? json(object) : NULL;
    r.object = doc;
    char out[128];
    sa_validate_describe(&r, out, sizeof out);
    SA_CHECK_STR(out, want);
    cJSON_Delete(doc);
}

static void test_describe(void)
{
    describe("RoleBinding", "p", "x", "{\"metadata\":{\"name\":\"x\"}}", "RoleBinding p/x");
    describe("ClusterRole", "", "x", "{\"metadata\":{\"name\":\"x\"}}", "ClusterRole x");
    describe("Pod", "p", "", "{\"metadata\":{\"generateName\":\"runner-\"}}", "Pod p/runner-*");
    describe("Pod", "p", "from-request", "{\"metadata\":{\"name\":5}}", "Pod p/from-request");
    describe("Role", "p", "r", NULL, "Role p/r");
}

/* ---- through sa_admit: exemptions and whole handlers ------------------------------------------ */

enum { ALLOWED, DENIED, UNUSABLE };

/* Judges a /validate review built from its parts: ALLOWED, DENIED, or UNUSABLE (not a 200).
 * With body non-NULL, the response is handed over there (free it). */
static int admit(const sa_snapshot *s, const char *group, const char *kind, const char *op,
                 const char *ns, const char *user, const char *groups, const char *object,
                 char **body)
{
    sa_buf in = SA_BUF_INIT;
    sa_buf_printf(&in,
                  "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
                  "\"uid\":\"u\",\"kind\":{\"group\":\"%s\",\"version\":\"v1\",\"kind\":\"%s\"},"
                  "\"namespace\":\"%s\",\"name\":\"x\",\"operation\":\"%s\","
                  "\"userInfo\":{\"username\":\"%s\",\"groups\":%s},\"object\":%s}}",
                  group, kind, ns, op, user, groups, object);
    sa_admit_result res;
    sa_admit(s, SA_ENDPOINT_VALIDATE, sa_buf_str(&in), in.len, &res);
    sa_buf_free(&in);
    int out = res.http_status != 200                        ? UNUSABLE
              : strstr(res.body, "\"allowed\":false") != NULL ? DENIED
                                                             : ALLOWED;
    if (body) {
        *body = res.body;
        res.body = NULL;
    }
    sa_admit_result_free(&res);
    return out;
}

#define RBAC "rbac.authorization.k8s.io"
static const char admin_binding[] =
    "{\"metadata\":{\"name\":\"x\",%s},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"admin\"},"
    "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"session-x-sa\",\"namespace\":\"p\"}]}";

static char *binding_with(const char *labels)
{
    static char buf[512];
    snprintf(buf, sizeof buf, admin_binding, labels);
    return buf;
}

static void test_exemptions(void)
{
    sa_snapshot *s = snapshot(base_policy);
    const char *none = "\"labels\":{}";
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[]", binding_with(none), NULL), DENIED);
    /* The labels exempt only a write by the cluster's own identity (exempt.bootstrapUsers, by
     * default system:apiserver), of any RBAC kind; every label, with its value, is needed. */
    const char *both = "\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}";
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[]", binding_with(both), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[]", binding_with(both), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", "[]",
                       binding_with(both), NULL), ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "kube-public", "system:apiserver", "[]",
                       binding_with(both), NULL), ALLOWED);
    /* system:apiserver's own name as a group, or a look-alike user, is not that identity. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[\"system:apiserver\"]",
                       binding_with(both), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserverx", "[]",
                       binding_with(both), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", "[]",
                          binding_with("\"labels\":{\"a\":\"1\"}"), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", "[]",
                          binding_with("\"labels\":{\"a\":\"1\",\"b\":\"3\"}"), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", "[]",
                          binding_with("\"labels\":{\"a\":\"1\",\"b\":2}"), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", "[]",
                          binding_with("\"labels\":[\"a\",\"b\"]"), NULL), DENIED);
    /* The aggregation controller is exempt only for UPDATEs of a ClusterRole that already carried
     * the labels (oldObject; none here): its CREATE of a labelled binding is judged. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:kube-controller-manager",
                       "[]", binding_with(both), NULL), DENIED);
    /* A binding in an exempt namespace is judged when it grants a session identity (of any
     * namespace: RBAC grants the role in kube-system to it), not otherwise. */
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "kube-system", "u", "[]", binding_with(none), NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "kube-system", "u", "[]",
                       "{\"metadata\":{\"name\":\"x\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"admin\"},"
                       "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"builder\",\"namespace\":\"p\"}]}",
                       NULL), ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "Role", "CREATE", "kube-system", "u", "[]",
                       "{\"metadata\":{\"name\":\"x\"},\"rules\":[{\"apiGroups\":[\"\"],"
                       "\"resources\":[\"users\"],\"verbs\":[\"impersonate\"]}]}", NULL), ALLOWED);
    SA_CHECK_INT(admit(s, "", "Pod", "CREATE", "kube-system", "u", "[]",
                       "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"serviceAccountName\":\"session-x-sa\"}}",
                       NULL), ALLOWED);
    /* Users and groups (globs), exempt namespaces (kube-system by default). */
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "root", "[]", binding_with(none), NULL), ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[\"x\",\"ops:oncall\"]", binding_with(none), NULL), ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[\"opsx\"]", binding_with(none), NULL), DENIED);
    /* Removals are never judged; UPDATE is. */
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "DELETE", "p", "u", "[]", binding_with(none), NULL), ALLOWED);
    SA_CHECK_INT(admit(s, "", "Pod", "CONNECT", "p", "u", "[]", "null", NULL), ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "UPDATE", "p", "u", "[]", binding_with(none), NULL), DENIED);
    sa_snapshot_release(s);
}

/* A role granting two audiences may be bound only to subjects both rows allow. */
static void test_audience_intersection(void)
{
    sa_snapshot *s = snapshot(base_policy);
#define CRB "{\"metadata\":{\"name\":\"x\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"both\"}," \
            "\"subjects\":[%s]}"
    char obj[512];
    snprintf(obj, sizeof obj, CRB, "{\"kind\":\"Group\",\"name\":\"system:nodes\"}");
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[]", obj, NULL), ALLOWED);
    snprintf(obj, sizeof obj, CRB, "{\"kind\":\"User\",\"name\":\"carol\"}");
    char *body = NULL;
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[]", obj, &body), DENIED);
    SA_CHECK(body && strstr(body, "grants audience aud-two") && !strstr(body, "aud-one"));
    free(body);
    /* The Group system:nodes, not a User of that name. */
    snprintf(obj, sizeof obj, CRB, "{\"kind\":\"User\",\"name\":\"system:nodes\"}");
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[]", obj, NULL), DENIED);
    /* The rule half: a role naming an audience the row lists under another role. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
                          "{\"metadata\":{\"name\":\"other\"},\"rules\":[{\"apiGroups\":[\"\"],"
                          "\"resources\":[\"aud-one\"],\"verbs\":[\"request-serviceaccounts-token-audience\"]}]}", NULL), DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
                           "{\"metadata\":{\"name\":\"both\"},\"rules\":[{\"apiGroups\":[\"\"],"
                           "\"resources\":[\"aud-one\",\"aud-two\"],\"verbs\":[\"request-serviceaccounts-token-audience\"]}]}", NULL), ALLOWED);
    /* Another API group is not the node authorizer's question. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
                           "{\"metadata\":{\"name\":\"x\"},\"rules\":[{\"apiGroups\":[\"apps\"],"
                           "\"resources\":[\"*\"],\"verbs\":[\"request-serviceaccounts-token-audience\"]}]}", NULL), ALLOWED);
    sa_snapshot_release(s);
}

/* Objects of every wrong shape: skipped, never a crash (ASan and UBSan builds run this). */
static void test_malformed_objects(void)
{
    sa_snapshot *s = snapshot(base_policy);
    static const char *const shapes[] = {
        "null", "{}", "[]", "\"x\"", "5",
        "{\"metadata\":5,\"spec\":[],\"rules\":{},\"subjects\":\"x\",\"roleRef\":[]}",
        ("{\"metadata\":{\"labels\":{\"ambient-code.io/session-id\":\"x\"}},\"spec\":{\"containers\":"
         "[5,null,{\"env\":[1,{\"name\":5},{\"name\":\"GITHUB_TOKEN\"}]}],\"volumes\":[{\"projected\":"
         "{\"sources\":[{\"serviceAccountToken\":{\"audience\":5}},7]}}],\"initContainers\":{}}}"),
        ("{\"rules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[null,5,[]],"
         "\"resourceNames\":{}}],\"spec\":{\"audiences\":[5,null,\"\"]}}"),
    };
    static const struct {
        const char *group, *kind;
    } kinds[] = {{RBAC, "RoleBinding"},  {RBAC, "ClusterRoleBinding"},       {RBAC, "Role"},
                 {RBAC, "ClusterRole"}, {"authentication.k8s.io", "TokenRequest"}, {"", "Pod"}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            /* Non-object objects are the codec's 400; the rest reach the handlers. */
            int want = shapes[i][0] == '{' || shapes[i][0] == 'n' ? ALLOWED : UNUSABLE;
            int got = admit(s, kinds[k].group, kinds[k].kind, "UPDATE", "p", "u", "[]", shapes[i], NULL);
            SA_CHECK(got == want || (want == ALLOWED && got == DENIED));
        }
    sa_snapshot_release(s);
}

int main(void)
{
    SA_RUN(test_session_identity);
    SA_RUN(test_describe);
    SA_RUN(test_exemptions);
    SA_RUN(test_audience_intersection);
    SA_RUN(test_malformed_objects);
    SA_TEST_END();
}
