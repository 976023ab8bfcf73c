#!/bin/bash
# check.sh - the milter-relay daemon through its real milter socket
#
# Run by "make check" with MR_BUILD (the build tree).  Starts
# milter-relay in the foreground (-f, log on stderr) on a unix socket in
# a temporary directory and proves, with test/harness/milter-test:
#
#   - every scenario file NN-*.scen here: each "expect" holds, each
#     "# log: TEXT" occurs in a decision line of that run's log, no
#     "# nolog: TEXT" does, one decision line per RCPT, and every decision
#     line has the documented fields.  "# conf: FILE" picks a file of
#     conf/ (default main.conf); one daemon per configuration;
#   - -t on good and bad files, "query" output and exit codes;
#   - reload: SIGHUP and "milter-relay reload" make the next session see
#     the new rules, a broken file keeps the old ones and the log says
#     why, and a hundred SIGHUPs while load-mode sessions keep sending
#     leave every RCPT answered as expected;
#   - SIGUSR1 logs counters; a worker killed with SIGKILL is restarted;
#     SIGTERM removes the socket and the pid file; a stale socket is
#     replaced, a live one is not; privileges are dropped (as root);
#   - the miltertest (OpenDKIM's Lua harness) cross-check scripts of
#     test/harness/miltertest/ pass against milter-relay.
#
# Valgrind (opt-in, slow): MR_VALGRIND=1 bash test/scenarios/check.sh
# runs the daemon under valgrind memcheck (it follows the worker's
# fork) and fails on any memory error or definite leak.
#
# Every process started here is stopped by pid, also on failure.
set -u

B=${MR_BUILD:-.}
MR=$B/milter/milter-relay
MT=$B/test/harness/milter-test
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
. "$HERE/../lib/skip.sh"
. "$HERE/../lib/port.sh"
CONF=$HERE/conf
T=$(mktemp -d "${TMPDIR:-/tmp}/mr-scen.XXXXXX") || exit 1
chmod 755 "$T"

VG=()
TMO=15			# seconds milter-test waits for one reply
WAIT=60			# seconds to wait for the daemon to start or stop
if [ -n "${MR_VALGRIND:-}" ]; then
	VG=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite
	    --show-leak-kinds=definite --track-origins=yes
	    "--log-file=$T/valgrind.%p.log")
	TMO=60
	WAIT=180
fi

PIDS=()			# every process started here, stopped at exit
FAILS=0
CHECKS=0

cleanup() {
	stop_pids 10 "${PIDS[@]}"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "check.sh: interrupted"; exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

ok() {
	CHECKS=$((CHECKS + 1))
}

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
is_socket() { [ -S "$1" ]; }
count_in() { grep -cF -- "$2" "$1"; }

# start_daemon NAME CONF [OPTIONS...]: sets DPID (supervisor) and WPID.
start_daemon() {
	local name=$1 conf=$2
	shift 2
	# a log of an earlier run of NAME must not satisfy the waits below
	[ -e "$T/$name.log" ] && mv "$T/$name.log" "$T/$name.log.$RANDOM"
	if ! daemon_start "$WAIT" "$T/$name.log" "$T/$name.sock" \
	    "${VG[@]}" "$MR" -f -c "$conf" -p "unix:$T/$name.sock" \
	    -P "$T/$name.pid" "$@"; then
		fail "$name: the daemon did not start"
		sed 's/^/    /' "$T/$name.log"
		return 1
	fi
	return 0
}

# stop_daemon NAME: SIGTERM, exit 0, socket and pid file removed.
stop_daemon() {
	local name=$1 st
	kill -TERM "$DPID"
	if ! wait_for "$WAIT" dead "$DPID"; then
		fail "$name: the daemon ignores SIGTERM"
		return 1
	fi
	wait "$DPID"
	st=$?
	[ "$st" -eq 0 ] && ok || fail "$name: exit status $st after SIGTERM"
	dead "$WPID" && ok || fail "$name: worker $WPID survived SIGTERM"
	[ ! -e "$T/$name.sock" ] && ok || fail "$name: socket left behind"
	[ ! -e "$T/$name.pid" ] && ok || fail "$name: pid file left behind"
	log_has "$T/$name.log" "worker $WPID exited with status 0" && ok ||
	    fail "$name: the worker did not exit cleanly"
	check_sanitizers "$T/$name.log"
}

# check_sanitizers LOG: no report of ASan, LSan or UBSan in a daemon log
check_sanitizers() {
	if grep -qE 'Sanitizer|runtime error:' "$1"; then
		fail "$(basename "$1"): sanitizer report:"
		grep -E -A20 'Sanitizer|runtime error:' "$1" | head -40 |
		    sed 's/^/    /'
	else
		ok
	fi
}

# run_scen FILE NAME: one scenario against daemon NAME.
run_scen() {
	local file=$1 name=$2 log=$T/$2.log off out rc line pat sect
	local nrcpt nlog
	off=$(stat -c %s "$log")
	out=$("$MT" -s "unix:$T/$name.sock" -t "$TMO" "$file" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$(basename "$file"): milter-test exit $rc"
		printf '%s\n' "$out" | sed 's/^/    /'
	else
		ok
	fi
	sect=$T/section.log
	tail -c +$((off + 1)) "$log" >"$sect"
	while IFS= read -r line; do
		case $line in
		"# log: "*)
			pat=${line#"# log: "}
			grep -F -- "$pat" "$sect" | grep -q ' outcome=\|route mismatch' &&
			    ok || fail "$(basename "$file"): no log line with: $pat"
			;;
		"# nolog: "*)
			pat=${line#"# nolog: "}
			grep -qF -- "$pat" "$sect" &&
			    fail "$(basename "$file"): unexpected log line: $pat" ||
			    ok
			;;
		esac
	done <"$file"
	nrcpt=$(grep -c '^rcpt ' "$file")
	nlog=$(grep -c ' outcome=' "$sect")
	[ "$nrcpt" -eq "$nlog" ] && ok ||
	    fail "$(basename "$file"): $nrcpt RCPTs but $nlog decision lines"
}

# Every decision line has the documented fields, in order.
check_log_format() {
	local log=$1 bad
	bad=$(grep ' outcome=' "$log" | grep -Ev \
	    '^milter-relay\[[0-9]+\]: session=[0-9a-f]{8} qid=[^ ]+ client=[^ ]+ rcpt=[^ ]* rule=[^ ]+ outcome=(accept|reject|tempfail|continue)( enforced=(reject|tempfail))? trusted=(yes|no) reason="[^"]*"( reply="[45][0-9][0-9] [45]\.[0-9]{1,3}\.[0-9]{1,3} [^"]*")?$')
	if [ -n "$bad" ]; then
		fail "$(basename "$log"): malformed decision lines:"
		printf '%s\n' "$bad" | head -5 | sed 's/^/    /'
	else
		ok
	fi
}

for f in "$MR" "$MT"; do
	if [ ! -x "$f" ]; then
		echo "check.sh: $f not built"
		exit 1
	fi
done

echo "-- scenarios (${SECONDS}s)"
confs=$(for f in "$HERE"/[0-9]*.scen; do
	c=$(sed -n 's/^# conf: *//p' "$f" | head -1)
	echo "${c:-main.conf}"
done | sort -u)
nscen=0
for c in $confs; do
	name=d-${c%.conf}
	start_daemon "$name" "$CONF/$c" || continue
	for f in "$HERE"/[0-9]*.scen; do
		fc=$(sed -n 's/^# conf: *//p' "$f" | head -1)
		[ "${fc:-main.conf}" = "$c" ] || continue
		run_scen "$f" "$name"
		nscen=$((nscen + 1))
	done
	stop_daemon "$name"
	check_log_format "$T/$name.log"
done
[ "$nscen" -ge 25 ] && ok || fail "only $nscen scenario files"
echo "   $nscen scenario files"

echo "-- no line forged through MTA macros (${SECONDS}s)"
# 33-route-check-quoting.scen sends {rcpt_host} with CR LF "451 4.7.1 ..."
if grep -n 'forged' "$T"/d-main.log* | grep -v 'route mismatch'; then
	fail "an MTA macro started a log line of its own (above)"
else
	ok
fi

echo "-- config test (-t) (${SECONDS}s)"
# (standard error has what -t says of this machine's Postfix: test/mtacheck)
out=$("$MR" -t -c "$CONF/main.conf" 2>/dev/null)
[ $? -eq 0 ] && [ "$out" = "$CONF/main.conf: OK, 8 rules" ] && ok ||
    fail "-t good config: $out"
printf 'policy = { unmatched = "reject"; };\ndomains = (\n  { match = "a.example"; },\n  { match = "a.example"; }\n);\n' >"$T/dup.conf"
printf 'policy = { unmatched = "reject"; };\nbogus_setting = 1;\n' >"$T/unknown.conf"
printf 'policy = { unmatched = "reject" }\ndomains = ( { match = "a.example"; } ;\n' >"$T/syntax.conf"
printf 'domains = ( { match = "lab.example"; relay = "deny"; reply = "250 2.0.0 ok"; } );\n' >"$T/reply.conf"
for c in dup unknown syntax reply; do
	out=$("$MR" -t -c "$T/$c.conf" 2>&1)
	st=$?
	[ "$st" -eq 1 ] && ok || fail "-t $c.conf: exit $st, want 1"
	printf '%s' "$out" | grep -q "$T/$c.conf:[0-9]" && ok ||
	    fail "-t $c.conf: error does not name FILE:LINE: $out"
done
out=$("$MR" -t -c "$T/missing.conf" 2>&1)
[ $? -eq 1 ] && ok || fail "-t on a missing file: $out"

echo "-- query (${SECONDS}s)"
q() { "$MR" query -c "$CONF/main.conf" "$@"; }
out=$(q '<u@example.com>' '<u@x.example.org>' '<u@lab.example.com>' \
    '<postmaster>' 'u%v@example.com')
want='<u@example.com>: accept rule=example.com route=smtp:[10.1.2.3] trusted=no reason="relay rule"
<u@x.example.org>: reject reply="554 5.7.1 <u@x.example.org>: Relay access denied" rule=- trusted=no reason="no rule"
<u@lab.example.com>: reject reply="550 5.7.1 No mail for the lab" rule=lab.example.com trusted=no reason="deny rule"
<postmaster>: continue rule=- trusted=no reason="postmaster"'
[ "$(printf '%s\n' "$out" | head -4)" = "$want" ] && ok ||
    fail "query output:"$'\n'"$out"
printf '%s\n' "$out" | tail -1 | grep -q '^u%v@example.com: reject reply="554 5.7.1 .*reason="sender-specified routing"$' &&
    ok || fail "query: percent hack: $out"
out=$(q -a 192.0.2.9 '<u@partner.example>' '<u@nowhere.test>')
[ "$out" = '<u@partner.example>: accept rule=partner.example route=smtp:[2001:db8::25] trusted=yes reason="trusted-only rule, trusted client"
<u@nowhere.test>: continue rule=- trusted=yes reason="no rule, trusted client"' ] &&
    ok || fail "query -a: $out"
out=$(q --auth '<u@partner.example>')
printf '%s' "$out" | grep -q ': accept rule=partner.example .*trusted=yes' &&
    ok || fail "query --auth: $out"
out=$(q -a 2001:db8:2::1 '<u@partner.example>')
printf '%s' "$out" | grep -q ': reject reply="554 5.7.1 .* trusted=no' &&
    ok || fail "query -a IPv6 untrusted: $out"
out=$(q -a 198.51.100.7 --mailer lmtp '<u@nowhere.test>' '<u@lab.example.com>')
[ "$out" = '<u@nowhere.test>: continue rule=- trusted=no reason="MTA final delivery"
<u@lab.example.com>: reject reply="550 5.7.1 No mail for the lab" rule=lab.example.com trusted=no reason="deny rule"' ] &&
    ok || fail "query --mailer: $out"
out=$(q -a 198.51.100.7 --mailer smtp '<u@nowhere.test>')
printf '%s' "$out" | grep -q ': reject reply="554 5.7.1 .*reason="no rule"' &&
    ok || fail "query --mailer smtp: $out"
out=$("$MR" query -c "$CONF/logonly.conf" '<u@nowhere.test>')
printf '%s' "$out" | grep -q '^<u@nowhere.test>: accept enforced=reject reply="554 5.7.1 ' &&
    ok || fail "query log-only: $out"
q >/dev/null 2>&1
[ $? -eq 64 ] && ok || fail "query without address: not EX_USAGE"
q -a not-an-ip '<u@example.com>' >/dev/null 2>&1
[ $? -eq 64 ] && ok || fail "query -a garbage: not EX_USAGE"
"$MR" query -c "$T/dup.conf" '<u@example.com>' >/dev/null 2>&1
[ $? -eq 78 ] && ok || fail "query with a bad config: not EX_CONFIG"

echo "-- reload (${SECONDS}s)"
R=$T/reload.conf
# a large domains_file makes each reload take a while: more overlap
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "bulk%d.example\n", i }' \
    >"$T/bulk.list"
write_conf() {
	{
		printf 'policy = { unmatched = "reject"; trusted_networks = [ "127.0.0.1/32" ]; };\n'
		printf 'domains_file = "%s";\n' "$T/bulk.list"
		printf 'pidfile = "%s";\n' "$T/rl.pid"
		printf 'domains = (\n  { match = "example.com"; }'
		for d in "$@"; do printf ',\n  { match = "%s"; }' "$d"; done
		printf '\n);\n'
	} >"$R.tmp" && mv "$R.tmp" "$R"
}
scen() {	# scen NAME ADDR KIND...: one RCPT from an untrusted client
	local f=$T/$1.scen
	shift
	local addr=$1
	shift
	printf 'connect 203.0.113.9 x.example\nmail <a@x.example>\nrcpt %s expect %s\n' \
	    "$addr" "$*" >"$f"
	"$MT" -s "unix:$T/rl.sock" -t "$TMO" "$f" >/dev/null 2>"$f.err"
}
reloads_ok() { count_in "$T/rl.log" "reload: $R: OK"; }
reloads_gt() { [ "$(reloads_ok)" -gt "$1" ]; }
failures_gt() { [ "$(count_in "$T/rl.log" "reload failed: $R:")" -gt "$1" ]; }
worker_changed() {	# worker_changed LOG OLD
	local w
	w=$(worker_of "$1")
	[ -n "$w" ] && [ "$w" != "$2" ]
}
write_conf
start_daemon rl "$R" || exit 1
scen a '<u@new.example>' reject 554 5.7.1 && ok ||
    fail "reload: new.example relayed before it was added"
n=$(reloads_ok)
write_conf new.example
kill -HUP "$DPID"
wait_for "$WAIT" reloads_gt "$n" && ok ||
    fail "reload: SIGHUP did not reload"
log_has "$T/rl.log" "reload: $R: OK, 20002 rules" && ok ||
    fail "reload: rule count not logged"
scen b '<u@new.example>' continue && ok ||
    fail "reload: the next session does not see the new rule"
alive "$WPID" && ok || fail "reload: the worker restarted on SIGHUP"
# a broken file: logged with its reason, the old rules stay
printf 'policy = { unmatched = "reject" ;\n' >"$R"
kill -HUP "$DPID"
wait_for "$WAIT" log_has "$T/rl.log" "reload failed: $R:" && ok ||
    fail "reload: a broken file was not reported"
log_has "$T/rl.log" "keeping the previous configuration (20002 rules)" &&
    ok || fail "reload: the log does not say the old rules stay"
scen c '<u@new.example>' continue && ok ||
    fail "reload: a broken file lost the previous rules"
scen d '<u@nowhere.test>' reject 554 5.7.1 && ok ||
    fail "reload: a broken file opened the relay"
# milter-relay reload: reads the pid file, signals the supervisor
write_conf new.example newer.example
n=$(reloads_ok)
out=$("$MR" reload -P "$T/rl.pid" 2>&1)
[ $? -eq 0 ] && ok || fail "milter-relay reload: $out"
wait_for "$WAIT" reloads_gt "$n" && ok ||
    fail "milter-relay reload did not reload"
scen e '<u@newer.example>' continue && ok ||
    fail "milter-relay reload: the new rule is not used"
# without -P: the pid file named by the configuration
write_conf new.example newer.example newest.example
n=$(reloads_ok)
out=$("$MR" reload -c "$R" 2>&1)
[ $? -eq 0 ] && ok || fail "milter-relay reload -c: $out"
wait_for "$WAIT" reloads_gt "$n" && ok ||
    fail "milter-relay reload -c did not reload"
scen e2 '<u@newest.example>' continue && ok ||
    fail "milter-relay reload -c: the new rule is not used"
# a file with an error (libconfig still reads it): the command names it,
# exits EX_CONFIG and still tells the daemon, which logs the failure (and
# counts it: test/metrics)
nf=$(count_in "$T/rl.log" "reload failed: $R:")
write_conf new.example 'bad..example'
out=$("$MR" reload -c "$R" 2>&1)
[ $? -eq 78 ] && printf '%s' "$out" | grep -q "$R" && ok ||
    fail "milter-relay reload -c, broken file: $out"
wait_for "$WAIT" failures_gt "$nf" &&
    ok || fail "milter-relay reload, broken file: the daemon logged nothing"
scen e3 '<u@newest.example>' continue && ok ||
    fail "milter-relay reload, broken file: the previous rules are gone"
write_conf new.example newer.example newest.example
out=$("$MR" reload -P "$T/nothing.pid" 2>&1)
[ $? -eq 66 ] && printf '%s' "$out" | grep -q 'nothing.pid' && ok ||
    fail "reload with a missing pid file: $out"
echo garbage >"$T/garbage.pid"
"$MR" reload -P "$T/garbage.pid" >/dev/null 2>&1
[ $? -eq 65 ] && ok || fail "reload with a garbage pid file: not EX_DATAERR"
sleep 300 &
SLEEP=$!
PIDS+=("$SLEEP")
echo "$SLEEP" >"$T/other.pid"
out=$("$MR" reload -P "$T/other.pid" 2>&1)
[ $? -eq 69 ] && alive "$SLEEP" && ok ||
    fail "reload signalled a process that is not milter-relay: $out"
kill "$SLEEP"
# a process whose command line says milter-relay but that did not write
# the pid file (a stale file, a recycled pid): not signalled either
bash -c 'exec -a milter-relay-impostor sleep 300' &
SLEEP=$!
PIDS+=("$SLEEP")
echo "$SLEEP" >"$T/other.pid"
out=$("$MR" reload -P "$T/other.pid" 2>&1)
[ $? -eq 69 ] && alive "$SLEEP" && ok ||
    fail "reload signalled a process that did not write the pid file: $out"
kill "$SLEEP"
# the daemon's own worker is a milter-relay too, but not the pid file's
echo "$WPID" >"$T/other.pid"
out=$("$MR" reload -P "$T/other.pid" 2>&1)
[ $? -eq 69 ] && alive "$WPID" && ok ||
    fail "reload signalled the worker named in a pid file: $out"
# SIGUSR1: counters
kill -USR1 "$DPID"
wait_for "$WAIT" log_has "$T/rl.log" " final_delivery=" && ok ||
    fail "SIGUSR1: no counters in the log"

echo "-- a hundred SIGHUPs under load (${SECONDS}s)"
rm -f "$T/stop-load"
(
	i=0
	while [ ! -e "$T/stop-load" ]; do
		"$MT" -s "unix:$T/rl.sock" -t "$TMO" --load -c 4 -n 2000 \
		    --expect continue >"$T/load.$i.out" 2>&1 ||
		    echo "load run $i failed" >>"$T/load.failed"
		i=$((i + 1))
	done
	echo "$i" >"$T/load.runs"
) &
LOADER=$!
PIDS+=("$LOADER")
n=$(reloads_ok)
wait_for "$WAIT" test -e "$T/load.0.out" || fail "load: did not start"
for i in $(seq 100); do
	if [ $((i % 2)) -eq 0 ]; then
		write_conf new.example
	else
		write_conf new.example other.example
	fi
	h=$(count_in "$T/rl.log" "SIGHUP: reloading")
	kill -HUP "$DPID"
	# wait until the supervisor took it: pending signals would merge
	for j in $(seq $((WAIT * 100))); do
		[ "$(count_in "$T/rl.log" "SIGHUP: reloading")" -gt "$h" ] && break
		sleep 0.01
	done
done
wait_for "$WAIT" reloads_gt "$n"
sleep 1
touch "$T/stop-load"
wait_for $((WAIT * 3)) dead "$LOADER" || fail "load: the loader does not stop"
wait "$LOADER" 2>/dev/null
runs=$(cat "$T/load.runs" 2>/dev/null || echo 0)
if [ -e "$T/load.failed" ]; then
	fail "load during reloads: $(cat "$T/load.failed" | head -3)"
	cat "$T"/load.*.out | grep -v '^$' | head -20 | sed 's/^/    /'
else
	ok
fi
[ "$runs" -ge 1 ] && ok || fail "load: no complete run"
hups=$(count_in "$T/rl.log" "SIGHUP: reloading")
[ "$hups" -ge 104 ] && ok || fail "load: only $hups SIGHUPs seen"
alive "$WPID" && [ "$(worker_of "$T/rl.log")" = "$WPID" ] && ok ||
    fail "load: the worker restarted during the reloads"
echo "   $runs load runs of 2000 RCPTs, $(( $(reloads_ok) - n )) reloads"
scen f '<u@new.example>' continue && ok || fail "after the reloads"
scen g '<u@nowhere.test>' reject 554 5.7.1 && ok || fail "after the reloads"

echo "-- worker killed with SIGKILL (${SECONDS}s)"
old=$WPID
kill -KILL "$old"
wait_for "$WAIT" worker_changed "$T/rl.log" "$old" && ok ||
    fail "SIGKILL: the supervisor did not restart the worker"
WPID=$(worker_of "$T/rl.log")
PIDS+=("$WPID")
log_has "$T/rl.log" "worker $old was killed by signal 9" && ok ||
    fail "SIGKILL: the death is not logged"
wait_for "$WAIT" log_has "$T/rl.log" "worker $WPID serving" &&
    scen h '<u@new.example>' continue && ok ||
    fail "SIGKILL: the new worker does not answer"
scen i '<u@nowhere.test>' reject 554 5.7.1 && ok ||
    fail "SIGKILL: the new worker opened the relay"

echo "-- worker killed while the file on disk is broken (${SECONDS}s)"
# new.example came with a reload, not at start: the restarted worker must
# serve the last rules that loaded, not re-read the broken file (which
# made it exit 78 and the supervisor back off: an outage).
cp "$R" "$R.good"
printf 'policy = {\n' >"$R.tmp" && mv "$R.tmp" "$R"
n=$(count_in "$T/rl.log" "reload failed")
kill -HUP "$DPID"
wait_for "$WAIT" eval '[ "$(count_in "$T/rl.log" "reload failed")" -gt "$n" ]' &&
    ok || fail "broken file: the reload did not fail"
old=$WPID
kill -KILL "$old"
wait_for "$WAIT" worker_changed "$T/rl.log" "$old" && ok ||
    fail "broken file: the supervisor did not restart the worker"
WPID=$(worker_of "$T/rl.log")
PIDS+=("$WPID")
wait_for "$WAIT" log_has "$T/rl.log" "worker $WPID serving" &&
    scen j '<u@new.example>' continue && ok ||
    fail "broken file: the restarted worker does not serve the last rules that loaded"
scen k '<u@nowhere.test>' reject 554 5.7.1 && ok ||
    fail "broken file: the restarted worker opened the relay"
wait_for "$WAIT" log_has "$T/rl.log" "the file on disk does not load: $R:" &&
    ok || fail "broken file: the restarted worker does not say the file is bad"
log_has "$T/rl.log" "worker $WPID exited" &&
    fail "broken file: the restarted worker exited" || ok
mv "$R.good" "$R"
stop_daemon rl

echo "-- milter_timeout closes a silent MTA-side peer (${SECONDS}s)"
# A peer that stops in the middle of a packet; libmilter's default would
# wait 7210 s for the rest.  (Debian's libmilter polls idle sessions in one
# thread and closes them only every 600 s, so an idle peer cannot be tested
# here.)  The 30 s wait is a bound of the test, not a measurement.
{ cat "$CONF/main.conf"; echo 'milter_timeout = 2;'; } >"$T/timeout.conf"
if start_daemon d-timeout "$T/timeout.conf"; then
	out=$(perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!";
		# half a packet: length 13, command O, then nothing
		syswrite($s, pack("N", 13) . "O");
		local $SIG{ALRM} = sub { print "still open\n"; exit 0 };
		alarm 30;
		my $n = sysread($s, my $buf, 1);
		print defined $n && $n == 0 ? "closed\n" : "read $n\n";
	    ' "$T/d-timeout.sock" 2>&1)
	[ "$out" = closed ] && ok ||
	    fail "milter_timeout = 2: a silent client is not dropped: $out"
	# the daemon still serves after dropping it
	"$MT" -s "unix:$T/d-timeout.sock" -t "$TMO" \
	    "$HERE/02-exact.scen" >/dev/null 2>&1 && ok ||
	    fail "milter_timeout: no service after a timeout"
	stop_daemon d-timeout
fi

echo "-- stale and live sockets (${SECONDS}s)"
start_daemon st "$CONF/main.conf" || exit 1
sup=$DPID
wk=$WPID
# a second instance on the same socket must refuse to start
"$MR" -f -c "$CONF/main.conf" -p "unix:$T/st.sock" -P "$T/st2.pid" \
    2>"$T/st2.log" &
second=$!
PIDS+=("$second")
wait_for "$WAIT" dead "$second"
wait "$second"
st=$?
[ "$st" -ne 0 ] && log_has "$T/st2.log" "another process listens" && ok ||
    fail "a second instance started on a live socket (exit $st)"
is_socket "$T/st.sock" && ok || fail "the second instance removed the socket"
# kill everything: the socket file stays behind, stale
disown "$sup" 2>/dev/null	# no "Killed" job report
kill -KILL "$sup" "$wk"
wait_for "$WAIT" dead "$sup"
wait_for "$WAIT" dead "$wk"
is_socket "$T/st.sock" && ok || fail "no stale socket to test with"
rm -f "$T/st.pid"
# a free loopback port for the socketmap (-m)
SMPORT=$(mr_free_port) || SMPORT=0
start_daemon st "$CONF/main.conf" -m "inet:$SMPORT@127.0.0.1" && ok ||
    fail "a stale socket blocks start"
# the socketmap (-m) answers from the same rules: netstrings over TCP
if exec 3<>"/dev/tcp/127.0.0.1/$SMPORT"; then
	printf '17:relay example.com,21:relay nowhere.example,' >&3
	IFS= read -r -t "$TMO" -d , a1 <&3
	IFS= read -r -t "$TMO" -d , a2 <&3
	exec 3>&-
	[ "$a1" = "8:OK RELAY" ] && [ "$a2" = "9:NOTFOUND " ] && ok ||
	    fail "socketmap (-m): answers [$a1] [$a2]"
else
	fail "socketmap (-m): no listener on 127.0.0.1:$SMPORT"
fi
scen_st() {
	printf 'connect 203.0.113.9 x.example\nmail <a@x.example>\nrcpt <u@example.com> expect continue\n' >"$T/st.scen"
	"$MT" -s "unix:$T/st.sock" -t "$TMO" "$T/st.scen" >/dev/null 2>&1
}
scen_st && ok || fail "after replacing a stale socket"
stop_daemon st
: >"$T/notasocket"
"$MR" -f -c "$CONF/main.conf" -p "unix:$T/notasocket" 2>"$T/nas.log" &
p=$!
PIDS+=("$p")
wait_for "$WAIT" dead "$p"
wait "$p"
[ $? -ne 0 ] && [ -f "$T/notasocket" ] && ok ||
    fail "a regular file at the socket path was replaced"

# inet on 127.0.0.1, and inet6 on ::1 where the loopback has IPv6 (some
# containers do not: a skip)
inet_socket() {
	local ISPEC=$1
	echo "-- ${ISPEC%%:*} socket (${SECONDS}s)"
	"${VG[@]}" "$MR" -f -c "$CONF/main.conf" -p "$ISPEC" 2>"$T/in6.log" &
	DPID=$!
	PIDS+=("$DPID")
	if wait_for "$WAIT" log_has "$T/in6.log" "serving $ISPEC"; then
		WPID=$(worker_of "$T/in6.log")
		PIDS+=("$WPID")
		"$MT" -s "$ISPEC" -t "$TMO" "$HERE/01-namespace.scen" \
		    >/dev/null 2>&1 && ok || fail "$ISPEC: no answer"
		kill -TERM "$DPID"
		wait_for "$WAIT" dead "$DPID"
		wait "$DPID"
		[ $? -eq 0 ] && ok || fail "$ISPEC: unclean exit"
	else
		fail "$ISPEC: the daemon did not start"
		sed 's/^/    /' "$T/in6.log"
	fi
}
inet_socket "inet:$(mr_free_port)@127.0.0.1"
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	inet_socket "inet6:$(mr_free_port ::1)@[::1]"
else
	mr_skip "no ::1 on the loopback: the inet6 milter socket NOT checked"
fi

# (the daemon of this part runs without valgrind, also under MR_VALGRIND)
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	mr_skip "not root or no user nobody: the privilege drop NOT checked"
else
	echo "-- privilege drop (${SECONDS}s)"
	grp=$(id -gn nobody)
	mkdir -p "$T/run"
	chown nobody "$T/run"
	sed 's/^policy = {/socket_mode = "0660";\npolicy = {/' \
	    "$CONF/main.conf" >"$T/priv.conf"
	echo "socketmap = \"unix:$T/run/sm.sock\";" >>"$T/priv.conf"
	chmod 644 "$T/priv.conf"
fi
# nobody must reach the temporary directory (TMPDIR may be private)
if [ "$(id -u)" -eq 0 ] && [ -f "$T/priv.conf" ] &&
    ! setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    test -r "$T/priv.conf" 2>/dev/null; then
	mr_skip "nobody cannot read $T: the privilege drop NOT checked"
	rm -f "$T/priv.conf"
fi
if [ -f "$T/priv.conf" ]; then
	"$MR" -f -c "$T/priv.conf" -u nobody -p "unix:$T/run/pv.sock" \
	    -P "$T/run/pv.pid" 2>"$T/pv.log" &
	DPID=$!
	PIDS+=("$DPID")
	if wait_for "$WAIT" log_has "$T/pv.log" "serving unix:"; then
		WPID=$(worker_of "$T/pv.log")
		PIDS+=("$WPID")
		uid=$(id -u nobody)
		for p in "$DPID" "$WPID"; do
			awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$p/status" |
			    grep -qx "$uid $uid $uid $uid" && ok ||
			    fail "privilege drop: process $p still has uid $(awk '/^Uid:/' "/proc/$p/status")"
		done
		[ "$(stat -c '%U %G %a' "$T/run/pv.sock")" = "nobody $grp 660" ] &&
		    ok || fail "socket owner/mode: $(stat -c '%U %G %a' "$T/run/pv.sock")"
		# the socketmap's unix socket: its mode from the umask at bind
		[ "$(stat -c '%U %G %a' "$T/run/sm.sock")" = "nobody $grp 660" ] &&
		    ok || fail "socketmap socket owner/mode: $(stat -c '%U %G %a' "$T/run/sm.sock")"
		printf 'connect 203.0.113.9 x.example\nmail <a@x.example>\nrcpt <u@example.com> expect continue\n' >"$T/pv.scen"
		"$MT" -s "unix:$T/run/pv.sock" -t "$TMO" "$T/pv.scen" >/dev/null 2>&1 &&
		    ok || fail "privilege drop: no answer"
		kill -HUP "$DPID"
		wait_for "$WAIT" log_has "$T/pv.log" "reload: $T/priv.conf: OK" &&
		    ok || fail "privilege drop: reload as nobody failed"
		kill -TERM "$DPID"
		wait_for "$WAIT" dead "$DPID"
		wait "$DPID"
		[ $? -eq 0 ] && [ ! -e "$T/run/pv.sock" ] && [ ! -e "$T/run/pv.pid" ] &&
		    [ ! -e "$T/run/sm.sock" ] &&
		    ok || fail "privilege drop: unclean exit"
	else
		fail "privilege drop: the daemon did not start"
		sed 's/^/    /' "$T/pv.log"
	fi
fi

# miltertest_case NAME ENV...: rcpt.lua with MILTERTEST_* settings
miltertest_case() {
	local name=$1 out st
	shift
	out=$(env MILTERTEST_SOCKET="unix:$T/mlt.sock" "$@" \
	    timeout $((WAIT * 2)) miltertest -s "$MTL/rcpt.lua" 2>&1)
	st=$?
	if [ "$st" -eq 0 ]; then
		ok
	else
		fail "miltertest $name: exit $st"
		printf '%s\n' "$out" | tail -5 | sed 's/^/    /'
	fi
}
MTL=$HERE/../harness/miltertest
if mr_have "the miltertest cross-check NOT run" miltertest; then
	[ -f "$MTL/rcpt.lua" ] || fail "no $MTL/rcpt.lua"
	echo "-- miltertest cross-check (${SECONDS}s)"
	start_daemon mlt "$CONF/main.conf" || exit 1
	miltertest_case untrusted MILTERTEST_CLIENT=203.0.113.5 \
	    MILTERTEST_RCPTS="<u@example.com>=continue <u@a.sub.example.net>=continue <u@nowhere.test>=replycode <u@lab.example.com>=replycode <u%v@example.com>=replycode <u@partner.example>=replycode"
	miltertest_case trusted-network MILTERTEST_CLIENT=127.0.0.1 \
	    MILTERTEST_RCPTS="<u@partner.example>=continue <u@nowhere.test>=continue <u@lab.example.com>=replycode"
	miltertest_case authenticated MILTERTEST_CLIENT=203.0.113.5 \
	    MILTERTEST_AUTH=alice \
	    MILTERTEST_RCPTS="<u@partner.example>=continue <u@nowhere.test>=continue"
	miltertest_case unqualified MILTERTEST_CLIENT=198.51.100.7 \
	    MILTERTEST_RCPTS="<postmaster>=continue <bob>=replycode <u@[192.0.2.1]>=replycode" \
	    MILTERTEST_EOM=none
	stop_daemon mlt
	# the decisions miltertest saw are the ones the log explains
	for pat in 'client=203.0.113.5 rcpt=<u@nowhere.test> rule=- outcome=reject' \
	    'client=127.0.0.1 rcpt=<u@partner.example> rule=partner.example outcome=accept trusted=yes' \
	    'client=198.51.100.7 rcpt=<postmaster> rule=- outcome=continue'; do
		log_has "$T/mlt.log" "$pat" && ok || fail "miltertest: no log line: $pat"
	done
fi

if [ -n "${MR_VALGRIND:-}" ]; then
	echo "-- valgrind (${SECONDS}s)"
	nv=$(ls "$T"/valgrind.*.log 2>/dev/null | wc -l)
	[ "$nv" -ge 2 ] && ok || fail "valgrind: only $nv logs"
	if grep -l . "$T"/valgrind.*.log >/dev/null 2>&1; then
		fail "valgrind reported errors:"
		grep -h . "$T"/valgrind.*.log | head -60 | sed 's/^/    /'
	else
		ok
	fi
fi

echo "== scenarios: $CHECKS checks passed, $FAILS failed"
if [ "$FAILS" -ne 0 ]; then
	# each daemon's last lines, for a diagnosis from the CI log alone
	for f in "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "--- last lines of $(basename "$f")"
		tail -n 15 "$f"
	done
fi
[ "$FAILS" -eq 0 ]
