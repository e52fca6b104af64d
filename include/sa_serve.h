/* sa_serve.h: the serve command: its flags, then the life of a server on a loaded snapshot:
 * start the watchers and listeners, say so, wait for a signal (SIGHUP reloads), drain and stop.
 *
 * main.c loads what is served (the files, or --dev's in-memory PKI) between the two calls, so
 * that loading stays with the other commands' loading. */
#ifndef SA_SERVE_H
#define SA_SERVE_H

#include <stddef.h>

#include "sa_buf.h"
#include "sa_state.h"

typedef struct sa_serve_config {
    const char *listen;
    const char *tls_cert;
    const char *tls_key;
    const char *policy;
    const char *public_key;
    unsigned threads;
    size_t max_body;
    size_t max_buffered;
    unsigned max_connections;
    unsigned idle_timeout;
    unsigned request_timeout;
    unsigned shutdown_delay;
    unsigned drain_timeout;
    unsigned reload_interval;
    const char *metrics_listen;
    const char *tls_min_version;
    const char *client_ca;
    const char *client_cn;
    const char *log_format;
    const char *log_level;
    int dev;
    const char *dev_ca_out;
} sa_serve_config;


/* Fills cfg from the flags and their environment variables, sets up the log, and blocks the
 * signals serve waits for (before any thread starts, so every thread inherits the mask).
 * 0: go on; -1: the command ends now with *status (0 after --help, 2 on bad flags, said on
 * stderr). */
int sa_serve_configure(sa_serve_config *cfg, int argc, char **argv, int *status);
/* Serves snap (its reference is taken) until SIGTERM or SIGINT, then drains and stops.
 * cert and key: --dev's serving pair in PEM, empty otherwise; they are wiped and freed at once.
 * Returns the exit status: 0 after a clean stop, 1 when something could not start. */
int sa_serve_run(const sa_serve_config *cfg, sa_snapshot *snap, sa_buf *cert, sa_buf *key);

#endif
