/* validate_binding.c: RoleBinding and ClusterRoleBinding.
 *
 * A binding is where a grant reaches an identity, so this is where session identities are held
 * to the allowed roles in the allowed scope (rbac-session-binding) and to their own namespace
 * (rbac-cross-namespace), and where roles granting node token audiences are held to the
 * subjects the audience table names (rbac-token-audience). The webhook cannot read the role a
 * binding references, so the policy's tables name roles, and the role's own rules are judged
 * when the role is written (validate_role.c).
 *
 * A subject every session is (system:serviceaccounts, system:authenticated, and, since a session
 * can leave its token out, system:unauthenticated and system:anonymous: sa_identity.h) is a
 * grant to all of them, judged like one. A role in bindings.everyoneRoles (the platform's own
 * grants to everyone: discovery, self reviews, kubeadm's cluster-info Role in kube-public) is
 * never judged here, for any subject: every identity holds it already, so binding it grants
 * nothing new, and what it grants is held by validate_role.c. */
#include "validate_internal.h"

#include <stdio.h>
#include <string.h>

#include "sa_identity.h"

/* "ServiceAccount ns/name", or the subject as written ("Group system:nodes"). */
static void describe_subject(const cJSON *subject, const sa_identity *id, char *out, size_t cap)
{
    if (strcmp(sa_json_string(subject, "kind"), "ServiceAccount") == 0)
        snprintf(out, cap, "ServiceAccount %.*s/%s", (int)id->ns_len, id->ns, id->name);
    else
        snprintf(out, cap, "%s %s", sa_json_string(subject, "kind"),
                 sa_json_string(subject, "name"));
}

/* What one binding references, read once for all its subjects. */
typedef struct binding {
    const char *what; /* "RoleBinding ns/name" */
    int cluster;      /* a ClusterRoleBinding */
    const char *ns;   /* the binding's namespace, "" for a ClusterRoleBinding */
    const char *ref_kind, *ref_name;
    const sa_role_row *row;            /* the allowedRoles row of roleRef, or NULL */
    int everyone;                      /* roleRef is in bindings.everyoneRoles */
    const sa_audience_list *audiences; /* the audience rows naming roleRef, or NULL */
} binding;

static const char *const scope_binding[] = {
    [SA_SCOPE_NAMESPACE] = "RoleBinding", [SA_SCOPE_CLUSTER] = "ClusterRoleBinding"};
static const char *const scope_name[] = {
    [SA_SCOPE_NAMESPACE] = "namespace", [SA_SCOPE_CLUSTER] = "cluster"};

/* One subject: as messages show it (cut to fit), and as its violations' keys name it (whole,
 * as written, so two long names that differ only past the cut are two subjects). */
typedef struct subject {
    const char *who; /* "ServiceAccount ns/name" */
    const char *kind, *name, *ns;
} subject;
#define SUBJECT_KEY(s, ...) SA_KEY((s)->kind, (s)->ns, (s)->name, __VA_ARGS__)

static void judge_session_subject(const binding *b, const sa_identity *id, const subject *sj,
                                  sa_verdict *v)
{
    const char *who = sj->who;
    unsigned want = b->cluster ? SA_SCOPE_CLUSTER : SA_SCOPE_NAMESPACE;
    if (!b->row)
        sa_verdict_violation(v, SA_RULE_RBAC_SESSION_BINDING,
                             SUBJECT_KEY(sj, "role", b->ref_kind, b->ref_name),
                             "%s: roleRef %s/%s is not in allowedRoles (subject %s)", b->what,
                             b->ref_kind, b->ref_name, who);
    else if (!(b->row->scope & want))
        sa_verdict_violation(v, SA_RULE_RBAC_SESSION_BINDING,
                             SUBJECT_KEY(sj, "scope", b->ref_kind, b->ref_name),
                             "%s: roleRef %s/%s is allowed only through a %s (allowedRoles scope "
                             "%s), not a %s (subject %s)",
                             b->what, b->ref_kind, b->ref_name, scope_binding[b->row->scope],
                             scope_name[b->row->scope], scope_binding[want], who);

    /* A ClusterRoleBinding has no namespace of its own: its reach is the scope check above. */
    if (b->cluster || (b->row && b->row->cross_namespace))
        return;
    if (id->all_namespaces)
        sa_verdict_violation(v, SA_RULE_RBAC_CROSS_NAMESPACE,
                             SUBJECT_KEY(sj, b->ref_kind, b->ref_name),
                             "%s: subject %s covers every namespace, not only %s, and roleRef "
                             "%s/%s does not allow crossNamespace",
                             b->what, who, b->ns, b->ref_kind, b->ref_name);
    else if (id->ns_len != strlen(b->ns) || strncmp(id->ns, b->ns, id->ns_len) != 0)
        sa_verdict_violation(
            v, SA_RULE_RBAC_CROSS_NAMESPACE, SUBJECT_KEY(sj, b->ref_kind, b->ref_name),
            "%s: subject %s is from namespace %.*s, not %s, and roleRef %s/%s "
            "does not allow crossNamespace",
            b->what, who, (int)id->ns_len, id->ns, b->ns, b->ref_kind, b->ref_name);
}

/* Whether the audience row lists the subject; a row holds the few subjects of one audience. */
static int audience_subject_listed(const sa_audience_row *row, const sa_identity *id)
{
    for (size_t i = 0; i < row->nsubjects; i++) {
        const sa_subject *s = &row->subjects[i];
        if (strcmp(s->kind, id->kind) != 0 || strcmp(s->name, id->name) != 0)
            continue;
        if (!id->service_account || (strlen(s->namespace_) == id->ns_len &&
                                     strncmp(s->namespace_, id->ns, id->ns_len) == 0))
            return 1;
    }
    return 0;
}

/* A role granting several audiences may be bound only to subjects every one of them allows. */
static void judge_audience_subject(const binding *b, const sa_identity *id, const subject *sj,
                                   sa_verdict *v)
{
    const char *who = sj->who;
    for (size_t i = 0; i < b->audiences->n; i++) {
        const sa_audience_row *row = b->audiences->rows[i];
        if (!audience_subject_listed(row, id))
            sa_verdict_violation(v, SA_RULE_RBAC_TOKEN_AUDIENCE, SUBJECT_KEY(sj, row->audience),
                                 "%s: subject %s may not be bound to roleRef %s/%s: it grants "
                                 "audience %s, which the audiences table allows only for its "
                                 "listed subjects",
                                 b->what, who, b->ref_kind, b->ref_name, row->audience);
    }
}

/* Reads what the review's binding references (what stays unset: the caller's to fill). */
static void read_binding(const sa_policy *p, const sa_review *r, binding *b)
{
    const cJSON *ref = sa_json_get(r->object, "roleRef");
    *b = (binding){
        .cluster = strcmp(r->kind, "ClusterRoleBinding") == 0,
        .ref_kind = sa_json_string(ref, "kind"),
        .ref_name = sa_json_string(ref, "name"),
    };
    b->ns = b->cluster ? "" : r->namespace_;
    b->everyone = sa_validate_everyone_role(p, b->ref_kind, b->ns, b->ref_name);
}

/* Whether a subject is a session identity this binding grants its role to: nobody is granted an
 * everyoneRoles role by a binding, as every identity holds it already. */
static int session_subject(const sa_policy *p, const binding *b, const cJSON *subj, sa_identity *id)
{
    return sa_identity_from_subject(p, subj, b->ns, id) && !b->everyone;
}

int sa_validate_binding_grants_session(const sa_policy *p, const sa_review *r)
{
    binding b;
    read_binding(p, r, &b);
    for (const cJSON *s = sa_validate_items(sa_json_get(r->object, "subjects")); s; s = s->next) {
        sa_identity id;
        if (session_subject(p, &b, s, &id))
            return 1;
    }
    return 0;
}

void sa_validate_binding(const sa_snapshot *snap, const sa_review *r, sa_verdict *v)
{
    const sa_policy *p = snap->policy;
    if (!r->object)
        return;
    char what[512];
    sa_validate_describe(r, what, sizeof what);
    binding b;
    read_binding(p, r, &b);
    b.what = what;
    sa_buf key = SA_BUF_INIT;
    sa_buf_printf(&key, "%s/%s", b.ref_kind, b.ref_name);
    b.row = key.oom ? NULL : sa_map_getn(p->bindings.allowed_roles, key.data, key.len);
    sa_buf_free(&key);
    b.audiences = sa_map_get(p->audience_roles, b.ref_name);

    for (const cJSON *s = sa_validate_items(sa_json_get(r->object, "subjects")); s; s = s->next) {
        sa_identity id;
        int session = session_subject(p, &b, s, &id);
        if (!session && !b.audiences)
            continue;
        char who[512];
        describe_subject(s, &id, who, sizeof who);
        subject sj = {who, sa_json_string(s, "kind"), sa_json_string(s, "name"),
                      sa_json_string(s, "namespace")};
        if (!*sj.ns && id.service_account && strcmp(sj.kind, "ServiceAccount") == 0)
            sj.ns = b.ns;
        if (session)
            judge_session_subject(&b, &id, &sj, v);
        if (b.audiences)
            judge_audience_subject(&b, &id, &sj, v);
    }
}
