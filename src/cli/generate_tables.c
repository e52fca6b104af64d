/* generate_tables.c: the policy's tables as CEL values, for the Role rules (generate_role.c):
 * allowedRoles with their ceilings, the audiences table by audience and by role, and the core
 * group's resources. Literals only; which rule reads them is generate_role.c's business. */
#include "generate_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sa_map.h"
#include "sa_rbac.h"

/* A resource the core group serves (sa_rbac_core_resource), as CEL on a: with only "*" verbs,
 * such a resource is an API grant, not an audience. */
void gen_core_resource(sa_buf *out)
{
    const char *const *list;
    size_t n = sa_rbac_core_list(&list);
    sa_buf_puts(out, "(a in [");
    for (size_t i = 0; i < n; i++) {
        sa_buf_puts(out, i ? ", " : "");
        sa_cel_string(out, list[i]);
    }
    sa_buf_puts(out, "] || (a.startsWith(\"*/\") && size(a) > 2 && a.substring(2) in [");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(list[i], '/');
        int seen = 0;
        for (size_t j = 0; slash && j < i && !seen; j++) {
            const char *other = strchr(list[j], '/');
            seen = other && strcmp(other, slash) == 0;
        }
        if (!slash || seen)
            continue;
        sa_buf_puts(out, first ? "" : ", ");
        first = 0;
        sa_cel_string(out, slash + 1);
    }
    sa_buf_puts(out, "]))");
}

/* audience -> the roles its row names (role_grants). */
void gen_audience_table(gen *g, sa_buf *out)
{
    const sa_policy *p = g->p;
    sa_buf_putc(out, '{');
    int first = 1;
    for (size_t i = 0; i < p->naudiences; i++) {
        const sa_audience_row *row = &p->audiences[i];
        if (sa_map_get(p->audience_index, row->audience) != row)
            continue; /* the row the core finds for an audience named twice */
        sa_buf_puts(out, first ? "" : ", ");
        first = 0;
        sa_cel_string(out, row->audience);
        sa_buf_puts(out, ": [");
        for (size_t r = 0; r < row->nroles; r++) {
            sa_buf_puts(out, r ? ", " : "");
            sa_cel_string(out, row->roles[r]);
        }
        sa_buf_putc(out, ']');
    }
    sa_buf_putc(out, '}');
}

/* ---- the tables --------------------------------------------------------------------------- */

typedef struct rows_ctx {
    sa_buf *rows, *ceilings;
    int nceil;
    const sa_map *map;
} rows_ctx;

static void cel_rule(sa_buf *out, const cJSON *rule)
{
    static const char *const fields[] = {"verbs", "apiGroups", "resources", "resourceNames",
                                         "nonResourceURLs"};
    sa_buf_putc(out, '{');
    int first = 1;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(rule, fields[f]);
        if (!cJSON_IsArray(list) || !list->child)
            continue; /* a map of lists of strings only: CEL literals are homogeneous */
        sa_buf_printf(out, "%s\"%s\": [", first ? "" : ", ", fields[f]);
        first = 0;
        int firsti = 1;
        for (const cJSON *it = list->child; it; it = it->next)
            if (cJSON_IsString(it)) {
                sa_buf_puts(out, firsti ? "" : ", ");
                firsti = 0;
                sa_cel_string(out, it->valuestring);
            }
        sa_buf_putc(out, ']');
    }
    sa_buf_putc(out, '}');
}

/* allowedRoles: "Kind/name" -> the index of its ceiling in the ceilings list, or -1. */
static int add_row(const char *key, void *ctx)
{
    rows_ctx *rc = ctx;
    const sa_role_row *row = sa_map_get(rc->map, key);
    sa_buf_puts(rc->rows, rc->rows->len > 1 ? ", " : "");
    sa_cel_string(rc->rows, key);
    if (!row->ceiling) {
        sa_buf_puts(rc->rows, ": -1");
        return 0;
    }
    sa_buf_printf(rc->rows, ": %d", rc->nceil);
    sa_buf_puts(rc->ceilings, rc->nceil++ ? ", [" : "[");
    for (const cJSON *r = row->ceiling->child; r; r = r->next) {
        cel_rule(rc->ceilings, r);
        sa_buf_puts(rc->ceilings, r->next ? ", " : "");
    }
    sa_buf_putc(rc->ceilings, ']');
    return 0;
}

/* allowedRoles as CEL: "Kind/name" -> ceiling index, and the ceilings. */
void gen_role_tables(gen *g, sa_buf *rows, sa_buf *ceilings)
{
    size_t n;
    const char **keys = gen_allowed_roles(g, &n);
    rows_ctx rc = {rows, ceilings, 0, g->p->bindings.allowed_roles};
    sa_buf_putc(rows, '{');
    sa_buf_putc(ceilings, '[');
    for (size_t i = 0; i < n; i++)
        add_row(keys[i], &rc);
    sa_buf_putc(rows, '}');
    sa_buf_putc(ceilings, ']');
    free(keys);
}

/* Every role the audiences table names. */
void gen_audience_roles(gen *g, sa_buf *out)
{
    const sa_policy *p = g->p;
    sa_buf_putc(out, '[');
    int first = 1;
    for (size_t i = 0; i < p->naudiences; i++)
        for (size_t r = 0; r < p->audiences[i].nroles; r++, first = 0) {
            sa_buf_puts(out, first ? "" : ", ");
            sa_cel_string(out, p->audiences[i].roles[r]);
        }
    sa_buf_putc(out, ']');
}
