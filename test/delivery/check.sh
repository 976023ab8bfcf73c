#!/bin/bash
# check.sh - end-to-end test of per-domain delivery: smart-host lists with
# failover and TLS policy per rule, with real Postfix instances (run by
# "make check" as root; about 30 s).
#
# Postfix A (the relay under test) asks milter-relay for transport_maps
# and smtp_tls_policy_maps (socketmap maps "transport" and "tls") and
# runs its milter with route_check = "enforce" (a list: any hop is
# right).  Postfix B is a second private instance with a certificate the
# test makes with openssl (its own CA): it offers STARTTLS on three ports
# and relays what it receives to sink T.  Plain smart hosts are smtp-sink
# (no STARTTLS).  It proves:
#   1. failover: fo.example has two hops, the first down (nothing
#      listens): the mail reaches the second; with the first back, the
#      next mail reaches the first;
#   2. tls = "encrypt" toward B: delivered over TLS (A logs the TLS
#      connection to B, B logs the one from A, the Received: header at
#      sink T says "using TLS"); the same policy toward an smtp-sink
#      defers the mail: "TLS is required, but was not offered";
#   3. tls = "verify" with the test CA: tls_match naming B's certificate
#      delivers ("Verified TLS connection"), another name defers;
#   4. postmap -q of each key against the tls map, as Postfix looks it
#      up: "[host]:port", "[host]" and "[host]:25" alike, an MX hop and
#      its parent, keys of hops without policy; the transport map's list.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init delivery
command -v openssl >/dev/null 2>&1 || e2e_skip "delivery: openssl not installed"

SMTPD=$(e2e_free_port)		# Postfix A
P_FO1=$(e2e_free_port)		# fo.example, first hop: down at first
P_FO2=$(e2e_free_port)		# fo.example, second hop
P_PLAIN=$(e2e_free_port)	# smtp-sink: no STARTTLS
P_ENC=$(e2e_free_port)		# Postfix B: tls = "encrypt"
P_VOK=$(e2e_free_port)		# Postfix B: tls = "verify", name matches
P_VBAD=$(e2e_free_port)		# Postfix B: tls = "verify", name differs
P_T=$(e2e_free_port)		# B relays everything here
sink_start FO2 127.0.0.1 "$P_FO2"
sink_start PLAIN 127.0.0.1 "$P_PLAIN"
sink_start T 127.0.0.1 "$P_T"

# --- certificates: a CA and B's certificate for "tls.test" -----------------

PKI=$E2E_DIR/pki
pki_make "$PKI" tls tls.test

# --- Postfix B: STARTTLS with that certificate, relays to sink T ------------

pf_create "$P_ENC" \
    "myhostname = tls.test" \
    "relayhost = [127.0.0.1]:$P_T" \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_cert_file = $PKI/tls.pem" \
    "smtpd_tls_key_file = $PKI/tls.key" \
    "smtpd_tls_loglevel = 1" \
    "smtpd_tls_received_header = yes"
for p in "$P_VOK" "$P_VBAD"; do
	echo "127.0.0.1:$p inet n - n - - smtpd" >>"$PF_DIR/master.cf"
done
echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_DIR/master.cf"
pf_aside pfb
PFB=$E2E_DIR/pfb
for p in "$P_ENC" "$P_VOK" "$P_VBAD"; do
	e2e_wait_port 127.0.0.1 "$p" 30 || e2e_fail "Postfix B not on $p"
done
e2e_ok "Postfix B (STARTTLS, certificate for tls.test) on $P_ENC $P_VOK $P_VBAD"

# --- milter-relay ------------------------------------------------------------

LIST=$E2E_DIR/domains.list
echo "fo-file.example smarthost=[127.0.0.1]:$P_FO1,[127.0.0.1]:$P_FO2" >"$LIST"
chmod 644 "$LIST"
CONF=$E2E_DIR/milter-relay.conf
mr_config "$CONF" \
    'policy = { trusted_networks = [ "127.0.0.1/32" ];' \
    '  route_check = "enforce"; };' \
    "domains_file = \"$LIST\";" \
    'domains = (' \
    "  { match = \"fo.example\"; smarthost = [ \"[127.0.0.1]:$P_FO1\"," \
    "    \"[127.0.0.1]:$P_FO2\" ]; }," \
    "  { match = \"enc.example\"; smarthost = \"[127.0.0.1]:$P_ENC\";" \
    '    tls = "encrypt"; },' \
    "  { match = \"plain.example\"; smarthost = \"[127.0.0.1]:$P_PLAIN\";" \
    '    tls = "encrypt"; },' \
    "  { match = \"vok.example\"; smarthost = \"[127.0.0.1]:$P_VOK\";" \
    '    tls = "verify"; tls_match = "tls.test"; },' \
    "  { match = \"vbad.example\"; smarthost = \"[127.0.0.1]:$P_VBAD\";" \
    '    tls = "verify"; tls_match = "other.test"; },' \
    '  { match = "mx.example"; smarthost = "mx:mx.tls.example";' \
    '    tls = "may"; },' \
    '  { match = "sec.example"; smarthost = "[192.0.2.9]:25";' \
    '    tls = "secure"; tls_match = "nexthop:dot-nexthop"; },' \
    '  { match = "sec2.example"; smarthost = "192.0.2.9";' \
    '    tls = "secure"; tls_match = "nexthop:dot-nexthop"; }' \
    ');'
"$MR_BIN" -t -c "$CONF" >"$E2E_DIR/t.out" 2>&1 ||
    e2e_fail "config does not check: $(cat "$E2E_DIR/t.out")"
mr_start "$CONF"

# --- Postfix A -----------------------------------------------------------------

SOCKETMAP="socketmap:inet:127.0.0.1:$MR_SMPORT"
pf_create "$SMTPD" \
    "transport_maps = $SOCKETMAP:transport" \
    "smtp_tls_policy_maps = $SOCKETMAP:tls" \
    "smtp_tls_CAfile = $PKI/ca.pem" \
    "smtp_tls_loglevel = 1" \
    "smtp_connection_cache_on_demand = no" \
    "smtpd_milters = unix:$MR_SOCKET" \
    "milter_default_action = tempfail"
echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_DIR/master.cf"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "Postfix A does not listen"
e2e_ok "Postfix A on $SMTPD, socketmap port $MR_SMPORT"

send() {	# RCPT: one message to Postfix A, must be queued
	e2e_send "$SMTPD" "$1"
}

log_wait() {	# REGEX [SECONDS]: poll Postfix A's log
	local i
	for i in $(seq 1 $((${2:-60} * 5))); do
		grep -Eq -- "$1" "$E2E_DIR/pf/maillog" && return 0
		sleep 0.2
	done
	return 1
}

# --- 1. failover ----------------------------------------------------------------

send f1@fo.example
sink_wait FO2 1 60 || e2e_fail "f1: not at the second hop"
sink_has FO2 f1@fo.example || e2e_fail "f1: wrong message at the second hop"
e2e_ok "first hop down: f1@fo.example reached the second hop"
sink_start FO1 127.0.0.1 "$P_FO1"
send f2@fo.example
sink_wait FO1 1 60 || e2e_fail "f2: not at the first hop"
sink_has FO1 f2@fo.example || e2e_fail "f2: wrong message at the first hop"
[ "$(sink_count FO2)" = 1 ] || e2e_fail "f2 reached the second hop too"
send f3@fo-file.example
sink_wait FO1 2 60 && sink_has FO1 f3@fo-file.example ||
    e2e_fail "f3 (domains_file list) not at the first hop"
e2e_ok "first hop back: f2@fo.example and f3@fo-file.example reached it"

# --- 2. tls = "encrypt" ------------------------------------------------------------

send t1@enc.example
sink_wait T 1 60 || e2e_fail "t1: did not pass Postfix B"
sink_has T t1@enc.example || e2e_fail "t1: wrong message at sink T"
grep -lq "using TLS" "$E2E_DIR"/sink-T/* ||
    e2e_fail "t1: no \"using TLS\" in the Received: header"
log_wait "TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$P_ENC" ||
    e2e_fail "t1: Postfix A logged no TLS connection to B"
grep -q "TLS connection established from localhost\\[127\\.0\\.0\\.1\\]" \
    "$PFB/maillog" || e2e_fail "t1: Postfix B logged no TLS connection"
e2e_ok "tls=encrypt: t1@enc.example went over TLS ($(grep -o \
    '[A-Za-z]* TLS connection established from [^:]*: [^ ]*' \
    "$PFB/maillog" | head -n 1))"

send t2@plain.example
log_wait "t2@plain.example.*status=deferred \\(TLS is required, but was not offered" ||
    e2e_fail "t2: not deferred for want of STARTTLS"
[ "$(sink_count PLAIN)" = 0 ] || e2e_fail "t2 reached the plain sink"
e2e_ok "tls=encrypt toward a host without STARTTLS: deferred," \
    "\"TLS is required, but was not offered\""

# --- 3. tls = "verify" with the test CA ----------------------------------------------

send v1@vok.example
sink_wait T 2 60 && sink_has T v1@vok.example || e2e_fail "v1: not delivered"
log_wait "Verified TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$P_VOK" ||
    e2e_fail "v1: no verified TLS connection"
e2e_ok "tls=verify tls_match=tls.test: v1@vok.example delivered, verified"
send v2@vbad.example
log_wait "v2@vbad.example.*status=deferred \\(Server certificate not verified" ||
    e2e_fail "v2: not deferred for the certificate name"
sink_has T v2@vbad.example && e2e_fail "v2 delivered despite the name"
e2e_ok "tls=verify tls_match=other.test: v2@vbad.example deferred"

# --- 4. postmap -q: the keys Postfix looks up --------------------------------------

pq() {	# MAP KEY WANT ("": not found)
	local got rc
	got=$(postmap -c "$E2E_DIR/pf" -q "$2" "$SOCKETMAP:$1" 2>&1)
	rc=$?
	if [ -z "$3" ]; then
		[ "$rc" = 1 ] && [ -z "$got" ] ||
		    e2e_fail "postmap -q '$2' $1: want not found, got \"$got\" ($rc)"
	else
		[ "$rc" = 0 ] && [ "$got" = "$3" ] ||
		    e2e_fail "postmap -q '$2' $1: want \"$3\", got \"$got\" ($rc)"
	fi
}
pq tls "[127.0.0.1]:$P_ENC" "encrypt"
pq tls "[127.0.0.1]:$P_PLAIN" "encrypt"
pq tls "[127.0.0.1]:$P_VOK" "verify match=tls.test"
pq tls "[127.0.0.1]:$P_VBAD" "verify match=other.test"
pq tls "mx.tls.example" "may"
pq tls "MX.TLS.example" "may"
pq tls ".tls.example" ""
pq tls "[mx.tls.example]" ""
pq tls "[192.0.2.9]" "secure match=nexthop:dot-nexthop"
pq tls "[192.0.2.9]:25" "secure match=nexthop:dot-nexthop"
pq tls "[192.0.2.9]:26" ""
pq tls "[127.0.0.1]:$P_FO1" ""
pq tls "enc.example" ""
pq transport "fo.example" "smtp:[127.0.0.1]:$P_FO1,[127.0.0.1]:$P_FO2"
pq transport "u@fo-file.example" "smtp:[127.0.0.1]:$P_FO1,[127.0.0.1]:$P_FO2"
e2e_ok "postmap -q: tls map keyed by next hop, transport map with a list"

"$MR_BIN" export -c "$CONF" postfix-tls-policy >"$E2E_DIR/tls.map" ||
    e2e_fail "export postfix-tls-policy failed"
postmap -c "$E2E_DIR/pf" "hash:$E2E_DIR/tls.map" ||
    e2e_fail "postmap of the exported table failed"
[ "$(postmap -c "$E2E_DIR/pf" -q "[127.0.0.1]:$P_VOK" "hash:$E2E_DIR/tls.map")" \
    = "verify match=tls.test" ] || e2e_fail "exported table disagrees"
e2e_ok "export postfix-tls-policy: a static table with the same answers"
echo "delivery: all passed"
