#!/bin/bash
# run.sh - "make bench": run every per-part benchmark script in this
# folder (tests/bench/*.sh except this one and lib.sh), in name order.  Each part
# prints its own figures.  BUILD is the object directory (the Makefile
# sets it).
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for s in "$here"/*.sh; do
	case $(basename "$s") in run.sh | lib.sh) continue ;; esac
	echo "=== $(basename "$s" .sh)"
	bash "$s" || rc=1
done
exit $rc
