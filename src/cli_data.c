/* cli_data.c -- `poisonfarm data` (not written yet). */
#include "poisonfarm/cli.h"
#include "poisonfarm/common.h"

int cmd_data(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'data' is not implemented yet");
    return PF_EXIT_FAIL;
}
