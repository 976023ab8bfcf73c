#!/bin/bash
# test/faults/check.sh - milter-relay under faults and load (part of make check)
#
# Daemon faults, each through the real daemon and the milter-test harness:
#	storm	SIGHUP every 10 ms while the harness keeps sending: every
#		decision right, the worker never restarts, the rule set in
#		force afterwards is the last one written, no memory growth
#		(RSS; LeakSanitizer at exit under SANITIZE=1)
#	badcfg	a config that becomes invalid, unreadable, missing, a
#		directory, or whose domains_file vanishes, on reload: the
#		old rules stay and the log says why; a good file then loads
#	conns	1000 milter connections open at once (ulimit -n raised) while
#		decisions keep flowing on all of them and on a new session
#	slow	silent and byte-at-a-time clients of the milter socket do
#		not block other clients
#	trickle	600 socketmap clients sending one octet every 2 s: a fresh
#		postmap -q is answered, an active client keeps its
#		connection, the slow ones are closed
#	idle	(opt-in, FAULTS_ONLY=idle, ~1 min) a silent socketmap client
#		is closed after the server's idle timeout while others are
#		answered
# With a Postfix (test/e2e/lib.sh):
#	kill	milter SIGKILLed (supervisor and worker) in the middle of
#		sessions under load: Postfix answers 4xx while it is gone,
#		every message Postfix accepted is delivered once after the
#		restart (counted in the sinks)
#	smap	socketmap gone: Postfix defers (4xx), nothing bounces, and
#		the deferred mail is delivered once it is back
#
# MR_BUILD names the build tree (. or build-san).  FAULTS_ONLY="storm
# conns" runs a subset; under MR_SANITIZE the default is the daemon faults
# only.  Every process is stopped by pid on exit.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/../lib/skip.sh"
. "$HERE/../lib/port.sh"

SAN=${MR_SANITIZE:-}
# Under SANITIZE=1 (make san-check) the daemon faults run again with
# ASan+UBSan; the Postfix ones, already run by make check, are left out.
if [ -n "$SAN" ]; then
	ONLY=${FAULTS_ONLY:-storm badcfg conns slow trickle}
else
	ONLY=${FAULTS_ONLY:-storm badcfg conns slow trickle kill smap}
fi

# a bulk domains_file, so that each reload does real work
bulk_write() {
	local n=$1 i
	for i in $(seq 1 "$n"); do
		echo "h$i.bulk.example"
	done >"$T/bulk.list"
}

# conf_write FILE [RULE...]: example.com for everybody, plus RULEs
conf_write() {
	local file=$1 r
	shift
	{
		echo 'policy = {'
		echo '	unmatched = "reject";'
		echo '	trusted_networks = [ "127.0.0.1/32" ];'
		echo '	trust_authenticated = false;'
		echo '};'
		echo "domains_file = \"$T/bulk.list\";"
		echo 'domains = ('
		echo '	{ match = "example.com"; }'
		for r in "$@"; do
			echo "	, $r"
		done
		echo ');'
	} >"$file.tmp" && mv "$file.tmp" "$file"
}

# scn FILE RCPT KIND...: a one-recipient session from an untrusted client
scn() {
	local file=$1 rcpt=$2
	shift 2
	printf 'connect 192.0.2.7 probe.test\nmail <p@client.test>\nrcpt <%s> expect %s\n' \
	    "$rcpt" "$*" >"$file"
}

reloads_ok() { grep -c 'reload: .*: OK' "$DAEMON_LOG"; }
reloads_failed() { grep -c 'reload failed' "$DAEMON_LOG"; }
# counted again at every try (an argument "$(reloads_failed)" would not be)
reloads_failed_gt() { [ "$(reloads_failed)" -gt "$1" ]; }

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# --- storm ------------------------------------------------------------------

fault_storm() {
	local w0 w1 rss0 rss1 n rounds=0 sp ok0
	echo "-- storm: SIGHUP every 10 ms under load"
	bulk_write 5000
	conf_write "$T/storm-a.conf" '{ match = "marker.example"; }'
	conf_write "$T/storm-b.conf" '{ match = "marker.example"; relay = "deny"; }'
	cp "$T/storm-a.conf" "$T/storm.conf"
	fl_daemon_start storm "$T/storm.conf"
	w0=$(fl_worker_pid)
	[ -n "$w0" ] || fail "storm: no worker process"
	"$MT" -s "unix:$DAEMON_SOCK" --load -c 4 -n 5000 --expect continue \
	    >"$T/load-warm.out" 2>&1 || { cat "$T/load-warm.out"; fail "storm: warm-up load"; }
	rss0=$(rss_kb "$w0")
	ok0=$(reloads_ok)
	rm -f "$T/storm.stop"
	(
		n=0
		while [ ! -e "$T/storm.stop" ]; do
			kill -HUP "$DAEMON_PID" || exit 1
			n=$((n + 1))
			if [ $((n % 25)) -eq 0 ]; then
				if [ $((n / 25 % 2)) -eq 1 ]; then
					cp "$T/storm-b.conf" "$T/storm.conf.new"
				else
					cp "$T/storm-a.conf" "$T/storm.conf.new"
				fi
				mv "$T/storm.conf.new" "$T/storm.conf"
			fi
			echo "$n" >"$T/storm.count.tmp"
			mv "$T/storm.count.tmp" "$T/storm.count"
			sleep 0.01
		done
	) &
	sp=$!
	fl_cleanup_add "$sp"
	# keep the harness sending until at least 300 SIGHUPs went out
	while :; do
		rounds=$((rounds + 1))
		"$MT" -s "unix:$DAEMON_SOCK" --load -c 4 -n 5000 -t 30 \
		    --expect continue >"$T/load-storm.out" 2>&1 ||
		    { cat "$T/load-storm.out"; fail "storm: a decision failed during the reload storm (round $rounds)"; }
		n=$(cat "$T/storm.count" 2>/dev/null || echo 0)
		[ "$n" -ge 300 ] && break
		[ "$rounds" -ge 200 ] && fail "storm: only $n SIGHUPs in $rounds rounds"
	done
	touch "$T/storm.stop"
	wait "$sp" || fail "storm: kill -HUP failed: the supervisor died"
	n=$(cat "$T/storm.count")
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "storm: the supervisor died"
	w1=$(fl_worker_pid)
	[ "$w1" = "$w0" ] || { cat "$DAEMON_LOG" | tail -20; fail "storm: the worker was restarted ($w0 -> $w1): it crashed"; }
	[ "$(reloads_failed)" -eq 0 ] || fail "storm: a reload failed"
	# the last file written must be the one in force
	cp "$T/storm-b.conf" "$T/storm.conf"
	kill -HUP "$DAEMON_PID"
	scn "$T/marker.scn" u@marker.example reject 554 5.7.1
	fl_wait_for 60 fl_scenario "$T/marker.scn" ||
	    { cat "$T/mt.out"; fail "storm: last rules not in force after the storm"; }
	cp "$T/storm-a.conf" "$T/storm.conf"
	kill -HUP "$DAEMON_PID"
	scn "$T/marker.scn" u@marker.example continue
	fl_wait_for 60 fl_scenario "$T/marker.scn" ||
	    { cat "$T/mt.out"; fail "storm: reload after the storm not applied"; }
	rss1=$(rss_kb "$w1")
	echo "   $n SIGHUPs, $(( $(reloads_ok) - ok0 )) reloads logged, $rounds load rounds of 5000 RCPTs, all answered right"
	echo "   worker RSS ${rss0} kB before, ${rss1} kB after"
	# 5000 rules a reload: leaking each old set would add hundreds of MB;
	# ASan's quarantine keeps freed memory, LeakSanitizer checks instead.
	if [ -z "$SAN" ] && [ $((rss1 - rss0)) -gt 65536 ]; then
		fail "storm: worker RSS grew by $((rss1 - rss0)) kB"
	fi
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
}

# --- badcfg -----------------------------------------------------------------

# bad_reload WHAT: the file was just broken; SIGHUP, wait for the failure
# in the log, check that the old rules answer
bad_reload() {
	local what=$1 before
	before=$(reloads_failed)
	kill -HUP "$DAEMON_PID"
	fl_wait_for 60 reloads_failed_gt "$before" ||
	    fail "badcfg: $what: no 'reload failed' in the log"
	fl_scenario "$T/old.scn" || { cat "$T/mt.out"; fail "badcfg: $what: old rules lost"; }
	fl_scenario "$T/new.scn" || { cat "$T/mt.out"; fail "badcfg: $what: partial new rules"; }
	echo "   $what: kept the old rules: $(grep 'reload failed' "$DAEMON_LOG" | tail -n 1 | sed 's/.*reload failed: //' | cut -c1-100)"
}

fault_badcfg() {
	local conf=$T/bad.conf
	echo "-- badcfg: broken config on reload keeps the old rules"
	bulk_write 10
	conf_write "$conf" '{ match = "old.example"; }'
	fl_daemon_start bad "$conf"
	scn "$T/old.scn" u@old.example continue
	scn "$T/new.scn" u@new.example reject 554 5.7.1
	fl_scenario "$T/old.scn" || fail "badcfg: initial rules"

	conf_write "$conf" '{ match = "new.example"; }'
	echo "policy = {" >>"$conf"
	bad_reload "syntax error"
	conf_write "$conf" '{ match = "new.example"; }' '{ match = "new.example"; }'
	bad_reload "duplicate pattern"
	conf_write "$conf" '{ match = "new.example"; }' '{ match = "x..example"; }'
	bad_reload "bad domain"
	conf_write "$conf" '{ match = "new.example"; frobnicate = 1; }'
	bad_reload "unknown setting"
	conf_write "$conf" '{ match = "new.example"; smarthost = "[300.1.1.1]"; }'
	bad_reload "bad smart host"
	conf_write "$conf" '{ match = "new.example"; }'
	echo "h11..bulk.example" >>"$T/bulk.list"
	bad_reload "bad domains_file line"
	bulk_write 10
	mv "$T/bulk.list" "$T/bulk.gone"
	bad_reload "domains_file missing"
	mv "$T/bulk.gone" "$T/bulk.list"
	mv "$conf" "$conf.gone"
	bad_reload "config file missing"
	mkdir "$conf"
	bad_reload "config is a directory"
	rmdir "$conf"
	: >"$conf"
	echo 'domains = ( { match = "new.example"; } );' >"$conf.partial"
	head -c 20 "$conf.partial" >"$conf"
	bad_reload "truncated file"
	ln -s "$T/nowhere.conf" "$conf.link"
	rm -f "$conf"
	mv "$conf.link" "$conf"
	bad_reload "dangling symlink"
	rm -f "$conf"
	# a good file now loads
	conf_write "$conf" '{ match = "new.example"; }'
	kill -HUP "$DAEMON_PID"
	scn "$T/new.scn" u@new.example continue
	scn "$T/old.scn" u@old.example reject 554 5.7.1
	fl_wait_for 60 fl_scenario "$T/new.scn" || { cat "$T/mt.out"; fail "badcfg: good file not loaded"; }
	fl_scenario "$T/old.scn" || { cat "$T/mt.out"; fail "badcfg: old rule still there"; }
	kill -0 "$DAEMON_PID" || fail "badcfg: daemon died"
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
	# unreadable for the daemon's user: only meaningful when it is not root
	if id nobody >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		fault_badcfg_unreadable
	else
		mr_skip "not root or no user nobody: a configuration the" \
		    "daemon's user cannot read NOT checked"
	fi
}

fault_badcfg_unreadable() {
	local d=$T/nobody conf
	mkdir -m 0777 "$d"
	conf=$d/milter.conf
	conf_write "$conf" '{ match = "old.example"; }'
	chmod 0644 "$conf" "$T/bulk.list"
	FL_DIR=$d fl_daemon_start nobody "$conf" -u nobody
	scn "$T/old.scn" u@old.example continue
	scn "$T/new.scn" u@new.example reject 554 5.7.1
	fl_scenario "$T/old.scn" || fail "badcfg: initial rules (as nobody)"
	conf_write "$conf" '{ match = "new.example"; }'
	chmod 0600 "$conf"
	bad_reload "config unreadable (mode 0600, daemon runs as nobody)"
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
}

# --- conns ------------------------------------------------------------------

sockets_of() {
	find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l
}

fault_conns() {
	local w lp max=0 s n=1000 secs=300 seen=0
	echo "-- conns: $n milter connections at once"
	ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null ||
	    fail "conns: cannot raise the open files limit"
	[ "$(ulimit -n)" -ge 2200 ] || fail "conns: open files limit $(ulimit -n)"
	bulk_write 10
	conf_write "$T/conns.conf"
	fl_daemon_start conns "$T/conns.conf"
	w=$(fl_worker_pid)
	# every connection keeps one session open and sends messages on it
	# until the event: all of them open together in the worker and a new
	# session answered meanwhile; then SIGUSR1 ends the load.  secs only
	# bounds the wait for that event (opening 1000 sessions on a loaded
	# machine), it is no measure
	"$MT" -s "unix:$DAEMON_SOCK" --load -c $n -n 1000000000 -r 5 \
	    -m 1000000 -t 120 --duration-max $secs --expect continue \
	    >"$T/load-conns.out" 2>&1 &
	lp=$!
	fl_cleanup_add "$lp"
	scn "$T/conns.scn" u@example.com continue
	while kill -0 "$lp" 2>/dev/null; do
		s=$(sockets_of "$w")
		[ "$s" -gt "$max" ] && max=$s
		if [ "$max" -gt "$n" ]; then
			# every connection is open: a new session still gets answers
			fl_scenario "$T/conns.scn" || { cat "$T/mt.out"; fail "conns: a new session got no answer with $n open"; }
			seen=1
			kill -USR1 "$lp"
			break
		fi
		sleep 0.2
	done
	wait "$lp" || { cat "$T/load-conns.out"; fail "conns: the load run failed"; }
	[ "$seen" = 1 ] || fail "conns: at most $max sockets open in the worker" \
	    "within ${secs}s, wanted > $n: $(tail -n 1 "$T/load-conns.out")"
	echo "   $max sockets open at once in the worker, a new session answered; $(grep -o 'rcpts=[0-9]* .*seconds=[0-9.]*' "$T/load-conns.out" | head -n 1)"
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
}

fault_slow() {
	local hp
	echo "-- slow: silent and slow clients do not block others"
	bulk_write 10
	conf_write "$T/slow.conf"
	fl_daemon_start slow "$T/slow.conf"
	# 200 silent connections, and 20 that send a milter packet a byte
	# every 100 ms
	perl "$HERE/hold.pl" "$DAEMON_SOCK" 200 20 >"$T/hold.out" 2>&1 &
	hp=$!
	fl_cleanup_add "$hp"
	fl_wait_for 60 grep -q '^holding' "$T/hold.out" || { cat "$T/hold.out"; fail "slow: hold.pl did not connect"; }
	scn "$T/slow.scn" u@example.com continue
	fl_scenario "$T/slow.scn" || { cat "$T/mt.out"; fail "slow: a session was blocked by silent clients"; }
	"$MT" -s "unix:$DAEMON_SOCK" --load -c 4 -n 2000 -t 30 --expect continue \
	    >"$T/load-slow.out" 2>&1 || { cat "$T/load-slow.out"; fail "slow: load blocked by silent clients"; }
	kill -0 "$hp" || { cat "$T/hold.out"; fail "slow: hold.pl ended early"; }
	kill -TERM "$hp"
	wait "$hp" 2>/dev/null
	echo "   200 silent + 20 slow connections held; a session and 2000 RCPTs answered meanwhile"
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
}

# --- trickle ----------------------------------------------------------------

# 600 socketmap clients sending one octet every 2 s (more than the 512
# slots), from three addresses: a fresh postmap -q is answered within 2 s
# (a functional bound: before the fix it got its connection closed), an
# active client keeps its connection, every slow one is closed (taken
# over by a new client, or at the 10 s deadline of a request).
# sm_const NAME: a constant of milter/socketmap.c (the socketmap limits)
sm_const() {
	local v
	v=$(sed -n "s/^#define $1[[:space:]]*\([0-9]*\).*/\1/p" \
	    "$HERE/../../milter/socketmap.c")
	[ -n "$v" ] || fail "no $1 in milter/socketmap.c"
	echo "$v"
}

fault_trickle() {
	local port tp out
	echo "-- trickle: slow socketmap clients do not hold the slots"
	bulk_write 10
	conf_write "$T/trickle.conf"
	port=$(mr_free_port)
	fl_daemon_start trickle "$T/trickle.conf" -m "inet:$port@127.0.0.1"
	perl "$HERE/trickle.pl" "$port" 600 40 127.0.0.2 127.0.0.3 127.0.0.4 \
	    >"$T/trickle.out" 2>&1 &
	tp=$!
	fl_cleanup_add "$tp"
	fl_wait_for 60 grep -q '^ready' "$T/trickle.out" ||
	    { cat "$T/trickle.out"; fail "trickle: clients not connected"; }
	# let them be slow (incomplete for over SM_SLOW_MS) first; then
	# postmap must be answered before the slow clients' own request
	# deadline (SM_REQUEST_SECONDS after their first octet, which came
	# before "ready") could free a slot: only taking a slot from a slow
	# client answers it in time.  Both from milter/socketmap.c.
	slow_ms=$(sm_const SM_SLOW_MS)
	req_s=$(sm_const SM_REQUEST_SECONDS)
	sleep "$(awk -v m="$slow_ms" 'BEGIN { print m / 1000 + 0.5 }')"
	bound=$(awk -v r="$req_s" -v m="$slow_ms" 'BEGIN { print r - m / 1000 - 0.5 }')
	out=$(timeout "$bound" postmap -q example.com \
	    "socketmap:inet:127.0.0.1:$port:relay" 2>&1)
	[ "$out" = RELAY ] ||
	    fail "trickle: postmap -q got \"$out\" (want RELAY before the slow" \
		"clients' deadline, within $bound s)"
	wait "$tp"
	out=$(tail -n 1 "$T/trickle.out")
	case $out in
	"slow_closed=600 slow_open=0 "*"active_wrong=0 active_closed=0") ;;
	*) cat "$T/trickle.out"; fail "trickle: $out" ;;
	esac
	kill -USR1 "$DAEMON_PID"
	fl_wait_for 30 grep -q 'socketmap: connections=' "$DAEMON_LOG" ||
	    fail "trickle: no socketmap counters"
	echo "   postmap -q: RELAY; $out"
	echo "   $(grep 'socketmap: connections=' "$DAEMON_LOG" | tail -n 1 | sed 's/.*socketmap: //')"
	grep 'socketmap: connections=' "$DAEMON_LOG" | tail -n 1 |
	    grep -q ' slow_closed=[1-9][0-9]* evicted=[1-9]' ||
	    fail "trickle: neither deadline nor take-over counted"
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
}

# --- idle (opt-in: FAULTS_ONLY=idle, about a minute) ---------------------------

fault_idle() {
	local port
	echo "-- idle: the socketmap closes a silent connection, others go on"
	bulk_write 10
	conf_write "$T/idle.conf"
	port=$(mr_free_port)
	fl_daemon_start idle "$T/idle.conf" -m "inet:$port@127.0.0.1"
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $ARGV[0], Proto => "tcp") or die "$!\n";
		my $t0 = time;
		$SIG{ALRM} = sub { print "open after 150 s\n"; exit 1 };
		alarm 150;
		my $b;
		my $n = sysread($s, $b, 1);
		printf "closed after %d s\n", time - $t0;
		exit($n ? 1 : 0);' "$port" >"$T/idle.out" 2>&1 &
	local ip=$!
	fl_cleanup_add "$ip"
	perl "$HERE/smap.pl" 127.0.0.1 "$port" 1000 'relay:example.com=OK RELAY' \
	    >"$T/smap-idle.out" 2>&1 || { cat "$T/smap-idle.out"; fail "idle: socketmap blocked"; }
	wait "$ip" || { cat "$T/idle.out"; fail "idle: silent socketmap client not closed"; }
	echo "   silent socketmap client $(cat "$T/idle.out"); 1000 queries answered meanwhile"
	fl_daemon_stop
	fl_sanitizer_clean "$DAEMON_LOG"
}

PF=""
for f in $ONLY; do
	case $f in
	storm) fault_storm ;;
	badcfg) fault_badcfg ;;
	conns) fault_conns ;;
	slow) fault_slow ;;
	trickle) fault_trickle ;;
	idle) fault_idle ;;
	kill|smap) PF="$PF $f" ;;
	*) fail "unknown fault $f" ;;
	esac
done
if [ -n "$PF" ]; then
	echo "--$PF (one private Postfix)"
	# shellcheck disable=SC2086
	MR_BUILD=$MR_BUILD bash "$HERE/postfix.sh" $PF || fail "$PF"
fi
echo "faults: all passed"
