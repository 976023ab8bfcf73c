#!/bin/bash
# check.sh - rules_source changes applied at the cost of the change
#
# Run by "make check" (as root) with MR_BUILD.  A private PostgreSQL
# cluster (test/lib/pgsql.sh) with contrib/postgresql/schema.sql, which
# brings the change log (changelog.sql), and two daemons on one table:
#
#   A  reads the change log: after a full read it applies only the rows
#      that changed (its log says "changed rows");
#   R  the reference: its role may read the table but not the change
#      log, so it reads every row on every notification, as a daemon did
#      before (and as one does on a database whose schema predates the
#      log: S below reads through a schema without one).
#
# It proves, comparing every key of every socketmap map of A with R's
# after each step (both have seen the step: a marker row of the step's
# last transaction answers on both) and the decision of "milter-relay
# query" (a full read from scratch) for every name with A's relay map:
#
#   - a random sequence of inserts, updates (values and patterns) and
#     deletes, one to four a transaction, gives after each step the same
#     answers from A as from the full rebuild;
#   - after A's start, the listener's catch-up and the first change
#     read the change log (no second full read), and a change made
#     between a start load's snapshot and the listener's LISTEN (P: a
#     start load slowed by a view) is caught up from the change log;
#   - A really took the incremental way (its log), and a TRUNCATE, a
#     non-canonical pattern and the file changing are full reads there;
#   - a bad changed row is named in A's log and keeps the change out; the
#     row fixed, the change flows;
#   - A restarted in the middle of a burst of single-row transactions
#     converges with R, the burst's last transaction the last change;
#   - a change whose notification is lost (the NOTIFY trigger disabled
#     for it) is caught up by the next change;
#   - three nodes (A, B, C) on the table converge with R after a burst
#     of single-row transactions, and B, paused (SIGSTOP) while the
#     server ends its listener's connection and a change is made (its
#     notification never reaches B), catches that change up when it
#     runs again, with no change after it;
#   - the migration (changelog.sql) can be run again on a live install;
#   - while a reload is under way (a third daemon reads through a view
#     that sleeps), the worker logs counters and stops at once.
#
# Every process is stopped by pid, the cluster removed, also on failure.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"

e2e_init incremental
. "$HERE/../lib/pgsql.sh"
. "$HERE/../lib/daemon.sh"
pg_init
PIDS=()

MR=$E2E_BUILD/milter/milter-relay
RANDOM=27

# R's role: the table, not its change log
sql -c "CREATE ROLE reader LOGIN; GRANT SELECT ON rules TO reader" >/dev/null ||
    e2e_fail "reference role"
sql -f "$E2E_SRC/contrib/postgresql/changelog.sql" >/dev/null ||
    e2e_fail "changelog.sql does not run again on a live install"
e2e_ok "private PostgreSQL cluster, schema.sql with its change log; changelog.sql runs twice"

# --- the universe of names and the table's first rows ----------------------

NAMES=()
for t in x.test y.test; do
	NAMES+=("$t")
	for a in a b c-d; do
		NAMES+=("$a.$t")
		for b in a b; do
			NAMES+=("$b.$a.$t" "deep.$b.$a.$t")
		done
	done
done
NAMES+=(nothing.example)
MAPS="relay transport mailertable access rcpt"

# rand_pattern: one pattern of the universe, any kind
rand_pattern() {
	local n=${NAMES[$((RANDOM % (${#NAMES[@]} - 1)))]}
	case $((RANDOM % 3)) in
	0) echo "#$n" ;;
	1) echo "$n" ;;
	2) echo ".$n" ;;
	esac
}

# rand_values: the columns after pattern, as SQL
rand_values() {
	case $((RANDOM % 4)) in
	0) echo "'always', NULL, NULL" ;;
	1) echo "'trusted', '[192.0.2.$((RANDOM % 5 + 1))]', NULL" ;;
	2) echo "'deny', NULL, '550 5.7.1 no $((RANDOM % 3))'" ;;
	3) echo "'always', 'mx$((RANDOM % 3)).example.net:2525', 'relay'" ;;
	esac
}

# rand_set: an UPDATE's SET list
rand_set() {
	case $((RANDOM % 3)) in
	0) echo "relay = 'deny', smarthost = NULL, transport = NULL" ;;
	1) echo "relay = 'always', smarthost = '[192.0.2.$((RANDOM % 5 + 1))]', reply = NULL" ;;
	2) echo "relay = 'trusted', reply = NULL" ;;
	esac
}

# rand_insert PATTERN: an INSERT of PATTERN with rand_values
COLS="pattern, relay, smarthost, transport"
rand_insert() {
	local v
	v=$(rand_values)
	case $v in
	*"'deny'"*) echo "INSERT INTO rules (pattern, relay, smarthost, reply) VALUES ('$1', $v) ON CONFLICT DO NOTHING;" ;;
	*) echo "INSERT INTO rules ($COLS) VALUES ('$1', $v) ON CONFLICT DO NOTHING;" ;;
	esac
}

{
	for i in $(seq 1 40); do
		rand_insert "$(rand_pattern)"
	done
} | sql >/dev/null || e2e_fail "first rows"

# --- two daemons ------------------------------------------------------------

declare -A PORT MPID
conf() {
	local n=$1 conninfo=$2 extra=${3:-} d=$E2E_DIR/$1
	mkdir -p "$d"
	chown nobody "$d"
	[ -n "${PORT[$n]:-}" ] || PORT[$n]=$(e2e_free_port)
	{
		echo "socket = \"unix:$d/milter.sock\";"
		echo "socketmap = \"inet:${PORT[$n]}@127.0.0.1\";"
		echo "policy = { unmatched = \"reject\"; trusted_networks = [ \"127.0.0.1/32\" ]; };"
		echo "rules_source = \"postgresql:$conninfo\";"
		echo "rules_cache = \"$d/cache\";"
		echo "domains_file = \"$d/domains\";"
		[ -z "$extra" ] || echo "$extra"
	} >"$d/mr.conf"
	printf 'file.test\n' >"$d/domains"
	chmod 644 "$d/mr.conf" "$d/domains"
}

declare -A WORKER
start() {
	local n=$1 d=$E2E_DIR/$1
	daemon_start 10 "$E2E_DIR/$n.log" "$d/milter.sock" \
	    "$MR" -f -c "$d/mr.conf" -u nobody -g nogroup &&
	    wait_for 10 e2e_port_open 127.0.0.1 "${PORT[$n]}" ||
	    e2e_fail "daemon $n did not start"
	MPID[$n]=$DPID
	WORKER[$n]=$WPID
	e2e_track_pid "$DPID"
}

# smq N KEY: daemon N's answer in the relay map
smq() {
	echo "relay $2" | "$E2E_CLIENT" socketmap -p "${PORT[$1]}"
}

conf A "$PG_CONNINFO"
conf R "host=$PG_SOCK dbname=mr user=reader"
start A
start R

# answers N: every map's answer for every name, one a line
answers() {
	local m n
	for m in $MAPS; do
		for n in "${NAMES[@]}"; do
			echo "$m $n"
		done
	done | "$E2E_CLIENT" socketmap -p "${PORT[$1]}"
}

# seen N MARKER: daemon N answers for the marker of a step (bounded:
# the listener's burst window and a full read of this small table)
relays() { [ "$(smq "$1" "$2")" = "OK RELAY" ]; }
seen() { wait_for 10 relays "$1" "$2"; }

# same WHAT: the daemons of NODES (A; A B C while there are three)
# answer every key as R does, and so does a full read from scratch
# ("query") for every name's decision
STEP=0
NODES=A
same() {
	local a r i n rel q node
	STEP=$((STEP + 1))
	for node in $NODES R; do
		seen "$node" "m$STEP.marker.test" ||
		    e2e_fail "$1: $node never saw step $STEP"
	done
	r=$(answers R)
	for node in $NODES; do
		a=$(answers "$node")
		[ "$a" = "$r" ] || {
			diff <(echo "$r") <(echo "$a") | head -20
			e2e_fail "$1: $node's answers differ from the full read's (step $STEP)"
		}
	done
	# the decision of a full read from scratch, name by name
	q=$("$MR" query -c "$E2E_DIR/A/mr.conf" $(printf 'u@%s ' "${NAMES[@]}") 2>&1)
	i=0
	while read -r rel; do
		n=${NAMES[$i]}
		case $(printf '%s\n' "$q" | grep -m1 "^u@$n: " | awk '{ print $2 }'),$rel in
		accept,"OK RELAY"|reject,NOTFOUND*|continue,NOTFOUND*) ;;
		*) e2e_fail "$1: query says $(printf '%s\n' "$q" | grep -m1 "^u@$n: ") but A's relay map $rel" ;;
		esac
		i=$((i + 1))
	done < <(echo "$a" | head -${#NAMES[@]})
}

# marker: the statements that make the next step's marker the one
marker() {
	echo "DELETE FROM rules WHERE pattern LIKE 'm%.marker.test';"
	echo "INSERT INTO rules (pattern) VALUES ('m$((STEP + 1)).marker.test');"
}

# step SQL...: one transaction of SQL and the step's marker
step() {
	{
		echo "BEGIN;"
		printf '%s\n' "$@"
		marker
		echo "COMMIT;"
	} | sql >/dev/null || e2e_fail "step $((STEP + 1)): SQL failed"
}

step
same "start"
e2e_ok "A and R agree on every key after the first full read"

# The start's read is the only full one: the listener's catch-up after
# its LISTEN and the first change read the change log from its snapshot
grep "OK, .* rules$" "$E2E_DIR/A.log" &&
    e2e_fail "A read the whole table again after its start"
log_has "$E2E_DIR/A.log" "changed rows" ||
    e2e_fail "A's first change after its start was not read from the change log"
e2e_ok "after A's start: the listener's catch-up and the first change read the change log, no full read"

# A change committed after the start load's snapshot was taken and
# before the listener's LISTEN (its notification reaches no one) is
# caught up by the listener's first read, from the change log.  P reads
# the table through a view that sleeps 1 s a query (the change log as
# it is), so the change is made while P's start load runs: its count
# query, the first of its transaction, holds the snapshot.
sql -c "CREATE SCHEMA slowstart; CREATE VIEW slowstart.rules AS
    SELECT r.* FROM public.rules r, pg_sleep(1) z;
    GRANT USAGE ON SCHEMA slowstart TO PUBLIC" >/dev/null ||
    e2e_fail "slowstart schema"
conf P "$PG_CONNINFO application_name=mr-node-p options='-csearch_path=slowstart,public'"
p_loading() {
	[ "$(sql -c "SELECT count(*) FROM pg_stat_activity
	    WHERE application_name = 'mr-node-p' AND state = 'active'
	    AND query LIKE 'SELECT count(*) FROM rules%'")" -ge 1 ]
}
(wait_for 10 p_loading &&
    sql -c "INSERT INTO rules (pattern, relay) VALUES ('between.example', 'always')" >/dev/null) &
between=$!
start P
wait "$between" || e2e_fail "P: no start load seen, or the INSERT failed"
wait_for 20 relays P between.example ||
    e2e_fail "P: the change made between its start load and its LISTEN is lost"
grep "OK, .* rules$" "$E2E_DIR/P.log" &&
    e2e_fail "P's catch-up after its LISTEN read the whole table"
log_has "$E2E_DIR/P.log" "(changed rows; 1 patterns since the last full load)" ||
    e2e_fail "P's catch-up did not read the change from the change log"
stop_pids 10 "${MPID[P]}"
e2e_ok "a change between the start load and the LISTEN: caught up from the change log, not lost"

# --- a random sequence --------------------------------------------------------

before=$(grep -c "changed rows" "$E2E_DIR/A.log")
for s in $(seq 1 30); do
	ops=()
	for o in $(seq 1 $((RANDOM % 4 + 1))); do
		p=$(sql -c "SELECT pattern FROM rules WHERE pattern NOT LIKE '%.marker.test' ORDER BY random() LIMIT 1")
		case $((RANDOM % 5)) in
		0|1) ops+=("$(rand_insert "$(rand_pattern)")") ;;
		2) ops+=("UPDATE rules SET $(rand_set) WHERE pattern = '$p';") ;;
		3) ops+=("DELETE FROM rules WHERE pattern = '$p';") ;;
		4) np=$(rand_pattern)
		   ops+=("UPDATE rules SET pattern = '$np' WHERE pattern = '$p' AND NOT EXISTS (SELECT 1 FROM rules WHERE pattern = '$np');") ;;
		esac
	done
	step "${ops[@]}"
	same "random step $s"
done
after=$(grep -c "changed rows" "$E2E_DIR/A.log")
[ $((after - before)) -ge 25 ] ||
    e2e_fail "A read the whole table for most steps ($((after - before)) of 30 incremental)"
grep -q "changed rows" "$E2E_DIR/R.log" &&
    e2e_fail "R, not allowed to read the change log, did not read the whole table"
grep -q "reload failed" "$E2E_DIR/R.log" &&
    e2e_fail "R, not allowed to read the change log, failed: $(grep -m1 "reload failed" "$E2E_DIR/R.log")"
e2e_ok "30 random steps: A (incremental $((after - before)) times) answers every key as a full read"

# --- what the log cannot tell: a full read ----------------------------------

n0=$(grep -c "OK, .* rules$" "$E2E_DIR/A.log")
step "TRUNCATE rules;" "$(rand_insert a.x.test)" "$(rand_insert '#b.a.x.test')"
same "TRUNCATE"
step "INSERT INTO rules (pattern) VALUES ('C-D.y.test');"
same "a pattern not written as the rule set keeps it"
step "DELETE FROM rules WHERE pattern = 'C-D.y.test';"
same "its removal"
printf 'file.test\n.sub.file.test relay=deny\n' >"$E2E_DIR/A/domains"
printf 'file.test\n.sub.file.test relay=deny\n' >"$E2E_DIR/R/domains"
step "$(rand_insert a.y.test)"
same "the file changed"
n1=$(grep -c "OK, .* rules$" "$E2E_DIR/A.log")
[ $((n1 - n0)) -ge 3 ] || e2e_fail "TRUNCATE, a non-canonical pattern, the file: $((n1 - n0)) full reads, not 3"
e2e_ok "a TRUNCATE, a non-canonical pattern, a changed file: full reads, same answers"

# --- a bad changed row --------------------------------------------------------

sql -c "BEGIN; INSERT INTO rules (pattern) VALUES ('good.example');
    INSERT INTO rules (pattern, smarthost) VALUES ('bad.example', 'mx.example:99999'); COMMIT" >/dev/null
wait_for 10 log_has "$E2E_DIR/A.log" 'row "bad.example"' ||
    e2e_fail "the bad changed row is not named in A's log"
relays A good.example && e2e_fail "a change with a bad row was applied in part"
step "DELETE FROM rules WHERE pattern = 'bad.example';"
same "the bad row removed"
relays A good.example ||
    e2e_fail "the change held back by the bad row did not flow once fixed"
e2e_ok "a bad changed row is named, keeps the change out; fixed, the change flows"

# --- a lost notification ------------------------------------------------------

# one transaction: the trigger is off for this INSERT only
sql -c "ALTER TABLE rules DISABLE TRIGGER rules_notify;
    INSERT INTO rules (pattern, relay) VALUES ('lost.example', 'always');
    ALTER TABLE rules ENABLE TRIGGER rules_notify;" >/dev/null
relays A lost.example &&
    e2e_fail "A saw a change that sent no notification (the test proves nothing)"
step "$(rand_insert a.a.y.test)"
same "the next change"
relays A lost.example ||
    e2e_fail "the change whose notification was lost is not served"
e2e_ok "a change without notification is caught up by the next one"

# --- a restart in the middle of a burst ---------------------------------------

# burst_sql N: N single-row transactions (inserts, deletes) 10 ms apart,
# so that the listeners read in the middle of it (a read at most every
# second), then the next step's marker in one more: no change comes
# after the burst
burst_sql() {
	local s p
	for s in $(seq 1 "$1"); do
		p=$(rand_pattern)
		case $((RANDOM % 3)) in
		0|1) rand_insert "$p" ;;
		2) echo "DELETE FROM rules WHERE pattern = '$p';" ;;
		esac
		echo "SELECT pg_sleep(0.01);"
	done
	echo "BEGIN;"
	marker
	echo "COMMIT;"
}

burst_sql 300 >"$E2E_DIR/burst.sql"
sql -f "$E2E_DIR/burst.sql" >/dev/null &
burst=$!
sleep 0.3
stop_pids 10 "${MPID[A]}"
mv "$E2E_DIR/A.log" "$E2E_DIR/A.1.log"
start A
wait "$burst" || e2e_fail "the burst failed"
same "after the burst"
e2e_ok "A restarted in the middle of a burst of 300 transactions converges"

# --- three nodes ----------------------------------------------------------------

# B and C read the change log as A does; B's connections are named, so
# that the server can end its listener's
conf B "$PG_CONNINFO application_name=mr-node-b"
conf C "$PG_CONNINFO"
cp "$E2E_DIR/A/domains" "$E2E_DIR/B/domains"
cp "$E2E_DIR/A/domains" "$E2E_DIR/C/domains"
start B
start C
NODES="A B C"
step
same "B and C started"
burst_sql 300 >"$E2E_DIR/burst3.sql"
sql -f "$E2E_DIR/burst3.sql" >/dev/null || e2e_fail "the burst failed"
same "three nodes after a burst"
e2e_ok "three nodes on one table converge after a burst of 300 transactions"

# B paused; the server ends its listener's connection; a change: its
# notification reaches A and C, never B.  B runs again: its listener
# finds the connection gone, connects again and catches the change up
# (bounded: the listener's first retry, 0.5 s, and a read of this table)
kill -STOP "${WORKER[B]}"
ended=$(sql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'mr-node-b'")
[ "$ended" -ge 1 ] || {
	kill -CONT "${WORKER[B]}"
	e2e_fail "B has no connection to end (the check proves nothing)"
}
step "$(rand_insert c.a.y.test)"
seen A "m$((STEP + 1)).marker.test" && seen C "m$((STEP + 1)).marker.test" ||
    e2e_fail "A and C never saw the change B missed"
kill -CONT "${WORKER[B]}"
same "the change B's listener missed"
log_has "$E2E_DIR/B.log" "database unreachable" ||
    e2e_fail "B's listener did not lose its connection (the check proves nothing)"
e2e_ok "a listener that missed a notification (connection ended while paused) catches the change up"
stop_pids 10 "${MPID[B]}" "${MPID[C]}"
NODES=A

# --- the snapshot on disk -----------------------------------------------------

# each change reaches rules_cache, written by a thread of the worker
step "$(rand_insert b.b.x.test)" "DELETE FROM rules WHERE pattern = 'good.example';"
same "a change for the cache"
sql -c "SELECT pattern FROM rules ORDER BY 1" | sort >"$E2E_DIR/rows"
cache_holds_rows() {
	grep -v '^# ' "$E2E_DIR/A/cache" | cut -d' ' -f1 | sort |
	    diff - "$E2E_DIR/rows" >/dev/null
}
wait_for 10 cache_holds_rows ||
    e2e_fail "A's rules_cache does not hold the table's rows"
e2e_ok "A's rules_cache, merged change by change, holds the table's rows"

# --- static mode: the tables updated in place ------------------------------------

# AS reads the change log and writes static mode's tables (maps_dir),
# RS the reference (the reader role: a full read, whole files every
# time).  After each step of a random sequence (values a static table
# can say: always, deny, routed), AS's relay_domains, transport and
# tls_policy read back (postmap -s) equal the tables exported from
# scratch ("export -s", a full read now), its access table answers as
# the exported one at every key but those it holds, and it holds what RS
# holds; AS updated the files in place (its log; the same inodes).  A
# rule with an A-label added in place is named in AS's log, once.
HELD="451 4.7.1 Relay route being updated, try again later"	# reply.c's
step "DELETE FROM rules WHERE relay = 'trusted';"
same "the rules a static table can say"
for n in AS RS; do
	mkdir -p "$E2E_DIR/$n/maps"
	chown nobody "$E2E_DIR/$n/maps"
done
conf AS "$PG_CONNINFO" "maps_dir = \"$E2E_DIR/AS/maps\";"
conf RS "host=$PG_SOCK dbname=mr user=reader" "maps_dir = \"$E2E_DIR/RS/maps\";"
start AS
start RS

# svalues, sset: rand_values and rand_set without "trusted"
svalues() {
	case $((RANDOM % 3)) in
	0) echo "'always', NULL, NULL" ;;
	1) echo "'deny', NULL, '550 5.7.1 no $((RANDOM % 3))'" ;;
	2) echo "'always', '[192.0.2.$((RANDOM % 5 + 1))]', NULL" ;;
	esac
}
sinsert() {
	local v
	v=$(svalues)
	case $v in
	*"'deny'"*) echo "INSERT INTO rules (pattern, relay, smarthost, reply) VALUES ('$1', $v) ON CONFLICT DO NOTHING;" ;;
	*) echo "INSERT INTO rules (pattern, relay, smarthost, transport) VALUES ('$1', $v) ON CONFLICT DO NOTHING;" ;;
	esac
}
sset() {
	case $((RANDOM % 2)) in
	0) echo "relay = 'deny', smarthost = NULL, transport = NULL" ;;
	1) echo "relay = 'always', smarthost = '[192.0.2.$((RANDOM % 5 + 1))]', reply = NULL" ;;
	esac
}

# ptable N T: daemon N's table T as postmap reads it, sorted
ptable() {
	postmap -s "lmdb:$E2E_DIR/$1/maps/$2" | tr '\t' ' ' | LC_ALL=C sort
}
# scratch FORMAT: the table exported from a full read now, sorted
scratch() {
	"$MR" export -s -c "$E2E_DIR/AS/mr.conf" "$1" 2>/dev/null |
	    grep -v '^#' | tr '\t' ' ' | LC_ALL=C sort
}
# holds_agree: the names held in AS's and RS's maps_dir/holds agree:
# true unless a name one of AS and RS holds for 10 s more is
# not held at all by the other (the two publish a step seconds apart on a
# slow build, so a hold about to end in one may be over in the other);
# the names that differ are printed
holds_agree() {
	{
		sed 's/^/AS /' "$E2E_DIR/AS/maps/holds" 2>/dev/null
		sed 's/^/RS /' "$E2E_DIR/RS/maps/holds" 2>/dev/null
	} | awk -v now="$(date +%s)" '
	{ e[$1, $2] = $3; k[$2] = 1 }
	END {
		for (n in k) {
			a = e["AS", n] + 0; r = e["RS", n] + 0
			if ((a > now + 10 && r <= now) || (r > now + 10 && a <= now)) {
				print n ": held by RS until " r ", by AS until " a " (now " now ")"
				bad = 1
			}
		}
		exit bad
	}'
}
# access_answers: AS's access table answers (the search Postfix makes:
# the key, then ".parent" for each parent) as the one exported from
# scratch at each key of both and of AS's relay_domains and transport,
# but where AS answers the held reply; DUNNO is no answer
access_answers() {
	awk -v held="$HELD" '
	function norm(v) { return v == "DUNNO" ? "-" : v }
	function look(t, key,   n, p) {
		if (key in t)
			return norm(t[key])
		if (index(key, "@") > 0)
			return "-"
		n = key
		sub(/^\./, "", n)
		while ((p = index(n, ".")) > 0) {
			n = substr(n, p + 1)
			if (("." n) in t)
				return norm(t["." n])
		}
		return "-"
	}
	FNR == 1 { f++ }
	{ key = $1; v = $0; sub(/^[^ ]* /, "", v) }
	f == 1 { s[key] = v; k[key] = 1; next }
	f == 2 { a[key] = v; k[key] = 1; next }
	{ k[key] = 1 }
	END {
		for (key in k) {
			x = look(s, key)
			y = look(a, key)
			if (y == held || x == y)
				continue
			print key ": from scratch " x ", in place " y
			bad = 1
		}
		exit bad
	}' "$E2E_DIR/scratch.access" "$E2E_DIR/as.access" \
	    "$E2E_DIR/as.relay_domains" "$E2E_DIR/as.transport"
}

# static_same WHAT: the comparisons above, after step STEP
static_same() {
	local t f
	STEP=$((STEP + 1))
	seen AS "m$STEP.marker.test" || e2e_fail "$1: AS never saw step $STEP"
	seen RS "m$STEP.marker.test" || e2e_fail "$1: RS never saw step $STEP"
	for t in relay_domains:postfix-relay-domains \
	    transport:postfix-transport tls_policy:postfix-tls-policy \
	    access:postfix-access; do
		f=${t%%:*}
		ptable AS "$f" >"$E2E_DIR/as.$f"
		scratch "${t#*:}" >"$E2E_DIR/scratch.$f"
		[ "$f" = access ] && continue
		cmp -s "$E2E_DIR/as.$f" "$E2E_DIR/scratch.$f" || {
			diff "$E2E_DIR/scratch.$f" "$E2E_DIR/as.$f" | head -10
			e2e_fail "$1: AS's $f.lmdb is not the table from scratch (step $STEP)"
		}
	done
	access_answers || e2e_fail "$1: AS's access.lmdb answers otherwise (step $STEP)"
	holds_agree || e2e_fail "$1: AS holds other names than RS (step $STEP)"
}

# written N: the number of publishes daemon N logged
written() { grep -c 'static maps: \(wrote\|updated\|the tables\)' "$E2E_DIR/$1.log"; }
# inode N T: the inode of daemon N's table T
inode() { stat -c %i "$E2E_DIR/$1/maps/$2.lmdb"; }

step
static_same "static start"
inplace0=$(grep -c 'static maps: updated [0-9]* keys in place' "$E2E_DIR/AS.log")
for s in $(seq 1 15); do
	ops=()
	for o in $(seq 1 $((RANDOM % 3 + 1))); do
		p=$(sql -c "SELECT pattern FROM rules WHERE pattern NOT LIKE '%.marker.test' ORDER BY random() LIMIT 1")
		case $((RANDOM % 4)) in
		0|1) ops+=("$(sinsert "$(rand_pattern)")") ;;
		2) ops+=("UPDATE rules SET $(sset) WHERE pattern = '$p';") ;;
		3) ops+=("DELETE FROM rules WHERE pattern = '$p';") ;;
		esac
	done
	ino=$(inode AS transport)
	step "${ops[@]}"
	static_same "static step $s"
	[ "$(inode AS transport)" = "$ino" ] ||
	    e2e_fail "static step $s: AS's transport.lmdb replaced, not updated in place: $(grep 'static maps: wrote' "$E2E_DIR/AS.log" | tail -1)"
done
inplace=$(( $(grep -c 'static maps: updated [0-9]* keys in place' "$E2E_DIR/AS.log") - inplace0 ))
[ "$inplace" -ge 10 ] ||
    e2e_fail "AS updated its tables in place $inplace times in 15 steps"
grep -q 'static maps: updated .* in place' "$E2E_DIR/RS.log" &&
    e2e_fail "RS (full reads) updated its tables in place"
grep -q 'reload refused' "$E2E_DIR/AS.log" "$E2E_DIR/RS.log" &&
    e2e_fail "a static reload was refused: $(grep -h -m1 'reload refused' "$E2E_DIR/AS.log" "$E2E_DIR/RS.log")"
e2e_ok "15 random steps: AS's tables updated in place ($inplace times, same inodes) equal a write from scratch"

# a change of more than STATICMAPS_INPLACE_MIN (64) patterns and 1/8 of
# the rules: whole files (a large change; here the change log's reader
# reads such a change whole already: a full reload), then in place again
bulk=()
for i in $(seq 1 70); do
	bulk+=("INSERT INTO rules (pattern) VALUES ('bulk$i.static.test') ON CONFLICT DO NOTHING;")
done
step "${bulk[@]}"
static_same "a large change"
grep 'static maps: \(wrote\|updated\)' "$E2E_DIR/AS.log" | tail -1 |
    grep -q 'whole files: a \(large change\|full reload\)' ||
    e2e_fail "a large change: $(grep 'static maps: \(wrote\|updated\)' "$E2E_DIR/AS.log" | tail -1)"
step "DELETE FROM rules WHERE pattern = 'bulk1.static.test';"
static_same "a small change after it"
grep 'static maps: \(wrote\|updated\)' "$E2E_DIR/AS.log" | tail -1 |
    grep -q 'keys in place' ||
    e2e_fail "a small change after a large one: $(grep 'static maps: \(wrote\|updated\)' "$E2E_DIR/AS.log" | tail -1)"
e2e_ok "a change of 70 patterns: whole files, the next one in place, both equal a write from scratch"
# an IDN rule added in place: AS's log names it, once, reachable only as
# its A-label (main-static.cf refuses 8-bit domains)
step "INSERT INTO rules (pattern) VALUES ('xn--spter-hra.static.test') ON CONFLICT DO NOTHING;"
static_same "an IDN rule"
grep 'static maps: \(wrote\|updated\)' "$E2E_DIR/AS.log" | tail -1 |
    grep -q 'keys in place' ||
    e2e_fail "an IDN rule: $(grep 'static maps: \(wrote\|updated\)' "$E2E_DIR/AS.log" | tail -1)"
[ "$(grep -c 'static mode: rule "später\.static\.test" (xn--spter-hra\.static\.test) is reachable only in its A-label form' "$E2E_DIR/AS.log")" = 1 ] ||
    e2e_fail "AS's log does not name the IDN rule of the change once: $(grep 'static mode: rule' "$E2E_DIR/AS.log")"
e2e_ok "an IDN rule added in place: AS's log names it once"

# --- a real Postfix on the tables updated in place ---------------------------------

# Postfix with contrib/postfix/main-static.cf on AS's tables: a domain
# inserted (routed to sink S) and one deleted in one transaction reach
# smtpd (the access table) and trivial-rewrite (relay_domains,
# transport) through the files updated in place (transport.lmdb keeps its
# inode): both are held (451) until AS lets go of them, not before; then
# the new one is relayed to S, the removed one refused, also by an smtpd
# that relayed it before the change.
HOLD_SECS=$(sed -n 's/^#define ROUTEHOLD_SECONDS \([0-9]*\).*/\1/p' \
    "$E2E_SRC/lib/routehold.h")
[ -n "$HOLD_SECS" ] || e2e_fail "no ROUTEHOLD_SECONDS in lib/routehold.h"
SMTPD=$(e2e_free_port)
PORT_S=$(e2e_free_port)
PORT_D=$(e2e_free_port)
sink_start S 127.0.0.1 "$PORT_S"
sink_start D 127.0.0.1 "$PORT_D"
step "INSERT INTO rules (pattern, smarthost) VALUES ('gone.static.test', '[127.0.0.1]:$PORT_S') ON CONFLICT DO NOTHING;"
static_same "a domain to remove"
pf_create "$SMTPD" \
    "$(grep -v '^#' "$E2E_SRC/contrib/postfix/main-static.cf" |
        sed -e "s|/var/lib/milter-relay/maps/|$E2E_DIR/AS/maps/|")" \
    "relayhost = [127.0.0.1]:$PORT_D" \
    "smtpd_peername_lookup = no" \
    "smtpd_error_sleep_time = 0" \
    "bounce_queue_lifetime = 0"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
# rcpt ADDR: the RCPT reply to ADDR from the untrusted client, a session
rcpt() {
	"$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" -s inplace "$1" 2>&1 |
	    sed -n 's/^RCPT <.*> \([0-9][0-9][0-9] [0-9.]*\).*/\1/p' | head -1
}
# not_held NAME...: AS's access table does not answer the held reply
not_held() {
	local n
	for n in "$@"; do
		postmap -q "$n" "lmdb:$E2E_DIR/AS/maps/access" | grep -q "$HELD" &&
		    return 1
	done
	return 0
}
# the domain to remove relayed first (its hold over), in a session whose
# smtpd keeps what it resolved while the process runs: it must forget it
# (the access table renamed after the change), or it would relay the
# removed domain after the holds
wait_for $((HOLD_SECS + 10)) not_held gone.static.test ||
    e2e_fail "AS never let go of gone.static.test"
got=$(rcpt u@gone.static.test)
[ "$got" = "250 2.1.5" ] || e2e_fail "<u@gone.static.test> before its removal: want 250 2.1.5, got '$got'"
n_in=$(e2e_log_count "$E2E_DIR/AS.log" 'static maps: updated [0-9]+ keys in place')
n_go=$(e2e_log_count "$E2E_DIR/AS.log" 'static maps: let go of')
ino=$(inode AS transport)
step "INSERT INTO rules (pattern, smarthost) VALUES ('new.static.test', '[127.0.0.1]:$PORT_S');" \
    "DELETE FROM rules WHERE pattern = 'gone.static.test';"
static_same "a domain added and one removed"
e2e_wait_log "$E2E_DIR/AS.log" 'static maps: updated [0-9]+ keys in place' \
    $((n_in + 1)) 10 "the tables of the change, in place"
[ "$(inode AS transport)" = "$ino" ] ||
    e2e_fail "transport.lmdb replaced, not updated in place"
for a in u@new.static.test u@gone.static.test; do
	got=$(rcpt "$a")
	[ "$got" = "451 4.7.1" ] || e2e_fail "<$a> while held: want 451 4.7.1, got '$got'"
done
e2e_ok "Postfix: the added and the removed domain held (451 4.7.1) after the change in place"
# the holds of this change are let go
wait_for $((HOLD_SECS + 10)) not_held new.static.test gone.static.test ||
    e2e_fail "AS never let go of the holds"
[ "$(e2e_log_count "$E2E_DIR/AS.log" 'static maps: let go of')" -gt "$n_go" ] ||
    e2e_fail "the holds went without a line in AS's log"
got=$(rcpt u@gone.static.test)
[ "$got" = "554 5.7.1" ] || e2e_fail "<u@gone.static.test> removed: want 554 5.7.1, got '$got'"
got=$(rcpt u@new.static.test)
[ "$got" = "250 2.1.5" ] || e2e_fail "<u@new.static.test> added: want 250 2.1.5, got '$got'"
sink_wait S 2 60 && sink_rcpts S | grep -qx u@new.static.test ||
    e2e_fail "u@new.static.test did not reach sink S: $(sink_rcpts S)"
pf_stop
e2e_ok "Postfix: the added domain relayed to its smart host, the removed one refused (554), from the tables updated in place"
# --- domains_file edits: the changed lines, not a full load --------------------

# F serves a domains_file alone and reloads it on SIGHUP by a diff against
# the file of the rules in force; G is the reference, started from scratch
# on the same file after each step.  Lines are appended in place (>>),
# edits are written to a new file renamed over the old one, as editors
# and configuration tools do.
FILE=$E2E_DIR/F.domains
fconf() {
	local d=$E2E_DIR/$1
	mkdir -p "$d"
	chown nobody "$d"
	[ -n "${PORT[$1]:-}" ] || PORT[$1]=$(e2e_free_port)
	{
		echo "socket = \"unix:$d/milter.sock\";"
		echo "socketmap = \"inet:${PORT[$1]}@127.0.0.1\";"
		echo "policy = { unmatched = \"reject\"; trusted_networks = [ \"127.0.0.1/32\" ]; };"
		echo "domains_file = \"$FILE\";"
	} >"$d/mr.conf"
	chmod 644 "$d/mr.conf"
}

# rand_settings: the settings of a line: none, routed, denied, trusted
rand_settings() {
	case $((RANDOM % 4)) in
	0) ;;
	1) echo " smarthost=[192.0.2.$((RANDOM % 5 + 1))]" ;;
	2) echo " relay=deny reply=\"550 5.7.1 no $((RANDOM % 3))\"" ;;
	3) echo " relay=trusted smarthost=mx$((RANDOM % 3)).example.net:2525 transport=relay" ;;
	esac
}
# rand_line: a domains_file line, any kind of pattern
rand_line() { echo "$(rand_pattern)$(rand_settings)"; }

FL=("# the domains_file of F" "file.test")
for i in $(seq 1 40); do FL+=("$(rand_line)"); done
# keep the first of each pattern: the file starts good
declare -A SEEN=()
GOOD=()
for l in "${FL[@]}"; do
	k=${l%% *}
	case $l in "#"\ *) GOOD+=("$l"); continue ;; esac
	[ -n "${SEEN[${k,,}]:-}" ] && continue
	SEEN[${k,,}]=1
	GOOD+=("$l")
done
FL=("${GOOD[@]}")
printf '%s\n' "${FL[@]}" >"$FILE"
chmod 644 "$FILE"
fconf F
fconf G
start F

# renamed: FL written to a new file renamed over the domains_file
renamed() {
	printf '%s\n' "${FL[@]}" >"$FILE.new"
	chmod 644 "$FILE.new"
	mv "$FILE.new" "$FILE"
}

# outcomes: F's reloads ended so far (in force or refused)
outcomes() { grep -cE "reload: .*OK|reload failed" "$E2E_DIR/F.log"; }
more_outcomes() { [ "$(outcomes)" -gt "$1" ]; }

# fstep WHAT: SIGHUP to F, its reload's end awaited; the last outcome
# line in OUT; every key compared with G's from scratch (or, when a full
# load refuses the file, with F's answers before and the same message)
BEFORE=$(answers F)
fstep() {
	local n msg g q i rel
	n=$(outcomes)
	kill -HUP "${MPID[F]}"
	wait_for 20 more_outcomes "$n" || e2e_fail "$1: F's reload did not end"
	OUT=$(grep -E "reload: .*OK|reload failed" "$E2E_DIR/F.log" | tail -1)
	if msg=$("$MR" -t -c "$E2E_DIR/G/mr.conf" 2>&1); then
		case $OUT in *"reload failed"*) e2e_fail "$1: F refused a good file: $OUT" ;; esac
		start G
		g=$(answers G)
		stop_pids 10 "${MPID[G]}"
		BEFORE=$(answers F)
		[ "$BEFORE" = "$g" ] || {
			diff <(echo "$g") <(echo "$BEFORE") | head -20
			e2e_fail "$1: F's answers differ from a daemon started on the file"
		}
		q=$("$MR" query -c "$E2E_DIR/G/mr.conf" $(printf 'u@%s ' "${NAMES[@]}") 2>&1)
		i=0
		while read -r rel; do
			n=${NAMES[$i]}
			case $(printf '%s\n' "$q" | grep -m1 "^u@$n: " | awk '{ print $2 }'),$rel in
			accept,"OK RELAY"|reject,NOTFOUND*|continue,NOTFOUND*) ;;
			*) e2e_fail "$1: query says $(printf '%s\n' "$q" | grep -m1 "^u@$n: ") but F's relay map $rel" ;;
			esac
			i=$((i + 1))
		done < <(echo "$BEFORE" | head -${#NAMES[@]})
	else
		msg=${msg#*milter-relay: }
		case $OUT in
		*"reload failed: $msg; keeping"*) ;;
		*) e2e_fail "$1: a full load says \"$msg\", F's reload: $OUT" ;;
		esac
		[ "$(answers F)" = "$BEFORE" ] ||
		    e2e_fail "$1: F's answers changed with a refused file"
	fi
}

fstep "start"
GOODFL=("${FL[@]}")
diffs=0 fulls=0 refused=0
for s in $(seq 1 30); do
	last=
	case $((RANDOM % 5)),$s in
	*,10|*,20)
		# a bad line: refused with the loader's message
		FL+=("bad.example smarthost=mx.example:99999")
		echo "${FL[-1]}" >>"$FILE"
		last=bad ;;
	0,*|1,*)
		FL+=("$(rand_line)")
		echo "${FL[-1]}" >>"$FILE"
		last=append ;;
	2,*)
		i=$((RANDOM % ${#FL[@]}))
		FL=("${FL[@]:0:$i}" "${FL[@]:$((i + 1))}")
		renamed ;;
	3,*)
		i=$((RANDOM % (${#FL[@]} - 1) + 1))
		k=${FL[$i]%% *}
		case $k in "#") ;; *) FL[$i]="$k$(rand_settings)" ;; esac
		renamed ;;
	4,*)
		i=$((RANDOM % (${#FL[@]} - 1) + 1))
		FL[$i]=$(rand_line)
		renamed ;;
	esac
	fstep "file step $s ($last)"
	case $OUT in
	*"domains_file diff"*) diffs=$((diffs + 1)) ;;
	*"reload failed"*)
		refused=$((refused + 1))
		# the file of the rules in force again
		FL=("${GOODFL[@]}")
		renamed
		fstep "file step $s undone"
		case $OUT in
		*"domains_file diff"*) diffs=$((diffs + 1)) ;;
		*) fulls=$((fulls + 1)) ;;
		esac ;;
	*) fulls=$((fulls + 1)) ;;
	esac
	GOODFL=("${FL[@]}")
done
grep -q "domains_file diff, appended" "$E2E_DIR/F.log" ||
    e2e_fail "no append was told by the appended lines alone"
[ "$refused" -ge 2 ] || e2e_fail "only $refused refused steps: the bad lines were not refused"
[ "$fulls" -eq 0 ] ||
    e2e_fail "$fulls good steps were full loads: $(grep -m1 "not told by a diff" "$E2E_DIR/F.log")"
e2e_ok "30 domains_file edits: F ($diffs diffs, $refused refused as a full load does) answers every key as a daemon started on the file"

# written in place over the old (not renamed): the old lines cannot be
# read again, a full load; appended lines alone still diff
FL[1]="$(rand_pattern)$(rand_settings)"
n=$(grep -c "not told by a diff; a full load" "$E2E_DIR/F.log")
printf '%s\n' "${FL[@]}" >"$FILE"
fstep "rewritten in place"
case $OUT in *"domains_file diff"*) e2e_fail "a file rewritten in place was diffed: $OUT" ;; esac
[ "$(grep -c "not told by a diff; a full load" "$E2E_DIR/F.log")" -gt "$n" ] ||
    e2e_fail "the full load after a rewrite in place is not logged"
case $OUT in *"reload failed"*) FL=("${GOODFL[@]}"); renamed; fstep "rewrite undone" ;; esac
# a torn last line: the full load's message
printf 'torn.test' >>"$FILE"
fstep "a torn last line"
case $OUT in *"incomplete last line"*) ;; *) e2e_fail "a torn last line: $OUT" ;; esac
printf '\n' >>"$FILE"
FL+=("torn.test")
fstep "the torn line completed"
case $OUT in *"domains_file diff, appended"*) ;; *) e2e_fail "the completed line was not appended by diff: $OUT" ;; esac
e2e_ok "a rewrite in place is a full load, a torn last line refused as by a full load, then appended"

# the supervisor builds its copy (a restarted worker's rules) by the same
# diff: a worker killed now serves what a daemon started on the file does,
# and its next reload diffs against the supervisor's record
w=$(worker_of "$E2E_DIR/F.log")
kill -KILL "$w"
restarted() { [ "$(worker_of "$E2E_DIR/F.log")" != "$w" ] &&
    log_has "$E2E_DIR/F.log" "restarted with the last rules"; }
wait_for 20 restarted || e2e_fail "F's worker was not restarted"
wait_for 10 e2e_port_open 127.0.0.1 "${PORT[F]}" || e2e_fail "F's restarted worker does not serve"
start G
[ "$(answers F)" = "$(answers G)" ] ||
    e2e_fail "F's restarted worker does not answer as a daemon started on the file"
stop_pids 10 "${MPID[G]}"
echo "restart.test relay=deny" >>"$FILE"
FL+=("restart.test relay=deny")
fstep "an append after the restart"
case $OUT in *"domains_file diff, appended"*) ;; *) e2e_fail "the restarted worker's reload was no diff: $OUT" ;; esac
e2e_ok "a restarted worker serves the supervisor's copy, built by diff too, and diffs from it"

# --- the control thread during a slow publish ----------------------------------

# S reads the table through a view that sleeps 2 s a query: a reload
# takes that long at least.  Counters asked during it are logged before
# it ends, and so is a stop: the control thread does not wait for it.
sql -c "CREATE SCHEMA slow; CREATE VIEW slow.rules AS
    SELECT r.* FROM public.rules r, pg_sleep(2) z;
    GRANT USAGE ON SCHEMA slow TO PUBLIC" >/dev/null || e2e_fail "slow schema"
conf S "$PG_CONNINFO options='-csearch_path=slow'"
start S
wait_for 30 log_has "$E2E_DIR/S.log" "reload: " ||
    e2e_fail "S: no first reload"
# line N PATTERN: the line number of the last line matching PATTERN
line() { grep -n -- "$2" "$E2E_DIR/$1.log" | tail -1 | cut -d: -f1; }
# more N PATTERN COUNT: more than COUNT lines of N's log match PATTERN
more() { [ "$(grep -c -- "$2" "$E2E_DIR/$1.log")" -gt "$3" ]; }
oks=$(grep -c "reload: .*OK" "$E2E_DIR/S.log")
kill -HUP "${MPID[S]}"
wait_for 10 log_has "$E2E_DIR/S.log" "SIGHUP: reloading" || e2e_fail "S: no SIGHUP"
kill -USR1 "${MPID[S]}"
wait_for 30 more S "reload: .*OK" "$oks" ||
    e2e_fail "S: the reload did not end"
c=$(line S "counters: sessions=")
[ -n "$c" ] && [ "$c" -lt "$(line S "reload: .*OK")" ] ||
    e2e_fail "S: the counters waited for the reload to end"
# two changes of the domains_file while a reload runs: both SIGHUPs
# are queued behind it and merged, and the last file is served
hups=$(grep -c "SIGHUP: reloading" "$E2E_DIR/S.log")
oks=$(grep -c "reload: .*OK" "$E2E_DIR/S.log")
kill -HUP "${MPID[S]}"
wait_for 10 more S "SIGHUP: reloading" "$hups" || e2e_fail "S: no SIGHUP"
# (each SIGHUP seen before the next is sent: the kernel merges a signal
# sent while the same one is pending)
printf 'file.test\nfirst.hup.example\n' >"$E2E_DIR/S/domains.new"
mv "$E2E_DIR/S/domains.new" "$E2E_DIR/S/domains"
kill -HUP "${MPID[S]}"
wait_for 10 more S "SIGHUP: reloading" $((hups + 1)) ||
    e2e_fail "S: the second SIGHUP was not received"
printf 'file.test\nsecond.hup.example\n' >"$E2E_DIR/S/domains.new"
mv "$E2E_DIR/S/domains.new" "$E2E_DIR/S/domains"
kill -HUP "${MPID[S]}"
wait_for 10 more S "SIGHUP: reloading" $((hups + 2)) ||
    e2e_fail "S: the third SIGHUP was not received"
wait_for 60 relays S second.hup.example ||
    e2e_fail "S: the last file's rules are not served: a SIGHUP was lost"
relays S first.hup.example &&
    e2e_fail "S: a rule of a file replaced since is served"
e2e_ok "two SIGHUPs during a reload: queued, merged ($(($(grep -c "reload: .*OK" "$E2E_DIR/S.log") - oks)) reloads for 3), the last file served"

hups=$(grep -c "SIGHUP: reloading" "$E2E_DIR/S.log")
oks=$(grep -c "reload: .*OK" "$E2E_DIR/S.log")
kill -HUP "${MPID[S]}"
wait_for 10 more S "SIGHUP: reloading" "$hups" ||
    e2e_fail "S: no second SIGHUP"
kill -TERM "${MPID[S]}"
wait_for 30 log_has "$E2E_DIR/S.log" "worker stopping: asked" ||
    e2e_fail "S: the stop was not answered"
[ "$(grep -c "reload: .*OK" "$E2E_DIR/S.log")" -eq "$oks" ] ||
    [ "$(line S "worker stopping: asked")" -lt "$(line S "reload: .*OK")" ] ||
    e2e_fail "S: the stop waited for the reload to end"
stop_pids 30 "${MPID[S]}"
e2e_ok "during a 2 s reload the worker answers counters and stop at once"

stop_pids 10 "${MPID[A]}" "${MPID[R]}" "${MPID[AS]}" "${MPID[RS]}" "${MPID[F]}"
# under "make SANITIZE=1": no report from ASan, UBSan or LSan
if grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" \
    "$E2E_DIR"/*.log 2>/dev/null; then
	e2e_fail "a sanitizer report"
fi
e2e_ok "daemons stopped, no sanitizer report"
