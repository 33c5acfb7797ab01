# lib.sh - shell test helpers for integration tests (sourced)
#
# ok NAME CMD...        passes when CMD exits 0
# expect_eq NAME GOT WANT
# expect_match NAME STRING REGEX
#                        REGEX must be one non-empty line: grep takes a
#                        line end as "or" (any one line of it matching
#                        passes) and an empty pattern matches anything
# result_checks FILE     a driver's result file (tests/tools/crashload.py,
#                        soak.py): "key value" lines shown, each
#                        "check ok|FAIL NAME :: detail" line a pass or fail;
#                        a missing file or one with no check is a failure
# done_tests NAME        prints "NAME: N passed, M failed[, K skipped]"
#
# pass, fail and skip count in a subshell too ("cmd | while read ...;
# do fail ...", "( ... )"): there they add a line to $T_TALLY, which
# done_tests counts (a variable set in a subshell is lost with it).
T_PASS=0 T_FAIL=0 T_SKIP=0
T_PID=$BASHPID T_TALLY=/tmp/sts-test-tally.$BASHPID
rm -f "$T_TALLY"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}

t_tally() { [ "$BASHPID" = "$T_PID" ] || echo "$1" >> "$T_TALLY"; }
pass() { T_PASS=$((T_PASS + 1)); t_tally pass; echo "ok   $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); t_tally fail; echo "FAIL $1${2:+: $2}"; }
skip() { T_SKIP=$((T_SKIP + 1)); t_tally skip; echo "skip $1${2:+: $2}"; }

# t_pattern REGEX: REGEX can fail to match (not empty, one line)
t_pattern() {
	case $1 in
	'') echo "bad check: empty pattern (matches anything)" ;;
	*$'\n'*) echo "bad check: a line end in the pattern (grep: a pattern a line, any one may match)" ;;
	*) return 0 ;;
	esac
	return 1
}

ok() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

expect_match() {
	local bad
	if ! bad=$(t_pattern "$3"); then fail "$1" "$bad"
	elif printf '%s' "$2" | grep -Eq -- "$3"; then pass "$1"
	else fail "$1" "'$2' does not match /$3/"; fi
}

result_checks() {
	local _st line
	if ! grep -q '^check ' "$1" 2>/dev/null; then
		fail "result file $1" "missing or holds no check"
		return
	fi
	grep -v '^check ' "$1" | sed 's/^/  /'
	while read -r _ _st line; do
		case $_st in
		ok) pass "${line% :: *}" ;;
		*) fail "${line% :: *}" "${line#* :: }" ;;
		esac
	done < <(grep '^check ' "$1")
}

done_tests() {
	if [ -f "$T_TALLY" ]; then
		T_PASS=$((T_PASS + $(grep -c '^pass$' "$T_TALLY")))
		T_FAIL=$((T_FAIL + $(grep -c '^fail$' "$T_TALLY")))
		T_SKIP=$((T_SKIP + $(grep -c '^skip$' "$T_TALLY")))
		rm -f "$T_TALLY"
	fi
	if [ "$T_SKIP" -gt 0 ]; then
		echo "$1: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	else
		echo "$1: $T_PASS passed, $T_FAIL failed"
	fi
	[ "$T_FAIL" -eq 0 ]
}

# thread_sched PID: "policy rt_priority comm" of each of PID's threads
# (/proc stat fields 41 and 40: "2 1 sts-pmap" is SCHED_RR 1)
thread_sched() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s\n' "$(awk '{ sub(/^.*\) /, ""); print $39, $38 }' "$t/stat")" "$(cat "$t/comm")"
	done
}
