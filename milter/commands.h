/*
 * commands - the subcommands of milter-relay besides running the daemon
 *
 *	milter-relay query [-c conf] [-a CLIENT_IP] [--auth] ADDRESS...
 *	milter-relay reload [-c conf] [-P pidfile]
 *	milter-relay export [-c conf] FORMAT
 *	milter-relay import [-n] [-o OUTPUT | --to postgresql:CONNINFO]
 *	    FORMAT FILE ...
 *	milter-relay stats [-c conf] [-M inet:PORT@HOST]
 *
 * main() dispatches on argv[1]; each cmd_*() gets argc/argv starting at
 * the subcommand's name and returns a sysexits.h exit status.
 */
#ifndef MR_COMMANDS_H
#define MR_COMMANDS_H

int	cmd_query(int argc, char **argv);
int	cmd_reload(int argc, char **argv);
int	cmd_export(int argc, char **argv);
int	cmd_import(int argc, char **argv);
int	cmd_stats(int argc, char **argv);

#endif
