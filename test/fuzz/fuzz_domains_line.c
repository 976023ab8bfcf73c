/*
 * fuzz_domains_line - libFuzzer target: domains_file lines
 *
 * The input is split at newlines and each line goes through
 * config_parse_domains_line() into one fresh rule set.  Checked: every
 * result is -1 (with a message), 0 or 1; the set counts exactly the lines
 * added; the walk visits every rule once; each walked pattern's name is
 * found again by ruleset_lookup() with a rule at least that specific.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domain.h"
#include "ruleset.h"

struct walk {
	const struct ruleset	*set;
	size_t			 seen;
};

static void
die(const char *why, const char *what)
{
	fprintf(stderr, "fuzz_domains_line: %s: %s\n", why, what);
	abort();
}

static int
visit(const char *pattern, const struct rule *rule, void *arg)
{
	struct walk		*w = arg;
	const struct rule	*found;
	const char		*name = pattern;
	char			 below[DOMAIN_MAX + 3];
	size_t			 name_len;

	w->seen++;
	if (rule == NULL)
		die("walk", "NULL rule");
	if (pattern[0] == '#' || pattern[0] == '.')
		name++;
	if (rule->kind != RULE_SUBDOMAINS) {
		found = ruleset_lookup(w->set, name, &name_len);
		if (found == NULL || name_len != strlen(name))
			die("rule not found again", pattern);
		return 0;
	}
	if (strlen(name) + 2 > DOMAIN_MAX)
		return 0;
	snprintf(below, sizeof(below), "x.%s", name);
	found = ruleset_lookup(w->set, below, &name_len);
	if (found == NULL || name_len < strlen(name))
		die("subdomain rule does not cover", below);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	struct ruleset	*set;
	struct walk	 w;
	char		 err[512];
	size_t		 added = 0, len;
	int		 rc;

	if ((set = ruleset_new()) == NULL)
		return 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		err[0] = '\0';
		rc = config_parse_domains_line(set, p, len, err, sizeof(err));
		if (rc == 0)
			added++;
		else if (rc == -1) {
			if (err[0] == '\0')
				die("error without a message", "");
		} else if (rc != 1)
			die("bad return", "");
		p += len + (nl != NULL);
	}
	if (ruleset_count(set) != added)
		die("count", "differs from lines added");
	w.set = set;
	w.seen = 0;
	if (ruleset_walk(set, visit, &w) != 0 || w.seen != added)
		die("walk", "did not visit every rule once");
	ruleset_free(set);
	return 0;
}
