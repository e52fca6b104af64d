/* commands.c: the offline commands, review, scan, test, check-policy and generate.
 *
 * Each is a thin shell around the core: it reads flags (sa_options.h), loads the policy and key
 * as the server does (sa_load.h), and calls the same code the server calls, so the offline
 * `review` answers exactly as the server does. */
#include "sa_commands.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_admit.h"
#include "sa_buf.h"
#include "sa_generate.h"
#include "sa_json.h"
#include "sa_load.h"
#include "sa_objects.h"
#include "sa_options.h"
#include "sa_patch.h"
#include "sa_policy.h"
#include "sa_pubkey.h"
#include "sa_scan.h"
#include "sa_suite.h"

#define REVIEW_INPUT_MAX (64 * 1024 * 1024)
/* A `kubectl get -A -o json` of a large cluster: 100,000 objects fit. */
#define SCAN_INPUT_MAX (1024u * 1024 * 1024)

/* ---- review ------------------------------------------------------------------------ */

static const char review_usage[] =
    "usage: session-admission review [--policy FILE] [--public-key FILE] [--path /mutate|/validate] [FILE|-]\n\n"
    "Judges one AdmissionReview offline, with the same core as the server, and prints the\n"
    "response AdmissionReview on stdout (the decoded patch, if any, goes to stderr).\n"
    "Without --policy it uses the built-in example policy; without --public-key, the policy's\n"
    "sessions.publicKey.file when it can be read here, else the built-in example key (said on\n"
    "stderr, with its fingerprint). --path defaults to /mutate for a Pod CREATE and /validate otherwise.\n"
    "Exit status: 0 when a response was produced (allowed or denied), 2 on unusable input.";

static void print_patch(const char *body, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "response"), "patch"));
    sa_buf raw = SA_BUF_INIT;
    if (b64 && sa_buf_base64_decode(b64, &raw) == 0)
        fprintf(stderr, "patch: %s\n", sa_buf_str(&raw));
    sa_buf_free(&raw);
    cJSON_Delete(doc);
}

/* Loads what an offline command judges with: an explicit --public-key wins; else the policy's
 * sessions.publicKey.file when it can be opened here; else the built-in example key, said on
 * stderr (sa_load.h). NULL after printing why. */
static sa_snapshot *offline_snapshot(const char *cmd, const char *policy, const char *key)
{
    sa_buf notes = SA_BUF_INIT, errors = SA_BUF_INIT;
    sa_load_from from = {.policy_path = policy, .key_path = key, .example_key = 1};
    sa_snapshot *snap = sa_load_snapshot(&from, &notes, &errors);
    if (notes.len)
        fprintf(stderr, "session-admission %s: %s", cmd, sa_buf_str(&notes));
    if (!snap)
        fprintf(stderr, "session-admission %s: %s", cmd, sa_buf_str(&errors));
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    return snap;
}

int sa_commands_review(int argc, char **argv)
{
    const char *policy_path = NULL, *key_path = NULL, *path = NULL;
    /* clang-format off */
    const sa_option opts[] = {
        {"--policy", "SA_POLICY", SA_OPT_STRING, &policy_path, "FILE", "policy file (default: built-in example)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &key_path, "FILE", "control plane public key (default: the policy's sessions.publicKey.file if readable, else the built-in example)", 0, 0},
        {"--path", NULL, SA_OPT_STRING, &path, "/mutate|/validate", "endpoint to judge as", 0, 0},
    };
    /* clang-format on */
    const char *pos[1] = {"-"};
    size_t npos;
    char err[1024];
    int rc = sa_options_parse(opts, sizeof opts / sizeof opts[0], argc, argv, pos, 1, &npos, stdout,
                              review_usage, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "session-admission review: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    if (path && strcmp(path, "/mutate") != 0 && strcmp(path, "/validate") != 0) {
        fprintf(stderr, "session-admission review: --path must be /mutate or /validate\n");
        return 2;
    }
    const char *input = npos ? pos[0] : "-";
    sa_buf body = SA_BUF_INIT;
    if (sa_buf_read_file(&body, strcmp(input, "-") == 0 ? "/dev/stdin" : input, REVIEW_INPUT_MAX,
                         err, sizeof err) < 0) {
        fprintf(stderr, "session-admission review: %s\n", err);
        return 2;
    }
    sa_snapshot *snap = offline_snapshot("review", policy_path, key_path);
    int status = 2;
    if (snap) {
        sa_endpoint ep = SA_ENDPOINT_VALIDATE;
        sa_review peek;
        if (path) {
            ep = strcmp(path, "/mutate") == 0 ? SA_ENDPOINT_MUTATE : SA_ENDPOINT_VALIDATE;
        } else if (sa_review_parse(&peek, sa_buf_str(&body), body.len, err, sizeof err) == 0) {
            if (strcmp(peek.kind, "Pod") == 0 && !*peek.group &&
                strcmp(peek.operation, "CREATE") == 0)
                ep = SA_ENDPOINT_MUTATE;
            sa_review_free(&peek);
        }
        sa_admit_result res;
        sa_admit(snap, ep, sa_buf_str(&body), body.len, &res);
        if (res.http_status == 200) {
            fwrite(res.body, 1, res.body_len, stdout);
            fputc('\n', stdout);
            print_patch(res.body, res.body_len);
            status = 0;
        } else {
            fprintf(stderr, "session-admission review: %s",
                    res.body ? res.body : "out of memory\n");
        }
        sa_admit_result_free(&res);
        sa_snapshot_release(snap);
    }
    sa_buf_free(&body);
    return status;
}

/* Parses the flags of a command that takes any number of positional arguments into *pos
 * (free it). Returns 0; 1 after --help; -1 with the reason printed. */
static int parse_files(const char *cmd, const sa_option *opts, size_t nopts, int argc, char **argv,
                       const char *usage, const char *none, const char ***pos, size_t *npos)
{
    char err[1024];
    *npos = 0;
    *pos = calloc((size_t)argc + 1, sizeof **pos);
    int rc = *pos ? sa_options_parse(opts, nopts, argc, argv, *pos, (size_t)argc, npos, stdout,
                                     usage, err, sizeof err)
                  : (snprintf(err, sizeof err, "out of memory"), -1);
    if (rc == 0 && !*npos)
        rc = -1, snprintf(err, sizeof err, "%s", none);
    if (rc < 0)
        fprintf(stderr, "session-admission %s: %s\n", cmd, err);
    return rc;
}

/* ---- scan ------------------------------------------------------------------------------ */

static const char scan_usage[] =
    "usage: session-admission scan [options] FILE...|-\n\n"
    "Judges plain Kubernetes objects as the API server would send them to the webhooks the chart\n"
    "registers: YAML or JSON, several YAML documents, Lists (kubectl get -o json|yaml, helm\n"
    "template). Session pods are mutated, then validated as mutated. One row per object: verdict\n"
    "(allowed, patched, warned, denied, not-judged), kind, namespace/name, rule ids, message;\n"
    "then a summary. Also the audit of what a cluster holds:\n"
    "  kubectl get roles,rolebindings,clusterroles,clusterrolebindings,pods -A -o json | session-admission scan -\n"
    "Exit status: 0 nothing would be denied, 1 something would, 2 unusable input.";

typedef struct scan_config {
    const char *policy, *public_key, *user, *operation, *ns, *output;
    sa_option_list groups;
    int show_patched;
} scan_config;

int sa_commands_scan(int argc, char **argv)
{
    scan_config cfg = {.output = "table"};
    /* clang-format off */
    const sa_option opts[] = {
        {"--policy", "SA_POLICY", SA_OPT_STRING, &cfg.policy, "FILE", "policy file (default: built-in example)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &cfg.public_key, "FILE", "control plane public key (default: the policy's sessions.publicKey.file if readable, else the built-in example)", 0, 0},
        {"--user", NULL, SA_OPT_STRING, &cfg.user, "NAME", "the requesting user (default session-admission-scan)", 0, 0},
        {"--group", NULL, SA_OPT_LIST, &cfg.groups, "NAME", "a group of the user; repeat for more (system:authenticated is always added)", 0, 0},
        {"--operation", NULL, SA_OPT_STRING, &cfg.operation, "OP", "CREATE (default), UPDATE or DELETE", 0, 0},
        {"--namespace", NULL, SA_OPT_STRING, &cfg.ns, "NS", "namespace of namespaced objects that name none (default \"default\", as kubectl)", 0, 0},
        {"-o", NULL, SA_OPT_STRING, &cfg.output, "table|json", "output: a table (default) or one JSON object per line", 0, 0},
        {"--show-patched", NULL, SA_OPT_FLAG, &cfg.show_patched, NULL, "print each mutated object", 0, 0},
    };
    /* clang-format on */
    const char **pos;
    size_t npos;
    char err[1024];
    int rc = parse_files("scan", opts, sizeof opts / sizeof opts[0], argc, argv, scan_usage,
                         "name at least one FILE, or - for stdin", &pos, &npos);
    int ok_op = !cfg.operation || strcmp(cfg.operation, "CREATE") == 0 ||
                strcmp(cfg.operation, "UPDATE") == 0 || strcmp(cfg.operation, "DELETE") == 0;
    if (rc == 0 && strcmp(cfg.output, "table") != 0 && strcmp(cfg.output, "json") != 0) {
        fprintf(stderr, "session-admission scan: -o must be table or json\n");
        rc = -1;
    } else if (rc == 0 && !ok_op) {
        fprintf(stderr, "session-admission scan: --operation must be CREATE, UPDATE or DELETE\n");
        rc = -1;
    }
    if (rc != 0) {
        free(pos);
        return rc < 0 ? 2 : 0;
    }
    /* Every file is read before anything is judged: unusable input judges nothing. All the
     * documents live until the end, so their nodes come from one arena freed at once (a third of
     * the work was malloc and free of nodes); nothing cJSON allocates outlives it. */
    sa_json_arena_begin();
    sa_objects *files = calloc(npos, sizeof *files);
    int status = files ? 0 : 2;
    for (size_t i = 0; i < npos && status == 0; i++) {
        sa_buf text = SA_BUF_INIT;
        const char *name = strcmp(pos[i], "-") == 0 ? "<stdin>" : pos[i];
        if (sa_buf_read_file(&text, strcmp(pos[i], "-") == 0 ? "/dev/stdin" : pos[i],
                             SCAN_INPUT_MAX, err, sizeof err) < 0 ||
            sa_objects_read(&files[i], name, sa_buf_str(&text), text.len, err, sizeof err) < 0) {
            fprintf(stderr, "session-admission scan: %s\n", err);
            status = 2;
        }
        sa_buf_free(&text);
    }
    sa_snapshot *snap = status ? NULL : offline_snapshot("scan", cfg.policy, cfg.public_key);
    if (!snap)
        status = 2;
    sa_scan_request rq = {.operation = cfg.operation,
                          .username = cfg.user,
                          .groups = cfg.groups.items,
                          .ngroups = cfg.groups.n,
                          .default_namespace = cfg.ns};
    size_t counts[SA_SCAN_VERDICT_COUNT] = {0}, total = 0;
    int json = strcmp(cfg.output, "json") == 0;
    if (snap && !json)
        puts(sa_scan_table_header);
    for (size_t i = 0; snap && i < npos; i++) {
        const char *name = strcmp(pos[i], "-") == 0 ? "<stdin>" : pos[i];
        for (size_t j = 0; j < files[i].count; j++) {
            sa_scan_result res;
            sa_scan_object(snap, files[i].items[j].obj, &rq, &res);
            sa_buf row = SA_BUF_INIT;
            sa_scan_format_row(&res, name, &files[i].items[j], json, cfg.show_patched, &row);
            puts(sa_buf_str(&row));
            sa_buf_free(&row);
            if (res.verdict == SA_SCAN_ERROR) {
                fprintf(stderr, "session-admission scan: %s: document %u: %s\n", name,
                        files[i].items[j].doc, res.error);
                status = 2;
            }
            counts[res.verdict]++;
            total++;
            sa_scan_result_free(&res);
        }
    }
    if (snap) {
        fprintf(json ? stderr : stdout,
                "%zu objects: %zu allowed, %zu patched, %zu warned, %zu denied, %zu not judged%s\n",
                total, counts[SA_SCAN_ALLOWED], counts[SA_SCAN_PATCHED], counts[SA_SCAN_WARNED],
                counts[SA_SCAN_DENIED], counts[SA_SCAN_NOT_JUDGED],
                counts[SA_SCAN_ERROR] ? ", some unusable" : "");
        if (status == 0 && counts[SA_SCAN_DENIED])
            status = 1;
    }
    sa_snapshot_release(snap);
    for (size_t i = 0; files && i < npos; i++)
        sa_objects_free(&files[i]);
    sa_json_arena_end();
    free(files);
    free(pos);
    return status;
}

/* ---- test ------------------------------------------------------------------------------ */

static const char test_usage[] =
    "usage: session-admission test [--policy FILE] [--public-key FILE] SUITE|DIR...\n\n"
    "Runs policy test suites (YAML, kind TestSuite; a directory: every suite in it; the format\n"
    "is documented in examples/tests/suite.yaml). Prints PASS or FAIL per case with the reason,\n"
    "then \"N passed, N failed\". Exit status: 0 all passed, 1 a case failed, 2 a suite is unusable.";

int sa_commands_test(int argc, char **argv)
{
    const char *policy = NULL, *key = NULL;
    /* clang-format off */
    const sa_option opts[] = {
        {"--policy", NULL, SA_OPT_STRING, &policy, "FILE", "judge with this policy instead of the suites' own", 0, 0},
        {"--public-key", NULL, SA_OPT_STRING, &key, "FILE", "and this key", 0, 0},
    };
    /* clang-format on */
    const char **pos;
    size_t npos;
    char err[1024];
    int rc = parse_files("test", opts, sizeof opts / sizeof opts[0], argc, argv, test_usage,
                         "name a SUITE file or a directory of suites", &pos, &npos);
    if (rc != 0) {
        free(pos);
        return rc < 0 ? 2 : 0;
    }
    sa_suite_totals t = {0, 0};
    int status = 0;
    for (size_t i = 0; i < npos && status == 0; i++) {
        sa_buf out = SA_BUF_INIT, notes = SA_BUF_INIT;
        if (sa_suite_run(pos[i], policy, key, &out, &notes, &t, err, sizeof err) < 0) {
            fprintf(stderr, "session-admission test: %s\n", err);
            status = 2;
        }
        fprintf(stderr, "%s", sa_buf_str(&notes));
        fputs(sa_buf_str(&out), stdout);
        sa_buf_free(&out);
        sa_buf_free(&notes);
    }
    printf("%u passed, %u failed\n", t.passed, t.failed);
    free(pos);
    return status ? status : t.failed ? 1 : 0;
}

/* ---- check-policy -------------------------------------------------------------------- */

static const char check_usage[] =
    "usage: session-admission check-policy FILE\n\n"
    "Checks a policy file fully. Prints OK and a summary of the table sizes (exit 0), or one line\n"
    "per error as FILE:LINE:COLUMN: what was expected (exit 1). The key file the policy names\n"
    "(sessions.publicKey.file) is checked too when it can be read here: a public RSA key of at\n"
    "least 2048 bits, never a private key; stderr says what was found, or that it could not be\n"
    "checked.";

int sa_commands_check_policy(int argc, char **argv)
{
    const char *pos[1];
    size_t npos;
    char err[256];
    int rc =
        sa_options_parse(NULL, 0, argc, argv, pos, 1, &npos, stdout, check_usage, err, sizeof err);
    if (rc != 0 || npos != 1) {
        if (rc <= 0)
            fprintf(stderr, "session-admission check-policy: %s\n",
                    rc < 0 ? err : "expected one FILE");
        return rc > 0 ? 0 : 2;
    }
    sa_buf errors = SA_BUF_INIT;
    sa_policy *p = sa_policy_load_file(pos[0], &errors);
    if (!p) {
        fputs(sa_buf_str(&errors), stdout);
        sa_buf_free(&errors);
        return 1;
    }
    /* The key file as well, when it can be read here (it usually exists only in the pod). */
    sa_buf notes = SA_BUF_INIT;
    int status = sa_load_check_key(p, &notes, &errors) < 0 ? 1 : 0;
    if (status) {
        fputs(sa_buf_str(&errors), stdout);
    } else {
        sa_buf summary = SA_BUF_INIT;
        sa_policy_summary(p, &summary);
        printf("OK %s\n", sa_buf_str(&summary));
        sa_buf_free(&summary);
    }
    fprintf(stderr, "%s", sa_buf_str(&notes));
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    sa_policy_free(p);
    return status;
}

/* ---- generate ---------------------------------------------------------------------- */

static const char generate_usage[] =
    "usage: session-admission generate [--policy FILE] [--public-key FILE] [--kube-version 1.N]\n"
    "                                  [--actions policy|warn] [--namespace NS] [--only validating|mutating]\n\n"
    "Prints the policy as ValidatingAdmissionPolicies and their bindings (YAML, for kubectl apply),\n"
    "which the API server evaluates itself and which decide as the webhook does, the session pod\n"
    "mutation as a MutatingAdmissionPolicy (Kubernetes 1.33+: v1alpha1 behind its feature gate in\n"
    "1.33, v1beta1 in 1.34, v1 from 1.36), and a ConfigMap holding the public key the session pods\n"
    "must carry (rotate the key by updating it).\n"
    "Each binding denies, warns or audits as the rule's mode says; --actions warn makes every\n"
    "binding [Warn, Audit], to run the policies next to the webhook before switching.\n"
    "What the policies leave to the webhook is said on stderr and in \"# webhook-only:\" lines.\n"
    "Exit status: 0 on success, 2 on unusable input or a policy CEL cannot express.";

int sa_commands_generate(int argc, char **argv)
{
    const char *policy_path = NULL, *key_path = NULL, *version = NULL, *actions = "policy",
               *only = NULL;
    sa_generate_options o = {.kube_minor = SA_GENERATE_KUBE_MAX, .namespace_ = "session-admission"};
    /* clang-format off */
    const sa_option opts[] = {
        {"--policy", "SA_POLICY", SA_OPT_STRING, &policy_path, "FILE", "policy file (default: built-in example)", 0, 0},
        {"--public-key", "SA_PUBLIC_KEY", SA_OPT_STRING, &key_path, "FILE", "control plane public key (default: the policy's sessions.publicKey.file if readable, else the built-in example)", 0, 0},
        {"--kube-version", NULL, SA_OPT_STRING, &version, "1.N", "the Kubernetes version to write for (default: the newest known, 1.36; 1.30 at the oldest)", 0, 0},
        {"--actions", NULL, SA_OPT_STRING, &actions, "policy|warn", "bindings as the rules' modes say (default), or all [Warn, Audit]", 0, 0},
        {"--namespace", NULL, SA_OPT_STRING, &o.namespace_, "NS", "namespace of the key ConfigMap (default session-admission)", 0, 0},
        {"--only", NULL, SA_OPT_STRING, &only, "validating|mutating", "only the validating or only the mutating policies (and the ConfigMap)", 0, 0},
    };
    /* clang-format on */
    size_t npos;
    char err[1024];
    int rc = sa_options_parse(opts, sizeof opts / sizeof opts[0], argc, argv, NULL, 0, &npos,
                              stdout, generate_usage, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "session-admission generate: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    sa_buf out = SA_BUF_INIT, notes = SA_BUF_INIT, errors = SA_BUF_INIT;
    if (version && sa_generate_kube_version(version, &o.kube_minor, &errors) < 0) {
        fprintf(stderr, "session-admission generate: %s\n", sa_buf_str(&errors));
        sa_buf_free(&errors);
        return 2;
    }
    if (strcmp(actions, "policy") != 0 && strcmp(actions, "warn") != 0) {
        fprintf(stderr, "session-admission generate: --actions must be policy or warn\n");
        return 2;
    }
    o.warn_only = strcmp(actions, "warn") == 0;
    if (only && strcmp(only, "validating") != 0 && strcmp(only, "mutating") != 0) {
        fprintf(stderr, "session-admission generate: --only must be validating or mutating\n");
        return 2;
    }
    o.only = !only                             ? SA_GENERATE_BOTH
             : strcmp(only, "validating") == 0 ? SA_GENERATE_VALIDATING
                                               : SA_GENERATE_MUTATING;
    sa_snapshot *snap = offline_snapshot("generate", policy_path, key_path);
    if (!snap)
        return 2;
    int status = 0;
    if (sa_generate(snap->policy, snap->key, &o, &out, &notes, &errors) < 0) {
        fprintf(stderr, "session-admission generate: %s\n", sa_buf_str(&errors));
        status = 2;
    } else {
        fputs(sa_buf_str(&notes), stderr);
        fwrite(sa_buf_str(&out), 1, out.len, stdout);
    }
    sa_buf_free(&out);
    sa_buf_free(&notes);
    sa_buf_free(&errors);
    sa_snapshot_release(snap);
    return status;
}
