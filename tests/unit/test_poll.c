/* test_poll.c: the file watch's wait-until-settled rule (sa_poll_watch) that the policy and
 * certificate reloads share. */
#include <stdio.h>
#include <stdlib.h>

#include "sa_poll.h"
#include "sa_test.h"

/* Creates the file, or adds a byte to it: either way a new identity. */
static void grow(const char *path)
{
    FILE *f = fopen(path, "a");
    SA_CHECK(f != NULL && fputc('x', f) != EOF);
    if (f)
        fclose(f);
}

static void test_watch(void)
{
    char dir[] = "/tmp/sa_test_poll.XXXXXX", a[64], b[64];
    SA_CHECK(mkdtemp(dir) != NULL);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    grow(a);
    grow(b);
    const char *const paths[2] = {a, b};
    sa_poll_watch w;
    sa_poll_watch_init(&w, paths, 2);
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0); /* as loaded */
    grow(b);
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0); /* changed: not settled yet */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 1); /* looked the same for a poll */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0); /* tried: not again */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 1), 1); /* unless forced */
    grow(a);
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);
    grow(a); /* still being written */
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 0);
    SA_CHECK_INT(sa_poll_watch_due(&w, paths, 0), 1);
    remove(a);
    remove(b);
    remove(dir);
}

int main(void)
{
    SA_RUN(test_watch);
    SA_TEST_END();
}
