#!/usr/bin/python3
"""soak.py - a simulated week of mixed traffic through one sts-milter
process, with the clock moved by the test (issue 14, item 5).

usage: soak.py CONF REPORTER_CONF OUTDIR

The daemon is BUILD/test/sts-milter (the test build: clock_now() adds
the offset in seconds that this script writes to OUTDIR/clock, see
common/util/clock.h), started once with STS_TEST_CLOCK_FILE and never
restarted.  CONF names milter_socket, policymap_socket, tlsrpt_socket,
postfix_log, state_dir and journal_retention; REPORTER_CONF is the
reporter's (the same state_dir, report_smtp at the lab's SMTP sink whose
directory is env SOAK_SINK).  The lab's script is env LAB.

Simulated time starts at 00:30 UTC of the day after today.  Each day has
SOAK_STEPS steps, evenly spread; at each step the clock jumps there and
for SOAK_STEP_SECS real seconds four sources run at once, each about
SOAK_RATE records a second:

  gate    milter RCPTs, in turn to enforce.test (accepted), expired.test
          and wrongname.test (deferred: 451, journaled) and idchange.test
          (accepted; its policy changes every day, so its policy text is
          journaled anew each day)
  dgram   libtlsrpt datagrams: successful STS sessions of untrustedmx.test
  log     Postfix smtp(8) sessions to mx.cnonly.test appended to
          postfix_log (TLS line, then the delivery line in the next write)
  pmap    policy-map lookups of enforce.test, cnonly.test, idchange.test,
          crlf.test, nopolicy.test

Each day, at its first step: the reporter runs for the day before
(report_clock = the simulated time), then idchange.test gets a new policy
(an extra "mx: dN.idchange.test") and a new TXT id ("id=soakN").
crlf.test's policy host serves an invalid policy from the end of every
day N with N % 3 == 0 to the end of day N + 1 (its cached policy, max_age
one day, must expire meanwhile), then the real one again (fetched again).
After the last day the clock moves to the next day and the reporter runs
once more, so every simulated day is reported.

Between steps (no traffic) the daemon's RSS and open descriptors are
sampled; after each reporter run the state directory is counted.
Printed: "key value" lines, then one "check ok|FAIL NAME :: detail"
line per check (as crashload.py).
"""
import email, gzip, json, os, signal, socket, subprocess, sys
import threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from milter_client import Session, conf_keys  # noqa: E402

conf_path, rconf_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
build = os.environ.get('BUILD', 'build')
lab = os.environ['LAB']
sink = os.environ['SOAK_SINK']
hsink = os.environ.get('SOAK_HTTPS_SINK', '')
days = int(os.environ.get('SOAK_DAYS', '3'))
steps = int(os.environ.get('SOAK_STEPS', '4'))
step_secs = float(os.environ.get('SOAK_STEP_SECS', '1.5'))
rate = float(os.environ.get('SOAK_RATE', '40'))
conf = conf_keys(conf_path)
state = conf['state_dir']
retention = int(conf.get('journal_retention', '14'))
msock = conf['milter_socket'].split(':', 1)[1]
pmsock = conf['policymap_socket'].split(':', 1)[1]
dsock = conf['tlsrpt_socket']
logf = conf['postfix_log']
clockf = os.path.join(out, 'clock')
logfh = open(os.path.join(out, 'soak.log'), 'a')

DAY = 86400
t_base = (int(time.time()) // DAY + 1) * DAY          # tomorrow 00:00 UTC
GATE = [('enforce.test', 'c'), ('expired.test', '451'),
        ('wrongname.test', '451'), ('idchange.test', 'c')]
PMAP = ['enforce.test', 'cnonly.test', 'idchange.test', 'crlf.test',
        'nopolicy.test']
REPORTED = ['enforce.test', 'expired.test', 'wrongname.test',
            'idchange.test', 'untrustedmx.test', 'cnonly.test']


def note(*a):
    print(time.strftime('%H:%M:%S'), *a, file=logfh, flush=True)


def day_of(t):
    return time.strftime('%Y-%m-%d', time.gmtime(t))


def set_clock(sim):
    """move the daemon's clock to the simulated time sim (clock_now() =
    time() + offset; the daemon re-reads the file within 50 ms)"""
    tmp = clockf + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % (sim - int(time.time())))
    os.rename(tmp, clockf)
    time.sleep(0.12)


def run_lab(*args, stdin=None):
    r = subprocess.run([lab] + list(args), input=stdin, capture_output=True,
                       text=True)
    if r.returncode != 0:
        note('lab', args, 'failed:', r.stderr.strip()[-200:])
    return r.returncode == 0


# --- the daemon ---------------------------------------------------------------
set_clock(t_base + 1800)
# MALLOC_ARENA_MAX=1: RSS then measures the heap, not how many of glibc's
# per-thread arenas the daemon's threads happened to touch (without it a
# week once showed one step of +1.4 MB on day 5, then flat again)
env = dict(os.environ, STS_TEST_CLOCK_FILE=clockf,
           MALLOC_ARENA_MAX=os.environ.get('SOAK_ARENAS', '1'))
err = open(os.path.join(out, 'milter.log'), 'a')
open(logf, 'ab').close()
daemon = subprocess.Popen([os.path.join(build, 'test', 'sts-milter'), '-f',
                           '-c', conf_path], stderr=err, stdout=err, env=env)
with open(os.path.join(out, 'daemon.pid'), 'w') as f:
    f.write('%d\n' % daemon.pid)
for _ in range(300):
    if all(os.path.exists(p) for p in (msock, pmsock, dsock)):
        break
    time.sleep(0.02)


def warm():
    """look every policy-map domain up until its policy is in (the log
    follower journals only domains the daemon knows)"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(pmsock)
    for dom in PMAP:
        for _ in range(100):
            q = ('postfix ' + dom).encode()
            s.sendall(b'%d:%s,' % (len(q), q))
            r = s.recv(65536)
            if not r.split(b':', 1)[1].startswith(b'TEMP'):
                break
            time.sleep(0.05)
        note('warm-up:', dom, r[:60])
    s.close()


def sample():
    """(RSS kB, open descriptors, threads) of the daemon"""
    rss = thr = 0
    for line in open('/proc/%d/status' % daemon.pid):
        if line.startswith('VmRSS:'):
            rss = int(line.split()[1])
        elif line.startswith('Threads:'):
            thr = int(line.split()[1])
    return rss, len(os.listdir('/proc/%d/fd' % daemon.pid)), thr


# --- the sources ----------------------------------------------------------
counts = {}             # (day, what) -> n
count_lock = threading.Lock()


def count(day, what, n=1):
    with count_lock:
        counts[(day, what)] = counts.get((day, what), 0) + n


def pace(t0, i):
    d = t0 + i / rate - time.time()
    if d > 0:
        time.sleep(d)


def gate_source(day, stop, seq):
    m = Session(msock, ('Q%d' % seq).encode())
    i, t0 = 0, time.time()
    while not stop.is_set():
        pace(t0, i)
        dom, want = GATE[i % len(GATE)]
        c, d = m.rcpt('u%d-%d@%s' % (seq, i, dom))
        got = 'c' if c == 'c' else d[:3]
        count(day, 'gate_sent')
        count(day, 'gate_' + ('ok' if got == want else 'wrong'))
        if got == '451':
            count(day, 'gate_deferred')
        i += 1
    m.close()


UM_POLICY = ['version: STSv1', 'mode: enforce', 'mx: mx.untrustedmx.test',
             'max_age: 86400']


def dgram_source(day, stop, seq):
    i, t0 = 0, time.time()
    b = json.dumps({'dpv': '1', 'd': 'untrustedmx.test', 'policies': [{
        'policy-type': 2, 'policy-domain': 'untrustedmx.test',
        'policy-string': UM_POLICY, 'mx-host': ['mx.untrustedmx.test'],
        't': 1, 'f': 0}]}).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    while not stop.is_set():
        pace(t0, i)
        s.sendto(b, dsock)
        count(day, 'dgram_sent')
        i += 1
    s.close()


def log_source(day, stop, seq):
    i, prev, t0 = 0, [], time.time()
    with open(logf, 'ab', buffering=0) as f:
        while True:
            done = stop.is_set()
            pace(t0, i)
            t = time.strftime('%b %e %H:%M:%S')
            chunk = b''
            for pid in prev:
                chunk += ('%s pm postfix/smtp[%d]: S%dX%d: to=<a@cnonly.test>,'
                          ' relay=mx.cnonly.test[127.0.1.26]:25, status=sent '
                          '(250 ok)\n' % (t, pid, seq, pid)).encode()
            cur = []
            if not done:
                pid = 1000 + (seq * 1000 + i) % 30000
                chunk += ('%s pm postfix/smtp[%d]: Verified TLS connection '
                          'established to mx.cnonly.test[127.0.1.26]:25: '
                          'TLSv1.3\n' % (t, pid)).encode()
                cur.append(pid)
                count(day, 'log_sessions')
            f.write(chunk)
            prev = cur
            i += 1
            if done:
                break


def pmap_source(day, stop, seq, answers):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(pmsock)
    i, t0 = 0, time.time()
    while not stop.is_set():
        pace(t0, i)
        dom = PMAP[i % len(PMAP)]
        q = ('postfix ' + dom).encode()
        s.sendall(b'%d:%s,' % (len(q), q))
        r = s.recv(65536).decode()
        r = r[r.index(':') + 1:-1]
        answers.setdefault(dom, []).append(r)
        count(day, 'pmap_lookups')
        i += 1
    s.close()


def wait_follower():
    """until the follower has read the whole log"""
    size = os.path.getsize(logf)
    for _ in range(100):
        try:
            p = int(open(os.path.join(state, 'postfix-log.pos')).read()
                    .split()[2])
        except (OSError, IndexError, ValueError):
            p = -1
        if p >= size:
            return True
        time.sleep(0.05)
    return False


def step(day, seq):
    stop = threading.Event()
    answers = {}
    ts = [threading.Thread(target=f, args=(day, stop, seq))
          for f in (gate_source, dgram_source, log_source)]
    ts.append(threading.Thread(target=pmap_source,
                               args=(day, stop, seq, answers)))
    for t in ts:
        t.start()
    time.sleep(step_secs)
    stop.set()
    for t in ts:
        t.join()
    if not wait_follower():
        note('the follower did not catch up')
    time.sleep(0.3)                     # the last datagrams
    return answers


# --- the state directory ------------------------------------------------------
def state_counts():
    c = {}
    for sub in ('cache', 'journal', 'policies', 'reporter', 'requests'):
        p = os.path.join(state, sub)
        n = b = 0
        for root, dirs, files in os.walk(p):
            n += len(files) + len(dirs)
            b += sum(os.path.getsize(os.path.join(root, f)) for f in files)
        c[sub] = (n, b)
    top = [f for f in os.listdir(state) if f not in c]
    c['top'] = (len(top), sum(os.path.getsize(os.path.join(state, f))
                               for f in top if os.path.isfile(
                                   os.path.join(state, f))))
    return c


def reporter(sim):
    rc = os.path.join(out, 'r.conf')
    with open(rc, 'w') as f:
        f.write(open(rconf_path).read())
        f.write('report_clock = %s\n' % time.strftime(
            '%Y-%m-%dT%H:%M:%SZ', time.gmtime(sim)))
    with open(os.path.join(out, 'reporter.log'), 'a') as f:
        r = subprocess.run([os.path.join(build, 'tlsrpt-reporter'), '-c', rc],
                           stdout=f, stderr=f)
    return r.returncode


def journal_days():
    return sorted(f[:10] for f in os.listdir(os.path.join(state, 'journal'))
                  if f.endswith('.jnl'))


def journal_count(day):
    """what the day's journal holds, by kind"""
    c = {}
    try:
        fh = open(os.path.join(state, 'journal', day + '.jnl'), 'rb')
    except OSError:
        return c
    for raw in fh:
        try:
            r = json.loads(raw[12:])
        except ValueError:
            c['bad'] = c.get('bad', 0) + 1
            continue
        d = r.get('domain')
        if r['type'] == 'deferral':
            k = 'gate_deferred'
        elif r.get('src') == 'postfix' and d == 'cnonly.test':
            k = 'log_journaled'
        elif r.get('src') == 'postfix' and d == 'untrustedmx.test':
            k = 'dgram_journaled'
        else:
            k = 'other'
        c[k] = c.get(k, 0) + 1
    return c


warm()

# --- the week -------------------------------------------------------------------
samples = []            # (day, step, rss, fds, threads)
idchange_seen = {}      # day -> first step whose lookups saw its policy
fetches = []            # enforce.test policy fetches nginx served, per day


def nginx_fetches(host):
    try:
        return sum(1 for line in open(os.path.join(
            os.environ.get('LAB_DIR', '/tmp/sts-milter-lab'), 'nginx',
            'access.log')) if ' %s "GET ' % host in line)
    except OSError:
        return -1


crlf = {}               # day -> [answers at each step]
runs = []               # (day reported, rc, journal days after, state counts)
jcount = {}             # day -> journal counts (before pruning)
seq = 0
t_start = time.time()
for d in range(days + 1):
    day0 = t_base + d * DAY
    if d > 0:
        set_clock(day0 + 1800)
        prev = day_of(day0 - DAY)
        jcount[prev] = journal_count(prev)
        rc = reporter(day0 + 1800)
        runs.append((prev, rc, journal_days(), state_counts()))
        note('reported', prev, 'rc', rc, runs[-1][2], runs[-1][3])
    fetches.append(nginx_fetches('mta-sts.enforce.test'))
    if d == days:
        break
    pol = ('version: STSv1\nmode: enforce\nmx: mx.idchange.test\n'
           'mx: d%d.idchange.test\nmax_age: 86400\n' % d)
    run_lab('set-policy', 'idchange.test', '-', stdin=pol)
    run_lab('set-txt', 'idchange.test', 'v=STSv1; id=soak%d;' % d)
    for k in range(steps):
        set_clock(day0 + 1800 + k * DAY // steps)
        seq += 1
        a = step(d, seq)
        if d not in idchange_seen and any(
                'd%d.idchange.test' % d in x for x in a.get('idchange.test', [])):
            idchange_seen[d] = k
        crlf.setdefault(d, []).append(a.get('crlf.test', [''])[-1])
        samples.append((d, k) + sample())
        note('day', d, 'step', k, 'rss/fds', samples[-1][2:],
             'crlf', crlf[d][-1][:40])
    if d % 3 == 0:
        run_lab('set-policy', 'crlf.test', '-', stdin='this is not a policy\n')
    elif d % 3 == 1:
        run_lab('set-policy', 'crlf.test', '--default')
secs = time.time() - t_start
alive = daemon.poll() is None
daemon.send_signal(signal.SIGTERM)
exit_status = daemon.wait()
run_lab('set-policy', 'crlf.test', '--default')
run_lab('set-policy', 'idchange.test', '--default')
run_lab('set-txt', 'idchange.test', '--default')


# --- the reports received -----------------------------------------------------
got = {}                # (domain, day) -> [report-id]
dests = {}              # destination -> n
idpol = {}              # day -> idchange.test's policy texts reported
for fn in sorted(os.listdir(sink)):
    if not fn.endswith('.eml'):
        continue
    m = email.message_from_bytes(open(os.path.join(sink, fn), 'rb').read())
    for part in m.walk():
        if part.get_content_type() == 'application/tlsrpt+gzip':
            rep = json.loads(gzip.decompress(part.get_payload(decode=True)))
            dom = rep['policies'][0]['policy']['policy-domain']
            day = rep['date-range']['start-datetime'][:10]
            got.setdefault((dom, day), []).append(rep['report-id'])
            dests['mailto'] = dests.get('mailto', 0) + 1
            if dom == 'idchange.test':
                idpol.setdefault(day, []).extend(
                    '\n'.join(p['policy'].get('policy-string', []))
                    for p in rep['policies'])
if hsink:
    for fn in sorted(os.listdir(hsink)):
        if fn.endswith('.gz'):
            rep = json.loads(gzip.decompress(open(os.path.join(hsink, fn),
                                                  'rb').read()))
            dom = rep['policies'][0]['policy']['policy-domain']
            day = rep['date-range']['start-datetime'][:10]
            got.setdefault(('https:' + dom, day), []).append(rep['report-id'])
            dests['https'] = dests.get('https', 0) + 1

sim_days = [day_of(t_base + d * DAY) for d in range(days)]
print('days', days)
print('steps_per_day', steps)
print('seconds %.1f' % secs)
for what in ('gate_sent', 'gate_deferred', 'gate_wrong', 'dgram_sent',
             'log_sessions', 'pmap_lookups'):
    print(what, sum(counts.get((d, what), 0) for d in range(days)))
for what in ('gate_deferred', 'dgram_journaled', 'log_journaled'):
    print('journal_' + what, sum(jcount.get(x, {}).get(what, 0)
                                for x in sim_days))
print('reports_received', sum(len(v) for v in got.values()))
for k in sorted(dests):
    print('reports_to_' + k, dests[k])
print('rss_kb', ' '.join(str(s[2]) for s in samples))
print('fds', ' '.join(str(s[3]) for s in samples))
print('threads', ' '.join(str(s[4]) for s in samples))
for r in runs:
    print('state_after_report', r[0], 'journal_days', len(r[2]),
          ' '.join('%s=%d/%d' % (k, v[0], v[1]) for k, v in sorted(r[3].items())))
print('enforce_fetches_per_day', ' '.join(
    str(b - a) for a, b in zip(fetches, fetches[1:])))
print('idchange_seen_at_step', ' '.join('%d:%s' % (d, idchange_seen.get(d, '-'))
                                        for d in range(days)))


def check(name, cond, detail=''):
    print('check %s %s%s' % ('ok' if cond else 'FAIL', name,
                             ' :: ' + detail if detail else ''))


check('the daemon ran the whole time', alive)
check('the daemon stopped cleanly (exit status 0; under ASan: no leak)',
      exit_status == 0, 'exit status %s' % exit_status)
check('gate: every reply as the policy says',
      sum(counts.get((d, 'gate_wrong'), 0) for d in range(days)) == 0)
# journals rotated daily: each simulated day has its own file holding
# exactly that day's records of each source
for i, x in enumerate(sim_days):
    jc = jcount.get(x, {})
    want = (counts.get((i, 'gate_deferred'), 0), counts.get((i, 'dgram_sent'), 0),
            counts.get((i, 'log_sessions'), 0))
    have = (jc.get('gate_deferred', 0), jc.get('dgram_journaled', 0),
            jc.get('log_journaled', 0))
    check('day %d (%s): its journal file holds its deferrals, datagrams and '
          'log sessions' % (i, x), want == have and want[0] > 0,
          'sent %s, journaled %s' % (want, have))
# one report per domain per day
for i, x in enumerate(sim_days):
    bad = {dm: len(got.get((dm, x), [])) for dm in REPORTED
           if len(got.get((dm, x), [])) != 1}
    if hsink:
        n = len(got.get(('https:cnonly.test', x), []))
        if n != 1:
            bad['https:cnonly.test'] = n
    check('day %d: one report per domain and destination' % i, not bad,
          'reports received: %s' % bad)
extra = [k for k in got if k[1] not in sim_days]
check('no report for a day not simulated', not extra, str(extra[:3]))
check('every reporter run succeeded', all(r[1] == 0 for r in runs),
      str([(r[0], r[1]) for r in runs]))
# pruned at journal_retention: after the run at day d, journal files of
# days d-retention-... are gone
# (the run at day d removes days d - retention - 1 and older: kept are
# d - retention .. d - 1, and d once it has records)
for j, r in enumerate(runs):
    d = j + 1
    want = [day_of(t_base + k * DAY) for k in range(max(0, d - retention), d)]
    have = [x for x in r[2] if x != day_of(t_base + d * DAY)]
    check('after reporting %s: the journal days of journal_retention (%d) '
          'kept, older ones removed' % (r[0], retention), have == want,
          'kept %s, want %s' % (have, want))
steady = [r for j, r in enumerate(runs) if j >= retention]
if len(steady) >= 2:
    first, last = steady[0][3], steady[-1][3]
    grown = {k: (first[k][0], last[k][0]) for k in first
             if last[k][0] > first[k][0]}
    check('state_dir: no file count grows once retention is reached', not grown,
          'files (first, last): %s' % grown)
# policies expire and refresh; TXT id changes picked up
# STS-CACHE-3/4: refetched at least every half max_age (12 h) with an
# unchanged id, so every day at least once (the first day: the discovery)
per_day = [b - a for a, b in zip(fetches, fetches[1:])]
check('enforce.test (id unchanged): its policy refetched every day',
      len(per_day) == days and all(n >= 1 for n in per_day),
      'fetches per day: %s' % per_day)
check('idchange.test: each new policy (new TXT id) picked up the same day',
      all(d in idchange_seen for d in range(days)),
      'days seen: %s' % sorted(idchange_seen))
check("idchange.test: each day's report carries that day's policy",
      all(any('mx: d%d.idchange.test' % d in t for t in idpol.get(x, []))
          for d, x in enumerate(sim_days)),
      str({x: len(v) for x, v in idpol.items()}))
broken = [d for d in range(days) if d % 3 == 1]
for d in broken:
    check('crlf.test: its policy (max_age 1 day) expires while its host '
          'serves garbage (day %d)' % d, 'secure' not in crlf[d][-1],
          str(crlf[d]))
for d in range(days):
    if d % 3 == 2:
        check('crlf.test: fetched again once its host serves it (day %d)' % d,
              'secure' in crlf[d][-1], str(crlf[d]))
# memory and descriptors flat (after the first day: caches warm)
warm = [s for s in samples if s[0] >= 1]
if warm:
    f0, f1 = warm[0][3], max(s[3] for s in warm)
    check('open descriptors flat', f1 - f0 <= 2,
          'after day 0: %d, max later: %d' % (f0, f1))
    r0, r1 = warm[0][2], warm[-1][2]
    check('RSS flat', r1 <= r0 * 1.10 + 1024,
          'after day 0: %d kB, at the end: %d kB' % (r0, r1))
    h = samples[len(samples) // 2][2]
    check('RSS flat in the second half of the run', r1 - h <= max(1024, h // 25),
          'at the half: %d kB, at the end: %d kB' % (h, r1))
