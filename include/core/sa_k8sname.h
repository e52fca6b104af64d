/* sa_k8sname.h: Kubernetes name syntax, checked as the API server's validation does
 * (k8s.io/apimachinery/pkg/util/validation), and the session ServiceAccount name built from
 * the policy's template.
 *
 * Pure string functions: the policy loader checks the names it is given with them, and the
 * admission path renders the name a session pod must run as, so a name the API server would
 * refuse is caught when the policy loads, not when a pod is admitted. */
#ifndef SA_K8SNAME_H
#define SA_K8SNAME_H

#include <stddef.h>

#include "sa_buf.h"

/* The longest DNS-1123 subdomain, such as a ServiceAccount name. */
#define SA_K8SNAME_SUBDOMAIN_MAX 253
/* The longest name part of a qualified name (a label key). */
#define SA_K8SNAME_QUALIFIED_MAX 63
/* What a ServiceAccount template puts the session id in place of. */
#define SA_K8SNAME_ID_PLACEHOLDER "{id}"

/* Whether the len bytes at s are a DNS-1123 subdomain: dot-separated labels of [a-z0-9-],
 * each starting and ending alphanumeric, SA_K8SNAME_SUBDOMAIN_MAX characters at most. */
int sa_k8sname_subdomain(const char *s, size_t len);
/* Whether s is a qualified name (a label or annotation key): an optional DNS-1123 subdomain
 * prefix and '/', then a name of at most 63 characters of [A-Za-z0-9-_.] that starts and ends
 * alphanumeric. */
int sa_k8sname_qualified(const char *s);
/* Whether s is a C identifier, [A-Za-z_][A-Za-z0-9_]*, as environment variable names are. */
int sa_k8sname_c_identifier(const char *s);

/* Appends tmpl to out with its first {id} replaced by id, lower-cased and cut to max bytes.
 * Returns 0, or -1 when tmpl has no {id}, id is empty, memory runs out, or the appended name
 * is not a DNS-1123 subdomain. Nothing is trimmed: a cut that leaves the name ending in '-' is
 * refused. */
int sa_k8sname_session_sa(const char *tmpl, int max, const char *id, sa_buf *out);

#endif
