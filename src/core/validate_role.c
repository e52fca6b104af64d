/* validate_role.c: Role and ClusterRole, judged on what their rules grant as the RBAC authorizer
 * reads them (sa_rbac.h), an aggregated ClusterRole included: what its rules grant is what it
 * grants. Every check is a question to that model, never a comparison of rule fields.
 *
 * rbac-impersonation: every identity a rule can impersonate, in any verb form (legacy
 * "impersonate", the constrained "impersonate:<mode>" verbs, "*"), must be of a kind in
 * impersonation.resources and named in impersonation.names; a rule without resourceNames (every
 * name) or with the name "*" never passes. A verb that starts with "impersonate" but is none the
 * API server defines is refused: what it grants cannot be judged.
 * rbac-token-audience: the audiences a rule may request (request-serviceaccounts-token-audience,
 * also through "*" verbs) must be rows of the audiences table that name this role, so that the
 * binding half (validate_binding.c), which sees only a role's name, holds the grant to the row's
 * subjects. A role the table names may grant nothing else but create on serviceaccounts/token.
 * rbac-session-binding (the role half): a role in bindings.allowedRoles is what sessions are
 * bound to, and a role in bindings.everyoneRoles is bound to every identity, so widening
 * either widens every session. Its CREATE may not grant escalation, and its
 * UPDATE may not add any grant the old object did not have (exempt identities, who are never
 * judged, change it as they like). */
#include "validate_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rule writing more grants than this (verbs x groups x resources x names) is not compared
 * grant by grant: it is refused as too large to judge. */
#define GRANTS_MAX 4096
/* At most this many rule comparisons per UPDATE of an allowed role: beyond, fail closed. */
#define COMPARISONS_MAX (1u << 20)

typedef struct role_ctx {
    const sa_policy *p;
    sa_verdict *v;
    const char *what;                  /* "ClusterRole name", "Role ns/name" */
    const char *role;                  /* the role's name, as bindings reference it */
    const char *ns;                    /* a Role's namespace; NULL for a ClusterRole */
    const sa_audience_list *audiences; /* the audience rows naming the role, or NULL */
    const char *trusted;               /* the table (bindings.allowedRoles or
                                         * bindings.everyoneRoles) that hands the role to
                                         * sessions, or NULL */
    const sa_role_row *ceiling;        /* the allowedRoles row whose ceiling holds the role
                                         * (its own, or the one it feeds), or NULL */
    sa_rbac_rule *old;                 /* an allowed role's UPDATE: the old rules, read once */
    size_t nold;
    const cJSON *old_same;  /* the old rule at the index of the rule judged */
    size_t comparisons;     /* old rules compared so far */
    char where[48];         /* "rules[2]" */
    const char *star_note;  /* " (verbs \"*\")" when the rule lists "*" */
    sa_rbac_rule rule;      /* the rule judged, read once */
    const cJSON *rule_json; /* the rule judged, as written */
    char feeds[256];        /* a ClusterRole aggregated into a trusted one: what it
                                         * feeds ("bindings.allowedRoles (ClusterRole view, by
                                         * label ...)"), else "" */
    int aggregator;         /* written by one of exempt.aggregationUsers */
} role_ctx;

/* ---- impersonation ---------------------------------------------------------------------- */

/* How a message names one identity of a kind (kind index as in sa_rbac_imp_name). */
static const char *const imp_nouns[SA_RBAC_IMP_KINDS] = {
    "user", "group", "ServiceAccount", "user extra value", "uid", "node", "associated node"};

/* "ServiceAccount project-a/x" in a Role, whose RoleBindings reach only their namespace;
 * "ServiceAccounts named x" in a ClusterRole, which a ClusterRoleBinding grants everywhere. */
static void describe_identity(const role_ctx *c, unsigned kind, const char *name, const char *extra,
                              char *out, size_t cap)
{
    if (extra)
        snprintf(out, cap, "%s \"%s\" of %s", imp_nouns[kind], name, extra);
    else if ((1u << kind) != SA_RBAC_IMP_SERVICEACCOUNTS)
        snprintf(out, cap, "%s \"%s\"", imp_nouns[kind], name);
    else if (c->ns)
        snprintf(out, cap,
                 "ServiceAccount %s/%s (a Role reaches only the ServiceAccounts of its "
                 "own namespace)",
                 c->ns, name);
    else
        snprintf(out, cap, "ServiceAccounts named \"%s\" in every namespace it is bound for", name);
}

static void judge_identity(const role_ctx *c, unsigned kind, const char *name, const char *extra)
{
    const sa_policy *p = c->p;
    int kind_ok = (p->impersonation.resources >> kind) & 1u;
    int wildcard = strcmp(name, "*") == 0;
    int name_ok = !wildcard && sa_nameset_match(p->impersonation.names, name);
    if (kind_ok && name_ok)
        return;
    char who[384], why[160] = "";
    describe_identity(c, kind, name, extra, who, sizeof who);
    if (!kind_ok)
        snprintf(why, sizeof why, "%s is not in impersonation.resources%s", sa_rbac_imp_name(kind),
                 name_ok ? "" : ", and ");
    if (!name_ok)
        snprintf(why + strlen(why), sizeof why - strlen(why), "%s",
                 wildcard ? "resourceNames \"*\" is a wildcard (the API server asks for \"*\" "
                            "to grant a whole list at once), never allowed"
                          : "the name is not in impersonation.names");
    sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION,
                         SA_KEY("impersonate", sa_rbac_imp_name(kind), extra ? extra : "", name),
                         "%s: %s%s grants impersonation of %s: %s", c->what, c->where, c->star_note,
                         who, why);
}

/* Whether n of the rule's resources (audiences, user extra keys: judged per ServiceAccount or
 * value) times its resourceNames are too many to judge one by one: then refused whole, never
 * excused by an old object, so that a huge rule costs one violation, not millions. */
static int too_many_pairs(const role_ctx *c, size_t n, sa_rule rule, const char *what)
{
    size_t names = 0;
    for (const cJSON *r = c->rule.resource_names; r; r = r->next)
        names++;
    if (names <= 1 || n <= GRANTS_MAX / names)
        return 0;
    sa_verdict_violation(c->v, rule, SA_KEY_NONE,
                         "%s: %s%s grants %s on %zu resources x %zu resourceNames, more than %d "
                         "to judge",
                         c->what, c->where, c->star_note, what, n, names, GRANTS_MAX);
    return 1;
}

/* The user extra keys a resources entry reaches (the subresource of userextras, which may hold
 * "/"), in a rule that grants userextras impersonation at all: "userextras/<key>" and "*\/<key>"
 * that key, "*" every key (written "every key", which no extra key can be: they are lower-case
 * domain-prefixed paths); NULL for an entry that reaches none. */
static const char *extra_key(const char *res)
{
    if (strcmp(res, "*") == 0)
        return "every key";
    const char *slash = strchr(res, '/');
    if (!slash || !slash[1])
        return NULL;
    size_t n = (size_t)(slash - res);
    if ((n == 1 && res[0] == '*') || (n == 10 && strncmp(res, "userextras", 10) == 0))
        return slash + 1;
    return NULL;
}

/* The identities of one kind the rule grants (names: its resourceNames, NULL for every name);
 * extra: the user extra key, for userextras. */
static void judge_kind(const role_ctx *c, unsigned k, const cJSON *names, const char *extra)
{
    if (!names) {
        char noun[320];
        if (extra)
            snprintf(noun, sizeof noun, "%s of %s", imp_nouns[k], extra);
        else
            snprintf(noun, sizeof noun, "%s", imp_nouns[k]);
        sa_verdict_violation(
            c->v, SA_RULE_RBAC_IMPERSONATION,
            SA_KEY("impersonate", sa_rbac_imp_name(k), extra ? extra : "", ""),
            "%s: %s%s grants impersonation of every %s%s (no resourceNames, "
            "which means every name)",
            c->what, c->where, c->star_note, noun,
            (1u << k) == SA_RBAC_IMP_SERVICEACCOUNTS && c->ns ? " of its own namespace" : "");
        return;
    }
    for (const cJSON *n = names; n; n = n->next)
        if (sa_json_str(n))
            judge_identity(c, k, n->valuestring, extra);
}

static void judge_impersonation(const role_ctx *c)
{
    const char *unknown = sa_rbac_unknown_impersonate_verb(&c->rule);
    if (unknown)
        sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION, SA_KEY("verb", unknown),
                             "%s: %s.verbs \"%s\" starts with \"impersonate\" but is none of the "
                             "API server's impersonation verbs (impersonate, "
                             "impersonate:<user-info|serviceaccount|arbitrary-node|"
                             "associated-node>, impersonate-on:<mode>:<verb>): refused, since what "
                             "it grants cannot be judged",
                             c->what, c->where, unknown);

    unsigned kinds = sa_rbac_impersonation(&c->rule);
    if (c->ns) /* every identity but a ServiceAccount is asked for cluster-wide */
        kinds &= SA_RBAC_IMP_SERVICEACCOUNTS;
    const cJSON *names = sa_rbac_named(&c->rule) ? c->rule.resource_names : NULL;
    for (unsigned k = 0; k < SA_RBAC_IMP_KINDS; k++) {
        if (!(kinds & (1u << k)))
            continue;
        if ((1u << k) == SA_RBAC_IMP_ASSOCIATED_NODE) {
            /* Always asked with the name "*": granted by kind, never by name. */
            if (!(c->p->impersonation.resources & SA_RBAC_IMP_ASSOCIATED_NODE))
                sa_verdict_violation(c->v, SA_RULE_RBAC_IMPERSONATION,
                                     SA_KEY("impersonate", "associated-node"),
                                     "%s: %s%s grants impersonate:associated-node (a "
                                     "ServiceAccount acting as the node its pod runs on): "
                                     "associated-node is not in impersonation.resources",
                                     c->what, c->where, c->star_note);
            continue;
        }
        if ((1u << k) != SA_RBAC_IMP_USEREXTRAS) {
            judge_kind(c, k, names, NULL);
            continue;
        }
        /* Each extra key is an identity of its own: the UPDATE baseline must tell a value of
         * "scopes" from the same value of another key. */
        size_t n = 0;
        const char *s;
        for (const cJSON *r = c->rule.resources; r; r = r->next)
            n += (s = sa_json_str(r)) != NULL && extra_key(s) != NULL;
        if (too_many_pairs(c, n, SA_RULE_RBAC_IMPERSONATION, "impersonation of user extra values"))
            continue;
        for (const cJSON *r = c->rule.resources; r; r = r->next)
            if ((s = sa_json_str(r)) != NULL && (s = extra_key(s)) != NULL)
                judge_kind(c, k, names, s);
    }
}

/* ---- token audiences -------------------------------------------------------------------- */

/* Whether the audience's row names this role among the roles that grant it. */
static int role_grants(const role_ctx *c, const sa_audience_row *row)
{
    for (size_t i = 0; c->audiences && i < c->audiences->n; i++)
        if (c->audiences->rows[i] == row)
            return 1;
    return 0;
}

/* One audience the rule grants, for the ServiceAccount name (its resourceNames; "" for every
 * name): keyed by both, so an UPDATE that widens a tolerated audience to more ServiceAccounts is
 * refused. */
static void judge_audience(const role_ctx *c, const char *aud, const char *sa, const char *note)
{
    char whom[320] = "";
    if (*sa)
        snprintf(whom, sizeof whom, " for ServiceAccounts named \"%s\"", sa);
    const sa_audience_row *row = sa_map_get(c->p->audience_index, aud);
    if (strcmp(aud, "*") == 0)
        sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("audience", aud, sa),
                             "%s: %s.resources \"*\"%s grants " SA_RBAC_VERB_AUDIENCE
                             " for every audience%s",
                             c->what, c->where, note, whom);
    else if (!row)
        sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("audience", aud, sa),
                             "%s: %s.resources \"%s\"%s grants the token audience \"%s\"%s, "
                             "which is not an audience in the audiences table",
                             c->what, c->where, aud, note, aud, whom);
    else if (!role_grants(c, row))
        sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY("audience", aud, sa),
                             "%s: %s.resources \"%s\"%s: role %s is not among the roles the "
                             "audiences table lists for it",
                             c->what, c->where, aud, note, c->role);
}

/* Every resource a rule names is an audience when the rule grants the audience verb on it (any
 * string is an audience), for the ServiceAccounts its resourceNames name (the node authorizer
 * asks with the ServiceAccount as the name). With only "*" verbs, the core group's own resources
 * ("pods", "pods/exec") are taken for API resources: a wildcard verb on pods is not an audience
 * grant anyone relies on; everything else ("vault", a URI, "deployments") is judged as an
 * audience. */
static void judge_audiences(const role_ctx *c)
{
    int explicit = sa_rbac_lists(c->rule.verbs, SA_RBAC_VERB_AUDIENCE);
    if (!explicit && !sa_rbac_lists(c->rule.verbs, "*"))
        return;
    /* The rule grants the audience verb on one of its own resources exactly when it grants it on
     * any other (the resource matches itself; verbs, apiGroups and names are the rule's): asked
     * once, since asking per resource would cost resources squared. */
    const cJSON *first = c->rule.resources;
    while (first && !sa_json_str(first))
        first = first->next;
    sa_rbac_request req = {SA_RBAC_VERB_AUDIENCE, "", first ? first->valuestring : "", "",
                           SA_RBAC_ANY};
    if (!first || !sa_rbac_allows(&c->rule, &req))
        return;
    const cJSON *names = sa_rbac_named(&c->rule) ? c->rule.resource_names : NULL;
    const char *note = explicit ? "" : c->star_note;
    for (int pass = 0; pass < 2; pass++) { /* count the audiences, then judge them */
        size_t n = 0;
        for (const cJSON *res = c->rule.resources; res; res = res->next) {
            const char *aud = sa_json_str(res);
            if (!aud || (!explicit && sa_rbac_core_resource(aud)))
                continue;
            n++;
            if (pass == 0)
                continue;
            if (!names)
                judge_audience(c, aud, "", note);
            for (const cJSON *nm = names; nm; nm = nm->next)
                if (sa_json_str(nm))
                    judge_audience(c, aud, nm->valuestring, note);
        }
        if (pass == 0 && (!n || (names && too_many_pairs(c, n, SA_RULE_RBAC_TOKEN_AUDIENCE,
                                                         SA_RBAC_VERB_AUDIENCE))))
            return;
    }
}

/* ---- guarded roles ---------------------------------------------------------------------- */

/* "get on apps/deployments named x", "get on the URL /healthz" */
static void describe_grant(const sa_rbac_grant *g, char *out, size_t cap)
{
    if (!g->group)
        snprintf(out, cap, "%s on the URL %s", g->verb, g->resource);
    else
        snprintf(out, cap, "%s on %s%s%s%s%s%s", g->verb, g->group, *g->group ? "/" : "",
                 g->resource, g->name ? " named \"" : "", g->name ? g->name : "",
                 g->name ? "\"" : "");
}

/* An audience role's grants: its audiences (judged by judge_audiences) and create on
 * serviceaccounts/token, nothing else. */
static int audience_role_grant(void *ctx, const sa_rbac_grant *g)
{
    const role_ctx *c = ctx;
    if (!g->group || *g->group ||
        (strcmp(g->verb, SA_RBAC_VERB_AUDIENCE) != 0 &&
         (strcmp(g->verb, "create") != 0 || strcmp(g->resource, "serviceaccounts/token") != 0))) {
        char desc[512];
        describe_grant(g, desc, sizeof desc);
        sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE,
                             SA_KEY("beyond-audiences", g->verb, g->group ? g->group : "<url>",
                                    g->resource, g->name ? g->name : ""),
                             "%s: %s grants %s: a role the audiences table names may grant only "
                             "its audiences and create on serviceaccounts/token",
                             c->what, c->where, desc);
    }
    return 0;
}

/* A role trusted by the tables may not grant escalation: impersonation, "*" verbs or resources,
 * or one of the escalation grants of sa_rbac_escalations. */
static void judge_escalation(const role_ctx *c)
{
    size_t nasks;
    const sa_rbac_escalation *asks = sa_rbac_escalations(&nasks);
    const char *found[SA_RBAC_ESCALATIONS_MAX + 3];
    size_t n = 0;
    unsigned kinds = sa_rbac_impersonation(&c->rule);
    if (c->ns)
        kinds &= SA_RBAC_IMP_SERVICEACCOUNTS;
    if (kinds)
        found[n++] = "impersonation";
    if (sa_rbac_lists(c->rule.verbs, "*"))
        found[n++] = "\"*\" verbs";
    if (sa_rbac_lists(c->rule.resources, "*"))
        found[n++] = "\"*\" resources";
    for (size_t i = 0; i < nasks; i++) {
        /* First with some verb, so that a rule on other resources costs one question. */
        sa_rbac_request req = {SA_RBAC_ANY, asks[i].group, asks[i].resource, asks[i].subresource,
                               SA_RBAC_ANY};
        if (!sa_rbac_allows(&c->rule, &req))
            continue;
        for (const char *const *verb = asks[i].verbs; *verb; verb++) {
            req.verb = *verb;
            if (sa_rbac_allows(&c->rule, &req)) {
                found[n++] = asks[i].what;
                break;
            }
        }
    }
    if (!n)
        return;
    /* Keyed by the rule as written, not by the category alone: an UPDATE is excused only for a
     * rule the old object had word for word, so widening one named Secret to every Secret (the
     * same category) is judged as the widening it is. */
    char *text = cJSON_PrintUnformatted(c->rule_json);
    for (size_t i = 0; i < n; i++)
        sa_verdict_violation(c->v, SA_RULE_RBAC_SESSION_BINDING,
                             SA_KEY("escalation", found[i], text ? text : ""),
                             "%s: %s grants %s, and the role is in %s: every session bound to "
                             "it would get it",
                             c->what, c->where, found[i], c->feeds[0] ? c->feeds : c->trusted);
    cJSON_free(text);
}

/* Whether some old rule covers the grant: 1, 0, or -1 past COMPARISONS_MAX. */
static int old_covers(role_ctx *c, const sa_rbac_grant *g)
{
    for (size_t i = 0; i < c->nold; i++) {
        if (++c->comparisons > COMPARISONS_MAX)
            return -1;
        if (sa_rbac_covers(&c->old[i], g))
            return 1;
    }
    return 0;
}

/* One grant of an allowed role's new rule: refused unless some old rule grants it already. */
static int allowed_role_grant(void *ctx, const sa_rbac_grant *g)
{
    role_ctx *c = ctx;
    int covered = old_covers(c, g);
    if (covered)
        return covered < 0 ? -1 : 0;
    char desc[512];
    describe_grant(g, desc, sizeof desc);
    sa_verdict_violation(
        c->v, SA_RULE_RBAC_SESSION_BINDING,
        SA_KEY("adds", g->verb, g->group ? g->group : "<url>", g->resource, g->name ? g->name : ""),
        "%s: %s adds %s, which the old object did not grant: a role in %s "
        "is widened only by an exempt identity",
        c->what, c->where, desc, c->trusted);
    return 0;
}

/* 1 for a grant no old rule covers (or past COMPARISONS_MAX), 0 for a covered one. */
static int uncovered_grant(void *ctx, const sa_rbac_grant *g)
{
    return old_covers(ctx, g) != 1;
}

/* One grant of a rule of a role with a ceiling: refused unless a ceiling rule grants it too, or,
 * for a component role's UPDATE (c->old read), an old rule did already. */
static int ceiling_grant(void *ctx, const sa_rbac_grant *g)
{
    role_ctx *c = ctx;
    int old = c->old && !c->trusted ? old_covers(c, g) : 0;
    if (old)
        return old < 0 ? -1 : 0;
    for (size_t i = 0; i < c->ceiling->nceiling; i++)
        if (sa_rbac_covers(&c->ceiling->ceiling_rules[i], g))
            return 0;
    char desc[512];
    describe_grant(g, desc, sizeof desc);
    sa_verdict_violation(c->v, SA_RULE_RBAC_SESSION_BINDING,
                         SA_KEY("ceiling", g->verb, g->group ? g->group : "<url>", g->resource,
                                g->name ? g->name : ""),
                         "%s: %s grants %s, beyond the ceiling of allowedRoles row %s/%s: "
                         "every session bound to it would get it",
                         c->what, c->where, desc, c->ceiling->kind, c->ceiling->name);
    return 0;
}

/* The ceiling holds a CREATE (a guarded role deleted and created again is seen only as one),
 * the aggregation controller's writes into the role, and what a component role feeds into it
 * (on its UPDATE, only what the old rules did not grant). */
static void judge_ceiling(role_ctx *c)
{
    if (c->ceiling && sa_rbac_each_grant(&c->rule, GRANTS_MAX, ceiling_grant, c) < 0)
        sa_verdict_violation(
            c->v, SA_RULE_RBAC_SESSION_BINDING, SA_KEY_NONE,
            "%s: %s writes too many grants to hold to the ceiling (at most %d per rule) "
            "of allowedRoles row %s/%s",
            c->what, c->where, GRANTS_MAX, c->ceiling->kind, c->ceiling->name);
}

static void judge_guarded(role_ctx *c, const cJSON *rule, const cJSON *old_object)
{
    /* The common UPDATE leaves a rule where it was: equal, it adds nothing (even one too large to
     * judge, which a changed rule never is excused). */
    if (old_object && c->old_same && cJSON_Compare(rule, c->old_same, 1))
        return;
    if (c->audiences && sa_rbac_each_grant(&c->rule, GRANTS_MAX, audience_role_grant, c) < 0)
        sa_verdict_violation(c->v, SA_RULE_RBAC_TOKEN_AUDIENCE, SA_KEY_NONE,
                             "%s: %s writes more than %d grants, too many to judge", c->what,
                             c->where, GRANTS_MAX);
    if (!c->trusted)
        return;
    /* The aggregation controller copies in what the component roles grant, each judged when it
     * was written (find_feeds): its write is held to what a CREATE may grant, since the old
     * object's grants say nothing about which components may feed the role. What a CREATE may
     * grant is the row's ceiling where it has one, else whatever the escalation list allows. */
    if (!old_object || c->aggregator) {
        if (c->ceiling)
            judge_ceiling(c);
        else
            judge_escalation(c);
        return;
    }
    /* Any other UPDATE may add no grant at all, the ceiling's included: nothing more to ask. */
    if (!c->old && c->nold)
        sa_verdict_violation(c->v, SA_RULE_RBAC_SESSION_BINDING, SA_KEY_NONE,
                             "%s: out of memory comparing with the old object", c->what);
    else if (sa_rbac_each_grant(&c->rule, GRANTS_MAX, allowed_role_grant, c) < 0)
        sa_verdict_violation(c->v, SA_RULE_RBAC_SESSION_BINDING, SA_KEY_NONE,
                             "%s: %s writes too many grants to compare with the old object "
                             "(at most %d per rule, %u comparisons per object)",
                             c->what, c->where, GRANTS_MAX, COMPARISONS_MAX);
}

/* The aggregation controller copies into a ClusterRole with an aggregationRule the rules of every
 * ClusterRole its selectors match (kubernetes pkg/controller/clusterroleaggregation), so a role
 * labelled for a trusted role widens it without writing it. The webhook cannot see the trusted
 * role's selectors; it knows Kubernetes' own convention, the label
 * rbac.authorization.k8s.io/aggregate-to-<name>: "true" (admin, edit, view), and holds a
 * ClusterRole carrying it for a trusted <name> to the trusted role's ceiling. */
#define AGGREGATE_TO "rbac.authorization.k8s.io/aggregate-to-"

static void find_feeds(role_ctx *c, const cJSON *object)
{
    const cJSON *labels = sa_json_path(object, "metadata", "labels", NULL);
    size_t n = strlen(AGGREGATE_TO);
    sa_buf key = SA_BUF_INIT;
    for (const cJSON *l = cJSON_IsObject(labels) ? labels->child : NULL; l && !c->feeds[0];
         l = l->next) {
        const char *target = l->string + n;
        if (strncmp(l->string, AGGREGATE_TO, n) != 0 || !sa_json_str(l) ||
            strcmp(l->valuestring, "true") != 0)
            continue;
        sa_buf_reset(&key);
        sa_buf_printf(&key, "ClusterRole/%s", target);
        const sa_role_row *row =
            key.oom ? NULL : sa_map_getn(c->p->bindings.allowed_roles, key.data, key.len);
        const char *table = row ? "bindings.allowedRoles"
                            : sa_nameset_match(c->p->bindings.everyone_roles, target)
                                ? "bindings.everyoneRoles"
                                : NULL;
        c->ceiling = row && row->ceiling ? row : NULL;
        if (table)
            snprintf(c->feeds, sizeof c->feeds,
                     "%s (ClusterRole %.40s, which aggregates it by "
                     "label %.80s)",
                     table, target, l->string);
    }
    sa_buf_free(&key);
}

/* The table that hands the role to sessions or every identity, or NULL; its allowedRoles row
 * into *row when row is not NULL (NULL when it has none). */
static const char *trusted_table(const sa_policy *p, const sa_review *r, const char *role,
                                 const sa_role_row **row)
{
    sa_buf key = SA_BUF_INIT;
    sa_buf_printf(&key, "%s/%s", r->kind, role);
    const char *table = NULL;
    const sa_role_row *found = key.oom ? NULL
                                       : sa_map_getn(p->bindings.allowed_roles, key.data, key.len);
    if (row)
        *row = found;
    if (found)
        table = "bindings.allowedRoles";
    else if (sa_validate_everyone_role(p, r->kind, r->namespace_, role))
        table = "bindings.everyoneRoles"; /* bound to every identity, so every session */
    sa_buf_free(&key);
    return table;
}

static const char *role_name(const sa_review *r)
{
    const char *role = sa_json_string(sa_json_get(r->object, "metadata"), "name");
    return *role ? role : r->name;
}

int sa_validate_role_guarded(const sa_policy *p, const sa_review *r)
{
    if (!r->object)
        return 0;
    const char *role = role_name(r);
    return trusted_table(p, r, role, NULL) || sa_map_get(p->audience_roles, role);
}

/* Setting or changing an aggregationRule on a guarded role grants it whatever the aggregation
 * controller will copy in, from roles anyone who may label a ClusterRole can write. Kubernetes
 * itself asks for full authority ("*" on "*.*") of a writer who sets one, unless it may escalate
 * (pkg/registry/rbac/clusterrole/policybased/storage.go, re-read: Create refuses a role with
 * hasAggregationRule "must have cluster-admin privileges to use the aggregationRule" unless
 * EscalationAllowed or RoleEscalationAuthorized; Update the same when the new or old role has
 * one). Keyed by the rule as written, so that an UPDATE changing it is not excused by the old one. */
static void judge_aggregation_rule(const role_ctx *c, const sa_review *r)
{
    const cJSON *rule = sa_json_get(r->object, "aggregationRule");
    const cJSON *old = r->old_object ? sa_json_get(r->old_object, "aggregationRule") : NULL;
    if (!rule || cJSON_IsNull(rule) || (old && cJSON_Compare(rule, old, 1)))
        return;
    char *text = cJSON_PrintUnformatted(rule);
    sa_verdict_violation(
        c->v, c->trusted ? SA_RULE_RBAC_SESSION_BINDING : SA_RULE_RBAC_TOKEN_AUDIENCE,
        SA_KEY("aggregationRule", text ? text : ""),
        "%s: %s an aggregationRule, which grants the role whatever the "
        "aggregation controller copies in from every ClusterRole its selectors "
        "match, and the role is in %s: only an exempt identity may set or change it",
        c->what, old ? "changes" : "sets", c->trusted ? c->trusted : "the audiences table");
    cJSON_free(text);
}

void sa_validate_role(const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    if (!r->object)
        return;
    char what[512];
    sa_validate_describe(r, what, sizeof what);
    role_ctx c = {.p = snap->policy, .v = v, .what = what};
    c.role = role_name(r);
    if (strcmp(r->kind, "Role") == 0)
        c.ns = r->namespace_;
    c.audiences = sa_map_get(c.p->audience_roles, c.role);
    const sa_role_row *row;
    c.trusted = trusted_table(c.p, r, c.role, &row);
    c.ceiling = row && row->ceiling ? row : NULL;
    c.aggregator = sa_nameset_match(c.p->exempt.aggregation_users, r->username);
    if (c.trusted || c.audiences)
        judge_aggregation_rule(&c, r);
    if (!c.ns && !c.trusted)
        find_feeds(&c, r->object);
    const cJSON *old_rule = NULL;
    if ((c.trusted || c.audiences || c.feeds[0]) && r->old_object)
        old_rule = sa_validate_items(sa_json_get(r->old_object, "rules"));
    if ((c.trusted || c.feeds[0]) && r->old_object) {
        for (const cJSON *o = old_rule; o; o = o->next)
            c.nold++;
        /* Read once, not once per grant compared. Out of memory: refused (judge_guarded). */
        c.old = malloc((c.nold ? c.nold : 1) * sizeof *c.old);
        size_t k = 0;
        for (const cJSON *o = old_rule; c.old && o; o = o->next)
            sa_rbac_rule_read(&c.old[k++], o);
    }

    size_t i = 0;
    for (const cJSON *rule = sa_validate_items(sa_json_get(r->object, "rules")); rule;
         rule = rule->next, i++) {
        sa_rbac_rule_read(&c.rule, rule);
        c.rule_json = rule;
        snprintf(c.where, sizeof c.where, "rules[%zu]", i);
        c.star_note = sa_rbac_lists(c.rule.verbs, "*") ? " (verbs \"*\")" : "";
        judge_impersonation(&c);
        judge_audiences(&c);
        c.old_same = old_rule;
        if (c.audiences || c.trusted)
            judge_guarded(&c, rule, r->old_object);
        /* A component role is judged on the grants it adds: a rule the old rules cover adds
         * nothing (sa_rbac_covers), any other is judged whole. */
        if (c.feeds[0] && c.ceiling)
            judge_ceiling(&c); /* what it feeds in is held to the ceiling of the role it feeds */
        else if (c.feeds[0] && !(r->old_object && c.old &&
                                 sa_rbac_each_grant(&c.rule, GRANTS_MAX, uncovered_grant, &c) == 0))
            judge_escalation(&c);
        old_rule = old_rule ? old_rule->next : NULL;
    }
    free(c.old);
}
