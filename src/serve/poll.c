/* poll.c: file identities, watches and the polling thread (see sa_poll.h). */
#include "sa_poll.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sa_poller {
    unsigned interval_ms;
    sa_poll_fn *tick;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop and trigger */
    pthread_cond_t wake;
    int stop, trigger;
};

static sa_file_id identify(const char *path)
{
    sa_file_id id;
    struct stat sb;
    memset(&id, 0, sizeof id);
    if (stat(path, &sb) != 0) {
        id.err = errno ? errno : EIO;
        return id;
    }
    id.dev = sb.st_dev;
    id.ino = sb.st_ino;
    id.size = sb.st_size;
    id.mtime = sb.st_mtim;
    id.ctime = sb.st_ctim;
    return id;
}

static int same(const sa_file_id *a, const sa_file_id *b)
{
    return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void identify_all(sa_file_id *ids, const char *const *paths, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ids[i] = identify(paths[i]);
}

static int same_all(const sa_file_id *a, const sa_file_id *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (!same(&a[i], &b[i]))
            return 0;
    return 1;
}

void sa_poll_watch_init(sa_poll_watch *w, const char *const *paths, unsigned n)
{
    memset(w, 0, sizeof *w);
    w->n = n < SA_POLL_WATCH_MAX ? n : SA_POLL_WATCH_MAX;
    identify_all(w->seen, paths, w->n);
    memcpy(w->tried, w->seen, w->n * sizeof *w->seen);
}

int sa_poll_watch_due(sa_poll_watch *w, const char *const *paths, int forced)
{
    sa_file_id now[SA_POLL_WATCH_MAX];
    identify_all(now, paths, w->n);
    int settled = same_all(now, w->seen, w->n);
    memcpy(w->seen, now, w->n * sizeof *now);
    if (!forced && (!settled || same_all(now, w->tried, w->n)))
        return 0;
    memcpy(w->tried, now, w->n * sizeof *now);
    return 1;
}

static void *run(void *arg)
{
    sa_poller *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += p->interval_ms / 1000;
        until.tv_nsec += (long)(p->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!p->stop && !p->trigger &&
               pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT) {
        }
        if (p->stop)
            break;
        int forced = p->trigger;
        p->trigger = 0;
        pthread_mutex_unlock(&p->lock);
        p->tick(p->arg, forced);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void poller_free(sa_poller *p)
{
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

sa_poller *sa_poll_start(unsigned interval_ms, sa_poll_fn *tick, void *arg)
{
    sa_poller *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->interval_ms = interval_ms;
    p->tick = tick;
    p->arg = arg;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* a wall clock jump must not stall polls */
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        poller_free(p);
        return NULL;
    }
    return p;
}

void sa_poll_trigger(sa_poller *p)
{
    pthread_mutex_lock(&p->lock);
    p->trigger = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void sa_poll_stop(sa_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    poller_free(p);
}
