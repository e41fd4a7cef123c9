/* cli_report.c -- `poisonfarm report` (not written yet). */
#include "poisonfarm/cli.h"
#include "poisonfarm/common.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'report' is not implemented yet");
    return PF_EXIT_FAIL;
}
