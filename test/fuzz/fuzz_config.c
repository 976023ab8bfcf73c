/*
 * fuzz_config - libFuzzer target: config_load() on arbitrary files
 *
 * Each input is written to one temporary file, loaded with config_load()
 * and freed with config_free() (the sanitizers catch leaks and bad
 * accesses).  A failed load must say why; a successful one must hold a
 * rule set and a decision over it must never crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"

static char	path[] = "/tmp/fuzz_config.XXXXXX";
static int	fd = -1;

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_config: %s\n", why);
	abort();
}

static void
cleanup(void)
{
	if (fd >= 0)
		unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((fd = mkstemp(path)) < 0)
		die("mkstemp");
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 rcpt[] = "<u@a.example.com>";
	struct config		*config;
	struct client		 client;
	struct decision		 d;
	char			 err[512];

	if (ftruncate(fd, 0) < 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		die("cannot write the temporary file");
	err[0] = '\0';
	config = config_load(path, err, sizeof(err));
	if (config == NULL) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			die("failed load without a message");
		return 0;
	}
	if (config->rules == NULL)
		die("loaded config without a rule set");
	memset(&client, 0, sizeof(client));
	decide(config, &client, rcpt, sizeof(rcpt) - 1, &d);
	client.has_addr = 1;
	if (netaddr_parse("192.0.2.1", &client.addr) < 0)
		die("netaddr_parse");
	decide(config, &client, rcpt, sizeof(rcpt) - 1, &d);
	config_free(config);
	return 0;
}
