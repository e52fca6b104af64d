/* sa_serve.h: the serve command: its flags, the snapshot and serving pair it starts with (the
 * files, loaded in full before anything listens, or --dev's in-memory PKI), then the life of a
 * server: start the watchers and listeners, say so, wait for a signal (SIGHUP reloads), drain
 * and stop. */
#ifndef SA_SERVE_H
#define SA_SERVE_H

/* Runs `session-admission serve` with its arguments (argv after the command's name) until SIGTERM
 * or SIGINT. Returns the exit status: 0 after --help or a clean stop, 1 when something could not
 * start (said in the log), 2 on bad flags (said on stderr). */
int sa_serve_main(int argc, char **argv);

#endif
