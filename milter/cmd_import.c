/*
 * cmd_import - "milter-relay import": placeholder until the import command lands.
 */
#include <stdio.h>
#include <sysexits.h>

#include "commands.h"

int
cmd_import(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "milter-relay: import: not available yet\n");
	return EX_UNAVAILABLE;
}
