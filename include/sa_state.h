/* sa_state.h: the policy and public key in force, swapped atomically on reload.
 *
 * A snapshot is immutable once published. Each request acquires the current snapshot (one
 * reference) and releases it when done, so a reload can publish a new snapshot while requests
 * are in flight: the old one is freed by whoever drops the last reference. The parsed policy is
 * counted apart from the snapshot: a snapshot that only changes the key shares its
 * predecessor's policy, so a key rotation costs no policy parse (seconds at 100,000 rows). */
#ifndef SA_STATE_H
#define SA_STATE_H

#include <pthread.h>
#include <stdatomic.h>

struct sa_policy;
struct sa_pubkey;
struct sa_shared_policy;

typedef struct sa_snapshot {
    struct sa_policy *policy;   /* shared with the snapshots made from this one by
                                 * sa_snapshot_with_key; freed with the last of them */
    struct sa_pubkey *key;      /* owned */
    atomic_int refs;
    struct sa_shared_policy *shared; /* state.c's: the policy's own reference count */
} sa_snapshot;

/* Makes a snapshot holding one reference; takes ownership of policy and key (either may be
 * NULL, meaning not loaded). NULL on allocation failure, having freed both. */
sa_snapshot *sa_snapshot_new(struct sa_policy *policy, struct sa_pubkey *key);
/* A snapshot with from's policy (shared, not copied) and key (taken over). NULL on allocation
 * failure, having freed key. */
sa_snapshot *sa_snapshot_with_key(const sa_snapshot *from, struct sa_pubkey *key);
void sa_snapshot_retain(sa_snapshot *s);
void sa_snapshot_release(sa_snapshot *s);

typedef struct sa_state {
    pthread_mutex_t lock;       /* guards only the pointer swap and the reference taken */
    sa_snapshot *current;
} sa_state;

void sa_state_init(sa_state *st);
void sa_state_destroy(sa_state *st);
/* Publishes s, handing over the caller's reference; the previous snapshot loses one. */
void sa_state_publish(sa_state *st, sa_snapshot *s);
/* The same, but the previous snapshot comes back with its reference (NULL if none), so the
 * caller chooses the thread that frees it: freeing a large policy takes long enough that it
 * should not happen inside a request that happened to drop the last reference. */
sa_snapshot *sa_state_swap(sa_state *st, sa_snapshot *s);
/* Whether the caller's is the only reference left (nobody else can take one once a snapshot is
 * no longer in force, so it stays that way). */
int sa_snapshot_unshared(sa_snapshot *s);
/* The current snapshot with a reference for the caller (release it), or NULL. */
sa_snapshot *sa_state_acquire(sa_state *st);

#endif
