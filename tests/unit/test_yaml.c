/* test_yaml.c: the positioned YAML tree and its errors: shapes and positions, what is refused
 * (anchors, aliases, tags, duplicate keys, NUL, deep nesting, several documents), syntax errors,
 * columns in characters, the manifest mode, and errors coming out sorted by position. */
#include <stdio.h>
#include <string.h>

#include "sa_test.h"
#include "sa_yaml.h"

/* Parses text as "t.yaml": the tree (the caller frees it) and every error line into errors. */
static sa_yaml_node *parse(const char *text, size_t len, int *rc, sa_buf *errors)
{
    sa_yaml_errors e = {.name = "t.yaml"};
    sa_yaml_node *root;
    *rc = sa_yaml_parse(&e, text, len, &root);
    sa_yaml_errors_flush(&e, errors);
    return root;
}

/* The errors of text, one line each. */
static const char *errors_of(const char *text, sa_buf *errors)
{
    int rc;
    sa_buf_free(errors);
    sa_yaml_free(parse(text, strlen(text), &rc, errors));
    return sa_buf_str(errors);
}

static void test_tree(void)
{
    sa_buf errors = SA_BUF_INIT;
    int rc;
    const char *text = "a: 1\n"
                       "b: [x, 'y', ~]\n"
                       "c:\n"
                       "  d: \"null\"\n";
    sa_yaml_node *root = parse(text, strlen(text), &rc, &errors);
    SA_CHECK_INT(rc, 0);
    SA_CHECK_STR(sa_buf_str(&errors), "");
    SA_CHECK(root && root->type == SA_YAML_MAP);
    if (root) {
        SA_CHECK_INT(root->n, 3);
        const sa_yaml_node *a = sa_yaml_member(root, "a"), *b = sa_yaml_member(root, "b");
        const sa_yaml_node *d = sa_yaml_member(sa_yaml_member(root, "c"), "d");
        SA_CHECK(a && a->type == SA_YAML_SCALAR && a->plain && !strcmp(a->text, "1"));
        SA_CHECK(a && a->line == 1 && a->col == 4);
        SA_CHECK(b && b->type == SA_YAML_LIST && b->n == 3);
        if (b && b->n == 3) {
            SA_CHECK(b->items[1]->line == 2 && b->items[1]->col == 8);
            SA_CHECK(!b->items[1]->plain && !sa_yaml_is_null(b->items[1]));
            SA_CHECK(sa_yaml_is_null(b->items[2]));
        }
        SA_CHECK(d && !d->plain && !sa_yaml_is_null(d)); /* "null" quoted is a string */
        SA_CHECK(!sa_yaml_member(root, "missing"));
        SA_CHECK(!sa_yaml_member(a, "a")); /* not a mapping */
        SA_CHECK(!sa_yaml_member(NULL, "a"));
    }
    sa_yaml_free(root);

    root = parse("", 0, &rc, &errors);
    SA_CHECK_INT(rc, 0);
    SA_CHECK(root == NULL);
    sa_buf_free(&errors);
}

static void test_refused(void)
{
    sa_buf errors = SA_BUF_INIT;
    SA_CHECK_STR(errors_of("a: 1\nb: 2\na: 3\n", &errors),
                 "t.yaml:3:1: duplicate key 'a' (first at 1:1)\n");
    SA_CHECK_STR(errors_of("[a, b]: 1\n", &errors),
                 "t.yaml:1:1: expected a string as mapping key, found a list\n");
    SA_CHECK_STR(errors_of("a: &x 1\nb: *x\n", &errors),
                 "t.yaml:1:4: anchors and aliases are not allowed (they let a small file expand "
                 "without bound); write the value out\n"
                 "t.yaml:2:4: anchors and aliases are not allowed (they let a small file expand "
                 "without bound); write the value out\n");
    SA_CHECK_STR(errors_of("a: !!str 1\n", &errors),
                 "t.yaml:1:4: explicit YAML tags are not allowed; write a plain value\n");
    SA_CHECK_STR(errors_of("a: \"x\\0y\"\n", &errors),
                 "t.yaml:1:4: a NUL character is not allowed in a value\n");
    SA_CHECK_STR(errors_of("a: 1\n---\nb: 2\n", &errors),
                 "t.yaml:2:1: expected a single YAML document, found another one\n");

    char deep[2 * (SA_YAML_MAX_DEPTH + 2) + 1];
    size_t n = SA_YAML_MAX_DEPTH + 2;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    char want[64];
    snprintf(want, sizeof want, "t.yaml:1:%d: nesting deeper than %d levels\n",
             SA_YAML_MAX_DEPTH + 2, SA_YAML_MAX_DEPTH);
    SA_CHECK_STR(errors_of(deep, &errors), want);
    deep[1] = deep[2 * n - 2] = ' '; /* one level less is accepted */
    SA_CHECK_STR(errors_of(deep, &errors), "");
    sa_buf_free(&errors);
}

static void test_syntax(void)
{
    sa_buf errors = SA_BUF_INIT;
    int rc;
    const char *text = "a: [1, 2\nb: 3\n";
    sa_yaml_node *root = parse(text, strlen(text), &rc, &errors);
    SA_CHECK_INT(rc, -1);
    SA_CHECK(root == NULL);
    SA_CHECK(strncmp(sa_buf_str(&errors), "t.yaml:", 7) == 0);
    SA_CHECK(strstr(sa_buf_str(&errors), ": YAML syntax error: ") != NULL);
    SA_CHECK_INT(strchr(sa_buf_str(&errors), '\n')[1], '\0'); /* one line */
    /* The reader's own errors (invalid UTF-8) carry an offset, turned into line and column. */
    SA_CHECK_STR(errors_of("a: 1\nb: \xff\n", &errors),
                 "t.yaml:2:4: YAML syntax error: invalid leading UTF-8 octet\n");
    sa_buf_free(&errors);
}

/* Columns count characters, not bytes: "é" (two bytes) is one column, for a reader error (an
 * offset), a parser mark, and a node's position, as in the manifest path (test_objects.c). */
static void test_multibyte_columns(void)
{
    sa_buf errors = SA_BUF_INIT;
    SA_CHECK_STR(errors_of("a: \"\xc3\xa9\x01\"\n", &errors),
                 "t.yaml:1:6: YAML syntax error: control characters are not allowed\n");
    SA_CHECK_STR(errors_of("{\xc3\xa9: 1, \xc3\xa9: 2}\n", &errors),
                 "t.yaml:1:8: duplicate key '\xc3\xa9' (first at 1:2)\n");
    SA_CHECK_STR(
        errors_of("a: [\xc3\xa9\xc3\xa9, b: c: d]\n", &errors),
        "t.yaml:1:13: YAML syntax error: did not find expected ',' or ']' (while parsing a "
        "flow sequence at 1:4)\n"); /* bytes would say 1:15 */
    sa_buf_free(&errors);
}

/* The manifest mode: several documents, aliases expanded (and bounded), tags kept, NUL marked,
 * and the first error by position with its own message. */
static void test_manifest_mode(void)
{
    sa_yaml_errors e = {.name = "m.yaml"};
    const char *text = "a: &x [1, {b: !!binary aGk=}]\nc: *x\n---\n---\nd: \"n\\0l\"\n";
    sa_yaml_reader *r = sa_yaml_open(&e, SA_YAML_MANIFEST, text, strlen(text));
    sa_yaml_node *doc;
    SA_CHECK_INT(sa_yaml_next(r, &doc), 1);
    SA_CHECK_INT((int)sa_yaml_document(r), 1);
    const sa_yaml_node *c2 = sa_yaml_member(doc, "c");
    SA_CHECK(c2 && c2->type == SA_YAML_LIST && c2->n == 2);
    const sa_yaml_node *b = sa_yaml_member(c2->items[1], "b");
    SA_CHECK(b && b->tag && strcmp(b->tag, "tag:yaml.org,2002:binary") == 0);
    SA_CHECK_STR(b->text, "aGk=");
    SA_CHECK_INT(b->line, 1); /* the copy keeps the anchored node's place */
    sa_yaml_free(doc);
    SA_CHECK_INT(sa_yaml_next(r, &doc), 1); /* the empty document */
    SA_CHECK(doc && doc->type == SA_YAML_SCALAR && sa_yaml_is_null(doc));
    sa_yaml_free(doc);
    SA_CHECK_INT(sa_yaml_next(r, &doc), 1);
    SA_CHECK_INT((int)sa_yaml_document(r), 3);
    const sa_yaml_node *d = sa_yaml_member(doc, "d");
    SA_CHECK(d && d->len == 3 && (unsigned char)d->text[1] == (unsigned char)SA_BUF_NUL_MARK);
    sa_yaml_free(doc);
    SA_CHECK_INT(sa_yaml_next(r, &doc), 0);
    SA_CHECK_INT(sa_yaml_next(r, &doc), 0);
    sa_yaml_close(r);
    SA_CHECK_INT((int)e.n, 0);

    /* An alias that would expand past the budget is refused before it is copied. */
    sa_buf big = SA_BUF_INIT;
    sa_buf_puts(&big, "a: &a [");
    for (int i = 0; i < 1000; i++)
        sa_buf_puts(&big, i ? ", x" : "x");
    sa_buf_puts(&big, "]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n");
    r = sa_yaml_open(&e, SA_YAML_MANIFEST, sa_buf_str(&big), big.len);
    SA_CHECK_INT(sa_yaml_next(r, &doc), -1);
    SA_CHECK(doc == NULL);
    sa_yaml_close(r);
    int line, col;
    const char *msg = sa_yaml_errors_first(&e, &line, &col);
    SA_CHECK_STR(msg ? msg : "", "aliases expand to more than 1000000 nodes");
    SA_CHECK_INT(line, 4); /* d: 10 x 10 x 10 x 1,000 */
    sa_buf out = SA_BUF_INIT;
    SA_CHECK_INT(sa_yaml_errors_flush(&e, &out), 1);
    SA_CHECK(sa_yaml_errors_first(&e, &line, &col) == NULL);
    sa_buf_free(&out);
    sa_buf_free(&big);
}

static void test_errors_sorted(void)
{
    sa_yaml_errors e = {.name = "f"};
    sa_buf out = SA_BUF_INIT;
    sa_yaml_error_at(&e, 3, 1, "third");
    sa_yaml_error_at(&e, 1, 5, "second");
    sa_yaml_error_at(&e, 1, 2, "first");
    sa_yaml_error_at(&e, 3, 1, "fourth, found after third at the same place");
    SA_CHECK_INT(sa_yaml_errors_flush(&e, &out), 4);
    SA_CHECK_STR(sa_buf_str(&out), "f:1:2: first\n"
                                   "f:1:5: second\n"
                                   "f:3:1: third\n"
                                   "f:3:1: fourth, found after third at the same place\n");
    /* Flushed errors are forgotten. */
    SA_CHECK_INT(sa_yaml_errors_flush(&e, &out), 0);
    sa_buf_free(&out);
}

int main(void)
{
    SA_RUN(test_tree);
    SA_RUN(test_refused);
    SA_RUN(test_syntax);
    SA_RUN(test_multibyte_columns);
    SA_RUN(test_manifest_mode);
    SA_RUN(test_errors_sorted);
    SA_TEST_END();
}
