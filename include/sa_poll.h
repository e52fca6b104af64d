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
    int err;                    /* errno of a failed stat, else 0 */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;      /* catches an in-place write even with the mtime set back */
} sa_file_id;

sa_file_id sa_poll_file_identify(const char *path);
int sa_poll_file_same(const sa_file_id *a, const sa_file_id *b);

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
