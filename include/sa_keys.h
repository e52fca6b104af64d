/* sa_keys.h: keys and certificates, with OpenSSL's libcrypto.
 *
 * - The control plane's token public key: read from public.pem, accepted only as an RSA key of
 *   at least 2048 bits in a PEM "PUBLIC KEY" (PKIX) block. A file holding any private key is
 *   refused outright, and no key material is ever put in an error message.
 * - The in-memory development PKI for `serve --dev`: a CA, a serving certificate for localhost
 *   and 127.0.0.1, and an RSA key pair standing in for the control plane's. */
#ifndef SA_KEYS_H
#define SA_KEYS_H

#include <stddef.h>

#define SA_PUBKEY_MIN_BITS 2048

typedef struct sa_pubkey {
    char *pem;                  /* canonical PEM re-encoded from the parsed key (what pods get) */
    size_t pem_len;
    char *pem_json;             /* the same as a JSON string literal, quotes included: escaped once
                                 * per load, not once per container on every request */
    char fingerprint[65];       /* lower-case hex SHA-256 of the DER SubjectPublicKeyInfo */
    int bits;
} sa_pubkey;

/* Parses a public key PEM. NULL with a one-line reason in err on failure. */
sa_pubkey *sa_pubkey_parse(const char *pem, size_t len, char *err, size_t errlen);
/* Reads and parses a file (at most 64 KiB). NULL with a one-line reason in err. */
sa_pubkey *sa_pubkey_load(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void sa_pubkey_free(sa_pubkey *k);

/* The development PKI, all PEM text owned by the struct. */
typedef struct sa_dev_pki {
    char *ca_cert_pem;          /* what curl --cacert wants */
    char *server_cert_pem;      /* for localhost and 127.0.0.1, signed by the CA */
    char *server_key_pem;
    char *cp_public_pem;        /* stand-in control plane key (its private half is discarded) */
} sa_dev_pki;

int sa_dev_pki_make(sa_dev_pki *pki, char *err, size_t errlen);
void sa_dev_pki_free(sa_dev_pki *pki);

#endif
