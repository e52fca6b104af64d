/* test_schema.c: value checks on a YAML tree, each refusal as its message, and sections that
 * take absent keys from a defaults tree. */
#include <string.h>

#include "sa_schema.h"
#include "sa_test.h"

/* A tree of text (the caller frees it), which must read cleanly. */
static sa_yaml_node *tree(const char *text)
{
    sa_yaml_errors e = {.name = "t"};
    sa_yaml_node *root = NULL;
    sa_buf errors = SA_BUF_INIT;
    SA_CHECK_INT(sa_yaml_parse(&e, text, strlen(text), &root), 0);
    SA_CHECK_INT(sa_yaml_errors_flush(&e, &errors), 0);
    sa_buf_free(&errors);
    return root;
}

/* The errors recorded in e, one line each; e is emptied. */
static const char *flushed(sa_yaml_errors *e, sa_buf *out)
{
    sa_buf_free(out);
    sa_yaml_errors_flush(e, out);
    return sa_buf_str(out);
}

static void test_values(void)
{
    sa_yaml_node *root = tree("s: abc\n"
                              "q: \"40\"\n"
                              "n: ~\n"
                              "l: [1]\n"
                              "b: True\n"
                              "qb: 'true'\n"
                              "i: 12\n"
                              "g: team-*\n"
                              "e: ''\n");
    sa_yaml_errors e = {.name = "t"};
    sa_buf out = SA_BUF_INIT;
    const sa_yaml_node *s = sa_yaml_member(root, "s"), *q = sa_yaml_member(root, "q"),
                       *n = sa_yaml_member(root, "n"), *l = sa_yaml_member(root, "l");

    SA_CHECK_STR(sa_schema_want_string(&e, s, "s", "a string"), "abc");
    SA_CHECK(!sa_schema_want_string(&e, n, "n", "a string"));
    SA_CHECK(!sa_schema_want_name(&e, sa_yaml_member(root, "e"), "e"));
    SA_CHECK(!sa_schema_want_exact(&e, sa_yaml_member(root, "g"), "g", "looked up by name"));
    SA_CHECK_STR(flushed(&e, &out),
                 "t:3:4: n: expected a string, found null\n"
                 "t:8:4: g: expected an exact name (looked up by name), found the pattern "
                 "'team-*'\n"
                 "t:9:4: e: expected a non-empty string, found \"\"\n");

    int flag = -1;
    SA_CHECK_INT(sa_schema_want_bool(&e, sa_yaml_member(root, "b"), "b", &flag), 0);
    SA_CHECK_INT(flag, 1);
    SA_CHECK_INT(sa_schema_want_bool(&e, sa_yaml_member(root, "qb"), "qb", &flag), -1);
    long v = 0;
    SA_CHECK_INT(sa_schema_want_int(&e, sa_yaml_member(root, "i"), "i", 1, 12, &v), 0);
    SA_CHECK_INT(v, 12);
    SA_CHECK_INT(sa_schema_want_int(&e, sa_yaml_member(root, "i"), "i", 1, 11, &v), -1);
    SA_CHECK_INT(sa_schema_want_int(&e, q, "q", 1, 99, &v), -1);
    SA_CHECK_INT(sa_schema_want_type(&e, l, "l", SA_YAML_MAP), -1);
    SA_CHECK_INT(sa_schema_want_type(&e, l, "l", SA_YAML_LIST), 0);
    SA_CHECK_STR(flushed(&e, &out), "t:2:4: q: expected an integer from 1 to 99, found \"40\"\n"
                                    "t:4:4: l: expected a mapping, found a list\n"
                                    "t:6:5: qb: expected true or false, found \"true\"\n"
                                    "t:7:4: i: expected an integer from 1 to 11, found '12'\n");

    /* Choices are listed from the table; NULL entries are gaps, not choices. */
    static const char *const names[] = {NULL, "one", "two", "three"};
    SA_CHECK_INT(sa_schema_want_enum(&e, s, "s", names, 4), -1);
    SA_CHECK_INT(sa_schema_want_enum(&e, s, "s", names + 1, 2), -1);
    SA_CHECK_INT(sa_schema_want_enum(&e, s, "s", names + 1, 1), -1);
    SA_CHECK_STR(flushed(&e, &out), "t:1:4: s: expected one, two or three, found 'abc'\n"
                                    "t:1:4: s: expected one or two, found 'abc'\n"
                                    "t:1:4: s: expected one, found 'abc'\n");
    static const char *const abc[] = {"x", "abc"};
    SA_CHECK_INT(sa_schema_want_enum(&e, s, "s", abc, 2), 1);

    char buf[SA_SCHEMA_FOUND_LEN];
    SA_CHECK_STR(sa_schema_found(l, buf, sizeof buf), "a list");
    SA_CHECK_STR(sa_schema_found(root, buf, sizeof buf), "a mapping");
    sa_buf_free(&out);
    sa_yaml_free(root);
}

static void test_names(void)
{
    sa_yaml_node *root = tree("globs: [a, 'b*', a, '[x', '']\n"
                              "exact: [a, 'b*']\n"
                              "one: solo\n");
    sa_yaml_errors e = {.name = "t"};
    sa_buf out = SA_BUF_INIT;
    sa_nameset *set =
        sa_schema_names(&e, sa_yaml_member(root, "globs"), "globs", SA_SCHEMA_NAMES_GLOB, 0, NULL);
    SA_CHECK_INT(sa_nameset_count(set), 2);
    SA_CHECK(sa_nameset_match(set, "bee"));
    sa_nameset_free(set);
    set = sa_schema_names(&e, sa_yaml_member(root, "exact"), "exact", SA_SCHEMA_NAMES_EXACT, 0,
                          "by name");
    SA_CHECK_INT(sa_nameset_count(set), 1);
    sa_nameset_free(set);
    set = sa_schema_names(&e, sa_yaml_member(root, "one"), "one", SA_SCHEMA_NAMES_GLOB, 1, NULL);
    SA_CHECK(sa_nameset_match(set, "solo"));
    sa_nameset_free(set);
    set = sa_schema_names(&e, sa_yaml_member(root, "one"), "one", SA_SCHEMA_NAMES_GLOB, 0, NULL);
    SA_CHECK_INT(sa_nameset_count(set), 0);
    sa_nameset_free(set);
    SA_CHECK_STR(flushed(&e, &out),
                 "t:1:18: globs[2]: duplicate entry 'a'\n"
                 "t:1:21: globs[3]: expected a valid glob, found \"[x\" (unclosed '[' or a "
                 "trailing '\\')\n"
                 "t:1:27: globs[4]: expected a non-empty string, found \"\"\n"
                 "t:2:12: exact[1]: expected an exact name (by name), found the pattern \"b*\"\n"
                 "t:3:6: one: expected a list of strings, found 'solo'\n");
    sa_buf_free(&out);
    sa_yaml_free(root);
}

static void test_sections(void)
{
    sa_yaml_node *defaults = tree("top:\n  a: 1\n  b: [x]\n  sub: {c: d}\n");
    sa_yaml_node *user = tree("top:\n  b: [y]\n  zz: 2\n  sub: [not, a, map]\n");
    static const char *const keys[] = {"a", "b", "sub", NULL};
    static const char *const sub_keys[] = {"c", NULL};
    sa_yaml_errors e = {.name = "t"};
    sa_buf out = SA_BUF_INIT;
    sa_schema_section root = {user, defaults, ""}, top, sub;
    sa_schema_subsection(&e, &root, "top", keys, &top);
    SA_CHECK_STR(top.path, "top");
    char path[SA_SCHEMA_PATH_LEN];
    const sa_yaml_node *a = sa_schema_field(&top, "a", path), *b = sa_schema_field(&top, "b", path);
    SA_CHECK_STR(path, "top.b");
    SA_CHECK(a && !strcmp(a->text, "1") && a->line == 2);        /* the default's */
    SA_CHECK(b && b->n == 1 && !strcmp(b->items[0]->text, "y")); /* the user's */
    sa_schema_subsection(&e, &top, "sub", sub_keys, &sub);
    const sa_yaml_node *c = sa_schema_field(&sub, "c", path);
    SA_CHECK_STR(path, "top.sub.c");
    SA_CHECK(c && !strcmp(c->text, "d"));

    const sa_yaml_node *row = sa_yaml_member(sa_yaml_member(defaults, "top"), "sub");
    SA_CHECK(sa_schema_required(&e, row, "rows[0]", "c", "a c", path) == c);
    SA_CHECK(!sa_schema_required(&e, row, "rows[0]", "k", "a kind", path));
    SA_CHECK_STR(path, "rows[0].k");
    SA_CHECK(!sa_schema_required_list(&e, row, "rows[0]", "c", "a list of c", path));
    SA_CHECK_STR(flushed(&e, &out), "t:3:3: unknown key 'zz' in top (expected one of: a, b, sub)\n"
                                    "t:4:8: top.sub: expected a mapping, found a list\n"
                                    "t:4:8: rows[0]: missing key 'k' (expected a kind)\n"
                                    "t:4:12: rows[0].c: expected a list, found 'd'\n");
    sa_buf_free(&out);
    sa_yaml_free(user);
    sa_yaml_free(defaults);
}

int main(void)
{
    SA_RUN(test_values);
    SA_RUN(test_names);
    SA_RUN(test_sections);
    SA_TEST_END();
}
