# pglib.sh - milter-relay daemons on a private PostgreSQL, for the bench
#
# Sourced (bash) by test/bench/pgsql.sh and test/bench/incremental.sh
# after test/e2e/lib.sh's e2e_init and test/lib/pgsql.sh's pg_init (it
# sources test/lib/daemon.sh).  Uses MR (the daemon), RULES and ROUNDS.
# Every daemon is tracked for lib.sh's cleanup (stopped by pid).
#
#   now_ms, secs MS, median	the clock in ms, MS as seconds (2
#				decimals), the median of the numbers on stdin
#   kb PID FIELD		a field of /proc/PID/status, in kB
#   start_daemon NAME LINES	a daemon with the configuration LINES plus
#				its socket and a socketmap on a free port;
#				waits for "serving"; sets SMPORT, DPID,
#				WPID and T_START (ms from start to serving)
#   first_reload NAME		wait for the listener's first read (after
#				its LISTEN: a reload, or the change log
#				read with no row changed), so that the
#				next reload is a change's
#   relays PORT NAME		0 when the socketmap on PORT relays NAME
#   notify_to_answer NAME PORT	INSERT NAME; ms from its commit (psql has
#				returned) until the socketmap on PORT
#				relays it
#   rounds NAME PORT PREFIX	ROUNDS INSERTs answered by daemon NAME:
#				MED (median ms); RSS0 (its worker's RSS
#				before, kB), PEAK (VmHWM over them, reset
#				through clear_refs before) and RSSX
#				(PEAK / RSS0)
#   rss_reset PID, rss_peak PID	clear_refs' VmHWM reset; VmHWM
#   verdict VALUE OP LIMIT	"ok" when VALUE OP (>= or <=) LIMIT holds,
#				else "MISSED"

. "$(dirname "${BASH_SOURCE[0]}")/../lib/daemon.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
rss_reset() { echo 5 >"/proc/$1/clear_refs"; }
rss_peak() { kb "$1" VmHWM; }

PIDS=()
start_daemon() {
	local name=$1 d=$E2E_DIR/$1 t0
	mkdir -p "$d"
	chown nobody "$d"
	SMPORT=$(e2e_free_port) || e2e_fail "no free port"
	{
		echo "socket = \"unix:$d/milter.sock\";"
		echo "socketmap = \"inet:$SMPORT@127.0.0.1\";"
		echo "$2"
	} >"$d/mr.conf"
	chmod 644 "$d/mr.conf"
	t0=$(now_ms)
	daemon_start 600 "$E2E_DIR/$name.log" "$d/milter.sock" \
	    "$MR" -f -c "$d/mr.conf" -u nobody -g nogroup
	e2e_track_pid "$DPID"
	[ -n "$WPID" ] || e2e_fail "daemon $name did not start"
	e2e_track_pid "$WPID"
	T_START=$(($(now_ms) - t0))
}

first_reload() {
	wait_for 600 log_has "$E2E_DIR/$1.log" "reload: " &&
	    grep -q "reload: .*\(OK\|no row changed\)" "$E2E_DIR/$1.log" ||
	    e2e_fail "daemon $1: no first reload"
}

relays() {
	[ "$(echo "relay $2" | "$E2E_CLIENT" socketmap -p "$1")" = "OK RELAY" ]
}

notify_to_answer() {
	local t0 i
	sql -c "INSERT INTO rules (pattern) VALUES ('$1')" ||
	    e2e_fail "INSERT failed"
	t0=$(now_ms)
	for i in $(seq 1 60000); do
		relays "$2" "$1" && break
		sleep 0.01
	done
	relays "$2" "$1" || e2e_fail "$1 never answered on $2"
	echo $(($(now_ms) - t0))
}

rounds() {
	local w r
	w=$(worker_of "$E2E_DIR/$1.log")
	sleep 1
	RSS0=$(kb "$w" VmRSS)
	rss_reset "$w"
	for r in $(seq 1 "$ROUNDS"); do
		notify_to_answer "$3$r.example" "$2"
	done >"$E2E_DIR/$3.ms"
	PEAK=$(rss_peak "$w")
	echo "   NOTIFY to answer, $RULES rows, $1, ms: $(tr '\n' ' ' <"$E2E_DIR/$3.ms"); RSS $RSS0 kB, peak $PEAK kB" >&2
	MED=$(median <"$E2E_DIR/$3.ms")
	RSSX=$(awk -v a="$PEAK" -v b="$RSS0" 'BEGIN { printf "%.2f", a / b }')
}

# verdict VALUE OP LIMIT: "ok" when VALUE OP (>= or <=) LIMIT, else "MISSED"
verdict() {
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = op == ">=" ? v >= l : v <= l
		print ok ? "ok" : "MISSED" }'
}
