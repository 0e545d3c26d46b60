#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""Holds slow clients against a receiver's URL, then times one signed
delivery among them. Loopback only; every socket has a deadline.

	slow-clients.py URL BODY-FILE SIGNATURE [TRICKLERS [IDLE [SETTLE]]]

TRICKLERS clients (64) each send a complete request head with a
Content-Length of 1000 and then one byte of body every half second; IDLE
clients (64) open a connection and send nothing. After SETTLE seconds (3)
one delivery of BODY-FILE, signed with SIGNATURE, is posted on a fresh
connection. Prints "<status> <seconds>" for it, or "none <seconds>" when no
answer came within 10 s.
"""
import socket
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
body = open(sys.argv[2], "rb").read()
signature = sys.argv[3]
tricklers = int(sys.argv[4]) if len(sys.argv) > 4 else 64
idle = int(sys.argv[5]) if len(sys.argv) > 5 else 64
settle = float(sys.argv[6]) if len(sys.argv) > 6 else 3.0
stop = threading.Event()
held = []


def connect():
    s = socket.create_connection((url.hostname, url.port), timeout=10)
    held.append(s)
    return s


def trickle():
    try:
        s = connect()
        s.sendall(("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n"
                   "Content-Type: application/json\r\n\r\n{"
                   % (url.path, url.netloc)).encode())
        while not stop.wait(0.5):
            s.sendall(b" ")
    except OSError:
        pass


threads = [threading.Thread(target=trickle, daemon=True)
           for _ in range(tricklers)]
for t in threads:
    t.start()
for _ in range(idle):
    try:
        connect()
    except OSError:
        pass
time.sleep(settle)

start = time.monotonic()
status = "none"
try:
    s = socket.create_connection((url.hostname, url.port), timeout=10)
    s.sendall(("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
               "Content-Type: application/json\r\nX-Webhook-Signature: %s\r\n"
               "Connection: close\r\n\r\n"
               % (url.path, url.netloc, len(body), signature)).encode() + body)
    answer = s.recv(64)
    if answer.startswith(b"HTTP/1.1 "):
        status = answer[9:12].decode()
except OSError:
    pass
print("%s %.3f" % (status, time.monotonic() - start))
stop.set()
for s in held:
    s.close()
