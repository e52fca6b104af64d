/* sa_pubkey.h: the control plane's token public key, with OpenSSL's libcrypto.
 *
 * Read from public.pem, accepted only as an RSA key of at least 2048 bits in a PEM "PUBLIC KEY"
 * (PKIX) block. A file holding any private key is refused outright, and no key material is ever
 * put in an error message. */
#ifndef SA_PUBKEY_H
#define SA_PUBKEY_H

#include <stddef.h>

#define SA_PUBKEY_MIN_BITS 2048

typedef struct sa_pubkey {
    char *pem; /* canonical PEM re-encoded from the parsed key (what pods get) */
    size_t pem_len;
    char *pem_json;       /* the same as a JSON string literal, quotes included: escaped once
                                 * per load, not once per container on every request */
    char fingerprint[65]; /* lower-case hex SHA-256 of the DER SubjectPublicKeyInfo */
    int bits;
} sa_pubkey;

/* Parses a public key PEM. NULL with a one-line reason in err on failure. */
sa_pubkey *sa_pubkey_parse(const char *pem, size_t len, char *err, size_t errlen);
/* Reads and parses a file (at most 64 KiB). NULL with a one-line reason in err. */
sa_pubkey *sa_pubkey_load(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void sa_pubkey_free(sa_pubkey *k);

#endif
