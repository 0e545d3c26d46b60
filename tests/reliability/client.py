#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""No-loss audit client: sends signed events, records every answer, and
later checks the spool against what was acknowledged.

  client.py send --url URL --secret S --phase NAME --seconds T
                 [--threads N] --out RESULTS
      Posts events from N threads for T seconds and appends one JSON line
      per request to RESULTS: phase, start and end times, status,
      Retry-After, id, and the body (base64). A request that takes longer
      than --timeout seconds is recorded as a hang.

  client.py verify --results RESULTS --spool DIR --phase NAME
                   [--lifted EPOCH] [--expect-gateway-errors]
      Checks the phase: every acknowledged id is in DIR/<type>/new/ and
      holds the body byte for byte; every other answer is 503 with
      Retry-After (with --expect-gateway-errors also the web server's own
      502/503/500 for a worker killed mid-request); no hang; and, with
      --lifted, some event sent after that time was acknowledged (the
      receiver recovered by itself). Prints one summary line and exits 1
      when any check fails.

Only the standard library: http.client and threads.
"""
import argparse
import base64
import glob
import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

TYPES = ["assets", "sites", "workOrders", "purchase-orders", "Materials",
         "locations", "connectionStatuses"]
ACTIONS = ["inserted", "updated", "deleted"]


def sign(secret, body, rnd):
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return rnd.choice([mac.hex(), mac.hex().upper(), "sha256=" + mac.hex(),
                       base64.b64encode(mac).decode()])


def sender(args, tid, stop, lock, out):
    rnd = random.Random(os.getpid() * 1000 + tid)
    host, port = args.url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + args.url.split("//", 1)[1].split("/", 1)[1] \
        if "/" in args.url.split("//", 1)[1] else "/"
    conn = None
    seq = 0
    secret = args.secret.encode()
    while not stop.is_set():
        seq += 1
        nonce = "%s-%d-%d-%d" % (args.phase, os.getpid(), tid, seq)
        types = getattr(args, "types", None) or TYPES
        event = "%s.%s" % (rnd.choice(types), rnd.choice(ACTIONS))
        pad = "".join(rnd.choice("abcdefghij\u00e9\u6f22") for _ in
                      range(rnd.choice([0, 10, 200, 3000])))
        body = json.dumps({"event": event, "body": [nonce], "pad": pad},
                          ensure_ascii=False).encode()
        rec = {"phase": args.phase, "nonce": nonce,
               "body": base64.b64encode(body).decode(),
               "start": time.time()}
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port),
                                                  timeout=args.timeout)
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/json",
                "X-Webhook-Signature": sign(secret, body, rnd)})
            resp = conn.getresponse()
            data = resp.read()
            rec["status"] = resp.status
            rec["retry_after"] = resp.getheader("Retry-After")
            try:
                answer = json.loads(data)
            except ValueError:
                answer = {}
            rec["id"] = answer.get("id") if isinstance(answer, dict) else None
            rec["receiver"] = resp.getheader("Content-Type", "") \
                .startswith("application/json") and isinstance(answer, dict)
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except socket.timeout:
            rec["status"] = "hang"
            conn.close()
            conn = None
        except (OSError, http.client.HTTPException) as e:
            rec["status"] = "conn-error"
            rec["error"] = repr(e)
            if conn is not None:
                conn.close()
            conn = None
        rec["end"] = time.time()
        with lock:
            out.write(json.dumps(rec) + "\n")
    if conn is not None:
        conn.close()


def send(args):
    stop = threading.Event()
    lock = threading.Lock()
    with open(args.out, "a") as out:
        threads = [threading.Thread(target=sender,
                                    args=(args, i, stop, lock, out))
                   for i in range(args.threads)]
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()


def verify(args):
    recs = []
    with open(args.results) as f:
        for line in f:
            r = json.loads(line)
            if r["phase"] == args.phase:
                recs.append(r)
    acked = refused = gateway = lost = corrupt = hang = other = 0
    recovered = 0
    problems = []
    for r in recs:
        st = r["status"]
        if st == 200 and r.get("id"):
            acked += 1
            body = base64.b64decode(r["body"])
            found = glob.glob(os.path.join(args.spool, "*", "new",
                                           r["id"] + ".json"))
            if not found:
                lost += 1
                problems.append("lost: %s (%s)" % (r["id"], r["nonce"]))
            else:
                with open(found[0], "rb") as f:
                    if f.read() != body:
                        corrupt += 1
                        problems.append("not byte-exact: " + found[0])
            if args.lifted and r["start"] > args.lifted:
                recovered += 1
        elif st == 503 and r.get("retry_after") and r.get("receiver"):
            refused += 1
        elif st == "hang":
            hang += 1
            problems.append("hang: " + r["nonce"])
        elif args.expect_gateway_errors and (
                st in (500, 502, 503) or st == "conn-error"):
            # The web server's own answer for a worker that died.
            gateway += 1
        else:
            other += 1
            problems.append("unexpected answer %s (%s)" % (
                st, r.get("error", r.get("retry_after"))))
    print("%-8s sent %6d  acknowledged %6d  refused(503) %5d  "
          "gateway-errors %4d  other %d  hung %d  lost %d  corrupt %d%s%s" % (
              args.phase, len(recs), acked, refused, gateway, other, hang,
              lost, corrupt,
              "  workers-killed %d" % args.kills if args.kills else "",
              "  acknowledged-after-recovery %d" % recovered
              if args.lifted else ""))
    for p in problems[:20]:
        print("  " + p)
    ok = (lost == 0 and corrupt == 0 and hang == 0 and other == 0 and
          len(recs) > 0 and (not args.lifted or recovered > 0))
    if args.summary:
        with open(args.summary, "a") as f:
            f.write(json.dumps({"phase": args.phase, "sent": len(recs),
                                "acknowledged": acked, "refused": refused,
                                "gateway_errors": gateway, "other": other,
                                "hung": hang, "lost": lost,
                                "corrupt": corrupt,
                                "recovered": recovered,
                                "kills": args.kills}) + "\n")
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--url", required=True)
    s.add_argument("--secret", required=True)
    s.add_argument("--phase", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--threads", type=int, default=6)
    s.add_argument("--timeout", type=float, default=20)
    s.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--results", required=True)
    v.add_argument("--spool", required=True)
    v.add_argument("--phase", required=True)
    v.add_argument("--lifted", type=float)
    v.add_argument("--expect-gateway-errors", action="store_true")
    v.add_argument("--summary")
    v.add_argument("--kills", type=int, default=0,
                   help="workers killed during the phase, for the summary")
    args = p.parse_args()
    if args.cmd == "send":
        send(args)
        return 0
    return verify(args)


if __name__ == "__main__":
    sys.exit(main())
