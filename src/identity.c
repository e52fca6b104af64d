/* identity.c: a binding subject read as the identity RBAC matches it against (see
 * sa_identity.h). */
#include "sa_identity.h"

#include <string.h>

#include "sa_json.h"

/* RBAC matches a User subject against the username, and a ServiceAccount's username is
 * system:serviceaccount:<ns>:<name>: such a User subject binds the ServiceAccount itself. */
#define SA_USERNAME_PREFIX "system:serviceaccount:"
/* The groups every ServiceAccount is in: system:serviceaccounts and system:serviceaccounts:<ns>. */
#define SA_GROUP_PREFIX "system:serviceaccounts"
/* Every authenticated identity, so every session ServiceAccount too. */
#define AUTHENTICATED_GROUP "system:authenticated"

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int sa_identity_from_subject(const sa_policy *p, const cJSON *subject, const char *default_ns,
                             sa_identity *id)
{
    const char *kind = sa_json_string(subject, "kind");
    const char *name = sa_json_string(subject, "name");
    memset(id, 0, sizeof *id);
    id->kind = kind;
    id->name = name;
    if (strcmp(kind, "ServiceAccount") == 0) {
        const char *ns = sa_json_string(subject, "namespace");
        id->ns = *ns ? ns : default_ns; /* a RoleBinding's SA subject defaults to its namespace */
        id->ns_len = strlen(id->ns);
    } else if (strcmp(kind, "User") == 0 && has_prefix(name, SA_USERNAME_PREFIX)) {
        const char *ns = name + strlen(SA_USERNAME_PREFIX), *colon = strchr(ns, ':');
        if (!colon)
            return 0;
        id->kind = "ServiceAccount";
        id->ns = ns;
        id->ns_len = (size_t)(colon - ns);
        id->name = colon + 1;
    } else if (strcmp(kind, "Group") == 0 &&
               (has_prefix(name, SA_GROUP_PREFIX) || strcmp(name, AUTHENTICATED_GROUP) == 0)) {
        const char *rest = has_prefix(name, SA_GROUP_PREFIX) ? name + strlen(SA_GROUP_PREFIX) : "";
        if (!*rest) {
            /* Every ServiceAccount, so every session too, unless the policy counts no groups. */
            id->all_namespaces = 1;
            return sa_nameset_count(p->bindings.namespace_groups) > 0;
        }
        if (*rest != ':' || !rest[1])
            return 0;
        id->ns = rest + 1;
        id->ns_len = strlen(id->ns);
        return sa_nameset_match(p->bindings.namespace_groups, id->ns);
    } else {
        return 0;
    }
    id->service_account = 1;
    return *id->name && sa_nameset_match(p->bindings.session_service_accounts, id->name);
}
