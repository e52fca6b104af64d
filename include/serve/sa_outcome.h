/* sa_outcome.h: what one answered review leaves behind: its counters (sa_metrics.h) and its
 * log line (sa_log.h, info level; warn when the review was unusable), recorded the same way for
 * every review the listener answers. */
#ifndef SA_OUTCOME_H
#define SA_OUTCOME_H

#include "sa_admit.h"

/* Counts a review answered on ep in seconds; res NULL when the transport refused it before the
 * core saw it (413, 415, 503 busy): then decision "error", kind and operation "unknown". */
void sa_outcome_count(sa_endpoint ep, const sa_admit_result *res, double seconds);
/* The review's log line: endpoint, uid, kind, operation, namespace, name, user, decision, the
 * rules hit, status, dry run, duration, and the core's reason when it did not answer 200. */
void sa_outcome_log(sa_endpoint ep, const sa_admit_result *res, double seconds);

#endif
