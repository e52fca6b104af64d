/* tls.c: serving credentials, their rotation, and client authentication on GnuTLS
 * (see sa_tls.h).
 *
 * Rotation uses libmicrohttpd's per-handshake certificate callback, not a second daemon handed
 * the quiesced listening socket. With the callback a swap is one pointer store: the listening
 * sockets, the worker daemons and every established connection stay as they are, so nothing is
 * refused, reset or drained (the API server keeps connections alive, and closing one under a
 * request in transit is a failed admission call). Handing the sockets over would mean second
 * daemons per rotation and draining the first one's kept-alive connections, which either
 * cuts them or waits out their idle timeout.
 *
 * Each handshake gets its own copy of the pair (gnutls frees it, GNUTLS_CERT_RETR_DEINIT_ALL),
 * so retired credentials are freed by the last reference, never under a handshake. Parsing the
 * DER again costs microseconds against the milliseconds of the handshake's own signature. */
#include "sa_tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sa_buf.h"
#include "sa_log.h"
#include "sa_metrics.h"
#include "sa_poll.h"
#include "sa_slot.h"

#define PEM_FILE_MAX (1024 * 1024)
/* How far in the future a new certificate's notBefore may lie: clocks in a cluster differ a bit. */
#define CLOCK_SKEW_SECONDS 300

/* ECDHE and AEAD only: no CBC, no RSA key exchange, no finite-field DH, no SHA-1 MACs; the
 * server's order. GnuTLS 3.7 has no TLS compression at all. Renegotiation cannot happen: a TLS 1.2
 * client's renegotiation attempt surfaces as GNUTLS_E_REHANDSHAKE, which libmicrohttpd treats as
 * a fatal TLS error and closes the connection (TLS 1.3 has none). %SAFE_RENEGOTIATION would add
 * nothing but refusing initial handshakes from clients that omit RFC 5746's extension. */
#define PRIORITIES_FMT                                                                 \
    "SECURE128:-VERS-ALL:%s:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
    "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"                                  \
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%%SERVER_PRECEDENCE"

/* A checked certificate chain and key, immutable once made, freed by its last reference. */
typedef struct creds {
    sa_slot_ref ref;
    gnutls_datum_t *chain; /* DER, leaf first */
    unsigned nchain;
    gnutls_datum_t key; /* unencrypted PKCS#8 DER; wiped when freed */
    time_t not_after;
    char serial[80]; /* upper-case hex, as `openssl x509 -serial` prints it */
    char subject[256];
} creds;

struct sa_tls {
    char priorities[512];
    char *client_ca; /* PEM, or NULL */
    char *client_cn;
    char *cert_file, *key_file; /* NULL for in-memory (--dev) credentials */
    unsigned poll_ms;

    sa_slot creds;     /* the pair in force */
    sa_poller *poller; /* NULL for in-memory credentials */

    /* The poller thread's own. */
    sa_poll_watch files; /* the certificate and key */
    int warned_soon, warned_expired;
};

/* ---- credentials -------------------------------------------------------------------- */

static void creds_free(creds *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->nchain; i++)
        gnutls_free(c->chain[i].data);
    free(c->chain);
    if (c->key.data) {
        gnutls_memset(c->key.data, 0, c->key.size);
        gnutls_free(c->key.data);
    }
    free(c);
}

static creds *creds_of(sa_slot_ref *r)
{
    return (creds *)((char *)r - offsetof(creds, ref));
}

static void creds_destroy(sa_slot_ref *r)
{
    creds_free(creds_of(r));
}

static void format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void format_serial(gnutls_x509_crt_t crt, char *out, size_t len)
{
    unsigned char raw[64];
    size_t n = sizeof raw, i = 0;
    out[0] = '\0';
    if (gnutls_x509_crt_get_serial(crt, raw, &n) < 0)
        return;
    while (i + 1 < n && raw[i] == 0) /* DER's sign byte; openssl prints the magnitude */
        i++;
    for (size_t o = 0; i < n && o + 3 <= len; i++, o += 2)
        snprintf(out + o, 3, "%02X", raw[i]);
}

/* The one place a serving pair is checked. Returns the credentials (one reference) or NULL
 * with a one-line reason; nothing in the reason comes from the key. */
static creds *creds_load(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                         time_t now, char *err, size_t errlen)
{
    gnutls_x509_crt_t *crts = NULL;
    unsigned ncrts = 0;
    gnutls_x509_privkey_t xkey = NULL;
    gnutls_privkey_t key = NULL;
    gnutls_pubkey_t pub = NULL;
    creds *c = calloc(1, sizeof *c);
    gnutls_datum_t cert_d = {(unsigned char *)cert_pem, (unsigned)cert_len};
    gnutls_datum_t key_d = {(unsigned char *)key_pem, (unsigned)key_len};
    unsigned char id_cert[64], id_key[64];
    size_t id_cert_len = sizeof id_cert, id_key_len = sizeof id_key;
    int rc;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    rc = gnutls_x509_crt_list_import2(&crts, &ncrts, &cert_d, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || ncrts == 0) {
        snprintf(err, errlen, "no certificate could be read (%s)",
                 rc < 0 ? gnutls_strerror(rc) : "no PEM CERTIFICATE block");
        goto fail;
    }
    rc = gnutls_x509_privkey_init(&xkey);
    if (rc >= 0)
        rc = gnutls_x509_privkey_import2(xkey, &key_d, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        snprintf(err, errlen, "the private key cannot be read (%s)", gnutls_strerror(rc));
        goto fail;
    }
    if (gnutls_privkey_init(&key) < 0 || gnutls_privkey_import_x509(key, xkey, 0) < 0 ||
        gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
        gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id_key, &id_key_len) < 0 ||
        gnutls_x509_crt_get_key_id(crts[0], GNUTLS_KEYID_USE_SHA256, id_cert, &id_cert_len) < 0) {
        snprintf(err, errlen, "cannot compare the private key with the certificate");
        goto fail;
    }
    if (id_key_len != id_cert_len || memcmp(id_key, id_cert, id_key_len) != 0) {
        snprintf(err, errlen, "the private key does not match the certificate");
        goto fail;
    }
    c->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
    if (c->not_after == (time_t)-1) {
        snprintf(err, errlen, "the certificate has no readable notAfter");
        goto fail;
    }
    if (c->not_after <= now) {
        char when[32];
        format_time(c->not_after, when, sizeof when);
        snprintf(err, errlen, "the certificate expired at %s", when);
        goto fail;
    }
    /* Not valid yet (beyond a little clock skew): the API server would refuse every handshake
     * until then, while the pair in force still works. */
    time_t not_before = gnutls_x509_crt_get_activation_time(crts[0]);
    if (not_before != (time_t)-1 && not_before > now + CLOCK_SKEW_SECONDS) {
        char when[32];
        format_time(not_before, when, sizeof when);
        snprintf(err, errlen, "the certificate is not valid before %s", when);
        goto fail;
    }
    format_serial(crts[0], c->serial, sizeof c->serial);
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_get_dn3(crts[0], &dn, 0) >= 0)
        snprintf(c->subject, sizeof c->subject, "%s", (const char *)dn.data);
    gnutls_free(dn.data);
    /* Kept as DER so each handshake's copy is a cheap parse. */
    if (gnutls_x509_privkey_export2_pkcs8(xkey, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN,
                                          &c->key) < 0 ||
        !(c->chain = calloc(ncrts, sizeof *c->chain))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (; c->nchain < ncrts; c->nchain++)
        if (gnutls_x509_crt_export2(crts[c->nchain], GNUTLS_X509_FMT_DER, &c->chain[c->nchain]) <
            0) {
            snprintf(err, errlen, "cannot encode certificate %u of the chain", c->nchain + 1);
            goto fail;
        }
    sa_slot_ref_init(&c->ref, creds_destroy);
    goto done;
fail:
    creds_free(c);
    c = NULL;
done:
    for (unsigned i = 0; i < ncrts; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    gnutls_pubkey_deinit(pub);
    gnutls_privkey_deinit(key);
    gnutls_x509_privkey_deinit(xkey);
    return c;
}

/* The pair in force with a reference for the caller (sa_slot_ref_release it); there always is one
 * once sa_tls_new has returned. */
static creds *acquire(sa_tls *t)
{
    return creds_of(sa_slot_acquire(&t->creds));
}

/* The pair in force, for the thread that publishes (the only one that changes it), without a
 * reference of its own. */
static const creds *in_force(const sa_tls *t)
{
    return creds_of(sa_slot_peek(&t->creds));
}

/* Makes c the pair in force, taking over the caller's reference. */
static void publish(sa_tls *t, creds *c, int reloaded, time_t now)
{
    sa_slot_ref_release(sa_slot_swap(&t->creds, &c->ref));
    t->warned_soon = t->warned_expired = 0;
    sa_metrics_certificate_loaded(reloaded, now, c->not_after, c->serial);
}

/* ---- handshake callbacks ------------------------------------------------------------- */

/* The sa_tls serving this session. libmicrohttpd sets the GnuTLS session pointer to its
 * connection (its own PSK callback relies on that), and the connection's socket context points
 * at the slot sa_tls_connection_started filled. */
static sa_tls *tls_of(gnutls_session_t session)
{
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *info =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    sa_tls *const *slot = info ? info->socket_context : NULL;
    return slot ? *slot : NULL;
}

int sa_tls_retrieve_cert(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                         gnutls_pcert_st **certs, unsigned int *ncerts, gnutls_ocsp_data_st **ocsp,
                         unsigned int *nocsp, gnutls_privkey_t *privkey, unsigned int *flags)
{
    (void)info;
    *ocsp = NULL;
    *nocsp = 0;
    sa_tls *t = tls_of(session);
    if (!t)
        return -1; /* not a connection we set up: fail closed */
    creds *c = acquire(t);
    gnutls_pcert_st *pc = gnutls_calloc(c->nchain, sizeof *pc);
    gnutls_privkey_t key = NULL;
    unsigned n = 0;
    while (pc && n < c->nchain &&
           gnutls_pcert_import_x509_raw(&pc[n], &c->chain[n], GNUTLS_X509_FMT_DER, 0) >= 0)
        n++;
    int ok = pc && n == c->nchain && gnutls_privkey_init(&key) >= 0 &&
             gnutls_privkey_import_x509_raw(key, &c->key, GNUTLS_X509_FMT_DER, NULL,
                                            GNUTLS_PKCS_PLAIN) >= 0;
    sa_slot_ref_release(&c->ref);
    if (!ok) {
        for (unsigned i = 0; i < n; i++)
            gnutls_pcert_deinit(&pc[i]);
        gnutls_free(pc);
        gnutls_privkey_deinit(key);
        sa_log(SA_LOG_ERROR, "cannot hand the serving certificate to a handshake", "reason",
               "out of memory", NULL);
        return -1;
    }
    *certs = pc;
    *ncerts = n;
    *privkey = key;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL; /* the copy is the session's to free */
    return 0;
}

/* Checks the peer's certificate against the client CA (chain, dates, clientAuth use) and the
 * pinned CN. 0, or -1 with the reason. */
static int check_client(const sa_tls *t, gnutls_session_t session, char *why, size_t len)
{
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    unsigned status = 0;
    int rc = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
    if (rc < 0) {
        snprintf(why, len, "%s", gnutls_strerror(rc));
        return -1;
    }
    if (status) {
        gnutls_datum_t text = {NULL, 0};
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0)
            snprintf(why, len, "%s", (const char *)text.data);
        else
            snprintf(why, len, "verification status %#x", status);
        gnutls_free(text.data);
        for (size_t n = strlen(why); n && why[n - 1] == ' '; n--)
            why[n - 1] = '\0'; /* GnuTLS ends each sentence with a space */
        return -1;
    }
    if (!t->client_cn)
        return 0;
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);
    gnutls_x509_crt_t crt = NULL;
    char cn[256] = "";
    size_t cnlen = sizeof cn;
    if (!peers || !n || gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0 ||
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) < 0)
        cn[0] = '\0';
    gnutls_x509_crt_deinit(crt);
    if (strcmp(cn, t->client_cn) == 0)
        return 0;
    snprintf(why, len, "subject CN \"%.64s\" is not the pinned --client-cn", cn);
    return -1;
}

static int verify_client(gnutls_session_t session)
{
    sa_tls *t = tls_of(session);
    char why[256] = "connection not set up for client authentication";
    if (t && check_client(t, session, why, sizeof why) == 0)
        return 0;
    sa_metrics_client_cert_rejected();
    sa_log(SA_LOG_WARN, "client certificate refused", "reason", why, NULL);
    return GNUTLS_E_CERTIFICATE_ERROR;
}

void sa_tls_connection_started(sa_tls *t, struct MHD_Connection *c, sa_tls **slot)
{
    *slot = NULL;
    if (t->client_ca) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (!info || !info->tls_session)
            return; /* an empty slot: the certificate callback fails the handshake */
        gnutls_certificate_server_set_request(info->tls_session, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_function(info->tls_session, verify_client);
    }
    *slot = t;
}

const char *sa_tls_priorities(const sa_tls *t)
{
    return t->priorities;
}

const char *sa_tls_client_ca(const sa_tls *t)
{
    return t->client_ca;
}

/* ---- watching the files -------------------------------------------------------------- */

static creds *load_files(const sa_tls *t, time_t now, char *err, size_t errlen)
{
    sa_buf cert = SA_BUF_INIT, key = SA_BUF_INIT;
    creds *c = NULL;
    if (sa_buf_read_file(&cert, t->cert_file, PEM_FILE_MAX, err, errlen) == 0 &&
        sa_buf_read_file(&key, t->key_file, PEM_FILE_MAX, err, errlen) == 0)
        c = creds_load(cert.data, cert.len, key.data, key.len, now, err, errlen);
    if (key.data)
        gnutls_memset(key.data, 0, key.len);
    sa_buf_free(&key);
    sa_buf_free(&cert);
    return c;
}

static void log_loaded(const char *msg, const sa_tls *t, const creds *c)
{
    char when[32], chain[16];
    format_time(c->not_after, when, sizeof when);
    snprintf(chain, sizeof chain, "%u", c->nchain);
    sa_log(SA_LOG_INFO, msg, "file", t->cert_file ? t->cert_file : "<in memory>", "serial",
           c->serial, "subject", c->subject, "not_after", when, "chain_length", chain, NULL);
}

/* Warns once per certificate when it comes within a week of expiry, and again once it has
 * expired, in case nobody rotated it. Called by the thread that publishes, so the flags are
 * its own. */
static void check_expiry(sa_tls *t, time_t now)
{
    const creds *c = in_force(t);
    long long left = (long long)c->not_after - (long long)now;
    char when[32], days[32];
    format_time(c->not_after, when, sizeof when);
    snprintf(days, sizeof days, "%.1f", (double)left / 86400.0);
    if (left <= 0 && !t->warned_expired) {
        t->warned_expired = 1;
        sa_log(SA_LOG_ERROR, "serving certificate has expired; rotate it", "serial", c->serial,
               "not_after", when, NULL);
    } else if (left > 0 && left < SA_CERT_EXPIRY_WARNING_SECONDS && !t->warned_soon) {
        t->warned_soon = 1;
        sa_log(SA_LOG_WARN, "serving certificate expires soon", "serial", c->serial, "not_after",
               when, "days_left", days, NULL);
    }
}

/* One poll. The pair is watched as one (sa_poll_watch), so a writer that replaces the
 * certificate and then the key is not caught halfway. */
static void poll_files(void *arg, int forced)
{
    (void)forced; /* never triggered: rotation is on disk, not by signal */
    sa_tls *t = arg;
    const char *const paths[2] = {t->cert_file, t->key_file};
    int due = sa_poll_watch_due(&t->files, paths, 0);
    time_t now = time(NULL);
    if (due) {
        char err[512];
        creds *c = load_files(t, now, err, sizeof err);
        if (c) {
            publish(t, c, 1, now);
            log_loaded("serving certificate reloaded", t, c);
        } else {
            sa_metrics_certificate_refused();
            sa_log(SA_LOG_ERROR, "serving certificate refused; the one in force keeps serving",
                   "file", t->cert_file, "key_file", t->key_file, "reason", err, "serial_in_force",
                   in_force(t)->serial, NULL);
        }
    }
    check_expiry(t, now);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int read_client_ca(sa_tls *t, const char *path, char *err, size_t errlen)
{
    sa_buf pem = SA_BUF_INIT;
    if (sa_buf_read_file(&pem, path, PEM_FILE_MAX, err, errlen) < 0)
        return -1;
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    gnutls_datum_t d = {(unsigned char *)pem.data, (unsigned)pem.len};
    int rc = pem.len ? gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0) : -1;
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    if (rc < 0 || n == 0) {
        snprintf(err, errlen, "--client-ca %s: no CA certificate could be read", path);
        sa_buf_free(&pem);
        return -1;
    }
    t->client_ca = sa_buf_steal(&pem, NULL);
    return t->client_ca ? 0 : -1;
}

sa_tls *sa_tls_new(const sa_tls_config *cfg, char *err, size_t errlen)
{
    const char *versions = cfg->min_version && strcmp(cfg->min_version, "1.3") == 0 ? "+VERS-TLS1.3"
                           : cfg->min_version && strcmp(cfg->min_version, "1.2") == 0
                               ? "+VERS-TLS1.3:+VERS-TLS1.2"
                               : NULL;
    if (!versions) {
        snprintf(err, errlen, "--tls-min-version must be 1.2 or 1.3, got \"%s\"",
                 cfg->min_version ? cfg->min_version : "");
        return NULL;
    }
    sa_tls *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(t->priorities, sizeof t->priorities, PRIORITIES_FMT, versions);
    sa_slot_init(&t->creds);
    t->poll_ms = cfg->poll_ms ? cfg->poll_ms : 1000;

    time_t now = time(NULL);
    char why[512];
    creds *c = NULL;
    if (cfg->cert_file) {
        t->cert_file = strdup(cfg->cert_file);
        t->key_file = strdup(cfg->key_file);
        if (!t->cert_file || !t->key_file) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        /* Identified before reading, so a change during the read is seen at the first poll. */
        const char *const paths[2] = {t->cert_file, t->key_file};
        sa_poll_watch_init(&t->files, paths, 2);
        c = load_files(t, now, why, sizeof why);
    } else {
        c = creds_load(cfg->cert_pem, strlen(cfg->cert_pem), cfg->key_pem, strlen(cfg->key_pem),
                       now, why, sizeof why);
    }
    if (!c) {
        snprintf(err, errlen, "serving certificate %s refused: %s",
                 cfg->cert_file ? cfg->cert_file : "<in memory>", why);
        goto fail;
    }
    publish(t, c, 0, now);
    log_loaded("serving certificate loaded", t, c);
    check_expiry(t, now);

    if (cfg->client_ca_file && read_client_ca(t, cfg->client_ca_file, err, errlen) < 0)
        goto fail;
    if (cfg->client_cn && *cfg->client_cn && !(t->client_cn = strdup(cfg->client_cn))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (t->client_cn && !t->client_ca) {
        snprintf(err, errlen, "--client-cn needs --client-ca");
        goto fail;
    }
    gnutls_priority_t prio;
    const char *at = NULL;
    if (gnutls_priority_init(&prio, t->priorities, &at) < 0) {
        snprintf(err, errlen, "GnuTLS refuses the priority string at \"%.40s\"", at ? at : "");
        goto fail;
    }
    gnutls_priority_deinit(prio);
    if (t->cert_file && !(t->poller = sa_poll_start(t->poll_ms, poll_files, t))) {
        snprintf(err, errlen, "cannot start the certificate watcher");
        goto fail;
    }
    return t;
fail:
    sa_tls_free(t);
    return NULL;
}

void sa_tls_free(sa_tls *t)
{
    if (!t)
        return;
    sa_poll_stop(t->poller);
    sa_slot_destroy(&t->creds);
    free(t->client_ca);
    free(t->client_cn);
    free(t->cert_file);
    free(t->key_file);
    free(t);
}
