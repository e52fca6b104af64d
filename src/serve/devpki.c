/* devpki.c: the throwaway PKI of `serve --dev`, made in memory with libcrypto (see
 * sa_devpki.h). */
#include "sa_devpki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *make_ec_key(void)
{
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int is_ca,
                       long days)
{
    X509 *cert = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *sn = NULL;
    int ok = cert && RAND_bytes(serial, sizeof serial) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* positive */
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
        ok = sn && X509_set_version(cert, 2) && X509_set_serialNumber(cert, sn) &&
             X509_gmtime_adj(X509_getm_notBefore(cert), -300) &&
             X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400L) && X509_set_pubkey(cert, key);
    }
    X509_NAME *name = ok ? X509_get_subject_name(cert) : NULL;
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    ok = ok && X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : cert;
    if (ok && is_ca) {
        ok = add_ext(cert, iss, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
             add_ext(cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
             add_ext(cert, iss, NID_subject_key_identifier, "hash") == 0;
    } else if (ok) {
        ok = add_ext(cert, iss, NID_basic_constraints, "CA:FALSE") == 0 &&
             add_ext(cert, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") == 0 &&
             add_ext(cert, iss, NID_ext_key_usage, "serverAuth") == 0 &&
             add_ext(cert, iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") == 0 &&
             add_ext(cert, iss, NID_authority_key_identifier, "keyid") == 0;
    }
    ok = ok && X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* The PEM text of whichever one is given: a certificate, a private key or a public key. */
static char *pem_of(X509 *cert, EVP_PKEY *private_key, EVP_PKEY *public_key)
{
    BIO *b = BIO_new(BIO_s_mem());
    int ok = b &&
             (cert          ? PEM_write_bio_X509(b, cert)
              : private_key ? PEM_write_bio_PrivateKey(b, private_key, NULL, NULL, 0, NULL, NULL)
                            : PEM_write_bio_PUBKEY(b, public_key));
    /* A memory BIO's bytes are not NUL-terminated: copy exactly n of them. */
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(b, &data) : -1;
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    BIO_free(b);
    return s;
}

int sa_devpki_make(sa_devpki *pki, char *err, size_t errlen)
{
    memset(pki, 0, sizeof *pki);
    EVP_PKEY *ca_key = make_ec_key();
    EVP_PKEY *srv_key = make_ec_key();
    /* The control plane's real key is RSA-4096; the stand-in matches it so --dev behaves alike. */
    EVP_PKEY *cp_key = EVP_RSA_gen(4096);
    X509 *ca = ca_key ? make_cert(ca_key, "session-admission dev CA", NULL, NULL, 1, 30) : NULL;
    X509 *srv = ca && srv_key ? make_cert(srv_key, "localhost", ca, ca_key, 0, 30) : NULL;
    int rc = -1;
    if (srv && cp_key) {
        pki->ca_cert_pem = pem_of(ca, NULL, NULL);
        pki->server_cert_pem = pem_of(srv, NULL, NULL);
        pki->server_key_pem = pem_of(NULL, srv_key, NULL);
        pki->cp_public_pem = pem_of(NULL, NULL, cp_key);
        if (pki->ca_cert_pem && pki->server_cert_pem && pki->server_key_pem && pki->cp_public_pem)
            rc = 0;
    }
    if (rc < 0) {
        const char *why = ERR_reason_error_string(ERR_peek_last_error());
        snprintf(err, errlen, "cannot make the development PKI (OpenSSL: %s)", why ? why : "?");
        sa_devpki_free(pki);
    }
    X509_free(ca);
    X509_free(srv);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cp_key);
    ERR_clear_error();
    return rc;
}

void sa_devpki_free(sa_devpki *pki)
{
    free(pki->ca_cert_pem);
    free(pki->server_cert_pem);
    if (pki->server_key_pem)
        OPENSSL_cleanse(pki->server_key_pem, strlen(pki->server_key_pem));
    free(pki->server_key_pem);
    free(pki->cp_public_pem);
    memset(pki, 0, sizeof *pki);
}
