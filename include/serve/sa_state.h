/* sa_state.h: the policy snapshot in force (sa_snapshot.h), swapped atomically on reload.
 *
 * Each request acquires the current snapshot (one reference) and releases it when done, so a
 * reload can publish a new snapshot while requests are in flight (sa_slot.h). */
#ifndef SA_STATE_H
#define SA_STATE_H

#include "sa_slot.h"
#include "sa_snapshot.h"

typedef struct sa_state {
    sa_slot slot;
} sa_state;

void sa_state_init(sa_state *st);
void sa_state_destroy(sa_state *st);
/* Publishes s, handing over the caller's reference; the previous snapshot loses one. */
void sa_state_publish(sa_state *st, sa_snapshot *s);
/* The same, but the previous snapshot comes back with its reference (NULL if none), so the
 * caller chooses the thread that frees it: freeing a large policy takes long enough that it
 * should not happen inside a request that happened to drop the last reference. */
sa_snapshot *sa_state_swap(sa_state *st, sa_snapshot *s);
/* The current snapshot with a reference for the caller (release it), or NULL. */
sa_snapshot *sa_state_acquire(sa_state *st);

#endif
