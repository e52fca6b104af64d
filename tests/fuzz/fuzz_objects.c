/* fuzz_objects.c: manifest bytes (YAML or JSON, any number of documents, Lists) through the object
 * reader, then every object it yields through scan's chain of webhooks: the path `scan` and
 * `test` take with untrusted files. */
#include "fuzz_common.h"
#include "sa_objects.h"
#include "sa_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sa_objects objs = SA_OBJECTS_INIT;
    char err[512];
    if (sa_objects_read(&objs, "fuzz", (const char *)data, size, err, sizeof err) < 0 && !*err)
        abort(); /* a failure always says why */
    sa_scan_request rq = {0};
    for (size_t i = 0; i < objs.count; i++) {
        sa_scan_result res;
        sa_scan_object(fuzz_snapshot(), objs.items[i].obj, &rq, &res);
        if (res.verdict < 0 || res.verdict >= SA_SCAN_VERDICT_COUNT)
            abort();
        sa_scan_result_free(&res);
    }
    sa_objects_free(&objs);
    return 0;
}
