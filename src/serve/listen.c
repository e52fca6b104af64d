/* listen.c: listen addresses into socket addresses, and their ports (see sa_listen.h). */
#include "sa_listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sa_listen_parse(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    memset(ss, 0, sizeof *ss);
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "listen address %s: expected ADDR:PORT", listen);
        return -1;
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535) {
        snprintf(err, errlen, "listen address %s: bad port", listen);
        return -1;
    }
    char host[INET6_ADDRSTRLEN + 2];
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= sizeof host) {
        snprintf(err, errlen, "listen address %s: bad address", listen);
        return -1;
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((unsigned short)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1)
            return 0;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((unsigned short)port);
        if (hlen == 0 || inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
            if (hlen == 0)
                a4->sin_addr.s_addr = htonl(INADDR_ANY);
            return 0;
        }
    }
    snprintf(err, errlen, "listen address %s: bad address", listen);
    return -1;
}

void sa_listen_set_port(struct sockaddr_storage *ss, unsigned port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
}
