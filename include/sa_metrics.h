/* sa_metrics.h: the process's counters and gauges, rendered in the Prometheus text exposition
 * format 0.0.4 for GET /metrics on the plain-HTTP metrics listener.
 *
 * Every update is a relaxed C11 atomic on a fixed slot chosen by enum index, so the request path
 * never takes a lock, never allocates, and no client can create a series: label values come
 * from closed sets (the kinds we route plus "other", operations, decisions, rule ids, modes,
 * status codes). The few strings (certificate serial) are set on reload, off the request path.
 * A scrape reads each slot once; series are consistent within themselves (a histogram's _count
 * is the sum of the buckets it prints), not across each other. */
#ifndef SA_METRICS_H
#define SA_METRICS_H

#include <time.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_reload.h"

/* One AdmissionReview request answered on ep, after `seconds`. res is what the core said, or
 * NULL when the transport refused the request before the core saw it (413, 415): then it counts
 * with decision "error" and kind and operation "unknown". */
void sa_metrics_review(sa_endpoint ep, const sa_admit_result *res, double seconds);
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

/* What a scrape shows that other modules own. */
typedef struct sa_metrics_sources {
    const char *key_fingerprint;        /* the public key in force; NULL when none is loaded */
    const sa_reload_stats *reload;      /* the policy and key watcher's counters; NULL: no
                                         * watcher (--dev) */
    int ready;                          /* what /readyz answers: 1 ok, 0 503 */
} sa_metrics_sources;

/* Appends the whole exposition to out; now is the clock the expiring-soon gauge is computed
 * against. */
void sa_metrics_render(sa_buf *out, const sa_metrics_sources *src, time_t now);

/* Appends v as a label value: backslash, double quote and newline escaped as the format says. */
void sa_metrics_label_value(sa_buf *out, const char *v);

#endif
