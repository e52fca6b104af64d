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
#include "sa_patch.h"

/* Rule ids are part of the interface: policies, logs, metrics and audit annotations name them. */
typedef enum sa_rule {
    SA_RULE_RBAC_SESSION_BINDING,   /* "rbac-session-binding" */
    SA_RULE_RBAC_CROSS_NAMESPACE,   /* "rbac-cross-namespace" */
    SA_RULE_RBAC_IMPERSONATION,     /* "rbac-impersonation" */
    SA_RULE_RBAC_TOKEN_AUDIENCE,    /* "rbac-token-audience" */
    SA_RULE_SESSION_TOKEN_AUDIENCE, /* "session-token-audience" */
    SA_RULE_SESSION_POD,            /* "session-pod" */
    SA_RULE_COUNT
} sa_rule;

typedef enum sa_mode {
    SA_MODE_ENFORCE,
    SA_MODE_WARN,
    SA_MODE_AUDIT,
    SA_MODE_COUNT
} sa_mode;

const char *sa_rule_id(sa_rule rule);
/* The rule with this id, or -1. */
int sa_rule_from_id(const char *id);
const char *sa_mode_name(sa_mode mode);
/* The mode with this name, or -1. */
int sa_mode_from_name(const char *name);

/* The longest warning the API server shows whole; longer ones are cut with "...". */
#define SA_WARNING_MAX 120

typedef struct sa_verdict sa_verdict;

struct sa_verdict {
    sa_patch patch;              /* mutations; count 0 means no patch at all */
    sa_buf denial;               /* enforce-mode messages, "; "-joined */
    sa_buf warnings;             /* warn-mode messages, each NUL-terminated, back to back */
    size_t nwarnings;
    sa_buf audit[SA_RULE_COUNT]; /* audit-mode messages per rule, "; "-joined: one annotation each */
    unsigned rules_hit;          /* bit (1u << rule) for every rule that fired, any mode */
    unsigned modes_hit[SA_RULE_COUNT]; /* bit (1u << mode) per rule, for metrics */
    const sa_mode *modes;        /* the policy's mode per rule; NULL = all enforce */
    int collect;                 /* only record messages in seen, decide nothing */
    sa_buf seen;                 /* with collect: every message, each NUL-terminated */
    const sa_verdict *baseline;  /* messages it has seen are not violations here */
};

/* modes: an array of SA_RULE_COUNT modes, borrowed for the verdict's lifetime, or NULL. */
void sa_verdict_init(sa_verdict *v, const sa_mode *modes);
void sa_verdict_free(sa_verdict *v);
/* Records one violation of rule in the rule's mode; the message is printf-formatted.
 * A message the baseline has already seen is dropped: an UPDATE is judged on what it adds. */
void sa_verdict_violation(sa_verdict *v, sa_rule rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sa_verdict_denied(const sa_verdict *v);

#endif
