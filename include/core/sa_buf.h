/* sa_buf.h: a growable byte buffer, the one way this project builds strings.
 *
 * The buffer owns its bytes; data is always NUL-terminated so it can be used as a C string.
 * On allocation failure the buffer remembers it (oom=1) and ignores further appends, so callers
 * can append freely and check once at the end. */
#ifndef SA_BUF_H
#define SA_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sa_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    int oom; /* an allocation failed: contents are incomplete */
} sa_buf;

#define SA_BUF_INIT   \
    {                 \
        NULL, 0, 0, 0 \
    }

void sa_buf_append(sa_buf *b, const char *s, size_t n);
/* Makes room for exactly n more bytes when there is not room already (no doubling: for a size
 * known in advance, such as a request's Content-Length). Returns 0, or -1 and sets oom. */
int sa_buf_reserve(sa_buf *b, size_t n);
/* Grows the buffer by n bytes and returns where they start, for the caller to fill;
 * NULL (and oom set) if it cannot. */
char *sa_buf_extend(sa_buf *b, size_t n);
void sa_buf_puts(sa_buf *b, const char *s);
void sa_buf_putc(sa_buf *b, char c);
void sa_buf_printf(sa_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sa_buf_vprintf(sa_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The byte a string parsed from JSON holds where the text had the escape \u0000 (sa_json_parse):
 * a real NUL would end the C string, and valid UTF-8 never contains 0xFF, so the mark cannot be
 * mistaken for text. The JSON writers below write it back as \u0000. */
#define SA_BUF_NUL_MARK '\xff'

/* Appends n bytes of s escaped for the inside of a JSON string (no quotes); SA_BUF_NUL_MARK
 * becomes \u0000. */
void sa_buf_json_escape(sa_buf *b, const char *s, size_t n);
/* Appends s as a JSON string literal, quotes included. */
void sa_buf_json_string(sa_buf *b, const char *s);
/* The bytes as a C string ("" when empty); valid until the next append or free. */
const char *sa_buf_str(const sa_buf *b);
/* Hands the bytes to the caller (free() them) and resets the buffer; NULL if oom. */
char *sa_buf_steal(sa_buf *b, size_t *len);
/* Appends the whole file at path, refusing one larger than max bytes. Returns 0, or -1 with a
 * one-line reason in err. */
int sa_buf_read_file(sa_buf *b, const char *path, size_t max, char *err, size_t errlen);
void sa_buf_reset(sa_buf *b);
void sa_buf_free(sa_buf *b);

/* Makes room for one more element in a growable array *items of *cap elements, count in use:
 * doubles it (from first) when full. Returns 0, or -1 when out of memory (nothing changed). */
int sa_buf_array_grow(void *items, size_t *cap, size_t count, size_t elem_size, size_t first);

/* An enum's names, as a table names[0..n-1] indexed by the enum's values: the one way an enum
 * is spelt in and out (rule ids, modes, scan verdicts), so a lookup cannot drift from its table.
 * sa_buf_name: names[index], or "unknown" when index is out of range (a value no table holds).
 * sa_buf_name_index: the index of name in the table, or -1 when it is none of them. */
const char *sa_buf_name(const char *const *names, size_t n, size_t index);
int sa_buf_name_index(const char *const *names, size_t n, const char *name);

/* Base64 (standard alphabet, padded, no line breaks) of n bytes, appended to out. */
void sa_buf_base64_append(sa_buf *out, const unsigned char *bytes, size_t n);
/* Decodes padded standard base64 (no line breaks), appending the bytes to out. -1 if it is not. */
int sa_buf_base64_decode(const char *b64, sa_buf *out);

#endif
