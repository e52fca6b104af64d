/* bench_core.c: the admission core alone, looped: how much one review costs with no TLS, no
 * HTTP and no scheduler in the way.
 *
 *   bench_core POLICY PUBLIC_KEY REVIEW mutate|validate ITERATIONS
 *
 * Loads the policy and key once, then calls sa_admit ITERATIONS times on the same review bytes
 * and prints one line: iterations, nanoseconds per call (wall clock, so noisy on a shared
 * machine), the response size and the decision. Under `valgrind --tool=callgrind
 * --instr-atstart=no` only the loop is instrumented (the policy loads at near native speed), and
 * the instruction count divided by the iterations is the cost of one request, repeatable to the
 * instruction. That is how bench/run.sh measures scaling with the number of containers and with
 * the policy's size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <valgrind/callgrind.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_pubkey.h"
#include "sa_policy.h"

int main(int argc, char **argv)
{
    if (argc != 6 || (strcmp(argv[4], "mutate") != 0 && strcmp(argv[4], "validate") != 0)) {
        fprintf(stderr, "usage: bench_core POLICY PUBLIC_KEY REVIEW mutate|validate ITERATIONS\n");
        return 2;
    }
    char err[512];
    sa_buf errors = SA_BUF_INIT, review = SA_BUF_INIT;
    sa_policy *policy = sa_policy_load_file(argv[1], &errors);
    sa_pubkey *key = sa_pubkey_load(argv[2], err, sizeof err);
    if (!policy || !key || sa_buf_read_file(&review, argv[3], 64u << 20, err, sizeof err) < 0) {
        fprintf(stderr, "bench_core: %s%s\n", sa_buf_str(&errors), err);
        return 1;
    }
    sa_snapshot *snap = sa_snapshot_new(policy, key);
    if (!snap) {
        sa_policy_free(policy);
        sa_pubkey_free(key);
        return 1;
    }
    sa_endpoint ep = strcmp(argv[4], "mutate") == 0 ? SA_ENDPOINT_MUTATE : SA_ENDPOINT_VALIDATE;
    long iterations = strtol(argv[5], NULL, 10);
    size_t out_len = 0;
    sa_decision decision = SA_DECISION_ERROR;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CALLGRIND_START_INSTRUMENTATION;
    for (long i = 0; i < iterations; i++) {
        sa_admit_result res;
        sa_admit(snap, ep, sa_buf_str(&review), review.len, &res);
        out_len = res.body_len;
        decision = res.decision;
        sa_admit_result_free(&res);
    }
    CALLGRIND_STOP_INSTRUMENTATION;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("iterations=%ld ns_per_review=%.0f request_bytes=%zu response_bytes=%zu decision=%s\n",
           iterations, iterations ? ns / (double)iterations : 0.0, review.len, out_len,
           sa_admit_decision_name(decision));
    sa_snapshot_release(snap);
    sa_buf_free(&review);
    sa_buf_free(&errors);
    return 0;
}
