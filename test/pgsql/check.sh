#!/bin/bash
# check.sh - rules from PostgreSQL: three daemons on one database
#
# Run by "make check" (as root) with MR_BUILD.  Creates a private
# PostgreSQL cluster with initdb (Debian's postgresql package,
# /usr/lib/postgresql/*/bin) in a temporary directory, run by the
# unprivileged postgres user, on a unix socket directory of its own (no
# TCP port), loads contrib/postgresql/schema.sql and starts three
# milter-relay daemons (as nobody) with rules_source on that database and
# a rules_cache each.  It proves:
#
#   - an INSERT, an UPDATE and a DELETE each show in the socketmap and
#     milter answers of all three daemons (NOTIFY: nothing polls the
#     table; the time is printed, and bounded only by SEE_SECS, below);
#   - a row the domains_file parser refuses is named in the log (by its
#     pattern) and the whole set is refused: a good row inserted with it
#     is not served, the previous rules stay;
#   - a value with a backslash and quotes reads back as stored (COPY's
#     escapes undone: rules_cache line, export);
#   - a burst of 10,000 updates is a few reloads, not 10,000;
#   - the database stopped: all three keep answering with the last rules
#     and log it once; a daemon restarted while it is down starts from
#     its rules_cache; one without a cache refuses to start, clearly;
#   - the database back: changes flow again;
#   - "import --to postgresql:..." replaces the table (all or nothing),
#     "export" reads the table;
#   - the password of the connection string, and its sslpassword, are in
#     no log and no output; "import --to" warns about a password on its
#     command line, and takes it from PGPASSWORD without warning;
#   - a worker restarted while a row is refused, and while the file is
#     broken, serves the last good rules (no exit 78 in a loop);
#   - a worker of a daemon without rules_cache restarted while the
#     database is down serves no subset: a row's deny exception under a
#     namespace the file relays is tempfailed, not relayed, until the
#     database is back;
#   - a row with auth_file: its credentials reach daemon 2's maps_dir
#     sasl_passwd.lmdb (postmap -q by next hop, mode 0600), and leave it
#     when the row is deleted.
#
# Every process started here is stopped by pid, and the cluster removed,
# also on failure.  About 30 s.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"

e2e_init pgsql
. "$HERE/../lib/pgsql.sh"
. "$HERE/../lib/daemon.sh"
pg_init

MR=$E2E_BUILD/milter/milter-relay
MT=$E2E_BUILD/test/harness/milter-test
SECRET=pw-Never-In-Logs-7731
SECRET2=sslpw-Never-In-Logs-4417
CONNINFO="$PG_CONNINFO password=$SECRET sslpassword=$SECRET2"

sql -c "INSERT INTO rules (pattern, smarthost) VALUES ('a.example', '[192.0.2.25]')" ||
    e2e_fail "first row"
e2e_ok "private PostgreSQL cluster ($PG_BIN), schema.sql loaded"

# --- three daemons --------------------------------------------------------

PORT=()
MPID=()
# conf N [extra lines]: the configuration of daemon N
conf() {
	local n=$1 d=$E2E_DIR/mr$1
	shift
	mkdir -p "$d"
	chown nobody "$d"
	[ -n "${PORT[$n]:-}" ] || PORT[$n]=$(e2e_free_port)
	{
		echo "socket = \"unix:$d/milter.sock\";"
		echo "socketmap = \"inet:${PORT[$n]}@127.0.0.1\";"
		echo "policy = { unmatched = \"reject\"; trusted_networks = [ \"127.0.0.1/32\" ]; };"
		echo "rules_source = \"postgresql:$CONNINFO\";"
		for line in "$@"; do
			echo "$line"
		done
	} >"$d/mr.conf"
	chmod 644 "$d/mr.conf"
}

start() {
	local n=$1 d=$E2E_DIR/mr$1
	"$MR" -f -c "$d/mr.conf" -u nobody -g nogroup >>"$E2E_DIR/mr$n.log" 2>&1 &
	MPID[$n]=$!
	e2e_track_pid "${MPID[$n]}"
	for i in $(seq 1 600); do
		[ -S "$d/milter.sock" ] && e2e_port_open 127.0.0.1 "${PORT[$n]}" &&
		    grep -q "serving unix:" "$E2E_DIR/mr$n.log" && return 0
		kill -0 "${MPID[$n]}" 2>/dev/null || break
		sleep 0.1
	done
	e2e_fail "daemon $n did not start"
}

stop() {
	kill -TERM "${MPID[$1]}" 2>/dev/null
	wait "${MPID[$1]}" 2>/dev/null
}

# smq N "MAP KEY": the socketmap answer of daemon N
smq() {
	echo "$2" | "$E2E_CLIENT" socketmap -p "${PORT[$1]}"
}

# mtest N DOMAIN accept|reject: milter answer of daemon N for an
# untrusted client's RCPT to u@DOMAIN
mtest() {
	local n=$1 dom=$2 want f=$E2E_DIR/scen.$1
	case $3 in
	accept) want="expect continue" ;;
	reject) want="expect reject" ;;
	tempfail) want="expect tempfail" ;;
	esac
	printf '%s\n' "connect 203.0.113.5 client.example" \
	    "mail <s@client.example>" "rcpt <u@$dom> $want" >"$f"
	"$MT" -s "unix:$E2E_DIR/mr$n/milter.sock" -t 10 "$f" >/dev/null 2>&1
}

# The bound of every wait for a change to show: the listener coalesces
# notifications for up to PGSOURCE_BURST_MS (milter/pgsource.c), then the
# daemon reloads; no setting bounds the reload on a loaded machine, so
# the bound is generous: it only keeps a broken daemon from hanging the
# test.  A reconnection after the database is back waits up to
# PGSOURCE_BACKOFF_MAX_MS more.
SEE_SECS=30
BACKOFF_SECS=$(($(sed -n 's/^#define PGSOURCE_BACKOFF_MAX_MS[[:space:]]*\([0-9]*\).*/\1/p' \
    "$HERE/../../milter/pgsource.c") / 1000))
[ "$BACKOFF_SECS" -gt 0 ] || e2e_fail "no PGSOURCE_BACKOFF_MAX_MS in milter/pgsource.c"

# all_see SECONDS "MAP KEY" ANSWER DOMAIN accept|reject: all three
# daemons give ANSWER on the socketmap and the milter outcome within
# SECONDS; the time taken in WAITED
all_see() {
	local secs=$1 q=$2 want=$3 dom=$4 outcome=$5 n start end
	start=$(date +%s%N)
	for n in 1 2 3; do
		while [ "$(smq "$n" "$q")" != "$want" ]; do
			end=$(date +%s%N)
			[ $(((end - start) / 1000000)) -lt $((secs * 1000)) ] ||
			    return 1
			sleep 0.05
		done
	done
	end=$(date +%s%N)
	WAITED=$(((end - start) / 1000000))
	for n in 1 2 3; do
		mtest "$n" "$dom" "$outcome" || return 1
	done
}

MPORT=$(e2e_free_port)
conf 1 "rules_cache = \"$E2E_DIR/mr1/cache\";" \
    "metrics = \"inet:$MPORT@127.0.0.1\";"
start 1
# daemon 2 writes the credentials of the rows for Postfix (maps_dir:
# sasl_passwd.lmdb; maps_dir also makes it write the static tables)
MAPS2=$E2E_DIR/mr2/maps
mkdir -p "$MAPS2"
chown nobody "$MAPS2"
conf 2 "rules_cache = \"$E2E_DIR/mr2/cache\";" "maps_dir = \"$MAPS2\";"
start 2
conf 3 "rules_cache = \"$E2E_DIR/mr3/cache\";"
start 3
for n in 1 2 3; do
	[ "$(smq "$n" "relay a.example")" = "OK RELAY" ] ||
	    e2e_fail "daemon $n: a.example not relayed at start"
	mtest "$n" a.example accept || e2e_fail "daemon $n: milter a.example"
	mtest "$n" b.example reject || e2e_fail "daemon $n: milter b.example"
	[ -s "$E2E_DIR/mr$n/cache" ] || e2e_fail "daemon $n: no rules_cache"
done
e2e_ok "three daemons serve the table's rules; rules_cache written"

# --- INSERT, UPDATE, DELETE -------------------------------------------------

sql -c "INSERT INTO rules (pattern) VALUES ('b.example')"
all_see "$SEE_SECS" "relay u@b.example" "OK RELAY" b.example accept ||
    e2e_fail "INSERT not seen by all three within $SEE_SECS s"
e2e_ok "INSERT seen by all three daemons (socketmap + milter) in $WAITED ms"

sql -c "UPDATE rules SET relay = 'deny' WHERE pattern = 'b.example'"
all_see "$SEE_SECS" "relay b.example" "NOTFOUND " b.example reject ||
    e2e_fail "UPDATE not seen by all three within $SEE_SECS s"
e2e_ok "UPDATE seen by all three daemons in $WAITED ms"

sql -c "DELETE FROM rules WHERE pattern = 'a.example'"
all_see "$SEE_SECS" "relay a.example" "NOTFOUND " a.example reject ||
    e2e_fail "DELETE not seen by all three within $SEE_SECS s"
e2e_ok "DELETE seen by all three daemons in $WAITED ms"

# --- a bad row ------------------------------------------------------------

sql -c "BEGIN; INSERT INTO rules (pattern) VALUES ('good.example');
    INSERT INTO rules (pattern, smarthost) VALUES ('bad.example', 'mx.example:99999'); COMMIT"
for n in 1 2 3; do
	wait_log() { grep -qF "row \"bad.example\"" "$E2E_DIR/mr$n.log"; }
	for i in $(seq 1 $((SEE_SECS * 10))); do wait_log && break; sleep 0.1; done
	wait_log || e2e_fail "daemon $n: the bad row is not named in the log"
	[ "$(smq "$n" "relay good.example")" = "NOTFOUND " ] ||
	    e2e_fail "daemon $n: a set with a bad row was applied"
	[ "$(smq "$n" "relay b.example")" = "NOTFOUND " ] &&
	    mtest "$n" b.example reject ||
	    e2e_fail "daemon $n: the previous rules are gone"
done
grep -h "row \"bad.example\"" "$E2E_DIR/mr1.log" | head -1 | sed 's/^/    /'
sql -c "DELETE FROM rules WHERE pattern = 'bad.example'"
all_see "$SEE_SECS" "relay good.example" "OK RELAY" good.example accept ||
    e2e_fail "the table fixed is not seen"
e2e_ok "a bad row is refused with its pattern, the old rules stay; fixed, it flows"

# --- a worker restarted while a row is refused, then with the file broken --

# kill_worker [N]: SIGKILL daemon N's worker (1); wait for the next to serve
kill_worker() {
	local w n log=$E2E_DIR/mr${1:-1}.log
	w=$(worker_of "$log")
	n=$(grep -c "serving unix:" "$log")
	kill -KILL "$w" || e2e_fail "no worker $w"
	for i in $(seq 1 100); do
		[ "$(grep -c "serving unix:" "$log")" -gt "$n" ] && return 0
		sleep 0.1
	done
	e2e_fail "no worker serves after worker $w was killed: $(tail -3 "$log")"
}
sql -c "INSERT INTO rules (pattern, smarthost) VALUES ('bad2.example', 'mx.example:99999')"
for i in $(seq 1 50); do
	grep -qF 'row "bad2.example"' "$E2E_DIR/mr1.log" && break
	sleep 0.1
done
kill_worker
[ "$(smq 1 "relay good.example")" = "OK RELAY" ] && mtest 1 good.example accept ||
    e2e_fail "a worker restarted with a row refused lost the last good rules"
cp "$E2E_DIR/mr1/mr.conf" "$E2E_DIR/mr1/mr.conf.good"
echo 'this is not a setting' >>"$E2E_DIR/mr1/mr.conf"
kill_worker
[ "$(smq 1 "relay good.example")" = "OK RELAY" ] && mtest 1 good.example accept ||
    e2e_fail "a worker restarted with the file broken lost the last good rules"
grep -q "exit status 78\|exited with status 78\|gives up" "$E2E_DIR/mr1.log" &&
    e2e_fail "a worker exited 78: $(grep -m1 "78\|gives up" "$E2E_DIR/mr1.log")"
mv "$E2E_DIR/mr1/mr.conf.good" "$E2E_DIR/mr1/mr.conf"
sql -c "DELETE FROM rules WHERE pattern = 'bad2.example'"
e2e_ok "a worker restarted with a row refused, then with the file broken, serves the last good rules"

# --- values that need escapes on the way (COPY's text format) -------------

# a backslash and quotes in a reply: as stored, in the answer and in the
# rules_cache line (quoted, with \\ and \")
sql -c "INSERT INTO rules (pattern, relay, reply) VALUES ('esc.example', 'deny', '550 5.7.1 back\\slash \"q\"')"
want='esc.example relay=deny reply="550 5.7.1 back\\slash \"q\""'
for n in 1 2 3; do
	for i in $(seq 1 $((SEE_SECS * 10))); do
		grep -qxF "$want" "$E2E_DIR/mr$n/cache" && break
		sleep 0.1
	done
	grep -qxF "$want" "$E2E_DIR/mr$n/cache" ||
	    e2e_fail "daemon $n: the escaped row is not in rules_cache as stored: $(grep esc.example "$E2E_DIR/mr$n/cache")"
done
out=$("$MR" export -c "$E2E_DIR/mr1/mr.conf" postfix-access 2>&1)
printf '%s\n' "$out" | grep -qxF "$(printf 'esc.example\t550 5.7.1 back\\slash "q"')" ||
    e2e_fail "export of the escaped row: $(printf '%s' "$out" | grep esc)"
sql -c "DELETE FROM rules WHERE pattern = 'esc.example'"
e2e_ok "a reply with a backslash and quotes reads back as stored (cache, export)"

# --- TLS policy and recipient lists from rows -----------------------------

# the tls map and its conflict check cover the table's rows too
sql -c "INSERT INTO rules (pattern, smarthost, tls) VALUES ('tls.example', '[192.0.2.31]', 'encrypt')"
all_see "$SEE_SECS" "tls [192.0.2.31]" "OK encrypt" tls.example accept ||
    e2e_fail "a row's tls is not in the tls map: $(smq 1 "tls [192.0.2.31]")"
sql -c "INSERT INTO rules (pattern, smarthost, tls) VALUES ('tls2.example', '[192.0.2.31]', 'may')"
for n in 1 2 3; do
	wait_log() { grep -q "tls2.example.*looks TLS policy up by next hop" "$E2E_DIR/mr$n.log"; }
	for i in $(seq 1 $((SEE_SECS * 10))); do wait_log && break; sleep 0.1; done
	wait_log || e2e_fail "daemon $n: conflicting tls rows not refused"
	[ "$(smq "$n" "relay tls2.example")" = "NOTFOUND " ] ||
	    e2e_fail "daemon $n: a set with conflicting tls was applied"
	[ "$(smq "$n" "tls [192.0.2.31]")" = "OK encrypt" ] ||
	    e2e_fail "daemon $n: the previous tls map is gone"
done
sql -c "DELETE FROM rules WHERE pattern = 'tls2.example'"
e2e_ok "rows' tls in the tls map; two rows with one next hop and two tls refused"

# recipients = "list" with a recipients_file (relative to the config file)
for n in 1 2 3; do
	printf 'known@list.example\n' >"$E2E_DIR/mr$n/users"
	chmod 644 "$E2E_DIR/mr$n/users"
done
sql -c "INSERT INTO rules (pattern, recipients, recipients_file) VALUES ('list.example', 'list', 'users')"
all_see "$SEE_SECS" "relay list.example" "OK RELAY" list.example reject ||
    e2e_fail "a recipients = list row not served"
for n in 1 2 3; do
	printf '%s\n' "connect 203.0.113.5 client.example" \
	    "mail <s@client.example>" "rcpt <known@list.example> expect continue" \
	    >"$E2E_DIR/scen.list"
	"$MT" -s "unix:$E2E_DIR/mr$n/milter.sock" -t 10 "$E2E_DIR/scen.list" \
	    >/dev/null 2>&1 || e2e_fail "daemon $n: a listed recipient refused"
done
e2e_ok "recipients = list from a row: the listed user accepted, another refused"

# auth_file from a row (a path, relative to the config file): served by
# every daemon (run with -g nogroup, the file's group); a row whose
# credentials could travel in clear is refused by all, naming it
for n in 1 2 3; do
	printf 'relayuser:Row-Secret-1\n' >"$E2E_DIR/mr$n/partner.auth"
	chown root:nogroup "$E2E_DIR/mr$n/partner.auth"
	chmod 640 "$E2E_DIR/mr$n/partner.auth"
done
sql -c "INSERT INTO rules (pattern, smarthost, tls, auth_file) VALUES ('auth.example', '[192.0.2.51]:587', 'encrypt', 'partner.auth')"
all_see 2 "relay auth.example" "OK RELAY" auth.example accept ||
    e2e_fail "an auth_file row not served: $(grep auth.example "$E2E_DIR/mr1.log" | tail -n 1)"
# sasl_q: daemon 2's sasl_passwd answer for the row's next hop, as
# Postfix's smtp asks it ("": none); written after the rules are in force
# (no file: none, without postmap, whose fatal error sleeps a second)
sasl_q() {
	[ -f "$MAPS2/sasl_passwd.lmdb" ] || return 0
	postmap -q "[192.0.2.51]:587" "lmdb:$MAPS2/sasl_passwd" 2>/dev/null
}
sasl_wait() {	# WANT: within SEE_SECS
	local end=$((SECONDS + SEE_SECS))
	while [ "$(sasl_q)" != "$1" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
SASL_LMDB=0
if postconf -m | grep -qx lmdb; then
	SASL_LMDB=1
	sasl_wait "relayuser:Row-Secret-1" ||
	    e2e_fail "daemon 2: the row's credentials not in sasl_passwd: \"$(sasl_q)\""
	[ "$(stat -c '%a %U' "$MAPS2/sasl_passwd.lmdb")" = "600 nobody" ] ||
	    e2e_fail "daemon 2: sasl_passwd.lmdb is $(stat -c '%a %U' "$MAPS2/sasl_passwd.lmdb")"
else
	mr_skip "a row's credentials in sasl_passwd not checked: Postfix has no lmdb (postfix-lmdb)"
fi
sql -c "INSERT INTO rules (pattern, smarthost, auth_file) VALUES ('clear.example', '[192.0.2.52]', 'partner.auth')"
for n in 1 2 3; do
	wait_log() { grep -q "clear.example.*auth_file needs tls" "$E2E_DIR/mr$n.log"; }
	for i in $(seq 1 50); do wait_log && break; sleep 0.1; done
	wait_log || e2e_fail "daemon $n: an auth_file row without tls not refused"
	[ "$(smq "$n" "relay clear.example")" = "NOTFOUND " ] ||
	    e2e_fail "daemon $n: a set with credentials in clear was applied"
	grep -q "Row-Secret" "$E2E_DIR/mr$n.log" && e2e_fail "daemon $n logged the password"
done
m=$(curl -s "http://127.0.0.1:$MPORT/metrics" | grep '^milter_relay_credentials_refused_total')
[ "${m##* }" -ge 1 ] 2>/dev/null ||
    e2e_fail "daemon 1: the refused row is not counted: $m"
sql -c "DELETE FROM rules WHERE pattern IN ('clear.example', 'auth.example')"
if [ "$SASL_LMDB" = 1 ]; then
	sasl_wait "" ||
	    e2e_fail "daemon 2: the deleted row's credentials still in sasl_passwd"
fi
e2e_ok "auth_file from a row: served, its credentials in daemon 2's" \
    "sasl_passwd.lmdb (gone with the row); a row without tls refused by" \
    "all three (counted: $m)"

# recipients = "verify" with a smart-host list: the callout's hops
sql -c "INSERT INTO rules (pattern, smarthost, recipients) VALUES ('verify.example', '[192.0.2.41],[192.0.2.42]:2525', 'verify')"
for i in $(seq 1 $((SEE_SECS * 10))); do
	[ "$(smq 1 "transport verify.example")" = "OK smtp:[192.0.2.41],[192.0.2.42]:2525" ] &&
	    break
	sleep 0.1
done
[ "$(smq 1 "transport verify.example")" = "OK smtp:[192.0.2.41],[192.0.2.42]:2525" ] ||
    e2e_fail "a smart-host list row: $(smq 1 "transport verify.example")"
out=$("$MR" query -c "$E2E_DIR/mr1/mr.conf" u@verify.example 2>&1)
printf '%s' "$out" | grep -q "recipients=verify hops=192.0.2.41:25,192.0.2.42:2525" ||
    e2e_fail "query of a recipients = verify row: $out"
e2e_ok "recipients = verify from a row: the callout asks each hop of its list"

# --- a burst --------------------------------------------------------------

before=$(grep -c "reload: .*OK" "$E2E_DIR/mr1.log")
t0=$SECONDS
sql -c "INSERT INTO rules (pattern) SELECT 'n' || i || '.burst.example' FROM generate_series(1, 100) i"
seq 1 10000 | awk '{ printf "UPDATE rules SET relay = '\''%s'\'' WHERE pattern = '\''n%d.burst.example'\'';\n", ($1 % 2 ? "trusted" : "always"), $1 % 100 + 1 }' |
    sql >/dev/null || e2e_fail "the burst of updates failed"
burst=$((SECONDS - t0 + 1))
sql -c "INSERT INTO rules (pattern) VALUES ('after-burst.example')"
all_see "$SEE_SECS" "relay after-burst.example" "OK RELAY" after-burst.example accept ||
    e2e_fail "the end of the burst is not seen"
sleep 0.5
after=$(grep -c "reload: .*OK" "$E2E_DIR/mr1.log")
reloads=$((after - before))
# one reload a second of burst at most (the listener's longest wait)
[ "$reloads" -le $((2 * burst + 5)) ] ||
    e2e_fail "10,000 updates in $burst s made $reloads reloads"
e2e_ok "10,000 updates (one transaction each, $burst s) made $reloads reloads"

# the metrics of daemon 1 count the reloads the table caused, as its log
if mr_have "the reload metrics NOT checked" curl; then
	curl -s "http://127.0.0.1:$MPORT/metrics" >"$E2E_DIR/metrics.out" ||
	    e2e_fail "metrics endpoint of daemon 1"
	ok=$(grep -c "reload: .*OK" "$E2E_DIR/mr1.log")
	bad=$(grep -c "reload failed" "$E2E_DIR/mr1.log")
	grep -qx "milter_relay_reloads_total{result=\"success\"} $ok" \
	    "$E2E_DIR/metrics.out" &&
	    grep -qx "milter_relay_reloads_total{result=\"failed\"} $bad" \
	    "$E2E_DIR/metrics.out" ||
	    e2e_fail "metrics reloads ($ok ok, $bad failed in the log): $(grep reloads_total "$E2E_DIR/metrics.out")"
	e2e_ok "metrics count the table's reloads as the log: $ok ok, $bad failed"
fi

# --- the database stopped -------------------------------------------------

# daemon 5, without rules_cache: its file relays corp5.example, a row
# denies lab.corp5.example (an exception the file alone does not have)
sql -c "INSERT INTO rules (pattern, relay) VALUES ('lab.corp5.example', 'deny')"
conf 5 'domains = ( { match = "corp5.example"; smarthost = "[192.0.2.25]"; } );'
# the files the rows name, relative to the configuration
cp -p "$E2E_DIR/mr1/users" "$E2E_DIR/mr1/partner.auth" "$E2E_DIR/mr5/"
start 5
[ "$(smq 5 "relay www.corp5.example")" = "OK RELAY" ] &&
    [ "$(smq 5 "relay lab.corp5.example")" = "NOTFOUND " ] &&
    mtest 5 lab.corp5.example reject ||
    e2e_fail "daemon 5: the file's namespace and the row's exception"

pg_stop
for n in 1 2 3; do
	e2e_wait_log "$E2E_DIR/mr$n.log" "database unreachable" 1 "$SEE_SECS" \
	    "daemon $n noticing the database stopped"
	[ "$(smq "$n" "relay good.example")" = "OK RELAY" ] &&
	    mtest "$n" good.example accept && mtest "$n" b.example reject ||
	    e2e_fail "daemon $n stopped answering with the database down"
done
sleep 3
for n in 1 2 3; do
	c=$(grep -c "database unreachable" "$E2E_DIR/mr$n.log")
	[ "$c" = 1 ] || e2e_fail "daemon $n: $c 'unreachable' lines, not 1"
done
e2e_ok "database stopped: all three answer with the last rules, logged once"

kill_worker 5
a=$(smq 5 "relay lab.corp5.example")
case $a in
TEMP*) ;;
*) e2e_fail "daemon 5 restarted without database nor rules_cache: lab.corp5.example '$a', not TEMP" ;;
esac
mtest 5 lab.corp5.example tempfail && mtest 5 www.corp5.example tempfail ||
    e2e_fail "daemon 5 restarted without database nor rules_cache decides recipients"
grep -q "every recipient is tempfailed (451 4.7.1) until the database answers" \
    "$E2E_DIR/mr5.log" || e2e_fail "daemon 5 does not say why it tempfails"
e2e_ok "a worker restarted without database nor rules_cache tempfails (451 4.7.1): no subset of the rules"

stop 3
start 3
grep -q "rules from rules_cache" "$E2E_DIR/mr3.log" ||
    e2e_fail "daemon 3 did not say it started from rules_cache"
[ "$(smq 3 "relay after-burst.example")" = "OK RELAY" ] &&
    mtest 3 good.example accept && mtest 3 b.example reject ||
    e2e_fail "daemon 3 restarted without the database lacks the rules"
[ "$(smq 3 "tls [192.0.2.31]")" = "OK encrypt" ] ||
    e2e_fail "rules_cache: the tls of a row is lost: $(smq 3 "tls [192.0.2.31]")"
mtest 3 list.example reject ||
    e2e_fail "rules_cache: the recipients list of a row is lost"
[ "$(smq 3 "transport verify.example")" = "OK smtp:[192.0.2.41],[192.0.2.42]:2525" ] ||
    e2e_fail "rules_cache: the smart-host list of a row is lost"
e2e_ok "a daemon restarted with the database down starts from its snapshot"

conf 4
out=$("$MR" -f -c "$E2E_DIR/mr4/mr.conf" -u nobody -g nogroup 2>&1)
rc=$?
[ "$rc" = 78 ] && printf '%s' "$out" | grep -q "no rules_cache" ||
    e2e_fail "without database nor cache: exit $rc: $out"
e2e_ok "without database nor rules_cache the daemon refuses to start (78)"

# --- the database back ----------------------------------------------------

pg_start
sql -c "INSERT INTO rules (pattern) VALUES ('back.example')"
all_see $((BACKOFF_SECS + SEE_SECS)) "relay back.example" "OK RELAY" back.example accept ||
    e2e_fail "changes do not flow after the database came back"
for n in 1 2 3; do
	grep -q "database reachable again" "$E2E_DIR/mr$n.log" ||
	    [ "$n" = 3 ] || e2e_fail "daemon $n: no 'reachable again' line"
done
e2e_ok "database back: changes flow again ($WAITED ms after the INSERT)"

for i in $(seq 1 $(((BACKOFF_SECS + SEE_SECS) * 10))); do
	[ "$(smq 5 "relay www.corp5.example")" = "OK RELAY" ] && break
	sleep 0.1
done
[ "$(smq 5 "relay www.corp5.example")" = "OK RELAY" ] &&
    [ "$(smq 5 "relay lab.corp5.example")" = "NOTFOUND " ] &&
    mtest 5 lab.corp5.example reject && mtest 5 www.corp5.example accept ||
    e2e_fail "daemon 5: the rules are not back with the database"
stop 5
e2e_ok "database back: daemon 5's worker serves the file's rules and the rows again"

# --- import --to, export --------------------------------------------------

printf 'imported.example OK\nb.example OK\n' >"$E2E_DIR/relay_domains"
"$MR" import postfix-relay-domains "$E2E_DIR/relay_domains" \
    --to "postgresql:$CONNINFO" >"$E2E_DIR/import.out" 2>&1 ||
    e2e_fail "import --to: $(cat "$E2E_DIR/import.out")"
grep -q "warning: the connection string gives a password" "$E2E_DIR/import.out" ||
    e2e_fail "import --to: no warning about the password on argv"
PGPASSWORD=$SECRET "$MR" import postfix-relay-domains "$E2E_DIR/relay_domains" \
    --to "postgresql:$PG_CONNINFO" >"$E2E_DIR/import-env.out" 2>&1 ||
    e2e_fail "import --to with PGPASSWORD: $(cat "$E2E_DIR/import-env.out")"
grep -q "warning" "$E2E_DIR/import-env.out" &&
    e2e_fail "import --to with PGPASSWORD warns: $(cat "$E2E_DIR/import-env.out")"
[ "$(sql -c "SELECT count(*) FROM rules")" = 2 ] ||
    e2e_fail "import --to did not replace the table"
all_see "$SEE_SECS" "relay imported.example" "OK RELAY" imported.example accept ||
    e2e_fail "imported rows not seen"
printf 'x.example relay=always\nx.example\n' >"$E2E_DIR/dup"
"$MR" import domains-file "$E2E_DIR/dup" --to "postgresql:$CONNINFO" \
    >"$E2E_DIR/import2.out" 2>&1 && e2e_fail "import of a bad file succeeded"
[ "$(sql -c "SELECT count(*) FROM rules")" = 2 ] ||
    e2e_fail "a refused import changed the table"
"$MR" export -c "$E2E_DIR/mr1/mr.conf" postfix-relay-domains \
    >"$E2E_DIR/export.out" 2>&1 || e2e_fail "export failed"
grep -q "^imported.example[[:space:]]RELAY" "$E2E_DIR/export.out" ||
    e2e_fail "export does not show the table: $(cat "$E2E_DIR/export.out")"
e2e_ok "import --to replaces the table (a bad input changes nothing); export reads it"

# --- no password anywhere -------------------------------------------------

for secret in "$SECRET" "$SECRET2"; do
	if grep -rlF "$secret" "$E2E_DIR"/*.log "$E2E_DIR"/*.out \
	    "$E2E_DIR"/mr*/cache 2>/dev/null; then
		e2e_fail "a secret of the connection string is in a log or an output"
	fi
done
grep -q " password=\*\*\*\*\*\*\*\*" "$E2E_DIR/mr1.log" &&
    grep -q "sslpassword=\*\*\*\*\*\*\*\*" "$E2E_DIR/mr1.log" ||
    e2e_fail "the log does not show the masked connection string"
e2e_ok "password and sslpassword are masked in every log line"

for n in 1 2 3; do
	stop "$n"
done
pg_stop
# under "make SANITIZE=1": no report from ASan, UBSan or LSan
if grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" \
    "$E2E_DIR"/*.log "$E2E_DIR"/*.out 2>/dev/null; then
	e2e_fail "a sanitizer report"
fi
e2e_ok "daemons stopped, no sanitizer report"
