/* test_mutate.c: the session pod mutation's exact patch operations, and pods of every malformed
 * shape (which must neither crash nor be patched). The fixtures in tests/mutate check whole pods
 * through the binary and python3-jsonpatch; this checks the operations themselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_pubkey.h"
#include "sa_mutate.h"
#include "sa_policy.h"
#include "sa_test.h"

static const sa_pubkey test_key = {
    .pem = "PEM\n", .pem_len = 4, .pem_json = "\"PEM\\n\"", .fingerprint = "ab01", .bits = 2048};

/* A snapshot of p (taken over on success) with a copy of test_key, or NULL. */
static sa_snapshot *test_snapshot(sa_policy *p)
{
    sa_pubkey *k = malloc(sizeof *k);
    if (!k)
        return NULL;
    *k = test_key;
    k->pem = strdup(test_key.pem);
    k->pem_json = strdup(test_key.pem_json);
    sa_snapshot *snap = k->pem && k->pem_json ? sa_snapshot_new(p, k) : NULL;
    if (!snap)
        sa_pubkey_free(k);
    return snap;
}

/* Mutates the pod (JSON text) in namespace ns under policy text (NULL: the built-in) and
 * returns the patch ops text; *denial gets the denial message. */
static void mutate(const char *policy_text, const char *ns, const char *pod, sa_buf *ops,
                   sa_buf *denial)
{
    sa_buf errors = SA_BUF_INIT, body = SA_BUF_INIT;
    sa_policy *p = policy_text
                       ? sa_policy_load_text("t.yaml", policy_text, strlen(policy_text), &errors)
                       : sa_policy_builtin(&errors);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    sa_buf_printf(&body,
                  "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                  "\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
                  "\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"%s\","
                  "\"object\":%s}}",
                  ns, pod);
    sa_review r;
    char err[256];
    int rc = sa_review_parse(&r, body.data, body.len, err, sizeof err);
    SA_CHECK_INT(rc, 0);
    sa_snapshot *snap = p && rc == 0 ? test_snapshot(p) : NULL;
    if (snap) {
        p = NULL; /* the snapshot's */
        sa_verdict v;
        sa_verdict_init(&v, snap->policy->modes);
        sa_mutate_pod(snap, &r, &v);
        sa_buf_puts(ops, sa_buf_str(&v.patch.ops));
        sa_verdict_list_text(&v.denial, denial);
        sa_verdict_free(&v);
        sa_review_free(&r);
    }
    sa_snapshot_release(snap);
    sa_policy_free(p);
    sa_buf_free(&errors);
    sa_buf_free(&body);
}

#define LABELS "\"labels\":{\"ambient-code.io/session-id\":\"S1\"}"
#define ENTRY "{\"name\":\"AMBIENT_CP_TOKEN_PUBLIC_KEY\",\"value\":\"PEM\\n\"}"

static void expect_ops(const char *policy, const char *ns, const char *pod, const char *want_ops,
                       const char *want_denial)
{
    sa_buf ops = SA_BUF_INIT, denial = SA_BUF_INIT;
    mutate(policy, ns, pod, &ops, &denial);
    SA_CHECK_STR(sa_buf_str(&ops), want_ops);
    SA_CHECK_STR(sa_buf_str(&denial), want_denial);
    sa_buf_free(&ops);
    sa_buf_free(&denial);
}

static void test_full_mutation(void)
{
    expect_ops(NULL, "p",
               "{\"metadata\":{\"name\":\"n\"," LABELS "},\"spec\":{\"containers\":["
               "{\"name\":\"a\"},{\"name\":\"b\",\"env\":[{\"name\":\"X\",\"value\":\"1\"}]}]}}",
               "{\"op\":\"add\",\"path\":\"/spec/serviceAccountName\",\"value\":\"session-s1-sa\"},"
               "{\"op\":\"add\",\"path\":\"/spec/containers/0/env\",\"value\":[" ENTRY "]},"
               "{\"op\":\"add\",\"path\":\"/spec/containers/1/env/-\",\"value\":" ENTRY "},"
               "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":"
               "{\"ambient-code.io/cp-token-key-sha256\":\"ab01\"}}",
               "");
}

/* The annotation key's '/' is escaped in the pointer; duplicates go from the end. */
static void test_escaping_and_duplicates(void)
{
    expect_ops(
        NULL, "p",
        "{\"metadata\":{\"name\":\"n\"," LABELS ",\"annotations\":{}},"
        "\"spec\":{\"serviceAccountName\":\"session-s1-sa\",\"containers\":[{\"name\":\"a\","
        "\"env\":[" ENTRY ",{\"name\":\"AMBIENT_CP_TOKEN_PUBLIC_KEY\"},{\"name\":\"Y\"},"
        "{\"name\":\"AMBIENT_CP_TOKEN_PUBLIC_KEY\",\"value\":\"PEM\\n\"}]}]}}",
        "{\"op\":\"remove\",\"path\":\"/spec/containers/0/env/3\"},"
        "{\"op\":\"remove\",\"path\":\"/spec/containers/0/env/1\"},"
        "{\"op\":\"add\",\"path\":\"/metadata/annotations/ambient-code.io~1cp-token-key-sha256\","
        "\"value\":\"ab01\"}",
        "");
}

static void test_not_session_or_exempt(void)
{
    const char *pod = "{\"metadata\":{" LABELS "},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}";
    expect_ops(NULL, "kube-system", pod, "", "");
    expect_ops(NULL, "p", "{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{}}", "", "");
    /* The label lookup is case-sensitive. */
    expect_ops(NULL, "p",
               "{\"metadata\":{\"labels\":{\"Ambient-Code.io/session-id\":\"S1\"}},"
               "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
               "", "");
}

static void test_denials(void)
{
    expect_ops(NULL, "p",
               "{\"metadata\":{\"name\":\"n\",\"labels\":{\"ambient-code.io/session-id\":\"a b\"}},"
               "\"spec\":{}}",
               "",
               "session-pod: pod p/n: label ambient-code.io/session-id=\"a b\" cannot form a valid "
               "ServiceAccount name from template session-{id}-sa (DNS-1123: lower-case letters, "
               "digits, '-' and '.', alphanumeric at both ends, at most 253 characters)");
    expect_ops("apiVersion: session-admission/v1alpha1\nkind: Policy\n"
               "sessions: {serviceAccount: {onMismatch: deny}}\n",
               "p",
               "{\"metadata\":{\"generateName\":\"g-\"," LABELS "},"
               "\"spec\":{\"serviceAccount\":\"builder\",\"containers\":[]}}",
               "",
               "session-pod: pod p/g-*: spec.serviceAccountName \"builder\" is not the session's "
               "ServiceAccount session-s1-sa (label ambient-code.io/session-id=\"S1\")");
}

/* Malformed shapes: the API server would refuse these pods; the webhook must simply not crash
 * and not patch what it cannot address. */
static void test_malformed_shapes(void)
{
    static const char *const pods[] = {
        "{\"metadata\":{\"labels\":[]},\"spec\":{}}",
        "{\"metadata\":{\"labels\":{\"ambient-code.io/session-id\":7}},\"spec\":{}}",
        "{\"metadata\":{" LABELS "},\"spec\":\"x\"}",
        "{\"metadata\":{" LABELS "}}",
        "{\"metadata\":\"m\",\"spec\":{}}",
    };
    for (size_t i = 0; i < sizeof pods / sizeof pods[0]; i++)
        expect_ops(NULL, "p", pods[i], "", "");
    /* Containers that are not objects, an env that is a string, a name that is a number. */
    expect_ops(
        NULL, "p",
        "{\"metadata\":{" LABELS ",\"annotations\":{\"ambient-code.io/cp-token-key-sha256\":"
        "\"ab01\"}},\"spec\":{\"serviceAccountName\":\"session-s1-sa\",\"containers\":"
        "[1,null,{\"name\":\"a\",\"env\":\"x\"},{\"name\":\"b\",\"env\":[{\"name\":5},7]}]}}",
        "{\"op\":\"add\",\"path\":\"/spec/containers/3/env/-\",\"value\":" ENTRY "}", "");
}

int main(void)
{
    SA_RUN(test_full_mutation);
    SA_RUN(test_escaping_and_duplicates);
    SA_RUN(test_not_session_or_exempt);
    SA_RUN(test_denials);
    SA_RUN(test_malformed_shapes);
    SA_TEST_END();
}
