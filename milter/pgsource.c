/*
 * pgsource - rules from a PostgreSQL table, through libpq
 *
 * SYNOPSIS
 *	#include "pgsource.h"
 *
 *	int pgsource_load(struct ruleset *rules, const char *conninfo,
 *	    FILE *snap, char *err, size_t errlen);
 *	int pgsource_store(const char *conninfo, char **lines, size_t n,
 *	    char *err, size_t errlen);
 *	char *pgsource_mask(const char *conninfo, char *buf, size_t len);
 *	int pgsource_has_secret(const char *conninfo);
 *	int pgsource_listen_start(const char *conninfo, void (*reload)(void),
 *	    char *err, size_t errlen);
 *	void pgsource_listen_stop(void);
 *
 * DESCRIPTION
 *	The table is "rules" (contrib/postgresql/schema.sql): a column
 *	"pattern" and one column per domains_file key (relay, smarthost,
 *	transport, reply, ...).  Every row becomes the domains_file line
 *	"pattern key=value ..." of its non-NULL columns (rulerow_format(),
 *	which refuses what cannot be such a line) and is added with the
 *	domains_file parser's own checks, config_parse_domains_row() (the
 *	row that splitting that line would give, without splitting it
 *	again): a row is valid exactly when that line in a file would be,
 *	and a column the parser does not know is refused as an unknown key.
 *
 *	pgsource_load() connects, reads every row in one REPEATABLE READ,
 *	READ ONLY transaction (one snapshot) and adds them to rules: the
 *	column names from a query that returns no row (its lock keeps them
 *	until the end), then the rows through "COPY (SELECT columns FROM
 *	rules) TO STDOUT" in text format (copytext_split()), which the
 *	server streams while the rows are parsed: no cursor round trips, no
 *	result sets.  Each line added is written to snap when it is not
 *	NULL (the caller's rules_cache). It returns PGSOURCE_OK,
 *	PGSOURCE_BAD when a row is refused (err names its pattern; the
 *	caller drops the whole set), or PGSOURCE_DOWN when the database
 *	cannot be reached or the query fails (err has libpq's reason).  The
 *	connection is closed before it returns.
 *
 *	pgsource_store() replaces every row of the table with the given
 *	domains_file lines in one transaction (DELETE, then COPY of the
 *	columns the lines name): all or nothing.  The caller has validated
 *	the lines.  0, or -1 with err.
 *
 *	pgsource_mask() writes the connection string as it may be logged:
 *	keyword=value pairs as libpq parses them (a URI too), the value of
 *	every secret replaced with "********": the keywords libpq itself
 *	marks as secret (its display character '*': password, sslpassword,
 *	and any later one), any keyword that names a password or a
 *	secret, and any value that is itself a connection string (a dbname
 *	of "keyword=value" pairs or a URI, as PQconnectdbParams() expands)
 *	giving one, or that looks like one and does not parse; a string
 *	libpq cannot parse is not shown at all, nor anything when len is
 *	0.  It
 *	returns buf.  No message of this module holds the connection
 *	string itself, nor libpq's message about a string it cannot parse
 *	(it may quote a piece of it).  pgsource_has_secret() is 1 when the
 *	string gives such a secret (the import command warns: argv can be
 *	read by every user; libpq reads the password from PGPASSFILE or
 *	PGPASSWORD when the string has none), else 0.
 *
 *	pgsource_listen_start() starts the listener thread: it connects,
 *	runs LISTEN milter_relay, and then calls reload() once (changes
 *	made before the LISTEN are not missed: the caller reads them from
 *	the change log since its last read, or reads all) and again after
 *	each burst
 *	of notifications: it waits until none came for PGSOURCE_QUIET_MS,
 *	at most PGSOURCE_BURST_MS after the first, so a burst of updates
 *	is a few reloads.  When the connection is lost or cannot be made
 *	it logs once (and once when it is back), retries after 0.5 s,
 *	doubling up to PGSOURCE_BACKOFF_MAX_MS, and calls reload() when
 *	it is back.  reload() runs in the listener thread.  0, or -1 with
 *	err when the thread cannot start.  pgsource_listen_stop() stops
 *	and joins it (harmless when none runs).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "copytext.h"
#include "overlay.h"
#include "rulerow.h"
#include "ruleset.h"

#include "log.h"
#include "pgsource.h"
#include "strutil.h"

#define PGSOURCE_TABLE		"rules"
#define PGSOURCE_CHANNEL	"milter_relay"
#define PGSOURCE_LINE_MAX	4096
#define PGSOURCE_QUIET_MS	100
#define PGSOURCE_BURST_MS	1000
#define PGSOURCE_BACKOFF_MS	500
#define PGSOURCE_BACKOFF_MAX_MS	8000

/* pg_reason - libpq's last message on one line */
static void
pg_reason(PGconn *conn, const char *what, char *err, size_t errlen)
{
	char	 msg[512];
	size_t	 n;

	snprintf(msg, sizeof(msg), "%s", conn != NULL ?
	    PQerrorMessage(conn) : "out of memory");
	for (n = strlen(msg); n > 0 && (msg[n - 1] == '\n' ||
	    msg[n - 1] == ' '); n--)
		msg[n - 1] = '\0';
	for (n = 0; msg[n] != '\0'; n++)
		if (msg[n] == '\n' || msg[n] == '\t')
			msg[n] = ' ';
	errmsg_set(err, errlen, "%s: %s", what, msg);
}

/* a value that is a connection string inside one, at most this deep */
#define PG_NESTED_MAX	4

static int pg_value_secret(const char *, int);

/*
 * pg_secret - a conninfo option whose value is not to be shown: a
 * secret's keyword, or a value that holds one (pg_value_secret())
 */
static int
pg_secret(const PQconninfoOption *o, int depth)
{
	return (o->dispchar != NULL && o->dispchar[0] == '*') ||
	    strstr(o->keyword, "password") != NULL ||
	    strstr(o->keyword, "secret") != NULL ||
	    (o->val != NULL && pg_value_secret(o->val, depth + 1));
}

/* pg_has_secret - conninfo parses and gives a secret itself */
static int
pg_has_secret(const char *conninfo, int depth)
{
	PQconninfoOption *opts, *o;
	int	 found;

	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return 0;
	found = 0;
	for (o = opts; o->keyword != NULL; o++)
		found |= o->val != NULL && o->val[0] != '\0' &&
		    pg_secret(o, depth);
	PQconninfoFree(opts);
	return found;
}

/*
 * pg_value_secret - a value that may be a connection string itself (a
 * dbname holding "keyword=value" pairs or a URI, which
 * PQconnectdbParams() expands): 1 when it gives a secret, or cannot be
 * parsed, or is nested too deep to tell
 */
static int
pg_value_secret(const char *v, int depth)
{
	PQconninfoOption *opts;

	if (strchr(v, '=') == NULL && strstr(v, "://") == NULL)
		return 0;
	if (depth > PG_NESTED_MAX)
		return 1;
	if ((opts = PQconninfoParse(v, NULL)) == NULL)
		return 1;
	PQconninfoFree(opts);
	return pg_has_secret(v, depth);
}

/* pgsource_has_secret - the connection string gives a secret itself */
int
pgsource_has_secret(const char *conninfo)
{
	return pg_has_secret(conninfo, 0);
}

/* pgsource_mask - a connection string that can be logged */
char *
pgsource_mask(const char *conninfo, char *buf, size_t len)
{
	PQconninfoOption *opts, *o;
	size_t	 used;
	int	 n;

	if (len == 0)
		return buf;
	snprintf(buf, len, "(a connection string libpq cannot parse)");
	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return buf;
	used = 0;
	buf[0] = '\0';
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0' || used >= len)
			continue;
		n = snprintf(buf + used, len - used, "%s%s=%s",
		    used > 0 ? " " : "", o->keyword,
		    pg_secret(o, 0) ? "********" : o->val);
		if (n > 0)
			used += (size_t)n;
	}
	PQconninfoFree(opts);
	return buf;
}

/* pg_notice - the server's notices and warnings go to the log */
static void
pg_notice(void *arg, const char *message)
{
	char	 q[512];

	(void)arg;
	log_info("rules_source: server says \"%s\"", log_quote(message,
	    strcspn(message, "\n"), 1, q, sizeof(q)));
}

static PGconn *
pg_connect(const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption *opts;
	PGconn	*conn;

	/* libpq's message about a bad string may quote a secret */
	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL) {
		errmsg_set(err, errlen, "cannot connect: libpq cannot parse "
		    "the connection string");
		return NULL;
	}
	PQconninfoFree(opts);
	conn = PQconnectdb(conninfo);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pg_reason(conn, "cannot connect", err, errlen);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, pg_notice, NULL);
	return conn;
}

/* pg_command - run a statement that returns no rows; 0 or -1 */
static int
pg_command(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *res;
	int	 ok;

	res = PQexec(conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pg_reason(conn, sql, err, errlen);
	PQclear(res);
	return ok ? 0 : -1;
}

/* The columns of the table, from a query that returns no row. */
struct columns {
	PGresult	*res;		/* holds the names */
	const char	**name;
	const char	**value;	/* of the row at hand */
	int		 n;
	int		 pattern;	/* index of "pattern", -1: none */
};

/* pattern_plain - lower-case letters, digits, hyphens between dots */
static int
pattern_plain(const char *p)
{
	int	 prev;

	if (*p == '#' || *p == '.')
		p++;
	for (prev = '.'; *p != '\0'; prev = *p++) {
		if (*p == '.' ? prev == '.' : !((*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	}
	return prev != '.';
}

/*
 * row_exact - the change log can follow the row: its pattern is written
 * as the rule set keeps it (one text a pattern, so a changed text names
 * the one rule it was), and it sets nothing that rows decide together
 * (tls: one policy a smart host) or that comes from elsewhere
 * (recipients_file, auth_file)
 */
static int
row_exact(const struct columns *cols)
{
	const char	*p, *why;
	char		 cp[PATTERN_MAX + 1];
	int		 col;

	for (col = 0; col < cols->n; col++)
		if (cols->value[col] != NULL &&
		    (strcmp(cols->name[col], "tls") == 0 ||
		    strcmp(cols->name[col], "tls_match") == 0 ||
		    strcmp(cols->name[col], "recipients_file") == 0 ||
		    strcmp(cols->name[col], "auth_file") == 0))
			return 0;
	p = cols->value[cols->pattern];
	if (pattern_plain(p))
		return 1;
	return pattern_normalize(p, cp, &why) == 0 && strcmp(cp, p) == 0;
}

/* load_row - one row through the domains_file parser */
static int
load_row(struct ruleset *rules, const struct columns *cols, FILE *snap,
    struct pgsource_mark *mark, char *err, size_t errlen)
{
	struct rulerow	 r;
	char		 line[PGSOURCE_LINE_MAX + 2], msg[768], q[256];
	int		 col;
	size_t		 len;

	memset(&r, 0, sizeof(r));
	r.pattern = cols->value[cols->pattern] == NULL ? "" :
	    cols->value[cols->pattern];
	for (col = 0; col < cols->n; col++) {
		if (col == cols->pattern || cols->value[col] == NULL)
			continue;
		if (r.n == RULEROW_FIELDS_MAX) {
			snprintf(msg, sizeof(msg), "more than %d columns",
			    RULEROW_FIELDS_MAX);
			goto bad;
		}
		r.key[r.n] = cols->name[col];
		r.value[r.n] = cols->value[col];
		r.n++;
	}
	/* the line is the check (and the rules_cache's copy) */
	if (rulerow_format(&r, line, PGSOURCE_LINE_MAX + 1, msg,
	    sizeof(msg)) == -1 ||
	    config_parse_domains_row(rules, &r, msg, sizeof(msg)) == -1)
		goto bad;
	if (snap != NULL) {
		len = strlen(line);
		line[len++] = '\n';
		/* a short write: the caller sees ferror() */
		(void)fwrite(line, 1, len, snap);
	}
	if (mark != NULL && mark->exact && !row_exact(cols))
		mark->exact = 0;
	return 0;
bad:
	log_quote(r.pattern, strlen(r.pattern), 1, q, sizeof(q));
	errmsg_set(err, errlen, "table %s, row \"%s\": %s", PGSOURCE_TABLE, q,
	    msg);
	return -1;
}

/*
 * load_columns - the table's column names (its lock, taken now, keeps
 * them until the transaction ends); PGSOURCE_OK or PGSOURCE_DOWN
 */
static int
load_columns(PGconn *conn, struct columns *cols, char *err, size_t errlen)
{
	int	 i;

	cols->res = PQexec(conn, "SELECT * FROM " PGSOURCE_TABLE " LIMIT 0");
	if (PQresultStatus(cols->res) != PGRES_TUPLES_OK) {
		pg_reason(conn, "reading table " PGSOURCE_TABLE, err, errlen);
		return PGSOURCE_DOWN;
	}
	cols->n = PQnfields(cols->res);
	cols->pattern = PQfnumber(cols->res, "pattern");
	cols->name = calloc((size_t)cols->n + 1, sizeof(*cols->name));
	cols->value = calloc((size_t)cols->n + 1, sizeof(*cols->value));
	if (cols->name == NULL || cols->value == NULL) {
		errmsg_set(err, errlen, "out of memory");
		return PGSOURCE_DOWN;
	}
	for (i = 0; i < cols->n; i++)
		cols->name[i] = PQfname(cols->res, i);
	return PGSOURCE_OK;
}

/*
 * copy_sql - "COPY (SELECT cols... FROM rules) TO STDOUT", or NULL: a
 * query, so that rules may be a view as for the SELECT it replaces
 */
static char *
copy_sql(PGconn *conn, const struct columns *cols)
{
	char	*buf, *id;
	FILE	*fp;
	size_t	 len;
	int	 i, bad;

	buf = NULL;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fputs("COPY (SELECT ", fp);
	for (bad = 0, i = 0; i < cols->n && !bad; i++) {
		if ((id = PQescapeIdentifier(conn, cols->name[i],
		    strlen(cols->name[i]))) == NULL) {
			bad = 1;
			break;
		}
		fprintf(fp, "%s%s", i > 0 ? ", " : "", id);
		PQfreemem(id);
	}
	fputs(" FROM " PGSOURCE_TABLE ") TO STDOUT", fp);
	if (fclose(fp) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * load_rows - every row through COPY TO STDOUT: the server sends them
 * while we parse, no round trip per batch, no result set to build.
 */
static int
load_rows(PGconn *conn, struct ruleset *rules, FILE *snap,
    struct pgsource_mark *mark, char *err, size_t errlen)
{
	struct columns	 cols;
	PGresult	*res;
	char		*sql, *row, msg[256];
	int		 rc, len;

	memset(&cols, 0, sizeof(cols));
	if ((rc = load_columns(conn, &cols, err, errlen)) != PGSOURCE_OK)
		goto done;
	rc = PGSOURCE_DOWN;
	if ((sql = copy_sql(conn, &cols)) == NULL) {
		errmsg_set(err, errlen, "out of memory");
		goto done;
	}
	res = PQexec(conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		pg_reason(conn, "reading table " PGSOURCE_TABLE, err, errlen);
		PQclear(res);
		goto done;
	}
	PQclear(res);
	while ((len = PQgetCopyData(conn, &row, 0)) > 0) {
		if (cols.pattern < 0) {
			errmsg_set(err, errlen, "table %s has no column "
			    "pattern", PGSOURCE_TABLE);
			PQfreemem(row);
			rc = PGSOURCE_BAD;
			goto done;
		}
		if (copytext_split(row, (size_t)len, cols.value,
		    (size_t)cols.n, msg, sizeof(msg)) == -1) {
			errmsg_set(err, errlen, "reading table %s: %s",
			    PGSOURCE_TABLE, msg);
			PQfreemem(row);
			goto done;
		}
		if (load_row(rules, &cols, snap, mark, err, errlen) == -1) {
			PQfreemem(row);
			rc = PGSOURCE_BAD;
			goto done;
		}
		PQfreemem(row);
	}
	if (len == -2) {
		pg_reason(conn, "reading table " PGSOURCE_TABLE, err, errlen);
		goto done;
	}
	/* the end of the COPY: its result says whether all rows came */
	res = PQgetResult(conn);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		rc = PGSOURCE_OK;
	else
		pg_reason(conn, "reading table " PGSOURCE_TABLE, err, errlen);
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
done:
	free(cols.name);
	free(cols.value);
	PQclear(cols.res);
	return rc;
}
/* pgsource_mark_clear - forget the rows held */
void
pgsource_mark_clear(struct pgsource_mark *mark)
{
	free(mark->snapshot);
	mark->snapshot = NULL;
	mark->exact = 0;
}

/*
 * query_one - the one value of a query with text parameters, NULL when
 * it is SQL NULL (then *rc is PGSOURCE_OK) or the query failed (then
 * PGSOURCE_DOWN with err)
 */
static char *
query_one(PGconn *conn, const char *sql, int nparams, const char **params,
    int *rc, char *err, size_t errlen)
{
	PGresult	*res;
	char		*v;

	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_reason(conn, "reading the change log", err, errlen);
		PQclear(res);
		*rc = PGSOURCE_DOWN;
		return NULL;
	}
	*rc = PGSOURCE_OK;
	v = NULL;
	if (!PQgetisnull(res, 0, 0) && (v = strdup(PQgetvalue(res, 0,
	    0))) == NULL) {
		errmsg_set(err, errlen, "out of memory");
		*rc = PGSOURCE_DOWN;
	}
	PQclear(res);
	return v;
}

/* the snapshot of this transaction, when the change log is there to read */
#define SQL_SNAPSHOT \
	"SELECT CASE WHEN to_regclass('rules_log') IS NOT NULL AND " \
	"to_regclass('rules_log_horizon') IS NOT NULL AND " \
	"has_table_privilege('rules_log', 'SELECT') AND " \
	"has_table_privilege('rules_log_horizon', 'SELECT') " \
	"THEN pg_current_snapshot()::text END"

/* pgsource_load - every row of the table, in one snapshot */
int
pgsource_load(struct ruleset *rules, const char *conninfo, FILE *snap,
    struct pgsource_mark *mark, char *err, size_t errlen)
{
	PGconn	 *conn;
	PGresult *res;
	long	  count;
	int	  rc;

	if (mark != NULL) {
		pgsource_mark_clear(mark);
		mark->exact = 1;
	}
	if ((conn = pg_connect(conninfo, err, errlen)) == NULL)
		return PGSOURCE_DOWN;
	rc = PGSOURCE_DOWN;
	if (pg_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    err, errlen) == -1)
		goto done;
	res = PQexec(conn, "SELECT count(*) FROM " PGSOURCE_TABLE);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_reason(conn, "counting table " PGSOURCE_TABLE, err, errlen);
		PQclear(res);
		goto done;
	}
	count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (count > 0 && ruleset_reserve(rules, (size_t)count +
	    (size_t)count / 16) == -1) {
		errmsg_set(err, errlen, "table %s: out of memory", PGSOURCE_TABLE);
		rc = PGSOURCE_BAD;
		goto done;
	}
	rc = load_rows(conn, rules, snap, mark, err, errlen);
	if (rc == PGSOURCE_OK && mark != NULL)
		mark->snapshot = query_one(conn, SQL_SNAPSHOT, 0, NULL, &rc,
		    err, errlen);
	if (rc == PGSOURCE_OK && pg_command(conn, "COMMIT", err,
	    errlen) == -1)
		rc = PGSOURCE_DOWN;
done:
	if (rc != PGSOURCE_OK && mark != NULL)
		pgsource_mark_clear(mark);
	PQfinish(conn);
	return rc;
}

/* the patterns changed by the transactions snapshot $1 did not see */
#define SQL_CHANGED_WHERE \
	"xid >= pg_snapshot_xmin($1::pg_snapshot) AND " \
	"NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)"
#define SQL_GAP \
	"SELECT EXISTS (SELECT 1 FROM rules_log_horizon " \
	"WHERE xid >= pg_snapshot_xmin($1::pg_snapshot))"
#define SQL_CHANGED \
	"SELECT DISTINCT pattern FROM rules_log WHERE " SQL_CHANGED_WHERE \
	" LIMIT $2"

/*
 * update_forget - remove the rules of the changed patterns (each the
 * one text of its rule: the caller checked); those of the file stay, so
 * a row that repeats one is refused when added, as in a full read.
 * PGSOURCE_OK, PGSOURCE_FULL (a text not canonical) or PGSOURCE_DOWN.
 */
static int
update_forget(struct ruleset *next, const struct ruleset *files,
    PGresult *changed, FILE *patterns, char *err, size_t errlen)
{
	const char	*p, *why;
	char		 cp[PATTERN_MAX + 1];
	int		 i;

	for (i = 0; i < PQntuples(changed); i++) {
		if (PQgetisnull(changed, i, 0))
			return PGSOURCE_FULL;		/* TRUNCATE */
		p = PQgetvalue(changed, i, 0);
		if (patterns != NULL)
			fprintf(patterns, "%s\n", p);
		if (pattern_normalize(p, cp, &why) == -1)
			continue;	/* never a rule; its row, if any, is bad */
		if (strcmp(cp, p) != 0)
			return PGSOURCE_FULL;
		if (ruleset_has_pattern(files, cp))
			continue;
		if (overlay_remove(next, cp) == -1) {
			errmsg_set(err, errlen, "out of memory");
			return PGSOURCE_DOWN;
		}
	}
	return PGSOURCE_OK;
}

/*
 * text_array - the changed patterns as a text[] literal ({"a","b"}, each
 * quoted, backslash before '"' and '\\'), or NULL out of memory: the rows
 * are then fetched by their primary key, whatever the planner would
 * guess of a subquery on the log
 */
static char *
text_array(PGresult *changed)
{
	const char	*p;
	char		*buf;
	size_t		 len;
	FILE		*fp;
	int		 i;

	buf = NULL;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fputc('{', fp);
	for (i = 0; i < PQntuples(changed); i++) {
		fputs(i > 0 ? ",\"" : "\"", fp);
		for (p = PQgetvalue(changed, i, 0); *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', fp);
			fputc(*p, fp);
		}
		fputc('"', fp);
	}
	fputc('}', fp);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* update_rows - the rows of the changed patterns, added to next */
static int
update_rows(PGconn *conn, struct ruleset *next, PGresult *changed,
    struct pgsource_mark *mark, FILE *lines, char *err, size_t errlen)
{
	struct columns	 cols;
	PGresult	*res;
	const char	*params[1];
	char		*sql, *id, *array;
	FILE		*fp;
	size_t		 len;
	int		 rc, i, col;

	memset(&cols, 0, sizeof(cols));
	res = NULL;
	sql = array = NULL;
	if ((rc = load_columns(conn, &cols, err, errlen)) != PGSOURCE_OK)
		goto done;
	rc = PGSOURCE_DOWN;
	if (cols.pattern < 0) {
		errmsg_set(err, errlen, "table %s has no column pattern",
		    PGSOURCE_TABLE);
		rc = PGSOURCE_BAD;
		goto done;
	}
	if ((fp = open_memstream(&sql, &len)) == NULL)
		goto nomem;
	fputs("SELECT ", fp);
	for (col = 0; col < cols.n; col++) {
		if ((id = PQescapeIdentifier(conn, cols.name[col],
		    strlen(cols.name[col]))) == NULL)
			break;
		fprintf(fp, "%s%s", col > 0 ? ", " : "", id);
		PQfreemem(id);
	}
	fputs(" FROM " PGSOURCE_TABLE " WHERE pattern = ANY ($1::text[])",
	    fp);
	if (fclose(fp) != 0 || col < cols.n ||
	    (array = text_array(changed)) == NULL)
		goto nomem;
	params[0] = array;
	res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_reason(conn, "reading table " PGSOURCE_TABLE, err, errlen);
		goto done;
	}
	for (i = 0; i < PQntuples(res); i++) {
		for (col = 0; col < cols.n; col++)
			cols.value[col] = PQgetisnull(res, i, col) ? NULL :
			    PQgetvalue(res, i, col);
		if (cols.value[cols.pattern] != NULL && !row_exact(&cols)) {
			rc = PGSOURCE_FULL;
			goto done;
		}
	}
	for (i = 0; i < PQntuples(res); i++) {
		for (col = 0; col < cols.n; col++)
			cols.value[col] = PQgetisnull(res, i, col) ? NULL :
			    PQgetvalue(res, i, col);
		if (load_row(next, &cols, lines, mark, err, errlen) == -1) {
			rc = PGSOURCE_BAD;
			goto done;
		}
	}
	rc = PGSOURCE_OK;
	goto done;
nomem:
	errmsg_set(err, errlen, "out of memory");
done:
	PQclear(res);
	free(sql);
	free(array);
	free(cols.name);
	free(cols.value);
	PQclear(cols.res);
	return rc;
}

/* pgsource_update - the rows changed since mark, onto next */
int
pgsource_update(struct ruleset *next, const struct ruleset *files,
    const char *conninfo, struct pgsource_mark *mark,
    struct pgsource_change *ch, char *err, size_t errlen)
{
	PGconn		*conn;
	PGresult	*res;
	const char	*params[2];
	char		*gap, *now, limit[32];
	int		 rc;

	ch->changed = 0;
	if (mark->snapshot == NULL || !mark->exact)
		return PGSOURCE_FULL;
	if ((conn = pg_connect(conninfo, err, errlen)) == NULL)
		return PGSOURCE_DOWN;
	res = NULL;
	gap = now = NULL;
	rc = PGSOURCE_DOWN;
	if (pg_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    err, errlen) == -1)
		goto done;
	/* the log still there, and complete since the snapshot held */
	if ((now = query_one(conn, SQL_SNAPSHOT, 0, NULL, &rc, err,
	    errlen)) == NULL) {
		if (rc == PGSOURCE_OK)
			rc = PGSOURCE_FULL;
		goto done;
	}
	params[0] = mark->snapshot;
	if ((gap = query_one(conn, SQL_GAP, 1, params, &rc, err,
	    errlen)) == NULL)
		goto done;
	if (strcmp(gap, "f") != 0) {
		rc = PGSOURCE_FULL;
		goto done;
	}
	snprintf(limit, sizeof(limit), "%zu", ch->max + 1);
	params[1] = limit;
	res = PQexecParams(conn, SQL_CHANGED, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_reason(conn, "reading the change log", err, errlen);
		goto done;
	}
	ch->changed = (size_t)PQntuples(res);
	if (ch->changed > ch->max) {
		rc = PGSOURCE_FULL;
		goto done;
	}
	if (ch->changed > 0 && ((rc = update_forget(next, files, res,
	    ch->patterns, err, errlen)) != PGSOURCE_OK ||
	    (rc = update_rows(conn, next, res, mark, ch->lines, err,
	    errlen)) != PGSOURCE_OK))
		goto done;
	if ((rc = pg_command(conn, "COMMIT", err, errlen)) == -1) {
		rc = PGSOURCE_DOWN;
		goto done;
	}
	free(mark->snapshot);
	mark->snapshot = now;
	now = NULL;
	rc = PGSOURCE_OK;
done:
	PQclear(res);
	free(gap);
	free(now);
	PQfinish(conn);
	return rc;
}

/* store_copy - the COPY data of the lines, columns key[0..nkeys) */
static char *
store_copy(char **lines, size_t n, const char **keys, size_t nkeys,
    size_t *len)
{
	struct rulerow	 r;
	char		*buf, *copy;
	FILE		*fp;
	size_t		 i, k, f;

	buf = NULL;
	if ((fp = open_memstream(&buf, len)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((copy = strdup(lines[i])) == NULL)
			break;
		if (rulerow_split(copy, &r, NULL, 0) != 0) {
			free(copy);
			continue;
		}
		copytext_put(fp, r.pattern, nkeys == 0);
		for (k = 0; k < nkeys; k++) {
			for (f = 0; f < r.n; f++)
				if (strcmp(r.key[f], keys[k]) == 0)
					break;
			copytext_put(fp, f < r.n ? r.value[f] : NULL,
			    k + 1 == nkeys);
		}
		free(copy);
	}
	if (fclose(fp) != 0 || i < n) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* store_keys - the keys the lines use, each once; -1 when too many */
static int
store_keys(char **lines, size_t n, char **keys, size_t *nkeys, char *err,
    size_t errlen)
{
	struct rulerow	 r;
	char		*copy;
	size_t		 i, f, k;

	*nkeys = 0;
	for (i = 0; i < n; i++) {
		if ((copy = strdup(lines[i])) == NULL) {
			errmsg_set(err, errlen, "out of memory");
			return -1;
		}
		if (rulerow_split(copy, &r, err, errlen) == -1) {
			free(copy);
			return -1;
		}
		for (f = 0; f < r.n; f++) {
			for (k = 0; k < *nkeys; k++)
				if (strcmp(keys[k], r.key[f]) == 0)
					break;
			if (k < *nkeys)
				continue;
			if (*nkeys == RULEROW_FIELDS_MAX ||
			    (keys[k] = strdup(r.key[f])) == NULL) {
				errmsg_set(err, errlen, "too many keys");
				free(copy);
				return -1;
			}
			(*nkeys)++;
		}
		free(copy);
	}
	return 0;
}

/* pgsource_store - the table's rows become the lines, all or nothing */
int
pgsource_store(const char *conninfo, char **lines, size_t n, char *err,
    size_t errlen)
{
	PGconn	 *conn;
	PGresult *res;
	char	 *keys[RULEROW_FIELDS_MAX], *data, *sql;
	size_t	  nkeys, k, len, used;
	int	  rc;

	nkeys = 0;
	data = sql = NULL;
	conn = NULL;
	rc = -1;
	if (store_keys(lines, n, keys, &nkeys, err, errlen) == -1)
		goto done;
	len = 64 + strlen(PGSOURCE_TABLE);
	for (k = 0; k < nkeys; k++)
		len += strlen(keys[k]) + 4;
	if ((sql = malloc(len)) == NULL) {
		errmsg_set(err, errlen, "out of memory");
		goto done;
	}
	used = (size_t)snprintf(sql, len, "COPY %s (pattern", PGSOURCE_TABLE);
	/* keys are [A-Za-z0-9_]+ (rulerow_split() and the parser agree) */
	for (k = 0; k < nkeys; k++)
		used += (size_t)snprintf(sql + used, len - used, ", \"%s\"",
		    keys[k]);
	snprintf(sql + used, len - used, ") FROM STDIN");
	if ((data = store_copy(lines, n, (const char **)keys, nkeys,
	    &len)) == NULL) {
		errmsg_set(err, errlen, "out of memory");
		goto done;
	}
	if ((conn = pg_connect(conninfo, err, errlen)) == NULL)
		goto done;
	if (pg_command(conn, "BEGIN", err, errlen) == -1 ||
	    pg_command(conn, "DELETE FROM " PGSOURCE_TABLE, err,
	    errlen) == -1)
		goto done;
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_reason(conn, "COPY", err, errlen);
		PQclear(res);
		goto done;
	}
	PQclear(res);
	if (PQputCopyData(conn, data, (int)len) != 1 ||
	    PQputCopyEnd(conn, NULL) != 1) {
		pg_reason(conn, "COPY", err, errlen);
		goto done;
	}
	res = PQgetResult(conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_reason(conn, "COPY", err, errlen);
		PQclear(res);
		goto done;
	}
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	if (pg_command(conn, "COMMIT", err, errlen) == 0)
		rc = 0;
done:
	PQfinish(conn);
	for (k = 0; k < nkeys; k++)
		free(keys[k]);
	free(data);
	free(sql);
	return rc;
}

/* The listener thread. */

struct listener {
	char		*conninfo;
	void		(*reload)(void);
	int		 wake[2];	/* written to stop the thread */
	pthread_t	 tid;
	int		 running;
	atomic_int	 stop;
};

static struct listener pg_listener = { .wake = { -1, -1 } };

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* listen_wait - poll fd (or nothing when -1) and the stop pipe; 1 stop */
static int
listen_wait(struct listener *l, int fd, long ms)
{
	struct pollfd	 p[2];
	int		 n;

	p[0].fd = l->wake[0];
	p[0].events = POLLIN;
	p[1].fd = fd;
	p[1].events = POLLIN;
	n = poll(p, fd == -1 ? 1 : 2, ms < 0 ? 0 : (int)ms);
	if (n > 0 && p[0].revents != 0)
		return 1;
	return atomic_load(&l->stop);
}

/* listen_drain - take pending notifications; -1 when the link broke */
static int
listen_drain(PGconn *conn, int *got)
{
	PGnotify *n;

	if (PQconsumeInput(conn) == 0)
		return -1;
	while ((n = PQnotifies(conn)) != NULL) {
		*got = 1;
		PQfreemem(n);
	}
	return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
}

/* listen_serve - wait for bursts and reload; returns when the link broke */
static void
listen_serve(struct listener *l, PGconn *conn, char *err, size_t errlen)
{
	long	 first, last;
	int	 fd, got;

	fd = PQsocket(conn);
	for (;;) {
		got = 0;
		if (listen_wait(l, fd, 60000))
			return;
		if (listen_drain(conn, &got) == -1)
			break;
		if (!got)
			continue;
		first = last = mono_ms();
		/* the burst: until quiet for QUIET_MS, at most BURST_MS */
		while (mono_ms() - last < PGSOURCE_QUIET_MS &&
		    mono_ms() - first < PGSOURCE_BURST_MS) {
			if (listen_wait(l, fd, PGSOURCE_QUIET_MS -
			    (mono_ms() - last)))
				return;
			got = 0;
			if (listen_drain(conn, &got) == -1)
				goto broken;
			if (got)
				last = mono_ms();
		}
		l->reload();
	}
broken:
	pg_reason(conn, "connection lost", err, errlen);
}

static void *
listen_main(void *arg)
{
	struct listener	*l = arg;
	PGconn		*conn;
	char		 err[768], where[512];
	long		 backoff;
	int		 down;

	pgsource_mask(l->conninfo, where, sizeof(where));
	down = 0;
	backoff = PGSOURCE_BACKOFF_MS;
	while (!atomic_load(&l->stop)) {
		conn = pg_connect(l->conninfo, err, sizeof(err));
		if (conn != NULL && pg_command(conn, "LISTEN " PGSOURCE_CHANNEL,
		    err, sizeof(err)) == 0) {
			if (down)
				log_info("rules_source %s: database reachable "
				    "again; reloading", where);
			down = 0;
			backoff = PGSOURCE_BACKOFF_MS;
			/* what changed before the LISTEN */
			l->reload();
			listen_serve(l, conn, err, sizeof(err));
		}
		PQfinish(conn);
		if (atomic_load(&l->stop))
			break;
		if (!down)
			log_warning("rules_source %s: database unreachable "
			    "(%s); keeping the last good rules, retrying",
			    where, err);
		down = 1;
		if (listen_wait(l, -1, backoff))
			break;
		backoff *= 2;
		if (backoff > PGSOURCE_BACKOFF_MAX_MS)
			backoff = PGSOURCE_BACKOFF_MAX_MS;
	}
	return NULL;
}

int
pgsource_listen_start(const char *conninfo, void (*reload)(void),
    char *err, size_t errlen)
{
	struct listener	*l = &pg_listener;
	int		 r;

	if (l->running)
		return 0;
	if ((l->conninfo = strdup(conninfo)) == NULL) {
		errmsg_set(err, errlen, "out of memory");
		return -1;
	}
	if (pipe(l->wake) == -1) {
		errmsg_set(err, errlen, "pipe: %s", strerror(errno));
		free(l->conninfo);
		return -1;
	}
	l->reload = reload;
	atomic_store(&l->stop, 0);
	if ((r = pthread_create(&l->tid, NULL, listen_main, l)) != 0) {
		errmsg_set(err, errlen, "pthread_create: %s", strerror(r));
		close(l->wake[0]);
		close(l->wake[1]);
		free(l->conninfo);
		return -1;
	}
	l->running = 1;
	return 0;
}

void
pgsource_listen_stop(void)
{
	struct listener	*l = &pg_listener;

	if (!l->running)
		return;
	atomic_store(&l->stop, 1);
	if (write(l->wake[1], "", 1) == -1)
		log_warning("rules_source: cannot wake the listener: %s",
		    strerror(errno));
	pthread_join(l->tid, NULL);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l->conninfo);
	l->running = 0;
}
