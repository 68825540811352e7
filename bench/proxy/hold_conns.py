#!/usr/bin/env python3
"""Opens N keep-alive connections to a proxy, completes one GET on each, then holds them idle.

scripts/bench reads the proxy's RSS before this starts and while it holds, so the
difference divided by N is the cost of one idle keep-alive client connection.

Prints "ready ok=<n> failed=<n>" once every connection has its response (or --timeout
passed), sleeps --hold seconds, prints "open <n>" (connections the proxy has not closed)
and exits; closing resets the connections (SO_LINGER 0) so that 5,000 client sockets do
not sit in TIME_WAIT afterwards.

Python rather than C++: the holder's own speed and memory do not enter the figure (it
is another process), 5,000 sockets are nothing for epoll, and it needs no build step.
At most --in-flight requests are outstanding at a time, so the proxy's upstream pool
stays at its steady size and the RSS delta is the client connections'.
"""
import argparse
import errno
import selectors
import socket
import struct
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: hold_conns\r\n\r\n"


class conn:
    __slots__ = ("sock", "buf", "connected")

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.connected = False


def response_status(buf):
    """(done, ok) for the bytes received so far of one response with Content-Length."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False, False
    lines = buf[:end].split(b"\r\n")
    ok = lines[0].split(b" ")[1:2] == [b"200"]
    length = 0
    for h in lines[1:]:
        name, _, value = h.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buf) >= end + 4 + length, ok


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--conns", type=int, default=5000)
    p.add_argument("--in-flight", type=int, default=32)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to get all responses")
    p.add_argument("--hold", type=float, default=4.0, help="seconds to hold after ready")
    p.add_argument("--no-request", action="store_true",
                   help="only connect, send nothing (to tell a connection's cost from a request's)")
    a = p.parse_args()

    sel = selectors.DefaultSelector()
    held = []
    to_start, active, ok, failed = a.conns, 0, 0, 0
    deadline = time.monotonic() + a.timeout

    def finish(c, good):
        nonlocal active, ok, failed
        sel.unregister(c.sock)
        active -= 1
        if good:
            ok += 1
            held.append(c.sock)
        else:
            failed += 1
            c.sock.close()

    while (to_start or active) and time.monotonic() < deadline:
        while to_start and active < a.in_flight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.setblocking(False)
            err = s.connect_ex((a.host, a.port))
            to_start -= 1
            if err not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                continue
            active += 1
            sel.register(s, selectors.EVENT_WRITE, conn(s))
        for key, _ in sel.select(timeout=0.5):
            c = key.data
            try:
                if not c.connected:
                    if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        finish(c, False)
                        continue
                    c.connected = True
                    if a.no_request:
                        finish(c, True)
                        continue
                    c.sock.send(REQUEST)  # small enough to go out whole on a fresh socket
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(65536)
            except OSError:
                finish(c, False)
                continue
            if not data:
                finish(c, False)
                continue
            c.buf += data
            done, good = response_status(c.buf)
            if done:
                c.buf = b""
                finish(c, good)

    print(f"ready ok={ok} failed={failed + to_start + active}", flush=True)
    time.sleep(a.hold)
    still_open = 0
    for s in held:
        try:
            still_open += s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
    print(f"open {still_open}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
