/* buf.c: the growable byte buffer (see sa_buf.h). */
#include "sa_buf.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(sa_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void sa_buf_append(sa_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

int sa_buf_reserve(sa_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    if (n > ((size_t)-1) - b->len - 1) {
        b->oom = 1;
        return -1;
    }
    char *p = realloc(b->data, b->len + n + 1);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = b->len + n + 1;
    return 0;
}

char *sa_buf_extend(sa_buf *b, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return NULL;
    char *at = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return at;
}

void sa_buf_puts(sa_buf *b, const char *s)
{
    sa_buf_append(b, s, strlen(s));
}

void sa_buf_putc(sa_buf *b, char c)
{
    sa_buf_append(b, &c, 1);
}

void sa_buf_vprintf(sa_buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof small) {
        sa_buf_append(b, small, (size_t)n);
    } else if (n >= 0) {
        char *at = sa_buf_extend(b, (size_t)n);
        if (at)
            vsnprintf(at, (size_t)n + 1, fmt, again);
    }
    va_end(again);
}

void sa_buf_printf(sa_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sa_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sa_buf_json_escape(sa_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s, *end = s + n;
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\' && c != (unsigned char)SA_BUF_NUL_MARK)
            continue;
        sa_buf_append(b, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"':
            sa_buf_puts(b, "\\\"");
            break;
        case '\\':
            sa_buf_puts(b, "\\\\");
            break;
        case '\n':
            sa_buf_puts(b, "\\n");
            break;
        case '\r':
            sa_buf_puts(b, "\\r");
            break;
        case '\t':
            sa_buf_puts(b, "\\t");
            break;
        case (unsigned char)SA_BUF_NUL_MARK:
            sa_buf_puts(b, "\\u0000");
            break;
        default: {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            sa_buf_puts(b, esc);
        }
        }
    }
    sa_buf_append(b, run, (size_t)(s - run));
}

void sa_buf_json_string(sa_buf *b, const char *s)
{
    sa_buf_putc(b, '"');
    sa_buf_json_escape(b, s, strlen(s));
    sa_buf_putc(b, '"');
}

const char *sa_buf_str(const sa_buf *b)
{
    return b->data ? b->data : "";
}

char *sa_buf_steal(sa_buf *b, size_t *len)
{
    if (b->oom) {
        sa_buf_free(b);
        return NULL;
    }
    char *p = b->data ? b->data : strdup("");
    if (len)
        *len = b->data ? b->len : 0;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void sa_buf_reset(sa_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

void sa_buf_free(sa_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

int sa_buf_array_grow(void *items, size_t *cap, size_t count, size_t elem_size, size_t first)
{
    if (count < *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : first;
    void *grown = realloc(*(void **)items, n * elem_size);
    if (!grown)
        return -1;
    *(void **)items = grown;
    *cap = n;
    return 0;
}

const char *sa_buf_name(const char *const *names, size_t n, size_t index)
{
    return index < n ? names[index] : "unknown";
}

int sa_buf_name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

int sa_buf_read_file(sa_buf *b, const char *path, size_t max, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t start = b->len, n;
    char chunk[16384];
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len - start + n > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            rc = -1;
            break;
        }
        sa_buf_append(b, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    if (rc == 0 && b->oom) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

void sa_buf_base64_append(sa_buf *out, const unsigned char *bytes, size_t n)
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

int sa_buf_base64_decode(const char *b64, sa_buf *out)
{
    size_t n = strlen(b64);
    if (n % 4 || n > (size_t)1 << 30)
        return -1;
    if (!n)
        return 0;
    char *at = sa_buf_extend(out, n / 4 * 3);
    if (!at)
        return -1;
    int m = EVP_DecodeBlock((unsigned char *)at, (const unsigned char *)b64, (int)n);
    if (m < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as bytes; drop what the '=' stood for. */
    size_t pad = (n && b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
    out->len -= n / 4 * 3 - ((size_t)m - pad);
    out->data[out->len] = '\0';
    return 0;
}
