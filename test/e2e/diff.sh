#!/bin/bash
# diff.sh - differential test of "milter-relay export" against the
# socketmap server and "milter-relay query", with the real postmap(1).
#
# Two generated rule sets (a fixed seed, so every run is the same):
#   set 1: namespace, exact and subdomains rules with smart hosts (IPv4,
#          IPv6, host names with ports, mx:), rules without smart host
#          and deny exceptions inside routed namespaces;
#   set 2: the same without exceptions inside relayed namespaces.
# For each, a few thousand names (rule names, names one and two labels
# below, unlisted names) are looked up four ways:
#   - the exported table, compiled with postmap (hash), searched as the
#     MTA searches it: transport and mailertable "name" then ".parent"
#     (nearest first), relay_domains likewise (parent matching off, as
#     the exporter advises), Sendmail access "To:name" then "To:parent";
#     all probes in one "postmap -q - hash:FILE" batch;
#   - the daemon's socketmap (one persistent connection);
#   - "milter-relay query" for an untrusted client (relay only);
# and every answer must agree.  Set 1 must be refused by the
# relay_domains, mailertable and access exporters, naming a rule.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
e2e_init diff

# deterministic rules from awk's generator with a fixed seed
gen_rules() {	# $1: 1 with exceptions
	awk -v exc="$1" 'BEGIN {
		srand(4242 + exc)
		split("[127.0.0.1]:2601 [::1]:2602 mail.relay.test:2603 " \
		    "mx:relay.test [192.0.2.7] relay.test", H, " ")
		for (i = 1; i <= 150; i++) {
			t = "t" int(rand() * 3)
			name = "dom" i "." t
			r = int(rand() * 10)
			h = H[1 + int(rand() * 6)]
			if (r < 2) out("#" name " smarthost=" h)
			else if (r == 2) out("." name " smarthost=" h)
			else if (r == 3) out(name)
			else if (r == 4) out(name " relay=trusted smarthost=" h)
			else out(name " smarthost=" h)
			if (rand() < 0.33)
				out("sub." name " smarthost=" H[1 + int(rand() * 6)])
			x = exc == 1 ? "" : " smarthost=" H[1 + int(rand() * 6)]
			if (rand() < 0.25)
				out("#x.sub." name x)
			if (exc == 1) {
				r = int(rand() * 5)
				if (r == 0) out("lab." name " relay=deny")
				else if (r == 1) out("noroute." name)
				else if (r == 2) out("#only." name " relay=deny")
			} else {
				if (rand() < 0.25) out("ok.lab" i "." t)
				if (rand() < 0.25) out("lab" i "." t " relay=deny")
			}
		}
	}
	function out(line,   k) {
		k = line; sub(/ .*/, "", k)
		if (!(k in seen)) { seen[k] = 1; print line }
	}'
}

# every name worth asking about
gen_names() {	# $1: rules file
	sed 's/ .*//; s/^[#.]//' "$1" | sort -u | while read -r n; do
		echo "$n"
		echo "a.$n"
		echo "b.a.$n"
		echo "sub.$n"
		echo "x.sub.$n"
		echo "lab.$n"
		echo "z.lab.$n"
	done | sort -u
	for i in $(seq 1 200); do
		echo "unlisted$i.t$((i % 3))"
	done
}

# search an exported table like the MTA: stdin names, stdout "name value"
# ("-" when nothing found or the entry means "no")
table_search() {	# $1 table (text), $2 mode: dot|access
	local table=$1 mode=$2
	postmap "hash:$table" || e2e_fail "postmap $table"
	awk -v mode="$mode" '{
		n = $0; print n "\t" n
		if (mode == "access") print n "\tTo:" n
		p = n
		while ((i = index(p, ".")) > 0) {
			p = substr(p, i + 1)
			print n "\t" (mode == "access" ? "To:" p : "." p)
		}
	}' >"$table.probes"
	cut -f2 "$table.probes" | sort -u |
	    postmap -q - "hash:$table" >"$table.found"
	awk -v mode="$mode" -v found="$table.found" '
		FILENAME == found {
			k = $1; $1 = ""; sub(/^ +/, ""); v[k] = $0; next
		}
		{
			name = $1; key = $2
			if (name in done) next
			if (mode == "access" && key == name) next
			if (key in v) {
				done[name] = 1
				val = v[key]
				if (val == ":" || val == "SKIP") val = "-"
				print name " " val
			}
		}' FS='[ \t]+' "$table.found" FS='\t' "$table.probes" \
	    >"$table.hits"
	# names never found
	sort -u "$table.hits" >"$table.hits.s"
	awk 'FILENAME == ARGV[1] { hit[$1] = 1; next }
	    !($0 in hit) { print $0 " -" }' "$table.hits.s" "$NAMES" |
	    cat - "$table.hits.s" | sort
}

# socketmap answers: stdout "name value"
socketmap_answers() {	# $1 map
	sed "s/^/$1 /" "$NAMES" | sm_query >"$E2E_DIR/sm.out"
	[ "$(wc -l <"$E2E_DIR/sm.out")" = "$(wc -l <"$NAMES")" ] ||
	    e2e_fail "socketmap: short answer list"
	paste -d' ' "$NAMES" "$E2E_DIR/sm.out" | awk '{
		if ($2 == "OK") { $2 = ""; sub(/^[^ ]+  /, $1 " "); print }
		else if ($2 == "NOTFOUND") print $1 " -"
		else { print "BAD " $0; exit 1 }
	}' | sort
}

# "milter-relay query" for an untrusted client: "name RELAY|-" on
# stdout, "name route" for accepted names with a route= in $1
query_relay() {
	sed 's/^/u@/' "$NAMES" | xargs "$MR_BIN" query -c "$CONF" \
	    -a 203.0.113.9 >"$E2E_DIR/query.out"
	awk '{ sub(/^u@/, ""); sub(/:$/, "", $1)
		print $1 " " ($2 == "accept" ? "RELAY" : "-") }' \
	    "$E2E_DIR/query.out" | sort
	awk '$2 == "accept" { sub(/^u@/, ""); sub(/:$/, "", $1)
		for (i = 3; i <= NF; i++)
			if ($i ~ /^route=/) print $1 " " substr($i, 7) }' \
	    "$E2E_DIR/query.out" | sort >"$1"
}

compare() {	# $1 label, $2 $3 files
	if ! cmp -s "$2" "$3"; then
		diff "$2" "$3" | head -n 20
		e2e_fail "$1: answers differ"
	fi
}

export_ok() {	# $1 format, $2 output; advice on $2.notes
	"$MR_BIN" export -c "$CONF" "$1" >"$2" 2>"$2.notes" ||
	    e2e_fail "export $1: $(cat "$2.notes")"
}

export_refused() {	# $1 format
	local out rc
	out=$("$MR_BIN" export -c "$CONF" "$1" 2>&1 >"$E2E_DIR/refused")
	rc=$?
	[ "$rc" = 65 ] || e2e_fail "export $1 should fail (EX_DATAERR), got $rc"
	[ -s "$E2E_DIR/refused" ] && e2e_fail "export $1 refused but printed"
	echo "$out" | grep -q 'cannot express rule "' ||
	    e2e_fail "export $1: message names no rule: $out"
	e2e_ok "export $1 refused: ${out#milter-relay: export: }"
}

LIST=$E2E_DIR/domains.list
CONF=$E2E_DIR/milter-relay.conf
NAMES=$E2E_DIR/names
gen_rules 1 >"$LIST"
chmod 644 "$LIST"
mr_config "$CONF" "domains_file = \"$LIST\";"
mr_start "$CONF"

run_set() {	# $1 set number
	local T=$E2E_DIR/set$1 n
	gen_names "$LIST" >"$NAMES"
	n=$(wc -l <"$NAMES")
	[ "$n" -ge 2000 ] || e2e_fail "only $n names"

	export_ok postfix-transport "$T.transport"
	table_search "$T.transport" dot <"$NAMES" >"$T.transport.table"
	socketmap_answers transport >"$T.transport.sm"
	compare "set $1 transport: table vs socketmap" \
	    "$T.transport.table" "$T.transport.sm"
	grep -q ' smtp:\[::1\]:2602$' "$T.transport.sm" ||
	    e2e_fail "no IPv6 route among the answers"
	e2e_ok "set $1: postfix-transport = socketmap for $n names" \
	    "($(grep -vc ' -$' "$T.transport.sm") routed)"

	socketmap_answers relay >"$T.relay.sm"
	query_relay "$T.route.query" >"$T.relay.query"
	compare "set $1 relay: socketmap vs query" "$T.relay.sm" \
	    "$T.relay.query"
	# the route query shows for relayed names = the transport answer
	awk 'FILENAME == ARGV[1] { ok[$1] = 1; next } ($1 in ok)' \
	    "$T.route.query" "$T.transport.sm" >"$T.route.sm"
	compare "set $1 route: query vs transport socketmap" \
	    "$T.route.query" "$T.route.sm"
	e2e_ok "set $1: relay socketmap = milter-relay query" \
	    "($(grep -c RELAY "$T.relay.sm") relayed," \
	    "$(wc -l <"$T.route.query") routes alike)"

	if [ "$1" = 1 ]; then
		grep -q '	:$' "$T.transport" ||
		    e2e_fail "set 1 has no carve-out entry"
		export_refused postfix-relay-domains
		export_refused sendmail-mailertable
		export_refused sendmail-access
		return
	fi
	export_ok postfix-relay-domains "$T.relay"
	grep -q parent_domain_matches_subdomains "$T.relay.notes" ||
	    e2e_fail "no relay_domains advice for exact rules"
	table_search "$T.relay" dot <"$NAMES" >"$T.relay.table"
	compare "set 2 relay_domains: table vs socketmap" "$T.relay.table" \
	    "$T.relay.sm"
	e2e_ok "set 2: postfix-relay-domains = socketmap (with the advice)"

	export_ok sendmail-mailertable "$T.mt"
	table_search "$T.mt" dot <"$NAMES" >"$T.mt.table"
	socketmap_answers mailertable >"$T.mt.sm"
	compare "set 2 mailertable: table vs socketmap" "$T.mt.table" \
	    "$T.mt.sm"
	e2e_ok "set 2: sendmail-mailertable = socketmap"
}

# SIGHUP, then poll the log until the reload is done
reload_and_wait() {
	local n i
	n=$(grep -c 'reload: .*: OK' "$E2E_DIR/milter-relay.log")
	mr_reload
	for i in $(seq 1 300); do
		[ "$(grep -c 'reload: .*: OK' "$E2E_DIR/milter-relay.log")" -gt "$n" ] &&
		    return 0
		sleep 0.1
	done
	e2e_fail "reload did not happen"
}

run_set 1

# set 2 through a reload of the same daemon
gen_rules 2 >"$LIST.new"
chmod 644 "$LIST.new"
mv "$LIST.new" "$LIST"
reload_and_wait
run_set 2

# the access map: set 2 has relayed exact rules, which it cannot say;
# a namespace-only set can be said
grep -v '^[#.]' "$LIST" >"$LIST.ns"
mv "$LIST.ns" "$LIST"
chmod 644 "$LIST"
reload_and_wait
gen_names "$LIST" >"$NAMES"
export_ok sendmail-access "$E2E_DIR/access"
table_search "$E2E_DIR/access" access <"$NAMES" >"$E2E_DIR/access.table"
socketmap_answers relay >"$E2E_DIR/access.sm"
compare "sendmail-access: table vs relay socketmap" "$E2E_DIR/access.table" \
    "$E2E_DIR/access.sm"
e2e_ok "set 3: sendmail-access = socketmap for $(wc -l <"$NAMES") names"
mr_stop
echo "diff: all passed"
