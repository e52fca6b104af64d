/* nameset.c: exact names in a hash table, globs in a short list (see sa_nameset.h). */
#include "sa_nameset.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sa_map.h"

struct sa_nameset {
    sa_map *exact;     /* name -> the set itself (any non-NULL value marks presence) */
    sa_map *glob_seen; /* the globs again, only to refuse duplicates in O(1) */
    char **globs;      /* owned copies, matched in order */
    size_t nglobs;
    size_t capglobs;
};

sa_nameset *sa_nameset_new(void)
{
    sa_nameset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->exact = sa_map_new();
    s->glob_seen = sa_map_new();
    if (!s->exact || !s->glob_seen) {
        sa_nameset_free(s);
        return NULL;
    }
    return s;
}

void sa_nameset_free(sa_nameset *s)
{
    if (!s)
        return;
    sa_map_free(s->exact, NULL);
    sa_map_free(s->glob_seen, NULL);
    for (size_t i = 0; i < s->nglobs; i++)
        free(s->globs[i]);
    free(s->globs);
    free(s);
}

/* Where the bracket expression opening at g (a '[') ends: its ']', or NULL when unclosed. Read
 * as glibc's fnmatch reads one: '!' or '^' first negates, a ']' first is a member, '\\' escapes
 * the next character, and [:class:], [.sym.] and [=equiv=] are members whose ']' closes nothing. */
static const char *bracket_end(const char *g)
{
    const char *q = g + 1;
    if (*q == '!' || *q == '^')
        q++;
    if (*q == ']')
        q++;
    for (; *q && *q != ']'; q++) {
        if (*q == '\\') {
            if (!*++q)
                return NULL;
        } else if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
            const char close[3] = {q[1], ']', '\0'};
            const char *e = strstr(q + 2, close);
            if (!e)
                return NULL;
            q = e + 1;
        }
    }
    return *q ? q : NULL;
}

/* A glob fnmatch(3) would read differently from what was meant: an unclosed '[' (glibc then
 * matches it literally) or a trailing backslash that escapes nothing. */
static int glob_well_formed(const char *g)
{
    for (const char *p = g; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                return 0;
        } else if (*p == '[') {
            if (!(p = bracket_end(p)))
                return 0;
        }
    }
    return 1;
}

/* An sa_map_put result (0 added, 1 present, -1 out of memory) as the set reports it. */
static sa_nameset_result put_result(int rc)
{
    return rc == 0 ? SA_NAMESET_ADDED : rc == 1 ? SA_NAMESET_DUPLICATE : SA_NAMESET_NOMEM;
}

sa_nameset_result sa_nameset_add(sa_nameset *s, const char *entry)
{
    if (!sa_nameset_is_glob(entry))
        return put_result(sa_map_put(s->exact, entry, s));
    if (!glob_well_formed(entry))
        return SA_NAMESET_BAD_GLOB;
    int rc = sa_map_put(s->glob_seen, entry, s);
    if (rc != 0)
        return put_result(rc);
    if (s->nglobs == s->capglobs) {
        size_t cap = s->capglobs ? s->capglobs * 2 : 4;
        char **globs = realloc(s->globs, cap * sizeof *globs);
        if (!globs)
            return SA_NAMESET_NOMEM;
        s->globs = globs;
        s->capglobs = cap;
    }
    s->globs[s->nglobs] = strdup(entry);
    if (!s->globs[s->nglobs])
        return SA_NAMESET_NOMEM;
    s->nglobs++;
    return SA_NAMESET_ADDED;
}

int sa_nameset_match(const sa_nameset *s, const char *name)
{
    if (!s)
        return 0;
    if (sa_map_get(s->exact, name))
        return 1;
    for (size_t i = 0; i < s->nglobs; i++)
        if (fnmatch(s->globs[i], name, 0) == 0)
            return 1;
    return 0;
}

/* Adds glob position at and, while it is a '*' (which may match nothing), the next ones. */
static void glob_reach(const char *g, size_t at, char *alive)
{
    for (;; at++) {
        alive[at] = 1;
        if (g[at] != '*')
            return;
    }
}

/* Whether glob position at (not the end) takes character c; *next is the position after it.
 * Returns -1 when out of memory. */
static int glob_step(const char *g, size_t at, char c, size_t *next)
{
    const char *t = g + at;
    switch (*t) {
    case '*':
        *next = at;
        return 1;
    case '?':
        *next = at + 1;
        return 1;
    case '[': {
        /* The bracket alone, matched against c alone: its members are glibc's to read. */
        const char *end = bracket_end(t);
        char one[2] = {c, '\0'}, *bracket = strndup(t, (size_t)(end - t) + 1);
        *next = (size_t)(end - g) + 1;
        int rc = bracket ? fnmatch(bracket, one, 0) == 0 : -1;
        free(bracket);
        return rc;
    }
    case '\\':
        t++;
        /* fall through */
    default:
        *next = (size_t)(t - g) + 1;
        return *t == c;
    }
}

/* Whether some completion of prefix matches the well-formed glob g: the set of glob positions
 * fnmatch could be at is walked through the prefix; any position left alive can be completed,
 * as every part of a glob after it matches some character. */
static int glob_extends(const char *g, const char *prefix)
{
    size_t len = strlen(g);
    char *alive = calloc(2 * (len + 1), 1), *next = alive + len + 1;
    if (!alive)
        return 1; /* out of memory: the answer that denies */
    glob_reach(g, 0, alive);
    int any = 1;
    for (const char *c = prefix; *c && any; c++) {
        memset(next, 0, len + 1);
        for (size_t at = 0; at < len; at++) {
            size_t to;
            int rc = alive[at] ? glob_step(g, at, *c, &to) : 0;
            if (rc < 0) {
                free(alive);
                return 1; /* out of memory: the answer that denies */
            }
            if (rc)
                glob_reach(g, to, next);
        }
        memcpy(alive, next, len + 1);
        any = memchr(alive, 1, len + 1) != NULL;
    }
    free(alive);
    return any;
}

static int has_prefix(const char *key, void *prefix)
{
    return strncmp(key, prefix, strlen(prefix)) == 0;
}

int sa_nameset_match_prefix(const sa_nameset *s, const char *prefix)
{
    if (!s)
        return 0;
    if (sa_map_any(s->exact, has_prefix, (void *)prefix))
        return 1;
    for (size_t i = 0; i < s->nglobs; i++)
        if (glob_extends(s->globs[i], prefix))
            return 1;
    return 0;
}

size_t sa_nameset_count(const sa_nameset *s)
{
    return s ? sa_map_count(s->exact) + s->nglobs : 0;
}

int sa_nameset_is_glob(const char *entry)
{
    return strpbrk(entry, "*?[") != NULL;
}

typedef struct collect {
    const char **out;
    size_t n;
} collect;

static int collect_key(const char *key, void *ctx)
{
    collect *c = ctx;
    c->out[c->n++] = key;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **sa_nameset_entries(const sa_nameset *s, size_t *n)
{
    *n = sa_nameset_count(s);
    collect c = {*n ? malloc(*n * sizeof *c.out) : NULL, 0};
    if (!c.out) {
        *n = *n ? (size_t)-1 : 0;
        return NULL;
    }
    sa_map_any(s->exact, collect_key, &c);
    for (size_t i = 0; i < s->nglobs; i++)
        c.out[c.n++] = s->globs[i];
    qsort(c.out, c.n, sizeof *c.out, by_name);
    return c.out;
}
