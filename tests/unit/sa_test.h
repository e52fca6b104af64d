/* sa_test.h: the few assertion macros the unit tests use.
 *
 * Each test file defines test functions, runs them with SA_RUN, and ends main with
 * SA_TEST_END(), which prints "N passed, N failed" and makes the exit status non-zero on any
 * failure. A failed check prints file, line and the expression, and the test goes on. */
#ifndef SA_TEST_H
#define SA_TEST_H

#include <stdio.h>
#include <string.h>

static int sa_test_failed_checks;
static int sa_test_passed, sa_test_failed;

#define SA_CHECK(cond)                                                               \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            sa_test_failed_checks++;                                                 \
        }                                                                            \
    } while (0)

#define SA_CHECK_STR(got, want)                                                              \
    do {                                                                                     \
        const char *g_ = (got), *w_ = (want);                                                \
        if (!g_ || strcmp(g_, w_) != 0) {                                                    \
            fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n", __FILE__, __LINE__, #got, \
                    g_ ? g_ : "(null)", w_);                                                 \
            sa_test_failed_checks++;                                                         \
        }                                                                                    \
    } while (0)

#define SA_CHECK_INT(got, want)                                                                 \
    do {                                                                                        \
        long long g_ = (long long)(got), w_ = (long long)(want);                                \
        if (g_ != w_) {                                                                         \
            fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
            sa_test_failed_checks++;                                                            \
        }                                                                                       \
    } while (0)

#define SA_RUN(fn)                              \
    do {                                        \
        int before_ = sa_test_failed_checks;    \
        fn();                                   \
        if (sa_test_failed_checks == before_) { \
            sa_test_passed++;                   \
        } else {                                \
            sa_test_failed++;                   \
            fprintf(stderr, "FAIL %s\n", #fn);  \
        }                                       \
    } while (0)

#define SA_TEST_END()                                                     \
    do {                                                                  \
        printf("%d passed, %d failed\n", sa_test_passed, sa_test_failed); \
        return sa_test_failed ? 1 : 0;                                    \
    } while (0)

#endif
