/* admit.c: the admission core (see sa_admit.h): parse, dispatch on the request's kind through
 * one table, encode. */
#include "sa_admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_mutate.h"
#include "sa_nulmark.h"
#include "sa_policy.h"
#include "sa_validate.h"

/* The kinds a handler judges, each once: their names are also the closed set of kind labels in
 * metrics (sa_admit_kind_name), so a route names its kind by index. */
typedef enum admit_kind {
    KIND_POD,
    KIND_ROLE_BINDING,
    KIND_CLUSTER_ROLE_BINDING,
    KIND_ROLE,
    KIND_CLUSTER_ROLE,
    KIND_TOKEN_REQUEST,
    KIND_COUNT
} admit_kind;

static const char *const kind_names[KIND_COUNT] = {
    [KIND_POD] = "Pod",
    [KIND_ROLE_BINDING] = "RoleBinding",
    [KIND_CLUSTER_ROLE_BINDING] = "ClusterRoleBinding",
    [KIND_ROLE] = "Role",
    [KIND_CLUSTER_ROLE] = "ClusterRole",
    [KIND_TOKEN_REQUEST] = "TokenRequest",
};

/* One row per kind a handler judges, by endpoint and the request's kind group and kind.
 * A kind with no row is allowed unchanged. */
typedef struct sa_route {
    sa_endpoint endpoint;
    const char *group;
    admit_kind kind;
    sa_handler_fn *handler;
} sa_route;

/* clang-format off */
static const sa_route routes[] = {
    {SA_ENDPOINT_MUTATE, "", KIND_POD, sa_mutate_pod},
    {SA_ENDPOINT_VALIDATE, "rbac.authorization.k8s.io", KIND_ROLE_BINDING, sa_validate_binding},
    {SA_ENDPOINT_VALIDATE, "rbac.authorization.k8s.io", KIND_CLUSTER_ROLE_BINDING,
     sa_validate_binding},
    {SA_ENDPOINT_VALIDATE, "rbac.authorization.k8s.io", KIND_ROLE, sa_validate_role},
    {SA_ENDPOINT_VALIDATE, "rbac.authorization.k8s.io", KIND_CLUSTER_ROLE, sa_validate_role},
    {SA_ENDPOINT_VALIDATE, "authentication.k8s.io", KIND_TOKEN_REQUEST, sa_validate_token_request},
    {SA_ENDPOINT_VALIDATE, "", KIND_POD, sa_validate_pod},
    {SA_ENDPOINT_COUNT, NULL, KIND_COUNT, NULL} /* end */
};
/* clang-format on */

static const char *const endpoint_names[SA_ENDPOINT_COUNT] = {"mutate", "validate"};
static const char *const decision_names[SA_DECISION_COUNT] = {"allowed", "patched", "denied",
                                                              "error"};

const char *sa_admit_endpoint_name(sa_endpoint ep)
{
    return (unsigned)ep < SA_ENDPOINT_COUNT ? endpoint_names[ep] : "unknown";
}

const char *sa_admit_decision_name(sa_decision d)
{
    return (unsigned)d < SA_DECISION_COUNT ? decision_names[d] : "unknown";
}

unsigned sa_admit_kind_count(void)
{
    return KIND_COUNT + 2; /* then "other", "unknown" */
}

const char *sa_admit_kind_name(unsigned index)
{
    if (index < KIND_COUNT)
        return kind_names[index];
    return index == KIND_COUNT ? "other" : "unknown";
}

unsigned sa_admit_kind_index(const char *kind)
{
    if (!kind || !*kind)
        return KIND_COUNT + 1;
    int i = sa_buf_name_index(kind_names, KIND_COUNT, kind);
    return i < 0 ? KIND_COUNT : (unsigned)i;
}

const char *sa_admit_not_ready(const sa_snapshot *snap)
{
    if (!snap || !snap->policy || !snap->key)
        return "not ready: no policy and public key loaded yet";
    return NULL;
}

/* kind is the request's kind index (sa_admit_kind_index), read once per review. */
static const sa_route *route_for(sa_endpoint ep, unsigned kind, const sa_review *r)
{
    for (const sa_route *rt = routes; rt->handler; rt++)
        if (rt->endpoint == ep && (unsigned)rt->kind == kind && strcmp(rt->group, r->group) == 0)
            return rt;
    return NULL;
}

/* Whether obj carries every one of the exempt labels with its value. Walks the object's labels,
 * one hash lookup each, so the cost does not grow with the policy. */
static int has_exempt_labels(const sa_map *want, const cJSON *obj)
{
    size_t n = sa_map_count(want), hits = 0;
    const cJSON *labels = sa_json_path(obj, "metadata", "labels", NULL);
    for (const cJSON *l = cJSON_IsObject(labels) ? labels->child : NULL; l && n; l = l->next) {
        const char *value = sa_map_get(want, l->string);
        hits += value && sa_json_str(l) && strcmp(value, l->valuestring) == 0;
    }
    return n && hits == n; /* label keys are unique: the strict parser refuses duplicates */
}

static int is_kind(const sa_review *r, const char *group, const char *kind)
{
    return strcmp(r->group, group) == 0 && strcmp(r->kind, kind) == 0;
}

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* kube-apiserver's loopback client, which reconciles the bootstrap roles, authenticates as user
 * system:apiserver in the groups system:authenticated and system:masters (kubernetes
 * staging/src/k8s.io/apiserver/pkg/server/config.go, AuthorizeClientBearerToken). A user name
 * alone can be given to anyone by an authenticator; the privileged group cannot be had without
 * the cluster's own credentials. */
#define LOOPBACK_GROUP "system:masters"

/* The exempt labels mark the cluster's own RBAC objects, but RBAC ignores labels: anyone who may
 * write an object may label it. So they exempt only a request from an identity the policy lists
 * as the cluster's own:
 * - exempt.bootstrapUsers (system:apiserver), in the loopback client's group system:masters,
 *   reconciles the bootstrap roles and bindings at every start, cluster-wide and in kube-system
 *   and kube-public, always carrying the label;
 * - exempt.aggregationUsers: the clusterrole-aggregation controller rewrites the rules of
 *   aggregated ClusterRoles (UPDATE, by server-side apply: kubernetes
 *   pkg/controller/clusterroleaggregation). kube-controller-manager gives it the ServiceAccount
 *   kube-system/clusterrole-aggregation-controller with --use-service-account-credentials, else
 *   its own identity, system:kube-controller-manager (cmd/kube-controller-manager: the client
 *   builder). Only a role that already carried the labels (oldObject) is exempt: the controller
 *   also rewrites aggregated roles that users made. A guarded role (sa_validate_role_guarded) is
 *   never exempt for it: who labelled the role is unknown, so what the controller copies into a
 *   role sessions, nodes or everyone hold is judged grant by grant (validate_role.c). */
static int cluster_own_rbac(const sa_policy *p, const sa_review *r)
{
    int cluster_role = is_kind(r, RBAC_GROUP, "ClusterRole");
    if (!cluster_role && !is_kind(r, RBAC_GROUP, "ClusterRoleBinding") &&
        !is_kind(r, RBAC_GROUP, "Role") && !is_kind(r, RBAC_GROUP, "RoleBinding"))
        return 0;
    if (sa_nameset_match(p->exempt.bootstrap_users, r->username))
        return sa_review_in_group(r, LOOPBACK_GROUP) &&
               has_exempt_labels(p->exempt.object_labels, r->object);
    return cluster_role && strcmp(r->operation, "UPDATE") == 0 &&
           sa_nameset_match(p->exempt.aggregation_users, r->username) &&
           has_exempt_labels(p->exempt.object_labels, r->old_object) &&
           !sa_validate_role_guarded(p, r);
}

/* Validation never judges a removal (DELETE, and CONNECT which changes nothing), nor what the
 * policy exempts: requests from exempt users and groups, the cluster's own RBAC writes (above),
 * and objects in exempt namespaces, except a binding there that grants its role to a session
 * identity: RBAC grants a RoleBinding's role in its namespace to subjects of any namespace, so
 * exempting it would let a kube-system RoleBinding reach every session. Pods there stay exempt:
 * a webhook must never stand between the cluster and its own system pods. */
static int validate_exempt(const sa_policy *p, const sa_review *r)
{
    if (strcmp(r->operation, "DELETE") == 0 || strcmp(r->operation, "CONNECT") == 0)
        return 1;
    if (sa_nameset_match(p->exempt.users, r->username))
        return 1;
    for (const cJSON *g = r->groups ? r->groups->child : NULL; g; g = g->next)
        if (sa_nameset_match(p->exempt.groups, g->valuestring))
            return 1;
    if (cluster_own_rbac(p, r))
        return 1;
    if (!*r->namespace_ || !sa_nameset_match(p->exempt_namespaces, r->namespace_))
        return 0;
    return !is_kind(r, RBAC_GROUP, "RoleBinding") || !sa_validate_binding_grants_session(p, r);
}

/* Runs the handler. A validated UPDATE is judged on what it adds: the handler first judges the
 * oldObject, collecting its violations' keys (what each is about: a permission, a subject and
 * role, a container's variable; never the message or an index), and a violation of the new
 * object whose key the old one had is not held against it. So a label change on an object that
 * predates the policy (or the removal of a finalizer from such a pod), or reordering an old
 * Role's rules, is not blocked, while every added grant is, whatever its message reads. */
static void judge(const sa_route *rt, const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    if (rt->endpoint != SA_ENDPOINT_VALIDATE || strcmp(r->operation, "UPDATE") != 0 ||
        !r->old_object) {
        rt->handler(snap, r, v);
        return;
    }
    sa_review before = *r;
    before.object = r->old_object;
    before.old_object = NULL;
    sa_verdict old;
    sa_verdict_init(&old, NULL);
    old.collect = 1;
    rt->handler(snap, &before, &old);
    v->baseline = &old;
    rt->handler(snap, r, v);
    v->baseline = NULL;
    sa_verdict_free(&old);
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void fail(sa_admit_result *res, int status, sa_decision decision, const char *reason)
{
    sa_buf b = SA_BUF_INIT;
    sa_buf_printf(&b, "%s\n", reason);
    res->http_status = status;
    res->decision = decision;
    res->body = sa_buf_steal(&b, &res->body_len);
}

/* Answers r. unread (NULL when r was read whole) says why its request could not be read: then
 * a kind a handler judges is refused, and any other allowed as it would be. A kind a handler
 * judges is also refused when a NUL sits where it matters (sa_nulmark.h). */
static void admit(const sa_snapshot *snap, sa_endpoint ep, const sa_review *r, const char *unread,
                  sa_admit_result *res)
{
    memset(res, 0, sizeof *res);
    copy_field(res->uid, sizeof res->uid, r->uid);
    copy_field(res->kind, sizeof res->kind, r->kind);
    res->kind_index = sa_admit_kind_index(r->kind);
    copy_field(res->operation, sizeof res->operation, r->operation);
    copy_field(res->namespace_, sizeof res->namespace_, r->namespace_);
    copy_field(res->name, sizeof res->name, r->name);
    copy_field(res->username, sizeof res->username, r->username);
    res->dry_run = r->dry_run;
    const char *why = sa_admit_not_ready(snap);
    if (why) {
        fail(res, 503, SA_DECISION_ERROR, why);
        return;
    }

    sa_verdict v;
    sa_verdict_init(&v, snap->policy->modes);
    const sa_route *rt = route_for(ep, res->kind_index, r);
    sa_buf where = SA_BUF_INIT;
    if (rt && unread)
        sa_verdict_refuse(&v, "session-admission: this %s review cannot be judged: %s", r->kind,
                          unread);
    else if (rt && sa_nulmark_find(r, &where))
        sa_verdict_refuse(&v,
                          "session-admission: %s holds a NUL (\\u0000), which no name, key or "
                          "value the policy compares may hold: this %s cannot be judged",
                          sa_buf_str(&where), r->kind);
    else if (rt && (ep != SA_ENDPOINT_VALIDATE || !validate_exempt(snap->policy, r)))
        judge(rt, snap, r, &v);
    sa_buf_free(&where);

    sa_buf out = SA_BUF_INIT;
    sa_review_encode(r, &v, &out);
    res->http_status = 200;
    res->rules_hit = v.rules_hit;
    memcpy(res->modes_hit, v.modes_hit, sizeof res->modes_hit);
    res->decision = sa_verdict_denied(&v) ? SA_DECISION_DENIED
                    : v.patch.count       ? SA_DECISION_PATCHED
                                          : SA_DECISION_ALLOWED;
    res->body = sa_buf_steal(&out, &res->body_len);
    if (!res->body)
        fail(res, 500, SA_DECISION_ERROR, "out of memory");
    sa_verdict_free(&v);
}

void sa_admit_unread(const sa_snapshot *snap, sa_endpoint ep, const char *body, size_t len,
                     int status, const char *why, sa_admit_result *res)
{
    sa_review_envelope skim;
    char err[256];
    if (sa_review_skim(&skim, body, len, err, sizeof err) < 0) {
        memset(res, 0, sizeof *res);
        res->kind_index = sa_admit_kind_index(NULL);
        fail(res, status, SA_DECISION_ERROR, why);
        return;
    }
    sa_review r = {.version = skim.version,
                   .uid = skim.uid,
                   .group = skim.group,
                   .kind = skim.kind,
                   .resource = "",
                   .sub_resource = "",
                   .operation = "",
                   .namespace_ = "",
                   .name = "",
                   .username = ""};
    admit(snap, ep, &r, why, res);
}

void sa_admit(const sa_snapshot *snap, sa_endpoint ep, const char *body, size_t len,
              sa_admit_result *res)
{
    char err[256];
    sa_review r;
    sa_json_arena_begin();
    if (sa_review_parse(&r, body, len, err, sizeof err) < 0) {
        sa_json_arena_end();
        sa_admit_unread(snap, ep, body, len, 400, err, res);
        return;
    }
    admit(snap, ep, &r, NULL, res);
    sa_review_free(&r);
    sa_json_arena_end();
}

void sa_admit_review(const sa_snapshot *snap, sa_endpoint ep, const sa_review *r,
                     sa_admit_result *res)
{
    admit(snap, ep, r, NULL, res);
}

void sa_admit_result_free(sa_admit_result *res)
{
    free(res->body);
    res->body = NULL;
}
