/* sa_rbac.h: what one RBAC PolicyRule grants, decided exactly as the Kubernetes RBAC authorizer
 * decides it, so that every validator asks one model instead of comparing rule fields itself.
 *
 * Pure: a rule (a cJSON object as it arrives in a Role or ClusterRole) and a question in, an
 * answer out; no policy, no allocation. The matching rules, from kubernetes/kubernetes
 * pkg/apis/rbac/v1/evaluation_helpers.go and plugin/pkg/auth/authorizer/rbac/rbac.go
 * (RuleAllows), are:
 *   - verbs: "*" matches every verb, otherwise exact (VerbMatches);
 *   - apiGroups: "*" matches every group, otherwise exact; "" is the core group (APIGroupMatches);
 *   - resources: "*" matches every resource and subresource; otherwise the entry must equal
 *     "resource" or "resource/subresource" exactly, or be "*\/subresource" for a request with that
 *     subresource (ResourceMatches);
 *   - resourceNames: empty means every name, otherwise exact (ResourceNameMatches), so a request
 *     without a name (list, create) is granted only by a rule without resourceNames;
 *   - nonResourceURLs: "*" matches every path, an entry ending in "*" is a prefix once its
 *     trailing stars are cut, otherwise exact (NonResourceURLMatches).
 * A field of the wrong type counts as an empty list, an item of the wrong type is skipped. */
#ifndef SA_RBAC_H
#define SA_RBAC_H

#include <cjson/cJSON.h>

#define SA_RBAC_GROUP_AUTH "authentication.k8s.io"
#define SA_RBAC_GROUP_RBAC "rbac.authorization.k8s.io"
#define SA_RBAC_VERB_IMPERSONATE "impersonate"
/* The node authorizer's verb for token audiences: group "", the audience as the resource, the
 * ServiceAccount as the name (ServiceAccountNodeAudienceRestriction, Kubernetes 1.33+). */
#define SA_RBAC_VERB_AUDIENCE "request-serviceaccounts-token-audience"

/* As a request's verb, group, subresource or name: "some value", true when the rule grants the
 * rest of the request for at least one value. As a subresource: some subresource of the
 * resource (matched by "*", "resource/x" or "*\/x"). */
extern const char sa_rbac_any[];
#define SA_RBAC_ANY sa_rbac_any
/* As a request's name: every name, granted only by a rule without resourceNames. */
extern const char sa_rbac_every[];
#define SA_RBAC_EVERY sa_rbac_every

/* A rule's lists, read once (sa_rbac_rule_read) for all the questions asked of it: the first
 * item of each, NULL when the field is absent, empty or not a list. */
typedef struct sa_rbac_rule {
    const cJSON *verbs, *api_groups, *resources, *resource_names, *urls;
} sa_rbac_rule;

/* Reads a rule (one element of a Role's rules; anything but an object grants nothing). */
void sa_rbac_rule_read(sa_rbac_rule *r, const cJSON *rule);

/* A resource request as the authorizer sees it. */
typedef struct sa_rbac_request {
    const char *verb;
    const char *group; /* "" for the core group */
    const char *resource;
    const char *subresource; /* "" for none */
    const char *name;        /* "" for a request without a name (list, create) */
} sa_rbac_request;

/* Whether the rule grants the resource request (RuleAllows). */
int sa_rbac_allows(const sa_rbac_rule *rule, const sa_rbac_request *req);
/* Whether the rule grants verb on the non-resource path. */
int sa_rbac_allows_url(const sa_rbac_rule *rule, const char *verb, const char *path);
/* Whether the rule has resourceNames (else it grants every name). */
int sa_rbac_named(const sa_rbac_rule *rule);
/* Whether a list of the rule (rule.verbs, ...) holds s itself, not through "*". */
int sa_rbac_lists(const cJSON *list, const char *s);

/* ---- impersonation ------------------------------------------------------------------------
 * The identities a rule may impersonate, as the API server's impersonation filter asks
 * (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation/mode.go, KEP-5284):
 *   legacy "impersonate": users, groups, serviceaccounts in the core group; uids and
 *     userextras/<key> in authentication.k8s.io;
 *   "impersonate:user-info": users, groups, uids, userextras/<key> in authentication.k8s.io
 *     (never a node's or a ServiceAccount's user name);
 *   "impersonate:serviceaccount": serviceaccounts in authentication.k8s.io;
 *   "impersonate:arbitrary-node": nodes in authentication.k8s.io, the node's name as the name;
 *   "impersonate:associated-node": nodes in authentication.k8s.io, always asked with the name
 *     "*" (the node the requesting ServiceAccount's pod runs on);
 *   "impersonate-on:<mode>:<verb>": the action half of a constrained mode, checked besides the
 *     mode's own verb: it grants no identity by itself.
 * ServiceAccounts are asked in the ServiceAccount's namespace, every other identity cluster-wide,
 * so a namespaced Role (bound by a RoleBinding, which applies only inside its namespace) can
 * impersonate only the ServiceAccounts of its own namespace. */
typedef enum sa_rbac_imp_kind {
    SA_RBAC_IMP_KIND_USERS,
    SA_RBAC_IMP_KIND_GROUPS,
    SA_RBAC_IMP_KIND_SERVICEACCOUNTS,
    SA_RBAC_IMP_KIND_USEREXTRAS,
    SA_RBAC_IMP_KIND_UIDS,
    SA_RBAC_IMP_KIND_NODES,           /* impersonate:arbitrary-node */
    SA_RBAC_IMP_KIND_ASSOCIATED_NODE, /* impersonate:associated-node */
    SA_RBAC_IMP_KINDS
} sa_rbac_imp_kind;
/* Sets of kinds are masks of these bits. */
enum {
    SA_RBAC_IMP_USERS = 1u << SA_RBAC_IMP_KIND_USERS,
    SA_RBAC_IMP_GROUPS = 1u << SA_RBAC_IMP_KIND_GROUPS,
    SA_RBAC_IMP_SERVICEACCOUNTS = 1u << SA_RBAC_IMP_KIND_SERVICEACCOUNTS,
    SA_RBAC_IMP_USEREXTRAS = 1u << SA_RBAC_IMP_KIND_USEREXTRAS,
    SA_RBAC_IMP_UIDS = 1u << SA_RBAC_IMP_KIND_UIDS,
    SA_RBAC_IMP_NODES = 1u << SA_RBAC_IMP_KIND_NODES,
    SA_RBAC_IMP_ASSOCIATED_NODE = 1u << SA_RBAC_IMP_KIND_ASSOCIATED_NODE
};
/* The name of kind i (bit 1u << i) as policies and messages write it: "users", "groups",
 * "serviceaccounts", "userextras" followed by "/" and "*", "uids", "nodes", "associated-node";
 * "unknown" past the last. This table is the one place these names are spelled. */
const char *sa_rbac_imp_name(unsigned i);
/* The SA_RBAC_IMP_* kinds the rule grants impersonation of, for at least one name. */
unsigned sa_rbac_impersonation(const sa_rbac_rule *rule);
/* The first verb of the rule that starts with "impersonate" but is none of the forms above
 * (a misspelling, a mode the API server may add later, KEP-5284's withdrawn
 * "impersonate:scheduled-node"), or NULL. Such a rule cannot be judged: callers refuse it. */
const char *sa_rbac_unknown_impersonate_verb(const sa_rbac_rule *rule);
/* The i-th of the checks behind sa_rbac_impersonation (a kind is granted when the rule allows
 * one of its checks, with some name), as a request with resources' subresource "" or
 * SA_RBAC_ANY and name SA_RBAC_ANY or "*"; 0 past the last. For writers of the same decision in
 * another language (generate). */
int sa_rbac_imp_check(size_t i, sa_rbac_imp_kind *kind, sa_rbac_request *req);
/* The constrained modes ("user-info", ...) the verbs "impersonate:<mode>" and
 * "impersonate-on:<mode>:<verb>" know, none a prefix of another. */
const char *const *sa_rbac_imp_modes(size_t *n);

/* ---- escalation ---------------------------------------------------------------------------
 * The grants that make a role an escalation path (rbac.c says where the list comes from): a
 * rule has one when it allows one of verbs (a NULL-ended list) on group, resource and
 * subresource ("" for none), for some name. what says it in a message. */
#define SA_RBAC_ESCALATIONS_MAX 32
typedef struct sa_rbac_escalation {
    const char *verbs[9], *group, *resource, *subresource, *what;
} sa_rbac_escalation;
const sa_rbac_escalation *sa_rbac_escalations(size_t *n);

/* ---- the core API group ------------------------------------------------------------------- */

/* Whether resource names a resource or subresource of the core group ("pods", "pods/exec"), or
 * "*\/sub" where sub is a subresource of one of them. The list is closed: the core v1 discovery
 * document (kubernetes/kubernetes api/discovery/api__v1.json, pods/resize of 1.33 included),
 * the kubelet API's node subresources the authorizer is asked about (nodes/proxy, stats,
 * metrics, log, spec, configz, healthz, pods, checkpoint: pkg/kubelet/server/auth.go and
 * KEP-2862), legacy impersonation's users and groups, and the resources OpenShift's
 * openshift-apiserver serves in the legacy group "" (projects, builds, routes, imagestreams, ...),
 * which OpenShift's own roles grant with "*" verbs next to their *.openshift.io groups. */
int sa_rbac_core_resource(const char *resource);

/* ---- comparing rules ---------------------------------------------------------------------- */

/* One grant a rule writes: a verb, an apiGroup, a resources entry and a name (NULL: every name,
 * the rule has no resourceNames), as written, wildcards included; or, with group NULL, a verb and
 * a nonResourceURLs entry in resource. A rule grants the product of its lists. */
typedef struct sa_rbac_grant {
    const char *verb, *group, *resource, *name;
} sa_rbac_grant;

/* Calls fn for every grant of the rule until fn returns non-zero, which is returned; 0 after the
 * last. Returns -1 without calling fn when the rule writes more than max grants. */
int sa_rbac_each_grant(const sa_rbac_rule *rule, size_t max,
                       int (*fn)(void *ctx, const sa_rbac_grant *g), void *ctx);
/* Whether the rule grants at least everything g grants. A wildcard in g is a value like any
 * other here, so only the same wildcard (or a wider one) in the rule covers it: "*" verbs are
 * covered only by "*", "*\/scale" by "*\/scale" or "*". */
int sa_rbac_covers(const sa_rbac_rule *rule, const sa_rbac_grant *g);

/* The core resource list behind sa_rbac_core_resource, in its (sorted) order (for the unit
 * tests, and for generate, which writes the same test in CEL). */
size_t sa_rbac_core_list(const char *const **list);

#endif
