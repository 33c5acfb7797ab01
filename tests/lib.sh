# lib.sh - shell test helpers for integration tests (sourced)
#
# ok NAME CMD...        passes when CMD exits 0
# expect_eq NAME GOT WANT
# expect_match NAME STRING REGEX
# result_checks FILE     a driver's result file (tests/tools/crashload.py,
#                        soak.py): "key value" lines shown, each
#                        "check ok|FAIL NAME :: detail" line a pass or fail
# done_tests NAME        prints "NAME: N passed, M failed[, K skipped]"
T_PASS=0 T_FAIL=0 T_SKIP=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}

pass() { T_PASS=$((T_PASS + 1)); echo "ok   $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1${2:+: $2}"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip $1${2:+: $2}"; }

ok() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

expect_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "'$2' does not match /$3/"; fi
}

result_checks() {
	local _st line
	grep -v '^check ' "$1" | sed 's/^/  /'
	while read -r _ _st line; do
		case $_st in
		ok) pass "${line% :: *}" ;;
		*) fail "${line% :: *}" "${line#* :: }" ;;
		esac
	done < <(grep '^check ' "$1")
}

done_tests() {
	if [ "$T_SKIP" -gt 0 ]; then
		echo "$1: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	else
		echo "$1: $T_PASS passed, $T_FAIL failed"
	fi
	[ "$T_FAIL" -eq 0 ]
}
