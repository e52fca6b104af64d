/* generate_pod.c: the CEL of the Pod rules (validate_pod.c's decisions): session-pod,
 * session-env-from-secret and the projected token volumes of session-token-audience. Written
 * with the same keys and messages as validate_pod.c, which is the reference: a change there is
 * a change here (the differential tests say where they part). CEL has no index-aware map in
 * these versions, so a message names a list item by its name where validate_pod.c adds its
 * index too. */
#include "generate_internal.h"

#include <stdio.h>
#include <string.h>

/* K8s IsDNS1123Subdomain, the form sa_k8sname_subdomain checks (the length apart), as the inside
 * of a CEL string literal. */
#define DNS1123_SUBDOMAIN "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

/* One container's violations of session-pod; c is the container, W its place, WHAT the pod. */
static const char container_pod[] =
    "c.?envFrom.orValue([]).filter(e, e.?prefix.orValue(\"\") != \"\" && ${PREFIX_FORBIDDEN})"
    ".map(e, ${W} + ${SEP} + \"envFrom-prefix\" + ${SEP} + e.prefix + \"\\t\" + ${WHAT} + \": \" + "
    "${W} + \".envFrom prefix \" + e.prefix + \" can form a name in sessions.forbiddenEnv from the "
    "keys it takes\") + "
    "c.?env.orValue([]).filter(e, ${FORBIDDEN})"
    ".map(e, ${W} + ${SEP} + e.?name.orValue(\"\") + \"\\t\" + ${WHAT} + \": \" + ${W} + \".env \" + e.?name.orValue(\"\") + "
    "\" is in sessions.forbiddenEnv\")";

/* The key a carrier must hold: the last env of that name (the one the container sees). */
static const char container_key[] =
    " + ((${CARRIER}) ? (size(${KL}) == 0 ? "
    "[${W} + ${SEP} + \"missing\" + \"\\t\" + ${WHAT} + \": \" + ${W} + \".env \" + ${K} + "
    "\" is missing\"] : "
    "\"valueFrom\" in ${KL}[size(${KL}) - 1] ? "
    "[${W} + ${SEP} + \"valueFrom\" + \"\\t\" + ${WHAT} + \": \" + ${W} + \".env \" + ${K} + "
    "\" is set with valueFrom, not the current key\"] : "
    "${KL}[size(${KL}) - 1].?value.orValue(\"\") != params.data.publicKey ? "
    "[${W} + ${SEP} + \"stale\" + \"\\t\" + ${WHAT} + \": \" + ${W} + \".env \" + ${K} + "
    "\" is not the current key (sha256 \" + params.data.fingerprint.substring(0, 12) + \"...)\"] "
    ": []) : [])";

static const char container_secret[] =
    "c.?envFrom.orValue([]).filter(e, \"secretRef\" in e).map(e, ${W} + ${SEP} + \"envFrom\" + "
    "${SEP} + e.secretRef.?name.orValue(\"\") + \"\\t\" + ${WHAT} + \": \" + ${W} + "
    "\".envFrom takes every key of Secret \\\"\" + e.secretRef.?name.orValue(\"\") + "
    "\"\\\" as env, names sessions.forbiddenEnv cannot see\")";

/* A session pod's ServiceAccount: the template's name for its label, or the label refused. */
static const char service_account[] =
    "(${VALID} ? ("
    "(${SPEC}.?serviceAccountName.orValue(\"\") != ${WANT} ? [\"serviceAccountName\" + ${SEP} + "
    "${SPEC}.?serviceAccountName.orValue(\"\") + \"\\t\" + ${WHAT} + \": spec.serviceAccountName \\\"\" + "
    "${SPEC}.?serviceAccountName.orValue(\"\") + \"\\\" is not the session ServiceAccount \" + ${WANT}] : []) + "
    "(\"serviceAccount\" in ${SPEC} && ${SPEC}.?serviceAccount.orValue(\"\") != ${WANT} ? "
    "[\"serviceAccount\" + ${SEP} + ${SPEC}.?serviceAccount.orValue(\"\") + \"\\t\" + ${WHAT} + "
    "\": spec.serviceAccount \\\"\" + ${SPEC}.?serviceAccount.orValue(\"\") + "
    "\"\\\" is not the session ServiceAccount \" + ${WANT}] : [])).join(\"\\n\") : "
    "\"label\" + ${SEP} + ${ID} + \"\\t\" + ${WHAT} + \": label \" + ${LABEL} + \" \\\"\" + ${ID} + "
    "\"\\\" cannot form a ServiceAccount name from the template \" + ${TEMPLATE} + "
    "\" (a DNS-1123 name is needed)\")";

static const char unlabelled[] =
    "\"unlabelled\" + ${SEP} + ${SAU} + \"\\t\" + ${WHAT} + \": spec.serviceAccountName \\\"\" + "
    "${SAU} + \"\\\" is a session ServiceAccount but the pod has no \" + ${LABEL} + \" label\"";

static const char token_volumes[] =
    "${SPEC}.?volumes.orValue([]).map(v, v.?projected.?sources.orValue([]).filter(s, "
    "s.?serviceAccountToken.?audience.orValue(\"\") != \"\" && !(${ALLOWED}))"
    ".map(s, s.serviceAccountToken.audience + \"\\t\" + ${WHAT} + \": spec.volumes[\" + "
    "v.?name.orValue(\"\") + \"].projected.sources[].serviceAccountToken.audience \\\"\" + "
    "s.serviceAccountToken.audience + \"\\\" is not in sessions.tokenAudiences nor "
    "sessions.apiAudiences\").join(\"\\n\")).join(\"\\n\")";

static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};

typedef struct pod_cel {
    gen *g;
    sa_rule rule;
    sa_buf spec, id, present, what, want, valid, sau, label, tmpl, key, kl;
    sa_buf forbidden, prefix_forbidden, names, allowed, session_sa;
} pod_cel;

static void free_cel(pod_cel *pc)
{
    sa_buf *all[] = {&pc->spec,
                     &pc->id,
                     &pc->present,
                     &pc->what,
                     &pc->want,
                     &pc->valid,
                     &pc->sau,
                     &pc->label,
                     &pc->tmpl,
                     &pc->key,
                     &pc->kl,
                     &pc->forbidden,
                     &pc->prefix_forbidden,
                     &pc->names,
                     &pc->allowed,
                     &pc->session_sa};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        pc->g->failed |= all[i]->oom;
        sa_buf_free(all[i]);
    }
}

/* The pieces of root every template uses, written once. */
static void read_root(pod_cel *pc, const char *root)
{
    const sa_policy *p = pc->g->p;
    sa_buf_printf(&pc->spec, "%s.?spec.orValue({})", root);
    sa_buf_printf(&pc->id, "%s.metadata.?labels[?", root);
    gen_str(&pc->id, p->sessions.label);
    sa_buf_printf(&pc->present, "%s].hasValue()", sa_buf_str(&pc->id));
    sa_buf_puts(&pc->id, "].orValue(\"\")");
    gen_describe(&pc->what, "\"Pod\"", root);
    /* sa_k8sname_session_sa: the id lower-cased (ASCII), cut to idMaxLength, in the template */
    const char *tmpl = p->sessions.sa_template, *at = strstr(tmpl, "{id}");
    char before[256], after[256];
    snprintf(before, sizeof before, "%.*s", (int)(at - tmpl), tmpl);
    snprintf(after, sizeof after, "%s", at + 4);
    gen_str(&pc->want, before);
    sa_buf_printf(&pc->want,
                  " + (size(%s.lowerAscii()) > %d ? %s.lowerAscii().substring(0, %d) : "
                  "%s.lowerAscii()) + ",
                  sa_buf_str(&pc->id), p->sessions.id_max_length, sa_buf_str(&pc->id),
                  p->sessions.id_max_length, sa_buf_str(&pc->id));
    gen_str(&pc->want, after);
    sa_buf_printf(&pc->valid,
                  "%s != \"\" && size(%s) <= 253 && (%s).matches(\"" DNS1123_SUBDOMAIN "\")",
                  sa_buf_str(&pc->id), sa_buf_str(&pc->want), sa_buf_str(&pc->want));
    sa_buf_printf(&pc->sau,
                  "(%s.?serviceAccountName.orValue(\"\") != \"\" ? %s.serviceAccountName : "
                  "%s.?serviceAccount.orValue(\"\"))",
                  sa_buf_str(&pc->spec), sa_buf_str(&pc->spec), sa_buf_str(&pc->spec));
    gen_str(&pc->label, p->sessions.label);
    gen_str(&pc->tmpl, p->sessions.sa_template);
    gen_str(&pc->key, p->sessions.key_env);
    sa_buf_puts(&pc->kl, "c.?env.orValue([]).filter(e, e.?name.orValue(\"\") == ");
    gen_str(&pc->kl, p->sessions.key_env);
    sa_buf_putc(&pc->kl, ')');
    gen_in_set(pc->g, &pc->forbidden, p->sessions.forbidden_env, "e.?name.orValue(\"\")");
    gen_prefix_in_set(pc->g, &pc->prefix_forbidden, p->sessions.forbidden_env, "e.prefix");
    gen_in_set(pc->g, &pc->names, p->sessions.containers, "c.?name.orValue(\"\")");
    sa_buf tok = SA_BUF_INIT, api = SA_BUF_INIT;
    gen_in_set(pc->g, &tok, p->sessions.token_audiences, "s.serviceAccountToken.audience");
    gen_in_set(pc->g, &api, p->sessions.api_audiences, "s.serviceAccountToken.audience");
    sa_buf_printf(&pc->allowed, "%s || %s", sa_buf_str(&tok), sa_buf_str(&api));
    pc->g->failed |= tok.oom | api.oom;
    sa_buf_free(&tok);
    sa_buf_free(&api);
    gen_in_set(pc->g, &pc->session_sa, p->bindings.session_service_accounts, sa_buf_str(&pc->sau));
}

/* Every container list of the pod: keys says whether carriers must hold the key. */
static void containers(pod_cel *pc, int keys, sa_buf *out)
{
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        sa_buf w = SA_BUF_INIT, carrier = SA_BUF_INIT, one = SA_BUF_INIT;
        sa_buf_printf(&w, "(\"spec.%s[\" + c.?name.orValue(\"\") + \"]\")", lists[l]);
        if (strcmp(lists[l], "initContainers") == 0)
            sa_buf_printf(&carrier, "(%s || c.?restartPolicy.orValue(\"\") == \"Always\") && ",
                          pc->g->p->sessions.init_containers ? "true" : "false");
        sa_buf_puts(&carrier, sa_buf_str(&pc->names));
        if (pc->rule == SA_RULE_SESSION_ENV_FROM_SECRET) {
            sa_buf_puts(&one, container_secret);
        } else {
            sa_buf_puts(&one, container_pod);
            if (keys && strcmp(lists[l], "ephemeralContainers") != 0)
                sa_buf_puts(&one, container_key);
        }
        const gen_var vars[] = {{"W", sa_buf_str(&w)},
                                {"SEP", GEN_SEP},
                                {"WHAT", sa_buf_str(&pc->what)},
                                {"PREFIX_FORBIDDEN", sa_buf_str(&pc->prefix_forbidden)},
                                {"FORBIDDEN", sa_buf_str(&pc->forbidden)},
                                {"CARRIER", sa_buf_str(&carrier)},
                                {"KL", sa_buf_str(&pc->kl)},
                                {"K", sa_buf_str(&pc->key)},
                                {NULL, NULL}};
        sa_buf_printf(out, "%s%s.?%s.orValue([]).map(c, (", l ? ", " : "", sa_buf_str(&pc->spec),
                      lists[l]);
        gen_expand(pc->g, out, sa_buf_str(&one), vars);
        sa_buf_puts(out, ").join(\"\\n\")).join(\"\\n\")");
        pc->g->failed |= w.oom | carrier.oom | one.oom;
        sa_buf_free(&w);
        sa_buf_free(&carrier);
        sa_buf_free(&one);
    }
}

void gen_pod_records(gen *g, sa_rule rule, const char *root, sa_buf *out)
{
    pod_cel pc = {.g = g, .rule = rule};
    read_root(&pc, root);
    const gen_var vars[] = {{"SEP", GEN_SEP},
                            {"WHAT", sa_buf_str(&pc.what)},
                            {"SPEC", sa_buf_str(&pc.spec)},
                            {"ID", sa_buf_str(&pc.id)},
                            {"WANT", sa_buf_str(&pc.want)},
                            {"VALID", sa_buf_str(&pc.valid)},
                            {"SAU", sa_buf_str(&pc.sau)},
                            {"LABEL", sa_buf_str(&pc.label)},
                            {"TEMPLATE", sa_buf_str(&pc.tmpl)},
                            {"ALLOWED", sa_buf_str(&pc.allowed)},
                            {NULL, NULL}};
    /* validate_pod.c: a session pod (its label a string) is judged whole; a pod without the
     * label that runs as a session ServiceAccount is refused, its containers judged without the
     * key; any other pod is not judged. */
    sa_buf_printf(out, "%s ? [", sa_buf_str(&pc.present));
    if (rule == SA_RULE_SESSION_POD) {
        gen_expand(g, out, service_account, vars);
        sa_buf_puts(out, ", ");
    }
    if (rule == SA_RULE_SESSION_TOKEN_AUDIENCE)
        gen_expand(g, out, token_volumes, vars);
    else
        containers(&pc, 1, out);
    sa_buf_printf(out, "].join(\"\\n\") : (%s != \"\" && %s) ? [", sa_buf_str(&pc.sau),
                  sa_buf_str(&pc.session_sa));
    if (rule == SA_RULE_SESSION_POD) {
        gen_expand(g, out, unlabelled, vars);
        sa_buf_puts(out, ", ");
    }
    if (rule != SA_RULE_SESSION_TOKEN_AUDIENCE)
        containers(&pc, 0, out);
    else
        sa_buf_puts(out, "\"\"");
    sa_buf_puts(out, "].join(\"\\n\") : \"\"");
    free_cel(&pc);
}

void gen_pod_session_sa(gen *g, const char *root, sa_buf *present, sa_buf *want, sa_buf *valid,
                        sa_buf *current)
{
    pod_cel pc = {.g = g};
    read_root(&pc, root);
    sa_buf_puts(present, sa_buf_str(&pc.present));
    sa_buf_puts(want, sa_buf_str(&pc.want));
    sa_buf_puts(valid, sa_buf_str(&pc.valid));
    sa_buf_puts(current, sa_buf_str(&pc.sau));
    free_cel(&pc);
}
