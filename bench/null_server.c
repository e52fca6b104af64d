/* null_server.c: the benchmark's baseline, a libmicrohttpd TLS server that does no admission work.
 *
 *   null_server ADDR:PORT CERT KEY THREADS RESPONSE_FILE   (PORT not 0: every thread's socket binds it)
 *
 * It reads each request body and throws it away, then answers every POST with the same bytes
 * (a fixed AdmissionReview response) without parsing anything. Everything else is what `serve`
 * does: the same libmicrohttpd flags and one daemon per thread, each with its own listening socket
 * on the port (SO_REUSEPORT, the kernel spreading the connections), the same TLS module (priorities, the
 * per-handshake certificate callback and the connection hook, from src/serve/tls.c) and the same idle
 * timeout. So our throughput divided by this one's is the share of the transport's speed the
 * admission work (parse, judge, patch, encode, log, metrics) leaves, on the same machine in the
 * same run. Built only with -DSA_BENCH=ON; runs until SIGTERM or SIGINT. */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sa_buf.h"
#include "sa_listen.h"
#include "sa_tls.h"

typedef struct null_server {
    sa_tls *tls;
    const char *response;
    size_t response_len;
} null_server;

static char request_marker; /* *ctx after the first call: the body is being read */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **ctx)
{
    (void)url, (void)method, (void)version, (void)upload;
    null_server *ns = cls;
    if (!*ctx) {
        *ctx = &request_marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* read, not kept */
        return MHD_YES;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        ns->response_len, (void *)ns->response, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    null_server *ns = cls;
    /* As the server does: the socket context points at a per-connection record whose first
     * member is the TLS slot the certificate callback reads. */
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        sa_tls **slot = malloc(sizeof *slot);
        if (slot)
            sa_tls_connection_started(ns->tls, c, slot);
        *socket_context = slot;
    } else {
        free(*socket_context);
        *socket_context = NULL;
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: null_server ADDR:PORT CERT KEY THREADS RESPONSE_FILE\n");
        return 2;
    }
    char err[512];
    struct sockaddr_storage ss;
    sa_buf response = SA_BUF_INIT;
    unsigned threads = (unsigned)strtoul(argv[4], NULL, 10);
    sa_tls_config tcfg = {
        .cert_file = argv[2], .key_file = argv[3], .min_version = "1.2", .poll_ms = 2000};
    null_server ns = {0};
    if (sa_listen_parse(argv[1], &ss, err, sizeof err) < 0 ||
        sa_buf_read_file(&response, argv[5], 1u << 20, err, sizeof err) < 0 ||
        !(ns.tls = sa_tls_new(&tcfg, err, sizeof err))) {
        fprintf(stderr, "null_server: %s\n", err);
        return 1;
    }
    ns.response = sa_buf_str(&response);
    ns.response_len = response.len;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* before any thread starts: sigwait below */
    if (!threads || threads > 256) {
        fprintf(stderr, "null_server: THREADS must be from 1 to 256\n");
        return 2;
    }
    struct MHD_Daemon *d[256];
    unsigned started = 0;
    for (; started < threads; started++) {
        d[started] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_TLS, 0, NULL,
            NULL, on_request, &ns, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_HTTPS_CERT_CALLBACK2,
            sa_tls_retrieve_cert, MHD_OPTION_HTTPS_PRIORITIES, sa_tls_priorities(ns.tls),
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, &ns, MHD_OPTION_CONNECTION_LIMIT, 1024u,
            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
        if (!d[started]) {
            fprintf(stderr, "null_server: cannot serve on %s\n", argv[1]);
            return 1;
        }
    }
    int sig;
    sigwait(&stop, &sig);
    while (started)
        MHD_stop_daemon(d[--started]);
    sa_tls_free(ns.tls);
    sa_buf_free(&response);
    return 0;
}
