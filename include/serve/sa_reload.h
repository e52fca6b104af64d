/* sa_reload.h: the watcher that reloads the policy and the public key without a restart.
 *
 * A thread polls both files with stat(2), which follows symlinks: a Kubernetes ConfigMap or
 * Secret mount swaps its "..data" symlink, so the resolved file's device, inode, size, mtime or
 * ctime changes even though the path does not. On a change (or an explicit trigger: SIGHUP) it loads
 * the new file, builds a new snapshot and publishes it; requests in flight finish on the old
 * one. A broken file is refused, logged in one line (file, line, column, reason) and counted,
 * and the last good policy and key keep serving. */
#ifndef SA_RELOAD_H
#define SA_RELOAD_H

#include <stddef.h>
#include <time.h>

#include "sa_state.h"

typedef enum sa_watch_kind {
    SA_WATCH_POLICY,
    SA_WATCH_PUBLIC_KEY,
    SA_WATCH_KIND_COUNT
} sa_watch_kind;

const char *sa_reload_kind_name(sa_watch_kind kind); /* "policy", "public_key" */

/* Counters for metrics and tests: a consistent copy, read with sa_reload_get_stats. */
typedef struct sa_reload_stats {
    unsigned long reload_success[SA_WATCH_KIND_COUNT];
    unsigned long reload_failure[SA_WATCH_KIND_COUNT];
    time_t last_success_time; /* the snapshot in force was loaded then (start counts) */
} sa_reload_stats;

typedef struct sa_reload_config {
    const char *policy_path;
    const char *key_path; /* NULL: the policy's sessions.publicKey.file, followed when a
                                 * new policy names another file */
    unsigned interval_ms; /* between polls; 0 means the default, 2000 */
} sa_reload_config;

typedef struct sa_reloader sa_reloader;

/* Starts watching. st must already hold the snapshot loaded from these files (a change of only
 * the key shares its parsed policy). NULL with a one-line reason in err. Paths are copied. */
sa_reloader *sa_reload_start(const sa_reload_config *cfg, sa_state *st, char *err, size_t errlen);
/* Asks the watcher to reload both files now, changed or not (SIGHUP). Returns at once. */
void sa_reload_trigger(sa_reloader *r);
void sa_reload_get_stats(sa_reloader *r, sa_reload_stats *out);
/* Stops the thread and frees the watcher; the state keeps its snapshot. Accepts NULL. */
void sa_reload_stop(sa_reloader *r);

#endif
