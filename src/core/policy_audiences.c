/* policy_audiences.c: the policy's audiences table (see sa_policy.h): which roles grant each
 * audience, and the only subjects those roles may be bound to, loaded from the rows of
 * "audiences" with the role -> rows index the validators look up. Part of the policy module,
 * apart from policy.c because a row is a small schema of its own (required keys, subjects of
 * three kinds) with two indexes pointing into one array. */
#include "policy_audiences.h"

#include <stdlib.h>
#include <string.h>

static void subject_fini(sa_subject *s)
{
    free(s->kind);
    free(s->name);
    free(s->namespace_);
}

static void audience_row_fini(sa_audience_row *a)
{
    free(a->audience);
    for (size_t i = 0; i < a->nroles; i++)
        free(a->roles[i]);
    free(a->roles);
    for (size_t i = 0; i < a->nsubjects; i++)
        subject_fini(&a->subjects[i]);
    free(a->subjects);
}

/* The kinds of subject an audience row may be bound to; only a ServiceAccount has a namespace. */
typedef enum subject_kind {
    SUBJECT_USER,
    SUBJECT_GROUP,
    SUBJECT_SERVICE_ACCOUNT,
    SUBJECT_KINDS
} subject_kind;

static void load_subject(sa_yaml_errors *e, const sa_yaml_node *n, const char *spath,
                         sa_subject *out)
{
    static const char *const keys[] = {"kind", "name", "namespace", NULL};
    static const char *const kinds[SUBJECT_KINDS] = {[SUBJECT_USER] = "User",
                                                     [SUBJECT_GROUP] = "Group",
                                                     [SUBJECT_SERVICE_ACCOUNT] = "ServiceAccount"};
    if (sa_schema_want_type(e, n, spath, SA_YAML_MAP) < 0)
        return;
    sa_schema_known_keys(e, n, spath, keys);
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *v;
    int kind = -1;
    if ((v = sa_schema_required(e, n, spath, "kind", "User, Group or ServiceAccount", path)))
        kind = sa_schema_want_enum(e, v, path, kinds, SUBJECT_KINDS);
    if ((v = sa_schema_required(e, n, spath, "name", "the subject's name", path)))
        out->name = sa_schema_dup_name(e, v, path);
    sa_schema_join_path(path, spath, "namespace");
    v = sa_yaml_member(n, "namespace");
    if (kind == SUBJECT_SERVICE_ACCOUNT && !v)
        SA_YAML_NODE_ERROR(e, n, "%s: missing key 'namespace' (a ServiceAccount subject needs one)",
                           spath);
    else if (kind >= 0 && kind != SUBJECT_SERVICE_ACCOUNT && v)
        SA_YAML_NODE_ERROR(e, v, "%s: only a ServiceAccount subject has a namespace", path);
    else if (v)
        out->namespace_ = sa_schema_dup_name(e, v, path);
    if (kind < 0)
        return;
    out->kind = strdup(kinds[kind]);
    if (!out->namespace_ && kind != SUBJECT_SERVICE_ACCOUNT)
        out->namespace_ = strdup("");
    if (!out->kind || (kind != SUBJECT_SERVICE_ACCOUNT && !out->namespace_))
        SA_YAML_NODE_ERROR(e, n, "out of memory");
}

/* The role -> rows index: one list per role, a row pointer per audience granting it. */
static void audience_list_free(void *v)
{
    sa_audience_list *list = v;
    free(list->rows);
    free(list);
}

static int index_role(sa_map *roles, const char *role, const sa_audience_row *row)
{
    sa_audience_list *list = sa_map_get(roles, role);
    if (!list) {
        if (!(list = calloc(1, sizeof *list)))
            return -1;
        if (sa_map_put(roles, role, list) != 0) {
            free(list);
            return -1;
        }
    }
    const sa_audience_row **rows = realloc(list->rows, (list->n + 1) * sizeof *rows);
    if (!rows)
        return -1;
    rows[list->n++] = row;
    list->rows = rows;
    return 0;
}

static void load_audience_row(sa_yaml_errors *e, const sa_yaml_node *row, const char *rpath,
                              sa_policy *p)
{
    static const char *const keys[] = {"audience", "roles", "subjects", NULL};
    sa_audience_row *a = &p->audiences[p->naudiences++];
    if (sa_schema_want_type(e, row, rpath, SA_YAML_MAP) < 0)
        return;
    sa_schema_known_keys(e, row, rpath, keys);
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *n;

    if ((n = sa_schema_required(e, row, rpath, "audience", "the audience string", path))) {
        const char *aud = sa_schema_want_exact(e, n, path, "each audience is granted by name");
        if (aud && !(a->audience = strdup(aud)))
            SA_YAML_NODE_ERROR(e, n, "out of memory");
        int rc = a->audience ? sa_map_put(p->audience_index, a->audience, a) : 0;
        if (rc == 1)
            SA_YAML_NODE_ERROR(e, n, "%s: duplicate row for audience '%s'", path, a->audience);
        else if (rc < 0)
            SA_YAML_NODE_ERROR(e, n, "out of memory");
    }

    n = sa_schema_required_list(e, row, rpath, "roles", "the roles granting it", path);
    if (n && (a->roles = calloc(n->n ? n->n : 1, sizeof *a->roles)))
        for (size_t i = 0; i < n->n; i++) {
            char ipath[SA_SCHEMA_PATH_LEN];
            sa_schema_path(ipath, "%s[%zu]", path, i);
            const char *role =
                sa_schema_want_exact(e, n->items[i], ipath, "roles are looked up by name");
            if (!role)
                continue;
            for (size_t j = 0; j < a->nroles; j++)
                if (!strcmp(a->roles[j], role)) {
                    SA_YAML_NODE_ERROR(e, n->items[i], "%s: duplicate entry '%s'", ipath, role);
                    role = NULL;
                    break;
                }
            if (!role)
                continue;
            if (!(a->roles[a->nroles] = strdup(role)) ||
                index_role(p->audience_roles, role, a) < 0) {
                SA_YAML_NODE_ERROR(e, n->items[i], "out of memory");
                free(a->roles[a->nroles]);
                continue;
            }
            a->nroles++;
        }

    n = sa_schema_required_list(e, row, rpath, "subjects", "who may be bound", path);
    if (n && (a->subjects = calloc(n->n ? n->n : 1, sizeof *a->subjects)))
        for (size_t i = 0; i < n->n; i++) {
            char ipath[SA_SCHEMA_PATH_LEN];
            sa_schema_path(ipath, "%s[%zu]", path, i);
            load_subject(e, n->items[i], ipath, &a->subjects[a->nsubjects++]);
        }
}

void sa_policy_audiences_load(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p)
{
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *rows = sa_schema_field(top, "audiences", path);
    p->audience_index = sa_map_new();
    p->audience_roles = sa_map_new();
    if (!p->audience_index || !p->audience_roles) {
        SA_YAML_NODE_ERROR(e, rows, "out of memory");
        return;
    }
    if (sa_schema_want_type(e, rows, path, SA_YAML_LIST) < 0)
        return;
    /* Rows are pointed at by both indexes, so the array is sized once and never moves. */
    if (!(p->audiences = calloc(rows->n ? rows->n : 1, sizeof *p->audiences))) {
        SA_YAML_NODE_ERROR(e, rows, "out of memory");
        return;
    }
    for (size_t i = 0; i < rows->n; i++) {
        char rpath[SA_SCHEMA_PATH_LEN];
        sa_schema_path(rpath, "%s[%zu]", path, i);
        load_audience_row(e, rows->items[i], rpath, p);
    }
}

void sa_policy_audiences_free(sa_policy *p)
{
    for (size_t i = 0; i < p->naudiences; i++)
        audience_row_fini(&p->audiences[i]);
    free(p->audiences);
    sa_map_free(p->audience_index, NULL);
    sa_map_free(p->audience_roles, audience_list_free);
}
