#!/bin/bash
# checkall.sh - run the check areas of "make check" and report skips
#
#	bash test/lib/checkall.sh test/AREA/check.sh...
#
# Run by the Makefile's check target with MR_BUILD and MR_SANITIZE set.
# It makes a per-run directory (MR_RUN_DIR, /tmp/mr-check.XXXXXX, removed
# at the end unless MR_KEEP_RUN=1) and exports MR_SKIP_LOG, the file in
# it where test/e2e/lib.sh's mr_skip appends one line per part of a test
# that did not run.  Each area runs in turn ("== test/AREA/check.sh", its
# output, "== test/AREA: N s", all of them again at the end, longest
# first); with MR_CHECK_JOBS=N (N > 1; make check sets 2) up to N areas
# run side by side, each one's output kept and printed whole when it
# ends.  A failing area ends the run after the areas already started have
# ended ("== FAILED: ..."), exit 1.  At the end every skip is listed
# ("== skipped: ..."), so a skip is never read as a pass; under
# MR_REQUIRE_ALL=1 (.ci/run) a skip is already a failure of its area.
# MR_UNIT_SKIPS names the skips of the unit suites make unit just ran
# (the Makefile's UNIT_SKIPS): they open the list.
set -u

MR_RUN_DIR=$(mktemp -d /tmp/mr-check.XXXXXX) || exit 1
MR_SKIP_LOG=$MR_RUN_DIR/skipped
: >"$MR_SKIP_LOG"
if [ -n "${MR_UNIT_SKIPS:-}" ] && [ -f "$MR_UNIT_SKIPS" ]; then
	cat "$MR_UNIT_SKIPS" >>"$MR_SKIP_LOG"
fi
export MR_RUN_DIR MR_SKIP_LOG
njobs=${MR_CHECK_JOBS:-1}
failed=()
start=$SECONDS

cleanup() {
	local pid
	for pid in $(jobs -p); do
		kill -TERM "$pid" 2>/dev/null
	done
	wait
	[ -n "${MR_KEEP_RUN:-}" ] || rm -rf "$MR_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# report_skips: the list at the end (also after a failure)
report_skips() {
	local n
	n=$(wc -l <"$MR_SKIP_LOG")
	if [ "$n" -gt 0 ]; then
		echo "== skipped ($n, NOT tested; MR_REQUIRE_ALL=1 makes these failures):"
		sed 's/^/   /' "$MR_SKIP_LOG"
	fi
}

# area_name test/AREA/check.sh -> test/AREA
area_name() { dirname "$1"; }

run_one() {	# $1: script; output to stdout; its time in MR_RUN_DIR/times
	local t=$SECONDS rc
	MR_AREA=$(area_name "$1") bash "$1"
	rc=$?
	echo "== $(area_name "$1"): $((SECONDS - t)) s, exit $rc"
	echo "${1#test/}:$((SECONDS - t))" | sed 's|/check.sh||' \
	    >>"$MR_RUN_DIR/times"
	return $rc
}

if [ "$njobs" -le 1 ]; then
	for t in "$@"; do
		echo "== $t"
		run_one "$t" || { failed+=("$(area_name "$t")"); break; }
	done
else
	# side by side: up to $njobs at once, outputs printed as they end
	declare -A pidof=()
	queue=("$@")
	running=0
	while [ ${#queue[@]} -gt 0 ] || [ "$running" -gt 0 ]; do
		while [ ${#failed[@]} -eq 0 ] && [ ${#queue[@]} -gt 0 ] &&
		    [ "$running" -lt "$njobs" ]; do
			t=${queue[0]}
			queue=("${queue[@]:1}")
			out=$MR_RUN_DIR/$(area_name "$t" | tr / _).out
			run_one "$t" >"$out" 2>&1 &
			pidof[$!]=$t
			running=$((running + 1))
		done
		[ "$running" -gt 0 ] || break
		wait -n -p done_pid
		rc=$?
		t=${pidof[$done_pid]}
		unset "pidof[$done_pid]"
		running=$((running - 1))
		echo "== $t"
		cat "$MR_RUN_DIR/$(area_name "$t" | tr / _).out"
		[ "$rc" -eq 0 ] || failed+=("$(area_name "$t")")
		[ ${#failed[@]} -eq 0 ] || queue=()
	done
fi

report_skips
echo "== times (s): $(sort -t: -k2 -rn "$MR_RUN_DIR/times" 2>/dev/null |
    tr '\n' ' ')"
if [ ${#failed[@]} -gt 0 ]; then
	echo "== FAILED: ${failed[*]} ($((SECONDS - start)) s)"
	exit 1
fi
echo "== all tests passed ($((SECONDS - start)) s," \
    "$(wc -l <"$MR_SKIP_LOG") skipped)"
