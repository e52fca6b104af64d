/* policy.c: the policy tables, loaded from YAML with libyaml (see sa_policy.h).
 *
 * Two passes. The first reads libyaml's *event* stream into a small tree of its own, keeping
 * every node's line and column, and refusing what a policy never needs but an attacker could
 * use: anchors and aliases (a few lines of aliases expand into gigabytes: "billion laughs"),
 * explicit tags, duplicate keys (two readers could each take a different one), NUL characters,
 * deep nesting, several documents. The second pass walks that tree against the schema and
 * collects every error, not only the first, each as "FILE:LINE:COLUMN: what was expected".
 *
 * A key that is absent takes its value from default_policy below, which is parsed with the same
 * code: defaults and user values go through one set of checks, and the defaults are the values
 * examples/policy.yaml documents. */
#include "sa_policy.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* A policy nests five levels; anything deeper is a mistake or an attack. */
#define POLICY_MAX_DEPTH 32
/* Kubernetes' limit on a DNS-1123 subdomain, such as a ServiceAccount name. */
#define DNS1123_SUBDOMAIN_MAX 253
#define LABEL_NAME_MAX 63

extern const char sa_example_policy[];
extern const size_t sa_example_policy_len;

/* The values of absent keys. Rows of allowedRoles and audiences are taken whole. */
static const char default_policy[] =
    "apiVersion: session-admission/v1alpha1\n"
    "kind: Policy\n"
    "exemptNamespaces: [kube-system, kube-public, kube-node-lease]\n"
    "sessions:\n"
    "  label: ambient-code.io/session-id\n"
    "  serviceAccount: {template: 'session-{id}-sa', idMaxLength: 40, onMismatch: override}\n"
    "  publicKey:\n"
    "    env: AMBIENT_CP_TOKEN_PUBLIC_KEY\n"
    "    file: /etc/session-admission/keys/public.pem\n"
    "    containers: ['*']\n"
    "    initContainers: false\n"
    "    fingerprintAnnotation: ambient-code.io/cp-token-key-sha256\n"
    "  forbiddenEnv: [GITHUB_TOKEN, GITLAB_TOKEN, JIRA_API_TOKEN]\n"
    "  tokenAudiences: []\n"
    "  apiAudiences: [https://kubernetes.default.svc.cluster.local, https://kubernetes.default.svc,\n"
    "                 kubernetes.default.svc]\n"
    "bindings:\n"
    "  sessionServiceAccounts: session-*-sa\n"
    "  namespaceGroups: ['*']\n"
    "  allowedRoles:\n"
    "    - {kind: ClusterRole, name: system:image-puller, scope: namespace, crossNamespace: true}\n"
    "    - {kind: ClusterRole, name: system:image-builder, scope: namespace}\n"
    "  everyoneRoles: [system:basic-user, system:discovery, system:public-info-viewer,\n"
    "    system:service-account-issuer-discovery, basic-user, cluster-status, self-access-reviewer,\n"
    "    system:openshift:discovery, system:openshift:public-info-viewer,\n"
    "    system:openshift:scc:restricted-v2, system:oauth-token-deleter, system:scope-impersonation,\n"
    "    system:webhook, system:build-strategy-docker, system:build-strategy-source,\n"
    "    system:build-strategy-jenkinspipeline]\n"
    "exempt:\n"
    "  objectLabels: {kubernetes.io/bootstrapping: rbac-defaults}\n"
    "  bootstrapUsers: [system:apiserver]\n"
    "  aggregationUsers: [system:serviceaccount:kube-system:clusterrole-aggregation-controller,\n"
    "                     system:kube-controller-manager]\n"
    "  users: []\n"
    "  groups: []\n"
    "impersonation: {resources: [users], names: []}\n"
    "audiences:\n"
    "  - audience: api://AzureADTokenExchange\n"
    "    roles: [system:node:credential-provider-token-audience]\n"
    "    subjects: [{kind: Group, name: system:nodes}]\n"
    "modes: {}\n";

/* ---- the tree ---------------------------------------------------------------------------- */

typedef enum node_type { NODE_SCALAR, NODE_LIST, NODE_MAP } node_type;

typedef struct node {
    node_type type;
    int line, col;              /* 1-based */
    char *text;                 /* scalars: the value, NUL-free */
    int plain;                  /* scalars: unquoted, so "null", "true" and "40" are not strings */
    int reported;               /* already refused (an alias, a NUL): no follow-on errors */
    struct node **items;        /* lists: the items; maps: key, value, key, value, ... */
    size_t n;                   /* lists: items; maps: pairs */
} node;

static void node_free(node *n)
{
    if (!n)
        return;
    size_t count = n->type == NODE_MAP ? 2 * n->n : n->n;
    for (size_t i = 0; i < count; i++)
        node_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

/* One error, kept until the end so the list comes out in file order. */
typedef struct load_error {
    int line, col;
    size_t seq;         /* keeps errors at one position in the order found */
    char *msg;          /* the whole line, "FILE:LINE:COLUMN: ...\n" */
} load_error;

/* The loading context: the errors found, and the libyaml parser of the first pass. */
typedef struct loader {
    const char *name;
    const char *text;
    size_t len;
    load_error *errs;
    size_t nerrors;
    size_t caperrs;
    int oom;            /* an error could not be recorded: still a failure */
    yaml_parser_t parser;
} loader;

static void error_at(loader *l, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(loader *l, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sa_buf text = SA_BUF_INIT;
    sa_buf_printf(&text, "%s:%d:%d: %s\n", l->name, line, col, msg);
    if (l->nerrors == l->caperrs) {
        size_t cap = l->caperrs ? 2 * l->caperrs : 16;
        load_error *errs = realloc(l->errs, cap * sizeof *errs);
        if (!errs) {
            l->oom = 1;
            sa_buf_free(&text);
            return;
        }
        l->errs = errs;
        l->caperrs = cap;
    }
    char *line_text = sa_buf_steal(&text, NULL);
    if (!line_text) {
        l->oom = 1;
        return;
    }
    l->errs[l->nerrors] = (load_error){line, col, l->nerrors, line_text};
    l->nerrors++;
}

static int error_order(const void *a, const void *b)
{
    const load_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Appends the errors, in file order, to out and forgets them. Returns how many failed the
 * load (an unrecorded error still counts). */
static size_t flush_errors(loader *l, sa_buf *out)
{
    if (l->nerrors)
        qsort(l->errs, l->nerrors, sizeof *l->errs, error_order);
    for (size_t i = 0; i < l->nerrors; i++) {
        sa_buf_puts(out, l->errs[i].msg);
        free(l->errs[i].msg);
    }
    if (l->oom)
        sa_buf_printf(out, "%s:1:1: out of memory while reporting errors\n", l->name);
    size_t n = l->nerrors + (size_t)l->oom;
    free(l->errs);
    l->errs = NULL;
    l->nerrors = l->caperrs = 0;
    l->oom = 0;
    return n;
}

#define NODE_ERROR(l, n, ...) error_at((l), (n)->line, (n)->col, __VA_ARGS__)

/* Line and column (1-based) of a byte offset, for libyaml's reader errors, which carry only
 * an offset. */
static void offset_mark(const loader *l, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < l->len; i++) {
        if (l->text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)l->text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static void syntax_error(loader *l)
{
    const yaml_parser_t *p = &l->parser;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        offset_mark(l, p->problem_offset, &line, &col);
        error_at(l, line, col, "YAML syntax error: %s", problem);
        return;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    if (p->context)
        error_at(l, line, col, "YAML syntax error: %s (%s at %d:%d)", problem, p->context,
                 (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        error_at(l, line, col, "YAML syntax error: %s", problem);
}

static int next_event(loader *l, yaml_event_t *ev)
{
    if (yaml_parser_parse(&l->parser, ev))
        return 0;
    syntax_error(l);
    return -1;
}

static node *node_new(loader *l, node_type type, const yaml_event_t *ev)
{
    node *n = calloc(1, sizeof *n);
    if (!n) {
        error_at(l, 1, 1, "out of memory");
        return NULL;
    }
    n->type = type;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    return n;
}

static int node_append(loader *l, node *parent, node *child, size_t *cap)
{
    if (parent->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        node **items = realloc(parent->items, ncap * sizeof *items);
        if (!items) {
            error_at(l, child->line, child->col, "out of memory");
            return -1;
        }
        parent->items = items;
        *cap = ncap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* Reports an anchor or a tag on a node; parsing goes on so later errors are seen too. */
static void refuse_decorations(loader *l, const yaml_event_t *ev, const yaml_char_t *anchor,
                               const yaml_char_t *tag)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (anchor)
        error_at(l, line, col,
                 "anchors and aliases are not allowed (they let a small file expand without "
                 "bound); write the value out");
    if (tag) /* libyaml leaves it NULL unless one was written */
        error_at(l, line, col, "explicit YAML tags are not allowed; write a plain value");
}

static node *build(loader *l, yaml_event_t *ev, int depth);

/* Reads items into the list n up to the end event (a map's keys and values alternate: the
 * caller turns it into a map once complete, so node_free is right at every step).
 * Returns 0 or -1 (stop). */
static int build_children(loader *l, node *n, yaml_event_type_t end, int depth)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(l, &ev) < 0)
            return -1;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        node *child = build(l, &ev, depth + 1);
        if (!child || node_append(l, n, child, &cap) < 0) {
            node_free(child);
            return -1;
        }
    }
    return 0;
}

/* Refuses keys that are not plain strings and keys given twice, pointing at the first. */
static void check_keys_unique(loader *l, const node *map)
{
    sa_map *seen = map->n > 1 ? sa_map_new() : NULL;
    for (size_t i = 0; i < map->n; i++) {
        const node *k = map->items[2 * i];
        if (k->type != NODE_SCALAR) {
            NODE_ERROR(l, k, "expected a string as mapping key, found a %s",
                       k->type == NODE_MAP ? "mapping" : "list");
            continue;
        }
        if (!seen)
            continue;
        const node *first = sa_map_get(seen, k->text);
        if (first)
            NODE_ERROR(l, k, "duplicate key '%s' (first at %d:%d)", k->text, first->line,
                       first->col);
        else if (sa_map_put(seen, k->text, (void *)k) < 0)
            NODE_ERROR(l, k, "out of memory");
    }
    sa_map_free(seen, NULL);
}

/* Builds the node that starts with ev (consumed). NULL on a syntax error or out of memory. */
static node *build(loader *l, yaml_event_t *ev, int depth)
{
    node *n = NULL;
    if (depth > POLICY_MAX_DEPTH) {
        error_at(l, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                 "nesting deeper than %d levels", POLICY_MAX_DEPTH);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        refuse_decorations(l, ev, ev->data.alias.anchor, NULL);
        /* Stands in as null so the rest of the file is still checked. */
        n = node_new(l, NODE_SCALAR, ev);
        if (n && !(n->text = strdup(""))) {
            node_free(n);
            n = NULL;
        }
        if (n)
            n->plain = n->reported = 1;
        break;
    case YAML_SCALAR_EVENT:
        refuse_decorations(l, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
        n = node_new(l, NODE_SCALAR, ev);
        if (!n)
            break;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
            NODE_ERROR(l, n, "a NUL character is not allowed in a value");
            n->reported = 1;
        }
        n->text = strdup((const char *)ev->data.scalar.value);
        if (!n->text) {
            node_free(n);
            n = NULL;
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        if (is_map)
            refuse_decorations(l, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag);
        else
            refuse_decorations(l, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
        n = node_new(l, NODE_LIST, ev);
        if (n && build_children(l, n, is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT,
                                depth) < 0) {
            node_free(n);
            n = NULL;
        }
        if (n && is_map) {
            n->type = NODE_MAP;
            n->n /= 2; /* pairs from here on */
            check_keys_unique(l, n);
        }
        break;
    }
    default:
        error_at(l, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                 "unexpected YAML structure");
        break;
    }
    if (!n && l->nerrors == 0 && !l->oom)
        error_at(l, 1, 1, "out of memory");
    yaml_event_delete(ev);
    return n;
}

static int is_null(const node *n)
{
    if (n->type != NODE_SCALAR || !n->plain)
        return 0;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
           !strcmp(t, "NULL");
}

/* Parses the single document of text into *root (NULL for an empty stream or document).
 * Returns 0, or -1 after reporting a syntax error. */
static int parse_tree(loader *l, node **root)
{
    *root = NULL;
    if (!yaml_parser_initialize(&l->parser)) {
        error_at(l, 1, 1, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&l->parser, (const unsigned char *)l->text, l->len);
    int rc = -1;
    yaml_event_t ev;
    if (next_event(l, &ev) < 0) /* STREAM-START */
        goto out;
    yaml_event_delete(&ev);
    if (next_event(l, &ev) < 0)
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        rc = 0;
        goto out;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(l, &ev) < 0 || !(*root = build(l, &ev, 0)))
        goto out;
    if (next_event(l, &ev) < 0) /* DOCUMENT-END */
        goto out;
    yaml_event_delete(&ev);
    if (next_event(l, &ev) < 0)
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT)
        error_at(l, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                 "expected a single YAML document, found another one");
    else
        rc = 0;
    yaml_event_delete(&ev);
out:
    yaml_parser_delete(&l->parser);
    if (rc < 0) {
        node_free(*root);
        *root = NULL;
    }
    return rc;
}

/* ---- checking values --------------------------------------------------------------------- */

static const node *member(const node *map, const char *key)
{
    if (!map || map->type != NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const node *k = map->items[2 * i];
        if (k->type == NODE_SCALAR && strcmp(k->text, key) == 0)
            return map->items[2 * i + 1];
    }
    return NULL;
}

/* What a node is, for "found ..." in messages: a mapping, a list, null, or the text
 * (shortened, non-printable bytes shown as '?'), in '' when plain and "" when it was quoted,
 * so that "40" reads as the string it is. */
static const char *found(const node *n, char *buf, size_t size)
{
    if (n->type == NODE_MAP)
        return "a mapping";
    if (n->type == NODE_LIST)
        return "a list";
    if (is_null(n))
        return "null";
    size_t len = strlen(n->text), shown = len > 60 ? 57 : len, j = 0;
    char quote = n->plain ? '\'' : '"';
    buf[j++] = quote;
    for (size_t i = 0; i < shown && j + 5 < size; i++) {
        unsigned char c = (unsigned char)n->text[i];
        buf[j++] = (char)(c >= 0x20 && c != 0x7f ? c : '?');
    }
    if (shown < len && j + 5 < size) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j++] = quote;
    buf[j] = '\0';
    return buf;
}

static void expected(loader *l, const node *n, const char *path, const char *what)
{
    if (n->reported)
        return;
    char buf[80];
    NODE_ERROR(l, n, "%s: expected %s, found %s", path, what, found(n, buf, sizeof buf));
}

/* The text of a string scalar (possibly empty), or NULL after reporting the error. */
static const char *want_string(loader *l, const node *n, const char *path, const char *what)
{
    if (n->type == NODE_SCALAR && !is_null(n))
        return n->text;
    expected(l, n, path, what);
    return NULL;
}

static const char *want_name(loader *l, const node *n, const char *path)
{
    const char *s = want_string(l, n, path, "a non-empty string");
    if (s && !*s) {
        expected(l, n, path, "a non-empty string");
        return NULL;
    }
    return s;
}

static char *dup_name(loader *l, const node *n, const char *path)
{
    const char *s = want_name(l, n, path);
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        NODE_ERROR(l, n, "out of memory");
    return copy;
}

/* A string that must not hold glob characters: tables looked up by exact name. */
static const char *want_exact(loader *l, const node *n, const char *path, const char *why)
{
    const char *s = want_name(l, n, path);
    if (s && strpbrk(s, "*?[")) {
        char buf[80];
        NODE_ERROR(l, n, "%s: expected an exact name (%s), found the pattern %s", path, why,
                   found(n, buf, sizeof buf));
        return NULL;
    }
    return s;
}

static int want_bool(loader *l, const node *n, const char *path, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                             "FALSE"};
    if (n->type == NODE_SCALAR && n->plain)
        for (size_t i = 0; i < 3; i++) {
            if (!strcmp(n->text, yes[i]) || !strcmp(n->text, no[i])) {
                *out = !strcmp(n->text, yes[i]);
                return 0;
            }
        }
    expected(l, n, path, "true or false");
    return -1;
}

/* One of names[] (count entries, listed in the message as expected), or -1. */
static int want_enum(loader *l, const node *n, const char *path, const char *const names[],
                     size_t count, const char *what)
{
    const char *s = want_string(l, n, path, what);
    if (!s)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (names[i] && !strcmp(s, names[i]))
            return (int)i;
    expected(l, n, path, what);
    return -1;
}

static int want_type(loader *l, const node *n, const char *path, node_type type)
{
    if (n->type == type && !(type == NODE_SCALAR && is_null(n)))
        return 0;
    expected(l, n, path, type == NODE_MAP ? "a mapping" : type == NODE_LIST ? "a list" : "a string");
    return -1;
}

/* Reports keys of map outside keys[] (NULL-terminated). */
static void known_keys(loader *l, const node *map, const char *where, const char *const keys[])
{
    for (size_t i = 0; i < map->n; i++) {
        const node *k = map->items[2 * i];
        if (k->type != NODE_SCALAR)
            continue; /* reported by check_keys_unique */
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], k->text))
            j++;
        if (keys[j])
            continue;
        sa_buf list = SA_BUF_INIT;
        for (j = 0; keys[j]; j++)
            sa_buf_printf(&list, "%s%s", j ? ", " : "", keys[j]);
        char buf[80];
        NODE_ERROR(l, k, "unknown key %s in %s (expected one of: %s)", found(k, buf, sizeof buf),
                   where, sa_buf_str(&list));
        sa_buf_free(&list);
    }
}

/* ---- sections with defaults -------------------------------------------------------------- */

#define PATH_LEN 160

/* A mapping of the policy as written (user, may be NULL) beside the same mapping of the
 * defaults: a key absent from the first is taken from the second. */
typedef struct section {
    const node *user;
    const node *def;
    char path[PATH_LEN];    /* "sessions.publicKey"; "" at the top */
} section;

/* Formats a path for messages into out (PATH_LEN bytes); a very long one is cut. */
static void set_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_path(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

static void join_path(char *out, const char *base, const char *key)
{
    set_path(out, "%s%s%s", base, *base ? "." : "", key);
}

/* The value of key (user's, else default) and its path for messages. */
static const node *field(const section *s, const char *key, char *path)
{
    join_path(path, s->path, key);
    const node *n = member(s->user, key);
    return n ? n : member(s->def, key);
}

/* The sub-section at key; a user value that is not a mapping is reported and ignored. */
static void subsection(loader *l, const section *s, const char *key, const char *const keys[],
                       section *out)
{
    join_path(out->path, s->path, key);
    out->user = member(s->user, key);
    out->def = member(s->def, key);
    if (out->user && want_type(l, out->user, out->path, NODE_MAP) < 0)
        out->user = NULL;
    if (out->user)
        known_keys(l, out->user, out->path, keys);
}

/* ---- names ------------------------------------------------------------------------------- */

enum { NAMES_GLOB, NAMES_EXACT };

/* Adds the strings of a list (or, if allow_scalar, of a single string) to a new nameset. */
static sa_nameset *names_from(loader *l, const node *n, const char *path, int exact,
                              int allow_scalar, const char *why_exact)
{
    sa_nameset *set = sa_nameset_new();
    if (!set) {
        NODE_ERROR(l, n, "out of memory");
        return NULL;
    }
    const node *const *items = &n;
    size_t count = 1;
    if (n->type == NODE_LIST) {
        items = (const node *const *)n->items;
        count = n->n;
    } else if (!allow_scalar || n->type != NODE_SCALAR) {
        expected(l, n, path, allow_scalar ? "a string or a list of strings" : "a list of strings");
        return set;
    }
    for (size_t i = 0; i < count; i++) {
        char ipath[PATH_LEN];
        set_path(ipath, "%s[%zu]", path, i);
        const char *s = exact ? want_exact(l, items[i], ipath, why_exact)
                              : want_name(l, items[i], ipath);
        if (!s)
            continue;
        char buf[80];
        switch (sa_nameset_add(set, s)) {
        case 1:
            NODE_ERROR(l, items[i], "%s: duplicate entry %s", ipath,
                       found(items[i], buf, sizeof buf));
            break;
        case -1:
            NODE_ERROR(l, items[i], "out of memory");
            break;
        case -2:
            NODE_ERROR(l, items[i], "%s: expected a valid glob, found %s (unclosed '[' or a "
                       "trailing '\\')", ipath, found(items[i], buf, sizeof buf));
            break;
        }
    }
    return set;
}

static sa_nameset *names_field(loader *l, const section *s, const char *key, int exact,
                               const char *why_exact)
{
    char path[PATH_LEN];
    const node *n = field(s, key, path);
    return names_from(l, n, path, exact, 0, why_exact);
}

/* ---- name syntax ------------------------------------------------------------------------- */

/* RFC 1123 subdomain as Kubernetes checks it: dot-separated labels of [a-z0-9-], each starting
 * and ending alphanumeric, 253 characters at most. */
static int dns1123_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > DNS1123_SUBDOMAIN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        int edge = i == 0 || i == len - 1 || s[i - 1] == '.' || s[i + 1] == '.';
        if (alnum)
            continue;
        if ((c != '-' && c != '.') || edge)
            return 0;
    }
    return 1;
}

/* A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at most
 * 63 characters of [A-Za-z0-9-_.] that starts and ends alphanumeric. */
static int qualified_name(const char *s)
{
    const char *name = strchr(s, '/');
    if (name) {
        if (!dns1123_subdomain(s, (size_t)(name - s)))
            return 0;
        name++;
    } else {
        name = s;
    }
    size_t len = strlen(name);
    if (len == 0 || len > LABEL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (isalnum(c))
            continue;
        if ((c != '-' && c != '_' && c != '.') || i == 0 || i == len - 1)
            return 0;
    }
    return 1;
}

static char *dup_qualified(loader *l, const section *s, const char *key)
{
    char path[PATH_LEN];
    const node *n = field(s, key, path);
    char *v = dup_name(l, n, path);
    if (v && !qualified_name(v)) {
        expected(l, n, path, "a label key ([prefix/]name, name at most 63 characters)");
        free(v);
        return NULL;
    }
    return v;
}

static int c_identifier(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* ---- the session ServiceAccount name ----------------------------------------------------- */

#define ID_PLACEHOLDER "{id}"

/* Writes template with {id} replaced by id, lower-cased and cut to max bytes. Returns 0 if
 * the result is a DNS-1123 subdomain. */
static int render_sa(const char *tmpl, int max, const char *id, sa_buf *out)
{
    const char *at = strstr(tmpl, ID_PLACEHOLDER);
    size_t start = out->len, idlen = strlen(id);
    if (!at || !*id)
        return -1;
    if (idlen > (size_t)max)
        idlen = (size_t)max;
    sa_buf_append(out, tmpl, (size_t)(at - tmpl));
    char *dst = sa_buf_extend(out, idlen);
    if (!dst)
        return -1;
    for (size_t i = 0; i < idlen; i++)
        dst[i] = (char)tolower((unsigned char)id[i]);
    sa_buf_puts(out, at + strlen(ID_PLACEHOLDER));
    if (out->oom)
        return -1;
    return dns1123_subdomain(out->data + start, out->len - start) ? 0 : -1;
}

int sa_policy_session_sa(const sa_policy *p, const char *session_id, sa_buf *out)
{
    return render_sa(p->sessions.sa_template, p->sessions.id_max_length, session_id, out);
}

/* ---- the sections ------------------------------------------------------------------------ */

static void load_service_account(loader *l, const section *sessions, sa_policy *p)
{
    static const char *const keys[] = {"template", "idMaxLength", "onMismatch", NULL};
    static const char *const mismatch[] = {[SA_MISMATCH_OVERRIDE] = "override",
                                           [SA_MISMATCH_DENY] = "deny"};
    section s;
    subsection(l, sessions, "serviceAccount", keys, &s);
    char path[PATH_LEN];

    const node *n = field(&s, "template", path);
    p->sessions.sa_template = dup_name(l, n, path);
    const char *t = p->sessions.sa_template;
    size_t fixed = DNS1123_SUBDOMAIN_MAX;
    if (t) {
        const char *at = strstr(t, ID_PLACEHOLDER);
        sa_buf probe = SA_BUF_INIT;
        if (!at || strstr(at + 1, ID_PLACEHOLDER)) {
            expected(l, n, path, "a template with exactly one {id}");
        } else if (render_sa(t, 1, "a", &probe) < 0) {
            expected(l, n, path, "a template that forms a DNS-1123 name ([a-z0-9-.], "
                                 "alphanumeric at both ends)");
        } else {
            fixed = strlen(t) - strlen(ID_PLACEHOLDER);
        }
        sa_buf_free(&probe);
    }

    n = field(&s, "idMaxLength", path);
    /* Leaves room for the template's fixed part within 253 characters. */
    long max = (long)(DNS1123_SUBDOMAIN_MAX - (fixed < DNS1123_SUBDOMAIN_MAX ? fixed : 0));
    char *end = NULL;
    long v = n->type == NODE_SCALAR && n->plain && isdigit((unsigned char)*n->text)
                 ? strtol(n->text, &end, 10)
                 : 0;
    if (!end || *end || v < 1 || v > max) {
        char what[96];
        snprintf(what, sizeof what, "an integer from 1 to %ld", max);
        expected(l, n, path, what);
    } else {
        p->sessions.id_max_length = (int)v;
    }

    n = field(&s, "onMismatch", path);
    int m = want_enum(l, n, path, mismatch, 2, "override or deny");
    if (m >= 0)
        p->sessions.on_mismatch = (sa_on_mismatch)m;
}

static void load_public_key(loader *l, const section *sessions, sa_policy *p)
{
    static const char *const keys[] = {"env", "file", "containers", "initContainers",
                                       "fingerprintAnnotation", NULL};
    section s;
    subsection(l, sessions, "publicKey", keys, &s);
    char path[PATH_LEN];

    const node *n = field(&s, "env", path);
    p->sessions.key_env = dup_name(l, n, path);
    if (p->sessions.key_env && !c_identifier(p->sessions.key_env))
        expected(l, n, path, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");

    p->sessions.key_file = dup_name(l, field(&s, "file", path), path);
    p->sessions.containers = names_field(l, &s, "containers", NAMES_GLOB, NULL);
    want_bool(l, field(&s, "initContainers", path), path, &p->sessions.init_containers);
    p->sessions.fingerprint_annotation = dup_qualified(l, &s, "fingerprintAnnotation");
}

static void load_sessions(loader *l, const section *top, sa_policy *p)
{
    static const char *const keys[] = {"label", "serviceAccount", "publicKey", "forbiddenEnv",
                                       "tokenAudiences", "apiAudiences", NULL};
    section s;
    subsection(l, top, "sessions", keys, &s);
    p->sessions.label = dup_qualified(l, &s, "label");
    load_service_account(l, &s, p);
    load_public_key(l, &s, p);
    p->sessions.forbidden_env = names_field(l, &s, "forbiddenEnv", NAMES_GLOB, NULL);
    p->sessions.token_audiences = names_field(l, &s, "tokenAudiences", NAMES_EXACT,
                                              "audiences are granted one by one");
    p->sessions.api_audiences = names_field(l, &s, "apiAudiences", NAMES_EXACT,
                                            "the API server's audiences are exact strings");
}

/* The value of a key a row must have (its path goes to path), or NULL after reporting it
 * missing with what was expected. */
static const node *required(loader *l, const node *row, const char *rpath, const char *key,
                            const char *what, char *path)
{
    join_path(path, rpath, key);
    const node *n = member(row, key);
    if (!n)
        NODE_ERROR(l, row, "%s: missing key '%s' (expected %s)", rpath, key, what);
    return n;
}

/* A list a row must have, or NULL after reporting it missing or of another type. */
static const node *required_list(loader *l, const node *row, const char *rpath, const char *key,
                                 const char *what, char *path)
{
    const node *n = required(l, row, rpath, key, what, path);
    return n && want_type(l, n, path, NODE_LIST) == 0 ? n : NULL;
}

static void role_row_free(void *row)
{
    sa_role_row *r = row;
    free(r->kind);
    free(r->name);
    free(r);
}

static void load_role_row(loader *l, const node *row, const char *rpath, sa_map *index)
{
    static const char *const keys[] = {"kind", "name", "scope", "crossNamespace", NULL};
    static const char *const kinds[] = {"Role", "ClusterRole"};
    static const char *const scopes[] = {[SA_SCOPE_NAMESPACE] = "namespace",
                                         [SA_SCOPE_CLUSTER] = "cluster", [SA_SCOPE_ANY] = "any"};
    if (want_type(l, row, rpath, NODE_MAP) < 0)
        return;
    known_keys(l, row, rpath, keys);
    char path[PATH_LEN];
    const node *n;
    int kind = -1, scope = SA_SCOPE_NAMESPACE, cross = 0;
    const char *name = NULL;

    if ((n = required(l, row, rpath, "kind", "Role or ClusterRole", path)))
        kind = want_enum(l, n, path, kinds, 2, "Role or ClusterRole");
    if ((n = required(l, row, rpath, "name", "the role's name", path)))
        name = want_exact(l, n, path, "roles are looked up by name");
    join_path(path, rpath, "scope");
    if ((n = member(row, "scope"))) {
        scope = want_enum(l, n, path, scopes, 4, "namespace, cluster or any");
        if (kind == 0 && scope > 0 && scope != SA_SCOPE_NAMESPACE) {
            expected(l, n, path, "namespace for a Role (only a RoleBinding can reference it)");
            scope = -1;
        }
    }
    join_path(path, rpath, "crossNamespace");
    if ((n = member(row, "crossNamespace")) && want_bool(l, n, path, &cross) < 0)
        cross = -1;
    if (kind < 0 || !name || scope < 0 || cross < 0)
        return;

    sa_role_row *r = calloc(1, sizeof *r);
    sa_buf key = SA_BUF_INIT;
    sa_buf_printf(&key, "%s/%s", kinds[kind], name);
    if (r) {
        r->kind = strdup(kinds[kind]);
        r->name = strdup(name);
        r->scope = (sa_scope)scope;
        r->cross_namespace = cross;
    }
    int rc = !r || !r->kind || !r->name || key.oom ? -1 : sa_map_put(index, key.data, r);
    if (rc == 1)
        NODE_ERROR(l, row, "%s: duplicate row for %s", rpath, key.data);
    else if (rc < 0)
        NODE_ERROR(l, row, "out of memory");
    if (rc != 0 && r)
        role_row_free(r);
    sa_buf_free(&key);
}

static void load_bindings(loader *l, const section *top, sa_policy *p)
{
    static const char *const keys[] = {"sessionServiceAccounts", "namespaceGroups",
                                       "allowedRoles", "everyoneRoles", NULL};
    section s;
    subsection(l, top, "bindings", keys, &s);
    char path[PATH_LEN];
    p->bindings.session_service_accounts =
        names_from(l, field(&s, "sessionServiceAccounts", path), path, NAMES_GLOB, 1, NULL);
    p->bindings.namespace_groups = names_field(l, &s, "namespaceGroups", NAMES_GLOB, NULL);
    p->bindings.everyone_roles = names_field(l, &s, "everyoneRoles", NAMES_EXACT,
                                             "roles are looked up by name");

    p->bindings.allowed_roles = sa_map_new();
    const node *rows = field(&s, "allowedRoles", path);
    if (!p->bindings.allowed_roles)
        NODE_ERROR(l, rows, "out of memory");
    else if (want_type(l, rows, path, NODE_LIST) == 0)
        for (size_t i = 0; i < rows->n; i++) {
            char rpath[PATH_LEN];
            set_path(rpath, "%s[%zu]", path, i);
            load_role_row(l, rows->items[i], rpath, p->bindings.allowed_roles);
        }
}

static void load_exempt(loader *l, const section *top, sa_policy *p)
{
    static const char *const keys[] = {"objectLabels", "bootstrapUsers", "aggregationUsers",
                                       "users", "groups", NULL};
    section s;
    subsection(l, top, "exempt", keys, &s);
    char path[PATH_LEN];
    const node *labels = field(&s, "objectLabels", path);
    p->exempt.object_labels = sa_map_new();
    if (!p->exempt.object_labels)
        NODE_ERROR(l, labels, "out of memory");
    else if (want_type(l, labels, path, NODE_MAP) == 0)
        for (size_t i = 0; i < labels->n; i++) {
            const node *k = labels->items[2 * i], *v = labels->items[2 * i + 1];
            char lpath[PATH_LEN];
            join_path(lpath, path, k->type == NODE_SCALAR ? k->text : "?");
            if (k->type == NODE_SCALAR && !qualified_name(k->text))
                expected(l, k, path, "a label key ([prefix/]name, name at most 63 characters)");
            const char *value = want_string(l, v, lpath, "a label value (a string)");
            if (k->type != NODE_SCALAR || !value)
                continue;
            char *copy = strdup(value);
            /* A duplicate key (rc 1) was reported while reading the tree. */
            int rc = copy ? sa_map_put(p->exempt.object_labels, k->text, copy) : -1;
            if (rc != 0)
                free(copy);
            if (rc < 0)
                NODE_ERROR(l, k, "out of memory");
        }
    p->exempt.bootstrap_users = names_field(l, &s, "bootstrapUsers", NAMES_EXACT,
                                            "the cluster's own identities are trusted by name");
    p->exempt.aggregation_users = names_field(l, &s, "aggregationUsers", NAMES_EXACT,
                                              "the cluster's own identities are trusted by name");
    p->exempt.users = names_field(l, &s, "users", NAMES_GLOB, NULL);
    p->exempt.groups = names_field(l, &s, "groups", NAMES_GLOB, NULL);
}

static void load_impersonation(loader *l, const section *top, sa_policy *p)
{
    static const char *const keys[] = {"resources", "names", NULL};
    const char *resources[SA_RBAC_IMP_KINDS];
    for (unsigned i = 0; i < SA_RBAC_IMP_KINDS; i++)
        resources[i] = sa_rbac_imp_name(i);
    section s;
    subsection(l, top, "impersonation", keys, &s);
    char path[PATH_LEN];
    const node *list = field(&s, "resources", path);
    if (want_type(l, list, path, NODE_LIST) == 0)
        for (size_t i = 0; i < list->n; i++) {
            char ipath[PATH_LEN];
            set_path(ipath, "%s[%zu]", path, i);
            int r = want_enum(l, list->items[i], ipath, resources, SA_RBAC_IMP_KINDS,
                              "users, groups, serviceaccounts, userextras/*, uids, nodes or "
                              "associated-node");
            if (r < 0)
                continue;
            if (p->impersonation.resources & (1u << r))
                NODE_ERROR(l, list->items[i], "%s: duplicate entry '%s'", ipath, resources[r]);
            p->impersonation.resources |= 1u << r;
        }
    p->impersonation.names = names_field(l, &s, "names", NAMES_EXACT,
                                         "impersonation is granted on exactly named users");
}

static void subject_fini(sa_subject *s)
{
    free(s->kind);
    free(s->name);
    free(s->namespace_);
}

static void audience_row_fini(sa_audience_row *a)
{
    free(a->audience);
    for (size_t i = 0; i < a->nroles; i++)
        free(a->roles[i]);
    free(a->roles);
    for (size_t i = 0; i < a->nsubjects; i++)
        subject_fini(&a->subjects[i]);
    free(a->subjects);
}

static void load_subject(loader *l, const node *n, const char *spath, sa_subject *out)
{
    static const char *const keys[] = {"kind", "name", "namespace", NULL};
    static const char *const kinds[] = {"User", "Group", "ServiceAccount"};
    if (want_type(l, n, spath, NODE_MAP) < 0)
        return;
    known_keys(l, n, spath, keys);
    char path[PATH_LEN];
    const node *v;
    int kind = -1;
    if ((v = required(l, n, spath, "kind", "User, Group or ServiceAccount", path)))
        kind = want_enum(l, v, path, kinds, 3, "User, Group or ServiceAccount");
    if ((v = required(l, n, spath, "name", "the subject's name", path)))
        out->name = dup_name(l, v, path);
    join_path(path, spath, "namespace");
    v = member(n, "namespace");
    if (kind == 2 && !v)
        NODE_ERROR(l, n, "%s: missing key 'namespace' (a ServiceAccount subject needs one)",
                   spath);
    else if (kind >= 0 && kind != 2 && v)
        NODE_ERROR(l, v, "%s: only a ServiceAccount subject has a namespace", path);
    else if (v)
        out->namespace_ = dup_name(l, v, path);
    if (kind < 0)
        return;
    out->kind = strdup(kinds[kind]);
    if (!out->namespace_ && kind != 2)
        out->namespace_ = strdup("");
    if (!out->kind || (kind != 2 && !out->namespace_))
        NODE_ERROR(l, n, "out of memory");
}

/* The role -> rows index: one list per role, a row pointer per audience granting it. */
static void audience_list_free(void *v)
{
    sa_audience_list *list = v;
    free(list->rows);
    free(list);
}

static int index_role(sa_map *roles, const char *role, const sa_audience_row *row)
{
    sa_audience_list *list = sa_map_get(roles, role);
    if (!list) {
        if (!(list = calloc(1, sizeof *list)))
            return -1;
        if (sa_map_put(roles, role, list) != 0) {
            free(list);
            return -1;
        }
    }
    const sa_audience_row **rows = realloc(list->rows, (list->n + 1) * sizeof *rows);
    if (!rows)
        return -1;
    rows[list->n++] = row;
    list->rows = rows;
    return 0;
}

static void load_audience_row(loader *l, const node *row, const char *rpath, sa_policy *p)
{
    static const char *const keys[] = {"audience", "roles", "subjects", NULL};
    sa_audience_row *a = &p->audiences[p->naudiences++];
    if (want_type(l, row, rpath, NODE_MAP) < 0)
        return;
    known_keys(l, row, rpath, keys);
    char path[PATH_LEN];
    const node *n;

    if ((n = required(l, row, rpath, "audience", "the audience string", path))) {
        const char *aud = want_exact(l, n, path, "each audience is granted by name");
        if (aud && !(a->audience = strdup(aud)))
            NODE_ERROR(l, n, "out of memory");
        int rc = a->audience ? sa_map_put(p->audience_index, a->audience, a) : 0;
        if (rc == 1)
            NODE_ERROR(l, n, "%s: duplicate row for audience '%s'", path, a->audience);
        else if (rc < 0)
            NODE_ERROR(l, n, "out of memory");
    }

    n = required_list(l, row, rpath, "roles", "the roles granting it", path);
    if (n && (a->roles = calloc(n->n ? n->n : 1, sizeof *a->roles)))
        for (size_t i = 0; i < n->n; i++) {
            char ipath[PATH_LEN];
            set_path(ipath, "%s[%zu]", path, i);
            const char *role = want_exact(l, n->items[i], ipath, "roles are looked up by name");
            if (!role)
                continue;
            for (size_t j = 0; j < a->nroles; j++)
                if (!strcmp(a->roles[j], role)) {
                    NODE_ERROR(l, n->items[i], "%s: duplicate entry '%s'", ipath, role);
                    role = NULL;
                    break;
                }
            if (!role)
                continue;
            if (!(a->roles[a->nroles] = strdup(role)) ||
                index_role(p->audience_roles, role, a) < 0) {
                NODE_ERROR(l, n->items[i], "out of memory");
                free(a->roles[a->nroles]);
                continue;
            }
            a->nroles++;
        }

    n = required_list(l, row, rpath, "subjects", "who may be bound", path);
    if (n && (a->subjects = calloc(n->n ? n->n : 1, sizeof *a->subjects)))
        for (size_t i = 0; i < n->n; i++) {
            char ipath[PATH_LEN];
            set_path(ipath, "%s[%zu]", path, i);
            load_subject(l, n->items[i], ipath, &a->subjects[a->nsubjects++]);
        }
}

static void load_audiences(loader *l, const section *top, sa_policy *p)
{
    char path[PATH_LEN];
    const node *rows = field(top, "audiences", path);
    p->audience_index = sa_map_new();
    p->audience_roles = sa_map_new();
    if (!p->audience_index || !p->audience_roles) {
        NODE_ERROR(l, rows, "out of memory");
        return;
    }
    if (want_type(l, rows, path, NODE_LIST) < 0)
        return;
    /* Rows are pointed at by both indexes, so the array is sized once and never moves. */
    if (!(p->audiences = calloc(rows->n ? rows->n : 1, sizeof *p->audiences))) {
        NODE_ERROR(l, rows, "out of memory");
        return;
    }
    for (size_t i = 0; i < rows->n; i++) {
        char rpath[PATH_LEN];
        set_path(rpath, "%s[%zu]", path, i);
        load_audience_row(l, rows->items[i], rpath, p);
    }
}

static void load_modes(loader *l, const section *top, sa_policy *p)
{
    char path[PATH_LEN];
    const node *modes = field(top, "modes", path);
    for (int i = 0; i < SA_RULE_COUNT; i++)
        p->modes[i] = SA_MODE_ENFORCE;
    if (want_type(l, modes, path, NODE_MAP) < 0)
        return;
    static const char *const mode_names[] = {[SA_MODE_ENFORCE] = "enforce",
                                             [SA_MODE_WARN] = "warn", [SA_MODE_AUDIT] = "audit"};
    for (size_t i = 0; i < modes->n; i++) {
        const node *k = modes->items[2 * i], *v = modes->items[2 * i + 1];
        if (k->type != NODE_SCALAR)
            continue;
        int rule = sa_verdict_rule_from_id(k->text);
        if (rule < 0) {
            sa_buf ids = SA_BUF_INIT;
            for (int r = 0; r < SA_RULE_COUNT; r++)
                sa_buf_printf(&ids, "%s%s", r ? ", " : "", sa_verdict_rule_id((sa_rule)r));
            char buf[80];
            NODE_ERROR(l, k, "unknown rule id %s in modes (expected one of: %s)",
                       found(k, buf, sizeof buf), sa_buf_str(&ids));
            sa_buf_free(&ids);
            continue;
        }
        char mpath[PATH_LEN];
        join_path(mpath, path, k->text);
        int m = want_enum(l, v, mpath, mode_names, SA_MODE_COUNT, "enforce, warn or audit");
        if (m >= 0)
            p->modes[rule] = (sa_mode)m;
    }
}

#define API_VERSION "session-admission/v1alpha1"
#define KIND "Policy"

static void load_header(loader *l, const node *root)
{
    static const char *const keys[] = {"apiVersion", API_VERSION, "kind", KIND};
    for (size_t i = 0; i < 4; i += 2) {
        const node *n = member(root, keys[i]);
        char what[64];
        snprintf(what, sizeof what, "%s: %s", keys[i], keys[i + 1]);
        if (!n) {
            NODE_ERROR(l, root, "missing key '%s' (expected %s)", keys[i], what);
            continue;
        }
        if (n->type != NODE_SCALAR || strcmp(n->text, keys[i + 1]) != 0)
            expected(l, n, keys[i], keys[i + 1]);
    }
}

/* ---- loading ----------------------------------------------------------------------------- */

/* Checks the whole tree and fills p. The defaults tree is trusted (a unit test loads it). */
static void load_policy(loader *l, const node *root, const node *defaults, sa_policy *p)
{
    static const char *const keys[] = {"apiVersion", "kind", "exemptNamespaces", "sessions",
                                       "bindings", "exempt", "impersonation", "audiences",
                                       "modes", NULL};
    section top = {root, defaults, ""};
    known_keys(l, root, "the policy", keys);
    load_header(l, root);
    p->exempt_namespaces = names_field(l, &top, "exemptNamespaces", NAMES_GLOB, NULL);
    load_sessions(l, &top, p);
    load_bindings(l, &top, p);
    load_exempt(l, &top, p);
    load_impersonation(l, &top, p);
    load_audiences(l, &top, p);
    load_modes(l, &top, p);
}

/* The parsed default_policy, shared read-only by every load. Parsed per call: it is small, and
 * a load happens only at start and on reload. */
static node *defaults_tree(sa_buf *errors)
{
    loader l = {.name = "<defaults>", .text = default_policy, .len = sizeof default_policy - 1};
    node *root;
    int rc = parse_tree(&l, &root);
    if (flush_errors(&l, errors) || rc < 0) {
        node_free(root);
        return NULL;
    }
    return root;
}

/* Parses and checks; every error is recorded in l. */
static sa_policy *load(loader *l, sa_buf *errors)
{
    if (l->len > SA_POLICY_MAX_BYTES) {
        error_at(l, 1, 1, "the policy is larger than %u bytes", SA_POLICY_MAX_BYTES);
        return NULL;
    }
    node *root = NULL;
    if (parse_tree(l, &root) < 0)
        return NULL;
    sa_policy *p = NULL;
    node *defaults = NULL;
    if (!root || is_null(root)) {
        error_at(l, root ? root->line : 1, root ? root->col : 1,
                 "the policy is empty (expected a mapping with apiVersion: " API_VERSION
                 " and kind: " KIND ")");
    } else if (want_type(l, root, "the policy", NODE_MAP) == 0) {
        defaults = defaults_tree(errors);
        p = calloc(1, sizeof *p);
        if (!defaults || !p || !(p->source = strdup(l->name)))
            error_at(l, 1, 1, "out of memory or broken built-in defaults");
        else
            load_policy(l, root, defaults, p);
    }
    node_free(defaults);
    node_free(root);
    return p;
}

sa_policy *sa_policy_load_text(const char *name, const char *text, size_t len, sa_buf *errors)
{
    loader l = {.name = name, .text = text, .len = len};
    sa_policy *p = load(&l, errors);
    if (flush_errors(&l, errors)) {
        sa_policy_free(p);
        return NULL;
    }
    return p;
}

sa_policy *sa_policy_load_file(const char *path, sa_buf *errors)
{
    sa_buf text = SA_BUF_INIT;
    char err[512];
    if (sa_buf_read_file(&text, path, SA_POLICY_MAX_BYTES, err, sizeof err) < 0) {
        /* err starts with the path already; keep the FILE:LINE:COLUMN shape of all errors. */
        size_t plen = strlen(path);
        const char *why = strncmp(err, path, plen) == 0 && err[plen] == ':' ? err + plen + 2 : err;
        sa_buf_printf(errors, "%s:1:1: cannot load the policy: %s\n", path, why);
        sa_buf_free(&text);
        return NULL;
    }
    sa_policy *p = sa_policy_load_text(path, sa_buf_str(&text), text.len, errors);
    sa_buf_free(&text);
    return p;
}

sa_policy *sa_policy_builtin(sa_buf *errors)
{
    return sa_policy_load_text("<built-in>", sa_example_policy, sa_example_policy_len, errors);
}

static void free_string(void *s)
{
    free(s);
}

void sa_policy_free(sa_policy *p)
{
    if (!p)
        return;
    free(p->source);
    sa_nameset_free(p->exempt_namespaces);
    free(p->sessions.label);
    free(p->sessions.sa_template);
    free(p->sessions.key_env);
    free(p->sessions.key_file);
    sa_nameset_free(p->sessions.containers);
    free(p->sessions.fingerprint_annotation);
    sa_nameset_free(p->sessions.forbidden_env);
    sa_nameset_free(p->sessions.token_audiences);
    sa_nameset_free(p->sessions.api_audiences);
    sa_nameset_free(p->bindings.session_service_accounts);
    sa_nameset_free(p->bindings.namespace_groups);
    sa_nameset_free(p->bindings.everyone_roles);
    sa_map_free(p->bindings.allowed_roles, role_row_free);
    sa_map_free(p->exempt.object_labels, free_string);
    sa_nameset_free(p->exempt.bootstrap_users);
    sa_nameset_free(p->exempt.aggregation_users);
    sa_nameset_free(p->exempt.users);
    sa_nameset_free(p->exempt.groups);
    sa_nameset_free(p->impersonation.names);
    for (size_t i = 0; i < p->naudiences; i++)
        audience_row_fini(&p->audiences[i]);
    free(p->audiences);
    sa_map_free(p->audience_index, NULL);
    sa_map_free(p->audience_roles, audience_list_free);
    free(p);
}

void sa_policy_summary(const sa_policy *p, sa_buf *out)
{
    int per_mode[SA_MODE_COUNT] = {0};
    for (int i = 0; i < SA_RULE_COUNT; i++)
        per_mode[p->modes[i]]++;
    sa_buf_printf(out,
                  "exemptNamespaces=%zu containers=%zu forbiddenEnv=%zu tokenAudiences=%zu "
                  "apiAudiences=%zu sessionServiceAccounts=%zu namespaceGroups=%zu "
                  "allowedRoles=%zu everyoneRoles=%zu exempt.objectLabels=%zu "
                  "exempt.bootstrapUsers=%zu exempt.aggregationUsers=%zu exempt.users=%zu "
                  "exempt.groups=%zu "
                  "impersonation.names=%zu audiences=%zu modes=enforce:%d,warn:%d,audit:%d",
                  sa_nameset_count(p->exempt_namespaces), sa_nameset_count(p->sessions.containers),
                  sa_nameset_count(p->sessions.forbidden_env),
                  sa_nameset_count(p->sessions.token_audiences),
                  sa_nameset_count(p->sessions.api_audiences),
                  sa_nameset_count(p->bindings.session_service_accounts),
                  sa_nameset_count(p->bindings.namespace_groups),
                  sa_map_count(p->bindings.allowed_roles),
                  sa_nameset_count(p->bindings.everyone_roles),
                  sa_map_count(p->exempt.object_labels), sa_nameset_count(p->exempt.bootstrap_users),
                  sa_nameset_count(p->exempt.aggregation_users), sa_nameset_count(p->exempt.users),
                  sa_nameset_count(p->exempt.groups),
                  sa_nameset_count(p->impersonation.names), p->naudiences,
                  per_mode[SA_MODE_ENFORCE], per_mode[SA_MODE_WARN], per_mode[SA_MODE_AUDIT]);
}
