/* podkey.c: which of a session pod's containers carry the public key (see sa_podkey.h). */
#include "sa_podkey.h"

#include <string.h>

#include "sa_json.h"

int sa_podkey_carrier(const sa_policy *p, const char *list, const cJSON *container)
{
    int wanted;
    if (strcmp(list, "containers") == 0)
        wanted = 1;
    else if (strcmp(list, "initContainers") == 0)
        wanted = p->sessions.init_containers ||
                 strcmp(sa_json_string(container, "restartPolicy"), "Always") == 0;
    else
        wanted = 0;
    return wanted && sa_nameset_match(p->sessions.containers, sa_json_string(container, "name"));
}
