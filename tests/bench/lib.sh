# lib.sh - helpers of the benchmark scripts (sourced by bash scripts;
# not a benchmark itself, so run.sh does not run it)

# port: a random port number for a daemon of the run (20000-49999)
port() { echo $((20000 + RANDOM % 30000)); }

# wait_port PORT: until 127.0.0.1:PORT accepts (0), 10 s at most (1)
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# field VAR LINE: the number after " VAR=" in LINE (a load tool's result)
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $2"; }

# median FILE FIELD: the median of column FIELD of FILE's lines (the
# lower one of an even count); "-" when FILE is empty or missing
median() {
	[ -s "$1" ] || { echo -; return; }
	awk -v f="$2" '{print $f}' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# verdict NAME VALUE OP LIMIT UNIT: a target met or missed (OP is >= or
# <), the line prefixed by the benchmark's name, $BENCH
verdict() {
	if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= l : v < l) }'; then
		echo "$BENCH: target met: $1 = $2 $5 ($3 $4)"
	else
		echo "$BENCH: MISS: $1 = $2 $5 (target $3 $4)"
	fi
}
