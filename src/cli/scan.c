/* scan.c: an object or a review through the webhooks the chart registers for it (see sa_scan.h). */
#include "sa_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_json.h"
#include "sa_objects.h"
#include "sa_patch.h"

enum {
    OP_CREATE = 1u,
    OP_UPDATE = 2u,
    OP_DELETE = 4u,
    OP_CONNECT = 8u
};

/* What charts/session-admission/templates/webhooks.yaml registers: per kind (group and kind of
 * the object) and subresource, the resource the API server names in the review, and on which
 * operations the mutating and the validating webhook are called. Pods are validated with the
 * session label or without it (validate-unlabelled-pods); only those with it are sent to the
 * mutation, which leaves any other pod unchanged, so sending every pod answers the same.
 * Nothing is registered for DELETE. */
static const struct registration {
    const char *group, *kind;
    const char *resource_group, *resource, *sub_resource;
    int namespaced;
    unsigned mutate_ops, validate_ops;
    /* clang-format off */
} registrations[] = {
    {"", "Pod", "", "pods", "", 1, OP_CREATE, OP_CREATE | OP_UPDATE},
    /* A debug container added to a running pod: the API server sends the whole Pod. */
    {"", "Pod", "", "pods", "ephemeralcontainers", 1, 0, OP_UPDATE},
    {"rbac.authorization.k8s.io", "Role", "rbac.authorization.k8s.io", "roles", "", 1, 0, OP_CREATE | OP_UPDATE},
    {"rbac.authorization.k8s.io", "RoleBinding", "rbac.authorization.k8s.io", "rolebindings", "", 1, 0, OP_CREATE | OP_UPDATE},
    {"rbac.authorization.k8s.io", "ClusterRole", "rbac.authorization.k8s.io", "clusterroles", "", 0, 0, OP_CREATE | OP_UPDATE},
    {"rbac.authorization.k8s.io", "ClusterRoleBinding", "rbac.authorization.k8s.io", "clusterrolebindings", "", 0, 0, OP_CREATE | OP_UPDATE},
    /* A TokenRequest is created on its ServiceAccount's token subresource; its name is the SA's. */
    {"authentication.k8s.io", "TokenRequest", "", "serviceaccounts", "token", 1, 0, OP_CREATE},
};
/* clang-format on */

static const char *const verdict_names[SA_SCAN_VERDICT_COUNT] = {"allowed", "patched",    "warned",
                                                                 "denied",  "not-judged", "error"};

const char *sa_scan_verdict_name(sa_scan_verdict v)
{
    return sa_buf_name(verdict_names, SA_SCAN_VERDICT_COUNT, (size_t)v);
}

int sa_scan_verdict_from_name(const char *name)
{
    return sa_buf_name_index(verdict_names, SA_SCAN_VERDICT_COUNT, name);
}

void sa_scan_rule_ids(unsigned bits, sa_buf *out)
{
    const char *sep = "";
    for (int i = 0; i < SA_RULE_COUNT; i++)
        if (bits & (1u << i)) {
            sa_buf_printf(out, "%s%s", sep, sa_verdict_rule_id((sa_rule)i));
            sep = ",";
        }
}

static unsigned op_bit(const char *op)
{
    static const char *const ops[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
    int i = sa_buf_name_index(ops, sizeof ops / sizeof ops[0], op);
    return i < 0 ? 0 : 1u << i;
}

static const struct registration *find_registration(const char *group, const char *kind,
                                                    const char *sub_resource)
{
    for (size_t i = 0; i < sizeof registrations / sizeof registrations[0]; i++)
        if (strcmp(registrations[i].group, group) == 0 &&
            strcmp(registrations[i].kind, kind) == 0 &&
            strcmp(registrations[i].sub_resource, sub_resource) == 0)
            return &registrations[i];
    return NULL;
}

static void init_result(sa_scan_result *res)
{
    memset(res, 0, sizeof *res);
    res->warnings = cJSON_CreateArray();
}

/* Takes one webhook's answer into res. Returns 1 when the chain goes on, 0 when it stops (a
 * denial or an error). The object a mutation patched replaces request.object for the next. */
static int take_answer(const sa_admit_result *ar, cJSON *request, sa_buf *audit,
                       sa_scan_result *res)
{
    if (ar->http_status != 200) {
        snprintf(res->error, sizeof res->error, "%.*s",
                 (int)strcspn(ar->body ? ar->body : "", "\n"),
                 ar->body ? ar->body : "out of memory");
        res->verdict = SA_SCAN_ERROR;
        return 0;
    }
    res->rules_hit |= ar->rules_hit;
    /* Allowed unchanged with no rule fired: the response carries nothing more to read. */
    if (ar->decision == SA_DECISION_ALLOWED && !ar->rules_hit)
        return 1;
    cJSON *doc = cJSON_ParseWithLength(ar->body, ar->body_len);
    const cJSON *resp = sa_json_get(doc, "response");
    int go_on = 1;
    for (const cJSON *w = sa_json_get(resp, "warnings") ? sa_json_get(resp, "warnings")->child
                                                        : NULL;
         w; w = w->next)
        if (sa_json_str(w))
            cJSON_AddItemToArray(res->warnings, cJSON_CreateString(w->valuestring));
    for (const cJSON *a = sa_json_get(resp, "auditAnnotations")
                              ? sa_json_get(resp, "auditAnnotations")->child
                              : NULL;
         a; a = a->next)
        sa_buf_printf(audit, "%s%s: %s", audit->len ? "; " : "", a->string,
                      sa_json_str(a) ? a->valuestring : "");
    const char *patch = sa_json_str(sa_json_get(resp, "patch"));
    if (!cJSON_IsTrue(sa_json_get(resp, "allowed"))) {
        res->verdict = SA_SCAN_DENIED;
        sa_buf_puts(&res->message, sa_json_string(sa_json_path(resp, "status", NULL), "message"));
        go_on = 0;
    } else if (patch) {
        sa_buf ops = SA_BUF_INIT;
        char err[256];
        cJSON *obj = res->patched ? res->patched
                                  : cJSON_Duplicate(sa_json_get(request, "object"), 1);
        res->patched = obj;
        if (!obj || sa_buf_base64_decode(patch, &ops) < 0 ||
            sa_patch_apply(obj, sa_buf_str(&ops), ops.len, err, sizeof err) < 0) {
            snprintf(res->error, sizeof res->error, "the mutation's patch cannot be applied: %s",
                     obj ? err : "out of memory");
            res->verdict = SA_SCAN_ERROR;
            go_on = 0;
        } else {
            /* The next webhook sees the mutated object, borrowed from res. */
            cJSON_ReplaceItemInObjectCaseSensitive(request, "object",
                                                   cJSON_CreateObjectReference(obj->child));
            res->verdict = SA_SCAN_PATCHED;
        }
        sa_buf_free(&ops);
    }
    sa_json_delete(doc);
    return go_on;
}

/* Sends the review to each webhook registered for its operation, mutating first. */
static void run(const sa_snapshot *snap, cJSON *review, const struct registration *reg, unsigned op,
                sa_scan_result *res)
{
    cJSON *request = cJSON_GetObjectItemCaseSensitive(review, "request");
    sa_buf audit = SA_BUF_INIT;
    int judged = 0, go_on = 1;
    for (int ep = SA_ENDPOINT_MUTATE; ep <= SA_ENDPOINT_VALIDATE && go_on; ep++) {
        if (!((ep == SA_ENDPOINT_MUTATE ? reg->mutate_ops : reg->validate_ops) & op))
            continue;
        judged = 1;
        /* The review is judged as parsed: every document was checked like a request body when
         * it was read (strict UTF-8, no duplicate keys, bounded depth). */
        sa_review r;
        sa_admit_result ar = {0};
        if (sa_review_read(&r, review, res->error, sizeof res->error) < 0) {
            res->verdict = SA_SCAN_ERROR;
            break;
        }
        sa_admit_review(snap, (sa_endpoint)ep, &r, &ar);
        go_on = take_answer(&ar, request, &audit, res);
        sa_admit_result_free(&ar);
    }
    if (!judged) {
        res->verdict = SA_SCAN_NOT_JUDGED;
    } else if (res->verdict != SA_SCAN_DENIED && res->verdict != SA_SCAN_ERROR) {
        int warned = cJSON_GetArraySize(res->warnings) > 0 || audit.len > 0;
        for (const cJSON *w = res->warnings ? res->warnings->child : NULL; w; w = w->next)
            sa_buf_printf(&res->message, "%s%s", res->message.len ? "; " : "", w->valuestring);
        if (!res->message.len)
            sa_buf_puts(&res->message, sa_buf_str(&audit));
        if (warned)
            res->verdict = SA_SCAN_WARNED;
    }
    if (res->verdict == SA_SCAN_ERROR)
        sa_buf_puts(&res->message, res->error);
    sa_buf_free(&audit);
}

static cJSON *group_version_kind(const char *group, const char *version, const char *key,
                                 const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "group", group);
    cJSON_AddStringToObject(o, "version", version);
    cJSON_AddStringToObject(o, key, value);
    return o;
}

void sa_scan_object(const sa_snapshot *snap, const cJSON *obj, const sa_scan_request *rq,
                    sa_scan_result *res)
{
    init_result(res);
    char group[256], version[64];
    sa_objects_group_version(sa_json_string(obj, "apiVersion"), group, sizeof group, version,
                             sizeof version);
    const char *kind = sa_json_string(obj, "kind");
    const cJSON *meta = sa_json_get(obj, "metadata");
    const char *op = rq->operation ? rq->operation : "CREATE";
    const struct registration *reg = find_registration(group, kind, "");
    /* A TokenRequest in a manifest is what is created on serviceaccounts/token. */
    if (!reg)
        reg = find_registration(group, kind, "token");
    /* An unregistered kind's scope is unknown here: its namespace is shown as written. */
    const char *ns = !reg || reg->namespaced ? sa_json_string(meta, "namespace") : "";
    if (reg && reg->namespaced && !*ns)
        ns = rq->default_namespace ? rq->default_namespace : "default";
    snprintf(res->kind, sizeof res->kind, "%s", kind);
    snprintf(res->namespace_, sizeof res->namespace_, "%s", ns);
    snprintf(res->name, sizeof res->name, "%s", sa_json_string(meta, "name"));
    if (!reg) {
        res->verdict = SA_SCAN_NOT_JUDGED;
        return;
    }
    unsigned bit = op_bit(op);
    cJSON *review = cJSON_CreateObject();
    cJSON_AddStringToObject(review, "apiVersion", "admission.k8s.io/v1");
    cJSON_AddStringToObject(review, "kind", "AdmissionReview");
    cJSON *req = cJSON_AddObjectToObject(review, "request");
    cJSON_AddStringToObject(req, "uid", "00000000-0000-4000-8000-5ca700000000");
    /* The API server's attributes: kind from the object, resource the plural it was posted to
     * (requestKind and requestResource the same: no conversion happens here). */
    cJSON_AddItemToObject(req, "kind", group_version_kind(group, version, "kind", kind));
    cJSON_AddItemToObject(req, "resource",
                          group_version_kind(reg->resource_group, "v1", "resource", reg->resource));
    if (*reg->sub_resource)
        cJSON_AddStringToObject(req, "subResource", reg->sub_resource);
    cJSON_AddItemToObject(req, "requestKind", group_version_kind(group, version, "kind", kind));
    cJSON_AddItemToObject(req, "requestResource",
                          group_version_kind(reg->resource_group, "v1", "resource", reg->resource));
    if (*reg->sub_resource)
        cJSON_AddStringToObject(req, "requestSubResource", reg->sub_resource);
    cJSON_AddStringToObject(req, "name", res->name);
    if (reg->namespaced)
        cJSON_AddStringToObject(req, "namespace", ns);
    cJSON_AddStringToObject(req, "operation", op);
    cJSON *user = cJSON_AddObjectToObject(req, "userInfo");
    cJSON_AddStringToObject(user, "username",
                            rq->username ? rq->username : "session-admission-scan");
    cJSON *groups = cJSON_AddArrayToObject(user, "groups");
    int authenticated = 0;
    for (size_t i = 0; i < rq->ngroups; i++) {
        cJSON_AddItemToArray(groups, cJSON_CreateString(rq->groups[i]));
        authenticated |= strcmp(rq->groups[i], "system:authenticated") == 0;
    }
    if (!authenticated)
        cJSON_AddItemToArray(groups, cJSON_CreateString("system:authenticated"));
    /* Borrowed, not copied: a 10,000-object List is judged without copying each object. */
    if (bit == OP_DELETE)
        cJSON_AddItemReferenceToObject(req, "oldObject", (cJSON *)obj);
    else
        cJSON_AddItemReferenceToObject(req, "object", (cJSON *)obj);
    if (bit == OP_UPDATE && rq->old_object)
        cJSON_AddItemReferenceToObject(req, "oldObject", (cJSON *)rq->old_object);
    cJSON_AddBoolToObject(req, "dryRun", 0);
    run(snap, review, reg, bit, res);
    sa_json_delete(review);
}

void sa_scan_review(const sa_snapshot *snap, const char *body, size_t len, sa_scan_result *res)
{
    init_result(res);
    sa_review r;
    cJSON *review = NULL;
    if (sa_json_parse(body, len, &review, res->error, sizeof res->error) < 0 ||
        sa_review_read(&r, review, res->error, sizeof res->error) < 0) {
        res->verdict = SA_SCAN_ERROR;
        sa_buf_puts(&res->message, res->error);
        cJSON_Delete(review);
        return;
    }
    snprintf(res->kind, sizeof res->kind, "%s", r.kind);
    snprintf(res->namespace_, sizeof res->namespace_, "%s", r.namespace_);
    snprintf(res->name, sizeof res->name, "%s", r.name);
    const struct registration *reg = find_registration(r.group, r.kind, r.sub_resource);
    if (reg)
        run(snap, review, reg, op_bit(r.operation), res);
    else
        res->verdict = SA_SCAN_NOT_JUDGED;
    cJSON_Delete(review);
}

void sa_scan_result_free(sa_scan_result *res)
{
    sa_buf_free(&res->message);
    cJSON_Delete(res->warnings);
    cJSON_Delete(res->patched);
    res->warnings = res->patched = NULL;
}

/* The columns of sa_scan_format_row's table lines. */
const char sa_scan_table_header[] =
    "VERDICT    KIND                NAMESPACE/NAME                                RULES                  MESSAGE";

static void json_field(sa_buf *out, const char *key, const char *value)
{
    sa_buf_printf(out, ",\"%s\":", key);
    sa_buf_json_string(out, value);
}

void sa_scan_format_row(const sa_scan_result *res, const char *file, const sa_object *o, int json,
                        int show_patched, sa_buf *out)
{
    sa_buf rules = SA_BUF_INIT;
    sa_scan_rule_ids(res->rules_hit, &rules);
    /* A generated name is not known yet: show what it is generated from. */
    const char *name = *res->name ? res->name
                                  : sa_json_string(sa_json_get(o->obj, "metadata"), "generateName");
    char *patched = show_patched && res->patched ? cJSON_PrintUnformatted(res->patched) : NULL;
    if (json) {
        sa_buf_puts(out, "{\"verdict\":");
        sa_buf_json_string(out, sa_scan_verdict_name(res->verdict));
        json_field(out, "kind", res->kind);
        json_field(out, "namespace", res->namespace_);
        json_field(out, "name", name);
        sa_buf_puts(out, ",\"rules\":[");
        for (int i = 0, first = 1; i < SA_RULE_COUNT; i++)
            if (res->rules_hit & (1u << i)) {
                sa_buf_puts(out, first ? "\"" : ",\"");
                sa_buf_puts(out, sa_verdict_rule_id((sa_rule)i));
                sa_buf_putc(out, '"');
                first = 0;
            }
        sa_buf_putc(out, ']');
        json_field(out, "message", sa_buf_str(&res->message));
        json_field(out, "file", file);
        sa_buf_printf(out, ",\"document\":%u", o->doc);
        if (o->item >= 0)
            sa_buf_printf(out, ",\"item\":%ld", o->item);
        if (show_patched && res->patched)
            sa_buf_printf(out, ",\"patched\":%s", patched ? patched : "null");
        sa_buf_putc(out, '}');
    } else {
        char where[600];
        snprintf(where, sizeof where, "%s%s%s", res->namespace_, *res->namespace_ ? "/" : "",
                 *name ? name : "-");
        sa_buf_printf(out, "%-10s %-19s %-45s %-22s %s", sa_scan_verdict_name(res->verdict),
                      res->kind, where, rules.len ? sa_buf_str(&rules) : "-",
                      sa_buf_str(&res->message));
        if (show_patched && res->patched)
            sa_buf_printf(out, "\n  patched: %s", patched ? patched : "(out of memory)");
    }
    cJSON_free(patched);
    sa_buf_free(&rules);
}
