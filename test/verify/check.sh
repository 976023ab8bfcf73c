#!/bin/bash
# check.sh - recipient validation per rule, end to end (run by "make
# check" as root): recipients = "verify" and "list" with real Postfix.
#
# The front is a private Postfix on 127.0.0.1 with milter-relay's milter
# and socketmap; untrusted mail comes from 127.0.0.2.  The smart host of
# corp.test is a second private Postfix, the backend, that knows its
# users (relay_recipient_maps) and delivers to an smtp-sink.  Callouts
# are the backend's sessions with RCPT and without DATA ("disconnect
# from ... rcpt=..." lines without "data="): the test counts them.  It proves:
#   1. verify: a known user accepted and delivered to the backend's sink,
#      an unknown one 550 5.1.1 from the front;
#   2. the second time neither takes a callout (the cache);
#   3. backend stopped: the known user still accepted (cache), an
#      uncached one 450 4.1.1; the cache outlives a reload and a killed
#      worker;
#   4. 200 concurrent RCPTs for one uncached address (milter-test load
#      mode against the milter socket, backend slowed by "sleep 1") cause
#      one callout;
#   5. a next hop that accepts the connection and never answers: 450
#      4.1.1, its callout given up at the time limit; a storm of 40
#      distinct addresses from one client: every RCPT 450 4.1.1, never
#      more than max_probes_per_client callouts open at once at that hop
#      (the hop counts them), the rest refused as too many (none when
#      libmilter runs the sessions one after another on a loaded
#      machine), and while a storm lasts another client's RCPT still
#      gets its callout;
#   6. list mode through the milter (listed accepted and delivered,
#      unlisted 550 5.1.1), then Postfix's own relay_recipient_maps
#      through the "recipients" socketmap map;
#   7. query shows what would be checked; query --verify makes the
#      callout;
#   8. the metrics endpoint counts every callout the log shows, and the
#      results valid, invalid and unknown;
#   9. a next hop with case-sensitive local parts (test/verify/smtpd.pl):
#      alice refused does not refuse Alice (the cache keeps the case the
#      callout asked); a 450 to RCPT is unknown (450 4.1.1 at the front),
#      never a user, and is not cached: asked again, a new callout;
#  10. maps-only mode (contrib/postfix/main-maps.cf, no milter): the
#      socketmap's rcpt map refuses a user the list lacks (550 5.1.1),
#      takes a listed one, answers verify rules from the cache and by a
#      callout of its own (550 5.1.1 for a user the next hop refuses),
#      450 4.1.1 for a next hop that never answers.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
source test/lib/daemon.sh
e2e_init verify

FRONT=$(e2e_free_port)
BACK=$(e2e_free_port)
SINK=$(e2e_free_port)
HANG=$(e2e_free_port)
CS=$(e2e_free_port)
sink_start S 127.0.0.1 "$SINK"

# --- a scripted next hop with case-sensitive users ------------------------
CSLOG=$E2E_DIR/smtpd.log
: >"$CSLOG"
perl test/verify/smtpd.pl "$CS" "$CSLOG" Alice@cs.test &
e2e_track_pid $!
e2e_wait_port 127.0.0.1 "$CS" 10 || e2e_fail "scripted next hop"

# --- a listener that takes connections and never says a word ------------
# It writes the most connections it ever had open at once to hang.max: at
# each accept it first drops those the daemon closed (a callout closes its
# socket before its slot is free for the next one), so the count is
# exact whatever the machine's load.
perl -MIO::Socket::INET -MIO::Select -e '
	my ($port, $file) = @ARGV;
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
	    LocalPort => $port, Listen => 64, ReuseAddr => 1) or die $!;
	my $sel = IO::Select->new();
	my $max = 0;
	sub reap { for my $c ($sel->can_read(0)) {
		my $b; next if sysread($c, $b, 512); $sel->remove($c); close $c } }
	while (my $c = $s->accept) {
		reap(); $sel->add($c);
		next if $sel->count <= $max;
		$max = $sel->count;
		open(my $f, ">", "$file.tmp") or die $!;
		print $f "$max\n"; close $f; rename("$file.tmp", $file);
	}' "$HANG" "$E2E_DIR/hang.max" &
e2e_track_pid $!
e2e_wait_port 127.0.0.1 "$HANG" 10 || e2e_fail "hang listener"

# --- the backend: a second private Postfix that knows its users ---------
BDIR=$E2E_DIR/backend
BACK_UP=0
back_create() {
	pf_create "$BACK" \
	    "syslog_name = postfix-mr-backend" \
	    "relay_domains = corp.test" \
	    "relay_recipient_maps = inline:{ alice@corp.test=ok, dave@corp.test=ok }" \
	    "transport_maps = inline:{ corp.test=smtp:[127.0.0.1]:$SINK }" \
	    "smtpd_recipient_restrictions = sleep 1, permit"
	mv "$E2E_DIR/pf" "$BDIR"
	sed -i "s#$E2E_DIR/pf#$BDIR#g" "$BDIR/main.cf"
	PF_DIR=
}
back_start() {
	script -qc "postfix -c '$BDIR' start" /dev/null >/dev/null 2>&1
	BACK_UP=1
	e2e_wait_port 127.0.0.1 "$BACK" 30 || e2e_fail "backend does not start"
}
back_stop() {
	local i
	postfix -c "$BDIR" stop >/dev/null 2>&1 || true
	for i in $(seq 1 200); do
		postfix -c "$BDIR" status >/dev/null 2>&1 || break
		sleep 0.1
	done
	postfix -c "$BDIR" status >/dev/null 2>&1 &&
	    postfix -c "$BDIR" abort >/dev/null 2>&1
	BACK_UP=0
}
# callouts the backend saw: sessions with RCPT that never sent DATA
callouts() {
	grep 'postfix-mr-backend/smtpd.*disconnect from' "$BDIR/maillog" |
	    grep ' rcpt=' | grep -vc ' data=' || true
}
cleanup() {
	[ "$BACK_UP" = 1 ] && back_stop
	e2e_cleanup
}
trap cleanup EXIT
back_create
back_start

# --- milter-relay -------------------------------------------------------------
LISTF=$E2E_DIR/list.users
printf '# users of list.test\nalice@list.test\nBob@List.Test # note\n' \
    >"$LISTF"
chmod 644 "$LISTF"
CACHE_DIR=$E2E_DIR/cache
mkdir -p "$CACHE_DIR"
chown nobody "$CACHE_DIR"
CONF=$E2E_DIR/milter-relay.conf
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
MPORT=$(e2e_free_port)
mr_config "$CONF" \
    "metrics = \"inet:$MPORT@127.0.0.1\";" \
    "policy = { trusted_networks = [ \"127.0.0.1/32\" ]; };" \
    "verify = { cache = \"$CACHE_DIR/verify.lmdb\"; timeout = \"3s\";" \
    "  max_probes = 4; max_probes_per_client = 2;" \
    "  helo_name = \"front.test\"; };" \
    "domains = (" \
    " { match = \"corp.test\"; smarthost = \"[127.0.0.1]:$BACK\";" \
    "   recipients = \"verify\"; }," \
    " { match = \"hang.test\"; smarthost = \"[127.0.0.1]:$HANG\";" \
    "   recipients = \"verify\"; }," \
    " { match = \"cs.test\"; smarthost = \"[127.0.0.1]:$CS\";" \
    "   recipients = \"verify\"; }," \
    " { match = \"list.test\"; smarthost = \"[127.0.0.1]:$SINK\";" \
    "   recipients = \"list\"; recipients_file = \"$LISTF\"; }" \
    ");"
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "config does not check"
mr_start "$CONF"
MRLOG=$E2E_DIR/milter-relay.log

# --- the front Postfix -----------------------------------------------------------
SOCKETMAP="socketmap:inet:127.0.0.1:$MR_SMPORT"
pf_create "$FRONT" \
    "relay_domains = $SOCKETMAP:relay" \
    "transport_maps = $SOCKETMAP:transport" \
    "smtpd_milters = unix:milter-relay/milter.sock" \
    "milter_protocol = 6" \
    "milter_default_action = tempfail" \
    "milter_command_timeout = 20s" \
    "milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}"
pf_start
e2e_wait_port 127.0.0.1 "$FRONT" 30 || e2e_fail "front smtpd does not listen"
e2e_ok "front Postfix :$FRONT, backend Postfix :$BACK, sink :$SINK"

N=0
# send RCPT EXPECTED: one untrusted session, one recipient
send() {
	local rcpt=$1 want=$2 out got
	N=$((N + 1))
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$FRONT" -s "msg$N" "$rcpt" \
	    2>&1)
	got=$(echo "$out" | sed -n 's/^RCPT <[^>]*> //p' | head -n 1)
	case $got in
	"$want"*) ;;
	*) e2e_fail "<$rcpt>: want \"$want\", got \"$got\" ($out)" ;;
	esac
	case $want in
	250*) echo "$out" | grep -q '^DATA 250' ||
		e2e_fail "<$rcpt>: not queued: $out" ;;
	esac
	e2e_ok "<$rcpt>: $got"
}

delivered() {	# delivered RCPT: wait until the sink has it
	local i
	for i in $(seq 1 150); do
		sink_rcpts S | grep -qx "$1" && return 0
		[ $((i % 20)) = 0 ] && pf_flush
		sleep 0.2
	done
	e2e_fail "$1 never reached the backend's sink"
}

# --- 1. verify: known accepted and delivered, unknown 550 5.1.1 ------------------
send alice@corp.test "250"
send nobody@corp.test "550 5.1.1 <nobody@corp.test>: Recipient address rejected: User unknown"
delivered alice@corp.test
c1=$(callouts)
[ "$c1" = 2 ] || e2e_fail "want 2 callouts, the backend saw $c1"
log_has "$MRLOG" "verify: rcpt=nobody@corp.test hop=127.0.0.1:$BACK result=invalid" ||
    e2e_fail "no log line for the invalid callout"
e2e_ok "known user delivered through the backend, unknown 550 5.1.1; 2 callouts"

# --- 2. the second time: no callout ------------------------------------------
send alice@corp.test "250"
send nobody@corp.test "550 5.1.1"
c2=$(callouts)
[ "$c2" = "$c1" ] || e2e_fail "cached results took callouts ($c1 -> $c2)"
log_has "$MRLOG" 'reason="verified recipient (cached)"' ||
    e2e_fail "no cached decision logged"
e2e_ok "second time from the cache: still $c2 callouts"

# --- 3. backend stopped; reload; worker killed ----------------------------------
back_stop
send alice@corp.test "250"
send carol@corp.test "450 4.1.1 <carol@corp.test>: Recipient address rejected: unverified address"
mr_reload
e2e_wait_log "$MRLOG" "reload: $CONF: OK" 1 60 "milter-relay reload"
send alice@corp.test "250"
W=$(worker_of "$MRLOG")
[ -n "$W" ] || e2e_fail "no worker pid in the log"
nserving=$(e2e_log_count "$MRLOG" 'serving unix:')
kill -KILL "$W"
e2e_wait_log "$MRLOG" 'serving unix:' $((nserving + 1)) 60 \
    "a new worker serving after $W was killed"
[ "$(worker_of "$MRLOG")" != "$W" ] || e2e_fail "the worker was not restarted"
send alice@corp.test "250"
send nobody@corp.test "550 5.1.1"
e2e_ok "backend down: cached known user accepted (also after a reload and a new worker), uncached 450 4.1.1"

# --- 4. 200 concurrent RCPTs, one uncached address: one callout -----------------
back_start
pf_flush
c3=$(callouts)
echo dave@corp.test >"$E2E_DIR/dave"
out=$("$E2E_BUILD/test/harness/milter-test" -s "unix:$MR_SOCKET" --load \
    -a 203.0.113.9 -c 200 -n 200 -r 1 -f "$E2E_DIR/dave" \
    --expect continue -t 30 2>&1 | tail -1)
echo "$out" | grep -q 'continue=200 .*unexpected=0' ||
    e2e_fail "200 RCPTs for dave: $out"
# the backend logs the callout's session when it ends (after the answer)
wait_for 60 sh -c "[ \$(grep 'postfix-mr-backend/smtpd.*disconnect from' '$BDIR/maillog' | grep ' rcpt=' | grep -vc ' data=') -gt $c3 ]" ||
    e2e_fail "the backend logged no callout session for dave"
c4=$(callouts)
[ $((c4 - c3)) = 1 ] || e2e_fail "200 RCPTs took $((c4 - c3)) callouts"
n=$(grep -c 'verify: rcpt=dave@corp.test' "$MRLOG")
[ "$n" = 1 ] || e2e_fail "$n callouts logged for dave"
e2e_ok "200 concurrent RCPTs for one uncached address: 1 callout"

# --- 5. a next hop that never answers; a storm of distinct addresses -----------
send u1@hang.test "450 4.1.1"
e2e_wait_log "$MRLOG" 'verify: rcpt=u1@hang.test .*result=unknown' 1 60 \
    "the callout to the hung next hop, given up"
ms=$(sed -n 's/.*verify: rcpt=u1@hang.test .* ms=\([0-9]*\).*/\1/p' "$MRLOG")
[ "$ms" -ge 2950 ] || e2e_fail "the hung hop's callout ended after $ms ms, before its 3 s limit"
e2e_ok "hung next hop: 450 4.1.1, the callout given up at its limit ($ms ms)"
# the storm: 40 sessions at once from one client, each one RCPT to its
# own address.
# Debian's libmilter hands sessions to a pool of worker threads that, on
# a loaded machine, can run them one after another (a session's command
# waits until a worker is free), so a reply can wait for the callouts of
# every session before it: milter-test's bound is 40 callout limits
# (verify.timeout, 3 s, and the 250 ms the RCPT waits beyond it) and a
# margin.  What is checked is counted by the hop and the log.
STORM=40
STORM_T=$((STORM * 13 / 4 + 30))
for i in $(seq 1 $STORM); do echo "storm$i@hang.test"; done >"$E2E_DIR/storm"
"$E2E_BUILD/test/harness/milter-test" -s "unix:$MR_SOCKET" --load \
    -a 203.0.113.9 -c $STORM -n $STORM -r 1 -f "$E2E_DIR/storm" \
    --expect "tempfail 450 4.1.1" -t "$STORM_T" >"$E2E_DIR/storm.out" 2>&1
out=$(tail -n 1 "$E2E_DIR/storm.out")
echo "$out" | grep -q "tempfail=$STORM .*unexpected=0" ||
    e2e_fail "storm: $(cat "$E2E_DIR/storm.out")"
busy=$(e2e_log_count "$MRLOG" 'rcpt=<storm[0-9]*@hang.test>.*reason="too many callouts (at once|for this client)"')
probes_want=$((STORM - busy))
# every callout is logged when it ends, after its RCPT's answer at worst
e2e_wait_log "$MRLOG" 'verify: rcpt=storm' "$probes_want" 60 \
    "the end of the storm's $probes_want callouts"
probes=$(e2e_log_count "$MRLOG" 'verify: rcpt=storm')
max=$(cat "$E2E_DIR/hang.max")
[ "$probes" = "$probes_want" ] ||
    e2e_fail "storm: $probes callouts and $busy refused as too many, not $STORM"
[ "$max" -le 2 ] || e2e_fail "storm: $max callouts open at once at the hop, max_probes_per_client is 2"
[ "$busy" -ge 1 ] || echo "NOTE: storm: the sessions came one at a time" \
    "(libmilter's worker pool on a loaded machine): the cap was not reached"
e2e_ok "storm of $STORM: at most $max callouts at once at the hop ($probes in all)," \
    "$busy refused as too many ($(echo "$out" | grep -o 'seconds=[0-9.]*'))"

# one client's storm leaves callouts to the others: once it is refused
# one, while its callouts hang (verify.timeout), an RCPT from 127.0.0.2
# still gets one (without the bound, max_probes is taken: 450)
for i in $(seq 1 40); do echo "storm2-$i@hang.test"; done >"$E2E_DIR/storm2"
before=$(grep -cE 'reason="too many callouts (at once|for this client)"' "$MRLOG")
"$E2E_BUILD/test/harness/milter-test" -s "unix:$MR_SOCKET" --load \
    -a 203.0.113.9 -c 40 -n 40 -r 1 -f "$E2E_DIR/storm2" \
    --expect "tempfail 450 4.1.1" -t "$STORM_T" >"$E2E_DIR/storm2.out" 2>&1 &
STORM_PID=$!
# the first refusal: the client holds its callouts (for verify.timeout).
# When libmilter's worker pool runs the storm's sessions no more than
# max_probes_per_client at a time (seen on a quiet machine too) there is
# none: then the first of the storm's callouts given up shows the storm
# under way, its client holding the callouts it may.
refused=$before
for i in $(seq 1 $((STORM_T * 10))); do
	refused=$(e2e_log_count "$MRLOG" 'reason="too many callouts (at once|for this client)"')
	[ "$refused" -gt "$before" ] && break
	[ "$(e2e_log_count "$MRLOG" 'verify: rcpt=storm2-')" -ge 1 ] && break
	sleep 0.1
done
[ "$i" -lt $((STORM_T * 10)) ] ||
    e2e_fail "storm 2: waited $STORM_T s for a refusal or a callout of the storm"
[ "$refused" -gt "$before" ] || echo "NOTE: storm 2: the sessions came" \
    "at most max_probes_per_client at a time: no RCPT refused as too many"
send nobody2@corp.test "550 5.1.1"
wait "$STORM_PID"
e2e_ok "during a client's storm another client's RCPT got its callout (550 from the backend)"

# --- 6. list mode, through the milter, then through relay_recipient_maps ------
send alice@list.test "250"
send BOB@list.test "250"
send eve@list.test "550 5.1.1 <eve@list.test>: Recipient address rejected: User unknown"
delivered alice@list.test
pf_set "relay_recipient_maps = $SOCKETMAP:recipients"
pf_reload
sleep 1
send eve@list.test "550 5.1.1 <eve@list.test>: Recipient address rejected: User unknown in relay recipient table"
send alice@list.test "250"
send alice@corp.test "250"
e2e_ok "list mode: listed delivered, unlisted 550 5.1.1 (milter, then Postfix's relay_recipient_maps)"

# --- 7. query -------------------------------------------------------------------
out=$("$MR_BIN" query -c "$CONF" carol@corp.test)
echo "$out" | grep -q "recipients=verify hops=127.0.0.1:$BACK " ||
    e2e_fail "query: $out"
out=$("$MR_BIN" query --verify -c "$CONF" carol@corp.test dave@corp.test)
echo "$out" | grep -q '^carol@corp.test: reject .*verify=invalid' ||
    e2e_fail "query --verify: $out"
echo "$out" | grep -q '^dave@corp.test: accept .*verify=valid' ||
    e2e_fail "query --verify: $out"
e2e_ok "query shows the hops; query --verify makes the callout"

# --- 8. metrics -------------------------------------------------------------------
if mr_have "the callout metrics NOT checked" curl; then
	m=$(curl -sf "http://127.0.0.1:$MPORT/metrics") ||
	    e2e_fail "no metrics on port $MPORT"
	metric() { echo "$m" | sed -n "s/^$1 //p"; }
	probes=$(metric milter_relay_verify_probes_total)
	logged=$(grep -c 'verify: rcpt=' "$MRLOG")
	[ -n "$probes" ] && [ "$probes" = "$logged" ] ||
	    e2e_fail "metrics: $probes callouts, the log shows $logged"
	for r in valid invalid unknown; do
		v=$(metric "milter_relay_verify_results_total{result=\"$r\"}")
		[ -n "$v" ] && [ "$v" -gt 0 ] ||
		    e2e_fail "metrics: no $r results ($v)"
	done
	h=$(metric milter_relay_verify_cache_hits_total)
	[ -n "$h" ] && [ "$h" -gt 0 ] || e2e_fail "metrics: no cache hits"
	e2e_ok "metrics: $probes callouts as logged, $h cache hits, results counted"
fi

# --- 9. case-sensitive local parts; a 450 to RCPT --------------------------------
send alice@cs.test "550 5.1.1"
send Alice@cs.test "250"
send Alice@cs.test "250"
n=$(grep -c '^RCPT Alice@cs.test 250' "$CSLOG")
[ "$n" = 1 ] || e2e_fail "Alice@cs.test took $n callouts, want 1 (then cached)"
e2e_ok "alice refused, Alice verified: the cache keeps the case the callout asked"
send temp1@cs.test "450 4.1.1"
send temp1@cs.test "450 4.1.1"
n=$(grep -c '^RCPT temp1@cs.test 450' "$CSLOG")
[ "$n" = 2 ] || e2e_fail "temp1@cs.test: $n callouts, want 2 (a 450 is not cached)"
log_has "$MRLOG" "verify: rcpt=temp1@cs.test hop=127.0.0.1:$CS result=unknown" ||
    e2e_fail "a 450 to RCPT was not unknown"
e2e_ok "a 450 to RCPT: unknown, 450 4.1.1 at the front, not cached (2 callouts)"

# --- 10. maps-only mode: the socketmap's rcpt map checks the users ----------------
# main-maps.cf verbatim (its socketmap port aside), no milter
awk '/^#/ || /^$/ { next } /^[ \t]/ { line = line " " $0; next }
    { if (line != "") print line; line = $0 } END { print line }' \
    contrib/postfix/main-maps.cf |
    sed -e "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/g" -e 's/[ \t]\+/ /g' \
    >"$E2E_DIR/main-maps.lines"
grep -q '^smtpd_milters =$' "$E2E_DIR/main-maps.lines" ||
    e2e_fail "main-maps.cf: no empty smtpd_milters"
while IFS= read -r line; do
	pf_set "$line"
done <"$E2E_DIR/main-maps.lines"
pf_set "relay_recipient_maps ="
pf_reload
# the first answer of the rcpt map: Postfix has the new main.cf
for i in $(seq 1 100); do
	"$E2E_CLIENT" smtp -b 127.0.0.2 -p "$FRONT" -s probe x@nowhere.test \
	    >/dev/null 2>&1
	grep -q 'map=rcpt rcpt=<x@nowhere.test>' "$MRLOG" && break
	sleep 0.2
done
grep -q 'map=rcpt rcpt=<x@nowhere.test>' "$MRLOG" ||
    e2e_fail "Postfix does not ask the rcpt map"
before=$(callouts)
send eve@list.test "550 5.1.1 <eve@list.test>: Recipient address rejected: <eve@list.test>: Recipient address rejected: User unknown"
send alice@list.test "250"
send alice@corp.test "250"
send nobody@corp.test "550 5.1.1"
send erin@corp.test "550 5.1.1"
send u9@hang.test "450 4.1.1"
grep -q 'map=rcpt rcpt=<eve@list.test> rule=list.test outcome=reject reason="recipient not listed"' \
    "$MRLOG" || e2e_fail "no decision line for eve@list.test"
grep -q 'map=rcpt rcpt=<erin@corp.test> rule=corp.test outcome=reject reason="recipient refused by the next hop"' \
    "$MRLOG" || e2e_fail "no decision line for erin@corp.test"
[ "$(callouts)" = $((before + 1)) ] ||
    e2e_fail "maps-only: $(($(callouts) - before)) callouts, want 1 (erin)"
e2e_ok "maps-only: listed accepted, unlisted 550 5.1.1; verify by the cache and one callout; a hung next hop 450 4.1.1"

mr_stop
[ "$MR_STATUS" = 0 ] || e2e_fail "milter-relay exit status $MR_STATUS"
if grep -q 'Sanitizer' "$MRLOG"; then
	e2e_fail "sanitizer report in milter-relay.log"
fi
echo "verify: all passed"
