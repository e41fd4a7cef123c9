/* main.c -- the poisonfarm executable: everything else lives in the library (libpoisonfarm.a). */
#include "poisonfarm/cli.h"

int main(int argc, char **argv) { return cli_main(argc, argv); }
