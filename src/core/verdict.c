/* verdict.c: collecting violations by rule mode (see sa_verdict.h). */
#include "sa_verdict.h"

#include <stdarg.h>
#include <string.h>

static const char *const rule_ids[SA_RULE_COUNT] = {
    [SA_RULE_RBAC_SESSION_BINDING] = "rbac-session-binding",
    [SA_RULE_RBAC_CROSS_NAMESPACE] = "rbac-cross-namespace",
    [SA_RULE_RBAC_IMPERSONATION] = "rbac-impersonation",
    [SA_RULE_RBAC_TOKEN_AUDIENCE] = "rbac-token-audience",
    [SA_RULE_SESSION_TOKEN_AUDIENCE] = "session-token-audience",
    [SA_RULE_SESSION_POD] = "session-pod",
    [SA_RULE_SESSION_ENV_FROM_SECRET] = "session-env-from-secret",
};

static const char *const mode_names[SA_MODE_COUNT] = {
    [SA_MODE_ENFORCE] = "enforce",
    [SA_MODE_WARN] = "warn",
    [SA_MODE_AUDIT] = "audit",
};

const char *sa_verdict_rule_id(sa_rule rule)
{
    return sa_buf_name(rule_ids, SA_RULE_COUNT, (size_t)rule);
}

int sa_verdict_rule_from_id(const char *id)
{
    return sa_buf_name_index(rule_ids, SA_RULE_COUNT, id);
}

const char *sa_verdict_mode_name(sa_mode mode)
{
    return sa_buf_name(mode_names, SA_MODE_COUNT, (size_t)mode);
}

int sa_verdict_mode_from_name(const char *name)
{
    return sa_buf_name_index(mode_names, SA_MODE_COUNT, name);
}

void sa_verdict_init(sa_verdict *v, const sa_mode *modes)
{
    memset(v, 0, sizeof *v);
    v->modes = modes;
}

static void list_free(sa_verdict_list *l)
{
    sa_buf_free(&l->text);
    l->count = 0;
}

void sa_verdict_free(sa_verdict *v)
{
    sa_patch_free(&v->patch);
    list_free(&v->denial);
    list_free(&v->warnings);
    for (int i = 0; i < SA_RULE_COUNT; i++)
        list_free(&v->audit[i]);
    sa_map_free(v->keys, NULL);
    v->keys = NULL;
}

/* Adds msg (n bytes) to a list; sep "; " joins, NULL keeps each message NUL-terminated. */
static void list_add(sa_verdict_list *l, const char *msg, size_t n, const char *sep)
{
    if (l->count++ >= SA_VERDICT_LIST_MAX)
        return;
    if (sep && l->text.len)
        sa_buf_puts(&l->text, sep);
    sa_buf_append(&l->text, msg, n);
    if (!sep)
        sa_buf_putc(&l->text, '\0');
}

void sa_verdict_list_text(const sa_verdict_list *l, sa_buf *out)
{
    sa_buf_append(out, sa_buf_str(&l->text), l->text.len);
    if (l->count > SA_VERDICT_LIST_MAX)
        sa_buf_printf(out, "; and %zu more", l->count - SA_VERDICT_LIST_MAX);
}

/* The rule and key as one string, each part length-prefixed so that no two different keys
 * read the same ("a:b" + "c" is not "a" + "b:c"). */
static void key_string(sa_rule rule, const char *const *key, sa_buf *out)
{
    sa_buf_puts(out, sa_verdict_rule_id(rule));
    for (; key && *key; key++)
        sa_buf_printf(out, "|%zu:%s", strlen(*key), *key);
}

/* Whether the violation is one to drop: collected into the set (collect), or already in the
 * baseline's set. Keys are built only for an UPDATE: a CREATE pays nothing for them. */
static int keyed_out(sa_verdict *v, sa_rule rule, const char *const *key)
{
    if (!key) /* what could not be judged is judged again every time: never tolerated */
        return v->collect;
    if (!v->collect && !(v->baseline && v->baseline->keys))
        return 0;
    sa_buf k = SA_BUF_INIT;
    key_string(rule, key, &k);
    int drop = 1;
    if (k.oom) {
        v->oom = 1;
    } else if (v->collect) {
        if (!v->keys)
            v->keys = sa_map_new();
        if (!v->keys || sa_map_put(v->keys, k.data, v) < 0) /* values only mark presence */
            v->oom = 1;
    } else {
        drop = sa_map_get(v->baseline->keys, k.data) != NULL;
    }
    sa_buf_free(&k);
    return drop;
}

void sa_verdict_violation(sa_verdict *v, sa_rule rule, const char *const *key, const char *fmt, ...)
{
    if (keyed_out(v, rule, key))
        return;
    sa_buf msg = SA_BUF_INIT;
    sa_buf_printf(&msg, "%s: ", sa_verdict_rule_id(rule));
    size_t prefix = msg.len;
    va_list ap;
    va_start(ap, fmt);
    sa_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (msg.oom) {
        v->oom = 1;
        sa_buf_free(&msg);
        return;
    }

    sa_mode mode = v->modes ? v->modes[rule] : SA_MODE_ENFORCE;
    v->rules_hit |= 1u << rule;
    v->modes_hit[rule] |= 1u << mode;
    switch (mode) {
    case SA_MODE_ENFORCE:
        list_add(&v->denial, msg.data, msg.len, "; ");
        break;
    case SA_MODE_WARN: {
        size_t n = msg.len;
        if (n > SA_WARNING_MAX) {
            n = SA_WARNING_MAX - 3;
            while (n > 0 && (msg.data[n] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
                n--;
            memcpy(msg.data + n, "...", 3);
            n += 3;
        }
        list_add(&v->warnings, msg.data, n, NULL);
        break;
    }
    case SA_MODE_AUDIT:
    default:
        list_add(&v->audit[rule], msg.data + prefix, msg.len - prefix, "; ");
        break;
    }
    if (v->denial.text.oom || v->warnings.text.oom || v->audit[rule].text.oom)
        v->oom = 1;
    sa_buf_free(&msg);
}

void sa_verdict_refuse(sa_verdict *v, const char *fmt, ...)
{
    sa_buf msg = SA_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sa_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (!msg.oom)
        list_add(&v->denial, msg.data, msg.len, "; ");
    if (msg.oom || v->denial.text.oom)
        v->oom = 1;
    sa_buf_free(&msg);
}

int sa_verdict_denied(const sa_verdict *v)
{
    return v->denial.count > 0 || v->oom;
}
