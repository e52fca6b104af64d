/* sa_patch.h: the RFC 6902 JSON Patch builder for /mutate responses.
 *
 * Operations are written straight into a JSON array text as they are added (no intermediate
 * tree), because a mutation emits a handful of small operations on the request path. Paths are
 * RFC 6901 JSON Pointers; sa_patch_pointer_push escapes '~' and '/' in each token. */
#ifndef SA_PATCH_H
#define SA_PATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sa_buf.h"

typedef struct sa_patch {
    sa_buf ops; /* "{...},{...}": the array's elements, without the brackets */
    size_t count;
} sa_patch;

#define SA_PATCH_INIT  \
    {                  \
        SA_BUF_INIT, 0 \
    }

/* Appends one operation. op is "add", "replace", "remove" or "test"; value_json is the value
 * as JSON text (NULL for "remove"). */
void sa_patch_op(sa_patch *p, const char *op, const char *path, const char *value_json);
/* The same with a string value, which it quotes and escapes. */
void sa_patch_op_string(sa_patch *p, const char *op, const char *path, const char *value);
/* The whole patch as JSON text "[...]" in out (appended). */
void sa_patch_json(const sa_patch *p, sa_buf *out);
/* The whole patch as base64 of its JSON text, appended to out, as AdmissionResponse.patch wants. */
void sa_patch_base64(const sa_patch *p, sa_buf *out);
void sa_patch_free(sa_patch *p);

/* Appends "/" and token, escaped per RFC 6901, to a JSON Pointer being built. */
void sa_patch_pointer_push(sa_buf *path, const char *token);
/* Appends "/" and a decimal array index. */
void sa_patch_pointer_push_index(sa_buf *path, size_t index);

/* Applies the JSON Patch text (an array of add, remove, replace and test operations) to doc in
 * place, as the API server applies a webhook's patch. Returns 0, or -1 with a one-line reason in
 * err (doc may then be partly patched). */
int sa_patch_apply(cJSON *doc, const char *patch, size_t len, char *err, size_t errlen);

#endif
