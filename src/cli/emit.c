/* emit.c: cJSON to YAML through libyaml's event emitter (see sa_emit.h). */
#include "sa_emit.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

static int write_out(void *ctx, unsigned char *buffer, size_t size)
{
    sa_buf *out = ctx;
    sa_buf_append(out, (const char *)buffer, size);
    return !out->oom;
}

/* Whether a YAML 1.1 reader could resolve the plain scalar s to something other than a string:
 * the bool and null words, or anything that begins like a number or a date. Quoting more than
 * needed is harmless, so the test is wide. */
static int looks_typed(const char *s)
{
    static const char *const words[] = {"y",    "n",     "yes",  "no", "on", "off",
                                        "true", "false", "null", "~",  NULL};
    if (!*s || strchr("0123456789+-.", *s))
        return 1;
    char low[8];
    size_t i = 0;
    for (; s[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    low[i] = '\0';
    for (const char *const *w = words; *w; w++)
        if (!s[i] && strcmp(low, *w) == 0)
            return 1;
    return 0;
}

static int scalar(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style, int plain_ok)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text),
                                      plain_ok, 1, style))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int node(yaml_emitter_t *em, const cJSON *j)
{
    yaml_event_t ev;
    if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
        int obj = cJSON_IsObject(j);
        int ok =
            obj ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
                : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                       YAML_BLOCK_SEQUENCE_STYLE);
        if (!ok || !yaml_emitter_emit(em, &ev))
            return -1;
        for (const cJSON *c = j->child; c; c = c->next)
            if ((obj && scalar(em, c->string,
                               looks_typed(c->string) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                      : YAML_ANY_SCALAR_STYLE,
                               1) < 0) ||
                node(em, c) < 0)
                return -1;
        ok = obj ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev);
        return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    if (cJSON_IsString(j)) {
        const char *s = j->valuestring;
        yaml_scalar_style_t style = strchr(s, '\n')  ? YAML_LITERAL_SCALAR_STYLE
                                    : looks_typed(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                     : YAML_ANY_SCALAR_STYLE;
        return scalar(em, s, style, style != YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    }
    char num[64];
    const char *text = cJSON_IsTrue(j) ? "true" : cJSON_IsFalse(j) ? "false" : "null";
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (d == (double)(long long)d)
            snprintf(num, sizeof num, "%lld", (long long)d);
        else
            snprintf(num, sizeof num, "%.17g", d);
        text = num;
    }
    return scalar(em, text, YAML_PLAIN_SCALAR_STYLE, 1);
}

int sa_emit_yaml(const cJSON *doc, sa_buf *out, sa_buf *err)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em)) {
        sa_buf_puts(err, "out of memory");
        return -1;
    }
    yaml_emitter_set_output(&em, write_out, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 100);
    int rc = -1;
    if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
        yaml_emitter_emit(&em, &ev) &&
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0) &&
        yaml_emitter_emit(&em, &ev) && node(&em, doc) == 0 &&
        yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
        yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev))
        rc = 0;
    if (rc < 0)
        sa_buf_printf(err, "cannot write YAML: %s", em.problem ? em.problem : "out of memory");
    yaml_emitter_delete(&em);
    return rc;
}
