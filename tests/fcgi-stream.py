#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""Sends one FastCGI request whose params are the NAME=value arguments and
whose stdin is standard input, cut into records of at most --record bytes,
and writes the application's stdout to standard output, its stderr to
standard error. Unlike cgi-fcgi, it sends the body whatever CONTENT_LENGTH
says, or without one: the empty stdin record alone ends it.

	fcgi-stream.py SOCKET [--record N] [NAME=value ...] <body
"""
import socket
import struct
import sys

BEGIN, END, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7


def record(kind, data=b""):
    return struct.pack(">BBHHBx", 1, kind, 1, len(data), 0) + data


def pair(name, value):
    def size(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return size(len(name)) + size(len(value)) + name + value


def main():
    args = sys.argv[1:]
    path = args.pop(0)
    step = 65535
    if args and args[0] == "--record":
        args.pop(0)
        step = int(args.pop(0))
    params = b"".join(pair(*(s.encode() for s in a.split("=", 1)))
                      for a in args)
    body = sys.stdin.buffer.read()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    out = [record(BEGIN, struct.pack(">HBxxxxx", 1, 0))]
    if params:
        out.append(record(PARAMS, params))
    out.append(record(PARAMS))
    for i in range(0, len(body), step):
        out.append(record(STDIN, body[i:i + step]))
    out.append(record(STDIN))
    s.sendall(b"".join(out))
    buf = b""
    while True:
        while len(buf) >= 8:
            _, kind, _, n, pad = struct.unpack(">BBHHBx", buf[:8])
            if len(buf) < 8 + n + pad:
                break
            data, buf = buf[8:8 + n], buf[8 + n + pad:]
            if kind == STDOUT:
                sys.stdout.buffer.write(data)
            elif kind == STDERR:
                sys.stderr.buffer.write(data)
            elif kind == END:
                return 0
        chunk = s.recv(65536)
        if not chunk:
            return 1
        buf += chunk


sys.exit(main())
