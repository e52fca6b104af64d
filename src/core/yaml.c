/* yaml.c: the one YAML reader: libyaml's event stream read into a tree with positions, for a
 * policy or a manifest; errors collected and sorted (see sa_yaml.h).
 *
 * Events rather than libyaml's document API: each refused construct (an anchor, a tag, a
 * duplicate key, nesting too deep, an alias over budget) is caught as it is read, before
 * anything is built on it, and the tree a loader walks is plain pointers. */
#include "sa_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sa_map.h"

/* One error, kept until the end so the list comes out in file order. */
typedef struct sa_yaml_error {
    int line, col;
    size_t seq; /* keeps errors at one position in the order found */
    char *msg;  /* the message, without file and position */
} sa_yaml_error;

/* What an alias adds when it is copied: nodes, and bytes of scalar text and keys. */
typedef struct extent {
    size_t nodes, bytes;
} extent;

typedef struct anchor {
    const sa_yaml_node *node; /* in the document being read */
    extent size;
} anchor;

struct sa_yaml_reader {
    sa_yaml_errors *e;
    sa_yaml_mode mode;
    const char *text;
    size_t len;
    yaml_parser_t parser;
    unsigned docs;   /* documents read so far */
    int done;        /* the stream ended or an error stopped it */
    sa_map *anchors; /* manifests, the current document: name -> anchor (owned), so a
                                 * file of 100,000 anchors resolves each alias in constant time */
    extent aliased;  /* manifests: added by aliases so far in this file */
};

typedef struct sa_yaml_reader reader;

void sa_yaml_free(sa_yaml_node *n)
{
    if (!n)
        return;
    size_t count = n->type == SA_YAML_MAP ? 2 * n->n : n->n;
    for (size_t i = 0; i < count; i++)
        sa_yaml_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n->tag);
    free(n);
}

void sa_yaml_error_at(sa_yaml_errors *e, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sa_buf_array_grow(&e->errs, &e->cap, e->n, sizeof *e->errs, 16) < 0) {
        e->oom = 1;
        return;
    }
    char *copy = strdup(msg);
    if (!copy) {
        e->oom = 1;
        return;
    }
    e->errs[e->n] = (sa_yaml_error){line, col, e->n, copy};
    e->n++;
}

static int error_order(const void *a, const void *b)
{
    const sa_yaml_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

const char *sa_yaml_errors_first(const sa_yaml_errors *e, int *line, int *col)
{
    const sa_yaml_error *first = NULL;
    for (size_t i = 0; i < e->n; i++)
        if (!first || error_order(&e->errs[i], first) < 0)
            first = &e->errs[i];
    if (!first)
        return NULL;
    *line = first->line;
    *col = first->col;
    return first->msg;
}

size_t sa_yaml_errors_flush(sa_yaml_errors *e, sa_buf *out)
{
    if (e->n)
        qsort(e->errs, e->n, sizeof *e->errs, error_order);
    for (size_t i = 0; i < e->n; i++)
        sa_buf_printf(out, "%s:%d:%d: %s\n", e->name, e->errs[i].line, e->errs[i].col,
                      e->errs[i].msg);
    if (e->oom)
        sa_buf_printf(out, "%s:1:1: out of memory while reporting errors\n", e->name);
    size_t n = e->n + (size_t)e->oom;
    sa_yaml_errors_free(e);
    return n;
}

void sa_yaml_errors_free(sa_yaml_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->errs[i].msg);
    free(e->errs);
    e->errs = NULL;
    e->n = e->cap = 0;
    e->oom = 0;
}

/* Line and column (1-based, in characters) of a byte offset, for libyaml's reader errors, which
 * carry only an offset. */
static void offset_mark(const reader *r, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < r->len; i++) {
        if (r->text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)r->text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static void syntax_error(reader *r)
{
    const yaml_parser_t *p = &r->parser;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        offset_mark(r, p->problem_offset, &line, &col);
        sa_yaml_error_at(r->e, line, col, "YAML syntax error: %s", problem);
        return;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    if (p->context)
        sa_yaml_error_at(r->e, line, col, "YAML syntax error: %s (%s at %d:%d)", problem,
                         p->context, (int)p->context_mark.line + 1,
                         (int)p->context_mark.column + 1);
    else
        sa_yaml_error_at(r->e, line, col, "YAML syntax error: %s", problem);
}

static int next_event(reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->parser, ev))
        return 0;
    syntax_error(r);
    return -1;
}

static void error_at_event(reader *r, const yaml_event_t *ev, const char *what)
{
    sa_yaml_error_at(r->e, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, "%s",
                     what);
}

static sa_yaml_node *node_new(reader *r, sa_yaml_type type, const yaml_event_t *ev)
{
    sa_yaml_node *n = calloc(1, sizeof *n);
    if (!n) {
        sa_yaml_error_at(r->e, 1, 1, "out of memory");
        return NULL;
    }
    n->type = type;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    return n;
}

static int node_append(reader *r, sa_yaml_node *parent, sa_yaml_node *child, size_t *cap)
{
    if (sa_buf_array_grow(&parent->items, cap, parent->n, sizeof *parent->items, 8) < 0) {
        sa_yaml_error_at(r->e, child->line, child->col, "out of memory");
        return -1;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* A deep copy of n, for an alias; NULL when out of memory. */
static sa_yaml_node *node_copy(const sa_yaml_node *n)
{
    sa_yaml_node *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = (sa_yaml_node){.type = n->type,
                        .line = n->line,
                        .col = n->col,
                        .len = n->len,
                        .plain = n->plain,
                        .reported = n->reported};
    size_t count = n->type == SA_YAML_MAP ? 2 * n->n : n->n;
    if ((n->text && !(c->text = strdup(n->text))) || (n->tag && !(c->tag = strdup(n->tag))) ||
        (count && !(c->items = calloc(count, sizeof *c->items)))) {
        sa_yaml_free(c);
        return NULL;
    }
    c->n = n->n; /* the items not copied yet are NULL, which sa_yaml_free accepts */
    for (size_t i = 0; i < count; i++)
        if (!(c->items[i] = node_copy(n->items[i]))) {
            sa_yaml_free(c);
            return NULL;
        }
    return c;
}

/* A policy: reports an anchor or a tag on a node; parsing goes on so later errors are seen too.
 * A manifest keeps the tag; its anchors are remembered once the node is read. */
static int decorations(reader *r, const yaml_event_t *ev, const yaml_char_t *anchor_name,
                       const yaml_char_t *tag, sa_yaml_node *n)
{
    if (r->mode == SA_YAML_MANIFEST)
        return tag && !(n->tag = strdup((const char *)tag)) ? -1 : 0;
    if (anchor_name)
        error_at_event(r, ev,
                       "anchors and aliases are not allowed (they let a small file expand "
                       "without bound); write the value out");
    if (tag) /* libyaml leaves it NULL unless one was written */
        error_at_event(r, ev, "explicit YAML tags are not allowed; write a plain value");
    return 0;
}

static int remember_anchor(reader *r, const yaml_char_t *name, const sa_yaml_node *node,
                           extent size)
{
    if (!r->anchors && !(r->anchors = sa_map_new()))
        return -1;
    /* A redefined anchor shadows the earlier one, as in YAML: later aliases see the new node. */
    anchor *a = sa_map_get(r->anchors, (const char *)name);
    if (a) {
        *a = (anchor){node, size};
        return 0;
    }
    if (!(a = malloc(sizeof *a)))
        return -1;
    *a = (anchor){node, size};
    if (sa_map_put(r->anchors, (const char *)name, a) < 0) {
        free(a);
        return -1;
    }
    return 0;
}

/* A manifest's alias: a copy of its anchor's node, once the budget says it may be made. */
static sa_yaml_node *alias(reader *r, const yaml_event_t *ev, extent *size)
{
    const anchor *a = sa_map_get(r->anchors, (const char *)ev->data.alias.anchor);
    sa_yaml_node *n = NULL;
    if (!a)
        error_at_event(r, ev, "alias to an unknown anchor");
    else if ((r->aliased.nodes += a->size.nodes) > SA_YAML_MAX_ALIAS_NODES)
        error_at_event(r, ev, "aliases expand to more than 1000000 nodes");
    else if ((r->aliased.bytes += a->size.bytes) > SA_YAML_MAX_ALIAS_BYTES)
        error_at_event(r, ev, "aliases expand to more than 16 MiB of text"); /* before any copy */
    else if (!(n = node_copy(a->node)))
        error_at_event(r, ev, "out of memory");
    *size = a ? a->size : (extent){0, 0};
    return n;
}

/* A scalar's text. A manifest's "\0" escape would cut every C string made of it short (a name
 * judged shorter than the one the API server stores); kubectl keeps it and sends \u0000, so it
 * becomes SA_BUF_NUL_MARK, as the JSON reader reads \u0000: the admission core then judges it
 * as the server would (sa_nulmark.h). A policy refuses it. */
static int scalar_text(reader *r, yaml_event_t *ev, sa_yaml_node *n)
{
    yaml_char_t *v = ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (r->mode == SA_YAML_MANIFEST) {
        for (size_t i = 0; i < len; i++)
            if (!v[i])
                v[i] = (yaml_char_t)SA_BUF_NUL_MARK;
    } else if (memchr(v, '\0', len)) {
        SA_YAML_NODE_ERROR(r->e, n, "a NUL character is not allowed in a value");
        n->reported = 1;
    }
    n->len = strlen((const char *)v);
    return (n->text = strdup((const char *)v)) ? 0 : -1;
}

static sa_yaml_node *build(reader *r, yaml_event_t *ev, int depth, extent *size);

/* Reads items into the list n up to the end event (a map's keys and values alternate: the
 * caller turns it into a map once complete, so sa_yaml_free is right at every step).
 * Returns 0 or -1 (stop). */
static int build_children(reader *r, sa_yaml_node *n, yaml_event_type_t end, int depth,
                          extent *size)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(r, &ev) < 0)
            return -1;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        int key = end == YAML_MAPPING_END_EVENT && n->n % 2 == 0;
        if (key && ev.type == YAML_ALIAS_EVENT && r->mode == SA_YAML_MANIFEST) {
            error_at_event(r, &ev, "a mapping key must be a plain string");
            yaml_event_delete(&ev);
            return -1;
        }
        extent sub = {0, 0};
        sa_yaml_node *child = build(r, &ev, depth + 1, &sub);
        /* A manifest's keys count as text, as the scalars do; they are not nodes of their own. */
        size->nodes += key ? 0 : sub.nodes;
        size->bytes += sub.bytes;
        if (!child || node_append(r, n, child, &cap) < 0) {
            sa_yaml_free(child);
            return -1;
        }
    }
    return 0;
}

/* Refuses keys that are not plain strings and keys given twice, pointing at the first. */
static void check_keys_unique(reader *r, const sa_yaml_node *map)
{
    sa_map *seen = map->n > 1 ? sa_map_new() : NULL;
    for (size_t i = 0; i < map->n; i++) {
        const sa_yaml_node *k = map->items[2 * i];
        if (k->type != SA_YAML_SCALAR) {
            SA_YAML_NODE_ERROR(r->e, k, "expected a string as mapping key, found a %s",
                               k->type == SA_YAML_MAP ? "mapping" : "list");
            continue;
        }
        if (!seen)
            continue;
        const sa_yaml_node *first = sa_map_get(seen, k->text);
        if (first)
            SA_YAML_NODE_ERROR(r->e, k, "duplicate key '%s' (first at %d:%d)", k->text, first->line,
                               first->col);
        else if (sa_map_put(seen, k->text, (void *)k) < 0)
            SA_YAML_NODE_ERROR(r->e, k, "out of memory");
    }
    sa_map_free(seen, NULL);
}

/* Builds the node that starts with ev (consumed); *size counts what it holds, for an alias to
 * it. NULL on an error that stops the reading. */
static sa_yaml_node *build(reader *r, yaml_event_t *ev, int depth, extent *size)
{
    sa_yaml_node *n = NULL;
    const yaml_char_t *anchor_name = NULL;
    size_t errors = r->e->n;
    int max = r->mode == SA_YAML_MANIFEST ? SA_YAML_MANIFEST_MAX_DEPTH : SA_YAML_MAX_DEPTH;
    *size = (extent){1, 0};
    if (depth > max) {
        sa_yaml_error_at(r->e, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                         "nesting deeper than %d levels", max);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        if (r->mode == SA_YAML_MANIFEST) {
            n = alias(r, ev, size);
            break;
        }
        decorations(r, ev, ev->data.alias.anchor, NULL, NULL);
        /* Stands in as null so the rest of the file is still checked. */
        n = node_new(r, SA_YAML_SCALAR, ev);
        if (n && !(n->text = strdup(""))) {
            sa_yaml_free(n);
            n = NULL;
        }
        if (n)
            n->plain = n->reported = 1;
        break;
    case YAML_SCALAR_EVENT:
        anchor_name = ev->data.scalar.anchor;
        n = node_new(r, SA_YAML_SCALAR, ev);
        if (!n)
            break;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        size->bytes = ev->data.scalar.length;
        if (decorations(r, ev, anchor_name, ev->data.scalar.tag, n) < 0 ||
            scalar_text(r, ev, n) < 0) {
            sa_yaml_free(n);
            n = NULL;
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        anchor_name = is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        n = node_new(r, SA_YAML_LIST, ev);
        if (n && (decorations(r, ev, anchor_name,
                              is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag,
                              n) < 0 ||
                  build_children(r, n, is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT,
                                 depth, size) < 0)) {
            sa_yaml_free(n);
            n = NULL;
        }
        if (n && is_map) {
            n->type = SA_YAML_MAP;
            n->n /= 2; /* pairs from here on */
            if (r->mode == SA_YAML_POLICY)
                check_keys_unique(r, n);
        }
        break;
    }
    default:
        error_at_event(r, ev, "unexpected YAML structure");
        break;
    }
    if (n && r->mode == SA_YAML_MANIFEST && anchor_name &&
        remember_anchor(r, anchor_name, n, *size) < 0) {
        sa_yaml_free(n);
        n = NULL;
    }
    if (n && r->mode == SA_YAML_MANIFEST && r->e->n > errors) { /* a manifest stops at one */
        sa_yaml_free(n);
        n = NULL;
    }
    if (!n && r->e->n == errors && !r->e->oom)
        sa_yaml_error_at(r->e, 1, 1, "out of memory");
    yaml_event_delete(ev);
    return n;
}

int sa_yaml_is_null(const sa_yaml_node *n)
{
    if (n->type != SA_YAML_SCALAR || !n->plain)
        return 0;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

sa_yaml_reader *sa_yaml_open(sa_yaml_errors *e, sa_yaml_mode mode, const char *text, size_t len)
{
    reader *r = calloc(1, sizeof *r);
    if (r)
        *r = (reader){.e = e, .mode = mode, .text = text, .len = len};
    if (!r || !yaml_parser_initialize(&r->parser)) {
        free(r);
        sa_yaml_error_at(e, 1, 1, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)text, len);
    return r;
}

static void forget_anchors(reader *r)
{
    sa_map_free(r->anchors, free);
    r->anchors = NULL;
}

int sa_yaml_next(sa_yaml_reader *r, sa_yaml_node **doc)
{
    *doc = NULL;
    if (r->done)
        return 0;
    yaml_event_t ev;
    for (;;) { /* to a DOCUMENT-START past the STREAM-START, or to the end */
        if (next_event(r, &ev) < 0)
            goto stop;
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            r->done = 1;
            return 0;
        }
        if (ev.type == YAML_DOCUMENT_START_EVENT)
            break;
        yaml_event_delete(&ev);
    }
    if (r->mode == SA_YAML_POLICY && r->docs) {
        error_at_event(r, &ev, "expected a single YAML document, found another one");
        yaml_event_delete(&ev);
        goto stop;
    }
    yaml_event_delete(&ev);
    r->docs++;
    extent size;
    if (next_event(r, &ev) < 0 || !(*doc = build(r, &ev, r->mode == SA_YAML_MANIFEST, &size)) ||
        next_event(r, &ev) < 0) /* DOCUMENT-END */
        goto stop;
    yaml_event_delete(&ev);
    forget_anchors(r); /* they point into the document the caller now owns */
    return 1;
stop:
    forget_anchors(r);
    sa_yaml_free(*doc);
    *doc = NULL;
    r->done = 1;
    return -1;
}

unsigned sa_yaml_document(const sa_yaml_reader *r)
{
    return r->docs;
}

void sa_yaml_close(sa_yaml_reader *r)
{
    if (!r)
        return;
    forget_anchors(r);
    yaml_parser_delete(&r->parser);
    free(r);
}

int sa_yaml_parse(sa_yaml_errors *e, const char *text, size_t len, sa_yaml_node **root)
{
    sa_yaml_reader *r = sa_yaml_open(e, SA_YAML_POLICY, text, len);
    *root = NULL;
    if (!r)
        return -1;
    sa_yaml_node *second = NULL;
    int rc = sa_yaml_next(r, root) >= 0 && sa_yaml_next(r, &second) == 0 ? 0 : -1;
    sa_yaml_close(r);
    if (rc < 0) {
        sa_yaml_free(*root);
        *root = NULL;
    }
    return rc;
}

const sa_yaml_node *sa_yaml_member(const sa_yaml_node *map, const char *key)
{
    if (!map || map->type != SA_YAML_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const sa_yaml_node *k = map->items[2 * i];
        if (k->type == SA_YAML_SCALAR && strcmp(k->text, key) == 0)
            return map->items[2 * i + 1];
    }
    return NULL;
}
