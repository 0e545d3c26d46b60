#!/usr/bin/env python3
# See LICENSE file for copyright and license details.
"""An HTTPS client for the server tests, speaking HTTP/2 (Python's h2
module, Debian's python3-h2) where the server offers it by ALPN and
HTTP/1.1 where it does not, as Makini's client does. It sends what curl
cannot: many streams at once, streams that stall, streams reset mid-body.
Loopback only; every socket has a deadline.

	h2-client.py CMD URL CAFILE ARGS...

post BODY SIG [nolength]
	One signed POST of file BODY, with a Content-Length or, with
	nolength, without one (chunked over HTTP/1.1). Prints "PROTO STATUS"
	and then the answer's body.
many DIR CONNS
	Posts every DIR/*.json, signed with DIR/*.sig, spread over CONNS
	connections; over HTTP/2 all of a connection's streams are open at
	once. Prints "NAME PROTO STATUS" for each, then "connections N",
	the number of TLS connections used, and "streams-at-once N", the most
	streams open at once on one connection.
stall CONNS STREAMS BODY SIG [SETTLE [ROUNDS]]
	CONNS connections each open STREAMS streams (HTTP/2; as many as the
	server allows at once) that send a request head with a Content-Length
	of 1000 and one byte of body, then nothing; over HTTP/1.1 each
	connection holds one such request. After SETTLE seconds (2) ROUNDS
	signed POSTs of BODY (1), half a second apart, each on a fresh
	connection. Prints "PROTO STATUS SECONDS" for each ("none" as STATUS
	when no answer came within 10 s).
trickle CLIENTS BODY SIG [SETTLE [ROUNDS]]
	CLIENTS HTTP/1.1 connections each send a request head with a
	Content-Length of 1000, then one byte of body every half second; after
	SETTLE seconds (2), signed POSTs as for stall.
reset BODY SIG [nolength]
	Sends the head and half of BODY, then resets the stream (HTTP/2
	RST_STREAM) or closes the connection (HTTP/1.1). Prints "PROTO".
"""
import os
import selectors
import socket
import ssl
import sys
import threading
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

DEADLINE = 10.0


class Target:
    def __init__(self, url, cafile):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 443
        self.path = u.path or "/"
        self.authority = u.netloc
        self.cafile = cafile
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])

    def connect(self):
        """A TLS socket and the protocol ALPN settled on."""
        raw = socket.create_connection((self.host, self.port),
                                       timeout=DEADLINE)
        s = self.ctx.wrap_socket(raw, server_hostname=self.host)
        proto = s.selected_alpn_protocol() or "http/1.1"
        return s, ("h2" if proto == "h2" else "http/1.1")


class H2:
    """One HTTP/2 connection: streams whose bodies are sent as flow
    control allows, and answers gathered per stream."""

    def __init__(self, sock, target):
        self.sock, self.t = sock, target
        cfg = h2.config.H2Configuration(client_side=True,
                                        header_encoding="utf-8")
        self.c = h2.connection.H2Connection(config=cfg)
        self.c.initiate_connection()
        self.pending = {}       # stream id -> bytes still to send
        self.finish = {}        # stream id -> end the stream when sent
        self.status = {}
        self.body = {}
        self.done = set()
        self.settled = False
        self.flush()
        # The server's SETTINGS first: its bound on concurrent streams
        # (a stream opened past it is refused).
        end = time.monotonic() + DEADLINE
        while not self.settled and time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                if not self.receive():
                    break
            except socket.timeout:
                break
        self.sock.settimeout(DEADLINE)

    def flush(self):
        data = self.c.data_to_send()
        if data:
            self.sock.sendall(data)

    def open(self, sig, body, length=True, send=None, end=True):
        """Opens a POST stream; sends `send` bytes of body (all by
        default) and ends the stream when all is sent and end is true."""
        sid = self.c.get_next_available_stream_id()
        headers = [(":method", "POST"), (":path", self.t.path),
                   (":scheme", "https"), (":authority", self.t.authority),
                   ("content-type", "application/json")]
        if sig is not None:
            headers.append(("x-webhook-signature", sig))
        if length:
            headers.append(("content-length", str(len(body))))
        self.c.send_headers(sid, headers)
        self.pending[sid] = body if send is None else body[:send]
        self.finish[sid] = end
        self.status[sid] = None
        self.body[sid] = b""
        self.push()
        return sid

    def push(self):
        for sid in list(self.pending):
            data = self.pending[sid]
            while data:
                try:
                    room = min(self.c.local_flow_control_window(sid),
                               self.c.max_outbound_frame_size)
                except h2.exceptions.StreamClosedError:
                    data = b""
                    break
                if room <= 0:
                    break
                self.c.send_data(sid, data[:room])
                data = data[room:]
            self.pending[sid] = data
            if not data:
                del self.pending[sid]
                if self.finish.pop(sid):
                    try:
                        self.c.end_stream(sid)
                    except h2.exceptions.StreamClosedError:
                        pass
        self.flush()

    def receive(self):
        """Reads once from the socket; false when it is closed."""
        data = self.sock.recv(65536)
        if not data:
            return False
        for ev in self.c.receive_data(data):
            sid = getattr(ev, "stream_id", None)
            if isinstance(ev, h2.events.ResponseReceived):
                self.status[sid] = dict(ev.headers)[":status"]
            elif isinstance(ev, h2.events.DataReceived):
                self.body[sid] += ev.data
                self.c.acknowledge_received_data(
                    ev.flow_controlled_length, sid)
            elif isinstance(ev, (h2.events.StreamEnded,
                                 h2.events.StreamReset)):
                self.done.add(sid)
                self.pending.pop(sid, None)
                self.finish.pop(sid, None)
            elif isinstance(ev, h2.events.RemoteSettingsChanged):
                self.settled = True
            elif isinstance(ev, h2.events.ConnectionTerminated):
                return False
        self.push()
        return True

    def wait(self, sids):
        end = time.monotonic() + DEADLINE
        while not set(sids) <= self.done and time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                if not self.receive():
                    break
            except socket.timeout:
                break


def h1_request(t, sig, body, length=True, send=None):
    head = "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n" \
        % (t.path, t.authority)
    if sig is not None:
        head += "X-Webhook-Signature: %s\r\n" % sig
    part = body if send is None else body[:send]
    if length:
        head += "Content-Length: %d\r\n\r\n" % len(body)
        return head.encode() + part
    head += "Transfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part[i:i + 4096]),
                                         part[i:i + 4096])
                      for i in range(0, len(part), 4096))
    return head.encode() + chunks + (b"0\r\n\r\n" if send is None else b"")


def h1_answer(s):
    """Status and body of one HTTP/1.1 answer on s."""
    got = b""
    while b"\r\n\r\n" not in got:
        data = s.recv(65536)
        if not data:
            return None, b""
        got += data
    head, rest = got.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split()[1]
    fields = {k.strip().lower(): v.strip() for k, v in
              (l.split(":", 1) for l in lines[1:] if ":" in l)}
    if "content-length" in fields:
        n = int(fields["content-length"])
        while len(rest) < n:
            data = s.recv(65536)
            if not data:
                break
            rest += data
        return status, rest[:n]
    if fields.get("transfer-encoding", "").lower() == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            data = s.recv(65536)
            if not data:
                break
            rest += data
        out = b""
        while rest:
            size, rest = rest.split(b"\r\n", 1)
            n = int(size.split(b";")[0], 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        return status, out
    while True:
        data = s.recv(65536)
        if not data:
            break
        rest += data
    return status, rest


def post(t, sig, body, length=True):
    """One POST on a fresh connection: (proto, status, answer body)."""
    s, proto = t.connect()
    try:
        if proto == "h2":
            c = H2(s, t)
            sid = c.open(sig, body, length)
            c.wait([sid])
            return proto, c.status[sid] or "none", c.body[sid]
        s.sendall(h1_request(t, sig, body, length))
        status, answer = h1_answer(s)
        return proto, status or "none", answer
    except OSError:
        return proto, "none", b""
    finally:
        s.close()


def timed_post(t, body, sig):
    start = time.monotonic()
    proto, status, _ = post(t, sig, body)
    return "%s %s %.3f" % (proto, status, time.monotonic() - start)


def cmd_post(t, args):
    body = open(args[0], "rb").read()
    proto, status, answer = post(t, args[1], body,
                                 not (len(args) > 2 and args[2] == "nolength"))
    sys.stdout.write("%s %s\n" % (proto, status))
    sys.stdout.write(answer.decode("utf-8", "replace"))


def cmd_many(t, args):
    d, conns = args[0], int(args[1])
    names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".json"))
    groups = [names[i::conns] for i in range(conns)]
    results = {}
    most = [0]

    def run(group):
        s, proto = t.connect()
        if proto == "h2":
            c = H2(s, t)
            sids = {}
            queue = list(group)
            # A CGI setup starts a process per event, one after another
            # under fcgiwrap: give the whole batch a minute.
            end = time.monotonic() + 6 * DEADLINE
            # As many streams at once as the server allows.
            while queue or not set(sids.values()) <= c.done:
                while queue and (c.c.open_outbound_streams <
                                 c.c.remote_settings.max_concurrent_streams):
                    n = queue.pop(0)
                    body = open(os.path.join(d, n + ".json"), "rb").read()
                    sig = open(os.path.join(d, n + ".sig")).read().strip()
                    sids[n] = c.open(sig, body)
                most[0] = max(most[0], c.c.open_outbound_streams)
                if time.monotonic() > end:
                    break
                s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    if not c.receive():
                        break
                except socket.timeout:
                    break
            for n, sid in sids.items():
                results[n] = (proto, c.status[sid] or "none")
        else:
            for n in group:
                body = open(os.path.join(d, n + ".json"), "rb").read()
                sig = open(os.path.join(d, n + ".sig")).read().strip()
                s.sendall(h1_request(t, sig, body))
                status, _ = h1_answer(s)
                results[n] = (proto, status or "none")
        s.close()

    threads = [threading.Thread(target=run, args=(g,)) for g in groups]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for n in names:
        print("%s %s %s" % ((n,) + results.get(n, ("-", "none"))))
    print("streams-at-once %d" % most[0])
    print("connections %d" % conns)


class Holder:
    """Keeps connections whose requests stall serviced (HTTP/2 pings and
    settings answered) until stopped."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.conns = []
        self.reset = 0
        self.closed = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def add(self, s, c):
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ, c)
        self.conns.append(s)

    def loop(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(0.1):
                try:
                    data = key.fileobj.recv(65536)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.sel.unregister(key.fileobj)
                    self.closed += 1
                    continue
                c = key.data
                if c is not None:
                    try:
                        for ev in c.c.receive_data(data):
                            if isinstance(ev, h2.events.StreamReset):
                                self.reset += 1
                            elif isinstance(ev,
                                            h2.events.ConnectionTerminated):
                                self.closed += 1
                        out = c.c.data_to_send()
                        if out:
                            key.fileobj.setblocking(True)
                            key.fileobj.sendall(out)
                            key.fileobj.setblocking(False)
                    except (h2.exceptions.ProtocolError, OSError):
                        self.sel.unregister(key.fileobj)

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.conns:
            try:
                s.close()
            except OSError:
                pass


def cmd_stall(t, args):
    conns, streams = int(args[0]), int(args[1])
    body = open(args[2], "rb").read()
    settle = float(args[4]) if len(args) > 4 else 2.0
    rounds = int(args[5]) if len(args) > 5 else 1
    holder = Holder()
    filler = b"{" + b" " * 999
    opened = 0
    for _ in range(conns):
        s, proto = t.connect()
        if proto == "h2":
            c = H2(s, t)
            # Within the server's SETTINGS_MAX_CONCURRENT_STREAMS: past
            # it the server would close the connection, and nothing
            # would stall.
            limit = c.c.remote_settings.max_concurrent_streams
            for _ in range(min(streams, limit)):
                c.open(None, filler, send=1, end=False)
                opened += 1
            holder.add(s, c)
        else:
            s.sendall(h1_request(t, None, filler, send=1))
            opened += 1
            holder.add(s, None)
    holder.thread.start()
    time.sleep(settle)
    for _ in range(rounds):
        print(timed_post(t, body, args[3]), flush=True)
        time.sleep(0.5)
    print("stalled %d of %d streams, %d resets, %d connections closed" %
          (opened - holder.reset, opened, holder.reset, holder.closed),
          file=sys.stderr)
    holder.close()


def cmd_trickle(t, args):
    clients = int(args[0])
    body = open(args[1], "rb").read()
    settle = float(args[3]) if len(args) > 3 else 2.0
    rounds = int(args[4]) if len(args) > 4 else 1
    ctx = ssl.create_default_context(cafile=t.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    stop = threading.Event()
    held = []
    filler = b"{" + b" " * 999

    def trickle():
        try:
            raw = socket.create_connection((t.host, t.port), timeout=DEADLINE)
            s = ctx.wrap_socket(raw, server_hostname=t.host)
            held.append(s)
            s.sendall(h1_request(t, None, filler, send=1))
            while not stop.wait(0.5):
                s.sendall(b" ")
        except OSError:
            pass

    threads = [threading.Thread(target=trickle, daemon=True)
               for _ in range(clients)]
    for th in threads:
        th.start()
    time.sleep(settle)
    for _ in range(rounds):
        print(timed_post(t, body, args[2]), flush=True)
        time.sleep(0.5)
    stop.set()
    for th in threads:
        th.join()
    for s in held:
        s.close()


def cmd_reset(t, args):
    body = open(args[0], "rb").read()
    length = not (len(args) > 2 and args[2] == "nolength")
    half = len(body) // 2
    s, proto = t.connect()
    if proto == "h2":
        c = H2(s, t)
        sid = c.open(args[1], body, length, send=half, end=False)
        time.sleep(0.3)
        c.c.reset_stream(sid, error_code=8)     # CANCEL
        c.flush()
        time.sleep(0.3)
    else:
        s.sendall(h1_request(t, args[1], body, length, send=half))
        time.sleep(0.3)
    s.close()
    print(proto)


def main():
    cmd, url, cafile = sys.argv[1:4]
    t = Target(url, cafile)
    {"post": cmd_post, "many": cmd_many, "stall": cmd_stall,
     "trickle": cmd_trickle, "reset": cmd_reset}[cmd](t, sys.argv[4:])


if __name__ == "__main__":
    main()
