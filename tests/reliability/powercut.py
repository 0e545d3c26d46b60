#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""Power-cut client and checker for tests/t6700-power-cut.sh.

  powercut.py send --url URL --secret S --out RESULTS --seconds T
                   [--threads N] [--cut MOUNTPOINT --cut-file F]
      Posts signed events from N threads (client.py's sender: mixed
      sizes, every signature spelling) for T seconds after the first 200,
      and records each answer in RESULTS. With --cut, at a random moment
      within those T seconds the file system at MOUNTPOINT is shut down without a log flush
      (xfs_io -x -c shutdown), the stand-in for a power cut; its start
      and end times go to F, and posting goes on for 0.3 s more.

      With --types, only those event types are sent (for many writers
      on one new/). With --image IMAGE --copy FILE, the loop device's
      backing file IMAGE is copied to FILE right after the cut: on ext4
      without a journal the unmount after a shutdown still writes the
      directory blocks that the kernel holds, so there the copy, not the
      remounted file system, is what a power cut would have left.

  powercut.py cut --mount MOUNTPOINT --cut-file F --seconds T
      Sleeps a random time below T, then cuts as above.

  powercut.py hold --new DIR --owner UID
      Takes the lock of DIR's shared sync (src/spool_sync.c), making its
      file for UID when missing, prints "held" and stops itself (SIGSTOP):
      a receiver stopped or killed while it syncs, as the others see it.

  powercut.py shared --file PATH
      Prints the counters of a shared sync's file (/dev/shm/...):
      "linked N synced N syncs N", all 0 when it was never used.

  powercut.py check --results RESULTS --spool DIR --secret S --cut-file F
                    [--queue] [--summary FILE --label L]
      After the remount. An answer counts as acknowledged only if it
      ended before the cut began. Spool mode: every acknowledged id is in
      new/, byte for byte. Queue mode: each is in exactly one of
      new/<id>.json, a claim new/<id>.json.claim.*, cur/ or failed/.
      Either way every event file left is a whole event we sent, signed
      with the secret (its HMAC is that of a body sent), and tmp/ holds
      no file. Prints one line of counts; exits 1 when anything is lost,
      torn, doubled or left in tmp/. With --max-seconds, also when an
      answer that ended before the cut took longer than that.
"""
import argparse
import base64
import fcntl
import glob
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

# client.py is imported from beside this file, leaving no __pycache__.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402


def cut(mount, cut_file, image=None, copy=None):
    start = time.time()
    rc = subprocess.run(["xfs_io", "-x", "-c", "shutdown", mount]).returncode
    if image and rc == 0:
        # What the loop device has written, and nothing that the file
        # system still holds in memory (see --image).
        shutil.copyfile(image, copy)
    end = time.time()
    with open(cut_file, "w") as f:
        json.dump({"start": start, "end": end, "rc": rc}, f)
    return rc


class Records:
    """The results file, noting when the first 200 arrives."""

    def __init__(self, f):
        self.f = f
        self.acked = threading.Event()

    def write(self, line):
        self.f.write(line)
        if json.loads(line).get("status") == 200:
            self.acked.set()


def send(args):
    stop = threading.Event()
    lock = threading.Lock()
    args.phase = "cut"
    args.timeout = 20
    rc = 0
    with open(args.out, "a") as f:
        out = Records(f)
        threads = [threading.Thread(target=client.sender,
                                    args=(args, i, stop, lock, out))
                   for i in range(args.threads)]
        for t in threads:
            t.start()
        # Timed from the first 200, which on a loaded machine can take a
        # while: a cut that fell before it would prove nothing.
        out.acked.wait(10)
        if args.cut:
            time.sleep(random.uniform(0, args.seconds))
            rc = cut(args.cut, args.cut_file, args.image, args.copy)
            time.sleep(0.3)
        else:
            time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()
    return rc


def hold(args):
    st = os.stat(args.new)
    path = "/dev/shm/makini-webhook.sync.%x.%x" % (st.st_dev, st.st_ino)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchown(fd, args.owner, -1)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("held", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(3600)


def shared(args):
    """magic, wake, linked, synced, failed, syncs: src/spool_sync.c's
    struct shared."""
    try:
        with open(args.file, "rb") as f:
            data = f.read(40)
        _, _, linked, synced, _, syncs = struct.unpack("=IIQQQQ", data)
    except (OSError, struct.error):
        linked = synced = syncs = 0
    print("linked %d synced %d syncs %d" % (linked, synced, syncs))


def event_files(spool, queue):
    """Every file that holds an event: *.json in new/ (and cur/, failed/
    in queue mode), and claims."""
    dirs = ["new", "cur", "failed"] if queue else ["new"]
    files = []
    for d in dirs:
        for path in glob.glob(os.path.join(spool, "*", d, "*")):
            name = os.path.basename(path)
            if name.endswith(".json") or ".json.claim." in name:
                files.append(path)
            elif name.endswith((".state", ".error")) or name.startswith("."):
                continue
            elif not queue:
                files.append(path)
    return files


def check(args):
    with open(args.cut_file) as f:
        cut_at = json.load(f)["start"]
    secret = args.secret.encode()
    sent = {}
    acked = {}
    late = []
    answers = []
    with open(args.results) as f:
        for line in f:
            r = json.loads(line)
            answers.append(r)
            body = base64.b64decode(r["body"])
            sent[hmac.new(secret, body, hashlib.sha256).digest()] = body
            if r.get("status") == 200 and r.get("id"):
                if r["end"] < cut_at:
                    acked[r["id"]] = body
                else:
                    late.append(r["id"])

    where = {}
    torn = []
    for path in event_files(args.spool, args.queue):
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        try:
            ok = isinstance(json.loads(data), dict)
        except ValueError:
            ok = False
        # Re-verified as the receiver would: signed with the secret.
        mac = hmac.new(secret, data, hashlib.sha256).digest()
        if not data or not ok or mac not in sent or sent[mac] != data:
            torn.append(path)
            continue
        where.setdefault(name.split(".json")[0], []).append(path)

    slowest = max([r["end"] - r["start"] for r in answers
                   if r["end"] < cut_at] or [0])
    lost, doubled, differ = [], [], []
    places = {"new": 0, "claim": 0, "cur": 0, "failed": 0}
    for i, body in acked.items():
        paths = where.get(i, [])
        if not paths:
            lost.append(i)
            continue
        if len(paths) > 1:
            doubled.append(i)
        for p in paths:
            with open(p, "rb") as f:
                if f.read() != body:
                    differ.append(p)
            d = os.path.basename(os.path.dirname(p))
            places["claim" if ".claim." in p else d] += 1
    late_missing = sum(1 for i in late if i not in where)
    in_tmp = [p for p in glob.glob(os.path.join(args.spool, "*", "tmp", "*"))]

    counts = {"label": args.label, "acknowledged": len(acked),
              "lost": len(lost) + len(differ), "torn": len(torn),
              "doubled": len(doubled), "tmp": len(in_tmp),
              "late": len(late), "late_missing": late_missing,
              "slowest": slowest}
    line = ("%-14s acknowledged %5d  lost %4d  torn %3d  doubled %d  "
            "in tmp/ %d  200 after the cut %d (%d of them missing)" % (
                args.label, len(acked), counts["lost"], len(torn),
                len(doubled), len(in_tmp), len(late), late_missing))
    if args.queue:
        counts.update(places)
        line += "  [pending %(new)d, claimed %(claim)d, cur %(cur)d, " \
                "failed %(failed)d]" % places
    print(line)
    for what, items in (("lost", lost), ("not byte-exact", differ),
                        ("torn", torn), ("in two places", doubled),
                        ("left in tmp/", in_tmp)):
        for item in items[:5]:
            print("  %s: %s" % (what, item))
    if args.summary:
        with open(args.summary, "a") as f:
            f.write(json.dumps(counts) + "\n")
    slow = args.max_seconds and slowest > args.max_seconds
    if slow:
        print("  an answer took %.2f s, over %.2f" % (slowest,
                                                     args.max_seconds))
    bad = lost or differ or torn or doubled or in_tmp or not acked or slow
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--url", required=True)
    s.add_argument("--secret", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--threads", type=int, default=6)
    s.add_argument("--cut")
    s.add_argument("--cut-file")
    s.add_argument("--types", nargs="+")
    s.add_argument("--image")
    s.add_argument("--copy")
    c = sub.add_parser("cut")
    c.add_argument("--mount", required=True)
    c.add_argument("--cut-file", required=True)
    c.add_argument("--seconds", type=float, required=True)
    v = sub.add_parser("check")
    v.add_argument("--results", required=True)
    v.add_argument("--spool", required=True)
    v.add_argument("--secret", required=True)
    v.add_argument("--cut-file", required=True)
    v.add_argument("--queue", action="store_true")
    v.add_argument("--summary")
    v.add_argument("--label", default="")
    v.add_argument("--max-seconds", type=float)
    h = sub.add_parser("hold")
    h.add_argument("--new", required=True)
    h.add_argument("--owner", type=int, required=True)
    g = sub.add_parser("shared")
    g.add_argument("--file", required=True)
    args = p.parse_args()
    if args.cmd == "send":
        return send(args)
    if args.cmd == "cut":
        time.sleep(random.uniform(0.05, args.seconds))
        return cut(args.mount, args.cut_file)
    if args.cmd == "hold":
        return hold(args)
    if args.cmd == "shared":
        return shared(args)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
