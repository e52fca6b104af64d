/* sa_yaml.h: a YAML document read into a small tree that keeps every node's line and column,
 * and the list of errors found while reading and checking it.
 *
 * The policy loader is the reader's user: it needs positions for its messages and must refuse
 * what a policy never needs but an attacker could use: anchors and aliases (a few lines of
 * aliases expand into gigabytes: "billion laughs"), explicit tags, duplicate keys (two readers
 * could each take a different one), NUL characters, deep nesting, several documents. Errors
 * are collected, not stopped at, so one run reports them all, each as
 * "FILE:LINE:COLUMN: message", sorted by position. */
#ifndef SA_YAML_H
#define SA_YAML_H

#include <stddef.h>

#include "sa_buf.h"

/* Deeper nesting is refused: a policy nests five levels; anything deeper is a mistake or an
 * attack on the recursive reader. */
#define SA_YAML_MAX_DEPTH 32

typedef enum sa_yaml_type { SA_YAML_SCALAR, SA_YAML_LIST, SA_YAML_MAP } sa_yaml_type;

typedef struct sa_yaml_node {
    sa_yaml_type type;
    int line, col;              /* 1-based */
    char *text;                 /* scalars: the value, NUL-free */
    int plain;                  /* scalars: unquoted, so "null", "true" and "40" are not strings */
    int reported;               /* already refused (an alias, a NUL): no follow-on errors */
    struct sa_yaml_node **items; /* lists: the items; maps: key, value, key, value, ... */
    size_t n;                   /* lists: items; maps: pairs */
} sa_yaml_node;

/* The errors of one file, kept until sa_yaml_errors_flush so they come out in file order.
 * Initialise with the file's name for messages, the rest zero: {.name = "policy.yaml"}. */
typedef struct sa_yaml_errors {
    const char *name;
    struct sa_yaml_error *errs;
    size_t n;
    size_t cap;
    int oom;                    /* an error could not be recorded: still a failure */
} sa_yaml_errors;

/* Records "NAME:LINE:COLUMN: message". */
void sa_yaml_error_at(sa_yaml_errors *e, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define SA_YAML_NODE_ERROR(e, node, ...)                                                           \
    sa_yaml_error_at((e), (node)->line, (node)->col, __VA_ARGS__)
/* Appends the errors, one line each in file order (errors at one position in the order found),
 * to out and forgets them. Returns how many there were (an unrecorded error still counts). */
size_t sa_yaml_errors_flush(sa_yaml_errors *e, sa_buf *out);

/* Reads the single document of text (len bytes) into *root, owned by the caller (NULL for an
 * empty stream or document). Returns 0, or -1 after recording a syntax error or running out of
 * memory. Refused constructs (see above) are recorded in e but do not stop the reading, so
 * check e as well. */
int sa_yaml_parse(sa_yaml_errors *e, const char *text, size_t len, sa_yaml_node **root);
/* Accepts NULL. */
void sa_yaml_free(sa_yaml_node *n);

/* Whether n is a plain null: empty, "~", "null", "Null" or "NULL" unquoted. */
int sa_yaml_is_null(const sa_yaml_node *n);
/* The value of key in map, or NULL when absent or map is not a mapping (or is NULL). */
const sa_yaml_node *sa_yaml_member(const sa_yaml_node *map, const char *key);

#endif
