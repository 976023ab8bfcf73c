# skip.sh - report a part of a test that cannot run, never silently
#
# Sourced (bash) by test/e2e/lib.sh and by every check area that skips
# something; the functions (mr_skip, e2e_skip, mr_have, mr_need) are
# described in test/e2e/lib.sh's header.  "make check" (test/lib/
# checkall.sh) sets MR_SKIP_LOG and lists its lines at the end; .ci/run
# sets MR_REQUIRE_ALL=1, under which a skip is a failure that names what
# is missing.

MR_AREA=${MR_AREA:-test/$(basename "$(dirname "$0")")}

mr_skip() {
	if [ "${MR_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL: $MR_AREA: $* (MR_REQUIRE_ALL=1: nothing may be skipped)"
		exit 1
	fi
	echo "SKIP: $MR_AREA: $*"
	if [ -n "${MR_SKIP_LOG:-}" ]; then
		echo "$MR_AREA: $*" >>"$MR_SKIP_LOG"
	fi
	return 0
}

e2e_skip() {
	mr_skip "$@"
	exit 0
}

mr_have() {
	local what=$1 cmd
	shift
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 && continue
		mr_skip "$what: $cmd not installed (contrib/install-deps.sh)"
		return 1
	done
	return 0
}

mr_need() {
	mr_have "$@" || exit 0
}

