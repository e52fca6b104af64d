/* fuzz_mutate.c: arbitrary pods (the fuzz bytes are request.object) through the mutation. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_object(SA_ENDPOINT_MUTATE, "", "Pod", "CREATE", data, size);
    return 0;
}
