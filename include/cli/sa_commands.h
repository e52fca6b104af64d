/* sa_commands.h: the offline commands behind `session-admission review|scan|test|check-policy|
 * generate`, each given the arguments after its name and returning the process's exit status
 * (each command's --help says what its statuses mean). */
#ifndef SA_COMMANDS_H
#define SA_COMMANDS_H

int sa_commands_review(int argc, char **argv);
int sa_commands_scan(int argc, char **argv);
int sa_commands_test(int argc, char **argv);
int sa_commands_check_policy(int argc, char **argv);
int sa_commands_generate(int argc, char **argv);

#endif
