/* generate_role.c: the CEL of the Role and ClusterRole rules (validate_role.c's decisions, asked
 * of sa_rbac.h's model): rbac-impersonation, the rule half of rbac-token-audience, and
 * rbac-session-binding's guards on the roles the tables trust (the escalation list, a row's
 * ceiling, an UPDATE's added grants, the ClusterRoles that feed a trusted one by aggregation
 * label, the aggregationRule). validate_role.c is the reference, with its keys; the model's
 * questions are written out here as CEL over the rule's lists, one clause per clause of
 * rbac.c (RuleAllows, ResourceMatches, ...). rbac-impersonation's own clauses are in
 * generate_impersonation.c, over what generate_role.h shares.
 *
 * Where they part, and why (README, "generated admission policies"):
 *   - CEL in these versions has no index-aware map: a rule is named by what it lists, not by
 *     rules[i]; and an UPDATE's unchanged rule is one equal to any old rule, where the core asks
 *     only the old rule at the same index (the same verdict: an equal rule covers itself, but for
 *     a resource "x/" or a name past 255 bytes, which cover nothing);
 *   - a rule's text in a key is its lists joined, not its JSON (equal for what the API server
 *     sends, which writes a PolicyRule's fields in one order);
 *   - a nonResourceURLs entry ending in more than URL_STARS_MAX stars covers nothing here, where
 *     the core trims every trailing star: CEL has no trim of a character;
 *   - the core's 1,048,576 comparisons per object become the API server's CEL cost limits, past
 *     which the request fails (failurePolicy Fail: refused), as the core refuses past its own. */
#include "generate_role.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_map.h"
#include "sa_rbac.h"

/* A grant (v, gr, x, n; every: the rule has no resourceNames) of rule r covered by a rule o
 * (sa_rbac_covers): its verb, group, "resource/subresource" and name, as RuleAllows reads them. */
static const char covers_resource[] =
    "o.?verbs.orValue([]).exists(w, w == \"*\" || w == v) && "
    "o.?apiGroups.orValue([]).exists(w, w == \"*\" || w == gr) && "
    "(x.indexOf(\"/\") < 0 ? size(x) < 256 && o.?resources.orValue([]).exists(e, e == \"*\" || e == x) : "
    "x.indexOf(\"/\") < 256 && (x.substring(x.indexOf(\"/\") + 1) == \"\" ? "
    "o.?resources.orValue([]).exists(e, e == \"*\" || e == x.substring(0, x.indexOf(\"/\"))) : "
    "o.?resources.orValue([]).exists(e, e == \"*\" || e == x || e == \"*/\" + x.substring(x.indexOf(\"/\") + 1)))) && "
    "(size(o.?resourceNames.orValue([])) == 0 || (size(" NM ") > 0 && n in o.resourceNames))";

#define ROLE_VARS 21 /* the entries of vars_of, its end included */

static const gen_var *vars_of(role_cel *rc, gen_var *vars, const char *extra_name,
                              const char *extra)
{
    /* clang-format off */
    gen_var all[] = {
        {"V", V}, {"G", G}, {"RS", RS}, {"NM", NM}, {"U", U}, {"NAMES", NAMES}, {"SEP", GEN_SEP},
        {"ISROLE", ISROLE}, {"STAR", STAR}, {"TOO_MANY", TOO_MANY}, {"NONE", NONE_KEY},
        {"WHAT", sa_buf_str(&rc->what)}, {"WHERE", sa_buf_str(&rc->where)},
        {"UPD", sa_buf_str(&rc->upd)}, {"NS", GEN_NS}, {"ROOT", rc->root},
        {"COVERS", covers_resource}, {"MAX", GRANTS_MAX}, {"COMPARISONS", COMPARISONS_MAX},
        {extra_name, extra}, {NULL, NULL}};
    /* clang-format on */
    _Static_assert(sizeof all / sizeof all[0] == ROLE_VARS, "ROLE_VARS counts vars_of's entries");
    memcpy(vars, all, sizeof all);
    return vars;
}

void gen_role_expand(role_cel *rc, sa_buf *out, const char *tmpl, const char *extra_name,
                     const char *extra)
{
    gen_var vars[ROLE_VARS];
    gen_expand(rc->g, out, tmpl,
               vars_of(rc, vars, extra_name ? extra_name : "-", extra ? extra : ""));
}

/* Whether the rule allows the request (its name SA_RBAC_ANY: some name): verbs and apiGroups
 * "*" or exact; resources "*", the resource exactly, or (some subresource) "resource/x" or
 * "*\/x"; the name listed, or no resourceNames. */
void gen_role_allows(sa_buf *out, const sa_rbac_request *q)
{
    sa_buf_putc(out, '(');
    if (q->verb) { /* NULL: the verbs are asked by the caller */
        sa_buf_puts(out, V ".exists(v, v == \"*\" || v == ");
        sa_cel_string(out, q->verb);
        sa_buf_puts(out, ") && ");
    }
    sa_buf_puts(out, G ".exists(x, x == \"*\" || x == ");
    sa_cel_string(out, q->group);
    sa_buf_puts(out, ") && " RS ".exists(x, x == \"*\" || ");
    if (q->subresource == SA_RBAC_ANY) {
        sa_buf_printf(
            out,
            "(x.startsWith(\"%s/\") && size(x) > %zu) || (x.startsWith(\"*/\") && size(x) > 2)",
            q->resource, strlen(q->resource) + 1);
    } else if (*q->subresource) {
        sa_buf one = SA_BUF_INIT, star = SA_BUF_INIT;
        sa_buf_printf(&one, "%s/%s", q->resource, q->subresource);
        sa_buf_printf(&star, "*/%s", q->subresource);
        sa_buf_puts(out, "x == ");
        sa_cel_string(out, sa_buf_str(&one));
        sa_buf_puts(out, " || x == ");
        sa_cel_string(out, sa_buf_str(&star));
        out->oom |= one.oom | star.oom;
        sa_buf_free(&one);
        sa_buf_free(&star);
    } else {
        sa_buf_puts(out, "x == ");
        sa_cel_string(out, q->resource);
    }
    sa_buf_puts(out, ")");
    if (q->name != SA_RBAC_ANY) { /* ResourceNameMatches: no resourceNames, or the name listed */
        sa_buf_puts(out, " && (size(" NM ") == 0 || " NM ".exists(n, n == ");
        sa_cel_string(out, q->name);
        sa_buf_puts(out, "))");
    }
    sa_buf_puts(out, ")");
}

/* ---- rbac-token-audience: the audiences a rule grants ------------------------------------- */

static const char audiences_tmpl[] =
    "((${V}.exists(v, v == \"" SA_RBAC_VERB_AUDIENCE
    "\") || ${V}.exists(v, v == \"*\")) && size(${RS}) > 0 && "
    "${G}.exists(x, x == \"*\" || x == \"\") ? [${RS}.filter(a, ${V}.exists(v, v == \"" SA_RBAC_VERB_AUDIENCE
    "\") || !${CORE})].map(al, size(al) == 0 ? \"\" : size(${NM}) > 1 && size(al) > ${MAX} / size(${NM}) ? "
    "${NONE} + ${WHAT} + \": \" + ${WHERE} + ${NOTE} + \" grants " SA_RBAC_VERB_AUDIENCE " on \" + "
    "string(size(al)) + \" resources x \" + string(size(${NM})) + \" resourceNames, more than ${MAX} to "
    "judge\" : al.map(a, ${NAMES}.map(s, a == \"*\" ? \"audience\" + ${SEP} + a + ${SEP} + s + \"\\t\" + "
    "${WHAT} + \": \" + ${WHERE} + \": resources \\\"*\\\"\" + ${NOTE} + \" grants " SA_RBAC_VERB_AUDIENCE
    " for every audience\" + ${WHOM} : !(a in ${TABLE}) ? \"audience\" + ${SEP} + a + ${SEP} + s + \"\\t\" + "
    "${WHAT} + \": \" + ${WHERE} + \": resources \\\"\" + a + \"\\\"\" + ${NOTE} + \" grants the token "
    "audience \\\"\" + a + \"\\\"\" + ${WHOM} + \", which is not an audience in the audiences table\" : "
    "!(variables.roleName in ${TABLE}[a]) ? \"audience\" + ${SEP} + a + ${SEP} + s + \"\\t\" + ${WHAT} + "
    "\": \" + ${WHERE} + \": resources \\\"\" + a + \"\\\"\" + ${NOTE} + \": role \" + variables.roleName + "
    "\" is not among the roles the audiences table lists for it\" : \"\").join(\"\\n\")).join(\"\\n\"))[0] : \"\")";

static void audiences(role_cel *rc, sa_buf *out)
{
    sa_buf core = SA_BUF_INIT, table = SA_BUF_INIT;
    gen_core_resource(&core);
    gen_audience_table(rc->g, &table);
    gen_var vars[ROLE_VARS + 4];
    vars_of(rc, vars, "CORE", sa_buf_str(&core));
    /* clang-format off */
    gen_var more[] = {
        {"TABLE", sa_buf_str(&table)},
        {"NOTE", "(" V ".exists(v, v == \"" SA_RBAC_VERB_AUDIENCE "\") ? \"\" : " STAR ")"},
        {"WHOM", "(s != \"\" ? \" for ServiceAccounts named \\\"\" + s + \"\\\"\" : \"\")"},
        {NULL, NULL}};
    /* clang-format on */
    memcpy(&vars[ROLE_VARS - 1], more, sizeof more);
    gen_expand(rc->g, out, audiences_tmpl, vars);
    rc->g->failed |= core.oom | table.oom;
    sa_buf_free(&core);
    sa_buf_free(&table);
}

/* ---- grants: a rule's grants one by one --------------------------------------------------- */

/* A grant as a message says it: "get on apps/deployments named \"x\"", "get on the URL /x". */
#define DESC_RESOURCE                                                 \
    "v + \" on \" + gr + (gr != \"\" ? \"/\" : \"\") + x + (size(" NM \
    ") > 0 ? \" named \\\"\" + n + \"\\\"\" : \"\")"
#define DESC_URL "v + \" on the URL \" + u"
#define KEY_RESOURCE(tag) \
    "\"" tag "\" + ${SEP} + v + ${SEP} + gr + ${SEP} + x + ${SEP} + (size(${NM}) > 0 ? n : \"\")"
#define KEY_URL(tag) "\"" tag "\" + ${SEP} + v + ${SEP} + \"<url>\" + ${SEP} + u + ${SEP} + \"\""

/* Whether a rule o grants verb v on the URL u (sa_rbac_allows_url): "*", u itself, or, for an
 * entry ending in stars, a prefix once every trailing star is cut (counted up to URL_STARS_MAX). */
static void covers_url(sa_buf *out)
{
    sa_buf_puts(
        out,
        "o.?verbs.orValue([]).exists(w, w == \"*\" || w == v) && o.?nonResourceURLs.orValue([])"
        ".exists(s, s == \"*\" || s == u || (s.endsWith(\"*\") && (");
    char stars[URL_STARS_MAX + 2];
    for (int k = 1; k <= URL_STARS_MAX; k++) {
        memset(stars, '*', (size_t)k + 1);
        stars[k + 1] = '\0';
        sa_buf_printf(
            out, "!s.endsWith(\"%s\") ? u.startsWith(s.substring(0, size(s) - %d)) : ", stars, k);
    }
    sa_buf_puts(out, "false)))");
}

/* Whether the list of rules (CEL) covers the grant in scope (v, gr, x, n; or v, u). */
static void covered_by(sa_buf *out, const char *rules, int url)
{
    sa_buf_printf(out, "%s.exists(o, ", rules);
    if (url)
        covers_url(out);
    else
        sa_buf_puts(out, covers_resource);
    sa_buf_putc(out, ')');
}

/* The rule's grants as records, or when there are too many to judge one by one (TOO_MANY), one
 * record of too_many (a CEL string). bad_resource and bad_url (CEL on v, gr, x, n and on v, u)
 * say whether a grant is a violation, recorded with the tag's key as
 * "WHAT: WHERE <verb> <grant><tail>" (tail a CEL string). */
static void each_grant(role_cel *rc, sa_buf *out, const char *too_many, const char *bad_resource,
                       const char *bad_url, const char *tag, const char *verb, const char *tail)
{
    sa_buf t = SA_BUF_INIT;
    sa_buf_printf(
        &t,
        "(${TOO_MANY} ? ${NONE} + ${WHAT} + \": \" + ${WHERE} + %s : "
        "[${V}.map(v, ${G}.map(gr, ${RS}.map(x, ${NAMES}.map(n, (%s) ? " KEY_RESOURCE(
            "%s") " + \"\\t\" + ${WHAT} + \": \" + ${WHERE} + \" %s \" + " DESC_RESOURCE
                  " + %s : \"\")"
                  ".join(\"\\n\")).join(\"\\n\")).join(\"\\n\")).join(\"\\n\"), ${V}.map(v, ${U}.map(u, (%s) ? " KEY_URL(
                      "%s") " + \"\\t\" + ${WHAT} + \": \" + ${WHERE} + \" %s \" + " DESC_URL
                            " + %s : \"\")"
                            ".join(\"\\n\")).join(\"\\n\")].join(\"\\n\"))",
        too_many, bad_resource, tag, verb, tail, bad_url, tag, verb, tail);
    gen_role_expand(rc, out, sa_buf_str(&t), NULL, NULL);
    rc->g->failed |= t.oom;
    sa_buf_free(&t);
}

/* judge_ceiling: the grants beyond the ceiling (rules: a CEL list of PolicyRules; row: a CEL
 * string naming its allowedRoles row), or, with old_too, an UPDATE's grants no old rule had. */
static void ceiling(role_cel *rc, sa_buf *out, const char *rules, const char *row, int old_too)
{
    sa_buf bad[2] = {SA_BUF_INIT, SA_BUF_INIT}, tail = SA_BUF_INIT, many = SA_BUF_INIT;
    for (int url = 0; url < 2; url++) {
        sa_buf_puts(&bad[url], "!(");
        if (old_too) {
            sa_buf_printf(&bad[url], "(%s && ", sa_buf_str(&rc->upd));
            covered_by(&bad[url], "variables.oldRules", url);
            sa_buf_puts(&bad[url], ") || ");
        }
        covered_by(&bad[url], rules, url);
        sa_buf_putc(&bad[url], ')');
    }
    sa_buf_printf(&tail,
                  "\", beyond the ceiling of allowedRoles row \" + %s + \": every session bound to "
                  "it would get it\"",
                  row);
    sa_buf_printf(&many,
                  "\" writes too many grants to hold to the ceiling (at most " GRANTS_MAX
                  " per rule) of allowedRoles row \" + %s",
                  row);
    each_grant(rc, out, sa_buf_str(&many), sa_buf_str(&bad[0]), sa_buf_str(&bad[1]), "ceiling",
               "grants", sa_buf_str(&tail));
    rc->g->failed |= bad[0].oom | bad[1].oom | tail.oom | many.oom;
    sa_buf_free(&bad[0]);
    sa_buf_free(&bad[1]);
    sa_buf_free(&tail);
    sa_buf_free(&many);
}

/* judge_escalation: each escalation the rule grants, the role in table (a CEL string). */
static void escalation(role_cel *rc, sa_buf *out, const char *table)
{
    sa_buf_printf(out,
                  "[%s ? \"impersonation\" : \"\", " V
                  ".exists(v, v == \"*\") ? \"\\\"*\\\" verbs\" : \"\", " RS
                  ".exists(x, x == \"*\") ? \"\\\"*\\\" resources\" : \"\"",
                  sa_buf_str(&rc->imp_any));
    size_t n;
    const sa_rbac_escalation *asks = sa_rbac_escalations(&n);
    for (size_t i = 0; i < n; i++) {
        sa_buf_puts(out, ", (" V ".exists(v, v == \"*\"");
        for (const char *const *verb = asks[i].verbs; *verb; verb++)
            sa_buf_printf(out, " || v == \"%s\"", *verb);
        sa_rbac_request q = {NULL, asks[i].group, asks[i].resource, asks[i].subresource,
                             SA_RBAC_ANY};
        sa_buf_puts(out, ") && ");
        gen_role_allows(out, &q);
        sa_buf_puts(out, ") ? ");
        sa_cel_string(out, asks[i].what);
        sa_buf_puts(out, " : \"\"");
    }
    sa_buf_puts(out, "].filter(f, f != \"\").map(f, ");
    sa_buf t = SA_BUF_INIT;
    sa_buf_printf(
        &t,
        "\"escalation\" + ${SEP} + f + ${SEP} + ${RULE_TEXT} + \"\\t\" + ${WHAT} + \": \" + "
        "${WHERE} + \" grants \" + f + \", and the role is in \" + %s + \": every session bound "
        "to it would get it\").join(\"\\n\")",
        table);
    gen_role_expand(rc, out, sa_buf_str(&t), "RULE_TEXT",
                    "[" V ".join(\"\\x1e\"), " G ".join(\"\\x1e\"), " RS ".join(\"\\x1e\"), " NM
                    ".join(\"\\x1e\"), " U ".join(\"\\x1e\")].join(\"\\x1d\")");
    rc->g->failed |= t.oom;
    sa_buf_free(&t);
}

/* ---- the records -------------------------------------------------------------------------- */

#define ROWKEY "(request.kind.kind + \"/\" + variables.roleName)"
#define UNCHANGED "(${UPD} && variables.oldRules.exists(o, o == r))"

/* The aggregationRule a guarded role sets or changes (judge_aggregation_rule); table: a CEL
 * string. Keyed by set or changed: a changed one is never the old one's. */
static void aggregation_rule(role_cel *rc, sa_buf *out, const char *table)
{
    sa_buf t = SA_BUF_INIT;
    sa_buf_printf(
        &t,
        "(%s != \"\" && has(${ROOT}.aggregationRule) && !(${UPD} && has(oldObject.aggregationRule) && "
        "${ROOT}.aggregationRule == oldObject.aggregationRule) ? \"aggregationRule\" + ${SEP} + "
        "(${UPD} ? \"changed\" : \"set\") + \"\\t\" + ${WHAT} + \": \" + (${UPD} && "
        "has(oldObject.aggregationRule) ? \"changes\" : \"sets\") + \" an aggregationRule, which "
        "grants the role whatever the aggregation controller copies in from every ClusterRole "
        "its selectors match, and the role is in \" + %s + \": only an exempt identity may set "
        "or change it\" : \"\")",
        table, table);
    gen_role_expand(rc, out, sa_buf_str(&t), NULL, NULL);
    rc->g->failed |= t.oom;
    sa_buf_free(&t);
}

/* The part of one rule's records (in scope: r, where, what; fk for session-binding) a rule id
 * owns. */
static void rule_records(role_cel *rc, sa_buf *out, sa_rule rule, const char *rows,
                         const char *ceilings)
{
    if (rule == SA_RULE_RBAC_IMPERSONATION) {
        gen_role_impersonation(rc, out);
        return;
    }
    if (rule == SA_RULE_RBAC_TOKEN_AUDIENCE) {
        sa_buf_puts(out, "[");
        audiences(rc, out);
        gen_role_expand(rc, out, ", variables.audienceRole && !" UNCHANGED " ? ", NULL, NULL);
        each_grant(
            rc, out, "\" writes more than " GRANTS_MAX " grants, too many to judge\"",
            "gr != \"\" || (v != \"" SA_RBAC_VERB_AUDIENCE "\" && !(v == \"create\" && x == "
            "\"serviceaccounts/token\"))",
            "true", "beyond-audiences", "grants",
            "\": a role the audiences table names may grant only its audiences and create on "
            "serviceaccounts/token\"");
        sa_buf_puts(out, " : \"\"].join(\"\\n\")");
        return;
    }
    /* rbac-session-binding: a trusted role's CREATE (or the aggregation controller's write) is
     * held to its row's ceiling, else to the escalation list; any other UPDATE may add nothing. */
    sa_buf c = SA_BUF_INIT, bad[2] = {SA_BUF_INIT, SA_BUF_INIT}, all = SA_BUF_INIT;
    sa_buf_printf(&c, "%s[variables.ceilingIndex]", ceilings);
    gen_role_expand(rc, out,
                    "[variables.trusted != \"\" && !" UNCHANGED
                    " ? ((!${UPD} || variables.aggregator) ? "
                    "(variables.ceilingIndex >= 0 ? ",
                    NULL, NULL);
    ceiling(rc, out, sa_buf_str(&c), ROWKEY, 0);
    sa_buf_puts(out, " : ");
    escalation(rc, out, "variables.trusted");
    sa_buf_puts(out, ") : ");
    for (int url = 0; url < 2; url++) {
        sa_buf_puts(&bad[url], "!");
        covered_by(&bad[url], "variables.oldRules", url);
    }
    each_grant(
        rc, out,
        "\" writes too many grants to compare with the old object (at most " GRANTS_MAX
        " per rule, " COMPARISONS_MAX " comparisons per object)\"",
        sa_buf_str(&bad[0]), sa_buf_str(&bad[1]), "adds", "adds",
        "\", which the old object did not grant: a role in \" + variables.trusted + \" is widened "
        "only by an exempt identity\"");
    /* A ClusterRole feeding a trusted one (fk, its label): held to that row's ceiling (on an
     * UPDATE, what it adds), else, unless an UPDATE adds nothing, to the escalation list. */
    sa_buf_puts(out, ") : \"\", fk == \"\" ? \"\" : [\"ClusterRole/\" + fk.substring(");
    sa_buf_printf(out, "%zu)].map(frow, frow in %s && %s[frow] >= 0 ? ", strlen(AGGREGATE_TO), rows,
                  rows);
    sa_buf_reset(&c);
    sa_buf_printf(&c, "%s[%s[frow]]", ceilings, rows);
    ceiling(rc, out, sa_buf_str(&c), "frow", 1);
    sa_buf_puts(out, " : ");
    sa_buf_puts(&all,
                "!" TOO_MANY " && " V ".all(v, " G ".all(gr, " RS ".all(x, " NAMES ".all(n, ");
    covered_by(&all, "variables.oldRules", 0);
    sa_buf_puts(&all, ")))) && " V ".all(v, " U ".all(u, ");
    covered_by(&all, "variables.oldRules", 1);
    sa_buf_puts(&all, "))");
    gen_role_expand(rc, out, "(${UPD} && ${ALL}) ? \"\" : ", "ALL", sa_buf_str(&all));
    sa_buf_reset(&c);
    sa_buf_printf(
        &c,
        "((frow in %s ? \"bindings.allowedRoles\" : \"bindings.everyoneRoles\") + \" (ClusterRole \" + "
        "(size(fk) > %zu ? fk.substring(%zu, %zu) : fk.substring(%zu)) + \", which aggregates it by "
        "label \" + (size(fk) > 80 ? fk.substring(0, 80) : fk) + \")\")",
        rows, strlen(AGGREGATE_TO) + 40, strlen(AGGREGATE_TO), strlen(AGGREGATE_TO) + 40,
        strlen(AGGREGATE_TO));
    escalation(rc, out, sa_buf_str(&c));
    sa_buf_puts(out, ")[0]].join(\"\\n\")");
    rc->g->failed |= c.oom | bad[0].oom | bad[1].oom | all.oom;
    sa_buf_free(&c);
    sa_buf_free(&bad[0]);
    sa_buf_free(&bad[1]);
    sa_buf_free(&all);
}

/* A rule named by what it lists (no index-aware map in CEL here). */
static const char where_expr[] =
    "\"the rule {\" + [size(" V ") > 0 ? \"verbs: \" + " V ".join(\",\") : \"\", size(" G ") > 0 ? "
    "\"apiGroups: \" + " G ".map(x, x == \"\" ? \"\\\"\\\"\" : x).join(\",\") : \"\", size(" RS
    ") > 0 ? "
    "\"resources: \" + " RS ".join(\",\") : \"\", size(" NM ") > 0 ? \"resourceNames: \" + " NM
    ".join(\",\") : "
    "\"\", size(" U ") > 0 ? \"nonResourceURLs: \" + " U
    ".join(\",\") : \"\"].filter(x, x != \"\").join(\"; \") + \"}\"";

void gen_role_records(gen *g, sa_rule rule, const char *root, sa_buf *out)
{
    const sa_policy *p = g->p;
    role_cel rc = {.g = g, .root = root, .update = strcmp(root, "object") == 0};
    sa_buf_puts(&rc.upd,
                rc.update ? "(request.operation == \"UPDATE\" && oldObject != null)" : "false");
    sa_buf_puts(&rc.what, "what");
    sa_buf_puts(&rc.where, "where");
    sa_buf_putc(&rc.imp_any, '(');
    for (unsigned k = 0; k < SA_RBAC_IMP_KINDS; k++) {
        sa_buf_puts(&rc.imp_any, k ? " || " : "");
        gen_role_grants_kind(&rc.imp_any, k);
    }
    sa_buf_putc(&rc.imp_any, ')');
    sa_buf rows = SA_BUF_INIT, ceilings = SA_BUF_INIT, what = SA_BUF_INIT, feed = SA_BUF_INIT;
    gen_role_tables(g, &rows, &ceilings);
    gen_describe(&what, "request.kind.kind", root);
    sa_buf_printf(out, "[%s].map(what, ", sa_buf_str(&what));
    if (rule == SA_RULE_RBAC_SESSION_BINDING) {
        /* find_feeds: the least label key (the API server sends them sorted) of the form
         * aggregate-to-<trusted ClusterRole>: "true" */
        size_t n = strlen(AGGREGATE_TO);
        sa_buf target = SA_BUF_INIT;
        sa_buf_printf(&target, "k.substring(%zu)", n);
        sa_buf_printf(
            &feed,
            "[request.kind.kind == \"ClusterRole\" && variables.trusted == \"\" ? "
            "%s.metadata.?labels.orValue({}).filter(k, k.startsWith(\"%s\") && "
            "%s.metadata.labels[k] == \"true\" && ((\"ClusterRole/\" + k.substring(%zu)) in %s || ",
            root, AGGREGATE_TO, root, n, sa_buf_str(&rows));
        gen_in_set(g, &feed, p->bindings.everyone_roles, sa_buf_str(&target));
        sa_buf_puts(&feed,
                    ")) : []].map(fl, size(fl) == 0 ? \"\" : fl.filter(k, fl.all(o, o >= k))[0])");
        sa_buf_printf(out, "%s.map(fk, ", sa_buf_str(&feed));
        g->failed |= target.oom;
        sa_buf_free(&target);
    }
    sa_buf_printf(out, "[variables.%s.map(r, [%s].map(where, ", rc.update ? "rules" : "oldRules",
                  where_expr);
    rule_records(&rc, out, rule, sa_buf_str(&rows), sa_buf_str(&ceilings));
    sa_buf_puts(out, ")[0]).join(\"\\n\"), ");
    if (rule == SA_RULE_RBAC_SESSION_BINDING)
        aggregation_rule(&rc, out, "variables.trusted");
    else if (rule == SA_RULE_RBAC_TOKEN_AUDIENCE)
        aggregation_rule(&rc, out,
                         "(variables.trusted == \"\" && variables.audienceRole ? \"the audiences "
                         "table\" : \"\")");
    else
        sa_buf_puts(out, "\"\"");
    sa_buf_puts(out, "].join(\"\\n\"))[0]");
    if (rule == SA_RULE_RBAC_SESSION_BINDING)
        sa_buf_puts(out, ")[0]");
    sa_buf *bufs[] = {&rc.upd, &rc.what, &rc.where, &rc.imp_any, &rows, &ceilings, &what, &feed};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        g->failed |= bufs[i]->oom;
        sa_buf_free(bufs[i]);
    }
}

void gen_role_variables(gen *g, cJSON *vars, void (*add)(cJSON *, const char *, const char *))
{
    const sa_policy *p = g->p;
    sa_buf e = SA_BUF_INIT, rows = SA_BUF_INIT, ceilings = SA_BUF_INIT;
    gen_role_tables(g, &rows, &ceilings);
    add(vars, "roleName",
        "object.metadata.?name.orValue(\"\") != \"\" ? object.metadata.name : " GEN_NAME);
    /* Role.Rules and ClusterRole.Rules are json:"rules" without omitempty (k8s.io/api/rbac/v1,
     * types.go): a role with no rules, as an aggregated ClusterRole (admin, edit, view) is made,
     * reaches CEL as rules: null, which .?rules.orValue([]) passes through. */
    add(vars, "rules", "object.?rules.orValue([]) != null ? object.rules : []");
    add(vars, "oldRules",
        "oldObject != null && oldObject.?rules.orValue([]) != null ? oldObject.rules : []");
    /* trusted_table: bindings.allowedRoles by "Kind/name", else bindings.everyoneRoles (a
     * ClusterRole by name, a Role as ns/name) */
    sa_buf_printf(&e, "%s in %s ? \"bindings.allowedRoles\" : (" ISROLE " ? " GEN_NS " != \"\" && ",
                  ROWKEY, sa_buf_str(&rows));
    gen_in_set(g, &e, p->bindings.everyone_roles, "(" GEN_NS " + \"/\" + variables.roleName)");
    sa_buf_puts(&e, " : ");
    gen_in_set(g, &e, p->bindings.everyone_roles, "variables.roleName");
    sa_buf_puts(&e, ") ? \"bindings.everyoneRoles\" : \"\"");
    add(vars, "trusted", sa_buf_str(&e));
    sa_buf_reset(&e);
    sa_buf_printf(&e, "%s in %s ? %s[%s] : -1", ROWKEY, sa_buf_str(&rows), sa_buf_str(&rows),
                  ROWKEY);
    add(vars, "ceilingIndex", sa_buf_str(&e));
    sa_buf_reset(&e);
    sa_buf_puts(&e, "variables.roleName in ");
    gen_audience_roles(g, &e);
    add(vars, "audienceRole", sa_buf_str(&e));
    sa_buf_reset(&e);
    gen_in_set(g, &e, p->exempt.aggregation_users, GEN_USER);
    add(vars, "aggregator", sa_buf_str(&e));
    g->failed |= e.oom | rows.oom | ceilings.oom;
    sa_buf_free(&e);
    sa_buf_free(&rows);
    sa_buf_free(&ceilings);
}

void gen_role_guarded(gen *g, sa_buf *out)
{
    const sa_policy *p = g->p;
    sa_buf rows = SA_BUF_INIT, ceilings = SA_BUF_INIT, name = SA_BUF_INIT, key = SA_BUF_INIT;
    gen_role_tables(g, &rows, &ceilings);
    sa_buf_puts(&name,
                "(object.metadata.?name.orValue(\"\") != \"\" ? object.metadata.name : " GEN_NAME
                ")");
    sa_buf_printf(&key, "(request.kind.kind + \"/\" + %s)", sa_buf_str(&name));
    sa_buf_printf(out, "(%s in %s || (" ISROLE " ? " GEN_NS " != \"\" && ", sa_buf_str(&key),
                  sa_buf_str(&rows));
    sa_buf q = SA_BUF_INIT;
    sa_buf_printf(&q, "(" GEN_NS " + \"/\" + %s)", sa_buf_str(&name));
    gen_in_set(g, out, p->bindings.everyone_roles, sa_buf_str(&q));
    sa_buf_puts(out, " : ");
    gen_in_set(g, out, p->bindings.everyone_roles, sa_buf_str(&name));
    sa_buf_printf(out, ") || %s in ", sa_buf_str(&name));
    gen_audience_roles(g, out);
    sa_buf_putc(out, ')');
    sa_buf *bufs[] = {&rows, &ceilings, &name, &key, &q};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        g->failed |= bufs[i]->oom;
        sa_buf_free(bufs[i]);
    }
}
