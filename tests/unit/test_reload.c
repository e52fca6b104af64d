/* test_reload.c: the policy and key watcher, on mounts laid out like Kubernetes ConfigMap and
 * Secret volumes (the file is a symlink through "..data", which is swapped atomically): good,
 * broken and good policies, a key rotation, a private key refused, and the SIGHUP trigger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sa_devpki.h"
#include "sa_load.h"
#include "sa_pubkey.h"
#include "sa_policy.h"
#include "sa_reload.h"
#include "sa_test.h"

extern const char sa_example_public_key[];
extern const size_t sa_example_public_key_len;

static char dir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    SA_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The mount directory and its file: a symlink through ..data, as in a pod. */
static void mount_dir(const char *mount, const char *file, char *link, size_t len)
{
    char path[256], target[64];
    snprintf(path, sizeof path, "%s/%s", dir, mount);
    SA_CHECK_INT(mkdir(path, 0700), 0);
    snprintf(link, len, "%s/%s/%s", dir, mount, file);
    snprintf(target, sizeof target, "..data/%s", file);
    SA_CHECK_INT(symlink(target, link), 0);
}

/* Publishes version v of one mount the way the kubelet does: the file goes into a new "..vN"
 * directory, and a new "..data" symlink to it is renamed over the old one. */
static void publish(const char *mount, int v, const char *file, const char *text)
{
    char path[256], tmp[256], target[32];
    snprintf(path, sizeof path, "%s/%s/..v%d", dir, mount, v);
    SA_CHECK_INT(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/%s/..v%d/%s", dir, mount, v, file);
    write_file(path, text);
    snprintf(target, sizeof target, "..v%d", v);
    snprintf(tmp, sizeof tmp, "%s/%s/..data_tmp", dir, mount);
    snprintf(path, sizeof path, "%s/%s/..data", dir, mount);
    SA_CHECK_INT(symlink(target, tmp), 0);
    SA_CHECK_INT(rename(tmp, path), 0);
}

static sa_mode pod_mode(sa_state *st)
{
    sa_snapshot *s = sa_state_acquire(st);
    sa_mode m = s->policy->modes[SA_RULE_SESSION_POD];
    sa_snapshot_release(s);
    return m;
}

static int key_is(sa_state *st, const char *fingerprint)
{
    sa_snapshot *s = sa_state_acquire(st);
    int same = strcmp(s->key->fingerprint, fingerprint) == 0;
    sa_snapshot_release(s);
    return same;
}

/* Waits up to 5 s for the success (or failure) counter of kind to reach n. */
static int wait_count(sa_reloader *r, int failure, sa_watch_kind kind, unsigned long n)
{
    for (int i = 0; i < 500; i++) {
        sa_reload_stats s;
        sa_reload_get_stats(r, &s);
        if ((failure ? s.reload_failure : s.reload_success)[kind] >= n)
            return 1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

#define POLICY(mode)                                         \
    "apiVersion: session-admission/v1alpha1\nkind: Policy\n" \
    "modes: {session-pod: " mode "}\n"
#define PRIVATE_KEY                                                       \
    "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8w\n" \
    "-----END PRIVATE KEY-----\n"

static void run_swaps(sa_pubkey *k1, sa_pubkey *k2)
{
    char err[256], policy_link[256], key_link[256];
    mount_dir("policy", "policy.yaml", policy_link, sizeof policy_link);
    mount_dir("key", "public.pem", key_link, sizeof key_link);
    publish("policy", 1, "policy.yaml", POLICY("enforce"));
    publish("key", 1, "public.pem", k1->pem);

    sa_state st;
    sa_state_init(&st);
    sa_reload_config cfg = {policy_link, key_link, 20};
    sa_buf notes = SA_BUF_INIT, errors = SA_BUF_INIT;
    sa_load_from from = {.policy_path = policy_link, .key_path = key_link};
    sa_snapshot *first = sa_load_snapshot(&from, &notes, &errors);
    SA_CHECK(first != NULL);
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    sa_state_publish(&st, first);
    sa_reloader *r = sa_reload_start(&cfg, &st, err, sizeof err);
    SA_CHECK(r != NULL);
    if (!r) {
        sa_state_destroy(&st);
        return;
    }

    /* A new good policy is taken. */
    publish("policy", 2, "policy.yaml", POLICY("warn"));
    SA_CHECK(wait_count(r, 0, SA_WATCH_POLICY, 1));
    SA_CHECK_INT(pod_mode(&st), SA_MODE_WARN);

    /* A broken one is refused; the last good keeps serving. */
    publish("policy", 3, "policy.yaml", POLICY("block"));
    SA_CHECK(wait_count(r, 1, SA_WATCH_POLICY, 1));
    SA_CHECK_INT(pod_mode(&st), SA_MODE_WARN);

    /* A new key while the broken policy is on disk: the key is taken, and the policy in force
     * is kept, not read from the broken file: the very same parsed policy, shared, not parsed
     * again (a key rotation must not cost a policy parse). */
    sa_snapshot *before = sa_state_acquire(&st);
    publish("key", 2, "public.pem", k2->pem);
    SA_CHECK(wait_count(r, 0, SA_WATCH_PUBLIC_KEY, 1));
    SA_CHECK(key_is(&st, k2->fingerprint));
    SA_CHECK_INT(pod_mode(&st), SA_MODE_WARN);
    sa_snapshot *after = sa_state_acquire(&st);
    SA_CHECK(after != before && after->policy == before->policy && after->key != before->key);
    sa_snapshot_release(after);
    sa_snapshot_release(before); /* the policy stays: the snapshot in force shares it */
    SA_CHECK_INT(pod_mode(&st), SA_MODE_WARN);

    /* A good policy again. */
    publish("policy", 4, "policy.yaml", POLICY("audit"));
    SA_CHECK(wait_count(r, 0, SA_WATCH_POLICY, 2));
    SA_CHECK_INT(pod_mode(&st), SA_MODE_AUDIT);
    SA_CHECK(key_is(&st, k2->fingerprint));

    /* A private key in the key file is refused. */
    publish("key", 3, "public.pem", PRIVATE_KEY);
    SA_CHECK(wait_count(r, 1, SA_WATCH_PUBLIC_KEY, 1));
    SA_CHECK(key_is(&st, k2->fingerprint));

    /* Nothing is reloaded while nothing changes on disk. */
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    sa_reload_stats s;
    sa_reload_get_stats(r, &s);
    SA_CHECK_INT(s.reload_success[SA_WATCH_POLICY], 2);
    SA_CHECK_INT(s.reload_success[SA_WATCH_PUBLIC_KEY], 1);
    SA_CHECK_INT(s.reload_failure[SA_WATCH_POLICY], 1);
    SA_CHECK_INT(s.reload_failure[SA_WATCH_PUBLIC_KEY], 1);
    SA_CHECK(s.last_success_time > 0);

    /* The trigger (SIGHUP) reloads both, changed or not. */
    publish("key", 4, "public.pem", k1->pem);
    sa_reload_trigger(r);
    SA_CHECK(wait_count(r, 0, SA_WATCH_POLICY, 3));
    SA_CHECK(wait_count(r, 0, SA_WATCH_PUBLIC_KEY, 2));
    SA_CHECK(key_is(&st, k1->fingerprint));
    SA_CHECK_INT(pod_mode(&st), SA_MODE_AUDIT);

    sa_reload_stop(r);
    sa_state_destroy(&st);
}

static void test_swaps(void)
{
    char err[256];
    snprintf(dir, sizeof dir, "/tmp/sa-reload.XXXXXX");
    SA_CHECK(mkdtemp(dir) != NULL);
    sa_devpki pki;
    SA_CHECK_INT(sa_devpki_make(&pki, err, sizeof err), 0);
    sa_pubkey *k1 =
        sa_pubkey_parse(sa_example_public_key, sa_example_public_key_len, err, sizeof err);
    sa_pubkey *k2 = sa_pubkey_parse(pki.cp_public_pem, strlen(pki.cp_public_pem), err, sizeof err);
    SA_CHECK(k1 && k2);
    if (k1 && k2)
        run_swaps(k1, k2);
    sa_pubkey_free(k1);
    sa_pubkey_free(k2);
    sa_devpki_free(&pki);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    SA_CHECK_INT(system(cmd), 0);
}

static void test_start_refuses_missing(void)
{
    char err[256] = "";
    sa_state st;
    sa_state_init(&st);
    sa_reload_config cfg = {"/nonexistent/policy.yaml", "/nonexistent/key.pem", 0};
    SA_CHECK(sa_reload_start(&cfg, &st, err, sizeof err) == NULL);
    SA_CHECK(strstr(err, "/nonexistent/policy.yaml") != NULL);
    sa_state_destroy(&st);
}

int main(void)
{
    SA_RUN(test_swaps);
    SA_RUN(test_start_refuses_missing);
    SA_TEST_END();
}
