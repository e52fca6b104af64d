/* sa_policy.h: the policy tables, loaded from one YAML file with libyaml.
 *
 * A policy is checked fully before use: any error (with file, line and column) refuses the
 * whole file, so a half-applied policy can never serve. Once loaded it is immutable and shared
 * by all request threads through a snapshot (sa_snapshot.h). The format is documented key by key
 * in examples/policy.yaml, which is also compiled in as the built-in policy. */
#ifndef SA_POLICY_H
#define SA_POLICY_H

#include <stddef.h>

#include "sa_buf.h"
#include "sa_map.h"
#include "sa_nameset.h"
#include "sa_rbac.h"
#include "sa_verdict.h"

/* Where an allowed role may be bound: by a RoleBinding, a ClusterRoleBinding, or either. */
typedef enum sa_scope {
    SA_SCOPE_NAMESPACE = 1,
    SA_SCOPE_CLUSTER = 2,
    SA_SCOPE_ANY = 3
} sa_scope;

typedef enum sa_on_mismatch {
    SA_MISMATCH_OVERRIDE, /* a session pod naming another SA is given its session SA */
    SA_MISMATCH_DENY      /* ... or denied */
} sa_on_mismatch;

/* A row of bindings.allowedRoles. Looked up by "Kind/name" (e.g. "ClusterRole/system:image-puller"). */
typedef struct sa_role_row {
    char *kind; /* Role or ClusterRole */
    char *name;
    sa_scope scope;
    int cross_namespace; /* may bind session SAs of other namespaces */
    cJSON *ceiling;      /* the rules the role may grant at most (a JSON array of PolicyRules),
                             * or NULL for none: then only the escalation list holds it */
    sa_rbac_rule *ceiling_rules; /* the same, read once */
    size_t nceiling;
} sa_role_row;

typedef struct sa_subject {
    char *kind; /* User, Group or ServiceAccount */
    char *name;
    char *namespace_; /* ServiceAccount only; "" otherwise */
} sa_subject;

/* A row of audiences: which roles grant the audience, and the only subjects they may be bound to. */
typedef struct sa_audience_row {
    char *audience;
    char **roles;
    size_t nroles;
    sa_subject *subjects;
    size_t nsubjects;
} sa_audience_row;

/* The rows naming one role, the value type of sa_policy.audience_roles. */
typedef struct sa_audience_list {
    const sa_audience_row **rows;
    size_t n;
} sa_audience_list;

typedef struct sa_policy {
    char *source;                  /* file name, or "<built-in>" */
    sa_nameset *exempt_namespaces; /* exact names; a trailing * is a prefix (glob) */
    struct {
        char *label;       /* session pod label; its value is the session id */
        char *sa_template; /* e.g. "session-{id}-sa" */
        int id_max_length; /* {id} is lower-cased and cut to this many characters */
        sa_on_mismatch on_mismatch;
        char *key_env;          /* env var that carries the public key PEM */
        char *key_file;         /* where serve reads the key when --public-key is not given */
        sa_nameset *containers; /* globs on container names that get the key */
        int init_containers;    /* init containers get it too */
        char *fingerprint_annotation;
        sa_nameset *forbidden_env;
        sa_nameset *token_audiences; /* audiences session SAs may request */
        sa_nameset *api_audiences;   /* the API server's own: always allowed for sessions */
    } sessions;
    struct {
        sa_nameset *session_service_accounts; /* which SAs are session identities */
        sa_nameset *namespace_groups;         /* namespaces whose SA group counts as session */
        sa_map *allowed_roles;                /* "Kind/name" -> sa_role_row* */
        sa_nameset *everyone_roles;           /* roles every identity holds: ClusterRoles by
                                                 * name, Roles as "<ns>/<name>" */
    } bindings;
    struct {
        sa_map *object_labels;         /* label key -> required value (char*) */
        sa_nameset *bootstrap_users;   /* the labels exempt their RBAC writes */
        sa_nameset *aggregation_users; /* ... and their UPDATEs of labelled ClusterRoles */
        sa_nameset *users;
        sa_nameset *groups;
    } exempt;
    struct {
        unsigned resources; /* SA_RBAC_IMP_* kinds that may be impersonated */
        sa_nameset *names;  /* the only names that may be impersonated */
    } impersonation;
    sa_audience_row *audiences; /* the rows, in file order */
    size_t naudiences;
    sa_map *audience_index;       /* audience -> sa_audience_row* */
    sa_map *audience_roles;       /* role name -> sa_audience_list* */
    sa_mode modes[SA_RULE_COUNT]; /* default enforce */
} sa_policy;

/* The largest policy file accepted, bytes: far above any ConfigMap (1 MiB), and it bounds the
 * loader's memory (its node tree is about 25 times the text). */
#define SA_POLICY_MAX_BYTES (16u * 1024 * 1024)

/* Loads and checks a policy. On failure returns NULL and appends one line per error to errors,
 * each "FILE:LINE:COLUMN: what was expected". name is used in messages (a path, "<built-in>"). */
sa_policy *sa_policy_load_file(const char *path, sa_buf *errors);
sa_policy *sa_policy_load_text(const char *name, const char *text, size_t len, sa_buf *errors);
/* The compiled-in examples/policy.yaml. */
sa_policy *sa_policy_builtin(sa_buf *errors);
/* Accepts NULL. */
void sa_policy_free(sa_policy *p);
/* One line of table sizes, e.g. "allowedRoles=2 impersonation.names=0 audiences=1 ...". */
void sa_policy_summary(const sa_policy *p, sa_buf *out);

/* The session ServiceAccount name for a session id, per the template: appended to out.
 * Returns 0, or -1 when the id is empty or the result is not a valid DNS-1123 subdomain name
 * (the caller denies). Nothing is trimmed: a cut that leaves the name ending in '-' is refused,
 * since the name must be the one the control plane created. */
int sa_policy_session_sa(const sa_policy *p, const char *session_id, sa_buf *out);

#endif
