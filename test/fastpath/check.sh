#!/bin/bash
# check.sh - maps-only mode: Postfix decides from milter-relay's socketmap
# alone, no milter (make check, as root)
#
# A private Postfix with contrib/postfix/main-maps.cf verbatim (only the
# socketmap port differs), delivering its own names itself as in
# test/relay (mydestination: mailer local, sink L; virtual mailbox domain
# box.test over LMTP, sink V), relayhost sink D, the rules of
# test/relay/relay.conf.in plus a domains_file.  It proves:
#   1. the open-relay corpus (test/relay/corpus.txt) from the untrusted
#      client 127.0.0.2: every reply as Postfix alone must give it (the
#      corpus's pfonly expectations), and in the sinks every message
#      taken went exactly once where its rule routes it, nothing else;
#   2. a trusted client (127.0.0.1): deny rules still refuse with their
#      own reply, the trusted-only rule is accepted and routed;
#   3. milter-relay logged one decision line for every RCPT Postfix
#      asked about (map=rcpt);
#   4. a rule change reaches Postfix after "milter-relay reload" without
#      a Postfix reload: a new relayed domain is accepted and routed, a
#      relayed one turned deny is refused with its reply; the time from
#      the reload to the first right answer is printed (within 2 s).
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init fastpath
R=test/relay

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)		# example.com
PORT_B=$(e2e_free_port)		# #exact.example, .sub.example
PORT_C=$(e2e_free_port)		# partner.example, bücher.example
PORT_D=$(e2e_free_port)		# relayhost: unmatched, trusted only
PORT_L=$(e2e_free_port)		# local delivery
PORT_V=$(e2e_free_port)		# box.test over LMTP
for s in A B C D L; do
	eval "sink_start $s 127.0.0.1 \$PORT_$s"
done
sink_start V 127.0.0.1 "$PORT_V" -L

CONF=$E2E_DIR/relay.conf
LIST=$E2E_DIR/extra.list
echo "moved.example smarthost=[127.0.0.1]:$PORT_A" >"$LIST"
chmod 644 "$LIST"
mr_config "$CONF" "pidfile = \"$E2E_DIR/mr.pid\";" \
    "domains_file = \"$LIST\";"
sed -e '/^socket *=/d' -e '/^socketmap *=/d' -e '/^pidfile *=/d' \
    -e "s/@SINK_A@/$PORT_A/" -e "s/@SINK_B@/$PORT_B/" -e "s/@SINK_C@/$PORT_C/" \
    "$R/relay.conf.in" >>"$CONF"
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "relay.conf does not check"
mr_start "$CONF"

grep -q '^smtpd_milters =$' contrib/postfix/main-maps.cf ||
    e2e_fail "contrib/postfix/main-maps.cf: no empty smtpd_milters"
pf_create "$SMTPD" \
    "$(grep -v '^#' contrib/postfix/main-maps.cf |
        sed "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/")" \
    "mydestination = \$myhostname, localhost" \
    "local_transport = local:[127.0.0.1]:$PORT_L" \
    "virtual_mailbox_domains = box.test" \
    "virtual_mailbox_maps = inline:{ user@box.test=x }" \
    "virtual_transport = lmtp:inet:127.0.0.1:$PORT_V" \
    "relayhost = [127.0.0.1]:$PORT_D" \
    "smtpd_peername_lookup = no" \
    "smtpd_error_sleep_time = 0" \
    "smtpd_soft_error_limit = 1000" \
    "smtpd_hard_error_limit = 1000" \
    "smtpd_junk_command_limit = 100000" \
    "bounce_queue_lifetime = 0" \
    "maximal_queue_lifetime = 1h"
printf '%s\n' "local unix - - n - - smtp" "lmtp unix - - n - - lmtp" \
    >>"$PF_DIR/master.cf"
grep -q "check_recipient_access socketmap:inet:127.0.0.1:$MR_SMPORT:rcpt," \
    "$PF_DIR/main.cf" || e2e_fail "main.cf: no rcpt map"
errors=$(pf_check | grep -iv 'warning: not owned by root' |
    grep -iv 'group or other writable\|overriding earlier entry' || true)
[ -z "$errors" ] || e2e_fail "postfix check: $errors"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
e2e_ok "Postfix with contrib/postfix/main-maps.cf (no milter)"

# --- 1. the corpus from the untrusted client ------------------------------

TAKEN=$E2E_DIR/taken
: >"$TAKEN"
perl "$R/corpus.pl" smtp pfonly untrusted 127.0.0.1 "$SMTPD" 127.0.0.2 \
    "$R/corpus.txt" mr-e2e.localdomain 127.0.0.1 "$TAKEN" ||
    e2e_fail "maps-only, untrusted client"
n=$(wc -l <"$TAKEN")
pf_flush
pf_wait_queue_empty 180 || e2e_fail "queue not empty after 180 s"
perl "$R/corpus.pl" sinks "$TAKEN" \
    "mr-e2e.localdomain,localhost,[127.0.0.1],[ipv6:::1]" \
    A="$E2E_DIR/sink-A" B="$E2E_DIR/sink-B" C="$E2E_DIR/sink-C" \
    D="$E2E_DIR/sink-D" L="$E2E_DIR/sink-L" V="$E2E_DIR/sink-V" ||
    e2e_fail "sinks"
grep -q 'status=bounced' "$PF_DIR/maillog" && e2e_fail "something bounced"
e2e_ok "open-relay corpus, untrusted client: $n messages taken, each where its rule routes it"

# --- 2. a trusted client --------------------------------------------------

# send BIND RCPT WANT: one session, the RCPT reply must match WANT
send() {
	local out got
	out=$("$E2E_CLIENT" smtp -b "$1" -p "$SMTPD" -s "fastpath" "$2" 2>&1)
	got=$(echo "$out" | sed -n 's/^RCPT <.*> \([0-9][0-9][0-9] \)/\1/p' |
	    head -n 1)
	# shellcheck disable=SC2254
	case $got in
	$3*) ;;
	*) e2e_fail "$1 <$2>: want \"$3\", got \"$got\" ($out)" ;;
	esac
	e2e_ok "$1 <$2>: $got"
}
base_c=$(sink_count C)
send 127.0.0.1 u@lab.example.com "550 5.7.1 *No mail for the lab"
send 127.0.0.1 u@x.lab.example.com "550 5.7.1 *No mail for the lab"
send 127.0.0.1 u@gw.example.com "554 5.7.1 <u@gw.example.com>"
send 127.0.0.1 trusted1@partner.example 250
send 127.0.0.2 u@partner.example "554 5.7.1"
sink_wait C $((base_c + 1)) 60 ||
    e2e_fail "trusted1@partner.example did not reach sink C"
sink_rcpts C | grep -qx 'trusted1@partner.example' ||
    e2e_fail "sink C: $(sink_rcpts C)"
e2e_ok "trusted client: deny rules refuse, the trusted-only rule routes to C"

# --- 3. one decision line per RCPT ----------------------------------------

lines=$(grep -c ' map=rcpt rcpt=<' "$E2E_DIR/milter-relay.log")
grep -q ' map=rcpt rcpt=<u@lab.example.com> rule=lab.example.com outcome=reject reason="deny rule" answer="OK 550 5.7.1 No mail for the lab"' \
    "$E2E_DIR/milter-relay.log" || e2e_fail "no decision line for the deny rule"
grep -q ' map=rcpt rcpt=<relaytest@example.com> rule=example.com outcome=accept ' \
    "$E2E_DIR/milter-relay.log" || e2e_fail "no decision line for a relay rule"
[ "$lines" -ge 100 ] || e2e_fail "only $lines decision lines"
e2e_ok "decision lines: $lines (map=rcpt)"

# --- 4. reload without postfix reload -------------------------------------

{
	echo "moved.example relay=deny reply=\"550 5.7.1 Moved away\""
	echo "new.example smarthost=[127.0.0.1]:$PORT_B"
} >"$LIST.new"
chmod 644 "$LIST.new"
mv "$LIST.new" "$LIST"
base_b=$(sink_count B)
t0=$(date +%s.%N)
"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "milter-relay reload failed"
for i in $(seq 1 100); do
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" -s reload \
	    u@new.example u@moved.example 2>&1)
	echo "$out" | grep -q '^RCPT <u@new.example> 250' &&
	    echo "$out" | grep -q '^RCPT <u@moved.example> 550 5.7.1 .*Moved away' &&
	    break
	sleep 0.05
done
t1=$(date +%s.%N)
echo "$out" | grep -q '^RCPT <u@new.example> 250' &&
    echo "$out" | grep -q '^RCPT <u@moved.example> 550 5.7.1 .*Moved away' ||
    e2e_fail "after reload: $out"
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
sink_wait B $((base_b + 1)) 60 && sink_rcpts B | grep -qx u@new.example ||
    e2e_fail "u@new.example did not reach sink B"
awk -v t="$took" 'BEGIN { exit !(t <= 2) }' ||
    e2e_fail "the new rules reached Postfix after $took s (more than 2 s)"
e2e_ok "reload: new rules answered by Postfix $took s after milter-relay reload, routed to B"
mr_stop
e2e_ok "maps-only mode"
