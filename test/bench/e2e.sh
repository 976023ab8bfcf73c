#!/bin/bash
# e2e.sh - part 6 of "make bench": Postfix end to end, messages/s
#
# usage: MR_BUILD=DIR bash test/bench/e2e.sh RULES MESSAGES [ROUNDS]
#
# Called by test/bench/run.sh.  With test/e2e/lib.sh: one private
# Postfix on loopback, an smtp-sink as smart host, smtp-source sending
# MESSAGES messages (10 sessions in parallel, -N: a new recipient each
# time) to a domain of RULES generated rules, in three set-ups:
#
#   a. relay_domains and transport_maps from one hash: table of RULES
#      names ("NAME smtp:[127.0.0.1]:SINK"; a hash relay_domains table
#      ignores the value), no milter;
#   b. relay_domains and transport_maps from milter-relay's socketmap,
#      milter-relay as smtpd_milters, the same RULES names as rules;
#   c. the hash maps of a, test/harness/nullmilter as smtpd_milters;
#   d. maps-only mode (contrib/postfix/main-maps.cf): relay_domains,
#      transport_maps and the "rcpt" map in smtpd_relay_restrictions from
#      milter-relay's socketmap, no milter.
#
# ROUNDS (default 3) rounds of a, b, c, d interleaved; a run is timed from
# the start of smtp-source until the sink holds every message.  Prints
# "what|figure|note" lines (the median of each set-up, b/a, c/a, d/a) on
# stdout, the runs on stderr.  Exit 1 when a run lost a message or a
# daemon did not start; every process is stopped at exit (lib.sh).
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

pf_create "$SMTPD" \
    "berkeley_db_create_buffer_size = 536870912" \
    "smtpd_client_connection_count_limit = 0" \
    "smtpd_client_connection_rate_limit = 0" \
    "smtpd_client_message_rate_limit = 0" \
    "smtpd_client_recipient_rate_limit = 0" \
    "milter_default_action = tempfail" \
    "milter_connect_timeout = 10s" \
    "milter_command_timeout = 20s"
t0=$SECONDS
postmap -c "$PF_DIR" "hash:$E2E_DIR/hash" || e2e_fail "postmap failed"
echo "   postmap of $RULES names: $((SECONDS - t0)) s" >&2

mr_config "$E2E_DIR/mr.conf" \
    "policy = { unmatched = \"reject\"; trusted_networks = [ \"192.0.2.0/24\" ];" \
    "  route_check = \"log\"; };" \
    "domains_file = \"$E2E_DIR/rules\";"
mr_start "$E2E_DIR/mr.conf"

mkdir -p "$E2E_DIR/null"
"$NULLMILTER" -f -p "unix:$E2E_DIR/null/null.sock" \
    >"$E2E_DIR/nullmilter.log" 2>&1 &
e2e_track_pid $!
for i in $(seq 1 300); do
	[ -S "$E2E_DIR/null/null.sock" ] && break
	sleep 0.1
done
[ -S "$E2E_DIR/null/null.sock" ] || e2e_fail "nullmilter did not start"
chmod 666 "$E2E_DIR/null/null.sock"

HASH="hash:$E2E_DIR/hash"
SM="socketmap:inet:127.0.0.1:$MR_SMPORT"
RELAY0="permit_mynetworks, reject_unauth_destination"
RELAYD="check_recipient_access $SM:rcpt, $RELAY0"
setup() {	# a | b | c | d
	case $1 in
	a) pf_set "relay_domains = $HASH" "transport_maps = $HASH" \
	    "smtpd_milters =" "smtpd_relay_restrictions = $RELAY0" ;;
	b) pf_set "relay_domains = $SM:relay" "transport_maps = $SM:transport" \
	    "smtpd_milters = unix:$MR_SOCKET" \
	    "smtpd_relay_restrictions = $RELAY0" ;;
	c) pf_set "relay_domains = $HASH" "transport_maps = $HASH" \
	    "smtpd_milters = unix:$E2E_DIR/null/null.sock" \
	    "smtpd_relay_restrictions = $RELAY0" ;;
	d) pf_set "relay_domains = $SM:relay" "transport_maps = $SM:transport" \
	    "smtpd_milters =" "smtpd_relay_restrictions = $RELAYD" ;;
	esac
}

now() { date +%s.%N; }
SENT=0
# run SETUP: one timed run; its messages/s on stdout
run() {
	local t0 t1 t2 base out w0 w1
	setup "$1"
	pf_start
	e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
	base=$(sink_count A)
	w0=$(grep -c 'warning:' "$PF_DIR/maillog")
	t0=$(now)
	out=$(smtp-source -s 10 -m "$MSGS" -N -f bench@example.net \
	    -t "user@$DOMAIN" "127.0.0.1:$SMTPD" 2>&1) ||
	    e2e_fail "smtp-source ($1): $out"
	t1=$(now)
	sink_wait A $((base + MSGS)) 300 ||
	    e2e_fail "setup $1: the sink got $(( $(sink_count A) - base )) of $MSGS"
	t2=$(now)
	w1=$(grep -c 'warning:' "$PF_DIR/maillog")
	[ "$w1" -gt "$w0" ] && grep 'warning:' "$PF_DIR/maillog" | tail -n +$((w0 + 1)) |
	    sed 's/^.*warning:/   postfix warning:/' | sort | uniq -c | head -5 >&2
	pf_stop
	SENT=$((SENT + MSGS))
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$MSGS" -v s="$1" 'BEGIN {
		printf "   e2e %s: %d messages, smtpd %.1f/s, end to end %.1f/s\n",
		    s, n, n / (b - a), n / (c - a) > "/dev/stderr"
		printf "%.1f\n", n / (c - a) }'
}

: >"$E2E_DIR/a" ; : >"$E2E_DIR/b" ; : >"$E2E_DIR/c" ; : >"$E2E_DIR/d"
for r in $(seq 1 "$ROUNDS"); do
	for s in a b c d; do
		run "$s" >>"$E2E_DIR/$s" || exit 1
	done
done
# milter-relay saw every message of b: one decision line a recipient
n=$(grep -c "rcpt=<[0-9]*user@$DOMAIN> rule=$DOMAIN outcome=\(accept\|continue\) " \
    "$E2E_DIR/milter-relay.log")
[ "$n" -ge $((MSGS * ROUNDS)) ] ||
    e2e_fail "milter-relay logged $n decisions for $((MSGS * ROUNDS)) messages"

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ma=$(median "$E2E_DIR/a")
mb=$(median "$E2E_DIR/b")
mc=$(median "$E2E_DIR/c")
md=$(median "$E2E_DIR/d")
rb=$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
rc=$(awk -v a="$ma" -v c="$mc" 'BEGIN { printf "%.2f", (a > 0 ? c / a : 0) }')
rd=$(awk -v a="$ma" -v d="$md" 'BEGIN { printf "%.2f", (a > 0 ? d / a : 0) }')
ok=$(awk -v r="$rb" 'BEGIN { print (r >= 0.9 ? "ok" : "MISSED") }')
okd=$(awk -v r="$rd" 'BEGIN { print (r >= 0.9 ? "ok" : "MISSED") }')
# maps-only: one decision line per recipient from the rcpt map
nd=$(grep -c "map=rcpt rcpt=<[0-9]*user@$DOMAIN> rule=$DOMAIN outcome=accept " \
    "$E2E_DIR/milter-relay.log")
[ "$nd" -ge $((MSGS * ROUNDS)) ] ||
    e2e_fail "maps-only: $nd decision lines for $((MSGS * ROUNDS)) messages"
echo "6. Postfix msgs/s (a) hash maps, no milter|$ma|median of $ROUNDS: $(tr '\n' ' ' <"$E2E_DIR/a")"
echo "   (b) milter-relay milter + socketmap|$mb|median of $ROUNDS: $(tr '\n' ' ' <"$E2E_DIR/b")"
echo "   (c) nullmilter + hash maps|$mc|median of $ROUNDS: $(tr '\n' ' ' <"$E2E_DIR/c")"
echo "   ratio b/a|$rb|>= 0.9: $ok"
echo "   (d) maps-only: socketmap rcpt, relay, transport|$md|median of $ROUNDS: $(tr '\n' ' ' <"$E2E_DIR/d")"
echo "   ratio c/a|$rc|"
echo "   ratio d/a (maps-only)|$rd|>= 0.9: $okd"
exit 0
