/* sa_metrics.h: the process's counters and gauges, rendered in the Prometheus text exposition
 * format 0.0.4 for GET /metrics on the plain-HTTP metrics listener (sa_exposition.h builds the
 * page).
 *
 * Every update is a relaxed C11 atomic on a fixed slot chosen by index, so the request path
 * never takes a lock, never allocates, and no client can create a series: label values come
 * from closed sets, each named by its owner (the kinds the admission core routes plus "other",
 * endpoints, decisions, rule ids, modes) or here (operations, status codes). The few strings (certificate serial) are set on reload, off the request path.
 * A scrape reads each slot once; series are consistent within themselves (a histogram's _count
 * is the sum of the buckets it prints), not across each other. */
#ifndef SA_METRICS_H
#define SA_METRICS_H

#include <time.h>

#include "sa_buf.h"

/* A sink: it includes nothing of the modules that push into it. The label sets they own
 * (endpoints, kinds, decisions, rules, modes) arrive as indexes here and as names at
 * sa_metrics_render; these bound them, and an index past its bound is not counted. */
#define SA_METRICS_ENDPOINTS_MAX 4
#define SA_METRICS_KINDS_MAX 16
#define SA_METRICS_DECISIONS_MAX 8
#define SA_METRICS_RULES_MAX 32 /* a bit each in rules_hit */
#define SA_METRICS_MODES_MAX 8

/* One AdmissionReview request answered. */
typedef struct sa_metrics_review_sample {
    unsigned endpoint;
    unsigned kind;
    const char *operation; /* NULL or "": "unknown"; one Kubernetes does not send: "other" */
    unsigned decision;
    unsigned rules_hit;        /* bit (1u << rule) per rule that fired */
    const unsigned *modes_hit; /* per rule that fired: bit (1u << mode) per mode it fired in */
    double seconds;            /* from the request's headers to its answer */
} sa_metrics_review_sample;

void sa_metrics_review(const sa_metrics_review_sample *r);
/* Any answer on the admission listener whose status is not 200. */
void sa_metrics_http_error(unsigned status);
void sa_metrics_in_flight(int delta);
void sa_metrics_connections(int delta);
/* A connection was closed on arrival because --max-connections were open. */
void sa_metrics_connection_refused(void);
/* A connection was cut because its request did not arrive whole within --request-timeout. */
void sa_metrics_request_timeout(void);
/* A client certificate failed verification (--client-ca, --client-cn). */
void sa_metrics_client_cert_rejected(void);

/* A serving certificate was put in force at `now` (at startup, or a reload when reloaded is
 * set), with its notAfter and serial (upper-case hex, copied). */
void sa_metrics_certificate_loaded(int reloaded, time_t now, time_t not_after, const char *serial);
/* A changed certificate or key on disk was refused; the one in force keeps serving. */
void sa_metrics_certificate_refused(void);

/* A certificate this close to its notAfter is "expiring soon" (metric and log warning). */
#define SA_CERT_EXPIRY_WARNING_SECONDS (7 * 24 * 3600)

/* A closed set of label values, by index (borrowed). */
typedef struct sa_metrics_labels {
    const char *const *names;
    unsigned count;
} sa_metrics_labels;

/* What a scrape shows that other modules own: the names of the indexes counted, and values
 * read at scrape time. */
typedef struct sa_metrics_page {
    sa_metrics_labels endpoints, kinds, decisions, rules, modes;
    sa_metrics_labels reload_targets;    /* the files the policy and key watcher reloads */
    const unsigned long *reload_success; /* per reload target; NULL: no watcher (--dev), 0 */
    const unsigned long *reload_failure;
    long long last_reload_time;  /* the snapshot in force was loaded then; 0: no
                                             * watcher */
    const char *key_fingerprint; /* the public key in force; NULL when none is loaded */
    int ready;                   /* what /readyz answers: 1 ok, 0 503 */
} sa_metrics_page;

/* Appends the whole exposition to out; now is the clock the expiring-soon gauge is computed
 * against. */
void sa_metrics_render(sa_buf *out, const sa_metrics_page *page, time_t now);

/* Appends v as a label value: backslash, double quote and newline escaped as the format says. */
void sa_metrics_label_value(sa_buf *out, const char *v);

#endif
