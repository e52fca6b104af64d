/* sa_nameset.h: a set of names from a policy list, matched exactly or by glob.
 *
 * Entries without glob characters (* ? [) go into a hash table; entries with them are kept in
 * a list and matched with fnmatch(3). Policy tables are overwhelmingly exact names, so lookup
 * cost does not grow with the table; the few patterns are scanned. */
#ifndef SA_NAMESET_H
#define SA_NAMESET_H

#include <stddef.h>

typedef struct sa_nameset sa_nameset;

sa_nameset *sa_nameset_new(void);
void sa_nameset_free(sa_nameset *s);
/* What sa_nameset_add did. Only SA_NAMESET_ADDED changed the set. */
typedef enum sa_nameset_result {
    SA_NAMESET_ADDED = 0,     /* the entry is new and now in the set */
    SA_NAMESET_DUPLICATE = 1, /* the set already held it */
    SA_NAMESET_NOMEM = -1,    /* allocation failed */
    SA_NAMESET_BAD_GLOB = -2  /* a glob fnmatch(3) would misread: an unclosed '[' or a
                                 * trailing '\' that escapes nothing */
} sa_nameset_result;

/* Adds an entry; a copy is kept. */
sa_nameset_result sa_nameset_add(sa_nameset *s, const char *entry);
/* Non-zero when name equals an exact entry or matches a glob entry. NULL set matches nothing. */
int sa_nameset_match(const sa_nameset *s, const char *name);
/* Non-zero when some name that starts with prefix is in the set: an exact entry that starts
 * with it, or a glob some completion of prefix matches. For names formed by appending unseen
 * text to a known prefix (a container's envFrom prefix and a ConfigMap's keys). */
int sa_nameset_match_prefix(const sa_nameset *s, const char *prefix);
/* Exact entries plus glob entries. */
size_t sa_nameset_count(const sa_nameset *s);
/* Every entry, exact names and globs, sorted (strcmp): a malloc'd array of sa_nameset_count(s)
 * strings the set still owns, for code that writes the set out (sa_cel.h). The caller frees the
 * array only. NULL when the set is empty (*n is 0) or out of memory (*n is (size_t)-1). */
const char **sa_nameset_entries(const sa_nameset *s, size_t *n);
/* Whether an entry is a glob (holds * ? or [) rather than an exact name. */
int sa_nameset_is_glob(const char *entry);

#endif
