/* validate_token.c: TokenRequest on serviceaccounts/token (session-token-audience).
 *
 * Whoever asks (the session itself, the kubelet for a projected volume, a user with create on
 * serviceaccounts/token), a token minted for a session ServiceAccount may carry only the
 * audiences sessions.tokenAudiences lists, and the API server's own (sessions.apiAudiences): an
 * audience is where the token can be replayed. The ServiceAccount is request.name. The API server
 * has already replaced an empty audience list by its own audiences when the webhook is asked
 * (see sa_validate_session_audience), so the kubelet's token for every pod names them. */
#include "validate_internal.h"

#include <stdio.h>

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
        if (sa_json_str(a))
            sa_validate_session_audience(p, v, what, field, a->valuestring);
    }
}
