/* validate_token.c: TokenRequest on serviceaccounts/token (session-token-audience).
 *
 * Whoever asks (the session itself, the kubelet for a projected volume, a user with create on
 * serviceaccounts/token), a token minted for a session ServiceAccount may carry only the
 * audiences sessions.tokenAudiences lists, and the API server's own (sessions.apiAudiences): an
 * audience is where the token can be replayed. The ServiceAccount is request.name. The API server
 * has already replaced an empty audience list by its own audiences when the webhook is asked
 * (see sa_validate_session_audience), so the kubelet's token for every pod names them.
 *
 * One more case is the kubelet's own: to pull a pod's image with a credential provider that
 * takes ServiceAccount tokens (KEP-4412), the kubelet asks for a token of the pod's
 * ServiceAccount with the provider's audience, bound to that pod (kubernetes
 * pkg/credentialprovider/plugin/plugin.go, getServiceAccountToken: Audiences {audience},
 * BoundObjectRef {v1, Pod, name, uid}). The audiences table already says who may ask for such an
 * audience (a row's subjects, e.g. group system:nodes), so an audience a row lists is allowed
 * when one of that row's subjects asks and the token is bound to a Pod; the API server itself
 * checks that the pod runs as the ServiceAccount and, for a node, is on that node. */
#include "validate_internal.h"

#include <stdio.h>
#include <string.h>

#define SA_USERNAME_PREFIX "system:serviceaccount:"

/* Whether the request's user is the row's subject s, as RBAC would match it as a subject. */
static int requester_is(const sa_review *r, const sa_subject *s)
{
    if (strcmp(s->kind, "User") == 0)
        return strcmp(r->username, s->name) == 0;
    if (strcmp(s->kind, "Group") == 0)
        return sa_review_in_group(r, s->name);
    size_t plen = strlen(SA_USERNAME_PREFIX), nslen = strlen(s->namespace_);
    const char *u = r->username;
    return strncmp(u, SA_USERNAME_PREFIX, plen) == 0 &&
           strncmp(u + plen, s->namespace_, nslen) == 0 && u[plen + nslen] == ':' &&
           strcmp(u + plen + nslen + 1, s->name) == 0;
}

/* Judges an audience of the audiences table: allowed in a pod-bound token one of its row's
 * subjects asks for (the kubelet's image-pull token, see the top of the file), else refused
 * saying so. */
static void judge_table_audience(const sa_review *r, const sa_audience_row *row, sa_verdict *v,
                                 const char *what, const char *field)
{
    if (strcmp(sa_json_string(sa_json_path(r->object, "spec", "boundObjectRef", NULL), "kind"),
               "Pod") == 0)
        for (size_t i = 0; i < row->nsubjects; i++)
            if (requester_is(r, &row->subjects[i]))
                return;
    sa_verdict_violation(
        v, SA_RULE_SESSION_TOKEN_AUDIENCE, SA_KEY(row->audience),
        "%s: %s \"%s\" is not in sessions.tokenAudiences nor sessions.apiAudiences, "
        "and the audiences table allows it only in a token bound to a Pod that "
        "one of its listed subjects asks for (user %s did)",
        what, field, row->audience, r->username);
}

void sa_validate_token_request(const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    const sa_policy *p = snap->policy;
    if (!r->object || !sa_nameset_match(p->bindings.session_service_accounts, r->name))
        return;
    char what[512];
    /* The TokenRequest object carries no name of its own: it is named for its ServiceAccount. */
    snprintf(what, sizeof what, "TokenRequest for ServiceAccount %s/%s", r->namespace_, r->name);
    size_t i = 0;
    for (const cJSON *a = sa_validate_items(sa_json_path(r->object, "spec", "audiences", NULL)); a;
         a = a->next, i++) {
        char field[48];
        snprintf(field, sizeof field, "spec.audiences[%zu]", i);
        const char *aud = sa_json_str(a);
        if (!aud)
            continue;
        const sa_audience_row *row = sa_map_get(p->audience_index, aud);
        if (row && !sa_nameset_match(p->sessions.token_audiences, aud) &&
            !sa_nameset_match(p->sessions.api_audiences, aud))
            judge_table_audience(r, row, v, what, field);
        else
            sa_validate_session_audience(p, v, what, field, aud);
    }
}
