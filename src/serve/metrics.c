/* metrics.c: lock-free counters and the Prometheus text exposition (see sa_metrics.h).
 *
 * Atomics rather than per-thread slots: the pool is a handful of threads, and one relaxed
 * fetch_add per counter costs far less than the TLS record it rides on, while a scrape stays a
 * plain read of each slot. */
#include "sa_metrics.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "session_admission_"

/* Kubernetes' operations, a closed set no other module names; "other" for the unexpected. */
static const char *const operations[] = {"CREATE",  "UPDATE", "DELETE",
                                         "CONNECT", "other",  "unknown"};
#define OP_COUNT (sizeof operations / sizeof operations[0])
/* The statuses the server answers with; anything else lands in the last slot. */
static const unsigned codes[] = {400, 403, 404, 405, 413, 415, 500, 503, 0};
static const char *const code_names[] = {"400", "403", "404", "405",  "413",
                                         "415", "500", "503", "other"};
#define CODE_COUNT (sizeof codes / sizeof codes[0])
/* Seconds; sub-millisecond first, since a review is judged in microseconds when all is well. */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define BUCKET_COUNT (sizeof bounds / sizeof bounds[0])

/* Static storage: every atomic starts at zero, which is a valid state. */
static struct {
    atomic_ullong requests[SA_METRICS_ENDPOINTS_MAX][SA_METRICS_KINDS_MAX][OP_COUNT]
                          [SA_METRICS_DECISIONS_MAX];
    atomic_ullong buckets[SA_METRICS_ENDPOINTS_MAX][BUCKET_COUNT + 1]; /* last: above 10 s */
    atomic_ullong duration_ns[SA_METRICS_ENDPOINTS_MAX];
    atomic_ullong violations[SA_METRICS_RULES_MAX][SA_METRICS_MODES_MAX];
    atomic_ullong http_errors[CODE_COUNT];
    atomic_ullong cert_loads[2]; /* reloads: [0] taken, [1] refused */
    atomic_llong cert_loaded_at;
    atomic_llong in_flight;
    atomic_llong connections;
    atomic_ullong client_cert_rejected;
    atomic_ullong connections_refused;
    atomic_ullong request_timeouts;
    atomic_llong cert_not_after;
} m;

/* The serial is a string: set on reload, read on scrape, never touched by a request. */
static pthread_mutex_t cert_lock = PTHREAD_MUTEX_INITIALIZER;
static char cert_serial[80];

static size_t index_of(const char *const *names, size_t n, const char *v)
{
    if (!v || !*v)
        return n - 1; /* "unknown" */
    for (size_t i = 0; i + 2 < n; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return n - 2; /* "other" */
}

static void inc(atomic_ullong *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void sa_metrics_review(const sa_metrics_review_sample *r)
{
    unsigned ep = r->endpoint;
    if (ep >= SA_METRICS_ENDPOINTS_MAX || r->kind >= SA_METRICS_KINDS_MAX ||
        r->decision >= SA_METRICS_DECISIONS_MAX)
        return;
    size_t o = index_of(operations, OP_COUNT, r->operation);
    inc(&m.requests[ep][r->kind][o][r->decision]);
    size_t b = 0;
    while (b < BUCKET_COUNT && r->seconds > bounds[b])
        b++;
    inc(&m.buckets[ep][b]);
    atomic_fetch_add_explicit(&m.duration_ns[ep],
                              r->seconds > 0 ? (unsigned long long)(r->seconds * 1e9 + 0.5) : 0,
                              memory_order_relaxed);
    for (unsigned rule = 0; rule < SA_METRICS_RULES_MAX; rule++)
        for (unsigned mode = 0; (r->rules_hit & (1u << rule)) && mode < SA_METRICS_MODES_MAX;
             mode++)
            if (r->modes_hit[rule] & (1u << mode))
                inc(&m.violations[rule][mode]);
}

void sa_metrics_http_error(unsigned status)
{
    size_t i = 0;
    while (i + 1 < CODE_COUNT && codes[i] != status)
        i++;
    inc(&m.http_errors[i]);
}

void sa_metrics_in_flight(int delta)
{
    atomic_fetch_add_explicit(&m.in_flight, delta, memory_order_relaxed);
}

void sa_metrics_connections(int delta)
{
    atomic_fetch_add_explicit(&m.connections, delta, memory_order_relaxed);
}

void sa_metrics_connection_refused(void)
{
    inc(&m.connections_refused);
}

void sa_metrics_request_timeout(void)
{
    inc(&m.request_timeouts);
}

void sa_metrics_client_cert_rejected(void)
{
    inc(&m.client_cert_rejected);
}

void sa_metrics_certificate_loaded(int reloaded, time_t now, time_t not_after, const char *serial)
{
    if (reloaded)
        inc(&m.cert_loads[0]);
    pthread_mutex_lock(&cert_lock);
    snprintf(cert_serial, sizeof cert_serial, "%s", serial);
    atomic_store_explicit(&m.cert_not_after, (long long)not_after, memory_order_relaxed);
    atomic_store_explicit(&m.cert_loaded_at, (long long)now, memory_order_relaxed);
    pthread_mutex_unlock(&cert_lock);
}

void sa_metrics_certificate_refused(void)
{
    inc(&m.cert_loads[1]);
}

/* ---- exposition ---------------------------------------------------------------------- */

void sa_metrics_label_value(sa_buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            sa_buf_puts(out, "\\\\");
        else if (*v == '"')
            sa_buf_puts(out, "\\\"");
        else if (*v == '\n')
            sa_buf_puts(out, "\\n");
        else
            sa_buf_putc(out, *v);
    }
}

static void family(sa_buf *out, const char *name, const char *type, const char *help)
{
    sa_buf_printf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

/* A sample's name and labels, up to the space before the value; labels are NULL-terminated
 * key/value pairs. */
static void series(sa_buf *out, const char *name, const char *const *labels)
{
    sa_buf_printf(out, PREFIX "%s", name);
    for (size_t i = 0; labels && labels[i]; i += 2) {
        sa_buf_printf(out, "%s%s=\"", i ? "," : "{", labels[i]);
        sa_metrics_label_value(out, labels[i + 1]);
        sa_buf_putc(out, '"');
        if (!labels[i + 2])
            sa_buf_putc(out, '}');
    }
}

static void counter(sa_buf *out, const char *name, const char *const *labels, unsigned long long v)
{
    series(out, name, labels);
    sa_buf_printf(out, " %llu\n", v);
}

static void gauge(sa_buf *out, const char *name, const char *const *labels, long long v)
{
    series(out, name, labels);
    sa_buf_printf(out, " %lld\n", v);
}

static unsigned long long get(atomic_ullong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* How many of a label set's values have slots: all of them unless over the bound. */
static unsigned slots(const sa_metrics_labels *l, unsigned max)
{
    return l->count < max ? l->count : max;
}

static void render_requests(sa_buf *out, const sa_metrics_page *page)
{
    unsigned ne = slots(&page->endpoints, SA_METRICS_ENDPOINTS_MAX);
    unsigned nk = slots(&page->kinds, SA_METRICS_KINDS_MAX);
    unsigned nd = slots(&page->decisions, SA_METRICS_DECISIONS_MAX);
    family(out, "requests_total", "counter",
           "AdmissionReview requests answered, by endpoint, object kind, operation and decision.");
    for (unsigned e = 0; e < ne; e++)
        for (unsigned k = 0; k < nk; k++)
            for (size_t o = 0; o < OP_COUNT; o++)
                for (unsigned d = 0; d < nd; d++) {
                    unsigned long long v = get(&m.requests[e][k][o][d]);
                    if (!v)
                        continue; /* hundreds of combinations; only the ones seen are shown */
                    const char *l[] = {"endpoint",  page->endpoints.names[e],
                                       "kind",      page->kinds.names[k],
                                       "operation", operations[o],
                                       "decision",  page->decisions.names[d],
                                       NULL};
                    counter(out, "requests_total", l, v);
                }

    family(out, "request_duration_seconds", "histogram",
           "Time from the request's headers to its answer, by endpoint.");
    for (unsigned e = 0; e < ne; e++) {
        const char *ep = page->endpoints.names[e];
        unsigned long long cumulative = 0;
        char le[32];
        for (size_t b = 0; b <= BUCKET_COUNT; b++) {
            cumulative += get(&m.buckets[e][b]);
            if (b < BUCKET_COUNT)
                snprintf(le, sizeof le, "%g", bounds[b]);
            else
                snprintf(le, sizeof le, "+Inf");
            const char *l[] = {"endpoint", ep, "le", le, NULL};
            counter(out, "request_duration_seconds_bucket", l, cumulative);
        }
        const char *l[] = {"endpoint", ep, NULL};
        series(out, "request_duration_seconds_sum", l);
        sa_buf_printf(out, " %.9f\n", (double)get(&m.duration_ns[e]) / 1e9);
        counter(out, "request_duration_seconds_count", l, cumulative);
    }

    family(out, "violations_total", "counter",
           "Reviews in which a rule fired, by rule id and the mode it was applied in.");
    for (unsigned r = 0; r < slots(&page->rules, SA_METRICS_RULES_MAX); r++)
        for (unsigned mode = 0; mode < slots(&page->modes, SA_METRICS_MODES_MAX); mode++) {
            const char *l[] = {"rule", page->rules.names[r], "mode", page->modes.names[mode], NULL};
            counter(out, "violations_total", l, get(&m.violations[r][mode]));
        }

    family(out, "http_errors_total", "counter",
           "Answers on the admission listener with a status other than 200, by status code.");
    for (size_t c = 0; c < CODE_COUNT; c++) {
        const char *l[] = {"code", code_names[c], NULL};
        counter(out, "http_errors_total", l, get(&m.http_errors[c]));
    }
}

static void render_loads(sa_buf *out, const sa_metrics_page *page, time_t now)
{
    char serial[sizeof cert_serial];
    pthread_mutex_lock(&cert_lock);
    memcpy(serial, cert_serial, sizeof serial);
    long long not_after = atomic_load_explicit(&m.cert_not_after, memory_order_relaxed);
    long long cert_at = atomic_load_explicit(&m.cert_loaded_at, memory_order_relaxed);
    pthread_mutex_unlock(&cert_lock);

    /* The watcher counts policy and key separately but loads them into one snapshot. */
    family(out, "reloads_total", "counter",
           "Changes on disk of the policy, public key or serving certificate, by whether they were "
           "taken (success) or refused with the last good one kept (failure).");
    for (unsigned k = 0; k < page->reload_targets.count; k++) {
        const char *ok[] = {"target", page->reload_targets.names[k], "result", "success", NULL};
        const char *bad[] = {"target", page->reload_targets.names[k], "result", "failure", NULL};
        counter(out, "reloads_total", ok, page->reload_success ? page->reload_success[k] : 0);
        counter(out, "reloads_total", bad, page->reload_failure ? page->reload_failure[k] : 0);
    }
    const char *cert_ok[] = {"target", "certificate", "result", "success", NULL};
    const char *cert_bad[] = {"target", "certificate", "result", "failure", NULL};
    counter(out, "reloads_total", cert_ok, get(&m.cert_loads[0]));
    counter(out, "reloads_total", cert_bad, get(&m.cert_loads[1]));
    family(out, "last_successful_load_timestamp_seconds", "gauge",
           "When what is in force was loaded: the policy and public key snapshot, or the serving "
           "certificate (0: not watched).");
    const char *snap[] = {"target", "policy_and_key", NULL};
    const char *cert[] = {"target", "certificate", NULL};
    gauge(out, "last_successful_load_timestamp_seconds", snap, page->last_reload_time);
    gauge(out, "last_successful_load_timestamp_seconds", cert, cert_at);

    family(
        out, "public_key_info", "gauge",
        "The control plane public key in force, by the SHA-256 fingerprint of its SubjectPublicKeyInfo.");
    if (page->key_fingerprint) {
        const char *l[] = {"fingerprint", page->key_fingerprint, NULL};
        gauge(out, "public_key_info", l, 1);
    }

    family(out, "tls_certificate_expiry_timestamp_seconds", "gauge",
           "notAfter of the serving certificate in force.");
    gauge(out, "tls_certificate_expiry_timestamp_seconds", NULL, not_after);
    family(out, "tls_certificate_expiring_soon", "gauge",
           "1 when the serving certificate in force expires within 7 days.");
    gauge(out, "tls_certificate_expiring_soon", NULL,
          not_after && not_after - (long long)now < SA_CERT_EXPIRY_WARNING_SECONDS);
    family(out, "tls_certificate_info", "gauge",
           "The serving certificate in force, by serial number.");
    if (*serial) {
        const char *l[] = {"serial", serial, NULL};
        gauge(out, "tls_certificate_info", l, 1);
    }
    family(
        out, "client_certificate_rejections_total", "counter",
        "TLS handshakes refused because the client certificate failed --client-ca or --client-cn.");
    counter(out, "client_certificate_rejections_total", NULL, get(&m.client_cert_rejected));
    family(out, "connections_refused_total", "counter",
           "Connections closed on arrival because --max-connections were open.");
    counter(out, "connections_refused_total", NULL, get(&m.connections_refused));
    family(out, "request_timeouts_total", "counter",
           "Connections cut because a request (handshake, headers and body) did not arrive whole "
           "within --request-timeout of its first byte, on either listener.");
    counter(out, "request_timeouts_total", NULL, get(&m.request_timeouts));
}

void sa_metrics_render(sa_buf *out, const sa_metrics_page *page, time_t now)
{
    render_requests(out, page);
    render_loads(out, page, now);
    family(out, "ready", "gauge",
           "1 when /readyz answers ok: a policy and public key are loaded and "
           "the server is not shutting down.");
    gauge(out, "ready", NULL, page->ready);
    family(out, "in_flight_requests", "gauge",
           "Requests read and not yet answered on the admission listener.");
    gauge(out, "in_flight_requests", NULL,
          atomic_load_explicit(&m.in_flight, memory_order_relaxed));
    family(out, "open_connections", "gauge", "Connections open on the admission listener.");
    gauge(out, "open_connections", NULL,
          atomic_load_explicit(&m.connections, memory_order_relaxed));
    family(out, "build_info", "gauge",
           "The version of session-admission and the libraries it runs on.");
    const char *l[] = {"version",
                       SA_VERSION,
                       "libmicrohttpd",
                       MHD_get_version(),
                       "gnutls",
                       gnutls_check_version(NULL),
                       "openssl",
                       OpenSSL_version(OPENSSL_VERSION_STRING),
                       NULL};
    gauge(out, "build_info", l, 1);
}
