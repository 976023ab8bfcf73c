# lib.sh - a private Sendmail for the end-to-end tests (source it after
# test/e2e/lib.sh and e2e_init)
#
#   sm_prepare WHAT   Sendmail's unpacked packages (test/sendmail/setup.sh
#                     fetches them when they are not in the cache; the
#                     test is a skip naming WHAT when they cannot be had),
#                     SM_BIN, SM_CF, SM_VERSION, SM_UNSHARE, SM_DIR, a
#                     cleanup trap that stops Sendmail
#   sm_start PORT SINK_PORT PORT2
#                     test/sendmail/test.mc with contrib/sendmail's lines
#                     (the milter socket $MR_SOCKET and the socket map
#                     port $MR_SMPORT in place of the shipped ones):
#                     listens on 127.0.0.1:PORT, plain esmtp delivers to
#                     SINK_PORT, mailer esmtpPORT2 to PORT2; SM is the
#                     command, SM_PID its process group
#   sm_cleanup        stop it

# sm_prepare WHAT
sm_prepare() {
	local what=$1 why
	CACHE=${MR_SENDMAIL_CACHE:-/var/cache/milter-relay-test/sendmail}
	if [ ! -f "$CACHE/root/.complete" ]; then
		[ "${MR_REQUIRE_ALL:-0}" != 1 ] ||
		    e2e_fail "Sendmail's packages are not in $CACHE" \
			"(contrib/install-deps.sh puts them there;" \
			"MR_REQUIRE_ALL=1: no download at test time)"
		echo "NOTE: Sendmail's packages not in $CACHE: fetching them now"
	fi
	if ! why=$(bash test/sendmail/setup.sh "$CACHE"); then
		e2e_skip "$what NOT RUN: $why"
	fi
	command -v m4 >/dev/null 2>&1 ||
	    e2e_skip "$what NOT RUN: m4 not installed" \
		"(contrib/install-deps.sh installs it)"
	SM_ROOT=$CACHE/root
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	SM_CF=$SM_ROOT/usr/share/sendmail/cf
	SM_VERSION=$(dpkg-deb -f "$CACHE"/debs/sendmail-bin_*.deb Version)

	# Sendmail qualifies the host name before it reads its configuration
	# and sleeps 60 s when it cannot ("My unqualified host name
	# unknown"): on a host with a short name, run it in a UTS namespace
	# of its own whose name is qualified.  No other namespace: network
	# and files are the host's.
	SM_UNSHARE=()
	case $(hostname) in
	*.*)	;;
	*)	unshare --uts true 2>/dev/null ||
		    e2e_skip "$what NOT RUN: host name" \
			"\"$(hostname)\" is unqualified (Sendmail would sleep" \
			"60 s each start) and unshare --uts is not permitted here"
		SM_UNSHARE=(unshare --uts sh -c \
		    'hostname mr-sendmail-test.invalid && exec "$0" "$@"')
		;;
	esac
	SM_PID=
	SM_DIR=$E2E_DIR/sm
	trap 'sm_cleanup; e2e_cleanup' EXIT
}

sm_cleanup() {
	local i
	[ -n "$SM_PID" ] || return 0
	# -bD runs in the foreground in a process group of its own (setsid):
	# stop it and whatever it forked (sessions, deliveries) by that id.
	kill -TERM -- "-$SM_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 -- "-$SM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
}

# sm_start PORT SINK_PORT PORT2
sm_start() {
	local port=$1 sink=$2 port2=$3
	mkdir -p "$SM_DIR/mqueue"
	chmod 700 "$SM_DIR/mqueue"
	printf '127.0.0.1\tlocalhost\n' >"$SM_DIR/hosts"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$SM_DIR/service.switch"
	printf 'postmaster:\troot\nownuser:\townuser@solo.example\n' \
	    >"$SM_DIR/aliases"
	# the shipped lines, with the test's milter socket and socket map port
	sed -e "s|unix:/run/milter-relay/milter.sock|unix:$MR_SOCKET|" \
	    -e "s|inet:10026@127.0.0.1|inet:$MR_SMPORT@127.0.0.1|g" \
	    contrib/sendmail/milter-relay.mc >"$SM_DIR/milter-relay.mc"
	grep -q "S=unix:$MR_SOCKET," "$SM_DIR/milter-relay.mc" &&
	    grep -q "^FEATURE(\`mailertable', \`socket inet:$MR_SMPORT@" \
	    "$SM_DIR/milter-relay.mc" &&
	    ! grep -Eq 'inet:10026@|/run/milter-relay/' \
	    "$SM_DIR/milter-relay.mc" ||
	    e2e_fail "contrib/sendmail/milter-relay.mc: socket lines not found"
	m4 -D_CF_DIR_="$SM_CF/" -DMR_DIR="$SM_DIR" -DMR_PORT="$port" \
	    -DMR_SINK_PORT="$sink" -DMR_PORT2="$port2" \
	    -DMR_CONTRIB="$SM_DIR/milter-relay.mc" \
	    "$SM_CF/m4/cf.m4" test/sendmail/test.mc >"$SM_DIR/test.cf" \
	    2>"$E2E_DIR/m4.log" || e2e_fail "m4 failed"
	[ -s "$E2E_DIR/m4.log" ] && e2e_fail "m4 warned: $(cat "$E2E_DIR/m4.log")"
	grep -q "^Mesmtp$port2," "$SM_DIR/test.cf" ||
	    e2e_fail "test.cf lacks the esmtp$port2 mailer"

	SM=("${SM_UNSHARE[@]}" "$SM_BIN" -C "$SM_DIR/test.cf")
	"${SM[@]}" -bi >"$E2E_DIR/newaliases.log" 2>&1 ||
	    e2e_fail "sendmail -bi failed"
	setsid "${SM[@]}" -bD -X "$SM_DIR/traffic.txt" \
	    >"$E2E_DIR/sendmail.log" 2>&1 &
	SM_PID=$!
	e2e_wait_port 127.0.0.1 "$port" 60 || e2e_fail "sendmail did not start"
	kill -0 "$SM_PID" || e2e_fail "sendmail exited"
	e2e_ok "sendmail $SM_VERSION listening on 127.0.0.1:$port"
}
