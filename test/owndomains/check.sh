#!/bin/bash
# check.sh - the MTA's own domains through a real Postfix (make check, root)
#
# A private Postfix with contrib/postfix/main.cf verbatim (only the
# socketmap port differs) plus what a Postfix that delivers mail itself
# has: mydestination = $myhostname, localhost (a local_recipient_maps
# knows postmaster, root and alice) and a virtual mailbox domain box.test
# (user@box.test, user@closed.box.test) with virtual_transport = lmtp.
# Deliveries are redirected to smtp-sink processes without changing the
# mailer names milter-relay sees in {rcpt_mailer}: the master.cf service
# "local" runs Postfix's smtp client towards sink L, "lmtp" its LMTP
# client towards sink V (smtp-sink -L).  From an untrusted client
# (127.0.0.2) it proves:
#   1. postmaster, root, alice of the own names (also the address
#      literal [127.0.0.1]) and user@box.test are accepted and reach
#      sink L or V; milter-relay logs them as "MTA final delivery";
#   2. unknown users of the own names get Postfix's 550 5.1.1;
#   3. relay attempts through the own names (percent hack, quoted @,
#      source route, bang path via myhostname, localhost, box.test) are
#      refused with 5xx and nothing of them is delivered;
#   4. a deny rule's names get 550 with the rule's text (the access
#      socketmap), also a virtual mailbox domain a deny rule covers; a
#      trusted client gets the same from the milter;
#   5. relayed and unlisted domains as before (250 to the smart host,
#      554 5.7.1); the counters count the final deliveries; sink D (the
#      relayhost) receives nothing.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init owndomains

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)		# example.com
PORT_D=$(e2e_free_port)		# relayhost: must stay empty
PORT_L=$(e2e_free_port)		# mailer "local"
PORT_V=$(e2e_free_port)		# mailer "lmtp" (LMTP)
sink_start A 127.0.0.1 "$PORT_A"
sink_start D 127.0.0.1 "$PORT_D"
sink_start L 127.0.0.1 "$PORT_L"
sink_start V 127.0.0.1 "$PORT_V" -L

CONF=$E2E_DIR/milter-relay.conf
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
mr_config "$CONF" \
    "policy = { trusted_networks = [ \"127.0.0.1/32\" ]; };" \
    "domains = (" \
    "  { match = \"example.com\"; smarthost = \"[127.0.0.1]:$PORT_A\"; }," \
    "  { match = \"lab.example.com\"; relay = \"deny\";" \
    "    reply = \"550 5.7.1 No mail for the lab\"; }," \
    "  { match = \"closed.box.test\"; relay = \"deny\";" \
    "    reply = \"550 5.7.1 Mailbox domain closed\"; }" \
    ");"
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "config does not check"
mr_start "$CONF"

SRV=mr-e2e.localdomain
pf_create "$SMTPD" \
    "relayhost = [127.0.0.1]:$PORT_D" \
    "$(grep -v '^#' contrib/postfix/main.cf |
        sed "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/")" \
    "mydestination = \$myhostname, localhost" \
    "local_recipient_maps = inline:{ postmaster=x, root=x, alice=x }" \
    "local_transport = local:[127.0.0.1]:$PORT_L" \
    "virtual_mailbox_domains = box.test, closed.box.test" \
    "virtual_mailbox_maps = inline:{ user@box.test=x, user@closed.box.test=x }" \
    "virtual_transport = lmtp:inet:127.0.0.1:$PORT_V" \
    "smtpd_error_sleep_time = 0"
# the delivery agents' names stay; their programs write to the sinks
printf '%s\n' "local     unix  -       -       n       -       -       smtp" \
    "lmtp      unix  -       -       n       -       -       lmtp" \
    >>"$PF_DIR/master.cf"
grep -q 'check_recipient_access socketmap:inet:127.0.0.1:[0-9]*:access,' \
    "$PF_DIR/main.cf" || e2e_fail "main.cf: no access map"
errors=$(pf_check | grep -iv 'warning: not owned by root' |
    grep -iv 'group or other writable\|overriding earlier entry' || true)
[ -z "$errors" ] || e2e_fail "postfix check: $errors"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
e2e_ok "Postfix with contrib/postfix/main.cf, mydestination and box.test"

ACCEPTED=$E2E_DIR/accepted
: >"$ACCEPTED"
N=0
# send untrusted|trusted RCPT WANT [SINK]: one message, one recipient;
# WANT is a pattern: Postfix puts "<rcpt>: Recipient address rejected: "
# before an access map's text
send() {
	local src=$1 rcpt=$2 want=$3 sink=${4:-} out got bind=
	N=$((N + 1))
	[ "$src" = untrusted ] && bind="-b 127.0.0.2"
	# shellcheck disable=SC2086
	out=$("$E2E_CLIENT" smtp $bind -p "$SMTPD" -s "msg$N" "$rcpt" 2>&1)
	got=$(echo "$out" | sed -n 's/^RCPT <.*> \([0-9][0-9][0-9] \)/\1/p;
	    s/^MAIL //p; s/^CONNECT \([^2]\)/\1/p' | head -n 1)
	# shellcheck disable=SC2254
	case $got in
	$want*) ;;
	*) e2e_fail "$src <$rcpt>: want \"$want\", got \"$got\" ($out)" ;;
	esac
	if [ -n "$sink" ]; then
		echo "$out" | grep -q '^DATA 250' ||
		    e2e_fail "$src <$rcpt>: message not queued: $out"
		echo "$sink" >>"$ACCEPTED"
	fi
	e2e_ok "$src <$rcpt>: $got${sink:+ -> sink $sink}"
}

# 1. own names, untrusted client
send untrusted "postmaster@$SRV" 250 L
send untrusted "root@localhost" 250 L
send untrusted "alice@$SRV" 250 L
send untrusted "postmaster@[127.0.0.1]" 250 L
send untrusted "user@box.test" 250 V
# 2. unknown users: Postfix's own answer
send untrusted "nobody@$SRV" "550 5.1.1"
send untrusted "nobody@box.test" "550 5.1.1"
# 3. relay attempts through the own names
for own in "$SRV" localhost box.test; do
	send untrusted "u%victim.test@$own" "554 5.7.1"
	send untrusted "\"u@victim.test\"@$own" "554 5.7.1"
	send untrusted "@$own:u@victim.test" "554 5.7.1"
	send untrusted "victim.test!u@$own" "554 5.7.1"
done
send untrusted "u%victim.test@[127.0.0.1]" "554 5.7.1"
# 4. deny rules: their own reply, also for a virtual mailbox domain
send untrusted "u@lab.example.com" "550 5.7.1 *No mail for the lab"
send untrusted "u@x.lab.example.com" "550 5.7.1 *No mail for the lab"
send untrusted "user@closed.box.test" "550 5.7.1 *Mailbox domain closed"
send trusted "user@closed.box.test" "550 5.7.1 Mailbox domain closed"
send trusted "u@lab.example.com" "550 5.7.1 No mail for the lab"
# 5. relaying as before
send untrusted "u@a.example.com" 250 A
send untrusted "u@unlisted.test" "554 5.7.1"

# every accepted message in its sink, nothing elsewhere
want_l=$(grep -c '^L$' "$ACCEPTED")
want_v=$(grep -c '^V$' "$ACCEPTED")
want_a=$(grep -c '^A$' "$ACCEPTED")
pf_flush
sink_wait L "$want_l" 60 || e2e_fail "sink L: $(sink_count L) of $want_l"
sink_wait V "$want_v" 60 || e2e_fail "sink V: $(sink_count V) of $want_v"
sink_wait A "$want_a" 60 || e2e_fail "sink A: $(sink_count A) of $want_a"
pf_wait_queue_empty 60 || e2e_fail "queue not empty"
[ "$(sink_count L)" = "$want_l" ] && [ "$(sink_count V)" = "$want_v" ] &&
    [ "$(sink_count A)" = "$want_a" ] && [ "$(sink_count D)" = 0 ] ||
    e2e_fail "sinks: L=$(sink_count L)/$want_l V=$(sink_count V)/$want_v" \
	"A=$(sink_count A)/$want_a D=$(sink_count D)/0"
sink_rcpts V | grep -qx 'user@box.test' || e2e_fail "sink V: $(sink_rcpts V)"
sink_rcpts L | grep -q 'victim' && e2e_fail "a relay attempt was delivered"
grep -q 'status=bounced' "$PF_DIR/maillog" && e2e_fail "something bounced"
e2e_ok "own names in sinks L ($want_l) and V ($want_v), relayed in A, none in D"

# the milter's view: final delivery logged and counted
for r in "postmaster@$SRV" root@localhost user@box.test; do
	grep -F "rcpt=<$r>" "$E2E_DIR/milter-relay.log" |
	    grep -q 'outcome=continue trusted=no reason="MTA final delivery"' ||
	    e2e_fail "no final-delivery line for $r"
done
kill -USR1 "$MR_PID"
for i in $(seq 1 50); do
	grep -q ' final_delivery=[1-9]' "$E2E_DIR/milter-relay.log" && break
	sleep 0.1
done
grep -q ' final_delivery=5 ' "$E2E_DIR/milter-relay.log" ||
    e2e_fail "counters: $(grep 'counters:' "$E2E_DIR/milter-relay.log")"
e2e_ok "decision lines and counters: final_delivery=5"
mr_stop
e2e_ok "the MTA's own domains"
