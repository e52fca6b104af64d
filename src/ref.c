/* ref.c: reference counts and the published slot (see sa_ref.h). */
#include "sa_ref.h"

#include <stddef.h>

void sa_ref_init(sa_ref *r, void (*destroy)(sa_ref *r))
{
    atomic_init(&r->count, 1);
    r->destroy = destroy;
}

void sa_ref_retain(sa_ref *r)
{
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

void sa_ref_release(sa_ref *r)
{
    if (r && atomic_fetch_sub_explicit(&r->count, 1, memory_order_acq_rel) == 1)
        r->destroy(r);
}

int sa_ref_unshared(sa_ref *r)
{
    return atomic_load_explicit(&r->count, memory_order_acquire) == 1;
}

void sa_ref_slot_init(sa_ref_slot *s)
{
    pthread_mutex_init(&s->lock, NULL);
    s->current = NULL;
}

void sa_ref_slot_destroy(sa_ref_slot *s)
{
    sa_ref_release(s->current);
    s->current = NULL;
    pthread_mutex_destroy(&s->lock);
}

sa_ref *sa_ref_slot_swap(sa_ref_slot *s, sa_ref *r)
{
    pthread_mutex_lock(&s->lock);
    sa_ref *old = s->current;
    s->current = r;
    pthread_mutex_unlock(&s->lock);
    return old;
}

sa_ref *sa_ref_slot_peek(const sa_ref_slot *s)
{
    return s->current;
}

sa_ref *sa_ref_slot_acquire(sa_ref_slot *s)
{
    pthread_mutex_lock(&s->lock);
    sa_ref *r = s->current;
    if (r)
        sa_ref_retain(r);
    pthread_mutex_unlock(&s->lock);
    return r;
}
