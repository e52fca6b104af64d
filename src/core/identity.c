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

/* The subjects every session is, whatever namespaceGroups says: every ServiceAccount
 * (system:serviceaccounts, kubernetes pkg/serviceaccount/util.go MakeGroupNames), every
 * authenticated identity (system:authenticated, added to every user by the authenticator
 * union, staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go),
 * and every request without credentials, which a session makes by leaving its token out: the
 * anonymous authenticator names it user system:anonymous in group system:unauthenticated
 * (staging/src/k8s.io/apiserver/pkg/authentication/request/anonymous/anonymous.go). */
static const struct {
    const char *kind, *name;
} everyone[] = {{"Group", SA_GROUP_PREFIX},
                {"Group", "system:authenticated"},
                {"Group", "system:unauthenticated"},
                {"User", "system:anonymous"}};

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
    for (size_t i = 0; i < sizeof everyone / sizeof everyone[0]; i++)
        if (strcmp(kind, everyone[i].kind) == 0 && strcmp(name, everyone[i].name) == 0) {
            id->all_namespaces = 1;
            return 1;
        }
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
    } else if (strcmp(kind, "Group") == 0 && has_prefix(name, SA_GROUP_PREFIX ":")) {
        const char *rest = name + strlen(SA_GROUP_PREFIX);
        if (!rest[1])
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
