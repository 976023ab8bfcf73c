#!/bin/bash
# check.sh - part of "make check": the libFuzzer smoke run (make fuzz-smoke);
# without clang a skip (mr_skip, test/lib/skip.sh: listed by "make check",
# a failure under MR_REQUIRE_ALL=1).
set -eu
cd "$(dirname "$0")/../.."
source test/lib/skip.sh
mr_need "libFuzzer targets NOT run" clang
exec make --no-print-directory fuzz-smoke
