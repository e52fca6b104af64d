/* cel.c: CEL literals and name-set tests (see sa_cel.h). */
#include "sa_cel.h"

#include <stdlib.h>
#include <string.h>

void sa_cel_string(sa_buf *out, const char *s)
{
    sa_buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sa_buf_printf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            sa_buf_printf(out, "\\x%02x", *p); /* CEL reads \xHH as that code point */
        else
            sa_buf_putc(out, (char)*p);
    }
    sa_buf_putc(out, '"');
}

void sa_cel_list(sa_buf *out, const sa_nameset *s)
{
    size_t n;
    const char **e = sa_nameset_entries(s, &n);
    sa_buf_putc(out, '[');
    for (size_t i = 0; e && i < n; i++) {
        if (i)
            sa_buf_puts(out, ", ");
        sa_cel_string(out, e[i]);
    }
    sa_buf_putc(out, ']');
    if (!e && n)
        out->oom = 1;
    free(e);
}

/* A character as a regex atom outside a class. */
static void regex_char(sa_buf *re, char c)
{
    if (strchr("\\.+*?()|[]{}^$", c))
        sa_buf_putc(re, '\\');
    sa_buf_putc(re, c);
}

/* A character inside a class: escaped where a class gives it a meaning. */
static void class_char(sa_buf *re, char c)
{
    if (strchr("\\]^-[", c))
        sa_buf_putc(re, '\\');
    sa_buf_putc(re, c);
}

/* One glob token at g as a regex atom; returns the character after it, or NULL (a bracket form
 * regexes cannot say, or an unclosed bracket: sa_nameset refuses those at load). */
static const char *glob_token(const char *g, sa_buf *re)
{
    if (*g == '*') {
        sa_buf_puts(re, "[\\s\\S]*");
        return g + 1;
    }
    if (*g == '?') {
        sa_buf_puts(re, "[\\s\\S]");
        return g + 1;
    }
    if (*g == '\\' && g[1]) {
        regex_char(re, g[1]);
        return g + 2;
    }
    if (*g != '[') {
        regex_char(re, *g);
        return g + 1;
    }
    /* Read as glibc's fnmatch reads it: '!' or '^' first negates, ']' first is a member, '\'
     * escapes, a-z is a range. */
    const char *q = g + 1;
    sa_buf_putc(re, '[');
    if (*q == '!' || *q == '^') {
        sa_buf_putc(re, '^');
        q++;
    }
    int first = 1;
    for (; *q && (first || *q != ']'); q++, first = 0) {
        if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '='))
            return NULL;
        char c = *q == '\\' && q[1] ? *++q : *q;
        if (q[1] == '-' && q[2] && q[2] != ']') {
            class_char(re, c);
            sa_buf_putc(re, '-');
            q += 2;
            class_char(re, *q == '\\' && q[1] ? *++q : *q);
        } else {
            class_char(re, c);
        }
    }
    if (*q != ']')
        return NULL;
    sa_buf_putc(re, ']');
    return q + 1;
}

/* glob as an anchored regex; with prefixes, one that accepts every prefix of a name the glob
 * matches: ^(?:t1(?:t2(?:t3)?)?)?$, since every token matches at least one character or, for
 * '*', none. */
static int glob_regex(const char *glob, int prefixes, sa_buf *re)
{
    size_t open = 0;
    sa_buf_putc(re, '^');
    for (const char *g = glob; *g;) {
        if (prefixes) {
            sa_buf_puts(re, "(?:");
            open++;
        }
        if (!(g = glob_token(g, re)))
            return -1;
    }
    for (size_t i = 0; i < open; i++)
        sa_buf_puts(re, ")?");
    sa_buf_putc(re, '$');
    return 0;
}

static int set_test(sa_buf *out, const sa_nameset *s, const char *expr, int prefixes, sa_buf *err)
{
    size_t n;
    const char **e = sa_nameset_entries(s, &n);
    if (!e) {
        sa_buf_puts(out, "false");
        if (n)
            out->oom = 1;
        return 0;
    }
    sa_buf exact = SA_BUF_INIT, re = SA_BUF_INIT;
    int rc = 0, nexact = 0, nglob = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!sa_nameset_is_glob(e[i])) {
            sa_buf_puts(&exact, nexact++ ? ", " : "[");
            sa_cel_string(&exact, e[i]);
            continue;
        }
        if (nglob++)
            sa_buf_putc(&re, '|');
        if (glob_regex(e[i], prefixes, &re) < 0) {
            sa_buf_printf(err,
                          "the glob \"%s\" uses a bracket form ([:class:], [.sym.], [=equiv=]) "
                          "that CEL's regexes cannot say",
                          e[i]);
            rc = -1;
        }
    }
    if (rc == 0) {
        sa_buf_putc(out, '(');
        if (nexact && prefixes)
            sa_buf_printf(out, "%s].exists(n, n.startsWith(%s))", sa_buf_str(&exact), expr);
        else if (nexact)
            sa_buf_printf(out, "%s in %s]", expr, sa_buf_str(&exact));
        if (nglob) {
            sa_buf_printf(out, "%s%s.matches(", nexact ? " || " : "", expr);
            sa_cel_string(out, sa_buf_str(&re));
            sa_buf_putc(out, ')');
        }
        sa_buf_putc(out, ')');
    }
    out->oom |= exact.oom | re.oom;
    sa_buf_free(&exact);
    sa_buf_free(&re);
    free(e);
    return rc;
}

int sa_cel_in_set(sa_buf *out, const sa_nameset *s, const char *expr, sa_buf *err)
{
    return set_test(out, s, expr, 0, err);
}

int sa_cel_prefix_in_set(sa_buf *out, const sa_nameset *s, const char *expr, sa_buf *err)
{
    return set_test(out, s, expr, 1, err);
}
