/* sa_schema.h: checking a YAML tree (sa_yaml.h) against what a loader expects, one value at a
 * time, every mismatch recorded as "PATH: expected WHAT, found VALUE" at the value's position.
 *
 * A loader walks its format with these helpers instead of testing node types itself, so every
 * message has one shape and a value already refused (an alias, a NUL) is not reported twice.
 * Sections pair the file's mapping with the same mapping of a defaults tree: an absent key takes
 * its default, and defaults and user values go through the same checks. */
#ifndef SA_SCHEMA_H
#define SA_SCHEMA_H

#include <stddef.h>

#include "sa_nameset.h"
#include "sa_yaml.h"

/* The size of a path buffer, "sessions.publicKey.env"; a longer path is cut. */
#define SA_SCHEMA_PATH_LEN 160
/* The size of a buffer for sa_schema_found. */
#define SA_SCHEMA_FOUND_LEN 80

/* What n is, for "found ..." in messages: "a mapping", "a list", "null", or the text (shortened,
 * non-printable bytes shown as '?') in '' when plain and "" when quoted, so that "40" reads as
 * the string it is. Returns a constant or buf (size bytes, SA_SCHEMA_FOUND_LEN will do). */
const char *sa_schema_found(const sa_yaml_node *n, char *buf, size_t size);
/* Records "path: expected what, found ..." at n, unless n was already refused. */
void sa_schema_expected(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                        const char *what);

/* Each want_ checks n and returns what it holds, or records "expected ..." and returns NULL
 * (strings) or -1 (the others). Strings returned point into the tree. */
/* A string scalar, possibly empty; what names it in the message. */
const char *sa_schema_want_string(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                                  const char *what);
/* A non-empty string. */
const char *sa_schema_want_name(sa_yaml_errors *e, const sa_yaml_node *n, const char *path);
/* A non-empty string without glob characters (* ? [), for tables looked up by exact name;
 * why says so in the message. */
const char *sa_schema_want_exact(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                                 const char *why);
/* true or false (also True, TRUE, False, FALSE), unquoted, into *out as 1 or 0; returns 0. */
int sa_schema_want_bool(sa_yaml_errors *e, const sa_yaml_node *n, const char *path, int *out);
/* A plain decimal integer from min to max (min >= 0: no sign is read) into *out; returns 0. */
int sa_schema_want_int(sa_yaml_errors *e, const sa_yaml_node *n, const char *path, long min,
                       long max, long *out);
/* The index in names[] (count entries, NULL ones skipped) of the string n; the message lists
 * the names: "expected a, b or c". */
int sa_schema_want_enum(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                        const char *const names[], size_t count);
/* A node of this type (a scalar must not be null); returns 0. */
int sa_schema_want_type(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                        sa_yaml_type type);
/* sa_schema_want_name's string, copied (the caller frees it); NULL after recording an error. */
char *sa_schema_dup_name(sa_yaml_errors *e, const sa_yaml_node *n, const char *path);

/* Records every key of map outside keys[] (NULL-terminated), listing keys[]; where names the
 * mapping ("sessions", "the policy"). */
void sa_schema_known_keys(sa_yaml_errors *e, const sa_yaml_node *map, const char *where,
                          const char *const keys[]);

/* How the entries of a list of names are taken. */
typedef enum sa_schema_names_mode {
    SA_SCHEMA_NAMES_GLOB, /* globs allowed, matched with fnmatch(3) */
    SA_SCHEMA_NAMES_EXACT /* exact names only (sa_schema_want_exact) */
} sa_schema_names_mode;

/* A new nameset (the caller frees it) of the strings of the list n or, if allow_scalar, of n
 * itself when it is a single string. Bad and duplicate entries are recorded and left out;
 * why_exact is the reason given when an EXACT entry holds a glob. NULL only when out of
 * memory. */
sa_nameset *sa_schema_names(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                            sa_schema_names_mode mode, int allow_scalar, const char *why_exact);

/* ---- paths and sections ------------------------------------------------------------------ */

/* Formats a path for messages into out (SA_SCHEMA_PATH_LEN bytes). */
void sa_schema_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "base.key", or "key" when base is "". */
void sa_schema_join_path(char *out, const char *base, const char *key);

/* A mapping of the file as written (user, may be NULL) beside the same mapping of the defaults
 * (def): a key absent from the first is taken from the second. */
typedef struct sa_schema_section {
    const sa_yaml_node *user;
    const sa_yaml_node *def;
    char path[SA_SCHEMA_PATH_LEN]; /* "sessions.publicKey"; "" at the top */
} sa_schema_section;

/* The value of key (the user's, else the default) and its path for messages (into path,
 * SA_SCHEMA_PATH_LEN bytes). The defaults must hold every key asked for. */
const sa_yaml_node *sa_schema_field(const sa_schema_section *s, const char *key, char *path);
/* The sub-section at key into out; keys[] (NULL-terminated) are the keys it may hold. A user
 * value that is not a mapping is recorded and ignored (the defaults apply). */
void sa_schema_subsection(sa_yaml_errors *e, const sa_schema_section *s, const char *key,
                          const char *const keys[], sa_schema_section *out);
/* The names at key of the section, as sa_schema_names without allow_scalar. */
sa_nameset *sa_schema_names_field(sa_yaml_errors *e, const sa_schema_section *s, const char *key,
                                  sa_schema_names_mode mode, const char *why_exact);

/* ---- rows: list items without defaults --------------------------------------------------- */

/* The value of a key row (at rpath) must have, its path into path; NULL after recording it
 * missing, with what was expected. */
const sa_yaml_node *sa_schema_required(sa_yaml_errors *e, const sa_yaml_node *row,
                                       const char *rpath, const char *key, const char *what,
                                       char *path);
/* The same for a list; NULL also after recording a value of another type. */
const sa_yaml_node *sa_schema_required_list(sa_yaml_errors *e, const sa_yaml_node *row,
                                            const char *rpath, const char *key, const char *what,
                                            char *path);

#endif
