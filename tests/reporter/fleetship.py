#!/usr/bin/python3
# fleetship.py - put a node's journal into Redis as the shipper does
# (FLEET.md, README "Running a fleet"), for reporter tests that need
# exact shipped content without running daemons
#
# usage: fleetship.py SOCKET PREFIX NODE STATE_DIR [--close DAY] [--from N]
#
# Every journal line of STATE_DIR/journal/<day>.jnl (from its N-th
# line, default 0) is RPUSHed to PREFIX j:<day>:<NODE>, NODE added to
# PREFIX day:<day>:nodes, every policy text of STATE_DIR/policies to
# PREFIX ptext:<hash>; --close DAY sets PREFIX closed:<NODE> (the
# node's watermark).  One redis-cli --pipe per call.
import os
import subprocess
import sys


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def main():
    sock, prefix, node, state = sys.argv[1:5]
    opts = sys.argv[5:]
    close = opts[opts.index("--close") + 1] if "--close" in opts else None
    skip = int(opts[opts.index("--from") + 1]) if "--from" in opts else 0
    cmds = []
    jd = os.path.join(state, "journal")
    for f in sorted(os.listdir(jd)) if os.path.isdir(jd) else []:
        if not f.endswith(".jnl"):
            continue
        day = f[:-4]
        with open(os.path.join(jd, f), "rb") as j:
            lines = j.read().splitlines()[skip:]
        for line in lines:
            cmds.append(resp("RPUSH", prefix + "j:%s:%s" % (day, node), line))
        cmds.append(resp("SADD", prefix + "day:%s:nodes" % day, node))
    pd = os.path.join(state, "policies")
    for f in sorted(os.listdir(pd)) if os.path.isdir(pd) else []:
        with open(os.path.join(pd, f), "rb") as p:
            cmds.append(resp("SET", prefix + "ptext:" + f[:-4], p.read()))
    if close:
        cmds.append(resp("SET", prefix + "closed:" + node, close))
    p = subprocess.run(["redis-cli", "-s", sock, "--pipe"], input=b"".join(cmds),
                       capture_output=True)
    if p.returncode != 0 or b"errors: 0" not in p.stdout:
        sys.stderr.write(p.stdout.decode() + p.stderr.decode())
        sys.exit(1)


if __name__ == "__main__":
    main()
