/* suite.c: policy test suites (see sa_suite.h): read a suite, judge each case with sa_scan,
 * compare with what the case expects, one PASS or FAIL line per case. */
#include "sa_suite.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sa_json.h"
#include "sa_objects.h"
#include "sa_load.h"
#include "sa_scan.h"

#define SUITE_FILE_MAX (64u * 1024 * 1024)
#define CASE_GROUPS_MAX 64

/* One suite being run. */
typedef struct suite {
    const char *path; /* as given: how PASS and FAIL lines name the suite */
    char dir[4096];   /* its directory, for the files its cases name */
    const sa_snapshot *snap;
} suite;

/* path relative to the suite's directory (unless absolute), into out; a path too long to hold
 * becomes "" (which no file has). */
static void resolve(const suite *s, const char *rel, char *out, size_t cap)
{
    int n = rel[0] == '/' || !*s->dir ? snprintf(out, cap, "%s", rel)
                                      : snprintf(out, cap, "%s/%s", s->dir, rel);
    if (n < 0 || (size_t)n >= cap)
        *out = '\0';
}

static int read_text(const char *path, sa_buf *b, char *err, size_t errlen)
{
    return sa_buf_read_file(b, path, SUITE_FILE_MAX, err, errlen);
}

/* The one object a case's object or oldObject names: a file (relative to the suite) or inline.
 * The objects own it; NULL with a reason in err. */
static const cJSON *case_object(const suite *s, const cJSON *spec, sa_objects *objs, char *err,
                                size_t errlen)
{
    if (cJSON_IsObject(spec)) {
        if (!sa_json_str(sa_json_get(spec, "apiVersion")) ||
            !sa_json_str(sa_json_get(spec, "kind"))) {
            snprintf(err, errlen, "an inline object needs apiVersion and kind");
            return NULL;
        }
        return spec;
    }
    if (!sa_json_str(spec)) {
        snprintf(err, errlen, "expected a file name or an inline object");
        return NULL;
    }
    char path[4096];
    resolve(s, spec->valuestring, path, sizeof path);
    sa_buf text = SA_BUF_INIT;
    const cJSON *obj = NULL;
    if (read_text(path, &text, err, errlen) == 0 &&
        sa_objects_read(objs, path, sa_buf_str(&text), text.len, err, errlen) == 0) {
        if (objs->count == 1)
            obj = objs->items[0].obj;
        else
            snprintf(err, errlen, "%.300s holds %zu objects, not one", path, objs->count);
    }
    sa_buf_free(&text);
    return obj;
}

/* The value at a field path of obj: dotted keys, [N] for an array index, ["key"] for a key
 * holding dots or slashes: metadata.annotations["ambient-code.io/cp-token-key-sha256"]. NULL when
 * absent; *bad set when the path itself is malformed. */
static const cJSON *field_at(const cJSON *obj, const char *path, int *bad)
{
    const char *p = path;
    char key[512];
    *bad = 0;
    while (*p && obj) {
        size_t n;
        if (p[0] == '[' && p[1] == '"') {
            const char *end = strstr(p + 2, "\"]");
            if (!end || (n = (size_t)(end - p - 2)) >= sizeof key)
                return *bad = 1, NULL;
            memcpy(key, p + 2, n);
            key[n] = '\0';
            p = end + 2;
            obj = sa_json_get(obj, key);
        } else if (p[0] == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || end == p + 1 || i < 0)
                return *bad = 1, NULL;
            p = end + 1;
            obj = cJSON_IsArray(obj) ? cJSON_GetArrayItem(obj, (int)i) : NULL;
        } else {
            n = strcspn(p, ".[");
            if (!n || n >= sizeof key)
                return *bad = 1, NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            p += n;
            obj = sa_json_get(obj, key);
        }
        if (*p == '.')
            p++;
    }
    return obj;
}

static int has_substring(const cJSON *list, const char *want)
{
    for (const cJSON *w = list ? list->child : NULL; w; w = w->next)
        if (sa_json_str(w) && strstr(w->valuestring, want))
            return 1;
    return 0;
}

/* What an expectation is checked against: the judged result and the object as written. */
typedef struct expect_ctx {
    const sa_scan_result *res;
    const cJSON *object;
    const char *verdict; /* res->verdict's name */
    char *why;           /* the first mismatch, one line */
    size_t cap;
} expect_ctx;

/* One named expectation: returns 1 when e (the expected value under key k) holds for c. */
typedef int (*expect_fn)(const expect_ctx *c, const char *k, const cJSON *e);

static int expect_verdict(const expect_ctx *c, const char *k, const cJSON *e)
{
    (void)k;
    if (!sa_json_str(e) || sa_scan_verdict_from_name(e->valuestring) < 0)
        return snprintf(c->why, c->cap,
                        "expect.verdict: one of allowed, patched, warned, denied, not-judged"),
               0;
    if (strcmp(e->valuestring, c->verdict) != 0)
        return snprintf(c->why, c->cap, "verdict %s, expected %s: %s", c->verdict, e->valuestring,
                        sa_buf_str(&c->res->message)),
               0;
    return 1;
}

/* "allowed" and "patched": a boolean each. */
static int expect_flag(const expect_ctx *c, const char *k, int have, const cJSON *e)
{
    int want = cJSON_IsTrue(e);
    if (!cJSON_IsBool(e))
        return snprintf(c->why, c->cap, "expect.%s: true or false", k), 0;
    if (want != have)
        return snprintf(c->why, c->cap, "%s%s, expected %s%s: %s", have ? "" : "not ", k,
                        want ? "" : "not ", k,
                        c->res->message.len ? sa_buf_str(&c->res->message) : c->verdict),
               0;
    return 1;
}

static int expect_allowed(const expect_ctx *c, const char *k, const cJSON *e)
{
    return expect_flag(c, k, c->res->verdict != SA_SCAN_DENIED, e);
}

static int expect_patched(const expect_ctx *c, const char *k, const cJSON *e)
{
    return expect_flag(c, k, c->res->patched != NULL, e);
}

static int expect_rules(const expect_ctx *c, const char *k, const cJSON *e)
{
    (void)k;
    if (!cJSON_IsArray(e))
        return snprintf(c->why, c->cap, "expect.rules: a list of rule ids"), 0;
    unsigned want = 0;
    for (const cJSON *r = e->child; r; r = r->next) {
        int id = sa_json_str(r) ? sa_verdict_rule_from_id(r->valuestring) : -1;
        if (id < 0)
            return snprintf(c->why, c->cap, "expect.rules: unknown rule id \"%s\"",
                            sa_json_str(r) ? r->valuestring : ""),
                   0;
        want |= 1u << id;
    }
    if (want == c->res->rules_hit)
        return 1;
    sa_buf got = SA_BUF_INIT, w = SA_BUF_INIT;
    sa_scan_rule_ids(c->res->rules_hit, &got);
    sa_scan_rule_ids(want, &w);
    snprintf(c->why, c->cap, "rules [%s], expected [%s]", sa_buf_str(&got), sa_buf_str(&w));
    sa_buf_free(&got);
    sa_buf_free(&w);
    return 0;
}

/* "message" and "warning": a substring of the message, or of one of the warnings. */
static int expect_text(const expect_ctx *c, const char *k, int found, const cJSON *e)
{
    if (!sa_json_str(e))
        return snprintf(c->why, c->cap, "expect.%s: a string", k), 0;
    if (!found)
        return snprintf(c->why, c->cap, "no %s contains \"%s\" (%s: %s)", k, e->valuestring,
                        c->verdict, sa_buf_str(&c->res->message)),
               0;
    return 1;
}

static int expect_message(const expect_ctx *c, const char *k, const cJSON *e)
{
    return expect_text(c, k, sa_json_str(e) && strstr(sa_buf_str(&c->res->message), e->valuestring),
                       e);
}

static int expect_warning(const expect_ctx *c, const char *k, const cJSON *e)
{
    return expect_text(c, k, sa_json_str(e) && has_substring(c->res->warnings, e->valuestring), e);
}

/* "fields": {path: value}, read from the patched object when there is one; null = absent. */
static int expect_fields(const expect_ctx *c, const char *k, const cJSON *e)
{
    (void)k;
    if (!cJSON_IsObject(e))
        return snprintf(c->why, c->cap, "expect.fields: an object of paths and values"), 0;
    const cJSON *obj = c->res->patched ? c->res->patched : c->object;
    for (const cJSON *f = e->child; f; f = f->next) {
        int bad;
        const cJSON *have = field_at(obj, f->string, &bad);
        if (bad)
            return snprintf(c->why, c->cap, "expect.fields: malformed path %s", f->string), 0;
        if (have ? cJSON_Compare(have, f, 1) : cJSON_IsNull(f))
            continue;
        char *text = have ? cJSON_PrintUnformatted(have) : NULL;
        char *want = cJSON_IsNull(f) ? NULL : cJSON_PrintUnformatted(f);
        snprintf(c->why, c->cap, "%s is %.200s, expected %.200s", f->string, text ? text : "absent",
                 want ? want : "absent");
        cJSON_free(text);
        cJSON_free(want);
        return 0;
    }
    return 1;
}

static const struct {
    const char *key;
    expect_fn check;
    /* clang-format off */
} expectations[] = {
    {"verdict", expect_verdict}, {"allowed", expect_allowed}, {"rules", expect_rules},
    {"message", expect_message}, {"warning", expect_warning}, {"patched", expect_patched},
    {"fields", expect_fields},
};
/* clang-format on */
#define NEXPECTATIONS (sizeof expectations / sizeof expectations[0])

/* Checks the result against expect; the first mismatch goes to why. */
static int check_expect(const cJSON *expect, const sa_scan_result *res, const cJSON *object,
                        char *why, size_t cap)
{
    expect_ctx c = {res, object, sa_scan_verdict_name(res->verdict), why, cap};
    for (const cJSON *e = expect->child; e; e = e->next) {
        size_t i = 0;
        while (i < NEXPECTATIONS && strcmp(expectations[i].key, e->string) != 0)
            i++;
        if (i == NEXPECTATIONS)
            return snprintf(why, cap,
                            "unknown expectation \"%s\" (verdict, allowed, rules, message, "
                            "warning, patched, fields)",
                            e->string),
                   0;
        if (!expectations[i].check(&c, e->string, e))
            return 0;
    }
    return 1;
}

static const char *const case_keys[] = {"name", "object", "review",    "oldObject", "operation",
                                        "user", "groups", "namespace", "expect",    NULL};

/* Runs one case; returns 1 on PASS, with the reason for a FAIL in why. */
static int run_case(const suite *s, const cJSON *c, char *why, size_t cap)
{
    for (const cJSON *k = cJSON_IsObject(c) ? c->child : NULL; k; k = k->next) {
        const char *const *known = case_keys;
        while (*known && strcmp(*known, k->string) != 0)
            known++;
        if (!*known)
            return snprintf(why, cap, "unknown key \"%s\"", k->string), 0;
    }
    const cJSON *expect = sa_json_get(c, "expect");
    const cJSON *object = sa_json_get(c, "object"), *review = sa_json_get(c, "review");
    if (!cJSON_IsObject(expect))
        return snprintf(why, cap, "no expect mapping"), 0;
    if (!object == !review)
        return snprintf(why, cap, "needs exactly one of object and review"), 0;
    sa_scan_result res;
    sa_objects objs = SA_OBJECTS_INIT, olds = SA_OBJECTS_INIT;
    const cJSON *obj = NULL;
    int pass = 0;
    char err[1024];
    if (review) {
        char path[4096];
        sa_buf text = SA_BUF_INIT;
        if (!sa_json_str(review)) {
            snprintf(why, cap, "review: expected a file name");
            goto out;
        }
        resolve(s, review->valuestring, path, sizeof path);
        if (read_text(path, &text, err, sizeof err) < 0) {
            snprintf(why, cap, "%s", err);
            sa_buf_free(&text);
            goto out;
        }
        sa_scan_review(s->snap, sa_buf_str(&text), text.len, &res);
        sa_buf_free(&text);
    } else {
        const cJSON *old = NULL, *old_spec = sa_json_get(c, "oldObject");
        const char *groups[CASE_GROUPS_MAX];
        size_t ngroups = 0;
        const cJSON *glist = sa_json_get(c, "groups");
        if (!(obj = case_object(s, object, &objs, err, sizeof err)) ||
            (old_spec && !(old = case_object(s, old_spec, &olds, err, sizeof err)))) {
            snprintf(why, cap, "%s: %s", obj ? "oldObject" : "object", err);
            goto out;
        }
        for (const cJSON *g = cJSON_IsArray(glist) ? glist->child : NULL; g; g = g->next) {
            if (!sa_json_str(g) || ngroups == CASE_GROUPS_MAX) {
                snprintf(why, cap, "groups: a list of at most %d strings", CASE_GROUPS_MAX);
                goto out;
            }
            groups[ngroups++] = g->valuestring;
        }
        const char *op = sa_json_str(sa_json_get(c, "operation"));
        /* clang-format off */
        sa_scan_request rq = {
            .operation = op, .username = sa_json_str(sa_json_get(c, "user")), .groups = groups,
            .ngroups = ngroups, .old_object = old,
            .default_namespace = sa_json_str(sa_json_get(c, "namespace")),
        };
        /* clang-format on */
        if (op && strcmp(op, "CREATE") != 0 && strcmp(op, "UPDATE") != 0 &&
            strcmp(op, "DELETE") != 0) {
            snprintf(why, cap, "operation: CREATE, UPDATE or DELETE");
            goto out;
        }
        sa_scan_object(s->snap, obj, &rq, &res);
    }
    if (res.verdict == SA_SCAN_ERROR)
        snprintf(why, cap, "unusable: %s", res.error);
    else
        pass = check_expect(expect, &res, obj, why, cap);
    sa_scan_result_free(&res);
out:
    sa_objects_free(&objs);
    sa_objects_free(&olds);
    return pass;
}

static int run_file(const char *path, const char *policy, const char *key, sa_buf *out,
                    sa_buf *notes, sa_suite_totals *t, int only_suites, char *err, size_t errlen)
{
    sa_buf text = SA_BUF_INIT;
    sa_objects objs = SA_OBJECTS_INIT;
    sa_snapshot *snap = NULL;
    int rc = -1;
    if (read_text(path, &text, err, errlen) < 0 ||
        sa_objects_read(&objs, path, sa_buf_str(&text), text.len, err, errlen) < 0)
        goto out;
    const cJSON *doc = objs.count == 1 ? objs.items[0].obj : NULL;
    if (!doc || strcmp(sa_json_string(doc, "kind"), "TestSuite") != 0) {
        if (only_suites)
            rc = 0; /* a directory holds the cases' object files too */
        else
            snprintf(err, errlen, "%s: not a suite (one document of kind TestSuite)", path);
        goto out;
    }
    if (strcmp(sa_json_string(doc, "apiVersion"), "session-admission/v1alpha1") != 0) {
        snprintf(err, errlen, "%s: apiVersion must be session-admission/v1alpha1", path);
        goto out;
    }
    const cJSON *cases = sa_json_get(doc, "cases");
    if (!cJSON_IsArray(cases) || !cases->child) {
        snprintf(err, errlen, "%s: cases must be a non-empty list", path);
        goto out;
    }
    suite s = {.path = path};
    const char *slash = strrchr(path, '/');
    snprintf(s.dir, sizeof s.dir, "%.*s", slash ? (int)(slash - path) : 0, path);
    char ppath[4096], kpath[4096];
    const char *p = policy, *k = key;
    if (!p && sa_json_str(sa_json_get(doc, "policy")))
        resolve(&s, sa_json_get(doc, "policy")->valuestring, ppath, sizeof ppath), p = ppath;
    if (!k && sa_json_str(sa_json_get(doc, "publicKey")))
        resolve(&s, sa_json_get(doc, "publicKey")->valuestring, kpath, sizeof kpath), k = kpath;
    sa_buf errors = SA_BUF_INIT;
    sa_load_from from = {.policy_path = p, .key_path = k, .example_key = 1};
    snap = sa_load_snapshot(&from, notes, &errors);
    if (!snap) {
        snprintf(err, errlen, "%s: %.*s", path, (int)strcspn(sa_buf_str(&errors), "\n"),
                 sa_buf_str(&errors));
        sa_buf_free(&errors);
        goto out;
    }
    sa_buf_free(&errors);
    s.snap = snap;
    size_t i = 0;
    for (const cJSON *c = cases->child; c; c = c->next, i++) {
        char why[2048], name[256];
        const char *n = sa_json_str(sa_json_get(c, "name"));
        snprintf(name, sizeof name, "%s", n ? n : "");
        if (!n)
            snprintf(name, sizeof name, "cases[%zu]", i);
        if (run_case(&s, c, why, sizeof why)) {
            t->passed++;
            sa_buf_printf(out, "PASS %s: %s\n", s.path, name);
        } else {
            t->failed++;
            sa_buf_printf(out, "FAIL %s: %s: %s\n", s.path, name, why);
        }
    }
    rc = 0;
out:
    sa_snapshot_release(snap);
    sa_objects_free(&objs);
    sa_buf_free(&text);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int yaml_name(const char *n)
{
    size_t len = strlen(n);
    return n[0] != '.' && ((len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
                           (len > 4 && strcmp(n + len - 4, ".yml") == 0));
}

int sa_suite_run(const char *path, const char *policy, const char *key, sa_buf *out, sa_buf *notes,
                 sa_suite_totals *t, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return run_file(path, policy, key, out, notes, t, 0, err, errlen);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open the directory", path);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!yaml_name(e->d_name))
            continue;
        if (sa_buf_array_grow(&names, &cap, n, sizeof *names, 16) < 0 ||
            !(names[n] = malloc(strlen(path) + strlen(e->d_name) + 2))) {
            rc = -1;
            break;
        }
        sprintf(names[n++], "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", path);
    if (names)
        qsort(names, n, sizeof *names, by_name);
    unsigned before = t->passed + t->failed;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = run_file(names[i], policy, key, out, notes, t, 1, err, errlen);
    if (rc == 0 && t->passed + t->failed == before) {
        snprintf(err, errlen, "%s: no suite (a .yaml file of kind TestSuite) in this directory",
                 path);
        rc = -1;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
