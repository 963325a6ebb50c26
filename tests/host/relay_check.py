#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Cases for tests/bench/relay (the bench's rate-limited link): the rate held within 3 % over
# 2 s, bytes intact both ways, one bucket per connection, a board that resets or reads slowly,
# and a clean exit with the totals on SIGTERM. Usage: relay_check.py RELAY_BINARY
import hashlib
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

RELAY = sys.argv[1]
failures = 0


def case(good, name, why=""):
    global failures
    print(("ok " if good else "not ok ") + name, flush=True)
    if not good:
        failures += 1
        print("  " + why, file=sys.stderr, flush=True)


class Host:
    """hostload's stand-in: every connection gets `size` seeded bytes and has what it sends
    back hashed."""

    def __init__(self, path, size):
        self.size = size
        self.got = []  # sha256 of what each connection sent back
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(16)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c, n), daemon=True).start()
            n += 1

    def serve(self, c, n):
        back = threading.Thread(target=self.drain, args=(c,), daemon=True)
        back.start()
        try:
            c.sendall(payload(self.size, 1))
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        back.join()
        c.close()

    def drain(self, c):
        h = hashlib.sha256()
        try:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                h.update(b)
        except OSError:
            pass
        self.got.append(h.hexdigest())


def payload(size, seed):
    return random.Random(seed).randbytes(size)


def board(path, send=b"", slow=False, reset_after=None):
    """Connects through the relay, sends `send`, reads to the end: (sha256, bytes, seconds
    from the first byte to the last)."""
    s = socket.socket(socket.AF_UNIX)
    if slow:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    if send:
        threading.Thread(target=lambda: (s.sendall(send), s.shutdown(socket.SHUT_WR)),
                         daemon=True).start()
    else:
        s.shutdown(socket.SHUT_WR)
    h, n, first, last = hashlib.sha256(), 0, None, None
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        t = time.monotonic()
        if first is None:
            first = t
            n0 = len(b)  # the burst: came at once, not at the rate
        h.update(b)
        n += len(b)
        last = t
        if slow:
            time.sleep(0.002)
        if reset_after is not None and n >= reset_after:
            # SO_LINGER 0: the close is a reset, as when a board loses power
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return None, n, 0
    s.close()
    return h.hexdigest(), n, (n - n0) / (last - first) if last and last > first else 0


def start_relay(d, rate, size):
    hpath, rpath = os.path.join(d, "h.sock"), os.path.join(d, "r.sock")
    host = Host(hpath, size)
    p = subprocess.Popen([RELAY, "--rate", str(rate), rpath, hpath], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    for _ in range(100):
        if os.path.exists(rpath):
            break
        time.sleep(0.02)
    return host, p, rpath


def stop_relay(p):
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        return None, out
    return p.returncode, out


with tempfile.TemporaryDirectory() as d:
    rate = 40_000_000
    size = 2 * rate  # two seconds' worth
    host, relay, rpath = start_relay(d, rate, size)
    back = payload(1 << 20, 2)
    sha, n, r = board(rpath, send=back)
    want = hashlib.sha256(payload(size, 1)).hexdigest()
    case(n == size and sha == want, "relay_host_to_board_bytes_intact", f"{n} of {size} bytes")
    time.sleep(0.2)
    case(hashlib.sha256(back).hexdigest() in host.got, "relay_board_to_host_bytes_intact")
    case(abs(r / rate - 1) < 0.03, "relay_rate_within_3_percent",
         f"{r / 1e6:.2f} MB/s measured, {rate / 1e6:.0f} MB/s asked")

    # a board that resets mid-way; the relay goes on serving the next one
    board(rpath, reset_after=1 << 20)
    case(relay.poll() is None, "relay_survives_a_board_reset")
    code, out = stop_relay(relay)
    case(code == 0 and "relay: total: 2 connections" in out and not os.path.exists(rpath),
         "relay_exits_cleanly_on_sigterm", f"exit {code}, said: {out[-400:]}")
    case("ended: " in out, "relay_reports_the_reset", out[-400:])

with tempfile.TemporaryDirectory() as d:
    # three boards at once: each has its own bucket, so each still gets the whole rate (slow
    # enough for this Python process to keep up with three)
    rate = 8_000_000
    host, relay, rpath = start_relay(d, rate, rate)
    want = hashlib.sha256(payload(rate, 1)).hexdigest()
    results = [None] * 3

    def one(i):
        results[i] = board(rpath)

    start = time.monotonic()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - start
    rates = [x[2] for x in results]
    case(all(x[0] == want for x in results), "relay_three_boards_bytes_intact")
    # A shared bucket would give each board a third of the rate (and take 3 s). The upper
    # bound is the relay's own accuracy; the lower one leaves room for this Python reader,
    # three threads hashing under one lock on two CPUs, which once measured a board 9 % low
    # while the relay held its rate (the cold check on a fresh clone).
    case(all(0.85 < x / rate < 1.05 for x in rates) and took < 1.5,
         "relay_one_bucket_per_connection",
         f"rates {[round(x / 1e6, 2) for x in rates]} MB/s, {took:.2f} s for three boards")
    stop_relay(relay)

with tempfile.TemporaryDirectory() as d:
    # no limit, a board with a tiny receive buffer reading slowly: writes end short, bytes stay
    size = 4 << 20
    host, relay, rpath = start_relay(d, 0, size)
    sha, n, _ = board(rpath, slow=True)
    case(n == size and sha == hashlib.sha256(payload(size, 1)).hexdigest(),
         "relay_slow_board_bytes_intact", f"{n} of {size} bytes")
    # SIGTERM while a board is still connected: it is cut, the relay still exits at once
    s = socket.socket(socket.AF_UNIX)
    s.connect(rpath)
    time.sleep(0.1)
    t0 = time.monotonic()
    code, out = stop_relay(relay)
    s.close()
    case(code == 0 and time.monotonic() - t0 < 2 and "relay stopped" in out,
         "relay_stops_with_a_board_connected", f"exit {code}, said: {out[-400:]}")

sys.exit(1 if failures else 0)
