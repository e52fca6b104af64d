/* load.c: the policy-and-key snapshot from where a command finds them (see sa_load.h). */
#include "sa_load.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sa_policy.h"
#include "sa_pubkey.h"

extern const char sa_example_public_key[];
extern const size_t sa_example_public_key_len;

/* Whether path can be opened for reading here; else why not, in why. */
static int readable(const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "%s", strerror(errno));
        return 0;
    }
    fclose(f);
    return 1;
}

/* The key as from says, for policy p; NULL with the reason in errors. */
static sa_pubkey *load_key(const sa_load_from *from, const sa_policy *p, sa_buf *notes,
                           sa_buf *errors)
{
    char err[512], why[256];
    sa_pubkey *key;
    const char *file = p->sessions.key_file;
    if (from->key_pem) {
        if (!(key = sa_pubkey_parse(from->key_pem, from->key_pem_len, err, sizeof err)))
            sa_buf_printf(errors, "public key refused: %s\n", err);
    } else if (from->key_path) {
        if (!(key = sa_pubkey_load(from->key_path, err, sizeof err)))
            sa_buf_printf(errors, "public key refused: %s\n", err);
    } else if (!from->example_key || readable(file, why, sizeof why)) {
        if (!(key = sa_pubkey_load(file, err, sizeof err)))
            sa_buf_printf(errors, "%s: sessions.publicKey.file refused: %s\n", p->source, err);
    } else if ((key = sa_pubkey_parse(sa_example_public_key, sa_example_public_key_len, err,
                                      sizeof err))) {
        sa_buf_printf(notes,
                      "sessions.publicKey.file %s cannot be read here (%s): using the built-in "
                      "example key, SHA-256 %s (give --public-key to use yours)\n",
                      file, why, key->fingerprint);
    } else {
        sa_buf_printf(errors, "built-in example key refused: %s\n", err);
    }
    return key;
}

sa_snapshot *sa_load_snapshot(const sa_load_from *from, sa_buf *notes, sa_buf *errors)
{
    sa_buf why = SA_BUF_INIT;
    sa_policy *policy = from->policy_path ? sa_policy_load_file(from->policy_path, &why)
                                          : sa_policy_builtin(&why);
    if (!policy)
        sa_buf_printf(errors, "policy refused:\n%s", sa_buf_str(&why));
    sa_buf_free(&why);
    if (!policy)
        return NULL;
    sa_pubkey *key = load_key(from, policy, notes, errors);
    sa_snapshot *snap = key ? sa_snapshot_new(policy, key) : NULL;
    if (!snap) {
        if (key)
            sa_buf_puts(errors, "out of memory\n");
        sa_policy_free(policy);
        sa_pubkey_free(key);
    }
    return snap;
}

int sa_load_check_key(const sa_policy *p, sa_buf *notes, sa_buf *errors)
{
    const char *file = p->sessions.key_file;
    char why[256], err[512];
    if (!readable(file, why, sizeof why)) {
        sa_buf_printf(notes,
                      "sessions.publicKey.file %s not checked: it cannot be read here (%s)\n", file,
                      why);
        return 0;
    }
    sa_pubkey *k = sa_pubkey_load(file, err, sizeof err);
    if (!k) {
        sa_buf_printf(errors, "%s: sessions.publicKey.file %s\n", p->source, err);
        return -1;
    }
    sa_buf_printf(notes, "sessions.publicKey.file %s: RSA %d bits, SHA-256 %s\n", file, k->bits,
                  k->fingerprint);
    sa_pubkey_free(k);
    return 0;
}
