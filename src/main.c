/* main.c: the session-admission command line: which command runs, and the version.
 *
 * The serve command lives in the server (src/serve, sa_serve.h), the offline ones in the command
 * line's library (src/cli, sa_commands.h); both judge with the same core (src/core). */
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "sa_commands.h"
#include "sa_serve.h"

/* ---- version and help ---------------------------------------------------------------- */

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("session-admission %s (libmicrohttpd %s, %s, cJSON %s, libyaml %s)\n", SA_VERSION,
           MHD_get_version(), OpenSSL_version(OPENSSL_VERSION), cJSON_Version(),
           yaml_get_version_string());
    return 0;
}

static const char main_usage[] =
    "usage: session-admission COMMAND [options]\n\n"
    "commands:\n"
    "  serve          run the HTTPS admission webhook (serve --dev: nothing to prepare)\n"
    "  review         judge one AdmissionReview offline and print the response\n"
    "  scan           judge manifests or a cluster's objects (kubectl get -o json) offline\n"
    "  test           run policy test suites\n"
    "  check-policy   check a policy file\n"
    "  generate       write the policy as ValidatingAdmissionPolicies the API server runs itself\n"
    "  version        print the version\n\n"
    "Run session-admission COMMAND --help for a command's options.";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
        /* clang-format off */
    } commands[] = {
        {"serve", sa_serve_main},
        {"review", sa_commands_review},
        {"scan", sa_commands_scan},
        {"test", sa_commands_test},
        {"check-policy", sa_commands_check_policy},
        {"generate", sa_commands_generate},
        {"version", cmd_version},
    };
    /* clang-format on */
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        puts(main_usage);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "session-admission: unknown command \"%s\"\n%s\n", argv[1], main_usage);
    return 2;
}
