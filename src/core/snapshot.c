/* snapshot.c: the reference-counted policy and key (see sa_snapshot.h). */
#include "sa_snapshot.h"

#include <stddef.h>
#include <stdlib.h>

#include "sa_policy.h"
#include "sa_pubkey.h"

/* A parsed policy and the number of snapshots holding it. */
struct sa_shared_policy {
    sa_slot_ref ref;
    struct sa_policy *policy;
};

static void shared_policy_free(sa_slot_ref *r)
{
    struct sa_shared_policy *shared =
        (struct sa_shared_policy *)((char *)r - offsetof(struct sa_shared_policy, ref));
    sa_policy_free(shared->policy);
    free(shared);
}

sa_snapshot *sa_snapshot_of(sa_slot_ref *r)
{
    return r ? (sa_snapshot *)((char *)r - offsetof(sa_snapshot, ref)) : NULL;
}

static void snapshot_free(sa_slot_ref *r)
{
    sa_snapshot *s = sa_snapshot_of(r);
    if (s->shared)
        sa_slot_ref_release(&s->shared->ref);
    sa_pubkey_free(s->key);
    free(s);
}

/* Fills s, which takes over a reference to shared (if any) and key. */
static sa_snapshot *snapshot_init(sa_snapshot *s, struct sa_shared_policy *shared,
                                  struct sa_pubkey *key)
{
    s->shared = shared;
    s->policy = shared ? shared->policy : NULL;
    s->key = key;
    sa_slot_ref_init(&s->ref, snapshot_free);
    return s;
}

sa_snapshot *sa_snapshot_new(struct sa_policy *policy, struct sa_pubkey *key)
{
    struct sa_shared_policy *shared = NULL;
    if (policy && !(shared = malloc(sizeof *shared)))
        return NULL;
    sa_snapshot *s = malloc(sizeof *s);
    if (!s) {
        free(shared);
        return NULL;
    }
    if (shared) {
        shared->policy = policy;
        sa_slot_ref_init(&shared->ref, shared_policy_free);
    }
    return snapshot_init(s, shared, key);
}

sa_snapshot *sa_snapshot_with_key(const sa_snapshot *from, struct sa_pubkey *key)
{
    sa_snapshot *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    if (from->shared)
        sa_slot_ref_retain(&from->shared->ref);
    return snapshot_init(s, from->shared, key);
}

void sa_snapshot_retain(sa_snapshot *s)
{
    sa_slot_ref_retain(&s->ref);
}

void sa_snapshot_release(sa_snapshot *s)
{
    if (s)
        sa_slot_ref_release(&s->ref);
}

int sa_snapshot_unshared(sa_snapshot *s)
{
    return sa_slot_ref_unshared(&s->ref);
}
