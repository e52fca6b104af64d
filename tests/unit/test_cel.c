/* test_cel.c: CEL literals and name sets written as CEL (sa_cel.h). What the expressions mean is
 * proven by evaluating them with an independent CEL implementation (tests/generate); here, the
 * exact text: escapes, the glob-to-regex rewrite (fnmatch(3)'s reading of brackets), the prefix
 * form, and the refusal of bracket forms CEL's regexes cannot say. */
#include <string.h>

#include "sa_cel.h"
#include "sa_test.h"

static sa_nameset *set_of(const char *const *entries)
{
    sa_nameset *s = sa_nameset_new();
    for (; *entries; entries++)
        sa_nameset_add(s, *entries);
    return s;
}

static void test_string(void)
{
    sa_buf out = SA_BUF_INIT;
    sa_cel_string(&out, "a\"b\\c\nd\x7f"
                        "é");
    SA_CHECK_STR(sa_buf_str(&out), "\"a\\\"b\\\\c\\x0ad\\x7fé\"");
    sa_buf_free(&out);
}

static void test_in_set(void)
{
    static const struct {
        const char *entries[4];
        const char *want, *want_prefix;
        /* clang-format off */
    } cases[] = {
        {{NULL}, "false", "false"},
        {{"b", "a", NULL}, "(x in [\"a\", \"b\"])", "([\"a\", \"b\"].exists(n, n.startsWith(x)))"},
        {{"GITHUB_*", NULL}, "(x.matches(\"^GITHUB_[\\\\s\\\\S]*$\"))",
         "(x.matches(\"^(?:G(?:I(?:T(?:H(?:U(?:B(?:_(?:[\\\\s\\\\S]*)?)?)?)?)?)?)?)?$\"))"},
        {{"a.b?", "c", NULL}, "(x in [\"c\"] || x.matches(\"^a\\\\.b[\\\\s\\\\S]$\"))", NULL},
        /* glibc's brackets: '!' negates, ']' first is a member, ranges, '\' escapes */
        {{"[!a-c]", "[]x]", "[\\^-]", NULL},
         "(x.matches(\"^[^a-c]$|^[\\\\^\\\\-]$|^[\\\\]x]$\"))", NULL},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sa_nameset *s = set_of(cases[i].entries);
        sa_buf out = SA_BUF_INIT, err = SA_BUF_INIT;
        SA_CHECK_INT(sa_cel_in_set(&out, s, "x", &err), 0);
        SA_CHECK_STR(sa_buf_str(&out), cases[i].want);
        if (cases[i].want_prefix) {
            sa_buf_reset(&out);
            SA_CHECK_INT(sa_cel_prefix_in_set(&out, s, "x", &err), 0);
            SA_CHECK_STR(sa_buf_str(&out), cases[i].want_prefix);
        }
        SA_CHECK_STR(sa_buf_str(&err), "");
        sa_buf_free(&out);
        sa_buf_free(&err);
        sa_nameset_free(s);
    }
}

static void test_refused(void)
{
    static const char *const entries[] = {"[[:alpha:]]*", NULL};
    sa_nameset *s = set_of(entries);
    sa_buf out = SA_BUF_INIT, err = SA_BUF_INIT;
    SA_CHECK_INT(sa_cel_in_set(&out, s, "x", &err), -1);
    SA_CHECK(strstr(sa_buf_str(&err), "\"[[:alpha:]]*\" uses a bracket form") != NULL);
    sa_buf_free(&out);
    sa_buf_free(&err);
    sa_nameset_free(s);
}

int main(void)
{
    SA_RUN(test_string);
    SA_RUN(test_in_set);
    SA_RUN(test_refused);
    SA_TEST_END();
}
