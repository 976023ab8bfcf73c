#!/bin/bash
# check.sh - end-to-end test with a real Sendmail 8.17: milter-relay's
# milter, mailertable and access socket maps, smtp-sink smart hosts (run
# by "make check" as root).
#
# Debian's sendmail-bin conflicts with postfix, so contrib/install-deps.sh
# fetches the packages ("apt-get download", test/sendmail/setup.sh) into
# /var/cache/milter-relay-test/sendmail (or $MR_SENDMAIL_CACHE) and
# unpacks them there.  When they are not there, the test fetches them
# itself (MR_REQUIRE_ALL=1: a failure instead, nothing is fetched at test
# time in CI); when they cannot be had it is a skip (mr_skip) naming the
# reason.  A private Sendmail
# ("sendmail -C test.cf -bD", own queue, pid file, hosts file, service
# switch, no DNS, in a UTS namespace with a qualified name when the host's
# is not) listens on 127.0.0.1 with the lines shipped in
# contrib/sendmail/milter-relay.mc.  Plain esmtp delivers to one sink
# port; the sinks differ by loopback address (127.0.0.10 ..., ::1), and
# one rule names a smart host with a port (the "esmtpPORT" mailer).
# Trusted mail comes from 127.0.0.1, untrusted from 127.0.0.2.  test.mc
# also gives Sendmail relay domains (class R) broader than the rules.
# It proves:
#   1. trusted client: namespace, subdomain, #exact, port, IPv6 and
#      trusted-only rules accepted; the deny exception refused with the
#      rule's reply (by the milter: Sendmail lets localhost relay); the
#      #exact name's subdomain and an unlisted domain accepted and routed
#      by Sendmail's default route (SMART_HOST), not by a rule;
#   2. untrusted client: namespace, subdomain, #exact accepted; unlisted
#      domain, trusted-only rule and below-#exact names outside class R
#      refused by Sendmail ("Relaying denied": the access socket map);
#      below-#exact and deny names inside class R refused by the milter
#      ("Relay access denied", the deny rule's reply);
#   3. every accepted recipient reached the sink its rule names (the
#      mailertable socket map; route_check = "enforce" in the milter
#      also holds Sendmail's choice of mailer and host against the rule);
#   3b. class w (own.example, localhost): mailer local, the milter
#      leaves it to Sendmail for an untrusted client, relaying through it
#      (percent hack, quoted @, source route, bang path) refused;
#   3c. failover: a rule with two smart hosts, the first down: the
#      mail reaches the second; with the first back, the first;
#   4. reload: rules edited and SIGHUP sent, a domain moves to another
#      sink, Sendmail and milter-relay keep their pids;
#   6. recipients per rule (run after 2): a "list" rule accepts
#      its listed user and refuses another with 550 5.1.1, a "verify"
#      rule accepts what its smart host (an smtp-sink) accepts, and one
#      whose smart host is down gets 450 4.1.1; the accepted ones are
#      delivered;
#   5. milter-relay stopped: Sendmail answers 4xx; a message queued before
#      (its sink down) stays queued through a queue run, neither lost nor
#      routed elsewhere; milter alone down, maps up: 451 4.3.2 (F=T);
#      after the restart a queue run delivers the queued message and the
#      queue is empty; every accepted recipient is in exactly one sink.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source test/e2e/lib.sh
e2e_init sendmail

# --- Sendmail, fetched and unpacked --------------------------------------

source test/sendmail/lib.sh
sm_prepare "sendmail end-to-end test"

# --- ports, addresses, sinks ---------------------------------------------

SINK_PORT=
for i in $(seq 1 20); do
	p=$(e2e_free_port 127.0.0.10) || continue
	busy=0
	for a in 11 13 14 19; do
		e2e_port_open "127.0.0.$a" "$p" && busy=1
	done
	[ "$busy" = 0 ] && { SINK_PORT=$p; break; }
done
[ -n "$SINK_PORT" ] || e2e_fail "no free sink port on 127.0.0.10/11/13/14/19"
PORT2=$(e2e_free_port 127.0.0.12) || e2e_fail "no free port on 127.0.0.12"
SMTP_PORT=$(e2e_free_port) || e2e_fail "no free SMTP port"

sink_start A 127.0.0.10 "$SINK_PORT"	# example.com, moved.example before
sink_start B 127.0.0.11 "$SINK_PORT"	# #exact.example, partner.example,
					# moved.example after the reload
sink_start C 127.0.0.12 "$PORT2"	# ported.example: [127.0.0.12]:PORT2
sink_start D 127.0.0.19 "$SINK_PORT"	# SMART_HOST: what no rule routes
sink_start F 127.0.0.14 "$SINK_PORT"	# failover.example, second hop; the
					# first, 127.0.0.13 (sink G), is down
					# until section 3b
IPV6=0
if e2e_have_ipv6 && ! e2e_port_open ::1 "$SINK_PORT"; then
	IPV6=1
	sink_start E ::1 "$SINK_PORT"	# v6.example: [::1] (esmtp:[IPv6:::1])
else
	mr_skip "::1 unusable here: the IPv6 smart host NOT checked"
fi

# --- milter-relay --------------------------------------------------------

CONF=$E2E_DIR/milter-relay.conf
mkdir -p "$E2E_DIR/cache"
chown nobody "$E2E_DIR/cache"
printf 'r1@listed.example\n' >"$E2E_DIR/listed.users"
chmod 644 "$E2E_DIR/listed.users"
write_conf() {	# $1: smart host of moved.example
	mr_config "$CONF" \
	    "verify = { cache = \"$E2E_DIR/cache/verify.lmdb\"; timeout = \"3s\"; };" \
	    'policy = {' \
	    '	unmatched = "reject";' \
	    '	trusted_networks = [ "127.0.0.1/32" ];' \
	    '	trust_authenticated = false;' \
	    '	route_check = "enforce";' \
	    '};' \
	    'domains = (' \
	    '	{ match = "example.com"; smarthost = "[127.0.0.10]"; },' \
	    '	{ match = "#exact.example"; smarthost = "[127.0.0.11]"; },' \
	    '	{ match = "#solo.example"; smarthost = "[127.0.0.11]"; },' \
	    '	{ match = "lab.example.com"; relay = "deny";' \
	    '	  reply = "550 5.7.1 No mail for the lab"; },' \
	    '	{ match = "partner.example"; relay = "trusted";' \
	    '	  smarthost = "[127.0.0.11]"; },' \
	    "	{ match = \"ported.example\"; smarthost = \"[127.0.0.12]:$PORT2\"; }," \
	    '	{ match = "failover.example";' \
	    '	  smarthost = [ "[127.0.0.13]", "[127.0.0.14]" ]; },' \
	    '	{ match = "v6.example"; smarthost = "[::1]"; },' \
	    "	{ match = \"listed.example\"; smarthost = \"[127.0.0.12]:$PORT2\";" \
	    "	  recipients = \"list\"; recipients_file = \"$E2E_DIR/listed.users\"; }," \
	    "	{ match = \"checked.example\"; smarthost = \"[127.0.0.12]:$PORT2\";" \
	    '	  recipients = "verify"; },' \
	    "	{ match = \"deadhop.example\"; smarthost = \"[127.0.0.13]:$PORT2\";" \
	    '	  recipients = "verify"; },' \
	    "	{ match = \"moved.example\"; smarthost = \"$1\"; }" \
	    ');'
}
write_conf "[127.0.0.10]"
"$E2E_BUILD/milter/milter-relay" -t -c "$CONF" >/dev/null 2>&1 ||
    e2e_fail "config rejected: $("$E2E_BUILD/milter/milter-relay" -t -c "$CONF" 2>&1)"
mr_start "$CONF"
MR_PID0=$MR_PID

# --- the private Sendmail ------------------------------------------------

sm_start "$SMTP_PORT" "$SINK_PORT" "$PORT2"

# --- helpers ---------------------------------------------------------------

# send FROM-ADDR TAG RCPT...: one message, the replies in $E2E_DIR/TAG.out
send() {
	local src=$1 tag=$2
	shift 2
	"$E2E_CLIENT" smtp -b "$src" -p "$SMTP_PORT" -f "sender@client.example" \
	    -s "$tag" "$@" >"$E2E_DIR/$tag.out" 2>&1
	return 0
}

# expect TAG RCPT REGEX: the reply to RCPT TO:<RCPT> matches REGEX
expect() {
	local tag=$1 rcpt=$2 re=$3 line
	line=$(grep -F "RCPT <$rcpt> " "$E2E_DIR/$tag.out" | head -n 1)
	line=${line#"RCPT <$rcpt> "}
	if ! [[ $line =~ $re ]]; then
		cat "$E2E_DIR/$tag.out"
		e2e_fail "$tag: RCPT <$rcpt>: want /$re/, got \"$line\""
	fi
	e2e_ok "$tag: <$rcpt> $line"
}

expect_data() {
	grep -q '^DATA 250' "$E2E_DIR/$1.out" || {
		cat "$E2E_DIR/$1.out"
		e2e_fail "$1: message not accepted"
	}
}

# has SINK RCPT: the sink received a message for RCPT
has() {
	sink_rcpts "$1" | grep -qxi -- "$2"
}

# has_wait SINK RCPT: poll (90 s) until the sink has a message for RCPT
has_wait() {
	local i
	for i in $(seq 1 450); do
		has "$1" "$2" && return 0
		sleep 0.2
	done
	return 1
}

# sink_is SINK RCPT...: exactly these recipients, in any order (polled
# for 10 s: smtp-sink creates a message's file before it has written it)
sink_is() {
	local sink=$1 want got i
	shift
	want=$(printf '%s\n' "$@" | tr 'A-Z' 'a-z' | sort)
	for i in $(seq 1 50); do
		got=$(sink_rcpts "$sink" | tr 'A-Z' 'a-z' | sort)
		[ "$want" = "$got" ] && break
		sleep 0.2
	done
	if [ "$want" != "$got" ]; then
		e2e_fail "sink $sink: want {$(echo $want)}, got {$(echo $got)}"
	fi
	e2e_ok "sink $sink received exactly: $(echo $got)"
}

queue_files() {
	find "$SM_DIR/mqueue" -name 'qf*' 2>/dev/null | wc -l
}

queue_run() {	# one queue run in the foreground, output to $1
	timeout 120 "${SM[@]}" -q -v >"$E2E_DIR/$1" 2>&1
}

# --- 1. trusted client (127.0.0.1) ---------------------------------------

send 127.0.0.1 trusted u1@example.com u2@a.b.example.com u3@exact.example \
    u4@sub.exact.example u5@lab.example.com u6@partner.example \
    u7@ported.example u8@moved.example u9@unlisted.test
expect trusted u1@example.com '^250 '
expect trusted u2@a.b.example.com '^250 '
expect trusted u3@exact.example '^250 '
expect trusted u4@sub.exact.example '^250 '
expect trusted u5@lab.example.com \
    '^550 5\.7\.1 (<u5@lab\.example\.com>\.\.\. )?No mail for the lab$'
expect trusted u6@partner.example '^250 '
expect trusted u7@ported.example '^250 '
expect trusted u8@moved.example '^250 '
expect trusted u9@unlisted.test '^250 '
expect_data trusted
if [ "$IPV6" = 1 ]; then
	send 127.0.0.1 ipv6 x1@v6.example
	expect ipv6 x1@v6.example '^250 '
	expect_data ipv6
	sink_wait E 1 90 || e2e_fail "x1@v6.example did not reach [::1]"
	sink_is E x1@v6.example
fi

# --- 2. untrusted client (127.0.0.2) -------------------------------------

# Sendmail's own relay check comes first: the access socket map (RELAY
# for "To:domain" under an "always" rule, SKIP below it where a rule says
# otherwise) and class R (RELAY_DOMAIN in test.mc: exact.example and
# lab.example.com with all their subdomains, broader than the rules).
# What Sendmail lets through, the milter narrows: its replies are
# "Relay access denied" and the deny rule's text, Sendmail's is
# "Relaying denied".
send 127.0.0.2 untrusted v1@example.com v2@x.example.com v3@exact.example \
    v4@sub.exact.example v5@lab.example.com v6@partner.example \
    v7@unlisted.test v8@deep.lab.example.com v9@solo.example \
    v10@x.solo.example
expect untrusted v1@example.com '^250 '
expect untrusted v2@x.example.com '^250 '
expect untrusted v3@exact.example '^250 '
expect untrusted v4@sub.exact.example '^554 5\.7\.1 .*Relay access denied$'
expect untrusted v5@lab.example.com \
    '^550 5\.7\.1 (<v5@lab\.example\.com>\.\.\. )?No mail for the lab$'
expect untrusted v6@partner.example '^550 5\.7\.1 .*Relaying denied'
expect untrusted v7@unlisted.test '^550 5\.7\.1 .*Relaying denied'
expect untrusted v8@deep.lab.example.com \
    '^550 5\.7\.1 (<v8@deep\.lab\.example\.com>\.\.\. )?No mail for the lab$'
expect untrusted v9@solo.example '^250 '
expect untrusted v10@x.solo.example '^550 5\.7\.1 .*Relaying denied'
expect_data untrusted

# Sendmail's own names (class w: own.example, localhost): mailer local,
# left to Sendmail by the milter ("MTA final delivery"); ownuser is an
# alias of ownuser@solo.example (sink B).  Relaying through them stays
# refused.
send 127.0.0.2 own ownuser@own.example ownuser@localhost \
    u%victim.test@own.example '"u@victim.test"@own.example' \
    @own.example:u@victim.test victim.test!u@own.example nosuchuser@own.example
expect own ownuser@own.example '^250 '
expect own ownuser@localhost '^250 '
expect own u%victim.test@own.example '^5[0-9][0-9] '
expect own '"u@victim.test"@own.example' '^5[0-9][0-9] '
expect own @own.example:u@victim.test '^5[0-9][0-9] '
expect own victim.test!u@own.example '^5[0-9][0-9] '
expect own nosuchuser@own.example '^5[0-9][0-9] '
expect_data own
for r in ownuser@own.example ownuser@localhost; do
	grep -F "rcpt=<$r>" "$E2E_DIR/milter-relay.log" |
	    grep -q 'outcome=continue trusted=no reason="MTA final delivery"' ||
	    e2e_fail "class w: no final-delivery line for $r"
done
e2e_ok "class w: mailer local, MTA final delivery; relaying through it refused"

# The access map as Sendmail asks it (tag folded to lower case).
sm_expect() {	# KEY ANSWER
	local got
	got=$(echo "access $1" | sm_query)
	[ "$got" = "$2" ] || e2e_fail "socket map: access $1: want \"$2\", got \"$got\""
}
sm_expect to:example.com "OK RELAY"
sm_expect to:a.b.example.com "OK RELAY"
sm_expect to:exact.example "OK RELAY"
sm_expect to:sub.exact.example "OK SKIP"
sm_expect to:lab.example.com "OK SKIP"
sm_expect to:partner.example "NOTFOUND "
sm_expect to:unlisted.test "NOTFOUND "
sm_expect connect:127.0.0.2 "NOTFOUND "
sm_expect from:sender@client.example "NOTFOUND "
sm_expect example.com "NOTFOUND "
e2e_ok "access socket map: RELAY, SKIP and NOTFOUND as Sendmail asks"

# --- 6. recipients per rule ------------------------------------------------

send 127.0.0.2 recipients r1@listed.example r2@listed.example \
    r3@checked.example r4@deadhop.example
expect recipients r1@listed.example '^250 '
expect recipients r2@listed.example '^550 5\.1\.1 .*User unknown$'
expect recipients r3@checked.example '^250 '
expect recipients r4@deadhop.example '^450 4\.1\.1 .*unverified address'
expect_data recipients

# --- 3. where it all went ------------------------------------------------

sink_wait A 2 90 && sink_wait B 2 90 && sink_wait C 2 90 &&
    sink_wait D 1 90 || e2e_fail "messages did not arrive:" \
    "A=$(sink_count A) B=$(sink_count B) C=$(sink_count C) D=$(sink_count D)"
# Sendmail sends one copy per host: wait for the queue to drain too.
for i in $(seq 1 300); do
	[ "$(queue_files)" = 0 ] && break
	sleep 0.2
done
[ "$(queue_files)" = 0 ] || e2e_fail "queue not empty: $("${SM[@]}" -bp 2>&1)"
sink_is A u1@example.com u2@a.b.example.com u8@moved.example \
    v1@example.com v2@x.example.com
sink_is B u3@exact.example u6@partner.example v3@exact.example \
    v9@solo.example ownuser@solo.example
sink_is C u7@ported.example r1@listed.example r3@checked.example
sink_is D u4@sub.exact.example u9@unlisted.test

# --- 3b. failover: a list of two smart hosts -------------------------------

# The mailertable answer lists both hosts ("esmtp:[127.0.0.13]:[...]");
# Sendmail tries them in order.  route_check = "enforce": its {rcpt_host}
# is the whole list, and any hop of the rule's list is right.
sm_wait_answer "mailertable failover.example" \
    "OK esmtp:[127.0.0.13]:[127.0.0.14]" ||
    e2e_fail "failover: mailertable says \"$SM_ANSWER\""
send 127.0.0.1 failover1 f1@failover.example
expect failover1 f1@failover.example '^250 '
expect_data failover1
has_wait F f1@failover.example ||
    e2e_fail "failover: f1 did not reach the second hop"
sink_is F f1@failover.example
e2e_ok "failover: first hop down, f1@failover.example reached the second"
sink_start G 127.0.0.13 "$SINK_PORT"
send 127.0.0.1 failover2 f2@failover.example
expect failover2 f2@failover.example '^250 '
expect_data failover2
has_wait G f2@failover.example ||
    e2e_fail "failover: f2 did not reach the first hop"
sink_is G f2@failover.example
sink_is F f1@failover.example
e2e_ok "failover: first hop back, f2@failover.example reached it"

# --- 4. reload -------------------------------------------------------------

SM_PID_FILE=$(head -n 1 "$SM_DIR/sendmail.pid")
write_conf "[127.0.0.11]"
mr_reload
sm_wait_answer "mailertable moved.example" "OK esmtp:[127.0.0.11]" ||
    e2e_fail "reload: socket map still says \"$SM_ANSWER\""
send 127.0.0.1 reload w1@moved.example w2@example.com
expect reload w1@moved.example '^250 '
expect reload w2@example.com '^250 '
expect_data reload
sink_wait B 4 90 && sink_wait A 3 90 || e2e_fail "reload: mail did not arrive"
has B w1@moved.example || e2e_fail "reload: w1@moved.example not in sink B"
has A w1@moved.example && e2e_fail "reload: w1@moved.example in sink A"
has A w2@example.com || e2e_fail "reload: w2@example.com not in sink A"
kill -0 "$SM_PID" && [ "$(head -n 1 "$SM_DIR/sendmail.pid")" = \
    "$SM_PID_FILE" ] || e2e_fail "reload: sendmail was restarted"
kill -0 "$MR_PID" && [ "$MR_PID" = "$MR_PID0" ] ||
    e2e_fail "reload: milter-relay was restarted"
e2e_ok "reload moved moved.example from sink A to sink B," \
    "Sendmail (pid $SM_PID_FILE) and milter-relay (pid $MR_PID) kept running"

# --- 5. milter-relay stopped -------------------------------------------------

sink_stop A
send 127.0.0.1 queued q1@example.com
expect queued q1@example.com '^250 '
expect_data queued
# the delivery attempt fails (sink A is down): the message stays queued
for i in $(seq 1 300); do
	grep -q 'Deferred' <("${SM[@]}" -bp 2>&1) && break
	sleep 0.2
done
[ "$(queue_files)" = 1 ] || e2e_fail "q1 not queued: $("${SM[@]}" -bp 2>&1)"
e2e_ok "q1@example.com queued while its smart host is down"

mr_stop
e2e_port_open 127.0.0.1 "$MR_SMPORT" && e2e_fail "socket map still open"
sink_start A 127.0.0.10 "$SINK_PORT"
A_BEFORE=$(sink_count A)
D_BEFORE=$(sink_count D)

send 127.0.0.1 down d1@example.com
if grep -q '^RCPT <d1@example.com> 2' "$E2E_DIR/down.out" ||
    ! grep -Eq '^(CONNECT|EHLO|MAIL|RCPT <[^>]*>) 4[0-9][0-9] ' \
    "$E2E_DIR/down.out"; then
	cat "$E2E_DIR/down.out"
	e2e_fail "milter-relay down: no 4xx answer"
fi
e2e_ok "milter-relay down: $(grep -E ' 4[0-9][0-9] ' "$E2E_DIR/down.out" |
    head -n 1)"
send 127.0.0.2 down2 d2@example.com
grep -q '^RCPT <d2@example.com> 2' "$E2E_DIR/down2.out" &&
    e2e_fail "milter-relay down: untrusted d2@example.com accepted"
grep -Eq ' 4[0-9][0-9] ' "$E2E_DIR/down2.out" ||
    e2e_fail "milter-relay down: no 4xx for the untrusted client"

queue_run qrun-down.log
[ "$(queue_files)" = 1 ] ||
    e2e_fail "milter-relay down: q1 left the queue: $(cat "$E2E_DIR/qrun-down.log")"
[ "$(sink_count A)" = "$A_BEFORE" ] && [ "$(sink_count D)" = "$D_BEFORE" ] ||
    e2e_fail "milter-relay down: q1 delivered without its route"
e2e_ok "milter-relay down: a queue run keeps q1 queued ($(grep -o \
    'Transient parse error[^.]*' "$E2E_DIR/qrun-down.log" | head -n 1))"

# The milter alone down, the socket maps up: a milter-relay whose milter
# socket is elsewhere.  F=T: Sendmail tempfails the session itself.
sed "s|unix:$MR_SOCKET|unix:$E2E_DIR/mr/elsewhere.sock|" "$CONF" \
    >"$E2E_DIR/maps-only.conf"
"$MR_BIN" -f -c "$E2E_DIR/maps-only.conf" -u nobody -g postfix \
    >>"$E2E_DIR/milter-relay.log" 2>&1 &
MAPS_PID=$!
e2e_track_pid "$MAPS_PID"
e2e_wait_port 127.0.0.1 "$MR_SMPORT" 30 || e2e_fail "maps-only daemon down"
for i in 1 2 3; do
	send 127.0.0.1 nomilter n1@example.com
	grep -q ' 4\.3\.0 ' "$E2E_DIR/nomilter.out" || break   # stale map conn
done
# Sendmail's own reply when a F=T filter is unreachable: 451 4.3.2
if grep -q '^RCPT <n1@example.com> 2' "$E2E_DIR/nomilter.out" ||
    ! grep -Eq '^(CONNECT|EHLO|MAIL|RCPT <[^>]*>) 4[0-9][0-9] 4\.3\.2 ' \
    "$E2E_DIR/nomilter.out"; then
	cat "$E2E_DIR/nomilter.out"
	e2e_fail "milter down, maps up: no 4xx answer (F=T)"
fi
e2e_ok "milter down, maps up (F=T): $(grep -E ' 4[0-9][0-9] ' \
    "$E2E_DIR/nomilter.out" | head -n 1)"
kill -TERM "$MAPS_PID"
wait "$MAPS_PID" 2>/dev/null
for i in $(seq 1 100); do
	e2e_port_open 127.0.0.1 "$MR_SMPORT" || break
	sleep 0.1
done

mr_start "$CONF"
queue_run qrun-up.log
sink_wait A $((A_BEFORE + 1)) 90 ||
    e2e_fail "after restart: q1 not delivered: $(cat "$E2E_DIR/qrun-up.log")"
has A q1@example.com || e2e_fail "after restart: q1 not in sink A"
[ "$(queue_files)" = 0 ] || e2e_fail "queue not empty: $("${SM[@]}" -bp 2>&1)"
[ "$(sink_count D)" = "$D_BEFORE" ] || e2e_fail "sink D got mail it should not"
e2e_ok "milter-relay restarted: q1@example.com delivered to sink A, queue empty"

# Sendmail keeps its socket map connection: the first session after the
# restart may meet the old one and tempfail; it reconnects after that.
for i in 1 2 3; do
	send 127.0.0.1 after a1@example.com
	grep -q '^RCPT <a1@example.com> 250' "$E2E_DIR/after.out" && break
done
expect after a1@example.com '^250 '
expect_data after
sink_wait A $((A_BEFORE + 2)) 90 || e2e_fail "after restart: a1 not delivered"

# every accepted recipient is in exactly one sink (polled for 10 s, as
# sink_is)
for i in $(seq 1 50); do
	all=$(for s in A B C D E; do sink_rcpts $s; done | tr 'A-Z' 'a-z' | sort)
	missing=
	for r in u1@example.com u2@a.b.example.com u3@exact.example \
	    u4@sub.exact.example u6@partner.example u7@ported.example \
	    u8@moved.example u9@unlisted.test v1@example.com \
	    v2@x.example.com v3@exact.example v9@solo.example \
	    w1@moved.example w2@example.com q1@example.com a1@example.com \
	    r1@listed.example r3@checked.example ownuser@solo.example; do
		echo "$all" | grep -qx "$r" || missing=$r
	done
	[ -z "$missing" ] && break
	sleep 0.2
done
[ -z "$missing" ] || e2e_fail "accepted $missing never delivered"
dups=$(echo "$all" | uniq -d)
[ -z "$dups" ] || e2e_fail "delivered twice: $dups"
e2e_ok "every accepted recipient delivered once, nothing refused delivered"
mr_stop
if grep -q 'Sanitizer' "$E2E_DIR/milter-relay.log"; then
	e2e_fail "sanitizer report in milter-relay.log"
fi
echo "PASS: sendmail end to end"
