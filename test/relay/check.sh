#!/bin/bash
# test/relay/check.sh - the open-relay corpus through every layer (make check)
#
# corpus.txt holds 190 address forms (nmap's smtp-open-relay tests, the
# classic relay testers' forms, RFC 5321/5322 edge cases, label-boundary
# and IDN look-alikes, over-long names, control characters), each with
# the class expected from an untrusted and from a trusted client under the
# rule set relay.conf.in.  Layers, each asserting every answer:
#
#   1. query   "milter-relay query -a 127.0.0.2 / -a 127.0.0.1" for every
#              form (no daemon): outcome and reply code of each class.
#   2. milter  a private Postfix (test/e2e/lib.sh) with milter-relay as
#              milter and socketmap (relay_domains, transport_maps, the
#              access map before reject_unauth_destination), delivering
#              its own names itself (mydestination: mailer local, sink
#              L; virtual mailbox domain box.test: mailer lmtp, sink V): one
#              SMTP session from 127.0.0.2 (untrusted) and one from
#              127.0.0.1 (trusted, mynetworks); 2xx where the class is
#              accept, 5xx otherwise; every accepted form is sent as a
#              message.
#   3. pfonly  the same Postfix, a second smtpd without the milter: only
#              Postfix's own relay check (relay_domains from the
#              socketmap).  From the untrusted client it must refuse
#              exactly what the milter refuses, except where corpus.txt
#              says why not (pfonly=... field); from the trusted client it
#              takes everything well formed (permit_mynetworks).
#   4. sinks   once the queue is empty, every message in every smtp-sink
#              is checked: each form the milter layer accepted arrived
#              exactly once, at the sink its rule names, with the
#              recipient as Postfix finally delivered it (after its own
#              percent-hack, bang-path and source-route rewriting), and
#              nothing else arrived (no bounce, no stray relay).
#
# Layers 2-4 need root and Postfix; without them they are skipped with a
# message (layer 1 always runs).  Under make san-check (MR_SANITIZE set)
# only layer 1 runs unless RELAY_POSTFIX=1.

set -u
cd "$(dirname "$0")/../.."
HERE=test/relay
BUILD=${MR_BUILD:-.}
MRB=$BUILD/milter/milter-relay
[ -x "$MRB" ] || { echo "FAIL: $MRB not built"; exit 1; }

# --- 1. query ----------------------------------------------------------------

TMP=$(mktemp -d /tmp/mr-relay.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
sed -e "s|@SOCKET@|unix:$TMP/unused.sock|" -e 's|@SOCKETMAP@|inet:1@127.0.0.1|' \
    -e "s|@PIDFILE@|$TMP/unused.pid|" -e 's/@SINK_A@/2001/' \
    -e 's/@SINK_B@/2002/' -e 's/@SINK_C@/2003/' \
    "$HERE/relay.conf.in" >"$TMP/relay.conf"
"$MRB" -t -c "$TMP/relay.conf" >/dev/null || { echo "FAIL: relay.conf does not load"; exit 1; }
perl "$HERE/corpus.pl" query "$MRB" "$TMP/relay.conf" "$HERE/corpus.txt" \
    mr-e2e.localdomain 127.0.0.1 || { echo "FAIL: query layer"; exit 1; }
rm -rf "$TMP"
trap - EXIT
# make san-check: the parser and decisions above ran under ASan+UBSan; the
# Postfix layers already ran in make check (RELAY_POSTFIX=1 runs them here
# too, about a minute more)
if [ -n "${MR_SANITIZE:-}" ] && [ "${RELAY_POSTFIX:-0}" != 1 ]; then
	echo "relay: Postfix layers left to make check (RELAY_POSTFIX=1 runs them here)"
	exit 0
fi

# --- 2-4. Postfix ------------------------------------------------------------

source test/e2e/lib.sh
e2e_init relay

SMTPD=$(e2e_free_port)		# with the milter
SMTPD0=$(e2e_free_port)		# Postfix alone
PORT_A=$(e2e_free_port)		# example.com
PORT_B=$(e2e_free_port)		# #exact.example, .sub.example
PORT_C=$(e2e_free_port)		# partner.example, bücher.example
PORT_D=$(e2e_free_port)		# relayhost: unmatched, trusted only
PORT_L=$(e2e_free_port)		# local_transport: Postfix's own domains
PORT_V=$(e2e_free_port)		# virtual_transport (LMTP): box.test
for s in A B C D L; do
	eval "sink_start $s 127.0.0.1 \$PORT_$s"
done
sink_start V 127.0.0.1 "$PORT_V" -L

CONF=$E2E_DIR/relay.conf
mr_config "$CONF"
sed -e '/^socket *=/d' -e '/^socketmap *=/d' -e '/^pidfile *=/d' \
    -e "s/@SINK_A@/$PORT_A/" -e "s/@SINK_B@/$PORT_B/" -e "s/@SINK_C@/$PORT_C/" \
    "$HERE/relay.conf.in" >>"$CONF"
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "relay.conf does not check"
mr_start "$CONF"

SOCKETMAP="socketmap:inet:127.0.0.1:$MR_SMPORT"
LOCALS="mr-e2e.localdomain,localhost,[127.0.0.1],[ipv6:::1]"
pf_create "$SMTPD" \
    "mydestination = \$myhostname, localhost" \
    "local_transport = local:[127.0.0.1]:$PORT_L" \
    "virtual_mailbox_domains = box.test" \
    "virtual_mailbox_maps = inline:{ user@box.test=x }" \
    "virtual_transport = lmtp:inet:127.0.0.1:$PORT_V" \
    "relayhost = [127.0.0.1]:$PORT_D" \
    "relay_domains = $SOCKETMAP:relay" \
    "smtpd_relay_restrictions = permit_mynetworks, check_recipient_access $SOCKETMAP:access, reject_unauth_destination" \
    "transport_maps = $SOCKETMAP:transport" \
    "smtpd_milters = unix:$MR_SOCKET" \
    "non_smtpd_milters =" \
    "milter_default_action = tempfail" \
    "milter_connect_timeout = 10s" \
    "milter_command_timeout = 20s" \
    "smtpd_peername_lookup = no" \
    "smtpd_error_sleep_time = 0" \
    "smtpd_soft_error_limit = 1000" \
    "smtpd_hard_error_limit = 1000" \
    "smtpd_junk_command_limit = 100000" \
    "bounce_queue_lifetime = 0" \
    "maximal_queue_lifetime = 1h"
echo "127.0.0.1:$SMTPD0 inet n - n - - smtpd -o smtpd_milters=" >>"$PF_DIR/master.cf"
# Postfix's own delivery agents keep their names ({rcpt_mailer} local and
# lmtp, as the milter sees them) and deliver to sinks L and V
printf '%s\n' "local unix - - n - - smtp" "lmtp unix - - n - - lmtp" \
    >>"$PF_DIR/master.cf"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
e2e_wait_port 127.0.0.1 "$SMTPD0" 30 || e2e_fail "second smtpd does not listen"

TAKEN=$E2E_DIR/taken
: >"$TAKEN"
for layer in milter pfonly; do
	port=$SMTPD
	[ "$layer" = pfonly ] && port=$SMTPD0
	perl "$HERE/corpus.pl" smtp "$layer" untrusted 127.0.0.1 "$port" \
	    127.0.0.2 "$HERE/corpus.txt" mr-e2e.localdomain 127.0.0.1 "$TAKEN" ||
	    e2e_fail "$layer layer, untrusted client"
	perl "$HERE/corpus.pl" smtp "$layer" trusted 127.0.0.1 "$port" \
	    127.0.0.1 "$HERE/corpus.txt" mr-e2e.localdomain 127.0.0.1 "$TAKEN" ||
	    e2e_fail "$layer layer, trusted client"
done
# 8-bit forms are not sent (smtp-sink offers no SMTPUTF8): their routes
# and relay answers, from the socketmap Postfix asked
printf '%s\n' "transport u@bücher.example" "transport u@MAIL.BÜCHER.example" \
    "transport u@ｅｘａｍｐｌｅ.com" "transport u@example。com" \
    "relay bücher.example" "relay еxample.com" "relay lаb.example.com" \
    "transport u@lаb.example.com" | sm_query >"$E2E_DIR/sm.out" ||
    e2e_fail "socketmap queries"
printf '%s\n' "OK smtp:[127.0.0.1]:$PORT_C" "OK smtp:[127.0.0.1]:$PORT_C" \
    "OK smtp:[127.0.0.1]:$PORT_A" "OK smtp:[127.0.0.1]:$PORT_A" \
    "OK RELAY" "NOTFOUND " "OK RELAY" "OK smtp:[127.0.0.1]:$PORT_A" >"$E2E_DIR/sm.want"
diff "$E2E_DIR/sm.want" "$E2E_DIR/sm.out" >&2 || e2e_fail "socketmap answers for 8-bit forms"
e2e_ok "8-bit forms: socketmap relay and transport answers"
n=$(wc -l <"$TAKEN")
e2e_ok "$n messages accepted and sent (milter layer, and Postfix alone from the untrusted client)"
pf_flush
pf_wait_queue_empty 180 || e2e_fail "queue not empty after 180 s: $(postqueue -c "$PF_DIR" -p | tail -n 5)"
perl "$HERE/corpus.pl" sinks "$TAKEN" "$LOCALS" \
    A="$E2E_DIR/sink-A" B="$E2E_DIR/sink-B" C="$E2E_DIR/sink-C" \
    D="$E2E_DIR/sink-D" L="$E2E_DIR/sink-L" V="$E2E_DIR/sink-V" ||
    e2e_fail "sinks"
grep -q 'status=bounced' "$PF_DIR/maillog" && e2e_fail "something bounced"
mr_stop
e2e_ok "open-relay corpus: query, Postfix+milter, Postfix alone and sinks agree"
