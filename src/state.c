/* state.c: the reference-counted snapshot in force (see sa_state.h). */
#include "sa_state.h"

#include <stdlib.h>

#include "sa_pubkey.h"
#include "sa_policy.h"

/* A parsed policy and the number of snapshots holding it. */
struct sa_shared_policy {
    atomic_int refs;
    struct sa_policy *policy;
};

static sa_snapshot *snapshot_of(struct sa_shared_policy *shared, struct sa_pubkey *key)
{
    sa_snapshot *s = malloc(sizeof *s);
    if (!s) {
        sa_pubkey_free(key);
        return NULL;
    }
    s->shared = shared;
    s->policy = shared ? shared->policy : NULL;
    s->key = key;
    atomic_init(&s->refs, 1);
    return s;
}

sa_snapshot *sa_snapshot_new(struct sa_policy *policy, struct sa_pubkey *key)
{
    struct sa_shared_policy *shared = NULL;
    if (policy && !(shared = malloc(sizeof *shared))) {
        sa_policy_free(policy);
        sa_pubkey_free(key);
        return NULL;
    }
    if (shared) {
        shared->policy = policy;
        atomic_init(&shared->refs, 1);
    }
    sa_snapshot *s = snapshot_of(shared, key);
    if (!s && shared) {
        sa_policy_free(policy);
        free(shared);
    }
    return s;
}

sa_snapshot *sa_snapshot_with_key(const sa_snapshot *from, struct sa_pubkey *key)
{
    sa_snapshot *s = snapshot_of(from->shared, key);
    if (s && s->shared)
        atomic_fetch_add_explicit(&s->shared->refs, 1, memory_order_relaxed);
    return s;
}

void sa_snapshot_retain(sa_snapshot *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void sa_snapshot_release(sa_snapshot *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (s->shared && atomic_fetch_sub_explicit(&s->shared->refs, 1, memory_order_acq_rel) == 1) {
        sa_policy_free(s->shared->policy);
        free(s->shared);
    }
    sa_pubkey_free(s->key);
    free(s);
}

void sa_state_init(sa_state *st)
{
    pthread_mutex_init(&st->lock, NULL);
    st->current = NULL;
}

void sa_state_destroy(sa_state *st)
{
    sa_snapshot_release(st->current);
    st->current = NULL;
    pthread_mutex_destroy(&st->lock);
}

sa_snapshot *sa_state_swap(sa_state *st, sa_snapshot *s)
{
    pthread_mutex_lock(&st->lock);
    sa_snapshot *old = st->current;
    st->current = s;
    pthread_mutex_unlock(&st->lock);
    return old;
}

void sa_state_publish(sa_state *st, sa_snapshot *s)
{
    sa_snapshot_release(sa_state_swap(st, s));
}

int sa_snapshot_unshared(sa_snapshot *s)
{
    return atomic_load_explicit(&s->refs, memory_order_acquire) == 1;
}

sa_snapshot *sa_state_acquire(sa_state *st)
{
    pthread_mutex_lock(&st->lock);
    sa_snapshot *s = st->current;
    if (s)
        sa_snapshot_retain(s);
    pthread_mutex_unlock(&st->lock);
    return s;
}
