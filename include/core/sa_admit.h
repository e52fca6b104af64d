/* sa_admit.h: the admission core. Bytes of an AdmissionReview in, bytes of the response out.
 *
 * Pure: no sockets, no clocks, no logging. The TLS server and the offline `review` command both
 * call sa_admit, so they answer byte for byte the same. Requests are dispatched on the endpoint
 * and the request's kind through one table (admit.c); a kind with no handler is allowed as is. */
#ifndef SA_ADMIT_H
#define SA_ADMIT_H

#include <stddef.h>

#include "sa_review.h"
#include "sa_snapshot.h"
#include "sa_verdict.h"

typedef enum sa_endpoint {
    SA_ENDPOINT_MUTATE,
    SA_ENDPOINT_VALIDATE,
    SA_ENDPOINT_COUNT
} sa_endpoint;

typedef enum sa_decision {
    SA_DECISION_ALLOWED,
    SA_DECISION_PATCHED,
    SA_DECISION_DENIED,
    SA_DECISION_ERROR, /* no AdmissionReview answer: HTTP 400, 413, 503 */
    SA_DECISION_COUNT
} sa_decision;

const char *sa_admit_endpoint_name(sa_endpoint ep); /* "mutate", "validate" */
const char *sa_admit_decision_name(sa_decision d);  /* "allowed", "patched", "denied", "error" */

/* The closed set a request's kind is labelled with in metrics, owned by the routing table:
 * each kind it routes (on any endpoint, once), then "other" (a kind it does not route) and
 * "unknown" (none read: an unusable review, or one the transport refused). So no client can
 * make a label value. */
unsigned sa_admit_kind_count(void);
const char *sa_admit_kind_name(unsigned i); /* "unknown" past the end */
/* The index of kind (matched by name alone, whatever its group) in that set; NULL or "": the
 * index of "unknown". */
unsigned sa_admit_kind_index(const char *kind);

/* Why the webhook cannot judge with snap, NULL when it can: a policy and a public key must
 * be loaded. The one-line reason is what a 503 and /readyz say. */
const char *sa_admit_not_ready(const sa_snapshot *snap);

/* What sa_admit produced, plus a summary of the request for logs and metrics (copied, so it
 * outlives the review; long values are cut). */
typedef struct sa_admit_result {
    int http_status; /* 200: body is a response AdmissionReview; else (400, 413, 503) a
                                 * one-line reason */
    char *body;      /* owned: sa_admit_result_free */
    size_t body_len;
    sa_decision decision;
    unsigned rules_hit; /* bit (1u << sa_rule) per rule that fired */
    unsigned modes_hit[SA_RULE_COUNT];
    int dry_run;
    char uid[128];
    char kind[64];
    unsigned kind_index; /* kind in the set of sa_admit_kind_name */
    char operation[16];
    char namespace_[64];
    char name[256];
    char username[256];
} sa_admit_result;

/* Judges one review. snap may be NULL (no policy and key loaded yet): then the answer is
 * HTTP 503 and the webhook's failurePolicy decides. A body the strict parser refuses is answered
 * by sa_admit_unread (HTTP 400 only when it is not an AdmissionReview). Always fills res; free it with
 * sa_admit_result_free. */
void sa_admit(const sa_snapshot *snap, sa_endpoint ep, const char *body, size_t len,
              sa_admit_result *res);
/* The same for a review already parsed (sa_review_read over a checked document): what the
 * offline `scan` calls with the reviews it builds, sparing a print and a parse per object. */
void sa_admit_review(const sa_snapshot *snap, sa_endpoint ep, const sa_review *r,
                     sa_admit_result *res);
/* Answers a body that cannot be judged whole (why: the strict parser's reason, or the transport's
 * for a body over its limit, of which body holds the first len bytes). When the envelope can
 * still be read from it (sa_review_skim), the answer is an AdmissionReview: denied for a kind a
 * handler judges (in every mode: what it holds is unknown), allowed for any other, as sa_admit
 * would. Else HTTP status with why: the body is not an AdmissionReview. */
void sa_admit_unread(const sa_snapshot *snap, sa_endpoint ep, const char *body, size_t len,
                     int status, const char *why, sa_admit_result *res);
void sa_admit_result_free(sa_admit_result *res);

#endif
