/* sa_listen.h: a listen address, as the --listen and --metrics-listen flags give it, into a socket
 * address: "ADDR:PORT" (IPv4), "[v6]:PORT", or ":PORT" for every IPv4 address; port 0 picks a
 * free one. Apart from the server so that the bench's null server binds the same way. */
#ifndef SA_LISTEN_H
#define SA_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

/* 0, or -1 with a one-line reason in err. */
int sa_listen_parse(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen);
/* Sets the port of a parsed address: once port 0 has been bound, the port picked is the one
 * every listening socket of the server binds. */
void sa_listen_set_port(struct sockaddr_storage *ss, unsigned port);

#endif
