/* cli.h -- the command line: `poisonfarm [COMMAND] [ARGS]`. One function per command, each in its
 * own src/cli_<command>.c; cli_main dispatches. Every command returns an exit status (common.h). */
#ifndef POISONFARM_CLI_H
#define POISONFARM_CLI_H

/* Dispatches argv to a command; no command (or a job file as first argument) means `run`. */
int cli_main(int argc, char **argv);

int cmd_data(int argc, char **argv);    /* poisonfarm data [--data-dir DIR] [--require A,B] */
int cmd_train(int argc, char **argv);   /* poisonfarm train --dataset ... | --from FILE --id N */
int cmd_run(int argc, char **argv);     /* mpirun -np N poisonfarm [run] [JOBFILE] ... */
int cmd_grid(int argc, char **argv);    /* poisonfarm grid JOBFILE [-n RANKS] */
int cmd_report(int argc, char **argv);  /* poisonfarm report RESULTS.h5 [-o DIR] */
int cmd_check(int argc, char **argv);   /* poisonfarm check RESULTS.h5 */

/* Prints "poisonfarm: message" on stderr (one line) -- the user-error path. In cli_util.c, which
 * every command uses and which uses no command, so that calls go one way: cli.c -> cli_*.c ->
 * cli_util.c. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
