#!/bin/bash
# pgsql.sh - part 9 of "make bench": rules from PostgreSQL
#
# usage: MR_BUILD=DIR bash test/bench/pgsql.sh RULES [ROUNDS]
#
# Called by test/bench/run.sh.  A private PostgreSQL cluster
# (test/lib/pgsql.sh) and RULES generated rules, side by side:
#
#   a. "milter-relay import domains-file FILE --to postgresql:..." of
#      the RULES rules (checked, then one COPY);
#   b. daemon start (to "serving") with the RULES rules from the table,
#      vs the same rules from a domains_file;
#   c. NOTIFY to answer: an INSERT, then, from its commit, the socketmap
#      polled every 10 ms until the new rule answers, with the RULES-row
#      table and with a 10-row table; the median of ROUNDS (default 5).
#      With the RULES-row table twice: a daemon reading the change log
#      (only the rows changed), and one whose search_path has no change
#      log (a full reload of the table, as with an older schema); for
#      each the worker's peak RSS over its changes (VmHWM, reset through
#      clear_refs before them) against its RSS before.
#
# Prints "what|figure|note" lines on stdout, the runs on stderr.  Exit 1
# when a step failed; every process is stopped at exit (lib.sh).
set -u

RULES=${1:?usage: pgsql.sh RULES [ROUNDS]}
ROUNDS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"

e2e_init benchpg
. "$HERE/../lib/pgsql.sh"
pg_init
MR=$E2E_BUILD/milter/milter-relay

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

awk -v n="$RULES" 'BEGIN {
	for (i = 0; i < n; i++)
		print "d" i ".example-" (i % 1000) ".com smarthost=[192.0.2.1]:25"
}' >"$E2E_DIR/rules"
chmod 644 "$E2E_DIR/rules"
printf 'd%d.small.example\n' $(seq 1 10) >"$E2E_DIR/small"

t0=$(now_ms)
"$MR" import domains-file "$E2E_DIR/rules" --to "postgresql:$PG_CONNINFO" \
    >&2 || e2e_fail "import --to of $RULES rules failed"
t_import=$(($(now_ms) - t0))
echo "9|import --to of $RULES rules, s|$(secs "$t_import")"

PORT=()
# start_daemon NAME CONFIG-LINE: start, wait for "serving"; ms in T_START
start_daemon() {
	local name=$1 d=$E2E_DIR/$1 t0 i
	mkdir -p "$d"
	chown nobody "$d"
	PORT[${#PORT[@]}]=$(e2e_free_port)
	SMPORT=${PORT[$((${#PORT[@]} - 1))]}
	{
		echo "socket = \"unix:$d/milter.sock\";"
		echo "socketmap = \"inet:$SMPORT@127.0.0.1\";"
		echo "$2"
	} >"$d/mr.conf"
	chmod 644 "$d/mr.conf"
	t0=$(now_ms)
	"$MR" -f -c "$d/mr.conf" -u nobody -g nogroup >>"$E2E_DIR/$name.log" 2>&1 &
	e2e_track_pid $!
	for i in $(seq 1 6000); do
		grep -q "serving unix:" "$E2E_DIR/$name.log" && break
		sleep 0.01
	done
	grep -q "serving unix:" "$E2E_DIR/$name.log" ||
	    e2e_fail "daemon $name did not start"
	T_START=$(($(now_ms) - t0))
}

start_daemon file "domains_file = \"$E2E_DIR/rules\";"
t_file=$T_START
start_daemon db "rules_source = \"postgresql:$PG_CONNINFO\";
rules_cache = \"$E2E_DIR/db/cache\";"
t_db=$T_START
DBPORT=$SMPORT
echo "9|daemon start, $RULES rules from the table, s|$(secs "$t_db")|$(awk -v a="$t_db" -v b="$t_file" 'BEGIN { printf "%.2f x the domains_file (%.2f s)", a / b, b / 1000 }')"
# the listener's first reload (after its LISTEN) must be over
for i in $(seq 1 6000); do
	grep -q "reload: .*OK" "$E2E_DIR/db.log" && break
	sleep 0.01
done

# notify_to_answer NAME [PORT]: INSERT NAME; ms from its commit (psql
# has returned) until the socketmap (default the db daemon's) relays it
notify_to_answer() {
	local t0 i port=${2:-$DBPORT}
	sql -c "INSERT INTO rules (pattern) VALUES ('$1')" ||
	    e2e_fail "INSERT failed"
	t0=$(now_ms)
	for i in $(seq 1 6000); do
		[ "$(echo "relay $1" | "$E2E_CLIENT" socketmap -p "$port")" = \
		    "OK RELAY" ] && break
		sleep 0.01
	done
	echo $(($(now_ms) - t0))
}

# worker_of NAME: the pid of daemon NAME's worker
worker_of() {
	grep -o 'worker [0-9]* serving' "$E2E_DIR/$1.log" | tail -1 |
	    awk '{ print $2 }'
}

# kb PID FIELD: a field of /proc/PID/status, in kB
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# rounds NAME PORT PREFIX: ROUNDS INSERTs into the RULES-row table, the
# median ms and the worker's peak RSS over them against its RSS before
rounds() {
	local w rss0 peak
	w=$(worker_of "$1")
	sleep 1
	rss0=$(kb "$w" VmRSS)
	echo 5 >"/proc/$w/clear_refs"
	for r in $(seq 1 "$ROUNDS"); do
		notify_to_answer "$3$r.example" "$2"
	done >"$E2E_DIR/$3.ms"
	peak=$(kb "$w" VmHWM)
	echo "   NOTIFY to answer, $RULES rows, $1, ms: $(tr '\n' ' ' <"$E2E_DIR/$3.ms"); RSS $rss0 kB, peak $peak kB" >&2
	MED=$(median <"$E2E_DIR/$3.ms")
	RSSNOTE=$(awk -v a="$peak" -v b="$rss0" 'BEGIN { printf "worker peak RSS %.2f x its RSS before (%.0f MB)", a / b, b / 1024 }')
}

rounds db "$DBPORT" big
t_inc=$MED
echo "9|NOTIFY to answer, $RULES rows, change log, s (median)|$(secs "$t_inc")|$RSSNOTE"

# the reference: no change log in its search_path, a full reload each time
sql -c "CREATE SCHEMA ref; CREATE VIEW ref.rules AS SELECT * FROM public.rules" ||
    e2e_fail "reference schema"
start_daemon full "rules_source = \"postgresql:$PG_CONNINFO options='-csearch_path=ref'\";"
FULLPORT=$SMPORT
for i in $(seq 1 6000); do
	grep -q "reload: .*OK" "$E2E_DIR/full.log" && break
	sleep 0.01
done
rounds full "$FULLPORT" fullr
echo "9|NOTIFY to answer, $RULES rows, full reload, s (median)|$(secs "$MED")|$(awk -v a="$MED" -v b="$t_inc" 'BEGIN { printf "%.1f x the change log; ", a / (b > 0 ? b : 1) }')$RSSNOTE"

"$MR" import domains-file "$E2E_DIR/small" --to "postgresql:$PG_CONNINFO" \
    >&2 || e2e_fail "import --to of 10 rules failed"
sleep 2
for r in $(seq 1 "$ROUNDS"); do
	notify_to_answer "small$r.example"
done >"$E2E_DIR/small.ms"
echo "   NOTIFY to answer, 10 rows, ms: $(tr '\n' ' ' <"$E2E_DIR/small.ms")" >&2
echo "9|NOTIFY to answer, 10 rows, ms (median)|$(median <"$E2E_DIR/small.ms")|includes the 100 ms wait for the end of a burst"
