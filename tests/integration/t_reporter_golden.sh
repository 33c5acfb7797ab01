#!/bin/bash
# t_reporter_golden.sh - tlsrpt-reporter --dry-run on a fixed journal and
# a fixed clock (report_clock): byte-identical JSON (the .ref.json files
# of tests/reporter), the RFC 8460 JSON schema, strict-consumer rules,
# the MIME message and its headers, and DKIM signatures (rsa-sha256 and
# ed25519-sha256) verified by python3-dkim.  Hermetic: no DNS (--to),
# no network.
. "$(dirname "$0")/../lib.sh"
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3
T=$(mktemp -d /tmp/t_reporter_golden.XXXXXX)
trap 'rm -rf "$T"' EXIT

if [ ! -x "$R" ]; then
	fail "tlsrpt-reporter built" "$R missing"
	done_tests t_reporter_golden
	exit
fi
if ! $PY -c 'import jsonschema, dkim' 2>/dev/null; then
	skip "golden" "python3-jsonschema or python3-dkim missing (tests/deps.sh)"
	done_tests t_reporter_golden
	exit
fi

$PY "$ROOT/tests/reporter/mkjournal.py" "$T/state" "$ROOT/tests/reporter/basic.in"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$T/ed.key" 2>/dev/null
conf() {	# conf NAME KEY ALG
	cat > "$T/$1.conf" <<EOC
state_dir = $T/state
report_org_name = Example Sender Org
report_contact = tlsrpt-noreply@sender.example
report_clock = 2026-11-02T03:00:00Z
dns_resolvers = 127.0.0.1:9
dns_timeout = 1s
dkim_domain = sender.example
dkim_selector = tlsrpt
dkim_key_file = $2
dkim_algorithm = $3
EOC
}
conf rsa "$T/rsa.key" rsa-sha256
conf ed "$T/ed.key" ed25519-sha256

for k in rsa ed; do
	"$R" -c "$T/$k.conf" --dkim-txt > "$T/$k.txt"
	expect_match "$k: --dkim-txt prints the key record" "$(cat "$T/$k.txt")" \
	    '^tlsrpt\._domainkey\.sender\.example\. IN TXT "v=DKIM1; k=(rsa|ed25519); s=tlsrpt; p='
	"$R" -c "$T/$k.conf" --day 2026-11-01 --dry-run --to ops@sender.example \
	    > "$T/$k.out" 2> "$T/$k.err"
	expect_eq "$k: dry run exit status" "$?" 0
	if $PY "$ROOT/tests/reporter/check_report.py" dryrun "$T/$k.out" \
	    --refs "$ROOT/tests/reporter/basic" --dkim-txt "$T/$k.txt" \
	    --count 4 > "$T/$k.check"; then
		pass "$k: $(grep -c '^ok' "$T/$k.check") checks (schema, golden, MIME, DKIM)"
	else
		fail "$k: report checks" "$(grep FAIL "$T/$k.check" | head -5)"
	fi
done

# a dry run writes nothing and takes no lock
expect_eq "dry run leaves no reporter state" "$(ls "$T/state")" "$(printf 'journal\npolicies')"
# the same day twice gives the same JSON (deterministic)
"$R" -c "$T/rsa.conf" --day 2026-11-01 --dry-run --to ops@sender.example > "$T/again.out" 2>/dev/null
expect_eq "deterministic JSON" \
    "$(sed -n '/BEGIN JSON/,/END JSON/p' "$T/again.out" | md5sum)" \
    "$(sed -n '/BEGIN JSON/,/END JSON/p' "$T/rsa.out" | md5sum)"
# --domain limits the run
"$R" -c "$T/rsa.conf" --day 2026-11-01 --dry-run --to o@sender.example \
    --domain Plain.Example. > "$T/one.out" 2>/dev/null
expect_eq "--domain: one report" "$(grep -c '^----- BEGIN REPORT' "$T/one.out")" 1
# exit codes for cron and systemd (sysexits.h)
"$R" -c "$T/rsa.conf" --day 2026-11-02 --dry-run >/dev/null 2>&1
expect_eq "day not over: EX_DATAERR" "$?" 65
"$R" -c "$T/nonexistent.conf" >/dev/null 2>&1
expect_eq "missing config: EX_CONFIG" "$?" 78
printf 'state_dir = %s\nreport_contact = not-a-mailbox\n' "$T/state" > "$T/bad.conf"
"$R" -c "$T/bad.conf" --dry-run >/dev/null 2>&1
expect_eq "bad contact-info: EX_CONFIG" "$?" 78
"$R" --bogus >/dev/null 2>&1
expect_eq "bad option: EX_USAGE" "$?" 64
done_tests t_reporter_golden
