/* patch.c: the RFC 6902 JSON Patch builder (see sa_patch.h). */
#include "sa_patch.h"

#include <openssl/evp.h>

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
        sa_base64_append(out, (const unsigned char *)json.data, json.len);
    sa_buf_free(&json);
}

void sa_patch_free(sa_patch *p)
{
    sa_buf_free(&p->ops);
    p->count = 0;
}

void sa_pointer_push(sa_buf *path, const char *token)
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

void sa_pointer_push_index(sa_buf *path, size_t index)
{
    sa_buf_printf(path, "/%zu", index);
}

void sa_base64_append(sa_buf *out, const unsigned char *bytes, size_t n)
{
    /* EVP_EncodeBlock takes an int length and writes 4 bytes per 3 plus a NUL; feed it whole
     * 3-byte groups at a time so the pieces join into one valid encoding. */
    const size_t chunk = 3 * 1024 * 1024;
    while (n > 0) {
        size_t take = n < chunk ? n : chunk;
        size_t need = 4 * ((take + 2) / 3);
        char *at = sa_buf_extend(out, need);
        if (!at)
            return;
        /* The extra NUL EVP writes lands on the terminator sa_buf_extend already keeps. */
        EVP_EncodeBlock((unsigned char *)at, bytes, (int)take);
        bytes += take;
        n -= take;
    }
}
