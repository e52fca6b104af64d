/* log.c: structured one-line logging on stderr (see sa_log.h). */
#include "sa_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sa_buf.h"
#include "sa_json.h"

static sa_log_format log_format = SA_LOG_JSON;
static sa_log_level log_min = SA_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sa_log_setup(sa_log_format format, sa_log_level min_level)
{
    log_format = format;
    log_min = min_level;
}

int sa_log_level_from_name(const char *name)
{
    for (int i = 0; i <= SA_LOG_ERROR; i++)
        if (strcmp(level_names[i], name) == 0)
            return i;
    return -1;
}

int sa_log_format_from_name(const char *name)
{
    if (strcmp(name, "json") == 0)
        return SA_LOG_JSON;
    if (strcmp(name, "text") == 0)
        return SA_LOG_TEXT;
    return -1;
}

int sa_log_enabled(sa_log_level level)
{
    return level >= log_min;
}

/* The last line of defence for "never key material in the logs": callers pass names, not
 * content, but a value carrying PEM armour (a key or certificate echoed by some error path) is
 * replaced whole rather than written. */
static const char *loggable(const char *value)
{
    if (!value)
        return "";
    return strstr(value, "-----BEGIN ") ? "<redacted: PEM block>" : value;
}

/* A value as a JSON string. Values can carry bytes from the network (a refused path, decoded
 * from %XX by libmicrohttpd): a byte that is not part of valid UTF-8 is written as its own
 * \u00XX escape, so the line stays valid JSON whatever came in. */
static void put_value(sa_buf *line, const char *value)
{
    size_t len = strlen(value);
    sa_buf_putc(line, '"');
    while (len) {
        size_t ok = sa_json_utf8_valid_prefix(value, len);
        sa_buf_json_escape(line, value, ok);
        if (ok == len)
            break;
        sa_buf_printf(line, "\\u00%02x", (unsigned char)value[ok]);
        value += ok + 1;
        len -= ok + 1;
    }
    sa_buf_putc(line, '"');
}

/* Whether a text-format value can go out bare: printable ASCII with no separators. */
static int bare(const char *value)
{
    if (!*value)
        return 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=')
            return 0;
    return 1;
}

void sa_log(sa_log_level level, const char *msg, ...)
{
    if (!sa_log_enabled(level))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

    sa_buf line = SA_BUF_INIT;
    va_list ap;
    va_start(ap, msg);
    if (log_format == SA_LOG_JSON) {
        sa_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", when, level_names[level]);
        sa_buf_json_string(&line, msg);
        const char *key;
        while ((key = va_arg(ap, const char *)) != NULL) {
            const char *value = loggable(va_arg(ap, const char *));
            sa_buf_putc(&line, ',');
            sa_buf_json_string(&line, key);
            sa_buf_putc(&line, ':');
            put_value(&line, value);
        }
        sa_buf_puts(&line, "}\n");
    } else {
        sa_buf_printf(&line, "%s %-5s %s", when, level_names[level], msg);
        const char *key;
        while ((key = va_arg(ap, const char *)) != NULL) {
            const char *value = loggable(va_arg(ap, const char *));
            sa_buf_printf(&line, " %s=", key);
            if (bare(value))
                sa_buf_puts(&line, value);
            else
                put_value(&line, value);
        }
        sa_buf_putc(&line, '\n');
    }
    va_end(ap);
    if (!line.oom) {
        ssize_t w = write(STDERR_FILENO, line.data, line.len);
        (void)w; /* nowhere left to report a failed log write */
    }
    sa_buf_free(&line);
}
