/* fuzz_validate.c: arbitrary objects through every validator: the first byte picks the kind,
 * the rest is request.object. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        const char *group, *kind;
        /* clang-format off */
    } kinds[] = {
        {"rbac.authorization.k8s.io", "RoleBinding"},
        {"rbac.authorization.k8s.io", "ClusterRoleBinding"},
        {"rbac.authorization.k8s.io", "Role"},
        {"rbac.authorization.k8s.io", "ClusterRole"},
        {"authentication.k8s.io", "TokenRequest"},
        {"", "Pod"},
    };
    /* clang-format on */
    if (size < 1)
        return 0;
    size_t k = data[0] % (sizeof kinds / sizeof kinds[0]);
    const char *op = (data[0] & 0x80) ? "UPDATE" : "CREATE";
    fuzz_object(SA_ENDPOINT_VALIDATE, kinds[k].group, kinds[k].kind, op, data + 1, size - 1);
    return 0;
}
