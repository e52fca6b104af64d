/* sa_listener.h: the HTTP servers on libmicrohttpd: the HTTPS admission listener and the
 * plain-HTTP metrics listener, one module so both share routing, probes, limits and draining.
 *
 * Transport only: it routes paths, enforces methods, content type and the body limit, buffers
 * the body and hands it to the pure core (sa_admit.h) with the snapshot in force. HTTP errors
 * are for transport problems, each with a one-line reason and a warning in the log: 404 unknown
 * path, 405 wrong method, 413 body over the limit, 415 not JSON; the core adds 400 for a body
 * that is no AdmissionReview. A body over the limit is still read to its end (its first 64 KiB
 * kept), and answered with an AdmissionReview when its envelope reads (sa_admit_unread); only a
 * declared length over four times the limit is refused before it is read. GET /metrics answers with the page its caller supplies (sa_exposition.h), so
 * the server knows nothing of what the page shows. */
#ifndef SA_LISTENER_H
#define SA_LISTENER_H

#include <stddef.h>

#include "sa_buf.h"
#include "sa_state.h"
#include "sa_tls.h"

typedef enum sa_listener_role {
    SA_LISTENER_ADMISSION, /* HTTPS: POST /mutate, POST /validate, GET /healthz, GET /readyz */
    SA_LISTENER_METRICS    /* plain HTTP: GET /metrics, GET /healthz, GET /readyz */
} sa_listener_role;

/* Writes the page GET /metrics answers with; ready is what /readyz answers on the listener
 * right now (1 ok, 0 503). Called on a worker thread, one scrape at a time per thread. */
typedef void sa_listener_page_fn(void *arg, int ready, sa_buf *out);

typedef struct sa_listener_config {
    sa_listener_role role;
    const char *listen; /* "ADDR:PORT", "[v6]:PORT" or ":PORT"; port 0 picks a free one */
    sa_tls *tls;        /* admission: credentials and TLS policy (borrowed: must outlive
                                 * the server) */
    sa_listener_page_fn *metrics_page; /* metrics: writes GET /metrics (required) */
    void *metrics_page_arg;            /* its argument (borrowed: must outlive the server) */
    unsigned threads;    /* worker threads: one libmicrohttpd daemon each, with its own
                                 * listening socket on the port (the kernel spreads connections) */
    size_t max_body;     /* largest request body accepted, bytes */
    size_t max_buffered; /* all request bodies being buffered at once, bytes (0: no cap) */
    unsigned max_connections;
    unsigned idle_timeout;    /* seconds a kept-alive connection may sit idle between requests */
    unsigned request_timeout; /* seconds from a request's first byte until it must be whole
                                 * (0: no deadline); see sa_conns.h */
} sa_listener_config;

typedef struct sa_listener sa_listener;

/* Starts serving; requests read the snapshot in force from state (borrowed: it must outlive the
 * server). NULL with a one-line reason in err. */
sa_listener *sa_listener_start(const sa_listener_config *cfg, sa_state *state, char *err,
                               size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned sa_listener_port(const sa_listener *s);
/* Marks the server as shutting down while it still accepts and serves: /readyz answers 503 and
 * every response says Connection: close, so a kept-alive client moves to another replica after
 * its current request. sa_listener_stop does it too. Accepts NULL. */
void sa_listener_draining(sa_listener *s);
/* Graceful stop: stop accepting, close connections that are between requests, let the others
 * finish their request (at most drain_seconds), then close whatever is left and free the
 * server. Accepts NULL. */
void sa_listener_stop(sa_listener *s, unsigned drain_seconds);

#endif
