# daemon.sh - start, wait for and stop the processes of a shell test
#
# Sourced (bash) by test/scenarios/check.sh, test/loadsmoke/check.sh,
# test/metrics/check.sh, test/pgsql/check.sh and test/bench/run.sh.  The
# caller keeps an array PIDS of every process it started; these functions
# add to it, and stop_pids stops them by pid.
#
#   wait_for SECONDS COMMAND...	poll COMMAND every 0.1 s until it
#				succeeds (0) or SECONDS have passed (1)
#   log_has FILE TEXT		TEXT (a fixed string) occurs in FILE
#   worker_of LOG		the worker's pid: the last "worker N
#				started" of a milter-relay log
#   daemon_start SECONDS LOG SOCKET COMMAND...
#				run COMMAND (milter-relay -f ... -p
#				unix:SOCKET) in the background, its stderr
#				appended to LOG; its pid in DPID and PIDS;
#				wait up to SECONDS for SOCKET and for
#				"serving unix:" in LOG, then the worker's pid
#				in WPID and PIDS.  1 when it is not ready in
#				time (WPID empty).
#   stop_pids SECONDS PID...	SIGTERM to every PID, then wait up to
#				SECONDS for each and SIGKILL what is left

wait_for() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

log_has() { grep -qF -- "$2" "$1" 2>/dev/null; }

worker_of() {
	sed -n 's/.*supervisor [0-9]*: worker \([0-9]*\) started.*/\1/p' \
	    "$1" | tail -1
}

daemon_start() {
	local secs=$1 log=$2 sock=$3
	shift 3
	"$@" 2>>"$log" &
	DPID=$!
	PIDS+=("$DPID")
	WPID=
	wait_for "$secs" test -S "$sock" || return 1
	wait_for "$secs" log_has "$log" "serving unix:" || return 1
	WPID=$(worker_of "$log")
	PIDS+=("$WPID")
}

stop_pids() {
	local secs=$1 p i
	shift
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		for i in $(seq 1 $((secs * 10))); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
