#!/bin/bash
# check.sh - who Postfix says the client is, as the milter sees it: SMTP
# AUTH and locally submitted mail through a real Postfix (make check, as
# root)
#
# A private Postfix (test/e2e/lib.sh) with milter-relay as smtpd_milters
# and non_smtpd_milters, Cyrus SASL on smtpd (an sasldb made with
# saslpasswd2, mechanism PLAIN, no TLS), trusted_networks without
# loopback, trust_authenticated on.  example.com is relayed for anyone
# (sink A), partner.example only for trusted clients (sink T), and
# lab.example.com is a deny rule inside example.com.  It proves:
#   1. SMTP AUTH: a client from 127.0.0.2 without AUTH is refused
#      partner.example by the milter; after AUTH PLAIN with the right
#      password it is trusted ({auth_authen}) and its mail reaches sink T;
#      with a wrong password AUTH fails (535) and it is refused again; a
#      deny rule binds the authenticated client too;
#   2. local submission (sendmail(1), pickup, cleanup): non_smtpd_milters
#      asks milter-relay, which sees client 127.0.0.1 and decides for it
#      (README: keep 127.0.0.0/8 in trusted_networks).  Postfix cannot
#      refuse one recipient of a local submission: a refused message stays
#      in the queue, retried (a milter configuration error in its log).
#      With loopback not trusted, mail for partner.example is refused and
#      stays queued; once loopback is trusted (reload) it is delivered
#      with the next; a deny rule's recipient is never delivered.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init trust
mr_need "SMTP AUTH through Postfix NOT checked" saslpasswd2 base64
[ -n "$(ls /usr/lib/x86_64-linux-gnu/sasl2/libplain.so* \
    /usr/lib/*/sasl2/libplain.so* 2>/dev/null)" ] ||
    e2e_skip "SMTP AUTH NOT checked: no Cyrus SASL PLAIN plugin (libsasl2-modules)"

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)
PORT_T=$(e2e_free_port)
sink_start A 127.0.0.1 "$PORT_A"
sink_start T 127.0.0.1 "$PORT_T"
LOG=$E2E_DIR/milter-relay.log

# --- milter-relay: loopback not trusted (conf_write 0) or trusted (1) -------
CONF=$E2E_DIR/milter-relay.conf
conf_write() {
	local nets='"192.0.2.0/24"'
	[ "$1" = 1 ] && nets='"192.0.2.0/24", "127.0.0.0/8"'
	mr_config "$CONF" \
	    "policy = { trusted_networks = [ $nets ];" \
	    "  trust_authenticated = true; };" \
	    "domains = (" \
	    " { match = \"example.com\"; smarthost = \"[127.0.0.1]:$PORT_A\"; }," \
	    " { match = \"lab.example.com\"; relay = \"deny\";" \
	    "   reply = \"550 5.7.1 No mail for the lab\"; }," \
	    " { match = \"partner.example\"; relay = \"trusted\";" \
	    "   smarthost = \"[127.0.0.1]:$PORT_T\"; }" \
	    ");"
}
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
conf_write 0
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "config does not check"
mr_start "$CONF"

# --- Postfix with Cyrus SASL (sasldb) ------------------------------------------
pf_create "$SMTPD" \
    "relay_domains = example.com, partner.example" \
    "transport_maps = inline:{ example.com=smtp:[127.0.0.1]:$PORT_A, partner.example=smtp:[127.0.0.1]:$PORT_T }" \
    "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination" \
    "smtpd_milters = unix:milter-relay/milter.sock" \
    "non_smtpd_milters = unix:milter-relay/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_sasl_auth_enable = yes" \
    "smtpd_sasl_type = cyrus" \
    "smtpd_sasl_path = smtpd" \
    "smtpd_sasl_local_domain = mr-e2e.localdomain" \
    "cyrus_sasl_config_path = $E2E_DIR/pf/sasl" \
    "smtpd_error_sleep_time = 0"
mkdir -p "$PF_DIR/sasl"
printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
    "mech_list: PLAIN" "sasldb_path: $PF_DIR/sasl/sasldb2" \
    >"$PF_DIR/sasl/smtpd.conf"
echo secret | saslpasswd2 -p -c -f "$PF_DIR/sasl/sasldb2" \
    -u mr-e2e.localdomain alice || e2e_fail "saslpasswd2"
chown postfix "$PF_DIR/sasl/sasldb2"
chmod 600 "$PF_DIR/sasl/sasldb2"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 60 || e2e_fail "smtpd does not listen"
e2e_ok "Postfix with Cyrus SASL (sasldb) and milter-relay as both milters"

N=0
# send AUTH RCPT WANT [SINK]: one session from 127.0.0.2; AUTH is "-",
# or USER:PASSWORD for AUTH PLAIN; WANT is the start of the RCPT reply
send() {
	local auth=$1 rcpt=$2 want=$3 sink=${4:-} out got a=() base=0
	N=$((N + 1))
	# counted before the session: the message may be there before the
	# client has printed its last reply
	[ -z "$sink" ] || base=$(sink_count "$sink")
	[ "$auth" = - ] ||
	    a=(-a "$(printf '\0%s\0%s' "${auth%%:*}" "${auth#*:}" | base64 -w0)")
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" -s "msg$N" "${a[@]}" \
	    "$rcpt" 2>&1)
	got=$(echo "$out" | sed -n 's/^RCPT <[^>]*> //p' | head -n 1)
	case $got in
	"$want"*) ;;
	*) e2e_fail "AUTH $auth <$rcpt>: want \"$want\", got \"$got\" ($out)" ;;
	esac
	SEND_OUT=$out
	if [ -n "$sink" ]; then
		echo "$out" | grep -q '^DATA 250' ||
		    e2e_fail "<$rcpt>: not queued: $out"
		sink_wait "$sink" $((base + 1)) 60 ||
		    e2e_fail "<$rcpt> never reached sink $sink"
		sink_rcpts "$sink" | grep -qx "$rcpt" ||
		    e2e_fail "<$rcpt> not in sink $sink: $(sink_rcpts "$sink")"
	fi
	e2e_ok "AUTH $auth <$rcpt>: $got${sink:+ -> sink $sink}"
}

# --- 1. SMTP AUTH ---------------------------------------------------------------
send - a1@example.com 250 A
send - u1@partner.example "5"
grep -q 'client=127.0.0.2 rcpt=<u1@partner.example> rule=partner.example outcome=reject trusted=no' \
    "$LOG" || e2e_fail "no milter refusal logged for u1@partner.example"
send alice:secret u2@partner.example 250 T
echo "$SEND_OUT" | grep -q '^AUTH 235' || e2e_fail "AUTH: $SEND_OUT"
grep -q 'client=127.0.0.2 rcpt=<u2@partner.example> rule=partner.example outcome=accept trusted=yes' \
    "$LOG" || e2e_fail "the authenticated client not trusted by the milter"
send alice:wrong u3@partner.example "5"
echo "$SEND_OUT" | grep -q '^AUTH 535' || e2e_fail "wrong password: $SEND_OUT"
send alice:secret u4@lab.example.com "550 5.7.1"
e2e_ok "SMTP AUTH through Postfix: the authenticated client is trusted," \
    "a failed AUTH is not, a deny rule binds both"

# --- 2. locally submitted mail: non_smtpd_milters --------------------------------
# submit RCPT: sendmail(1) of this instance, from a local user
submit() {
	printf 'From: root\nSubject: local %s\n\nlocal submission\n' "$1" |
	    sendmail -C "$PF_DIR" -f sender@example.com "$1" ||
	    e2e_fail "sendmail(1) $1"
}
# wait_decision RCPT OUTCOME: the milter's decision line for RCPT
wait_decision() {
	e2e_wait_log "$LOG" "client=127.0.0.1 rcpt=<?$1>? .*outcome=$2" 1 60 \
	    "the milter's decision ($2) for locally submitted <$1>"
}
base_t=$(sink_count T)
submit l1@partner.example
wait_decision l1@partner.example reject
# Postfix cannot refuse one recipient of a local submission: cleanup logs
# a milter configuration error and leaves the message in the maildrop
# queue, retried at each pickup run: not delivered, not lost
e2e_wait_log "$PF_DIR/maillog" "milter-reject: RCPT from localhost\\[127.0.0.1\\]: .*to=<l1@partner.example>" 1 60 \
    "Postfix's refusal of l1 by the milter"
grep -q "can't reject recipient in non-smtpd(8) submission" "$PF_DIR/maillog" ||
    e2e_fail "no 'milter configuration error' line for a refused local recipient"
conf_write 1
nreload=$(e2e_log_count "$LOG" 'reload: .*: OK')
mr_reload
e2e_wait_log "$LOG" 'reload: .*: OK' $((nreload + 1)) 60 "milter-relay reload"
# a new submission wakes pickup, which takes l1 again
submit l2@partner.example
wait_decision l2@partner.example accept
wait_decision l1@partner.example accept
submit l3@lab.example.com
wait_decision l3@lab.example.com reject
sink_wait T $((base_t + 2)) 60 ||
    e2e_fail "l1 and l2@partner.example did not both reach sink T: $(sink_rcpts T)"
sink_rcpts T | grep -qx l1@partner.example && sink_rcpts T | grep -qx l2@partner.example ||
    e2e_fail "sink T: $(sink_rcpts T)"
pf_flush
e2e_wait_log "$PF_DIR/maillog" "milter-reject: RCPT from localhost\\[127.0.0.1\\]: .*to=<l3@lab.example.com>" 1 60 \
    "Postfix's refusal of l3 by the milter"
q=$(postqueue -c "$PF_DIR" -j 2>/dev/null)
[ "$(echo "$q" | grep -c queue_id)" = 1 ] && echo "$q" | grep -q 'l3@lab.example.com' ||
    e2e_fail "the queue should hold only l3@lab.example.com: $q"
sink_rcpts A | grep -q '^l3@' && e2e_fail "l3@lab.example.com delivered (deny rule)"
e2e_ok "local submission: non_smtpd_milters asks milter-relay as client 127.0.0.1;" \
    "refused, a message stays queued (l1 until loopback is trusted, then" \
    "delivered; l3, a deny rule, never delivered)"

mr_stop
[ "$MR_STATUS" = 0 ] || e2e_fail "milter-relay exit status $MR_STATUS"
grep -q 'Sanitizer' "$LOG" && e2e_fail "sanitizer report in milter-relay.log"
echo "trust: all passed"
