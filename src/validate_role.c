/* validate_role.c: Role and ClusterRole, judged rule by rule on the rules the object carries
 * (an aggregated ClusterRole included: what its rules grant is what it grants).
 *
 * rbac-impersonation: impersonation must be granted on exactly named identities from the
 * table, on allowed resource kinds; "*" verbs, resources and apiGroups imply it too.
 * rbac-token-audience (rule half): request-serviceaccounts-token-audience names only listed
 * audiences, never "*", and only in a role the audience's row names, so that the binding half
 * (validate_binding.c), which sees only the role's name, keeps the grant to the listed subjects. */
#include "sa_validate.h"

#include <stdio.h>
#include <string.h>

#define VERB_IMPERSONATE "impersonate"
#define VERB_AUDIENCE "request-serviceaccounts-token-audience"
#define GROUP_AUTH "authentication.k8s.io"

/* The impersonation resources in SA_IMP_* bit order, as the policy and messages name them. */
static const char *const imp_names[] = {"users", "groups", "serviceaccounts", "userextras/*",
                                        "uids"};
#define IMP_CORE (SA_IMP_USERS | SA_IMP_GROUPS | SA_IMP_SERVICEACCOUNTS)
#define IMP_AUTH (SA_IMP_USEREXTRAS | SA_IMP_UIDS)

unsigned sa_validate_impersonation_bits(const char *resource, int core, int auth)
{
    unsigned bits = 0;
    if (strcmp(resource, "*") == 0)
        bits = IMP_CORE | IMP_AUTH;
    else if (strcmp(resource, "users") == 0)
        bits = SA_IMP_USERS;
    else if (strcmp(resource, "groups") == 0)
        bits = SA_IMP_GROUPS;
    else if (strcmp(resource, "serviceaccounts") == 0)
        bits = SA_IMP_SERVICEACCOUNTS;
    else if (strcmp(resource, "uids") == 0)
        bits = SA_IMP_UIDS;
    else if (strncmp(resource, "userextras/", 11) == 0 || strncmp(resource, "*/", 2) == 0)
        bits = SA_IMP_USEREXTRAS;
    return bits & ((core ? IMP_CORE : 0) | (auth ? IMP_AUTH : 0));
}

/* Whether a list of strings holds s. */
static int list_has(const cJSON *list, const char *s)
{
    for (const cJSON *it = sa_validate_items(list); it; it = it->next)
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return 1;
    return 0;
}

/* The names of the bits, ", "-joined, into out. */
static void imp_list(unsigned bits, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof imp_names / sizeof imp_names[0]; i++)
        if (bits & (1u << i) && len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", imp_names[i]);
}

/* One rule of the object, with what every check of it needs. */
typedef struct rule_ctx {
    const sa_policy *p;
    sa_verdict *v;
    const char *what;           /* "ClusterRole name" */
    const char *role;           /* the role's name, as bindings reference it */
    char where[64];             /* "rules[2]" */
    const char *star_note;      /* " (verbs \"*\")" when only the wildcard verb grants it */
    const cJSON *rule;
} rule_ctx;

static void judge_impersonation(const rule_ctx *c, int core, int auth)
{
    const sa_policy *p = c->p;
    unsigned granted = 0;
    for (const cJSON *res = sa_validate_items(sa_json_get(c->rule, "resources")); res; res = res->next) {
        const char *name = sa_json_str(res);
        unsigned bits = name ? sa_validate_impersonation_bits(name, core, auth) : 0;
        granted |= bits;
        if (bits & ~p->impersonation.resources) {
            char kinds[96];
            imp_list(bits & ~p->impersonation.resources, kinds, sizeof kinds);
            sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION,
                                 "%s: %s.resources \"%s\"%s grants impersonate on %s, not in "
                                 "impersonation.resources",
                                 c->what, c->where, name, c->star_note, kinds);
        }
    }
    if (!granted)
        return;

    int named = 0;
    for (const cJSON *n = sa_validate_items(sa_json_get(c->rule, "resourceNames")); n; n = n->next) {
        const char *name = sa_json_str(n);
        if (!name)
            continue;
        named = 1;
        if (strcmp(name, "*") == 0)
            sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION,
                                 "%s: %s.resourceNames \"*\"%s: impersonation is granted on "
                                 "exactly named identities, never a wildcard",
                                 c->what, c->where, c->star_note);
        else if (!sa_nameset_match(p->impersonation.names, name))
            sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION,
                                 "%s: %s.resourceNames \"%s\"%s is not in impersonation.names",
                                 c->what, c->where, name, c->star_note);
    }
    if (!named) {
        char kinds[96];
        imp_list(granted, kinds, sizeof kinds);
        sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION,
                             "%s: %s%s grants impersonate on %s without resourceNames (which "
                             "means every name)",
                             c->what, c->where, c->star_note, kinds);
    }
}

/* Whether the audience's row names this role among the roles that grant it. */
static int role_grants(const sa_policy *p, const char *role, const sa_audience_row *row)
{
    const sa_audience_list *list = sa_map_get(p->audience_roles, role);
    for (size_t i = 0; list && i < list->n; i++)
        if (list->rows[i] == row)
            return 1;
    return 0;
}

/* Whether a resource string can only be an audience: API resource names are lower-case DNS
 * labels with at most one "/" (a subresource), while audiences are URIs or host names
 * ("api://AzureADTokenExchange", "sts.amazonaws.com"). */
static int only_an_audience(const char *s)
{
    const char *slash = strchr(s, '/');
    if (slash && strchr(slash + 1, '/'))
        return 1;
    for (; *s; s++)
        if (*s == ':' || *s == '.' || (*s >= 'A' && *s <= 'Z'))
            return 1;
    return 0;
}

/* explicit: the rule names the verb itself. With only "*" verbs, a resource is judged as an
 * audience when the table lists it, when it is "*", or when it cannot be an API resource name;
 * a plain name like "pods" is taken for an API resource, since a wildcard verb on "pods" is
 * not an audience grant anyone relies on. */
static void judge_audiences(const rule_ctx *c, int explicit)
{
    for (const cJSON *res = sa_validate_items(sa_json_get(c->rule, "resources")); res; res = res->next) {
        const char *aud = sa_json_str(res);
        if (!aud)
            continue;
        const sa_audience_row *row = sa_map_get(c->p->audience_index, aud);
        if (strcmp(aud, "*") == 0)
            sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE,
                                 "%s: %s.resources \"*\"%s grants " VERB_AUDIENCE
                                 " for every audience",
                                 c->what, c->where, c->star_note);
        else if (!row && (explicit || only_an_audience(aud)))
            sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE,
                                 "%s: %s.resources \"%s\" is not an audience in the audiences table",
                                 c->what, c->where, aud);
        else if (row && !role_grants(c->p, c->role, row))
            sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE,
                                 "%s: %s.resources \"%s\"%s: role %s is not among the roles the "
                                 "audiences table lists for it",
                                 c->what, c->where, aud, c->star_note, c->role);
    }
}

void sa_validate_role(const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    if (!r->object)
        return;
    char what[512];
    sa_validate_describe(r, what, sizeof what);
    rule_ctx c = {.p = snap->policy, .v = v, .what = what};
    c.role = sa_json_string(sa_json_get(r->object, "metadata"), "name");
    if (!*c.role)
        c.role = r->name;

    size_t i = 0;
    for (c.rule = sa_validate_items(sa_json_get(r->object, "rules")); c.rule; c.rule = c.rule->next, i++) {
        const cJSON *verbs = sa_json_get(c.rule, "verbs"), *groups = sa_json_get(c.rule, "apiGroups");
        int any_verb = list_has(verbs, "*"), any_group = list_has(groups, "*");
        int core = any_group || list_has(groups, "");
        int auth = any_group || list_has(groups, GROUP_AUTH);
        int impersonate = list_has(verbs, VERB_IMPERSONATE);
        int audience = list_has(verbs, VERB_AUDIENCE);
        snprintf(c.where, sizeof c.where, "rules[%zu]", i);

        c.star_note = impersonate ? "" : " (verbs \"*\")";
        if ((impersonate || any_verb) && (core || auth))
            judge_impersonation(&c, core, auth);
        /* The node authorizer asks for this verb in the core group, the audience as resource. */
        c.star_note = audience ? "" : " (verbs \"*\")";
        if ((audience || any_verb) && core)
            judge_audiences(&c, audience);
    }
}
