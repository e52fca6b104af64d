/* sa_podkey.h: which of a session pod's containers carry the control plane's public key.
 *
 * The mutation (mutate.c) puts the key in exactly these containers' env and the pod validator
 * (validate_pod.c) requires it in exactly these, so the rule lives here once: were the two to
 * drift, the validator would deny pods the mutation had just made, or pass ones it had missed.
 *
 * The rule, for a container whose name matches a glob of sessions.publicKey.containers:
 * - in spec.containers, it carries the key;
 * - in spec.initContainers, it does with publicKey.initContainers: true, or as a native sidecar
 *   (restartPolicy: Always): it runs for the pod's whole life, like the credential sidecars, so
 *   it is treated as a container whatever the flag says;
 * - in spec.ephemeralContainers, never: debug shells, not session code (and added later through a
 *   subresource the mutation never sees). */
#ifndef SA_PODKEY_H
#define SA_PODKEY_H

#include <cjson/cJSON.h>

#include "sa_policy.h"

/* Whether container, an element of the pod spec's list named list ("containers",
 * "initContainers" or "ephemeralContainers"), carries the key by the rule above. Reads the
 * container defensively: without a string name it is judged as named "". */
int sa_podkey_carrier(const sa_policy *p, const char *list, const cJSON *container);

#endif
