#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""A sender that behaves as Makini does, for tests/cluster/t2-balancer.sh.

  sender.py send URL SECRET_FILE OUT N RATE [--budget S] [--workers W]
            [--prefix P]

Each of N changes is one POST of {"event": ..., "body": [<fresh id>]},
signed with HMAC-SHA256 of the body (hex, X-Webhook-Signature), with a
10 s timeout; anything but a 200 is tried again after a growing delay
(1, 2, 4... s, at most 8 s), the same bytes each time, until BUDGET seconds
after the change's first try, after which the change counts as
undelivered. The changes start at RATE a second (0: all at once), W at a
time. OUT/changes.tsv gets one line per change:

  record_id  outcome  attempts  first_try  time_of_200  answer_id  event

(outcome "delivered" or "undelivered"; "-" where there is nothing), and
OUT/attempts.tsv one line per attempt: time, record_id, status (a number,
"timeout" or "error"). The last line printed is a summary in JSON.

  sender.py gaps OUT START END

prints the longest time without any 200 between START and END (epoch
seconds), with the time it began, from OUT/attempts.tsv.
"""

import heapq
import hmac
import hashlib
import http.client
import json
import sys
import threading
import time
import urllib.parse
import uuid

TIMEOUT = 10
EVENTS = ("assets.updated", "workOrders.inserted", "materials.deleted",
          "purchaseOrders.updated")


def post(url, body, signature):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80,
                                      timeout=TIMEOUT)
    try:
        conn.request("POST", u.path, body=body, headers={
            "Content-Type": "application/json",
            "X-Webhook-Signature": signature,
            "User-Agent": "makini-sender-test"})
        r = conn.getresponse()
        answer = r.read()
        return r.status, answer
    except TimeoutError:
        return "timeout", b""
    except (OSError, http.client.HTTPException):
        return "error", b""
    finally:
        conn.close()


def send(url, secret_file, out, n, rate, budget, workers, prefix):
    with open(secret_file, "rb") as f:
        secret = f.read().rstrip(b"\n")
    changes = []
    for i in range(n):
        rid = "%s-%s" % (prefix, uuid.uuid4())
        event = EVENTS[i % len(EVENTS)]
        body = json.dumps({"event": event, "body": [rid]}).encode()
        sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
        changes.append({"id": rid, "event": event, "body": body, "sig": sig,
                        "attempts": 0, "first": None, "ok": None,
                        "answer": None, "outcome": None})
    start = time.time()
    heap = [(start + (i / rate if rate > 0 else 0), i) for i in range(n)]
    heapq.heapify(heap)
    lock = threading.Condition()
    attempts = open(out + "/attempts.tsv", "w")
    state = {"left": n}

    def worker():
        while True:
            with lock:
                while True:
                    if state["left"] == 0:
                        return
                    now = time.time()
                    if heap and heap[0][0] <= now:
                        _, i = heapq.heappop(heap)
                        break
                    lock.wait(min(heap[0][0] - now, 1) if heap else 1)
            c = changes[i]
            t = time.time()
            if c["first"] is None:
                c["first"] = t
            c["attempts"] += 1
            status, answer = post(url, c["body"], c["sig"])
            done = time.time()
            with lock:
                attempts.write("%.3f\t%s\t%s\n" % (done, c["id"], status))
                if status == 200:
                    c["ok"] = done
                    c["outcome"] = "delivered"
                    try:
                        c["answer"] = json.loads(answer)["id"]
                    except (ValueError, KeyError):
                        c["answer"] = "?"
                else:
                    delay = min(2 ** (c["attempts"] - 1), 8)
                    if done + delay > c["first"] + budget:
                        c["outcome"] = "undelivered"
                    else:
                        heapq.heappush(heap, (done + delay, i))
                if c["outcome"]:
                    state["left"] -= 1
                lock.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    attempts.close()
    end = time.time()
    with open(out + "/changes.tsv", "w") as f:
        for c in changes:
            f.write("%s\t%s\t%d\t%.3f\t%s\t%s\t%s\n" % (
                c["id"], c["outcome"], c["attempts"], c["first"],
                "%.3f" % c["ok"] if c["ok"] else "-", c["answer"] or "-",
                c["event"]))
    delivered = [c for c in changes if c["outcome"] == "delivered"]
    oks = [c["ok"] for c in delivered]
    waits = [c["ok"] - c["first"] for c in delivered]
    summary = {
        "changes": n,
        "delivered": len(delivered),
        "undelivered": n - len(delivered),
        "attempts": sum(c["attempts"] for c in changes),
        "seconds": round(end - start, 1),
        "per_second": round(len(delivered) / (max(oks) - start), 1)
        if oks else 0,
        "longest_wait": round(max(waits), 1) if waits else 0,
    }
    print(json.dumps(summary))
    return 0


def gaps(out, begin, end):
    oks = []
    with open(out + "/attempts.tsv") as f:
        for line in f:
            t, _, status = line.rstrip("\n").split("\t")
            if status == "200":
                oks.append(float(t))
    oks.sort()
    best, since = 0.0, begin
    last = begin
    for t in oks:
        if t < begin:
            last = t
            continue
        if t > end:
            if t - last > best:
                best, since = t - last, last
            break
        if t - last > best:
            best, since = t - last, last
        last = t
    print("%.1f %.3f" % (best, since))
    return 0


def main(argv):
    if len(argv) >= 7 and argv[1] == "send":
        opts = {"--budget": 60.0, "--workers": 16, "--prefix": "chg"}
        rest = argv[7:]
        while rest:
            if len(rest) < 2 or rest[0] not in opts:
                break
            opts[rest[0]] = type(opts[rest[0]])(rest[1])
            rest = rest[2:]
        if not rest:
            return send(argv[2], argv[3], argv[4], int(argv[5]),
                        float(argv[6]), opts["--budget"], opts["--workers"],
                        opts["--prefix"])
    if len(argv) == 5 and argv[1] == "gaps":
        return gaps(argv[2], float(argv[3]), float(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
