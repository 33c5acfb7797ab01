# lab.sh - start the loopback lab for an integration test (sourced)
#
# lab_up starts tests/lab (or reuses a running one when LAB_REUSE=1 and
# LAB_DIR names it) and arranges for it to stop on every exit path.
# It sets LAB_DIR, LAB_CONF and WORK (a fresh directory for this test).
LAB=$ROOT/tests/lab/lab

lab_up() {
	export LAB_DIR=${LAB_DIR:-/tmp/sts-milter-lab}
	WORK=$(mktemp -d /tmp/sts-test.XXXXXX)
	if [ "${LAB_REUSE:-0}" = 1 ] && "$LAB" status >/dev/null 2>&1; then
		LAB_STARTED=0
	else
		"$LAB" start >"$WORK/lab-start.log" 2>&1 || {
			cat "$WORK/lab-start.log"
			echo "lab: could not start"
			return 1
		}
		LAB_STARTED=1
	fi
	LAB_CONF=$LAB_DIR/sts-milter.conf
	trap lab_down EXIT
}

lab_down() {
	local rc=$?
	[ -n "${LAB_CLEANUP:-}" ] && eval "$LAB_CLEANUP"
	[ "${LAB_STARTED:-0}" = 1 ] && "$LAB" stop >/dev/null 2>&1
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	exit $rc
}

# conf_for NAME [key = value ...]: a config in $WORK using the lab's
# resolver and CA and a state directory of its own
conf_for() {
	local name=$1; shift
	mkdir -p "$WORK/$name/state"
	{
		grep -v '^state_dir' "$LAB_CONF"
		echo "state_dir = $WORK/$name/state"
		for kv in "$@"; do echo "$kv"; done
	} > "$WORK/$name/sts-milter.conf"
	echo "$WORK/$name/sts-milter.conf"
}
