/* main.c: the session-admission command line: serve, review, scan, test, check-policy, version.
 *
 * Each subcommand is a thin shell around the library: it reads flags (sa_options.h), loads
 * files, and calls the same core the others use, so the offline `review` answers exactly as
 * the server does. */
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_json.h"
#include "sa_devpki.h"
#include "sa_exposition.h"
#include "sa_pubkey.h"
#include "sa_log.h"
#include "sa_objects.h"
#include "sa_offline.h"
#include "sa_options.h"
#include "sa_patch.h"
#include "sa_policy.h"
#include "sa_reload.h"
#include "sa_scan.h"
#include "sa_server.h"
#include "sa_state.h"
#include "sa_suite.h"

#define REVIEW_INPUT_MAX (64 * 1024 * 1024)
/* A `kubectl get -A -o json` of a large cluster: 100,000 objects fit. */
#define SCAN_INPUT_MAX (1024u * 1024 * 1024)

/* ---- serve ------------------------------------------------------------------------- */

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
    sa_buf errors = SA_BUF_INIT;
    sa_policy *policy = sa_policy_load_file(cfg->policy, &errors);
    if (!policy) {
        snprintf(err, errlen, "policy refused:\n%s", sa_buf_str(&errors));
        sa_buf_free(&errors);
        return -1;
    }
    sa_buf_free(&errors);
    const char *key_path = cfg->public_key ? cfg->public_key : policy->sessions.key_file;
    sa_pubkey *pub = sa_pubkey_load(key_path, err, errlen);
    if (!pub) {
        sa_policy_free(policy);
        return -1;
    }
    *snap = sa_snapshot_new(policy, pub);
    if (!*snap) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
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
    sa_buf errors = SA_BUF_INIT;
    sa_policy *policy = sa_policy_builtin(&errors);
    sa_pubkey *pub = sa_pubkey_parse(pki.cp_public_pem, strlen(pki.cp_public_pem), err, errlen);
    if (!policy)
        snprintf(err, errlen, "built-in policy refused:\n%s", sa_buf_str(&errors));
    sa_buf_free(&errors);
    if (policy && pub && (*snap = sa_snapshot_new(policy, pub)) != NULL)
        rc = 0;
    else if (!policy || !pub) {
        sa_policy_free(policy);
        sa_pubkey_free(pub);
    }
out:
    sa_devpki_free(&pki);
    return rc;
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
           "port", bound, "mode", cfg->dev ? "dev" : "production",
           "tls_cert", cfg->dev ? "<in memory>" : cfg->tls_cert,
           "policy", cfg->dev ? "<built-in>" : cfg->policy,
           "public_key", cfg->dev ? "<in memory>" : (cfg->public_key ? cfg->public_key : "<policy>"),
           "threads", threads, "max_body", max_body, "log_format", cfg->log_format,
           "metrics_listen", metrics_port ? cfg->metrics_listen : "off", "metrics_port", metrics_bound,
           "tls_min_version", cfg->tls_min_version, "client_ca", cfg->client_ca ? cfg->client_ca : "off",
           "client_cn", cfg->client_cn ? cfg->client_cn : "any", "idle_timeout", idle,
           "request_timeout", request, "shutdown_delay", delay, NULL);
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

static int cmd_serve(int argc, char **argv)
{
    serve_config cfg = {
        .listen = "0.0.0.0:8443", .threads = 2, .max_body = 8u << 20, .max_buffered = 64u << 20,
        .max_connections = 1024,
        .idle_timeout = 120, .request_timeout = 10, .shutdown_delay = 5, .drain_timeout = 10, .reload_interval = 2, .log_format = "json", .log_level = "info",
        .metrics_listen = "0.0.0.0:9090", .tls_min_version = "1.2",
        .dev_ca_out = "session-admission-dev-ca.pem",
    };
    const sa_option opts[] = {
        {"--listen", "SA_LISTEN", SA_OPT_STRING, &cfg.listen, "ADDR:PORT", "HTTPS listen address (default 0.0.0.0:8443)", 0, 0},
        {"--tls-cert", "SA_TLS_CERT", SA_OPT_STRING, &cfg.tls_cert, "FILE", "serving certificate chain, PEM", 0, 0},
        {"--tls-key", "SA_TLS_KEY", SA_OPT_STRING, &cfg.tls_key, "FILE", "serving private key, PEM", 0, 0},
        {"--policy", "SA_POLICY", SA_OPT_STRING, &cfg.policy, "FILE", "policy file (YAML)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &cfg.public_key, "FILE", "control plane public key (default: the policy's sessions.publicKey.file)", 0, 0},
        {"--threads", "SA_THREADS", SA_OPT_UINT, &cfg.threads, "N", "worker threads (default 2)", 1, 256},
        {"--max-body", "SA_MAX_BODY", SA_OPT_SIZE, &cfg.max_body, "BYTES", "largest request body, K/M suffixes (default 8M)", 1024, 1ULL << 30},
        {"--max-buffered", "SA_MAX_BUFFERED", SA_OPT_SIZE, &cfg.max_buffered, "BYTES", "request bodies buffered at once, all connections together; more is answered 503 (default 64M)", 1024, 1ULL << 40},
        {"--max-connections", "SA_MAX_CONNECTIONS", SA_OPT_UINT, &cfg.max_connections, "N", "open connections at most (default 1024)", 1, 65535},
        {"--idle-timeout", "SA_IDLE_TIMEOUT", SA_OPT_UINT, &cfg.idle_timeout, "SECONDS", "close a kept-alive connection idle this long between requests; above the API server's 90 s, so it closes first (default 120)", 1, 3600},
        {"--request-timeout", "SA_REQUEST_TIMEOUT", SA_OPT_UINT, &cfg.request_timeout, "SECONDS", "cut a connection whose request has not arrived whole this long after its first byte (default 10)", 1, 3600},
        {"--shutdown-delay", "SA_SHUTDOWN_DELAY", SA_OPT_UINT, &cfg.shutdown_delay, "SECONDS", "on SIGTERM, keep accepting and answering this long with /readyz failing and Connection: close, while the endpoint removal propagates (default 5)", 0, 600},
        {"--drain-timeout", "SA_DRAIN_TIMEOUT", SA_OPT_UINT, &cfg.drain_timeout, "SECONDS", "then stop accepting and wait this long for requests in flight (default 10)", 0, 600},
        {"--reload-interval", "SA_RELOAD_INTERVAL", SA_OPT_UINT, &cfg.reload_interval, "SECONDS", "check the policy, key, certificate and TLS key files for changes this often (default 2; SIGHUP reloads the policy and key at once)", 1, 3600},
        {"--metrics-listen", "SA_METRICS_LISTEN", SA_OPT_STRING, &cfg.metrics_listen, "ADDR:PORT", "plain-HTTP listener for /metrics, /healthz, /readyz (default 0.0.0.0:9090; \"off\" or empty: none)", 0, 0},
        {"--tls-min-version", "SA_TLS_MIN_VERSION", SA_OPT_STRING, &cfg.tls_min_version, "1.2|1.3", "oldest TLS version accepted (default 1.2)", 0, 0},
        {"--client-ca", "SA_CLIENT_CA", SA_OPT_STRING, &cfg.client_ca, "FILE", "require a client certificate signed by this CA (PEM)", 0, 0},
        {"--client-cn", "SA_CLIENT_CN", SA_OPT_STRING, &cfg.client_cn, "NAME", "and require this subject CN in it (needs --client-ca)", 0, 0},
        {"--log-format", "SA_LOG_FORMAT", SA_OPT_STRING, &cfg.log_format, "json|text", "log line format (default json)", 0, 0},
        {"--log-level", "SA_LOG_LEVEL", SA_OPT_STRING, &cfg.log_level, "LEVEL", "debug, info, warn or error (default info)", 0, 0},
        {"--dev", "SA_DEV", SA_OPT_FLAG, &cfg.dev, NULL, "development mode: in-memory CA, certificate and key, built-in policy", 0, 0},
        {"--dev-ca-out", "SA_DEV_CA_OUT", SA_OPT_STRING, &cfg.dev_ca_out, "FILE", "where --dev writes its CA (default ./session-admission-dev-ca.pem)", 0, 0},
    };
    const char *pos[1];
    size_t npos;
    char err[1024];
    int rc = sa_options_parse(opts, sizeof opts / sizeof opts[0], argc, argv, pos, 0, &npos,
                              stdout, serve_usage, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "session-admission serve: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    int fmt = sa_log_format_from_name(cfg.log_format);
    int lvl = sa_log_level_from_name(cfg.log_level);
    if (fmt < 0 || lvl < 0) {
        fprintf(stderr, "session-admission serve: bad %s \"%s\"\n", fmt < 0 ? "--log-format" : "--log-level",
                fmt < 0 ? cfg.log_format : cfg.log_level);
        return 2;
    }
    sa_log_setup((sa_log_format)fmt, (sa_log_level)lvl);

    /* Signals are taken synchronously by this thread; every thread started later inherits the
     * mask, so none of them is interrupted. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    sa_buf cert = SA_BUF_INIT, key = SA_BUF_INIT;
    sa_snapshot *snap = NULL;
    if ((cfg.dev ? make_dev(&cfg, &cert, &key, &snap, err, sizeof err)
                 : load_files(&cfg, &snap, err, sizeof err)) < 0) {
        sa_log(SA_LOG_ERROR, "cannot start", "reason", err, NULL);
        sa_buf_free(&cert);
        sa_buf_free(&key);
        return 1;
    }
    sa_state state;
    sa_state_init(&state);
    sa_state_publish(&state, snap);
    int status = 1;
    sa_reloader *reloader = NULL;
    sa_server *server = NULL, *metrics = NULL;
    sa_exposition page = {&state, NULL};
    /* The serving pair: the files, watched for rotation, or --dev's in memory. */
    sa_tls_config tcfg = {
        .cert_file = cfg.dev ? NULL : cfg.tls_cert, .key_file = cfg.dev ? NULL : cfg.tls_key,
        .cert_pem = sa_buf_str(&cert), .key_pem = sa_buf_str(&key),
        .min_version = cfg.tls_min_version, .client_ca_file = cfg.client_ca,
        .client_cn = cfg.client_cn, .poll_ms = cfg.reload_interval * 1000u,
    };
    sa_tls *tls = sa_tls_new(&tcfg, err, sizeof err);
    OPENSSL_cleanse(key.data, key.len);
    sa_buf_free(&key);
    sa_buf_free(&cert);
    if (!tls)
        goto out;
    /* --dev has no files to watch. */
    if (!cfg.dev) {
        sa_reload_config rcfg = {cfg.policy, cfg.public_key, cfg.reload_interval * 1000u};
        if (!(reloader = sa_reload_start(&rcfg, &state, err, sizeof err)))
            goto out;
        page.reloader = reloader;
    }
    {
        sa_server_config scfg = {
            .role = SA_SERVER_ADMISSION, .listen = cfg.listen, .tls = tls, .threads = cfg.threads,
            .max_body = cfg.max_body, .max_buffered = cfg.max_buffered,
            .max_connections = cfg.max_connections,
            .idle_timeout = cfg.idle_timeout, .request_timeout = cfg.request_timeout,
        };
        if (!(server = sa_server_start(&scfg, &state, err, sizeof err)))
            goto out;
    }
    /* One thread is plenty for a scrape every few seconds. */
    if (*cfg.metrics_listen && strcmp(cfg.metrics_listen, "off") != 0) {
        sa_server_config mcfg = {
            .role = SA_SERVER_METRICS, .listen = cfg.metrics_listen,
            .metrics_page = sa_exposition_page, .metrics_page_arg = &page,
            .threads = 1, .max_connections = 64, .idle_timeout = cfg.idle_timeout,
            .request_timeout = cfg.request_timeout,
        };
        if (!(metrics = sa_server_start(&mcfg, &state, err, sizeof err)))
            goto out;
    }
    log_startup(&cfg, sa_server_port(server), metrics ? sa_server_port(metrics) : 0);
    if (cfg.dev)
        printf("session-admission: dev server ready; try: curl --cacert %s https://localhost:%u/readyz\n",
               cfg.dev_ca_out, sa_server_port(server));
    fflush(stdout);

    int sig = wait_signal(&sigs, reloader, 0);
    char delay[16], drain[16];
    snprintf(delay, sizeof delay, "%u", cfg.shutdown_delay);
    snprintf(drain, sizeof drain, "%u", cfg.drain_timeout);
    sa_log(SA_LOG_INFO, "shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT",
           "shutdown_delay", delay, "drain_timeout", drain, NULL);
    /* Not ready at once, on both listeners, but still serving: until the endpoint removal has
     * reached every node, new connections keep arriving here, and refusing them would fail
     * admission calls the API server does not retry. */
    sa_server_draining(server);
    sa_server_draining(metrics);
    if (cfg.shutdown_delay && wait_signal(&sigs, reloader, cfg.shutdown_delay))
        sa_log(SA_LOG_INFO, "shutdown delay cut short by a second signal", NULL);
    sa_log(SA_LOG_INFO, "no longer accepting connections; draining", NULL);
    status = 0;
out:
    if (status)
        sa_log(SA_LOG_ERROR, "cannot start", "reason", err, NULL);
    /* Admission first, so scrapes see the drain, and the metrics listener's /readyz (which the
     * kubelet probes when client certificates are required) keeps failing all along; the
     * watchers outlive the servers using them. */
    sa_server_draining(metrics);
    sa_server_stop(server, cfg.drain_timeout);
    sa_server_stop(metrics, 1);
    sa_reload_stop(reloader);
    sa_tls_free(tls);
    sa_state_destroy(&state);
    if (!status)
        sa_log(SA_LOG_INFO, "stopped", NULL);
    return status;
}

/* ---- review ------------------------------------------------------------------------ */

static const char review_usage[] =
    "usage: session-admission review [--policy FILE] [--public-key FILE] [--path /mutate|/validate] [FILE|-]\n\n"
    "Judges one AdmissionReview offline, with the same core as the server, and prints the\n"
    "response AdmissionReview on stdout (the decoded patch, if any, goes to stderr).\n"
    "Without --policy it uses the built-in example policy; without --public-key, the policy's\n"
    "sessions.publicKey.file when it can be read here, else the built-in example key (said on\n"
    "stderr, with its fingerprint). --path defaults to /mutate for a Pod CREATE and /validate otherwise.\n"
    "Exit status: 0 when a response was produced (allowed or denied), 2 on unusable input.";

static void print_patch(const char *body, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "response"), "patch"));
    sa_buf raw = SA_BUF_INIT;
    if (b64 && sa_buf_base64_decode(b64, &raw) == 0)
        fprintf(stderr, "patch: %s\n", sa_buf_str(&raw));
    sa_buf_free(&raw);
    cJSON_Delete(doc);
}

/* Loads what an offline command judges with (sa_offline.h); says on stderr when the example key
 * stands in for the policy's. NULL after printing why. */
static sa_snapshot *offline_snapshot(const char *cmd, const char *policy, const char *key)
{
    sa_buf notes = SA_BUF_INIT, errors = SA_BUF_INIT;
    sa_snapshot *snap = sa_offline_load(policy, key, &notes, &errors);
    if (notes.len)
        fprintf(stderr, "session-admission %s: %s", cmd, sa_buf_str(&notes));
    if (!snap)
        fprintf(stderr, "session-admission %s: %s", cmd, sa_buf_str(&errors));
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    return snap;
}

static int cmd_review(int argc, char **argv)
{
    const char *policy_path = NULL, *key_path = NULL, *path = NULL;
    const sa_option opts[] = {
        {"--policy", "SA_POLICY", SA_OPT_STRING, &policy_path, "FILE", "policy file (default: built-in example)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &key_path, "FILE", "control plane public key (default: the policy's sessions.publicKey.file if readable, else the built-in example)", 0, 0},
        {"--path", NULL, SA_OPT_STRING, &path, "/mutate|/validate", "endpoint to judge as", 0, 0},
    };
    const char *pos[1] = {"-"};
    size_t npos;
    char err[1024];
    int rc = sa_options_parse(opts, sizeof opts / sizeof opts[0], argc, argv, pos, 1, &npos, stdout,
                              review_usage, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "session-admission review: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    if (path && strcmp(path, "/mutate") != 0 && strcmp(path, "/validate") != 0) {
        fprintf(stderr, "session-admission review: --path must be /mutate or /validate\n");
        return 2;
    }
    const char *input = npos ? pos[0] : "-";
    sa_buf body = SA_BUF_INIT;
    if (sa_buf_read_file(&body, strcmp(input, "-") == 0 ? "/dev/stdin" : input, REVIEW_INPUT_MAX,
                         err, sizeof err) < 0) {
        fprintf(stderr, "session-admission review: %s\n", err);
        return 2;
    }
    sa_snapshot *snap = offline_snapshot("review", policy_path, key_path);
    int status = 2;
    if (snap) {
        sa_endpoint ep = SA_ENDPOINT_VALIDATE;
        sa_review peek;
        if (path) {
            ep = strcmp(path, "/mutate") == 0 ? SA_ENDPOINT_MUTATE : SA_ENDPOINT_VALIDATE;
        } else if (sa_review_parse(&peek, sa_buf_str(&body), body.len, err, sizeof err) == 0) {
            if (strcmp(peek.kind, "Pod") == 0 && !*peek.group && strcmp(peek.operation, "CREATE") == 0)
                ep = SA_ENDPOINT_MUTATE;
            sa_review_free(&peek);
        }
        sa_admit_result res;
        sa_admit(snap, ep, sa_buf_str(&body), body.len, &res);
        if (res.http_status == 200) {
            fwrite(res.body, 1, res.body_len, stdout);
            fputc('\n', stdout);
            print_patch(res.body, res.body_len);
            status = 0;
        } else {
            fprintf(stderr, "session-admission review: %s", res.body ? res.body : "out of memory\n");
        }
        sa_admit_result_free(&res);
        sa_snapshot_release(snap);
    }
    sa_buf_free(&body);
    return status;
}

/* Parses the flags of a command that takes any number of positional arguments into *pos
 * (free it). Returns 0; 1 after --help; -1 with the reason printed. */
static int parse_files(const char *cmd, const sa_option *opts, size_t nopts, int argc, char **argv,
                       const char *usage, const char *none, const char ***pos, size_t *npos)
{
    char err[1024];
    *npos = 0;
    *pos = calloc((size_t)argc + 1, sizeof **pos);
    int rc = *pos ? sa_options_parse(opts, nopts, argc, argv, *pos, (size_t)argc, npos, stdout,
                                     usage, err, sizeof err)
                  : (snprintf(err, sizeof err, "out of memory"), -1);
    if (rc == 0 && !*npos)
        rc = -1, snprintf(err, sizeof err, "%s", none);
    if (rc < 0)
        fprintf(stderr, "session-admission %s: %s\n", cmd, err);
    return rc;
}

/* ---- scan ------------------------------------------------------------------------------ */

static const char scan_usage[] =
    "usage: session-admission scan [options] FILE...|-\n\n"
    "Judges plain Kubernetes objects as the API server would send them to the webhooks the chart\n"
    "registers: YAML or JSON, several YAML documents, Lists (kubectl get -o json|yaml, helm\n"
    "template). Session pods are mutated, then validated as mutated. One row per object: verdict\n"
    "(allowed, patched, warned, denied, not-judged), kind, namespace/name, rule ids, message;\n"
    "then a summary. Also the audit of what a cluster holds:\n"
    "  kubectl get roles,rolebindings,clusterroles,clusterrolebindings,pods -A -o json | session-admission scan -\n"
    "Exit status: 0 nothing would be denied, 1 something would, 2 unusable input.";

typedef struct scan_config {
    const char *policy, *public_key, *user, *operation, *ns, *output;
    sa_option_list groups;
    int show_patched;
} scan_config;

static int cmd_scan(int argc, char **argv)
{
    scan_config cfg = {.output = "table"};
    const sa_option opts[] = {
        {"--policy", "SA_POLICY", SA_OPT_STRING, &cfg.policy, "FILE", "policy file (default: built-in example)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &cfg.public_key, "FILE", "control plane public key (default: the policy's sessions.publicKey.file if readable, else the built-in example)", 0, 0},
        {"--user", NULL, SA_OPT_STRING, &cfg.user, "NAME", "the requesting user (default session-admission-scan)", 0, 0},
        {"--group", NULL, SA_OPT_LIST, &cfg.groups, "NAME", "a group of the user; repeat for more (system:authenticated is always added)", 0, 0},
        {"--operation", NULL, SA_OPT_STRING, &cfg.operation, "OP", "CREATE (default), UPDATE or DELETE", 0, 0},
        {"--namespace", NULL, SA_OPT_STRING, &cfg.ns, "NS", "namespace of namespaced objects that name none (default \"default\", as kubectl)", 0, 0},
        {"-o", NULL, SA_OPT_STRING, &cfg.output, "table|json", "output: a table (default) or one JSON object per line", 0, 0},
        {"--show-patched", NULL, SA_OPT_FLAG, &cfg.show_patched, NULL, "print each mutated object", 0, 0},
    };
    const char **pos;
    size_t npos;
    char err[1024];
    int rc = parse_files("scan", opts, sizeof opts / sizeof opts[0], argc, argv, scan_usage,
                         "name at least one FILE, or - for stdin", &pos, &npos);
    int ok_op = !cfg.operation || strcmp(cfg.operation, "CREATE") == 0 ||
                strcmp(cfg.operation, "UPDATE") == 0 || strcmp(cfg.operation, "DELETE") == 0;
    if (rc == 0 && strcmp(cfg.output, "table") != 0 && strcmp(cfg.output, "json") != 0) {
        fprintf(stderr, "session-admission scan: -o must be table or json\n");
        rc = -1;
    } else if (rc == 0 && !ok_op) {
        fprintf(stderr, "session-admission scan: --operation must be CREATE, UPDATE or DELETE\n");
        rc = -1;
    }
    if (rc != 0) {
        free(pos);
        return rc < 0 ? 2 : 0;
    }
    /* Every file is read before anything is judged: unusable input judges nothing. All the
     * documents live until the end, so their nodes come from one arena freed at once (a third of
     * the work was malloc and free of nodes); nothing cJSON allocates outlives it. */
    sa_json_arena_begin();
    sa_objects *files = calloc(npos, sizeof *files);
    int status = files ? 0 : 2;
    for (size_t i = 0; i < npos && status == 0; i++) {
        sa_buf text = SA_BUF_INIT;
        const char *name = strcmp(pos[i], "-") == 0 ? "<stdin>" : pos[i];
        if (sa_buf_read_file(&text, strcmp(pos[i], "-") == 0 ? "/dev/stdin" : pos[i], SCAN_INPUT_MAX, err, sizeof err) < 0 ||
            sa_objects_read(&files[i], name, sa_buf_str(&text), text.len, err, sizeof err) < 0) {
            fprintf(stderr, "session-admission scan: %s\n", err);
            status = 2;
        }
        sa_buf_free(&text);
    }
    sa_snapshot *snap = status ? NULL : offline_snapshot("scan", cfg.policy, cfg.public_key);
    if (!snap)
        status = 2;
    sa_scan_request rq = {.operation = cfg.operation, .username = cfg.user, .groups = cfg.groups.items,
                          .ngroups = cfg.groups.n, .default_namespace = cfg.ns};
    size_t counts[SA_SCAN_VERDICT_COUNT] = {0}, total = 0;
    int json = strcmp(cfg.output, "json") == 0;
    if (snap && !json)
        puts(sa_scan_table_header);
    for (size_t i = 0; snap && i < npos; i++) {
        const char *name = strcmp(pos[i], "-") == 0 ? "<stdin>" : pos[i];
        for (size_t j = 0; j < files[i].count; j++) {
            sa_scan_result res;
            sa_scan_object(snap, files[i].items[j].obj, &rq, &res);
            sa_buf row = SA_BUF_INIT;
            sa_scan_format_row(&res, name, &files[i].items[j], json, cfg.show_patched, &row);
            puts(sa_buf_str(&row));
            sa_buf_free(&row);
            if (res.verdict == SA_SCAN_ERROR) {
                fprintf(stderr, "session-admission scan: %s: document %u: %s\n", name, files[i].items[j].doc, res.error);
                status = 2;
            }
            counts[res.verdict]++;
            total++;
            sa_scan_result_free(&res);
        }
    }
    if (snap) {
        fprintf(json ? stderr : stdout,
                "%zu objects: %zu allowed, %zu patched, %zu warned, %zu denied, %zu not judged%s\n", total,
                counts[SA_SCAN_ALLOWED], counts[SA_SCAN_PATCHED], counts[SA_SCAN_WARNED],
                counts[SA_SCAN_DENIED], counts[SA_SCAN_NOT_JUDGED],
                counts[SA_SCAN_ERROR] ? ", some unusable" : "");
        if (status == 0 && counts[SA_SCAN_DENIED])
            status = 1;
    }
    sa_snapshot_release(snap);
    for (size_t i = 0; files && i < npos; i++)
        sa_objects_free(&files[i]);
    sa_json_arena_end();
    free(files);
    free(pos);
    return status;
}

/* ---- test ------------------------------------------------------------------------------ */

static const char test_usage[] =
    "usage: session-admission test [--policy FILE] [--public-key FILE] SUITE|DIR...\n\n"
    "Runs policy test suites (YAML, kind TestSuite; a directory: every suite in it; the format\n"
    "is documented in examples/tests/suite.yaml). Prints PASS or FAIL per case with the reason,\n"
    "then \"N passed, N failed\". Exit status: 0 all passed, 1 a case failed, 2 a suite is unusable.";

static int cmd_test(int argc, char **argv)
{
    const char *policy = NULL, *key = NULL;
    const sa_option opts[] = {
        {"--policy", NULL, SA_OPT_STRING, &policy, "FILE", "judge with this policy instead of the suites' own", 0, 0},
        {"--public-key", NULL, SA_OPT_STRING, &key, "FILE", "and this key", 0, 0},
    };
    const char **pos;
    size_t npos;
    char err[1024];
    int rc = parse_files("test", opts, sizeof opts / sizeof opts[0], argc, argv, test_usage,
                         "name a SUITE file or a directory of suites", &pos, &npos);
    if (rc != 0) {
        free(pos);
        return rc < 0 ? 2 : 0;
    }
    sa_suite_totals t = {0, 0};
    int status = 0;
    for (size_t i = 0; i < npos && status == 0; i++) {
        sa_buf out = SA_BUF_INIT, notes = SA_BUF_INIT;
        if (sa_suite_run(pos[i], policy, key, &out, &notes, &t, err, sizeof err) < 0) {
            fprintf(stderr, "session-admission test: %s\n", err);
            status = 2;
        }
        fprintf(stderr, "%s", sa_buf_str(&notes));
        fputs(sa_buf_str(&out), stdout);
        sa_buf_free(&out);
        sa_buf_free(&notes);
    }
    printf("%u passed, %u failed\n", t.passed, t.failed);
    free(pos);
    return status ? status : t.failed ? 1 : 0;
}

/* ---- check-policy -------------------------------------------------------------------- */

static const char check_usage[] =
    "usage: session-admission check-policy FILE\n\n"
    "Checks a policy file fully. Prints OK and a summary of the table sizes (exit 0), or one line\n"
    "per error as FILE:LINE:COLUMN: what was expected (exit 1). The key file the policy names\n"
    "(sessions.publicKey.file) is checked too when it can be read here: a public RSA key of at\n"
    "least 2048 bits, never a private key; stderr says what was found, or that it could not be\n"
    "checked.";

static int cmd_check_policy(int argc, char **argv)
{
    const char *pos[1];
    size_t npos;
    char err[256];
    int rc = sa_options_parse(NULL, 0, argc, argv, pos, 1, &npos, stdout, check_usage, err, sizeof err);
    if (rc != 0 || npos != 1) {
        if (rc <= 0)
            fprintf(stderr, "session-admission check-policy: %s\n", rc < 0 ? err : "expected one FILE");
        return rc > 0 ? 0 : 2;
    }
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = sa_policy_load_file(pos[0], &errors);
    if (!p) {
        fputs(sa_buf_str(&errors), stdout);
        sa_buf_free(&errors);
        return 1;
    }
    /* The key file as well, when it can be read here (it usually exists only in the pod). */
    sa_buf notes = SA_BUF_INIT;
    int status = sa_offline_check_key(p, &notes, &errors) < 0 ? 1 : 0;
    if (status) {
        fputs(sa_buf_str(&errors), stdout);
    } else {
        sa_buf summary = SA_BUF_INIT;
        sa_policy_summary(p, &summary);
        printf("OK %s\n", sa_buf_str(&summary));
        sa_buf_free(&summary);
    }
    fprintf(stderr, "%s", sa_buf_str(&notes));
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    sa_policy_free(p);
    return status;
}

/* ---- version and help ---------------------------------------------------------------- */

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("session-admission %s (libmicrohttpd %s, %s, cJSON %s, libyaml %s)\n", SA_VERSION,
           MHD_get_version(), OpenSSL_version(OPENSSL_VERSION), cJSON_Version(),
           yaml_get_version_string());
    return 0;
}

static const char main_usage[] =
    "usage: session-admission COMMAND [options]\n\n"
    "commands:\n"
    "  serve          run the HTTPS admission webhook (serve --dev: nothing to prepare)\n"
    "  review         judge one AdmissionReview offline and print the response\n"
    "  scan           judge manifests or a cluster's objects (kubectl get -o json) offline\n"
    "  test           run policy test suites\n"
    "  check-policy   check a policy file\n"
    "  version        print the version\n\n"
    "Run session-admission COMMAND --help for a command's options.";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"serve", cmd_serve},
        {"review", cmd_review},
        {"scan", cmd_scan},
        {"test", cmd_test},
        {"check-policy", cmd_check_policy},
        {"version", cmd_version},
    };
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        puts(main_usage);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "session-admission: unknown command \"%s\"\n%s\n", argv[1], main_usage);
    return 2;
}
