#!/bin/bash
# check.sh - the Debian package: build, lintian, install, -t, purge
# (make check, root)
#
#  1. "make deb DEB_OUT=tmpdir" builds the package (debian/, debhelper
#     compat 13) from a clean copy of the tree;
#  2. lintian finds no error (--fail-on error; warnings are printed);
#  3. the package ships the daemon, milter-test, the three manual pages,
#     the systemd unit in /lib/systemd/system (its paths /usr/sbin) and
#     the contrib files, and /etc/milter-relay.conf is a conffile;
#  4. dpkg -i on this machine creates the user milter-relay (group
#     postfix), /var/lib/milter-relay, its maps/ and
#     /var/spool/postfix/milter-relay (owner milter-relay, group postfix,
#     0750); "milter-relay -t" passes on the installed example;
#  5. dpkg --purge removes the files, the conffile, the user and the
#     directories.
# It refuses (SKIP) to run when a milter-relay user, package or
# /etc/milter-relay.conf is already there, holds a lock so that two runs
# never overlap, and on any failure purges the package and removes what a
# broken purge left (the user, the directories): nothing stays installed.
set -u
cd "$(dirname "$0")/../.."
source test/lib/skip.sh
skip() { e2e_skip "$@"; }
[ "$(id -u)" = 0 ] || skip "the Debian package: needs root (dpkg -i)"
mr_need "the Debian package" dpkg-buildpackage dh fakeroot
getent group postfix >/dev/null || skip "the Debian package: no postfix group"

T=$(mktemp -d /tmp/mr-deb-check.XXXXXX)
INSTALLED=0
CLEAN=0		# nothing of the package was there before: remove all of it
cleanup() {
	[ "$INSTALLED" = 1 ] && dpkg --purge milter-relay >/dev/null 2>&1
	if [ "$CLEAN" = 1 ]; then	# what a broken purge may leave
		getent passwd milter-relay >/dev/null && userdel milter-relay
		rm -rf /var/lib/milter-relay /var/spool/postfix/milter-relay \
		    /etc/milter-relay.conf
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: deb: $*"; exit 1; }
ok() { echo "ok - deb: $* [${SECONDS}s]"; }

# 1. build
start=$SECONDS
make -s deb DEB_OUT="$T" >"$T/make.log" 2>&1 ||
    { cat "$T/make.log"; fail "make deb"; }
DEB=$(ls "$T"/milter-relay_*_*.deb 2>/dev/null | head -n 1)
[ -f "$DEB" ] || fail "no .deb in $T: $(ls "$T")"
ok "make deb built $(basename "$DEB") in $((SECONDS - start)) s"

# 2. lintian
if mr_have "lintian of the package" lintian; then
	lintian --fail-on error "$DEB" >"$T/lintian.log" 2>&1 ||
	    { cat "$T/lintian.log"; fail "lintian reports errors"; }
	grep '^[EW]:' "$T/lintian.log" | sed 's/^/    /'
	ok "lintian: no error"
fi

# 3. contents
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/files"
for f in /usr/sbin/milter-relay /usr/bin/milter-test \
    /usr/share/man/man8/milter-relay.8.gz \
    /usr/share/man/man5/milter-relay.conf.5.gz \
    /usr/share/man/man1/milter-test.1.gz \
    /lib/systemd/system/milter-relay.service \
    /usr/share/milter-relay/postfix/main.cf \
    /usr/share/milter-relay/postfix/main-static.cf \
    /usr/share/milter-relay/sendmail/milter-relay.mc \
    /usr/share/milter-relay/postgresql/schema.sql \
    /usr/share/milter-relay/postgresql/changelog.sql \
    /etc/milter-relay.conf; do
	grep -qxF "$f" "$T/files" || fail "$f not in the package"
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles |
    grep -qx /etc/milter-relay.conf || fail "/etc/milter-relay.conf not a conffile"
dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./lib/systemd/system/milter-relay.service |
    grep -q '^ExecStart=/usr/sbin/milter-relay ' ||
    fail "the unit does not start /usr/sbin/milter-relay"
ok "files, unit paths, conffile"

# 4. install, on this machine, once at a time
exec 9>/tmp/mr-deb-check.lock
flock 9
dpkg -s milter-relay >/dev/null 2>&1 && skip "install and purge not tested: package milter-relay already installed"
getent passwd milter-relay >/dev/null && skip "install and purge not tested: a milter-relay user exists"
[ -e /etc/milter-relay.conf ] && skip "install and purge not tested: /etc/milter-relay.conf exists"
for d in /var/lib/milter-relay /var/spool/postfix/milter-relay; do
	[ -e "$d" ] && skip "install and purge not tested: $d exists"
done
start=$SECONDS
CLEAN=1
INSTALLED=1
dpkg -i "$DEB" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "dpkg -i"; }
[ "$(id -gn milter-relay 2>/dev/null)" = postfix ] ||
    fail "no user milter-relay in group postfix"
for d in /var/lib/milter-relay /var/lib/milter-relay/maps \
    /var/spool/postfix/milter-relay; do
	[ "$(stat -c '%U:%G %a' "$d" 2>/dev/null)" = "milter-relay:postfix 750" ] ||
	    fail "$d: $(stat -c '%U:%G %a' "$d" 2>&1)"
done
out=$(/usr/sbin/milter-relay -t 2>"$T/t.err") ||
    { cat "$T/t.err"; fail "milter-relay -t on the installed example: $out"; }
[ "$out" = "/etc/milter-relay.conf: OK, 7 rules" ] ||
    fail "milter-relay -t: $out"
ok "dpkg -i: user, directories; milter-relay -t: $out"

# 5. purge
echo "# edited" >>/etc/milter-relay.conf
dpkg --purge milter-relay >"$T/purge.log" 2>&1 ||
    { cat "$T/purge.log"; fail "dpkg --purge"; }
INSTALLED=0
dpkg -s milter-relay >/dev/null 2>&1 && fail "still installed after purge"
getent passwd milter-relay >/dev/null && fail "user milter-relay left"
for f in /etc/milter-relay.conf /var/lib/milter-relay \
    /var/spool/postfix/milter-relay /usr/sbin/milter-relay \
    /lib/systemd/system/milter-relay.service; do
	[ -e "$f" ] && fail "$f left after purge"
done
ok "dpkg --purge: files, edited conffile, user and directories gone" \
    "(install and purge: $((SECONDS - start)) s)"
