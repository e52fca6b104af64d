/* test_metrics.c: the Prometheus exposition of sa_metrics, as sa_exposition renders it with its
 * owners' label names: exact sample lines after known updates, bounded label values (kinds the
 * admission core's routing table closes), escaping, cumulative histogram buckets, and the shape
 * of the text (every sample after its family's HELP and TYPE). The process starts with every
 * counter at zero, so the expected values are exact. */
#include <stdlib.h>
#include <string.h>

#include "sa_admit.h"
#include "sa_exposition.h"
#include "sa_metrics.h"
#include "sa_test.h"

/* What a scrape gathers besides the counters. */
typedef struct sources {
    const char *key_fingerprint;
    const sa_reload_stats *reload;
    int ready;
} sources;

/* The exposition with the sources given; the caller frees. */
static char *render(const sources *src, time_t now)
{
    sa_buf out = SA_BUF_INIT;
    sa_exposition_render(&out, src->key_fingerprint, src->reload, src->ready, now);
    return sa_buf_steal(&out, NULL);
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

#define SA_CHECK_LINE(text, line)                                                     \
    do {                                                                              \
        if (!has_line((text), (line))) {                                              \
            fprintf(stderr, "%s:%d: missing line: %s\n", __FILE__, __LINE__, (line)); \
            sa_test_failed_checks++;                                                  \
        }                                                                             \
    } while (0)

/* A review of kind (NULL: none read) answered on ep. */
static sa_metrics_review_sample sample(sa_endpoint ep, const char *kind, const char *op,
                                       sa_decision d)
{
    sa_metrics_review_sample r = {
        .endpoint = ep, .kind = sa_admit_kind_index(kind), .operation = op, .decision = d};
    return r;
}

static void count(sa_metrics_review_sample r, double seconds)
{
    r.seconds = seconds;
    sa_metrics_review(&r);
}

static void test_kind_set(void)
{
    /* Every kind has a slot, "other" and "unknown" last. */
    unsigned n = sa_admit_kind_count();
    SA_CHECK(n > 2 && n <= SA_METRICS_KINDS_MAX);
    SA_CHECK_STR(sa_admit_kind_name(0), "Pod");
    SA_CHECK_STR(sa_admit_kind_name(n - 2), "other");
    SA_CHECK_STR(sa_admit_kind_name(n - 1), "unknown");
    SA_CHECK(sa_admit_kind_index("RoleBinding") < n - 2);
    SA_CHECK(sa_admit_kind_index("Widget") == n - 2);
    SA_CHECK(sa_admit_kind_index("") == n - 1);
}

static void test_label_escaping(void)
{
    sa_buf b = SA_BUF_INIT;
    sa_metrics_label_value(&b, "a\\b\"c\nd");
    SA_CHECK_STR(sa_buf_str(&b), "a\\\\b\\\"c\\nd");
    sa_buf_free(&b);
}

static void test_requests_and_histogram(void)
{
    sa_metrics_review_sample pod = sample(SA_ENDPOINT_MUTATE, "Pod", "CREATE", SA_DECISION_PATCHED);
    count(pod, 0.0003);
    count(pod, 0.001); /* on a bound: counts in it */
    count(pod, 42.0);  /* above 10 s: only +Inf */
    count(sample(SA_ENDPOINT_VALIDATE, "Widget", "PATCH", SA_DECISION_ALLOWED), 0);
    count(sample(SA_ENDPOINT_VALIDATE, "", "", SA_DECISION_ERROR), 0);
    count(sample(SA_ENDPOINT_VALIDATE, NULL, NULL, SA_DECISION_ERROR),
          0); /* refused by the transport */
    sa_metrics_review_sample rb =
        sample(SA_ENDPOINT_VALIDATE, "RoleBinding", "CREATE", SA_DECISION_DENIED);
    unsigned modes[SA_RULE_COUNT] = {0};
    rb.rules_hit = (1u << SA_RULE_RBAC_IMPERSONATION) | (1u << SA_RULE_SESSION_POD);
    modes[SA_RULE_RBAC_IMPERSONATION] = (1u << SA_MODE_ENFORCE) | (1u << SA_MODE_WARN);
    modes[SA_RULE_SESSION_POD] = 1u << SA_MODE_AUDIT;
    rb.modes_hit = modes;
    count(rb, 0.002);

    sources src = {NULL, NULL, 1};
    char *t = render(&src, 0);
    SA_CHECK_LINE(
        t,
        "session_admission_requests_total{endpoint=\"mutate\",kind=\"Pod\",operation=\"CREATE\",decision=\"patched\"} 3");
    SA_CHECK_LINE(
        t,
        "session_admission_requests_total{endpoint=\"validate\",kind=\"other\",operation=\"other\",decision=\"allowed\"} 1");
    SA_CHECK_LINE(
        t,
        "session_admission_requests_total{endpoint=\"validate\",kind=\"unknown\",operation=\"unknown\",decision=\"error\"} 2");
    SA_CHECK_LINE(
        t,
        "session_admission_requests_total{endpoint=\"validate\",kind=\"RoleBinding\",operation=\"CREATE\",decision=\"denied\"} 1");
    SA_CHECK(!strstr(t, "Widget") && !strstr(t, "PATCH"));
    SA_CHECK(!strstr(t, "decision=\"allowed\"} 0")); /* unseen combinations are not listed */

    SA_CHECK_LINE(
        t,
        "session_admission_request_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.0001\"} 0");
    SA_CHECK_LINE(
        t,
        "session_admission_request_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.00025\"} 0");
    SA_CHECK_LINE(
        t,
        "session_admission_request_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.0005\"} 1");
    SA_CHECK_LINE(
        t, "session_admission_request_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.001\"} 2");
    SA_CHECK_LINE(
        t, "session_admission_request_duration_seconds_bucket{endpoint=\"mutate\",le=\"10\"} 2");
    SA_CHECK_LINE(
        t, "session_admission_request_duration_seconds_bucket{endpoint=\"mutate\",le=\"+Inf\"} 3");
    SA_CHECK_LINE(t, "session_admission_request_duration_seconds_count{endpoint=\"mutate\"} 3");
    SA_CHECK_LINE(
        t, "session_admission_request_duration_seconds_sum{endpoint=\"mutate\"} 42.001300000");
    SA_CHECK_LINE(
        t,
        "session_admission_request_duration_seconds_bucket{endpoint=\"validate\",le=\"0.0001\"} 3");
    SA_CHECK_LINE(
        t,
        "session_admission_request_duration_seconds_bucket{endpoint=\"validate\",le=\"0.0025\"} 4");
    SA_CHECK_LINE(t, "session_admission_request_duration_seconds_count{endpoint=\"validate\"} 4");

    SA_CHECK_LINE(
        t, "session_admission_violations_total{rule=\"rbac-impersonation\",mode=\"enforce\"} 1");
    SA_CHECK_LINE(
        t, "session_admission_violations_total{rule=\"rbac-impersonation\",mode=\"warn\"} 1");
    SA_CHECK_LINE(
        t, "session_admission_violations_total{rule=\"rbac-impersonation\",mode=\"audit\"} 0");
    SA_CHECK_LINE(t, "session_admission_violations_total{rule=\"session-pod\",mode=\"audit\"} 1");
    SA_CHECK_LINE(
        t, "session_admission_violations_total{rule=\"rbac-session-binding\",mode=\"enforce\"} 0");
    free(t);
}

static void test_errors_gauges_and_loads(void)
{
    sa_metrics_http_error(413);
    sa_metrics_http_error(413);
    sa_metrics_http_error(418); /* not a status we answer: lands in "other" */
    sa_metrics_in_flight(3);
    sa_metrics_in_flight(-1);
    sa_metrics_connections(5);
    sa_metrics_client_cert_rejected();
    time_t now = 1700000000;
    sa_metrics_certificate_loaded(0, now - 100, now + 3 * 86400, "01AB");
    sa_metrics_certificate_refused();
    sa_metrics_certificate_loaded(1, now, now + 30 * 86400, "02CD");

    sa_reload_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.reload_success[SA_WATCH_POLICY] = 4;
    stats.reload_failure[SA_WATCH_PUBLIC_KEY] = 2;
    stats.last_success_time = now - 7;
    sources src = {"ab\"cd", &stats, 1};
    char *t = render(&src, now);
    SA_CHECK_LINE(t, "session_admission_http_errors_total{code=\"413\"} 2");
    SA_CHECK_LINE(t, "session_admission_http_errors_total{code=\"other\"} 1");
    SA_CHECK_LINE(t, "session_admission_http_errors_total{code=\"404\"} 0");
    SA_CHECK_LINE(t, "session_admission_in_flight_requests 2");
    SA_CHECK_LINE(t, "session_admission_open_connections 5");
    SA_CHECK_LINE(t, "session_admission_client_certificate_rejections_total 1");
    SA_CHECK_LINE(t, "session_admission_reloads_total{target=\"policy\",result=\"success\"} 4");
    SA_CHECK_LINE(t, "session_admission_reloads_total{target=\"public_key\",result=\"failure\"} 2");
    SA_CHECK_LINE(t,
                  "session_admission_reloads_total{target=\"certificate\",result=\"success\"} 1");
    SA_CHECK_LINE(t,
                  "session_admission_reloads_total{target=\"certificate\",result=\"failure\"} 1");
    SA_CHECK_LINE(
        t,
        "session_admission_last_successful_load_timestamp_seconds{target=\"policy_and_key\"} 1699999993");
    SA_CHECK_LINE(
        t,
        "session_admission_last_successful_load_timestamp_seconds{target=\"certificate\"} 1700000000");
    SA_CHECK_LINE(t, "session_admission_public_key_info{fingerprint=\"ab\\\"cd\"} 1");
    SA_CHECK_LINE(t, "session_admission_tls_certificate_expiry_timestamp_seconds 1702592000");
    SA_CHECK_LINE(t, "session_admission_tls_certificate_expiring_soon 0");
    SA_CHECK_LINE(t, "session_admission_tls_certificate_info{serial=\"02CD\"} 1");
    SA_CHECK_LINE(t, "session_admission_ready 1");
    SA_CHECK(!strstr(t, "01AB"));
    free(t);

    /* Six days before the notAfter the certificate is expiring soon. */
    t = render(&src, now + 24 * 86400);
    SA_CHECK_LINE(t, "session_admission_tls_certificate_expiring_soon 1");
    free(t);

    /* No watcher and no key (--dev before anything loaded): zeros, and no info sample. */
    sources none = {NULL, NULL, 0};
    t = render(&none, now);
    SA_CHECK_LINE(t, "session_admission_ready 0");
    SA_CHECK_LINE(t, "session_admission_reloads_total{target=\"policy\",result=\"success\"} 0");
    SA_CHECK_LINE(
        t, "session_admission_last_successful_load_timestamp_seconds{target=\"policy_and_key\"} 0");
    SA_CHECK(!strstr(t, "session_admission_public_key_info{"));
    SA_CHECK_LINE(t, "# TYPE session_admission_public_key_info gauge");
    free(t);
}

/* Every sample follows the HELP and TYPE of its family, each family is declared once, and the
 * text ends with a newline. */
static void test_shape(void)
{
    sources src = {"f", NULL, 1};
    char *t = render(&src, 0);
    SA_CHECK(t && *t && t[strlen(t) - 1] == '\n');
    char declared[64][96];
    size_t ndeclared = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        char name[96];
        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        if (sscanf(line, "# TYPE %95s", name) == 1) {
            for (size_t i = 0; i < ndeclared; i++)
                SA_CHECK(strcmp(declared[i], name) != 0);
            if (ndeclared < 64)
                snprintf(declared[ndeclared++], sizeof declared[0], "%s", name);
            continue;
        }
        size_t n = strcspn(line, "{ ");
        snprintf(name, sizeof name, "%.*s", (int)n, line);
        const char *family = declared[ndeclared ? ndeclared - 1 : 0];
        size_t flen = strlen(family);
        int ok = ndeclared && strncmp(name, family, flen) == 0 &&
                 (name[flen] == '\0' || strcmp(name + flen, "_bucket") == 0 ||
                  strcmp(name + flen, "_sum") == 0 || strcmp(name + flen, "_count") == 0);
        if (!ok)
            fprintf(stderr, "sample %s outside its family %s\n", name, family);
        SA_CHECK(ok);
    }
    free(t);
}

int main(void)
{
    SA_RUN(test_label_escaping);
    SA_RUN(test_kind_set);
    SA_RUN(test_requests_and_histogram);
    SA_RUN(test_errors_gauges_and_loads);
    SA_RUN(test_shape);
    SA_TEST_END();
}
