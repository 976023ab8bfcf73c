#!/bin/bash
# check.sh - the Postfix fast path, no milter (make check, as root), in
# two runs: maps-only mode (Postfix decides from milter-relay's socketmap
# alone) and static mode (from the LMDB tables milter-relay writes into
# maps_dir, nothing else; FASTPATH_MODE=maps or static runs one)
#
# A private Postfix with contrib/postfix/main-MODE.cf verbatim (only the
# socketmap port or the maps directory differs), delivering its own names itself as in
# test/relay (mydestination: mailer local, sink L; virtual mailbox domain
# box.test over LMTP, sink V), relayhost sink D, the rules of
# test/relay/relay.conf.in plus a domains_file.  It proves:
#   1. the open-relay corpus (test/relay/corpus.txt) from the untrusted
#      client 127.0.0.2: every reply as Postfix alone must give it (the
#      corpus's pfonly expectations), and in the sinks every message
#      taken went exactly once where its rule routes it, nothing else;
#   2. a trusted client (127.0.0.1): deny rules still refuse with their
#      own reply, also a deny rule's name in fullwidth letters (static:
#      every non-ASCII domain is refused, by main-static.cf's own
#      reply), the trusted-only rule is accepted and routed;
#      static: recipients = "list" refuses unlisted addresses with the
#      milter's reply and accepts listed ones and "@domain" entries,
#      "verify" accepts after Postfix's own probe to the smart host;
#   3. maps-only: milter-relay logged one decision line for every RCPT
#      Postfix asked about (map=rcpt); static: it wrote the tables;
#   4. a rule change reaches Postfix after "milter-relay reload" without
#      a Postfix reload: the first SMTP session after the daemon logs
#      the reload (maps-only) or the tables written (static) gets the
#      new answer, no retry: a relayed domain turned deny is
#      refused with its reply; maps-only: a new relayed domain is
#      accepted and routed, a removed one refused, a re-routed one goes
#      to its new smart host, and the removed one is refused also in an
#      untrusted client's session that had it relayed before the reload
#      (one smtpd process, which keeps what it resolved: main-maps.cf
#      leaves relay_domains empty, the rcpt map alone relays); static: those three are held (451 4.7.1)
#      until the daemon logs that it let go of the holds (not before
#      ROUTEHOLD_SECONDS, 30 s), and then the
#      same holds (the re-routed domain's first message reaches the new
#      smart host, never the old one), also when the worker is killed
#      and restarted meanwhile; the times are printed, not judged; a
#      deny rule whose reply reads as the held answer still refuses after
#      the holds are let go;
#   5. static: a changed deny reply writes access.lmdb alone (the other
#      tables keep their inodes and time stamps); a new relayed name is held, the daemon
#      is stopped (the reload's log names a new IDN rule reachable
#      only as its A-label): Postfix goes on relaying from the tables (delivered),
#      the held name stays held past its time until the daemon is back,
#      whose tables at start leave it out;
#   6. static: a rule set the tables cannot express (a trusted-only rule
#      inside a relayed namespace) is refused by -t and by the reload,
#      naming the rule, the previous rules and tables stay in place and
#      in force; a write that fails (maps_dir not writable) refuses the
#      reload too, both are counted (milter_relay_static_writes_total),
#      the failed publish is tried again by itself and, failing with
#      every name's hold, marks the tables stale
#      (milter_relay_static_tables_stale 1, /healthz 503 with the
#      reason) until a write succeeds; a start with
#      rules the tables cannot express holds every name of the tables
#      in place (451), deny rules still refuse.
set -u
cd "$(dirname "$0")/../.."
MODE=${FASTPATH_MODE:-}
if [ -z "$MODE" ]; then
	FASTPATH_MODE=maps "$0" && FASTPATH_MODE=static "$0"
	exit
fi
source test/e2e/lib.sh
source test/lib/daemon.sh
e2e_init "fastpath-$MODE"
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
printf '%s smarthost=[127.0.0.1]:%s\n' moved.example "$PORT_A" \
    gone.example "$PORT_A" rerouted.example "$PORT_A" >"$LIST"
# a deny rule whose reply reads exactly as static mode's held answer
HELDRULE='x.rerouted.example relay=deny reply="451 4.7.1 Relay route being updated, try again later"'
echo "$HELDRULE" >>"$LIST"
# recipients = "list" and "verify" (static: the access table applies them)
RLIST=$E2E_DIR/rcpt.list
printf '%s\n' ok@listed.example @whole.listed.example >"$RLIST"
chmod 644 "$RLIST"
RCPTRULES="listed.example smarthost=[127.0.0.1]:$PORT_B recipients=list recipients_file=$RLIST
verified.example smarthost=[127.0.0.1]:$PORT_B recipients=verify"
echo "$RCPTRULES" >>"$LIST"
chmod 644 "$LIST"
MAPS=$E2E_DIR/maps
LOG=$E2E_DIR/milter-relay.log
# bounds: the daemon's reload (no setting bounds it: a generous one) and
# the hold of a changed name in static mode (ROUTEHOLD_SECONDS)
RELOAD_SECS=60
HOLD_SECS=$(sed -n 's/^#define ROUTEHOLD_SECONDS \([0-9]*\).*/\1/p' \
    lib/routehold.h)
[ -n "$HOLD_SECS" ] || e2e_fail "no ROUTEHOLD_SECONDS in lib/routehold.h"
mkdir -p "$MAPS"
chown nobody "$MAPS"
extra=
HPORT=$(e2e_free_port)
[ "$MODE" = static ] && extra="maps_dir = \"$MAPS\"; metrics = \"inet:$HPORT@127.0.0.1\";"
mr_config "$CONF" "pidfile = \"$E2E_DIR/mr.pid\";" \
    "domains_file = \"$LIST\";" $extra
sed -e '/^socket *=/d' -e '/^socketmap *=/d' -e '/^pidfile *=/d' \
    -e "s/@SINK_A@/$PORT_A/" -e "s/@SINK_B@/$PORT_B/" -e "s/@SINK_C@/$PORT_C/" \
    "$R/relay.conf.in" >>"$CONF"
"$MR_BIN" -t -c "$CONF" >/dev/null 2>"$E2E_DIR/t.err" ||
    e2e_fail "relay.conf does not check"
# static: the IDN rule is reachable only as its A-label (main-static.cf
# refuses 8-bit domains): -t names it, and so does the start's log
IDNSAY='static mode: rule "bücher.example" (xn--bcher-kva.example) is reachable only in its A-label form'
IDNRE='static mode: rule "bücher\.example" \(xn--bcher-kva\.example\) is reachable only in its A-label form'
if [ "$MODE" = static ]; then
	grep -qF "$IDNSAY" "$E2E_DIR/t.err" ||
	    e2e_fail "-t does not name the IDN rule: $(cat "$E2E_DIR/t.err")"
	e2e_ok "static: -t names the IDN rule reachable only as its A-label"
fi
mr_start "$CONF"

MAIN=contrib/postfix/main-$MODE.cf
grep -q '^smtpd_milters =$' "$MAIN" || e2e_fail "$MAIN: no empty smtpd_milters"
pf_create "$SMTPD" \
    "$(grep -v '^#' "$MAIN" |
        sed -e "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/" \
        -e "s|/var/lib/milter-relay/maps/|$MAPS/|")" \
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
if [ "$MODE" = maps ]; then
	grep -q "check_recipient_access socketmap:inet:127.0.0.1:$MR_SMPORT:rcpt," \
	    "$PF_DIR/main.cf" || e2e_fail "main.cf: no rcpt map"
else
	grep -q "socketmap" "$PF_DIR/main.cf" && e2e_fail "main.cf: a socketmap"
	grep -q "check_recipient_access lmdb:$MAPS/access," "$PF_DIR/main.cf" ||
	    e2e_fail "main.cf: no access table"
	# written by the worker once it serves
	e2e_wait_log "$LOG" 'static maps: wrote' 1 60 "the first tables"
	e2e_wait_log "$LOG" "$IDNRE" 1 60 "the IDN rule named at start"
	for t in relay_domains transport access tls_policy; do
		[ -s "$MAPS/$t.lmdb" ] || e2e_fail "no $MAPS/$t.lmdb"
	done
fi
errors=$(pf_check | grep -iv 'warning: not owned by root' |
    grep -iv 'group or other writable\|overriding earlier entry' || true)
[ -z "$errors" ] || e2e_fail "postfix check: $errors"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
e2e_ok "Postfix with $MAIN (no milter)"

# --- 1. the corpus from the untrusted client ------------------------------

TAKEN=$E2E_DIR/taken
: >"$TAKEN"
[ "$MODE" = static ] && export CORPUS_STATIC=1
perl "$R/corpus.pl" smtp pfonly untrusted 127.0.0.1 "$SMTPD" 127.0.0.2 \
    "$R/corpus.txt" mr-e2e.localdomain 127.0.0.1 "$TAKEN" ||
    e2e_fail "$MODE, untrusted client"
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
send 127.0.0.1 u@gw.example.com "554 5.7.1 <*gw.example.com>"
send 127.0.0.1 trusted1@partner.example 250
send 127.0.0.2 u@partner.example "554 5.7.1"
# a deny rule's name in fullwidth letters (UTS 46 maps it to the rule's):
# the socketmap maps it too; static mode refuses every non-ASCII domain,
# the tables holding A-labels only
idn="550 5.7.1 *No mail for the lab"
[ "$MODE" = static ] && idn="554 5.7.1 *Non-ASCII domain"
send 127.0.0.1 "u@ｌａｂ.example.com" "$idn"
send 127.0.0.2 "u@ｌａｂ.example.com" "$idn"
send 127.0.0.1 "u@bücher.example" \
    "$([ "$MODE" = static ] && echo "$idn" || echo 250)"
sink_wait C $((base_c + 1)) 60 ||
    e2e_fail "trusted1@partner.example did not reach sink C"
sink_rcpts C | grep -qx 'trusted1@partner.example' ||
    e2e_fail "sink C: $(sink_rcpts C)"
e2e_ok "trusted client: deny rules refuse, the trusted-only rule routes to C"

if [ "$MODE" = static ]; then
	for b in 127.0.0.2 127.0.0.1; do
		send $b nobody@listed.example "550 5.1.1 *User unknown"
		send $b nobody@sub.listed.example "550 5.1.1 *User unknown"
		send $b ok@listed.example 250
		send $b Ok@Listed.Example 250
		send $b anyone@whole.listed.example 250
	done
	# Postfix's own verification, its probe to the rule's smart host
	for i in $(seq 1 60); do
		out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" -s verify \
		    v@verified.example 2>&1)
		echo "$out" | grep -q '^RCPT <v@verified.example> 250' && break
		echo "$out" | grep -q '^RCPT <v@verified.example> 450' ||
		    e2e_fail "verify: $out"
		sleep 0.5
	done
	echo "$out" | grep -q '^RCPT <v@verified.example> 250' ||
	    e2e_fail "verify: not verified in 30 s: $out"
	grep -q 'to=<v@verified.example>.*status=deliverable' "$PF_DIR/maillog" ||
	    e2e_fail "no verification probe: $(grep verified "$PF_DIR/maillog")"
	e2e_ok "static: recipients list (unknown refused, listed and @domain accepted) and verify (probed) applied by the access table"
fi

# --- 3. one decision line per RCPT; static: the tables written ------------

if [ "$MODE" = static ]; then
	grep -q "static maps: wrote access, relay_domains, transport, tls_policy in \"$MAPS\"" \
	    "$E2E_DIR/milter-relay.log" || e2e_fail "no tables written"
	grep -q ' map=rcpt ' "$E2E_DIR/milter-relay.log" &&
	    e2e_fail "static mode asked the socketmap"
	e2e_ok "static: the tables written, the socketmap never asked"
	[ "$(e2e_log_count "$LOG" "$IDNRE")" = 1 ] ||
	    e2e_fail "the IDN rule not named once: $(grep -F 'static mode: rule' "$LOG")"
	e2e_ok "static: the start's log names the IDN rule once"
	# "export -s" prints exactly the tables static mode wrote (no hold yet)
	for t in relay_domains:postfix-relay-domains transport:postfix-transport \
	    access:postfix-access tls_policy:postfix-tls-policy; do
		"$MR_BIN" export -s -c "$CONF" "${t#*:}" 2>/dev/null |
		    grep -v '^#' | tr '\t' ' ' | sort >"$E2E_DIR/export.txt"
		postmap -s "lmdb:$MAPS/${t%%:*}" | tr '\t' ' ' | sort \
		    >"$E2E_DIR/written.txt"
		cmp -s "$E2E_DIR/export.txt" "$E2E_DIR/written.txt" ||
		    e2e_fail "export -s ${t#*:} is not $MAPS/${t%%:*}.lmdb: $(diff "$E2E_DIR/export.txt" "$E2E_DIR/written.txt" | head -n 5)"
	done
	e2e_ok "static: export -s prints the four tables written"
else
lines=$(grep -c ' map=rcpt rcpt=<' "$E2E_DIR/milter-relay.log")
grep -q ' map=rcpt rcpt=<u@lab.example.com> rule=lab.example.com outcome=reject reason="deny rule" answer="OK 550 5.7.1 No mail for the lab"' \
    "$E2E_DIR/milter-relay.log" || e2e_fail "no decision line for the deny rule"
grep -q ' map=rcpt rcpt=<relaytest@example.com> rule=example.com outcome=accept ' \
    "$E2E_DIR/milter-relay.log" || e2e_fail "no decision line for a relay rule"
[ "$lines" -ge 100 ] || e2e_fail "only $lines decision lines"
e2e_ok "decision lines: $lines (map=rcpt)"
fi

# --- 4. reload without postfix reload -------------------------------------

{
	echo "moved.example relay=deny reply=\"550 5.7.1 Moved away\""
	echo "new.example smarthost=[127.0.0.1]:$PORT_B"
	echo "rerouted.example smarthost=[127.0.0.1]:$PORT_B"
	echo "$HELDRULE"
	echo "$RCPTRULES"
} >"$LIST.new"
chmod 644 "$LIST.new"
mv "$LIST.new" "$LIST"
base_b=$(sink_count B)
n_reload=$(e2e_log_count "$LOG" 'reload: .*: OK,')
n_held=$(e2e_log_count "$LOG" 'static maps: [0-9]* names held')
t0=$(date +%s.%N)
if [ "$MODE" = static ]; then
	"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "milter-relay reload failed"
else
	# one session of the untrusted client across the reload: its smtpd
	# resolved u@gone.example as relayed before, and keeps that in its
	# resolve cache (no time limit); the rcpt map alone may relay it
	out=$(perl test/routechange/session.pl once 0 "$SMTPD" "$MR_BIN" \
	    "$CONF" "$LOG" u@gone.example 127.0.0.2 2>&1) ||
	    e2e_fail "session across the reload: $out"
	echo "$out" | grep -q '^before: 250' ||
	    e2e_fail "u@gone.example not relayed before the reload: $out"
	echo "$out" | grep -q '^[0-9.]* s: 554 5\.7\.1 .*Relay access denied' ||
	    e2e_fail "u@gone.example, same smtpd, after its rule was removed: want 554: $out"
	e2e_ok "one smtpd process across the reload: u@gone.example relayed before, refused after ($(echo "$out" | sed -n 's/^\([0-9.]* s\): \(...\).*/\2, \1/p') after the reload)"
fi
# since: seconds since the reload (printed, never judged)
since() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# rcpt_now ADDR CODE WHAT: the next session's RCPT reply to ADDR is CODE
rcpt_now() {
	local out
	out=$("$E2E_CLIENT" smtp -b 127.0.0.2 -p "$SMTPD" -s reload "$1" 2>&1)
	echo "$out" | grep -q "^RCPT <$1> $2" ||
	    e2e_fail "after the reload, <$1> ($3): want $2: $out"
	e2e_ok "$3: <$1> $2 ($(since) s after milter-relay reload)"
}
if [ "$MODE" = static ]; then
	e2e_wait_log "$LOG" 'static maps: [0-9]* names held' $((n_held + 1)) \
	    "$RELOAD_SECS" "the tables of the reload, with the holds"
	held='451 4.7.1 .*Relay route being updated'
	rcpt_now u@moved.example '550 5.7.1 .*Moved away' "the new deny rule"
	rcpt_now u@new.example "$held" "the new relayed domain, held"
	rcpt_now u@gone.example "$held" "the removed relayed domain, held"
	rcpt_now u@rerouted.example "$held" "the re-routed domain, held"
	# a worker restarted meanwhile goes on holding, and lets go in time
	w=$(worker_of "$LOG")
	kill -KILL "$w"
	e2e_wait_log "$LOG" 'supervisor [0-9]*: worker [0-9]* started' \
	    $(($(e2e_log_count "$LOG" 'supervisor [0-9]*: worker [0-9]* started') + 1)) \
	    "$RELOAD_SECS" "a worker started after $w was killed"
	w2=$(worker_of "$LOG")
	[ "$w2" != "$w" ] || e2e_fail "no worker restarted after $w"
	e2e_wait_log "$LOG" "\\[$w2\\]: static maps: [0-9]* names held" 1 \
	    "$RELOAD_SECS" "worker $w2 holding the changed names"
	rcpt_now u@new.example "$held" "worker $w killed, worker $w2 holds"
	# the hold lasts HOLD_SECS; then the new tables answer alone
	e2e_wait_log "$LOG" 'static maps: let go of [0-9]* held names' 1 \
	    $((HOLD_SECS + RELOAD_SECS)) "the end of the holds"
	took=$(since)
	awk -v t="$took" -v h="$HOLD_SECS" 'BEGIN { exit !(t >= h - 1) }' ||
	    e2e_fail "the hold ended after $took s, before its $HOLD_SECS s"
	rcpt_now u@rerouted.example 250 "after the hold, the re-routed domain"
	rcpt_now u@new.example 250 "after the hold, the new relayed domain"
	rcpt_now u@gone.example '554 5.7.1 .*Relay access denied' \
	    "after the hold, the removed relayed domain"
	# a deny rule is never taken for a hold, however its reply reads
	send 127.0.0.2 u@x.rerouted.example "451 4.7.1 *Relay route being updated"
	send 127.0.0.1 u@x.rerouted.example "451 4.7.1 *Relay route being updated"
else
	e2e_wait_log "$LOG" 'reload: .*: OK,' $((n_reload + 1)) \
	    "$RELOAD_SECS" "milter-relay reload"
	rcpt_now u@moved.example '550 5.7.1 .*Moved away' "the new deny rule"
	rcpt_now u@new.example 250 "the new relayed domain"
	rcpt_now u@gone.example '554 5.7.1 .*Relay access denied' \
	    "the removed relayed domain"
	rcpt_now u@rerouted.example 250 "the re-routed domain"
fi
sink_wait B $((base_b + 2)) 60 && sink_rcpts B | grep -qx u@new.example &&
    sink_rcpts B | grep -qx u@rerouted.example ||
    e2e_fail "u@new.example and u@rerouted.example did not reach sink B: $(sink_rcpts B)"
pf_flush
pf_wait_queue_empty 60 || e2e_fail "queue not empty after 60 s"
sink_rcpts A | grep -q '@new\.example$\|@rerouted\.example$' &&
    e2e_fail "after the reload, mail reached the old smart host A: $(sink_rcpts A)"
e2e_ok "reload: new.example and rerouted.example routed to B, nothing to the old smart host A"

# --- 5. static: only changed tables replaced; the daemon stopped ---------

if [ "$MODE" = static ]; then
	# a deny rule's reply changes: the access table alone is written
	# (replaced, or its keys updated in place when the reload is a
	# generation of the rules written: staticmaps.c), the others are
	# not touched (inode and time stamp)
	ino() { stat -c '%i %y' "$MAPS/$1.lmdb"; }
	for t in access relay_domains transport tls_policy; do
		eval "ino_$t=\$(ino $t)"
	done
	sed -i 's/Moved away/Moved far away/' "$LIST"
	pub='static maps: (wrote|updated [0-9]+ keys in place) '
	n=$(e2e_log_count "$LOG" "$pub")
	"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "reload failed"
	e2e_wait_log "$LOG" "$pub" $((n + 1)) "$RELOAD_SECS" \
	    "the tables of a changed deny reply"
	last=$(grep -E "$pub" "$LOG" | tail -n 1)
	case $last in
	*"wrote access in \"$MAPS\""*) ;;
	*"keys in place in \"$MAPS\""*) ;;
	*) e2e_fail "a changed deny reply: $last" ;;
	esac
	[ "$(ino access)" != "$ino_access" ] || e2e_fail "access.lmdb not written"
	for t in relay_domains transport tls_policy; do
		[ "$(ino $t)" = "$(eval echo "\$ino_$t")" ] ||
		    e2e_fail "$t.lmdb written, its content did not change"
	done
	rcpt_now u@moved.example '550 5.7.1 .*Moved far away' "a changed deny reply"
	e2e_ok "only the changed table written (access.lmdb; the others keep their inodes and time stamps)"

	# a new relayed name is held; the daemon stops meanwhile: Postfix
	# goes on relaying from the tables, and the held name stays held
	# past its time until the daemon is back
	echo "later.example smarthost=[127.0.0.1]:$PORT_B" >>"$LIST"
	# and an IDN rule: the log of this load names it (the changed rules)
	echo "später.example smarthost=[127.0.0.1]:$PORT_B" >>"$LIST"
	n_idn=$(e2e_log_count "$LOG" 'static mode: rule "später\.example" \(xn--spter-hra\.example\)')
	n_held=$(e2e_log_count "$LOG" 'static maps: [0-9]* names held')
	n_go=$(e2e_log_count "$LOG" 'static maps: let go of')
	t0=$(date +%s.%N)
	"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "reload failed"
	e2e_wait_log "$LOG" 'static maps: [0-9]* names held' $((n_held + 1)) \
	    "$RELOAD_SECS" "the hold of a new relayed name"
	e2e_wait_log "$LOG" 'static mode: rule "später\.example" \(xn--spter-hra\.example\) is reachable only in its A-label form' \
	    $((n_idn + 1)) "$RELOAD_SECS" "the new IDN rule named by the reload"
	e2e_ok "static: the reload's log names the new IDN rule ($(grep -E 'static maps: (wrote|updated)' "$LOG" | tail -n 1 | sed 's/.*static maps: //'))"
	mr_stop
	[ "$MR_STATUS" = 0 ] || e2e_fail "milter-relay exit status $MR_STATUS"
	[ "$(e2e_log_count "$LOG" 'static maps: let go of')" = "$n_go" ] ||
	    e2e_fail "the hold was let go before the daemon stopped"
	rcpt_now u@later.example "$held" "daemon stopped, the new name held"
	base_b=$(sink_count B)
	rcpt_now u2@new.example 250 "daemon stopped, a relayed name"
	sink_wait B $((base_b + 1)) 60 && sink_rcpts B | grep -qx u2@new.example ||
	    e2e_fail "daemon stopped: u2@new.example did not reach sink B"
	e2e_ok "daemon stopped: Postfix relays from the tables, u2@new.example reached sink B"
	# past the hold's time, with nobody to let it go
	while ! awk -v t="$(since)" -v h="$HOLD_SECS" 'BEGIN { exit !(t > h + 1) }'; do
		sleep 0.5
	done
	rcpt_now u@later.example "$held" "daemon stopped, past the hold's time, still held"
	# the restarted daemon writes the tables at start: a hold whose
	# time is up (access.lmdb's time stamp) is left out
	n_pub=$(e2e_log_count "$LOG" 'static maps: (wrote |the tables in )')
	mr_start "$CONF"
	e2e_wait_log "$LOG" 'static maps: (wrote |the tables in )' \
	    $((n_pub + 1)) "$RELOAD_SECS" "the restarted daemon's tables"
	rcpt_now u@later.example 250 "daemon back, the hold let go"
fi

# --- 6. static: a rule set the tables cannot express, a failed write ---

# static_writes RESULT: the counter milter_relay_static_writes_total
static_writes() {
	curl -sf "http://127.0.0.1:$HPORT/metrics" |
	    sed -n "s/^milter_relay_static_writes_total{result=\"$1\"} //p"
}
# wait_stale V: the gauge milter_relay_static_tables_stale is V within
# RELOAD_SECS (a failed write is tried again after 5 s: staticmaps.c)
wait_stale() {
	local i
	for i in $(seq 1 $((RELOAD_SECS * 10))); do
		[ "$(curl -sf "http://127.0.0.1:$HPORT/metrics" |
		    sed -n 's/^milter_relay_static_tables_stale //p')" = "$1" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}
# healthz: "STATUS BODY" of /healthz
healthz() {
	local body code
	body=$(curl -s -o - -w '\n%{http_code}' "http://127.0.0.1:$HPORT/healthz")
	code=$(echo "$body" | tail -n 1)
	echo "$code $(echo "$body" | head -n 1)"
}
# logged_after N PATTERN: PATTERN in the log past its first N lines,
# within RELOAD_SECS
logged_after() {
	local i
	for i in $(seq 1 $((RELOAD_SECS * 10))); do
		tail -n +"$(($1 + 1))" "$E2E_DIR/milter-relay.log" |
		    grep -q "$2" && return 0
		sleep 0.1
	done
	return 1
}
if [ "$MODE" = static ]; then
	before=$(ls -i "$MAPS"/*.lmdb)
	cp "$LIST" "$LIST.good"
	echo "in.new.example relay=trusted" >>"$LIST"
	"$MR_BIN" -t -c "$CONF" 2>&1 | grep -q 'cannot express rule "in.new.example"' ||
	    e2e_fail "-t does not refuse the rule: $("$MR_BIN" -t -c "$CONF" 2>&1)"
	refused=$(static_writes refused)
	l=$(wc -l <"$E2E_DIR/milter-relay.log")
	"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "reload failed"
	logged_after "$l" 'reload refused' ||
	    e2e_fail "reload not refused: $(tail -n 3 "$E2E_DIR/milter-relay.log")"
	tail -n +"$((l + 1))" "$E2E_DIR/milter-relay.log" |
	    grep 'static maps: .*cannot express rule "in.new.example"' |
	    grep -q 'keeping the previous tables and rules.*maps-only' ||
	    e2e_fail "no error naming the rule: $(tail -n 3 "$E2E_DIR/milter-relay.log")"
	[ "$(static_writes refused)" -gt "$refused" ] ||
	    e2e_fail "static_writes_total{result=\"refused\"} not counted"
	[ "$(ls -i "$MAPS"/*.lmdb)" = "$before" ] || e2e_fail "tables replaced"
	ls "$MAPS" | grep -q tmp && e2e_fail "a temporary file left: $(ls "$MAPS")"
	send 127.0.0.2 u@new.example 250
	send 127.0.0.2 u@in.new.example 250
	e2e_ok "static: a rule set the tables cannot express: -t and the reload refuse it, the previous rules and tables stay"

	# a write that fails: the reload refused, the publish tried again
	cp "$LIST.good" "$LIST"
	echo "late.example smarthost=[127.0.0.1]:$PORT_B" >>"$LIST"
	failed=$(static_writes failed)
	chmod 555 "$MAPS"
	l=$(wc -l <"$E2E_DIR/milter-relay.log")
	"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "reload failed"
	logged_after "$l" 'reload refused' || { chmod 755 "$MAPS"
	    e2e_fail "reload not refused: $(tail -n 3 "$E2E_DIR/milter-relay.log")"; }
	send 127.0.0.2 u@late.example "554 5.7.1"
	[ "$(static_writes failed)" -gt "$failed" ] || { chmod 755 "$MAPS"
	    e2e_fail "static_writes_total{result=\"failed\"} not counted"; }
	# the retry (the rules in force) fails too, and so does holding
	# every name: the tables are stale, the gauge and /healthz say so
	wait_stale 1 || { chmod 755 "$MAPS"
	    e2e_fail "milter_relay_static_tables_stale not 1: $(tail -n 3 "$E2E_DIR/milter-relay.log")"; }
	health=$(healthz)
	case $health in
	"503 static tables stale"*) ;;
	*) chmod 755 "$MAPS"; e2e_fail "stale tables, /healthz: $health" ;;
	esac
	e2e_ok "static: tables neither written nor held: stale gauge 1, /healthz $health"
	chmod 755 "$MAPS"
	l=$(wc -l <"$E2E_DIR/milter-relay.log")
	logged_after "$l" "static maps: the tables in \"$MAPS\" are up to date" ||
	    e2e_fail "the failed write not tried again: $(tail -n 3 "$E2E_DIR/milter-relay.log")"
	wait_stale 0 || e2e_fail "milter_relay_static_tables_stale still 1"
	[ "$(healthz)" = "200 ok" ] || e2e_fail "/healthz after the write: $(healthz)"
	l=$(wc -l <"$E2E_DIR/milter-relay.log")
	"$MR_BIN" reload -c "$CONF" >/dev/null || e2e_fail "reload failed"
	logged_after "$l" 'reload: .*: OK' || e2e_fail "reload not taken"
	send 127.0.0.2 u@late.example "451 4.7.1 *Relay route being updated"
	e2e_ok "static: a failed write refuses the reload, is counted and tried again"

	# rules in force that cannot be written (a start with them): every
	# name of the tables in place held, never relayed by them
	mr_stop
	echo "in.late.example relay=trusted" >>"$LIST"
	l=$(wc -l <"$E2E_DIR/milter-relay.log")
	mr_start "$CONF"
	logged_after "$l" 'static maps: every name of the tables .* held' ||
	    e2e_fail "nothing held: $(tail -n 3 "$E2E_DIR/milter-relay.log")"
	send 127.0.0.2 u@new.example "451 4.7.1 *Relay route being updated"
	send 127.0.0.1 u@late.example "451 4.7.1 *Relay route being updated"
	send 127.0.0.2 u@moved.example "550 5.7.1 *Moved far away"
	e2e_ok "static: rules in force that cannot be written hold every name of the tables in place"
fi
mr_stop
e2e_ok "$MODE mode"
