/* conns.c: per-request deadlines and the idle close at shutdown (see sa_conns.h).
 *
 * The watcher reads each tracked socket's TCP_INFO, whose tcpi_bytes_received (Linux 4.1) counts
 * every byte the peer sent. Socket descriptors stay valid while the lock is held: the server
 * removes a connection (under the lock) before libmicrohttpd closes its socket, so a descriptor
 * read here is never one the kernel has handed to another connection. Cutting is shutdown(2),
 * never close(2): libmicrohttpd sees the end of the stream and closes and frees the connection
 * itself, on its own thread.
 *
 * A connection's phase lives in one atomic word, so a request's events take no lock: the worker
 * serving the connection moves it along, and the watcher's one move, from idle to receiving when
 * bytes arrived, is a compare-and-swap that fails if the worker moved first. The byte count at
 * the start of an idle period is read by the worker, at that moment (one getsockopt per
 * request): read later by the watcher, it would count a request that began in between as idle
 * time, leaving that request without a deadline and letting the stop cut it as idle. */
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
#include <time.h>

#include "sa_log.h"
#include "sa_metrics.h"
#include "sa_poll.h"

/* How often the watcher looks: a request is cut at most this much after its deadline. */
#define WATCH_INTERVAL_MS 500

/* sa_conn.state: the phase in the low two bits, then whether the headers are in, then the
 * payload (receiving: since when, in ms; idle: the idle period). */
#define PHASE_MASK 3u
#define HEADERS_IN 4u
#define PAYLOAD_SHIFT 3

struct sa_conns {
    pthread_mutex_t lock; /* guards the list and the connections' cut flags */
    sa_conn *head;
    unsigned count;
    unsigned request_timeout;
    const char *name;   /* static */
    sa_poller *watcher; /* NULL without a request deadline */
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

static uint64_t pack(sa_conn_phase phase, int headers_in, uint64_t payload)
{
    return payload << PAYLOAD_SHIFT | (headers_in ? HEADERS_IN : 0) | (uint64_t)phase;
}

static sa_conn_phase phase_of(uint64_t state)
{
    return (sa_conn_phase)(state & PHASE_MASK);
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* An idle connection whose peer has sent bytes since its last answer is receiving a request
 * from now on (the watcher's, the lock held). Returns the state as it now is. */
static uint64_t notice_bytes(sa_conn *c, uint64_t now)
{
    uint64_t state = atomic_load_explicit(&c->state, memory_order_acquire);
    if (phase_of(state) != SA_CONN_IDLE ||
        bytes_received(c->fd) <= atomic_load_explicit(&c->idle_bytes, memory_order_acquire))
        return state;
    /* Fails when the worker moved first (headers in, or a later idle period whose count was
     * read above): the state it stored stands. */
    uint64_t receiving = pack(SA_CONN_RECEIVING, 0, now);
    return atomic_compare_exchange_strong(&c->state, &state, receiving) ? receiving : state;
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

/* Cuts a connection (the lock is held): libmicrohttpd sees the end and closes it. state: as
 * the sweep saw it, for the log line. */
static void cut(sa_conns *cs, sa_conn *c, const char *why, uint64_t state, uint64_t now)
{
    shutdown(c->fd, SHUT_RDWR);
    c->cut = 1;
    if (!why)
        return;
    sa_metrics_request_timeout();
    char peer[INET6_ADDRSTRLEN + 8], secs[32];
    peer_of(c->fd, peer, sizeof peer);
    snprintf(secs, sizeof secs, "%.1f", (double)(now - (state >> PAYLOAD_SHIFT)) / 1000);
    sa_log(SA_LOG_WARN, why, "listener", cs->name, "peer", peer, "waiting_for",
           state & HEADERS_IN ? "body" : "handshake or headers", "seconds", secs, NULL);
}

/* One pass over the connections: cuts every one whose request is not whole by its deadline,
 * and with close_idle every one between requests. Returns how many are open. A worker may move
 * a connection on while it is judged (its request whole just at the deadline, a request's first
 * bytes just as the stop closes it): the same as when the move comes just after the cut. */
static unsigned sweep(sa_conns *cs, int close_idle)
{
    uint64_t now = now_ms(), timeout_ms = (uint64_t)cs->request_timeout * 1000;
    pthread_mutex_lock(&cs->lock);
    for (sa_conn *c = cs->head; c; c = c->next) {
        if (c->cut)
            continue;
        uint64_t state = notice_bytes(c, now); /* a request on its way is not idle */
        if (phase_of(state) == SA_CONN_IDLE && close_idle)
            cut(cs, c, NULL, state, now);
        else if (phase_of(state) == SA_CONN_RECEIVING && timeout_ms && /* since may be after now */
                 now >= (state >> PAYLOAD_SHIFT) + timeout_ms)
            cut(cs, c, "request not received within --request-timeout; connection cut", state, now);
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
    /* Idle with a count of 0: whatever arrived already starts a request. */
    atomic_init(&c->state, pack(SA_CONN_IDLE, 0, 0));
    atomic_init(&c->idle_bytes, 0);
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
    (void)cs;
    uint64_t state = atomic_load_explicit(&c->state, memory_order_acquire), next;
    do /* the watcher may have seen its first bytes: that clock stands */
        next = phase_of(state) == SA_CONN_RECEIVING ? state | HEADERS_IN
                                                    : pack(SA_CONN_RECEIVING, 1, now_ms());
    while (!atomic_compare_exchange_weak(&c->state, &state, next));
}

void sa_conns_received(sa_conns *cs, sa_conn *c)
{
    (void)cs;
    atomic_store_explicit(&c->state, pack(SA_CONN_ANSWERING, 0, 0), memory_order_release);
}

void sa_conns_idle(sa_conns *cs, sa_conn *c)
{
    (void)cs;
    /* The count first: the watcher reads it only once it sees this idle period. */
    atomic_store_explicit(&c->idle_bytes, bytes_received(c->fd), memory_order_release);
    atomic_store_explicit(&c->state, pack(SA_CONN_IDLE, 0, ++c->idle_periods),
                          memory_order_release);
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
