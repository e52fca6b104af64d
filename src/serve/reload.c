/* reload.c: the policy and public key watcher (see sa_reload.h).
 *
 * Polling (sa_poll.h) rather than inotify: a ConfigMap update replaces a symlink two directories
 * above the file, which inotify on the file never sees, and a poll every two seconds costs two
 * stat(2) calls. Only the poller thread touches the file identities; the lock guards the
 * counters that other threads read. */
#include "sa_reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_buf.h"
#include "sa_pubkey.h"
#include "sa_log.h"
#include "sa_policy.h"
#include "sa_poll.h"

#define DEFAULT_INTERVAL_MS 2000
/* Snapshots waiting to be freed; more than this (reloads faster than requests finish) are
 * handed back to the requests to free. */
#define RETIRED_MAX 8

struct sa_reloader {
    sa_state *st;
    char *policy_path;   /* owned */
    char *key_path_flag; /* owned; NULL: follow the policy's key file */
    unsigned interval_ms;
    sa_poller *poller;

    pthread_mutex_t lock; /* guards the stats */
    sa_reload_stats stats;

    /* The poller thread's own. */
    sa_poll_watch policy_watch, key_watch;
    char *key_path; /* owned: where the key in force comes from */
    /* Snapshots replaced by a reload, freed here once no request holds them any more (at the
     * next poll), not by whichever request drops the last reference. */
    sa_snapshot *retired[RETIRED_MAX];
    size_t nretired;
};

static const char *const kind_names[SA_WATCH_KIND_COUNT] = {"policy", "public_key"};

const char *sa_reload_kind_name(sa_watch_kind kind)
{
    return (unsigned)kind < SA_WATCH_KIND_COUNT ? kind_names[kind] : "unknown";
}

static void count_failure(sa_reloader *r, sa_watch_kind kind)
{
    pthread_mutex_lock(&r->lock);
    r->stats.reload_failure[kind]++;
    pthread_mutex_unlock(&r->lock);
}

/* Where the key comes from: the --public-key flag, else the file the policy names. */
static const char *key_path_of(const char *flag, const sa_policy *p)
{
    return flag ? flag : p->sessions.key_file;
}

/* Reads and checks the policy file. NULL after logging the refusal in one line: the first
 * error (FILE:LINE:COLUMN: reason) and how many. */
static sa_policy *load_policy(sa_reloader *r)
{
    /* The same reader as start-up (sa_load_snapshot), so a file is refused in the same words
     * either way; the log keeps the first error line and the count. */
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = sa_policy_load_file(r->policy_path, &errors);
    if (!p) {
        const char *all = sa_buf_str(&errors);
        size_t first = strcspn(all, "\n"), n = 0;
        for (const char *c = all; *c; c++)
            n += *c == '\n';
        char err[512], nerr[24];
        snprintf(nerr, sizeof nerr, "%zu", n);
        snprintf(err, sizeof err, "%.*s", (int)first, all);
        sa_log(SA_LOG_ERROR, "policy refused, the last good one keeps serving", "file",
               r->policy_path, "error", err, "errors", nerr, NULL);
        count_failure(r, SA_WATCH_POLICY);
    } else {
        sa_buf summary = SA_BUF_INIT;
        sa_policy_summary(p, &summary);
        sa_log(SA_LOG_INFO, "policy reloaded", "file", r->policy_path, "tables",
               sa_buf_str(&summary), NULL);
        sa_buf_free(&summary);
    }
    sa_buf_free(&errors);
    return p;
}

static sa_pubkey *load_key(sa_reloader *r)
{
    char err[512];
    sa_pubkey *k = sa_pubkey_load(r->key_path, err, sizeof err);
    if (k)
        sa_log(SA_LOG_INFO, "public key reloaded", "file", r->key_path, "fingerprint",
               k->fingerprint, NULL);
    else
        sa_log(SA_LOG_ERROR, "public key refused, the last good one keeps serving", "file",
               r->key_path, "error", err, NULL);
    if (!k)
        count_failure(r, SA_WATCH_PUBLIC_KEY);
    return k;
}

/* Points the key at the file a newly taken policy names (unless --public-key fixed it).
 * Returns non-zero when that is another file, which must then be loaded. */
static int follow_key_file(sa_reloader *r, const sa_policy *p)
{
    const char *want = key_path_of(r->key_path_flag, p);
    if (strcmp(want, r->key_path) == 0)
        return 0;
    char *path = strdup(want);
    if (!path)
        return 0;
    free(r->key_path);
    r->key_path = path;
    return 1;
}

/* Frees the retired snapshots no request holds any more. */
static void free_retired(sa_reloader *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->nretired; i++) {
        if (sa_snapshot_unshared(r->retired[i]))
            sa_snapshot_release(r->retired[i]);
        else
            r->retired[kept++] = r->retired[i];
    }
    r->nretired = kept;
}

static void retire(sa_reloader *r, sa_snapshot *old)
{
    if (old && r->nretired < RETIRED_MAX)
        r->retired[r->nretired++] = old;
    else
        sa_snapshot_release(old);
}

/* One poll: loads what changed (everything when forced) and publishes a new snapshot if any
 * of it loaded. What did not load keeps its last good version. */
static void check(void *arg, int force)
{
    sa_reloader *r = arg;
    free_retired(r);
    sa_policy *policy = NULL;
    sa_pubkey *key = NULL;
    const char *path = r->policy_path;
    if (sa_poll_watch_due(&r->policy_watch, &path, force))
        policy = load_policy(r);
    int key_moved = policy && follow_key_file(r, policy);
    path = r->key_path;
    if (sa_poll_watch_due(&r->key_watch, &path, force || key_moved))
        key = load_key(r);
    if (!policy && !key)
        return;
    /* Successes count once the new version is in force. */
    int took[SA_WATCH_KIND_COUNT] = {
        [SA_WATCH_POLICY] = policy != NULL, [SA_WATCH_PUBLIC_KEY] = key != NULL};

    /* What did not change comes from the snapshot in force: the parsed policy is shared (a key
     * rotation costs no policy parse), the key, small, is parsed again from its canonical PEM
     * (a snapshot owns its key). */
    char err[256];
    sa_snapshot *cur = sa_state_acquire(r->st);
    if (!key && cur && cur->key)
        key = sa_pubkey_parse(cur->key->pem, cur->key->pem_len, err, sizeof err);
    sa_snapshot *snap = NULL;
    if (policy && key)
        snap = sa_snapshot_new(policy, key);
    else if (key && cur && cur->policy)
        snap = sa_snapshot_with_key(cur, key);
    sa_snapshot_release(cur);
    if (!snap) {
        sa_policy_free(policy);
        sa_pubkey_free(key);
        sa_log(SA_LOG_ERROR, "reload failed: could not build the snapshot", NULL);
        for (int k = 0; k < SA_WATCH_KIND_COUNT; k++)
            if (took[k])
                count_failure(r, (sa_watch_kind)k);
        return;
    }
    retire(r, sa_state_swap(r->st, snap));
    pthread_mutex_lock(&r->lock);
    for (int k = 0; k < SA_WATCH_KIND_COUNT; k++)
        r->stats.reload_success[k] += (unsigned long)took[k];
    r->stats.last_success_time = time(NULL);
    pthread_mutex_unlock(&r->lock);
}

static void reloader_free(sa_reloader *r)
{
    for (size_t i = 0; i < r->nretired; i++)
        sa_snapshot_release(r->retired[i]);
    free(r->policy_path);
    free(r->key_path_flag);
    free(r->key_path);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

sa_reloader *sa_reload_start(const sa_reload_config *cfg, sa_state *st, char *err, size_t errlen)
{
    sa_reloader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->st = st;
    r->interval_ms = cfg->interval_ms ? cfg->interval_ms : DEFAULT_INTERVAL_MS;
    r->policy_path = strdup(cfg->policy_path);
    r->key_path_flag = cfg->key_path ? strdup(cfg->key_path) : NULL;

    sa_snapshot *cur = sa_state_acquire(st);
    int loaded = cur && cur->policy && cur->key;
    const char *key_path = loaded ? key_path_of(cfg->key_path, cur->policy) : NULL;
    r->key_path = key_path ? strdup(key_path) : NULL;
    sa_snapshot_release(cur);
    if (!r->policy_path || !r->key_path || (cfg->key_path && !r->key_path_flag)) {
        if (loaded)
            snprintf(err, errlen, "out of memory");
        else
            snprintf(err, errlen, "%s: no policy and key loaded from it to watch",
                     cfg->policy_path);
        reloader_free(r);
        return NULL;
    }

    /* Identified after the snapshot in force was loaded: a change in between is missed until
     * the file changes again (a window of the start-up's milliseconds). */
    const char *path = r->policy_path;
    sa_poll_watch_init(&r->policy_watch, &path, 1);
    path = r->key_path;
    sa_poll_watch_init(&r->key_watch, &path, 1);
    r->stats.last_success_time = time(NULL);
    if (!(r->poller = sa_poll_start(r->interval_ms, check, r))) {
        snprintf(err, errlen, "cannot start the reload thread");
        reloader_free(r);
        return NULL;
    }
    return r;
}

void sa_reload_trigger(sa_reloader *r)
{
    sa_poll_trigger(r->poller);
}

void sa_reload_get_stats(sa_reloader *r, sa_reload_stats *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    pthread_mutex_unlock(&r->lock);
}

void sa_reload_stop(sa_reloader *r)
{
    if (!r)
        return;
    sa_poll_stop(r->poller);
    reloader_free(r);
}
