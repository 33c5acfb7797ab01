#!/bin/bash
# t_diskfull.sh - full disk and unwritable state (issue 14 item 3):
# state_dir is a 2 MB tmpfs that the test fills up while sts-milter runs.
# With no space: mail keeps flowing by the RFC's rules (a validated
# enforce domain accepted, an enforce domain whose MX fails deferred
# (STS-APP-1), a policy fetched now applied from memory, the policy map
# answers), journal write failures are counted and logged at a bounded
# rate (journal.c: the first, then at most one line a minute); when space
# returns the daemon journals again by itself (and says so), and no file
# in state_dir is corrupt (no temporary left, every cache file, archived
# policy and position file whole, journal lines valid or counted torn).
# tlsrpt-reporter with no space refuses cleanly (EX_TEMPFAIL, nothing
# half-written, nothing sent) and the next run delivers the report once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
PY=/usr/bin/python3
STSCTL=$BUILD/stsctl
SMTP_IP=127.0.5.1 SMTP_PORT=2526

if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	skip "disk full" "python3-aiosmtpd missing"; done_tests t_diskfull; exit 0
fi
lab_up || { echo "t_diskfull: 0 passed, 1 failed"; exit 1; }
"$LAB" mx-count probe@expired.test >/dev/null 2>&1 ||
    { skip "disk full" "this lab has no MX hosts"; done_tests t_diskfull; exit; }
D=$WORK/df
S=$D/state
mkdir -p "$S" "$D/smtp"
if ! mount -t tmpfs -o size=2m,mode=0750 tmpfs "$S" 2>"$D/mount.err"; then
	skip "disk full" "cannot mount a tmpfs: $(cat "$D/mount.err")"
	done_tests t_diskfull; exit 0
fi
C=$D/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file|report_smtp)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $S
milter_socket = unix:$D/milter.sock
policymap_socket = unix:$D/policymap.sock
tlsrpt_socket = $D/tlsrpt.sock
status_interval = 1s
report_org_name = Lab Sender
report_contact = tlsrpt@reporter.test
report_smtp = $SMTP_IP:$SMTP_PORT
EOF
} > "$C"
$PY "$ROOT/tests/reporter/sinks.py" smtp $SMTP_IP $SMTP_PORT "$D/smtp" > "$D/smtp.log" 2>&1 &
"$BUILD/sts-milter" -f -c "$C" 2>"$D/milter.log" &
PID=$!
LAB_CLEANUP='kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -f "$D/smtp/pid" ] && kill $(cat "$D/smtp/pid"); umount "$S"'
for _ in $(seq 50); do [ -S "$D/milter.sock" ] && [ -S "$D/tlsrpt.sock" ] && [ -f "$D/smtp/pid" ] && break; sleep 0.1; done
ok "daemon and sink up" test -S "$D/milter.sock" -a -f "$D/smtp/pid"

# rcpts TAG RCPT...: "domain code" per RCPT (c continue, y 4xx ...)
rcpts() {
	$PY "$ROOT/tests/tools/milter_client.py" "$D/milter.sock" "$@" 2>&1 |
	    awk '{ split($1, a, "@"); print a[2], $2, $3 }'
}
# pm DOMAIN: the policy map's answer (socketmap, name postfix)
pm() {
	$PY - "$D/policymap.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
q = ('postfix ' + sys.argv[2]).encode(); s.sendall(b'%d:%s,' % (len(q), q))
r = s.recv(65536).decode(); print(r[r.index(':') + 1:].split(' ')[0])
PY
}
# dgram N: N no-policy libtlsrpt datagrams
dgram() {
	$PY - "$D/tlsrpt.sock" "$1" <<'PY'
import socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b'{"dpv": "1","d": "df%d.nopolicy.test","policies":[{"policy-type":9,"t":0,"f":0}]}' % i, sys.argv[1])
    s.close()
PY
}
status() { sleep 1.5; "$STSCTL" -c "$C" status 2>/dev/null; }

# --- with space: policies cached, some records journaled
expect_eq "with space: enforce accepted, bad MX deferred" \
    "$(rcpts a1@enforce.test a2@expired.test | paste -sd' ')" \
    "enforce.test c  expired.test y 451"
J0=$("$STSCTL" -c "$C" journal 2>/dev/null | wc -l)
expect_match "with space: journaled" "$J0" '^[1-9]'
# the day's reports, built and stored while there is space; the sink
# refuses them for now (451), so they wait for a retry
TOMORROW=$(date -u -d tomorrow +%F)
rconf() { { cat "$C"; echo "report_clock = ${TOMORROW}T$1:00Z"; } > "$D/r.conf"; }
rconf 00:30
touch "$D/smtp/refuse"
"$BUILD/tlsrpt-reporter" -c "$D/r.conf" > "$D/rep0.out" 2> "$D/rep0.err"
expect_eq "reporter, sink refuses: retry later (EX_TEMPFAIL)" "$?" 75
rm -f "$D/smtp/refuse"

# --- fill the disk
dd if=/dev/zero of="$S/filler" bs=64k 2>/dev/null
dd if=/dev/zero of="$S/filler2" bs=1k 2>/dev/null
dd if=/dev/zero of="$S/filler3" bs=64 2>/dev/null
expect_eq "state_dir is full" "$(df --output=avail -B1 "$S" | tail -1 | tr -d ' ')" 0
T0=$(date +%s)
R=$(rcpts b1@enforce.test b2@expired.test b3@wildcard.test b4@nopolicy.test b5@expired.test | paste -sd' ')
expect_eq "full: enforce accepted, bad MX deferred, a policy fetched now applied, no policy accepted" \
    "$R" "enforce.test c  expired.test y 451 wildcard.test c  nopolicy.test c  expired.test y 451"
expect_match "full: the policy map answers" "$(pm enforce.test)" '^OK$'
for i in $(seq 20); do rcpts c$i@expired.test >/dev/null; done
dgram 50
sleep 0.5
JE=$(grep -c 'journal: write failed' "$D/milter.log")
expect_match "full: failures logged at a bounded rate ($JE lines for 72+ failures)" \
    "$JE" "^[1-$((1 + ($(date +%s) - T0) / 60))]$"
expect_match "full: the log line says why" "$(grep 'journal: write failed' "$D/milter.log" | head -1)" \
    'No space left on device'
ok "full: daemon alive" kill -0 $PID

# --- the reporter with no space: the sink would take the reports now,
# but a delivery that could not be recorded would be sent again by the
# next run: nothing is sent, EX_TEMPFAIL
rconf 03:00
"$BUILD/tlsrpt-reporter" -d -c "$D/r.conf" > "$D/rep1.out" 2> "$D/rep1.err"
expect_eq "reporter, full: EX_TEMPFAIL" "$?" 75
expect_match "reporter, full: says why" "$(cat "$D/rep1.err")" 'cannot record a delivery, not sent: .*No space left on device'
expect_eq "reporter, full: nothing sent" "$(ls "$D/smtp" | grep -c '\.eml$')" 0

# --- space returns: journaling resumes by itself
rm -f "$S/filler" "$S/filler2" "$S/filler3"
R=$(rcpts d1@expired.test d2@expired.test | paste -sd' ')
expect_eq "space again: deferred" "$R" "expired.test y 451 expired.test y 451"
"$STSCTL" -c "$C" journal > "$D/journal.json" 2> "$D/journal.err"
expect_eq "space again: the new deferrals journaled (none glued to a torn line)" \
    "$(grep -c '"rcpt":"d[12]@expired.test"' "$D/journal.json")" 2
expect_match "space again: logged" "$(cat "$D/milter.log")" 'journal: writing again \([0-9]+ records lost\)'
ST=$(status)
# (a record may still fit in the journal's last, partly used page)
expect_eq "stsctl status: journal errors and lost datagrams counted" \
    "$(printf '%s' "$ST" | jq -c '[.tlsrpt.datagrams, .tlsrpt.lost + .tlsrpt.records, .tlsrpt.lost > 40, .journal_errors >= .tlsrpt.lost]')" "[50,50,true,true]"

# --- no file left corrupt
expect_eq "no temporary file left in state_dir" "$(find "$S" -name '*.tmp*' -o -name '*.next' | wc -l)" 0
$PY - "$S" > "$D/files.check" 2>&1 <<'PY'
import hashlib, json, os, sys, zlib
S = sys.argv[1]
def show(c, what):
    print(('ok   ' if c else 'FAIL ') + what)
bad = torn = 0
for fn in os.listdir(S + '/journal'):
    lines = open(S + '/journal/' + fn, 'rb').read().split(b'\n')
    last = lines.pop()                  # after the last newline
    for l in lines:
        ok = l.startswith(b'J1 ') and int(l[3:11], 16) == zlib.crc32(l[12:])
        bad += not ok
    show(last == b'', 'journal %s ends with a whole line' % fn)
print('torn %d' % bad)
for fn in os.listdir(S + '/policies'):
    t = open(S + '/policies/' + fn, 'rb').read()
    show(hashlib.sha256(t).hexdigest() + '.txt' == fn, 'archived policy %s whole' % fn[:12])
for fn in os.listdir(S + '/cache'):
    b = open(S + '/cache/' + fn, 'rb').read()
    head, _, body = b.partition(b'\n\n')
    n = int([l for l in head.split(b'\n') if l.startswith(b'length ')][0].split()[1])
    show(head.startswith(b'sts-milter-cache 1') and len(body) == n, 'cache file %s whole' % fn)
json.load(open(S + '/status.json'))
show(True, 'status.json parses')
PY
while read -r st what; do
	case $st in ok) pass "files: $what" ;; torn) TORN=$what ;; *) fail "files: $what" ;; esac
done < "$D/files.check"
expect_eq "torn journal lines are the ones stsctl skips and counts" \
    "$(sed -n 's/.* \([0-9]*\) torn or corrupt records skipped/\1/p' "$D/journal.err" | awk '{ n += $1 } END { print n + 0 }')" "${TORN:-0}"

# --- the reporter again: delivers, once
rconf 06:00
"$BUILD/tlsrpt-reporter" -d -c "$D/r.conf" > "$D/rep2.out" 2> "$D/rep2.err"
RC=$?
expect_eq "reporter, space again: delivered (exit 0)" "$RC" 0
N1=$(ls "$D/smtp" | grep -c '\.eml$')
expect_match "reporter, space again: reports sent" "$N1" '^[1-9]'
expect_eq "reporter: one message per delivery recorded" "$N1" \
    "$(cat "$S"/reporter/*/*.state | grep -c '^dest delivered ')"
rconf 09:00
"$BUILD/tlsrpt-reporter" -c "$D/r.conf" > "$D/rep3.out" 2> "$D/rep3.err"
expect_eq "reporter, rerun: nothing sent twice" "$(ls "$D/smtp" | grep -c '\.eml$')" "$N1"
expect_eq "reporter: one report-id per message" \
    "$(grep -h '^Subject:.*Report-ID' "$D"/smtp/*.eml | sort | uniq -d | wc -l)" 0
ok "daemon alive" kill -0 $PID
if [ "$T_FAIL" -gt 0 ]; then
	tail -n 15 "$D/milter.log" | sed 's/^/  milter: /'
	cat "$D/rep1.err" "$D/rep2.err" | tail -n 15 | sed 's/^/  reporter: /'
fi
done_tests t_diskfull
