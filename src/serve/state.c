/* state.c: the snapshot in force (see sa_state.h). */
#include "sa_state.h"

#include <stddef.h>

void sa_state_init(sa_state *st)
{
    sa_slot_init(&st->slot);
}

void sa_state_destroy(sa_state *st)
{
    sa_slot_destroy(&st->slot);
}

sa_snapshot *sa_state_swap(sa_state *st, sa_snapshot *s)
{
    return sa_snapshot_of(sa_slot_swap(&st->slot, s ? &s->ref : NULL));
}

void sa_state_publish(sa_state *st, sa_snapshot *s)
{
    sa_snapshot_release(sa_state_swap(st, s));
}

sa_snapshot *sa_state_acquire(sa_state *st)
{
    return sa_snapshot_of(sa_slot_acquire(&st->slot));
}
