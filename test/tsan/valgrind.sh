#!/bin/bash
# test/tsan/valgrind.sh - the daemon under valgrind (memcheck) through the
# whole scenario suite ("make valgrind"; not part of make check)
#
# For each configuration the scenarios use (test/scenarios/conf/, chosen
# by a "# conf: NAME" line, main.conf otherwise) it starts milter-relay
# under valgrind (the supervisor and, through fork, its worker, each with
# its own log), runs those scenarios with milter-test, sends one SIGHUP
# (a reload) and runs them again, stops the daemon with SIGTERM and
# fails on any memcheck error or any definitely/indirectly lost block in
# either process.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../faults/lib.sh"
SCN=$HERE/../scenarios
command -v valgrind >/dev/null || fail "valgrind is not installed"
ls "$SCN"/*.scen >/dev/null 2>&1 || fail "no scenarios in $SCN"

confs=$(for f in "$SCN"/*.scen; do
	sed -n 's/^# conf: *\([^ ]*\).*/\1/p' "$f" | head -n 1 | grep . || echo main.conf
done | sort -u)

VG="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --num-callers=30
    --log-file=$T/vg.%p.log"
total=0
reloaded() {
	[ "$(grep -c 'reload: .*: OK' "$T/vg-daemon.log")" -ge "$1" ]
}
for c in $confs; do
	list=""
	for f in "$SCN"/*.scen; do
		fc=$(sed -n 's/^# conf: *\([^ ]*\).*/\1/p' "$f" | head -n 1)
		[ "${fc:-main.conf}" = "$c" ] && list="$list $f"
	done
	cp "$SCN/conf/$c" "$T/$c"
	sock=$T/vg.sock
	rm -f "$sock"
	$VG "$MR" -f -c "$T/$c" -p "unix:$sock" >"$T/vg-daemon.log" 2>&1 &
	pid=$!
	fl_cleanup_add "$pid"
	fl_wait_for 120 test -S "$sock" || { cat "$T/vg-daemon.log"; fail "$c: no socket"; }
	fl_wait_for 120 "$MT" -s "unix:$sock" -t 60 "$(fl_ready_scenario)" ||
	    fail "$c: no answer under valgrind"
	for round in 1 2; do
		for f in $list; do
			"$MT" -s "unix:$sock" -t 60 "$f" >"$T/mt.out" 2>&1
			rc=$?
			total=$((total + 1))
			# expectations are test/scenarios' business; here the
			# daemon must answer every event of every session
			if [ "$rc" -eq 1 ]; then
				echo "   note: $(basename "$f"): an expectation failed (see make check)"
			elif [ "$rc" -ne 0 ]; then
				cat "$T/mt.out"
				fail "$c: $f: no answer from the daemon under valgrind"
			fi
		done
		kill -HUP "$pid"
		fl_wait_for 120 reloaded "$round" ||
		    fail "$c: no reload"
	done
	kill -TERM "$pid"
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$c: daemon did not stop"
	wait "$pid"
	echo "   $c: $(echo $list | wc -w) scenarios, twice (reload between)"
done
bad=0
for l in "$T"/vg.*.log; do
	if [ -s "$l" ]; then
		cat "$l"
		bad=1
	fi
done
[ "$bad" -eq 0 ] || fail "valgrind reported errors or leaks"
echo "valgrind: $total scenario runs, $(ls "$T"/vg.*.log | wc -l) processes checked: no memcheck error, no leak"
