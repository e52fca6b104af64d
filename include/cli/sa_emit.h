/* sa_emit.h: a JSON document (cJSON) written as one YAML document, with libyaml's emitter.
 *
 * For output people read and kubectl applies (`generate`): block style, multi-line strings as
 * literal blocks, and every string that a YAML 1.1 reader (sigs.k8s.io/yaml, kubectl's) would
 * take for another type (true, no, null, 0x1F, 1e3, a timestamp...) double-quoted. */
#ifndef SA_EMIT_H
#define SA_EMIT_H

#include <cjson/cJSON.h>

#include "sa_buf.h"

/* Appends doc as a YAML document that starts with "---". Returns 0, or -1 (libyaml's reason
 * in err, or out of memory). */
int sa_emit_yaml(const cJSON *doc, sa_buf *out, sa_buf *err);

#endif
