#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every tracked file is free of merge-conflict markers, and every shell script parses
# (bash -n). A marker once reached scripts/deps.sh through a merge: make check passed, since
# nothing in it runs deps.sh, while `make deps` on a fresh machine stopped at a syntax error.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	skip no_conflict_markers "not a git checkout"
	exit 0
fi
markers=$(git grep -n -I -E '^(<<<<<<< |>>>>>>> |=======$)' -- . ':!*.md' 2>/dev/null || true)
markers+=$(git grep -n -I -E '^(<<<<<<< |>>>>>>> )' -- '*.md' 2>/dev/null || true)
if [ -z "$markers" ]; then
	ok no_conflict_markers
else
	not_ok no_conflict_markers "$(head -n 5 <<<"$markers")"
fi
bad=()
while IFS= read -r f; do
	bash -n "$f" 2>/dev/null || bad+=("$f: $(bash -n "$f" 2>&1 | head -n 1)")
done < <(git ls-files '*.sh' .ci/run)
if [ "${#bad[@]}" = 0 ]; then
	ok shell_scripts_parse
else
	not_ok shell_scripts_parse "${bad[*]}"
fi
