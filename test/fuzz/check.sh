#!/bin/bash
# check.sh - part of "make check": the libFuzzer smoke run (make fuzz-smoke)
# when clang is installed; a SKIP line otherwise.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP test/fuzz: clang is not installed (apt-get install clang)"
	exit 0
fi
exec make --no-print-directory fuzz-smoke
