/* test_slot.c: the reference-counted slot (sa_slot) that the policy snapshot and the serving
 * certificate are published through: a swapped-out value lives until its last reader lets go. */
#include <stddef.h>
#include <stdlib.h>

#include "sa_slot.h"
#include "sa_test.h"

typedef struct counted {
    sa_slot_ref ref;
    int *freed;
} counted;

static void counted_free(sa_slot_ref *r)
{
    counted *c = (counted *)((char *)r - offsetof(counted, ref));
    (*c->freed)++;
    free(c);
}

static counted *counted_new(int *freed)
{
    counted *c = malloc(sizeof *c);
    if (c) {
        c->freed = freed;
        sa_slot_ref_init(&c->ref, counted_free);
    }
    return c;
}

static void test_slot(void)
{
    int freed = 0;
    counted *one = counted_new(&freed), *two = counted_new(&freed);
    SA_CHECK(one && two);
    if (!one || !two)
        return;
    sa_slot slot;
    sa_slot_init(&slot);
    SA_CHECK(sa_slot_acquire(&slot) == NULL);
    SA_CHECK(sa_slot_swap(&slot, &one->ref) == NULL);
    sa_slot_ref *held = sa_slot_acquire(&slot);
    SA_CHECK(held == &one->ref);
    SA_CHECK(!sa_slot_ref_unshared(held));
    sa_slot_ref *old = sa_slot_swap(&slot, &two->ref);
    SA_CHECK(old == &one->ref);
    sa_slot_ref_release(old);
    SA_CHECK_INT(freed, 0); /* a reader still holds it */
    SA_CHECK(sa_slot_ref_unshared(held));
    sa_slot_ref_release(held);
    SA_CHECK_INT(freed, 1);
    SA_CHECK(sa_slot_peek(&slot) == &two->ref);
    sa_slot_destroy(&slot);
    SA_CHECK_INT(freed, 2);
}

int main(void)
{
    SA_RUN(test_slot);
    SA_TEST_END();
}
