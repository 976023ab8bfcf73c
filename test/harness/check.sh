#!/bin/bash
# test/harness/check.sh - self-tests of milter-test and nullmilter.
#
# Run by "make check" from the top of the tree with MR_BUILD (the build
# directory: "." or build-san) and MR_SANITIZE.  Starts nullmilter three
# times in the foreground on unix sockets in a temporary directory (the
# baseline, -T for reply tests, -A for all stages), then:
#   - runs the scenarios in test/harness/scenarios/, the passing ones and
#     the deliberately failing ones, whose exit status and FILE:LINE
#     messages are asserted line by line;
#   - checks syntax errors, a hung filter (timeout) and a missing socket
#     give exit status 2;
#   - runs short loads (a few hundred RCPTs) checking every reply;
#   - cross-checks the same sessions with Debian's miltertest (OpenDKIM's
#     Lua harness, test/harness/miltertest/rcpt.lua);
#   - runs milter-test under valgrind once (no leaks, no errors), unless
#     the build uses the sanitizers.
# Every process it starts is stopped by pid on exit, even on failure.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MR_BUILD:-.}
case $build in /*) ;; *) build=$top/$build ;; esac
MT=$build/test/harness/milter-test
NM=$build/test/harness/nullmilter
SCN=$top/test/harness/scenarios
LUA=$top/test/harness/miltertest/rcpt.lua

tmp=$(mktemp -d /tmp/mr-harness.XXXXXX)
pids=()
failures=0

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

pass() {
	echo "ok: $*"
}

for bin in "$MT" "$NM"; do
	if [ ! -x "$bin" ]; then
		echo "FAIL: $bin not built"
		exit 1
	fi
done

# start_null NAME [OPTIONS...]: nullmilter on $tmp/NAME.sock, wait for it
start_null() {
	local name=$1 i
	shift
	"$NM" -f -p "unix:$tmp/$name.sock" "$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	for ((i = 0; i < 300; i++)); do
		[ -S "$tmp/$name.sock" ] && return 0
		if ! kill -0 "${pids[-1]}" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "FAIL: nullmilter $name did not start:"
	cat "$tmp/$name.log"
	exit 1
}

start_null null
start_null test -T
start_null all -A

# run_mt EXPECTED_STATUS NAME ARGS...: milter-test, output in $tmp/NAME.*
run_mt() {
	local want=$1 name=$2 rc
	shift 2
	"$MT" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit status $rc, expected $want"
		sed 's/^/    /' "$tmp/$name.out" "$tmp/$name.err"
		return 1
	fi
	return 0
}

# Passing scenarios.
run_mt 0 null-basic -s "unix:$tmp/null.sock" "$SCN/null-basic.scn" &&
	pass "null-basic.scn against nullmilter"
run_mt 0 test-replies -s "$tmp/test.sock" "$SCN/test-replies.scn" &&
	pass "test-replies.scn against nullmilter -T"
run_mt 0 all-stages -s "unix:$tmp/all.sock" "$SCN/all-stages.scn" &&
	pass "all-stages.scn against nullmilter -A"

# Failing scenarios: exactly the lines marked FAILS, each with its message.
# check_fails NAME SOCKET
check_fails() {
	local name=$1 sock=$2 file=$SCN/$1.scn lines n got
	run_mt 1 "$name" -s "$sock" "$file" || return
	lines=$(grep -n 'FAILS' "$file" | grep -v '^[0-9]*:#' | cut -d: -f1)
	n=$(echo "$lines" | wc -l)
	got=$(grep -c "^$file:[0-9]*: expected " "$tmp/$name.err")
	if [ "$got" -ne "$n" ]; then
		fail "$name: $got failure messages, expected $n"
		cat "$tmp/$name.err"
		return
	fi
	for l in $lines; do
		if ! grep -q "^$file:$l: expected .*, got " "$tmp/$name.err"
		then
			fail "$name: no failure reported for line $l"
			cat "$tmp/$name.err"
			return
		fi
	done
	pass "$name.scn fails with exit 1 at lines" $lines
}
check_fails null-fail "unix:$tmp/null.sock"
check_fails test-fail "unix:$tmp/test.sock"

# The exact message of one failure.
if grep -qx "$SCN/null-fail.scn:6: expected reject 554 5.7.1, got continue" \
    "$tmp/null-fail.err"; then
	pass "failure message names file, line, expectation and reply"
else
	fail "null-fail: message for line 6 not as expected"
	cat "$tmp/null-fail.err"
fi

# Several files: the worst status wins.
run_mt 1 several -s "unix:$tmp/null.sock" "$SCN/null-basic.scn" \
    "$SCN/null-fail.scn" && pass "several files, one failing: exit 1"

# Errors: exit status 2, with FILE:LINE.
run_mt 2 bad-syntax -s "unix:$tmp/test.sock" "$SCN/bad-syntax.scn" &&
	if grep -q "^$SCN/bad-syntax.scn:4: syntax error" \
	    "$tmp/bad-syntax.err"; then
		pass "syntax error: exit 2 with FILE:LINE"
	else
		fail "bad-syntax: no FILE:LINE syntax error message"
	fi
run_mt 2 timeout -t 3 -s "unix:$tmp/test.sock" "$SCN/timeout.scn" &&
	if grep -q "^$SCN/timeout.scn:5: error: timeout" "$tmp/timeout.err"
	then
		pass "hung filter: timeout, exit 2"
	else
		fail "timeout: no timeout message"
		cat "$tmp/timeout.err"
	fi
run_mt 2 nosocket -s "unix:$tmp/none.sock" "$SCN/null-basic.scn" &&
	pass "missing socket: exit 2"
run_mt 2 usage -s "unix:$tmp/null.sock" && pass "no file: usage, exit 2"

# Load mode.  key=value line: field VALUE
field() {
	tr ' ' '\n' <"$tmp/$1.out" | sed -n "s/^$2=//p" | tail -1
}

run_mt 0 load-null -s "unix:$tmp/null.sock" --load -c 4 -n 400 -r 4 \
    --expect continue &&
	if [ "$(field load-null rcpts)" = 400 ] &&
	    [ "$(field load-null continue)" = 400 ] &&
	    [ "$(field load-null msgs)" = 100 ] &&
	    [ "$(field load-null errors)" = 0 ]; then
		pass "load: 400 RCPTs, 100 messages, all continue"
	else
		fail "load-null: wrong counts"
		cat "$tmp/load-null.out"
	fi

# A recipients file with refusals: --expect continue must fail, and the
# counts must be exact (3 of every 4 recipients continue).
printf '%s\n' '# test recipients' '<a@example.com>' 'b@example.com' \
    '<reject@example.com>' '<code-451-4.7.1@example.com>' >"$tmp/rcpts.txt"
run_mt 1 load-test -s "unix:$tmp/test.sock" --load -c 3 -n 300 -r 2 \
    -f "$tmp/rcpts.txt" --expect continue --auth alice &&
	if [ "$(field load-test rcpts)" = 300 ] &&
	    [ "$(field load-test continue)" = 150 ] &&
	    [ "$(field load-test reject)" = 75 ] &&
	    [ "$(field load-test tempfail)" = 75 ] &&
	    [ "$(field load-test unexpected)" = 150 ]; then
		pass "load: unexpected replies counted, exit 1"
	else
		fail "load-test: wrong counts"
		cat "$tmp/load-test.out"
	fi

# accept of a RCPT decides the message: its later recipients are unsent.
printf '%s\n' '<a@example.com>' '<accept@example.com>' '<b@example.com>' \
    '<c@example.com>' >"$tmp/rcpts2.txt"
run_mt 1 load-accept -s "unix:$tmp/test.sock" --load -c 2 -n 40 -r 4 \
    -f "$tmp/rcpts2.txt" --expect continue &&
	if [ "$(field load-accept continue)" = 10 ] &&
	    [ "$(field load-accept accept)" = 10 ] &&
	    [ "$(field load-accept unsent)" = 20 ] &&
	    [ "$(field load-accept unexpected)" = 30 ]; then
		pass "load: recipients after an accepted RCPT are unsent"
	else
		fail "load-accept: wrong counts"
		cat "$tmp/load-accept.out"
	fi

run_mt 0 load-json -s "unix:$tmp/all.sock" --load -c 2 -n 50 -r 5 -m 3 \
    --expect continue --json -a 2001:db8::1 &&
	if grep -q '"rcpts":50,' "$tmp/load-json.out" &&
	    grep -q '"continue":50,' "$tmp/load-json.out"; then
		pass "load: JSON output, all stages, IPv6 client"
	else
		fail "load-json: wrong output"
		cat "$tmp/load-json.out"
	fi

# --macro adds a macro to a stage; the filter sees it.
printf '%s\n' '<macro-rcpt_host@example.com>' >"$tmp/rcpts3.txt"
run_mt 0 load-macro -s "unix:$tmp/test.sock" --load -c 2 -n 20 -r 2 \
    -f "$tmp/rcpts3.txt" --macro 'rcpt:{rcpt_host}=[10.9.9.9]' \
    --expect 'reject 550 5.7.1 rcpt_host=[10.9.9.9]' &&
	pass "load: --macro reaches the filter"
run_mt 2 load-badmacro -s "unix:$tmp/test.sock" --load -c 1 -n 2 \
    --macro 'body:x=y' && pass "load: bad --macro, exit 2"

run_mt 2 load-nosocket -s "unix:$tmp/none.sock" --load -c 2 -n 10 &&
	pass "load: missing socket, exit 2"

# Cross-check with Debian's miltertest: the same session as milter-test,
# the same expectations.
if command -v miltertest >/dev/null 2>&1; then
	# cross NAME SOCKET EOM RCPT=LUAREPLY=SCENARIO_EXPECT...
	cross() {
		local name=$1 sock=$2 eom=$3 spec addr lr se rcpts=""
		shift 3
		{
			echo "connect 192.0.2.1 client.example.net"
			echo "mail <sender@example.net>"
			for spec in "$@"; do
				addr=${spec%%=*}
				se=${spec##*=}
				echo "rcpt $addr expect $se"
			done
			echo "eom expect $eom"
		} >"$tmp/$name.scn"
		for spec in "$@"; do
			lr=${spec#*=}
			rcpts="$rcpts ${spec%%=*}=${lr%%=*}"
		done
		run_mt 0 "$name-mt" -s "$sock" "$tmp/$name.scn" || return
		if MILTERTEST_SOCKET=$sock MILTERTEST_RCPTS=$rcpts \
		    MILTERTEST_EOM=$eom MILTERTEST_EOM_HEADER=${EOM_HEADER:-} \
		    miltertest -s "$LUA" >"$tmp/$name-lua.out" 2>&1; then
			pass "$name: milter-test and miltertest agree"
		else
			fail "$name: miltertest disagrees"
			cat "$tmp/$name-lua.out"
		fi
	}
	cross cross-null "unix:$tmp/null.sock" continue \
	    "<u@example.com>=continue=continue" \
	    "<u%victim.test@example.com>=continue=continue" \
	    "<postmaster>=continue=continue"
	EOM_HEADER=X-Nullmilter=modified cross cross-test \
	    "unix:$tmp/test.sock" accept \
	    "<u@example.com>=continue=continue" \
	    "<reject@example.com>=reject=reject" \
	    "<tempfail@example.com>=tempfail=tempfail" \
	    "<code-554-5.7.1@example.com>=replycode=reject 554 5.7.1" \
	    "<code-451-4.7.1@example.com>=replycode=tempfail 451 4.7.1" \
	    "<mod@example.com>=continue=continue"
	cross cross-all "unix:$tmp/all.sock" continue \
	    "<u@example.com>=continue=continue"
	# The Lua side must be able to fail too.
	if MILTERTEST_SOCKET=unix:$tmp/null.sock \
	    MILTERTEST_RCPTS="<u@example.com>=reject" \
	    miltertest -s "$LUA" >"$tmp/lua-neg.out" 2>&1; then
		fail "miltertest: a wrong expectation passed"
	elif grep -q "FAIL: RCPT <u@example.com>: expected reject" \
	    "$tmp/lua-neg.out"; then
		pass "miltertest: a wrong expectation fails"
	else
		fail "miltertest: unexpected output"
		cat "$tmp/lua-neg.out"
	fi
else
	fail "miltertest not installed (package miltertest)"
fi

# valgrind: no leak, no memory error, in scenario and load mode.
if [ -n "${MR_SANITIZE:-}" ]; then
	# not a skip: the plain build's make check runs it
	echo "not applicable: valgrind in a sanitizer build (ASan's shadow" \
	    "memory and valgrind exclude each other; make check runs it)"
elif command -v valgrind >/dev/null 2>&1; then
	vg="valgrind -q --leak-check=full --errors-for-leak-kinds=all
	    --error-exitcode=99"
	$vg "$MT" -s "unix:$tmp/test.sock" "$SCN/test-replies.scn" \
	    "$SCN/test-fail.scn" >"$tmp/vg1.out" 2>&1
	rc1=$?
	$vg "$MT" -s "unix:$tmp/test.sock" --load -c 3 -n 60 -r 3 \
	    -f "$tmp/rcpts.txt" >"$tmp/vg2.out" 2>&1
	rc2=$?
	if [ "$rc1" -eq 1 ] && [ "$rc2" -eq 0 ]; then
		pass "valgrind: no leaks or errors"
	else
		fail "valgrind: exit status $rc1/$rc2"
		cat "$tmp/vg1.out" "$tmp/vg2.out"
	fi
else
	fail "valgrind not installed"
fi

# The filters are still alive (none crashed during the tests).
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null || fail "nullmilter pid $p died"
done

if [ "$failures" -ne 0 ]; then
	echo "harness: $failures failure(s)"
	exit 1
fi
echo "harness: all tests passed"
exit 0
