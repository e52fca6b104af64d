/* sa_scan.h: one Kubernetes object judged as the API server would have it judged, for `scan` and
 * `test`.
 *
 * The object is wrapped into the AdmissionReview kube-apiserver would send (request.kind and
 * requestKind from its apiVersion and kind, resource and requestResource the plural the chart
 * registers, namespace from metadata.namespace for namespaced kinds and "" for cluster-scoped
 * ones, name from metadata.name, "" when only generateName is set, as the create handler leaves
 * it), then sent to every webhook the chart registers for its kind and operation, in the API
 * server's order: mutating first, then validating, which sees the mutated object. A denial
 * stops the chain, as in the API server. Kinds and operations no webhook is registered for are
 * reported as not judged. The work itself is sa_admit's: the same bytes the server judges. */
#ifndef SA_SCAN_H
#define SA_SCAN_H

#include <cjson/cJSON.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_objects.h"

typedef enum sa_scan_verdict {
    SA_SCAN_ALLOWED,
    SA_SCAN_PATCHED, /* allowed, and a mutating webhook changed it */
    SA_SCAN_WARNED,  /* allowed, with warnings or audit annotations */
    SA_SCAN_DENIED,
    SA_SCAN_NOT_JUDGED, /* no webhook is registered for its kind and operation */
    SA_SCAN_ERROR,      /* the review was refused as unusable (error holds why) */
    SA_SCAN_VERDICT_COUNT
} sa_scan_verdict;

typedef struct sa_scan_request {
    const char *operation;     /* CREATE (when NULL), UPDATE or DELETE */
    const char *username;      /* when NULL: "session-admission-scan" */
    const char *const *groups; /* system:authenticated is added, as the API server adds it */
    size_t ngroups;
    const cJSON *old_object;       /* UPDATE: the object before; DELETE: the object itself */
    const char *default_namespace; /* for namespaced objects without one; NULL: "default" */
} sa_scan_request;

typedef struct sa_scan_result {
    sa_scan_verdict verdict;
    char kind[128];
    char namespace_[256];
    char name[256];
    unsigned rules_hit; /* bit (1u << sa_rule) per rule that fired in any webhook */
    sa_buf message;     /* the denial, else the warnings, else the audit annotations */
    cJSON *warnings;    /* array of strings, owned */
    cJSON *patched;     /* the object after mutation, when patched; owned */
    char error[512];
} sa_scan_result;

const char *sa_scan_verdict_name(sa_scan_verdict v);
/* The verdict with this name, or -1. */
int sa_scan_verdict_from_name(const char *name);

/* Judges obj (an object with apiVersion and kind). Always fills res; free it with
 * sa_scan_result_free. */
void sa_scan_object(const sa_snapshot *snap, const cJSON *obj, const sa_scan_request *rq,
                    sa_scan_result *res);
/* The same for a whole AdmissionReview (a test case's review file), on the webhooks its
 * request.kind and operation reach. */
void sa_scan_review(const sa_snapshot *snap, const char *body, size_t len, sa_scan_result *res);
void sa_scan_result_free(sa_scan_result *res);

/* Appends the ids of the rules in bits, comma-separated ("" when none). */
void sa_scan_rule_ids(unsigned bits, sa_buf *out);

/* One row of `scan` output for the object o of file, appended to out without a newline: a table
 * line under sa_scan_table_header, or (json) one JSON object; show_patched adds the mutated
 * object (a second, indented table line). */
extern const char sa_scan_table_header[];
void sa_scan_format_row(const sa_scan_result *res, const char *file, const sa_object *o, int json,
                        int show_patched, sa_buf *out);

#endif
