#!/bin/bash
# check.sh - "make demo" runs and its table says what the example's rules
# do (make check, root)
#
# Runs test/demo/demo.sh (a private Postfix, milter-relay on the shipped
# example with loopback smart hosts) and checks each row of its table:
# the decision, the reply the client got and where the message went, for
# a relayed, a routed, a denied (with the rule's reply), an unmatched, a
# trusted-only and an own-domain recipient, from a trusted and an
# untrusted client.  Also that the demo left nothing behind and touched
# nothing of the system's Postfix: its Postfix master and milter-relay
# (their pids as the demo wrote them) are gone, no process or temporary
# directory of it is left, and a listing of /etc/postfix and
# /var/spool/postfix (every entry's type, mode, owner, size and mtime) is
# the same before and after.  test/deb's lock is held meanwhile: its dpkg
# -i and --purge change /var/spool/postfix (milter-relay/) on purpose.
set -u
cd "$(dirname "$0")/../.."
source test/lib/skip.sh
[ "$(id -u)" = 0 ] || e2e_skip "make demo: needs root (Postfix)"
mr_need "make demo" postfix smtp-sink
T=$(mktemp -d /tmp/mr-demo-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: demo: $*"; cat "$T/out"; exit 1; }

# system_postfix: what the demo must not change, one line an entry.  A
# running system Postfix writes its own fifos and sockets (pickup's
# wake-up): their times are left out then, and only then.
system_postfix() {
	if postfix status >/dev/null 2>&1; then
		find /etc/postfix /var/spool/postfix \( -type p -o -type s \) \
		    -printf '%p %y %m %u:%g\n' 2>&1
		find /etc/postfix /var/spool/postfix ! \( -type p -o -type s \) \
		    -printf '%p %y %m %u:%g %s %T@\n' 2>&1
	else
		find /etc/postfix /var/spool/postfix \
		    -printf '%p %y %m %u:%g %s %T@\n' 2>&1
	fi | sort
}
exec 9>/tmp/mr-deb-check.lock
flock 9
system_postfix >"$T/system.before"
# the demo's processes get no copy of the lock (a Postfix master left
# behind would hold it, and test/deb would wait for it forever)
before=$(ls -d /tmp/mr-e2e-demo.* 2>/dev/null | wc -l)
DEMO_TABLE=$T/table DEMO_PIDS=$T/pids bash test/demo/demo.sh >"$T/out" 2>&1 9>&- ||
    fail "demo.sh exited $?"
[ -s "$T/table" ] || fail "no table"
# row RCPT CLIENT DECISION REPLY WENT: one tab-separated row, exactly
row() {
	grep -qxF "$(printf '%s\t%s\t%s\t%s\t%s' "$@")" "$T/table" ||
	    fail "no row: $*"
}
row u@a.example.com 127.0.0.2 "accept rule=example.com (relay rule)" \
    "250 2.1.5 Ok" "sink hq"
row u@example.org 127.0.0.2 "accept rule=#example.org (relay rule)" \
    "250 2.1.5 Ok" "sink org"
row u@www.example.org 127.0.0.2 "Postfix: reject rule=- (no rule)" \
    "554 5.7.1 <u@www.example.org>: Relay access denied" refused
row u@lab.example.com 127.0.0.2 \
    "Postfix: reject rule=lab.example.com (deny rule)" \
    "550 5.7.1 <u@lab.example.com>: Recipient address rejected: No mail for the lab from here" \
    refused
row u@lab.example.com 127.0.0.1 "reject rule=lab.example.com (deny rule)" \
    "550 5.7.1 No mail for the lab from here" refused
row u@partner.example 127.0.0.2 \
    "Postfix: reject rule=partner.example (trusted-only rule, untrusted client)" \
    "554 5.7.1 <u@partner.example>: Relay access denied" refused
row u@partner.example 127.0.0.1 \
    "accept rule=partner.example (trusted-only rule, trusted client)" \
    "250 2.1.5 Ok" "sink partner"
row u@example.biz 127.0.0.1 "accept rule=example.biz (relay rule)" \
    "250 2.1.5 Ok" "sink biz"
row u@www.example.org 127.0.0.1 "continue rule=- (no rule, trusted client)" \
    "250 2.1.5 Ok" "sink relayhost"
row postmaster@gw.demo.test 127.0.0.2 \
    "continue rule=- (MTA final delivery)" "250 2.1.5 Ok" "sink local"
[ "$(wc -l <"$T/table")" = 11 ] || fail "$(wc -l <"$T/table") table lines, want 11"
echo "ok - demo: 10 rows as the example's rules say"
grep -q "^demo: 10 messages in [0-9]* s" "$T/out" || fail "no timing line"
[ "$(ls -d /tmp/mr-e2e-demo.* 2>/dev/null | wc -l)" = "$before" ] ||
    fail "a temporary directory was left behind"
! pgrep -f "mr-e2e-demo\." >/dev/null || fail "a process was left running"
[ "$(wc -l <"$T/pids")" = 2 ] || fail "the demo wrote no pids: $(cat "$T/pids")"
# running PID NAME: PID is NAME and has not exited (an exited process
# whose parent, init for Postfix's master, has not reaped it yet is a
# zombie: state Z)
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
	    [ "$(echo "${stat##*) }" | cut -d ' ' -f 1)" != Z ]
}
while read -r name pid; do
	! running "$pid" "$name" || fail "the demo's $name (pid $pid) still runs"
done <"$T/pids"
system_postfix >"$T/system.after"
flock -u 9
diff "$T/system.before" "$T/system.after" >"$T/system.diff" ||
    fail "the demo changed /etc/postfix or /var/spool/postfix: $(cat "$T/system.diff")"
echo "ok - demo: nothing left behind (its Postfix master and milter-relay" \
    "gone), the system's Postfix files untouched ($(wc -l <"$T/system.after") entries)"
