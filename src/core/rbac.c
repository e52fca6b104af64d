/* rbac.c: the RBAC authorizer's rule matching, and the questions the validators ask of it (see
 * sa_rbac.h for the rules and where they come from). */
#include "sa_rbac.h"

#include <stdlib.h>
#include <string.h>

const char sa_rbac_any[] = "<any>";
const char sa_rbac_every[] = "<every>";

static const cJSON *first(const cJSON *rule, const char *field)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(rule, field);
    return cJSON_IsArray(list) ? list->child : NULL;
}

void sa_rbac_rule_read(sa_rbac_rule *r, const cJSON *rule)
{
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(rule))
        return;
    r->verbs = first(rule, "verbs");
    r->api_groups = first(rule, "apiGroups");
    r->resources = first(rule, "resources");
    r->resource_names = first(rule, "resourceNames");
    r->urls = first(rule, "nonResourceURLs");
}

/* The strings of a list, skipping items of other types. */
#define EACH_STRING(it, s, list)                      \
    for (const cJSON *it = (list); it; it = it->next) \
        if (cJSON_IsString(it) && (s = it->valuestring) != NULL)

int sa_rbac_named(const sa_rbac_rule *rule)
{
    const char *s;
    EACH_STRING (it, s, rule->resource_names)
        return 1;
    return 0;
}

int sa_rbac_lists(const cJSON *list, const char *want)
{
    const char *s;
    EACH_STRING (it, s, list)
        if (strcmp(s, want) == 0)
            return 1;
    return 0;
}

/* verbs and apiGroups: "*" or the value itself (VerbMatches, APIGroupMatches). */
static int star_or_exact(const cJSON *list, const char *want)
{
    const char *s;
    EACH_STRING (it, s, list)
        if (want == SA_RBAC_ANY || strcmp(s, "*") == 0 || strcmp(s, want) == 0)
            return 1;
    return 0;
}

/* Whether entry is "prefix/<something>". */
static int slash_after(const char *entry, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(entry, prefix, n) == 0 && entry[n] == '/' && entry[n + 1];
}

/* ResourceMatches: "*"; the combined "resource[/subresource]" exactly; "*\/subresource". */
static int resource_matches(const sa_rbac_rule *rule, const char *res, const char *sub)
{
    size_t n = strlen(res);
    const char *s;
    EACH_STRING (it, s, rule->resources) {
        if (strcmp(s, "*") == 0)
            return 1;
        if (sub == SA_RBAC_ANY) {
            if (slash_after(s, res) || slash_after(s, "*"))
                return 1;
            continue;
        }
        if (strncmp(s, res, n) == 0 &&
            (*sub ? s[n] == '/' && strcmp(s + n + 1, sub) == 0 : s[n] == '\0'))
            return 1;
        if (*sub && s[0] == '*' && s[1] == '/' && strcmp(s + 2, sub) == 0)
            return 1;
    }
    return 0;
}

/* ResourceNameMatches: no resourceNames is every name (items of other types are no names). */
static int name_matches(const sa_rbac_rule *rule, const char *name)
{
    int named = 0;
    const char *s;
    EACH_STRING (it, s, rule->resource_names) {
        if (name == SA_RBAC_ANY || (name != SA_RBAC_EVERY && strcmp(s, name) == 0))
            return 1;
        named = 1;
    }
    return !named;
}

int sa_rbac_allows(const sa_rbac_rule *rule, const sa_rbac_request *req)
{
    return star_or_exact(rule->verbs, req->verb) && star_or_exact(rule->api_groups, req->group) &&
           resource_matches(rule, req->resource, req->subresource) && name_matches(rule, req->name);
}

int sa_rbac_allows_url(const sa_rbac_rule *rule, const char *verb, const char *path)
{
    if (!star_or_exact(rule->verbs, verb))
        return 0;
    const char *s;
    EACH_STRING (it, s, rule->urls) {
        size_t n = strlen(s);
        if (strcmp(s, "*") == 0 || strcmp(s, path) == 0)
            return 1;
        if (n && s[n - 1] == '*') {
            while (n && s[n - 1] == '*') /* every trailing star, as strings.TrimRight does */
                n--;
            if (strncmp(path, s, n) == 0)
                return 1;
        }
    }
    return 0;
}

/* ---- impersonation ---------------------------------------------------------------------- */

/* Per kind: its name in policies and messages, and the resource the impersonation filter asks
 * about (associated-node is asked on nodes, under its own verb). */
static const struct {
    const char *name, *resource;
} imp_kinds[SA_RBAC_IMP_KINDS] = {
    [SA_RBAC_IMP_KIND_USERS] = {"users", "users"},
    [SA_RBAC_IMP_KIND_GROUPS] = {"groups", "groups"},
    [SA_RBAC_IMP_KIND_SERVICEACCOUNTS] = {"serviceaccounts", "serviceaccounts"},
    [SA_RBAC_IMP_KIND_USEREXTRAS] = {"userextras/*", "userextras"},
    [SA_RBAC_IMP_KIND_UIDS] = {"uids", "uids"},
    [SA_RBAC_IMP_KIND_NODES] = {"nodes", "nodes"},
    [SA_RBAC_IMP_KIND_ASSOCIATED_NODE] = {"associated-node", "nodes"},
};

const char *sa_rbac_imp_name(unsigned i)
{
    return i < SA_RBAC_IMP_KINDS ? imp_kinds[i].name : "unknown";
}

/* The constrained modes, as verbs "impersonate:<mode>" and "impersonate-on:<mode>:<verb>". */
static const char *const imp_modes[] = {"user-info", "serviceaccount", "arbitrary-node",
                                        "associated-node"};

/* Every authorization check the impersonation filter makes for an identity, per verb form; the
 * resource is the kind's. */
static const struct {
    sa_rbac_imp_kind kind;
    const char *verb, *group, *subresource, *name;
    /* clang-format off */
} imp_checks[] = {
    {SA_RBAC_IMP_KIND_USERS, "impersonate", "", "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_GROUPS, "impersonate", "", "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_SERVICEACCOUNTS, "impersonate", "", "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_UIDS, "impersonate", SA_RBAC_GROUP_AUTH, "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_USEREXTRAS, "impersonate", SA_RBAC_GROUP_AUTH, SA_RBAC_ANY, SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_USERS, "impersonate:user-info", SA_RBAC_GROUP_AUTH, "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_GROUPS, "impersonate:user-info", SA_RBAC_GROUP_AUTH, "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_UIDS, "impersonate:user-info", SA_RBAC_GROUP_AUTH, "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_USEREXTRAS, "impersonate:user-info", SA_RBAC_GROUP_AUTH, SA_RBAC_ANY,
     SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_SERVICEACCOUNTS, "impersonate:serviceaccount", SA_RBAC_GROUP_AUTH, "",
     SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_NODES, "impersonate:arbitrary-node", SA_RBAC_GROUP_AUTH, "", SA_RBAC_ANY},
    {SA_RBAC_IMP_KIND_ASSOCIATED_NODE, "impersonate:associated-node", SA_RBAC_GROUP_AUTH, "", "*"},
};
/* clang-format on */

unsigned sa_rbac_impersonation(const sa_rbac_rule *rule)
{
    /* Most rules grant ordinary verbs: settle them with one pass over the verbs. */
    int candidate = 0;
    const char *s;
    EACH_STRING (it, s, rule->verbs)
        candidate |= strcmp(s, "*") == 0 || strncmp(s, "impersonate", 11) == 0;
    if (!candidate)
        return 0;
    unsigned kinds = 0;
    for (size_t i = 0; i < sizeof imp_checks / sizeof imp_checks[0]; i++) {
        unsigned bit = 1u << imp_checks[i].kind;
        sa_rbac_request req = {imp_checks[i].verb, imp_checks[i].group,
                               imp_kinds[imp_checks[i].kind].resource, imp_checks[i].subresource,
                               imp_checks[i].name};
        if (!(kinds & bit) && sa_rbac_allows(rule, &req))
            kinds |= bit;
    }
    return kinds;
}

int sa_rbac_imp_check(size_t i, sa_rbac_imp_kind *kind, sa_rbac_request *req)
{
    if (i >= sizeof imp_checks / sizeof imp_checks[0])
        return 0;
    *kind = imp_checks[i].kind;
    *req = (sa_rbac_request){imp_checks[i].verb, imp_checks[i].group, imp_kinds[*kind].resource,
                             imp_checks[i].subresource, imp_checks[i].name};
    return 1;
}

const char *const *sa_rbac_imp_modes(size_t *n)
{
    *n = sizeof imp_modes / sizeof imp_modes[0];
    return imp_modes;
}

/* The length of a known mode at the start of s, or 0. */
static size_t known_mode(const char *s)
{
    for (size_t i = 0; i < sizeof imp_modes / sizeof imp_modes[0]; i++) {
        size_t n = strlen(imp_modes[i]);
        if (strncmp(s, imp_modes[i], n) == 0)
            return n;
    }
    return 0;
}

static int known_impersonate_verb(const char *v)
{
    if (strcmp(v, "impersonate") == 0)
        return 1;
    if (strncmp(v, "impersonate:", 12) == 0) {
        size_t n = known_mode(v + 12);
        return n && v[12 + n] == '\0';
    }
    if (strncmp(v, "impersonate-on:", 15) == 0) {
        size_t n = known_mode(v + 15);
        return n && v[15 + n] == ':' && v[15 + n + 1];
    }
    return 0;
}

const char *sa_rbac_unknown_impersonate_verb(const sa_rbac_rule *rule)
{
    const char *s;
    EACH_STRING (it, s, rule->verbs)
        if (strncmp(s, "impersonate", 11) == 0 && !known_impersonate_verb(s))
            return s;
    return NULL;
}

/* ---- escalation ------------------------------------------------------------------------- */

/* The grants that make a role an escalation path, as questions to the model: Kubernetes' "RBAC
 * good practices: privilege escalation risks" (kubernetes/website
 * content/en/docs/concepts/security/rbac-good-practices.md) and the bind and escalate verbs
 * (pkg/registry/rbac/escalation_check.go). Each is asked with the verbs the API server really
 * checks: RBAC matches verbs exactly, case-sensitive, or "*" (pkg/apis/rbac/v1/
 * evaluation_helpers.go, VerbMatches), so a rule listing "GET" grants nothing. */
#define READS "get", "list", "watch"
#define WRITES "create", "update", "patch", "delete", "deletecollection"
/* clang-format off */
static const sa_rbac_escalation escalations[] = {
    {{"bind"}, SA_RBAC_GROUP_RBAC, "roles", "", "bind on roles"},
    {{"bind"}, SA_RBAC_GROUP_RBAC, "clusterroles", "", "bind on clusterroles"},
    {{"escalate"}, SA_RBAC_GROUP_RBAC, "roles", "", "escalate on roles"},
    {{"escalate"}, SA_RBAC_GROUP_RBAC, "clusterroles", "", "escalate on clusterroles"},
    {{READS, WRITES}, "", "secrets", "", "access to secrets"},
    /* exec, attach and portforward are create, or get over WebSockets (KEP-4006) */
    {{"create", "get"}, "", "pods", "exec", "pods/exec"},
    {{"create", "get"}, "", "pods", "attach", "pods/attach"},
    {{"create", "get"}, "", "pods", "portforward", "pods/portforward"},
    {{READS, WRITES}, "", "pods", "proxy", "pods/proxy"},
    {{READS, WRITES}, "", "nodes", "proxy", "nodes/proxy (the kubelet API)"},
    {{"update", "patch"}, "", "pods", "ephemeralcontainers", "pods/ephemeralcontainers"},
    {{"create"}, "", "serviceaccounts", "token", "create on serviceaccounts/token"},
    {{WRITES}, "", "namespaces", "", "writes to namespaces"},
    {{"create"}, "", "persistentvolumes", "", "create on persistentvolumes"},
    {{"update", "patch"}, "certificates.k8s.io", "certificatesigningrequests", "approval",
     "certificatesigningrequests/approval"},
    {{"approve"}, "certificates.k8s.io", "signers", "", "approve on certificates.k8s.io signers"},
    {{"sign"}, "certificates.k8s.io", "signers", "", "sign on certificates.k8s.io signers"},
    {{WRITES}, "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "",
     "writes to mutatingwebhookconfigurations"},
    {{WRITES}, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "",
     "writes to validatingwebhookconfigurations"},
    {{WRITES}, "admissionregistration.k8s.io", "validatingadmissionpolicies", "",
     "writes to validatingadmissionpolicies"},
    {{WRITES}, "admissionregistration.k8s.io", "validatingadmissionpolicybindings", "",
     "writes to validatingadmissionpolicybindings"},
    {{WRITES}, "admissionregistration.k8s.io", "mutatingadmissionpolicies", "",
     "writes to mutatingadmissionpolicies"},
    {{WRITES}, "admissionregistration.k8s.io", "mutatingadmissionpolicybindings", "",
     "writes to mutatingadmissionpolicybindings"},
};
/* clang-format on */

_Static_assert(sizeof escalations / sizeof escalations[0] <= SA_RBAC_ESCALATIONS_MAX,
               "SA_RBAC_ESCALATIONS_MAX is the bound callers size their arrays by");

const sa_rbac_escalation *sa_rbac_escalations(size_t *n)
{
    *n = sizeof escalations / sizeof escalations[0];
    return escalations;
}

/* ---- the core API group ----------------------------------------------------------------- */

/* The core group's resources, and OpenShift's legacy ones: openshift-apiserver still serves its
 * pre-3.6 /oapi resources in the legacy group "" besides their *.openshift.io groups, so OpenShift's
 * own roles list apiGroups ["", "project.openshift.io"] with "*" verbs. Re-read in openshift/origin
 * test/extended/authorization/rbac/groups_default_rules.go (rules "copied from bootstrap policy":
 * legacyAuthzGroup, legacyBuildGroup, legacyImageGroup, legacyProjectGroup, legacyTemplateGroup,
 * legacyUserGroup, legacyOauthGroup all ""; builds/docker, builds/source, imagetags, clusterroles
 * and the like in them). A "*" verb on "projects" is then an API grant, not a token audience.
 * Sorted (strcmp order) for bsearch; a unit test checks it. */
static const char *const core_resources[] = {
    "appliedclusterresourcequotas",
    "bindings",
    "buildconfigs",
    "buildconfigs/instantiate",
    "buildconfigs/instantiatebinary",
    "buildconfigs/webhooks",
    "buildlogs",
    "builds",
    "builds/clone",
    "builds/custom",
    "builds/details",
    "builds/docker",
    "builds/jenkinspipeline",
    "builds/log",
    "builds/optimizeddocker",
    "builds/source",
    "clusternetworks",
    "clusterresourcequotas",
    "clusterrolebindings",
    "clusterroles",
    "componentstatuses",
    "configmaps",
    "deploymentconfigrollbacks",
    "deploymentconfigs",
    "deploymentconfigs/instantiate",
    "deploymentconfigs/log",
    "deploymentconfigs/rollback",
    "deploymentconfigs/scale",
    "deploymentconfigs/status",
    "egressnetworkpolicies",
    "endpoints",
    "events",
    "groups",
    "hostsubnets",
    "identities",
    "images",
    "imagesignatures",
    "imagestreamimages",
    "imagestreamimports",
    "imagestreammappings",
    "imagestreams",
    "imagestreams/layers",
    "imagestreams/secrets",
    "imagestreams/status",
    "imagestreamtags",
    "imagetags",
    "limitranges",
    "localresourceaccessreviews",
    "localsubjectaccessreviews",
    "namespaces",
    "namespaces/finalize",
    "namespaces/status",
    "netnamespaces",
    "nodes",
    "nodes/checkpoint",
    "nodes/configz",
    "nodes/healthz",
    "nodes/log",
    "nodes/metrics",
    "nodes/pods",
    "nodes/proxy",
    "nodes/spec",
    "nodes/stats",
    "nodes/status",
    "oauthaccesstokens",
    "oauthauthorizetokens",
    "oauthclientauthorizations",
    "oauthclients",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "persistentvolumes",
    "persistentvolumes/status",
    "pods",
    "pods/attach",
    "pods/binding",
    "pods/checkpoint",
    "pods/ephemeralcontainers",
    "pods/eviction",
    "pods/exec",
    "pods/log",
    "pods/portforward",
    "pods/proxy",
    "pods/resize",
    "pods/status",
    "podtemplates",
    "processedtemplates",
    "projectrequests",
    "projects",
    "replicationcontrollers",
    "replicationcontrollers/scale",
    "replicationcontrollers/status",
    "resourceaccessreviews",
    "resourcequotas",
    "resourcequotas/status",
    "rolebindingrestrictions",
    "rolebindings",
    "roles",
    "routes",
    "routes/status",
    "secrets",
    "selfsubjectrulesreviews",
    "serviceaccounts",
    "serviceaccounts/token",
    "services",
    "services/proxy",
    "services/status",
    "subjectaccessreviews",
    "subjectrulesreviews",
    "templateconfigs",
    "templateinstances",
    "templates",
    "useridentitymappings",
    "users",
};

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int sa_rbac_core_resource(const char *resource)
{
    size_t n = sizeof core_resources / sizeof core_resources[0];
    if (resource[0] == '*' && resource[1] == '/' && resource[2]) {
        for (size_t i = 0; i < n; i++) {
            const char *slash = strchr(core_resources[i], '/');
            if (slash && strcmp(slash + 1, resource + 2) == 0)
                return 1;
        }
        return 0;
    }
    return bsearch(resource, core_resources, n, sizeof core_resources[0], cmp_name) != NULL;
}

size_t sa_rbac_core_list(const char *const **list)
{
    *list = core_resources;
    return sizeof core_resources / sizeof core_resources[0];
}

/* ---- comparing rules -------------------------------------------------------------------- */

static size_t count_strings(const cJSON *list)
{
    size_t n = 0;
    const char *s;
    EACH_STRING (it, s, list)
        n++;
    return n;
}

int sa_rbac_each_grant(const sa_rbac_rule *rule, size_t max,
                       int (*fn)(void *ctx, const sa_rbac_grant *g), void *ctx)
{
    size_t names = count_strings(rule->resource_names);
    size_t verbs = count_strings(rule->verbs);
    size_t factors[] = {verbs, count_strings(rule->api_groups), count_strings(rule->resources),
                        names ? names : 1};
    size_t total = 1;
    for (size_t i = 0; i < 4 && total; i++) /* stops past max, so the product never wraps */
        total = factors[i] > max / total + 1 ? max + 1 : total * factors[i];
    size_t urls = count_strings(rule->urls);
    if (total > max || (verbs && urls > (max - total) / verbs))
        return -1;
    const char *v, *g, *r, *n;
    int rc;
    EACH_STRING (vi, v, rule->verbs) {
        EACH_STRING (ui, r, rule->urls) {
            sa_rbac_grant grant = {v, NULL, r, NULL};
            if ((rc = fn(ctx, &grant)) != 0)
                return rc;
        }
        EACH_STRING (gi, g, rule->api_groups) {
            EACH_STRING (ri, r, rule->resources) {
                sa_rbac_grant grant = {v, g, r, NULL};
                if (!names && (rc = fn(ctx, &grant)) != 0)
                    return rc;
                EACH_STRING (ni, n, rule->resource_names) {
                    grant.name = n;
                    if ((rc = fn(ctx, &grant)) != 0)
                        return rc;
                }
            }
        }
    }
    return 0;
}

int sa_rbac_covers(const sa_rbac_rule *rule, const sa_rbac_grant *g)
{
    if (!g->group)
        return sa_rbac_allows_url(rule, g->verb, g->resource);
    /* "pods/exec" asks for pods' subresource exec; "*\/exec" for the subresource exec of "*". */
    char res[256];
    const char *slash = strchr(g->resource, '/'), *sub = "";
    size_t n = slash ? (size_t)(slash - g->resource) : strlen(g->resource);
    if (n >= sizeof res)
        return 0; /* longer than any API resource name: not covered (fail closed) */
    memcpy(res, g->resource, n);
    res[n] = '\0';
    if (slash)
        sub = slash + 1;
    sa_rbac_request req = {g->verb, g->group, res, sub, g->name ? g->name : SA_RBAC_EVERY};
    return sa_rbac_allows(rule, &req);
}
