/* test_podkey.c: which containers carry the public key, the rule the mutation and the pod
 * validator share: by name, init containers per initContainers, native sidecars always,
 * ephemeral containers never. */
#include "sa_podkey.h"
#include "sa_test.h"
#include "sa_test_policy.h"

#define POLICY(init_containers)                              \
    "apiVersion: session-admission/v1alpha1\nkind: Policy\n" \
    "sessions: {publicKey: {containers: [\"runner*\"], initContainers: " init_containers "}}\n"

static void test_carriers(void)
{
    static const struct {
        const char *list, *container;
        int without_init, with_init; /* initContainers: false, then true */
        /* clang-format off */
    } cases[] = {
        {"containers", "{\"name\":\"runner\"}", 1, 1},
        {"containers", "{\"name\":\"proxy\"}", 0, 0},
        {"initContainers", "{\"name\":\"runner-setup\"}", 0, 1},
        /* A native sidecar runs for the pod's life: a container, whatever the flag says. */
        {"initContainers", "{\"name\":\"runner-sidecar\",\"restartPolicy\":\"Always\"}", 1, 1},
        {"initContainers", "{\"name\":\"proxy\",\"restartPolicy\":\"Always\"}", 0, 0},
        {"initContainers", "{\"name\":\"runner-x\",\"restartPolicy\":\"OnFailure\"}", 0, 1},
        /* Debug shells, not session code. */
        {"ephemeralContainers", "{\"name\":\"runner\"}", 0, 0},
        /* Without a string name: named "", which "runner*" does not match. */
        {"containers", "{\"name\":5}", 0, 0},
    };
    /* clang-format on */
    sa_policy *off = sa_test_policy(POLICY("false")), *on = sa_test_policy(POLICY("true"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *c = cJSON_Parse(cases[i].container);
        SA_CHECK_INT(sa_podkey_carrier(off, cases[i].list, c), cases[i].without_init);
        SA_CHECK_INT(sa_podkey_carrier(on, cases[i].list, c), cases[i].with_init);
        cJSON_Delete(c);
    }
    sa_policy_free(off);
    sa_policy_free(on);
}

int main(void)
{
    SA_RUN(test_carriers);
    SA_TEST_END();
}
