/* conns.c: per-request deadlines and the idle close at shutdown (see sa_conns.h).
 *
 * The watcher reads each tracked socket's TCP_INFO, whose tcpi_bytes_received (Linux 4.1) counts
 * every byte the peer sent. Socket descriptors stay valid while the lock is held: the server
 * removes a connection (under the lock) before libmicrohttpd closes its socket, so a descriptor
 * read here is never one the kernel has handed to another connection. Cutting is shutdown(2),
 * never close(2): libmicrohttpd sees the end of the stream and closes and frees the connection
 * itself, on its own thread. */
#include "sa_conns.h"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sa_log.h"
#include "sa_metrics.h"
#include "sa_poll.h"

/* How often the watcher looks: a request is cut at most this much after its deadline. */
#define WATCH_INTERVAL_MS 500

struct sa_conns {
    pthread_mutex_t lock;       /* guards the list and every tracked sa_conn */
    sa_conn *head;
    unsigned count;
    unsigned request_timeout;
    const char *name;           /* static */
    sa_poller *watcher;         /* NULL without a request deadline */
};

/* Bytes the peer has sent on fd so far; 0 when the kernel cannot say (not TCP, or too old), in
 * which case a request's clock starts when its headers are in. */
static uint64_t bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return 0;
    return ti.tcpi_bytes_received;
}

static double seconds_since(const struct timespec *t, const struct timespec *now)
{
    return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

/* An idle connection whose peer has sent bytes since its last answer is receiving a request
 * from now on (the lock is held). */
static void notice_bytes(sa_conn *c, const struct timespec *now)
{
    if (c->phase == SA_CONN_IDLE && bytes_received(c->fd) > c->idle_bytes) {
        c->phase = SA_CONN_RECEIVING;
        c->since = *now;
    }
}

static void peer_of(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        } else if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        }
    }
    snprintf(out, len, "%s:%u", host, port);
}

/* Cuts a connection (the lock is held): libmicrohttpd sees the end and closes it. */
static void cut(sa_conns *cs, sa_conn *c, const char *why, const struct timespec *now)
{
    shutdown(c->fd, SHUT_RDWR);
    c->cut = 1;
    if (!why)
        return;
    sa_metrics_request_timeout();
    char peer[INET6_ADDRSTRLEN + 8], secs[32];
    peer_of(c->fd, peer, sizeof peer);
    snprintf(secs, sizeof secs, "%.1f", seconds_since(&c->since, now));
    sa_log(SA_LOG_WARN, why, "listener", cs->name, "peer", peer,
           "waiting_for", c->headers_in ? "body" : "handshake or headers", "seconds", secs, NULL);
}

/* One pass over the connections: cuts every one whose request is not whole by its deadline,
 * and with close_idle every one between requests. Returns how many are open. */
static unsigned sweep(sa_conns *cs, int close_idle)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&cs->lock);
    for (sa_conn *c = cs->head; c; c = c->next) {
        if (c->cut)
            continue;
        notice_bytes(c, &now); /* a request on its way is not idle */
        if (c->phase == SA_CONN_IDLE && close_idle)
            cut(cs, c, NULL, &now);
        else if (c->phase == SA_CONN_RECEIVING && cs->request_timeout &&
                 seconds_since(&c->since, &now) >= (double)cs->request_timeout)
            cut(cs, c, "request not received within --request-timeout; connection cut", &now);
    }
    unsigned n = cs->count;
    pthread_mutex_unlock(&cs->lock);
    return n;
}

static void watch(void *arg, int forced)
{
    (void)forced;
    sweep(arg, 0);
}

sa_conns *sa_conns_new(const char *name, unsigned request_timeout)
{
    sa_conns *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    pthread_mutex_init(&cs->lock, NULL);
    cs->name = name;
    cs->request_timeout = request_timeout;
    if (request_timeout && !(cs->watcher = sa_poll_start(WATCH_INTERVAL_MS, watch, cs))) {
        sa_conns_free(cs);
        return NULL;
    }
    return cs;
}

void sa_conns_free(sa_conns *cs)
{
    if (!cs)
        return;
    sa_poll_stop(cs->watcher);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

void sa_conns_add(sa_conns *cs, sa_conn *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->phase = SA_CONN_IDLE; /* idle_bytes 0: whatever arrived already starts a request */
    pthread_mutex_lock(&cs->lock);
    c->next = cs->head;
    if (cs->head)
        cs->head->prev = c;
    cs->head = c;
    cs->count++;
    pthread_mutex_unlock(&cs->lock);
}

void sa_conns_remove(sa_conns *cs, sa_conn *c)
{
    pthread_mutex_lock(&cs->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cs->count--;
    pthread_mutex_unlock(&cs->lock);
}

void sa_conns_headers_in(sa_conns *cs, sa_conn *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&cs->lock);
    if (c->phase != SA_CONN_RECEIVING) { /* its first bytes came between two looks */
        c->phase = SA_CONN_RECEIVING;
        c->since = now;
    }
    c->headers_in = 1;
    pthread_mutex_unlock(&cs->lock);
}

void sa_conns_received(sa_conns *cs, sa_conn *c)
{
    pthread_mutex_lock(&cs->lock);
    c->phase = SA_CONN_ANSWERING;
    pthread_mutex_unlock(&cs->lock);
}

void sa_conns_idle(sa_conns *cs, sa_conn *c)
{
    uint64_t seen = bytes_received(c->fd); /* outside the lock: one system call */
    pthread_mutex_lock(&cs->lock);
    c->phase = SA_CONN_IDLE;
    c->headers_in = 0;
    c->idle_bytes = seen;
    pthread_mutex_unlock(&cs->lock);
}

unsigned sa_conns_close_idle(sa_conns *cs)
{
    return sweep(cs, 1);
}

unsigned sa_conns_count(sa_conns *cs)
{
    pthread_mutex_lock(&cs->lock);
    unsigned n = cs->count;
    pthread_mutex_unlock(&cs->lock);
    return n;
}
