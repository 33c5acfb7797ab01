#!/bin/bash
# t_collect.sh - the TLS-RPT datagram collector of the real sts-milter in
# the lab, fed the formats the real Postfix 3.10 of the lab does not send
# (t_postfix310.sh runs Debian 13's Postfix 3.10.13 end to end: its
# libtlsrpt 0.5.0rc1 sends no "dpv"): datagrams in the byte format of
# libtlsrpt 0.5.1 ("dpv": "1"), built from the postfix-tlsrpt reply of
# our own policy map (postmap -q through Postfix's socketmap client), one
# fresh AF_UNIX datagram socket per event with MSG_DONTWAIT, plus
# garbage.  Checked: the journal as stsctl shows it, the policy shared
# with the cache entry, garbage quarantined, the report tlsrpt-reporter
# builds from them (lab DNS for the rua), the daemon's counters and a
# clean stop.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
STSCTL=$BUILD/stsctl
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3

lab_up || { echo "t_collect: 0 passed, 1 failed"; exit 1; }
D=$WORK/col
SOCK=$D/tlsrpt/tlsrpt.sock		# its directory is made by the daemon
PMSOCK=$D/policymap.sock
mkdir -p "$D/state"
C=$D/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $D/state
milter_socket = unix:$D/milter.sock
policymap_socket = unix:$PMSOCK
tlsrpt_socket = $SOCK
pid_file = $D/sts-milter.pid
log_level = 1
status_interval = 1s
report_org_name = Lab Sender
report_contact = tlsrpt@reporter.test
EOF
} > "$C"

"$MILTER" -f -c "$C" 2>"$D/milter.log" &
PID=$!
LAB_CLEANUP='kill $PID 2>/dev/null; wait $PID 2>/dev/null'
for _ in $(seq 50); do [ -S "$SOCK" ] && [ -S "$PMSOCK" ] && break; sleep 0.1; done
ok "collector socket $SOCK" test -S "$SOCK"
# the lab's socket_group = postfix, socket_mode 0660 (the default)
expect_eq "collector socket: group postfix (the MTA's), mode 660" "$(stat -c '%G %a' "$SOCK")" "postfix 660"
expect_match "start-up line names it" "$(cat "$D/milter.log")" "tlsrpt_socket=$SOCK"

# What Postfix 3.10 gets from the policy map for enforce.test.
mkdir -p "$D/postfix"
echo "compatibility_level = 3.6" > "$D/postfix/main.cf"
REPLY=$(postmap -c "$D/postfix" -q enforce.test "socketmap:unix:$PMSOCK:postfix-tlsrpt" 2>&1)
expect_match "postfix-tlsrpt reply carries the policy" "$REPLY" \
    '^secure .*policy_type=sts policy_domain=enforce.test .*policy_string = mode: enforce'

# send.py REPLY KIND...: libtlsrpt datagrams built from the map reply
cat > "$D/send.py" <<'PY'
import errno, re, socket, sys, time
sock, reply = sys.argv[1], sys.argv[2]
lines = re.findall(r'\{ policy_string = (.*?) \}', reply)
pats = re.findall(r'mx_host_pattern=(\S+)', reply)
pdom = re.search(r'policy_domain=(\S+)', reply).group(1)

def q(s):                       # libtlsrpt's escaping
    out = ''
    for ch in s:
        o = ord(ch)
        if ch in '"\\': out += '\\' + ch
        elif ch == '\r': out += '\\r'
        elif ch == '\n': out += '\\n'
        elif o < 0x20 or o == 0x7f: out += '\\u%04x' % o
        else: out += ch
    return '"' + out + '"'

def sts(fail):
    p = '{"policy-type":2,"policy-domain": %s,"policy-string":[%s],"mx-host":[%s]' % (
        q(pdom), ','.join(q(l) for l in lines), ','.join(q(m) for m in pats))
    if fail:
        p += ',"failure-details":[{"c":202,"s": "127.0.4.1","n": "mx2.enforce.test",' \
             '"h": "250-mx2.enforce.test\\r\\n250-PIPELINING\\r\\n250 STARTTLS",' \
             '"r": "127.0.1.2","f": "certificate-host-mismatch"}],"t":1,"f":1}'
    else:
        p += ',"t":0,"f":0}'
    return p

def dgram(d, pol):
    return ('{"dpv": "1","d": %s,"pr": "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test","policies":[%s]}'
            % (q(d), pol)).encode()

kinds = {
    'ok': dgram('enforce.test', sts(False)),
    'fail': dgram('enforce.test', sts(True)),
    'nopolicy': dgram('nopolicy.test', '{"policy-type":9,"t":0,"f":0}'),
    'garbage': b'{"dpv": "1","d": "enforce.test","policies":[{"policy-type":2,"f":7}]}',
}
for k in sys.argv[3:]:
    for _ in range(200):            # EAGAIN: the kernel queue is full
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(kinds[k], socket.MSG_DONTWAIT, sock)
            break
        except OSError as e:
            if e.errno != errno.EAGAIN: raise
            time.sleep(0.005)
        finally:
            s.close()
PY
$PY "$D/send.py" "$SOCK" "$REPLY" ok ok ok fail nopolicy garbage
expect_eq "datagrams sent" "$?" 0

# stsctl journal: what the operator sees
for _ in $(seq 50); do
	n=$("$STSCTL" -c "$C" journal 2>/dev/null | grep -c '"src":"postfix"')
	[ "$n" -ge 5 ] && break
	sleep 0.1
done
"$STSCTL" -c "$C" journal > "$D/journal.json" 2>&1
expect_eq "five sessions journaled from the datagrams" \
    "$(grep -c '"src":"postfix"' "$D/journal.json")" 5
$PY - "$D/journal.json" "$D/state" > "$D/journal.check" 2>&1 <<'PY'
import glob, hashlib, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '"src":"postfix"' in l]
sts = [r for r in recs if r.get('ptype') == 'sts']
def show(c, what):
    print(('ok   ' if c else 'FAIL ') + what)
show(len(sts) == 4, 'four STS sessions for enforce.test')
show(all(r['domain'] == 'enforce.test' and r.get('mode') == 'enforce' for r in sts),
     'policy domain and mode')
fails = [r for r in sts if r['result'] != 'success']
show(len(fails) == 1 and fails[0]['result'] == 'certificate-host-mismatch'
     and fails[0].get('mx') == 'mx2.enforce.test' and fails[0].get('helo') == 'mx2.enforce.test'
     and fails[0].get('rip') == '127.0.1.2' and fails[0].get('sip') == '127.0.4.1',
     'failure fields (EHLO reply reduced to its host name)')
# the same archived policy as the cache's own entry (the gate's reference)
hashes = {r.get('phash') for r in sts}
cached = open(glob.glob(sys.argv[2] + '/cache/enforce.test')[0], 'rb').read()
show(len(hashes) == 1 and all(r.get('pid') for r in sts), 'one policy, with its id')
arch = open(sys.argv[2] + '/policies/%s.txt' % hashes.pop(), 'rb').read()
show(arch.replace(b'\r\n', b'\n').strip() in cached.replace(b'\r\n', b'\n'),
     'archived text is the cached policy as fetched')
np = [r for r in recs if r.get('ptype') == 'no-policy-found']
show(len(np) == 1 and np[0]['domain'] == 'nopolicy.test' and 'phash' not in np[0],
     'no-policy-found session')
PY
while read -r st what; do
	case $st in ok) pass "journal: $what" ;; *) fail "journal: $what" ;; esac
done < "$D/journal.check"
ok "garbage quarantined" grep -q '"reason":"policy: final result' "$D/state/tlsrpt-quarantine"
expect_match "garbage logged" "$(cat "$D/milter.log")" 'tlsrpt: invalid datagram .*quarantined'

# The report: one STS policy entry, 3 successes and the mismatch.
TOMORROW=$(date -u -d tomorrow +%F)
{ cat "$C"; echo "report_clock = ${TOMORROW}T00:30:00Z"; } > "$D/r.conf"
"$R" -c "$D/r.conf" --dry-run --domain enforce.test > "$D/dry.out" 2> "$D/dry.err"
expect_eq "reporter dry run" "$?" 0
$PY - "$D/dry.out" > "$D/report.check" 2>&1 <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
j = re.search(r'----- BEGIN JSON -----\n(.*?)----- END JSON -----\n', out, re.S)
def show(c, what):
    print(('ok   ' if c else 'FAIL ') + what)
show(j is not None, 'a report for enforce.test')
r = json.loads(j.group(1)) if j else {'policies': []}
pols = [p for p in r['policies'] if p['policy']['policy-type'] == 'sts']
show(len(pols) == 1, 'one STS policy entry')
if pols:
    p = pols[0]
    show('mode: enforce' in p['policy']['policy-string'], 'policy-string quoted')
    show(p['summary'] == {'total-successful-session-count': 3,
                          'total-failure-session-count': 1}, 'summary 3 + 1')
    fd = p.get('failure-details', [])
    show(len(fd) == 1 and fd[0]['result-type'] == 'certificate-host-mismatch'
         and fd[0]['receiving-mx-hostname'] == 'mx2.enforce.test'
         and fd[0]['failed-session-count'] == 1, 'failure detail')
PY
while read -r st what; do
	case $st in ok) pass "report: $what" ;; *) fail "report: $what" ;; esac
done < "$D/report.check"
expect_match "report goes to the lab rua" "$(cat "$D/dry.out")" 'rua: mailto:tlsrpt@reports.test'

# stsctl status: the daemon runs, and what it counted
sleep 1.5
ST=$("$STSCTL" -c "$C" status 2>"$D/status.err"); RC=$?
expect_eq "stsctl status: running (exit 0)" "$RC" 0
expect_eq "stsctl status: the counts" "$(printf '%s' "$ST" | jq -c '[.running, .pid, .tlsrpt.datagrams, .tlsrpt.records, .tlsrpt.invalid, .tlsrpt.dropped, (.policymap.requests > 0), .gate.rcpts]')" \
    "[true,$PID,6,5,1,0,true,0]"

# A clean stop: the socket goes, the counts are logged.
kill $PID; wait $PID 2>/dev/null
LAB_CLEANUP=
ST=$("$STSCTL" -c "$C" status 2>"$D/status.err"); RC=$?
expect_eq "stsctl status after the stop: 69" "$RC" 69
expect_match "stsctl status after the stop: says so" "$(cat "$D/status.err")" 'not running .*at its stop'
expect_eq "stsctl status after the stop: running false" "$(printf '%s' "$ST" | jq -c '.running')" false
ok "socket removed on stop" test ! -e "$SOCK"
expect_match "counts logged on stop" "$(cat "$D/milter.log")" \
    'tlsrpt: 6 datagrams, 5 records journaled, 1 invalid, 0 dropped \(queue full\), 0 not journaled \(journal errors\), 0 without their policy text'
[ "$T_FAIL" -gt 0 ] && sed 's/^/  milter: /' "$D/milter.log" | tail -20
done_tests t_collect
