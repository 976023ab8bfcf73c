#!/bin/bash
# demo.sh - "make demo": milter-relay deciding and routing real mail
#
# Runs as root (a private Postfix, as the end-to-end tests do), changes
# no system state and stops everything it started:
#   - a private Postfix on loopback (test/e2e/lib.sh: own main.cf,
#     master.cf, queue under a temporary directory; the system Postfix is
#     not touched) with the lines of contrib/postfix/main.cf verbatim,
#     except the socketmap's port;
#   - milter-relay on a demo copy of the shipped example etc/milter-
#     relay.conf: the sockets, pid file and cache moved to the temporary
#     directory, trusted_networks' 127.0.0.0/8 narrowed to 127.0.0.1/32
#     (so that 127.0.0.2 is an untrusted client) and each smart host
#     rewritten to an smtp-sink on loopback (the substitutions are
#     printed);
#   - a handful of messages from a trusted (127.0.0.1) and an untrusted
#     (127.0.0.2) client, then a table: recipient, client, decision
#     (from milter-relay's log; "(Postfix)" when Postfix refused first),
#     the reply the client got, and where the message went (which sink).
# Exit 0 when every message went where the example's rules say;
# DEMO_TABLE=FILE also writes the table there, DEMO_PIDS=FILE the process
# ids of its Postfix master and milter-relay, "NAME PID" a line
# (test/demo/check.sh).
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "make demo: needs root for its private Postfix:" \
	    "sudo make demo" >&2
	exit 1
fi
for cmd in postfix postconf smtp-sink; do
	command -v "$cmd" >/dev/null 2>&1 || {
		echo "make demo: $cmd missing: sudo ./contrib/install-deps.sh" >&2
		exit 1
	}
done
source test/e2e/lib.sh
e2e_init demo
START=$SECONDS
HOST=gw.demo.test		# the demo Postfix's myhostname

SMTPD=$(e2e_free_port)
P_HQ=$(e2e_free_port)		# [192.0.2.25]: example.com, .net, .info
P_ORG=$(e2e_free_port)		# mail.example.org:2525
P_PARTNER=$(e2e_free_port)	# [2001:db8::25]: partner.example
P_BIZ=$(e2e_free_port)		# [192.0.2.27], [192.0.2.28]:2525
P_DEFAULT=$(e2e_free_port)	# Postfix's relayhost: no rule's mail
P_LOCAL=$(e2e_free_port)	# Postfix's own "local" delivery
for s in hq:$P_HQ org:$P_ORG partner:$P_PARTNER biz:$P_BIZ \
    relayhost:$P_DEFAULT local:$P_LOCAL; do
	sink_start "${s%%:*}" 127.0.0.1 "${s#*:}"
done

CONF=$E2E_DIR/milter-relay.conf
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
mr_config "$CONF"
sed -e "s|^socket *=.*|socket = \"unix:$MR_SOCKET\";|" \
    -e "s|^socketmap *=.*|socketmap = \"inet:$MR_SMPORT@127.0.0.1\";|" \
    -e "s|^metrics *=.*|# metrics: off in the demo|" \
    -e "s|^pidfile *=.*|pidfile = \"$E2E_DIR/milter-relay.pid\";|" \
    -e "s|/var/lib/milter-relay/verify.lmdb|$E2E_DIR/verify.lmdb|" \
    -e 's|"127.0.0.0/8"|"127.0.0.1/32"|' \
    -e "s|\"\\[192.0.2.25\\]\"|\"[127.0.0.1]:$P_HQ\"|" \
    -e "s|\"mail.example.org:2525\"|\"[127.0.0.1]:$P_ORG\"|" \
    -e "s|\"\\[2001:db8::25\\]\"|\"[127.0.0.1]:$P_PARTNER\"|" \
    -e "s|\"\\[192.0.2.27\\]\", \"\\[192.0.2.28\\]:2525\"|\"[127.0.0.1]:$P_BIZ\"|" \
    etc/milter-relay.conf >"$CONF"
chmod 644 "$CONF"
echo "milter-relay on a demo copy of etc/milter-relay.conf; what differs:"
diff etc/milter-relay.conf "$CONF" | sed -n 's/^> /    /p'
echo "smart hosts are smtp-sink processes on loopback:"
printf '    %-10s %-34s -> %s\n' \
    hq "[192.0.2.25]" "127.0.0.1:$P_HQ" \
    org "mail.example.org:2525" "127.0.0.1:$P_ORG" \
    partner "[2001:db8::25]" "127.0.0.1:$P_PARTNER" \
    biz "[192.0.2.27], [192.0.2.28]:2525" "127.0.0.1:$P_BIZ" \
    relayhost "Postfix's relayhost" "127.0.0.1:$P_DEFAULT" \
    local "Postfix's local delivery" "127.0.0.1:$P_LOCAL"
echo "(the demo Postfix has no smtp_tls_policy_maps: example.biz's" \
    "tls = \"encrypt\" is not applied; smtp-sink has no TLS)"

pf_create "$SMTPD" \
    "myhostname = $HOST" \
    "relayhost = [127.0.0.1]:$P_DEFAULT" \
    "$(grep -v '^#' contrib/postfix/main.cf |
        sed "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/")" \
    "mydestination = \$myhostname, localhost" \
    "local_recipient_maps = inline:{ postmaster=x }" \
    "local_transport = local:[127.0.0.1]:$P_LOCAL" \
    "smtpd_error_sleep_time = 0"
# "local" keeps its name (milter-relay sees {rcpt_mailer} local) but is
# Postfix's SMTP client towards sink "local": nothing reaches a mailbox
echo "local     unix  -       -       n       -       -       smtp" \
    >>"$PF_DIR/master.cf"
# -t as an administrator runs it, here on the demo's own Postfix
echo "milter-relay -t (MAIL_CONFIG: the demo Postfix):"
MAIL_CONFIG=$PF_DIR "$MR_BIN" -t -c "$CONF" 2>&1 | sed 's/^/    /'
"$MR_BIN" -t -c "$CONF" >/dev/null 2>&1 ||
    e2e_fail "the demo configuration does not check"
mr_start "$CONF"
pf_start
e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
[ -n "${DEMO_PIDS:-}" ] &&
    printf 'master %s\nmilter-relay %s\n' \
    "$(tr -d ' ' <"$PF_DIR/queue/pid/master.pid")" "$MR_PID" >"$DEMO_PIDS"
echo "private Postfix (contrib/postfix/main.cf) on 127.0.0.1:$SMTPD," \
    "myhostname $HOST"

# client recipient expected-sink ("-": refused at RCPT)
MESSAGES="\
127.0.0.2 u@a.example.com hq
127.0.0.2 u@example.org org
127.0.0.2 u@www.example.org -
127.0.0.2 u@lab.example.com -
127.0.0.1 u@lab.example.com -
127.0.0.2 u@partner.example -
127.0.0.1 u@partner.example partner
127.0.0.1 u@example.biz biz
127.0.0.1 u@www.example.org relayhost
127.0.0.2 postmaster@$HOST local"
declare -A REPLY
n=0
while read -r client rcpt want; do
	n=$((n + 1))
	out=$("$E2E_CLIENT" smtp -b "$client" -p "$SMTPD" -s "demo$n" \
	    "$rcpt" 2>&1)
	REPLY[$n]=$(echo "$out" | sed -n 's/^RCPT <[^>]*> //p')
	[ -n "${REPLY[$n]}" ] || e2e_fail "$client <$rcpt>: $out"
	[ "$want" = - ] && continue
	echo "$out" | grep -q '^DATA 250' ||
	    e2e_fail "$client <$rcpt>: not queued: $out"
done <<<"$MESSAGES"

# wait for every accepted message at its sink (bounded by Postfix's
# retry times in pf_create; a message elsewhere fails below)
for s in hq org partner biz relayhost local; do
	want=$(awk -v s="$s" '$3 == s' <<<"$MESSAGES" | wc -l)
	sink_wait "$s" "$want" 60 ||
	    e2e_fail "sink $s: $(sink_count "$s") messages, want $want"
done

# where: the sink that received message N (its subject), else "-"
where() {
	local s
	for s in hq org partner biz relayhost local; do
		grep -rqE "^Subject: demo$1\r?$" "$E2E_DIR/sink-$s" 2>/dev/null &&
		    { echo "$s"; return; }
	done
	echo "-"
}
# decision: milter-relay's log line for rcpt and client; none when
# Postfix refused first (relay_domains, the access map: both answered by
# milter-relay's socketmap), then what "milter-relay query" says of it
decision() {
	local line by= outcome
	line=$(grep -F "client=$2 " "$E2E_DIR/milter-relay.log" |
	    grep -F "rcpt=<$1>" | tail -n 1)
	if [ -n "$line" ]; then
		outcome=$(echo "$line" | sed -n 's/.* outcome=\([a-z-]*\).*/\1/p')
	else
		line=$("$MR_BIN" query -c "$CONF" -a "$2" "$1")
		outcome=$(echo "$line" | awk '{ print $2 }')
		by="Postfix: "
	fi
	echo "$by$outcome rule=$(echo "$line" |
	    sed -n 's/.* rule=\([^ ]*\).*/\1/p') ($(echo "$line" |
	    sed -n 's/.* reason="\([^"]*\)".*/\1/p'))"
}

TABLE=$E2E_DIR/table
n=0
bad=0
{
	printf 'RECIPIENT\tCLIENT\tDECISION\tREPLY\tWENT\n'
	while read -r client rcpt want; do
		n=$((n + 1))
		got=$(where "$n")
		[ "$got" = "$want" ] || bad=$((bad + 1))
		printf '%s\t%s\t%s\t%s\t%s\n' "$rcpt" "$client" \
		    "$(decision "$rcpt" "$client")" "${REPLY[$n]}" \
		    "$([ "$got" = - ] && echo "refused" || echo "sink $got")"
	done <<<"$MESSAGES"
} >"$TABLE"
echo
awk -F '\t' 'NR == FNR { for (i = 1; i < NF; i++) if (length($i) > w[i])
	w[i] = length($i); next }
    { for (i = 1; i < NF; i++) printf "%-*s  ", w[i], $i; print $NF }' \
    "$TABLE" "$TABLE"
echo "(\"Postfix:\" Postfix refused before asking the milter, with the" \
    "answer of milter-relay's socketmap (relay_domains, access map);" \
    "the decision shown is milter-relay query's)"
[ -n "${DEMO_TABLE:-}" ] && cp "$TABLE" "$DEMO_TABLE"
[ "$(pf_queue_count)" = 0 ] || e2e_fail "messages left in the queue"
[ "$bad" = 0 ] || e2e_fail "$bad messages did not go where the rules say"
echo
echo "demo: $n messages in $((SECONDS - START)) s; stopping Postfix," \
    "milter-relay and the sinks"
