/* sa_devpki.h: the in-memory development PKI for `serve --dev`, with OpenSSL's libcrypto: a CA,
 * a serving certificate for localhost and 127.0.0.1, and an RSA key pair standing in for the
 * control plane's. Nothing touches disk unless --dev-ca-out asks for the CA. */
#ifndef SA_DEVPKI_H
#define SA_DEVPKI_H

#include <stddef.h>

/* The development PKI, all PEM text owned by the struct. */
typedef struct sa_devpki {
    char *ca_cert_pem;     /* what curl --cacert wants */
    char *server_cert_pem; /* for localhost and 127.0.0.1, signed by the CA */
    char *server_key_pem;
    char *cp_public_pem; /* stand-in control plane key (its private half is discarded) */
} sa_devpki;

int sa_devpki_make(sa_devpki *pki, char *err, size_t errlen);
void sa_devpki_free(sa_devpki *pki);

#endif
