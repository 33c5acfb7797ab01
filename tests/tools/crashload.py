#!/usr/bin/python3
"""crashload.py - kill -9 sts-milter at random moments while three sources
append records, restart it each time, then count (issue 14, item 2).

usage: crashload.py CONF OUTDIR N [SEED]

CONF names milter_socket, policymap_socket, tlsrpt_socket, postfix_log,
state_dir (read from the file).  The daemon is BUILD/sts-milter -f -c CONF
(env BUILD).  N records are offered in all, a third by each source:

  gate   milter RCPTs to <cN-i@expired.test> (an enforce domain whose MX
         certificate has expired: every RCPT is deferred and the deferral
         journaled before the reply).  ACCEPTED: the milter reply arrived
         (a 4xx reply; any other reply is counted as "not deferred").
  dgram  libtlsrpt datagrams (no-policy-found, next-hop domain
         g<i>.crash.test), one fresh socket each, MSG_DONTWAIT.  A datagram
         is fire-and-forget: the sender is told nothing.  sendto() failing
         (no socket: the daemon is down) is "refused"; a datagram the
         kernel took can still die in the socket queue with the daemon.
         ACCEPTED: it is in the journal (the daemon's acknowledgement);
         the check is that none is journaled twice and none invented.
  log    Postfix smtp(8) sessions appended to postfix_log, two lines each
         (TLS line, then in the next write the delivery line), host
         m<i>.wildcard.test (a policy with mx: *.wildcard.test).  ACCEPTED: the follower's saved position
         (state_dir/postfix-log.pos) is past the session's delivery line.
         After the last, clean run every session is accepted.

While the daemon is down after some kills, a torn record (a record cut
short, as a crash inside write(2) or a full disk leaves it) is appended
to the day's journal file: readers must skip and count exactly those.

Environment: CRASH_RATE records a second per source (150); CRASH_SOURCES
the sources to run (gate,dgram,log); CRASH_NOWARM: do not ask the policy
map for wildcard.test first (its policy is in state_dir/cache already).
Each source offers CRASH_RATE records a second.  Killer: SIGKILL
after a random 0.05-0.8 s of life, restart at once.  At
the end: one clean run that drains the log, SIGTERM, then the journal is
read (J1 lines, CRC checked here) and the counts are printed as
"key value" lines, then one "check ok|FAIL NAME :: detail" line per check.
"""
import errno, json, os, random, signal, socket, subprocess, sys
import threading, time, zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from milter_client import Session, conf_keys  # noqa: E402

conf_path, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else int(time.time())
rnd = random.Random(seed)
build = os.environ.get('BUILD', 'build')
conf = conf_keys(conf_path)
state = conf['state_dir']
msock = conf['milter_socket'].split(':', 1)[1]
pmsock = conf['policymap_socket'].split(':', 1)[1]
dsock = conf['tlsrpt_socket']
logf = conf['postfix_log']
per = total // 3
rate = float(os.environ.get('CRASH_RATE', '150'))   # records/s per source
run_tag = 'c%d' % (seed % 100000)
stop = threading.Event()
lock = threading.Lock()
daemon = None
log = open(os.path.join(out, 'crashload.log'), 'a')


def pace(t0, i):
    """sleep so that record i of a source comes at i / rate"""
    d = t0 + i / rate - time.time()
    if d > 0:
        time.sleep(d)


def note(*a):
    with lock:
        print(time.strftime('%H:%M:%S'), *a, file=log, flush=True)


def start():
    global daemon
    err = open(os.path.join(out, 'milter.log'), 'a')
    daemon = subprocess.Popen([os.path.join(build, 'sts-milter'), '-f', '-c',
                               conf_path], stderr=err, stdout=err)
    with open(os.path.join(out, 'daemon.pid'), 'w') as f:
        f.write('%d\n' % daemon.pid)
    for _ in range(200):
        if all(os.path.exists(p) for p in (msock, pmsock, dsock)) and \
                os.path.exists(os.path.join(state, 'postfix-log.pos')):
            return
        time.sleep(0.02)
    note('daemon did not come up')


def kill9():
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()


# --- the milter source ------------------------------------------------------
gate_sent, gate_acked, gate_other = [], [], []


def milter_session(ids, t0):
    """one milter connection; RCPTs from ids until it fails"""
    m = Session(msock, ('Q%X' % rnd.randrange(1 << 40)).encode())
    while not stop.is_set():
        try:
            i = ids.pop()
        except IndexError:
            break
        pace(t0, per - i)
        rcpt = '%s-%d@expired.test' % (run_tag, i)
        with lock:
            gate_sent.append(rcpt)
        try:
            c, d = m.rcpt(rcpt)
        except OSError:
            return
        with lock:
            if (c == 'y' and d[:1] == '4') or c == 't':
                gate_acked.append(rcpt)
            else:
                gate_other.append((rcpt, c, d[:60]))
    m.close()


def gate_source():
    ids = list(range(per, 0, -1))
    t0 = time.time()
    while ids and not stop.is_set():
        try:
            milter_session(ids, t0)
        except OSError:
            time.sleep(0.02)


# --- the datagram source ----------------------------------------------------
dg_sent, dg_refused, dg_eagain = [], [0], [0]


def dgram_source():
    i = 0
    t0 = time.time()
    while i < per and not stop.is_set():
        pace(t0, i)
        d = 'g%d.%s.crash.test' % (i, run_tag)
        b = ('{"dpv": "1","d": "%s","policies":[{"policy-type":9,"t":0,'
             '"f":0}]}' % d).encode()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(b, socket.MSG_DONTWAIT, dsock)
            dg_sent.append(d)
            i += 1
        except OSError as e:
            if e.errno == errno.EAGAIN:
                dg_eagain[0] += 1
            else:
                dg_refused[0] += 1          # no daemon: libtlsrpt drops it
                i += 1
            time.sleep(0.002)
        finally:
            s.close()


# --- the log source ---------------------------------------------------------
log_ends = []           # (end offset of the delivery line, host)


def log_source():
    """each write holds the delivery lines of the sessions whose TLS lines
    the previous write held, then the TLS lines of new sessions (as
    Postfix logs them, a transaction apart)"""
    i, prev = 0, []
    t0 = time.time()
    with open(logf, 'ab', buffering=0) as f:
        while (i < per or prev) and not stop.is_set():
            pace(t0, i)
            t = time.strftime('%b %e %H:%M:%S')
            chunk, ends, cur = b'', [], []
            for (j, h, pid) in prev:
                chunk += ('%s pm postfix/smtp[%d]: Q%d: to=<a@wildcard.test>,'
                          ' relay=%s[127.0.1.4]:25, status=sent (250 ok)\n'
                          % (t, pid, j, h)).encode()
                ends.append((len(chunk), h))
            for _ in range(rnd.randint(1, 40)):
                if i >= per:
                    break
                h, pid = 'm%d.wildcard.test' % i, 1000 + i % 5000
                chunk += ('%s pm postfix/smtp[%d]: Verified TLS connection '
                          'established to %s[127.0.1.4]:25: TLSv1.3\n'
                          % (t, pid, h)).encode()
                cur.append((i, h, pid))
                i += 1
            off = f.seek(0, os.SEEK_END)
            f.write(chunk)
            log_ends.extend((off + e, h) for e, h in ends)
            prev = cur


# --- torn records -----------------------------------------------------------
torn = [0]


def tear():
    day = time.strftime('%Y-%m-%d', time.gmtime())
    p = os.path.join(state, 'journal', day + '.jnl')
    if not os.path.exists(p):
        return
    rec = json.dumps({'type': 'session', 'time': int(time.time()),
                      'src': 'postfix', 'domain': 'torn.crash.test',
                      'ptype': 'no-policy-found', 'result': 'success'},
                     separators=(',', ':'))
    line = 'J1 %08x %s' % (zlib.crc32(rec.encode()), rec)
    with open(p, 'a') as f:
        f.write(line[:rnd.randint(5, len(line) - 2)])   # no newline
    torn[0] += 1


def warm():
    """ask the policy map for wildcard.test once (the follower journals
    only domains the daemon knows; later starts find it on disk)"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(pmsock)
    q = b'postfix wildcard.test'
    s.sendall(b'%d:%s,' % (len(q), q))
    r = s.recv(65536)
    s.close()
    note('warm-up:', r[:60])
    # the cache file is written after the answer, by the daemon's writer
    # (a background thread): the first kill must not come before it, or
    # no later start knows the domain (a CI run under load lost it once)
    f = os.path.join(state, 'cache', 'wildcard.test')
    for _ in range(500):
        if os.path.exists(f):
            return
        time.sleep(0.02)
    note('warm-up: %s not written' % f)


# --- the run ----------------------------------------------------------------
open(logf, 'ab').close()
t0 = time.time()
start()
if os.environ.get('CRASH_NOWARM') is None:
    warm()
names = os.environ.get('CRASH_SOURCES', 'gate,dgram,log').split(',')
srcs = [threading.Thread(target=f) for n, f in (
    ('gate', gate_source), ('dgram', dgram_source), ('log', log_source))
    if n in names]
for t in srcs:
    t.start()
kills = 0
while any(t.is_alive() for t in srcs):
    time.sleep(rnd.uniform(0.05, 0.8))
    kill9()
    kills += 1
    if kills % 3 == 0:
        tear()
    start()
for t in srcs:
    t.join()
# the last run: let the follower read the whole log, then stop cleanly
size = os.path.getsize(logf)
for _ in range(600):
    try:
        pos = int(open(os.path.join(state, 'postfix-log.pos')).read().split()[2])
    except (OSError, IndexError, ValueError):
        pos = -1
    if pos >= size:
        break
    time.sleep(0.1)
time.sleep(1.5)                   # datagrams still queued
daemon.send_signal(signal.SIGTERM)
daemon.wait()
secs = time.time() - t0

# --- the journal --------------------------------------------------------------
bad, recs = 0, []
jdir = os.path.join(state, 'journal')
for fn in sorted(os.listdir(jdir)):
    for raw in open(os.path.join(jdir, fn), 'rb'):
        ok = False
        if raw.endswith(b'\n') and raw.startswith(b'J1 '):
            body = raw[12:-1]
            try:
                ok = int(raw[3:11], 16) == zlib.crc32(body)
                if ok:
                    recs.append(json.loads(body))
            except ValueError:
                ok = False
        if not ok:
            bad += 1
# what stsctl (the readers' code) counts
st_bad = 0
for fn in sorted(os.listdir(jdir)):
    r = subprocess.run([os.path.join(build, 'stsctl'), '-c', conf_path,
                        'journal', '--day', fn[:10]], capture_output=True,
                       text=True)
    for l in r.stderr.splitlines():
        if 'torn or corrupt records skipped' in l:
            st_bad += int(l.split(': ')[2].split()[0])


def count(key, pred):
    c = {}
    for r in recs:
        if pred(r):
            c[r.get(key)] = c.get(r.get(key), 0) + 1
    return c


g = count('rcpt', lambda r: r['type'] == 'deferral' and
          r.get('rcpt', '').startswith(run_tag + '-'))
d = count('domain', lambda r: r.get('domain', '').endswith(
    '.%s.crash.test' % run_tag))
lg = count('mx', lambda r: r['type'] == 'session' and
           r.get('domain') == 'wildcard.test' and r.get('src') == 'postfix')
pos = int(open(os.path.join(state, 'postfix-log.pos')).read().split()[2])
log_acc = [h for (e, h) in log_ends if e <= pos]
n_other = len(gate_other)

print('seed', seed)
print('seconds %.1f' % secs)
print('kills', kills)
print('offered', 3 * per)
print('gate_rcpts_sent', len(gate_sent))
print('gate_acked', len(gate_acked))
print('gate_not_deferred', n_other)
print('gate_journaled', sum(1 for k in g if k in set(gate_sent)))
print('dgram_sent', len(dg_sent))
print('dgram_refused', dg_refused[0])
print('dgram_journaled', len(d))
print('dgram_lost_in_queue', len(set(dg_sent) - set(d)))
print('log_sessions', len(log_ends))
print('log_accepted', len(log_acc))
print('log_journaled', len([h for h in lg if h.startswith('m')]))
print('torn_written', torn[0])
print('torn_counted', bad)
print('torn_counted_stsctl', st_bad)


def check(name, cond, detail=''):
    print('check %s %s%s' % ('ok' if cond else 'FAIL', name,
                             ' :: ' + detail if detail else ''))


acked = set(gate_acked)
# the checks below hold for a source that got no record through at all:
# each source that ran must have had some accepted
for n, got in (('gate', len(acked)), ('dgram', len(d)), ('log', len(log_acc))):
    if n in names:
        check('%s: some records accepted (else the checks below are empty)' % n,
              got > 0, 'none')
check('gate: every acknowledged RCPT journaled once',
      all(g.get(r, 0) == 1 for r in acked),
      '%d missing, %d twice' % (sum(1 for r in acked if r not in g),
                                sum(1 for r in acked if g.get(r, 0) > 1)))
check('gate: no RCPT journaled twice', all(v == 1 for v in g.values()),
      str([k for k, v in g.items() if v > 1][:5]))
check('gate: no deferral for an RCPT never sent',
      set(g) <= set(gate_sent))
check('gate: every reply was a deferral', n_other == 0,
      str(gate_other[:3]))
check('dgram: none journaled twice', all(v == 1 for v in d.values()),
      str([k for k, v in d.items() if v > 1][:5]))
check('dgram: none invented', set(d) <= set(dg_sent))
check('log: every accepted session journaled once',
      all(lg.get(h, 0) == 1 for h in log_acc),
      '%d missing, %d twice' % (sum(1 for h in log_acc if h not in lg),
                                sum(1 for h in log_acc if lg.get(h, 0) > 1)))
check('log: every session accepted after the last run',
      len(log_acc) == len(log_ends))
check('log: none journaled twice', all(v == 1 for v in lg.values()),
      str([k for k, v in lg.items() if v > 1][:5]))
check('torn records: skipped and counted exactly', bad == torn[0] and
      st_bad == torn[0], 'written %d, counted %d, stsctl %d' %
      (torn[0], bad, st_bad))
