/* cli_run.c -- `poisonfarm run` (not written yet). */
#include "poisonfarm/cli.h"
#include "poisonfarm/common.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'run' is not implemented yet");
    return PF_EXIT_FAIL;
}
