/*
 * check_config - unit tests of config_load() and the domains_file reader
 * (lib/config.c)
 *
 * Every test writes its files into a fresh temporary directory.  Good
 * files: the example of milter-relay.conf(5) with every value checked, the
 * defaults, domains_file next to the config (relative and absolute), its
 * comments, quoting and line endings, and @include.  Bad files: a table
 * of configurations, each with the exact "FILE:LINE: reason" it must
 * produce, and domains_file errors likewise; a failed load returns NULL.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "netaddr.h"
#include "ruleset.h"
#include "testutil.h"

static char	dir[64];

static void
setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "check_config");
}

static void
teardown(void)
{
	unit_tmpdir_remove(dir);
}

/* Write dir/name; returns the path in a static buffer of its own. */
static const char *
put(const char *name, const char *text, size_t len, char *path,
    size_t pathlen)
{
	FILE	*fp;

	snprintf(path, pathlen, "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

static struct config *
load(const char *text, char *err, size_t errlen, char *path, size_t pathlen)
{
	put("milter-relay.conf", text, strlen(text), path, pathlen);
	err[0] = '\0';
	return config_load(path, err, errlen);
}

static const char example[] =
	"socket    = \"unix:/var/spool/postfix/milter-relay/milter.sock\";\n"
	"socket_mode = \"0660\";\n"
	"socketmap = \"inet:10026@127.0.0.1\";\n"
	"metrics = \"inet:9187@127.0.0.1\";\n"
	"user  = \"milter-relay\";\n"
	"group = \"postfix\";\n"
	"pidfile = \"/run/milter-relay/milter-relay.pid\";\n"
	"syslog_facility = \"mail\";\n"
	"\n"
	"policy = {\n"
	"  unmatched = \"reject\";\n"
	"  trusted_networks = [ \"127.0.0.0/8\", \"::1/128\", \"192.0.2.0/24\" ];\n"
	"  trust_authenticated = true;\n"
	"  mode = \"enforce\";\n"
	"};\n"
	"\n"
	"domains = (\n"
	"  { match = \"example.com\";     smarthost = \"[10.1.2.3]\"; },\n"
	"  { match = \"#example.org\";    smarthost = \"mail.example.org:2525\"; },\n"
	"  { match = \"partner.example\"; relay = \"trusted\"; smarthost = \"[2001:db8::25]\"; },\n"
	"  { match = \"lab.example.com\"; relay = \"deny\"; reply = \"550 5.7.1 No mail for the lab\"; }\n"
	");\n"
	"domains_file = \"domains.list\";   # optional\n";

START_TEST(test_example)
{
	struct config		*c;
	const struct rule	*r;
	struct netaddr		 a;
	char			 err[512], path[128], lpath[128];
	const char		*list = "# rules exported from the database\n"
				    "\n"
				    "big.example smarthost=mx:relay.example.net\n";

	put("domains.list", list, strlen(list), lpath, sizeof(lpath));
	c = load(example, err, sizeof(err), path, sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->path, path);
	ck_assert_str_eq(c->socket,
	    "unix:/var/spool/postfix/milter-relay/milter.sock");
	ck_assert_int_eq(c->socket_mode, 0660);
	ck_assert_str_eq(c->socketmap, "inet:10026@127.0.0.1");
	ck_assert_str_eq(c->metrics, "inet:9187@127.0.0.1");
	ck_assert_uint_eq(c->ninline_patterns, 4);
	ck_assert_str_eq(c->inline_patterns[0], "example.com");
	ck_assert_str_eq(c->inline_patterns[1], "#example.org");
	ck_assert_str_eq(c->user, "milter-relay");
	ck_assert_str_eq(c->group, "postfix");
	ck_assert_str_eq(c->pidfile, "/run/milter-relay/milter-relay.pid");
	ck_assert_str_eq(c->syslog_facility, "mail");
	ck_assert_int_eq(c->policy.unmatched, UNMATCHED_REJECT);
	ck_assert_int_eq(c->policy.trust_authenticated, 1);
	ck_assert_int_eq(c->policy.trust_local_socket, 0);
	ck_assert_int_eq(c->policy.log_only, 0);
	ck_assert_int_eq(c->policy.route_check, ROUTE_CHECK_LOG);
	ck_assert_uint_eq(netlist_count(c->policy.trusted_networks), 3);
	ck_assert_int_eq(netaddr_parse("192.0.2.9", &a), 0);
	ck_assert_int_eq(netlist_contains(c->policy.trusted_networks, &a), 1);
	ck_assert_int_eq(netaddr_parse("192.0.3.9", &a), 0);
	ck_assert_int_eq(netlist_contains(c->policy.trusted_networks, &a), 0);
	ck_assert_uint_eq(ruleset_count(c->rules), 5);
	r = ruleset_lookup(c->rules, "a.example.com", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->smarthost, "[10.1.2.3]");
	r = ruleset_lookup(c->rules, "lab.example.com", NULL);
	ck_assert_int_eq(r->relay, RELAY_DENY);
	ck_assert_str_eq(r->reply, "550 5.7.1 No mail for the lab");
	r = ruleset_lookup(c->rules, "partner.example", NULL);
	ck_assert_int_eq(r->relay, RELAY_TRUSTED);
	ck_assert_str_eq(r->smarthost, "[2001:db8::25]");
	ck_assert_ptr_null(ruleset_lookup(c->rules, "a.example.org", NULL));
	r = ruleset_lookup(c->rules, "x.big.example", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->smarthost, "mx:relay.example.net");
	config_free(c);
	config_free(NULL);
}
END_TEST

START_TEST(test_defaults)
{
	struct config	*c;
	char		 err[512], path[128];

	c = load("# nothing\n", err, sizeof(err), path, sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_ptr_null(c->socket);
	ck_assert_ptr_null(c->socketmap);
	ck_assert_ptr_null(c->metrics);
	ck_assert_uint_eq(c->ninline_patterns, 0);
	ck_assert_ptr_null(c->user);
	ck_assert_ptr_null(c->group);
	ck_assert_ptr_null(c->pidfile);
	ck_assert_ptr_null(c->syslog_facility);
	ck_assert_int_eq(c->socket_mode, -1);
	ck_assert_int_eq(c->milter_timeout, CONFIG_MILTER_TIMEOUT);
	ck_assert_int_eq(CONFIG_MILTER_TIMEOUT, 1800);
	ck_assert_int_eq(c->policy.unmatched, UNMATCHED_REJECT);
	ck_assert_int_eq(c->policy.trust_authenticated, 1);
	ck_assert_int_eq(c->policy.trust_local_socket, 0);
	ck_assert_int_eq(c->policy.log_only, 0);
	ck_assert_int_eq(c->policy.route_check, ROUTE_CHECK_LOG);
	ck_assert_int_eq(c->policy.local_mailers.n, 3);
	ck_assert_str_eq(c->policy.local_mailers.name[0], "local");
	ck_assert_str_eq(c->policy.local_mailers.name[1], "virtual");
	ck_assert_str_eq(c->policy.local_mailers.name[2], "lmtp");
	ck_assert_ptr_nonnull(c->policy.trusted_networks);
	ck_assert_uint_eq(netlist_count(c->policy.trusted_networks), 0);
	ck_assert_ptr_nonnull(c->rules);
	ck_assert_uint_eq(ruleset_count(c->rules), 0);
	config_free(c);
}
END_TEST

START_TEST(test_policy_values)
{
	struct config	*c;
	char		 err[512], path[128];

	c = load("policy = { unmatched = \"tempfail\"; mode = \"log-only\";\n"
	    "  route_check = \"enforce\"; trust_authenticated = false;\n"
	    "  trust_local_socket = true; trusted_networks = ( ); };\n"
	    "socket = \"inet6:10025@[::1]\"; socket_mode = \"600\";\n"
	    "socketmap = \"unix:/run/m.sock\";\n"
	    "syslog_facility = \"local3\"; milter_timeout = 90;\n", err,
	    sizeof(err), path, sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->milter_timeout, 90);
	ck_assert_int_eq(c->policy.unmatched, UNMATCHED_TEMPFAIL);
	ck_assert_int_eq(c->policy.log_only, 1);
	ck_assert_int_eq(c->policy.route_check, ROUTE_CHECK_ENFORCE);
	ck_assert_int_eq(c->policy.trust_authenticated, 0);
	ck_assert_int_eq(c->policy.trust_local_socket, 1);
	ck_assert_int_eq(c->socket_mode, 0600);
	ck_assert_str_eq(c->syslog_facility, "local3");
	config_free(c);
	c = load("policy = { unmatched = \"continue\"; route_check = \"off\";"
	    " };\n", err, sizeof(err), path, sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->policy.unmatched, UNMATCHED_CONTINUE);
	ck_assert_int_eq(c->policy.route_check, ROUTE_CHECK_OFF);
	config_free(c);
}
END_TEST

/* Bad configurations: "%s" in err stands for the config path. */
struct bad {
	const char	*text;
	const char	*err;
};

static const struct bad bads[] = {
	{ "socket = ;\n", "%s:1: syntax error" },
	{ "socket = \"unix:/a\";\nuser = ;\n", "%s:2: syntax error" },
	{ "socket = \"unix:/a\";\nsocket = \"unix:/b\";\n",
	    "%s:2: duplicate setting name" },
	{ "sockett = \"unix:/a\";\n", "%s:1: unknown setting \"sockett\"" },
	{ "\n\nrelay_domains = ( );\n",
	    "%s:3: unknown setting \"relay_domains\"" },
	{ "policy = {\n  unmatched = \"reject\";\n  foo = 1;\n};\n",
	    "%s:3: unknown setting \"policy.foo\"" },
	{ "domains = (\n  { match = \"a.test\";\n    smarthots = \"h.test\"; }\n"
	    ");\n", "%s:3: unknown setting \"smarthots\" in domains entry" },
	{ "socket = 5;\n", "%s:1: socket must be a string" },
	{ "socket = \"/path/ok\";\nsocketmap = true;\n",
	    "%s:2: socketmap must be a string" },
	{ "socket = \"milter.sock\";\n", "%s:1: bad socket \"milter.sock\" "
	    "(unix:PATH, inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "metrics = \"unix:/run/m.sock\";\n", "%s:1: bad metrics "
	    "\"unix:/run/m.sock\" (inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "\nmetrics = \"inet:99999@127.0.0.1\";\n", "%s:2: bad metrics "
	    "\"inet:99999@127.0.0.1\" (inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "metrics = \"inet:9187@\";\n", "%s:1: bad metrics "
	    "\"inet:9187@\" (inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "metrics = \"inet:x@h\";\n", "%s:1: bad metrics "
	    "\"inet:x@h\" (inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "metrics = 9187;\n", "%s:1: metrics must be a string" },
	{ "socketmap = \"inet:0@127.0.0.1\";\n", "%s:1: bad socketmap "
	    "\"inet:0@127.0.0.1\": bad port (1 to 65535)" },
	{ "socketmap = \"inet6:10027@[::1\";\n", "%s:1: bad socketmap "
	    "\"inet6:10027@[::1\": unclosed '[' in host" },
	{ "user = \"\";\n", "%s:1: user must not be empty" },
	{ "group = [ \"a\" ];\n", "%s:1: group must be a string" },
	{ "pidfile = 1.5;\n", "%s:1: pidfile must be a string" },
	{ "socket_mode = 0660;\n", "%s:1: socket_mode must be a string of "
	    "octal digits, e.g. \"0660\"" },
	{ "socket_mode = \"0680\";\n", "%s:1: socket_mode must be a string of "
	    "octal digits, e.g. \"0660\"" },
	{ "socket_mode = \"\";\n", "%s:1: socket_mode must be a string of "
	    "octal digits, e.g. \"0660\"" },
	{ "socket_mode = \"07777\";\n", "%s:1: socket_mode must be a string "
	    "of octal digits, e.g. \"0660\"" },
	{ "socket_mode = \"rw-rw----\";\n", "%s:1: socket_mode must be a "
	    "string of octal digits, e.g. \"0660\"" },
	{ "syslog_facility = \"mial\";\n", "%s:1: bad syslog_facility "
	    "\"mial\" (a syslog facility such as mail or local0)" },
	{ "policy = 5;\n", "%s:1: policy must be a group { ... }" },
	{ "policy = { unmatched = \"drop\"; };\n", "%s:1: bad unmatched "
	    "\"drop\" (reject, tempfail or continue)" },
	{ "policy = { unmatched = 1; };\n", "%s:1: unmatched must be a string" },
	{ "policy = { mode = \"audit\"; };\n",
	    "%s:1: bad mode \"audit\" (enforce or log-only)" },
	{ "policy = {\n route_check = \"yes\"; };\n",
	    "%s:2: bad route_check \"yes\" (off, log or enforce)" },
	{ "policy = { trust_authenticated = \"yes\"; };\n",
	    "%s:1: trust_authenticated must be true or false" },
	{ "policy = { trust_local_socket = 1; };\n",
	    "%s:1: trust_local_socket must be true or false" },
	{ "policy = { trusted_networks = \"127.0.0.1\"; };\n",
	    "%s:1: trusted_networks must be a list of strings, e.g. "
	    "[ \"127.0.0.0/8\", \"::1/128\" ]" },
	{ "policy = { trusted_networks = ( \"127.0.0.1\", 5 ); };\n",
	    "%s:1: trusted_networks must be a list of strings" },
	{ "domains = 5;\n",
	    "%s:1: domains must be a list ( { match = \"...\"; }, ... )" },
	{ "domains = [ \"a.test\" ];\n",
	    "%s:1: domains must be a list ( { match = \"...\"; }, ... )" },
	{ "domains = ( \"a.test\" );\n", "%s:1: each entry of domains must "
	    "be a group { match = \"...\"; ... }" },
	{ "domains = (\n { relay = \"deny\"; }\n);\n",
	    "%s:2: domains entry without match" },
	{ "domains = ( { match = 5; } );\n", "%s:1: match must be a string" },
	{ "domains = ( { match = \"a.test\"; relay = true; } );\n",
	    "%s:1: relay must be a string" },
	{ "domains = (\n { match = \"a..test\"; }\n);\n",
	    "%s:2: bad pattern \"a..test\": empty label in domain name" },
	{ "domains = (\n { match = \"a.test\"; relay = \"maybe\"; }\n);\n",
	    "%s:2: bad relay \"maybe\" (always, trusted or deny)" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = \"2001:db8::1\"; }"
	    "\n);\n", "%s:2: bad smarthost \"2001:db8::1\": IPv6 address "
	    "must be in brackets" },
	{ "domains = ( { match = \"a.test\"; relay = \"deny\";\n"
	    " reply = \"550 4.7.1 x\"; } );\n", "%s:1: bad reply \"550 4.7.1 "
	    "x\": reply needs an enhanced status code of the same class "
	    "(e.g. 550 5.7.1)" },
	{ "domains = ( { match = \"a.test\"; transport = \"relay\"; } );\n",
	    "%s:1: transport needs a smarthost" },
	{ "domains = (\n { match = \"example.com\"; },\n { match = \"b.test\"; },"
	    "\n { match = \"Example.COM.\"; }\n);\n",
	    "%s:4: duplicate pattern \"example.com\" (first at %s:2)" },
	{ "domains = (\n { match = \"#b.test\"; },\n { match = \"b.test\"; },\n"
	    " { match = \"#B.test\"; relay = \"bogus\"; }\n);\n",
	    "%s:4: duplicate pattern \"#b.test\" (first at %s:2)" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = [ ]; }\n);\n",
	    "%s:3: smarthost: empty list" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = ( \"h.test\", 5 ); }"
	    "\n);\n", "%s:3: smarthost must be a string or an array of "
	    "strings" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = 5; }\n);\n",
	    "%s:3: smarthost must be a string or an array of strings" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = [ \"h.test\", "
	    "\"\" ]; }\n);\n", "%s:3: smarthost: element 2 must be one "
	    "non-empty next hop" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = [ \"h.test\", "
	    "\"a,b\" ]; }\n);\n", "%s:3: smarthost: element 2 must be one "
	    "non-empty next hop" },
	{ "domains = (\n { match = \"a.test\";\n smarthost = [ \"h.test\", "
	    "\"H.TEST:25\" ]; }\n);\n", "%s:2: bad smarthost "
	    "\"h.test,H.TEST:25\": duplicate hop in smart host list" },
	{ "domains = (\n { match = \"a.test\"; smarthost = \"h.test\";\n"
	    " tls = \"maybe\"; }\n);\n", "%s:2: bad tls (none, may, encrypt, "
	    "dane, verify or secure)" },
	{ "domains = (\n { match = \"a.test\"; smarthost = \"h.test\";\n"
	    " tls = \"may\"; tls_match = \"h.test\"; }\n);\n",
	    "%s:2: tls_match needs tls = \"verify\" or \"secure\"" },
	{ "domains = (\n { match = \"a.test\"; tls = \"encrypt\"; }\n);\n",
	    "%s:2: tls needs a smarthost (Postfix looks TLS policy up by next "
	    "hop)" },
	{ "domains = (\n { match = \"a.test\"; smarthost = \"[192.0.2.1]:25\";"
	    " tls = \"encrypt\"; },\n { match = \"b.test\"; smarthost = "
	    "[ \"[192.0.2.2]\", \"192.0.2.1\" ]; tls = \"verify\"; }\n);\n",
	    "%s: smart host [192.0.2.1] has tls = \"encrypt\" in rule "
	    "\"a.test\" but tls = \"verify\" in rule \"b.test\": Postfix looks "
	    "TLS policy up by next hop" },
	{ "domains = (\n { match = \"a.test\"; smarthost = \"h.test\"; "
	    "tls = \"verify\"; },\n { match = \"b.test\"; smarthost = "
	    "\"h.test:25\"; tls = \"verify\"; tls_match = \"h.test\"; }\n);\n",
	    "%s: smart host [h.test] has tls = \"verify\" in rule \"a.test\" "
	    "but tls = \"verify\" tls_match = h.test in rule \"b.test\": "
	    "Postfix looks TLS policy up by next hop" },
	{ "domains_file = 7;\n", "%s:1: domains_file must be a string" },
	{ "policy = { local_mailers = \"local\"; };\n",
	    "%s:1: local_mailers must be a list of strings, e.g. "
	    "[ \"local\", \"virtual\", \"lmtp\" ]" },
	{ "policy = {\n local_mailers = [ \"local\", \"smtp\" ]; };\n",
	    "%s:2: bad local mailer \"smtp\": a relaying mailer cannot be "
	    "local (every client could relay through it)" },
	{ "policy = { local_mailers = [ \"relay\" ]; };\n",
	    "%s:1: bad local mailer \"relay\": a relaying mailer cannot be "
	    "local (every client could relay through it)" },
	{ "policy = { local_mailers = [ \"lo cal\" ]; };\n",
	    "%s:1: bad local mailer \"lo cal\": a mailer name has only "
	    "letters, digits, '-', '_' and '.'" },
	{ "policy = { local_mailers = [ \"\" ]; };\n",
	    "%s:1: bad local mailer \"\": a mailer name has 1 to 63 "
	    "characters" },
	{ "policy = { local_mailers = [ \"lmtp\", \"lmtp\" ]; };\n",
	    "%s:1: bad local mailer \"lmtp\": listed twice" },
	{ "policy = { local_mailers = ( \"local\", 1 ); };\n",
	    "%s:1: local_mailers must be a list of strings" },
	{ "\nmilter_timeout = \"30\";\n",
	    "%s:2: milter_timeout must be a number of seconds" },
	{ "milter_timeout = 0;\n",
	    "%s:1: milter_timeout must be 1 to 86400 seconds" },
	{ "milter_timeout = 86401;\n",
	    "%s:1: milter_timeout must be 1 to 86400 seconds" },
	{ "milter_timeout = 2.5;\n",
	    "%s:1: milter_timeout must be a number of seconds" },
	{ "domains_file = \"\";\n", "%s:1: domains_file must not be empty" },
	{ "maps_dir = \"maps\";\n",
	    "%s:1: maps_dir must be an absolute path" },
	{ "maps_dir = \"/nonexistent/maps\";\n",
	    "%s:1: maps_dir \"/nonexistent/maps\": No such file or directory" },
	{ "maps_dir = \"/etc/passwd\";\n",
	    "%s:1: maps_dir \"/etc/passwd\": not a directory" },
	{ "maps_dir = \"\";\n", "%s:1: maps_dir must not be empty" },
};

/* Expand "%s" in want with path (up to two). */
static void
expect(char *buf, size_t len, const char *want, const char *path)
{
	snprintf(buf, len, want, path, path);
}

START_TEST(test_bad)
{
	const struct bad	*t = &bads[_i];
	struct config		*c;
	char			 err[512], path[128], want[512];

	c = load(t->text, err, sizeof(err), path, sizeof(path));
	ck_assert_msg(c == NULL, "row %d loaded", _i);
	expect(want, sizeof(want), t->err, path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_bad_network)
{
	struct netlist	*l;
	struct config	*c;
	const char	*why;
	char		 err[512], path[128], want[512];

	l = netlist_new();
	ck_assert_int_eq(netlist_add(l, "10.0.0.0/33", &why), -1);
	netlist_free(l);
	c = load("policy = {\n trusted_networks = [ \"127.0.0.0/8\",\n"
	    "  \"10.0.0.0/33\" ];\n};\n", err, sizeof(err), path,
	    sizeof(path));
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s:3: bad network \"10.0.0.0/33\": %s",
	    path, why);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_missing)
{
	char	err[512], want[512], path[128];

	snprintf(path, sizeof(path), "%s/nonexistent.conf", dir);
	ck_assert_ptr_null(config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want),
	    "%s: cannot read: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(load("domains_file = \"nope.list\";\n", err,
	    sizeof(err), path, sizeof(path)));
	snprintf(want, sizeof(want),
	    "%s/nope.list: cannot open: No such file or directory", dir);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_include)
{
	struct config	*c;
	char		 err[512], path[128], ipath[128], want[600];
	const char	*inc = "policy = {\n  unmatched = \"tempfail\";\n"
			    "  bogus = true;\n};\n";

	put("policy.conf", inc, strlen(inc), ipath, sizeof(ipath));
	c = load("socket = \"inet:1@localhost\";\n@include \"policy.conf\"\n",
	    err, sizeof(err), path, sizeof(path));
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s:3: unknown setting \"policy.bogus\"",
	    ipath);
	ck_assert_str_eq(err, want);
	inc = "policy = {\n unmatched = ;\n};\n";
	put("policy.conf", inc, strlen(inc), ipath, sizeof(ipath));
	c = load("@include \"policy.conf\"\n", err, sizeof(err), path,
	    sizeof(path));
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s:2: syntax error", ipath);
	ck_assert_str_eq(err, want);
	inc = "policy = { unmatched = \"tempfail\"; };\n";
	put("policy.conf", inc, strlen(inc), ipath, sizeof(ipath));
	c = load("@include \"policy.conf\"\n", err, sizeof(err), path,
	    sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->policy.unmatched, UNMATCHED_TEMPFAIL);
	config_free(c);
}
END_TEST

/* domains_file: good forms. */
START_TEST(test_domains_file)
{
	static const char list[] =
	    "# a comment\n"
	    "#\n"
	    "#\ttab comment\n"
	    "\n"
	    "   \n"
	    "example.com\n"
	    "#exact.example smarthost=[192.0.2.1]:2525 transport=relay\n"
	    ".sub.example\trelay=trusted\r\n"
	    "  lab.example.com relay=deny reply=\"550 5.7.1 Not \\\"here\\\"\"\n"
	    "quoted.example smarthost=\"mail.example.net\" relay=always\n"
	    "B\xc3\x9c" "CHER.example.\n"
	    "last.example relay=deny\n";
	struct config		*c;
	const struct rule	*r;
	char			 err[512], path[128], lpath[128];

	put("d.list", list, sizeof(list) - 1, lpath, sizeof(lpath));
	c = load("domains_file = \"d.list\";\n", err, sizeof(err), path,
	    sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(ruleset_count(c->rules), 7);
	r = ruleset_lookup(c->rules, "exact.example", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->kind, RULE_EXACT);
	ck_assert_str_eq(r->smarthost, "[192.0.2.1]:2525");
	ck_assert_str_eq(r->transport, "relay");
	ck_assert_ptr_null(ruleset_lookup(c->rules, "a.exact.example", NULL));
	ck_assert_ptr_null(ruleset_lookup(c->rules, "sub.example", NULL));
	r = ruleset_lookup(c->rules, "a.sub.example", NULL);
	ck_assert_int_eq(r->relay, RELAY_TRUSTED);
	r = ruleset_lookup(c->rules, "x.lab.example.com", NULL);
	ck_assert_int_eq(r->relay, RELAY_DENY);
	ck_assert_str_eq(r->reply, "550 5.7.1 Not \"here\"");
	r = ruleset_lookup(c->rules, "quoted.example", NULL);
	ck_assert_str_eq(r->smarthost, "mail.example.net");
	ck_assert_ptr_nonnull(ruleset_lookup(c->rules,
	    "xn--bcher-kva.example", NULL));
	r = ruleset_lookup(c->rules, "last.example", NULL);
	ck_assert_int_eq(r->relay, RELAY_DENY);
	config_free(c);
	/* the same file by absolute path */
	snprintf(err, sizeof(err), "domains_file = \"%s\";\n", lpath);
	c = load(err, err, sizeof(err), path, sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(ruleset_count(c->rules), 7);
	config_free(c);
}
END_TEST

/* domains_file errors: "%s" is the list's path, "%c" the config's. */
struct badline {
	const char	*list;
	const char	*err;
};

static const struct badline badlines[] = {
	{ "a.test\nb..test\n", "L:2: bad pattern \"b..test\": empty label in "
	    "domain name" },
	{ "a.test foo=bar\n", "L:1: unknown setting \"foo\"" },
	{ "a.test smarthost\n", "L:1: expected key=value, got \"smarthost\"" },
	{ "a.test relay=deny relay=always\n", "L:1: relay given twice" },
	{ "a.test relay=deny reply=\"550 5.7.1 x\n",
	    "L:1: bad reply value: unterminated quoted string" },
	{ "a.test relay=deny reply=\"550 5.7.1\"x\n",
	    "L:1: bad reply value: junk after quoted string" },
	{ "a.test smarthost=a\"b\n",
	    "L:1: bad smarthost value: quote inside a value" },
	{ "a.test relay=never\n",
	    "L:1: bad relay \"never\" (always, trusted or deny)" },
	{ "a.test smarthost=[mail.test]\n", "L:1: bad smarthost "
	    "\"[mail.test]\": brackets must hold an IPv4 or IPv6 address" },
	{ "# c\nx.test\na.test\n\nb.test\nA.TEST.\n",
	    "L:6: duplicate pattern \"a.test\" (first at L:3)" },
	{ "#a.test\na.test\n.a.test\n#A.test relay=deny\n",
	    "L:4: duplicate pattern \"#a.test\" (first at L:1)" },
	{ "x.test\ninline.test\n",
	    "L:2: duplicate pattern \"inline.test\" (first at C:2)" },
	{ "ok.test\n*.test\n",
	    "L:2: bad pattern \"*.test\": bad character in domain name" },
	{ "a.test\nb.te\0st\n", "L:2: NUL octet in line" },
	{ "a.test smarthost=[192.0.2.1],,[192.0.2.2]\n", "L:1: bad smarthost "
	    "\"[192.0.2.1],,[192.0.2.2]\": empty hop in smart host list" },
	{ "a.test tls=encrypt\n", "L:1: tls needs a smarthost (Postfix looks "
	    "TLS policy up by next hop)" },
	{ "a.test smarthost=h.test tls_match=h.test\n",
	    "L:1: tls_match needs tls = \"verify\" or \"secure\"" },
	{ "a.test smarthost=h.test tls=encrypt tls=none\n",
	    "L:1: tls given twice" },
	/* a file read while it was being written: torn after the pattern */
	{ "a.test\nlab.relay.test",
	    "L:2: incomplete last line (no newline at the end of the file)" },
	{ "a.test\nb.test relay=deny reply=\"550 5.7.1 x\"",
	    "L:2: incomplete last line (no newline at the end of the file)" },
	{ "a.test\n# a comment", "L:2: incomplete last line (no newline at "
	    "the end of the file)" },
};

static void
expand(char *buf, size_t len, const char *want, const char *lpath,
    const char *cpath)
{
	size_t	n;

	for (n = 0; *want != '\0' && n + 1 < len; want++) {
		if (*want == 'L' && want[1] == ':')
			n += (size_t)snprintf(buf + n, len - n, "%s", lpath);
		else if (*want == 'C' && want[1] == ':')
			n += (size_t)snprintf(buf + n, len - n, "%s", cpath);
		else
			buf[n++] = *want;
	}
	buf[n] = '\0';
}

START_TEST(test_domains_file_bad)
{
	const struct badline	*t = &badlines[_i];
	char			 err[512], path[128], lpath[128], want[600];
	size_t			 len;

	len = strlen(t->list);
	if (strstr(t->err, "NUL") != NULL)
		len = 15;
	put("d.list", t->list, len, lpath, sizeof(lpath));
	ck_assert_ptr_null(load("domains = (\n { match = \"inline.test\"; }\n"
	    ");\ndomains_file = \"d.list\";\n", err, sizeof(err), path,
	    sizeof(path)));
	expand(want, sizeof(want), t->err, lpath, path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_domains_line)
{
	struct ruleset	*set;
	char		 err[256], line[5000];

	set = ruleset_new();
	ck_assert_int_eq(config_parse_domains_line(set, "", 0, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(config_parse_domains_line(set, "# x", 3, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(config_parse_domains_line(set, " \t\r\n", 4, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(config_parse_domains_line(set, "#a.test\n", 8, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_parse_domains_line(set, "b.test relay=deny"
	    "XXXX", 17, err, sizeof(err)), 0);
	ck_assert_int_eq(ruleset_lookup(set, "x.b.test", NULL)->relay,
	    RELAY_DENY);
	ck_assert_int_eq(config_parse_domains_line(set, "#a.test", 7, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "duplicate pattern \"#a.test\"");
	memset(line, 'a', sizeof(line));
	ck_assert_int_eq(config_parse_domains_line(set, line, sizeof(line),
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "line longer than 4096 octets");
	ck_assert_uint_eq(ruleset_count(set), 2);
	ruleset_free(set);
}
END_TEST

START_TEST(test_load_domains_file)
{
	struct ruleset	*set;
	char		 err[512], lpath[128], want[600];
	const char	*list = "a.test\nb.test relay=deny\nc.test relay=x\n";

	put("x.list", list, strlen(list), lpath, sizeof(lpath));
	set = ruleset_new();
	ck_assert_int_eq(config_load_domains_file(set, lpath, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "%s:3: bad relay \"x\" (always, trusted or deny)", lpath);
	ck_assert_str_eq(err, want);
	ruleset_free(set);
	list = "a.test\nb.test relay=deny\n";
	put("x.list", list, strlen(list), lpath, sizeof(lpath));
	set = ruleset_new();
	ck_assert_int_eq(config_load_domains_file(set, lpath, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(ruleset_count(set), 2);
	ck_assert_int_eq(config_load_domains_file(set, lpath, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "%s:1: duplicate pattern \"a.test\"", lpath);
	ck_assert_str_eq(err, want);
	ruleset_free(set);
}
END_TEST

/* A big generated domains_file loads completely. */
START_TEST(test_domains_file_big)
{
	struct config	*c;
	FILE		*fp;
	char		 err[512], path[128], lpath[128], name[64];
	int		 i;

	snprintf(lpath, sizeof(lpath), "%s/big.list", dir);
	fp = fopen(lpath, "w");
	ck_assert_ptr_nonnull(fp);
	for (i = 0; i < 50000; i++)
		fprintf(fp, "%sd%d.example-%d.com%s\n", i % 3 == 1 ? "#" : "",
		    i, i % 97, i % 5 == 0 ? " smarthost=[192.0.2.1]" : "");
	ck_assert_int_eq(fclose(fp), 0);
	c = load("domains_file = \"big.list\";\n", err, sizeof(err), path,
	    sizeof(path));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(ruleset_count(c->rules), 50000);
	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "x.d%d.example-%d.com", i, i % 97);
		if (i % 3 == 1)
			ck_assert_ptr_null(ruleset_lookup(c->rules, name,
			    NULL));
		else
			ck_assert_ptr_nonnull(ruleset_lookup(c->rules, name,
			    NULL));
	}
	config_free(c);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("config");
	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_example);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_policy_values);
	tcase_add_loop_test(tc, test_bad, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_bad_network);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_domains_file);
	tcase_add_loop_test(tc, test_domains_file_bad, 0,
	    (int)(sizeof(badlines) / sizeof(badlines[0])));
	tcase_add_test(tc, test_domains_line);
	tcase_add_test(tc, test_load_domains_file);
	tcase_add_test(tc, test_domains_file_big);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
