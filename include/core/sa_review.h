/* sa_review.h: the AdmissionReview codec.
 *
 * Pure: bytes in, a parsed request out; a verdict in, response bytes out. No sockets, no
 * globals, so the server, the offline `review` command and the fuzzers share it.
 * Both admission.k8s.io/v1 and v1beta1 are read, and the response is written in the version
 * the request used, with response.uid = request.uid, as the API server checks. */
#ifndef SA_REVIEW_H
#define SA_REVIEW_H

#include <stddef.h>

#include "sa_json.h"
#include "sa_verdict.h"

typedef enum sa_review_version {
    SA_REVIEW_V1,
    SA_REVIEW_V1BETA1
} sa_review_version;

/* A parsed AdmissionReview request. Every pointer points into its document;
 * strings that are absent are "" and objects that are absent are NULL. */
typedef struct sa_review {
    cJSON *doc;           /* owned; NULL when read from the caller's document */
    const cJSON *request; /* the request object, which every member below is in */
    int marks;            /* escapes \u0000 read as SA_BUF_NUL_MARK: 0 none, -1 unknown
                                 * (read from the caller's document) */
    sa_review_version version;
    const char *uid;
    const char *group;        /* request.kind.group ("" = core) */
    const char *kind;         /* request.kind.kind */
    const char *resource;     /* request.resource.resource */
    const char *sub_resource; /* request.subResource */
    const char *operation;    /* CREATE, UPDATE, DELETE, CONNECT */
    const char *namespace_;   /* request.namespace ("" for cluster-scoped objects) */
    const char *name;         /* request.name ("" when the name is generated) */
    const char *username;     /* request.userInfo.username */
    const cJSON *groups;      /* request.userInfo.groups: an array of strings, or NULL */
    const cJSON *object;      /* request.object: an object, or NULL (DELETE) */
    const cJSON *old_object;  /* request.oldObject: an object, or NULL */
    int dry_run;
} sa_review;

/* Parses body into r. Returns 0, or -1 with a one-line reason in err. On failure
 * r holds nothing to free; on success free it with sa_review_free. */
int sa_review_parse(sa_review *r, const char *body, size_t len, char *err, size_t errlen);
/* The same from a document already parsed (and checked like sa_json_parse checks), which stays
 * the caller's and must outlive r. */
int sa_review_read(sa_review *r, const cJSON *doc, char *err, size_t errlen);
void sa_review_free(sa_review *r);
/* Whether the request's user is in group (request.userInfo.groups). */
int sa_review_in_group(const sa_review *r, const char *group);

/* What sa_review_skim reads of a body the strict parser refused or the transport cut short:
 * copies, each cut at SA_REVIEW_SKIM_MAX - 1 bytes (a longer uid is refused). */
#define SA_REVIEW_SKIM_MAX 128
typedef struct sa_review_envelope {
    sa_review_version version;
    char uid[SA_REVIEW_SKIM_MAX];
    char group[SA_REVIEW_SKIM_MAX];
    char kind[SA_REVIEW_SKIM_MAX];
} sa_review_envelope;
/* Reads the envelope (apiVersion, kind, request.uid, request.kind) from the first len bytes of a
 * body that need not be whole, valid or strict beyond them: enough to answer the API server,
 * which writes those members first (Go marshals the struct fields in order). Each must appear
 * once, as a string without escapes, and request.kind must close within len. Returns 0, or -1
 * with a one-line reason in err when the body does not read as an AdmissionReview. */
int sa_review_skim(sa_review_envelope *s, const char *body, size_t len, char *err, size_t errlen);

/* Encodes the AdmissionReview response for request r and verdict v into out (appended). */
void sa_review_encode(const sa_review *r, const sa_verdict *v, sa_buf *out);

#endif
