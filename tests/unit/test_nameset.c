/* test_nameset.c: exact names and globs, duplicates, malformed globs, 100,000 names. */
#include <stdio.h>

#include "sa_nameset.h"
#include "sa_test.h"

static void test_exact_and_glob(void)
{
    sa_nameset *s = sa_nameset_new();
    SA_CHECK_INT(sa_nameset_add(s, "kube-system"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "team-*"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "session-*-sa"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "credential-?"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "db[0-9]"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_count(s), 5);
    SA_CHECK(sa_nameset_match(s, "kube-system"));
    SA_CHECK(!sa_nameset_match(s, "kube-systemx"));
    SA_CHECK(!sa_nameset_match(s, "Kube-System"));
    SA_CHECK(sa_nameset_match(s, "team-a"));
    SA_CHECK(sa_nameset_match(s, "team-"));
    SA_CHECK(!sa_nameset_match(s, "tea"));
    SA_CHECK(sa_nameset_match(s, "session-abc-sa"));
    SA_CHECK(!sa_nameset_match(s, "session-abc-sb"));
    SA_CHECK(sa_nameset_match(s, "credential-x"));
    SA_CHECK(!sa_nameset_match(s, "credential-xy"));
    SA_CHECK(sa_nameset_match(s, "db7"));
    SA_CHECK(!sa_nameset_match(s, "dbx"));
    SA_CHECK(!sa_nameset_match(s, ""));
    SA_CHECK(!sa_nameset_match(NULL, "x"));
    SA_CHECK_INT(sa_nameset_count(NULL), 0);
    sa_nameset_free(s);
}

static void test_star_matches_all(void)
{
    sa_nameset *s = sa_nameset_new();
    SA_CHECK_INT(sa_nameset_add(s, "*"), SA_NAMESET_ADDED);
    SA_CHECK(sa_nameset_match(s, "ambient-code-runner"));
    SA_CHECK(sa_nameset_match(s, "api://AzureADTokenExchange")); /* no FNM_PATHNAME */
    SA_CHECK(sa_nameset_match(s, ""));
    sa_nameset_free(s);
}

static void test_duplicates_and_malformed(void)
{
    sa_nameset *s = sa_nameset_new();
    SA_CHECK_INT(sa_nameset_add(s, "a"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "a"), SA_NAMESET_DUPLICATE);
    SA_CHECK_INT(sa_nameset_add(s, "b*"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "b*"), SA_NAMESET_DUPLICATE);
    SA_CHECK_INT(sa_nameset_add(s, "[abc"), SA_NAMESET_BAD_GLOB);
    SA_CHECK_INT(sa_nameset_add(s, "x[!"), SA_NAMESET_BAD_GLOB);
    SA_CHECK_INT(sa_nameset_add(s, "x*\\"), SA_NAMESET_BAD_GLOB);
    SA_CHECK_INT(sa_nameset_add(s, "[]]"), SA_NAMESET_ADDED); /* ']' first in a bracket is a member */
    SA_CHECK_INT(sa_nameset_add(s, "[!]]x"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "lit\\*"), SA_NAMESET_ADDED); /* an escaped star is literal */
    SA_CHECK(sa_nameset_match(s, "]"));
    SA_CHECK(sa_nameset_match(s, "ax"));
    SA_CHECK(sa_nameset_match(s, "lit*"));
    SA_CHECK(!sa_nameset_match(s, "litx"));
    SA_CHECK_INT(sa_nameset_count(s), 5);
    sa_nameset_free(s);
}

static void test_100k(void)
{
    sa_nameset *s = sa_nameset_new();
    char name[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "user-%d@example.com", i);
        SA_CHECK_INT(sa_nameset_add(s, name), SA_NAMESET_ADDED);
    }
    SA_CHECK_INT(sa_nameset_add(s, "ops-*"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_count(s), 100001);
    SA_CHECK(sa_nameset_match(s, "user-0@example.com"));
    SA_CHECK(sa_nameset_match(s, "user-99999@example.com"));
    SA_CHECK(!sa_nameset_match(s, "user-100000@example.com"));
    SA_CHECK(sa_nameset_match(s, "ops-alice"));
    sa_nameset_free(s);
}

int main(void)
{
    SA_RUN(test_exact_and_glob);
    SA_RUN(test_star_matches_all);
    SA_RUN(test_duplicates_and_malformed);
    SA_RUN(test_100k);
    SA_TEST_END();
}
