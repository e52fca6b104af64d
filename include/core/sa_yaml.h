/* sa_yaml.h: the one YAML reader: libyaml's events read into a small tree that keeps every
 * node's line and column, and the list of errors found while reading and checking it.
 *
 * Positions are 1-based lines and columns in characters (Unicode code points, as libyaml's marks
 * count them and an editor shows them), never bytes: a line of multi-byte characters reports the
 * same column from the policy loader and the manifest reader, and from a syntax error and a
 * reader error (bad encoding, a control character).
 *
 * Two modes, for the reader's two users:
 * - SA_YAML_POLICY (the policy loader): one document; refuses what a policy never needs but an
 *   attacker could use: anchors and aliases (a few lines of aliases expand into gigabytes:
 *   "billion laughs"), explicit tags, duplicate keys (two readers could each take a different
 *   one), NUL characters, nesting deeper than 32. Refusals are collected, not stopped at, so one
 *   run reports them all.
 * - SA_YAML_MANIFEST (sa_objects.h, as kubectl reads a file): any number of documents; anchors
 *   and aliases expanded within a budget of nodes and bytes, counted before an alias is copied;
 *   tags kept on the nodes; a NUL kept as SA_BUF_NUL_MARK; nesting up to 200. Stops at the first
 *   error.
 * Errors are "FILE:LINE:COLUMN: message" lines, sorted by position. */
#ifndef SA_YAML_H
#define SA_YAML_H

#include <stddef.h>

#include "sa_buf.h"

/* Deeper nesting is refused: a policy nests five levels; anything deeper is a mistake or an
 * attack on the recursive reader. A manifest may nest as deep as the strict JSON reader allows. */
#define SA_YAML_MAX_DEPTH 32
#define SA_YAML_MANIFEST_MAX_DEPTH 200
/* How many nodes and bytes of text (scalars and keys) aliases may add to one manifest file. */
#define SA_YAML_MAX_ALIAS_NODES 1000000
#define SA_YAML_MAX_ALIAS_BYTES (16u << 20)

typedef enum sa_yaml_mode {
    SA_YAML_POLICY,
    SA_YAML_MANIFEST
} sa_yaml_mode;

typedef enum sa_yaml_type {
    SA_YAML_SCALAR,
    SA_YAML_LIST,
    SA_YAML_MAP
} sa_yaml_type;

typedef struct sa_yaml_node {
    sa_yaml_type type;
    int line, col;               /* 1-based */
    char *text;                  /* scalars: the value, NUL-free */
    size_t len;                  /* scalars: bytes of text (a policy's up to a refused NUL) */
    char *tag;                   /* manifests: the explicit tag as libyaml resolves it, or NULL */
    int plain;                   /* scalars: unquoted, so "null", "true" and "40" are not strings */
    int reported;                /* already refused (an alias, a NUL): no follow-on errors */
    struct sa_yaml_node **items; /* lists: the items; maps: key, value, key, value, ... */
    size_t n;                    /* lists: items; maps: pairs */
} sa_yaml_node;

/* The errors of one file, kept until sa_yaml_errors_flush so they come out in file order.
 * Initialise with the file's name for messages, the rest zero: {.name = "policy.yaml"}. */
typedef struct sa_yaml_errors {
    const char *name;
    struct sa_yaml_error *errs;
    size_t n;
    size_t cap;
    int oom; /* an error could not be recorded: still a failure */
} sa_yaml_errors;

/* Records "NAME:LINE:COLUMN: message". */
void sa_yaml_error_at(sa_yaml_errors *e, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define SA_YAML_NODE_ERROR(e, node, ...) \
    sa_yaml_error_at((e), (node)->line, (node)->col, __VA_ARGS__)
/* The first error in file order, its message without the position, and its position; NULL
 * when there is none (or the only failure was running out of memory while recording one). */
const char *sa_yaml_errors_first(const sa_yaml_errors *e, int *line, int *col);
/* Appends the errors, one line each in file order (errors at one position in the order found),
 * to out and forgets them. Returns how many there were (an unrecorded error still counts). */
size_t sa_yaml_errors_flush(sa_yaml_errors *e, sa_buf *out);
/* Forgets the errors without writing them. */
void sa_yaml_errors_free(sa_yaml_errors *e);

/* A reading of one file's text (len bytes, which must outlive it), its errors recorded in e.
 * NULL when out of memory (recorded). */
typedef struct sa_yaml_reader sa_yaml_reader;
sa_yaml_reader *sa_yaml_open(sa_yaml_errors *e, sa_yaml_mode mode, const char *text, size_t len);
/* The next document into *doc, owned by the caller (NULL for an empty document): 1; 0 at the end
 * of the stream; -1 after recording an error that stops the reading (a syntax error, nesting
 * too deep, out of memory; in a manifest any error; in a policy a second document). */
int sa_yaml_next(sa_yaml_reader *r, sa_yaml_node **doc);
/* The 1-based number of the document being read or last read; 0 before the first. */
unsigned sa_yaml_document(const sa_yaml_reader *r);
/* Accepts NULL. */
void sa_yaml_close(sa_yaml_reader *r);

/* A policy: the single document of text (len bytes) into *root, owned by the caller (NULL for an
 * empty stream or document). Returns 0, or -1 after recording an error that stopped the reading.
 * Refused constructs (see above) are recorded in e but do not stop the reading, so check e as
 * well. */
int sa_yaml_parse(sa_yaml_errors *e, const char *text, size_t len, sa_yaml_node **root);
/* Accepts NULL. */
void sa_yaml_free(sa_yaml_node *n);

/* Whether n is a plain null: empty, "~", "null", "Null" or "NULL" unquoted. */
int sa_yaml_is_null(const sa_yaml_node *n);
/* The value of key in map, or NULL when absent or map is not a mapping (or is NULL). */
const sa_yaml_node *sa_yaml_member(const sa_yaml_node *map, const char *key);

#endif
