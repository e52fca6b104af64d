/* mutate.c: the session pod mutation (see sa_mutate.h).
 *
 * Decisions the contract leaves open, and why:
 * - Only CREATE of the pod itself is mutated: a pod's serviceAccountName and containers' env are
 *   immutable afterwards, and ephemeral containers (added later through a subresource) are
 *   neither visible nor patchable here.
 * - "default" or no ServiceAccount is always replaced; any other name that is not the session's
 *   own (another session's SA included) is a mismatch, overridden or denied per onMismatch
 *   (denied only in enforce mode: in warn or audit mode it is reported and overridden).
 *   The deprecated spec.serviceAccount is set too when present, and left absent when absent.
 * - automountServiceAccountToken is left alone: whether the runner needs an API token is the
 *   control plane's decision, not this webhook's.
 * - Which containers get the key (init containers per initContainers, native sidecars always)
 *   is sa_podkey's rule, the one the pod validator checks.
 * - Several env entries with the key's name: Kubernetes lets the last one win, so replacing only
 *   the first would leave a stale key in force. The first is made right (keeping its place) and
 *   the later ones are removed.
 * - An env entry is right only as {name, value: current PEM} without valueFrom. */
#include "sa_mutate.h"

#include <string.h>

#include "sa_patch.h"
#include "sa_podkey.h"
#include "sa_policy.h"
#include "sa_pubkey.h"

/* Label values shown in messages are cut: mutation runs before the API server's own
 * validation, so a value may be of any length. */
#define SHOWN_MAX 80

static int is_object(const cJSON *item)
{
    return cJSON_IsObject(item);
}

/* "ns/name", or "ns/generateName*" for a pod whose name the API server has yet to generate. */
static void pod_ref(const sa_review *r, sa_buf *out)
{
    const cJSON *meta = sa_json_get(r->object, "metadata");
    const char *name = sa_json_string(meta, "name");
    sa_buf_printf(out, "%s/", r->namespace_);
    if (*name)
        sa_buf_puts(out, name);
    else
        sa_buf_printf(out, "%s*", sa_json_string(meta, "generateName"));
}

/* The desired env entry as JSON: {"name":ENV,"value":PEM}. */
static void env_entry(const sa_policy *p, const sa_pubkey *key, sa_buf *out)
{
    sa_buf_puts(out, "{\"name\":");
    sa_buf_json_string(out, p->sessions.key_env);
    sa_buf_puts(out, ",\"value\":");
    sa_buf_puts(out, key->pem_json);
    sa_buf_putc(out, '}');
}

static int env_is_current(const cJSON *e, const sa_pubkey *key)
{
    const char *value = sa_json_str(sa_json_get(e, "value"));
    return value && strcmp(value, key->pem) == 0 && !sa_json_get(e, "valueFrom");
}

/* Appends "/index" to the pointer base, does one operation on it, and cuts base back. */
static void op_at_index(sa_patch *patch, const char *op, sa_buf *base, size_t index,
                        const char *value_json)
{
    size_t len = base->len;
    sa_patch_pointer_push_index(base, index);
    sa_patch_op(patch, op, sa_buf_str(base), value_json);
    if (base->data) {
        base->len = len;
        base->data[len] = '\0';
    }
}

/* Brings one container's env to the desired state. base is its JSON Pointer. */
static void mutate_container(const sa_policy *p, const sa_pubkey *key, const cJSON *c,
                             const char *base, sa_verdict *v)
{
    const cJSON *env = sa_json_get(c, "env");
    const char *want = p->sessions.key_env;
    sa_buf path = SA_BUF_INIT, entry = SA_BUF_INIT;
    sa_buf_puts(&path, base);
    sa_patch_pointer_push(&path, "env");
    env_entry(p, key, &entry);
    if (!env || cJSON_IsNull(env)) {
        sa_buf value = SA_BUF_INIT;
        sa_buf_printf(&value, "[%s]", sa_buf_str(&entry));
        sa_patch_op(&v->patch, "add", sa_buf_str(&path), sa_buf_str(&value));
        sa_buf_free(&value);
    } else if (cJSON_IsArray(env)) {
        const cJSON *first = NULL;
        size_t first_index = 0, i = 0;
        for (const cJSON *e = env->child; e && !first; e = e->next, i++)
            if (strcmp(sa_json_string(e, "name"), want) == 0) {
                first = e;
                first_index = i;
            }
        if (!first) {
            sa_buf_puts(&path, "/-");
            sa_patch_op(&v->patch, "add", sa_buf_str(&path), sa_buf_str(&entry));
        } else {
            if (!env_is_current(first, key))
                op_at_index(&v->patch, "replace", &path, first_index, sa_buf_str(&entry));
            /* Later duplicates, walked from the end (cJSON's child->prev is the last item) so
             * each removal leaves the remaining indexes valid. */
            size_t index = (size_t)cJSON_GetArraySize(env);
            for (const cJSON *e = env->child->prev; e != first; e = e->prev) {
                index--;
                if (strcmp(sa_json_string(e, "name"), want) == 0)
                    op_at_index(&v->patch, "remove", &path, index, NULL);
            }
        }
    }
    /* An env that is neither absent nor an array is malformed: the API server refuses the pod. */
    sa_buf_free(&path);
    sa_buf_free(&entry);
}

static void mutate_containers(const sa_policy *p, const sa_pubkey *key, const cJSON *spec,
                              const char *field, sa_verdict *v)
{
    const cJSON *list = sa_json_get(spec, field);
    if (!cJSON_IsArray(list))
        return;
    size_t i = 0;
    for (const cJSON *c = list->child; c; c = c->next, i++) {
        if (!is_object(c) || !sa_podkey_carrier(p, field, c))
            continue;
        sa_buf base = SA_BUF_INIT;
        sa_patch_pointer_push(&base, "spec");
        sa_patch_pointer_push(&base, field);
        sa_patch_pointer_push_index(&base, i);
        mutate_container(p, key, c, sa_buf_str(&base), v);
        sa_buf_free(&base);
    }
}

/* Sets the session ServiceAccount. Returns 0, or -1 when the pod was refused (onMismatch: deny)
 * and mutation stops. */
static int mutate_service_account(const sa_policy *p, const sa_review *r, const cJSON *spec,
                                  const char *id, const char *want, sa_verdict *v)
{
    const cJSON *name_item = sa_json_get(spec, "serviceAccountName");
    const cJSON *old_item = sa_json_get(spec, "serviceAccount");
    const char *name = sa_json_string(spec, "serviceAccountName");
    const char *old = sa_json_string(spec, "serviceAccount");
    /* The API server reads the deprecated field only when the current one is empty. */
    const char *current = *name ? name : old;
    if (*current && strcmp(current, "default") != 0 && strcmp(current, want) != 0 &&
        p->sessions.on_mismatch == SA_MISMATCH_DENY) {
        sa_buf ref = SA_BUF_INIT;
        pod_ref(r, &ref);
        sa_verdict_violation(v, SA_RULE_SESSION_POD, SA_KEY("serviceAccountName", current),
                             "pod %s: spec.serviceAccountName \"%.*s\" is not the session's "
                             "ServiceAccount %s (label %s=\"%.*s\")",
                             sa_buf_str(&ref), SHOWN_MAX, current, want, p->sessions.label,
                             SHOWN_MAX, id);
        sa_buf_free(&ref);
        if (sa_verdict_denied(v))
            return -1;
        /* session-pod in warn or audit mode: reported, and the pod still gets its session
         * identity, as with onMismatch: override, rather than going unmutated. */
    }
    if (strcmp(name, want) != 0)
        sa_patch_op_string(&v->patch, name_item ? "replace" : "add", "/spec/serviceAccountName",
                           want);
    if (old_item && strcmp(old, want) != 0)
        sa_patch_op_string(&v->patch, "replace", "/spec/serviceAccount", want);
    return 0;
}

static void mutate_annotation(const sa_policy *p, const sa_pubkey *key, const cJSON *meta,
                              sa_verdict *v)
{
    const char *ann = p->sessions.fingerprint_annotation;
    const cJSON *annotations = sa_json_get(meta, "annotations");
    if (!is_object(annotations)) {
        /* Absent or null: one "add" creates the whole map. */
        sa_buf value = SA_BUF_INIT;
        sa_buf_putc(&value, '{');
        sa_buf_json_string(&value, ann);
        sa_buf_putc(&value, ':');
        sa_buf_json_string(&value, key->fingerprint);
        sa_buf_putc(&value, '}');
        sa_patch_op(&v->patch, "add", "/metadata/annotations", sa_buf_str(&value));
        sa_buf_free(&value);
        return;
    }
    const char *have = sa_json_str(sa_json_get(annotations, ann));
    if (have && strcmp(have, key->fingerprint) == 0)
        return;
    sa_buf path = SA_BUF_INIT;
    sa_buf_puts(&path, "/metadata/annotations");
    sa_patch_pointer_push(&path, ann);
    sa_patch_op_string(&v->patch, have ? "replace" : "add", sa_buf_str(&path), key->fingerprint);
    sa_buf_free(&path);
}

void sa_mutate_pod(const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    const sa_policy *p = snap->policy;
    const cJSON *pod = r->object;
    if (strcmp(r->operation, "CREATE") != 0 || *r->sub_resource || !is_object(pod))
        return;
    if (sa_nameset_match(p->exempt_namespaces, r->namespace_))
        return;
    const cJSON *meta = sa_json_get(pod, "metadata");
    const char *id = sa_json_str(sa_json_get(sa_json_get(meta, "labels"), p->sessions.label));
    if (!id)
        return; /* not a session pod */
    const cJSON *spec = sa_json_get(pod, "spec");
    if (!is_object(meta) || !is_object(spec))
        return; /* the API server refuses such a pod itself */

    sa_buf want = SA_BUF_INIT;
    if (sa_policy_session_sa(p, id, &want) < 0) {
        sa_buf ref = SA_BUF_INIT;
        pod_ref(r, &ref);
        sa_verdict_violation(v, SA_RULE_SESSION_POD, SA_KEY("label", id),
                             "pod %s: label %s=\"%.*s\" cannot form a valid ServiceAccount name "
                             "from template %s (DNS-1123: lower-case letters, digits, '-' and "
                             "'.', alphanumeric at both ends, at most 253 characters)",
                             sa_buf_str(&ref), p->sessions.label, SHOWN_MAX, id,
                             p->sessions.sa_template);
        sa_buf_free(&ref);
    } else if (mutate_service_account(p, r, spec, id, sa_buf_str(&want), v) == 0) {
        mutate_containers(p, snap->key, spec, "containers", v);
        mutate_containers(p, snap->key, spec, "initContainers", v);
        mutate_annotation(p, snap->key, meta, v);
    }
    sa_buf_free(&want);
}
