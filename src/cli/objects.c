/* objects.c: the manifest reader (see sa_objects.h): JSON through the strict parser, YAML through
 * the one YAML reader (sa_yaml.h, manifest mode) and its tree typed into cJSON as kubectl types
 * it, then every document checked and Lists flattened. */
#include "sa_objects.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h> /* YAML_STR_TAG */

#include "sa_buf.h"
#include "sa_json.h"
#include "sa_yaml.h"

/* ---- YAML tree to cJSON ------------------------------------------------------------------ */

/* Records "line L column C: what" at n in err; NULL, for the caller to return. */
static cJSON *fail_at(const sa_yaml_node *n, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "line %d column %d: %s", n->line, n->col, what);
    return NULL;
}

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* go-yaml v2's resolution of a plain scalar (resolve.go), which kubectl's YAML decoding uses. */
static const char *const yaml_true[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                        "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const yaml_false[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                         "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const yaml_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yaml_nonfinite[] = {".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf",
                                             ".INF",  "+.inf", "+.Inf", "+.INF", "-.inf",
                                             "-.Inf", "-.INF", NULL};

/* An integer as Go's strconv.ParseInt(s, 0, 64) reads it after '_' are removed: an optional
 * sign, then 0x / 0o / 0b / a leading 0 (octal) / decimal digits. */
static int parse_int(const char *s, double *out)
{
    char digits[128];
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if (*p != '_') {
            if (n + 1 >= sizeof digits)
                return 0;
            digits[n++] = *p;
        }
    digits[n] = '\0';
    const char *p = digits;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && p[1])
        base = 8, p += 1;
    if (!*p)
        return 0;
    double v = 0;
    for (; *p; p++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                         : 99;
        if (d >= base)
            return 0;
        v = v * base + d;
    }
    *out = neg ? -v : v;
    return 1;
}

/* go-yaml v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int parse_float(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t lead = strspn(p, "0123456789");
    p += lead;
    size_t frac = 0;
    if (*p == '.') {
        frac = strspn(p + 1, "0123456789");
        p += 1 + frac;
    }
    if (!lead && !frac)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exp = strspn(p, "0123456789");
        if (!exp)
            return 0;
        p += exp;
    }
    if (*p)
        return 0;
    errno = 0;
    *out = strtod(s, NULL);
    return isfinite(*out);
}

#define YAML_BINARY_TAG_NAME "tag:yaml.org,2002:binary"

static int is_binary(const sa_yaml_node *n)
{
    return n->tag && strcmp(n->tag, YAML_BINARY_TAG_NAME) == 0;
}

/* Whether libyaml calls a scalar plain-implicit, so go-yaml resolves its type: plain and untagged,
 * or tagged with the non-specific "!" (libyaml's parser.c). Anything else is a string. */
static int implicit(const sa_yaml_node *n)
{
    return (n->plain && !n->tag) || (n->tag && strcmp(n->tag, "!") == 0);
}

/* A !!binary scalar as kubectl reads it. go-yaml does not resolve the tag (resolve.go:
 * resolvableTag) but decodes the text with Go's base64.StdEncoding, which skips '\r' and '\n'
 * and wants padding, into a Go string of those bytes, or fails with "!!binary value contains
 * invalid base64 data" (decode.go: (*decoder).scalar); sigs.k8s.io/yaml then prints the tree with
 * encoding/json, which writes each byte that is not UTF-8 as U+FFFD and NUL as \u0000 (yaml.go:
 * yamlToJSONTarget). So a Secret's data field gets the decoded text, never the base64 one. NUL
 * becomes SA_BUF_NUL_MARK, as the JSON reader reads \u0000. */
static cJSON *binary_scalar(const sa_yaml_node *scalar, char *err, size_t errlen)
{
    const char *text = scalar->text;
    sa_buf b64 = SA_BUF_INIT, raw = SA_BUF_INIT, out = SA_BUF_INIT;
    for (size_t i = 0; i < scalar->len; i++)
        if (text[i] != '\r' && text[i] != '\n')
            sa_buf_putc(&b64, text[i]);
    /* '=' only as the padding of the last group, as Go wants it; the rest the alphabet. */
    size_t n = b64.len, body = n, pad = 0;
    while (body > 0 && pad < 2 && b64.data[body - 1] == '=')
        body--, pad++;
    int ok = !b64.oom &&
             strspn(sa_buf_str(&b64), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789+/") == body &&
             n % 4 == 0 && sa_buf_base64_decode(sa_buf_str(&b64), &raw) == 0;
    cJSON *node = NULL;
    if (!ok) {
        fail_at(scalar, "!!binary value contains invalid base64 data", err, errlen);
    } else {
        for (size_t i = 0; i < raw.len;) {
            size_t good = sa_json_utf8_valid_prefix(raw.data + i, raw.len - i);
            for (size_t j = i; j < i + good; j++)
                sa_buf_putc(&out, raw.data[j] ? raw.data[j] : SA_BUF_NUL_MARK);
            i += good;
            if (i < raw.len) {
                sa_buf_puts(&out, "\xef\xbf\xbd"); /* U+FFFD for one byte that is not UTF-8 */
                i++;
            }
        }
        if (out.oom || !(node = cJSON_CreateString(sa_buf_str(&out))))
            snprintf(err, errlen, "out of memory");
    }
    sa_buf_free(&b64);
    sa_buf_free(&raw);
    sa_buf_free(&out);
    return node;
}

static cJSON *scalar(const sa_yaml_node *n, char *err, size_t errlen)
{
    const char *text = n->text;
    if (is_binary(n)) /* quoted or not: go-yaml decodes any scalar tagged !!binary */
        return binary_scalar(n, err, errlen);
    /* Quoted and block scalars, and anything tagged !!str, are strings. */
    if (!implicit(n) || (n->tag && strcmp(n->tag, YAML_STR_TAG) == 0))
        return cJSON_CreateString(text);
    if (one_of(text, yaml_null))
        return cJSON_CreateNull();
    if (one_of(text, yaml_true))
        return cJSON_CreateTrue();
    if (one_of(text, yaml_false))
        return cJSON_CreateFalse();
    if (strcmp(text, "<<") == 0)
        return fail_at(n, "merge keys (<<) are not supported; write the keys out", err, errlen);
    if (one_of(text, yaml_nonfinite))
        return fail_at(n, "NaN and infinity have no JSON form", err, errlen);
    double v;
    if (strchr("+-0123456789.", text[0]) && (parse_int(text, &v) || parse_float(text, &v)))
        return cJSON_CreateNumber(v);
    return cJSON_CreateString(text);
}

/* The text a mapping key becomes in JSON: go-yaml resolves keys like values and
 * sigs.k8s.io/yaml prints booleans as true/false; other keys keep their text. */
static const char *key_text(const sa_yaml_node *k)
{
    if (implicit(k)) {
        if (one_of(k->text, yaml_true))
            return "true";
        if (one_of(k->text, yaml_false))
            return "false";
    }
    return k->text;
}

/* The JSON value of the tree n (the reader already expanded aliases and bounded the nesting).
 * NULL with err set on failure. */
static cJSON *to_json(const sa_yaml_node *n, char *err, size_t errlen)
{
    if (n->type == SA_YAML_SCALAR) {
        cJSON *v = scalar(n, err, errlen);
        if (!v && !*err)
            snprintf(err, errlen, "out of memory");
        return v;
    }
    int is_map = n->type == SA_YAML_MAP;
    cJSON *node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n->n; i++) {
        const sa_yaml_node *k = is_map ? n->items[2 * i] : NULL;
        const char *why = !k                          ? NULL
                          : k->type != SA_YAML_SCALAR ? "a mapping key must be a plain string"
                          : implicit(k) && strcmp(k->text, "<<") == 0
                              ? "merge keys (<<) are not supported; write the keys out"
                          : is_binary(k) ? "a !!binary mapping key is not supported"
                                         : NULL;
        cJSON *child = why ? fail_at(k, why, err, errlen)
                           : to_json(is_map ? n->items[2 * i + 1] : n->items[i], err, errlen);
        if (!child) {
            cJSON_Delete(node);
            return NULL;
        }
        if (is_map)
            cJSON_AddItemToObject(node, key_text(k), child);
        else
            cJSON_AddItemToArray(node, child);
    }
    return node;
}

/* ---- documents to objects --------------------------------------------------------------- */

static int push_doc(sa_objects *s, cJSON *doc)
{
    if (sa_buf_array_grow(&s->docs, &s->capdocs, s->ndocs, sizeof *s->docs, 8) < 0)
        return -1;
    s->docs[s->ndocs++] = doc;
    return 0;
}

static int push_object(sa_objects *s, const cJSON *obj, unsigned doc, long item)
{
    if (sa_buf_array_grow(&s->items, &s->cap, s->count, sizeof *s->items, 64) < 0)
        return -1;
    s->items[s->count++] = (sa_object){obj, doc, item};
    return 0;
}

/* What makes a JSON value an object kubectl would send: a mapping with string apiVersion and
 * kind ("Object 'Kind' is missing" otherwise). */
static const char *not_an_object(const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return "is not a mapping (an object with apiVersion and kind)";
    const char *api = sa_json_str(sa_json_get(o, "apiVersion"));
    const char *kind = sa_json_str(sa_json_get(o, "kind"));
    if (!kind || !*kind)
        return "has no kind";
    if (!api || !*api)
        return "has no apiVersion";
    const cJSON *meta = sa_json_get(o, "metadata");
    if (meta && !cJSON_IsNull(meta) && !cJSON_IsObject(meta))
        return "metadata is not a mapping";
    return NULL;
}

/* A list: kind List, or a typed list (PodList) with an items array. */
static int is_list(const cJSON *doc)
{
    const char *kind = sa_json_str(sa_json_get(doc, "kind"));
    size_t n = kind ? strlen(kind) : 0;
    return n >= 4 && strcmp(kind + n - 4, "List") == 0 && cJSON_IsArray(sa_json_get(doc, "items"));
}

/* Checks one parsed document and appends its objects. A typed list's items carry no apiVersion
 * and kind when the API returns them: they are the list's, less "List". */
static int take_document(sa_objects *s, cJSON *doc, unsigned n, const char *name, char *err,
                         size_t errlen)
{
    if (push_doc(s, doc) < 0) {
        cJSON_Delete(doc);
        snprintf(err, errlen, "%s: document %u: out of memory", name, n);
        return -1;
    }
    if (cJSON_IsNull(doc))
        return 0;
    const char *why = not_an_object(doc);
    if (why) {
        snprintf(err, errlen, "%s: document %u: %s", name, n, why);
        return -1;
    }
    if (!is_list(doc)) {
        if (push_object(s, doc, n, -1) == 0)
            return 0;
        snprintf(err, errlen, "%s: document %u: out of memory", name, n);
        return -1;
    }
    const char *kind = sa_json_str(sa_json_get(doc, "kind"));
    const char *api = sa_json_str(sa_json_get(doc, "apiVersion"));
    int typed = strcmp(kind, "List") != 0;
    long i = 0;
    for (cJSON *item = sa_json_get(doc, "items")->child; item; item = item->next, i++) {
        if (typed && cJSON_IsObject(item)) {
            if (!sa_json_get(item, "kind")) {
                char *k = strndup(kind, strlen(kind) - 4);
                cJSON_AddItemToObject(item, "kind", cJSON_CreateString(k ? k : ""));
                free(k);
            }
            if (!sa_json_get(item, "apiVersion"))
                cJSON_AddItemToObject(item, "apiVersion", cJSON_CreateString(api));
        }
        if ((why = not_an_object(item)) != NULL) {
            snprintf(err, errlen, "%s: document %u: items[%ld] %s", name, n, i, why);
            return -1;
        }
        if (push_object(s, item, n, i) < 0) {
            snprintf(err, errlen, "%s: document %u: out of memory", name, n);
            return -1;
        }
    }
    return 0;
}

static int read_yaml(sa_objects *s, const char *name, const char *text, size_t len, char *err,
                     size_t errlen)
{
    sa_yaml_errors errors = {.name = name};
    sa_yaml_reader *r = sa_yaml_open(&errors, SA_YAML_MANIFEST, text, len);
    char why[512] = "";
    sa_yaml_node *tree;
    int rc = r ? 0 : -1;
    while (rc == 0 && sa_yaml_next(r, &tree) == 1) {
        cJSON *doc = to_json(tree, why, sizeof why);
        sa_yaml_free(tree);
        if (!doc || sa_json_check(doc, why, sizeof why) < 0) {
            cJSON_Delete(doc);
            rc = -1;
        } else if (take_document(s, doc, sa_yaml_document(r), name, err, errlen) < 0) {
            rc = -2; /* err already names the file and document */
        }
    }
    int line, col;
    const char *msg = sa_yaml_errors_first(&errors, &line, &col);
    if (rc == 0 && (msg || errors.oom))
        rc = -1;
    if (rc == -1) {
        unsigned n = r ? sa_yaml_document(r) : 0;
        if (*why)
            snprintf(err, errlen, "%s: document %u: %s", name, n ? n : 1, why);
        else if (msg)
            snprintf(err, errlen, "%s: document %u: line %d column %d: %s", name, n ? n : 1, line,
                     col, msg);
        else
            snprintf(err, errlen, "%s: out of memory", name);
    }
    sa_yaml_close(r);
    sa_yaml_errors_free(&errors); /* err holds the first */
    return rc < 0 ? -1 : 0;
}

int sa_objects_read(sa_objects *s, const char *name, const char *text, size_t len, char *err,
                    size_t errlen)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i == len || (text[i] != '{' && text[i] != '['))
        return read_yaml(s, name, text, len, err, errlen);
    /* JSON: the strict parser, the one every review goes through. */
    cJSON *doc;
    char why[256];
    if (sa_json_parse(text, len, &doc, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: document 1: %s", name, why);
        return -1;
    }
    return take_document(s, doc, 1, name, err, errlen);
}

void sa_objects_free(sa_objects *s)
{
    for (size_t i = 0; i < s->ndocs; i++)
        sa_json_delete(s->docs[i]); /* nothing to do inside scan's arena */
    free(s->docs);
    free(s->items);
    *s = (sa_objects)SA_OBJECTS_INIT;
}

void sa_objects_group_version(const char *api_version, char *group, size_t gcap, char *version,
                              size_t vcap)
{
    const char *slash = strchr(api_version, '/');
    if (!slash) {
        snprintf(group, gcap, "%s", "");
        snprintf(version, vcap, "%s", api_version);
        return;
    }
    snprintf(group, gcap, "%.*s", (int)(slash - api_version), api_version);
    snprintf(version, vcap, "%s", slash + 1);
}
