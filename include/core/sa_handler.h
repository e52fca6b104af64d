/* sa_handler.h: the one signature every admission handler has (the mutation, each validator).
 *
 * It lives below both the handlers and the core that routes to them (admit.c), so a handler needs
 * only what it judges (the snapshot, the parsed review, the verdict it adds to) and never the core
 * that calls it. */
#ifndef SA_HANDLER_H
#define SA_HANDLER_H

#include "sa_review.h"
#include "sa_snapshot.h"
#include "sa_verdict.h"

/* Judges one parsed review against a snapshot and adds to the verdict. The snapshot's policy and
 * key are never NULL when a handler runs. */
typedef void sa_handler_fn(const sa_snapshot *snap, const sa_review *r, sa_verdict *v);

#endif
