/* sa_json.h: strict JSON parsing and small accessors over cJSON.
 *
 * cJSON alone accepts things an admission webhook must not: invalid UTF-8, duplicate keys
 * (the webhook would judge the first value while another reader takes the last), and it looks
 * keys up case-insensitively. It would also cut a string at "\u0000", which the API server does
 * send (Go keeps NUL in strings): here that escape parses to SA_BUF_NUL_MARK instead, and the
 * admission core decides where such a string matters (sa_nulmark.h).
 * Everything in this project that reads a request goes through these functions instead. */
#ifndef SA_JSON_H
#define SA_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The deepest nesting of arrays and objects accepted; far beyond any Kubernetes object, and it
 * keeps every recursive walk over a request shallow. */
#define SA_JSON_MAX_DEPTH 200

/* Parses len bytes into *out. Returns how many escapes \u0000 it read as SA_BUF_NUL_MARK (0 for
 * almost every document), or -1 with a one-line reason in err. */
int sa_json_parse(const char *text, size_t len, cJSON **out, char *err, size_t errlen);

/* The checks sa_json_parse makes on a tree built some other way (the YAML reader): no duplicate
 * keys, no nesting deeper than SA_JSON_MAX_DEPTH. Returns 0, or -1 with a reason in err. */
int sa_json_check(const cJSON *doc, char *err, size_t errlen);

/* Between sa_json_arena_begin and sa_json_arena_end, every cJSON allocation on this thread comes
 * from one growing arena, freed whole at the end; cJSON's own frees are no-ops inside it. A review
 * parses into hundreds of small nodes, and per-node malloc/free was a quarter of the request
 * path's instructions. Nothing cJSON allocates inside the window may outlive it. A scope, not a
 * stack: beginning one while one is open on the thread aborts with a message (an inner end would
 * free the outer documents in use). The ASan build keeps it on, with poisoned gaps. */
void sa_json_arena_begin(void);
void sa_json_arena_end(void);
/* Frees a parsed document: cJSON_Delete, or nothing inside an open arena, whose end frees the
 * whole document at once instead of node by node. */
void sa_json_delete(cJSON *doc);

/* How many leading bytes of text are valid UTF-8 (len when all are). */
size_t sa_json_utf8_valid_prefix(const char *text, size_t len);

/* Member key of obj, case-sensitive, or NULL (also when obj is not an object). */
const cJSON *sa_json_get(const cJSON *obj, const char *key);
/* A member by a path of keys ending in NULL: sa_json_path(pod, "metadata", "labels", NULL). */
const cJSON *sa_json_path(const cJSON *obj, ...);
/* A string member's value, or "" when absent or not a string. */
const char *sa_json_string(const cJSON *obj, const char *key);
/* The string, or NULL when item is not a string. */
const char *sa_json_str(const cJSON *item);

#endif
