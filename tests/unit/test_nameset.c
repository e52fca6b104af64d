/* test_nameset.c: exact names and globs, duplicates, malformed globs, 100,000 names, and
 * prefix matching checked against fnmatch(3) itself over every short glob and prefix. */
#include <stdio.h>
#include <string.h>

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
    SA_CHECK_INT(sa_nameset_add(s, "[]]"),
                 SA_NAMESET_ADDED); /* ']' first in a bracket is a member */
    SA_CHECK_INT(sa_nameset_add(s, "[!]]x"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "lit\\*"), SA_NAMESET_ADDED); /* an escaped star is literal */
    /* glibc's fnmatch reads '\\' inside a bracket as an escape: "[\\]" is unclosed. */
    SA_CHECK_INT(sa_nameset_add(s, "x[\\]"), SA_NAMESET_BAD_GLOB);
    SA_CHECK_INT(sa_nameset_add(s, "[[:alpha:]]"), SA_NAMESET_ADDED);
    SA_CHECK(sa_nameset_match(s, "q"));
    SA_CHECK(sa_nameset_match(s, "]"));
    SA_CHECK(sa_nameset_match(s, "ax"));
    SA_CHECK(sa_nameset_match(s, "lit*"));
    SA_CHECK(!sa_nameset_match(s, "litx"));
    SA_CHECK_INT(sa_nameset_count(s), 6);
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

static void test_prefix(void)
{
    sa_nameset *s = sa_nameset_new();
    SA_CHECK_INT(sa_nameset_add(s, "GITHUB_TOKEN"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "AWS_*_KEY"), SA_NAMESET_ADDED);
    SA_CHECK_INT(sa_nameset_add(s, "DB[0-9]_PASS"), SA_NAMESET_ADDED);
    SA_CHECK(sa_nameset_match_prefix(s, "GITHUB_"));
    SA_CHECK(sa_nameset_match_prefix(s, "GITHUB_TOKEN"));
    SA_CHECK(!sa_nameset_match_prefix(s, "GITHUB_TOKENX"));
    SA_CHECK(sa_nameset_match_prefix(s, "AWS_SECRET_")); /* AWS_SECRET_ + _KEY */
    SA_CHECK(sa_nameset_match_prefix(s, "AWS_X_KEY"));
    SA_CHECK(sa_nameset_match_prefix(s, "DB7"));
    SA_CHECK(!sa_nameset_match_prefix(s, "DBX"));
    SA_CHECK(!sa_nameset_match_prefix(s, "APP_"));
    SA_CHECK(sa_nameset_match_prefix(s, "")); /* every name starts with "" */
    SA_CHECK(!sa_nameset_match_prefix(NULL, ""));
    sa_nameset_free(s);
}

/* The oracle: a completion of at most three characters of the alphabet, matched by fnmatch
 * through sa_nameset_match. Every glob of at most three characters has one if any exists. */
static const char alphabet[] = "AB]!\\*?[";

static int oracle_extends(const sa_nameset *s, char *name, size_t at, size_t left)
{
    name[at] = '\0';
    if (sa_nameset_match(s, name))
        return 1;
    for (size_t i = 0; left && alphabet[i]; i++) {
        name[at] = alphabet[i];
        if (oracle_extends(s, name, at + 1, left - 1))
            return 1;
    }
    name[at] = '\0';
    return 0;
}

/* Every string of the alphabet of length n, in turn, into out; returns 0 past the last. */
static int next_string(char *out, size_t n, size_t *counter)
{
    size_t k = strlen(alphabet), c = (*counter)++;
    for (size_t i = 0; i < n; i++, c /= k)
        out[i] = alphabet[c % k];
    out[n] = '\0';
    return c == 0;
}

static void test_prefix_against_fnmatch(void)
{
    size_t globs = 0, disagreements = 0;
    for (size_t glen = 1; glen <= 3; glen++) {
        char g[4];
        for (size_t gi = 0; next_string(g, glen, &gi);) {
            sa_nameset *s = sa_nameset_new();
            if (sa_nameset_add(s, g) != SA_NAMESET_ADDED) {
                sa_nameset_free(s);
                continue;
            }
            globs++;
            for (size_t plen = 0; plen <= 2; plen++) {
                char prefix[3], name[8];
                for (size_t pi = 0; next_string(prefix, plen, &pi);) {
                    memcpy(name, prefix, plen + 1);
                    int want = oracle_extends(s, name, plen, 3);
                    if (sa_nameset_match_prefix(s, prefix) != want && disagreements++ < 5)
                        fprintf(stderr, "glob \"%s\" prefix \"%s\": expected %d\n", g, prefix,
                                want);
                }
            }
            sa_nameset_free(s);
        }
    }
    SA_CHECK(globs > 300);
    SA_CHECK_INT(disagreements, 0);
}

int main(void)
{
    SA_RUN(test_exact_and_glob);
    SA_RUN(test_star_matches_all);
    SA_RUN(test_duplicates_and_malformed);
    SA_RUN(test_100k);
    SA_RUN(test_prefix);
    SA_RUN(test_prefix_against_fnmatch);
    SA_TEST_END();
}
