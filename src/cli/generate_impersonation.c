/* generate_impersonation.c: rbac-impersonation's CEL (validate_role.c's impersonation check, asked
 * of sa_rbac.h's model): which kinds of identity a rule lets its holder impersonate, and whether
 * the policy's impersonation table allows each, one clause per clause of rbac.c's impersonation
 * modes. Part of generate_role.c's records, split off as the one rule with its own table. */
#include "generate_role.h"

#include <stdio.h>
#include <string.h>

#include "sa_rbac.h"

/* Whether the rule grants impersonation of kind k (sa_rbac_impersonation), in a Role only a
 * ServiceAccount (asked in its namespace; every other identity cluster-wide). */
void gen_role_grants_kind(sa_buf *out, unsigned k)
{
    sa_buf_puts(out, (1u << k) == SA_RBAC_IMP_SERVICEACCOUNTS ? "((" : "(!" ISROLE " && (");
    sa_rbac_imp_kind kind;
    sa_rbac_request q;
    int first = 1;
    for (size_t i = 0; sa_rbac_imp_check(i, &kind, &q); i++) {
        if ((unsigned)kind != k)
            continue;
        sa_buf_puts(out, first ? "" : " || ");
        first = 0;
        gen_role_allows(out, &q);
    }
    sa_buf_puts(out, first ? "false))" : "))");
}

static const char *const imp_nouns[SA_RBAC_IMP_KINDS] = {
    "user", "group", "ServiceAccount", "user extra value", "uid", "node", "associated node"};

/* One identity n of kind k (extra: the user extra key's CEL, or NULL) the rule grants. */
static void judge_identity(role_cel *rc, sa_buf *out, unsigned k, const char *extra)
{
    const sa_policy *p = rc->g->p;
    int kind_ok = (p->impersonation.resources >> k) & 1u;
    sa_buf name_ok = SA_BUF_INIT, who = SA_BUF_INIT, why = SA_BUF_INIT, t = SA_BUF_INIT,
           key = SA_BUF_INIT;
    sa_buf_puts(&name_ok, "(n != \"*\" && ");
    gen_in_set(rc->g, &name_ok, p->impersonation.names, "n");
    sa_buf_putc(&name_ok, ')');
    if (extra)
        sa_buf_printf(&who, "\"%s \\\"\" + n + \"\\\" of \" + %s", imp_nouns[k], extra);
    else if ((1u << k) != SA_RBAC_IMP_SERVICEACCOUNTS)
        sa_buf_printf(&who, "\"%s \\\"\" + n + \"\\\"\"", imp_nouns[k]);
    else
        sa_buf_puts(
            &who,
            "(" ISROLE " ? \"ServiceAccount \" + " GEN_NS " + \"/\" + n + \" (a Role reaches "
            "only the ServiceAccounts of its own namespace)\" : \"ServiceAccounts named \\\"\" + "
            "n + \"\\\" in every namespace it is bound for\")");
    const char *name_why =
        "(n == \"*\" ? \"resourceNames \\\"*\\\" is a wildcard (the API server asks "
        "for \\\"*\\\" to grant a whole list at once), never allowed\" : \"the name is "
        "not in impersonation.names\")";
    if (kind_ok)
        sa_buf_puts(&why, name_why);
    else
        sa_buf_printf(&why,
                      "\"%s is not in impersonation.resources\" + (%s ? \"\" : \", and \" + %s)",
                      sa_rbac_imp_name(k), sa_buf_str(&name_ok), name_why);
    sa_buf_printf(&key, "\"impersonate\" + ${SEP} + \"%s\" + ${SEP} + %s + ${SEP} + n",
                  sa_rbac_imp_name(k), extra ? extra : "\"\"");
    sa_buf_printf(&t,
                  "(%s) ? \"\" : %s + \"\\t\" + ${WHAT} + \": \" + ${WHERE} + ${STAR} + \" grants "
                  "impersonation of \" + %s + \": \" + %s",
                  kind_ok ? sa_buf_str(&name_ok) : "false", sa_buf_str(&key), sa_buf_str(&who),
                  sa_buf_str(&why));
    gen_role_expand(rc, out, sa_buf_str(&t), NULL, NULL);
    sa_buf *all[] = {&name_ok, &who, &why, &t, &key};
    for (size_t i = 0; i < 5; i++) {
        rc->g->failed |= all[i]->oom;
        sa_buf_free(all[i]);
    }
}

/* judge_kind: every name (no resourceNames), or each name. */
static void judge_kind(role_cel *rc, sa_buf *out, unsigned k, const char *extra)
{
    sa_buf t = SA_BUF_INIT;
    sa_buf_printf(
        &t,
        "(size(${NM}) == 0 ? \"impersonate\" + ${SEP} + \"%s\" + ${SEP} + %s + ${SEP} + "
        "\"\\t\" + ${WHAT} + \": \" + ${WHERE} + ${STAR} + \" grants impersonation of every %s\" + %s + "
        "\"%s (no resourceNames, which means every name)\" : ${NM}.map(n, ",
        sa_rbac_imp_name(k), extra ? extra : "\"\"", imp_nouns[k], extra ? "\" of \" + ek" : "\"\"",
        (1u << k) == SA_RBAC_IMP_SERVICEACCOUNTS
            ? "\" + (${ISROLE} ? \" of its own namespace\" : \"\") + \""
            : "");
    gen_role_expand(rc, out, sa_buf_str(&t), NULL, NULL);
    judge_identity(rc, out, k, extra);
    sa_buf_puts(out, ").join(\"\\n\"))");
    rc->g->failed |= t.oom;
    sa_buf_free(&t);
}

/* The user extra keys the rule's resources reach (extra_key in validate_role.c). */
#define EXTRA_KEYS                                                                                          \
    RS ".filter(x, x == \"*\" || (x.indexOf(\"/\") > 0 && x.indexOf(\"/\") < size(x) - 1 && "               \
       "x.substring(0, x.indexOf(\"/\")) in [\"*\", \"userextras\"])).map(x, x == \"*\" ? \"every key\" : " \
       "x.substring(x.indexOf(\"/\") + 1))"

void gen_role_impersonation(role_cel *rc, sa_buf *out)
{
    const sa_policy *p = rc->g->p;
    size_t nmodes;
    const char *const *modes = sa_rbac_imp_modes(&nmodes);
    sa_buf known = SA_BUF_INIT, t = SA_BUF_INIT;
    sa_buf_puts(&known, "v == \"impersonate\" || v in [");
    for (size_t i = 0; i < nmodes; i++)
        sa_buf_printf(&known, "%s\"impersonate:%s\"", i ? ", " : "", modes[i]);
    sa_buf_puts(&known, "] || [");
    for (size_t i = 0; i < nmodes; i++)
        sa_buf_printf(&known, "%s\"%s\"", i ? ", " : "", modes[i]);
    sa_buf_puts(
        &known,
        "].exists(m, v.startsWith(\"impersonate-on:\" + m + \":\") && size(v) > 16 + size(m))");
    sa_buf_printf(
        &t,
        "[[${V}.filter(v, v.startsWith(\"impersonate\") && !(%s))].map(l, size(l) == 0 ? \"\" : "
        "\"verb\" + ${SEP} + l[0] + \"\\t\" + ${WHAT} + \": \" + ${WHERE} + \": verbs \\\"\" + l[0] + "
        "\"\\\" starts with \\\"impersonate\\\" but is none of the API server's impersonation "
        "verbs (impersonate, impersonate:<user-info|serviceaccount|arbitrary-node|"
        "associated-node>, impersonate-on:<mode>:<verb>): refused, since what it grants "
        "cannot be judged\")[0]",
        sa_buf_str(&known));
    gen_role_expand(rc, out, sa_buf_str(&t), NULL, NULL);
    for (unsigned k = 0; k < SA_RBAC_IMP_KINDS; k++) {
        sa_buf_puts(out, ", (");
        gen_role_grants_kind(out, k);
        sa_buf_puts(out, " ? ");
        if ((1u << k) == SA_RBAC_IMP_ASSOCIATED_NODE) {
            /* always asked with the name "*": granted by kind, never by name */
            if (p->impersonation.resources & SA_RBAC_IMP_ASSOCIATED_NODE)
                sa_buf_puts(out, "\"\"");
            else
                gen_role_expand(
                    rc, out,
                    "\"impersonate\" + ${SEP} + \"associated-node\" + \"\\t\" + ${WHAT} + \": \" + "
                    "${WHERE} + ${STAR} + \" grants impersonate:associated-node (a ServiceAccount "
                    "acting as the node its pod runs on): associated-node is not in "
                    "impersonation.resources\"",
                    NULL, NULL);
        } else if ((1u << k) == SA_RBAC_IMP_USEREXTRAS) {
            /* each extra key an identity of its own; too many keys x names refused whole */
            gen_role_expand(
                rc, out,
                "[" EXTRA_KEYS "].map(eks, size(${NM}) > 1 && size(eks) > ${MAX} / size(${NM}) ? "
                "${NONE} + ${WHAT} + \": \" + ${WHERE} + ${STAR} + \" grants impersonation of user "
                "extra values on \" + string(size(eks)) + \" resources x \" + string(size(${NM})) + "
                "\" resourceNames, more than ${MAX} to judge\" : eks.map(ek, ",
                NULL, NULL);
            judge_kind(rc, out, k, "ek");
            sa_buf_puts(out, ").join(\"\\n\"))[0]");
        } else {
            judge_kind(rc, out, k, NULL);
        }
        sa_buf_puts(out, " : \"\")");
    }
    sa_buf_puts(out, "].join(\"\\n\")");
    rc->g->failed |= known.oom | t.oom;
    sa_buf_free(&known);
    sa_buf_free(&t);
}
