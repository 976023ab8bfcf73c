#!/bin/bash
# smoke.sh - run every libFuzzer target briefly ("make fuzz-smoke").
#
# usage: smoke.sh build-fuzz/fuzz_NAME...
#
# For each target: run its kept crash inputs (test/fuzz/regressions/NAME/)
# once each, then fuzz for at most FUZZ_RUNS executions or FUZZ_TIME
# seconds from a temporary copy of its seed corpus (test/fuzz/corpus/NAME/,
# never modified), with NAME.dict when there is one.  Any crash, leak,
# sanitizer report or timeout fails the run; the crashing input is kept in
# a directory that is named on stderr, to be added under regressions/.
set -u
cd "$(dirname "$0")/../.."

# known leaks in Debian's libraries, not in ours: see the file
export LSAN_OPTIONS="suppressions=$PWD/test/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

RUNS=${FUZZ_RUNS:-200000}
TIME=${FUZZ_TIME:-20}
# one seed: every run mutates the same inputs in the same order (up to
# the time limit), so what it finds it finds again; FUZZ_SEED=0 is random
SEED=${FUZZ_SEED:-1}
work=$(mktemp -d /tmp/mr-fuzz.XXXXXX)
keep=0
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

status=0
for bin in "$@"; do
	name=$(basename "$bin")
	t=${name#fuzz_}
	seeds=test/fuzz/corpus/$t
	regs=test/fuzz/regressions/$t
	dict=test/fuzz/$t.dict
	opts=(-timeout=20 -rss_limit_mb=2048 -print_final_stats=0 -seed="$SEED")
	[ -f "$dict" ] && opts+=("-dict=$dict")

	if [ -d "$regs" ] && [ -n "$(ls -A "$regs")" ]; then
		if ! "$bin" "${opts[@]}" "$regs"/* >"$work/$t.reg.log" 2>&1; then
			echo "FAIL fuzz $t: a regression input crashes again" >&2
			tail -40 "$work/$t.reg.log" >&2
			status=1 keep=1
			continue
		fi
		echo "fuzz $t: $(ls -A "$regs" | wc -l) regression inputs pass"
	fi

	mkdir -p "$work/$t/corpus" "$work/$t/crash"
	[ -d "$seeds" ] && cp "$seeds"/* "$work/$t/corpus/" 2>/dev/null
	if "$bin" "${opts[@]}" -runs="$RUNS" -max_total_time="$TIME" \
	    -artifact_prefix="$work/$t/crash/" "$work/$t/corpus" \
	    >"$work/$t.log" 2>&1; then
		echo "fuzz $t: $(grep -Eo '^Done [0-9]+ runs in [0-9]+ second' \
		    "$work/$t.log" | sed 's/^Done //; s/ second/ s/'),"\
		    "$(ls "$work/$t/corpus" | wc -l) corpus inputs," \
		    "$(grep -Eo 'cov: [0-9]+' "$work/$t.log" | tail -1)"
	else
		echo "FAIL fuzz $t: crash, leak or timeout" >&2
		tail -60 "$work/$t.log" >&2
		for f in "$work/$t/crash"/*; do
			[ -f "$f" ] || continue
			echo "crashing input $f (add it to $regs/):" >&2
			od -c "$f" | head -20 >&2
		done
		status=1 keep=1
	fi
done
[ "$keep" = 1 ] && echo "fuzz logs and crashing inputs kept in $work" >&2
exit $status
