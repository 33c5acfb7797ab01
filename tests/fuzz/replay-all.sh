#!/bin/bash
# replay-all.sh - replay every fuzz corpus through its plain-built target
# (and the ASan build when present).  One summary line per run.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
pass=0 fail=0
for b in "$BUILD"/fuzz/replay_* build-asan/fuzz/replay_*; do
	[ -x "$b" ] || continue
	t=${b##*/replay_}
	files=$(find "tests/fuzz/corpus/$t" -type f 2>/dev/null)
	if [ -z "$files" ]; then
		echo "FAIL $b: empty corpus tests/fuzz/corpus/$t"; fail=$((fail + 1)); continue
	fi
	if out=$(printf '%s\n' $files | xargs "$b" 2>&1); then
		echo "ok   $b ($(printf '%s\n' $files | wc -l) inputs)"; pass=$((pass + 1))
	else
		printf '%s\n' "$out" | tail -n 20
		echo "FAIL $b"; fail=$((fail + 1))
	fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
