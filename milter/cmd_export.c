/*
 * cmd_export - "milter-relay export": placeholder until the export command lands.
 */
#include <stdio.h>
#include <sysexits.h>

#include "commands.h"

int
cmd_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "milter-relay: export: not available yet\n");
	return EX_UNAVAILABLE;
}
