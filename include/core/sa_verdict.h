/* sa_verdict.h: what judging one review decided, before it is encoded as an AdmissionResponse.
 *
 * Handlers (the mutation and each validator) add patch operations and violations to a verdict.
 * A violation belongs to a rule with a stable id and is applied in the rule's mode from the
 * policy: enforce denies, warn allows with a warning, audit allows with an audit annotation.
 * Every violation is kept, so a denial lists all of them, not only the first. */
#ifndef SA_VERDICT_H
#define SA_VERDICT_H

#include <stddef.h>

#include "sa_buf.h"
#include "sa_map.h"
#include "sa_patch.h"

/* Rule ids are part of the interface: policies, logs, metrics and audit annotations name them. */
typedef enum sa_rule {
    SA_RULE_RBAC_SESSION_BINDING,    /* "rbac-session-binding" */
    SA_RULE_RBAC_CROSS_NAMESPACE,    /* "rbac-cross-namespace" */
    SA_RULE_RBAC_IMPERSONATION,      /* "rbac-impersonation" */
    SA_RULE_RBAC_TOKEN_AUDIENCE,     /* "rbac-token-audience" */
    SA_RULE_SESSION_TOKEN_AUDIENCE,  /* "session-token-audience" */
    SA_RULE_SESSION_POD,             /* "session-pod" */
    SA_RULE_SESSION_ENV_FROM_SECRET, /* "session-env-from-secret" */
    SA_RULE_COUNT
} sa_rule;

typedef enum sa_mode {
    SA_MODE_ENFORCE,
    SA_MODE_WARN,
    SA_MODE_AUDIT,
    SA_MODE_COUNT
} sa_mode;

const char *sa_verdict_rule_id(sa_rule rule);
/* The rule with this id, or -1. */
int sa_verdict_rule_from_id(const char *id);
const char *sa_verdict_mode_name(sa_mode mode);
/* The mode with this name, or -1. */
int sa_verdict_mode_from_name(const char *name);

/* The longest warning the API server shows whole; longer ones are cut with "...". */
#define SA_WARNING_MAX 120
/* At most this many messages are listed per denial, per rule's audit annotation, and as
 * warnings; the rest are counted ("and N more"), so an object with thousands of violations
 * cannot make the answer (or the work to build it) grow without bound. */
#define SA_VERDICT_LIST_MAX 50

typedef struct sa_verdict sa_verdict;

/* A list of messages: the first SA_VERDICT_LIST_MAX joined in text, all of them counted. */
typedef struct sa_verdict_list {
    sa_buf text;  /* "; "-joined (warnings: each NUL-terminated, back to back) */
    size_t count; /* every message, listed or not */
} sa_verdict_list;

struct sa_verdict {
    sa_patch patch;                       /* mutations; count 0 means no patch at all */
    sa_verdict_list denial;               /* enforce-mode messages */
    sa_verdict_list warnings;             /* warn-mode messages, each cut to SA_WARNING_MAX */
    sa_verdict_list audit[SA_RULE_COUNT]; /* audit-mode messages: one annotation per rule */
    unsigned rules_hit;                   /* bit (1u << rule) for every rule that fired, any mode */
    unsigned modes_hit[SA_RULE_COUNT];    /* bit (1u << mode) per rule, for metrics */
    int oom;                              /* a message could not be recorded: the verdict denies */
    const sa_mode *modes;                 /* the policy's mode per rule; NULL = all enforce */
    int collect;                          /* only record the violations' keys, decide nothing */
    sa_map *keys;               /* with collect: every violation's rule and key, a hash set */
    const sa_verdict *baseline; /* violations whose keys it holds are not violations here */
};

/* A violation's key: the parts that say what it is about (a permission a rule grants, a binding's
 * subject and role, a container and a variable), never its message nor the index of the rule or
 * item it was found in. An UPDATE is judged on the keys the new object adds to the old one's, so
 * a widening is refused even when its message reads like an old one, and reordering an old,
 * tolerated object reports nothing. Written SA_KEY("impersonate", kind, name). SA_KEY_NONE
 * marks what could not be judged (too large, out of memory): no old object's excuses it, since it
 * hides what the new object grants. */
#define SA_KEY(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SA_KEY_NONE ((const char *const *)NULL)

/* modes: an array of SA_RULE_COUNT modes, borrowed for the verdict's lifetime, or NULL. */
void sa_verdict_init(sa_verdict *v, const sa_mode *modes);
void sa_verdict_free(sa_verdict *v);
/* Records one violation of rule in the rule's mode; the message is printf-formatted, whole
 * (only a warning is cut, when it is shown). key (an SA_KEY) names what is violated: a violation
 * whose rule and key the baseline holds is dropped, since an UPDATE is judged on what it adds. */
void sa_verdict_violation(sa_verdict *v, sa_rule rule, const char *const *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a denial outside any rule, whatever the modes: for a request that cannot be judged at
 * all (what it holds cannot be read), which no mode may let through. printf-formatted. */
void sa_verdict_refuse(sa_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Denied: an enforce-mode violation, or one that could not even be recorded. */
int sa_verdict_denied(const sa_verdict *v);
/* Appends a list's text, then "; and N more" when some were not listed. */
void sa_verdict_list_text(const sa_verdict_list *l, sa_buf *out);

#endif
