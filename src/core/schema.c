/* schema.c: value checks on a YAML tree, and sections that fall back to defaults (see
 * sa_schema.h). Every message is "PATH: expected WHAT, found VALUE" or names the key at fault,
 * at the position of the node concerned. */
#include "sa_schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_buf.h"

const char *sa_schema_found(const sa_yaml_node *n, char *buf, size_t size)
{
    if (n->type == SA_YAML_MAP)
        return "a mapping";
    if (n->type == SA_YAML_LIST)
        return "a list";
    if (sa_yaml_is_null(n))
        return "null";
    size_t len = strlen(n->text), shown = len > 60 ? 57 : len, j = 0;
    char quote = n->plain ? '\'' : '"';
    buf[j++] = quote;
    for (size_t i = 0; i < shown && j + 5 < size; i++) {
        unsigned char c = (unsigned char)n->text[i];
        buf[j++] = (char)(c >= 0x20 && c != 0x7f ? c : '?');
    }
    if (shown < len && j + 5 < size) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j++] = quote;
    buf[j] = '\0';
    return buf;
}

void sa_schema_expected(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                        const char *what)
{
    if (n->reported)
        return;
    char buf[SA_SCHEMA_FOUND_LEN];
    SA_YAML_NODE_ERROR(e, n, "%s: expected %s, found %s", path, what,
                       sa_schema_found(n, buf, sizeof buf));
}

const char *sa_schema_want_string(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                                  const char *what)
{
    if (n->type == SA_YAML_SCALAR && !sa_yaml_is_null(n))
        return n->text;
    sa_schema_expected(e, n, path, what);
    return NULL;
}

const char *sa_schema_want_name(sa_yaml_errors *e, const sa_yaml_node *n, const char *path)
{
    const char *s = sa_schema_want_string(e, n, path, "a non-empty string");
    if (s && !*s) {
        sa_schema_expected(e, n, path, "a non-empty string");
        return NULL;
    }
    return s;
}

char *sa_schema_dup_name(sa_yaml_errors *e, const sa_yaml_node *n, const char *path)
{
    const char *s = sa_schema_want_name(e, n, path);
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        SA_YAML_NODE_ERROR(e, n, "out of memory");
    return copy;
}

const char *sa_schema_want_exact(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                                 const char *why)
{
    const char *s = sa_schema_want_name(e, n, path);
    if (s && strpbrk(s, "*?[")) {
        char buf[SA_SCHEMA_FOUND_LEN];
        SA_YAML_NODE_ERROR(e, n, "%s: expected an exact name (%s), found the pattern %s", path, why,
                           sa_schema_found(n, buf, sizeof buf));
        return NULL;
    }
    return s;
}

int sa_schema_want_bool(sa_yaml_errors *e, const sa_yaml_node *n, const char *path, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};
    if (n->type == SA_YAML_SCALAR && n->plain)
        for (size_t i = 0; i < 3; i++) {
            if (!strcmp(n->text, yes[i]) || !strcmp(n->text, no[i])) {
                *out = !strcmp(n->text, yes[i]);
                return 0;
            }
        }
    sa_schema_expected(e, n, path, "true or false");
    return -1;
}

int sa_schema_want_int(sa_yaml_errors *e, const sa_yaml_node *n, const char *path, long min,
                       long max, long *out)
{
    char *end = NULL;
    long v = n->type == SA_YAML_SCALAR && n->plain && isdigit((unsigned char)*n->text)
                 ? strtol(n->text, &end, 10)
                 : 0;
    if (!end || *end || v < min || v > max) {
        char what[96];
        snprintf(what, sizeof what, "an integer from %ld to %ld", min, max);
        sa_schema_expected(e, n, path, what);
        return -1;
    }
    *out = v;
    return 0;
}

/* "a, b or c": names[] (NULL entries skipped) as a message lists the choices. */
static void list_choices(sa_buf *out, const char *const names[], size_t count)
{
    size_t total = 0, listed = 0;
    for (size_t i = 0; i < count; i++)
        total += names[i] != NULL;
    for (size_t i = 0; i < count; i++)
        if (names[i]) {
            const char *sep = !listed ? "" : listed + 1 == total ? " or " : ", ";
            sa_buf_printf(out, "%s%s", sep, names[i]);
            listed++;
        }
}

int sa_schema_want_enum(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                        const char *const names[], size_t count)
{
    if (n->type == SA_YAML_SCALAR && !sa_yaml_is_null(n))
        for (size_t i = 0; i < count; i++)
            if (names[i] && !strcmp(n->text, names[i]))
                return (int)i;
    sa_buf what = SA_BUF_INIT;
    list_choices(&what, names, count);
    sa_schema_expected(e, n, path, sa_buf_str(&what));
    sa_buf_free(&what);
    return -1;
}

int sa_schema_want_type(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                        sa_yaml_type type)
{
    if (n->type == type && !(type == SA_YAML_SCALAR && sa_yaml_is_null(n)))
        return 0;
    sa_schema_expected(e, n, path,
                       type == SA_YAML_MAP    ? "a mapping"
                       : type == SA_YAML_LIST ? "a list"
                                              : "a string");
    return -1;
}

void sa_schema_known_keys(sa_yaml_errors *e, const sa_yaml_node *map, const char *where,
                          const char *const keys[])
{
    for (size_t i = 0; i < map->n; i++) {
        const sa_yaml_node *k = map->items[2 * i];
        if (k->type != SA_YAML_SCALAR)
            continue; /* reported by check_keys_unique */
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], k->text))
            j++;
        if (keys[j])
            continue;
        sa_buf list = SA_BUF_INIT;
        for (j = 0; keys[j]; j++)
            sa_buf_printf(&list, "%s%s", j ? ", " : "", keys[j]);
        char buf[SA_SCHEMA_FOUND_LEN];
        SA_YAML_NODE_ERROR(e, k, "unknown key %s in %s (expected one of: %s)",
                           sa_schema_found(k, buf, sizeof buf), where, sa_buf_str(&list));
        sa_buf_free(&list);
    }
}

/* ---- sections with defaults -------------------------------------------------------------- */

void sa_schema_path(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, SA_SCHEMA_PATH_LEN, fmt, ap);
    va_end(ap);
}

void sa_schema_join_path(char *out, const char *base, const char *key)
{
    sa_schema_path(out, "%s%s%s", base, *base ? "." : "", key);
}

const sa_yaml_node *sa_schema_field(const sa_schema_section *s, const char *key, char *path)
{
    sa_schema_join_path(path, s->path, key);
    const sa_yaml_node *n = sa_yaml_member(s->user, key);
    return n ? n : sa_yaml_member(s->def, key);
}

void sa_schema_subsection(sa_yaml_errors *e, const sa_schema_section *s, const char *key,
                          const char *const keys[], sa_schema_section *out)
{
    sa_schema_join_path(out->path, s->path, key);
    out->user = sa_yaml_member(s->user, key);
    out->def = sa_yaml_member(s->def, key);
    if (out->user && sa_schema_want_type(e, out->user, out->path, SA_YAML_MAP) < 0)
        out->user = NULL;
    if (out->user)
        sa_schema_known_keys(e, out->user, out->path, keys);
}

sa_nameset *sa_schema_names(sa_yaml_errors *e, const sa_yaml_node *n, const char *path,
                            sa_schema_names_mode mode, int allow_scalar, const char *why_exact)
{
    sa_nameset *set = sa_nameset_new();
    if (!set) {
        SA_YAML_NODE_ERROR(e, n, "out of memory");
        return NULL;
    }
    const sa_yaml_node *const *items = &n;
    size_t count = 1;
    if (n->type == SA_YAML_LIST) {
        items = (const sa_yaml_node *const *)n->items;
        count = n->n;
    } else if (!allow_scalar || n->type != SA_YAML_SCALAR) {
        sa_schema_expected(e, n, path,
                           allow_scalar ? "a string or a list of strings" : "a list of strings");
        return set;
    }
    for (size_t i = 0; i < count; i++) {
        char ipath[SA_SCHEMA_PATH_LEN];
        sa_schema_path(ipath, "%s[%zu]", path, i);
        const char *s = mode == SA_SCHEMA_NAMES_EXACT
                            ? sa_schema_want_exact(e, items[i], ipath, why_exact)
                            : sa_schema_want_name(e, items[i], ipath);
        if (!s)
            continue;
        char buf[SA_SCHEMA_FOUND_LEN];
        switch (sa_nameset_add(set, s)) {
        case SA_NAMESET_ADDED:
            break;
        case SA_NAMESET_DUPLICATE:
            SA_YAML_NODE_ERROR(e, items[i], "%s: duplicate entry %s", ipath,
                               sa_schema_found(items[i], buf, sizeof buf));
            break;
        case SA_NAMESET_NOMEM:
            SA_YAML_NODE_ERROR(e, items[i], "out of memory");
            break;
        case SA_NAMESET_BAD_GLOB:
            SA_YAML_NODE_ERROR(e, items[i],
                               "%s: expected a valid glob, found %s (unclosed '[' or a "
                               "trailing '\\')",
                               ipath, sa_schema_found(items[i], buf, sizeof buf));
            break;
        }
    }
    return set;
}

sa_nameset *sa_schema_names_field(sa_yaml_errors *e, const sa_schema_section *s, const char *key,
                                  sa_schema_names_mode mode, const char *why_exact)
{
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *n = sa_schema_field(s, key, path);
    return sa_schema_names(e, n, path, mode, 0, why_exact);
}

/* ---- rows -------------------------------------------------------------------------------- */

const sa_yaml_node *sa_schema_required(sa_yaml_errors *e, const sa_yaml_node *row,
                                       const char *rpath, const char *key, const char *what,
                                       char *path)
{
    sa_schema_join_path(path, rpath, key);
    const sa_yaml_node *n = sa_yaml_member(row, key);
    if (!n)
        SA_YAML_NODE_ERROR(e, row, "%s: missing key '%s' (expected %s)", rpath, key, what);
    return n;
}

const sa_yaml_node *sa_schema_required_list(sa_yaml_errors *e, const sa_yaml_node *row,
                                            const char *rpath, const char *key, const char *what,
                                            char *path)
{
    const sa_yaml_node *n = sa_schema_required(e, row, rpath, key, what, path);
    return n && sa_schema_want_type(e, n, path, SA_YAML_LIST) == 0 ? n : NULL;
}
