# pgsql.sh - a private PostgreSQL cluster for a shell test
#
# Sourced (bash) after test/e2e/lib.sh's e2e_init (it lives in $E2E_DIR)
# by test/pgsql/check.sh and test/bench/pgsql.sh.  Needs root, the
# postgresql server package (/usr/lib/postgresql/*/bin) and its postgres
# user: the cluster runs as postgres, listens on a unix socket directory
# of its own and on no TCP port, and has one database "mr" with
# contrib/postgresql/schema.sql loaded.  Authentication is "trust".
#
#   pg_init		initdb in $E2E_DIR/pg, start, createdb, schema.sql;
#			skips the test (e2e_skip) without PostgreSQL; sets
#			PG_SOCK (the socket directory) and PG_CONNINFO;
#			stops the cluster at exit (before lib.sh's cleanup)
#   pg_start / pg_stop	start (waits until it accepts) / stop (fast)
#   sql ARGS...		psql on database mr, quiet, unaligned, stops at
#			the first error (ON_ERROR_STOP)

PG_UP=0
PG_BIN=
PG=
PG_SOCK=
PG_CONNINFO=

pg_stop() {
	[ "$PG_UP" = 1 ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG/data" -m fast -w \
	    stop >/dev/null 2>&1
	PG_UP=0
}

pg_start() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG/data" -l "$PG/pg.log" \
	    -o "-k $PG_SOCK -c listen_addresses= -c fsync=off" -w start \
	    >/dev/null || e2e_fail "cannot start PostgreSQL: $(tail -3 "$PG/pg.log")"
	PG_UP=1
}

sql() {
	runuser -u postgres -- "$PG_BIN/psql" -h "$PG_SOCK" -d mr -qAtX \
	    -v ON_ERROR_STOP=1 "$@"
}

pg_init() {
	PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] ||
	    e2e_skip "PostgreSQL server not installed"
	getent passwd postgres >/dev/null || e2e_skip "no postgres user"
	command -v runuser >/dev/null || e2e_skip "no runuser"
	PG=$E2E_DIR/pg
	PG_SOCK=$PG/sock
	PG_CONNINFO="host=$PG_SOCK dbname=mr user=postgres"
	mkdir -p "$PG/data" "$PG_SOCK"
	chown -R postgres "$PG"
	trap 'pg_stop; e2e_cleanup' EXIT
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG/data" -A trust \
	    -U postgres -E UTF8 --locale=C --no-sync >"$PG/initdb.log" 2>&1 ||
	    e2e_fail "initdb failed: $(tail -3 "$PG/initdb.log")"
	pg_start
	runuser -u postgres -- "$PG_BIN/createdb" -h "$PG_SOCK" mr ||
	    e2e_fail "createdb failed"
	sql -f "$E2E_SRC/contrib/postgresql/schema.sql" >/dev/null ||
	    e2e_fail "contrib/postgresql/schema.sql does not load"
}
