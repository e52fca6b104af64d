/* sa_exposition.h: the page GET /metrics answers with: the metrics store's counters under the
 * label names their owners give (endpoints, decisions and kinds from the admission core, rules
 * and modes from the verdict), with what only a scrape reads: the policy and key watcher's
 * counters, the public key in force and readiness.
 *
 * A step of its own so that neither the server nor the metrics store knows the watcher or the
 * key: the serve command hands sa_exposition_page to the metrics listener. */
#ifndef SA_EXPOSITION_H
#define SA_EXPOSITION_H

#include <time.h>

#include "sa_buf.h"
#include "sa_reload.h"
#include "sa_state.h"

typedef struct sa_exposition {
    sa_state *state;       /* the snapshot in force, for its key's fingerprint */
    sa_reloader *reloader; /* the watcher whose counters are shown; NULL: none (--dev) */
} sa_exposition;

/* An sa_listener_page_fn: arg is an sa_exposition (borrowed, and what it points to). */
void sa_exposition_page(void *arg, int ready, sa_buf *out);
/* The page from the values given: key_fingerprint NULL when no key is loaded, reload NULL when
 * nothing is watched; now is the clock the certificate's expiring-soon gauge is computed
 * against. */
void sa_exposition_render(sa_buf *out, const char *key_fingerprint, const sa_reload_stats *reload,
                          int ready, time_t now);

#endif
