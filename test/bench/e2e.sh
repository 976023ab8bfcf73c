#!/bin/bash
# e2e.sh - part 6 of "make bench": Postfix end to end, messages/s
#
# usage: MR_BUILD=DIR bash test/bench/e2e.sh RULES MESSAGES [ROUNDS]
#
# Called by test/bench/run.sh.  With test/e2e/lib.sh: one private
# Postfix on loopback, an smtp-sink as smart host, smtp-source sending
# MESSAGES messages (10 sessions in parallel, -N: a new recipient each
# time) to a domain of RULES generated rules, in five set-ups:
#
#   a. relay_domains and transport_maps from one hash: table of RULES
#      names ("NAME smtp:[127.0.0.1]:SINK"; a hash relay_domains table
#      ignores the value), no milter;
#   b. relay_domains and transport_maps from milter-relay's socketmap,
#      milter-relay as smtpd_milters, the same RULES names as rules;
#   c. the hash maps of a, test/harness/nullmilter as smtpd_milters;
#   d. maps-only mode: the lines of contrib/postfix/main-maps.cf
#      verbatim (transport_maps and the "rcpt" map in
#      smtpd_relay_restrictions from milter-relay's socketmap,
#      relay_domains empty; only the port differs), no milter;
#   e. static mode: the lines of contrib/postfix/main-static.cf verbatim
#      (lmdb: tables; only the directory differs), read from the tables
#      milter-relay wrote into its maps_dir at start, no milter and no
#      socketmap.
#
# Every set-up gets a main.cf made afresh (pf_create: the common lines,
# then its own), so that no setting of one leaks into the next.
# ROUNDS (default 3) rounds of a, b, c, d, e interleaved (the order
# turns by one set-up each round); a run is timed from the start of
# smtp-source until the sink holds every message.  Prints
# "what|figure|note" lines (the median of each set-up, b/a, c/a, d/a,
# e/a and the spread of each set-up's rounds) on stdout, the runs on
# stderr.  Exit 1 when a run lost a message or a daemon did not start;
# every process is stopped at exit (lib.sh).
set -u

RULES=${1:?usage: e2e.sh RULES MESSAGES [ROUNDS]}
MSGS=${2:?usage: e2e.sh RULES MESSAGES [ROUNDS]}
ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"

e2e_init bench
command -v smtp-source >/dev/null || e2e_skip "smtp-source not installed"
NULLMILTER=$E2E_BUILD/test/harness/nullmilter
[ -x "$NULLMILTER" ] || e2e_fail "$NULLMILTER not built"

SMTPD=$(e2e_free_port) || e2e_fail "no free port"
SINK=$(e2e_free_port) || e2e_fail "no free port"
while [ "$SINK" = "$SMTPD" ]; do SINK=$(e2e_free_port); done
sink_start A 127.0.0.1 "$SINK"

echo "   e2e: $RULES names in a hash map and in milter-relay" >&2
awk -v n="$RULES" -v p="$SINK" 'BEGIN {
	for (i = 0; i < n; i++)
		print "d" i ".example-" (i % 1000) ".com smtp:[127.0.0.1]:" p
}' >"$E2E_DIR/hash"
awk -v p="$SINK" '{ sub(/ .*/, ""); print $0 " smarthost=[127.0.0.1]:" p }' \
    "$E2E_DIR/hash" >"$E2E_DIR/rules"
chmod 644 "$E2E_DIR/hash" "$E2E_DIR/rules"
# the rule the messages go to: one in the middle of the set
I=$((RULES / 2 + 7))
DOMAIN="d$I.example-$((I % 1000)).com"

COMMON=(
    "berkeley_db_create_buffer_size = 536870912"
    "smtpd_client_connection_count_limit = 0"
    "smtpd_client_connection_rate_limit = 0"
    "smtpd_client_message_rate_limit = 0"
    "smtpd_client_recipient_rate_limit = 0"
    "milter_default_action = tempfail"
    "milter_connect_timeout = 10s"
    "milter_command_timeout = 20s"
)
pf_create "$SMTPD" "${COMMON[@]}"
t0=$SECONDS
postmap -c "$PF_DIR" "hash:$E2E_DIR/hash" || e2e_fail "postmap failed"
echo "   postmap of $RULES names: $((SECONDS - t0)) s" >&2

MAPS=$E2E_DIR/maps
mkdir -p "$MAPS"
chown nobody "$MAPS"
mr_config "$E2E_DIR/mr.conf" \
    "policy = { unmatched = \"reject\"; trusted_networks = [ \"192.0.2.0/24\" ];" \
    "  route_check = \"log\"; };" \
    "domains_file = \"$E2E_DIR/rules\";" \
    "maps_dir = \"$MAPS\";"
t0=$SECONDS
mr_start "$E2E_DIR/mr.conf"
# the tables appear by rename once all four are written
for i in $(seq 1 1200); do
	[ -s "$MAPS/relay_domains.lmdb" ] && [ -s "$MAPS/transport.lmdb" ] &&
	    [ -s "$MAPS/access.lmdb" ] && [ -s "$MAPS/tls_policy.lmdb" ] && break
	kill -0 "$MR_PID" 2>/dev/null || break
	sleep 0.1
done
for t in relay_domains transport access tls_policy; do
	[ -s "$MAPS/$t.lmdb" ] || e2e_fail "milter-relay wrote no $MAPS/$t.lmdb"
done
echo "   milter-relay start with $RULES rules and static tables: $((SECONDS - t0)) s" >&2

mkdir -p "$E2E_DIR/null"
"$NULLMILTER" -f -p "unix:$E2E_DIR/null/null.sock" \
    >"$E2E_DIR/nullmilter.log" 2>&1 &
NULL_PID=$!
e2e_track_pid "$NULL_PID"
for i in $(seq 1 300); do
	[ -S "$E2E_DIR/null/null.sock" ] && break
	sleep 0.1
done
[ -S "$E2E_DIR/null/null.sock" ] || e2e_fail "nullmilter did not start"
chmod 666 "$E2E_DIR/null/null.sock"

HASH="hash:$E2E_DIR/hash"
SM="socketmap:inet:127.0.0.1:$MR_SMPORT"
RELAY0="permit_mynetworks, reject_unauth_destination"
# the contrib lines as the fast-path test applies them: verbatim but for
# the socketmap port and the tables' directory
contrib() {	# maps | static
	grep -v '^#' "$E2E_SRC/contrib/postfix/main-$1.cf" |
	    sed -e "s/127\\.0\\.0\\.1:10026:/127.0.0.1:$MR_SMPORT:/" \
	    -e "s|/var/lib/milter-relay/maps/|$MAPS/|"
}
MAINMAPS=$(contrib maps)
MAINSTATIC=$(contrib static)
grep -q "check_recipient_access $SM:rcpt," <<<"$MAINMAPS" ||
    e2e_fail "main-maps.cf: no rcpt map"
grep -q "socketmap" <<<"$MAINSTATIC" && e2e_fail "main-static.cf: a socketmap"
grep -q "check_recipient_access lmdb:$MAPS/access," <<<"$MAINSTATIC" ||
    e2e_fail "main-static.cf: no access table"
setup() {	# a | b | c | d | e: main.cf of that set-up, made afresh
	case $1 in
	a) pf_create "$SMTPD" "${COMMON[@]}" "relay_domains = $HASH" \
	    "transport_maps = $HASH" "smtpd_relay_restrictions = $RELAY0" ;;
	b) pf_create "$SMTPD" "${COMMON[@]}" "relay_domains = $SM:relay" \
	    "transport_maps = $SM:transport" \
	    "smtpd_milters = unix:$MR_SOCKET" \
	    "smtpd_relay_restrictions = $RELAY0" ;;
	c) pf_create "$SMTPD" "${COMMON[@]}" "relay_domains = $HASH" \
	    "transport_maps = $HASH" \
	    "smtpd_milters = unix:$E2E_DIR/null/null.sock" \
	    "smtpd_relay_restrictions = $RELAY0" ;;
	d) pf_create "$SMTPD" "${COMMON[@]}" "$MAINMAPS" ;;
	e) pf_create "$SMTPD" "${COMMON[@]}" "$MAINSTATIC" ;;
	esac
	# as in a stock master.cf: static mode's smtp_tls_policy_maps makes
	# the smtp client set up TLS, which asks tlsmgr(8)
	echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_DIR/master.cf"
}

now() { date +%s.%N; }
# CPU clock ticks (user + system) of the process trees under the given
# pids: every live process of a tree, plus what the children it has
# waited for used (cutime + cstime; Postfix's master waits for its
# daemons).  Short-lived Postfix daemons are thus counted too, and the
# figure, unlike messages/s, hardly moves with the load of other jobs.
tree_ticks() {	# PID...
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
	{
		pid = $1
		s = $0
		sub(/^.*\) /, "", s)	# after "pid (comm) "
		split(s, f, " ")
		ppid[pid] = f[2]
		ticks[pid] = f[12] + f[13] + f[14] + f[15]
	}
	END {
		n = split(roots, r, " ")
		for (i = 1; i <= n; i++)
			root[r[i]] = 1
		for (p in ppid) {
			for (q = p; q in ppid && !(q in root) && q > 1; q = ppid[q])
				;
			if (q in root)
				t += ticks[p]
		}
		print t + 0
	}'
}
# the processes whose CPU time a message costs: Postfix, milter-relay,
# nullmilter (the sink and smtp-source are the same in every set-up)
cost_ticks() {
	tree_ticks "$(cat "$PF_DIR/queue/pid/master.pid" 2>/dev/null)" \
	    "$MR_PID" "$NULL_PID"
}
HZ=$(getconf CLK_TCK)
# socketmap requests milter-relay answered so far (its SIGUSR1 counters)
sm_requests() {
	local before i
	before=$(grep -c 'socketmap: connections=' "$E2E_DIR/milter-relay.log")
	kill -USR1 "$MR_PID"
	for i in $(seq 1 100); do
		[ "$(grep -c 'socketmap: connections=' "$E2E_DIR/milter-relay.log")" -gt "$before" ] &&
		    break
		sleep 0.1
	done
	grep 'socketmap: connections=' "$E2E_DIR/milter-relay.log" | tail -n 1 |
	    sed -n 's/.* requests=\([0-9]*\) .*/\1/p'
}
# decision lines of milter-relay for the messages' recipients
decisions() {
	grep -c "rcpt=<[0-9]*user@$DOMAIN> rule=$DOMAIN outcome=\(accept\|continue\) " \
	    "$E2E_DIR/milter-relay.log"
}
# run SETUP: one timed run; its messages/s on stdout
run() {
	local t0 t1 t2 base out w0 w1 n0 n1 q0 q1 c0 c1
	setup "$1"
	pf_start
	e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
	base=$(sink_count A)
	w0=$(grep -c 'warning:' "$PF_DIR/maillog")
	n0=$(decisions)
	q0=$(sm_requests)
	c0=$(cost_ticks)
	t0=$(now)
	out=$(smtp-source -s 10 -m "$MSGS" -N -f bench@example.net \
	    -t "user@$DOMAIN" "127.0.0.1:$SMTPD" 2>&1) ||
	    e2e_fail "smtp-source ($1): $out"
	t1=$(now)
	sink_wait A $((base + MSGS)) 300 ||
	    e2e_fail "setup $1: the sink got $(( $(sink_count A) - base )) of $MSGS"
	t2=$(now)
	c1=$(cost_ticks)
	awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v n="$MSGS" 'BEGIN {
		printf "%.2f\n", (b - a) / hz / n * 1000 }' >>"$E2E_DIR/$1.cpu"
	w1=$(grep -c 'warning:' "$PF_DIR/maillog")
	[ "$w1" -gt "$w0" ] && grep 'warning:' "$PF_DIR/maillog" | tail -n +$((w0 + 1)) |
	    sed 's/^.*warning:/   postfix warning:/' | sort | uniq -c | head -5 >&2
	pf_stop
	q1=$(sm_requests)
	# socketmap lookups a message (none in a, c and e)
	awk -v a="$q0" -v b="$q1" -v n="$MSGS" 'BEGIN {
		printf "%.2f\n", (b - a) / n }' >>"$E2E_DIR/$1.lookups"
	# b and d: milter-relay decided every recipient (one line each);
	# a, c and e: it was not asked, not even its socketmap
	n1=$(decisions)
	case $1 in
	b|d) [ $((n1 - n0)) -ge "$MSGS" ] ||
	    e2e_fail "setup $1: milter-relay logged $((n1 - n0)) decisions for $MSGS messages" ;;
	*) [ "$n1" = "$n0" ] ||
	    e2e_fail "setup $1: milter-relay logged $((n1 - n0)) decisions"
	   [ "$q1" = "$q0" ] ||
	    e2e_fail "setup $1: $((q1 - q0)) socketmap lookups" ;;
	esac
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$MSGS" -v s="$1" \
	    -v q="$(tail -n 1 "$E2E_DIR/$1.lookups")" \
	    -v u="$(tail -n 1 "$E2E_DIR/$1.cpu")" 'BEGIN {
		printf "   e2e %s: %d messages, smtpd %.1f/s, end to end %.1f/s, CPU %s ms a message, %s socketmap lookups a message\n",
		    s, n, n / (b - a), n / (c - a), u, q > "/dev/stderr"
		printf "%.1f\n", n / (c - a) }'
}

SETUPS="a b c d e"
for s in $SETUPS; do
	: >"$E2E_DIR/$s"
	: >"$E2E_DIR/$s.lookups"
	: >"$E2E_DIR/$s.cpu"
done
for r in $(seq 1 "$ROUNDS"); do
	# the order turns by one each round, so that drift hits all alike
	set -- $SETUPS
	for i in $(seq 2 "$r"); do
		set -- "${@:2}" "$1"
	done
	echo "   e2e round $r: $*" >&2
	for s in "$@"; do
		run "$s" >>"$E2E_DIR/$s" || exit 1
	done
done
# the maps-only runs: one decision line a recipient from the rcpt map
nd=$(grep -c "map=rcpt rcpt=<[0-9]*user@$DOMAIN> rule=$DOMAIN outcome=accept " \
    "$E2E_DIR/milter-relay.log")
[ "$nd" -ge $((MSGS * ROUNDS)) ] ||
    e2e_fail "maps-only: $nd decision lines for $((MSGS * ROUNDS)) messages"

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v r="$1" -v l="$2" 'BEGIN { print (r >= l ? "ok" : "MISSED") }'; }
# the spread of a set-up's rounds: (max - min) / median
spread() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = v[int((NR + 1) / 2)]
		printf "%.0f%%", (m > 0 ? (v[NR] - v[1]) / m * 100 : 0) }'
}
rounds() { echo "median of $ROUNDS: $(tr '\n' ' ' <"$1")(spread $(spread "$1"))"; }
# the ratio to a within each round (runs next to each other in time)
perround() {	# SETUP
	paste "$E2E_DIR/$1" "$E2E_DIR/a" |
	    awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), ($2 > 0 ? $1 / $2 : 0) }'
}
lookups() { median "$E2E_DIR/$1.lookups"; }
for s in $SETUPS; do
	eval "m$s=\$(median \"\$E2E_DIR/$s\")"
done
rb=$(ratio "$mb" "$ma")
rc=$(ratio "$mc" "$ma")
rd=$(ratio "$md" "$ma")
re=$(ratio "$me" "$ma")
echo "6. Postfix msgs/s (a) hash maps, no milter|$ma|$(rounds "$E2E_DIR/a")"
echo "   (b) milter-relay milter + socketmap|$mb|$(rounds "$E2E_DIR/b")"
echo "   (c) nullmilter + hash maps|$mc|$(rounds "$E2E_DIR/c")"
echo "   (d) maps-only (main-maps.cf)|$md|$(rounds "$E2E_DIR/d")"
echo "   (e) static (main-static.cf, lmdb)|$me|$(rounds "$E2E_DIR/e")"
echo "   ratio b/a (milter + socketmap)|$rb|by round: $(perround b)"
echo "   ratio c/a (nullmilter)|$rc|by round: $(perround c)"
echo "   ratio d/a (maps-only)|$rd|>= 0.9: $(verdict "$rd" 0.9); by round: $(perround d)"
echo "   ratio e/a (static)|$re|>= 0.97: $(verdict "$re" 0.97); by round: $(perround e)"
for s in $SETUPS; do
	eval "u$s=\$(median \"\$E2E_DIR/$s.cpu\")"
done
# CPU-bound, throughput goes as the inverse of the CPU time a message
echo "   CPU ms a message, (a) hash maps|$ua|median of $ROUNDS: $(tr '\n' ' ' <"$E2E_DIR/a.cpu")"
for s in b c d e; do
	eval "u=\$u$s"
	echo "   CPU ms a message, ($s)|$u|median of $ROUNDS: $(tr '\n' ' ' <"$E2E_DIR/$s.cpu")"
done
rdc=$(ratio "$ua" "$ud")
rec=$(ratio "$ua" "$ue")
echo "   CPU ratio a/b, a/c|$(ratio "$ua" "$ub"), $(ratio "$ua" "$uc")|Postfix + milter-relay + nullmilter, user + system"
echo "   CPU ratio a/d (maps-only)|$rdc|>= 0.9: $(verdict "$rdc" 0.9)"
echo "   CPU ratio a/e (static)|$rec|>= 0.97: $(verdict "$rec" 0.97)"
echo "   socketmap lookups a message, b / d|$(lookups b) / $(lookups d)|a, c, e: $(lookups a), $(lookups c), $(lookups e)"
exit 0
