# test/faults/lib.sh - shell functions shared by test/faults and test/relay
#
# Source it after setting MR_BUILD (default "."); it sets:
#	MR	the milter-relay binary	MT	the milter-test binary
#	T	a fresh temporary directory, removed on exit
# and offers:
#	fl_cleanup_add PID...	stop these processes (TERM, then KILL) on exit
#	fl_daemon_start NAME CONF [ARGS...]
#				start milter-relay -f -c CONF -p unix:$T/NAME.sock
#				-P $T/NAME.pid ARGS, log in $T/NAME.log; sets
#				DAEMON_PID (the supervisor) and DAEMON_SOCK;
#				waits until a milter session succeeds
#	fl_daemon_stop		SIGTERM and wait for the supervisor (60 s at
#				most, then SIGKILL and a failure)
#	fl_worker_pid		prints the worker's pid (child of DAEMON_PID)
#	fl_wait_for SECONDS CMD...
#				run CMD every 0.1 s until it succeeds; 1 when
#				it never did
#	fl_scenario FILE	milter-test on DAEMON_SOCK, output in $T/mt.out
#	fl_sanitizer_clean LOG	fails when LOG holds a sanitizer report
#	fail MESSAGE		print it, the last lines of every log in $T (each
#				daemon's), exit 1 (the trap cleans up)
#
# Every process started here is stopped by pid on exit, even on failure.

MR_BUILD=${MR_BUILD:-.}
MR=$MR_BUILD/milter/milter-relay
MT=$MR_BUILD/test/harness/milter-test
T=$(mktemp -d /tmp/mr-test.XXXXXX)
chmod 755 "$T"
# private copies: a rebuild during the run must not pull the rug
mkdir "$T/bin"
cp "$MR" "$MT" "$T/bin/" 2>/dev/null
MR=$T/bin/milter-relay
MT=$T/bin/milter-test
FL_PIDS=""

fl_cleanup() {
	local rc=$? p i
	for p in $FL_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $FL_PIDS; do
		for i in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ -n "${FL_KEEP:-}" ]; then
		echo "keeping $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap fl_cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	local f
	echo "FAIL: ${MR_AREA:-test/faults}: $*" >&2
	for f in "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "--- last lines of $(basename "$f")" >&2
		tail -n 20 "$f" >&2
	done
	echo "--- FAIL: ${MR_AREA:-test/faults}: $*" >&2
	exit 1
}

fl_cleanup_add() {
	FL_PIDS="$FL_PIDS $*"
}

fl_wait_for() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# A session that must succeed once the daemon is up.
fl_ready_scenario() {
	cat >"$T/ready.scn" <<'EOF'
connect 192.0.2.1 ready.test
mail <ready@client.test>
rcpt <ready@example.com> expect continue
EOF
	echo "$T/ready.scn"
}

fl_daemon_start() {
	local name=$1 conf=$2
	shift 2
	local dir=${FL_DIR:-$T}
	DAEMON_SOCK=$dir/$name.sock
	DAEMON_LOG=$dir/$name.log
	DAEMON_PIDFILE=$dir/$name.pid
	"$MR" -f -c "$conf" -p "unix:$DAEMON_SOCK" -P "$DAEMON_PIDFILE" \
	    "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	fl_cleanup_add "$DAEMON_PID"
	fl_wait_for 60 test -S "$DAEMON_SOCK" ||
	    { cat "$DAEMON_LOG"; fail "$name: no socket after 60 s"; }
	fl_wait_for 60 "$MT" -s "unix:$DAEMON_SOCK" -t 5 \
	    "$(fl_ready_scenario)" ||
	    { cat "$DAEMON_LOG"; fail "$name: no answer after 60 s"; }
}

fl_daemon_stop() {
	local i
	kill -TERM "$DAEMON_PID" 2>/dev/null || return 0
	for i in $(seq 1 600); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID"
		fail "daemon $DAEMON_PID ignored SIGTERM for 60 s"
	fi
	wait "$DAEMON_PID" 2>/dev/null
	return 0
}

fl_worker_pid() {
	pgrep -P "$DAEMON_PID" | head -n 1
}

fl_scenario() {
	"$MT" -s "unix:$DAEMON_SOCK" -t 30 "$@" >"$T/mt.out" 2>&1
}

fl_sanitizer_clean() {
	if grep -E -q 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$1"; then
		grep -E -A30 'ERROR: |runtime error:|WARNING: ThreadSanitizer' "$1" | head -80
		fail "sanitizer report in $1"
	fi
}

