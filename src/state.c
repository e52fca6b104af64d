/* state.c: the reference-counted snapshot in force (see sa_state.h). */
#include "sa_state.h"

#include <stdlib.h>

#include "sa_keys.h"
#include "sa_policy.h"

sa_snapshot *sa_snapshot_new(struct sa_policy *policy, struct sa_pubkey *key)
{
    sa_snapshot *s = malloc(sizeof *s);
    if (!s) {
        sa_policy_free(policy);
        sa_pubkey_free(key);
        return NULL;
    }
    s->policy = policy;
    s->key = key;
    atomic_init(&s->refs, 1);
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
    sa_policy_free(s->policy);
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
