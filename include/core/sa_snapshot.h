/* sa_snapshot.h: an immutable policy and public key, judged with as one.
 *
 * Each request holds a reference to the snapshot it judges with (the one in force, sa_state.h),
 * so a reload can replace it while requests are in flight: the old one is freed by whoever drops
 * the last reference. The parsed policy is counted apart from the snapshot: a snapshot that only
 * changes the key shares its predecessor's policy, so a key rotation costs no policy parse
 * (seconds at 100,000 rows). */
#ifndef SA_SNAPSHOT_H
#define SA_SNAPSHOT_H

#include "sa_slot.h"

struct sa_policy;
struct sa_pubkey;
struct sa_shared_policy;

typedef struct sa_snapshot {
    struct sa_policy *policy; /* shared with the snapshots made from this one by
                                 * sa_snapshot_with_key; freed with the last of them */
    struct sa_pubkey *key;    /* owned */
    sa_slot_ref ref;
    struct sa_shared_policy *shared; /* snapshot.c's: the policy's own reference count */
} sa_snapshot;

/* A snapshot holding one reference (either argument may be NULL, meaning not loaded). On
 * success it owns policy and key; NULL on allocation failure, and the caller still owns both. */
sa_snapshot *sa_snapshot_new(struct sa_policy *policy, struct sa_pubkey *key);
/* A snapshot with from's policy (shared, not copied) and key. On success it owns key; NULL on
 * allocation failure, and the caller still owns key. */
sa_snapshot *sa_snapshot_with_key(const sa_snapshot *from, struct sa_pubkey *key);
void sa_snapshot_retain(sa_snapshot *s);
/* Drops a reference; the last frees the snapshot. Accepts NULL. */
void sa_snapshot_release(sa_snapshot *s);
/* Whether the caller's is the only reference left (nobody else can take one once a snapshot is
 * no longer in force, so it stays that way). */
int sa_snapshot_unshared(sa_snapshot *s);
/* The snapshot that holds r (from sa_slot_acquire or _swap), or NULL. */
sa_snapshot *sa_snapshot_of(sa_slot_ref *r);

#endif
