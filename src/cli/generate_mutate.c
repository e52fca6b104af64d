/* generate_mutate.c: the session pod mutation (mutate.c) as the JSONPatch CEL of a
 * MutatingAdmissionPolicy (Kubernetes 1.33+: it needs two-variable comprehensions for the
 * containers' indexes, which kube-apiserver accepts in stored expressions from 1.33; the API
 * itself is v1alpha1 behind the MutatingAdmissionPolicy feature gate in 1.33, v1beta1 in 1.34,
 * v1 in 1.36). JSONPatch, not ApplyConfiguration: env may hold duplicates a merge would refuse.
 *
 * Where mutate.c patches a container's env entry by entry, this writes the container's whole
 * env once (the first key entry made right in its place, later duplicates dropped, or the entry
 * appended): the same object, one operation per container, since CEL here has no flatten to
 * build a list of a varying number of operations per container. Nothing is written when the
 * pod is right already, so reinvocation changes nothing. A pod mutate.c refuses (an id that
 * forms no ServiceAccount name, another ServiceAccount with onMismatch: deny in enforce mode) is
 * not mutated: the session-pod ValidatingAdmissionPolicy then denies it, as the webhook does. */
#include "generate_internal.h"

#include <string.h>

#include "sa_patch.h"

#define SPEC "object.spec"

/* One container list's operations: c is the container at index i. */
static const char env_ops[] =
    "object.spec.?${LIST}.orValue([]).transformList(i, c, (${CARRIER}) && type(c.?env.orValue([])) == list && "
    "!(c.?env.orValue([]).filter(e, e.?name.orValue(\"\") == ${K}).size() == 1 && "
    "c.env.filter(e, e.?name.orValue(\"\") == ${K})[0].?value.orValue(\"\") == params.data.publicKey && "
    "!has(c.env.filter(e, e.?name.orValue(\"\") == ${K})[0].valueFrom)), "
    "JSONPatch{op: \"add\", path: \"/spec/${LIST}/\" + string(i) + \"/env\", value: "
    "!has(c.env) ? [dyn(${ENTRY})] : "
    "c.env.exists(e, e.?name.orValue(\"\") == ${K}) ? c.env.transformList(j, e, "
    "e.?name.orValue(\"\") != ${K} || j == c.env.transformList(x, f, f.?name.orValue(\"\") == ${K}, x)[0], "
    "e.?name.orValue(\"\") == ${K} ? dyn(${ENTRY}) : dyn(e)) : "
    "c.env.map(e, dyn(e)) + [dyn(${ENTRY})]})";

static const char sa_ops[] =
    "(" SPEC ".?serviceAccountName.orValue(\"\") != ${WANT} ? [JSONPatch{op: \"add\", "
    "path: \"/spec/serviceAccountName\", value: ${WANT}}] : []) + "
    "(has(" SPEC ".serviceAccount) && " SPEC ".?serviceAccount.orValue(\"\") != ${WANT} ? "
    "[JSONPatch{op: \"replace\", path: \"/spec/serviceAccount\", value: ${WANT}}] : [])";

static const char annotation_ops[] =
    "!has(object.metadata.annotations) ? [JSONPatch{op: \"add\", path: \"/metadata/annotations\", "
    "value: {${ANN}: string(params.data.fingerprint)}}] : "
    "object.metadata.annotations[?${ANN}].orValue(\"\") == params.data.fingerprint ? [] : "
    "[JSONPatch{op: \"add\", path: ${ANN_PATH}, value: params.data.fingerprint}]";

void gen_mutations(gen *g, const char *want, cJSON *mutations)
{
    const sa_policy *p = g->p;
    sa_buf k = SA_BUF_INIT, entry = SA_BUF_INIT, names = SA_BUF_INIT, ann = SA_BUF_INIT,
           path = SA_BUF_INIT, ptr = SA_BUF_INIT, ops = SA_BUF_INIT;
    gen_str(&k, p->sessions.key_env);
    sa_buf_printf(&entry, "{\"name\": %s, \"value\": string(params.data.publicKey)}",
                  sa_buf_str(&k));
    gen_in_set(g, &names, p->sessions.containers, "c.?name.orValue(\"\")");
    gen_str(&ann, p->sessions.fingerprint_annotation);
    sa_buf_puts(&ptr, "/metadata/annotations");
    sa_patch_pointer_push(&ptr, p->sessions.fingerprint_annotation);
    gen_str(&path, sa_buf_str(&ptr));
    static const char *const lists[] = {"containers", "initContainers"};
    const char *exprs[4];
    sa_buf list_ops[2] = {SA_BUF_INIT, SA_BUF_INIT};
    for (size_t l = 0; l < 2; l++) {
        sa_buf carrier = SA_BUF_INIT;
        if (l == 1)
            sa_buf_printf(&carrier, "(%s || c.?restartPolicy.orValue(\"\") == \"Always\") && ",
                          p->sessions.init_containers ? "true" : "false");
        sa_buf_puts(&carrier, sa_buf_str(&names));
        const gen_var vars[] = {{"LIST", lists[l]},
                                {"CARRIER", sa_buf_str(&carrier)},
                                {"K", sa_buf_str(&k)},
                                {"ENTRY", sa_buf_str(&entry)},
                                {NULL, NULL}};
        gen_expand(g, &list_ops[l], env_ops, vars);
        g->failed |= carrier.oom;
        sa_buf_free(&carrier);
    }
    const gen_var avars[] = {
        {"ANN", sa_buf_str(&ann)}, {"ANN_PATH", sa_buf_str(&path)}, {NULL, NULL}};
    gen_expand(g, &ops, annotation_ops, avars);
    sa_buf sa = SA_BUF_INIT;
    const gen_var svars[] = {{"WANT", want}, {NULL, NULL}};
    gen_expand(g, &sa, sa_ops, svars);
    exprs[0] = sa_buf_str(&sa);
    exprs[1] = sa_buf_str(&list_ops[0]);
    exprs[2] = sa_buf_str(&list_ops[1]);
    exprs[3] = sa_buf_str(&ops);
    /* One mutation, not four: kube-apiserver 1.33 pays per mutation, not only per expression
     * (bench/apiserver_latency.sh: 18.3 ms a pod as four, 9.3 ms as one; where inside it goes
     * was not profiled). The four lists touch disjoint paths and read only the pod as it came,
     * so their concatenation is the same patch. */
    sa_buf one = SA_BUF_INIT;
    for (size_t i = 0; i < 4; i++)
        sa_buf_printf(&one, "%s(%s)", i ? " + " : "", exprs[i]);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "patchType", "JSONPatch");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "jsonPatch"), "expression",
                            sa_buf_str(&one));
    cJSON_AddItemToArray(mutations, m);
    sa_buf *all[] = {&sa,  &k,   &entry,       &names,       &ann, &path,
                     &ptr, &ops, &list_ops[0], &list_ops[1], &one};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        g->failed |= all[i]->oom;
        sa_buf_free(all[i]);
    }
}
