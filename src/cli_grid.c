/* cli_grid.c -- `poisonfarm grid` (not written yet). */
#include "poisonfarm/cli.h"
#include "poisonfarm/common.h"

int cmd_grid(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'grid' is not implemented yet");
    return PF_EXIT_FAIL;
}
