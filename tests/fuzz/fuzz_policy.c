/* fuzz_policy.c: arbitrary bytes as a policy file: the loader must refuse or accept, never crash,
 * and an accepted policy must summarise and free cleanly. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = sa_policy_load_text("fuzz.yaml", (const char *)data, size, &errors);
    if (p) {
        sa_buf summary = SA_BUF_INIT;
        sa_policy_summary(p, &summary);
        sa_buf_free(&summary);
        sa_policy_free(p);
    } else if (errors.len == 0) {
        abort(); /* a refusal always says why */
    }
    sa_buf_free(&errors);
    return 0;
}
