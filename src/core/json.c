/* json.c: strict JSON parsing and accessors (see sa_json.h). */
#include "sa_json.h"

#include "sa_buf.h"

#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when the 8 bytes at p are all plain ASCII: no high bit, no NUL, no backslash. Most of a
 * review is, and testing a word at a time makes the check below several times cheaper (it was
 * the biggest cost of sa_admit that is ours rather than cJSON's). (x - ones) & ~x has a byte's
 * high bit set iff x has a zero byte (Mycroft). */
static int plain_ascii8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t v;
    memcpy(&v, p, sizeof v);
    uint64_t bs = v ^ (ones * '\\');
    return ((v | ((v - ones) & ~v) | ((bs - ones) & ~bs)) & highs) == 0;
}

/* The length of the valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) that starts with the non-ASCII byte at s, avail bytes being there; 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned min, cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        min = 0x80;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        min = 0x800;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        min = 0x10000;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n >= avail)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n + 1;
}

size_t sa_json_utf8_valid_prefix(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, n;
    while (i < len) {
        if (s[i] < 0x80)
            i++;
        else if ((n = utf8_sequence(s + i, len - i)) != 0)
            i += n;
        else
            break;
    }
    return i;
}

/* Checks UTF-8 and refuses a raw NUL byte; counts the escapes \u0000 into *nuls. Returns the
 * offset of the first bad byte, or len when all is well. */
static size_t utf8_check(const unsigned char *s, size_t len, size_t *nuls, const char **why)
{
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8 && plain_ascii8(s + i)) {
            i += 8;
            continue;
        }
        unsigned char c = s[i];
        if (c == '\\' && i + 1 < len) {
            if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0) {
                ++*nuls;
                i += 6;
                continue;
            }
            i += 2; /* the escaped character cannot start another escape */
            continue;
        }
        if (c == 0) {
            *why = "contains a NUL byte";
            return i;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_sequence(s + i, len - i);
        if (!n) {
            /* A lead byte whose sequence would run past the end: the body was cut short. */
            size_t want = c >= 0xF0 && c <= 0xF4   ? 4
                          : c >= 0xE0 && c <= 0xEF ? 3
                          : c >= 0xC2 && c <= 0xDF ? 2
                                                   : 0;
            *why = want && i + want > len ? "is not valid UTF-8 (truncated sequence)"
                                          : "is not valid UTF-8";
            return i;
        }
        i += n;
    }
    return len;
}

/* A copy of text (already checked) with each escape \u0000 replaced by the byte SA_BUF_NUL_MARK,
 * which cJSON keeps as it is; malloc'd, *outlen set. Escapes are skimmed as utf8_check does, so
 * the "\u0000" of an escaped backslash followed by "u0000" stays text. */
static char *mark_nuls(const char *text, size_t len, size_t *outlen)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (text[i] == '\\' && i + 5 < len && text[i + 1] == 'u' &&
            memcmp(text + i + 2, "0000", 4) == 0) {
            out[o++] = SA_BUF_NUL_MARK;
            i += 6;
        } else if (text[i] == '\\' && i + 1 < len) {
            out[o++] = text[i++];
            out[o++] = text[i++];
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = 0;
    *outlen = o;
    return out;
}
static int name_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Walks the tree: refuses duplicate keys and nesting deeper than SA_JSON_MAX_DEPTH.
 * Small objects are checked pairwise; larger ones sorted, so a wide object costs n log n. */
static int walk(const cJSON *node, int depth, char *err, size_t errlen)
{
    if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
        return 0;
    if (depth > SA_JSON_MAX_DEPTH) {
        snprintf(err, errlen, "JSON nests deeper than %d levels", SA_JSON_MAX_DEPTH);
        return -1;
    }
    if (cJSON_IsObject(node)) {
        size_t n = 0;
        for (const cJSON *c = node->child; c; c = c->next)
            n++;
        const char *dup = NULL;
        if (n <= 16) {
            for (const cJSON *a = node->child; a && !dup; a = a->next)
                for (const cJSON *b = a->next; b; b = b->next)
                    if (strcmp(a->string, b->string) == 0) {
                        dup = a->string;
                        break;
                    }
        } else {
            const cJSON **items = malloc(n * sizeof *items);
            if (!items) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            size_t i = 0;
            for (const cJSON *c = node->child; c; c = c->next)
                items[i++] = c;
            qsort(items, n, sizeof *items, name_cmp);
            for (i = 1; i < n && !dup; i++)
                if (strcmp(items[i - 1]->string, items[i]->string) == 0)
                    dup = items[i]->string;
            free(items);
        }
        if (dup) {
            snprintf(err, errlen, "duplicate JSON key \"%.64s\"", dup);
            return -1;
        }
    }
    for (const cJSON *c = node->child; c; c = c->next)
        if (walk(c, depth + 1, err, errlen) < 0)
            return -1;
    return 0;
}

int sa_json_check(const cJSON *doc, char *err, size_t errlen)
{
    return walk(doc, 1, err, errlen);
}

/* cJSON's parse of checked text, then the checks cJSON does not make. */
static int parse_checked(const char *text, size_t len, cJSON **out, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!doc) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        snprintf(err, errlen, "body is not valid JSON (error at byte %zu)", at);
        return -1;
    }
    /* Only white space may follow the document. */
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            snprintf(err, errlen, "body has data after the JSON document (at byte %zu)",
                     (size_t)(p - text));
            sa_json_delete(doc);
            return -1;
        }
    }
    if (sa_json_check(doc, err, errlen) < 0) {
        sa_json_delete(doc);
        return -1;
    }
    *out = doc;
    return 0;
}

int sa_json_parse(const char *text, size_t len, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *why = NULL;
    size_t nuls = 0;
    size_t bad = utf8_check((const unsigned char *)text, len, &nuls, &why);
    if (bad < len) {
        snprintf(err, errlen, "body %s at byte %zu", why, bad);
        return -1;
    }
    char *marked = NULL;
    if (nuls) { /* rare: only then is the text copied */
        if (!(marked = mark_nuls(text, len, &len))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        text = marked;
    }
    int rc = parse_checked(text, len, out, err, errlen);
    if (marked && rc < 0)
        snprintf(err + strlen(err), errlen - strlen(err), " (counting each \\u0000 as one byte)");
    free(marked);
    return rc < 0 ? -1 : (int)(nuls < INT_MAX ? nuls : INT_MAX);
}

/* ---- the per-request arena behind cJSON's allocation hooks ---------------------------- */

#define ARENA_FIRST_CHUNK (64 * 1024)

/* Under AddressSanitizer the arena stays on, and says what it hands out: a chunk's free space is
 * poisoned, each block is unpoisoned as it is given, with a poisoned gap after it, and the chunks
 * go back to malloc at the end. So an overrun of a node, a read of space never handed out, and a
 * use of a node after its arena ended are still caught (in the tests and the fuzzers), with the
 * arena's own code path under test. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_GAP 16
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ARENA_GAP 0
#endif

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
} arena_chunk;

static _Thread_local arena_chunk *arena; /* newest chunk first; NULL when no arena is open */
static _Thread_local int arena_open;

static void *arena_malloc(size_t n)
{
    if (!arena_open)
        return malloc(n);
    size_t need = (n + ARENA_GAP + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (!arena || arena->cap - arena->used < need) {
        size_t cap = arena ? arena->cap * 2 : ARENA_FIRST_CHUNK;
        while (cap < need)
            cap *= 2;
        arena_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = arena;
        c->cap = cap;
        c->used = 0;
        ASAN_POISON_MEMORY_REGION(c->data, cap);
        arena = c;
    }
    void *p = arena->data + arena->used;
    arena->used += need;
    ASAN_UNPOISON_MEMORY_REGION(p, n);
    return p;
}

static void arena_free(void *p)
{
    for (const arena_chunk *c = arena_open ? arena : NULL; c; c = c->next)
        if ((unsigned char *)p >= c->data && (unsigned char *)p < c->data + c->cap)
            return; /* freed with the whole arena */
    free(p);
}

static void install_hooks(void)
{
    cJSON_Hooks hooks = {arena_malloc, arena_free};
    cJSON_InitHooks(&hooks);
}

void sa_json_arena_begin(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    /* A nested arena's end would free the outer one's documents while they are in use: a bug in
     * the caller, stopped where it happens rather than as a use after free later. */
    if (arena_open) {
        fputs("sa_json_arena_begin: an arena is already open on this thread (arenas do not nest)\n",
              stderr);
        abort();
    }
    pthread_once(&once, install_hooks);
    arena_open = 1;
}

void sa_json_arena_end(void)
{
    arena_open = 0;
    while (arena) {
        arena_chunk *next = arena->next;
        ASAN_UNPOISON_MEMORY_REGION(arena->data, arena->cap);
        free(arena);
        arena = next;
    }
}

void sa_json_delete(cJSON *doc)
{
    if (!arena_open)
        cJSON_Delete(doc);
}

const cJSON *sa_json_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const cJSON *sa_json_path(const cJSON *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    const char *key;
    while (obj && (key = va_arg(ap, const char *)) != NULL)
        obj = sa_json_get(obj, key);
    va_end(ap);
    return obj;
}

const char *sa_json_str(const cJSON *item)
{
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

const char *sa_json_string(const cJSON *obj, const char *key)
{
    const char *s = sa_json_str(sa_json_get(obj, key));
    return s ? s : "";
}
