#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""Posts a signed event whose X-Webhook-Signature holds a NUL byte, in
several places, straight over a socket: nul-header.py PORT SECRET PATH.
Prints the status line of each answer."""
import hashlib
import hmac
import socket
import sys

port, secret, path = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
body = b'{"event":"assets.updated","body":["nul"]}'
mac = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
for sig in (mac[:32] + b"\0" + mac[32:], mac + b"\0" + mac, b"\0" + mac,
            b"sha256=\0" + mac, mac + b"\0"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Length: %d\r\nX-Webhook-Signature: %s\r\n\r\n"
              % (path.encode(), len(body), sig) + body)
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    s.close()
    print(answer.split(b"\r\n", 1)[0].decode())
