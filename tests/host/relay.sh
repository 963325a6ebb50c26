#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bench's rate-limited link (tests/bench/relay.c): rate, bytes intact, one bucket per
# board, hostile boards, SIGTERM (tests/host/relay_check.py has the cases).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
if [ ! -x "$build/bench/relay" ]; then
	echo "not ok relay_built ($build/bench/relay is missing: make $build/bench/relay)"
	exit 1
fi
exec python3 tests/host/relay_check.py "$build/bench/relay"
