/* sa_log.h: one line per event on stderr, as JSON objects (default) or plain text.
 *
 * Events carry string fields given as key/value pairs ending in NULL, so every log line has the
 * same shape and can be parsed. Callers must never pass key material, Secret content or request
 * bodies: log lines name things, they do not carry them (and a value holding PEM armour is
 * written as "<redacted: PEM block>" all the same). Thread-safe: each line is formatted in its
 * own buffer and written with one write(2). */
#ifndef SA_LOG_H
#define SA_LOG_H

typedef enum sa_log_level {
    SA_LOG_DEBUG,
    SA_LOG_INFO,
    SA_LOG_WARN,
    SA_LOG_ERROR
} sa_log_level;

typedef enum sa_log_format {
    SA_LOG_JSON,
    SA_LOG_TEXT
} sa_log_format;

void sa_log_setup(sa_log_format format, sa_log_level min_level);
/* Parses "debug", "info", "warn", "error" / "json", "text"; -1 if unknown. */
int sa_log_level_from_name(const char *name);
int sa_log_format_from_name(const char *name);
int sa_log_enabled(sa_log_level level);

/* sa_log(SA_LOG_INFO, "policy reloaded", "file", path, "tables", summary, NULL); */
void sa_log(sa_log_level level, const char *msg, ...) __attribute__((sentinel));

#endif
