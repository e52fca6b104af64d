/* sa_conns.h: the connections of one listener, whether each is between requests or receiving
 * one, the per-request deadline, and closing idle connections when the server stops.
 *
 * libmicrohttpd 0.9.75 has one timer per connection, and it restarts with every byte: a client
 * sending a byte a second holds its connection (and its share of --max-connections) for ever.
 * So the two deadlines are split:
 * - between requests a kept-alive connection may stay idle for the idle timeout (libmicrohttpd's
 *   own timer; longer than the API server's, so the client is the side that closes it);
 * - a request must arrive whole (TLS handshake if any, headers and body) within the request
 *   timeout of its first byte, or its connection is cut.
 * The first byte of a request is seen in the kernel's count of bytes received on the socket
 * (TCP_INFO), so nothing of libmicrohttpd's parsing needs to be known: a connection whose count
 * grew since its last answer is receiving a request. A watcher thread looks twice a second.
 *
 * The server embeds an sa_conn in its per-connection record and reports the events it sees. Every
 * function is thread-safe. A request's events cost three atomic stores, one compare-and-swap and
 * the one getsockopt that records where its connection's idle time starts: no lock, since they
 * come from libmicrohttpd's workers for every request. The listener's lock guards the list of
 * connections (each added and removed once) and the watcher's passes over it. */
#ifndef SA_CONNS_H
#define SA_CONNS_H

#include <stdatomic.h>
#include <stdint.h>

typedef enum sa_conn_phase {
    SA_CONN_IDLE,      /* between requests (or before the first) */
    SA_CONN_RECEIVING, /* bytes of a request arrived; it is not whole yet */
    SA_CONN_ANSWERING  /* the request is whole: its answer is being made or sent */
} sa_conn_phase;

/* One connection; the caller's, embedded in its own per-connection record. Only conns.c reads or
 * writes the fields. */
typedef struct sa_conn {
    struct sa_conn *prev, *next; /* the listener's lock */
    int fd;
    int cut; /* already cut by the deadline (the listener's lock) */
    /* The phase, whether the headers are in, and: receiving, when its first byte was seen (ms);
     * idle, which idle period this is (so the watcher cannot judge one by another's bytes). */
    _Atomic uint64_t state;
    _Atomic uint64_t idle_bytes; /* bytes received when it last became idle */
    uint64_t idle_periods;       /* the worker's own: idle periods so far */
} sa_conn;

typedef struct sa_conns sa_conns;

/* Starts tracking for a listener. request_timeout: seconds (0: no request deadline, then no
 * thread). name names the listener in log lines. NULL if out of memory or no thread. */
sa_conns *sa_conns_new(const char *name, unsigned request_timeout);
/* Stops the watcher and frees; every connection must have been removed. Accepts NULL. */
void sa_conns_free(sa_conns *cs);

/* A new connection on fd (its bytes so far count as a request's: a TLS ClientHello starts the
 * clock). */
void sa_conns_add(sa_conns *cs, sa_conn *c, int fd);
/* The connection is being closed; called before its socket is. */
void sa_conns_remove(sa_conns *cs, sa_conn *c);
/* The request's headers are in (its body may follow). */
void sa_conns_headers_in(sa_conns *cs, sa_conn *c);
/* The request is whole: its deadline no longer applies. */
void sa_conns_received(sa_conns *cs, sa_conn *c);
/* Its answer is done: the connection is between requests again. */
void sa_conns_idle(sa_conns *cs, sa_conn *c);

/* Closes (shuts down) every connection that is between requests and has received nothing since;
 * one receiving or answering a request is left to finish (the request deadline still applies).
 * Returns how many connections are left open, counting the ones just shut down until they are
 * removed. */
unsigned sa_conns_close_idle(sa_conns *cs);
/* Connections open. */
unsigned sa_conns_count(sa_conns *cs);

#endif
