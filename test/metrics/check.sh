#!/bin/bash
# check.sh - the metrics endpoint, scraped by a real Prometheus (run by
# "make check" as root; about 35 s)
#
# milter-relay runs with "metrics" on loopback, its milter used both by
# test/harness/milter-test and by a private Postfix (test/e2e/lib.sh),
# which also asks its socketmap.  A Prometheus of its own (Debian's
# prometheus package: its own port, storage directory and a 1 s scrape
# interval) scrapes the daemon.  It proves, in this order:
#   1. GET /metrics passes "promtool check metrics"; /healthz is 200,
#      other paths 404, other methods 405; "milter-relay stats" prints
#      the samples without comments;
#   2. the query API of Prometheus says up == 1 and the sum of
#      milter_relay_rcpt_decisions_total equals the RCPTs sent (harness
#      plus Postfix, each of which reached the milter); rule hits count
#      inline rules only; the socketmap lookups Postfix made are counted;
#      every query of contrib/grafana/milter-relay.json runs;
#   3. a failed reload moves reloads_total{result="failed"} and not the
#      success timestamp, and the counters stay; a good one moves
#      {result="success"};
#   4. /healthz is 503 while no worker serves (a worker killed while the
#      file is broken cannot start again), 200 once one does; counters
#      survive the restart and worker_restarts_total counts it;
#   5. 1000 concurrent scrapes and malformed HTTP while the harness
#      sends 20000 RCPTs: every RCPT is answered as expected, every
#      scrape gets 200, the daemon still serves;
#   6. contrib/prometheus: promtool check config, check rules, and the
#      rules' unit tests (promtool test rules);
#   7. a second daemon, its metrics and socketmap given as "inet:PORT"
#      without a host: both listen on 127.0.0.1 only (-t warns about
#      "inet:PORT@0.0.0.0", not about them); with 256 open
#      files: 300 idle HTTP connections do
#      not take the descriptors a worker restart needs (the worker
#      killed comes back and serves), the new worker holds none of them,
#      /healthz answers once they are closed; 50 connections that send
#      an octet a second are closed by the server within its 10 s
#      deadline (the idle timer alone would keep them).
# Every process started here is stopped by pid, also on failure.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
source test/lib/daemon.sh
e2e_init metrics
for cmd in prometheus promtool curl jq; do
	command -v "$cmd" >/dev/null 2>&1 || e2e_skip "metrics: $cmd not installed"
done
MT=$E2E_BUILD/test/harness/milter-test
[ -x "$MT" ] || e2e_fail "$MT not built"

SMTPD=$(e2e_free_port)
PORT_A=$(e2e_free_port)
HPORT=$(e2e_free_port)
PPORT=$(e2e_free_port)
URL=http://127.0.0.1:$HPORT
PROM=http://127.0.0.1:$PPORT
sink_start A 127.0.0.1 "$PORT_A"

# --- the daemon --------------------------------------------------------------

CONF=$E2E_DIR/milter-relay.conf
LIST=$E2E_DIR/domains.list
echo "filed.example smarthost=[127.0.0.1]:$PORT_A" >"$LIST"
chmod 644 "$LIST"
mr_conf() {
	mr_config "$CONF" \
	    "metrics = \"inet:$HPORT@127.0.0.1\";" \
	    "policy = { trusted_networks = [ \"127.0.0.1/32\" ];" \
	    "  unmatched = \"reject\"; };" \
	    "domains = (" \
	    "  { match = \"example.com\"; smarthost = \"[127.0.0.1]:$PORT_A\"; }," \
	    "  { match = \"#exact.example\"; smarthost = \"[127.0.0.1]:$PORT_A\"; }," \
	    "  { match = \"lab.example.com\"; relay = \"deny\";" \
	    "    reply = \"550 5.7.1 No mail for the lab\"; }" \
	    ");" \
	    "domains_file = \"$LIST\";"
}
mr_conf
GOOD=$E2E_DIR/good.conf
cp "$CONF" "$GOOD"
"$MR_BIN" -t -c "$CONF" >/dev/null || e2e_fail "config does not check"
mr_start "$CONF"
e2e_wait_port 127.0.0.1 "$HPORT" 30 || e2e_fail "no metrics endpoint"

status() {	# METHOD PATH: the HTTP status
	curl -s -o /dev/null -w '%{http_code}' -X "$1" "$URL$2"
}
scrape() { curl -sf "$URL/metrics"; }
# sample NAME{LABELS}: its value in a fresh scrape ("" when absent)
sample() {
	scrape | awk -v k="$1" '$1 == k { print $2 }'
}
decisions() {
	scrape | awk 'index($1, "milter_relay_rcpt_decisions_total{") == 1 {
	    n += $NF } END { print n + 0 }'
}

# --- 1. the endpoint ---------------------------------------------------------

wait_healthy() {
	local i
	for i in $(seq 1 "$((${1:-30} * 10))"); do
		[ "$(status GET /healthz)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
wait_healthy 30 || e2e_fail "/healthz never 200"
scrape >"$E2E_DIR/m1.txt" || e2e_fail "GET /metrics failed"
out=$(promtool check metrics <"$E2E_DIR/m1.txt" 2>&1) ||
    e2e_fail "promtool check metrics: $out"
[ -z "$out" ] || e2e_fail "promtool check metrics: $out"
e2e_ok "promtool check metrics: no problem"
for f in milter_relay_rcpt_decisions_total milter_relay_rule_hits_total \
    milter_relay_socketmap_lookups_total \
    milter_relay_rcpt_decision_duration_seconds \
    milter_relay_socketmap_lookup_duration_seconds \
    milter_relay_reloads_total \
    milter_relay_last_reload_success_timestamp_seconds milter_relay_rules \
    milter_relay_worker_restarts_total milter_relay_verify_cache_hits_total \
    milter_relay_verify_cache_misses_total milter_relay_verify_probes_total \
    milter_relay_build_info; do
	grep -q "^# HELP $f " "$E2E_DIR/m1.txt" || e2e_fail "no family $f"
	grep -q "^# TYPE $f " "$E2E_DIR/m1.txt" || e2e_fail "no type of $f"
done
grep -qx 'milter_relay_rules 4' "$E2E_DIR/m1.txt" ||
    e2e_fail "milter_relay_rules is not 4"
grep -q '^milter_relay_build_info{version="[^"]*"} 1$' "$E2E_DIR/m1.txt" ||
    e2e_fail "no build_info"
grep -q 'reason="trusted-only rule, untrusted client"' "$E2E_DIR/m1.txt" ||
    e2e_fail "reason labels missing"
e2e_ok "every family of the design, with HELP and TYPE"
[ "$(status GET /nothing)" = 404 ] || e2e_fail "GET /nothing not 404"
[ "$(status GET /)" = 404 ] || e2e_fail "GET / not 404"
[ "$(status POST /metrics)" = 405 ] || e2e_fail "POST /metrics not 405"
[ "$(status HEAD /healthz)" = 200 ] || e2e_fail "HEAD /healthz not 200"
e2e_ok "/healthz 200, other paths 404, other methods 405"
"$MR_BIN" stats -c "$CONF" >"$E2E_DIR/stats.txt" ||
    e2e_fail "milter-relay stats failed"
grep -q '^#' "$E2E_DIR/stats.txt" && e2e_fail "stats prints comments"
grep -q '^milter_relay_rules 4$' "$E2E_DIR/stats.txt" ||
    e2e_fail "stats: no milter_relay_rules 4"
"$MR_BIN" stats -M "inet:$PPORT@127.0.0.2" >/dev/null 2>&1 &&
    e2e_fail "stats succeeds on a dead endpoint"
e2e_ok "milter-relay stats prints the samples"

# --- Prometheus --------------------------------------------------------------

mkdir -p "$E2E_DIR/prom/data"
cat >"$E2E_DIR/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: milter-relay
    static_configs:
      - targets: ['127.0.0.1:$HPORT']
EOF
prometheus --config.file="$E2E_DIR/prom/prometheus.yml" \
    --storage.tsdb.path="$E2E_DIR/prom/data" \
    --web.listen-address="127.0.0.1:$PPORT" \
    >"$E2E_DIR/prometheus.log" 2>&1 &
e2e_track_pid $!
e2e_wait_port 127.0.0.1 "$PPORT" 60 || e2e_fail "prometheus did not start"

# query EXPR: the value of a one-sample instant vector ("" when none)
query() {
	curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1" |
	    jq -r '.data.result[0].value[1] // empty'
}
# wait_query EXPR VALUE: poll (60 s) until EXPR is VALUE; last in QV
QV=
wait_query() {
	local i
	for i in $(seq 1 120); do
		QV=$(query "$1")
		[ "$QV" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

# --- 2. mail through the harness and through Postfix --------------------------

HARNESS_N=300
printf '%s\n' u1@example.com u2@sub.example.com u3@exact.example \
    u4@unlisted.test x@lab.example.com u5@filed.example >"$E2E_DIR/rcpts"
"$MT" -s "unix:$MR_SOCKET" --load -c 3 -n "$HARNESS_N" -r 1 \
    -f "$E2E_DIR/rcpts" >"$E2E_DIR/load1.txt" 2>&1 ||
    e2e_fail "harness load failed: $(cat "$E2E_DIR/load1.txt")"
grep -q "rcpts=$HARNESS_N .*continue=200 .*reject=100 " \
    "$E2E_DIR/load1.txt" ||
    e2e_fail "harness replies: $(tail -1 "$E2E_DIR/load1.txt")"
e2e_ok "harness: $HARNESS_N RCPTs (200 continue, 100 reject)"

SOCKETMAP="socketmap:inet:127.0.0.1:$MR_SMPORT"
pf_create "$SMTPD" \
    "relay_domains = $SOCKETMAP:relay" \
    "transport_maps = $SOCKETMAP:transport" \
    "smtpd_milters = unix:$MR_SOCKET" \
    "milter_protocol = 6" \
    "milter_default_action = tempfail" \
    "milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}" \
    "relayhost = [127.0.0.1]:$PORT_A"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
PF_N=0
# pfsend BIND RCPT CODE: one message through Postfix, RCPT answered CODE
pfsend() {
	local out got
	PF_N=$((PF_N + 1))
	out=$("$E2E_CLIENT" smtp -b "$1" -p "$SMTPD" -s "m$PF_N" "$2" 2>&1)
	got=$(echo "$out" | sed -n 's/^RCPT <[^>]*> //p' | head -n 1)
	case $got in
	"$3"*) ;;
	*) e2e_fail "Postfix <$2>: want $3, got \"$got\" ($out)" ;;
	esac
}
# each of these reaches the milter: relay_domains (socketmap) lets the
# untrusted ones pass reject_unauth_destination, mynetworks the others
pfsend 127.0.0.2 p1@example.com 250
pfsend 127.0.0.2 p2@a.example.com 250
pfsend 127.0.0.2 p3@exact.example 250
pfsend 127.0.0.1 p4@unlisted.test 250
pfsend 127.0.0.1 p5@lab.example.com "550 5.7.1 No mail for the lab"
pfsend 127.0.0.2 p6@filed.example 250
e2e_ok "Postfix: $PF_N RCPTs through the milter"
TOTAL=$((HARNESS_N + PF_N))

wait_query 'up{job="milter-relay"}' 1 || e2e_fail "up is \"$QV\", not 1"
e2e_ok "Prometheus: up == 1"
wait_query 'sum(milter_relay_rcpt_decisions_total)' "$TOTAL" ||
    e2e_fail "Prometheus: decisions $QV, sent $TOTAL"
e2e_ok "Prometheus: sum(milter_relay_rcpt_decisions_total) == $TOTAL RCPTs sent"
# harness: 50 each of the 6 addresses; Postfix: p1 p2 | p3 | p5
wait_query 'milter_relay_rule_hits_total{rule="example.com"}' 102 ||
    e2e_fail "hits of example.com: $QV, want 102"
wait_query 'milter_relay_rule_hits_total{rule="#exact.example"}' 51 ||
    e2e_fail "hits of #exact.example: $QV, want 51"
wait_query 'milter_relay_rule_hits_total{rule="lab.example.com"}' 51 ||
    e2e_fail "hits of lab.example.com: $QV, want 51"
[ -z "$(query 'milter_relay_rule_hits_total{rule="filed.example"}')" ] ||
    e2e_fail "a domains_file rule has its own hit counter"
wait_query 'sum(milter_relay_rcpt_decisions_total{outcome="reject"})' 101 ||
    e2e_fail "rejects: $QV, want 101"
e2e_ok "rule hits for inline rules only; outcomes as sent"
n=$(query 'sum(milter_relay_socketmap_lookups_total{map="relay"})')
[ "${n:-0}" -ge 4 ] || e2e_fail "relay lookups: \"$n\", want >= 4"
n=$(query 'sum(milter_relay_socketmap_lookups_total{map="transport",answer="ok"})')
[ "${n:-0}" -ge 1 ] || e2e_fail "transport OK lookups: \"$n\""
e2e_ok "socketmap lookups of Postfix counted by map and answer"
n=0
while read -r expr; do
	expr=${expr//\$instance/.*}
	expr=${expr//\$__rate_interval/1m}
	expr=${expr//\$__range/5m}
	st=$(curl -s --get "$PROM/api/v1/query" \
	    --data-urlencode "query=$expr" | jq -r .status)
	[ "$st" = success ] || e2e_fail "grafana query fails: $expr"
	for name in $(echo "$expr" | grep -o 'milter_relay_[a-z_]*' |
	    sed 's/_bucket$//'); do
		grep -q "^# TYPE $name " "$E2E_DIR/m1.txt" ||
		    e2e_fail "grafana names $name, the daemon has none"
	done
	n=$((n + 1))
done < <(jq -r '.panels[].targets[]?.expr' contrib/grafana/milter-relay.json)
[ "$n" -ge 10 ] || e2e_fail "grafana dashboard: only $n queries"
e2e_ok "contrib/grafana: all $n queries run and name real metrics"

# --- 3. reloads --------------------------------------------------------------

TS0=$(sample milter_relay_last_reload_success_timestamp_seconds)
sleep 1.1	# a success now would move the timestamp
echo "domains = ( { match = \"broken" >>"$CONF"
mr_reload
for i in $(seq 1 100); do
	[ "$(sample 'milter_relay_reloads_total{result="failed"}')" = 1 ] &&
	    break
	sleep 0.1
done
[ "$(sample 'milter_relay_reloads_total{result="failed"}')" = 1 ] ||
    e2e_fail "reloads_total{result=failed} did not move"
[ "$(sample 'milter_relay_reloads_total{result="success"}')" = 0 ] ||
    e2e_fail "a failed reload counted as success"
[ "$(sample milter_relay_last_reload_success_timestamp_seconds)" = "$TS0" ] ||
    e2e_fail "a failed reload moved the success timestamp"
n=$(decisions)
[ "$n" = "$TOTAL" ] || e2e_fail "a failed reload moved the counters: $n, want $TOTAL"
e2e_ok "failed reload: reloads_total{result=\"failed\"} 1, timestamp kept"
cp "$GOOD" "$CONF"
mr_reload
for i in $(seq 1 100); do
	[ "$(sample 'milter_relay_reloads_total{result="success"}')" = 1 ] &&
	    break
	sleep 0.1
done
[ "$(sample 'milter_relay_reloads_total{result="success"}')" = 1 ] ||
    e2e_fail "reloads_total{result=success} did not move"
TS1=$(sample milter_relay_last_reload_success_timestamp_seconds)
[ "$TS1" -gt "$TS0" ] || e2e_fail "success timestamp $TS1 <= $TS0"
[ "$(decisions)" = "$TOTAL" ] || e2e_fail "a reload reset the counters"
wait_query 'milter_relay_reloads_total{result="failed"}' 1 ||
    e2e_fail "Prometheus: failed reloads $QV"
e2e_ok "good reload: success 1, timestamp moved, counters kept"

# --- 4. no worker: /healthz 503 ---------------------------------------------

# The supervisor restarts a dead worker after a second (with the last
# rules that loaded): /healthz must be 503 in between.  A poller started
# before the kill keeps every answer until the new worker has started,
# so the window is seen however loaded the machine (a poll every 0.1 s
# after the kill could miss it).
W=$(worker_of "$E2E_DIR/milter-relay.log")
[ -n "$W" ] || e2e_fail "no worker pid in the log"
echo "domains = ( { match = \"broken" >>"$CONF"
nstarted=$(e2e_log_count "$E2E_DIR/milter-relay.log" 'supervisor [0-9]*: worker [0-9]* started')
(
	while [ ! -e "$E2E_DIR/poll.stop" ]; do
		status GET /healthz
		echo
	done
) >"$E2E_DIR/healthz.seen" 2>/dev/null &
POLL=$!
e2e_track_pid "$POLL"
kill -KILL "$W"
e2e_wait_log "$E2E_DIR/milter-relay.log" 'supervisor [0-9]*: worker [0-9]* started' \
    $((nstarted + 1)) 60 "the worker restarted after $W was killed"
touch "$E2E_DIR/poll.stop"
wait "$POLL"
grep -qx 503 "$E2E_DIR/healthz.seen" ||
    e2e_fail "/healthz never 503 while no worker served: $(sort "$E2E_DIR/healthz.seen" | uniq -c | tr '\n' ' ')"
e2e_ok "/healthz 503 while no worker serves"
# the restarted worker serves the last rules that loaded, and says that
# the file on disk is broken
for i in $(seq 1 100); do
	grep -qF "the file on disk does not load: $CONF" \
	    "$E2E_DIR/milter-relay.log" && break
	sleep 0.1
done
grep -qF "the file on disk does not load: $CONF" "$E2E_DIR/milter-relay.log" ||
    e2e_fail "the restarted worker does not report the broken file"
wait_healthy 40 || e2e_fail "/healthz not 200 after the worker came back"
cp "$GOOD" "$CONF"
[ "$(decisions)" = "$TOTAL" ] || e2e_fail "a worker restart reset the counters"
n=$(sample milter_relay_worker_restarts_total)
[ "${n:-0}" -ge 1 ] || e2e_fail "worker_restarts_total $n, want >= 1"
e2e_ok "worker back with the last rules that loaded (broken file on disk): /healthz 200, counters kept, $n restarts counted"

# --- 5. 1000 scrapes and malformed HTTP under mail ---------------------------

LOAD_N=20000

ulimit -n 4096
FDS=()
for i in $(seq 1 1000); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$HPORT" || e2e_fail "connect $i"
	FDS+=("$fd")
done
"$MT" -s "unix:$MR_SOCKET" --load -c 4 -n "$LOAD_N" -r 1 \
    -f <(grep -v -e unlisted -e lab "$E2E_DIR/rcpts") --expect continue \
    >"$E2E_DIR/load2.txt" 2>&1 &
LOADPID=$!
e2e_track_pid "$LOADPID"
for fd in "${FDS[@]}"; do
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&"$fd"
done
ok=0
for fd in "${FDS[@]}"; do
	line=
	read -r -t 30 -u "$fd" line
	case $line in "HTTP/1.0 200"*|"HTTP/1.1 200"*) ok=$((ok + 1)) ;; esac
	exec {fd}>&-
done
[ "$ok" = 1000 ] || e2e_fail "$ok of 1000 concurrent scrapes got 200"
e2e_ok "1000 concurrent scrapes, 1000 x 200"
bad() {	# send raw bytes, read what comes back (if anything)
	# a subshell: the server may close before a long request is written,
	# and the SIGPIPE must end this client only, not the test
	(
		trap '' PIPE
		exec {fd}<>"/dev/tcp/127.0.0.1/$HPORT" || exit 0
		printf "$1" >&"$fd"
		timeout 15 cat <&"$fd" >/dev/null
		exec {fd}>&-
	) 2>/dev/null || true
}
bad 'GARBAGE\r\n\r\n'
bad '\x00\x01\x02\xff\xfe\r\n\r\n'
bad 'GET /metrics HTTP/9.9\r\n\r\n'
bad 'GET /metrics\r\n\r\n'
bad "GET /$(head -c 70000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: x\r\n\r\n"
bad "GET /metrics HTTP/1.1\r\nHost: x\r\nX: $(head -c 70000 /dev/zero | tr '\0' b)\r\n\r\n"
bad 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nabc'
bad 'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
exec {half}<>"/dev/tcp/127.0.0.1/$HPORT"
printf 'GET /metr' >&"$half"	# left open: a slow client
wait "$LOADPID" || e2e_fail "mail under scrapes: $(tail -2 "$E2E_DIR/load2.txt")"
grep -q "rcpts=$LOAD_N .*continue=$LOAD_N .*unexpected=0" \
    "$E2E_DIR/load2.txt" ||
    e2e_fail "mail under scrapes: $(tail -1 "$E2E_DIR/load2.txt")"
[ "$(status GET /healthz)" = 200 ] || e2e_fail "/healthz after the abuse"
[ "$(decisions)" = "$((TOTAL + LOAD_N))" ] ||
    e2e_fail "decisions $(decisions), want $((TOTAL + LOAD_N))"
exec {half}>&-
e2e_ok "malformed HTTP and 1000 scrapes: $LOAD_N RCPTs as expected, endpoint up"

# --- 6. contrib/prometheus ----------------------------------------------------

out=$(cd contrib/prometheus && promtool check config prometheus.yml 2>&1) ||
    e2e_fail "promtool check config: $out"
out=$(promtool check rules contrib/prometheus/milter-relay-alerts.yml 2>&1) ||
    e2e_fail "promtool check rules: $out"
out=$(cd contrib/prometheus &&
    promtool test rules milter-relay-alerts.test.yml 2>&1) ||
    e2e_fail "promtool test rules: $out"
e2e_ok "contrib/prometheus: config, rules and rule tests pass"

# --- 7. the open-file limit, the workers' descriptors, the deadline -------------

D2=$E2E_DIR/mr2
mkdir -p "$D2"
chown nobody:postfix "$D2"
HPORT2=$(e2e_free_port)
SMPORT2=$(e2e_free_port)
CONF2=$E2E_DIR/mr2.conf
LOG2=$E2E_DIR/mr2.log
{
	echo "socket = \"unix:$D2/milter.sock\";"
	echo "metrics = \"inet:$HPORT2\";"
	echo "socketmap = \"inet:$SMPORT2\";"
	echo "domains = ( { match = \"example.com\"; } );"
} >"$CONF2"
chmod 644 "$CONF2"
(ulimit -n 256 && exec "$MR_BIN" -f -c "$CONF2" -u nobody -g postfix) \
    >>"$LOG2" 2>&1 &
MR2=$!
e2e_track_pid "$MR2"
e2e_wait_port 127.0.0.1 "$HPORT2" 30 || e2e_fail "second daemon: no metrics port"
e2e_wait_port 127.0.0.1 "$SMPORT2" 30 || e2e_fail "second daemon: no socketmap port"
# "inet:PORT" without a host: loopback, not every interface
for p in "$HPORT2" "$SMPORT2"; do
	l=$(ss -ltnH "sport = :$p" | awk '{ print $4 }')
	[ "$l" = "127.0.0.1:$p" ] ||
	    e2e_fail "inet:$p binds \"$l\", not 127.0.0.1:$p"
done
"$MR_BIN" -t -c "$CONF2" 2>&1 | grep -q "can be reached from other hosts" &&
    e2e_fail "-t warns about loopback sockets"
sed "s/inet:$SMPORT2/inet:$SMPORT2@0.0.0.0/" "$CONF2" >"$E2E_DIR/wide.conf"
"$MR_BIN" -t -c "$E2E_DIR/wide.conf" 2>&1 |
    grep -q "socketmap \"inet:$SMPORT2@0.0.0.0\" can be reached from other hosts" ||
    e2e_fail "-t does not warn about a socketmap on every interface"
e2e_ok "metrics and socketmap \"inet:PORT\" without a host: 127.0.0.1 only; -t warns about 0.0.0.0"
URL2=http://127.0.0.1:$HPORT2
sockets() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:'; }
for i in $(seq 1 100); do
	grep -q "serving unix:" "$LOG2" && break
	sleep 0.1
done
W=$(worker_of "$LOG2")
base=$(sockets "$W")
FDS=()
for i in $(seq 1 300); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$HPORT2" || e2e_fail "connect $i"
	FDS+=("$fd")
done
n=$(grep -c "serving unix:" "$LOG2")
kill -KILL "$W"
for i in $(seq 1 100); do
	[ "$(grep -c "serving unix:" "$LOG2")" -gt "$n" ] && break
	sleep 0.1
done
[ "$(grep -c "serving unix:" "$LOG2")" -gt "$n" ] ||
    e2e_fail "300 HTTP connections: the worker was not restarted: $(grep -m1 'Too many open files' "$LOG2")"
W2=$(worker_of "$LOG2")
now=$(sockets "$W2")
[ "$now" -le $((base + 2)) ] ||
    e2e_fail "the new worker holds $now sockets, its predecessor $base: HTTP connections inherited"
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$URL2/healthz")
[ "$code" = 200 ] || e2e_fail "/healthz with 300 idle connections: $code"
for fd in "${FDS[@]}"; do
	exec {fd}>&-
done
e2e_ok "300 idle HTTP connections at 256 open files: worker restarted, $now sockets in it (was $base), /healthz 200"
out=$(perl test/metrics/trickle_http.pl "$HPORT2" 50 15)
[ "$out" = "closed=50 open=0" ] ||
    e2e_fail "trickling HTTP clients past the 10 s deadline: $out"
e2e_ok "50 clients sending an octet a second: all closed by the deadline ($out)"
kill -TERM "$MR2"
wait "$MR2"
st=$?
[ "$st" = 0 ] || e2e_fail "second daemon exit status $st"
grep -q 'Sanitizer' "$LOG2" && e2e_fail "sanitizer report in mr2.log"

mr_stop
[ "$MR_STATUS" = 0 ] || e2e_fail "milter-relay exit status $MR_STATUS"
e2e_ok "metrics: all checks passed"
