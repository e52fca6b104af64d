/* test_review.c: the AdmissionReview codec, strict JSON, the patch builder and the verdict. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "sa_admit.h"
#include "sa_patch.h"
#include "sa_review.h"
#include "sa_test.h"

static const char v1_pod[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
    "\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\","
    "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
    "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
    "\"namespace\":\"proj\",\"name\":\"session-a-runner\",\"operation\":\"CREATE\","
    "\"userInfo\":{\"username\":\"system:serviceaccount:ambient-code:cp\",\"groups\":[\"a\",\"b\"]},"
    "\"object\":{\"metadata\":{\"name\":\"x\"}},\"oldObject\":null,\"dryRun\":true}}";

static int parse(const char *text, sa_review *r, char *err)
{
    return sa_review_parse(r, text, strlen(text), err, 256);
}

static char *encode(const sa_review *r, const sa_verdict *v)
{
    sa_buf out = SA_BUF_INIT;
    sa_review_encode(r, v, &out);
    return sa_buf_steal(&out, NULL);
}

static void test_v1_fields(void)
{
    sa_review r;
    char err[256];
    SA_CHECK_INT(parse(v1_pod, &r, err), 0);
    SA_CHECK_INT(r.version, SA_REVIEW_V1);
    SA_CHECK_STR(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    SA_CHECK_STR(r.kind, "Pod");
    SA_CHECK_STR(r.group, "");
    SA_CHECK_STR(r.resource, "pods");
    SA_CHECK_STR(r.sub_resource, "");
    SA_CHECK_STR(r.operation, "CREATE");
    SA_CHECK_STR(r.namespace_, "proj");
    SA_CHECK_STR(r.name, "session-a-runner");
    SA_CHECK_STR(r.username, "system:serviceaccount:ambient-code:cp");
    SA_CHECK_INT(cJSON_GetArraySize(r.groups), 2);
    SA_CHECK(r.object != NULL);
    SA_CHECK(r.old_object == NULL);
    SA_CHECK_INT(r.dry_run, 1);

    sa_verdict v;
    sa_verdict_init(&v, NULL);
    char *out = encode(&r, &v);
    SA_CHECK_STR(
        out, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
             "\"response\":{\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\",\"allowed\":true}}");
    free(out);
    sa_verdict_free(&v);
    sa_review_free(&r);
}

static void test_v1beta1_answered_in_kind(void)
{
    const char *text =
        "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
        "\"request\":{\"uid\":\"u-1\",\"kind\":{\"group\":\"rbac.authorization.k8s.io\","
        "\"version\":\"v1\",\"kind\":\"RoleBinding\"},\"operation\":\"DELETE\"}}";
    sa_review r;
    char err[256];
    SA_CHECK_INT(parse(text, &r, err), 0);
    SA_CHECK_INT(r.version, SA_REVIEW_V1BETA1);
    SA_CHECK_STR(r.namespace_, "");
    SA_CHECK(r.object == NULL);
    sa_verdict v;
    sa_verdict_init(&v, NULL);
    char *out = encode(&r, &v);
    SA_CHECK_STR(out, "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
                      "\"response\":{\"uid\":\"u-1\",\"allowed\":true}}");
    free(out);
    sa_verdict_free(&v);
    sa_review_free(&r);
}

static char *b64decode(const char *b64)
{
    size_t n = strlen(b64);
    unsigned char *raw = calloc(1, n + 1);
    int m = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    while (m > 0 && raw[m - 1] == 0)
        m--;
    raw[m > 0 ? m : 0] = 0;
    return (char *)raw;
}

static void test_patch_encoding(void)
{
    sa_review r;
    char err[256];
    SA_CHECK_INT(parse(v1_pod, &r, err), 0);
    sa_verdict v;
    sa_verdict_init(&v, NULL);
    sa_buf path = SA_BUF_INIT;
    sa_buf_puts(&path, "/metadata/annotations");
    sa_patch_pointer_push(&path, "ambient-code.io/key~sha");
    SA_CHECK_STR(sa_buf_str(&path), "/metadata/annotations/ambient-code.io~1key~0sha");
    sa_patch_op_string(&v.patch, "add", sa_buf_str(&path), "ab\"c");
    sa_patch_op(&v.patch, "remove", "/spec/x", NULL);
    sa_buf_free(&path);

    char *out = encode(&r, &v);
    cJSON *doc = cJSON_Parse(out);
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(doc, "response");
    SA_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "patchType")),
                 "JSONPatch");
    char *patch = b64decode(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "patch")));
    SA_CHECK_STR(patch,
                 "[{\"op\":\"add\",\"path\":\"/metadata/annotations/ambient-code.io~1key~0sha\","
                 "\"value\":\"ab\\\"c\"},{\"op\":\"remove\",\"path\":\"/spec/x\"}]");
    free(patch);
    cJSON_Delete(doc);
    free(out);

    /* A denial never carries the patch: the API server would reject the response. */
    sa_verdict_violation(&v, SA_RULE_SESSION_POD, SA_KEY("x"), "pod %s is bad", "x");
    out = encode(&r, &v);
    SA_CHECK(strstr(out, "\"patch\"") == NULL);
    SA_CHECK(strstr(out, "\"allowed\":false,\"status\":{\"code\":403,\"reason\":\"Forbidden\","
                         "\"message\":\"session-pod: pod x is bad\"}") != NULL);
    free(out);
    sa_verdict_free(&v);
    sa_review_free(&r);
}

static void test_modes(void)
{
    sa_mode modes[SA_RULE_COUNT] = {0};
    modes[SA_RULE_RBAC_IMPERSONATION] = SA_MODE_WARN;
    modes[SA_RULE_RBAC_TOKEN_AUDIENCE] = SA_MODE_AUDIT;
    sa_verdict v;
    sa_verdict_init(&v, modes);
    sa_verdict_violation(&v, SA_RULE_RBAC_IMPERSONATION, SA_KEY("1"), "first");
    sa_verdict_violation(&v, SA_RULE_RBAC_IMPERSONATION, SA_KEY("2"), "%0200d", 7); /* cut to 120 */
    sa_verdict_violation(&v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("3"), "one");
    sa_verdict_violation(&v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("4"), "two \"quoted\"");
    SA_CHECK(!sa_verdict_denied(&v));
    SA_CHECK_INT(v.warnings.count, 2);
    SA_CHECK_INT(v.rules_hit,
                 (1u << SA_RULE_RBAC_IMPERSONATION) | (1u << SA_RULE_RBAC_TOKEN_AUDIENCE));
    SA_CHECK_INT(v.modes_hit[SA_RULE_RBAC_TOKEN_AUDIENCE], 1u << SA_MODE_AUDIT);

    sa_review r;
    char err[256];
    SA_CHECK_INT(parse(v1_pod, &r, err), 0);
    char *out = encode(&r, &v);
    cJSON *doc = cJSON_Parse(out);
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(doc, "response");
    SA_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "allowed")));
    cJSON *warnings = cJSON_GetObjectItemCaseSensitive(resp, "warnings");
    SA_CHECK_INT(cJSON_GetArraySize(warnings), 2);
    SA_CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(warnings, 0)),
                 "rbac-impersonation: first");
    const char *cut = cJSON_GetStringValue(cJSON_GetArrayItem(warnings, 1));
    SA_CHECK_INT(strlen(cut), SA_WARNING_MAX);
    SA_CHECK(strcmp(cut + SA_WARNING_MAX - 3, "...") == 0);
    cJSON *audit = cJSON_GetObjectItemCaseSensitive(resp, "auditAnnotations");
    SA_CHECK_STR(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(audit, "rbac-token-audience")),
        "one; two \"quoted\"");
    cJSON_Delete(doc);
    free(out);
    sa_verdict_free(&v);
    sa_review_free(&r);
}

/* Each bad body and the reason it must be refused with. */
static void test_refusals(void)
{
    static const struct {
        const char *body;
        size_t len; /* 0: strlen */
        const char *reason;
        /* clang-format off */
    } cases[] = {
        {"", 0, "body is not valid JSON (error at byte 0)"},
        {"not json", 0, "body is not valid JSON (error at byte 0)"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":", 0,
         "body is not valid JSON (error at byte 77)"},
        {"[1,2]", 0, "body is not a JSON object"},
        {"{\"kind\":\"AdmissionReview\"} x", 0, "body has data after the JSON document (at byte 27)"},
        {"{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\",\"request\":{}}", 0,
         "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\",\"request\":{}}", 0,
         "kind must be AdmissionReview"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", 0,
         "request is missing or not an object"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":[]}", 0,
         "request is missing or not an object"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"kind\":{\"kind\":\"Pod\"}}}", 0,
         "request.uid is missing or empty"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":42}}", 0,
         "request.uid must be a string"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}", 0,
         "request.kind.kind is missing"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"object\":[1]}}", 0,
         "request.object must be an object"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"userInfo\":{\"groups\":[1]}}}", 0,
         "request.userInfo.groups must hold strings"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"dryRun\":\"yes\"}}", 0,
         "request.dryRun must be a boolean"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"operation\":7}}", 0,
         "request.operation must be a string"},
        /* duplicate keys, at the top and deep inside the object */
        {"{\"kind\":\"AdmissionReview\",\"kind\":\"AdmissionReview\"}", 0, "duplicate JSON key \"kind\""},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},"
         "\"object\":{\"spec\":{\"serviceAccountName\":\"a\",\"serviceAccountName\":\"b\"}}}}", 0,
         "duplicate JSON key \"serviceAccountName\""},
        /* non-UTF-8: a lone continuation byte, an overlong '/', a surrogate, a truncated sequence */
        {"{\"kind\":\"\x80\"}", 0, "body is not valid UTF-8 at byte 9"},
        {"{\"kind\":\"\xc0\xaf\"}", 0, "body is not valid UTF-8 at byte 9"},
        {"{\"kind\":\"\xed\xa0\x80\"}", 0, "body is not valid UTF-8 at byte 9"},
        {"{\"kind\":\"\xe2\x82", 0, "body is not valid UTF-8 (truncated sequence) at byte 9"},
        {"{\"kind\":\"a\\u0000b\"}", 0, "kind must be AdmissionReview"}, /* the escape reads */
        {"{\"kind\":\"a\0b\"}", 14, "body contains a NUL byte at byte 10"},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sa_review r;
        char err[256] = "";
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        int rc = sa_review_parse(&r, cases[i].body, len, err, sizeof err);
        SA_CHECK_INT(rc, -1);
        SA_CHECK_STR(err, cases[i].reason);
        SA_CHECK(r.doc == NULL);
    }
}

static void test_nesting_and_numbers(void)
{
    char err[256];
    sa_review r;
    /* 100,000 open brackets: refused, without deep recursion */
    size_t n = 100000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = 0;
    SA_CHECK_INT(sa_review_parse(&r, deep, n, err, sizeof err), -1);
    SA_CHECK(strncmp(err, "body is not valid JSON", 22) == 0);
    free(deep);

    /* nesting that cJSON accepts but we bound: 300 levels inside request.object */
    sa_buf b = SA_BUF_INIT;
    sa_buf_puts(&b, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                    "\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"object\":{\"a\":");
    for (int i = 0; i < 300; i++)
        sa_buf_puts(&b, "[");
    for (int i = 0; i < 300; i++)
        sa_buf_puts(&b, "]");
    sa_buf_puts(&b, "}}}");
    SA_CHECK_INT(sa_review_parse(&r, b.data, b.len, err, sizeof err), -1);
    SA_CHECK_STR(err, "JSON nests deeper than 200 levels");
    sa_buf_free(&b);

    /* huge numbers are values like any other: accepted, and the uid still echoes */
    const char *huge =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
        "\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"object\":{\"n\":1e999,"
        "\"m\":-123456789012345678901234567890,\"x\":[1e-999]}}}";
    SA_CHECK_INT(parse(huge, &r, err), 0);
    SA_CHECK_STR(r.uid, "u");
    sa_review_free(&r);

    /* a wide object goes through the sorted duplicate check */
    b = (sa_buf)SA_BUF_INIT;
    sa_buf_puts(&b, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                    "\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"object\":{");
    for (int i = 0; i < 5000; i++)
        sa_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    sa_buf_puts(&b, "}}}");
    SA_CHECK_INT(sa_review_parse(&r, b.data, b.len, err, sizeof err), 0);
    sa_review_free(&r);
    b.len -= 3;
    sa_buf_puts(&b, ",\"k4321\":0}}}");
    SA_CHECK_INT(sa_review_parse(&r, b.data, b.len, err, sizeof err), -1);
    SA_CHECK_STR(err, "duplicate JSON key \"k4321\"");
    sa_buf_free(&b);
}

/* The envelope read from the start of a body that is cut anywhere after request.kind, in the
 * order Go marshals an AdmissionReview (kind, apiVersion, then request: uid, kind, ...), and what
 * the skimmer refuses: anything ambiguous, escaped, missing or cut before request.kind ends. */
static void test_skim(void)
{
    static const char whole[] =
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1beta1\",\"request\":"
        "{\"uid\":\"5a0e-1\",\"kind\":{\"group\":\"rbac.authorization.k8s.io\",\"version\":\"v1\","
        "\"kind\":\"Role\"},\"resource\":{\"x\":[1,{\"y\":\"}\\\"]\"}]},\"object\":{\"a\":\"b\"}}}";
    size_t kind_end = (size_t)(strstr(whole, "\"Role\"}") - whole) + 7;
    char err[256];
    for (size_t len = 0; len <= sizeof whole - 1; len++) {
        sa_review_envelope e;
        int rc = sa_review_skim(&e, whole, len, err, sizeof err);
        SA_CHECK_INT(rc, len >= kind_end ? 0 : -1);
        if (rc == 0) {
            SA_CHECK_STR(e.uid, "5a0e-1");
            SA_CHECK_STR(e.group, "rbac.authorization.k8s.io");
            SA_CHECK_STR(e.kind, "Role");
            SA_CHECK_INT(e.version, SA_REVIEW_V1BETA1);
        }
    }
    static const struct {
        const char *body, *reason;
        /* clang-format off */
    } bad[] = {
        {"[]", "kind is missing"},
        {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"a\\u0041\","
         "\"kind\":{\"kind\":\"Pod\"}}}", "request.uid is not a plain string"},
        {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"a\","
         "\"kind\":{\"kind\":\"Pod\"}},\"request\":{\"uid\":\"b\"}}", "request.uid is given twice"},
        {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v2\",\"request\":{\"uid\":\"a\","
         "\"kind\":{\"kind\":\"Pod\"}}}", "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1"},
        {"{\"kind\":\"Review\",\"apiVersion\":\"admission.k8s.io/v1\"}", "kind must be AdmissionReview"},
        {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"\","
         "\"kind\":{\"kind\":\"Pod\"}}}", "request.uid is missing or empty"},
        {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"a\","
         "\"kind\":\"Pod\"}}", "request.kind is missing or cut short"},
        {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"a\","
         "\"kind\":{}}}", "request.kind.kind is missing"},
        {"{\"kind\":\"AdmissionReview\" \"apiVersion\":\"admission.k8s.io/v1\"}", "apiVersion is missing"},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sa_review_envelope e;
        SA_CHECK_INT(sa_review_skim(&e, bad[i].body, strlen(bad[i].body), err, sizeof err), -1);
        SA_CHECK_STR(err, bad[i].reason);
    }
    /* a uid longer than any the API server makes, and one with a NUL byte in a literal */
    sa_buf b = SA_BUF_INIT;
    sa_buf_puts(
        &b,
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"");
    for (int i = 0; i < SA_REVIEW_SKIM_MAX; i++)
        sa_buf_putc(&b, 'u');
    sa_buf_puts(&b, "\",\"kind\":{\"kind\":\"Pod\"}}}");
    sa_review_envelope e;
    SA_CHECK_INT(sa_review_skim(&e, b.data, b.len, err, sizeof err), -1);
    SA_CHECK_STR(err, "request.uid is not a plain string");
    sa_buf_free(&b);
    static const char nul_literal[] =
        "{\"kind\":\"AdmissionReview\",\"x\":[t\0rue],\"apiVersion\":"
        "\"admission.k8s.io/v1\",\"request\":{\"uid\":\"a\",\"kind\":{\"kind\":\"Pod\"}}}";
    SA_CHECK_INT(sa_review_skim(&e, nul_literal, sizeof nul_literal - 1, err, sizeof err), 0);
    SA_CHECK_STR(e.kind, "Pod");
}

static void test_admit_without_snapshot(void)
{
    sa_admit_result res;
    sa_admit(NULL, SA_ENDPOINT_MUTATE, v1_pod, strlen(v1_pod), &res);
    SA_CHECK_INT(res.http_status, 503);
    SA_CHECK_INT(res.decision, SA_DECISION_ERROR);
    SA_CHECK_STR(res.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    sa_admit_result_free(&res);

    sa_admit(NULL, SA_ENDPOINT_VALIDATE, "{", 1, &res);
    SA_CHECK_INT(res.http_status, 400);
    SA_CHECK(strncmp(res.body, "body is not valid JSON", 22) == 0);
    sa_admit_result_free(&res);
}

static void test_base64(void)
{
    static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                       "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t n = 0; n <= 6; n++) {
        sa_buf b = SA_BUF_INIT;
        sa_buf_base64_append(&b, (const unsigned char *)"foobar", n);
        SA_CHECK_STR(sa_buf_str(&b), want[n]);
        sa_buf_free(&b);
    }
}

static void test_json_string_escapes(void)
{
    sa_buf b = SA_BUF_INIT;
    sa_buf_json_string(&b, "a\"b\\c\n\x01\xc3\xa9");
    SA_CHECK_STR(sa_buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    sa_buf_free(&b);
}

/* A violation longer than any fixed buffer is kept whole (only a warning is cut when shown). An
 * UPDATE baseline compares keys, never messages: a long key that differs only at its end is new,
 * a new violation whose message equals an old one's but whose key differs is new, and an old key
 * with another message (another rule index) is not. */
static void test_long_messages_and_baseline(void)
{
    char name[3000];
    memset(name, 'r', sizeof name - 1);
    name[sizeof name - 1] = 0;
    sa_verdict old, v;
    sa_verdict_init(&old, NULL);
    old.collect = 1;
    sa_verdict_violation(&old, SA_RULE_RBAC_SESSION_BINDING, SA_KEY(name, "a"),
                         "roleRef %s (subject a)", name);
    sa_verdict_violation(&old, SA_RULE_RBAC_IMPERSONATION, SA_KEY("users", "alice"),
                         "rules[0] same text");
    SA_CHECK(!sa_verdict_denied(&old)); /* collecting decides nothing */
    sa_verdict_init(&v, NULL);
    v.baseline = &old;
    sa_verdict_violation(&v, SA_RULE_RBAC_SESSION_BINDING, SA_KEY(name, "a"),
                         "roleRef %s (subject a)", name);
    sa_verdict_violation(&v, SA_RULE_RBAC_IMPERSONATION, SA_KEY("users", "alice"),
                         "rules[7] moved");
    SA_CHECK(!sa_verdict_denied(&v)); /* both held before the UPDATE */
    /* Same key parts, another rule: new. Parts are not concatenated ("users" + "alice" is not
     * "usersa" + "lice"). */
    sa_verdict_violation(&v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("users", "alice"), "other rule");
    sa_verdict_violation(&v, SA_RULE_RBAC_IMPERSONATION, SA_KEY("usersa", "lice"),
                         "rules[0] same text");
    SA_CHECK_INT(v.denial.count, 2);
    sa_verdict_violation(&v, SA_RULE_RBAC_SESSION_BINDING, SA_KEY(name, "b"),
                         "roleRef %s (subject b)", name);
    SA_CHECK_INT(v.denial.count, 3); /* new: differs only after 3000 characters */
    sa_buf text = SA_BUF_INIT;
    sa_verdict_list_text(&v.denial, &text);
    SA_CHECK(strstr(sa_buf_str(&text), "rbac-impersonation: rules[0] same text") != NULL);
    SA_CHECK(strstr(sa_buf_str(&text), "(subject b)") != NULL);
    sa_buf_free(&text);
    sa_verdict_free(&v);
    sa_verdict_free(&old);
}

/* Thousands of violations: each counted, the first SA_VERDICT_LIST_MAX listed, the rest summed. */
static void test_list_cap(void)
{
    sa_mode modes[SA_RULE_COUNT] = {0};
    modes[SA_RULE_RBAC_TOKEN_AUDIENCE] = SA_MODE_WARN;
    modes[SA_RULE_SESSION_POD] = SA_MODE_AUDIT;
    sa_verdict v;
    sa_verdict_init(&v, modes);
    for (int i = 0; i < 5000; i++) {
        sa_verdict_violation(&v, SA_RULE_RBAC_IMPERSONATION, SA_KEY("n"), "name %d", i);
        sa_verdict_violation(&v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("a"), "aud %d", i);
        sa_verdict_violation(&v, SA_RULE_SESSION_POD, SA_KEY("e"), "env %d", i);
    }
    SA_CHECK_INT(v.denial.count, 5000);
    sa_buf text = SA_BUF_INIT;
    sa_verdict_list_text(&v.denial, &text);
    SA_CHECK(strstr(sa_buf_str(&text), "rbac-impersonation: name 49; and 4950 more") != NULL);
    SA_CHECK(strstr(sa_buf_str(&text), "name 50;") == NULL);
    sa_buf_reset(&text);
    sa_verdict_list_text(&v.audit[SA_RULE_SESSION_POD], &text);
    SA_CHECK(strstr(sa_buf_str(&text), "env 49; and 4950 more") != NULL);

    sa_review r;
    char err[256];
    SA_CHECK_INT(parse(v1_pod, &r, err), 0);
    sa_verdict_free(&v);
    sa_verdict_init(&v, modes); /* now only warnings: an allowed answer */
    for (int i = 0; i < 70; i++)
        sa_verdict_violation(&v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("a"), "aud %d", i);
    char *out = encode(&r, &v);
    cJSON *doc = cJSON_Parse(out);
    cJSON *warnings = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "response"), "warnings");
    SA_CHECK_INT(cJSON_GetArraySize(warnings), SA_VERDICT_LIST_MAX + 1);
    SA_CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(warnings, SA_VERDICT_LIST_MAX)),
                 "and 20 more warnings");
    cJSON_Delete(doc);
    free(out);
    sa_buf_free(&text);
    sa_verdict_free(&v);
    sa_review_free(&r);
}

int main(void)
{
    SA_RUN(test_v1_fields);
    SA_RUN(test_v1beta1_answered_in_kind);
    SA_RUN(test_patch_encoding);
    SA_RUN(test_modes);
    SA_RUN(test_refusals);
    SA_RUN(test_nesting_and_numbers);
    SA_RUN(test_skim);
    SA_RUN(test_admit_without_snapshot);
    SA_RUN(test_base64);
    SA_RUN(test_json_string_escapes);
    SA_RUN(test_long_messages_and_baseline);
    SA_RUN(test_list_cap);
    SA_TEST_END();
}
