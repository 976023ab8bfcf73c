#!/bin/bash
# setup.sh - fetch Debian's Sendmail and unpack it for the tests
#
#	bash setup.sh CACHEDIR
#
# Debian's sendmail-bin conflicts with postfix, so it is never installed:
# "apt-get download" fetches sendmail-bin, sendmail-cf and sendmail-base
# into CACHEDIR/debs and "dpkg -x" unpacks them into CACHEDIR/root (the
# binary is CACHEDIR/root/usr/libexec/sendmail/sendmail, the cf tree
# CACHEDIR/root/usr/share/sendmail/cf).  A complete unpack is kept and
# reused (CACHEDIR/root/.complete).  Its shared libraries (libwrap0 ...)
# come from contrib/install-deps.sh.
#
# Exit 0 when the tree is ready; 1 with the reason on stdout when it
# cannot be had (no apt lists, no network, missing libraries): the caller
# reports a SKIP with that reason.
set -u

cache=${1:?usage: setup.sh CACHEDIR}
root=$cache/root
sendmail=$root/usr/libexec/sendmail/sendmail
pkgs="sendmail-bin sendmail-cf sendmail-base"

unpack() {
	local tmp deb
	mkdir -p "$cache/debs" || return 1
	for p in $pkgs; do
		if ! apt-cache policy "$p" 2>/dev/null |
		    grep -q 'Candidate: [0-9]'; then
			echo "package $p not in the apt lists (apt-get update?)"
			return 1
		fi
	done
	rm -f "$cache"/debs/*.deb
	# apt-get download works in the current directory; as root it
	# warns that _apt cannot write there, which is harmless.
	if ! (cd "$cache/debs" && timeout 300 apt-get download -q $pkgs) \
	    >"$cache/download.log" 2>&1; then
		echo "apt-get download $pkgs failed:" \
		    "$(grep -v '^W:' "$cache/download.log" | tail -n 1)"
		return 1
	fi
	tmp=$(mktemp -d "$cache/root.XXXXXX") || return 1
	for deb in "$cache"/debs/*.deb; do
		if ! dpkg -x "$deb" "$tmp"; then
			echo "dpkg -x $deb failed"
			rm -rf "$tmp"
			return 1
		fi
	done
	rm -rf "$root"
	mv "$tmp" "$root" && touch "$root/.complete"
}

if [ ! -f "$root/.complete" ] || [ ! -x "$sendmail" ]; then
	command -v apt-get >/dev/null 2>&1 || {
		echo "no apt-get: cannot fetch Debian's sendmail packages"
		exit 1
	}
	unpack || exit 1
fi
if [ ! -x "$sendmail" ] || [ ! -f "$root/usr/share/sendmail/cf/m4/cf.m4" ]
then
	echo "unpacked packages lack the sendmail binary or the cf tree"
	exit 1
fi
missing=$(ldd "$sendmail" 2>/dev/null | awk '/not found/ { print $1 }' |
    tr '\n' ' ')
if [ -n "$missing" ]; then
	echo "sendmail needs libraries not installed: $missing" \
	    "(contrib/install-deps.sh installs them)"
	exit 1
fi
exit 0
