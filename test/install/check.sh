#!/bin/bash
# test/install/check.sh - make install, the shipped files, and import
#
# Run by "make check" with MR_BUILD (the build directory) and MR_SANITIZE.
#  1. "make install" into a temporary DESTDIR: the exact list of files and
#     their modes; a second install keeps an edited configuration; PREFIX
#     and SYSCONFDIR reach the systemd unit's paths.
#  2. The example configuration passes "milter-relay -t", and the daemon
#     started on it answers the scenario printed in milter-test(1).
#     README.md's examples: step 3's -t line; every "milter-relay query"
#     line answers as the lines below it show (all of them, no more);
#     step 5's scenario and postmap lines against the running daemon; its
#     domains_file lines and recipients example pass -t and decide as it
#     says.
#  3. The manual pages are lint clean (mandoc -T lint -W warning; also
#     groff warnings through man(1) when it is installed).
#  4. systemd-analyze verify on the installed unit; the daemon started as
#     the unit starts
#     it (unprivileged from the start) makes its socket and reloads.
#  5. contrib/setup-user.sh: dry run; a real run as root with a throw-away
#     user and directory (removed afterwards).
#  6. import round-trips with the exporter: export FORMAT | import FORMAT
#     gives a rule set whose answers (milter-relay query) are the same.
# Every process it starts is stopped by pid, every file it makes removed.
# What cannot run here (no strace, not root ...) is reported by mr_skip
# (test/e2e/lib.sh): listed by "make check", a failure under
# MR_REQUIRE_ALL=1.  The daemon binds no port it did not pick free: the
# example's socketmap and metrics ports (10026, 9187) may be an installed
# milter-relay's.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source test/e2e/lib.sh
B=${MR_BUILD:-.}
M=$root/$B/milter/milter-relay
MT=$root/$B/test/harness/milter-test
tmp=$(mktemp -d /tmp/mr-install.XXXXXX)
daemon_pid=
test_user=

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	if [ -n "$test_user" ] && getent passwd "$test_user" >/dev/null; then
		userdel "$test_user" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	mr_skip "$@"
}

ok() {
	echo "ok: $*"
}

# ---------------------------------------------------------------- 1 install
dest=$tmp/dest
make -s install DESTDIR="$dest" SANITIZE="${MR_SANITIZE:-}" \
    >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "make install"; }

{
	echo "644 etc/milter-relay.conf"
	echo "755 usr/local/bin/milter-test"
	echo "755 usr/local/sbin/milter-relay"
	echo "644 usr/local/share/doc/milter-relay/README.md"
	[ -f SECURITY.md ] &&
	    echo "644 usr/local/share/doc/milter-relay/SECURITY.md"
	echo "644 usr/local/share/man/man1/milter-test.1"
	echo "644 usr/local/share/man/man5/milter-relay.conf.5"
	echo "644 usr/local/share/man/man8/milter-relay.8"
	echo "644 usr/local/share/milter-relay/milter-relay.conf"
	echo "644 usr/local/share/milter-relay/milter-relay.service"
	echo "755 usr/local/share/milter-relay/setup-user.sh"
	for f in contrib/postfix/* contrib/sendmail/* contrib/postgresql/*; do
		[ -f "$f" ] || continue
		if [ -x "$f" ]; then m=755; else m=644; fi
		echo "$m usr/local/share/milter-relay/${f#contrib/}"
	done
} | sort -k2 >"$tmp/want"
(cd "$dest" && find . -type f -printf '%m %P\n') | sort -k2 >"$tmp/got"
diff -u "$tmp/want" "$tmp/got" || fail "installed files differ from the list"
ok "make install: $(wc -l <"$tmp/got") files, modes as listed"

cmp -s etc/milter-relay.conf "$dest/etc/milter-relay.conf" ||
    fail "installed configuration differs from etc/milter-relay.conf"
echo "# edited by the administrator" >>"$dest/etc/milter-relay.conf"
cp "$dest/etc/milter-relay.conf" "$tmp/edited.conf"
make -s install DESTDIR="$dest" SANITIZE="${MR_SANITIZE:-}" \
    >"$tmp/install2.log" 2>&1 || { cat "$tmp/install2.log"; fail "second make install"; }
cmp -s "$tmp/edited.conf" "$dest/etc/milter-relay.conf" ||
    fail "a second make install overwrote the configuration"
grep -q "keeping" "$tmp/install2.log" ||
    fail "a second make install did not say it kept the configuration"
ok "a second make install keeps an edited configuration"

dest2=$tmp/dest2
make -s install DESTDIR="$dest2" PREFIX=/usr SYSCONFDIR=/etc/mr \
    SANITIZE="${MR_SANITIZE:-}" >"$tmp/install3.log" 2>&1 ||
    { cat "$tmp/install3.log"; fail "make install PREFIX=/usr"; }
[ -x "$dest2/usr/sbin/milter-relay" ] || fail "PREFIX=/usr: no /usr/sbin/milter-relay"
[ -f "$dest2/etc/mr/milter-relay.conf" ] || fail "SYSCONFDIR: no /etc/mr/milter-relay.conf"
unit2=$dest2/usr/share/milter-relay/milter-relay.service
grep -q '^ExecStart=/usr/sbin/milter-relay -f -c /etc/mr/milter-relay.conf ' "$unit2" ||
    fail "PREFIX/SYSCONFDIR did not reach ExecStart in the unit"
grep -q '/usr/local' "$unit2" && fail "the unit still names /usr/local"
ok "PREFIX=/usr SYSCONFDIR=/etc/mr reach the unit's paths"

# run_conf FILE: FILE without its socket, user, group and pidfile, its
# socketmap and metrics on ports picked free (the example's are an
# installed daemon's); the caller adds a socket
E2E_CLIENT=$tmp/e2e_client
e2e_build_client "$E2E_CLIENT"
RUN_SMPORT=
RUN_MPORT=
run_conf() {
	RUN_SMPORT=$(e2e_free_port) && RUN_MPORT=$(e2e_free_port) ||
	    fail "no free port"
	grep -v -e '^socket' -e '^user' -e '^group' -e '^pidfile' \
	    -e '^metrics' "$1"
	printf 'socketmap = "inet:%s@127.0.0.1";\n' "$RUN_SMPORT"
	printf 'metrics = "inet:%s@127.0.0.1";\n' "$RUN_MPORT"
}

# README.md's examples against the shipped example: every "milter-relay
# query" line of it (step 5 and the rest) gives the answers printed below
# it ("..." is any text), and (readme_postmap, with the daemon running on
# the example) every "postmap -q" line of step 5 the answer in its comment
readme_step5() {
	sed -n '/^\*\*5\. Check the daemon/,/^\*\*6\./p' README.md
}
# readme_answers_end: the answers shown below a query are all it prints
readme_answers_end() {
	local shown printed
	[ -f "$tmp/query.want" ] || return 0
	shown=$(wc -l <"$tmp/query.want")
	printed=$(wc -l <"$tmp/query.out")
	[ "$shown" = "$printed" ] || fail "README: query $args: README shows" \
	    "$shown answer lines, it prints $printed: $(cat "$tmp/query.out")"
	rm -f "$tmp/query.want"
}
readme_query() {
	local n=0 args want got pat
	while IFS= read -r line; do
		case $line in
		"    milter-relay query "*)
			readme_answers_end
			args=${line#    milter-relay query }
			args=${args%%#*}
			# shellcheck disable=SC2086
			"$IM" query -c etc/milter-relay.conf $args \
			    >"$tmp/query.out" 2>&1 ||
			    fail "README: milter-relay query $args: exit $?"
			n=$((n + 1))
			: >"$tmp/query.want"
			;;
		"    # "*)
			[ -f "$tmp/query.want" ] || continue
			want=${line#    # }
			got=$(sed -n "$(($(wc -l <"$tmp/query.want") + 1))p" \
			    "$tmp/query.out")
			# "..." in README stands for any text
			pat=$(printf '%s' "$want" | sed 's/[][*?\\]/\\&/g; s/\.\.\./*/g')
			# shellcheck disable=SC2053
			[[ $got == $pat ]] || fail "README: query $args:" \
			    "README says \"$want\", the example gives \"$got\""
			echo "$want" >>"$tmp/query.want"
			;;
		*)	readme_answers_end ;;
		esac
	done <README.md
	readme_answers_end
	[ "$n" -ge 3 ] || fail "README: only $n query lines found"
	ok "README: $n milter-relay query examples answer as printed"
}
# README.md's domains_file lines and its recipients example (with a
# recipients_file of the address it names) pass -t with every rule, and
# decide as it says: the listed user accepted, another refused with the
# reply README shows
readme_snippets() {
	local d=$tmp/readme n got reply
	mkdir "$d"
	sed -n '/into a `domains_file`, one rule a line:$/,/^Several gateways/p' \
	    README.md | sed -n 's/^    //p' >"$d/domains.list"
	n=$(wc -l <"$d/domains.list")
	[ "$n" -ge 3 ] || fail "README: no domains_file example found"
	printf 'domains_file = "%s";\n' "$d/domains.list" >"$d/file.conf"
	"$IM" -t -c "$d/file.conf" >"$d/t.out" 2>&1 &&
	    grep -qx "$d/file.conf: OK, $n rules" "$d/t.out" ||
	    { cat "$d/domains.list" "$d/t.out"; fail "README's domains_file example: -t"; }
	sed -n '/^## Only existing users/,/^- `"list"`/p' README.md |
	    sed -n '/^    domains = ($/,/^    );$/s/^    //p' >"$d/rcpt.conf"
	grep -q 'recipients_file = "corp.users"' "$d/rcpt.conf" ||
	    fail "README: no recipients example with corp.users found"
	echo alice@corp.example >"$d/corp.users"
	"$IM" -t -c "$d/rcpt.conf" >"$d/t.out" 2>&1 &&
	    grep -qx "$d/rcpt.conf: OK, 2 rules" "$d/t.out" ||
	    { cat "$d/rcpt.conf" "$d/t.out"; fail "README's recipients example: -t"; }
	reply=$(sed -n 's/^Unknown users get `\(550 [^`]*\)`.*/\1/p' README.md)
	[ -n "$reply" ] || fail "README: the unknown user's reply not found"
	got=$("$IM" query -c "$d/rcpt.conf" alice@corp.example bob@corp.example 2>&1)
	grep -q '^alice@corp.example: accept rule=corp.example ' <<<"$got" &&
	    grep -qF "bob@corp.example: reject reply=\"${reply/<addr>/<bob@corp.example>}\"" \
	    <<<"$got" ||
	    fail "README's recipients example: query: $got (README: \"$reply\")"
	ok "README: the domains_file example ($n rules) and the recipients example load with -t and decide as shown"
}
readme_postmap() {
	local n=0 key map want got
	while read -r key map want; do
		got=$(postmap -q "$key" \
		    "socketmap:inet:127.0.0.1:$RUN_SMPORT:$map" 2>&1)
		[ "$got" = "$want" ] || fail "README step 5: postmap -q $key" \
		    "...:$map: README says \"$want\", the daemon \"$got\""
		n=$((n + 1))
	done < <(readme_step5 | sed -n 's/^    postmap -q \([^ ]*\) socketmap:inet:127\.0\.0\.1:10026:\([a-z]*\) *# *\(.*\)/\1 \2 \3/p')
	[ "$n" -ge 2 ] || fail "README step 5: only $n postmap lines found"
	ok "README step 5: $n postmap -q lines answer as printed"
}

# ----------------------------------------------------- 2 example config
IM=$dest/usr/local/sbin/milter-relay
if [ ! -x "$M" ]; then
	skip "no daemon built ($M): example configuration NOT checked"
else
	"$IM" -t -c etc/milter-relay.conf >"$tmp/t.out" 2>&1 ||
	    { cat "$tmp/t.out"; fail "milter-relay -t rejects etc/milter-relay.conf"; }
	grep -q ': OK, [0-9]* rules$' "$tmp/t.out" || { cat "$tmp/t.out"; fail "-t output"; }
	ok "the example configuration passes -t: $(cat "$tmp/t.out")"
	# README step 3 prints what -t says of the installed example
	want=$(sed -n '/^    sudo milter-relay -t$/{n;s/^    # \/etc\/milter-relay.conf: //p;}' README.md)
	got=$(sed -n 's/^.*: \(OK, [0-9]* rules\)$/\1/p' "$tmp/t.out")
	[ -n "$want" ] && [ "$want" = "$got" ] ||
	    fail "README step 3 says -t prints \"$want\", it prints \"$got\""
	readme_query
	readme_snippets
	# -V, -h and a bad option: what milter-relay(8) says
	"$IM" -V >"$tmp/V.out" 2>&1 || fail "-V: exit $?"
	grep -qx "milter-relay $(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile) (libmilter [0-9.]*)" \
	    "$tmp/V.out" || fail "-V: $(cat "$tmp/V.out")"
	"$IM" -h >"$tmp/h.out" 2>"$tmp/h.err" || fail "-h: exit $?"
	[ -s "$tmp/h.err" ] && fail "-h wrote to stderr: $(cat "$tmp/h.err")"
	grep -q '^usage: milter-relay ' "$tmp/h.out" || fail "-h: $(cat "$tmp/h.out")"
	set +e
	"$IM" -Z >"$tmp/Z.out" 2>"$tmp/Z.err"
	rc=$?
	set -e
	[ "$rc" = 64 ] && [ ! -s "$tmp/Z.out" ] && grep -q '^usage: ' "$tmp/Z.err" ||
	    fail "a bad option: exit $rc (want 64, EX_USAGE), usage on stderr"
	ok "-V names the version, -h the usage (stdout, 0), a bad option 64"

	# The examples printed in milter-relay.conf(5) load too: the
	# complete configuration and the domains_file.
	sed -n '/^\.Sh EXAMPLES/,/^\.Ed/p' etc/milter-relay.conf.5 |
	    sed -e '1,/^\.Bd/d' -e '/^\.Ed/d' >"$tmp/man5.conf"
	"$IM" -t -c "$tmp/man5.conf" >/dev/null ||
	    fail "the EXAMPLES configuration of milter-relay.conf(5) does not load"
	# its auth_file is made in $tmp, readable by its owner alone
	sed -n '/^# relayed for anyone/,/^\.Ed/p' etc/milter-relay.conf.5 |
	    sed -e '/^\.Ed/d' -e 's/\\\\/\\/g' \
		-e "s|auth_file=/etc/milter-relay/|auth_file=$tmp/|" \
		>"$tmp/man5.list"
	[ "$(grep -c smarthost "$tmp/man5.list")" -ge 3 ] ||
	    fail "no domains_file example found in milter-relay.conf(5)"
	grep -q "auth_file=$tmp/hosted.auth" "$tmp/man5.list" ||
	    fail "no auth_file in the domains_file example of milter-relay.conf(5)"
	(umask 077; echo 'relay:secret' >"$tmp/hosted.auth")
	printf 'domains_file = "man5.list";\n' >"$tmp/man5b.conf"
	if ! "$IM" -t -c "$tmp/man5b.conf" >"$tmp/man5b.out" 2>&1 ||
	    ! grep -q ': OK, 7 rules$' "$tmp/man5b.out"; then
		cat "$tmp/man5b.out"
		fail "the domains_file example of milter-relay.conf(5) does not load"
	fi
	ok "the examples of milter-relay.conf(5) load"

	# The daemon on the example's rules (sockets in $tmp, no user
	# switch) answers the scenario of milter-test(1)'s EXAMPLES.
	run_conf etc/milter-relay.conf >"$tmp/run.conf"
	sed -n '/^\.Sh EXAMPLES/,/^\.Ed/p' etc/milter-test.1 |
	    sed -e '1,/^\.Bd/d' -e '/^\.Ed/d' >"$tmp/man.scen"
	[ "$(grep -c expect "$tmp/man.scen")" -ge 6 ] ||
	    fail "no scenario found in milter-test(1)"
	# -M replaces the configuration's metrics endpoint
	mport2=$(e2e_free_port) || fail "no free port"
	"$M" -f -c "$tmp/run.conf" -p "unix:$tmp/milter.sock" \
	    -M "inet:$mport2@127.0.0.1" >"$tmp/daemon.log" 2>&1 &
	daemon_pid=$!
	# the socket file exists before the worker listens: wait for its
	# "serving" line (a connect in between is refused on a loaded host)
	for _ in $(seq 300); do
		grep -q ' serving unix:' "$tmp/daemon.log" && break
		kill -0 "$daemon_pid" 2>/dev/null ||
		    { cat "$tmp/daemon.log"; fail "the daemon died at start"; }
		sleep 0.1
	done
	[ -S "$tmp/milter.sock" ] || fail "the daemon did not create its socket"
	"$MT" -t 30 -s "unix:$tmp/milter.sock" "$tmp/man.scen" ||
	    { cat "$tmp/daemon.log"; fail "the scenario of milter-test(1) fails"; }
	sed -n "/cat > check.scen <<'END'/,/^    END\$/p" README.md |
	    sed -e '1d' -e '$d' -e 's/^    //' >"$tmp/readme.scen"
	[ "$(grep -c expect "$tmp/readme.scen")" -ge 3 ] ||
	    fail "no scenario found in README.md"
	"$MT" -t 30 -s "unix:$tmp/milter.sock" "$tmp/readme.scen" ||
	    { cat "$tmp/daemon.log"; fail "the scenario of README.md fails"; }
	readme_postmap
	if mr_have "-M (the metrics endpoint option) NOT checked" curl; then
		e2e_wait_port 127.0.0.1 "$mport2" 60 ||
		    fail "-M inet:$mport2@127.0.0.1: no metrics endpoint there"
		[ "$(curl -s -o /dev/null -w '%{http_code}' \
		    "http://127.0.0.1:$mport2/healthz")" = 200 ] ||
		    fail "-M: /healthz is not 200"
		e2e_port_open 127.0.0.1 "$RUN_MPORT" &&
		    fail "-M: the configuration's metrics port is bound too"
		ok "-M inet:PORT@HOST serves the metrics there, not at the configured one"
	fi
	kill "$daemon_pid"
	wait "$daemon_pid" ||
	    { tail -30 "$tmp/daemon.log"; fail "the daemon did not exit 0 on SIGTERM"; }
	daemon_pid=
	[ -e "$tmp/milter.sock" ] && fail "the socket was left behind"
	ok "the daemon on the example rules answers the scenarios of milter-test(1) and README.md"
fi

# ------------------------------------------------------- 3 manual pages
for page in "$dest"/usr/local/share/man/man*/*; do
	out=$(mandoc -T lint -W warning "$page" 2>&1) ||
	    { echo "$out"; fail "mandoc lint: $page"; }
	[ -z "$out" ] || { echo "$out"; fail "mandoc lint: $page"; }
	if command -v man >/dev/null && command -v groff >/dev/null; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l \
		    "$page" 2>&1 >/dev/null) || true
		[ -z "$out" ] || { echo "$out"; fail "man --warnings: $page"; }
	fi
done
command -v man >/dev/null && command -v groff >/dev/null ||
    skip "no man(1) or no groff: man --warnings NOT run"
ok "manual pages lint clean"

# ------------------------------------------------------ 4 systemd unit
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze not installed: the unit is NOT verified"
else
	mkdir "$tmp/unit"
	sed -e "s|/usr/local/sbin/milter-relay|$dest/usr/local/sbin/milter-relay|g" \
	    "$dest/usr/local/share/milter-relay/milter-relay.service" \
	    >"$tmp/unit/milter-relay.service"
	# Documentation= is checked with man(1) when it exists.
	manopt=
	command -v man >/dev/null || { manopt=--man=no; skip "no man(1): Documentation= not checked"; }
	# shellcheck disable=SC2086
	out=$(MANPATH=$dest/usr/local/share/man systemd-analyze verify \
	    $manopt "$tmp/unit/milter-relay.service" 2>&1) ||
	    { echo "$out"; fail "systemd-analyze verify"; }
	[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify"; }
	ok "systemd-analyze verify: clean"
fi

# The unit runs the daemon unprivileged from the start (User=, Group=, no
# capabilities): it must create its socket with the right owner and mode,
# write its pid file, and reload through "milter-relay reload" run as the
# same user.
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
    ! id nobody >/dev/null 2>&1 || [ ! -x "$M" ]; then
	skip "not root or no setpriv: the unprivileged start is NOT checked"
else
	ngroup=$(id -gn nobody)
	up=$tmp/unpriv
	mkdir "$up"
	chmod 711 "$tmp"
	chown nobody:"$ngroup" "$up"
	run_conf etc/milter-relay.conf >"$up/c.conf"
	printf 'socket = "unix:%s/m.sock";\nuser = "nobody";\ngroup = "%s";\npidfile = "%s/p.pid";\n' \
	    "$up" "$ngroup" "$up" >>"$up/c.conf"
	chmod 644 "$up/c.conf"
	# a copy, in case the build tree is not reachable for nobody
	cp "$M" "$up/milter-relay"
	chmod 755 "$up/milter-relay"
	setpriv --reuid=nobody --regid="$ngroup" --clear-groups \
	    "$up/milter-relay" -f -c "$up/c.conf" >"$tmp/unpriv.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 300); do
		[ -S "$up/m.sock" ] && [ -s "$up/p.pid" ] && break
		kill -0 "$daemon_pid" 2>/dev/null ||
		    { cat "$tmp/unpriv.log"; fail "unprivileged daemon died at start"; }
		sleep 0.1
	done
	[ "$(stat -c '%U %G %a' "$up/m.sock")" = "nobody $ngroup 660" ] ||
	    fail "unprivileged socket is $(stat -c '%U %G %a' "$up/m.sock")"
	setpriv --reuid=nobody --regid="$ngroup" --clear-groups \
	    "$up/milter-relay" reload -P "$up/p.pid" >/dev/null ||
	    fail "milter-relay reload as the daemon's user"
	for _ in $(seq 300); do
		grep -q 'reload: .*: OK, 7 rules' "$tmp/unpriv.log" && break
		sleep 0.1
	done
	grep -q 'reload: .*: OK, 7 rules' "$tmp/unpriv.log" ||
	    { cat "$tmp/unpriv.log"; fail "no reload after milter-relay reload"; }
	kill "$daemon_pid"
	wait "$daemon_pid" ||
	    { tail -30 "$tmp/unpriv.log"; fail "unprivileged daemon: exit status on SIGTERM"; }
	daemon_pid=
	[ -e "$up/p.pid" ] && fail "unprivileged daemon left its pid file"
	ok "the daemon runs unprivileged as the unit starts it, and reloads"
fi

# ----------------------------------------------------- 5 setup-user.sh
su=$dest/usr/local/share/milter-relay/setup-user.sh
sh -n "$su" || fail "setup-user.sh: syntax"
out=$(MILTER_RELAY_USER=mr-nosuchuser MILTER_RELAY_SOCKDIR=$tmp/dry \
    MILTER_RELAY_GROUP=root "$su" -n)
grep -q '^useradd --system --gid root .* mr-nosuchuser$' <<<"$out" ||
    { echo "$out"; fail "setup-user.sh -n: no useradd"; }
grep -q "^install -d -o mr-nosuchuser -g root -m 0750 $tmp/dry\$" <<<"$out" ||
    { echo "$out"; fail "setup-user.sh -n: no install -d"; }
[ -e "$tmp/dry" ] && fail "setup-user.sh -n created the directory"
if MILTER_RELAY_GROUP=mr-no-such-group "$su" -n >/dev/null 2>&1; then
	fail "setup-user.sh accepted a group that does not exist"
fi
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null; then
	skip "not root or no useradd: setup-user.sh NOT run for real"
else
	group=postfix
	getent group postfix >/dev/null || group=root
	test_user=mrtest$$
	sd=$tmp/spool/milter-relay
	mkdir -p "$tmp/spool"
	MILTER_RELAY_USER=$test_user MILTER_RELAY_GROUP=$group \
	    MILTER_RELAY_SOCKDIR=$sd "$su" >"$tmp/su.log" 2>&1 ||
	    { cat "$tmp/su.log"; fail "setup-user.sh"; }
	[ "$(stat -c '%U %G %a' "$sd")" = "$test_user $group 750" ] ||
	    fail "setup-user.sh: $sd is $(stat -c '%U %G %a' "$sd")"
	[ "$(id -gn "$test_user")" = "$group" ] || fail "setup-user.sh: primary group"
	MILTER_RELAY_USER=$test_user MILTER_RELAY_GROUP=$group \
	    MILTER_RELAY_SOCKDIR=$sd "$su" >"$tmp/su2.log" 2>&1 ||
	    { cat "$tmp/su2.log"; fail "setup-user.sh a second time"; }
	userdel "$test_user"
	test_user=
	ok "setup-user.sh creates the user and the socket directory, twice"
fi

# ------------------------------------------------ 6 import round trips
if [ ! -x "$M" ]; then
	skip "no daemon built: import round trips NOT checked"
	exit 0
fi
rt=$tmp/rt
mkdir "$rt"
probes="example.com a.example.com sub.example.com x.sub.example.com
exact.sub.example.com y.exact.sub.example.com example.org www.example.org
example.net a.example.net b.a.example.net plain.test x.plain.test
inner.plain.test z.inner.plain.test deep.sub.example.com other.test test"
addrs=()
for p in $probes; do addrs+=("u@$p"); done

# conf NAME: domains_file FILE, trusted 10.0.0.0/8
mkconf() {
	printf 'policy = { trusted_networks = [ "10.0.0.0/8" ]; };\n' >"$rt/$1.conf"
	[ -n "${2:-}" ] && printf 'domains_file = "%s";\n' "$2" >>"$rt/$1.conf"
	cat >>"$rt/$1.conf"
}

# answers CONF [-a IP]: outcome, reply and route per probe, no rule names
answers() {
	local conf=$1
	shift
	"$M" query -c "$conf" "$@" "${addrs[@]}" |
	    sed -e 's/ rule=[^ ]*//' -e 's/ reason="[^"]*"//'
}

# routes CONF: the route per probe (trusted client)
routes() {
	"$M" query -c "$1" -a 10.1.1.1 "${addrs[@]}" |
	    sed -e 's/^\([^:]*\):.*\( route=[^ ]*\).*/\1\2/' -e 't' \
	    -e 's/^\([^:]*\):.*/\1 no route/'
}

same() {
	diff -u "$1" "$2" >"$rt/diff" || { cat "$rt/diff"; fail "$3"; }
}

mkconf route <<'EOF'
domains = (
  { match = "example.com"; smarthost = "[192.0.2.25]"; },
  { match = "#example.org"; smarthost = "mail.example.org:2525"; },
  { match = ".example.net"; smarthost = "mx:example.net"; },
  { match = "sub.example.com"; smarthost = "[2001:db8::25]:2526"; },
  { match = "#exact.sub.example.com"; smarthost = "relay.example.com"; },
  { match = "plain.test"; },
  { match = "inner.plain.test"; relay = "trusted"; smarthost = "192.0.2.26"; }
);
EOF
mkconf relay <<'EOF'
domains = (
  { match = "example.com"; smarthost = "[192.0.2.25]"; },
  { match = "#example.org"; smarthost = "mail.example.org:2525"; },
  { match = ".example.net"; smarthost = "mx:example.net"; },
  { match = "sub.example.com"; smarthost = "[2001:db8::25]:2526"; },
  { match = "#exact.sub.example.com"; smarthost = "relay.example.com"; },
  { match = "plain.test"; }
);
EOF
mkconf access <<'EOF'
domains = (
  { match = "example.com"; },
  { match = "sub.example.com"; relay = "trusted"; },
  { match = "deep.sub.example.com"; },
  { match = "other.test"; }
);
EOF

# Route tables: the same route for every probe.
for fmt in postfix-transport sendmail-mailertable; do
	"$M" export -c "$rt/route.conf" $fmt >"$rt/$fmt" ||
	    fail "export $fmt"
	"$M" import $fmt "$rt/$fmt" >"$rt/$fmt.list" ||
	    fail "import $fmt"
	mkconf "re-$fmt" "$rt/$fmt.list" </dev/null
	routes "$rt/route.conf" >"$rt/a"
	routes "$rt/re-$fmt.conf" >"$rt/b"
	grep -q 'route=' "$rt/a" || fail "no routes in the probes"
	same "$rt/a" "$rt/b" "export $fmt | import $fmt changes routes"
	"$M" export -c "$rt/re-$fmt.conf" $fmt >"$rt/$fmt.2" ||
	    fail "export of the imported $fmt rules"
	same "$rt/$fmt" "$rt/$fmt.2" "export(import(export)) differs for $fmt"
	ok "export $fmt | import $fmt: same routes, same table again"
done

# relay_domains: the same relay decisions for untrusted clients.
"$M" export -c "$rt/relay.conf" postfix-relay-domains >"$rt/relay" \
    2>"$rt/notes" || fail "export postfix-relay-domains"
nflag=
grep -q parent_domain_matches_subdomains "$rt/notes" && nflag=-n
[ -n "$nflag" ] || fail "exact rules exported without the parent_domain_matches_subdomains advice"
"$M" import $nflag postfix-relay-domains "$rt/relay" >"$rt/relay.list" ||
    fail "import postfix-relay-domains"
mkconf re-relay "$rt/relay.list" </dev/null
answers "$rt/relay.conf" | sed 's/ route=[^ ]*//' >"$rt/a"
answers "$rt/re-relay.conf" >"$rt/b"
if ! grep -q ': accept' "$rt/a" || ! grep -q ': reject' "$rt/a"; then
	fail "the relay probes do not cover both accept and reject"
fi
same "$rt/a" "$rt/b" "export | import postfix-relay-domains changes decisions"
ok "export postfix-relay-domains | import -n: same relay decisions"

# relay_domains + transport together: every answer the same, trusted or not.
"$M" export -c "$rt/relay.conf" postfix-transport >"$rt/transport2" ||
    fail "export postfix-transport"
"$M" import $nflag postfix-relay-domains "$rt/relay" \
    postfix-transport "$rt/transport2" >"$rt/both.list" ||
    fail "import relay_domains + transport"
mkconf re-both "$rt/both.list" </dev/null
for client in "" "-a 10.1.1.1" "-a 192.0.2.99"; do
	# shellcheck disable=SC2086
	answers "$rt/relay.conf" $client >"$rt/a"
	# shellcheck disable=SC2086
	answers "$rt/re-both.conf" $client >"$rt/b"
	same "$rt/a" "$rt/b" "relay_domains + transport import: answers differ (${client:-no address})"
done
ok "import relay_domains + transport: every answer the same"

# Sendmail access map: the same relay decisions for untrusted clients.
"$M" export -c "$rt/access.conf" sendmail-access >"$rt/access" ||
    fail "export sendmail-access"
grep -q SKIP "$rt/access" || fail "no SKIP in the exported access map"
"$M" import sendmail-access "$rt/access" >"$rt/access.list" ||
    fail "import sendmail-access"
mkconf re-access "$rt/access.list" </dev/null
for client in "" "-a 10.1.1.1"; do
	# shellcheck disable=SC2086
	answers "$rt/access.conf" $client >"$rt/a"
	# shellcheck disable=SC2086
	answers "$rt/re-access.conf" $client >"$rt/b"
	same "$rt/a" "$rt/b" "export | import sendmail-access: answers differ"
done
ok "export sendmail-access | import sendmail-access: same answers"

# Refusals name FILE:LINE, print nothing, exit EX_DATAERR (65).
printf 'example.com smtp:[192.0.2.1]\nuser@example.net smtp:[192.0.2.2]\n' \
    >"$rt/bad"
set +e
"$M" import postfix-transport "$rt/bad" >"$rt/bad.out" 2>"$rt/bad.err"
rc=$?
set -e
[ $rc -eq 65 ] || fail "import of a per-address route: exit $rc, want 65"
[ -s "$rt/bad.out" ] && fail "a refused import printed rules"
grep -q "$rt/bad:2: " "$rt/bad.err" || { cat "$rt/bad.err"; fail "refusal without FILE:LINE"; }
ok "import refuses what it cannot express: $(cat "$rt/bad.err")"

# import -o: the output appears whole, through a renamed temporary file;
# a refused import leaves the file as it was and no temporary behind.
"$M" import -o "$rt/out.list" postfix-transport "$rt/postfix-transport" \
    >"$rt/o.out" || fail "import -o"
[ -s "$rt/o.out" ] && fail "import -o also printed the rules"
cmp -s "$rt/out.list" "$rt/postfix-transport.list" ||
    fail "import -o wrote other rules than import to standard output"
cp "$rt/out.list" "$rt/out.before"
set +e
"$M" import -o "$rt/out.list" postfix-transport "$rt/bad" 2>/dev/null
rc=$?
set -e
[ $rc -eq 65 ] || fail "refused import -o: exit $rc, want 65"
cmp -s "$rt/out.list" "$rt/out.before" ||
    fail "a refused import -o changed the output file"
ls "$rt" | grep -q '^out\.list\.' && fail "import -o left a temporary file"
ok "import -o writes the file whole (no temporary file left)"
# the rename is what makes it safe: strace shows it.  LeakSanitizer does
# not run under ptrace (it would fail the sanitizer build): leak checks
# are off for this one run, the other runs of import check them.
if mr_have "import -o's rename into place NOT checked" strace; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -e trace=rename,renameat,renameat2 -o "$rt/trace" "$M" \
	    import -o "$rt/out.list" postfix-transport "$rt/postfix-transport" ||
	    { cat "$rt/trace"; fail "import -o under strace"; }
	grep -q "out\.list\.[A-Za-z0-9]*\", .*out\.list\"" "$rt/trace" ||
	    { cat "$rt/trace"; fail "import -o did not rename into place"; }
	ok "import -o writes a temporary file and renames it into place"
fi
echo "install: all checks passed"
