/* fuzz_review.c: whole AdmissionReview bodies through the core on both endpoints: the codec,
 * strict JSON, dispatch, and whatever handler the kind reaches. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int ep = 0; ep < SA_ENDPOINT_COUNT; ep++) {
        sa_admit_result res;
        sa_admit(fuzz_snapshot(), (sa_endpoint)ep, (const char *)data, size, &res);
        if (res.http_status != 200 && res.http_status != 400)
            abort();
        sa_admit_result_free(&res);
    }
    return 0;
}
