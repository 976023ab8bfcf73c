#!/bin/bash
# verify.sh - part 8 of "make bench": recipients = "verify"
#
# usage: MR_BUILD=DIR bash test/bench/verify.sh RCPTS [ROUNDS] [CONNS]
#
# Called by test/bench/run.sh.  One milter-relay with two rules that
# send to the same smart host, an smtp-sink on loopback (which answers
# 250 to every RCPT): any.test (recipients "any") and ver.test
# (recipients "verify", cache in a temporary LMDB file).  milter-test
# --load against the milter socket, 1000 distinct addresses used in
# turn, every reply checked (--expect continue):
#
#   a. callouts/s: RCPTs for addresses never seen, each one a callout
#      (CONNS connections, max_probes 64), the first time through the
#      1000 ver.test addresses and a second, fresh set;
#   b. RCPT decisions/s, ver.test from the cache vs any.test: ROUNDS
#      interleaved rounds of RCPTS each, the median of each, the ratio
#      (target >= 0.9); and the worker's own CPU time per RCPT (user +
#      system from /proc), the steadier figure on a shared machine.
#
# Prints "what|figure|note" lines on stdout, the runs on stderr.  Exit 1
# when a run went wrong; every process is stopped at exit.
set -u

NRCPT=${1:?usage: verify.sh RCPTS [ROUNDS] [CONNS]}
ROUNDS=${2:-3}
CONNS=${3:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
. "$HERE/../lib/port.sh"
B=${MR_BUILD:-.}
MR=$B/milter/milter-relay
MT=$B/test/harness/milter-test
command -v smtp-sink >/dev/null || { echo "verify.sh: no smtp-sink" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mr-bench-verify.XXXXXX") || exit 1
PIDS=()
cleanup() {
	stop_pids 5 "${PIDS[@]}"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() {
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = op == ">=" ? v >= l : v <= l
		print ok ? "ok" : "MISSED" }'
}

SINK=$(mr_free_port) || exit 1
u=()
[ "$(id -u)" = 0 ] && u=(-u nobody)
smtp-sink "${u[@]}" "127.0.0.1:$SINK" 256 >"$T/sink.log" 2>&1 &
PIDS+=("$!")
wait_for 30 port_open "$SINK" || { echo "verify.sh: smtp-sink did not start" >&2; exit 1; }

cat >"$T/mr.conf" <<EOF
verify = { cache = "$T/verify.lmdb"; max_probes = 64; timeout = "5s"; };
domains = (
  { match = "any.test"; smarthost = "[127.0.0.1]:$SINK"; },
  { match = "ver.test"; smarthost = "[127.0.0.1]:$SINK";
    recipients = "verify"; }
);
EOF
if ! daemon_start 60 "$T/mr.log" "$T/mr.sock" "$MR" -f -c "$T/mr.conf" \
    -p "unix:$T/mr.sock" -P "$T/mr.pid"; then
	cat "$T/mr.log" >&2
	exit 1
fi

for d in any ver; do
	awk -v d="$d" 'BEGIN { for (i = 0; i < 1000; i++)
		print "<u" i "@" d ".test>" }' >"$T/$d.rcpts"
done
awk 'BEGIN { for (i = 0; i < 1000; i++) print "<fresh" i "@ver.test>" }' \
    >"$T/fresh.rcpts"

STATUS=0
load() {	# RCPTS-FILE N: the machine line
	local out
	out=$("$MT" -s "unix:$T/mr.sock" --load -c "$CONNS" -n "$2" -r 5 -m 10 \
	    -f "$1" --expect continue -t 30 2>"$T/load.err")
	if [ $? -ne 0 ]; then
		echo "verify.sh: load $1: $(tail -1 <<<"$out") $(cat "$T/load.err")" >&2
		STATUS=1
	fi
	tail -1 <<<"$out"
}

# a. callouts/s: every RCPT a new address
: >"$T/probe.rates"
for f in ver fresh; do
	l=$(load "$T/$f.rcpts" 1000)
	echo "   callouts, $f: $l" >&2
	field rcpts_per_s "$l" >>"$T/probe.rates"
done
probes=$(grep -c 'verify: rcpt=' "$T/mr.log")
[ "$probes" = 2000 ] || { echo "verify.sh: $probes callouts, want 2000" >&2; STATUS=1; }

# b. cached verify vs any, interleaved
load "$T/any.rcpts" 5000 >/dev/null
: >"$T/any.rates"
: >"$T/ver.rates"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="any ver"; else order="ver any"; fi
	for who in $order; do
		c0=$(cpu_ticks "$WPID")
		l=$(load "$T/$who.rcpts" "$NRCPT")
		c1=$(cpu_ticks "$WPID")
		echo "   round $r $who: $l" >&2
		field rcpts_per_s "$l" >>"$T/$who.rates"
		awk -v a="$c0" -v b="$c1" -v n="$NRCPT" \
		    -v hz="$(getconf CLK_TCK)" 'BEGIN {
			printf "%.1f\n", (b - a) / hz / n * 1e6 }' >>"$T/$who.cpu"
	done
done
probes2=$(grep -c 'verify: rcpt=' "$T/mr.log")
[ "$probes2" = "$probes" ] ||
    { echo "verify.sh: cached rounds took $((probes2 - probes)) callouts" >&2; STATUS=1; }

pm=$(median <"$T/probe.rates")
am=$(median <"$T/any.rates")
vm=$(median <"$T/ver.rates")
rr=$(ratio "$vm" "$am")
echo "8. callouts/s, smtp-sink on loopback|$pm|$CONNS connections, 2 x 1000 new addresses"
echo "   RCPT/s recipients=any (median of $ROUNDS)|$am|rounds: $(tr '\n' ' ' <"$T/any.rates")"
echo "   RCPT/s recipients=verify, cached|$vm|rounds: $(tr '\n' ' ' <"$T/ver.rates")"
echo "   ratio verify cached / any|$rr|>= 0.9: $(verdict "$rr" '>=' 0.9)"
ac=$(median <"$T/any.cpu")
vc=$(median <"$T/ver.cpu")
echo "   worker CPU us/RCPT any, verify cached|$ac, $vc|ratio $(ratio "$ac" "$vc") (any/verify, user+sys; steadier on a shared machine)"
exit "$STATUS"
