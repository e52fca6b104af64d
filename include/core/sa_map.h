/* sa_map.h: a string-keyed hash table (open addressing), the lookup structure behind every
 * policy table, so a table of 100,000 rows costs the same per request as one of 10.
 * Keys are copied and owned by the map; values are borrowed pointers the caller manages
 * (sa_map_free can free them with a callback). Built once at policy load, then read-only:
 * concurrent readers need no lock. */
#ifndef SA_MAP_H
#define SA_MAP_H

#include <stddef.h>

typedef struct sa_map sa_map;

sa_map *sa_map_new(void);
/* free_value (may be NULL) is called on every value. Accepts NULL. */
void sa_map_free(sa_map *m, void (*free_value)(void *));
/* Adds key -> value. Returns 0, 1 if the key is already there (nothing changed), -1 on
 * allocation failure. */
int sa_map_put(sa_map *m, const char *key, void *value);
/* The value for key, or NULL. */
void *sa_map_get(const sa_map *m, const char *key);
/* The same with a key of n bytes, not NUL-terminated: lets callers look up "Kind/name"
 * pairs and substrings without building a copy on the request path. */
void *sa_map_getn(const sa_map *m, const char *key, size_t n);
size_t sa_map_count(const sa_map *m);
/* Non-zero when pred is non-zero for some key (in no particular order; stops at the first).
 * For the rare question a lookup cannot answer, e.g. whether any key starts with a prefix. */
int sa_map_any(const sa_map *m, int (*pred)(const char *key, void *ctx), void *ctx);

#endif
