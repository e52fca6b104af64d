/* fuzz_common.h: what the libFuzzer harnesses share: one snapshot of the built-in policy and the
 * example key, made once per process, and a way to wrap fuzz bytes as the object of a review. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_pubkey.h"
#include "sa_policy.h"

extern const char sa_example_public_key[];
extern const size_t sa_example_public_key_len;

static inline sa_snapshot *fuzz_snapshot(void)
{
    static sa_snapshot *snap;
    if (!snap) {
        sa_buf errors = SA_BUF_INIT;
        char err[256];
        sa_policy *p = sa_policy_builtin(&errors);
        sa_pubkey *k =
            sa_pubkey_parse(sa_example_public_key, sa_example_public_key_len, err, sizeof err);
        if (!p || !k)
            abort();
        if (!(snap = sa_snapshot_new(p, k)))
            abort();
        sa_buf_free(&errors);
    }
    return snap;
}

/* Judges data as the object of a review of the given kind on an endpoint; every answer must be
 * a well-formed 200 or a 400 with a reason. */
static inline void fuzz_object(sa_endpoint ep, const char *group, const char *kind, const char *op,
                               const uint8_t *data, size_t size)
{
    sa_buf b = SA_BUF_INIT;
    sa_buf_printf(&b,
                  "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                  "\"request\":{\"uid\":\"fuzz\",\"kind\":{\"group\":\"%s\",\"version\":\"v1\","
                  "\"kind\":\"%s\"},\"operation\":\"%s\",\"namespace\":\"project-a\","
                  "\"name\":\"session-fuzz\",\"userInfo\":{\"username\":\"fuzzer\"},\"object\":",
                  group, kind, op);
    sa_buf_append(&b, (const char *)data, size);
    sa_buf_puts(&b, "}}");
    sa_admit_result res;
    sa_admit(fuzz_snapshot(), ep, sa_buf_str(&b), b.len, &res);
    if (res.http_status != 200 && res.http_status != 400)
        abort();
    if (res.http_status == 200 && !strstr(res.body, "\"uid\":\"fuzz\""))
        abort();
    sa_admit_result_free(&res);
    sa_buf_free(&b);
}

#endif
