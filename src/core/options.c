/* options.c: flags with environment fallbacks (see sa_options.h). */
#include "sa_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set_value(const sa_option *o, const char *value, const char *from, char *err,
                     size_t errlen)
{
    char *end;
    unsigned long long v;
    switch (o->type) {
    case SA_OPT_STRING:
        *(const char **)o->target = value;
        return 0;
    case SA_OPT_LIST: {
        sa_option_list *l = o->target;
        if (l->n == SA_OPTION_LIST_MAX) {
            snprintf(err, errlen, "%s: at most %d values", from, SA_OPTION_LIST_MAX);
            return -1;
        }
        l->items[l->n++] = value;
        return 0;
    }
    case SA_OPT_FLAG:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0) {
            *(int *)o->target = 1;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || !*value) {
            *(int *)o->target = 0;
        } else {
            snprintf(err, errlen, "%s: expected true or false, got \"%s\"", from, value);
            return -1;
        }
        return 0;
    case SA_OPT_UINT:
    case SA_OPT_SIZE:
        errno = 0;
        if (!*value || *value == '-') {
            snprintf(err, errlen, "%s: expected a number, got \"%s\"", from, value);
            return -1;
        }
        v = strtoull(value, &end, 10);
        if (o->type == SA_OPT_SIZE && *end) {
            unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
            if (shift &&
                (end[1] == '\0' || strcmp(end + 1, "i") == 0 || strcmp(end + 1, "iB") == 0) &&
                v <= (~0ULL >> shift)) {
                v <<= shift;
                end += strlen(end);
            }
        }
        if (errno || *end || v < o->min || (o->max && v > o->max)) {
            if (o->max)
                snprintf(err, errlen, "%s: expected a number from %llu to %llu, got \"%s\"", from,
                         o->min, o->max, value);
            else
                snprintf(err, errlen, "%s: expected a number of at least %llu, got \"%s\"", from,
                         o->min, value);
            return -1;
        }
        if (o->type == SA_OPT_UINT)
            *(unsigned *)o->target = (unsigned)v;
        else
            *(size_t *)o->target = (size_t)v;
        return 0;
    }
    return -1;
}

void sa_options_help(const sa_option *opts, size_t nopts, const char *usage, FILE *out)
{
    fprintf(out, "%s\n", usage);
    if (nopts)
        fprintf(out, "\noptions (each also read from the environment variable shown):\n");
    for (size_t i = 0; i < nopts; i++) {
        const sa_option *o = &opts[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->value_name ? " " : "",
                 o->value_name ? o->value_name : "");
        fprintf(out, "  %-28s %s", left, o->help);
        if (o->env)
            fprintf(out, " [%s]", o->env);
        fputc('\n', out);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

int sa_options_parse(const sa_option *opts, size_t nopts, int argc, char **argv, const char **pos,
                     size_t maxpos, size_t *npos, FILE *out, const char *usage, char *err,
                     size_t errlen)
{
    *npos = 0;
    for (size_t i = 0; i < nopts; i++) {
        const char *value = opts[i].env ? getenv(opts[i].env) : NULL;
        if (value && set_value(&opts[i], value, opts[i].env, err, errlen) < 0)
            return -1;
    }
    int only_positional = 0;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (*npos >= maxpos) {
                snprintf(err, errlen, "unexpected argument \"%s\"", arg);
                return -1;
            }
            pos[(*npos)++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            sa_options_help(opts, nopts, usage, out);
            return 1;
        }
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        const sa_option *o = NULL;
        for (size_t i = 0; i < nopts && !o; i++)
            if (strlen(opts[i].name) == nlen && strncmp(opts[i].name, arg, nlen) == 0)
                o = &opts[i];
        if (!o) {
            snprintf(err, errlen, "unknown option \"%.*s\" (see --help)", (int)nlen, arg);
            return -1;
        }
        const char *value;
        if (o->type == SA_OPT_FLAG && !eq) {
            value = "true";
        } else if (eq) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            snprintf(err, errlen, "%s needs a value", o->name);
            return -1;
        }
        if (set_value(o, value, o->name, err, errlen) < 0)
            return -1;
    }
    return 0;
}
