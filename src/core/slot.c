/* slot.c: reference counts and the published slot (see sa_slot.h). */
#include "sa_slot.h"

#include <stddef.h>

void sa_slot_ref_init(sa_slot_ref *r, void (*destroy)(sa_slot_ref *r))
{
    atomic_init(&r->count, 1);
    r->destroy = destroy;
}

void sa_slot_ref_retain(sa_slot_ref *r)
{
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

void sa_slot_ref_release(sa_slot_ref *r)
{
    if (r && atomic_fetch_sub_explicit(&r->count, 1, memory_order_acq_rel) == 1)
        r->destroy(r);
}

int sa_slot_ref_unshared(sa_slot_ref *r)
{
    return atomic_load_explicit(&r->count, memory_order_acquire) == 1;
}

void sa_slot_init(sa_slot *s)
{
    pthread_mutex_init(&s->lock, NULL);
    s->current = NULL;
}

void sa_slot_destroy(sa_slot *s)
{
    sa_slot_ref_release(s->current);
    s->current = NULL;
    pthread_mutex_destroy(&s->lock);
}

sa_slot_ref *sa_slot_swap(sa_slot *s, sa_slot_ref *r)
{
    pthread_mutex_lock(&s->lock);
    sa_slot_ref *old = s->current;
    s->current = r;
    pthread_mutex_unlock(&s->lock);
    return old;
}

sa_slot_ref *sa_slot_peek(const sa_slot *s)
{
    return s->current;
}

sa_slot_ref *sa_slot_acquire(sa_slot *s)
{
    pthread_mutex_lock(&s->lock);
    sa_slot_ref *r = s->current;
    if (r)
        sa_slot_ref_retain(r);
    pthread_mutex_unlock(&s->lock);
    return r;
}
