/* validate_common.c: the helpers every validator shares (see validate_internal.h), kept in one
 * place so messages name objects the same way and audiences are judged by one rule. */
#include "validate_internal.h"

#include <stdio.h>
#include <string.h>

const cJSON *sa_validate_items(const cJSON *arr)
{
    return cJSON_IsArray(arr) ? arr->child : NULL;
}

void sa_validate_describe(const sa_review *r, char *out, size_t cap)
{
    const cJSON *meta = sa_json_get(r->object, "metadata");
    const char *name = sa_json_string(meta, "name"), *star = "";
    if (!*name)
        name = r->name;
    if (!*name) {
        /* A generated name is not known yet: show its prefix so the object can be found. */
        name = sa_json_string(meta, "generateName");
        star = "*";
    }
    if (*r->namespace_)
        snprintf(out, cap, "%s %s/%s%s", r->kind, r->namespace_, name, star);
    else
        snprintf(out, cap, "%s %s%s", r->kind, name, star);
}

/* The API server fills an empty spec.audiences with its own audiences (--api-audiences) before
 * validating admission runs (kubernetes pkg/registry/core/serviceaccount/storage/token.go,
 * TokenREST.Create: "Default unset spec audiences to API server audiences", then
 * createValidation), so every kubelet kube-api-access token arrives naming them. A token for the
 * API server itself is what every pod gets: always allowed. */
void sa_validate_session_audience(const sa_policy *p, sa_verdict *v, const char *what,
                                  const char *field, const char *aud)
{
    if (*aud && !sa_nameset_match(p->sessions.token_audiences, aud) &&
        !sa_nameset_match(p->sessions.api_audiences, aud))
        sa_verdict_violation(
            v, SA_RULE_SESSION_TOKEN_AUDIENCE, SA_KEY(aud),
            "%s: %s \"%s\" is not in sessions.tokenAudiences nor sessions.apiAudiences", what,
            field, aud);
}

int sa_validate_everyone_role(const sa_policy *p, const char *kind, const char *ns,
                              const char *name)
{
    if (strcmp(kind, "ClusterRole") == 0)
        return sa_nameset_match(p->bindings.everyone_roles, name);
    if (strcmp(kind, "Role") != 0 || !*ns)
        return 0;
    sa_buf key = SA_BUF_INIT;
    sa_buf_printf(&key, "%s/%s", ns, name);
    int listed = !key.oom && sa_nameset_match(p->bindings.everyone_roles, key.data);
    sa_buf_free(&key);
    return listed;
}
