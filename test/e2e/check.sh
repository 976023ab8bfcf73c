#!/bin/bash
# check.sh - end-to-end test: a real Postfix, milter-relay's milter and
# socketmap, smtp-sink smart hosts (run by "make check" as root).
#
# A private Postfix instance on 127.0.0.1 asks milter-relay for
# relay_domains and transport_maps (socketmap) and runs its milter.
# Trusted mail comes from 127.0.0.1 (mynetworks, trusted_networks),
# untrusted mail from 127.0.0.2.  Each smart host is an smtp-sink on its
# own port that files every message; the test counts what each received.
# It proves, in this order:
#   1. replies: namespace, subdomain, #exact and its subdomain, deny
#      exception (the rule's own 550: for untrusted clients from the
#      access socketmap in smtpd_relay_restrictions, for trusted ones
#      from the milter), trusted-only rule, unlisted domain (554 untrusted,
#      accepted trusted), IPv6 smart host, a rule's transport name;
#   2. every accepted recipient reached the sink its rule names;
#   3. the socketmap protocol against the running daemon (persistent
#      connection, concurrent clients, malformed and oversized
#      netstrings, unknown map, a 10000-octet query);
#   4. reload: the rules file edited and SIGHUP sent while mail flows;
#      the domain moves to another sink, Postfix and the daemon keep
#      running, no message lost;
#   5. routing check: a Postfix without transport_maps: route_check=log
#      lets mail through (and logs), enforce answers 451 4.7.1;
#      Postfix runs with contrib/postfix/main.cf verbatim (only the
#      socketmap port differs), the milter socket relative to the queue
#      directory as in the Debian chroot;
#   6. daemon stopped: Postfix answers 451 4.7.1; mail queued before is
#      delivered after the restart and a flush; in the end every accepted
#      recipient is in exactly one sink.
# Then test/e2e/diff.sh: exported static maps vs socketmap vs query.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init routing

IPV6=0
if e2e_have_ipv6; then
	IPV6=1
else
	mr_skip "::1 unusable here: the IPv6 smart host NOT checked"
fi

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)		# example.com, moving.example before reload
PORT_B=$(e2e_free_port)		# #exact.example, partner.example, slow
PORT_D=$(e2e_free_port)		# relayhost: what no rule routes
PORT_E=$(e2e_free_port)		# moving.example after reload
sink_start A 127.0.0.1 "$PORT_A"
sink_start B 127.0.0.1 "$PORT_B"
sink_start D 127.0.0.1 "$PORT_D"
sink_start E 127.0.0.1 "$PORT_E"
if [ "$IPV6" = 1 ]; then
	PORT_C=$(e2e_free_port ::1)
	sink_start C ::1 "$PORT_C"
fi

# --- milter-relay --------------------------------------------------------

LIST=$E2E_DIR/domains.list
write_rules() {	# $1: smart host port of moving.example
	{
		echo "example.com smarthost=[127.0.0.1]:$PORT_A"
		echo "lab.example.com relay=deny" \
		    "reply=\"550 5.7.1 No mail for the lab\""
		echo "#exact.example smarthost=127.0.0.1:$PORT_B"
		echo "partner.example relay=trusted" \
		    "smarthost=[127.0.0.1]:$PORT_B"
		echo "slowpath.example transport=slow" \
		    "smarthost=[127.0.0.1]:$PORT_B"
		echo "moving.example smarthost=[127.0.0.1]:$1"
		[ "$IPV6" = 1 ] && echo "v6.example smarthost=[::1]:$PORT_C"
	} >"$LIST.new"
	chmod 644 "$LIST.new"
	mv "$LIST.new" "$LIST"
}
write_rules "$PORT_A"
CONF=$E2E_DIR/milter-relay.conf
# The milter socket below the queue directory, where main.cf's relative
# "unix:milter-relay/milter.sock" of contrib/postfix finds it.
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
mr_conf() {	# $1: route_check
	mr_config "$CONF" \
	    "policy = { trusted_networks = [ \"127.0.0.1/32\" ];" \
	    "  unmatched = \"reject\"; route_check = \"$1\"; };" \
	    "domains_file = \"$LIST\";"
}
mr_conf log
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "config does not check"
mr_start "$CONF"

# --- Postfix ---------------------------------------------------------------

# contrib/postfix/main.cf as it is, only the socketmap port replaced
SOCKETMAP="socketmap:inet:127.0.0.1:$MR_SMPORT"
grep -q '^smtpd_milters = unix:milter-relay/milter.sock$' \
    contrib/postfix/main.cf ||
    e2e_fail "contrib/postfix/main.cf: milter socket line changed"
pf_create "$SMTPD" \
    "relayhost = [127.0.0.1]:$PORT_D" \
    "$(grep -v '^#' contrib/postfix/main.cf |
        sed "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/")"
errors=$(pf_check | grep -iv 'warning: not owned by root' |
    grep -iv 'group or other writable\|overriding earlier entry' || true)
[ -z "$errors" ] || e2e_fail "postfix check: $errors"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
e2e_ok "private Postfix on 127.0.0.1:$SMTPD, socketmap port $MR_SMPORT"

# --- 1. replies --------------------------------------------------------------

ACCEPTED=$E2E_DIR/accepted	# "sink rcpt" for every accepted recipient
: >"$ACCEPTED"
N=0

# send FROM_ADDR RCPT EXPECTED_CODE [SINK]: one message, one recipient
send() {
	local src=$1 rcpt=$2 want=$3 sink=${4:-} out got bind=
	N=$((N + 1))
	[ "$src" = untrusted ] && bind="-b 127.0.0.2"
	# shellcheck disable=SC2086
	out=$("$E2E_CLIENT" smtp $bind -p "$SMTPD" -s "msg$N" "$rcpt" 2>&1)
	# the first reply that is not a success: RCPT, else MAIL or CONNECT
	got=$(echo "$out" | sed -n 's/^RCPT <[^>]*> //p; s/^MAIL //p;
	    s/^CONNECT \([^2]\)/\1/p' | head -n 1)
	case $got in
	"$want"*) ;;
	*) e2e_fail "$src <$rcpt>: want \"$want\", got \"$got\" ($out)" ;;
	esac
	if [ -n "$sink" ]; then
		echo "$out" | grep -q '^DATA 250' ||
		    e2e_fail "$src <$rcpt>: message not queued: $out"
		echo "$sink $rcpt" >>"$ACCEPTED"
	fi
	e2e_ok "$src <$rcpt>: $want${sink:+ -> sink $sink}"
}

send untrusted u1@example.com "250" A
send untrusted u2@a.b.example.com "250" A
send untrusted u3@EXAMPLE.COM "250" A
send untrusted u4@exact.example "250" B
send untrusted u5@sub.exact.example "554 5.7.1"
send trusted   u6@sub.exact.example "250" D
send untrusted u7@lab.example.com "550 5.7.1 <u7@lab.example.com>: Recipient address rejected: No mail for the lab"
send untrusted u8@x.lab.example.com "550 5.7.1 <u8@x.lab.example.com>: Recipient address rejected: No mail for the lab"
send trusted   u9@lab.example.com "550 5.7.1 No mail for the lab"
send trusted   u10@x.lab.example.com "550 5.7.1 No mail for the lab"
send untrusted u11@partner.example "554 5.7.1"
send trusted   u12@partner.example "250" B
send untrusted u13@unlisted.test "554 5.7.1"
send trusted   u14@unlisted.test "250" D
send untrusted u15@slowpath.example "250" B
send untrusted u16@moving.example "250" A
if [ "$IPV6" = 1 ]; then
	send untrusted u17@v6.example "250" C
	send untrusted u18@deep.v6.example "250" C
fi
e2e_ok "replies as expected"

# --- 2. routing: each accepted recipient in its rule's sink -----------------

# wait until all sinks together hold as many recipients as were accepted
wait_delivered() {
	local want i have
	want=$(wc -l <"$ACCEPTED")
	for i in $(seq 1 300); do
		have=0
		for s in A B C D E; do
			have=$((have + $(sink_rcpts "$s" | wc -l)))
		done
		[ "$have" -ge "$want" ] && return 0
		[ $((i % 20)) = 0 ] && pf_flush
		sleep 0.3
	done
	return 1
}

# "? rcpt" lines of $ACCEPTED (mail that may have gone either way while
# something was reloading): wait until each is in some sink, write which
resolve_unknown() {
	local i r s found all
	for i in $(seq 1 300); do
		all=1
		while read -r s r; do
			[ "$s" = "?" ] || continue
			found=
			for s in A B C D E; do
				sink_rcpts "$s" | grep -qx "$r" && found=$s
			done
			if [ -n "$found" ]; then
				sed -i "s/^? $r\$/$found $r/" "$ACCEPTED"
			else
				all=0
			fi
		done <"$ACCEPTED"
		[ "$all" = 1 ] && return 0
		[ $((i % 20)) = 0 ] && pf_flush
		sleep 0.3
	done
	return 1
}

check_sinks() {
	local s want have
	for s in A B C D E; do
		want=$(awk -v s="$s" '$1 == s { print tolower($2) }' \
		    "$ACCEPTED" | sort)
		have=$(sink_rcpts "$s" | tr 'A-Z' 'a-z' | sort)
		[ "$want" = "$have" ] ||
		    e2e_fail "sink $s: want [$(echo $want)], have [$(echo $have)]"
	done
}

wait_delivered || e2e_fail "not everything delivered: $(pf_queue_count) queued"
check_sinks
e2e_ok "every recipient reached its smart host ($(wc -l <"$ACCEPTED") recipients)"
grep -q "to=<u15@slowpath.example>, relay=.*:$PORT_B" "$PF_DIR/maillog" &&
    grep -q "postfix-mr-e2e/slow/smtp\[.*to=<u15@slowpath.example>" \
    "$PF_DIR/maillog" ||
    e2e_fail "slowpath.example did not go through the slow transport"
e2e_ok "transport=slow used for slowpath.example"

# --- 3. socketmap protocol against the daemon -------------------------------

out=$(printf '%s\n' "relay a.example.com" "transport u+x@b.example.com" \
    "relay lab.example.com" "bogus x" "mailertable exact.example" \
    "relay .example.com" "transport u@partner.example" | sm_query)
want="OK RELAY
OK smtp:[127.0.0.1]:$PORT_A
NOTFOUND 
PERM unknown map name
OK esmtp$PORT_B:[127.0.0.1]
NOTFOUND 
OK smtp:[127.0.0.1]:$PORT_B"
[ "$out" = "$want" ] || e2e_fail "socketmap answers: got [$out]"
e2e_ok "socketmap: relay, transport, mailertable, unknown map"

# many requests on one connection, several connections at once
SMPIDS=()
for i in $(seq 1 8); do
	for j in $(seq 1 1000); do
		echo "relay h$j.example.com"
		echo "transport u$j@x$i.lab.example.com"
		echo "transport u$j@h$i.example.com"
	done | sm_query >"$E2E_DIR/sm$i.out" &
	SMPIDS+=($!)
done
# reload the same rules over and over meanwhile: no answer may change
reloads0=$(grep -c 'reload: .*: OK' "$E2E_DIR/milter-relay.log")
touch "$E2E_DIR/reloading"
(
	n=$reloads0
	while [ -e "$E2E_DIR/reloading" ]; do
		kill -HUP "$MR_PID"
		for j in $(seq 1 100); do
			[ "$(grep -c 'reload: .*: OK' \
			    "$E2E_DIR/milter-relay.log")" -gt "$n" ] && break
			sleep 0.02
		done
		n=$(grep -c 'reload: .*: OK' "$E2E_DIR/milter-relay.log")
	done
) &
RELOADER=$!
e2e_track_pid "$RELOADER"
for pid in "${SMPIDS[@]}"; do
	wait "$pid"
done
rm -f "$E2E_DIR/reloading"
wait "$RELOADER"
reloads=$(( $(grep -c 'reload: .*: OK' "$E2E_DIR/milter-relay.log") - reloads0 ))
[ "$reloads" -ge 1 ] || e2e_fail "no reload happened during the queries"
for i in $(seq 1 8); do
	[ "$(grep -c '^OK RELAY$' "$E2E_DIR/sm$i.out")" = 1000 ] &&
	    [ "$(grep -c '^NOTFOUND $' "$E2E_DIR/sm$i.out")" = 1000 ] &&
	    [ "$(grep -c "^OK smtp:\[127.0.0.1\]:$PORT_A\$" \
	    "$E2E_DIR/sm$i.out")" = 1000 ] ||
	    e2e_fail "concurrent client $i: $(sort "$E2E_DIR/sm$i.out" | uniq -c)"
done
e2e_ok "8 concurrent persistent connections x 3000 requests," \
    "$reloads reloads meanwhile"

# a malformed netstring: PERM, that connection closed, another unaffected
coproc SMQ { "$E2E_CLIENT" socketmap -p "$MR_SMPORT"; }
e2e_track_pid "$SMQ_PID"
echo "relay example.com" >&"${SMQ[1]}"
read -r -t 30 line <&"${SMQ[0]}"
[ "$line" = "OK RELAY" ] || e2e_fail "coproc: $line"
out=$(printf 'x5:relay,' | "$E2E_CLIENT" raw -p "$MR_SMPORT")
case $out in
*"PERM netstring length is not a decimal number"*CLOSED*) ;;
*) e2e_fail "malformed netstring: $out" ;;
esac
out=$(printf '10001:relay ' | "$E2E_CLIENT" raw -p "$MR_SMPORT")
case $out in
*"PERM netstring longer than allowed"*CLOSED*) ;;
*) e2e_fail "oversized netstring: $out" ;;
esac
out=$(printf '17:relay example.com;' | "$E2E_CLIENT" raw -p "$MR_SMPORT")
case $out in
*"PERM netstring does not end with ','"*CLOSED*) ;;
*) e2e_fail "netstring without comma: $out" ;;
esac
echo "transport u@a.example.com" >&"${SMQ[1]}"
read -r -t 30 line <&"${SMQ[0]}"
[ "$line" = "OK smtp:[127.0.0.1]:$PORT_A" ] ||
    e2e_fail "first connection after the others' errors: $line"
exec {SMQ[1]}>&-
e2e_ok "malformed, oversized, unterminated netstrings: PERM and close," \
    "others unaffected"
long=$(printf 'x%.0s' $(seq 1 9982))	# "relay " + 9982 + ".example.com" = 10000
out=$(echo "relay $long.example.com" | sm_query)
[ "$out" = "NOTFOUND " ] || e2e_fail "10000-octet query: $out"
out=$(printf '%s\n' "relay a.example.com" | sm_query)
[ "$out" = "OK RELAY" ] || e2e_fail "after long query: $out"
e2e_ok "a 10000-octet query is answered"

# --- 4. reload while mail flows ------------------------------------------------

# mail in flight during the reload: goes to A or E, but arrives
(
	for i in $(seq 1 10); do
		"$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" -s "flow$i" \
		    "flow$i@moving.example"
	done
) >"$E2E_DIR/flow.out" 2>&1 &
FLOW=$!
e2e_track_pid "$FLOW"
write_rules "$PORT_E"
mr_reload
sm_wait_answer "transport u@moving.example" "OK smtp:[127.0.0.1]:$PORT_E" ||
    e2e_fail "reload did not change the socketmap: $SM_ANSWER"
wait "$FLOW"
[ "$(grep -c '^DATA 250' "$E2E_DIR/flow.out")" = 10 ] ||
    e2e_fail "mail during reload: $(cat "$E2E_DIR/flow.out")"
kill -0 "$MR_PID" || e2e_fail "daemon gone after reload"
for i in $(seq 1 10); do	# in flight: A or E, but delivered
	echo "? flow$i@moving.example" >>"$ACCEPTED"
done
send untrusted after1@moving.example "250" E
send untrusted after2@sub.moving.example "250" E
send untrusted u19@example.com "250" A
resolve_unknown || e2e_fail "mail sent during the reload was lost"
wait_delivered || e2e_fail "after reload: $(pf_queue_count) queued"
check_sinks
e2e_ok "SIGHUP moved moving.example from sink A to sink E, no restart," \
    "10 in-flight messages all delivered"

# --- 5. routing check: Postfix without transport_maps -----------------------

# Postfix's reload restarts its daemons in the background: keep sending
# until the milter logs a mismatch (then Postfix runs without
# transport_maps); messages sent before that went to A, after it to D.
pf_set "transport_maps ="
pf_reload
ok=0
for i in $(seq 1 60); do
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" rc1-$i@example.com)
	echo "$out" | grep -q '^DATA 250' ||
	    e2e_fail "route_check=log must let mail through: $out"
	echo "? rc1-$i@example.com" >>"$ACCEPTED"
	if grep 'route mismatch' "$E2E_DIR/milter-relay.log" |
	    grep -q "rc1-$i@example.com"; then
		ok=1
		break
	fi
	sleep 0.3
done
[ "$ok" = 1 ] || e2e_fail "route_check=log: no mismatch logged"
e2e_ok "route_check=log: mismatch logged, mail let through (try $i)"
mr_conf enforce
mr_reload
ok=0
for i in $(seq 1 60); do
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" rc2-$i@example.com)
	if echo "$out" | grep -q '^RCPT <rc2-[0-9]*@example.com> 451 4.7.1'
	then
		ok=1
		break
	fi
	echo "$out" | grep -q '^DATA 250' &&
	    echo "? rc2-$i@example.com" >>"$ACCEPTED"
	sleep 0.3
done
[ "$ok" = 1 ] || e2e_fail "route_check=enforce: $out"
e2e_ok "route_check=enforce: 451 4.7.1 when Postfix routes elsewhere"
send trusted rc3@unlisted.test "250" D	# no rule: no route to check
pf_set "transport_maps = $SOCKETMAP:transport"
pf_reload
ok=0
for i in $(seq 1 60); do	# 451 until Postfix uses transport_maps again
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" rc4-$i@example.com)
	if echo "$out" | grep -q '^DATA 250'; then
		echo "A rc4-$i@example.com" >>"$ACCEPTED"
		ok=1
		break
	fi
	sleep 0.3
done
[ "$ok" = 1 ] || e2e_fail "transport_maps back: $out"
e2e_ok "transport_maps back: the right route is accepted again"
resolve_unknown || e2e_fail "mail sent around Postfix reloads was lost"
wait_delivered || e2e_fail "after route checks: $(pf_queue_count) queued"
check_sinks

# --- 6. daemon stopped -----------------------------------------------------------

# queue mail for a sink that is down, then stop the daemon
sink_stop E
send untrusted q1@moving.example "250" E
send untrusted q2@moving.example "250" E
mr_stop
[ "$MR_STATUS" = 0 ] || e2e_fail "milter-relay exit status $MR_STATUS"
[ -e "$MR_SOCKET" ] && e2e_fail "milter socket left behind"
e2e_port_open 127.0.0.1 "$MR_SMPORT" && e2e_fail "socketmap still open"
out=$("$E2E_CLIENT" smtp -p "$SMTPD" down1@example.com 2>&1)
echo "$out" | grep -q '451 4.7.1' ||
    e2e_fail "daemon stopped, trusted client: $out"
out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" down2@example.com 2>&1)
echo "$out" | grep -q ' 4[0-9][0-9] ' ||
    e2e_fail "daemon stopped, untrusted client: $out"
echo "$out" | grep -q '^DATA 250' && e2e_fail "accepted while down: $out"
code=$(echo "$out" | grep -o ' 4[0-9][0-9] [0-9.]*' | head -n 1)
e2e_ok "daemon stopped: 451 4.7.1 (trusted),$code (untrusted)"
[ "$(pf_queue_count)" -ge 2 ] || e2e_fail "queued mail: $(pf_queue_count)"
mr_start "$CONF"
sink_start E 127.0.0.1 "$PORT_E"
pf_flush
wait_delivered || e2e_fail "after restart: $(pf_queue_count) still queued"
check_sinks
pf_wait_queue_empty 30 || e2e_fail "queue not empty: $(pf_queue_count)"
e2e_ok "after restart and flush: all $(wc -l <"$ACCEPTED") accepted" \
    "recipients delivered, queue empty"

pf_stop
mr_stop
bash test/e2e/diff.sh || exit 1
echo "e2e: all passed"
