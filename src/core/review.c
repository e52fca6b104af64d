/* review.c: the AdmissionReview codec (see sa_review.h). */
#include "sa_review.h"

#include <stdio.h>
#include <string.h>

static const char *const api_versions[] = {
    [SA_REVIEW_V1] = "admission.k8s.io/v1",
    [SA_REVIEW_V1BETA1] = "admission.k8s.io/v1beta1",
};

/* A member that must be a string when present: *out = its value or "". */
static int opt_string(const cJSON *obj, const char *key, const char **out, const char *where,
                      char *err, size_t errlen)
{
    const cJSON *item = sa_json_get(obj, key);
    if (!item || cJSON_IsNull(item)) {
        *out = "";
        return 0;
    }
    if (!cJSON_IsString(item)) {
        snprintf(err, errlen, "%s%s must be a string", where, key);
        return -1;
    }
    *out = item->valuestring;
    return 0;
}

/* A member that must be an object when present: *out = it or NULL. */
static int opt_object(const cJSON *obj, const char *key, const cJSON **out, const char *where,
                      char *err, size_t errlen)
{
    const cJSON *item = sa_json_get(obj, key);
    if (!item || cJSON_IsNull(item)) {
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsObject(item)) {
        snprintf(err, errlen, "%s%s must be an object", where, key);
        return -1;
    }
    *out = item;
    return 0;
}

static int parse_request(sa_review *r, const cJSON *req, char *err, size_t errlen)
{
    const char *w = "request.";
    const cJSON *kind, *resource, *user;
    if (opt_string(req, "uid", &r->uid, w, err, errlen) < 0)
        return -1;
    if (!*r->uid) {
        snprintf(err, errlen, "request.uid is missing or empty");
        return -1;
    }
    if (opt_object(req, "kind", &kind, w, err, errlen) < 0 ||
        opt_string(kind, "group", &r->group, "request.kind.", err, errlen) < 0 ||
        opt_string(kind, "kind", &r->kind, "request.kind.", err, errlen) < 0 ||
        opt_object(req, "resource", &resource, w, err, errlen) < 0 ||
        opt_string(resource, "resource", &r->resource, "request.resource.", err, errlen) < 0 ||
        opt_string(req, "subResource", &r->sub_resource, w, err, errlen) < 0 ||
        opt_string(req, "operation", &r->operation, w, err, errlen) < 0 ||
        opt_string(req, "namespace", &r->namespace_, w, err, errlen) < 0 ||
        opt_string(req, "name", &r->name, w, err, errlen) < 0 ||
        opt_object(req, "userInfo", &user, w, err, errlen) < 0 ||
        opt_string(user, "username", &r->username, "request.userInfo.", err, errlen) < 0 ||
        opt_object(req, "object", &r->object, w, err, errlen) < 0 ||
        opt_object(req, "oldObject", &r->old_object, w, err, errlen) < 0)
        return -1;
    if (!kind || !*r->kind) {
        snprintf(err, errlen, "request.kind.kind is missing");
        return -1;
    }
    r->groups = sa_json_get(user, "groups");
    if (r->groups && !cJSON_IsNull(r->groups)) {
        if (!cJSON_IsArray(r->groups)) {
            snprintf(err, errlen, "request.userInfo.groups must be an array");
            return -1;
        }
        for (const cJSON *g = r->groups->child; g; g = g->next)
            if (!cJSON_IsString(g)) {
                snprintf(err, errlen, "request.userInfo.groups must hold strings");
                return -1;
            }
    } else {
        r->groups = NULL;
    }
    const cJSON *dry = sa_json_get(req, "dryRun");
    if (dry && !cJSON_IsNull(dry) && !cJSON_IsBool(dry)) {
        snprintf(err, errlen, "request.dryRun must be a boolean");
        return -1;
    }
    r->dry_run = cJSON_IsTrue(dry);
    return 0;
}

/* The envelope: a JSON object of kind AdmissionReview in a version we speak, with a request. */
static int parse_envelope(sa_review *r, const cJSON *doc, char *err, size_t errlen)
{
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "body is not a JSON object");
        return -1;
    }
    const char *kind = sa_json_str(sa_json_get(doc, "kind"));
    if (!kind || strcmp(kind, "AdmissionReview") != 0) {
        snprintf(err, errlen, "kind must be AdmissionReview");
        return -1;
    }
    const char *api = sa_json_str(sa_json_get(doc, "apiVersion"));
    if (api && strcmp(api, api_versions[SA_REVIEW_V1]) == 0) {
        r->version = SA_REVIEW_V1;
    } else if (api && strcmp(api, api_versions[SA_REVIEW_V1BETA1]) == 0) {
        r->version = SA_REVIEW_V1BETA1;
    } else {
        snprintf(err, errlen, "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
        return -1;
    }
    if (!cJSON_IsObject(sa_json_get(doc, "request"))) {
        snprintf(err, errlen, "request is missing or not an object");
        return -1;
    }
    return 0;
}

int sa_review_read(sa_review *r, const cJSON *doc, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->marks = -1;
    r->request = sa_json_get(doc, "request");
    if (parse_envelope(r, doc, err, errlen) < 0 || parse_request(r, r->request, err, errlen) < 0) {
        memset(r, 0, sizeof *r);
        return -1;
    }
    return 0;
}

int sa_review_parse(sa_review *r, const char *body, size_t len, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    cJSON *doc;
    int marks = sa_json_parse(body, len, &doc, err, errlen);
    if (marks < 0)
        return -1;
    if (sa_review_read(r, doc, err, errlen) < 0) {
        sa_json_delete(doc);
        return -1;
    }
    r->doc = doc;
    r->marks = marks;
    return 0;
}

/* ---- the skimmer: a tolerant walk over the envelope's first members ---------------------- */

/* The members looked for, by object: 0 the top, 1 request, 2 request.kind. */
static const struct {
    int object;
    const char *key;
} wanted[] = {{0, "kind"}, {0, "apiVersion"}, {1, "uid"}, {2, "group"}, {2, "kind"}};
#define WANTED (sizeof wanted / sizeof wanted[0])

typedef struct skim {
    const char *p, *end;
    struct {
        const char *value;
        size_t len;
        int seen, escaped;
    } want[WANTED];  /* what was found of each wanted member */
    int kind_closed; /* request.kind was read to its end */
} skim;

static void skim_space(skim *k)
{
    while (k->p < k->end && (*k->p == ' ' || *k->p == '\t' || *k->p == '\n' || *k->p == '\r'))
        k->p++;
}

/* The string token at k->p (a quote): its raw bytes in *s, *n. 0 when the text ends first. */
static int skim_string(skim *k, const char **s, size_t *n, int *escaped)
{
    const char *q = k->p + 1;
    *escaped = 0;
    while (q < k->end && *q != '"') {
        if (*q == '\\') {
            *escaped = 1;
            q++;
        }
        q++;
    }
    if (q >= k->end)
        return 0;
    *s = k->p + 1;
    *n = (size_t)(q - *s);
    k->p = q + 1;
    return 1;
}

static int skim_delimiter(char c)
{
    return c == ',' || c == ':' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' ||
           c == '\r';
}

/* Steps over one value of any shape, counting brackets rather than recursing. 0 when the text
 * ends (or goes wrong) first. */
static int skim_skip(skim *k)
{
    size_t depth = 0;
    do {
        skim_space(k);
        if (k->p >= k->end)
            return 0;
        const char *s;
        size_t n;
        int e;
        char c = *k->p;
        if (c == '"') {
            if (!skim_string(k, &s, &n, &e))
                return 0;
        } else if (c == '{' || c == '[') {
            depth++;
            k->p++;
        } else if (skim_delimiter(c)) { /* a closing bracket, a comma or a colon */
            if (!depth)
                return 0;
            depth -= c == '}' || c == ']';
            k->p++;
        } else { /* a number or a literal: its bytes up to a delimiter, at least one */
            do
                k->p++;
            while (k->p < k->end && !skim_delimiter(*k->p));
            if (k->p >= k->end)
                return 0;
        }
    } while (depth);
    return 1;
}

/* Walks the members of the object at k->p, of kind object (0-2), recording wanted members and
 * descending into request and request.kind. 0 when the text ends (or goes wrong) first. */
static int skim_object(skim *k, int object)
{
    if (k->p >= k->end || *k->p != '{')
        return 0;
    k->p++;
    for (int first = 1;; first = 0) {
        skim_space(k);
        if (k->p < k->end && *k->p == '}') {
            k->p++;
            return 1;
        }
        if (!first) {
            if (k->p >= k->end || *k->p != ',')
                return 0;
            k->p++;
            skim_space(k);
        }
        const char *key;
        size_t klen;
        int escaped;
        if (k->p >= k->end || *k->p != '"' || !skim_string(k, &key, &klen, &escaped))
            return 0;
        skim_space(k);
        if (k->p >= k->end || *k->p != ':')
            return 0;
        k->p++;
        skim_space(k);
        if (k->p >= k->end)
            return 0;
        int into = object == 0 && klen == 7 && memcmp(key, "request", 7) == 0 ? 1
                   : object == 1 && klen == 4 && memcmp(key, "kind", 4) == 0  ? 2
                                                                              : -1;
        if (into > 0 && *k->p == '{') {
            if (!skim_object(k, into))
                return 0;
            k->kind_closed |= into == 2;
            continue;
        }
        size_t i;
        for (i = 0; i < WANTED; i++)
            if (wanted[i].object == object && strlen(wanted[i].key) == klen &&
                memcmp(wanted[i].key, key, klen) == 0)
                break;
        if (i < WANTED && *k->p == '"') {
            if (!skim_string(k, &k->want[i].value, &k->want[i].len, &k->want[i].escaped))
                return 0;
            k->want[i].seen++;
        } else if (!skim_skip(k)) {
            return 0;
        }
    }
}

/* Copies wanted member i into out (cap bytes); -1 with a reason when it cannot be used. */
static int skim_take(const skim *k, size_t i, const char *where, char *out, size_t cap, char *err,
                     size_t errlen)
{
    size_t n = k->want[i].len;
    if (k->want[i].seen != 1 || k->want[i].escaped || n >= cap ||
        sa_json_utf8_valid_prefix(k->want[i].value, n) != n) {
        snprintf(err, errlen, "%s is %s", where,
                 !k->want[i].seen      ? "missing"
                 : k->want[i].seen > 1 ? "given twice"
                                       : "not a plain string");
        return -1;
    }
    for (size_t j = 0; j < n; j++)
        if ((unsigned char)k->want[i].value[j] < 0x20) {
            snprintf(err, errlen, "%s is not a plain string", where);
            return -1;
        }
    memcpy(out, k->want[i].value, n);
    out[n] = 0;
    return 0;
}

int sa_review_skim(sa_review_envelope *s, const char *body, size_t len, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    skim k = {.p = body, .end = body + len};
    skim_space(&k);
    skim_object(&k, 0); /* whatever it reads before the text ends or goes wrong */
    char kind[32], api[32];
    if (skim_take(&k, 0, "kind", kind, sizeof kind, err, errlen) < 0)
        return -1;
    if (strcmp(kind, "AdmissionReview") != 0) {
        snprintf(err, errlen, "kind must be AdmissionReview");
        return -1;
    }
    if (skim_take(&k, 1, "apiVersion", api, sizeof api, err, errlen) < 0)
        return -1;
    if (strcmp(api, api_versions[SA_REVIEW_V1]) == 0) {
        s->version = SA_REVIEW_V1;
    } else if (strcmp(api, api_versions[SA_REVIEW_V1BETA1]) == 0) {
        s->version = SA_REVIEW_V1BETA1;
    } else {
        snprintf(err, errlen, "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
        return -1;
    }
    if (skim_take(&k, 2, "request.uid", s->uid, sizeof s->uid, err, errlen) < 0)
        return -1;
    if (!*s->uid) {
        snprintf(err, errlen, "request.uid is missing or empty");
        return -1;
    }
    if (!k.kind_closed) {
        snprintf(err, errlen, "request.kind is missing or cut short");
        return -1;
    }
    if ((k.want[3].seen &&
         skim_take(&k, 3, "request.kind.group", s->group, sizeof s->group, err, errlen) < 0) ||
        skim_take(&k, 4, "request.kind.kind", s->kind, sizeof s->kind, err, errlen) < 0)
        return -1;
    return 0;
}

int sa_review_in_group(const sa_review *r, const char *group)
{
    for (const cJSON *g = r->groups ? r->groups->child : NULL; g; g = g->next)
        if (cJSON_IsString(g) && strcmp(g->valuestring, group) == 0)
            return 1;
    return 0;
}

void sa_review_free(sa_review *r)
{
    sa_json_delete(r->doc);
    memset(r, 0, sizeof *r);
}

void sa_review_encode(const sa_review *r, const sa_verdict *v, sa_buf *out)
{
    int denied = sa_verdict_denied(v);
    sa_buf text = SA_BUF_INIT; /* scratch for each list's text */
    sa_buf_puts(out, "{\"apiVersion\":");
    sa_buf_json_string(out, api_versions[r->version]);
    sa_buf_puts(out, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
    sa_buf_json_string(out, r->uid);
    sa_buf_puts(out, denied ? ",\"allowed\":false" : ",\"allowed\":true");
    if (denied) {
        sa_verdict_list_text(&v->denial, &text);
        if (!text.len) /* nothing could be recorded, which is itself a reason to deny */
            sa_buf_puts(&text, "session-admission: out of memory while judging this request");
        sa_buf_puts(out, ",\"status\":{\"code\":403,\"reason\":\"Forbidden\",\"message\":");
        sa_buf_json_string(out, sa_buf_str(&text));
        sa_buf_putc(out, '}');
    } else if (v->patch.count > 0) {
        /* The API server refuses a patch on a denial, so only an allowed response carries one. */
        sa_buf_puts(out, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
        sa_patch_base64(&v->patch, out);
        sa_buf_putc(out, '"');
    }
    if (v->warnings.count) {
        sa_buf_puts(out, ",\"warnings\":[");
        const char *w = sa_buf_str(&v->warnings.text);
        size_t listed = v->warnings.count < SA_VERDICT_LIST_MAX ? v->warnings.count
                                                                : SA_VERDICT_LIST_MAX;
        for (size_t i = 0; i < listed; i++) {
            if (i)
                sa_buf_putc(out, ',');
            sa_buf_json_string(out, w);
            w += strlen(w) + 1;
        }
        if (v->warnings.count > listed)
            sa_buf_printf(out, ",\"and %zu more warnings\"", v->warnings.count - listed);
        sa_buf_putc(out, ']');
    }
    int first = 1;
    for (int i = 0; i < SA_RULE_COUNT; i++) {
        if (!v->audit[i].count)
            continue;
        sa_buf_puts(out, first ? ",\"auditAnnotations\":{" : ",");
        first = 0;
        sa_buf_json_string(out, sa_verdict_rule_id((sa_rule)i));
        sa_buf_putc(out, ':');
        sa_buf_reset(&text);
        sa_verdict_list_text(&v->audit[i], &text);
        sa_buf_json_string(out, sa_buf_str(&text));
    }
    if (!first)
        sa_buf_putc(out, '}');
    sa_buf_free(&text);
    sa_buf_puts(out, "}}");
}
