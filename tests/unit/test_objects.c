/* test_objects.c: the manifest reader (YAML typing as kubectl's, documents, Lists, errors) and the
 * JSON Patch applier and base64 decoder the offline commands use to see a mutated object. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "sa_buf.h"
#include "sa_json.h"
#include "sa_objects.h"
#include "sa_patch.h"
#include "sa_test.h"

/* The objects of text as compact JSON, one per line; or "error: <err>". */
static void read_as_json(const char *text, sa_buf *out)
{
    sa_objects s = SA_OBJECTS_INIT;
    char err[512];
    if (sa_objects_read(&s, "f.yaml", text, strlen(text), err, sizeof err) < 0) {
        sa_buf_printf(out, "error: %s", err);
    } else {
        for (size_t i = 0; i < s.count; i++) {
            char *j = cJSON_PrintUnformatted(s.items[i].obj);
            sa_buf_printf(out, "%s%u/%ld %s", i ? "\n" : "", s.items[i].doc, s.items[i].item, j);
            cJSON_free(j);
        }
    }
    sa_objects_free(&s);
}

static void expect(const char *text, const char *want)
{
    sa_buf got = SA_BUF_INIT;
    read_as_json(text, &got);
    SA_CHECK_STR(sa_buf_str(&got), want);
    sa_buf_free(&got);
}

/* go-yaml v2's resolve table and number syntax, which sigs.k8s.io/yaml (kubectl) uses. */
static void test_scalar_typing(void)
{
    expect(
        "apiVersion: v1\nkind: K\ndata: {a: yes, b: 'yes', c: No, d: ON, e: y, f: ~, g: null, h: , "
        "i: 0755, j: 0o17, k: 0x1F, l: 0b11, m: 1_000, nn: -3, o: +4, p: 1.5e2, q: .5, r: 1.2.3, "
        "s: \"0755\", t: !!str 12, u: 08, v: 12abc, w: True}\n",
        "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"K\",\"data\":{\"a\":true,\"b\":\"yes\",\"c\":false,"
        "\"d\":true,\"e\":true,\"f\":null,\"g\":null,\"h\":null,\"i\":493,\"j\":15,\"k\":31,\"l\":3,"
        "\"m\":1000,\"nn\":-3,\"o\":4,\"p\":150,\"q\":0.5,\"r\":\"1.2.3\",\"s\":\"0755\",\"t\":\"12\","
        "\"u\":8,\"v\":\"12abc\",\"w\":true}}");
    /* Block scalars are strings; keys that resolve to booleans become "true"/"false". */
    expect("apiVersion: v1\nkind: K\nb: |\n  x\n  y\non: 1\n",
           "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"K\",\"b\":\"x\\ny\\n\",\"true\":1}");
}

static void test_documents_and_lists(void)
{
    expect(
        "---\n# only a comment\n---\napiVersion: v1\nkind: A\n---\n\n---\n{apiVersion: v1, kind: B}\n",
        "2/-1 {\"apiVersion\":\"v1\",\"kind\":\"A\"}\n4/-1 {\"apiVersion\":\"v1\",\"kind\":\"B\"}");
    expect(
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\"},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Service\"}]}",
        "1/0 {\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n1/1 {\"apiVersion\":\"v1\",\"kind\":\"Service\"}");
    /* A typed list's items take their kind and apiVersion from it. */
    expect(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBindingList\nitems: [{metadata: {name: a}}]\n",
        "1/0 {\"metadata\":{\"name\":\"a\"},\"kind\":\"RoleBinding\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\"}");
    expect("", "");
    expect("apiVersion: v1\nkind: A\nx: &a [1, 2]\nyy: *a\n",
           "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"A\",\"x\":[1,2],\"yy\":[1,2]}");
    /* An anchor on a mapping key names the key's scalar, and a later anchor of the same name
     * shadows the earlier one, as YAML (and go-yaml) have it; the reader before 6e2c4da ignored
     * anchors on keys and refused the alias as unknown. */
    expect("apiVersion: v1\nkind: A\n&a name: x\nother: *a\n",
           "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"A\",\"name\":\"x\",\"other\":\"name\"}");
    expect("apiVersion: v1\nkind: A\na: &k 1\n&k b: 2\nc: *k\n",
           "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"A\",\"a\":1,\"b\":2,\"c\":\"b\"}");
}

/* A "\0" escape reads as the JSON reader reads \u0000: SA_BUF_NUL_MARK, in values and keys, so
 * the admission core judges it as the server would. */
static void test_nul(void)
{
    expect(
        "apiVersion: v1\nkind: A\nmetadata: {name: \"ok\\0.evil\"}\n\"k\\0x\": 1\n",
        "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"A\",\"metadata\":{\"name\":\"ok\xff.evil\"},\"k\xffx\":1}");
}

/* Anchors resolve through a hash table: 100,000 of them (a 2 MB file, which took over 20 s with a
 * linear search) read at once, and every alias gets its own anchor's node, a redefined name the
 * latest. */
static void test_many_anchors(void)
{
    enum {
        N = 100000
    };
    sa_buf text = SA_BUF_INIT, want = SA_BUF_INIT;
    sa_buf_puts(&text, "apiVersion: v1\nkind: A\nanchors:\n");
    for (int i = 0; i < N; i++)
        sa_buf_printf(&text, "  - &anchor-%d value-%d\n", i, i);
    sa_buf_puts(
        &text,
        "aliases: [*anchor-99999, *anchor-0, *anchor-54321]\nagain: &anchor-0 new\nlast: *anchor-0\n");
    sa_objects s = SA_OBJECTS_INIT;
    char err[512];
    SA_CHECK_INT(sa_objects_read(&s, "f.yaml", text.data, text.len, err, sizeof err), 0);
    SA_CHECK_INT((int)s.count, 1);
    const cJSON *obj = s.count ? s.items[0].obj : NULL;
    SA_CHECK_INT(cJSON_GetArraySize(sa_json_get(obj, "anchors")), N);
    char *aliases = cJSON_PrintUnformatted(sa_json_get(obj, "aliases"));
    SA_CHECK_STR(aliases, "[\"value-99999\",\"value-0\",\"value-54321\"]");
    cJSON_free(aliases);
    SA_CHECK_STR(sa_json_string(obj, "last"), "new");
    sa_objects_free(&s);
    sa_buf_free(&text);
    sa_buf_free(&want);
}

/* Aliases are budgeted in bytes as well as nodes, counted before anything is copied: a 1 MiB
 * scalar aliased 3,000 times (3 GiB) is refused in one line at the 17th alias; ten times
 * (10 MiB) is read. */
static void test_alias_bytes(void)
{
    for (int round = 0; round < 2; round++) {
        int aliases = round ? 3000 : 10;
        sa_buf text = SA_BUF_INIT;
        sa_buf_puts(&text, "apiVersion: v1\nkind: A\nbig: &big ");
        for (int i = 0; i < 1 << 20; i++)
            sa_buf_putc(&text, 'x');
        sa_buf_puts(&text, "\ncopies:\n");
        for (int i = 0; i < aliases; i++)
            sa_buf_puts(&text, "  - *big\n");
        sa_objects s = SA_OBJECTS_INIT;
        char err[512] = "";
        int rc = sa_objects_read(&s, "f.yaml", text.data, text.len, err, sizeof err);
        if (round) {
            SA_CHECK_INT(rc, -1);
            SA_CHECK_STR(
                err,
                "f.yaml: document 1: line 21 column 5: aliases expand to more than 16 MiB of text");
        } else {
            SA_CHECK_INT(rc, 0);
            SA_CHECK_INT(cJSON_GetArraySize(sa_json_get(s.items[0].obj, "copies")), 10);
        }
        sa_objects_free(&s);
        sa_buf_free(&text);
    }
}

/* !!binary is decoded as go-yaml decodes it (decode.go (*decoder).scalar: base64.StdEncoding, line
 * breaks skipped, padding required) and sigs.k8s.io/yaml prints it (encoding/json: U+FFFD for a
 * byte that is not UTF-8, NUL as \u0000), never judged as its base64 text; bad base64 and a
 * !!binary key are refused. */
static void test_binary(void)
{
    expect(
        "apiVersion: v1\nkind: Secret\ndata: {a: !!binary aGVsbG8=, b: !!binary \"c2Vzc2lvbi1hYmMtc2E=\", "
        "c: !!binary '', d: !!binary /w==, e: !!binary AGE=}\nf: !!binary |\n  c2Vz\n  c2lvbg==\n",
        "1/-1 {\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"a\":\"hello\",\"b\":\"session-abc-sa\","
        "\"c\":\"\",\"d\":\"\xef\xbf\xbd\",\"e\":\"\xff\x61\"},\"f\":\"session\"}");
    /* a subject's name is judged as kubectl sends it */
    expect(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nsubjects:\n"
        "- {kind: ServiceAccount, name: !!binary c2Vzc2lvbi1hYmMtc2E=}\n",
        "1/-1 {\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\",\"subjects\":"
        "[{\"kind\":\"ServiceAccount\",\"name\":\"session-abc-sa\"}]}");
    static const char *const bad[] = {"aGVsbG8", "aGVs bG8=", "a=GV", "aGVsbG8=aGVs", "aGVsbG8==="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "apiVersion: v1\nkind: A\nx: !!binary \"%s\"\n", bad[i]);
        expect(
            text,
            "error: f.yaml: document 1: line 3 column 4: !!binary value contains invalid base64 data");
    }
    expect("apiVersion: v1\nkind: A\n!!binary aGk=: 1\n",
           "error: f.yaml: document 1: line 3 column 1: a !!binary mapping key is not supported");
}

static void test_errors(void)
{
    expect("apiVersion: v1\nkind: A\n---\nkind: B\n",
           "error: f.yaml: document 2: has no apiVersion");
    expect("apiVersion: v1\n", "error: f.yaml: document 1: has no kind");
    expect("[1]",
           "error: f.yaml: document 1: is not a mapping (an object with apiVersion and kind)");
    expect("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"kind\":\"A\"}]}",
           "error: f.yaml: document 1: items[0] has no apiVersion");
    expect("{\"apiVersion\":\"v1\",",
           "error: f.yaml: document 1: body is not valid JSON (error at byte 18)");
    expect("apiVersion: v1\nkind: A\nmetadata: {name: a, name: b}\n",
           "error: f.yaml: document 1: duplicate JSON key \"name\"");
    expect("apiVersion: v1\nkind: A\nx: *nope\n",
           "error: f.yaml: document 1: line 3 column 4: alias to an unknown anchor");
    expect(
        "apiVersion: v1\nkind: A\nx: {<<: {a: 1}}\n",
        "error: f.yaml: document 1: line 3 column 5: merge keys (<<) are not supported; write the keys out");
    expect("apiVersion: v1\nkind: A\nx: -.inf\n",
           "error: f.yaml: document 1: line 3 column 4: NaN and infinity have no JSON form");
    /* The document is read whole before it is typed: a syntax error later in it is the one said,
     * where the reader before 6e2c4da stopped at the NaN. Either way the file is refused. */
    expect(
        "apiVersion: v1\nkind: A\nx: -.inf\ny: [1\n",
        "error: f.yaml: document 1: line 5 column 1: YAML syntax error: did not find expected ',' "
        "or ']' (while parsing a flow sequence at 4:4)");
    expect("apiVersion: v1\nkind: A\nmetadata: 3\n",
           "error: f.yaml: document 1: metadata is not a mapping");
    expect(
        "a: [1, 2\n",
        "error: f.yaml: document 1: line 2 column 1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at 1:4)");
    expect(
        "a: \"\x01\"\n",
        "error: f.yaml: document 1: line 1 column 5: YAML syntax error: control characters are not allowed");
    expect(
        "apiVersion: v1\nkind: A\nx: \"\xff\"\n",
        "error: f.yaml: document 1: line 3 column 5: YAML syntax error: invalid leading UTF-8 octet");
    expect(
        "a: b\n  c: d\n",
        "error: f.yaml: document 1: line 2 column 4: YAML syntax error: mapping values are not allowed in this context");
    /* Columns count characters, not bytes, whether libyaml's reader (an offset) or its parser (a
     * mark) found the error: "é" is one column, as in the policy path (test_yaml.c). */
    expect(
        "apiVersion: v1\nkind: A\nx: \"\xc3\xa9\x01\"\n",
        "error: f.yaml: document 1: line 3 column 6: YAML syntax error: control characters are not allowed");
    expect("apiVersion: v1\nkind: A\nx: [\xc3\xa9, .nan]\n",
           "error: f.yaml: document 1: line 3 column 8: NaN and infinity have no JSON form");
    /* Nesting is bounded before any recursion gets deep. */
    sa_buf deep = SA_BUF_INIT;
    for (int i = 0; i < 300; i++)
        sa_buf_putc(&deep, '[');
    sa_buf got = SA_BUF_INIT;
    read_as_json(sa_buf_str(&deep), &got);
    SA_CHECK(strstr(sa_buf_str(&got), "error: f.yaml: document 1: ") != NULL);
    sa_buf_reset(&deep);
    sa_buf_reset(&got);
    sa_buf_puts(&deep, "a: ");
    for (int i = 0; i < 300; i++)
        sa_buf_putc(&deep, '[');
    read_as_json(sa_buf_str(&deep), &got);
    SA_CHECK(strstr(sa_buf_str(&got), "nesting deeper than 200 levels") != NULL);
    sa_buf_free(&deep);
    sa_buf_free(&got);
}

static void check_patch(const char *doc, const char *patch, int rc_want, const char *want)
{
    cJSON *d = cJSON_Parse(doc);
    char err[256] = "";
    int rc = sa_patch_apply(d, patch, strlen(patch), err, sizeof err);
    SA_CHECK_INT(rc, rc_want);
    char *got = cJSON_PrintUnformatted(d);
    SA_CHECK_STR(rc == 0 ? got : err, want);
    cJSON_free(got);
    cJSON_Delete(d);
}

static void test_patch_apply(void)
{
    check_patch(
        "{\"a\":{\"b\":[1,2]}}",
        "[{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":3},{\"op\":\"add\",\"path\":\"/a/b/0\",\"value\":0},"
        "{\"op\":\"replace\",\"path\":\"/a/b/1\",\"value\":9},{\"op\":\"remove\",\"path\":\"/a/b/2\"},"
        "{\"op\":\"add\",\"path\":\"/a/c~1d~0e\",\"value\":\"x\"},{\"op\":\"test\",\"path\":\"/a/c~1d~0e\",\"value\":\"x\"}]",
        0, "{\"a\":{\"b\":[0,9,3],\"c/d~e\":\"x\"}}");
    check_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]", 0, "{\"a\":2}");
    check_patch("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]", -1,
                "patch replace of \"/b\", which does not exist");
    check_patch("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":2}]", -1,
                "patch path \"/a/2\": index out of range");
    check_patch("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]", -1,
                "patch path \"/a/01\": index out of range");
    check_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":2}]", -1,
                "patch path \"/x/y\" does not exist");
    check_patch("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"}]", -1,
                "patch op \"move\" is not supported");
    check_patch("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", -1,
                "patch test failed at \"/a\"");
    check_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/~2\",\"value\":2}]", -1,
                "patch path \"/a/~2\" is malformed");
    check_patch("{\"a\":1}", "{}", -1, "a JSON Patch is an array");
}

static void test_base64_decode(void)
{
    static const struct {
        const char *in, *out;
        int rc;
    } cases[] = {{"", "", 0},
                 {"YQ==", "a", 0},
                 {"YWI=", "ab", 0},
                 {"YWJj", "abc", 0},
                 {"W3sib3AiOiJhZGQifV0=", "[{\"op\":\"add\"}]", 0},
                 {"YQ=", "", -1},
                 {"Y!==", "", -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sa_buf b = SA_BUF_INIT;
        SA_CHECK_INT(sa_buf_base64_decode(cases[i].in, &b), cases[i].rc);
        if (cases[i].rc == 0)
            SA_CHECK_STR(sa_buf_str(&b), cases[i].out);
        sa_buf_free(&b);
    }
}

int main(void)
{
    SA_RUN(test_scalar_typing);
    SA_RUN(test_documents_and_lists);
    SA_RUN(test_errors);
    SA_RUN(test_nul);
    SA_RUN(test_many_anchors);
    SA_RUN(test_alias_bytes);
    SA_RUN(test_binary);
    SA_RUN(test_patch_apply);
    SA_RUN(test_base64_decode);
    SA_TEST_END();
}
