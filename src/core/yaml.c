/* yaml.c: libyaml's event stream read into a tree with positions; errors collected and sorted
 * (see sa_yaml.h).
 *
 * Events rather than libyaml's document API: each refused construct (an anchor, a tag, a
 * duplicate key, nesting too deep) is caught as it is read, before anything is built on it, and
 * the tree a loader walks is plain pointers. */
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
    size_t seq;         /* keeps errors at one position in the order found */
    char *msg;          /* the whole line, "FILE:LINE:COLUMN: ...\n" */
} sa_yaml_error;

/* One reading: the text, its errors, and the libyaml parser. */
typedef struct reader {
    sa_yaml_errors *e;
    const char *text;
    size_t len;
    yaml_parser_t parser;
} reader;

void sa_yaml_free(sa_yaml_node *n)
{
    if (!n)
        return;
    size_t count = n->type == SA_YAML_MAP ? 2 * n->n : n->n;
    for (size_t i = 0; i < count; i++)
        sa_yaml_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

void sa_yaml_error_at(sa_yaml_errors *e, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sa_buf text = SA_BUF_INIT;
    sa_buf_printf(&text, "%s:%d:%d: %s\n", e->name, line, col, msg);
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        sa_yaml_error *errs = realloc(e->errs, cap * sizeof *errs);
        if (!errs) {
            e->oom = 1;
            sa_buf_free(&text);
            return;
        }
        e->errs = errs;
        e->cap = cap;
    }
    char *line_text = sa_buf_steal(&text, NULL);
    if (!line_text) {
        e->oom = 1;
        return;
    }
    e->errs[e->n] = (sa_yaml_error){line, col, e->n, line_text};
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

size_t sa_yaml_errors_flush(sa_yaml_errors *e, sa_buf *out)
{
    if (e->n)
        qsort(e->errs, e->n, sizeof *e->errs, error_order);
    for (size_t i = 0; i < e->n; i++) {
        sa_buf_puts(out, e->errs[i].msg);
        free(e->errs[i].msg);
    }
    if (e->oom)
        sa_buf_printf(out, "%s:1:1: out of memory while reporting errors\n", e->name);
    size_t n = e->n + (size_t)e->oom;
    free(e->errs);
    e->errs = NULL;
    e->n = e->cap = 0;
    e->oom = 0;
    return n;
}

/* Line and column (1-based) of a byte offset, for libyaml's reader errors, which carry only
 * an offset. */
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
    if (parent->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        sa_yaml_node **items = realloc(parent->items, ncap * sizeof *items);
        if (!items) {
            sa_yaml_error_at(r->e, child->line, child->col, "out of memory");
            return -1;
        }
        parent->items = items;
        *cap = ncap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* Reports an anchor or a tag on a node; parsing goes on so later errors are seen too. */
static void refuse_decorations(reader *r, const yaml_event_t *ev, const yaml_char_t *anchor,
                               const yaml_char_t *tag)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (anchor)
        sa_yaml_error_at(r->e, line, col,
                         "anchors and aliases are not allowed (they let a small file expand "
                         "without bound); write the value out");
    if (tag) /* libyaml leaves it NULL unless one was written */
        sa_yaml_error_at(r->e, line, col,
                         "explicit YAML tags are not allowed; write a plain value");
}

static sa_yaml_node *build(reader *r, yaml_event_t *ev, int depth);

/* Reads items into the list n up to the end event (a map's keys and values alternate: the
 * caller turns it into a map once complete, so sa_yaml_free is right at every step).
 * Returns 0 or -1 (stop). */
static int build_children(reader *r, sa_yaml_node *n, yaml_event_type_t end, int depth)
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
        sa_yaml_node *child = build(r, &ev, depth + 1);
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

/* Builds the node that starts with ev (consumed). NULL on a syntax error or out of memory. */
static sa_yaml_node *build(reader *r, yaml_event_t *ev, int depth)
{
    sa_yaml_node *n = NULL;
    if (depth > SA_YAML_MAX_DEPTH) {
        sa_yaml_error_at(r->e, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                         "nesting deeper than %d levels", SA_YAML_MAX_DEPTH);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        refuse_decorations(r, ev, ev->data.alias.anchor, NULL);
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
        refuse_decorations(r, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
        n = node_new(r, SA_YAML_SCALAR, ev);
        if (!n)
            break;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
            SA_YAML_NODE_ERROR(r->e, n, "a NUL character is not allowed in a value");
            n->reported = 1;
        }
        n->text = strdup((const char *)ev->data.scalar.value);
        if (!n->text) {
            sa_yaml_free(n);
            n = NULL;
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        if (is_map)
            refuse_decorations(r, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag);
        else
            refuse_decorations(r, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
        n = node_new(r, SA_YAML_LIST, ev);
        if (n && build_children(r, n, is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT,
                                depth) < 0) {
            sa_yaml_free(n);
            n = NULL;
        }
        if (n && is_map) {
            n->type = SA_YAML_MAP;
            n->n /= 2; /* pairs from here on */
            check_keys_unique(r, n);
        }
        break;
    }
    default:
        sa_yaml_error_at(r->e, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                         "unexpected YAML structure");
        break;
    }
    if (!n && r->e->n == 0 && !r->e->oom)
        sa_yaml_error_at(r->e, 1, 1, "out of memory");
    yaml_event_delete(ev);
    return n;
}

int sa_yaml_is_null(const sa_yaml_node *n)
{
    if (n->type != SA_YAML_SCALAR || !n->plain)
        return 0;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
           !strcmp(t, "NULL");
}

int sa_yaml_parse(sa_yaml_errors *e, const char *text, size_t len, sa_yaml_node **root)
{
    reader rd = {.e = e, .text = text, .len = len}, *r = &rd;
    *root = NULL;
    if (!yaml_parser_initialize(&r->parser)) {
        sa_yaml_error_at(e, 1, 1, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)r->text, r->len);
    int rc = -1;
    yaml_event_t ev;
    if (next_event(r, &ev) < 0) /* STREAM-START */
        goto out;
    yaml_event_delete(&ev);
    if (next_event(r, &ev) < 0)
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        rc = 0;
        goto out;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(r, &ev) < 0 || !(*root = build(r, &ev, 0)))
        goto out;
    if (next_event(r, &ev) < 0) /* DOCUMENT-END */
        goto out;
    yaml_event_delete(&ev);
    if (next_event(r, &ev) < 0)
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT)
        sa_yaml_error_at(r->e, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                         "expected a single YAML document, found another one");
    else
        rc = 0;
    yaml_event_delete(&ev);
out:
    yaml_parser_delete(&r->parser);
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
