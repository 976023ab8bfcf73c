#!/bin/bash
# check.sh - "milter-relay -t" knows its MTA (make check; no root needed)
#
# Private Postfix configuration directories (main.cf, master.cf; no
# Postfix is started), handed to -t through MAIL_CONFIG, which postconf
# honours.  The configuration is the shipped example, etc/milter-
# relay.conf, unless a case says otherwise.  Each case checks the
# warnings -t prints by name, and that -t still passes:
#   1. the README's lines appended to Debian's main.cf: Debian's
#      smtpd_relay_restrictions set twice; myhostname gw.example.net is
#      covered by the example's rule "example.net";
#   2. Debian's restrictions left alone: defer_unauth_destination, no
#      access map;
#  2b. the same with socketmap = "inet6:10026@[::1]": the map is named
#      socketmap:inet:[::1]:10026:, one pair of brackets;
#   3. milter mode done right (contrib/postfix/main.cf verbatim, the tls
#      map, tlsmgr in master.cf): no Postfix warning at all;
#   4. maps-only (known by the rcpt map alone) with the rcpt map after
#      permit_mynetworks and no reject_unauth_destination: both named;
#   5. static mode: maps_dir not writable; no tlsmgr in master.cf while rules
#      set tls; relay_domains (main-maps.cf's, empty) not on the table;
#   6. a rule without tls on the smart host of a tls = "encrypt" rule:
#      both rules named; 6b. the same for a rule without auth_file on
#      the smart host of a rule with one (port 587: port 25 is another
#      hop);
#   7. recipients = "verify" with the cache's directory missing: named by
#      -t and in the daemon's start log;
#   8. no postconf in PATH: no Postfix warning;
#   9. README step 6's postconf commands, run on Debian's main.cf: no
#      Postfix warning left (Debian's relay restrictions replaced in
#      place, not doubled);
#  10. a rule with auth_file in milter mode: maps_dir does not make it
#      static mode; smtp_sasl_auth_enable and smtp_sasl_password_maps
#      named until contrib/postfix/main.cf's lines are uncommented; no
#      maps_dir named; smtp_sasl_security_options without noplaintext
#      named; tls = "dane" with auth_file refused by name;
#  11. the README's first command ends in "sudo make demo" (the demo
#      needs root; make's help and demo.sh say so too), and its step 3 shows
#      what -t prints for the example;
#  12. maps-only done right (contrib/postfix/main-maps.cf verbatim, the
#      tls map, tlsmgr): no warning; relay_domains on the socketmap's
#      relay map (main-maps.cf before the fix of smtpd's resolve cache):
#      named as an open relay after a rule is removed; a legacy
#      smtpd_recipient_restrictions with reject_unauth_destination (which
#      now refuses what the rules relay) named, not once the rcpt map
#      comes first.
set -u
cd "$(dirname "$0")/../.."
B=${MR_BUILD:-.}
MR=$PWD/$B/milter/milter-relay
[ -x "$MR" ] || { echo "FAIL: mtacheck: $MR not built"; exit 1; }
source test/lib/skip.sh
PATH=$PATH:/usr/sbin
mr_need "-t and Postfix" postconf
T=$(mktemp -d /tmp/mr-mtacheck.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	rm -rf "$T"
}
trap cleanup EXIT
N=0
fail() { echo "FAIL: mtacheck: $*"; cat "$T/err" 2>/dev/null; exit 1; }
ok() { N=$((N + 1)); echo "ok - mtacheck: $*"; }

DEBIAN_MAIN='smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = gw.example.net
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
myorigin = /etc/mailname
mydestination = $myhostname, gw.example.net, localhost.example.net, localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
inet_interfaces = all'
MASTER_TLSMGR='smtp      inet  n       -       y       -       -       smtpd
tlsmgr    unix  -       -       y       1000?   1       tlsmgr
smtp      unix  -       -       y       -       -       smtp'
MASTER_PLAIN='smtp      inet  n       -       y       -       -       smtpd
smtp      unix  -       -       y       -       -       smtp'

# pfdir NAME MAIN MASTER: a config directory
pfdir() {
	mkdir -p "$T/$1"
	printf '%s\n' "$2" >"$T/$1/main.cf"
	printf '%s\n' "$3" >"$T/$1/master.cf"
}
# t DIR [CONF]: -t with MAIL_CONFIG=DIR; stderr in $T/err; must pass
t() {
	MAIL_CONFIG=$T/$1 "$MR" -t -c "${2:-etc/milter-relay.conf}" \
	    >"$T/out" 2>"$T/err" || fail "-t fails ($1)"
	grep -q ': OK, [0-9]* rules$' "$T/out" || fail "-t: $(cat "$T/out")"
}
has() { grep -qF -- "$1" "$T/err" || fail "$2: no warning \"$1\""; }
hasnt() { ! grep -qF -- "$1" "$T/err" || fail "$2: warning \"$1\""; }

CONTRIB=$(grep -v '^#' contrib/postfix/main.cf)

# 1. README's lines appended to Debian's main.cf
pfdir c1 "$DEBIAN_MAIN
$CONTRIB" "$MASTER_TLSMGR"
t c1
has "main.cf sets smtpd_relay_restrictions more than once" 1
has 'rule "example.net" covers gw.example.net, Postfix'"'"'s myhostname' 1
has "postmaster@gw.example.net too) goes to the rule's smart host" 1
has 'rule "example.net" covers localhost.example.net, Postfix'"'"'s mydestination' 1
hasnt 'covers localhost,' 1
ok "Debian's line left next to ours; rule example.net covers myhostname"

# 2. Debian's restrictions in force
pfdir c2 "$DEBIAN_MAIN
smtpd_milters = unix:milter-relay/milter.sock
relay_domains = socketmap:inet:127.0.0.1:10026:relay
transport_maps = socketmap:inet:127.0.0.1:10026:transport
milter_default_action = accept" "$MASTER_TLSMGR"
t c2
has "smtpd_relay_restrictions has defer_unauth_destination" 2
has "has no check_recipient_access socketmap:inet:127.0.0.1:10026:access" 2
has "milter_default_action = accept" 2
hasnt "reject_unauth_destination" 2
ok "defer_unauth_destination, no access map, milter_default_action named"

# 2b. an IPv6 socketmap in brackets: the table -t names has one pair
sed 's|^socketmap = .*|socketmap = "inet6:10026@[::1]";|' \
    etc/milter-relay.conf >"$T/v6.conf"
t c2 "$T/v6.conf"
has "has no check_recipient_access socketmap:inet:[::1]:10026:access" 2b
hasnt "[[" 2b
ok "an inet6 socketmap named as socketmap:inet:[::1]:10026:"

# 3. milter mode done right: nothing about Postfix
pfdir c3 "compatibility_level = 3.6
myhostname = gw.demo.test
mydestination = \$myhostname, localhost
$CONTRIB
smtp_tls_policy_maps = socketmap:inet:127.0.0.1:10026:tls" "$MASTER_TLSMGR"
t c3
[ ! -s "$T/err" ] || fail "3: warnings for a right configuration"
ok "contrib/postfix/main.cf verbatim: no warning"

# 4. maps-only, the rcpt map after permit_mynetworks, no
# reject_unauth_destination
pfdir c4 "compatibility_level = 3.6
myhostname = gw.demo.test
transport_maps = socketmap:inet:127.0.0.1:10026:transport
smtp_tls_policy_maps = socketmap:inet:127.0.0.1:10026:tls
smtpd_relay_restrictions = permit_mynetworks,
	check_recipient_access socketmap:inet:127.0.0.1:10026:rcpt, permit
smtpd_milters =" "$MASTER_TLSMGR"
t c4
has "has reject_unauth_destination: Postfix relays every recipient" 4
has "socketmap:inet:127.0.0.1:10026:rcpt comes after permit_mynetworks" 4
hasnt "relay_domains =" 4
ok "maps-only: open relay and rcpt map order named"

# 5. static mode: maps_dir not writable by the daemon's user (a missing
# one is an error of the file), no tlsmgr, relay_domains on the socketmap
mkdir -m 555 "$T/nomaps"
sed -e "s|^#maps_dir = .*|maps_dir = \"$T/nomaps\";|" \
    -e 's|^user *=.*|user = "nobody";|' etc/milter-relay.conf \
    >"$T/static.conf"
grep -q "^maps_dir = \"$T/nomaps\"" "$T/static.conf" || fail "5: no maps_dir"
pfdir c5 "compatibility_level = 3.6
myhostname = gw.demo.test
$(grep -v '^#' contrib/postfix/main-maps.cf)" "$MASTER_PLAIN"
t c5 "$T/static.conf"
has "maps_dir $T/nomaps: not writable by" 5
has "master.cf has no tlsmgr service" 5
has "relay_domains = (empty) does not ask milter-relay (lmdb:$T/nomaps/relay_domains)" 5
ok "static mode: maps_dir, tlsmgr, relay_domains named"

# 6. one smart host, a rule with tls and one without
cat >"$T/share.conf" <<'END'
domains = (
	{ match = "secure.example"; smarthost = "[192.0.2.25]"; tls = "encrypt"; },
	{ match = "plain.example"; smarthost = "[192.0.2.25]"; }
);
END
t c3 "$T/share.conf"
has 'rule "plain.example" sets no tls but shares smart host [192.0.2.25] with rule "secure.example" (tls encrypt)' 6
ok "a smart host with and without tls: both rules named"
# 6b. the same for credentials: the rule without auth_file gets them too
printf 'relayuser:secret\n' >"$T/share.auth"
chmod 600 "$T/share.auth"
cat >"$T/share-auth.conf" <<END
domains = (
	{ match = "cred.example"; smarthost = "[192.0.2.26]:587";
	  tls = "encrypt"; auth_file = "$T/share.auth"; },
	{ match = "nocred.example"; smarthost = "[192.0.2.27], [192.0.2.26]:587";
	  tls = "encrypt"; },
	{ match = "other.example"; smarthost = "[192.0.2.26]"; tls = "encrypt"; }
);
END
t c3 "$T/share-auth.conf"
has "rule \"nocred.example\" has no auth_file but shares smart host [192.0.2.26]:587 with rule \"cred.example\" (auth_file $T/share.auth)" 6b
hasnt '"other.example" has no auth_file' 6b
hasnt 'secret' 6b
ok "a smart host with and without auth_file: both rules named"

# 7. verify without the cache's directory: -t and the start log
cat >"$T/verify.conf" <<END
socket = "unix:$T/v.sock";
pidfile = "$T/v.pid";
verify = { cache = "$T/novar/verify.lmdb"; };
domains = (
	{ match = "corp.example"; smarthost = "[192.0.2.30]"; recipients = "verify"; }
);
END
t c3 "$T/verify.conf"
has "recipients = \"verify\": the cache's directory $T/novar: No such file or directory" 7
MAIL_CONFIG=$T/c3 "$MR" -f -c "$T/verify.conf" >"$T/v.log" 2>&1 &
DPID=$!
for i in $(seq 1 100); do
	[ -S "$T/v.sock" ] && break
	sleep 0.1
done
[ -S "$T/v.sock" ] || { cat "$T/v.log"; fail "7: the daemon did not start"; }
grep -qF "the cache's directory $T/novar: No such file or directory" "$T/v.log" ||
    { cat "$T/v.log"; fail "7: the start log does not say the cache is missing"; }
kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
ok "verify without the cache's directory: -t and the start log say so"

# 8. no postconf: nothing about Postfix
PATH=/nonexistent MAIL_CONFIG=$T/c1 "$MR" -t -c etc/milter-relay.conf \
    >"$T/out" 2>"$T/err" || fail "8: -t fails"
[ ! -s "$T/err" ] || fail "8: warnings without postconf"
ok "no postconf: no Postfix warning"
# 9. README, step 6, verbatim (sudo dropped, -c added) on Debian's main.cf
pfdir c9 "${DEBIAN_MAIN/gw.example.net/gw.demo.test}" "$MASTER_TLSMGR"
sed -i 's/gw\.example\.net/gw.demo.test/g; s/localhost\.example\.net/localhost.demo.test/' \
    "$T/c9/main.cf"
sed -n '/^\*\*6\. Attach Postfix/,/^These are the lines/p' README.md |
    sed -n 's/^    //p' | sed "s|^sudo postconf -e|postconf -c $T/c9 -e|" \
    >"$T/step6.sh"
[ "$(grep -c "^postconf -c $T/c9 -e" "$T/step6.sh")" = 3 ] ||
    fail "9: README step 6 has not three postconf -e commands: $(cat "$T/step6.sh")"
sh -e "$T/step6.sh" >"$T/err" 2>&1 || fail "9: README step 6 fails"
[ "$(grep -c '^smtpd_relay_restrictions' "$T/c9/main.cf")" = 1 ] ||
    fail "9: smtpd_relay_restrictions twice after README step 6"
t c9
[ ! -s "$T/err" ] || fail "9: warnings after README step 6"
ok "README step 6 on Debian's main.cf: no warning"

# 10. a rule with auth_file, milter mode: maps_dir is not static mode;
# the smtp_sasl lines of contrib/postfix/main.cf named until uncommented
mkdir -p "$T/maps10"
printf 'relayuser:secret\n' >"$T/partner.auth"
chmod 600 "$T/partner.auth"
cat >"$T/auth.conf" <<END
$(grep '^socket' etc/milter-relay.conf)
maps_dir = "$T/maps10";
domains = (
	{ match = "partner.example"; smarthost = "[192.0.2.25]:587";
	  tls = "encrypt"; auth_file = "$T/partner.auth"; }
);
END
t c3 "$T/auth.conf"
has "smtp_sasl_auth_enable = no: their smart hosts get no password" 10
has "smtp_sasl_password_maps = (empty) does not ask milter-relay (lmdb:$T/maps10/sasl_passwd)" 10
hasnt "relay_domains =" 10
pfdir c10 "compatibility_level = 3.6
myhostname = gw.demo.test
mydestination = \$myhostname, localhost
$CONTRIB
smtp_tls_policy_maps = socketmap:inet:127.0.0.1:10026:tls
$(sed -n "s|^#\(smtp_sasl_.*\)lmdb:/[^ ]*|\1lmdb:$T/maps10/sasl_passwd|p; s|^#\(smtp_sasl_[a-z_]* =.*\)|\1|p" \
    contrib/postfix/main.cf | sort -u)" "$MASTER_TLSMGR"
t c10 "$T/auth.conf"
[ ! -s "$T/err" ] || fail "10: warnings with the smtp_sasl lines in place"
sed 's|^maps_dir.*||' "$T/auth.conf" >"$T/auth-nomaps.conf"
t c10 "$T/auth-nomaps.conf"
has "rules have auth_file but maps_dir is unset" 10
# smtp_sasl_security_options without noplaintext (a common recipe's
# "noanonymous"): PLAIN and LOGIN allowed without TLS, named
cp -r "$T/c10" "$T/c10p"
sed -i 's|^smtp_sasl_security_options = .*|smtp_sasl_security_options = noanonymous|' \
    "$T/c10p/main.cf"
t c10p "$T/auth.conf"
has "smtp_sasl_security_options = noanonymous lacks noplaintext" 10
[ "$(wc -l <"$T/err")" = 1 ] || fail "10: more than the noplaintext warning"
# tls = "dane" degrades to may without TLSA records: -t refuses it by name
sed 's|tls = "encrypt"|tls = "dane"|' "$T/auth.conf" >"$T/auth-dane.conf"
MAIL_CONFIG=$T/c10 "$MR" -t -c "$T/auth-dane.conf" >"$T/out" 2>&1 &&
    fail "10: -t passes auth_file with tls = \"dane\""
grep -qF 'auth_file needs tls = "encrypt", "verify" or "secure", not "dane"' \
    "$T/out" || fail "10: -t does not name dane: $(cat "$T/out")"
ok "auth_file in milter mode: smtp_sasl lines named, noplaintext named, dane refused, maps_dir not taken for static mode"
# 11. README: its first command runs the demo, and step 3 prints what -t
# prints for the shipped example
# the demo needs root: said the same way in README, make's help and the
# demo's own refusal
first='sudo ./contrib/install-deps.sh && make && sudo make demo'
sed -n '/^    /{p;q}' README.md | grep -qxF "    $first" ||
    fail "11: README's first command is not \"$first\""
grep -q '^#	sudo make demo	' Makefile ||
    fail "11: make's help does not say sudo make demo"
grep -qF '"sudo make demo" >&2' test/demo/demo.sh ||
    fail "11: demo.sh's refusal without root does not say sudo make demo"
want=$(PATH=/nonexistent "$MR" -t -c etc/milter-relay.conf 2>/dev/null |
    sed 's|^etc/milter-relay.conf|/etc/milter-relay.conf|')
grep -qxF "    # $want" README.md ||
    fail "11: README step 3 does not show \"$want\""
ok "README: sudo make demo first (make's help, demo.sh agree); step 3 shows \"$want\""
# 12. maps-only: main-maps.cf verbatim, then relay_domains on the socketmap
MAPS_MAIN="compatibility_level = 3.6
myhostname = gw.demo.test
mydestination = \$myhostname, localhost
$(grep -v '^#' contrib/postfix/main-maps.cf)
smtp_tls_policy_maps = socketmap:inet:127.0.0.1:10026:tls"
grep -qx 'relay_domains =' <<<"$MAPS_MAIN" ||
    fail "12: main-maps.cf does not set relay_domains empty"
pfdir c12 "$MAPS_MAIN" "$MASTER_TLSMGR"
t c12
[ ! -s "$T/err" ] || fail "12: warnings for main-maps.cf verbatim"
pfdir c12r "$MAPS_MAIN
relay_domains = socketmap:inet:127.0.0.1:10026:relay" "$MASTER_TLSMGR"
t c12r
has "relay_domains = socketmap:inet:127.0.0.1:10026:relay asks milter-relay in maps-only mode" 12
has "untrusted clients relay to the addresses it had resolved (an open relay)" 12
[ "$(wc -l <"$T/err")" = 1 ] || fail "12: more than the relay_domains warning"
pfdir c12s "$MAPS_MAIN
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination" \
    "$MASTER_TLSMGR"
t c12s
has "smtpd_recipient_restrictions has reject_unauth_destination without check_recipient_access socketmap:inet:127.0.0.1:10026:rcpt before it" 12
[ "$(wc -l <"$T/err")" = 1 ] || fail "12: more than the recipient restrictions warning"
pfdir c12t "$MAPS_MAIN
smtpd_recipient_restrictions = check_recipient_access socketmap:inet:127.0.0.1:10026:rcpt, reject_unauth_destination" \
    "$MASTER_TLSMGR"
t c12t
[ ! -s "$T/err" ] || fail "12: the rcpt map before reject_unauth_destination named"
ok "maps-only: main-maps.cf verbatim no warning; relay_domains on the socketmap, a refusing smtpd_recipient_restrictions named"
echo "mtacheck: $N checks passed"
