/* sa_options.h: command-line flags, each also readable from an environment variable.
 *
 * A subcommand describes its flags in a table; sa_options_parse fills the targets from the
 * defaults, then the environment, then the command line (later wins), and collects positional
 * arguments. One table gives parsing, validation and --help, so they cannot disagree. */
#ifndef SA_OPTIONS_H
#define SA_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

typedef enum sa_option_type {
    SA_OPT_STRING, /* target: const char ** (points into argv or environ) */
    SA_OPT_UINT,   /* target: unsigned *, within [min, max] */
    SA_OPT_SIZE,   /* target: size_t *, accepts K/M/G suffixes (powers of 1024) */
    SA_OPT_FLAG,   /* target: int *, set to 1; from the environment "1"/"true" */
    SA_OPT_LIST    /* target: sa_option_list *, one item per use of the flag */
} sa_option_type;

/* The values of a repeatable flag (--group a --group b), pointing into argv or environ. */
#define SA_OPTION_LIST_MAX 64
typedef struct sa_option_list {
    const char *items[SA_OPTION_LIST_MAX];
    size_t n;
} sa_option_list;

typedef struct sa_option {
    const char *name; /* "--listen" */
    const char *env;  /* "SA_LISTEN", or NULL */
    sa_option_type type;
    void *target;
    const char *value_name; /* "ADDR:PORT" in --help */
    const char *help;
    unsigned long long min, max; /* numeric bounds; max 0 = no bound */
} sa_option;

/* Parses argv (without the subcommand itself). Positional arguments go to pos (at most maxpos).
 * Returns 0; 1 when --help was asked (help printed to out); -1 with a reason in err. */
int sa_options_parse(const sa_option *opts, size_t nopts, int argc, char **argv, const char **pos,
                     size_t maxpos, size_t *npos, FILE *out, const char *usage, char *err,
                     size_t errlen);
void sa_options_help(const sa_option *opts, size_t nopts, const char *usage, FILE *out);

#endif
