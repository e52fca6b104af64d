/* test_validate.c: the validators through sa_admit: how messages name objects, the exemptions in
 * front of the validators, the audience subject intersection, and malformed objects that must be
 * skipped, never trusted. Who is a session identity is test_identity.c's. The fixtures in
 * tests/validate/ cover the rules end to end through review and the server. */
#include <stdlib.h>
#include <string.h>

#include "sa_admit.h"
#include "sa_pubkey.h"
#include "sa_test.h"
#include "sa_test_policy.h"

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
    char err[256];
    sa_pubkey *k =
        sa_pubkey_parse(sa_example_public_key, sa_example_public_key_len, err, sizeof err);
    sa_policy *p = sa_test_policy(policy_text);
    sa_snapshot *s = sa_snapshot_new(p, k);
    if (!s) {
        sa_policy_free(p);
        sa_pubkey_free(k);
    }
    return s;
}

/* ---- through sa_admit: exemptions and whole handlers ------------------------------------------ */

enum {
    ALLOWED,
    DENIED,
    UNUSABLE
};

/* Judges a /validate review built from its parts, request.name included: ALLOWED, DENIED, or
 * UNUSABLE (not a 200). With body non-NULL, the response is handed over there (free it). */
static int admit_named(const sa_snapshot *s, const char *group, const char *kind, const char *op,
                       const char *ns, const char *name, const char *user, const char *groups,
                       const char *object, char **body)
{
    sa_buf in = SA_BUF_INIT;
    sa_buf_printf(
        &in,
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
        "\"uid\":\"u\",\"kind\":{\"group\":\"%s\",\"version\":\"v1\",\"kind\":\"%s\"},"
        "\"namespace\":\"%s\",\"name\":\"%s\",\"operation\":\"%s\","
        "\"userInfo\":{\"username\":\"%s\",\"groups\":%s},\"object\":%s}}",
        group, kind, ns, name, op, user, groups, object);
    sa_admit_result res;
    sa_admit(s, SA_ENDPOINT_VALIDATE, sa_buf_str(&in), in.len, &res);
    sa_buf_free(&in);
    int out = res.http_status != 200                          ? UNUSABLE
              : strstr(res.body, "\"allowed\":false") != NULL ? DENIED
                                                              : ALLOWED;
    if (body) {
        *body = res.body;
        res.body = NULL;
    }
    sa_admit_result_free(&res);
    return out;
}

/* The same with request.name "x". */
static int admit(const sa_snapshot *s, const char *group, const char *kind, const char *op,
                 const char *ns, const char *user, const char *groups, const char *object,
                 char **body)
{
    return admit_named(s, group, kind, op, ns, "x", user, groups, object, body);
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

/* ---- naming objects in messages ----------------------------------------------------------- */

/* A CREATE of object (kind in ns, request.name name) is denied with a message naming it want. */
static void named(const sa_snapshot *s, const char *group, const char *kind, const char *ns,
                  const char *name, const char *object, const char *want)
{
    char *body = NULL;
    SA_CHECK_INT(admit_named(s, group, kind, "CREATE", ns, name, "u", "[]", object, &body), DENIED);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s: ", want);
    SA_CHECK(body && strstr(body, prefix));
    if (!body || !strstr(body, prefix))
        fprintf(stderr, "  wanted \"%s\" in %s\n", prefix, body ? body : "(no body)");
    free(body);
}

static void test_describe(void)
{
    sa_snapshot *s = snapshot(base_policy);
    named(s, RBAC, "RoleBinding", "p", "x", binding_with("\"labels\":{}"), "RoleBinding p/x");
    named(s, RBAC, "ClusterRole", "", "x",
          "{\"metadata\":{\"name\":\"x\"},\"rules\":[{\"apiGroups\":[\"\"],"
          "\"resources\":[\"users\"],\"verbs\":[\"impersonate\"]}]}",
          "ClusterRole x");
    /* A pod the API server has yet to name: its generateName, starred; else request.name when
     * metadata.name is not a string. */
    static const char pod[] =
        "{\"metadata\":{%s,\"labels\":{\"ambient-code.io/session-id\":\"x\"}},"
        "\"spec\":{\"serviceAccountName\":\"other\"}}";
    char obj[256];
    snprintf(obj, sizeof obj, pod, "\"generateName\":\"runner-\"");
    named(s, "", "Pod", "p", "", obj, "Pod p/runner-*");
    snprintf(obj, sizeof obj, pod, "\"name\":5");
    named(s, "", "Pod", "p", "from-request", obj, "Pod p/from-request");
    sa_snapshot_release(s);
}

#define MASTERS "[\"system:authenticated\",\"system:masters\"]"
static void test_exemptions(void)
{
    sa_snapshot *s = snapshot(base_policy);
    const char *none = "\"labels\":{}";
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[]", binding_with(none), NULL),
                 DENIED);
    /* The labels exempt only a write by the cluster's own identity (exempt.bootstrapUsers, by
     * default system:apiserver), of any RBAC kind; every label, with its value, is needed. */
    const char *both = "\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}";
    SA_CHECK_INT(
        admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[]", binding_with(both), NULL),
        DENIED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[]", binding_with(both), NULL),
                 DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", MASTERS,
                       binding_with(both), NULL),
                 ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "kube-public", "system:apiserver", MASTERS,
                       binding_with(both), NULL),
                 ALLOWED);
    /* The user name without the loopback client's group (apiserver pkg/server/config.go,
     * AuthorizeClientBearerToken: system:apiserver in system:masters) is not that identity. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", "[]",
                       binding_with(both), NULL),
                 DENIED);
    /* system:apiserver's own name as a group, or a look-alike user, is not that identity. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "u", "[\"system:apiserver\"]",
                       binding_with(both), NULL),
                 DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserverx", "[]",
                       binding_with(both), NULL),
                 DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", MASTERS,
                       binding_with("\"labels\":{\"a\":\"1\"}"), NULL),
                 DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", MASTERS,
                       binding_with("\"labels\":{\"a\":\"1\",\"b\":\"3\"}"), NULL),
                 DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", MASTERS,
                       binding_with("\"labels\":{\"a\":\"1\",\"b\":2}"), NULL),
                 DENIED);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "", "system:apiserver", MASTERS,
                       binding_with("\"labels\":[\"a\",\"b\"]"), NULL),
                 DENIED);
    /* The aggregation controller is exempt only for UPDATEs of a ClusterRole that already carried
     * the labels (oldObject; none here): its CREATE of a labelled binding is judged. */
    SA_CHECK_INT(admit(s, RBAC, "ClusterRoleBinding", "CREATE", "",
                       "system:kube-controller-manager", "[]", binding_with(both), NULL),
                 DENIED);
    /* A binding in an exempt namespace is judged when it grants a session identity (of any
     * namespace: RBAC grants the role in kube-system to it), not otherwise. */
    SA_CHECK_INT(
        admit(s, RBAC, "RoleBinding", "CREATE", "kube-system", "u", "[]", binding_with(none), NULL),
        DENIED);
    SA_CHECK_INT(
        admit(
            s, RBAC, "RoleBinding", "CREATE", "kube-system", "u", "[]",
            "{\"metadata\":{\"name\":\"x\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"admin\"},"
            "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"builder\",\"namespace\":\"p\"}]}",
            NULL),
        ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "Role", "CREATE", "kube-system", "u", "[]",
                       "{\"metadata\":{\"name\":\"x\"},\"rules\":[{\"apiGroups\":[\"\"],"
                       "\"resources\":[\"users\"],\"verbs\":[\"impersonate\"]}]}",
                       NULL),
                 ALLOWED);
    SA_CHECK_INT(
        admit(s, "", "Pod", "CREATE", "kube-system", "u", "[]",
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"serviceAccountName\":\"session-x-sa\"}}",
              NULL),
        ALLOWED);
    /* Users and groups (globs), exempt namespaces (kube-system by default). */
    SA_CHECK_INT(
        admit(s, RBAC, "RoleBinding", "CREATE", "p", "root", "[]", binding_with(none), NULL),
        ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[\"x\",\"ops:oncall\"]",
                       binding_with(none), NULL),
                 ALLOWED);
    SA_CHECK_INT(
        admit(s, RBAC, "RoleBinding", "CREATE", "p", "u", "[\"opsx\"]", binding_with(none), NULL),
        DENIED);
    /* Removals are never judged; UPDATE is. */
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "DELETE", "p", "u", "[]", binding_with(none), NULL),
                 ALLOWED);
    SA_CHECK_INT(admit(s, "", "Pod", "CONNECT", "p", "u", "[]", "null", NULL), ALLOWED);
    SA_CHECK_INT(admit(s, RBAC, "RoleBinding", "UPDATE", "p", "u", "[]", binding_with(none), NULL),
                 DENIED);
    sa_snapshot_release(s);
}

/* A role granting two audiences may be bound only to subjects both rows allow. */
static void test_audience_intersection(void)
{
    sa_snapshot *s = snapshot(base_policy);
#define CRB                                                                                    \
    "{\"metadata\":{\"name\":\"x\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"both\"}," \
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
    SA_CHECK_INT(
        admit(
            s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
            "{\"metadata\":{\"name\":\"other\"},\"rules\":[{\"apiGroups\":[\"\"],"
            "\"resources\":[\"aud-one\"],\"verbs\":[\"request-serviceaccounts-token-audience\"]}]}",
            NULL),
        DENIED);
    SA_CHECK_INT(
        admit(
            s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
            "{\"metadata\":{\"name\":\"both\"},\"rules\":[{\"apiGroups\":[\"\"],"
            "\"resources\":[\"aud-one\",\"aud-two\"],\"verbs\":[\"request-serviceaccounts-token-audience\"]}]}",
            NULL),
        ALLOWED);
    /* Another API group is not the node authorizer's question. */
    SA_CHECK_INT(
        admit(s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
              "{\"metadata\":{\"name\":\"x\"},\"rules\":[{\"apiGroups\":[\"apps\"],"
              "\"resources\":[\"*\"],\"verbs\":[\"request-serviceaccounts-token-audience\"]}]}",
              NULL),
        ALLOWED);
    sa_snapshot_release(s);
}

/* The kubelet's image-pull token (KEP-4412, pkg/credentialprovider/plugin/plugin.go): a table
 * audience in a session SA's token is allowed when one of the row's subjects asks (a User by
 * name, a Group by membership, a ServiceAccount by its user name system:serviceaccount:<ns>:<n>)
 * for a token bound to a Pod; anyone else, or another bound kind, is refused. */
static void test_image_pull_token(void)
{
    sa_snapshot *s = snapshot(base_policy);
#define TOKEN(aud, kind)                                         \
    "{\"spec\":{\"audiences\":[\"" aud "\"],\"boundObjectRef\":" \
    "{\"apiVersion\":\"v1\",\"kind\":\"" kind "\",\"name\":\"p\"}}}"
    const char *auth = "authentication.k8s.io";
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa",
                             "system:node:n1", "[\"system:nodes\"]", TOKEN("aud-two", "Pod"), NULL),
                 ALLOWED);
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa", "carol", "[]",
                             TOKEN("aud-one", "Pod"), NULL),
                 ALLOWED);
    /* carol is aud-one's subject, not aud-two's; a user named like the group is not in it. */
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa", "carol", "[]",
                             TOKEN("aud-two", "Pod"), NULL),
                 DENIED);
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa", "system:nodes",
                             "[]", TOKEN("aud-two", "Pod"), NULL),
                 DENIED);
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa",
                             "system:node:n1", "[\"system:nodes\"]", TOKEN("aud-two", "Secret"),
                             NULL),
                 DENIED);
    sa_snapshot_release(s);
    s = snapshot("apiVersion: session-admission/v1alpha1\nkind: Policy\naudiences:\n"
                 "  - {audience: reg, roles: [r], subjects: [{kind: ServiceAccount, name: puller, "
                 "namespace: infra}]}\n");
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa",
                             "system:serviceaccount:infra:puller", "[]", TOKEN("reg", "Pod"), NULL),
                 ALLOWED);
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa",
                             "system:serviceaccount:infra:puller2", "[]", TOKEN("reg", "Pod"),
                             NULL),
                 DENIED);
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa",
                             "system:serviceaccount:infra-x:puller", "[]", TOKEN("reg", "Pod"),
                             NULL),
                 DENIED);
    SA_CHECK_INT(admit_named(s, auth, "TokenRequest", "CREATE", "p", "session-x-sa", "puller", "[]",
                             TOKEN("reg", "Pod"), NULL),
                 DENIED);
#undef TOKEN
    sa_snapshot_release(s);
}

/* Objects of every wrong shape: skipped, never a crash (ASan and UBSan builds run this). */
static void test_malformed_objects(void)
{
    sa_snapshot *s = snapshot(base_policy);
    /* clang-format off */
    static const char *const shapes[] = {
        "null", "{}", "[]", "\"x\"", "5",
        "{\"metadata\":5,\"spec\":[],\"rules\":{},\"subjects\":\"x\",\"roleRef\":[]}",
        ("{\"metadata\":{\"labels\":{\"ambient-code.io/session-id\":\"x\"}},\"spec\":{\"containers\":"
         "[5,null,{\"env\":[1,{\"name\":5},{\"name\":\"GITHUB_TOKEN\"}]}],\"volumes\":[{\"projected\":"
         "{\"sources\":[{\"serviceAccountToken\":{\"audience\":5}},7]}}],\"initContainers\":{}}}"),
        ("{\"rules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[null,5,[]],"
         "\"resourceNames\":{}}],\"spec\":{\"audiences\":[5,null,\"\"]}}"),
    };
    /* clang-format on */
    static const struct {
        const char *group, *kind;
    } kinds[] = {{RBAC, "RoleBinding"},
                 {RBAC, "ClusterRoleBinding"},
                 {RBAC, "Role"},
                 {RBAC, "ClusterRole"},
                 {"authentication.k8s.io", "TokenRequest"},
                 {"", "Pod"}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            /* Non-object objects are refused by the codec, so the review cannot be judged: denied
             * (sa_admit_unread); the rest reach the handlers. */
            int want = shapes[i][0] == '{' || shapes[i][0] == 'n' ? ALLOWED : DENIED;
            int got =
                admit(s, kinds[k].group, kinds[k].kind, "UPDATE", "p", "u", "[]", shapes[i], NULL);
            SA_CHECK(got == want || (want == ALLOWED && got == DENIED));
        }
    sa_snapshot_release(s);
}

/* A NUL (the escape \u0000, which the API server sends in strings it does not validate, such as a
 * TokenRequest's audiences) where the policy compares is refused in every mode, exempt users
 * included, with the place named; in free text, or in a kind nobody judges, it changes nothing. */
static void test_nul(void)
{
    sa_snapshot *s = snapshot(base_policy);
    static const char token[] = "authentication.k8s.io";
    char *body = NULL;
    SA_CHECK_INT(admit_named(s, token, "TokenRequest", "CREATE", "p", "session-x-sa", "u", "[]",
                             "{\"spec\":{\"audiences\":[\"ok\",\"aud-one\\u0000\"]}}", &body),
                 DENIED);
    SA_CHECK(body &&
             strstr(body, "\"session-admission: request.object.spec.audiences[1] holds a NUL "
                          "(\\\\u0000), which no name, key or value the policy compares may "
                          "hold: this TokenRequest cannot be judged\""));
    free(body);
    /* the ServiceAccount's name, an exempt user's request, a binding's subject */
    SA_CHECK_INT(admit_named(s, token, "TokenRequest", "CREATE", "p", "session-x-sa\\u0000", "u",
                             "[]", "{\"spec\":{\"audiences\":[]}}", NULL),
                 DENIED);
    SA_CHECK_INT(admit_named(s, token, "TokenRequest", "CREATE", "p", "session-x-sa", "root", "[]",
                             "{\"spec\":{\"audiences\":[\"\\u0000\"]}}", NULL),
                 DENIED);
    SA_CHECK_INT(
        admit(
            s, RBAC, "RoleBinding", "CREATE", "p", "u", "[]",
            "{\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"},\"subjects\":"
            "[{\"kind\":\"ServiceAccount\",\"name\":\"session-x-sa\\u0000\",\"namespace\":\"p\"}]}",
            NULL),
        DENIED);
    SA_CHECK_INT(admit(s, RBAC, "Role", "CREATE", "p", "u", "[\"g\\u0000\"]", "{}", NULL), DENIED);
    /* a label key (keys are names) is refused; annotation values are free text */
    SA_CHECK_INT(admit(s, "", "Pod", "CREATE", "p", "u", "[]",
                       "{\"metadata\":{\"labels\":{\"a\\u0000\":\"b\"}}}", NULL),
                 DENIED);
    SA_CHECK_INT(
        admit(s, "", "Pod", "CREATE", "p", "u", "[]",
              "{\"metadata\":{\"annotations\":{\"a\":\"b\\u0000\"}},\"spec\":{\"containers\":"
              "[{\"name\":\"c\",\"env\":[{\"name\":\"E\",\"value\":\"\\u0000\"}],"
              "\"command\":[\"sh\\u0000\"]}]}}",
              NULL),
        ALLOWED);
    /* the same place under another key is not free text */
    SA_CHECK_INT(admit(s, "", "Pod", "CREATE", "p", "u", "[]",
                       "{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"E\","
                       "\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\\u0000\"}}}]}]}}",
                       NULL),
                 DENIED);
    /* a kind no handler judges is allowed as always */
    SA_CHECK_INT(admit(s, "", "ConfigMap", "CREATE", "p", "u", "[]",
                       "{\"metadata\":{\"name\":\"\\u0000\"}}", NULL),
                 ALLOWED);
    sa_snapshot_release(s);

    /* and in every mode */
    s = snapshot("apiVersion: session-admission/v1alpha1\nkind: Policy\nmodes:\n"
                 "  session-token-audience: audit\n");
    SA_CHECK_INT(admit_named(s, token, "TokenRequest", "CREATE", "p", "session-x-sa", "u", "[]",
                             "{\"spec\":{\"audiences\":[\"x\\u0000\"]}}", NULL),
                 DENIED);
    sa_snapshot_release(s);
}

/* A review the strict reader refuses (duplicate keys, deep nesting, invalid UTF-8, an object of the
 * wrong type) is still answered as an AdmissionReview when its envelope reads: denied for a kind a
 * handler judges, allowed for another; a body that is no AdmissionReview stays HTTP 400. */
static void test_unreadable(void)
{
    sa_snapshot *s = snapshot(base_policy);
    SA_CHECK_INT(admit(s, RBAC, "ClusterRole", "CREATE", "", "u", "[]",
                       "{\"rules\":[],\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],"
                       "\"verbs\":[\"*\"]}]}",
                       NULL),
                 DENIED);
    char *body = NULL;
    SA_CHECK_INT(admit(s, "", "Pod", "CREATE", "p", "u", "[]",
                       "{\"metadata\":{\"name\":\"\xc0\xaf\"}}", &body),
                 DENIED);
    SA_CHECK(body && strstr(body, "\"uid\":\"u\"") &&
             strstr(body,
                    "\"session-admission: this Pod review cannot be judged: body is not valid "
                    "UTF-8 at byte "));
    free(body);
    SA_CHECK_INT(admit(s, "", "ConfigMap", "CREATE", "p", "u", "[]", "{\"a\":1,\"a\":2}", NULL),
                 ALLOWED);
    sa_buf deep = SA_BUF_INIT;
    for (int i = 0; i < 300; i++)
        sa_buf_puts(&deep, "{\"f:x\":");
    sa_buf_puts(&deep, "{}");
    for (int i = 0; i < 300; i++)
        sa_buf_putc(&deep, '}');
    sa_buf pod = SA_BUF_INIT;
    sa_buf_printf(&pod, "{\"metadata\":{\"managedFields\":[{\"fieldsV1\":%s}]}}",
                  sa_buf_str(&deep));
    SA_CHECK_INT(admit(s, "", "Pod", "CREATE", "p", "u", "[]", sa_buf_str(&pod), NULL), DENIED);
    sa_buf_free(&deep);
    sa_buf_free(&pod);
    /* not an AdmissionReview at all */
    /* clang-format off */
    static const char *const not_reviews[] = {
        "{\"a\":1,\"a\":2}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
        "\"uid\":\"v\",\"kind\":{\"kind\":\"Pod\"}}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":5,"
        "\"kind\":{\"kind\":\"Pod\"},\"x\":\"\xff\"}}",
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof not_reviews / sizeof not_reviews[0]; i++) {
        sa_admit_result res;
        sa_admit(s, SA_ENDPOINT_VALIDATE, not_reviews[i], strlen(not_reviews[i]), &res);
        SA_CHECK_INT(res.http_status, 400);
        sa_admit_result_free(&res);
    }
    sa_snapshot_release(s);
}

int main(void)
{
    SA_RUN(test_describe);
    SA_RUN(test_exemptions);
    SA_RUN(test_audience_intersection);
    SA_RUN(test_image_pull_token);
    SA_RUN(test_malformed_objects);
    SA_RUN(test_nul);
    SA_RUN(test_unreadable);
    SA_TEST_END();
}
