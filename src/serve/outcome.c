/* outcome.c: what one answered review leaves behind (see sa_outcome.h): its counters and its
 * log line, with the rules it hit and the core's one-line reason, never the review itself. */
#include "sa_outcome.h"

#include <stdio.h>
#include <string.h>

#include "sa_buf.h"
#include "sa_log.h"
#include "sa_metrics.h"
#include "sa_verdict.h"

void sa_outcome_log(sa_endpoint ep, const sa_admit_result *res, double seconds)
{
    if (!sa_log_enabled(SA_LOG_INFO))
        return;
    sa_buf rules = SA_BUF_INIT;
    for (int i = 0; i < SA_RULE_COUNT; i++) {
        if (!(res->rules_hit & (1u << i)))
            continue;
        if (rules.len)
            sa_buf_putc(&rules, ',');
        sa_buf_puts(&rules, sa_verdict_rule_id((sa_rule)i));
    }
    char duration[32], status[8], reason[256] = "";
    snprintf(duration, sizeof duration, "%.3f", seconds * 1e3);
    snprintf(status, sizeof status, "%d", res->http_status);
    if (res->http_status != 200 && res->body) /* the core's one-line reason, never the review */
        snprintf(reason, sizeof reason, "%.*s", (int)strcspn(res->body, "\n"), res->body);
    sa_log(res->decision == SA_DECISION_ERROR ? SA_LOG_WARN : SA_LOG_INFO, "review", "endpoint",
           sa_admit_endpoint_name(ep), "uid", res->uid, "kind", res->kind, "operation",
           res->operation, "namespace", res->namespace_, "name", res->name, "user", res->username,
           "decision", sa_admit_decision_name(res->decision), "rules", sa_buf_str(&rules), "status",
           status, "dry_run", res->dry_run ? "true" : "false", "duration_ms", duration,
           *reason ? "reason" : NULL, reason, NULL);
    sa_buf_free(&rules);
}

void sa_outcome_count(sa_endpoint ep, const sa_admit_result *res, double seconds)
{
    /* clang-format off */
    sa_metrics_review_sample r = {
        .endpoint = ep, .kind = res ? res->kind_index : sa_admit_kind_index(NULL),
        .operation = res ? res->operation : NULL,
        .decision = res ? res->decision : SA_DECISION_ERROR,
        .rules_hit = res ? res->rules_hit : 0, .modes_hit = res ? res->modes_hit : NULL,
        .seconds = seconds,
    };
    /* clang-format on */
    sa_metrics_review(&r);
}
