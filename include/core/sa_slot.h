/* sa_slot.h: reference-counted values, and the slot that publishes the one in force.
 *
 * The policy snapshot (sa_state.h) and the serving credentials (tls.c) are both swapped while
 * requests use them: each reader takes a reference under the slot's lock and drops it when done,
 * a writer swaps the pointer, and whoever drops the last reference frees the value. The lock
 * guards only the pointer and the reference taken with it, so a read costs one lock and one
 * atomic increment, and a swap never waits for readers. */
#ifndef SA_SLOT_H
#define SA_SLOT_H

#include <pthread.h>
#include <stdatomic.h>

/* Embedded in the counted value; destroy frees that value (found with offsetof). */
typedef struct sa_slot_ref {
    atomic_int count;
    void (*destroy)(struct sa_slot_ref *r);
} sa_slot_ref;

/* One reference, the caller's. */
void sa_slot_ref_init(sa_slot_ref *r, void (*destroy)(sa_slot_ref *r));
void sa_slot_ref_retain(sa_slot_ref *r);
/* Drops one reference; the last calls destroy. Accepts NULL. */
void sa_slot_ref_release(sa_slot_ref *r);
/* Whether the caller's is the only reference left. */
int sa_slot_ref_unshared(sa_slot_ref *r);

/* The value in force, or NULL. */
typedef struct sa_slot {
    pthread_mutex_t lock; /* guards only the pointer swap and the reference taken */
    sa_slot_ref *current;
} sa_slot;

void sa_slot_init(sa_slot *s);
/* Drops the slot's reference to the value in force. */
void sa_slot_destroy(sa_slot *s);
/* Puts r in force, taking over the caller's reference, and hands back the previous value with
 * the slot's reference (NULL if none): the caller chooses the thread that frees it. */
sa_slot_ref *sa_slot_swap(sa_slot *s, sa_slot_ref *r);
/* The value in force with a reference for the caller (release it), or NULL. */
sa_slot_ref *sa_slot_acquire(sa_slot *s);
/* The value in force without a reference: only for the one thread that swaps, which alone can
 * make it go away. */
sa_slot_ref *sa_slot_peek(const sa_slot *s);

#endif
