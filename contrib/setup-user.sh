#!/bin/sh
# setup-user.sh - create the milter-relay user and its socket directory
#
#	setup-user.sh [-n]
#
# Run once as root before the first start (idempotent: running it again
# changes nothing that is already right).  It
#   1. checks that the group exists (postfix, or $MILTER_RELAY_GROUP),
#   2. creates the system user milter-relay ($MILTER_RELAY_USER) with that
#      group as its primary group, no home directory and no login shell,
#      or, when the user exists, adds it to the group,
#   3. creates /var/spool/postfix/milter-relay ($MILTER_RELAY_SOCKDIR),
#      owner milter-relay, group postfix, mode 0750: the daemon creates
#      its socket there, and Postfix's smtpd (chrooted in
#      /var/spool/postfix, running as postfix) reaches it as
#      "unix:milter-relay/milter.sock".
# -n prints the commands instead of running them.
#
# Sendmail: MILTER_RELAY_GROUP=smmsp MILTER_RELAY_SOCKDIR=/run/milter-relay
# (or wherever your sendmail.mc points INPUT_MAIL_FILTER).
set -eu

user=${MILTER_RELAY_USER:-milter-relay}
group=${MILTER_RELAY_GROUP:-postfix}
sockdir=${MILTER_RELAY_SOCKDIR:-/var/spool/postfix/milter-relay}
dry=

usage() {
	echo "usage: $0 [-n]" >&2
	exit 64
}

while getopts n opt; do
	case $opt in
	n) dry=yes ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

run() {
	if [ -n "$dry" ]; then
		echo "$*"
	else
		"$@"
	fi
}

if [ -z "$dry" ] && [ "$(id -u)" -ne 0 ]; then
	echo "$0: must run as root" >&2
	exit 77
fi

if ! getent group "$group" >/dev/null; then
	echo "$0: group $group does not exist: install Postfix first," \
	    "or set MILTER_RELAY_GROUP" >&2
	exit 67
fi

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false

if ! getent passwd "$user" >/dev/null; then
	run useradd --system --gid "$group" --no-create-home \
	    --home-dir /nonexistent --shell "$nologin" \
	    --comment "milter-relay daemon" "$user"
elif ! id -nG "$user" | tr ' ' '\n' | grep -qx "$group"; then
	run usermod -a -G "$group" "$user"
fi

run install -d -o "$user" -g "$group" -m 0750 "$sockdir"

if [ -z "$dry" ]; then
	echo "user $user (group $group) and $sockdir are ready:"
	ls -ld "$sockdir"
fi
