#!/bin/bash
# run.sh - "make bench": what milter-relay costs, side by side in one run
#
# Run by "make bench" with MR_BUILD (the built tree); never part of
# "make check".  Everything on loopback, in one invocation, in about ten
# minutes on a 2-core machine.  Prints one table (and writes it to
# $BENCH_OUT, default /tmp/milter-relay-bench.txt):
#
#   1. trie vs hsearch_r parent walk at N rules (test/bench/bench_trie);
#   2. RCPT decisions/s, milter-relay with N rules vs nullmilter: same
#      harness (milter-test --load), same connections, interleaved
#      rounds, the median of BENCH_ROUNDS rounds each; every reply is
#      checked (--expect continue);
#   3. socketmap lookups/s with N rules (test/bench/bench_smap, several
#      connections), every request answered;
#   4. RCPT latency p99 and max while an N-rule reload happens, vs the
#      same load without reload;
#   5. the daemon's worker RSS: with N rules, and after BENCH_RSS_RCPTS
#      RCPTs in total (plus a daemon with 10 rules for the per-rule size);
#   6. Postfix end to end (test/bench/e2e.sh, needs root and Postfix):
#      smtp-source -> private Postfix -> smtp-sink, (a) hash maps, (b)
#      milter-relay as milter and socketmap, (c) nullmilter + hash maps,
#      (d) maps-only mode (contrib/postfix/main-maps.cf: socketmap
#      transport, rcpt; no relay_domains, no milter), (e) static mode
#      (contrib/postfix/main-static.cf: the lmdb: tables milter-relay
#      writes into maps_dir; no milter, no socketmap);
#   7. the metrics endpoint: RCPT/s of two daemons with the same 1000
#      inline rules (every decision counts a rule hit), one without
#      "metrics", one with it scraped 10 times a second, interleaved
#      rounds, the median of BENCH_ROUNDS each;
#   8. recipients = "verify" (test/bench/verify.sh): callouts/s to an
#      smtp-sink on loopback, and cached verify decisions/s vs "any";
#   9. rules from PostgreSQL (test/bench/pgsql.sh, needs root and the
#      postgresql package): import --to of N rules, daemon start with N
#      rules from the table vs from a domains_file, NOTIFY-to-answer time
#      with N rows and with 10 rows;
#  10. static mode: the daemon's first write of the four tables of N
#      rules into an empty maps_dir (its log line's time) vs postmap(1)
#      building the same four lmdb: tables from "milter-relay export -s"
#      text (needs postfix-lmdb);
#  11. a change at the cost of the change (test/bench/incremental.sh,
#      needs root, postfix-lmdb and the postgresql package): one rule
#      appended to the domains_file until static mode's transport.lmdb
#      answers it, one INSERT until the socketmap answers it, a burst of
#      1,000 changes until three daemons on one table answer the last,
#      and the worker's peak RSS in a change, each beside a full rebuild.
#
# Knobs (environment): BENCH_RULES (1000000), BENCH_ROUNDS (3),
# BENCH_RCPTS (RCPTs a round, 60000), BENCH_CONNS (8), BENCH_RSS_RCPTS
# (1000000), BENCH_E2E_MSGS (messages a Postfix run, 1000),
# BENCH_E2E_ROUNDS (3), BENCH_LAT_CONNS (connections of the latency
# runs of part 4, 2),
# BENCH_SKIP (words: trie rcpt smap reload rss e2e metrics verify pgsql
# static incremental).
#
# The project's targets are printed next to the figures as "ok"
# or "MISSED"; the exit status is 0 whenever the runs themselves worked
# (every reply as expected), 1 when one did not: the machine is shared
# and noisy, so figures are reported, not asserted.
#
# The daemon logs to a file in the foreground (-f, one write(2) per
# line), as there is no syslogd here: see README.md.  Every process
# started here is stopped by pid at exit.
set -u

B=${MR_BUILD:-.}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
. "$HERE/../lib/port.sh"
MR=$B/milter/milter-relay
MT=$B/test/harness/milter-test
NULL=$B/test/harness/nullmilter
TRIE=$B/test/bench/bench_trie
SMAP=$B/test/bench/bench_smap

RULES=${BENCH_RULES:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
NRCPT=${BENCH_RCPTS:-60000}
CONNS=${BENCH_CONNS:-8}
LAT_CONNS=${BENCH_LAT_CONNS:-2}
RSS_RCPTS=${BENCH_RSS_RCPTS:-1000000}
E2E_MSGS=${BENCH_E2E_MSGS:-1000}
E2E_ROUNDS=${BENCH_E2E_ROUNDS:-3}
SKIP=" ${BENCH_SKIP:-} "
OUT=${BENCH_OUT:-/tmp/milter-relay-bench.txt}
WAIT=120

for f in "$MR" "$MT" "$NULL" "$TRIE" "$SMAP"; do
	[ -x "$f" ] || { echo "run.sh: $f not built (make bench)"; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mr-bench.XXXXXX") || exit 1
chmod 755 "$T"
PIDS=()
STATUS=0
START=$SECONDS

cleanup() {
	stop_pids 5 "${PIDS[@]}"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skipped() { [[ $SKIP == *" $1 "* ]]; }
note() { echo "-- $* ($((SECONDS - START))s)" >&2; }
bad() { echo "run.sh: $*" >&2; STATUS=1; : >"$T/failed"; }

count_in() { grep -cF -- "$2" "$1" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }


# field NAME LINE: the value of NAME=VALUE in a key=value line
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() {	# VALUE OP LIMIT
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = op == ">=" ? v >= l : v <= l
		print ok ? "ok" : "MISSED" }'
}
# CPU time (user + system, clock ticks) of a process and its threads
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# --- inputs ------------------------------------------------------------------

# Rules like bench_trie's: 70% namespace, 20% exact (#), 10% subdomains
# only (.), every 50th a deny rule, every 20th trusted-only, two thirds
# with a smart host.
gen_rules() {	# N
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			m = i % 10
			p = (m == 3 || m == 7) ? "#" : (m == 5 ? "." : "")
			s = ""
			if (i % 50 == 11)
				s = " relay=deny"
			else {
				if (i % 20 == 1)
					s = " relay=trusted"
				if (i % 3 != 0)
					s = s " smarthost=[192.0.2." (i % 4 + 1) "]"
			}
			print p "d" i ".example-" (i % 1000) ".com" s
		}
	}'
}

# Recipients the rules relay for an untrusted client: names and
# subdomains of namespace rules that are neither deny nor trusted-only.
gen_rcpts() {	# N RULES
	awk -v n="$1" -v r="$2" 'BEGIN {
		srand(42)
		while (k < n) {
			i = int(rand() * r)
			m = i % 10
			if (m == 3 || m == 5 || m == 7 || i % 50 == 11 ||
			    i % 20 == 1)
				continue
			sub_ = k % 2 ? "" : "mx" k % 7 "."
			print "<u" k "@" sub_ "d" i ".example-" (i % 1000) ".com>"
			k++
		}
	}'
}

# Socketmap queries: relay and transport, names, subdomains, unknown.
gen_keys() {	# N RULES
	awk -v n="$1" -v r="$2" 'BEGIN {
		srand(7)
		for (k = 0; k < n; k++) {
			i = int(rand() * r)
			map = k % 2 ? "relay" : "transport"
			c = k % 10
			if (c < 4)
				d = "d" i ".example-" (i % 1000) ".com"
			else if (c < 7)
				d = "www.d" i ".example-" (i % 1000) ".com"
			else
				d = "u" i ".example-" (i % 1000) ".net"
			print map " " d
		}
	}'
}

write_conf() {	# FILE RULESFILE
	cat >"$1" <<EOF
# milter-relay configuration of test/bench/run.sh
policy = {
  unmatched = "reject";
  trusted_networks = [ "192.0.2.0/24" ];
  trust_authenticated = true;
  mode = "enforce";
  route_check = "log";
};
domains_file = "$2";
EOF
}

# --- daemons -------------------------------------------------------------------

DPID=
WPID=
start_mr() {	# NAME CONF [SMPORT [OPTIONS...]]: sets DPID, WPID
	local name=$1 conf=$2 sm=()
	[ -n "${3:-}" ] && sm=(-m "inet:$3@127.0.0.1")
	shift 2
	[ $# -gt 0 ] && shift
	if ! daemon_start "$WAIT" "$T/$name.log" "$T/$name.sock" \
	    "$MR" -f -c "$conf" -p "unix:$T/$name.sock" -P "$T/$name.pid" \
	    "${sm[@]}" "$@"; then
		cat "$T/$name.log" >&2
		return 1
	fi
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait_for 30 eval "! kill -0 $1 2>/dev/null"
	wait "$1" 2>/dev/null
}

# load SOCKET N [extra milter-test options]: the machine line on stdout
load() {
	local sock=$1 n=$2 out
	shift 2
	out=$("$MT" -s "unix:$sock" --load -c "${LC:-$CONNS}" -n "$n" -r 5 -m 10 \
	    -f "$T/rcpts" --expect continue -t 30 "$@" 2>"$T/load.err")
	if [ $? -ne 0 ]; then
		bad "load on $sock failed: $(tail -1 <<<"$out") $(cat "$T/load.err")"
	fi
	tail -1 <<<"$out"
}

# --- the table ---------------------------------------------------------------

ROWS=()
row() {	# what | figure | ratio/target
	ROWS+=("$(printf '%-44s %-34s %s' "$1" "$2" "${3:-}")")
	printf '%-44s %-34s %s\n' "$1" "$2" "${3:-}" >&2
}

# numbered SCRIPT WHAT ARGS...: run test/bench/SCRIPT ARGS; its
# "part|what|figure|note" lines become rows, the part's number on the
# first; WHAT names it when it fails
numbered() {
	local script=$1 what=$2 first=1 n a b c
	shift 2
	if MR_BUILD=$B bash "$HERE/$script" "$@" >"$T/$script.out" \
	    2>"$T/$script.err"; then
		cat "$T/$script.err" >&2
		while IFS='|' read -r n a b c; do
			if [ "$first" = 1 ]; then
				a="$n. $a"
			else
				a="$(printf '%*s' $((${#n} + 2)) '')$a"
			fi
			first=0
			row "$a" "$b" "$c"
		done <"$T/$script.out"
	else
		cat "$T/$script.out" "$T/$script.err" >&2
		bad "$what failed"
	fi
}

note "generating $RULES rules and the inputs in $T"
gen_rules "$RULES" >"$T/rules"
gen_rcpts 200000 "$RULES" >"$T/rcpts"
gen_keys 200000 "$RULES" >"$T/keys"
write_conf "$T/big.conf" "$T/rules"
gen_rules 10 >"$T/small.rules"
write_conf "$T/small.conf" "$T/small.rules"

# 1. trie vs hsearch_r
if ! skipped trie; then
	note "1. bench_trie $RULES"
	"$TRIE" "$RULES" >"$T/trie.out" 2>&1 || bad "bench_trie failed"
	cat "$T/trie.out" >&2
	set -- $(awk -v n="$RULES" '$1 == n { print $2, $3, $4, $5 }' \
	    "$T/trie.out")
	if [ $# -eq 4 ]; then
		row "1. trie lookups/s, $RULES rules, 1 core" "$1" \
		    "target >= 5M/s: $(verdict "$1" '>=' 5000000)"
		row "   hsearch_r + parent walk lookups/s" "$2" \
		    "trie/hsearch = $3 (>= 2: $(verdict "$3" '>=' 2))"
		row "   trie bytes/rule (RSS delta)" "$4" \
		    "<= 100: $(verdict "$4" '<=' 100)"
	fi
	l=$(sed -n 's/^config_load of .*: \([0-9.]*\) s$/\1/p' "$T/trie.out")
	[ -n "$l" ] && row "   config_load of the domains_file, s" "$l"
fi

SMPORT=$(mr_free_port) || { echo "no free port" >&2; exit 1; }
note "starting milter-relay with $RULES rules, nullmilter"
t0=$(date +%s.%N)
start_mr big "$T/big.conf" "$SMPORT" || { bad "milter-relay did not start"; exit 1; }
t1=$(date +%s.%N)
MR_D=$DPID
MR_W=$WPID
"$NULL" -f -p "unix:$T/null.sock" 2>"$T/null.log" &
NULL_PID=$!
PIDS+=("$NULL_PID")
wait_for "$WAIT" test -S "$T/null.sock" || { bad "nullmilter did not start"; exit 1; }
wait_for "$WAIT" port_open "$SMPORT" || bad "no socketmap on $SMPORT"
row "   daemon start with $RULES rules, s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
RSS_START=$(rss_kb "$MR_W")
SENT=0

# 2. RCPT decisions/s, interleaved rounds
if ! skipped rcpt; then
	note "2. RCPT rounds: $ROUNDS x $NRCPT RCPTs, $CONNS connections"
	load "$T/null.sock" 5000 >/dev/null
	load "$T/big.sock" 5000 >/dev/null
	SENT=$((SENT + 5000))
	: >"$T/null.rates"
	: >"$T/mr.rates"
	for r in $(seq 1 "$ROUNDS"); do
		# alternate who goes first so that drift hits both alike
		if [ $((r % 2)) = 1 ]; then order="null big"; else order="big null"; fi
		for who in $order; do
			pid=$NULL_PID
			[ "$who" = big ] && pid=$MR_W
			c0=$(cpu_ticks "$pid")
			l=$(load "$T/$who.sock" "$NRCPT")
			c1=$(cpu_ticks "$pid")
			echo "   round $r $who: $l" >&2
			field rcpts_per_s "$l" >>"$T/$who.rates"
			awk -v a="$c0" -v b="$c1" -v n="$NRCPT" \
			    -v hz="$(getconf CLK_TCK)" 'BEGIN {
				printf "%.1f\n", (b - a) / hz / n * 1e6 }' \
			    >>"$T/$who.cpu"
			[ "$who" = big ] && echo "$l" >>"$T/mr.lines"
		done
		SENT=$((SENT + NRCPT))
	done
	mv "$T/big.rates" "$T/mr.rates" 2>/dev/null
	nm=$(median <"$T/null.rates")
	mm=$(median <"$T/mr.rates")
	rr=$(ratio "$mm" "$nm")
	row "2. RCPT/s nullmilter (median of $ROUNDS)" "$nm" \
	    "rounds: $(tr '\n' ' ' <"$T/null.rates")"
	row "   RCPT/s milter-relay, $RULES rules" "$mm" \
	    "rounds: $(tr '\n' ' ' <"$T/mr.rates")"
	row "   ratio milter-relay / nullmilter" "$rr" \
	    ">= 0.95: $(verdict "$rr" '>=' 0.95)"
	nc=$(median <"$T/null.cpu")
	mc=$(median <"$T/big.cpu")
	row "   daemon CPU us/RCPT nullmilter, milter-relay" "$nc, $mc" \
	    "ratio $(ratio "$nc" "$mc") (null/relay, user+sys)"
	l=$(tail -1 "$T/mr.lines")
	row "   milter-relay RCPT latency p50/p99/max us" \
	    "$(field p50_us "$l")/$(field p99_us "$l")/$(field max_us "$l")"
fi

# 3. socketmap lookups/s
if ! skipped smap; then
	note "3. socketmap: $CONNS connections"
	"$SMAP" -p "$SMPORT" -c 2 -n 20000 -f "$T/keys" >/dev/null
	: >"$T/smap.rates"
	for r in $(seq 1 "$ROUNDS"); do
		l=$("$SMAP" -p "$SMPORT" -c "$CONNS" -n 200000 -f "$T/keys") ||
		    bad "bench_smap: $l"
		echo "   round $r: $l" >&2
		field lookups_per_s "$l" >>"$T/smap.rates"
	done
	sm=$(median <"$T/smap.rates")
	row "3. socketmap lookups/s, $CONNS conns (median)" "$sm" \
	    "ok/notfound $(field ok "$l")/$(field notfound "$l")"
	if [ -n "${mm:-}" ]; then
		rr=$(ratio "$sm" "$mm")
		row "   socketmap / milter RCPT decisions" "$rr" \
		    ">= 1: $(verdict "$rr" '>=' 1)"
	fi
fi

# 4. reload under load
if ! skipped reload; then
	note "4. reload under load"
	n4=$((NRCPT * 3))
	# an idle reload first: the time the reload itself takes
	before=$(count_in "$T/big.log" "reload: $T/big.conf: OK")
	ti0=$(date +%s.%N)
	kill -HUP "$MR_D"
	wait_for "$WAIT" eval '[ "$(count_in "$T/big.log" "reload: $T/big.conf: OK")" -gt "$before" ]' ||
	    bad "the idle reload did not finish"
	ti1=$(date +%s.%N)
	idle=$(awk -v a="$ti0" -v b="$ti1" 'BEGIN { printf "%.2f", b - a }')
	base=$(LC=$LAT_CONNS load "$T/big.sock" "$n4")
	SENT=$((SENT + n4))
	before=$(count_in "$T/big.log" "reload: $T/big.conf: OK")
	"$MT" -s "unix:$T/big.sock" --load -c "$LAT_CONNS" -n "$n4" -r 5 -m 10 \
	    -f "$T/rcpts" --expect continue -t 30 >"$T/reload.out" 2>&1 &
	lp=$!
	PIDS+=("$lp")
	sleep 0.5
	tr0=$(date +%s.%N)
	kill -HUP "$MR_D"
	wait_for "$WAIT" eval '[ "$(count_in "$T/big.log" "reload: $T/big.conf: OK")" -gt "$before" ]' ||
	    bad "the reload did not finish"
	tr1=$(date +%s.%N)
	wait "$lp" || bad "load during reload: $(cat "$T/reload.out")"
	SENT=$((SENT + n4))
	during=$(tail -1 "$T/reload.out")
	dur=$(awk -v a="$tr0" -v b="$tr1" 'BEGIN { printf "%.2f", b - a }')
	echo "   without reload: $base" >&2
	echo "   with reload:    $during" >&2
	row "4. RCPT p99/max us, no reload" \
	    "$(field p99_us "$base")/$(field max_us "$base")" \
	    "$(field rcpts_per_s "$base") RCPT/s"
	p99=$(field p99_us "$during")
	row "   RCPT p99/max us, $RULES-rule reload" \
	    "$p99/$(field max_us "$during")" \
	    "$(field rcpts_per_s "$during") RCPT/s; p99 <= 1000: $(verdict "$p99" '<=' 1000)"
	row "   reload of $RULES rules idle, s (SIGHUP to log)" "$idle" \
	    "<= 2: $(verdict "$idle" '<=' 2)"
	row "   reload of $RULES rules under load, s" "$dur" \
	    "$LAT_CONNS load connections on $(nproc) cores"
	# the load must have overlapped the reload
	if [ "$(field seconds "$during")" != "" ]; then
		awk -v s="$(field seconds "$during")" -v d="$dur" \
		    'BEGIN { exit !(s > d + 0.5) }' ||
		    echo "   note: the load run ($(field seconds "$during") s) was not much longer than the reload" >&2
	fi
fi

# 5. RSS
if ! skipped rss; then
	note "5. RSS"
	start_mr small "$T/small.conf" || bad "small daemon did not start"
	RSS_SMALL=$(rss_kb "$WPID")
	stop_pid "$DPID"
	RSS_1=$(rss_kb "$MR_W")
	left=$((RSS_RCPTS - SENT))
	if [ "$left" -gt 0 ]; then
		note "   $left more RCPTs to reach $RSS_RCPTS"
		load "$T/big.sock" "$left" >/dev/null
		SENT=$((SENT + left))
	fi
	RSS_2=$(rss_kb "$MR_W")
	row "5. worker RSS, 10 rules, KiB" "$RSS_SMALL"
	row "   worker RSS, $RULES rules, at start, KiB" "$RSS_START" \
	    "$(awk -v a="$RSS_START" -v b="$RSS_SMALL" -v n="$RULES" 'BEGIN { printf "%.1f bytes/rule", (a - b) * 1024 / n }')"
	row "   worker RSS after the rounds above, KiB" "$RSS_1" \
	    "(includes one reload of $RULES rules)"
	row "   worker RSS after $SENT RCPTs, KiB" "$RSS_2" \
	    "growth $((RSS_2 - RSS_1)) KiB over the last $left RCPTs"
fi

stop_pid "$MR_D"

# 7. metrics endpoint on vs off
if ! skipped metrics; then
	note "7. metrics: $ROUNDS x $NRCPT RCPTs, scraped 10/s vs no endpoint"
	HPORT=$(mr_free_port) || { echo "no free port" >&2; exit 1; }
	{
		echo 'policy = { unmatched = "reject"; };'
		echo 'domains = ('
		awk 'BEGIN { for (i = 0; i < 1000; i++)
			printf "  { match = \"example-%d.com\"; smarthost = \"[192.0.2.1]\"; }%s\n",
			    i, i < 999 ? "," : "" }'
		echo ');'
	} >"$T/inline.conf"
	start_mr moff "$T/inline.conf" || bad "moff did not start"
	OFF_D=$DPID
	start_mr mon "$T/inline.conf" "" -M "inet:$HPORT@127.0.0.1" ||
	    bad "mon did not start"
	ON_D=$DPID
	wait_for "$WAIT" port_open "$HPORT" || bad "no metrics on $HPORT"
	( while :; do
		curl -sf -o /dev/null "http://127.0.0.1:$HPORT/metrics" ||
		    echo fail >>"$T/scrape.fail"
		sleep 0.1
	done ) &
	SCRAPER=$!
	PIDS+=("$SCRAPER")
	load "$T/moff.sock" 5000 >/dev/null
	load "$T/mon.sock" 5000 >/dev/null
	: >"$T/moff.rates"
	: >"$T/mon.rates"
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then order="moff mon"; else order="mon moff"; fi
		for who in $order; do
			l=$(load "$T/$who.sock" "$NRCPT")
			echo "   round $r $who: $l" >&2
			field rcpts_per_s "$l" >>"$T/$who.rates"
		done
	done
	kill "$SCRAPER" 2>/dev/null
	wait "$SCRAPER" 2>/dev/null
	hits=$(curl -sf "http://127.0.0.1:$HPORT/metrics" |
	    awk 'index($1, "milter_relay_rule_hits_total{") == 1 { n += $NF }
	    END { print n + 0 }')
	[ -s "$T/scrape.fail" ] && bad "$(wc -l <"$T/scrape.fail") scrapes failed"
	off=$(median <"$T/moff.rates")
	on=$(median <"$T/mon.rates")
	rr=$(ratio "$on" "$off")
	row "7. RCPT/s, 1000 inline rules, no endpoint" "$off" \
	    "rounds: $(tr '\n' ' ' <"$T/moff.rates")"
	row "   RCPT/s, endpoint scraped 10/s" "$on" \
	    "rounds: $(tr '\n' ' ' <"$T/mon.rates")"
	row "   ratio metrics on / off" "$rr" \
	    ">= 0.95: $(verdict "$rr" '>=' 0.95); rule hits $hits"
	stop_pid "$OFF_D"
	stop_pid "$ON_D"
fi

# 6. Postfix end to end
if ! skipped e2e; then
	note "6. Postfix end to end, $E2E_MSGS messages a run"
	if MR_BUILD=$B bash "$HERE/e2e.sh" "$RULES" "$E2E_MSGS" "$E2E_ROUNDS" \
	    >"$T/e2e.out" 2>"$T/e2e.err"; then
		cat "$T/e2e.err" >&2
		while IFS='|' read -r a b c; do
			row "$a" "$b" "$c"
		done <"$T/e2e.out"
	else
		cat "$T/e2e.out" "$T/e2e.err" >&2
		bad "Postfix end to end failed"
	fi
fi

# 8. recipient verification
if ! skipped verify; then
	note "8. recipients = verify"
	if MR_BUILD=$B bash "$HERE/verify.sh" "$((NRCPT / 2))" "$ROUNDS" \
	    "$CONNS" >"$T/verify.out" 2>"$T/verify.err"; then
		cat "$T/verify.err" >&2
		while IFS='|' read -r a b c; do
			row "$a" "$b" "$c"
		done <"$T/verify.out"
	else
		cat "$T/verify.out" "$T/verify.err" >&2
		bad "recipients = verify bench failed"
	fi
fi

# 9. rules from PostgreSQL
if ! skipped pgsql; then
	note "9. rules from PostgreSQL, $RULES rows"
	numbered pgsql.sh "rules from PostgreSQL" "$RULES"
fi

# 10. static tables: milter-relay's write vs postmap(1) on export's text
if ! skipped static; then
	note "10. static write of $RULES rules vs postmap"
	if ! command -v postmap >/dev/null ||
	    ! postconf -m 2>/dev/null | grep -qx lmdb; then
		bad "10: needs postmap with lmdb (postfix-lmdb)"
	else
		mkdir -p "$T/maps" "$T/pm"
		write_conf "$T/static.conf" "$T/rules"
		echo "maps_dir = \"$T/maps\";" >>"$T/static.conf"
		if start_mr static "$T/static.conf"; then
			wait_for "$WAIT" grep -q 'static maps: wrote' \
			    "$T/static.log" || bad "10: no tables written"
			secs=$(sed -n 's/.*static maps: wrote .* (\([0-9.]*\) s)$/\1/p' \
			    "$T/static.log" | head -n 1)
			stop_pid "$DPID"
		else
			bad "10: the daemon did not start"
		fi
		pm=0
		for t in access:postfix-access \
		    relay_domains:postfix-relay-domains \
		    transport:postfix-transport tls_policy:postfix-tls-policy
		do
			f=$T/pm/${t%%:*}
			"$MR" export -s -c "$T/static.conf" "${t#*:}" >"$f" \
			    2>/dev/null || bad "10: export ${t#*:} failed"
			t0=$(date +%s.%N)
			postmap "lmdb:$f" || bad "10: postmap $f failed"
			t1=$(date +%s.%N)
			pm=$(awk -v a="$pm" -v b="$t0" -v c="$t1" \
			    'BEGIN { printf "%.2f", a + c - b }')
		done
		n=$(cat "$T"/pm/access "$T"/pm/relay_domains \
		    "$T"/pm/transport "$T"/pm/tls_policy | grep -vc '^#')
		r=$(ratio "$pm" "${secs:-0}")
		row "10. static write, $RULES rules, $n entries" "${secs:-?} s" \
		    "postmap/milter-relay = $r (>= 1: $(verdict "$r" '>=' 1))"
		row "    postmap of export's text, same tables" "$pm s"
	fi
fi

# 11. a change at the cost of the change
if ! skipped incremental; then
	note "11. incremental changes, $RULES rules"
	numbered incremental.sh "incremental changes" "$RULES"
fi

{
	echo "milter-relay bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
	    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	    "load $(cut -d' ' -f1-3 /proc/loadavg), $((SECONDS - START)) s"
	printf '%-44s %-34s %s\n' "what" "figure" "ratio / target"
	for r in "${ROWS[@]}"; do
		echo "$r"
	done
} | tee "$OUT"
[ -e "$T/failed" ] && STATUS=1
[ "$STATUS" = 0 ] || echo "some runs failed: see the messages above"
exit "$STATUS"
