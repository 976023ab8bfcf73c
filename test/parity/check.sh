#!/bin/bash
# check.sh - one policy in every mode (make check, as root): a real
# Postfix in milter, maps-only and static mode answers every recipient as
# "milter-relay query" does
#
# The rules: test/relay/relay.conf.in (namespace, exact, subdomains-only,
# trusted-only, deny exceptions, an IDN rule) plus a deny rule written as
# a U-label below a relayed namespace (bücher.example.com), a recipients
# "list" rule (corp.example) and two "verify" rules, one whose next hop
# takes every user (ok.verify.example) and one whose next hop is down
# (dead.verify.example, 450 4.1.1).  The addresses: the relay corpus
# (test/relay/corpus.txt) and test/parity/extra.txt (non-ASCII, case and
# fullwidth forms of deny and relay names, recipient-list and verify
# cases); own-domain cases are the corpus's.
#
# parity.pl asks "milter-relay query --verify" once per address and
# client (untrusted 127.0.0.2, trusted 127.0.0.1).  Then one private
# Postfix (smtputf8_enable = yes; its own names delivered itself as in
# test/relay) runs with the lines of contrib/postfix/main.cf,
# main-maps.cf and main-static.cf in turn, verbatim (only the socketmap
# port, the milter socket and the maps directory differ), and takes every
# address as RCPT from both clients, many per session: every reply's class
# (accept, reject, tempfail) must be query's, or a difference parity.pl
# explains by name (own names, static mode's refusal of non-ASCII
# domains, the MTA's own parser and syntax checks, source routes,
# Sendmail's refusal of SMTPUTF8; the count of each is printed).  Then
# the same through Sendmail (test/sendmail/test.mc with
# contrib/sendmail's lines, test/sendmail/lib.sh; a skip naming the
# reason when Sendmail's packages cannot be had).  A failure names the
# line of the merged list: past corpus.txt's last line, extra.txt's.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init parity

SMTPD=$(e2e_free_port)
SINK=$(e2e_free_port)		# every smart host, and the verify callouts;
				# on 127.0.0.13 nothing listens: a next
				# hop that is down (Sendmail: one port, one
				# mailer esmtpPORT, for every smart host)
sink_start S 127.0.0.1 "$SINK"
SRV=mr-e2e.localdomain

USERS=$E2E_DIR/corp.users
printf 'alice@corp.example\n' >"$USERS"
MAPS=$E2E_DIR/maps
mkdir -p "$MAPS"
chown nobody "$MAPS"
chmod 644 "$USERS"
LIST=$E2E_DIR/forms.txt
cat test/relay/corpus.txt test/parity/extra.txt >"$LIST"

CONF=$E2E_DIR/parity.conf
MR_SOCKET=$E2E_DIR/pf/queue/milter-relay/milter.sock
# conf [LINE...]: the rules, the extra lines first
conf() {
	mr_config "$CONF" "pidfile = \"$E2E_DIR/mr.pid\";" \
	    "verify = { timeout = \"3s\"; };" "$@"
	sed -e '/^socket *=/d' -e '/^socketmap *=/d' -e '/^pidfile *=/d' \
	    -e "s/@SINK_[ABC]@/$SINK/" \
	    -e 's/^);$//' test/relay/relay.conf.in >>"$CONF"
	cat >>"$CONF" <<EOF
	,
	{ match = "bücher.example.com"; relay = "deny";
	  reply = "550 5.7.1 No mail for the books"; },
	{ match = "corp.example"; smarthost = "[127.0.0.1]:$SINK";
	  recipients = "list"; recipients_file = "$USERS"; },
	{ match = "ok.verify.example"; smarthost = "[127.0.0.1]:$SINK";
	  recipients = "verify"; },
	{ match = "dead.verify.example"; smarthost = "[127.0.0.13]:$SINK";
	  recipients = "verify"; }
);
EOF
	"$MR_BIN" -t -c "$CONF" >/dev/null 2>&1 ||
	    e2e_fail "parity.conf does not check: $("$MR_BIN" -t -c "$CONF" 2>&1)"
}
conf

QUERIES=$E2E_DIR/query.out
perl test/parity/parity.pl query "$MR_BIN" "$CONF" "$LIST" "$SRV" \
    127.0.0.1 "$QUERIES" || e2e_fail "query"
e2e_ok "query: every address, both clients"

# pfmode MODE: Postfix stopped, its main.cf made again with
# contrib/postfix/main-MODE.cf's lines, started
pfmode() {
	local main=contrib/postfix/main.cf
	[ "$1" != milter ] && main=contrib/postfix/main-$1.cf
	[ "$PF_STARTED" = 1 ] && pf_stop
	pf_create "$SMTPD" \
	    "$(grep -v '^#' "$main" |
	        sed -e "s/127\.0\.0\.1:10026:/127.0.0.1:$MR_SMPORT:/" \
	        -e "s|/var/lib/milter-relay/maps/|$MAPS/|")" \
	    "smtputf8_enable = yes" \
	    "mydestination = \$myhostname, localhost" \
	    "virtual_mailbox_domains = box.test" \
	    "virtual_mailbox_maps = inline:{ user@box.test=x }" \
	    "smtpd_peername_lookup = no" \
	    "smtpd_error_sleep_time = 0" \
	    "smtpd_soft_error_limit = 1000" \
	    "smtpd_hard_error_limit = 1000" \
	    "smtpd_junk_command_limit = 100000"
	grep -q '^smtputf8_enable = yes' "$PF_DIR/main.cf" ||
	    e2e_fail "main.cf: no smtputf8_enable"
	pf_start
	e2e_wait_port 127.0.0.1 "$SMTPD" 30 || e2e_fail "smtpd does not listen"
}

# run MODE: every address through Postfix, compared with query
run() {
	local out
	out=$(perl test/parity/parity.pl smtp "$1" 127.0.0.1 "$SMTPD" "$LIST" \
	    "$SRV" 127.0.0.1 "$QUERIES" 2>&1) || {
		echo "$out"
		e2e_fail "$1 mode differs from query"
	}
	echo "$out"
	e2e_ok "$1 mode: as query, or explained by name"
}

mr_start "$CONF"
pfmode milter
grep -q '^smtpd_milters = unix:milter-relay/milter.sock' "$PF_DIR/main.cf" ||
    e2e_fail "main.cf: no milter"
run milter
pfmode maps
run maps
mr_stop

# static mode: the same rules written into maps_dir
conf "maps_dir = \"$MAPS\";"
mr_start "$CONF"
for i in $(seq 1 300); do
	grep -q 'static maps: wrote' "$E2E_DIR/milter-relay.log" && break
	sleep 0.1
done
[ -s "$MAPS/access.lmdb" ] || e2e_fail "no static tables"
pfmode static
grep -q socketmap "$PF_DIR/main.cf" && e2e_fail "static main.cf asks a socketmap"
run static
pf_stop

# Sendmail: test/sendmail/test.mc with contrib/sendmail's lines
source test/sendmail/lib.sh
sm_prepare "test/parity, Sendmail"
SMPORT=$(e2e_free_port)
sm_start "$SMPORT" "$SINK" "$SINK"
SMTPD=$SMPORT run sendmail
sm_cleanup
mr_stop
e2e_ok "parity"
