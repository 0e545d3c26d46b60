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

  powercut.py cut --mount MOUNTPOINT --cut-file F --seconds T
      Sleeps a random time below T, then cuts as above.

  powercut.py check --results RESULTS --spool DIR --secret S --cut-file F
                    [--queue] [--summary FILE --label L]
      After the remount. An answer counts as acknowledged only if it
      ended before the cut began. Spool mode: every acknowledged id is in
      new/, byte for byte. Queue mode: each is in exactly one of
      new/<id>.json, a claim new/<id>.json.claim.*, cur/ or failed/.
      Either way every event file left is a whole event we sent, signed
      with the secret (its HMAC is that of a body sent), and tmp/ holds
      no file. Prints one line of counts; exits 1 when anything is lost,
      torn, doubled or left in tmp/.
"""
import argparse
import base64
import glob
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import threading
import time

# client.py is imported from beside this file, leaving no __pycache__.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402


def cut(mount, cut_file):
    start = time.time()
    rc = subprocess.run(["xfs_io", "-x", "-c", "shutdown", mount]).returncode
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
            rc = cut(args.cut, args.cut_file)
            time.sleep(0.3)
        else:
            time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()
    return rc


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
    with open(args.results) as f:
        for line in f:
            r = json.loads(line)
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
              "late": len(late), "late_missing": late_missing}
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
    bad = lost or differ or torn or doubled or in_tmp or not acked
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
    args = p.parse_args()
    if args.cmd == "send":
        return send(args)
    if args.cmd == "cut":
        time.sleep(random.uniform(0.05, args.seconds))
        return cut(args.mount, args.cut_file)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
