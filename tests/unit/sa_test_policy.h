/* sa_test_policy.h: a policy from YAML text, for the unit tests of modules that read one.
 * A policy the loader refuses fails the check and prints the loader's errors; the test then
 * gets NULL. */
#ifndef SA_TEST_POLICY_H
#define SA_TEST_POLICY_H

#include <string.h>

#include "sa_policy.h"
#include "sa_test.h"

/* Free the result with sa_policy_free. */
static inline sa_policy *sa_test_policy(const char *text)
{
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = sa_policy_load_text("test", text, strlen(text), &errors);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    sa_buf_free(&errors);
    return p;
}

#endif
