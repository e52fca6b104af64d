/* pubkey.c: the control plane's token public key, read and checked with libcrypto (see
 * sa_pubkey.h). */
#define _GNU_SOURCE /* memmem */
#include "sa_pubkey.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_buf.h"

#define PUBKEY_FILE_MAX (64 * 1024)

/* The text of a memory BIO as a heap string. */
static char *bio_string(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    if (len)
        *len = (size_t)n;
    return s;
}

static char *json_literal(const char *s)
{
    sa_buf b = SA_BUF_INIT;
    sa_buf_json_string(&b, s);
    return sa_buf_steal(&b, NULL);
}

sa_pubkey *sa_pubkey_parse(const char *pem, size_t len, char *err, size_t errlen)
{
    /* Refuse private keys before parsing anything: the webhook must never hold one. The check
     * is on the PEM armour, so no key bytes are ever echoed. */
    if (memmem(pem, len, "PRIVATE KEY", 11)) {
        snprintf(err, errlen, "holds a private key; give the webhook only public.pem");
        return NULL;
    }
    if (!memmem(pem, len, "-----BEGIN PUBLIC KEY-----", 26)) {
        snprintf(err, errlen, "no PEM \"PUBLIC KEY\" block (PKIX SubjectPublicKeyInfo expected)");
        return NULL;
    }
    sa_pubkey *k = NULL;
    BIO *in = BIO_new_mem_buf(pem, (int)len);
    BIO *out = BIO_new(BIO_s_mem());
    EVP_PKEY *pkey = in ? PEM_read_bio_PUBKEY(in, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int derlen;
    if (!pkey || !out) {
        snprintf(err, errlen, "cannot parse the PUBLIC KEY block");
    } else if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        snprintf(err, errlen, "not an RSA key");
    } else if (EVP_PKEY_get_bits(pkey) < SA_PUBKEY_MIN_BITS) {
        snprintf(err, errlen, "RSA key of %d bits; at least %d required", EVP_PKEY_get_bits(pkey),
                 SA_PUBKEY_MIN_BITS);
    } else if ((derlen = i2d_PUBKEY(pkey, &der)) <= 0 || !PEM_write_bio_PUBKEY(out, pkey)) {
        snprintf(err, errlen, "cannot encode the key");
    } else if (!(k = calloc(1, sizeof *k)) || !(k->pem = bio_string(out, &k->pem_len)) ||
               !(k->pem_json = json_literal(k->pem))) {
        snprintf(err, errlen, "out of memory");
        sa_pubkey_free(k);
        k = NULL;
    } else {
        unsigned char md[32];
        unsigned int mdlen = 0;
        EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL);
        for (unsigned i = 0; i < mdlen; i++)
            snprintf(k->fingerprint + 2 * i, 3, "%02x", md[i]);
        k->bits = EVP_PKEY_get_bits(pkey);
    }
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    return k;
}

sa_pubkey *sa_pubkey_load(const char *path, char *err, size_t errlen)
{
    sa_buf b = SA_BUF_INIT;
    char why[256];
    sa_pubkey *k = NULL;
    if (sa_buf_read_file(&b, path, PUBKEY_FILE_MAX, err, errlen) == 0) {
        k = sa_pubkey_parse(sa_buf_str(&b), b.len, why, sizeof why);
        if (!k)
            snprintf(err, errlen, "%s: %s", path, why);
    }
    /* The file might hold a private key: wipe the copy before freeing it. */
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    sa_buf_free(&b);
    return k;
}

void sa_pubkey_free(sa_pubkey *k)
{
    if (!k)
        return;
    free(k->pem);
    free(k->pem_json);
    free(k);
}
