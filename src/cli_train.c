/* cli_train.c -- `poisonfarm train` (not written yet). */
#include "poisonfarm/cli.h"
#include "poisonfarm/common.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'train' is not implemented yet");
    return PF_EXIT_FAIL;
}
