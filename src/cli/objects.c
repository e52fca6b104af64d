/* objects.c: the manifest reader (see sa_objects.h): JSON through the strict parser, YAML through
 * libyaml's event stream into cJSON, then every document checked and Lists flattened. */
#include "sa_objects.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sa_buf.h"
#include "sa_json.h"
#include "sa_map.h"

/* ---- YAML to cJSON --------------------------------------------------------------------- */

/* What a node holds, so what an alias to it adds: nodes, and bytes of scalar text and keys. */
typedef struct extent {
    size_t nodes, bytes;
} extent;

typedef struct anchor {
    const cJSON *node;          /* in the document being built */
    extent size;
} anchor;

typedef struct yaml_reader {
    yaml_parser_t parser;
    const char *text;           /* the input, for the position of a reader error */
    size_t len;
    sa_map *anchors;            /* of the current document: name -> anchor (owned), so a file of
                                 * 100,000 anchors resolves each alias in constant time */
    extent aliased;             /* added by aliases so far in this file */
    char *err;
    size_t errlen;
} yaml_reader;

static int syntax_error(yaml_reader *y)
{
    const yaml_parser_t *p = &y->parser;
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR) {
        /* The reader (bad encoding, a control character) gives a byte offset, not a mark. */
        line = col = 1;
        for (size_t i = 0; i < p->problem_offset && i < y->len; i++, col++)
            if (y->text[i] == '\n')
                line++, col = 0;
    }
    snprintf(y->err, y->errlen, "line %zu column %zu: %s%s%s", line, col,
             p->problem ? p->problem : "malformed YAML", p->context ? " " : "",
             p->context ? p->context : "");
    return -1;
}

static int next_event(yaml_reader *y, yaml_event_t *ev)
{
    return yaml_parser_parse(&y->parser, ev) ? 0 : syntax_error(y);
}

static int fail_at(yaml_reader *y, const yaml_event_t *ev, const char *what)
{
    snprintf(y->err, y->errlen, "line %zu column %zu: %s", ev->start_mark.line + 1,
             ev->start_mark.column + 1, what);
    return -1;
}

static void forget_anchors(yaml_reader *y)
{
    sa_map_free(y->anchors, free);
    y->anchors = NULL;
}

static int remember_anchor(yaml_reader *y, const yaml_char_t *name, const cJSON *node, extent size)
{
    if (!y->anchors && !(y->anchors = sa_map_new()))
        return -1;
    /* A redefined anchor shadows the earlier one, as in YAML: later aliases see the new node. */
    anchor *a = sa_map_get(y->anchors, (const char *)name);
    if (a) {
        *a = (anchor){node, size};
        return 0;
    }
    if (!(a = malloc(sizeof *a)))
        return -1;
    *a = (anchor){node, size};
    if (sa_map_put(y->anchors, (const char *)name, a) < 0) {
        free(a);
        return -1;
    }
    return 0;
}

static const anchor *find_anchor(const yaml_reader *y, const yaml_char_t *name)
{
    return sa_map_get(y->anchors, (const char *)name);
}

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* go-yaml v2's resolution of a plain scalar (resolve.go), which kubectl's YAML decoding uses. */
static const char *const yaml_true[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                                        "on", "On", "ON", NULL};
static const char *const yaml_false[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE",
                                         "off", "Off", "OFF", NULL};
static const char *const yaml_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yaml_nonfinite[] = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
                                             "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
                                             "-.INF", NULL};

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
        int d = *p >= '0' && *p <= '9' ? *p - '0'
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

/* A "\0" escape puts a NUL inside a scalar, which would cut every C string made of it short (a
 * name judged shorter than the one the API server stores). kubectl keeps it and sends \u0000, so
 * it becomes SA_BUF_NUL_MARK, in place, as the JSON reader reads \u0000: the admission core then
 * judges it as the server would (sa_nulmark.h). */
static void mark_nuls(yaml_event_t *ev)
{
    yaml_char_t *v = ev->data.scalar.value;
    for (size_t i = 0; i < ev->data.scalar.length; i++)
        if (!v[i])
            v[i] = (yaml_char_t)SA_BUF_NUL_MARK;
}

#define YAML_BINARY_TAG_NAME "tag:yaml.org,2002:binary"

static int is_binary(const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    return tag && strcmp(tag, YAML_BINARY_TAG_NAME) == 0;
}

/* A !!binary scalar as kubectl reads it. go-yaml does not resolve the tag (resolve.go:
 * resolvableTag) but decodes the text with Go's base64.StdEncoding, which skips '\r' and '\n'
 * and wants padding, into a Go string of those bytes, or fails with "!!binary value contains
 * invalid base64 data" (decode.go: (*decoder).scalar); sigs.k8s.io/yaml then prints the tree with
 * encoding/json, which writes each byte that is not UTF-8 as U+FFFD and NUL as \u0000 (yaml.go:
 * yamlToJSONTarget). So a Secret's data field gets the decoded text, never the base64 one. NUL
 * becomes SA_BUF_NUL_MARK, as the JSON reader reads \u0000. */
static cJSON *binary_scalar(yaml_reader *y, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    sa_buf b64 = SA_BUF_INIT, raw = SA_BUF_INIT, out = SA_BUF_INIT;
    for (size_t i = 0; i < ev->data.scalar.length; i++)
        if (text[i] != '\r' && text[i] != '\n')
            sa_buf_putc(&b64, text[i]);
    /* '=' only as the padding of the last group, as Go wants it; the rest the alphabet. */
    size_t n = b64.len, body = n, pad = 0;
    while (body > 0 && pad < 2 && b64.data[body - 1] == '=')
        body--, pad++;
    int ok = !b64.oom && strspn(sa_buf_str(&b64), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                  "0123456789+/") == body && n % 4 == 0 &&
             sa_buf_base64_decode(sa_buf_str(&b64), &raw) == 0;
    cJSON *node = NULL;
    if (!ok) {
        fail_at(y, ev, "!!binary value contains invalid base64 data");
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
            snprintf(y->err, y->errlen, "out of memory");
    }
    sa_buf_free(&b64);
    sa_buf_free(&raw);
    sa_buf_free(&out);
    return node;
}

static cJSON *scalar(yaml_reader *y, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (is_binary(ev)) /* quoted or not: go-yaml decodes any scalar tagged !!binary */
        return binary_scalar(y, ev);
    /* Quoted and block scalars, and anything tagged !!str, are strings. */
    if (!ev->data.scalar.plain_implicit || (tag && strcmp(tag, YAML_STR_TAG) == 0))
        return cJSON_CreateString(text);
    if (one_of(text, yaml_null))
        return cJSON_CreateNull();
    if (one_of(text, yaml_true))
        return cJSON_CreateTrue();
    if (one_of(text, yaml_false))
        return cJSON_CreateFalse();
    if (strcmp(text, "<<") == 0) {
        fail_at(y, ev, "merge keys (<<) are not supported; write the keys out");
        return NULL;
    }
    if (one_of(text, yaml_nonfinite)) {
        fail_at(y, ev, "NaN and infinity have no JSON form");
        return NULL;
    }
    double v;
    if (strchr("+-0123456789.", text[0]) && (parse_int(text, &v) || parse_float(text, &v)))
        return cJSON_CreateNumber(v);
    return cJSON_CreateString(text);
}

/* The text a mapping key becomes in JSON: go-yaml resolves keys like values and
 * sigs.k8s.io/yaml prints booleans as true/false; other keys keep their text. */
static const char *key_text(const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    if (ev->data.scalar.plain_implicit) {
        if (one_of(text, yaml_true))
            return "true";
        if (one_of(text, yaml_false))
            return "false";
    }
    return text;
}

/* Builds the node that starts with ev (taking ownership of ev) and everything inside it. *size
 * counts what it added. NULL with y->err set on failure. */
static cJSON *build(yaml_reader *y, yaml_event_t *ev, int depth, extent *size)
{
    cJSON *node = NULL;
    const yaml_char_t *anchor_name = NULL;
    extent mine = {1, 0};
    if (depth > SA_OBJECTS_MAX_DEPTH) {
        fail_at(y, ev, "nests deeper than 200 levels");
        goto out;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor_name = ev->data.scalar.anchor;
        mine.bytes = ev->data.scalar.length;
        mark_nuls(ev);
        if (!(node = scalar(y, ev)) && !*y->err)
            snprintf(y->err, y->errlen, "out of memory");
        break;
    case YAML_ALIAS_EVENT: {
        const anchor *a = find_anchor(y, ev->data.alias.anchor);
        if (!a) {
            fail_at(y, ev, "alias to an unknown anchor");
        } else if ((y->aliased.nodes += a->size.nodes) > SA_OBJECTS_MAX_ALIAS_NODES) {
            fail_at(y, ev, "aliases expand to more than 1000000 nodes");
        } else if ((y->aliased.bytes += a->size.bytes) > SA_OBJECTS_MAX_ALIAS_BYTES) {
            fail_at(y, ev, "aliases expand to more than 16 MiB of text"); /* before any copy */
        } else if (!(node = cJSON_Duplicate(a->node, 1))) {
            snprintf(y->err, y->errlen, "out of memory");
        }
        mine = a ? a->size : (extent){0, 0};
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        anchor_name = is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
        if (!node) {
            snprintf(y->err, y->errlen, "out of memory");
            break;
        }
        for (;;) {
            yaml_event_t k;
            if (next_event(y, &k) < 0)
                goto bad;
            if (k.type == YAML_SEQUENCE_END_EVENT || k.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&k);
                break;
            }
            char *key = NULL;
            if (is_map) {
                if (k.type != YAML_SCALAR_EVENT) {
                    fail_at(y, &k, "a mapping key must be a plain string");
                    yaml_event_delete(&k);
                    goto bad;
                }
                mark_nuls(&k);
                if (k.data.scalar.plain_implicit && strcmp((const char *)k.data.scalar.value, "<<") == 0) {
                    fail_at(y, &k, "merge keys (<<) are not supported; write the keys out");
                    yaml_event_delete(&k);
                    goto bad;
                }
                if (is_binary(&k)) {
                    fail_at(y, &k, "a !!binary mapping key is not supported");
                    yaml_event_delete(&k);
                    goto bad;
                }
                key = strdup(key_text(&k));
                mine.bytes += k.data.scalar.length;
                yaml_event_delete(&k);
                if (!key || next_event(y, &k) < 0) {
                    if (!key)
                        snprintf(y->err, y->errlen, "out of memory");
                    free(key);
                    goto bad;
                }
            }
            extent sub = {0, 0};
            cJSON *child = build(y, &k, depth + 1, &sub);
            mine.nodes += sub.nodes;
            mine.bytes += sub.bytes;
            if (!child) {
                free(key);
                goto bad;
            }
            if (is_map)
                cJSON_AddItemToObject(node, key, child);
            else
                cJSON_AddItemToArray(node, child);
            free(key);
        }
        break;
    bad:
        cJSON_Delete(node);
        node = NULL;
        break;
    }
    default:
        fail_at(y, ev, "unexpected YAML event");
        break;
    }
    if (node && anchor_name && remember_anchor(y, anchor_name, node, mine) < 0) {
        snprintf(y->err, y->errlen, "out of memory");
        cJSON_Delete(node);
        node = NULL;
    }
out:
    *size = mine;
    yaml_event_delete(ev);
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
    yaml_reader y = {.text = text, .len = len, .err = err, .errlen = errlen};
    *err = '\0';
    if (!yaml_parser_initialize(&y.parser)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    unsigned n = 0;
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(&y, &ev) < 0) {
            rc = -1;
            break;
        }
        yaml_event_type_t t = ev.type;
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT)
            break;
        if (t != YAML_DOCUMENT_START_EVENT)
            continue; /* STREAM_START */
        n++;
        forget_anchors(&y);
        extent size;
        if (next_event(&y, &ev) < 0) {
            rc = -1;
            break;
        }
        cJSON *doc = build(&y, &ev, 1, &size);
        if (!doc || next_event(&y, &ev) < 0) { /* DOCUMENT_END */
            cJSON_Delete(doc);
            rc = -1;
            break;
        }
        yaml_event_delete(&ev);
        if (sa_json_check(doc, err, errlen) < 0) {
            cJSON_Delete(doc);
            rc = -1;
            break;
        }
        if (take_document(s, doc, n, name, err, errlen) < 0)
            goto out; /* err already names the file and document */
    }
    if (rc < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: document %u: %s", name, n ? n : 1, why);
    }
out:
    forget_anchors(&y);
    yaml_parser_delete(&y.parser);
    return *err ? -1 : 0;
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
