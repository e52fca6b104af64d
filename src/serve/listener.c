/* listener.c: the admission (HTTPS) and metrics (plain HTTP) listeners (see sa_listener.h).
 *
 * One request path for both roles: a role only decides which paths exist, whether TLS is on,
 * and whether requests feed the admission metrics (scrapes and probes do not). */
#include "sa_listener.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_conns.h"
#include "sa_listen.h"
#include "sa_log.h"
#include "sa_metrics.h"
#include "sa_outcome.h"

#define PATH_LOG_MAX 128 /* a refused path is logged cut to this */
/* A body over --max-body is still read to its end, keeping only its first SKIM_KEEP bytes (at most
 * --max-body): enough for the envelope (sa_admit_unread), so a review the API server sends too
 * large gets an AdmissionReview denial rather than an HTTP error its failurePolicy may turn into
 * an allow. A declared length over FAR_FACTOR times --max-body is refused before any byte. */
#define SKIM_KEEP (64u * 1024)
#define FAR_FACTOR 4

struct sa_listener {
    sa_listener_role role;
    sa_state *state;
    sa_tls *tls;
    sa_listener_page_fn *metrics_page;
    void *metrics_page_arg;
    size_t max_body;
    size_t max_buffered;
    atomic_size_t buffered; /* bytes held by request bodies of all connections */
    unsigned port;
    sa_conns *conns;     /* every open connection, for the request deadline and the drain */
    atomic_int draining; /* shutting down: say Connection: close, readyz fails */
    atomic_int starting; /* inside MHD_start_daemon: its messages are the reason it fails */
    unsigned max_connections;
    atomic_uint connections; /* admission connections open (on_connection) */
    unsigned ndaemons;       /* started so far */
    struct worker {
        struct MHD_Daemon *daemon; /* one per worker thread, each with its own listening socket */
        MHD_socket quiesced;       /* its socket once it stops accepting, closed after the stop */
    } workers[];
};

typedef enum route_kind {
    ROUTE_MUTATE,
    ROUTE_VALIDATE,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_METRICS
} route_kind;

#define ON_ADMISSION (1u << SA_LISTENER_ADMISSION)
#define ON_METRICS (1u << SA_LISTENER_METRICS)

static const struct {
    const char *path;
    route_kind kind;
    const char *method; /* the one method allowed (HEAD goes with GET) */
    unsigned roles;     /* the listeners that serve it */
    /* clang-format off */
} paths[] = {
    {"/mutate", ROUTE_MUTATE, "POST", ON_ADMISSION},
    {"/validate", ROUTE_VALIDATE, "POST", ON_ADMISSION},
    {"/healthz", ROUTE_HEALTHZ, "GET", ON_ADMISSION | ON_METRICS},
    {"/readyz", ROUTE_READYZ, "GET", ON_ADMISSION | ON_METRICS},
    {"/metrics", ROUTE_METRICS, "GET", ON_METRICS},
};
/* clang-format on */

/* Per connection, from libmicrohttpd's start notification to its close; the socket context. */
typedef struct conn {
    sa_tls *tls; /* first: tls.c finds its sa_tls through the socket context */
    sa_conn track;
} conn;

static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Per-request state, from the first call of the access handler to the completion callback. */
typedef struct request {
    route_kind route;
    int review; /* POST /mutate or /validate: a body follows; else answered at once */
    sa_buf body;
    size_t charged;        /* bytes of the body's buffer counted in buffered */
    size_t content_length; /* as declared (at most FAR_FACTOR * max_body), or 0 */
    int too_large;         /* over --max-body: body keeps a prefix, the rest is discarded */
    int busy;              /* over --max-buffered: discard the rest, answer 503 */
    struct timespec start;
} request;

/* Whether the connection closes after this answer: while shutting down, and after a request
 * with both Content-Length and Transfer-Encoding (RFC 9112 6.1: the server MUST close the
 * connection after responding to one, a possible smuggling attempt; libmicrohttpd does not). */
static int must_close(sa_listener *s, struct MHD_Connection *c)
{
    return atomic_load(&s->draining) ||
           (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) &&
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH));
}

/* Queues a response; takes ownership of body (malloc'd). allow: the Allow header for a 405. */
static enum MHD_Result reply(sa_listener *s, struct MHD_Connection *c, unsigned status,
                             const char *content_type, char *body, size_t len, const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (must_close(s, c))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (s->role == SA_LISTENER_ADMISSION && status != MHD_HTTP_OK)
        sa_metrics_http_error(status);
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* A one-line plain-text answer. */
static enum MHD_Result reply_line(sa_listener *s, struct MHD_Connection *c, unsigned status,
                                  const char *allow, const char *line)
{
    sa_buf b = SA_BUF_INIT;
    sa_buf_puts(&b, line);
    sa_buf_putc(&b, '\n');
    size_t len;
    char *text = sa_buf_steal(&b, &len);
    if (!text)
        return MHD_NO;
    return reply(s, c, status, "text/plain; charset=utf-8", text, len, allow);
}

/* A transport refusal: the one-line reason goes to the client and, with the method and path
 * (never the body), to the log as a warning. */
static enum MHD_Result refuse(sa_listener *s, struct MHD_Connection *c, const char *method,
                              const char *url, unsigned status, const char *allow, const char *fmt,
                              ...) __attribute__((format(printf, 7, 8)));

static enum MHD_Result refuse(sa_listener *s, struct MHD_Connection *c, const char *method,
                              const char *url, unsigned status, const char *allow, const char *fmt,
                              ...)
{
    char line[512], code[8], path[PATH_LOG_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(code, sizeof code, "%u", status);
    snprintf(path, sizeof path, "%s", url);
    sa_log(SA_LOG_WARN, "request refused", "status", code, "method", method, "path", path, "reason",
           line, NULL);
    return reply_line(s, c, status, allow, line);
}

static enum MHD_Result refuse_too_large(sa_listener *s, struct MHD_Connection *c,
                                        const char *method, const char *url)
{
    return refuse(s, c, method, url, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                  "request body is over the limit of %zu bytes", s->max_body);
}

static sa_endpoint endpoint_of(route_kind route)
{
    return route == ROUTE_MUTATE ? SA_ENDPOINT_MUTATE : SA_ENDPOINT_VALIDATE;
}

static int is_json_content_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static double elapsed_seconds(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static enum MHD_Result answer_review(sa_listener *s, struct MHD_Connection *c, request *rq,
                                     const char *method, const char *url)
{
    sa_endpoint ep = endpoint_of(rq->route);
    if (rq->busy) {
        sa_outcome_count(ep, NULL, elapsed_seconds(&rq->start));
        return refuse(s, c, method, url, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                      "busy: request bodies over %zu bytes are being buffered; retry",
                      s->max_buffered);
    }
    sa_snapshot *snap = sa_state_acquire(s->state);
    sa_admit_result res;
    if (rq->too_large) {
        char why[96];
        snprintf(why, sizeof why, "request body is over the limit of %zu bytes", s->max_body);
        sa_admit_unread(snap, ep, sa_buf_str(&rq->body), rq->body.len, MHD_HTTP_CONTENT_TOO_LARGE,
                        why, &res);
    } else {
        sa_admit(snap, ep, sa_buf_str(&rq->body), rq->body.len, &res);
    }
    sa_snapshot_release(snap);
    if (res.http_status == MHD_HTTP_CONTENT_TOO_LARGE) { /* not a review: a transport refusal */
        sa_admit_result_free(&res);
        sa_outcome_count(ep, NULL, elapsed_seconds(&rq->start));
        return refuse_too_large(s, c, method, url);
    }
    double seconds = elapsed_seconds(&rq->start);
    sa_outcome_count(ep, &res, seconds);
    sa_outcome_log(ep, &res, seconds);
    const char *ct = res.http_status == 200 ? "application/json" : "text/plain; charset=utf-8";
    char *body = res.body;
    res.body = NULL; /* handed to the response */
    return reply(s, c, (unsigned)res.http_status, ct, body, res.body_len, NULL);
}

/* Why /readyz fails, NULL when ready: shutting down, or what the core says of the snapshot in
 * force. */
static const char *not_ready(sa_listener *s)
{
    if (atomic_load(&s->draining))
        return "not ready: shutting down";
    sa_snapshot *snap = sa_state_acquire(s->state);
    const char *why = sa_admit_not_ready(snap);
    sa_snapshot_release(snap);
    return why;
}

static enum MHD_Result answer_metrics(sa_listener *s, struct MHD_Connection *c)
{
    sa_buf out = SA_BUF_INIT;
    s->metrics_page(s->metrics_page_arg, !not_ready(s), &out);
    size_t len;
    char *text = sa_buf_steal(&out, &len);
    if (!text)
        return MHD_NO;
    return reply(s, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL);
}

/* GETs answered as soon as the headers are in. */
static enum MHD_Result answer_get(sa_listener *s, struct MHD_Connection *c, route_kind route)
{
    if (route == ROUTE_METRICS)
        return answer_metrics(s, c);
    if (route == ROUTE_HEALTHZ)
        return reply_line(s, c, MHD_HTTP_OK, NULL, "ok");
    const char *why = not_ready(s);
    if (why)
        return reply_line(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, why);
    return reply_line(s, c, MHD_HTTP_OK, NULL, "ok");
}

/* First call for a request: headers are in, the body is not. Checks everything that can be
 * refused before reading a byte of the body. Returns NULL after queueing a refusal. */
static request *begin(sa_listener *s, struct MHD_Connection *c, const char *url, const char *method,
                      enum MHD_Result *rc)
{
    size_t i, n = sizeof paths / sizeof paths[0];
    for (i = 0; i < n && !((paths[i].roles & (1u << s->role)) && strcmp(paths[i].path, url) == 0);
         i++)
        ;
    if (i == n) {
        *rc = refuse(s, c, method, url, MHD_HTTP_NOT_FOUND, NULL, "no such path: %s", url);
        return NULL;
    }
    int get = strcmp(paths[i].method, "GET") == 0;
    if (strcmp(method, paths[i].method) != 0 && !(get && strcmp(method, "HEAD") == 0)) {
        *rc = refuse(s, c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, paths[i].method,
                     "method not allowed, use %s", paths[i].method);
        return NULL;
    }
    if (!get) {
        const char *ct =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int json = is_json_content_type(ct);
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        /* declared > FAR_FACTOR * max_body, written so that it cannot overflow */
        if (!json || (declared && (declared - 1) / FAR_FACTOR >= s->max_body)) {
            sa_outcome_count(endpoint_of(paths[i].kind), NULL, 0);
            *rc = json ? refuse_too_large(s, c, method, url)
                       : refuse(s, c, method, url, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
                                "content type must be application/json, got %s", ct ? ct : "none");
            return NULL;
        }
    }
    request *rq = calloc(1, sizeof *rq);
    if (!rq) {
        *rc = MHD_NO;
        return NULL;
    }
    rq->route = paths[i].kind;
    rq->review = !get;
    if (rq->review) {
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        rq->content_length = cl ? (size_t)strtoull(cl, NULL, 10) : 0; /* bounded, checked above */
        rq->too_large = rq->content_length > s->max_body;
    }
    clock_gettime(CLOCK_MONOTONIC, &rq->start);
    if (s->role == SA_LISTENER_ADMISSION)
        sa_metrics_in_flight(1);
    *rc = MHD_YES;
    return rq;
}

/* Counts n more bytes of body buffer against --max-buffered; 0 when that goes over it.
 * Every connection may send --max-body, so without a cap shared by all of them a few dozen
 * connections could hold more memory than the pod has. */
static int charge(sa_listener *s, request *rq, size_t n)
{
    size_t before = atomic_fetch_add(&s->buffered, n);
    if (s->max_buffered && before + n > s->max_buffered) {
        atomic_fetch_sub(&s->buffered, n);
        return 0;
    }
    rq->charged += n;
    return 1;
}

/* Frees a request's body buffer and gives its bytes back to the shared count. */
static void release_body(sa_listener *s, request *rq)
{
    sa_buf_free(&rq->body);
    atomic_fetch_sub(&s->buffered, rq->charged);
    rq->charged = 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **ctx)
{
    (void)version;
    sa_listener *s = cls;
    request *rq = *ctx;
    conn *cn = conn_of(c);
    if (!rq) {
        enum MHD_Result rc;
        rq = begin(s, c, url, method, &rc);
        /* Answered at once (a refusal, a GET), or a body follows under the request deadline. */
        if (cn && rq && rq->review)
            sa_conns_headers_in(s->conns, &cn->track);
        else if (cn)
            sa_conns_received(s->conns, &cn->track);
        if (!rq)
            return rc;
        *ctx = rq;
        if (!rq->review)
            return answer_get(s, c, rq->route);
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->busy)
            return MHD_YES; /* discarding the rest of a refused body */
        /* A body without Content-Length (chunked) can still grow past the limit: from then on
         * only its prefix is kept. */
        if (!rq->too_large && rq->body.len + n > s->max_body) {
            sa_buf prefix = SA_BUF_INIT;
            if (rq->body.len)
                sa_buf_append(&prefix, rq->body.data,
                              rq->body.len < SKIM_KEEP ? rq->body.len : SKIM_KEEP);
            release_body(s, rq);
            rq->body = prefix;
            rq->too_large = 1;
        }
        if (rq->too_large) {
            size_t keep = SKIM_KEEP < s->max_body ? SKIM_KEEP : s->max_body;
            size_t room = rq->body.len < keep ? keep - rq->body.len : 0;
            sa_buf_append(&rq->body, upload, n < room ? n : room);
        } else {
            /* A declared length is reserved whole, once; a chunked body grows (doubling) as it
             * comes. */
            if (!rq->body.cap && rq->content_length)
                sa_buf_reserve(&rq->body, rq->content_length);
            sa_buf_append(&rq->body, upload, n);
        }
        /* Either way the buffer's whole capacity counts against --max-buffered. */
        if (rq->body.cap > rq->charged && !charge(s, rq, rq->body.cap - rq->charged)) {
            rq->busy = 1;
            release_body(s, rq);
            return MHD_YES;
        }
        return rq->body.oom ? MHD_NO : MHD_YES;
    }
    if (!rq->review)
        return MHD_YES; /* already answered */
    if (cn)
        sa_conns_received(s->conns, &cn->track);
    return answer_review(s, c, rq, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    sa_listener *s = cls;
    conn *cn = conn_of(c);
    if (cn)
        sa_conns_idle(s->conns, &cn->track);
    request *rq = *ctx;
    if (!rq)
        return;
    release_body(s, rq);
    free(rq);
    *ctx = NULL;
    if (s->role == SA_LISTENER_ADMISSION)
        sa_metrics_in_flight(-1);
}

/* Tracks each connection (request deadline, drain); on the admission listener also counts it
 * and hands it to the TLS module before its handshake. Without a record (out of memory) a TLS
 * connection fails its handshake, and a plain one is served untracked. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    sa_listener *s = cls;
    conn *cn = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cn = fd ? calloc(1, sizeof *cn) : NULL;
        if (cn) {
            sa_conns_add(s->conns, &cn->track, fd->connect_fd);
            if (s->tls)
                sa_tls_connection_started(s->tls, c, &cn->tls);
        }
        *socket_context = cn;
    } else if (cn) {
        sa_conns_remove(s->conns, &cn->track); /* before libmicrohttpd closes the socket */
        free(cn);
        *socket_context = NULL;
    }
    if (s->role != SA_LISTENER_ADMISSION)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s->connections, 1);
    else
        atomic_fetch_sub(&s->connections, 1);
    sa_metrics_connections(code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

/* At its own connection limit libmicrohttpd stops accepting, so connections past it wait in the
 * listen backlog, the client hanging until a slot frees or its timeout. The admission listener
 * refuses them at once instead (accepted and closed: the API server sees the failure now and its
 * failurePolicy decides); libmicrohttpd's limit is set where no daemon reaches it. Concurrent
 * accepts on different daemons may overshoot --max-connections by at most threads - 1. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)addr;
    (void)len;
    sa_listener *s = cls;
    if (atomic_load(&s->connections) < s->max_connections)
        return MHD_YES;
    sa_metrics_connection_refused();
    return MHD_NO;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's own messages. While a daemon starts they say why it cannot (a port in use, a
 * bad address): warn then; later they are per-connection noise (a client gone mid-handshake). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const sa_listener *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sa_log(s->starting ? SA_LOG_WARN : SA_LOG_DEBUG, "libmicrohttpd", "detail", msg, NULL);
}

/* Every daemon's socket shares the port (SO_REUSEPORT), and so would a port another process of
 * the same user holds, even another instance of this server. So libmicrohttpd first binds the
 * address once without sharing: a port in use fails here with its reason, and port 0 gets the
 * number every daemon then binds. */
static int claim_port(sa_listener *s, struct sockaddr_storage *ss, unsigned flags)
{
    struct MHD_Daemon *d = MHD_start_daemon(flags & (MHD_USE_ERROR_LOG | MHD_USE_IPv6), 0, NULL,
                                            NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                                            on_mhd_log, s, MHD_OPTION_SOCK_ADDR,
                                            (struct sockaddr *)ss, MHD_OPTION_END);
    if (!d)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info) {
        s->port = info->port;
        sa_listen_set_port(ss, info->port);
    }
    MHD_stop_daemon(d);
    return info ? 0 : -1;
}

/* A quiesced socket is closed only after its daemon stops: libmicrohttpd's thread may still
 * hold the descriptor until then, and a number reused by another connection would be theirs. */
static void stop_daemons(sa_listener *s)
{
    for (unsigned i = 0; i < s->ndaemons; i++) {
        MHD_stop_daemon(s->workers[i].daemon);
        if (s->workers[i].quiesced != MHD_INVALID_SOCKET)
            close(s->workers[i].quiesced);
    }
}

sa_listener *sa_listener_start(const sa_listener_config *cfg, sa_state *state, char *err,
                               size_t errlen)
{
    struct sockaddr_storage ss;
    if (sa_listen_parse(cfg->listen, &ss, err, errlen) < 0)
        return NULL;
    int admission = cfg->role == SA_LISTENER_ADMISSION;
    if (admission ? !cfg->tls : !cfg->metrics_page) {
        snprintf(err, errlen,
                 admission ? "the admission listener needs TLS credentials"
                           : "the metrics listener needs its page");
        return NULL;
    }
    unsigned threads = cfg->threads ? cfg->threads : 1;
    sa_listener *s = calloc(1, sizeof *s + threads * sizeof s->workers[0]);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->role = cfg->role;
    s->state = state;
    s->tls = admission ? cfg->tls : NULL;
    s->metrics_page = cfg->metrics_page;
    s->metrics_page_arg = cfg->metrics_page_arg;
    s->max_body = cfg->max_body;
    s->max_buffered = cfg->max_buffered;
    s->max_connections = cfg->max_connections;
    if (!(s->conns = sa_conns_new(admission ? "admission" : "metrics", cfg->request_timeout))) {
        snprintf(err, errlen, "cannot start the request deadline watcher");
        free(s);
        return NULL;
    }
    /* Without the accept policy each daemon takes its share of the limit (rounded up). */
    unsigned mhd_limit = (cfg->max_connections + threads - 1) / threads;
    MHD_AcceptPolicyCallback accept_policy = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* One daemon per worker thread, each with its own listening socket on the port
     * (SO_REUSEPORT), so that the kernel balances new connections across them: with one socket
     * shared by a thread pool, the worker that wakes first accepts a whole burst. It also lets
     * another process of the same user bind the port: acceptable, the server runs alone in its
     * container. */
    struct MHD_OptionItem opts[8];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s};
    if (admission) {
        /* The certificate comes from the per-handshake callback, so a rotated pair needs no
         * restart; the client CA, when given, is the trust list client certificates are
         * verified against. */
        const char *client_ca = sa_tls_client_ca(cfg->tls);
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK2, 0,
                                            (void *)sa_tls_retrieve_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)sa_tls_priorities(cfg->tls)};
        accept_policy = on_accept;
        mhd_limit = cfg->max_connections + threads;
        if (client_ca)
            opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)client_ca};
    }
    opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    /* The logger first, so whatever libmicrohttpd says about the rest is a log line too. */
    atomic_store(&s->starting, 1);
    int ok = claim_port(s, &ss, flags) == 0;
    while (ok && s->ndaemons < threads) {
        struct MHD_Daemon *d =
            MHD_start_daemon(flags, 0, accept_policy, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                             on_mhd_log, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                             MHD_OPTION_ARRAY, opts, MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
        if ((ok = d != NULL))
            s->workers[s->ndaemons++] = (struct worker){d, MHD_INVALID_SOCKET};
    }
    atomic_store(&s->starting, 0);
    if (!ok) {
        snprintf(err, errlen, "cannot serve on %s (libmicrohttpd's reason is logged just above)",
                 cfg->listen);
        stop_daemons(s);
        sa_conns_free(s->conns);
        free(s);
        return NULL;
    }
    return s;
}

unsigned sa_listener_port(const sa_listener *s)
{
    return s->port;
}

void sa_listener_draining(sa_listener *s)
{
    if (s)
        atomic_store(&s->draining, 1);
}

void sa_listener_stop(sa_listener *s, unsigned drain_seconds)
{
    if (!s)
        return;
    sa_listener_draining(s);
    /* Each socket stops listening now (shutdown leaves LISTEN and resets its backlog, so new
     * connections go to the sockets still open, or are refused once none is) but stays open
     * until its daemon has stopped. */
    for (unsigned i = 0; i < s->ndaemons; i++) {
        MHD_socket fd = MHD_quiesce_daemon(s->workers[i].daemon);
        s->workers[i].quiesced = fd;
        if (fd != MHD_INVALID_SOCKET)
            shutdown(fd, SHUT_RDWR);
    }
    /* Idle connections close now, between requests; the others once their request is answered
     * (with Connection: close), each checked again every tick since a request may have just
     * started on one. What is still open at the drain timeout is cut by the stop. */
    const struct timespec tick = {0, 20 * 1000 * 1000};
    unsigned open = sa_conns_close_idle(s->conns);
    for (unsigned waited = 0; open > 0 && waited < drain_seconds * 50; waited++) {
        nanosleep(&tick, NULL);
        open = sa_conns_close_idle(s->conns);
    }
    if (open) {
        char left[16];
        snprintf(left, sizeof left, "%u", open);
        sa_log(SA_LOG_WARN, "drain timeout: cutting connections still receiving or answering",
               "listener", s->role == SA_LISTENER_ADMISSION ? "admission" : "metrics",
               "connections", left, NULL);
    }
    stop_daemons(s);
    sa_conns_free(s->conns);
    free(s);
}
