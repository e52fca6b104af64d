/* verdict.c: collecting violations by rule mode (see sa_verdict.h). */
#include "sa_verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const rule_ids[SA_RULE_COUNT] = {
    [SA_RULE_RBAC_SESSION_BINDING] = "rbac-session-binding",
    [SA_RULE_RBAC_CROSS_NAMESPACE] = "rbac-cross-namespace",
    [SA_RULE_RBAC_IMPERSONATION] = "rbac-impersonation",
    [SA_RULE_RBAC_TOKEN_AUDIENCE] = "rbac-token-audience",
    [SA_RULE_SESSION_TOKEN_AUDIENCE] = "session-token-audience",
    [SA_RULE_SESSION_POD] = "session-pod",
};

static const char *const mode_names[SA_MODE_COUNT] = {
    [SA_MODE_ENFORCE] = "enforce",
    [SA_MODE_WARN] = "warn",
    [SA_MODE_AUDIT] = "audit",
};

const char *sa_rule_id(sa_rule rule)
{
    return (unsigned)rule < SA_RULE_COUNT ? rule_ids[rule] : "unknown";
}

int sa_rule_from_id(const char *id)
{
    for (int i = 0; i < SA_RULE_COUNT; i++)
        if (strcmp(rule_ids[i], id) == 0)
            return i;
    return -1;
}

const char *sa_mode_name(sa_mode mode)
{
    return (unsigned)mode < SA_MODE_COUNT ? mode_names[mode] : "unknown";
}

int sa_mode_from_name(const char *name)
{
    for (int i = 0; i < SA_MODE_COUNT; i++)
        if (strcmp(mode_names[i], name) == 0)
            return i;
    return -1;
}

void sa_verdict_init(sa_verdict *v, const sa_mode *modes)
{
    memset(v, 0, sizeof *v);
    v->modes = modes;
}

void sa_verdict_free(sa_verdict *v)
{
    sa_patch_free(&v->patch);
    sa_buf_free(&v->denial);
    sa_buf_free(&v->warnings);
    for (int i = 0; i < SA_RULE_COUNT; i++)
        sa_buf_free(&v->audit[i]);
    sa_buf_free(&v->seen);
}

/* Whether msg is one of the NUL-terminated messages in list. */
static int seen_before(const sa_buf *list, const char *msg)
{
    for (const char *s = sa_buf_str(list); s < sa_buf_str(list) + list->len; s += strlen(s) + 1)
        if (strcmp(s, msg) == 0)
            return 1;
    return 0;
}

static void join(sa_buf *b, const char *msg)
{
    if (b->len)
        sa_buf_puts(b, "; ");
    sa_buf_puts(b, msg);
}

void sa_verdict_violation(sa_verdict *v, sa_rule rule, const char *fmt, ...)
{
    sa_buf msg = SA_BUF_INIT;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sa_buf_printf(&msg, "%s: %s", sa_rule_id(rule), text);
    if (v->collect || (v->baseline && seen_before(&v->baseline->seen, sa_buf_str(&msg)))) {
        if (v->collect)
            sa_buf_append(&v->seen, sa_buf_str(&msg), msg.len + 1);
        sa_buf_free(&msg);
        return;
    }

    sa_mode mode = v->modes ? v->modes[rule] : SA_MODE_ENFORCE;
    v->rules_hit |= 1u << rule;
    v->modes_hit[rule] |= 1u << mode;
    switch (mode) {
    case SA_MODE_ENFORCE:
        join(&v->denial, sa_buf_str(&msg));
        break;
    case SA_MODE_WARN:
        if (msg.len > SA_WARNING_MAX && !msg.oom) {
            size_t cut = SA_WARNING_MAX - 3;
            while (cut > 0 && (msg.data[cut] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
                cut--;
            msg.len = cut;
            sa_buf_puts(&msg, "...");
        }
        sa_buf_append(&v->warnings, sa_buf_str(&msg), msg.len + 1);
        v->nwarnings++;
        break;
    case SA_MODE_AUDIT:
    default:
        join(&v->audit[rule], text);
        break;
    }
    sa_buf_free(&msg);
}

int sa_verdict_denied(const sa_verdict *v)
{
    return v->denial.len > 0;
}
