/*
 * fuzz_nexthop - libFuzzer target: next-hop lists (lib/nexthop.c)
 *
 * The input, cut at the first newline into a list and MTA hosts, is read
 * as a smart host list in rule syntax, as Postfix and Sendmail lists,
 * and as the MTA's {rcpt_host} for the routing check.  A list accepted
 * must normalize to itself again, iterate to as many hops as it has
 * commas plus one, cover its own Postfix rendering, and render in both
 * MTA syntaxes without overflow; a refusal must come with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nexthop.h"

static void
die(const char *why, const char *in)
{
	fprintf(stderr, "fuzz_nexthop: %s: \"%s\"\n", why, in);
	abort();
}

static void
check_list(const char *in)
{
	char		 out[NEXTHOP_LIST_TEXT_MAX + 1];
	char		 again[NEXTHOP_LIST_TEXT_MAX + 1], route[1100];
	const char	*why, *cursor, *p;
	struct nexthop	 hop;
	int		 n, commas, rc;

	why = NULL;
	if (nexthop_list_normalize(in, out, sizeof(out), &why) == -1) {
		if (why == NULL)
			die("refused without a reason", in);
		return;
	}
	if (nexthop_list_normalize(out, again, sizeof(again), &why) == -1 ||
	    strcmp(out, again) != 0)
		die("normalized list is not stable", out);
	for (commas = 0, p = out; *p != '\0'; p++)
		commas += *p == ',';
	cursor = out;
	for (n = 0; (rc = nexthop_list_next(&cursor, &hop)) == 1; n++)
		if (!nexthop_list_has(out, &hop))
			die("list lacks its own hop", out);
	if (rc != 0 || n != commas + 1 || n > NEXTHOP_LIST_MAX)
		die("iteration disagrees", out);
	if (nexthop_route(out, NULL, NEXTHOP_POSTFIX, route, sizeof(route),
	    &why) == -1)
		die("no Postfix route", out);
	if (!nexthop_route_covers(out, "smtp", route + 5))
		die("its Postfix route does not cover it", out);
	(void)nexthop_route(out, NULL, NEXTHOP_SENDMAIL, route, sizeof(route),
	    &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in, *nl, out[NEXTHOP_LIST_TEXT_MAX + 1];
	const char	*mta, *why;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (strlen(in) != size) {
		free(in);
		return 0;
	}
	mta = "";
	if ((nl = strchr(in, '\n')) != NULL) {
		*nl = '\0';
		mta = nl + 1;
	}
	check_list(in);
	if (nexthop_list_from_mta(in, NEXTHOP_POSTFIX, 0, out, sizeof(out),
	    &why) == 0)
		check_list(out);
	if (nexthop_list_from_mta(in, NEXTHOP_SENDMAIL, 2525, out,
	    sizeof(out), &why) == 0)
		check_list(out);
	(void)nexthop_route_covers("mx:a.test,[192.0.2.1]:2525", mta, mta);
	(void)nexthop_route_covers("mx:a.test,[192.0.2.1]:2525", "esmtp2525",
	    in);
	free(in);
	return 0;
}
