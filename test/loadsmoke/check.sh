#!/bin/bash
# check.sh - smoke test of the load mode against milter-relay
#
# Run by "make check" with MR_BUILD (the built tree): the short version
# of what "make bench" (test/bench/run.sh) measures, without any timing
# assertion.  Starts milter-relay in the foreground on a unix socket with
# a domains_file of 2000 generated rules (the bench's generator, scaled
# down) and proves with milter-test --load that a few hundred RCPTs from
# several connections each get the expected reply:
#
#   - relayed recipients (rule names and subdomains): every reply is
#     continue (--expect continue), the count is exact;
#   - recipients no rule covers: every reply is "554 5.7.1" (--expect
#     "reject 554 5.7.1");
#   - a mixed file (2 relayed, 1 unmatched, 1 deny rule): the counts of
#     continue and reject are exact, and --expect continue fails with
#     exactly the unmatched and denied ones as unexpected;
#   - the daemon wrote one decision line per RCPT, with the right
#     outcome, and the worker is still the same process.
#
# Every process started here is stopped by pid, also on failure.
set -u

B=${MR_BUILD:-.}
. "$(dirname "$0")/../lib/daemon.sh"
MR=$B/milter/milter-relay
MT=$B/test/harness/milter-test
T=$(mktemp -d "${TMPDIR:-/tmp}/mr-loadsmoke.XXXXXX") || exit 1
WAIT=60
TMO=15
PIDS=()
FAILS=0
OKS=0

cleanup() {
	stop_pids 10 "${PIDS[@]}"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { OKS=$((OKS + 1)); }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

for f in "$MR" "$MT"; do
	[ -x "$f" ] || { echo "FAIL: $f not built"; exit 1; }
done

# 2000 rules as in test/bench/run.sh: every 50th (i % 50 == 11) denies
awk 'BEGIN {
	for (i = 0; i < 2000; i++) {
		s = i % 50 == 11 ? " relay=deny" : " smarthost=[192.0.2.25]"
		print "d" i ".example-" (i % 100) ".com" s
	}
}' >"$T/rules"
cat >"$T/mr.conf" <<EOF
policy = {
  unmatched = "reject";
  trusted_networks = [ "192.0.2.0/24" ];
  mode = "enforce";
};
domains_file = "$T/rules";
EOF
# relayed: rule names and names below them
awk 'BEGIN { for (k = 0; k < 50; k++) { i = (k * 37) % 2000
	if (i % 50 == 11) i++
	print "<u" k "@" (k % 2 ? "" : "mx.") "d" i ".example-" (i % 100) ".com>" } }' \
    >"$T/relayed"
# unmatched: no rule covers them
awk 'BEGIN { for (k = 0; k < 20; k++)
	print "<u" k "@d" k ".example-" k ".net>" }' >"$T/unmatched"
# mixed, in a cycle of 4: relayed, relayed, unmatched, denied
awk 'BEGIN { for (k = 0; k < 25; k++) {
	i = (k * 101) % 2000; if (i % 50 == 11) i++
	print "<a" k "@d" i ".example-" (i % 100) ".com>"
	print "<b" k "@www.d" i ".example-" (i % 100) ".com>"
	print "<c" k "@nowhere" k ".example>"
	j = 50 * k + 11
	print "<d" k "@d" j ".example-" (j % 100) ".com>" } }' >"$T/mixed"

if ! daemon_start "$WAIT" "$T/mr.log" "$T/mr.sock" \
    "$MR" -f -c "$T/mr.conf" -p "unix:$T/mr.sock" -P "$T/mr.pid"; then
	echo "FAIL: milter-relay did not start"
	cat "$T/mr.log"
	exit 1
fi

# load NAME STATUS [milter-test options]: run, check the exit status;
# the machine line in $L
load() {
	local name=$1 want=$2 st
	shift 2
	"$MT" -s "unix:$T/mr.sock" -t "$TMO" --load "$@" \
	    >"$T/$name.out" 2>"$T/$name.err"
	st=$?
	L=$(grep '^rcpts=' "$T/$name.out" | tail -1)
	[ "$st" -eq "$want" ] && ok ||
	    fail "$name: exit $st, wanted $want: $(cat "$T/$name.out" "$T/$name.err")"
}
expect_fields() {	# NAME name=value...
	local name=$1 kv
	shift
	for kv in "$@"; do
		[ "$(field "${kv%%=*}" "$L")" = "${kv#*=}" ] && ok ||
		    fail "$name: wanted $kv in: $L"
	done
}

load relayed 0 -c 4 -n 300 -r 5 -m 3 -f "$T/relayed" --expect continue
expect_fields relayed rcpts=300 continue=300 reject=0 tempfail=0 \
    unexpected=0 errors=0 stage_fail=0 msgs=60

load unmatched 0 -c 3 -n 120 -r 3 -f "$T/unmatched" \
    --expect "reject 554 5.7.1"
expect_fields unmatched rcpts=120 reject=120 continue=0 unexpected=0 \
    errors=0

# -r 4 with one connection keeps the cycle of 4 aligned to messages
load mixed 1 -c 1 -n 200 -r 4 -m 5 -f "$T/mixed" --expect continue
expect_fields mixed rcpts=200 continue=100 reject=100 unexpected=100 \
    errors=0 tempfail=0
# several connections: the counts still add up, whatever the order
load mixed4 1 -c 4 -n 200 -r 4 -f "$T/mixed" --expect continue
expect_fields mixed4 rcpts=200 errors=0 tempfail=0
c=$(field continue "$L")
r=$(field reject "$L")
u=$(field unexpected "$L")
[ $((c + r)) -eq 200 ] && [ "$u" -eq "$r" ] && [ "$r" -gt 0 ] && ok ||
    fail "mixed4: continue=$c reject=$r unexpected=$u"

# one decision line per RCPT: 300 + 120 + 200 + 200
decided() { [ "$(grep -c ' outcome=' "$T/mr.log")" -ge 820 ]; }
wait_for "$WAIT" decided && ok ||
    fail "decision lines: $(grep -c ' outcome=' "$T/mr.log") for 820 RCPTs"
n=$(grep -c ' outcome=' "$T/mr.log")
[ "$n" -eq 820 ] && ok || fail "decision lines: $n for 820 RCPTs"
n=$(grep -c ' rcpt=<c[0-9]*@nowhere[0-9]*\.example> rule=- outcome=reject ' \
    "$T/mr.log")
[ "$n" -eq 100 ] && ok || fail "unmatched mixed recipients logged: $n of 100"
n=$(grep -c ' rcpt=<d[0-9]*@d[0-9]*\.example-[0-9]*\.com> rule=d[0-9]*\.example-[0-9]*\.com outcome=reject ' \
    "$T/mr.log")
[ "$n" -eq 100 ] && ok || fail "denied mixed recipients logged: $n of 100"
[ "$(worker_of "$T/mr.log")" = "$WPID" ] && kill -0 "$WPID" 2>/dev/null && ok ||
    fail "the worker was restarted during the load"

kill -TERM "$DPID"
wait_for "$WAIT" eval "! kill -0 $DPID 2>/dev/null" && ok ||
    fail "milter-relay ignores SIGTERM"
echo "== loadsmoke: $OKS checks passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
