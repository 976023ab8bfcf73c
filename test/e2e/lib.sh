# lib.sh - shell functions for end-to-end tests with a real Postfix
#
# Source it from a bash test script (set -u friendly).  It gives a private
# Postfix instance on loopback, smtp-sink smart hosts that count what they
# receive, free ports, the e2e_client helper, and a cleanup trap that
# stops every process by pid and removes every file, even when the test
# fails.  Nothing of the system Postfix is touched: as root, "postfix -c
# DIR" and "postqueue -c DIR" need no alternate_config_directories entry
# in the system main.cf (checked with Postfix 3.7), so none is added.
#
# Skips (test/lib/skip.sh, sourced here; a check area that needs no
# Postfix sources that file alone).  A part of a test that cannot run is
# never silent and never hidden behind an "ok":
#
#   mr_skip WHAT         "SKIP: AREA: WHAT" on stdout and one line in
#                        $MR_SKIP_LOG, which "make check" lists at the
#                        end; under MR_REQUIRE_ALL=1 (set by .ci/run)
#                        "FAIL: AREA: WHAT (MR_REQUIRE_ALL=1)" and exit 1
#                        instead.  WHAT names what is missing and what is
#                        therefore not checked.  AREA is $MR_AREA, by
#                        default the test/AREA/ directory of the script
#   e2e_skip WHAT        mr_skip, then exit 0: the whole area is not run
#   mr_have WHAT CMD...  0 when every CMD is installed; otherwise
#                        mr_skip "WHAT: CMD not installed" and 1, as in
#                        "if mr_have 'atomic rename' strace; then ..."
#   mr_need WHAT CMD...  e2e_skip "WHAT: CMD not installed" when a CMD
#                        is missing (the whole area needs them)
#
#   e2e_init NAME        temp dir E2E_DIR, cleanup trap, builds
#                        $E2E_CLIENT; needs root, postfix, smtp-sink
#   e2e_fail MSG         print "FAIL: AREA: MSG", the step it failed in
#                        (after the last e2e_ok), the last lines of every
#                        log under E2E_DIR (each daemon's, the Postfix
#                        maillogs), exit 1 (cleanup runs)
#   e2e_ok MSG           print "ok - MSG [elapsed seconds]"
#   e2e_log_count FILE ERE      lines of FILE matching ERE (0: none, no file)
#   e2e_wait_log FILE ERE N SECONDS WHAT  wait for an event: until FILE
#                        has N lines matching ERE; after SECONDS (a bound
#                        the caller derives from the configuration under
#                        test), e2e_fail saying what it waited for
#   e2e_build_client FILE  build e2e_client as FILE (for a test without
#                        e2e_init: set E2E_CLIENT=FILE to use e2e_free_port)
#   e2e_free_port [HOST] a free TCP port on HOST (default 127.0.0.1)
#   e2e_have_ipv6        0 when ::1 can be bound (E2E_NO_IPV6=1: never)
#   e2e_wait_port HOST PORT [SECONDS]   poll until something listens
#   e2e_track_pid PID    stop PID at cleanup (SIGTERM, then SIGKILL)
#
#   sink_start NAME HOST PORT [OPTION...]  smtp-sink dumping each message
#                               to a file under $E2E_DIR/sink-NAME/; waits
#                               for it; options go to smtp-sink (-L: LMTP)
#   sink_stop NAME              stop that sink (its files stay)
#   sink_count NAME             messages received so far
#   sink_rcpts NAME             recipients received (one per line)
#   sink_has NAME RCPT          0 when NAME received mail for RCPT
#   e2e_send PORT RCPT          one message from 127.0.0.1 to the smtpd on
#                               PORT, subject "msgN"; fails the test unless
#                               RCPT and DATA got 250 (queued)
#   sink_wait NAME N [SECONDS]  poll until NAME has received N messages
#                               (their recipients written)
#
#   pf_create PORT [main.cf lines...]  private instance in $E2E_DIR/pf:
#                               smtpd on 127.0.0.1:PORT, own queue and
#                               data dirs, chroot=n, maillog_file; extra
#                               arguments are appended to main.cf
#   pf_set 'name = value'...    postconf -e in the instance
#   pf_start / pf_stop / pf_reload
#   pf_flush                    postqueue -f
#   pf_queue_count              messages still queued (postqueue -j)
#   pf_queue_holds N            true when a listing shows exactly N queued
#                               (up to 50 listings 0.2 s apart: showq reads
#                               one queue directory after another and
#                               misses a message qmgr moves meanwhile);
#                               PF_QUEUE_SEEN has the last count
#   pf_wait_queue_empty [SECS]  poll until the queue is empty
#   pf_log                      the instance's maillog
#   pf_check                    "postfix check" errors (via script -qc)
#   pf_aside NAME               move the instance just made to
#                               $E2E_DIR/NAME and start it there, as a
#                               second Postfix (a smart host); pf_create
#                               may then make another; PF_DIR is emptied
#   pki_make DIR NAME CN        a test CA (DIR/ca.pem) and a certificate
#                               for CN signed by it (DIR/NAME.pem, .key)
#
#   mr_config FILE [lines...]   write a milter-relay config: socket
#                               $MR_SOCKET (default $E2E_DIR/mr/milter.sock,
#                               its directory made and given to nobody),
#                               socketmap on 127.0.0.1:$MR_SMPORT (default:
#                               a free port); extra lines appended
#   mr_start FILE               run milter-relay -f -c FILE -u nobody
#                               -g postfix; waits for both sockets;
#                               MR_PID is the supervisor's pid
#   mr_stop / mr_reload         SIGTERM (and wait; exit status in
#                               MR_STATUS) / SIGHUP
#   sm_query                    stdin "MAP KEY" lines -> answers, one
#                               persistent socketmap connection
#   sm_wait_answer QUERY ANSWER  poll (30 s) until QUERY gets ANSWER, as
#                               after a reload; the last answer in SM_ANSWER
#   MR_SOCKET (milter socket path), MR_SMPORT (socketmap port), MR_BIN
#
# Variables after e2e_init: E2E_DIR, E2E_CLIENT, E2E_BUILD (the built tree,
# $MR_BUILD or "."), E2E_SRC (the source tree), PF_DIR (after pf_create).
# E2E_KEEP=1 in the environment keeps E2E_DIR (logs, sinks) for a look.
#
# e2e_client (test/e2e/e2e_client.c, built by e2e_init) is the network
# client: "smtp [-b BIND] -p PORT RCPT..." (one session, one line per
# reply), "socketmap -p PORT", "raw -p PORT", "port [-H HOST]".

E2E_PIDS=()
E2E_DIR=
PF_DIR=
PF_STARTED=0

source "$(dirname "${BASH_SOURCE[0]}")/../lib/skip.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/port.sh"

E2E_LAST_OK=

e2e_ok() {
	echo "ok - $* [${SECONDS}s]"
	E2E_LAST_OK=$*
}

e2e_fail() {
	local f
	echo "FAIL: $MR_AREA: $* [${SECONDS}s]"
	echo "--- the step after: ${E2E_LAST_OK:-(the start)}"
	[ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ] || exit 1
	while read -r f; do
		echo "--- last lines of ${f#"$E2E_DIR"/}"
		case $f in
		*maillog) tail -n 40 "$f" ;;
		*) tail -n 20 "$f" ;;
		esac
	done < <(find "$E2E_DIR" -maxdepth 3 -type f \
	    \( -name '*.log' -o -name maillog \) -size +0 | sort)
	echo "--- FAIL: $MR_AREA: $*"
	exit 1
}

e2e_log_count() {
	local c
	c=$(grep -cE -- "$2" "$1" 2>/dev/null)
	echo "${c:-0}"
}

e2e_wait_log() {
	local file=$1 ere=$2 n=$3 secs=$4 i
	shift 4
	for i in $(seq 1 $((secs * 10))); do
		[ "$(e2e_log_count "$file" "$ere")" -ge "$n" ] && return 0
		sleep 0.1
	done
	e2e_fail "$*: waited $secs s for line $n matching /$ere/ in" \
	    "${file#"$E2E_DIR"/}, saw $(e2e_log_count "$file" "$ere")"
}

e2e_track_pid() {
	E2E_PIDS+=("$1")
}

e2e_cleanup() {
	local pid i
	[ "$PF_STARTED" = 1 ] && pf_stop
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${E2E_PIDS[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	E2E_PIDS=()
	if [ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ]; then
		[ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_DIR"
	fi
}

e2e_init() {
	local name=$1
	[ "$(id -u)" = 0 ] || e2e_skip "$name: needs root (Postfix)"
	mr_need "$name" postfix postconf postmap postqueue smtp-sink script cc
	getent passwd postfix >/dev/null || e2e_skip "$name: no postfix user"
	E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	E2E_BUILD=${MR_BUILD:-.}
	case $E2E_BUILD in /*) ;; *) E2E_BUILD=$E2E_SRC/$E2E_BUILD ;; esac
	E2E_DIR=$(mktemp -d "/tmp/mr-e2e-$name.XXXXXX")
	chmod 755 "$E2E_DIR"
	trap e2e_cleanup EXIT
	trap 'exit 1' INT TERM
	E2E_CLIENT=$E2E_DIR/e2e_client
	e2e_build_client "$E2E_CLIENT" || e2e_fail "cannot build e2e_client"
}

e2e_build_client() {
	local src
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/e2e_client.c
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$1" "$src"
}

# e2e_free_port [HOST]: test/lib/port.sh's mr_free_port
e2e_free_port() { mr_free_port "$@"; }

e2e_have_ipv6() {
	[ -z "${E2E_NO_IPV6:-}" ] && mr_free_port ::1 >/dev/null 2>&1
}

# Something accepts connections on HOST PORT (bash /dev/tcp, no data).
e2e_port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

e2e_wait_port() {
	local host=$1 port=$2 secs=${3:-30} i
	for i in $(seq 1 $((secs * 10))); do
		e2e_port_open "$host" "$port" && return 0
		sleep 0.1
	done
	return 1
}

# --- smtp-sink smart hosts ------------------------------------------------

sink_start() {
	local name=$1 host=$2 port=$3 dir=$E2E_DIR/sink-$1 addr pid
	shift 3
	mkdir -p "$dir"
	chown postfix "$dir"
	case $host in *:*) addr="[$host]:$port" ;; *) addr="$host:$port" ;; esac
	smtp-sink "$@" -u postfix -d "$dir/%M%S." -h "sink-$name" "$addr" 64 \
	    >"$E2E_DIR/sink-$name.log" 2>&1 &
	pid=$!
	e2e_track_pid "$pid"
	echo "$pid $host $port" >"$E2E_DIR/sink-$name.pid"
	e2e_wait_port "$host" "$port" 30 ||
	    e2e_fail "smtp-sink $name on $addr did not start"
}

sink_stop() {
	local pid host port i
	read -r pid host port <"$E2E_DIR/sink-$1.pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		e2e_port_open "$host" "$port" || return 0
		sleep 0.1
	done
}

# a message counts once its recipients are written (smtp-sink makes the
# file first: counting bare files races with sink_rcpts)
sink_count() {
	find "$E2E_DIR/sink-$1" -type f -exec grep -l '^X-Rcpt-Args:' {} + \
	    2>/dev/null | wc -l
}

sink_rcpts() {
	find "$E2E_DIR/sink-$1" -type f -exec grep -h '^X-Rcpt-Args:' {} + \
	    2>/dev/null | sed 's/^X-Rcpt-Args: *//; s/^TO://i; s/[<>]//g; s/ .*//'
}

# Messages whose recipients are written: smtp-sink creates the file before
# it has written (flushed) them, so sink_wait waits for these.
sink_written() {
	find "$E2E_DIR/sink-$1" -type f -exec grep -l '^X-Rcpt-Args:' {} + \
	    2>/dev/null | wc -l
}

sink_wait() {
	local name=$1 n=$2 secs=${3:-60} i
	for i in $(seq 1 $((secs * 5))); do
		[ "$(sink_written "$name")" -ge "$n" ] && return 0
		sleep 0.2
	done
	return 1
}

# --- the private Postfix instance -------------------------------------------

pf_create() {
	local port=$1 d
	shift
	PF_DIR=$E2E_DIR/pf
	mkdir -p "$PF_DIR" "$PF_DIR/queue" "$PF_DIR/data"
	chown postfix "$PF_DIR/data"
	touch "$PF_DIR/maillog"
	d=$(postconf -dh daemon_directory)
	cat >"$PF_DIR/main.cf" <<EOF
# private instance of the milter-relay end-to-end test
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
daemon_directory = $d
meta_directory = $(postconf -dh meta_directory)
shlib_directory = $(postconf -dh shlib_directory)
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-mr-e2e
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = mr-e2e.localdomain
mydomain = localdomain
myorigin = \$myhostname
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = loopback-only
inet_protocols = $(e2e_have_ipv6 && echo all || echo ipv4)
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtp_host_lookup = native
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_connect_timeout = 5s
in_flow_delay = 0
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
biff = no
append_dot_mydomain = no
EOF
	# a setting given as an argument replaces the default above rather
	# than follow it: every Postfix process warns about a repeated
	# setting at start, and postlogd, warning too into its own full
	# socket under load, can stop logging (and with it the instance)
	for line in "$@"; do
		printf '%s\n' "$line"
	done >"$PF_DIR/main.extra"
	sed -n 's/^\([a-z0-9_]*\) *=.*/\1/p' "$PF_DIR/main.extra" |
	    sort -u >"$PF_DIR/main.names"
	awk 'NR == FNR { given[$1] = 1; next }
	    { n = $1; sub(/=.*/, "", n) } !(n in given)' \
	    "$PF_DIR/main.names" "$PF_DIR/main.cf" >"$PF_DIR/main.base"
	cat "$PF_DIR/main.base" "$PF_DIR/main.extra" >"$PF_DIR/main.cf"
	rm -f "$PF_DIR/main.extra" "$PF_DIR/main.names" "$PF_DIR/main.base"
	cat >"$PF_DIR/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$port inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
slow      unix  -       -       n       -       -       smtp
  -o syslog_name=postfix-mr-e2e/slow
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

pf_set() {
	local kv
	for kv in "$@"; do
		postconf -c "$PF_DIR" -e "$kv"
	done
}

pf_check() {
	script -qc "postfix -c '$PF_DIR' check" /dev/null | tr -d '\r'
}

pf_start() {
	local out
	out=$(script -qc "postfix -c '$PF_DIR' start" /dev/null 2>&1 |
	    tr -d '\r')
	PF_STARTED=1
	postfix -c "$PF_DIR" status >/dev/null 2>&1 ||
	    e2e_fail "postfix did not start: $out"
}

# stop, and wait until the master is gone (abort after 20 s)
pf_stop() {
	local i
	postfix -c "$PF_DIR" stop >/dev/null 2>&1 || true
	for i in $(seq 1 200); do
		postfix -c "$PF_DIR" status >/dev/null 2>&1 || break
		sleep 0.1
	done
	postfix -c "$PF_DIR" status >/dev/null 2>&1 &&
	    postfix -c "$PF_DIR" abort >/dev/null 2>&1
	PF_STARTED=0
}

pf_reload() {
	postfix -c "$PF_DIR" reload >/dev/null 2>&1
}

pf_flush() {
	postqueue -c "$PF_DIR" -f >/dev/null 2>&1
}

pf_queue_count() {
	postqueue -c "$PF_DIR" -j 2>/dev/null | grep -c queue_id || true
}

pf_queue_holds() {
	local want=$1 i
	for i in $(seq 1 50); do
		PF_QUEUE_SEEN=$(pf_queue_count)
		[ "$PF_QUEUE_SEEN" -eq "$want" ] && return 0
		sleep 0.2
	done
	return 1
}

pf_wait_queue_empty() {
	local secs=${1:-60} i
	for i in $(seq 1 $((secs * 2))); do
		[ "$(pf_queue_count)" = 0 ] && return 0
		sleep 0.5
	done
	return 1
}

pf_log() {
	cat "$PF_DIR/maillog"
}

# --- milter-relay ------------------------------------------------------------

MR_PID=
MR_STATUS=
MR_SOCKET=
MR_SMPORT=
MR_BIN=

mr_config() {
	local file=$1 line
	shift
	MR_BIN=$E2E_BUILD/milter/milter-relay
	[ -x "$MR_BIN" ] || e2e_fail "$MR_BIN not built"
	MR_SOCKET=${MR_SOCKET:-$E2E_DIR/mr/milter.sock}
	mkdir -p "$(dirname "$MR_SOCKET")"
	chown nobody:postfix "$(dirname "$MR_SOCKET")"
	[ -n "$MR_SMPORT" ] || MR_SMPORT=$(e2e_free_port)
	{
		echo "socket = \"unix:$MR_SOCKET\";"
		echo "socketmap = \"inet:$MR_SMPORT@127.0.0.1\";"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
	chmod 644 "$file"
}

mr_start() {
	local conf=$1 i
	"$MR_BIN" -f -c "$conf" -u nobody -g postfix \
	    >>"$E2E_DIR/milter-relay.log" 2>&1 &
	MR_PID=$!
	e2e_track_pid "$MR_PID"
	for i in $(seq 1 300); do
		if [ -S "$MR_SOCKET" ] && e2e_port_open 127.0.0.1 "$MR_SMPORT"
		then
			return 0
		fi
		kill -0 "$MR_PID" 2>/dev/null || break
		sleep 0.1
	done
	e2e_fail "milter-relay did not start"
}

mr_stop() {
	local i
	[ -n "$MR_PID" ] || return 0
	kill -TERM "$MR_PID" 2>/dev/null
	for i in $(seq 1 300); do
		kill -0 "$MR_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$MR_PID" 2>/dev/null
	MR_STATUS=$?
	MR_PID=
}

mr_reload() {
	kill -HUP "$MR_PID"
}

sm_query() {
	"$E2E_CLIENT" socketmap -p "$MR_SMPORT"
}

SM_ANSWER=
sm_wait_answer() {
	local i
	for i in $(seq 1 300); do
		SM_ANSWER=$(echo "$1" | sm_query)
		[ "$SM_ANSWER" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

pf_aside() {
	local dir=$E2E_DIR/$1
	mv "$PF_DIR" "$dir"
	sed -i "s|$PF_DIR|$dir|g" "$dir/main.cf"
	PF_DIR=$dir
	pf_start
	PF_STARTED=0
	e2e_track_pid "$(tr -d ' ' <"$dir/queue/pid/master.pid")"
	PF_DIR=
}

pki_make() {
	local dir=$1 name=$2 cn=$3
	mkdir -p "$dir"
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
		    -subj "/CN=milter-relay test CA" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
		    -subj "/CN=$cn" &&
		printf 'subjectAltName=DNS:%s\n' "$cn" >"$dir/ext" &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" \
		    -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/$name.pem" \
		    -days 2 -extfile "$dir/ext"
	} >"$E2E_DIR/openssl.out" 2>&1 ||
	    e2e_fail "openssl: $(cat "$E2E_DIR/openssl.out")"
	chmod 600 "$dir"/*.key
}

sink_has() {
	sink_rcpts "$1" | grep -qxi -- "$2"
}

e2e_send() {
	local out
	E2E_SENT=$((${E2E_SENT:-0} + 1))
	out=$("$E2E_CLIENT" smtp -p "$1" -s "msg$E2E_SENT" "$2" 2>&1)
	echo "$out" | grep -q "^RCPT <$2> 250" &&
	    echo "$out" | grep -q '^DATA 250' ||
	    e2e_fail "<$2> not queued: $out"
}
