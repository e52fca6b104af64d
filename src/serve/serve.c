/* serve.c: the serve command's steps (see sa_serve.h): flags, load, start, log the start, wait
 * for signals, drain, stop. Each step is its own function so the order of a server's life reads
 * in serve_run, and what it serves is loaded by sa_load, as every offline command loads it. */
#include "sa_serve.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sa_buf.h"
#include "sa_devpki.h"
#include "sa_exposition.h"
#include "sa_load.h"
#include "sa_log.h"
#include "sa_options.h"
#include "sa_reload.h"
#include "sa_listener.h"
#include "sa_state.h"
#include "sa_tls.h"

typedef struct serve_config {
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
} serve_config;

static const char serve_usage[] =
    "usage: session-admission serve [options]\n"
    "       session-admission serve --dev [--dev-ca-out FILE]\n\n"
    "Serves POST /mutate, POST /validate, GET /healthz and GET /readyz over HTTPS, and GET /metrics\n"
    "(with /healthz and /readyz) over plain HTTP on --metrics-listen. The certificate and key\n"
    "files are watched like the policy: a changed pair serves new connections without a restart.\n"
    "--dev needs nothing prepared: it mints a CA and a serving certificate for localhost in\n"
    "memory, writes the CA for curl --cacert, makes a stand-in control-plane key, and uses the\n"
    "built-in example policy.";

/* The signals serve waits for: SIGTERM and SIGINT stop, SIGHUP reloads. */
static void serve_signals(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGHUP);
}

/* Fills cfg from the flags and their environment variables, sets up the log, and blocks the
 * signals serve waits for (before any thread starts, so every thread inherits the mask).
 * 0: go on; -1: the command ends now with *status (0 after --help, 2 on bad flags, said on
 * stderr). */
static int serve_configure(serve_config *cfg, int argc, char **argv, int *status)
{
    /* clang-format off */
    *cfg = (serve_config){
        .listen = "0.0.0.0:8443", .threads = 2, .max_body = 8u << 20, .max_buffered = 64u << 20,
        .max_connections = 1024, .idle_timeout = 120, .request_timeout = 10,
        .shutdown_delay = 5, .drain_timeout = 10, .reload_interval = 2,
        .log_format = "json", .log_level = "info",
        .metrics_listen = "0.0.0.0:9090", .tls_min_version = "1.2",
        .dev_ca_out = "session-admission-dev-ca.pem",
    };
    /* clang-format on */
    /* clang-format off */
    const sa_option opts[] = {
        {"--listen", "SA_LISTEN", SA_OPT_STRING, &cfg->listen, "ADDR:PORT", "HTTPS listen address (default 0.0.0.0:8443)", 0, 0},
        {"--tls-cert", "SA_TLS_CERT", SA_OPT_STRING, &cfg->tls_cert, "FILE", "serving certificate chain, PEM", 0, 0},
        {"--tls-key", "SA_TLS_KEY", SA_OPT_STRING, &cfg->tls_key, "FILE", "serving private key, PEM", 0, 0},
        {"--policy", "SA_POLICY", SA_OPT_STRING, &cfg->policy, "FILE", "policy file (YAML)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &cfg->public_key, "FILE", "control plane public key (default: the policy's sessions.publicKey.file)", 0, 0},
        {"--threads", "SA_THREADS", SA_OPT_UINT, &cfg->threads, "N", "worker threads (default 2)", 1, 256},
        {"--max-body", "SA_MAX_BODY", SA_OPT_SIZE, &cfg->max_body, "BYTES", "largest request body, K/M suffixes (default 8M)", 1024, 1ULL << 30},
        {"--max-buffered", "SA_MAX_BUFFERED", SA_OPT_SIZE, &cfg->max_buffered, "BYTES", "request bodies buffered at once, all connections together; more is answered 503 (default 64M)", 1024, 1ULL << 40},
        {"--max-connections", "SA_MAX_CONNECTIONS", SA_OPT_UINT, &cfg->max_connections, "N", "open connections at most (default 1024)", 1, 65535},
        {"--idle-timeout", "SA_IDLE_TIMEOUT", SA_OPT_UINT, &cfg->idle_timeout, "SECONDS", "close a kept-alive connection idle this long between requests; above the API server's 90 s, so it closes first (default 120)", 1, 3600},
        {"--request-timeout", "SA_REQUEST_TIMEOUT", SA_OPT_UINT, &cfg->request_timeout, "SECONDS", "cut a connection whose request has not arrived whole this long after its first byte (default 10)", 1, 3600},
        {"--shutdown-delay", "SA_SHUTDOWN_DELAY", SA_OPT_UINT, &cfg->shutdown_delay, "SECONDS", "on SIGTERM, keep accepting and answering this long with /readyz failing and Connection: close, while the endpoint removal propagates (default 5)", 0, 600},
        {"--drain-timeout", "SA_DRAIN_TIMEOUT", SA_OPT_UINT, &cfg->drain_timeout, "SECONDS", "then stop accepting and wait this long for requests in flight (default 10)", 0, 600},
        {"--reload-interval", "SA_RELOAD_INTERVAL", SA_OPT_UINT, &cfg->reload_interval, "SECONDS", "check the policy, key, certificate and TLS key files for changes this often (default 2; SIGHUP reloads the policy and key at once)", 1, 3600},
        {"--metrics-listen", "SA_METRICS_LISTEN", SA_OPT_STRING, &cfg->metrics_listen, "ADDR:PORT", "plain-HTTP listener for /metrics, /healthz, /readyz (default 0.0.0.0:9090; \"off\" or empty: none)", 0, 0},
        {"--tls-min-version", "SA_TLS_MIN_VERSION", SA_OPT_STRING, &cfg->tls_min_version, "1.2|1.3", "oldest TLS version accepted (default 1.2)", 0, 0},
        {"--client-ca", "SA_CLIENT_CA", SA_OPT_STRING, &cfg->client_ca, "FILE", "require a client certificate signed by this CA (PEM)", 0, 0},
        {"--client-cn", "SA_CLIENT_CN", SA_OPT_STRING, &cfg->client_cn, "NAME", "and require this subject CN in it (needs --client-ca)", 0, 0},
        {"--log-format", "SA_LOG_FORMAT", SA_OPT_STRING, &cfg->log_format, "json|text", "log line format (default json)", 0, 0},
        {"--log-level", "SA_LOG_LEVEL", SA_OPT_STRING, &cfg->log_level, "LEVEL", "debug, info, warn or error (default info)", 0, 0},
        {"--dev", "SA_DEV", SA_OPT_FLAG, &cfg->dev, NULL, "development mode: in-memory CA, certificate and key, built-in policy", 0, 0},
        {"--dev-ca-out", "SA_DEV_CA_OUT", SA_OPT_STRING, &cfg->dev_ca_out, "FILE", "where --dev writes its CA (default ./session-admission-dev-ca.pem)", 0, 0},
    };
    /* clang-format on */
    const char *pos[1];
    size_t npos;
    char err[1024];
    int rc = sa_options_parse(opts, sizeof opts / sizeof opts[0], argc, argv, pos, 0, &npos, stdout,
                              serve_usage, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "session-admission serve: %s\n", err);
        *status = rc < 0 ? 2 : 0;
        return -1;
    }
    int fmt = sa_log_format_from_name(cfg->log_format);
    int lvl = sa_log_level_from_name(cfg->log_level);
    if (fmt < 0 || lvl < 0) {
        fprintf(stderr, "session-admission serve: bad %s \"%s\"\n",
                fmt < 0 ? "--log-format" : "--log-level",
                fmt < 0 ? cfg->log_format : cfg->log_level);
        *status = 2;
        return -1;
    }
    sa_log_setup((sa_log_format)fmt, (sa_log_level)lvl);

    /* Signals are taken synchronously by the thread that serves; every thread started later
     * inherits the mask, so none of them is interrupted. */
    sigset_t sigs;
    serve_signals(&sigs);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void log_startup(const serve_config *cfg, unsigned port, unsigned metrics_port)
{
    char threads[16], max_body[32], bound[16], metrics_bound[16], idle[16], request[16], delay[16];
    snprintf(threads, sizeof threads, "%u", cfg->threads);
    snprintf(idle, sizeof idle, "%u", cfg->idle_timeout);
    snprintf(request, sizeof request, "%u", cfg->request_timeout);
    snprintf(delay, sizeof delay, "%u", cfg->shutdown_delay);
    snprintf(max_body, sizeof max_body, "%zu", cfg->max_body);
    snprintf(bound, sizeof bound, "%u", port);
    snprintf(metrics_bound, sizeof metrics_bound, "%u", metrics_port);
    sa_log(SA_LOG_INFO, "session-admission starting", "version", SA_VERSION, "listen", cfg->listen,
           "port", bound, "mode", cfg->dev ? "dev" : "production", "tls_cert",
           cfg->dev ? "<in memory>" : cfg->tls_cert, "policy",
           cfg->dev ? "<built-in>" : cfg->policy, "public_key",
           cfg->dev ? "<in memory>" : (cfg->public_key ? cfg->public_key : "<policy>"), "threads",
           threads, "max_body", max_body, "log_format", cfg->log_format, "metrics_listen",
           metrics_port ? cfg->metrics_listen : "off", "metrics_port", metrics_bound,
           "tls_min_version", cfg->tls_min_version, "client_ca",
           cfg->client_ca ? cfg->client_ca : "off", "client_cn",
           cfg->client_cn ? cfg->client_cn : "any", "idle_timeout", idle, "request_timeout",
           request, "shutdown_delay", delay, NULL);
}

/* Waits for SIGTERM or SIGINT and returns it, reloading on SIGHUP meanwhile. With a limit
 * (seconds), returns 0 when it passes first. */
static int wait_signal(const sigset_t *sigs, sa_reloader *reloader, unsigned limit)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += limit;
    for (;;) {
        int sig;
        if (!limit) {
            if (sigwait(sigs, &sig) != 0)
                continue;
        } else {
            struct timespec now, left;
            clock_gettime(CLOCK_MONOTONIC, &now);
            left.tv_sec = end.tv_sec - now.tv_sec;
            left.tv_nsec = end.tv_nsec - now.tv_nsec;
            if (left.tv_nsec < 0) {
                left.tv_sec--;
                left.tv_nsec += 1000000000L;
            }
            if (left.tv_sec < 0)
                return 0;
            if ((sig = sigtimedwait(sigs, NULL, &left)) < 0)
                continue; /* EAGAIN (the time is up: seen above) or EINTR */
        }
        if (sig != SIGHUP)
            return sig;
        if (reloader)
            sa_reload_trigger(reloader);
    }
}

/* What a running server holds; stopped in the reverse order of its start. */
typedef struct serving {
    sa_state state;
    sa_tls *tls;
    sa_reloader *reloader; /* NULL: --dev has no files to watch */
    sa_exposition page;    /* the metrics listener's /metrics */
    sa_listener *server, *metrics;
} serving;

/* Starts the TLS layer, the watcher and both listeners on the snapshot in sv->state. The PEM
 * pair is wiped and freed whatever happens. 0, or -1 with a one-line reason. */
static int start(serving *sv, const serve_config *cfg, sa_buf *cert, sa_buf *key, char *err,
                 size_t errlen)
{
    /* The serving pair: the files, watched for rotation, or --dev's in memory. */
    /* clang-format off */
    sa_tls_config tcfg = {
        .cert_file = cfg->dev ? NULL : cfg->tls_cert, .key_file = cfg->dev ? NULL : cfg->tls_key,
        .cert_pem = sa_buf_str(cert), .key_pem = sa_buf_str(key),
        .min_version = cfg->tls_min_version, .client_ca_file = cfg->client_ca,
        .client_cn = cfg->client_cn, .poll_ms = cfg->reload_interval * 1000u,
    };
    /* clang-format on */
    sv->tls = sa_tls_new(&tcfg, err, errlen);
    OPENSSL_cleanse(key->data, key->len);
    sa_buf_free(key);
    sa_buf_free(cert);
    if (!sv->tls)
        return -1;
    if (!cfg->dev) {
        sa_reload_config rcfg = {cfg->policy, cfg->public_key, cfg->reload_interval * 1000u};
        if (!(sv->reloader = sa_reload_start(&rcfg, &sv->state, err, errlen)))
            return -1;
    }
    sv->page = (sa_exposition){&sv->state, sv->reloader};
    /* clang-format off */
    sa_listener_config scfg = {
        .role = SA_LISTENER_ADMISSION, .listen = cfg->listen, .tls = sv->tls, .threads = cfg->threads,
        .max_body = cfg->max_body, .max_buffered = cfg->max_buffered,
        .max_connections = cfg->max_connections,
        .idle_timeout = cfg->idle_timeout, .request_timeout = cfg->request_timeout,
    };
    /* clang-format on */
    if (!(sv->server = sa_listener_start(&scfg, &sv->state, err, errlen)))
        return -1;
    if (!*cfg->metrics_listen || strcmp(cfg->metrics_listen, "off") == 0)
        return 0;
    /* One thread is plenty for a scrape every few seconds. */
    /* clang-format off */
    sa_listener_config mcfg = {
        .role = SA_LISTENER_METRICS, .listen = cfg->metrics_listen,
        .metrics_page = sa_exposition_page, .metrics_page_arg = &sv->page,
        .threads = 1, .max_connections = 64, .idle_timeout = cfg->idle_timeout,
        .request_timeout = cfg->request_timeout,
    };
    /* clang-format on */
    sv->metrics = sa_listener_start(&mcfg, &sv->state, err, errlen);
    return sv->metrics ? 0 : -1;
}

/* After SIGTERM or SIGINT: not ready at once, on both listeners, but still serving for the
 * shutdown delay: until the endpoint removal has reached every node, new connections keep
 * arriving here, and refusing them would fail admission calls the API server does not retry. */
static void drain(serving *sv, const serve_config *cfg, const sigset_t *sigs, int sig)
{
    char delay[16], drain_timeout[16];
    snprintf(delay, sizeof delay, "%u", cfg->shutdown_delay);
    snprintf(drain_timeout, sizeof drain_timeout, "%u", cfg->drain_timeout);
    sa_log(SA_LOG_INFO, "shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT",
           "shutdown_delay", delay, "drain_timeout", drain_timeout, NULL);
    sa_listener_draining(sv->server);
    sa_listener_draining(sv->metrics);
    if (cfg->shutdown_delay && wait_signal(sigs, sv->reloader, cfg->shutdown_delay))
        sa_log(SA_LOG_INFO, "shutdown delay cut short by a second signal", NULL);
    sa_log(SA_LOG_INFO, "no longer accepting connections; draining", NULL);
}

/* Stops whatever start started (any of it may be NULL). Admission first, so scrapes see the
 * drain, and the metrics listener's /readyz (which the kubelet probes when client certificates
 * are required) keeps failing all along; the watchers outlive the servers using them. */
static void stop(serving *sv, const serve_config *cfg)
{
    sa_listener_draining(sv->metrics);
    sa_listener_stop(sv->server, cfg->drain_timeout);
    sa_listener_stop(sv->metrics, 1);
    sa_reload_stop(sv->reloader);
    sa_tls_free(sv->tls);
    sa_state_destroy(&sv->state);
}

/* Serves snap (its reference is taken) until SIGTERM or SIGINT, then drains and stops.
 * cert and key: --dev's serving pair in PEM, empty otherwise; they are wiped and freed at once.
 * Returns the exit status: 0 after a clean stop, 1 when something could not start. */
static int serve_run(const serve_config *cfg, sa_snapshot *snap, sa_buf *cert, sa_buf *key)
{
    serving sv = {0};
    sa_state_init(&sv.state);
    sa_state_publish(&sv.state, snap);
    char err[1024];
    int status = 1;
    if (start(&sv, cfg, cert, key, err, sizeof err) == 0) {
        log_startup(cfg, sa_listener_port(sv.server),
                    sv.metrics ? sa_listener_port(sv.metrics) : 0);
        if (cfg->dev)
            printf(
                "session-admission: dev server ready; try: curl --cacert %s https://localhost:%u/readyz\n",
                cfg->dev_ca_out, sa_listener_port(sv.server));
        fflush(stdout);
        sigset_t sigs;
        serve_signals(&sigs);
        drain(&sv, cfg, &sigs, wait_signal(&sigs, sv.reloader, 0));
        status = 0;
    } else {
        sa_log(SA_LOG_ERROR, "cannot start", "reason", err, NULL);
    }
    stop(&sv, cfg);
    if (!status)
        sa_log(SA_LOG_INFO, "stopped", NULL);
    return status;
}

/* The snapshot the server starts with (sa_load.h): 0, or -1 with the loader's errors in err as
 * the start-up log's reason (every line, without the last newline). */
static int start_snapshot(const sa_load_from *from, sa_snapshot **snap, char *err, size_t errlen)
{
    sa_buf notes = SA_BUF_INIT, errors = SA_BUF_INIT;
    *snap = sa_load_snapshot(from, &notes, &errors);
    const char *all = sa_buf_str(&errors);
    size_t n = strlen(all);
    snprintf(err, errlen, "%.*s", (int)(n && all[n - 1] == '\n' ? n - 1 : n), all);
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    return *snap ? 0 : -1;
}

/* The files behind a production start, loaded in full before anything listens. */
static int load_files(const serve_config *cfg, sa_snapshot **snap, char *err, size_t errlen)
{
    if (!cfg->tls_cert || !cfg->tls_key) {
        snprintf(err, errlen, "--tls-cert and --tls-key are required (or use --dev)");
        return -1;
    }
    if (!cfg->policy) {
        snprintf(err, errlen, "--policy is required (or use --dev)");
        return -1;
    }
    sa_load_from from = {.policy_path = cfg->policy, .key_path = cfg->public_key};
    return start_snapshot(&from, snap, err, errlen);
}

static int make_dev(const serve_config *cfg, sa_buf *cert, sa_buf *key, sa_snapshot **snap,
                    char *err, size_t errlen)
{
    sa_devpki pki;
    if (sa_devpki_make(&pki, err, errlen) < 0)
        return -1;
    int rc = -1;
    FILE *f = fopen(cfg->dev_ca_out, "w");
    int written = f && fputs(pki.ca_cert_pem, f) >= 0;
    if (f && fclose(f) != 0) /* closed once, whatever happened: a failed close still frees it */
        written = 0;
    if (!written) {
        snprintf(err, errlen, "cannot write the dev CA to %s", cfg->dev_ca_out);
        goto out;
    }
    sa_buf_puts(cert, pki.server_cert_pem);
    sa_buf_puts(key, pki.server_key_pem);
    sa_load_from from = {.key_pem = pki.cp_public_pem, .key_pem_len = strlen(pki.cp_public_pem)};
    rc = start_snapshot(&from, snap, err, errlen);
out:
    sa_devpki_free(&pki);
    return rc;
}

int sa_serve_main(int argc, char **argv)
{
    serve_config cfg;
    int status;
    if (serve_configure(&cfg, argc, argv, &status) < 0)
        return status;
    sa_buf cert = SA_BUF_INIT, key = SA_BUF_INIT;
    sa_snapshot *snap = NULL;
    char err[1024];
    if ((cfg.dev ? make_dev(&cfg, &cert, &key, &snap, err, sizeof err)
                 : load_files(&cfg, &snap, err, sizeof err)) < 0) {
        sa_log(SA_LOG_ERROR, "cannot start", "reason", err, NULL);
        sa_buf_free(&cert);
        sa_buf_free(&key);
        return 1;
    }
    return serve_run(&cfg, snap, &cert, &key);
}
