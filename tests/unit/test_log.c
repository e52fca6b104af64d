/* test_log.c: the log line formats, and that a value carrying PEM armour never reaches the log
 * in either format. stderr is pointed at a temporary file and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sa_log.h"
#include "sa_test.h"

static const char pem[] =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n";

/* Runs one sa_log call in the given format with stderr captured; returns the text (free it). */
static char *capture(sa_log_format format, const char *value)
{
    char path[] = "/tmp/sa-test-log.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    sa_log_setup(format, SA_LOG_DEBUG);
    sa_log(SA_LOG_WARN, "event", "file", "/etc/tls/tls.key", "reason", value, "empty", NULL, NULL);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *text = calloc(1, 4096);
    if (text && lseek(fd, 0, SEEK_SET) == 0 && read(fd, text, 4095) < 0)
        text[0] = '\0';
    close(fd);
    unlink(path);
    return text;
}

static void test_json_line(void)
{
    char *t = capture(SA_LOG_JSON, "no \"match\"");
    SA_CHECK(t && strncmp(t, "{\"ts\":\"", 7) == 0);
    SA_CHECK(t && strstr(t, ",\"level\":\"warn\",\"msg\":\"event\",\"file\":\"/etc/tls/tls.key\","
                            "\"reason\":\"no \\\"match\\\"\",\"empty\":\"\"}\n"));
    SA_CHECK(t && strchr(t, '\n') == t + strlen(t) - 1); /* one line */
    free(t);
}

static void test_text_line(void)
{
    char *t = capture(SA_LOG_TEXT, "plain");
    SA_CHECK(t && strstr(t, " warn  event file=/etc/tls/tls.key reason=plain empty=\"\"\n"));
    free(t);
}

static void test_pem_redacted(void)
{
    for (int f = SA_LOG_JSON; f <= SA_LOG_TEXT; f++) {
        char *t = capture((sa_log_format)f, pem);
        SA_CHECK(t && !strstr(t, "BEGIN") && !strstr(t, "MIGHAgEA") && !strstr(t, "PRIVATE"));
        SA_CHECK(t && strstr(t, "<redacted: PEM block>"));
        free(t);
    }
}

/* Bytes from the network (a refused path, %XX-decoded) keep the line valid JSON and free of
 * raw control characters in both formats; valid UTF-8 passes as it is. */
static void test_hostile_bytes(void)
{
    char *t = capture(SA_LOG_JSON, "/a\xff\x1b[2J\xc3\xa9\xe2\x82");
    SA_CHECK(t && strstr(t, "\"reason\":\"/a\\u00ff\\u001b[2J\xc3\xa9\\u00e2\\u0082\""));
    free(t);
    t = capture(SA_LOG_TEXT, "a\rb\x1b");
    SA_CHECK(t && strstr(t, "reason=\"a\\rb\\u001b\""));
    free(t);
}

int main(void)
{
    SA_RUN(test_json_line);
    SA_RUN(test_text_line);
    SA_RUN(test_pem_redacted);
    SA_RUN(test_hostile_bytes);
    SA_TEST_END();
}
