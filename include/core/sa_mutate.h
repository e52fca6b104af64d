/* sa_mutate.h: the session pod mutation behind POST /mutate (Pod CREATE).
 *
 * A pod carrying the policy's session label, outside exempt namespaces, is given its session
 * ServiceAccount, the control plane's public key in every selected container's env, and an
 * annotation with the key's fingerprint. The patch holds only what differs, so a pod already in
 * that state gets no patch at all (safe under reinvocationPolicy: IfNeeded). */
#ifndef SA_MUTATE_H
#define SA_MUTATE_H

#include "sa_handler.h"

/* An sa_handler_fn: adds patch operations, or session-pod violations, to v. */
void sa_mutate_pod(const sa_snapshot *snap, const sa_review *r, sa_verdict *v);

#endif
