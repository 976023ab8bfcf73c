#!/bin/bash
# test/faults/postfix.sh - faults seen from a real Postfix (run by
# test/faults/check.sh as "bash postfix.sh kill smap"; one Postfix for both)
#
#	kill	mail flows from 4 concurrent senders (untrusted client, so
#		every RCPT asks the milter) while the worker is SIGKILLed
#		(the supervisor restarts it), then the supervisor and the
#		worker together: while no daemon runs, Postfix answers 4xx
#		(milter_default_action = tempfail; the socketmap it uses for
#		relay_domains is gone too) and never 2xx; the daemon is
#		started again and the senders go on.  In the end every
#		message Postfix accepted (250 after DATA) is in the sink of
#		its rule exactly once, none that it refused, nothing bounced.
#	smap	the socketmap server (a second milter-relay that serves only
#		Postfix's relay_domains and transport_maps; the milter stays
#		up) is SIGKILLed: untrusted RCPTs get 4xx, trusted mail is
#		accepted and stays deferred (it is never routed to the
#		relayhost nor bounced); after a restart and a flush it
#		reaches the sink its rule names, exactly once.
#
# Uses test/e2e/lib.sh (private Postfix, smtp-sinks, e2e_client); every
# process it starts is stopped by pid on exit.

set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init faults

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)		# example.com
PORT_D=$(e2e_free_port)		# relayhost: must stay empty
sink_start A 127.0.0.1 "$PORT_A"
sink_start D 127.0.0.1 "$PORT_D"

RULES=(
    "policy = { unmatched = \"reject\"; trusted_networks = [ \"127.0.0.1/32\" ]; };"
    "domains = ( { match = \"example.com\"; smarthost = \"[127.0.0.1]:$PORT_A\"; } );"
)
CONF=$E2E_DIR/milter-relay.conf
mr_config "$CONF" "${RULES[@]}"
mr_start "$CONF"

# a second daemon serves Postfix's maps, so that the milter and the
# socketmap can fail apart; its own milter socket is unused
SMPORT=$(e2e_free_port)
mkdir -p "$E2E_DIR/sm"
chown nobody:postfix "$E2E_DIR/sm"
{
	echo "socket = \"unix:$E2E_DIR/sm/unused.sock\";"
	echo "socketmap = \"inet:$SMPORT@127.0.0.1\";"
	printf '%s\n' "${RULES[@]}"
} >"$E2E_DIR/sm.conf"
chmod 644 "$E2E_DIR/sm.conf"
sm_daemon_start() {
	"$MR_BIN" -f -c "$E2E_DIR/sm.conf" -u nobody -g postfix \
	    >>"$E2E_DIR/sm-daemon.log" 2>&1 &
	SM_PID=$!
	e2e_track_pid "$SM_PID"
	e2e_wait_port 127.0.0.1 "$SMPORT" 60 || e2e_fail "socketmap daemon did not start"
}
sm_daemon_start

SOCKETMAP="socketmap:inet:127.0.0.1:$SMPORT"
pf_create "$SMTPD" \
    "relayhost = [127.0.0.1]:$PORT_D" \
    "relay_domains = $SOCKETMAP:relay" \
    "transport_maps = $SOCKETMAP:transport" \
    "smtpd_milters = unix:$MR_SOCKET" \
    "non_smtpd_milters =" \
    "milter_default_action = tempfail" \
    "milter_connect_timeout = 10s" \
    "milter_command_timeout = 20s" \
    "smtpd_peername_lookup = no" \
    "bounce_queue_lifetime = 1h" \
    "maximal_queue_lifetime = 1h"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"

# send BIND SUBJECT: one message to a fresh example.com recipient; prints
# the first 4xx/5xx reply of the dialogue (Postfix refuses at CONNECT
# or MAIL when the milter is down), else the RCPT reply code; and the
# subject on fd 3 when DATA got 250
send() {
	local out c
	out=$("$E2E_CLIENT" smtp -b "$1" -p "$SMTPD" -s "$2" "$2@example.com" 2>&1)
	c=$(echo "$out" | sed -n 's/^[A-Z]* \(<[^>]*> \)\{0,1\}\([45][0-9][0-9]\).*/\2/p' | head -n 1)
	[ -n "$c" ] || c=$(echo "$out" | sed -n 's/^RCPT <[^>]*> \([0-9]*\).*/\1/p')
	echo "${c:-none}"
	echo "$out" | grep -q '^DATA 250' && echo "$2" >&3
	return 0
}

# the sink holds each subject of FILE exactly once, and nothing else
ALL=$E2E_DIR/all-accepted
: >"$ALL"
sink_holds() {
	local file=$1 got
	got=$(find "$E2E_DIR/sink-A" -type f -exec grep -h '^Subject: ' {} + |
	    sed 's/^Subject: //' | sort)
	[ "$got" = "$(sort "$file")" ]
}

mr_worker() { pgrep -P "$MR_PID" | head -n 1; }

fault_kill() {
	local l i w n
	ACC=$E2E_DIR/accepted
	: >"$ACC"
	rm -f "$E2E_DIR/stop"
	for l in 1 2 3 4; do
		(
			i=0
			while [ ! -e "$E2E_DIR/stop" ] && [ "$i" -lt 400 ]; do
				i=$((i + 1))
				send 127.0.0.2 "k$l-$i" 3>>"$ACC.$l"
			done
		) >"$E2E_DIR/codes.$l" &
		e2e_track_pid "$!"
		SENDERS="${SENDERS:-} $!"
	done
	accepted() { cat "$ACC".* 2>/dev/null | wc -l; }
	until_accepted() {
		local want=$1 i
		for i in $(seq 1 600); do
			[ "$(accepted)" -ge "$want" ] && return 0
			sleep 0.1
		done
		e2e_fail "only $(accepted) messages accepted, waited for $want"
	}
	until_accepted 20
	w=$(mr_worker)
	kill -KILL "$w"
	e2e_ok "worker $w SIGKILLed with $(accepted) messages accepted"
	n=$(accepted)
	until_accepted $((n + 20))
	[ "$(mr_worker)" != "$w" ] || e2e_fail "worker not restarted"
	e2e_ok "supervisor restarted the worker; mail flows again"
	w=$(mr_worker)
	kill -KILL "$MR_PID" "$w"
	e2e_ok "supervisor $MR_PID and worker $w SIGKILLed"
	# while nothing runs: 4xx for every RCPT, from a fresh session too
	for i in 1 2 3; do
		c=$(send 127.0.0.2 "down-$i" 3>>"$E2E_DIR/down-accepted")
		case $c in
		4*) ;;
		*) e2e_fail "daemon down: RCPT answered \"$c\", want 4xx" ;;
		esac
	done
	[ ! -s "$E2E_DIR/down-accepted" ] || e2e_fail "a message was accepted with the daemon down"
	sleep 2
	e2e_ok "daemon down: Postfix answers 4xx"
	n=$(accepted)
	mr_start "$CONF"
	until_accepted $((n + 20))
	touch "$E2E_DIR/stop"
	for l in $SENDERS; do
		wait "$l"
	done
	cat "$ACC".* >"$ACC"
	n=$(wc -l <"$ACC")
	grep -h . "$E2E_DIR"/codes.* | sort | uniq -c | sed 's/^/   RCPT replies: /'
	grep -hv '^250$\|^4[0-9][0-9]$' "$E2E_DIR"/codes.* | head -n 3 | grep . &&
	    e2e_fail "RCPT replies other than 250 or 4xx"
	grep -q '^4' "$E2E_DIR"/codes.* || e2e_fail "no sender saw the outage"
	pf_flush
	pf_wait_queue_empty 180 || e2e_fail "queue not empty: $(pf_queue_count) left"
	cat "$ACC" >>"$ALL"
	sink_holds "$ALL" || e2e_fail "sink A does not hold each of the $n accepted messages exactly once"
	[ "$(sink_count D)" -eq 0 ] || e2e_fail "mail reached the relayhost"
	grep -q 'status=bounced' "$PF_DIR/maillog" && e2e_fail "something bounced"
	e2e_ok "all $n messages Postfix accepted were delivered once to sink A; nothing bounced"
}

# resolver_failed_since LINE: how many of queued-1..10 have a delivery
# attempt deferred by an address resolver failure after maillog line LINE
resolver_failed_since() {
	tail -n +$(($1 + 1)) "$PF_DIR/maillog" |
	    sed -n 's/.*to=<\(queued-[0-9]*\)@example.com>.*status=deferred (address resolver failure).*/\1/p' |
	    sort -u | wc -l
}

fault_smap() {
	local c i l n w src base mark
	ACC=$ALL
	base=$(sink_count A)
	for i in 1 2 3 4 5; do
		send 127.0.0.1 "before-$i" 3>>"$ACC" >/dev/null
	done
	sink_wait A $((base + 5)) 60 || e2e_fail "mail before the fault not delivered"
	# 10 more accepted while the smart host is away: they wait in the queue
	sink_stop A
	for i in $(seq 1 10); do
		send 127.0.0.1 "queued-$i" 3>>"$ACC" >/dev/null
	done
	[ "$(grep -c '^queued-' "$ACC")" -eq 10 ] || e2e_fail "mail not accepted before the fault"
	for i in $(seq 1 300); do
		[ "$(grep -c 'queued-.*status=deferred' "$PF_DIR/maillog")" -ge 10 ] && break
		sleep 0.2
	done
	pf_queue_holds 10 || e2e_fail "want 10 deferred messages, have $PF_QUEUE_SEEN (seen in 50 listings)"
	w=$(pgrep -P "$SM_PID" | head -n 1)
	[ -n "$w" ] || e2e_fail "no socketmap worker"
	kill -KILL "$SM_PID" "$w"
	wait "$SM_PID" 2>/dev/null
	# the worker is not our child and dies in its own time on a loaded
	# machine: wait until it is gone or a zombie (its sockets closed)
	for i in $(seq 1 300); do
		st=$(awk '/^State:/ { print $2 }' "/proc/$w/status" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.1
	done
	# and nothing listens on its port: asked of the kernel (ss), not by a
	# connect, which can meet itself on a closed ephemeral port; a
	# listener left is named with its process
	for i in $(seq 1 100); do
		[ -z "$(ss -Hltn "sport = :$SMPORT")" ] && break
		sleep 0.1
	done
	l=$(ss -Hltnp "sport = :$SMPORT")
	[ -z "$l" ] || e2e_fail "socketmap port $SMPORT still listened on after the kill: $l"
	e2e_ok "socketmap daemon SIGKILLed (supervisor $SM_PID, worker $w), 10 messages queued"
	# Postfix needs relay_domains to classify any recipient: 4xx for all
	for src in 127.0.0.2 127.0.0.1; do
		for i in 1 2 3; do
			c=$(send "$src" "down-$src-$i" 3>>"$E2E_DIR/down-accepted")
			case $c in
			4*) ;;
			*) e2e_fail "socketmap down: RCPT from $src answered \"$c\", want 4xx" ;;
			esac
		done
	done
	[ ! -s "$E2E_DIR/down-accepted" ] || e2e_fail "mail accepted with the socketmap down"
	# qmgr keeps the last address it resolved, with its answer, for
	# 30 s (Postfix's resolve_clnt): that address would still go to
	# sink A on its old route once A is back.  Wait until every queued
	# address has failed on the resolver since the kill: then no route
	# learned before it is left in that cache.
	pf_flush
	for i in $(seq 1 300); do
		n=$(resolver_failed_since 0)
		[ "$n" -eq 10 ] && break
		sleep 0.2
	done
	[ "$n" -eq 10 ] || e2e_fail "only $n of the 10 queued addresses failed on the resolver with the socketmap down"
	# the smart host is back but the route is unknown: nothing may move
	mark=$(wc -l <"$PF_DIR/maillog")
	sink_start A 127.0.0.1 "$PORT_A"
	pf_flush
	for i in $(seq 1 300); do
		n=$(resolver_failed_since "$mark")
		[ "$n" -eq 10 ] && break
		sleep 0.2
	done
	[ "$n" -eq 10 ] || e2e_fail "after sink A came back only $n of the 10 queued addresses were tried (and failed on the resolver)"
	pf_queue_holds 10 || e2e_fail "$PF_QUEUE_SEEN messages queued with the socketmap down, want 10 (seen in 50 listings 0.2 s apart); the queue now: $(postqueue -c "$PF_DIR" -p 2>&1 | tail -n 40)"
	[ "$(sink_count A)" -eq $((base + 5)) ] || e2e_fail "mail delivered without a transport answer"
	[ "$(sink_count D)" -eq 0 ] || e2e_fail "mail fell back to the relayhost"
	grep -q 'status=bounced' "$PF_DIR/maillog" && e2e_fail "something bounced"
	e2e_ok "socketmap down: 4xx for every RCPT, the 10 queued messages stay deferred, none bounced or misrouted"
	sm_daemon_start
	pf_flush
	pf_wait_queue_empty 120 || e2e_fail "queue not empty after the restart: $(pf_queue_count) left"
	sink_holds "$ALL" || e2e_fail "sink A does not hold every accepted message exactly once"
	[ "$(sink_count D)" -eq 0 ] || e2e_fail "mail reached the relayhost"
	grep -q 'status=bounced' "$PF_DIR/maillog" && e2e_fail "something bounced"
	e2e_ok "socketmap back: all 15 accepted messages delivered once to sink A"
}

for f in "$@"; do
	"fault_$f"
done
mr_stop
