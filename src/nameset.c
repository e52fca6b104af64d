/* nameset.c: exact names in a hash table, globs in a short list (see sa_nameset.h). */
#include "sa_nameset.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sa_map.h"

struct sa_nameset {
    sa_map *exact;      /* name -> the set itself (any non-NULL value marks presence) */
    sa_map *glob_seen;  /* the globs again, only to refuse duplicates in O(1) */
    char **globs;       /* owned copies, matched in order */
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

/* A glob fnmatch(3) would read differently from what was meant: an unclosed '[' (glibc then
 * matches it literally) or a trailing backslash that escapes nothing. */
static int glob_well_formed(const char *g)
{
    for (const char *p = g; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                return 0;
        } else if (*p == '[') {
            const char *q = p + 1;
            if (*q == '!' || *q == '^')
                q++;
            if (*q == ']')      /* a ']' first in a bracket is a member, not the end */
                q++;
            while (*q && *q != ']')
                q++;
            if (!*q)
                return 0;
            p = q;
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
    if (!strpbrk(entry, "*?["))
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

size_t sa_nameset_count(const sa_nameset *s)
{
    return s ? sa_map_count(s->exact) + s->nglobs : 0;
}
