/* test_json.c: the strict JSON check where its word-at-a-time fast path could go wrong.
 *
 * json.c skips 8 plain ASCII bytes at a time before checking UTF-8, NUL and the \u0000 escape
 * byte by byte. A bad byte, an escape or a multi-byte character must be found, with the same
 * offset, wherever it falls relative to those 8-byte blocks: every offset is tried. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sa_buf.h"
#include "sa_json.h"
#include "sa_test.h"

/* {"k":"<pad><insert>"} with pad bytes of 'a' before insert; the insert starts at 6 + pad. */
static int parse_with(size_t pad, const char *insert, size_t insert_len, char *err, size_t errlen)
{
    char text[128];
    size_t n = 0;
    memcpy(text, "{\"k\":\"", 6);
    n = 6;
    memset(text + n, 'a', pad);
    n += pad;
    memcpy(text + n, insert, insert_len);
    n += insert_len;
    memcpy(text + n, "\"}", 2);
    n += 2;
    cJSON *doc = NULL;
    int rc = sa_json_parse(text, n, &doc, err, errlen);
    cJSON_Delete(doc);
    return rc;
}

static void test_bad_bytes_at_every_offset(void)
{
    static const struct {
        const char *insert;
        size_t len;
        const char *why;
        /* clang-format off */
    } bad[] = {
        {"\x80", 1, "body is not valid UTF-8"},
        {"\xc0\xaf", 2, "body is not valid UTF-8"},
        {"\xed\xa0\x80", 3, "body is not valid UTF-8"},
        {"\0", 1, "body contains a NUL byte"},
    };
    /* clang-format on */
    for (size_t pad = 0; pad < 24; pad++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char err[128], want[128];
            snprintf(want, sizeof want, "%s at byte %zu", bad[i].why, 6 + pad);
            SA_CHECK_INT(parse_with(pad, bad[i].insert, bad[i].len, err, sizeof err), -1);
            SA_CHECK_STR(err, want);
        }
    }
}

static void test_good_text_at_every_offset(void)
{
    static const char *good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\\"", "\\\\",
                                 "\\u00e9",  "\\n"};
    for (size_t pad = 0; pad < 24; pad++) {
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            char err[128] = "";
            SA_CHECK_INT(parse_with(pad, good[i], strlen(good[i]), err, sizeof err), 0);
        }
    }
}

/* The escape \u0000 reads as SA_BUF_NUL_MARK wherever it falls, is counted, and writes back as
 * \u0000; an escaped backslash before "u0000" stays text. */
static void test_nul_escape_at_every_offset(void)
{
    for (size_t pad = 0; pad < 24; pad++) {
        char text[96], err[128] = "";
        int n = snprintf(text, sizeof text, "{\"k\":\"%.*s\\u0000x\\\\u0000\\u0000\"}", (int)pad,
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        cJSON *doc = NULL;
        SA_CHECK_INT(sa_json_parse(text, (size_t)n, &doc, err, sizeof err), 2);
        const char *k = sa_json_string(doc, "k");
        SA_CHECK_INT((int)strlen(k), (int)pad + 1 + 1 + 6 + 1);
        SA_CHECK(k[pad] == SA_BUF_NUL_MARK && k[pad + 1] == 'x' && k[pad + 2] == '\\');
        SA_CHECK(strcmp(k + pad + 2, "\\u0000\xff") == 0);
        sa_buf out = SA_BUF_INIT;
        sa_buf_json_string(&out, k);
        char want[96];
        snprintf(want, sizeof want, "\"%.*s\\u0000x\\\\u0000\\u0000\"", (int)pad,
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        SA_CHECK_STR(sa_buf_str(&out), want);
        sa_buf_free(&out);
        cJSON_Delete(doc);
    }
    /* in a key too, and a raw 0xFF (not UTF-8) is still refused */
    cJSON *doc = NULL;
    char err[128];
    SA_CHECK_INT(sa_json_parse("{\"a\\u0000\":1}", 13, &doc, err, sizeof err), 1);
    SA_CHECK(doc && doc->child && strcmp(doc->child->string, "a\xff") == 0);
    cJSON_Delete(doc);
    SA_CHECK_INT(sa_json_parse("{\"a\xff\":1}", 8, &doc, err, sizeof err), -1);
    SA_CHECK_STR(err, "body is not valid UTF-8 at byte 3");
}

/* A document far larger than the arena's first chunk parses whole inside the arena (so chunks are
 * chained), reads back right, survives cJSON_Delete inside the window, and the arena can be
 * opened again afterwards; outside it, cJSON allocates as usual. */
static void test_arena(void)
{
    sa_buf doc = SA_BUF_INIT;
    sa_buf_putc(&doc, '{');
    for (int i = 0; i < 20000; i++)
        sa_buf_printf(&doc, "%s\"key-%d\":{\"name\":\"n%d\",\"value\":[%d,true,null]}",
                      i ? "," : "", i, i, i);
    sa_buf_putc(&doc, '}');
    for (int round = 0; round < 2; round++) {
        sa_json_arena_begin();
        cJSON *root;
        char err[256];
        SA_CHECK_INT(sa_json_parse(doc.data, doc.len, &root, err, sizeof err), 0);
        SA_CHECK_STR(sa_json_string(sa_json_path(root, "key-19999", NULL), "name"), "n19999");
        SA_CHECK_INT(cJSON_GetArraySize(sa_json_path(root, "key-7", "value", NULL)), 3);
        cJSON_Delete(root);
        sa_json_arena_end();
    }
    cJSON *outside = cJSON_Parse("{\"a\":[1,2,3]}");
    SA_CHECK(outside != NULL);
    cJSON_Delete(outside);
    sa_buf_free(&doc);
}

/* How a child that runs fn ends: its exit status, or 128 + the signal that stopped it. Its
 * stderr goes to /dev/null (the abort message and any sanitizer report are expected). */
static int child_status(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        fn();
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void nest_arenas(void)
{
    sa_json_arena_begin();
    sa_json_arena_begin();
}

/* An arena opened inside another would free the outer one's documents at its end: it aborts. */
static void test_arena_does_not_nest(void)
{
    SA_CHECK_INT(child_status(nest_arenas), 128 + SIGABRT);
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
static void overrun_node(void)
{
    sa_json_arena_begin();
    volatile unsigned char *p = (unsigned char *)cJSON_CreateNull();
    p[sizeof(cJSON)] = 1; /* the first byte past the node: the arena's poisoned gap */
}

static void use_after_end(void)
{
    sa_json_arena_begin();
    cJSON *n = cJSON_CreateNull();
    sa_json_arena_end();
    volatile int type = n->type; /* the chunk went back to malloc */
    (void)type;
}

/* Under ASan the arena stays on and poisons what it has not handed out: an overrun of a node and
 * a node used after its arena ended are reported (the child exits non-zero), while the same
 * program without the fault exits 0. */
static void test_arena_poisoned(void)
{
    SA_CHECK(child_status(overrun_node) != 0);
    SA_CHECK(child_status(use_after_end) != 0);
    SA_CHECK_INT(child_status(test_arena), 0);
}
#endif

int main(void)
{
    SA_RUN(test_bad_bytes_at_every_offset);
    SA_RUN(test_good_text_at_every_offset);
    SA_RUN(test_nul_escape_at_every_offset);
    SA_RUN(test_arena);
    SA_RUN(test_arena_does_not_nest);
#ifdef TEST_ASAN
    SA_RUN(test_arena_poisoned);
#endif
    SA_TEST_END();
}
