#!/bin/sh
# install-deps.sh - install what milter-relay needs to build and test on
# Debian 12 (bookworm) or later.  Run as root (or through sudo).
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential pkg-config \
	libmilter-dev libconfig-dev libidn2-dev libmicrohttpd-dev libpq-dev \
	check postfix miltertest mandoc valgrind clang \
	procps iproute2 util-linux ca-certificates \
	prometheus curl jq
# recipients = "verify": the callout cache (LMDB, linked with -llmdb)
apt-get install -y --no-install-recommends liblmdb-dev
# domains_file reloads by diff: line hashes (lib/filediff.c, -lxxhash)
apt-get install -y --no-install-recommends libxxhash-dev
# static mode (maps_dir): Postfix reads the tables with lmdb: (test/fastpath)
apt-get install -y --no-install-recommends postfix-lmdb
# test/pgsql and bench part 9: a private cluster made with initdb
apt-get install -y --no-install-recommends postgresql
# test/delivery: certificates for the STARTTLS smart host
apt-get install -y --no-install-recommends openssl
# test/sendmail: m4 and the libraries of Debian's sendmail-bin, which the
# test unpacks but never installs (it conflicts with postfix); its packages
# are fetched and unpacked here, into the cache the test reads, so that
# nothing is fetched at test time.
apt-get install -y --no-install-recommends m4 $(apt-cache depends sendmail-bin | awk '$1 ~ /Depends:$/ && $2 ~ /^lib/ { print $2 }')
# smart hosts that need a password (auth_file): Postfix's smtp client needs
# the Cyrus PLAIN and LOGIN mechanisms; test/auth runs a Postfix smart host
# with a sasldb made by saslpasswd2
apt-get install -y --no-install-recommends libsasl2-modules sasl2-bin
# make deb and test/deb: the Debian package (dpkg-buildpackage, debhelper
# compat 13, lintian --fail-on error)
apt-get install -y --no-install-recommends debhelper dpkg-dev fakeroot lintian
bash "$(dirname "$0")/../test/sendmail/setup.sh" \
    /var/cache/milter-relay-test/sendmail
# what the suites run besides (MR_REQUIRE_ALL=1 fails on any missing):
# strace (test/install: import -o's rename), systemd-analyze, man and
# groff (test/install), miltertest (test/harness, test/scenarios), the
# ss/setpriv/runuser of iproute2 and util-linux, perl (the relay corpus),
# devscripts (debuild)
apt-get install -y --no-install-recommends strace systemd man-db groff \
	perl iproute2 util-linux devscripts
