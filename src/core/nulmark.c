/* nulmark.c: where a NUL in a review matters (see sa_nulmark.h). */
#include "sa_nulmark.h"

#include <string.h>

/* One step of a path below request: a member's key, or an index (key NULL). */
typedef struct step {
    const char *key;
    size_t index;
} step;

/* The free text of the kinds the webhook judges: string values at these paths below request,
 * where "*" is any key, "#" any index and "a|b" either. The policy reads none of them but the
 * session key's env value and its own fingerprint annotation, and compares both whole, so a NUL
 * only makes them differ (the pod is refused or re-patched, as for any other wrong value). */
#define FREE_TEXT_STEPS 7
/* clang-format off */
static const char *const free_text[][FREE_TEXT_STEPS] = {
    {"object|oldObject", "metadata", "annotations", "*"},
    {"object|oldObject", "spec", "containers|initContainers|ephemeralContainers", "#", "env", "#",
     "value"},
    {"object|oldObject", "spec", "containers|initContainers|ephemeralContainers", "#",
     "args|command", "#"},
};
/* clang-format on */

static int step_matches(const char *pattern, const step *s)
{
    if (strcmp(pattern, "#") == 0)
        return !s->key;
    if (!s->key)
        return 0;
    if (strcmp(pattern, "*") == 0)
        return 1;
    size_t n = strlen(s->key);
    for (const char *p = pattern;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, s->key, n) == 0)
            return 1;
        if (!bar)
            return 0;
        p = bar + 1;
    }
}

static int is_free_text(const step *path, size_t depth)
{
    for (size_t i = 0; i < sizeof free_text / sizeof free_text[0]; i++) {
        size_t d = 0;
        while (d < FREE_TEXT_STEPS && free_text[i][d] && d < depth &&
               step_matches(free_text[i][d], &path[d]))
            d++;
        if (d == depth && (d == FREE_TEXT_STEPS || !free_text[i][d]))
            return 1;
    }
    return 0;
}

static int marked(const char *s)
{
    return s && strchr(s, SA_BUF_NUL_MARK) != NULL;
}

static void put_path(const step *path, size_t depth, sa_buf *where)
{
    sa_buf_puts(where, "request");
    for (size_t i = 0; i < depth; i++) {
        if (path[i].key)
            sa_buf_printf(where, ".%s", path[i].key);
        else
            sa_buf_printf(where, "[%zu]", path[i].index);
    }
}

/* path holds room for SA_JSON_MAX_DEPTH steps, the deepest a checked document nests. */
static int walk(const cJSON *node, step *path, size_t depth, sa_buf *where)
{
    if (cJSON_IsString(node)) {
        if (!marked(node->valuestring) || is_free_text(path, depth))
            return 0;
        put_path(path, depth, where);
        return 1;
    }
    int object = cJSON_IsObject(node);
    if ((!object && !cJSON_IsArray(node)) || depth >= SA_JSON_MAX_DEPTH)
        return 0;
    size_t i = 0;
    for (const cJSON *c = node->child; c; c = c->next, i++) {
        path[depth] = object ? (step){c->string, 0} : (step){NULL, i};
        if (object && marked(c->string)) {
            put_path(path, depth + 1, where);
            return 1;
        }
        if (walk(c, path, depth + 1, where))
            return 1;
    }
    return 0;
}

int sa_nulmark_find(const sa_review *r, sa_buf *where)
{
    if (!r->marks || !r->request)
        return 0;
    step path[SA_JSON_MAX_DEPTH];
    return walk(r->request, path, 0, where);
}
