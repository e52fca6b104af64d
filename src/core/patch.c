/* patch.c: the RFC 6902 JSON Patch builder, and the applier the offline commands use to see the
 * mutated object (see sa_patch.h). */
#include "sa_patch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_json.h"

void sa_patch_op(sa_patch *p, const char *op, const char *path, const char *value_json)
{
    if (p->count)
        sa_buf_putc(&p->ops, ',');
    sa_buf_puts(&p->ops, "{\"op\":");
    sa_buf_json_string(&p->ops, op);
    sa_buf_puts(&p->ops, ",\"path\":");
    sa_buf_json_string(&p->ops, path);
    if (value_json) {
        sa_buf_puts(&p->ops, ",\"value\":");
        sa_buf_puts(&p->ops, value_json);
    }
    sa_buf_putc(&p->ops, '}');
    p->count++;
}

void sa_patch_op_string(sa_patch *p, const char *op, const char *path, const char *value)
{
    sa_buf v = SA_BUF_INIT;
    sa_buf_json_string(&v, value);
    sa_patch_op(p, op, path, sa_buf_str(&v));
    sa_buf_free(&v);
}

void sa_patch_json(const sa_patch *p, sa_buf *out)
{
    sa_buf_putc(out, '[');
    sa_buf_append(out, sa_buf_str(&p->ops), p->ops.len);
    sa_buf_putc(out, ']');
}

void sa_patch_base64(const sa_patch *p, sa_buf *out)
{
    sa_buf json = SA_BUF_INIT;
    sa_patch_json(p, &json);
    if (json.oom)
        out->oom = 1;
    else
        sa_buf_base64_append(out, (const unsigned char *)json.data, json.len);
    sa_buf_free(&json);
}

void sa_patch_free(sa_patch *p)
{
    sa_buf_free(&p->ops);
    p->count = 0;
}

void sa_patch_pointer_push(sa_buf *path, const char *token)
{
    sa_buf_putc(path, '/');
    for (const char *s = token; *s; s++) {
        if (*s == '~')
            sa_buf_puts(path, "~0");
        else if (*s == '/')
            sa_buf_puts(path, "~1");
        else
            sa_buf_putc(path, *s);
    }
}

void sa_patch_pointer_push_index(sa_buf *path, size_t index)
{
    sa_buf_printf(path, "/%zu", index);
}

/* ---- applying a patch (what the API server does with a mutation; `scan` and `test` need the
 * mutated object) ---------------------------------------------------------------------- */

/* The next reference token of a JSON Pointer, unescaped (~1 is '/', ~0 is '~'), into tok. *p
 * moves past it. -1 when a token is malformed or too long. */
static int pointer_token(const char **p, char *tok, size_t cap)
{
    size_t n = 0;
    const char *s = *p + 1; /* past the '/' */
    for (; *s && *s != '/'; s++) {
        char c = *s;
        if (c == '~') {
            if (s[1] != '0' && s[1] != '1')
                return -1;
            c = *++s == '0' ? '~' : '/';
        }
        if (n + 1 >= cap)
            return -1;
        tok[n++] = c;
    }
    tok[n] = '\0';
    *p = s;
    return 0;
}

/* An array index token: decimal digits without a leading zero. -1 otherwise. */
static long pointer_index(const char *tok)
{
    if (!*tok || (tok[0] == '0' && tok[1]) || strspn(tok, "0123456789") != strlen(tok) ||
        strlen(tok) > 9)
        return -1;
    return strtol(tok, NULL, 10);
}

static cJSON *child_at(cJSON *node, const char *tok)
{
    if (cJSON_IsObject(node))
        return cJSON_GetObjectItemCaseSensitive(node, tok);
    long i = cJSON_IsArray(node) ? pointer_index(tok) : -1;
    return i >= 0 ? cJSON_GetArrayItem(node, (int)i) : NULL;
}

static int apply_op(cJSON *doc, const cJSON *op, char *err, size_t errlen)
{
    const char *name = sa_json_string(op, "op"), *path = sa_json_string(op, "path");
    const cJSON *value = sa_json_get(op, "value");
    char tok[1024];
    if (*path != '/') {
        snprintf(err, errlen, "patch path \"%.200s\" is not a JSON Pointer to a member", path);
        return -1;
    }
    /* Walk to the parent of the last token. */
    cJSON *parent = doc;
    const char *p = path;
    for (;;) {
        if (pointer_token(&p, tok, sizeof tok) < 0) {
            snprintf(err, errlen, "patch path \"%.200s\" is malformed", path);
            return -1;
        }
        if (!*p)
            break;
        if (!(parent = child_at(parent, tok))) {
            snprintf(err, errlen, "patch path \"%.200s\" does not exist", path);
            return -1;
        }
    }
    cJSON *target = child_at(parent, tok);
    int is_add = strcmp(name, "add") == 0, is_replace = strcmp(name, "replace") == 0;
    if (strcmp(name, "test") == 0) {
        if (target && value && cJSON_Compare(target, value, 1))
            return 0;
        snprintf(err, errlen, "patch test failed at \"%.200s\"", path);
        return -1;
    }
    if (!is_add && !is_replace && strcmp(name, "remove") != 0) {
        snprintf(err, errlen, "patch op \"%.20s\" is not supported", name);
        return -1;
    }
    if (!is_add && !target) {
        snprintf(err, errlen, "patch %s of \"%.200s\", which does not exist", name, path);
        return -1;
    }
    if ((is_add || is_replace) && !value) {
        snprintf(err, errlen, "patch %s of \"%.200s\" has no value", name, path);
        return -1;
    }
    cJSON *copy = value ? cJSON_Duplicate(value, 1) : NULL;
    if (value && !copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cJSON_IsObject(parent)) {
        if (target)
            cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
        if (copy)
            cJSON_AddItemToObject(parent, tok, copy);
        return 0;
    }
    if (!cJSON_IsArray(parent)) {
        cJSON_Delete(copy);
        snprintf(err, errlen, "patch path \"%.200s\" goes through a scalar", path);
        return -1;
    }
    long i = strcmp(tok, "-") == 0 ? cJSON_GetArraySize(parent) : pointer_index(tok);
    if (i < 0 || i > cJSON_GetArraySize(parent) || (!is_add && i == cJSON_GetArraySize(parent))) {
        cJSON_Delete(copy);
        snprintf(err, errlen, "patch path \"%.200s\": index out of range", path);
        return -1;
    }
    if (is_replace)
        cJSON_ReplaceItemInArray(parent, (int)i, copy);
    else if (is_add && i == cJSON_GetArraySize(parent))
        cJSON_AddItemToArray(parent, copy);
    else if (is_add)
        cJSON_InsertItemInArray(parent, (int)i, copy);
    else
        cJSON_DeleteItemFromArray(parent, (int)i);
    return 0;
}

int sa_patch_apply(cJSON *doc, const char *patch, size_t len, char *err, size_t errlen)
{
    cJSON *ops;
    if (sa_json_parse(patch, len, &ops, err, errlen) < 0)
        return -1;
    int rc = 0;
    if (!cJSON_IsArray(ops)) {
        snprintf(err, errlen, "a JSON Patch is an array");
        rc = -1;
    }
    for (const cJSON *op = rc ? NULL : ops->child; op && rc == 0; op = op->next)
        rc = apply_op(doc, op, err, errlen);
    cJSON_Delete(ops);
    return rc;
}
