/* generate_rbac.c: the CEL of the binding rules (validate_binding.c and sa_identity's reading of
 * a subject): rbac-session-binding, rbac-cross-namespace and the binding half of
 * rbac-token-audience. validate_binding.c is the reference; the templates below follow it
 * clause by clause, with its keys and messages. */
#include "generate_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sa_map.h"

/* A subject s of root's binding read as sa_identity_from_subject reads it. */
static const char identity[] =
    "${EVERYONE_SUBJECT} || (${K} == \"ServiceAccount\" && ${N} != \"\" && ${SESSION_SA_N}) || "
    "(${USERSA} && ${USERSA_NAME} != \"\" && ${SESSION_SA_U}) || (${GROUPNS} && ${NSGROUP})";

static const char session_binding[] =
    "!(${ROWKEY} in ${SCOPES}) ? [${SK} + ${SEP} + \"role\" + ${SEP} + ${REFK} + ${SEP} + ${REFN} + "
    "\"\\t\" + ${WHAT} + \": roleRef \" + ${REFK} + \"/\" + ${REFN} + \" is not in allowedRoles "
    "(subject \" + ${WHO} + \")\"] : !(${SCOPE} == 3 || ${SCOPE} == (${CLUSTER} ? 2 : 1)) ? "
    "[${SK} + ${SEP} + \"scope\" + ${SEP} + ${REFK} + ${SEP} + ${REFN} + \"\\t\" + ${WHAT} + "
    "\": roleRef \" + ${REFK} + \"/\" + ${REFN} + \" is allowed only through a \" + (${SCOPE} == 1 ? "
    "\"RoleBinding (allowedRoles scope namespace)\" : \"ClusterRoleBinding (allowedRoles scope "
    "cluster)\") + \", not a \" + (${CLUSTER} ? \"ClusterRoleBinding\" : \"RoleBinding\") + "
    "\" (subject \" + ${WHO} + \")\"] : []";

/* A ClusterRoleBinding's reach is its scope; a RoleBinding's, its namespace. */
static const char cross_namespace[] =
    "${CLUSTER} || ${ROWKEY} in ${CROSS} ? [] : ${EVERYONE_SUBJECT} ? [${SK} + ${SEP} + ${REFK} + "
    "${SEP} + ${REFN} + \"\\t\" + ${WHAT} + \": subject \" + ${WHO} + \" covers every namespace, "
    "not only \" + ${BNS} + \", and roleRef \" + ${REFK} + \"/\" + ${REFN} + \" does not allow "
    "crossNamespace\"] : ${IDNS} != ${BNS} ? [${SK} + ${SEP} + ${REFK} + ${SEP} + ${REFN} + "
    "\"\\t\" + ${WHAT} + \": subject \" + ${WHO} + \" is from namespace \" + ${IDNS} + \", not \" + "
    "${BNS} + \", and roleRef \" + ${REFK} + \"/\" + ${REFN} + \" does not allow crossNamespace\"] : []";

/* Every subject of a binding of an audience role, session or not: listed in each of its rows. */
static const char token_audience[] =
    "(${REFN} in ${AUDIENCES} ? ${AUDIENCES}[${REFN}] : []).filter(row, !row.exists(x, x == ${IDKIND} + ${SEP} + "
    "${IDNAME} + ${SEP} + (${ISSA} ? ${IDNS} : \"\"))).map(row, ${SK} + ${SEP} + row[0] + \"\\t\" + "
    "${WHAT} + \": subject \" + ${WHO} + \" may not be bound to roleRef \" + ${REFK} + \"/\" + "
    "${REFN} + \": it grants audience \" + row[0] + \", which the audiences table allows only for "
    "its listed subjects\")";

typedef struct rbac_cel {
    gen *g;
    sa_buf bns, refk, refn, everyone_role, session, what;
    sa_buf scopes, cross, audiences, ssa_n, ssa_u, nsgroup;
} rbac_cel;

#define K "s.?kind.orValue(\"\")"
#define N "s.?name.orValue(\"\")"
#define SNS "s.?namespace.orValue(\"\")"
#define USERSA                                                                 \
    "(" K " == \"User\" && " N ".startsWith(\"system:serviceaccount:\") && " N \
    ".substring(22).contains(\":\"))"
#define USERSA_NS N ".substring(22).substring(0, " N ".substring(22).indexOf(\":\"))"
#define USERSA_NAME N ".substring(22).substring(" N ".substring(22).indexOf(\":\") + 1)"
#define GROUPNS \
    "(" K " == \"Group\" && " N ".startsWith(\"system:serviceaccounts:\") && size(" N ") > 23)"
#define EVERYONE_SUBJECT                                                                 \
    "((" K " == \"Group\" && " N " in [\"system:serviceaccounts\", "                     \
    "\"system:authenticated\", \"system:unauthenticated\"]) || (" K " == \"User\" && " N \
    " == \"system:anonymous\"))"
#define CLUSTER "(request.kind.kind == \"ClusterRoleBinding\")"

/* allowedRoles as two CEL values: "Kind/name" -> scope (1 namespace, 2 cluster, 3 any), and the
 * keys of the rows that allow crossNamespace. */
static int add_row(const char *key, void *ctx)
{
    rbac_cel *rc = ctx;
    const sa_role_row *row = sa_map_get(rc->g->p->bindings.allowed_roles, key);
    sa_buf_puts(&rc->scopes, rc->scopes.len > 1 ? ", " : "");
    gen_str(&rc->scopes, key);
    sa_buf_printf(&rc->scopes, ": %d", (int)row->scope);
    if (row->cross_namespace) {
        sa_buf_puts(&rc->cross, rc->cross.len > 1 ? ", " : "");
        gen_str(&rc->cross, key);
    }
    return 0;
}

/* audience roles: role name -> its rows, each [audience, "Kind\x1fname\x1fns" of each subject]. */
static void audience_rows(rbac_cel *rc)
{
    const sa_policy *p = rc->g->p;
    sa_buf_putc(&rc->audiences, '{');
    int first_role = 1;
    for (size_t i = 0; i < p->naudiences; i++)
        for (size_t r = 0; r < p->audiences[i].nroles; r++) {
            const char *role = p->audiences[i].roles[r];
            int seen = 0; /* a role named by several rows is written once, with all of them */
            for (size_t j = 0; j < i && !seen; j++)
                for (size_t q = 0; q < p->audiences[j].nroles; q++)
                    seen |= strcmp(p->audiences[j].roles[q], role) == 0;
            if (seen)
                continue;
            sa_buf_puts(&rc->audiences, first_role ? "" : ", ");
            first_role = 0;
            gen_str(&rc->audiences, role);
            sa_buf_puts(&rc->audiences, ": [");
            int first_row = 1;
            for (size_t j = i; j < p->naudiences; j++) {
                const sa_audience_row *row = &p->audiences[j];
                int names = 0;
                for (size_t q = 0; q < row->nroles; q++)
                    names |= strcmp(row->roles[q], role) == 0;
                if (!names)
                    continue;
                sa_buf_puts(&rc->audiences, first_row ? "[" : ", [");
                first_row = 0;
                gen_str(&rc->audiences, row->audience);
                for (size_t q = 0; q < row->nsubjects; q++) {
                    sa_buf one = SA_BUF_INIT;
                    sa_buf_printf(&one, "%s\x1f%s\x1f%s", row->subjects[q].kind,
                                  row->subjects[q].name, row->subjects[q].namespace_);
                    sa_buf_puts(&rc->audiences, ", ");
                    gen_str(&rc->audiences, sa_buf_str(&one));
                    sa_buf_free(&one);
                }
                sa_buf_putc(&rc->audiences, ']');
            }
            sa_buf_putc(&rc->audiences, ']');
        }
    sa_buf_putc(&rc->audiences, '}');
}

/* rule's violations of root's binding, or for rule -1, whether root binds a session subject
 * (sa_validate_binding_grants_session). */
static void binding_cel(gen *g, int rule, const char *root, sa_buf *out)
{
    const sa_policy *p = g->p;
    rbac_cel rc = {.g = g};
    sa_buf_printf(&rc.bns, "(%s ? \"\" : %s)", CLUSTER, GEN_NS);
    sa_buf_printf(&rc.refk, "%s.?roleRef.?kind.orValue(\"\")", root);
    sa_buf_printf(&rc.refn, "%s.?roleRef.?name.orValue(\"\")", root);
    gen_describe(&rc.what, "request.kind.kind", root);
    /* sa_validate_everyone_role: a ClusterRole by name, a Role as ns/name */
    sa_buf ern = SA_BUF_INIT, erq = SA_BUF_INIT, qualified = SA_BUF_INIT;
    gen_in_set(g, &ern, p->bindings.everyone_roles, sa_buf_str(&rc.refn));
    sa_buf_printf(&qualified, "(%s + \"/\" + %s)", sa_buf_str(&rc.bns), sa_buf_str(&rc.refn));
    gen_in_set(g, &erq, p->bindings.everyone_roles, sa_buf_str(&qualified));
    sa_buf_printf(&rc.everyone_role,
                  "(%s == \"ClusterRole\" ? %s : %s == \"Role\" && %s != \"\" ? %s : false)",
                  sa_buf_str(&rc.refk), sa_buf_str(&ern), sa_buf_str(&rc.refk), sa_buf_str(&rc.bns),
                  sa_buf_str(&erq));
    gen_in_set(g, &rc.ssa_n, p->bindings.session_service_accounts, N);
    gen_in_set(g, &rc.ssa_u, p->bindings.session_service_accounts, USERSA_NAME);
    gen_in_set(g, &rc.nsgroup, p->bindings.namespace_groups, N ".substring(23)");
    sa_buf_putc(&rc.scopes, '{');
    sa_buf_putc(&rc.cross, '[');
    size_t nkeys;
    const char **keys = gen_allowed_roles(g, &nkeys);
    for (size_t i = 0; i < nkeys; i++)
        add_row(keys[i], &rc);
    free(keys);
    sa_buf_putc(&rc.scopes, '}');
    sa_buf_putc(&rc.cross, ']');
    audience_rows(&rc);

    sa_buf idns = SA_BUF_INIT, rowkey = SA_BUF_INIT, scope = SA_BUF_INIT, sk = SA_BUF_INIT,
           who = SA_BUF_INIT, tmpl = SA_BUF_INIT;
    sa_buf_printf(&idns,
                  "(" K " == \"ServiceAccount\" ? (" SNS " != \"\" ? " SNS " : %s) : " USERSA
                  " ? " USERSA_NS " : " GROUPNS " ? " N ".substring(23) : \"\")",
                  sa_buf_str(&rc.bns));
    sa_buf_printf(&rowkey, "(%s + \"/\" + %s)", sa_buf_str(&rc.refk), sa_buf_str(&rc.refn));
    sa_buf_printf(&scope, "(%s in %s ? %s[%s] : 0)", sa_buf_str(&rowkey), sa_buf_str(&rc.scopes),
                  sa_buf_str(&rc.scopes), sa_buf_str(&rowkey));
    sa_buf_printf(&sk,
                  "(" K " + " GEN_SEP " + (" SNS " == \"\" && " K
                  " == \"ServiceAccount\" ? %s : " SNS ") + " GEN_SEP " + " N ")",
                  sa_buf_str(&rc.bns));
    sa_buf_printf(&who,
                  "(" K " == \"ServiceAccount\" ? \"ServiceAccount \" + %s + \"/\" + " N " : " K
                  " + \" \" + " N ")",
                  sa_buf_str(&idns));
    /* clang-format off */
    const gen_var vars[] = {
        {"K", K}, {"N", N}, {"SEP", GEN_SEP}, {"USERSA", USERSA}, {"USERSA_NAME", USERSA_NAME},
        {"GROUPNS", GROUPNS}, {"EVERYONE_SUBJECT", EVERYONE_SUBJECT}, {"CLUSTER", CLUSTER},
        {"SESSION_SA_N", sa_buf_str(&rc.ssa_n)}, {"SESSION_SA_U", sa_buf_str(&rc.ssa_u)},
        {"NSGROUP", sa_buf_str(&rc.nsgroup)}, {"BNS", sa_buf_str(&rc.bns)},
        {"REFK", sa_buf_str(&rc.refk)}, {"REFN", sa_buf_str(&rc.refn)},
        {"WHAT", sa_buf_str(&rc.what)}, {"SCOPES", sa_buf_str(&rc.scopes)},
        {"CROSS", sa_buf_str(&rc.cross)}, {"AUDIENCES", sa_buf_str(&rc.audiences)},
        {"IDNS", sa_buf_str(&idns)}, {"ROWKEY", sa_buf_str(&rowkey)}, {"SCOPE", sa_buf_str(&scope)},
        {"SK", sa_buf_str(&sk)}, {"WHO", sa_buf_str(&who)},
        {"IDKIND", "(" USERSA " ? \"ServiceAccount\" : " K ")"},
        {"IDNAME", "(" USERSA " ? " USERSA_NAME " : " N ")"},
        {"ISSA", "(" K " == \"ServiceAccount\" || " USERSA ")"},
        {NULL, NULL}};
    /* clang-format on */
    /* A session subject (validate_binding.c's session_subject): an identity of a session, in a
     * binding of a role that not everyone holds already. */
    sa_buf_printf(&tmpl, "!%s && (%s)", sa_buf_str(&rc.everyone_role), identity);
    gen_expand(g, &rc.session, sa_buf_str(&tmpl), vars);
    sa_buf_reset(&tmpl);
    if (rule < 0)
        sa_buf_printf(out, "%s.?subjects.orValue([]).exists(s, %s)", root, sa_buf_str(&rc.session));
    else if (rule == SA_RULE_RBAC_TOKEN_AUDIENCE)
        sa_buf_puts(&tmpl, token_audience);
    else
        /* CEL's grammar takes no bare conditional as a conditional's first branch */
        sa_buf_printf(&tmpl, "(%s) ? (%s) : []", sa_buf_str(&rc.session),
                      rule == SA_RULE_RBAC_SESSION_BINDING ? session_binding : cross_namespace);
    if (rule >= 0) {
        sa_buf_printf(out, "%s.?subjects.orValue([]).map(s, (", root);
        gen_expand(g, out, sa_buf_str(&tmpl), vars);
        sa_buf_puts(out, ").join(\"\\n\")).join(\"\\n\")");
    }

    sa_buf *all[] = {&rc.bns,       &rc.refk,  &rc.refn,   &rc.everyone_role,
                     &rc.session,   &rc.what,  &rc.scopes, &rc.cross,
                     &rc.audiences, &rc.ssa_n, &rc.ssa_u,  &rc.nsgroup,
                     &ern,          &erq,      &qualified, &idns,
                     &rowkey,       &scope,    &sk,        &who,
                     &tmpl};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        g->failed |= all[i]->oom;
        sa_buf_free(all[i]);
    }
}

void gen_binding_records(gen *g, sa_rule rule, const char *root, sa_buf *out)
{
    binding_cel(g, (int)rule, root, out);
}

void gen_binding_grants_session(gen *g, sa_buf *out)
{
    binding_cel(g, -1, "object", out);
}
