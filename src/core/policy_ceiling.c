/* policy_ceiling.c: the ceiling of an allowedRoles row: the rules the role may grant at most,
 * whoever writes it (see sa_policy.h).
 *
 * DELETE is never sent to validation, so a guarded role deleted and created again is judged
 * only as a CREATE: without a ceiling that CREATE is held only to the escalation list, and could
 * grant anything else every session would then hold. A ceiling holds CREATE and UPDATE alike.
 * The rules are kept as the JSON an API server would send, so the RBAC model (sa_rbac.h) reads
 * them exactly as it reads a role's own rules. */
#include "policy_ceiling.h"

#include <stdlib.h>
#include <string.h>

#include "sa_schema.h"

/* The rules OpenShift gives its roles (openshift/origin pkg/cmd/server/bootstrappolicy/policy.go,
 * ImagePullerRoleName and ImageBuilderRoleName, in the legacy group "" and the API group
 * alike), and no more: the ceiling of a row naming one of them that sets none. */
static const struct {
    const char *kind, *name, *rules;
    /* clang-format off */
} known[] = {
    {"ClusterRole", "system:image-puller",
     "[{\"apiGroups\":[\"\",\"image.openshift.io\"],\"resources\":[\"imagestreams/layers\"],"
     "\"verbs\":[\"get\"]}]"},
    {"ClusterRole", "system:image-builder",
     "[{\"apiGroups\":[\"\",\"image.openshift.io\"],\"resources\":[\"imagestreams/layers\"],"
     "\"verbs\":[\"get\",\"update\"]},"
     "{\"apiGroups\":[\"\",\"image.openshift.io\"],\"resources\":[\"imagestreams\"],"
     "\"verbs\":[\"create\"]},"
     "{\"apiGroups\":[\"\",\"build.openshift.io\"],\"resources\":[\"builds/details\"],"
     "\"verbs\":[\"update\"]},"
     "{\"apiGroups\":[\"\",\"build.openshift.io\"],\"resources\":[\"builds\"],\"verbs\":[\"get\"]}]"},
};
/* clang-format on */

/* A PolicyRule's list fields, as Kubernetes names them. */
static const char *const rule_keys[] = {"apiGroups",       "resources", "resourceNames",
                                        "nonResourceURLs", "verbs",     NULL};

/* One list of strings of a ceiling rule, into obj under key. Returns its length, or -1 after
 * recording an error. */
static int read_list(sa_yaml_errors *e, const sa_yaml_node *list, const char *path, const char *key,
                     cJSON *obj)
{
    if (sa_schema_want_type(e, list, path, SA_YAML_LIST) < 0)
        return -1;
    cJSON *arr = cJSON_AddArrayToObject(obj, key);
    int bad = !arr;
    for (size_t i = 0; arr && i < list->n; i++) {
        char ipath[SA_SCHEMA_PATH_LEN];
        sa_schema_path(ipath, "%s[%zu]", path, i);
        /* The empty group "" is the core group; every other empty string names nothing. */
        const char *v = sa_schema_want_string(e, list->items[i], ipath, "a string");
        if (!v || (!*v && strcmp(key, "apiGroups") != 0)) {
            if (v)
                sa_schema_expected(e, list->items[i], ipath, "a non-empty string");
            bad = 1;
            continue;
        }
        cJSON *s = cJSON_CreateString(v);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            bad = 1;
        }
    }
    return bad ? -1 : (int)list->n;
}

/* One rule of a ceiling: verbs, and resources (with apiGroups) or nonResourceURLs, as an API
 * server requires of a PolicyRule (pkg/apis/rbac/validation/validation.go, ValidatePolicyRule). */
static cJSON *read_rule(sa_yaml_errors *e, const sa_yaml_node *row, const char *rpath)
{
    if (sa_schema_want_type(e, row, rpath, SA_YAML_MAP) < 0)
        return NULL;
    sa_schema_known_keys(e, row, rpath, rule_keys);
    cJSON *obj = cJSON_CreateObject();
    int counts[5] = {0}, bad = !obj;
    for (size_t k = 0; obj && rule_keys[k]; k++) {
        const sa_yaml_node *n = sa_yaml_member(row, rule_keys[k]);
        char path[SA_SCHEMA_PATH_LEN];
        sa_schema_join_path(path, rpath, rule_keys[k]);
        if (n && (counts[k] = read_list(e, n, path, rule_keys[k], obj)) < 0)
            bad = 1;
    }
    if (!bad && !counts[4]) {
        SA_YAML_NODE_ERROR(e, row, "%s: a ceiling rule needs verbs", rpath);
        bad = 1;
    } else if (!bad && !counts[1] == !counts[3]) {
        SA_YAML_NODE_ERROR(
            e, row, "%s: a ceiling rule names resources or nonResourceURLs, one of the two", rpath);
        bad = 1;
    }
    if (bad) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* Reads the rules of row->ceiling once for every question the validators ask of them. */
static int read_rules(sa_role_row *row)
{
    row->nceiling = (size_t)cJSON_GetArraySize(row->ceiling);
    row->ceiling_rules = calloc(row->nceiling ? row->nceiling : 1, sizeof *row->ceiling_rules);
    if (!row->ceiling_rules)
        return -1;
    size_t i = 0;
    for (const cJSON *r = row->ceiling->child; r; r = r->next)
        sa_rbac_rule_read(&row->ceiling_rules[i++], r);
    return 0;
}

void sa_policy_ceiling_load(sa_yaml_errors *e, const sa_yaml_node *at, const sa_yaml_node *n,
                            const char *path, sa_role_row *row)
{
    if (!n) {
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strcmp(known[i].kind, row->kind) == 0 && strcmp(known[i].name, row->name) == 0)
                row->ceiling = cJSON_Parse(known[i].rules);
        if (row->ceiling && read_rules(row) == 0)
            return;
        if (row->ceiling)
            SA_YAML_NODE_ERROR(e, at, "out of memory");
        return;
    }
    if (sa_schema_want_type(e, n, path, SA_YAML_LIST) < 0)
        return;
    row->ceiling = cJSON_CreateArray();
    int bad = !row->ceiling;
    for (size_t i = 0; row->ceiling && i < n->n; i++) {
        char rpath[SA_SCHEMA_PATH_LEN];
        sa_schema_path(rpath, "%s[%zu]", path, i);
        cJSON *rule = read_rule(e, n->items[i], rpath);
        if (!rule || !cJSON_AddItemToArray(row->ceiling, rule)) {
            cJSON_Delete(rule);
            bad = 1;
        }
    }
    if (!bad && read_rules(row) < 0)
        SA_YAML_NODE_ERROR(e, n, "out of memory");
}

void sa_policy_ceiling_free(sa_role_row *row)
{
    cJSON_Delete(row->ceiling);
    free(row->ceiling_rules);
    row->ceiling = NULL;
    row->ceiling_rules = NULL;
}
