/* test_poll.c: the file watch's wait-until-settled rule (sa_poll_watch) and the reference-counted
 * slot (sa_ref) that the policy and certificate reloads publish through. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "sa_poll.h"
#include "sa_ref.h"
#include "sa_test.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    SA_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_watch(void)
{
    char dir[] = "/tmp/sa_test_poll.XXXXXX", a[64], b[64];
    SA_CHECK(mkdtemp(dir) != NULL);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    write_file(a, "1");
    write_file(b, "1");
    const char *const paths[2] = {a, b};
    sa_poll_watch w;
    sa_poll_watch_init(&w, paths, 2);
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);   /* as loaded */
    write_file(b, "22");
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);   /* changed: not settled yet */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 1);   /* looked the same for a poll */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);   /* tried: not again */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 1), 1);   /* unless forced */
    write_file(a, "333");
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);
    write_file(a, "4444");                              /* still being written */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 1);
    remove(a);
    remove(b);
    remove(dir);
}

typedef struct counted {
    sa_ref ref;
    int *freed;
} counted;

static void counted_free(sa_ref *r)
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
        sa_ref_init(&c->ref, counted_free);
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
    sa_ref_slot slot;
    sa_ref_slot_init(&slot);
    SA_CHECK(sa_ref_slot_acquire(&slot) == NULL);
    SA_CHECK(sa_ref_slot_swap(&slot, &one->ref) == NULL);
    sa_ref *held = sa_ref_slot_acquire(&slot);
    SA_CHECK(held == &one->ref);
    SA_CHECK(!sa_ref_unshared(held));
    sa_ref *old = sa_ref_slot_swap(&slot, &two->ref);
    SA_CHECK(old == &one->ref);
    sa_ref_release(old);
    SA_CHECK_INT(freed, 0);                             /* a reader still holds it */
    SA_CHECK(sa_ref_unshared(held));
    sa_ref_release(held);
    SA_CHECK_INT(freed, 1);
    SA_CHECK(sa_ref_slot_peek(&slot) == &two->ref);
    sa_ref_slot_destroy(&slot);
    SA_CHECK_INT(freed, 2);
}

int main(void)
{
    SA_RUN(test_watch);
    SA_RUN(test_slot);
    SA_TEST_END();
}
