/* exposition.c: the /metrics page (see sa_exposition.h): gathers the label names and the values
 * other modules own and hands them to the metrics store's renderer. */
#include "sa_exposition.h"

#include "sa_admit.h"
#include "sa_metrics.h"
#include "sa_pubkey.h"
#include "sa_verdict.h"

/* Every index the counters are given must have a slot in the store. */
_Static_assert(SA_ENDPOINT_COUNT <= SA_METRICS_ENDPOINTS_MAX, "endpoints over the metrics' slots");
_Static_assert(SA_DECISION_COUNT <= SA_METRICS_DECISIONS_MAX, "decisions over the metrics' slots");
_Static_assert(SA_RULE_COUNT <= SA_METRICS_RULES_MAX, "rules over the metrics' slots");
_Static_assert(SA_MODE_COUNT <= SA_METRICS_MODES_MAX, "modes over the metrics' slots");

void sa_exposition_render(sa_buf *out, const char *key_fingerprint, const sa_reload_stats *reload,
                          int ready, time_t now)
{
    const char *endpoints[SA_ENDPOINT_COUNT], *decisions[SA_DECISION_COUNT];
    const char *kinds[SA_METRICS_KINDS_MAX], *rules[SA_RULE_COUNT], *modes[SA_MODE_COUNT];
    const char *targets[SA_WATCH_KIND_COUNT];
    for (unsigned i = 0; i < SA_ENDPOINT_COUNT; i++)
        endpoints[i] = sa_admit_endpoint_name((sa_endpoint)i);
    for (unsigned i = 0; i < SA_DECISION_COUNT; i++)
        decisions[i] = sa_admit_decision_name((sa_decision)i);
    unsigned nkinds = sa_admit_kind_count();
    for (unsigned i = 0; i < nkinds && i < SA_METRICS_KINDS_MAX; i++)
        kinds[i] = sa_admit_kind_name(i);
    for (unsigned i = 0; i < SA_RULE_COUNT; i++)
        rules[i] = sa_verdict_rule_id((sa_rule)i);
    for (unsigned i = 0; i < SA_MODE_COUNT; i++)
        modes[i] = sa_verdict_mode_name((sa_mode)i);
    for (unsigned i = 0; i < SA_WATCH_KIND_COUNT; i++)
        targets[i] = sa_reload_kind_name((sa_watch_kind)i);

    sa_metrics_page page = {
        .endpoints = {endpoints, SA_ENDPOINT_COUNT},
        .kinds = {kinds, nkinds < SA_METRICS_KINDS_MAX ? nkinds : SA_METRICS_KINDS_MAX},
        .decisions = {decisions, SA_DECISION_COUNT},
        .rules = {rules, SA_RULE_COUNT},
        .modes = {modes, SA_MODE_COUNT},
        .reload_targets = {targets, SA_WATCH_KIND_COUNT},
        .reload_success = reload ? reload->reload_success : NULL,
        .reload_failure = reload ? reload->reload_failure : NULL,
        .last_reload_time = reload ? (long long)reload->last_success_time : 0,
        .key_fingerprint = key_fingerprint,
        .ready = ready,
    };
    sa_metrics_render(out, &page, now);
}

void sa_exposition_page(void *arg, int ready, sa_buf *out)
{
    const sa_exposition *x = arg;
    sa_reload_stats stats;
    if (x->reloader)
        sa_reload_get_stats(x->reloader, &stats);
    sa_snapshot *snap = sa_state_acquire(x->state);
    sa_exposition_render(out, snap && snap->key ? snap->key->fingerprint : NULL,
                         x->reloader ? &stats : NULL, ready, time(NULL));
    sa_snapshot_release(snap);
}
