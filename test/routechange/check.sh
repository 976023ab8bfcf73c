#!/bin/bash
# check.sh - a changed smart host, and Postfix's resolve cache (make check,
# as root)
#
# Postfix's smtpd keeps the addresses it resolved while the process runs
# (smtpd_resolve.c), its queue manager the last one for 30 s
# (resolve_clnt.c), so after "milter-relay reload" moves a name to a new
# smart host, the milter's route check sees the old route ({rcpt_host})
# for a while (session.pl holds the session).  A private Postfix with contrib/postfix/main.cf's lines
# (milter mode; only the socketmap port differs) and the milter's route
# check; one SMTP session from a trusted client that keeps asking RCPT
# for one address.
# (A real mismatch stays a warning: test/scenarios 27 and 28, and the
# unit tests of routechange.c for other names and routes.)  It proves:
#   1. route_check = "log": smtpd names the old smart host of the name
#      the reload moved for the whole session (its resolve cache has no
#      time limit): logged as "route being updated" (info) for 35 s,
#      then as "old route cached by the MTA", never as a mismatch; a
#      message sent at the end goes to the new smart host, nothing to the
#      old one;
#   2. route_check = "enforce": an old route named right after a reload
#      is deferred with 451 4.7.1 "Relay route being updated", not "Relay
#      route mismatch".
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
source test/lib/daemon.sh
e2e_init routechange

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)
PORT_B=$(e2e_free_port)
sink_start A 127.0.0.1 "$PORT_A"
sink_start B 127.0.0.1 "$PORT_B"
WINDOW=35			# ROUTECHANGE_WINDOW, lib/routechange.h

CONF=$E2E_DIR/mr.conf
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
rules() {	# rules ROUTE_CHECK SMART_HOST_PORT_OF_moved.example
	mr_config "$CONF" "pidfile = \"$E2E_DIR/mr.pid\";" \
	    "policy = { trusted_networks = [ \"127.0.0.1/32\" ];" \
	    "  route_check = \"$1\"; };" \
	    "domains = (" \
	    " { match = \"moved.example\"; smarthost = \"[127.0.0.1]:$2\"; }" \
	    ");"
}
rules log "$PORT_A"
mr_start "$CONF"
MRLOG=$E2E_DIR/milter-relay.log

MAIN=contrib/postfix/main.cf
pf_create "$SMTPD" \
    "$(grep -v '^#' "$MAIN" |
        sed -e "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/")" \
    "smtpd_peername_lookup = no"
grep -q "^smtpd_milters = unix:milter-relay/milter.sock" "$PF_DIR/main.cf" ||
    e2e_fail "$MAIN: no milter"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
e2e_ok "Postfix with $MAIN, milter-relay with route_check = \"log\""

# --- 1. route_check = "log" -------------------------------------------
rules log "$PORT_B"
secs=$((WINDOW + 10))
out=$(perl test/routechange/session.pl log "$secs" "$SMTPD" "$MR_BIN" \
    "$CONF" "$MRLOG" u@moved.example 2>&1) || e2e_fail "session: $out"
echo "$out" | grep -q '^before: 250' || e2e_fail "not accepted before: $out"
echo "$out" | grep -q '^data: 250' || e2e_fail "message not taken: $out"
grep 'route mismatch' "$MRLOG" | grep -q 'moved\.example' &&
    e2e_fail "an old route logged as a mismatch: $(grep 'moved.example' "$MRLOG" | grep mismatch | head -n 1)"
grep -q 'route check: [0-9]* names changed smart host' "$MRLOG" ||
    e2e_fail "the reload noted no changed route"
updating=$(grep -c 'rcpt=<u@moved.example> rule=moved.example route being updated' "$MRLOG")
cached=$(grep -c 'rcpt=<u@moved.example> rule=moved.example old route cached by the MTA' "$MRLOG")
[ "$updating" -ge 1 ] ||
    e2e_fail "Postfix never named the old route after the reload (nothing proven)"
[ "$cached" -ge 1 ] ||
    e2e_fail "smtpd named the new route within $secs s: no \"old route cached\" line"
sink_wait B 1 60 || { pf_flush; sink_wait B 1 60; } ||
    e2e_fail "the message for u@moved.example did not reach the new smart host"
[ "$(sink_count A)" = 0 ] || e2e_fail "mail reached the old smart host A"
e2e_ok "route_check = log: smtpd named the old route for all $secs s of the session ($updating RCPTs in the first $WINDOW s \"being updated\", $cached after as \"old route cached\"), none a mismatch; the message went to the new smart host"

# --- 2. route_check = "enforce" -------------------------------------------------
# another address (smtpd still has u@moved.example's first route), and a
# third smart host (no message is sent)
rules enforce "$(e2e_free_port)"
out=$(perl test/routechange/session.pl enforce 0 "$SMTPD" "$MR_BIN" \
    "$CONF" "$MRLOG" v@moved.example 2>&1) || e2e_fail "session: $out"
echo "$out" | grep -q '^[0-9.]* s: 451 4\.7\.1 .*Relay route being updated' ||
    e2e_fail "enforce: the old route not deferred as being updated: $out"
e2e_ok "route_check = enforce: the old route deferred, 451 4.7.1 Relay route being updated"
mr_stop
e2e_ok "route changes"
