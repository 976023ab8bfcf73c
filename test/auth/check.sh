#!/bin/bash
# check.sh - end-to-end test of authenticated smart hosts (auth_file), with
# real Postfix instances (run by "make check" as root; about 20 s).
#
# Postfix B is the smart host: a second private instance with a
# certificate from the test's own CA (openssl) and Cyrus SASL (sasldb in a
# private cyrus_sasl_config_path, PLAIN and LOGIN, only after STARTTLS);
# it relays only for authenticated clients (permit_sasl_authenticated,
# reject), to sink T.  Postfix A is the relay under test in milter mode:
# transport and TLS policy from milter-relay's socketmap, the credentials
# from the table milter-relay writes into maps_dir (sasl_passwd.lmdb, the
# lines of contrib/postfix/main.cf).  It proves:
#   1. -t refuses an auth_file others can read, one of another group, a
#      missing one, a malformed one, and credentials with tls "may";
#      every load refused so is counted in the metrics, and a refused
#      reload keeps the previous table;
#   2. mail for a rule with good credentials reaches B authenticated
#      over TLS (B logs sasl_username, T's Received: header says
#      "Authenticated sender" and "using TLS");
#   3. wrong credentials leave the mail deferred at A ("SASL
#      authentication failed"): B logs no RCPT from A for it, T never
#      gets it, nothing else does either;
#   4. the right credentials in that file, a milter-relay reload, a queue
#      flush: the deferred mail arrives, authenticated (no postfix
#      reload);
#   5. sasl_passwd.lmdb is mode 0600, keyed by next hop as the transport
#      names it; no socketmap map answers a password for any key; no log
#      line of milter-relay or of either Postfix holds one; query says
#      auth=FILE and no more; export postfix-sasl-passwd is the same
#      table, sendmail-authinfo refuses what Sendmail cannot key;
#   6. Postfix A again in maps-only and in static mode, with the smtp_sasl
#      lines of main-maps.cf and main-static.cf: delivered authenticated
#      over TLS;
#   7. Sendmail (8.17 from contrib/install-deps.sh's cache, by
#      test/sendmail/lib.sh's sm_prepare: a skip, a failure under
#      MR_REQUIRE_ALL=1, when it cannot be had) reads the map made with
#      makemap from export sendmail-authinfo through contrib/sendmail's
#      FEATURE(`authinfo') line (sendmail -bt), and delivers a message
#      to B with it (its relay mailer, SMART_HOST B; the routing of
#      Sendmail by the rules is test/sendmail's): AUTH over TLS.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init auth
command -v openssl >/dev/null 2>&1 || e2e_skip "auth: openssl not installed"
command -v saslpasswd2 >/dev/null 2>&1 || e2e_skip "auth: sasl2-bin not installed"
postconf -a | grep -qx cyrus || e2e_skip "auth: Postfix without Cyrus SASL"
ls /usr/lib/*/sasl2/libplain.so* >/dev/null 2>&1 ||
    e2e_skip "auth: libsasl2-modules not installed"

SMTPD=$(e2e_free_port)		# Postfix A
P_GOOD=$(e2e_free_port)		# Postfix B, reached with good credentials
P_BAD=$(e2e_free_port)		# Postfix B, with wrong ones at first
P_T=$(e2e_free_port)		# B relays everything here
METRICS=$(e2e_free_port)
sink_start T 127.0.0.1 "$P_T"
GOODPW='G00d pass:word'
BADPW='wr0ng-pass'
NEWPW='n3w:Secret'

# --- certificates: a CA and B's certificate for "auth.test" ------------------

PKI=$E2E_DIR/pki
pki_make "$PKI" b auth.test

# --- Postfix B: STARTTLS, then AUTH PLAIN/LOGIN; relays only for AUTH --------

pf_create "$P_GOOD" \
    "myhostname = auth.test" \
    "relayhost = [127.0.0.1]:$P_T" \
    "mynetworks =" \
    "smtpd_relay_restrictions = permit_sasl_authenticated, reject" \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_auth_only = yes" \
    "smtpd_tls_cert_file = $PKI/b.pem" \
    "smtpd_tls_key_file = $PKI/b.key" \
    "smtpd_tls_loglevel = 1" \
    "smtpd_tls_received_header = yes" \
    "smtpd_sasl_auth_enable = yes" \
    "smtpd_sasl_type = cyrus" \
    "smtpd_sasl_path = smtpd" \
    "smtpd_sasl_local_domain = auth.test" \
    "smtpd_sasl_authenticated_header = yes" \
    "cyrus_sasl_config_path = $E2E_DIR/pf/sasl"
echo "127.0.0.1:$P_BAD inet n - n - - smtpd" >>"$PF_DIR/master.cf"
echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_DIR/master.cf"
# Debian's Postfix reads smtpd.conf from $config_directory/sasl whatever
# cyrus_sasl_config_path says (its xsasl_getconfpath()): both are this
mkdir -p "$PF_DIR/sasl"
cat >"$PF_DIR/sasl/smtpd.conf" <<EOF2
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $E2E_DIR/pfb/sasl/sasldb2
EOF2
printf '%s' "$GOODPW" | saslpasswd2 -p -c -f "$PF_DIR/sasl/sasldb2" \
    -u auth.test relayuser || e2e_fail "saslpasswd2 relayuser"
printf '%s' "$NEWPW" | saslpasswd2 -p -c -f "$PF_DIR/sasl/sasldb2" \
    -u auth.test otheruser || e2e_fail "saslpasswd2 otheruser"
chown root:postfix "$PF_DIR/sasl/sasldb2"
chmod 640 "$PF_DIR/sasl/sasldb2"
pf_aside pfb
PFB=$E2E_DIR/pfb
for p in "$P_GOOD" "$P_BAD"; do
	e2e_wait_port 127.0.0.1 "$p" 30 || e2e_fail "Postfix B not on $p"
done
# B itself: AUTH only after STARTTLS, and no relaying without it
out=$("$E2E_CLIENT" smtp -p "$P_GOOD" -s probe nobody@elsewhere.example 2>&1)
echo "$out" | grep -q '^RCPT <nobody@elsewhere.example> 554' ||
    e2e_fail "Postfix B relays without AUTH: $out"
e2e_ok "Postfix B (STARTTLS, AUTH PLAIN LOGIN via sasldb, relays only" \
    "authenticated) on $P_GOOD $P_BAD"

# --- milter-relay -----------------------------------------------------------------

MAPS=$E2E_DIR/maps
mkdir -p "$MAPS"
chown nobody:postfix "$MAPS"
CRED=$E2E_DIR/cred
mkdir -p "$CRED"
printf 'relayuser:%s\n' "$GOODPW" >"$CRED/good"
printf 'otheruser:%s\n' "$BADPW" >"$CRED/bad"
chown root:postfix "$CRED/good" "$CRED/bad"
chmod 640 "$CRED/good" "$CRED/bad"
LIST=$E2E_DIR/domains.list
echo "file.example smarthost=[127.0.0.1]:$P_GOOD tls=encrypt auth_file=$CRED/good" >"$LIST"
chmod 644 "$LIST"
CONF=$E2E_DIR/milter-relay.conf
rules() {	# the domains of the config; $1: auth_file of bad.example
	mr_config "$CONF" \
	    'policy = { trusted_networks = [ "127.0.0.1/32" ]; };' \
	    "maps_dir = \"$MAPS\";" \
	    "metrics = \"inet:$METRICS@127.0.0.1\";" \
	    'group = "postfix";' \
	    "domains_file = \"$LIST\";" \
	    'domains = (' \
	    "  { match = \"good.example\"; smarthost = \"[127.0.0.1]:$P_GOOD\";" \
	    "    tls = \"encrypt\"; auth_file = \"$CRED/good\"; }," \
	    "  { match = \"bad.example\"; smarthost = \"[127.0.0.1]:$P_BAD\";" \
	    "    tls = \"$2\"; auth_file = \"$1\"; }" \
	    ');'
}

# 1. what -t refuses
t_refuses() {	# WHY REGEX
	"$MR_BIN" -t -c "$CONF" >"$E2E_DIR/t.out" 2>&1 &&
	    e2e_fail "-t accepts $1"
	grep -Eq -- "$2" "$E2E_DIR/t.out" ||
	    e2e_fail "-t on $1 says: $(cat "$E2E_DIR/t.out")"
}
printf 'x:%s\n' "$BADPW" >"$CRED/open"
chmod 644 "$CRED/open"
rules "$CRED/open" encrypt
t_refuses "a file others can read" "open: others may read or change it"
printf 'x:%s\n' "$BADPW" >"$CRED/othergroup"
chown root:nogroup "$CRED/othergroup"
chmod 640 "$CRED/othergroup"
rules "$CRED/othergroup" encrypt
t_refuses "a file of another group" "othergroup: readable by a group other than the service group"
rules "$CRED/missing" encrypt
t_refuses "a missing file" "missing: No such file"
printf 'x %s\n' "$BADPW" >"$CRED/malformed"
chmod 600 "$CRED/malformed"
rules "$CRED/malformed" encrypt
t_refuses "a malformed line" "malformed: no colon"
rules "$CRED/bad" may
t_refuses "tls may" "auth_file needs tls = \"encrypt\", \"verify\" or \"secure\", not \"may\""
grep -q -- "$BADPW" "$E2E_DIR/t.out" && e2e_fail "-t printed a password"
e2e_ok "-t refuses: others can read, another group, missing, malformed," \
    "tls may (never printing the secret)"

rules "$CRED/bad" encrypt
"$MR_BIN" -t -c "$CONF" >"$E2E_DIR/t.out" 2>&1 ||
    e2e_fail "config does not check: $(cat "$E2E_DIR/t.out")"
mr_start "$CONF"
for i in $(seq 1 100); do
	[ -f "$MAPS/sasl_passwd.lmdb" ] && break
	sleep 0.1
done
[ -f "$MAPS/sasl_passwd.lmdb" ] || e2e_fail "no sasl_passwd.lmdb in maps_dir"
mode=$(stat -c '%a %U' "$MAPS/sasl_passwd.lmdb")
[ "$mode" = "600 nobody" ] || e2e_fail "sasl_passwd.lmdb is $mode"
e2e_ok "milter-relay wrote sasl_passwd.lmdb, mode $mode"

# --- Postfix A: milter mode, with the lines of contrib/postfix/main.cf --------------

SOCKETMAP="socketmap:inet:127.0.0.1:$MR_SMPORT"
sasl_lines() {	# FILE: its smtp_sasl lines, uncommented, for this maps_dir
	sed -n 's/^#\{0,1\}\(smtp_sasl_[a-z_]* =.*\)/\1/p' "$1" |
	    sed "s|lmdb:/[^ ]*/sasl_passwd|lmdb:$MAPS/sasl_passwd|"
}
mapfile -t SASL_LINES < <(sasl_lines contrib/postfix/main.cf)
pf_create "$SMTPD" \
    "transport_maps = $SOCKETMAP:transport" \
    "smtp_tls_policy_maps = $SOCKETMAP:tls" \
    "smtp_tls_CAfile = $PKI/ca.pem" \
    "smtp_tls_loglevel = 1" \
    "smtp_connection_cache_on_demand = no" \
    "smtpd_milters = unix:$MR_SOCKET" \
    "milter_default_action = tempfail" \
    "${SASL_LINES[@]}"
grep -q '^smtp_sasl_password_maps = lmdb:' "$PF_DIR/main.cf" ||
    e2e_fail "contrib/postfix/main.cf has no smtp_sasl_password_maps line"
echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_DIR/master.cf"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "Postfix A does not listen"
e2e_ok "Postfix A on $SMTPD (milter mode; $(grep -c '^smtp_sasl' \
    "$PF_DIR/main.cf") smtp_sasl lines of contrib/postfix/main.cf)"

send() {	# RCPT: one message to Postfix A, must be queued
	e2e_send "$SMTPD" "$1"
}
log_wait() {	# FILE REGEX [SECONDS]
	local i
	for i in $(seq 1 $((${3:-60} * 5))); do
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.2
	done
	return 1
}
sink_file() {	# SINK RCPT: the file of the message to RCPT
	grep -li -- "$2" "$E2E_DIR/sink-$1"/* | head -n 1
}

# --- 2. good credentials: delivered, authenticated, over TLS --------------------

send g1@good.example
sink_wait T 1 60 || e2e_fail "g1: did not pass Postfix B"
sink_has T g1@good.example || e2e_fail "g1: wrong message at sink T"
f=$(sink_file T g1@good.example)
grep -q "Authenticated sender: relayuser" "$f" ||
    e2e_fail "g1: no \"Authenticated sender\" in its Received: header"
grep -q "using TLS" "$f" || e2e_fail "g1: no \"using TLS\" in its Received: header"
grep -Eq "client=localhost\\[127\\.0\\.0\\.1\\], sasl_method=(PLAIN|LOGIN), sasl_username=relayuser" \
    "$PFB/maillog" || e2e_fail "g1: Postfix B logged no authenticated client"
log_wait "$E2E_DIR/pf/maillog" "TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$P_GOOD" 5 ||
    e2e_fail "g1: Postfix A logged no TLS connection to B"
send f1@file.example
sink_wait T 2 60 && sink_has T f1@file.example ||
    e2e_fail "f1 (domains_file rule) not delivered"
e2e_ok "good credentials: g1@good.example and f1@file.example reached B" \
    "authenticated ($(grep -Eo 'sasl_method=[A-Z]+' "$PFB/maillog" |
    head -n 1)) over TLS"

# --- 3. wrong credentials: deferred, never sent unauthenticated ----------------------

send w1@bad.example
log_wait "$E2E_DIR/pf/maillog" "w1@bad.example.*status=deferred \\(SASL authentication failed" ||
    e2e_fail "w1: not deferred for its credentials"
grep -q "w1@bad.example" "$PFB/maillog" &&
    e2e_fail "w1: Postfix B saw its RCPT (sent without AUTH?)"
sink_has T w1@bad.example && e2e_fail "w1 delivered with wrong credentials"
grep -Eq "w1@bad.example.*relay=[^ ]*:$P_GOOD" "$E2E_DIR/pf/maillog" &&
    e2e_fail "w1 sent to another hop"
[ "$(pf_queue_count)" = 1 ] || e2e_fail "w1 is not in A's queue"
e2e_ok "wrong credentials: w1@bad.example deferred (\"SASL authentication" \
    "failed\"), B never saw its RCPT, nothing delivered"

# --- 4. the right credentials, a reload: delivered --------------------------------------

before=$(postmap -c "$E2E_DIR/pf" -q "[127.0.0.1]:$P_BAD" "lmdb:$MAPS/sasl_passwd")
[ "$before" = "otheruser:$BADPW" ] ||
    e2e_fail "sasl_passwd answers the bad hop with something else"
printf 'otheruser:%s\n' "$NEWPW" >"$CRED/bad.new"
chown root:postfix "$CRED/bad.new"
chmod 640 "$CRED/bad.new"
mv "$CRED/bad.new" "$CRED/bad"
mr_reload
for i in $(seq 1 150); do
	now=$(postmap -c "$E2E_DIR/pf" -q "[127.0.0.1]:$P_BAD" "lmdb:$MAPS/sasl_passwd")
	[ "$now" = "otheruser:$NEWPW" ] && break
	sleep 0.2
done
[ "$now" = "otheruser:$NEWPW" ] || e2e_fail "the reload did not rewrite sasl_passwd"
pf_flush
sink_wait T 3 60 && sink_has T w1@bad.example ||
    e2e_fail "w1 not delivered with the new credentials"
grep -q "Authenticated sender: otheruser" "$(sink_file T w1@bad.example)" ||
    e2e_fail "w1: not authenticated as otheruser"
e2e_ok "new credentials, milter-relay reload, postqueue -f: w1 delivered" \
    "authenticated (no postfix reload)"

# a reload refused for its credentials keeps the table, and is counted
printf 'x:%s\n' "$BADPW" >"$CRED/good.new"
chmod 644 "$CRED/good.new"
chown root:postfix "$CRED/good.new"
mv "$CRED/good.new" "$CRED/good"
sum=$(md5sum <"$MAPS/sasl_passwd.lmdb")
mr_reload
log_wait "$E2E_DIR/milter-relay.log" "good: others may read or change it" 30 ||
    e2e_fail "the reload with a readable auth_file was not refused"
[ "$(md5sum <"$MAPS/sasl_passwd.lmdb")" = "$sum" ] ||
    e2e_fail "a refused reload changed sasl_passwd.lmdb"
m=$(curl -s "http://127.0.0.1:$METRICS/metrics")
echo "$m" | grep -Eq '^milter_relay_credentials_refused_total [1-9]' ||
    e2e_fail "metrics: $(echo "$m" | grep credentials)"
e2e_ok "a reload refused for its credentials: table kept, counted" \
    "($(echo "$m" | grep '^milter_relay_credentials_refused_total'))"

"$MR_BIN" export -c "$CONF" postfix-sasl-passwd >"$E2E_DIR/sasl.txt" 2>&1 &&
    e2e_fail "export loads a config whose auth_file others can read"
chmod 640 "$CRED/good"

# --- 5. keys, the socketmap, logs, query ---------------------------------------------

pq() {	# KEY WANT ("": not found)
	local got
	got=$(postmap -c "$E2E_DIR/pf" -q "$1" "lmdb:$MAPS/sasl_passwd")
	[ "$got" = "$2" ] || e2e_fail "sasl_passwd '$1': want \"$2\", got \"$got\""
}
pq "[127.0.0.1]:$P_GOOD" "relayuser:$GOODPW"
pq "[127.0.0.1]:$P_BAD" "otheruser:$NEWPW"
pq "[127.0.0.1]" ""
pq "127.0.0.1" ""
pq "good.example" ""
keys="good.example bad.example file.example u@good.example [127.0.0.1]:$P_GOOD
    [127.0.0.1]:$P_BAD [127.0.0.1] 127.0.0.1 AuthInfo:127.0.0.1"
for map in relay transport mailertable access rcpt recipients tls \
    sasl_passwd sasl auth; do
	for k in $keys; do
		echo "$map $k"
	done
done | sm_query >"$E2E_DIR/sm.out" 2>&1
[ "$(wc -l <"$E2E_DIR/sm.out")" -ge 90 ] ||
    e2e_fail "socketmap: $(wc -l <"$E2E_DIR/sm.out") answers"
grep -q 'OK encrypt' "$E2E_DIR/sm.out" || e2e_fail "socketmap: no tls answer"
grep -Eq -- "$GOODPW|$BADPW|$NEWPW|relayuser|otheruser" "$E2E_DIR/sm.out" &&
    e2e_fail "the socketmap answers a secret: $(grep -E -- "relayuser|otheruser" "$E2E_DIR/sm.out")"
for log in "$E2E_DIR/milter-relay.log" "$E2E_DIR/pf/maillog" "$PFB/maillog"; do
	grep -Fq -- "$GOODPW" "$log" || grep -Fq -- "$BADPW" "$log" ||
	    grep -Fq -- "$NEWPW" "$log" && e2e_fail "a password in $log"
done
q=$("$MR_BIN" query -c "$CONF" u@bad.example 2>&1)
echo "$q" | grep -q " auth=$CRED/bad " || e2e_fail "query: $q"
echo "$q" | grep -Fq -- "$NEWPW" && e2e_fail "query prints the password"
e2e_ok "sasl_passwd keyed by next hop; $(wc -l <"$E2E_DIR/sm.out")" \
    "socketmap answers, no secret; no password in any log; query: auth=FILE"

"$MR_BIN" export -c "$CONF" postfix-sasl-passwd >"$E2E_DIR/sasl.txt" ||
    e2e_fail "export postfix-sasl-passwd failed"
postmap -c "$E2E_DIR/pf" "lmdb:$E2E_DIR/sasl.txt" ||
    e2e_fail "postmap of the exported table failed"
[ "$(postmap -c "$E2E_DIR/pf" -q "[127.0.0.1]:$P_GOOD" "lmdb:$E2E_DIR/sasl.txt")" \
    = "x:$BADPW" ] || e2e_fail "the exported table disagrees"
"$MR_BIN" export -c "$CONF" sendmail-authinfo >"$E2E_DIR/authinfo.txt" 2>&1 &&
    e2e_fail "sendmail-authinfo says two ports of one host"
grep -q "Sendmail looks them up by host, not port" "$E2E_DIR/authinfo.txt" ||
    e2e_fail "sendmail-authinfo: $(cat "$E2E_DIR/authinfo.txt")"
e2e_ok "export postfix-sasl-passwd (postmap, same answers); sendmail-authinfo" \
    "refuses two ports of 127.0.0.1 with other credentials"
# --- 6. maps-only and static mode: the same table, the same delivery -------------

for mode in maps static; do
	pf_stop
	rm -rf "$E2E_DIR/pf"
	mapfile -t SASL_LINES < <(sasl_lines "contrib/postfix/main-$mode.cf")
	[ "${#SASL_LINES[@]}" = 4 ] ||
	    e2e_fail "contrib/postfix/main-$mode.cf: ${#SASL_LINES[@]} smtp_sasl lines"
	if [ "$mode" = maps ]; then
		T="$SOCKETMAP:"
		set -- "relay_domains = ${T}relay" "transport_maps = ${T}transport" \
		    "smtp_tls_policy_maps = ${T}tls" \
		    "smtpd_relay_restrictions = check_recipient_access ${T}rcpt, permit_mynetworks, reject_unauth_destination"
	else
		T="lmdb:$MAPS/"
		set -- "relay_domains = ${T}relay_domains" \
		    "transport_maps = ${T}transport" \
		    "smtp_tls_policy_maps = ${T}tls_policy" \
		    "smtpd_relay_restrictions = check_recipient_access ${T}access, permit_mynetworks, reject_unauth_destination"
	fi
	pf_create "$SMTPD" "$@" \
	    "smtp_tls_CAfile = $PKI/ca.pem" \
	    "smtp_connection_cache_on_demand = no" \
	    "${SASL_LINES[@]}"
	echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_DIR/master.cf"
	pf_start
	e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "$mode: Postfix A does not listen"
	n=$(sink_count T)
	send "$mode@good.example"
	sink_wait T $((n + 1)) 60 && sink_has T "$mode@good.example" ||
	    e2e_fail "$mode: $mode@good.example not delivered"
	f=$(sink_file T "$mode@good.example")
	grep -q "Authenticated sender: relayuser" "$f" && grep -q "using TLS" "$f" ||
	    e2e_fail "$mode: not authenticated over TLS: $(cat "$f")"
	[ -z "$(postconf -c "$PF_DIR" -h smtpd_milters)" ] ||
	    e2e_fail "$mode: a milter in main.cf"
	e2e_ok "$mode mode (contrib/postfix/main-$mode.cf's smtp_sasl lines):" \
	    "$mode@good.example reached B authenticated over TLS"
done
# --- 7. Sendmail reads what export sendmail-authinfo prints --------------------

# Sendmail's packages from contrib/install-deps.sh's cache, as test/sendmail
# has them (a skip through mr_skip when they cannot be had; the last part)
source test/sendmail/lib.sh
sm_prepare "auth: Sendmail's authinfo map"
SM=$SM_DIR
mkdir -p "$SM/q"
SMCONF=$E2E_DIR/sm.conf
mr_config "$SMCONF" 'group = "postfix";' 'domains = (' \
    "  { match = \"a.example\"; smarthost = [ \"[127.0.0.1]:$P_GOOD\"," \
    "    \"[2001:db8::7]\" ]; tls = \"encrypt\"; auth_file = \"$CRED/bad\"; }," \
    "  { match = \"b.example\"; smarthost = \"mail.b.example\";" \
    "    tls = \"verify\"; auth_file = \"$CRED/good\"; }" \
    ');'
"$MR_BIN" export -c "$SMCONF" sendmail-authinfo >"$SM/authinfo" ||
    e2e_fail "export sendmail-authinfo: $(cat "$SM/authinfo")"
{
	echo "define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl"
	echo "OSTYPE(\`linux')dnl"
	echo "define(\`QUEUE_DIR', \`$SM/q')dnl"
	echo "define(\`confDOMAIN_NAME', \`mr-auth-test.invalid')dnl"
	echo "define(\`confHOSTS_FILE', \`$SM/hosts')dnl"
	echo "define(\`confSERVICE_SWITCH_FILE', \`$SM/service.switch')dnl"
	echo "define(\`confDONT_PROBE_INTERFACES', \`True')dnl"
	echo "define(\`confAUTH_OPTIONS', \`p')dnl"
	echo "define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl"
	echo "define(\`RELAY_MAILER_ARGS', \`TCP \$h $P_GOOD')dnl"
	sed -n 's/^dnl \(FEATURE(`authinfo'"'"')\)dnl$/\1/p' \
	    contrib/sendmail/milter-relay.mc |
	    sed "s|authinfo')|authinfo', \`hash $SM/authinfo')dnl|"
	echo "MAILER(\`smtp')dnl"
} >"$SM/t.mc"
grep -q "FEATURE(\`authinfo', \`hash $SM/authinfo')" "$SM/t.mc" ||
    e2e_fail "contrib/sendmail/milter-relay.mc has no FEATURE(authinfo) line"
printf 'hosts: files\n' >"$SM/service.switch"
printf '127.0.0.1 localhost\n' >"$SM/hosts"
m4 -D_CF_DIR_="$SM_CF/" "$SM_CF/m4/cf.m4" "$SM/t.mc" >"$SM/t.cf" ||
    e2e_fail "m4 of the authinfo test"
"$SM_ROOT/usr/libexec/sendmail/makemap" -C "$SM/t.cf" hash "$SM/authinfo" \
    <"$SM/authinfo" || e2e_fail "makemap of the exported authinfo"
# Sendmail sleeps 60 s on an unqualified host name: SM_UNSHARE runs it
# with a qualified one in a UTS namespace of its own
printf '/map authinfo %s\n' AuthInfo:127.0.0.1 AuthInfo:IPv6:2001:db8::7 \
    AuthInfo:mail.b.example AuthInfo:a.example |
    "${SM_UNSHARE[@]}" "$SM_BIN" -C "$SM/t.cf" -bt \
    >"$SM/bt.out" 2>&1
for want in "(AuthInfo:127.0.0.1) returns \"U:otheruser\" \"I:otheruser\" \"P:$NEWPW\" \"M:PLAIN LOGIN\"" \
    "(AuthInfo:IPv6:2001:db8::7) returns \"U:otheruser\" \"I:otheruser\" \"P:$NEWPW\"" \
    "(AuthInfo:mail.b.example) returns \"U:x\" \"I:x\" \"P:$BADPW\"" \
    "(AuthInfo:a.example) no match"; do
	grep -qF -- "$want" "$SM/bt.out" ||
	    e2e_fail "sendmail -bt: no \"$want\": $(cat "$SM/bt.out")"
done
e2e_ok "Sendmail 8.17 (FEATURE(authinfo) of contrib/sendmail) reads the" \
    "exported map: AuthInfo: by server name and address, IPv6 too"
# and uses it: a message through Sendmail's relay mailer to B
n=$(sink_count T)
printf 'Subject: sm1\n\nthrough Sendmail\n' |
    "${SM_UNSHARE[@]}" "$SM_BIN" -C "$SM/t.cf" -odi \
    -f sender@e2e.test sm1@good.example >"$SM/send.out" 2>&1 ||
    e2e_fail "sendmail -odi: $(cat "$SM/send.out")"
sink_wait T $((n + 1)) 60 && sink_has T sm1@good.example ||
    e2e_fail "sm1 (through Sendmail) not delivered: $(cat "$SM/send.out")"
f=$(sink_file T sm1@good.example)
grep -q "Authenticated sender: otheruser" "$f" && grep -q "using TLS" "$f" ||
    e2e_fail "sm1: not authenticated over TLS: $(cat "$f")"
e2e_ok "Sendmail delivered sm1@good.example to B with those credentials," \
    "AUTH over TLS"
echo "auth: all passed"
