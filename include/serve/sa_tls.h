/* sa_tls.h: the admission listener's TLS: serving credentials, rotation, protocol policy and
 * client authentication, for libmicrohttpd on GnuTLS.
 *
 * - Credentials are checked in one place (tls.c) before use: the chain parses, the key matches
 *   the leaf, the leaf has not expired. A pair that fails is refused with a one-line reason that
 *   never carries key material, and the last good pair keeps serving.
 * - Rotation: the certificate and key files are polled with stat (following symlinks, so a
 *   Kubernetes Secret's `..data` swap is seen) and a changed pair is swapped in atomically. Every
 *   handshake takes its own copy of the pair in force through libmicrohttpd's per-handshake
 *   certificate callback, so new connections get the new certificate within a poll interval or
 *   two, established connections are untouched, and nothing is freed under a handshake.
 * - Protocol: TLS 1.2 and 1.3 (or 1.3 only), ECDHE key exchange and AEAD ciphers only.
 * - Client authentication (optional): a client certificate signed by the given CA, for TLS web
 *   client use, and if asked with a pinned subject CN, is required during the handshake; a
 *   connection without one fails the handshake and never reaches a request handler. */
#ifndef SA_TLS_H
#define SA_TLS_H

#include <gnutls/abstract.h>
#include <stddef.h>

struct MHD_Connection;

typedef struct sa_tls_config {
    const char *cert_file; /* serving chain (PEM), watched; or NULL and cert_pem given */
    const char *key_file;  /* its private key (PEM), watched; or NULL and key_pem given */
    const char *cert_pem;  /* in-memory pair for --dev (copied), never reloaded */
    const char *key_pem;
    const char *min_version;    /* "1.2" or "1.3" */
    const char *client_ca_file; /* NULL: no client certificate asked */
    const char *client_cn;      /* NULL: any subject the CA signed (copied) */
    unsigned poll_ms;           /* how often the files are checked */
} sa_tls_config;

typedef struct sa_tls sa_tls;

/* Loads and checks the credentials and starts watching the files. NULL with a one-line reason. */
sa_tls *sa_tls_new(const sa_tls_config *cfg, char *err, size_t errlen);
/* Stops watching and frees; only after the server using it has stopped. Accepts NULL. */
void sa_tls_free(sa_tls *t);

/* For sa_listener: the GnuTLS priority string, and the client CA PEM (NULL when off) for
 * MHD_OPTION_HTTPS_MEM_TRUST. Both live as long as t. */
const char *sa_tls_priorities(const sa_tls *t);
const char *sa_tls_client_ca(const sa_tls *t);
/* The certificate callback, for MHD_OPTION_HTTPS_CERT_CALLBACK2. */
gnutls_certificate_retrieve_function3 sa_tls_retrieve_cert;
/* To call from MHD_OPTION_NOTIFY_CONNECTION on MHD_CONNECTION_NOTIFY_STARTED, before the
 * handshake: fills slot, where the connection's socket context must point (the first member of
 * the caller's per-connection record: the callbacks find t through it), and requires a client
 * certificate when client authentication is on. */
void sa_tls_connection_started(sa_tls *t, struct MHD_Connection *c, sa_tls **slot);

#endif
