/* sa_poll.h: watching files by polling, shared by the policy and key reloader (reload.c) and the
 * serving certificate watcher (tls.c).
 *
 * Polling rather than inotify: a Kubernetes ConfigMap or Secret update replaces a symlink two
 * directories above the file, which inotify on the file never sees, while stat(2) follows the
 * symlinks, so the identity of the file behind a path changes even though the path does not. */
#ifndef SA_POLL_H
#define SA_POLL_H

#include <sys/types.h>
#include <time.h>

/* What stat(2) says about the file behind a path, symlinks followed. */
typedef struct sa_file_id {
    int err; /* errno of a failed stat, else 0 */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime; /* catches an in-place write even with the mtime set back */
} sa_file_id;

/* Files loaded together (a policy; a certificate and its key), watched for a version worth
 * loading: one that changed since it was last tried and has looked the same for a whole poll
 * interval, so a writer that replaces the files one by one, or writes one in place, is not read
 * halfway (a Kubernetes symlink swap is atomic and settles at once). A version that was tried
 * and refused is not tried again until the files change once more. */
#define SA_POLL_WATCH_MAX 2
typedef struct sa_poll_watch {
    unsigned n;
    sa_file_id seen[SA_POLL_WATCH_MAX];  /* what the previous look saw */
    sa_file_id tried[SA_POLL_WATCH_MAX]; /* the version last tried (loaded or refused) */
} sa_poll_watch;

/* Starts watching the n paths (at most SA_POLL_WATCH_MAX) as they are now, counted as tried:
 * call it just before or after loading them. */
void sa_poll_watch_init(sa_poll_watch *w, const char *const *paths, unsigned n);
/* Looks at the paths again (the same number; a path may have moved) and says whether to load
 * them now: a settled change, or forced. When it says so, this version counts as tried. */
int sa_poll_watch_due(sa_poll_watch *w, const char *const *paths, int forced);

/* A thread that calls tick(arg, forced) every interval_ms, on a monotonic clock, and at once
 * (forced = 1) after sa_poll_trigger. Ticks never overlap. */
typedef struct sa_poller sa_poller;
typedef void sa_poll_fn(void *arg, int forced);

/* NULL if the thread cannot be started. */
sa_poller *sa_poll_start(unsigned interval_ms, sa_poll_fn *tick, void *arg);
/* Asks for a tick now; returns at once. */
void sa_poll_trigger(sa_poller *p);
/* Stops the thread, after the tick in progress if any, and frees the poller. Accepts NULL. */
void sa_poll_stop(sa_poller *p);

#endif
