/* sa_load.h: the policy-and-key snapshot from where a command finds them, one way for all.
 *
 * The server at start-up, serve --dev and the offline commands (review, scan, test) each judge
 * with a snapshot of a policy and the control plane's public key. They differ only in where the
 * two come from, so they share this loader and refuse a bad file in the same words. The
 * reloader's later reloads build on the snapshot in force instead (sa_reload.h). */
#ifndef SA_LOAD_H
#define SA_LOAD_H

#include <stddef.h>

#include "sa_buf.h"
#include "sa_policy.h"
#include "sa_snapshot.h"

typedef struct sa_load_from {
    const char *policy_path; /* NULL: the built-in policy */
    const char *key_path;    /* NULL: the policy's sessions.publicKey.file */
    const char *key_pem;     /* non-NULL: this PEM (key_pem_len bytes), no file (serve --dev) */
    size_t key_pem_len;
    /* The offline commands' fallback: when key_path is NULL and the policy's file cannot be
     * opened here (it usually exists only in the webhook's pod), the built-in example key, said
     * in notes with its fingerprint so nobody mistakes it for theirs. */
    int example_key;
} sa_load_from;

/* Loads the policy and key from. On success returns a snapshot (release it), having appended
 * at most one line to notes; on failure NULL, with the reason in errors (one line per error,
 * newline-terminated; a refused policy as "policy refused:" and its FILE:LINE:COLUMN lines). */
sa_snapshot *sa_load_snapshot(const sa_load_from *from, sa_buf *notes, sa_buf *errors);

/* check-policy's look at the policy's key file: returns 0 and appends a note to notes (checked:
 * bits and fingerprint; or could not be checked here, and why), or -1 with one line
 * "SOURCE: sessions.publicKey.file PATH: reason" in errors when the file holds no acceptable
 * public key. */
int sa_load_check_key(const sa_policy *p, sa_buf *notes, sa_buf *errors);

#endif
