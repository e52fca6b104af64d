/* sa_offline.h: the policy and key the offline commands (review, scan, test, check-policy) judge
 * with.
 *
 * A policy names where the server reads the control plane's public key
 * (sessions.publicKey.file), a path that usually exists only inside the webhook's pod. Offline,
 * an explicit --public-key wins; else that file is used when it can be opened here; else the
 * built-in example key, and the caller is told so (with its fingerprint), so nobody mistakes
 * the injected key for theirs. A file that opens but does not hold an acceptable public key is
 * an error, as it would be for the server. */
#ifndef SA_OFFLINE_H
#define SA_OFFLINE_H

#include "sa_buf.h"
#include "sa_policy.h"
#include "sa_snapshot.h"

/* Loads policy_path (NULL: the built-in policy) and the key as above. On success returns a
 * snapshot (release it) and may append one line to notes (the example key was used). On
 * failure returns NULL with the reason in errors (one line per error, newline-terminated). */
sa_snapshot *sa_offline_load(const char *policy_path, const char *key_path, sa_buf *notes,
                             sa_buf *errors);

/* check-policy's look at the policy's key file: returns 0 and appends a note to notes (checked:
 * bits and fingerprint; or could not be checked here, and why), or -1 with one line
 * "SOURCE: sessions.publicKey.file PATH: reason" in errors when the file holds no acceptable
 * public key. */
int sa_offline_check_key(const sa_policy *p, sa_buf *notes, sa_buf *errors);

#endif
