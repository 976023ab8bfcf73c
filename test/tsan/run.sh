#!/bin/bash
# test/tsan/run.sh - the unit suites with threads and the daemon built with
# ThreadSanitizer under concurrent load with reloads ("make tsan"; not part
# of make check)
#
# make tsan builds everything with -fsanitize=thread in build-tsan/, with
# the unit suites that start threads (TSAN_UNITS: check_live's readers
# against replace, its 8-reader stress test; check_callout's scripted SMTP
# and DNS servers), and runs this with MR_BUILD=build-tsan.  Each suite
# runs first, in one process (CK_FORK=no: no fork per test, so that every
# thread runs under ThreadSanitizer as it does in the daemon); any report
# or failed test fails.  Then, for about TSAN_SECONDS (default 20), it
# drives the daemon from three sides at once: milter-test load (8
# connections), two socketmap clients, and a SIGHUP every 10 ms that
# reloads a 5000-rule set under them; then it stops the daemon and fails
# on any ThreadSanitizer report in the daemon's or the harness's output,
# on any wrong decision, or when the worker was restarted.

set -u
MR_AREA=${MR_AREA:-test/tsan}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../faults/lib.sh"
. "$HERE/../lib/port.sh"

SECS=${TSAN_SECONDS:-20}
export TSAN_OPTIONS="halt_on_error=0 history_size=4 suppressions=$HERE/suppressions.txt ${TSAN_OPTIONS:-}"
for u in ${TSAN_UNITS:-check_live check_callout}; do
	CK_FORK=no "$MR_BUILD/test/unit/$u" >"$T/$u.out" 2>&1 ||
	    { tail -40 "$T/$u.out"; fail "tsan: test/unit/$u failed"; }
	fl_sanitizer_clean "$T/$u.out"
	echo "tsan: test/unit/$u: $(grep -E '^[0-9]+%: Checks' "$T/$u.out")," \
	    "no ThreadSanitizer report"
done
PORT=$(mr_free_port)
for i in $(seq 1 5000); do echo "h$i.bulk.example"; done >"$T/bulk.list"
cat >"$T/tsan.conf" <<EOC
policy = { unmatched = "reject"; trusted_networks = [ "127.0.0.1/32" ]; };
domains_file = "$T/bulk.list";
domains = (
	{ match = "example.com"; smarthost = "[192.0.2.25]:2525"; },
	{ match = "lab.example.com"; relay = "deny"; }
);
EOC
fl_daemon_start tsan "$T/tsan.conf" -m "inet:$PORT@127.0.0.1"
W0=$(fl_worker_pid)
END=$(( $(date +%s) + SECS ))

(
	while [ "$(date +%s)" -lt "$END" ]; do
		kill -HUP "$DAEMON_PID" || exit 1
		sleep 0.01
	done
) &
STORM=$!
fl_cleanup_add "$STORM"
SMAP=""
for c in 1 2; do
	(
		while [ "$(date +%s)" -lt "$END" ]; do
			perl "$HERE/../faults/smap.pl" 127.0.0.1 "$PORT" 2000 \
			    'relay:example.com=OK RELAY' \
			    'transport:u@x.example.com=OK smtp:[192.0.2.25]:2525' \
			    'relay:lab.example.com=NOTFOUND' \
			    'relay:h42.bulk.example=OK RELAY' || exit 1
		done
	) >"$T/smap.$c.out" 2>&1 &
	SMAP="$SMAP $!"
	fl_cleanup_add "$!"
done
rounds=0
while [ "$(date +%s)" -lt "$END" ]; do
	rounds=$((rounds + 1))
	"$MT" -s "unix:$DAEMON_SOCK" --load -c 8 -n 4000 -t 60 --expect continue \
	    >>"$T/load.out" 2>&1 || { tail -20 "$T/load.out"; fail "tsan: wrong decision under load"; }
done
wait "$STORM" || fail "tsan: the supervisor went away"
for p in $SMAP; do
	wait "$p" || { cat "$T"/smap.*.out; fail "tsan: wrong socketmap answer"; }
done
[ "$(fl_worker_pid)" = "$W0" ] || fail "tsan: the worker was restarted"
RELOADS=$(grep -c 'reload: .*: OK' "$DAEMON_LOG")
fl_daemon_stop
fl_sanitizer_clean "$T/load.out"
fl_sanitizer_clean "$DAEMON_LOG"
echo "tsan: ${SECS}s, $rounds load rounds of 4000 RCPTs on 8 connections, 2 socketmap clients, $RELOADS reloads: no ThreadSanitizer report"
