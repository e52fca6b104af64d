/* test_k8sname.c: DNS-1123 subdomains, qualified names, C identifiers and the session
 * ServiceAccount name, as tables of names the API server accepts and refuses. */
#include <string.h>

#include "sa_k8sname.h"
#include "sa_test.h"

static void test_subdomain(void)
{
    static const struct {
        const char *name;
        int ok;
        /* clang-format off */
    } cases[] = {
        {"a", 1},           {"session-abc-sa", 1}, {"a.b.c", 1},   {"0", 1},
        {"a-1.b-2", 1},     {"", 0},               {"-a", 0},      {"a-", 0},
        {"A", 0},           {"a_b", 0},            {"a..b", 0},    {".a", 0},
        {"a.", 0},          {"a.-b", 0},           {"a-.b", 0},    {"a b", 0},
        {"session-é", 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sa_k8sname_subdomain(cases[i].name, strlen(cases[i].name)) != cases[i].ok)
            SA_CHECK_STR(cases[i].name, cases[i].ok ? "(accepted)" : "(refused)");

    char name[SA_K8SNAME_SUBDOMAIN_MAX + 2];
    memset(name, 'a', sizeof name);
    SA_CHECK(sa_k8sname_subdomain(name, SA_K8SNAME_SUBDOMAIN_MAX));
    SA_CHECK(!sa_k8sname_subdomain(name, SA_K8SNAME_SUBDOMAIN_MAX + 1));
    /* Only len bytes are read: a prefix of a longer string. */
    SA_CHECK(sa_k8sname_subdomain("abc/def", 3));
}

static void test_qualified(void)
{
    static const struct {
        const char *name;
        int ok;
        /* clang-format off */
    } cases[] = {
        {"app", 1},
        {"ambient-code.io/session-id", 1},
        {"kubernetes.io/bootstrapping", 1},
        {"A_b.C-d", 1},
        {"x/Y", 1},
        {"", 0},
        {"/name", 0},
        {"prefix/", 0},
        {"Prefix.io/name", 0},
        {"a/b/c", 0},
        {"_a", 0},
        {"a-", 0},
        {"a b", 0},
        {"a:b", 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sa_k8sname_qualified(cases[i].name) != cases[i].ok)
            SA_CHECK_STR(cases[i].name, cases[i].ok ? "(accepted)" : "(refused)");

    char name[SA_K8SNAME_QUALIFIED_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    SA_CHECK(!sa_k8sname_qualified(name));
    name[SA_K8SNAME_QUALIFIED_MAX] = '\0';
    SA_CHECK(sa_k8sname_qualified(name));
}

static void test_c_identifier(void)
{
    SA_CHECK(sa_k8sname_c_identifier("AMBIENT_CP_TOKEN_PUBLIC_KEY"));
    SA_CHECK(sa_k8sname_c_identifier("_x9"));
    SA_CHECK(sa_k8sname_c_identifier("a"));
    SA_CHECK(!sa_k8sname_c_identifier(""));
    SA_CHECK(!sa_k8sname_c_identifier("9a"));
    SA_CHECK(!sa_k8sname_c_identifier("A-B"));
    SA_CHECK(!sa_k8sname_c_identifier("A.B"));
}

/* Renders tmpl for id into a fresh buffer: the name, or "(refused)". */
static const char *render(const char *tmpl, int max, const char *id, sa_buf *out)
{
    sa_buf_free(out);
    return sa_k8sname_session_sa(tmpl, max, id, out) == 0 ? sa_buf_str(out) : "(refused)";
}

static void test_session_sa(void)
{
    sa_buf out = SA_BUF_INIT;
    SA_CHECK_STR(render("session-{id}-sa", 40, "ABC123", &out), "session-abc123-sa");
    SA_CHECK_STR(render("{id}", 40, "x", &out), "x");
    SA_CHECK_STR(render("session-{id}-sa", 3, "abcdef", &out), "session-abc-sa");
    /* A cut leaving "a-" is valid inside the name, and refused at its end: never trimmed. */
    SA_CHECK_STR(render("session-{id}-sa", 2, "a-b", &out), "session-a--sa");
    SA_CHECK_STR(render("{id}", 2, "a-b", &out), "(refused)");
    SA_CHECK_STR(render("session-{id}-sa", 40, "", &out), "(refused)");
    SA_CHECK_STR(render("session-sa", 40, "abc", &out), "(refused)");
    SA_CHECK_STR(render("session-{id}-sa", 40, "a_b", &out), "(refused)");
    SA_CHECK_STR(render("session-{id}-sa", 40, "a.b", &out), "session-a.b-sa");
    /* Only the first {id} is replaced. */
    SA_CHECK_STR(render("{id}-{id}", 40, "a", &out), "(refused)");

    /* Appended: what out held before stays, and only the appended name is checked. */
    sa_buf_free(&out);
    sa_buf_puts(&out, "Prefix: ");
    SA_CHECK_INT(sa_k8sname_session_sa("s-{id}", 40, "X", &out), 0);
    SA_CHECK_STR(sa_buf_str(&out), "Prefix: s-x");
    sa_buf_free(&out);
}

int main(void)
{
    SA_RUN(test_subdomain);
    SA_RUN(test_qualified);
    SA_RUN(test_c_identifier);
    SA_RUN(test_session_sa);
    SA_TEST_END();
}
