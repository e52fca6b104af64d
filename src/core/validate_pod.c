/* validate_pod.c: Pod on /validate, the check after all mutation (session-pod), and the
 * projected token volumes of session pods (session-token-audience).
 *
 * The mutating webhook sets a session pod's ServiceAccount and key, but another mutating
 * webhook may run after it, and the mutation can be switched off: this is the guarantee that
 * what reaches etcd is right. Env is judged by name (forbiddenEnv takes globs). The names behind
 * envFrom cannot be seen by a webhook, so a session container taking a whole Secret as env is a
 * violation of its own (session-env-from-secret): it is how a forbidden credential would slip
 * past forbiddenEnv. A ConfigMap's keys are not credentials: allowed, unless the envFrom's
 * prefix, the part of the names the pod spec does write, can begin a forbiddenEnv name
 * (prefix GITHUB_ and a key TOKEN make GITHUB_TOKEN: kubernetes pkg/kubelet/kubelet_pods.go,
 * makeEnvironmentVariables, names each variable prefix + key). */
#include "validate_internal.h"

#include <stdio.h>
#include <string.h>

#include "sa_podkey.h"
#include "sa_pubkey.h"

/* Every container of every list is checked for forbidden env; which of them must carry the key
 * is sa_podkey's rule, the one the mutation follows. */
static const char *const container_lists[] = {"containers", "initContainers",
                                              "ephemeralContainers"};

typedef struct pod_ctx {
    const sa_snapshot *snap;
    sa_verdict *v;
    const char *what; /* "Pod ns/name" */
} pod_ctx;

static void judge_service_account(const pod_ctx *c, const cJSON *spec, const char *id)
{
    const sa_policy *p = c->snap->policy;
    sa_buf want = SA_BUF_INIT;
    if (sa_policy_session_sa(p, id, &want) < 0) {
        sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY("label", id),
                             "%s: label %s \"%s\" cannot form a ServiceAccount name from the "
                             "template %s (a DNS-1123 name is needed)",
                             c->what, p->sessions.label, id, p->sessions.sa_template);
    } else {
        /* The deprecated serviceAccount is judged only when present: it may be left out. */
        static const struct {
            const char *field;
            int required;
        } fields[] = {{"serviceAccountName", 1}, {"serviceAccount", 0}};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            const char *got = sa_json_string(spec, fields[i].field);
            if ((fields[i].required || sa_json_get(spec, fields[i].field)) &&
                strcmp(got, sa_buf_str(&want)) != 0)
                sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY(fields[i].field, got),
                                     "%s: spec.%s \"%s\" is not the session ServiceAccount %s",
                                     c->what, fields[i].field, got, sa_buf_str(&want));
        }
    }
    sa_buf_free(&want);
}

/* One container: forbidden env names and envFrom Secrets always; the key when it must carry it.
 * Values are never put in messages: env can hold secrets. */
static void judge_container(const pod_ctx *c, const cJSON *ctr, const char *where, int needs_key)
{
    const sa_policy *p = c->snap->policy;
    size_t i = 0;
    for (const cJSON *e = sa_validate_items(sa_json_get(ctr, "envFrom")); e; e = e->next, i++) {
        const cJSON *secret = sa_json_get(e, "secretRef");
        const char *prefix = sa_json_string(e, "prefix");
        if (*prefix && sa_nameset_match_prefix(p->sessions.forbidden_env, prefix))
            sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY(where, "envFrom-prefix", prefix),
                                 "%s: %s.envFrom[%zu] prefix %s can form a name in "
                                 "sessions.forbiddenEnv from the keys it takes",
                                 c->what, where, i, prefix);
        if (secret)
            sa_verdict_violation(c->v, SA_RULE_SESSION_ENV_FROM_SECRET,
                                 SA_KEY(where, "envFrom", sa_json_string(secret, "name")),
                                 "%s: %s.envFrom[%zu] takes every key of Secret \"%s\" as env, "
                                 "names sessions.forbiddenEnv cannot see",
                                 c->what, where, i, sa_json_string(secret, "name"));
    }
    const cJSON *key = NULL;
    for (const cJSON *e = sa_validate_items(sa_json_get(ctr, "env")); e; e = e->next) {
        const char *name = sa_json_str(sa_json_get(e, "name"));
        if (!name)
            continue;
        if (strcmp(name, p->sessions.key_env) == 0)
            key = e; /* the last of duplicates is the one the container sees */
        if (sa_nameset_match(p->sessions.forbidden_env, name))
            sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY(where, name),
                                 "%s: %s.env %s is in sessions.forbiddenEnv", c->what, where, name);
    }
    if (!needs_key)
        return;
    if (!key)
        sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY(where, "missing"),
                             "%s: %s.env %s is missing", c->what, where, p->sessions.key_env);
    else if (sa_json_get(key, "valueFrom"))
        sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY(where, "valueFrom"),
                             "%s: %s.env %s is set with valueFrom, not the current key", c->what,
                             where, p->sessions.key_env);
    else if (strcmp(sa_json_string(key, "value"), c->snap->key->pem) != 0)
        sa_verdict_violation(c->v, SA_RULE_SESSION_POD, SA_KEY(where, "stale"),
                             "%s: %s.env %s is not the current key (sha256 %.12s...)", c->what,
                             where, p->sessions.key_env, c->snap->key->fingerprint);
}

/* keys: the pod is a session pod, whose selected containers must carry the key. */
static void judge_containers(const pod_ctx *c, const cJSON *spec, int keys)
{
    for (size_t l = 0; l < sizeof container_lists / sizeof container_lists[0]; l++) {
        const char *list = container_lists[l];
        for (const cJSON *ctr = sa_validate_items(sa_json_get(spec, list)); ctr; ctr = ctr->next) {
            char where[320];
            snprintf(where, sizeof where, "spec.%s[%s]", list, sa_json_string(ctr, "name"));
            judge_container(c, ctr, where, keys && sa_podkey_carrier(c->snap->policy, list, ctr));
        }
    }
}

static void judge_token_volumes(const pod_ctx *c, const cJSON *spec)
{
    for (const cJSON *vol = sa_validate_items(sa_json_get(spec, "volumes")); vol; vol = vol->next) {
        size_t i = 0;
        for (const cJSON *src = sa_validate_items(sa_json_path(vol, "projected", "sources", NULL));
             src; src = src->next, i++) {
            const char *aud =
                sa_json_str(sa_json_path(src, "serviceAccountToken", "audience", NULL));
            if (!aud)
                continue;
            char field[320];
            snprintf(field, sizeof field,
                     "spec.volumes[%s].projected.sources[%zu].serviceAccountToken.audience",
                     sa_json_string(vol, "name"), i);
            sa_validate_session_audience(c->snap->policy, c->v, c->what, field, aud);
        }
    }
}

void sa_validate_pod(const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    const sa_policy *p = snap->policy;
    /* pods/status and pods/resize carry a spec they cannot change the judged parts of; judging
     * them would only block the kubelet on pods older than the policy. Ephemeral containers are
     * new containers: judged. For pods/ephemeralcontainers the API server sends the whole Pod,
     * object and oldObject (kubernetes pkg/registry/core/pod/storage/storage.go:
     * EphemeralContainersREST.New returns a Pod since 1.22), so it is judged like an UPDATE. */
    if (!r->object || (*r->sub_resource && strcmp(r->sub_resource, "ephemeralcontainers") != 0))
        return;
    const char *id =
        sa_json_str(sa_json_path(r->object, "metadata", "labels", p->sessions.label, NULL));
    const cJSON *spec = sa_json_get(r->object, "spec");
    char what[512];
    sa_validate_describe(r, what, sizeof what);
    pod_ctx c = {snap, v, what};
    if (!id) {
        /* Not a session pod, so it must not run as a session's identity either: that would give
         * it the session's grants without the session's checks. One that does (older than the
         * policy, so tolerated on UPDATE) still has its containers judged like a session pod's,
         * so an ephemeral container cannot bring a credential into it. */
        const char *sa = sa_json_string(spec, "serviceAccountName");
        if (!*sa)
            sa = sa_json_string(spec, "serviceAccount");
        if (!*sa || !sa_nameset_match(p->bindings.session_service_accounts, sa))
            return;
        sa_verdict_violation(v, SA_RULE_SESSION_POD, SA_KEY("unlabelled", sa),
                             "%s: spec.serviceAccountName \"%s\" is a session ServiceAccount "
                             "but the pod has no %s label",
                             what, sa, p->sessions.label);
        judge_containers(&c, spec, 0);
        return;
    }
    judge_service_account(&c, spec, id);
    judge_containers(&c, spec, 1);
    judge_token_volumes(&c, spec);
}
