#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A link slowed down to a set rate (token bucket, host to board), so that a flash lasts long
# enough for its progress (rate, ETA) to be seen: slow_relay.py LISTEN_SOCKET HOST_SOCKET BYTES_PER_S
import os
import socket
import sys
import threading
import time


def pump(src, dst, rate):
    # tokens refill at `rate` bytes per second; a burst of at most 64 KiB keeps the pace even
    burst = 65536
    tokens, last = float(burst), time.monotonic()
    try:
        while True:
            data = src.recv(burst if rate else 1 << 20)
            if not data:
                break
            while rate:
                now = time.monotonic()
                tokens = min(burst, tokens + (now - last) * rate)
                last = now
                if tokens >= len(data):
                    tokens -= len(data)
                    break
                time.sleep((len(data) - tokens) / rate)
            dst.sendall(data)
    except OSError:
        pass
    # one side gone: so is the other, as with a pulled cable
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    listen_path, host_path, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(listen_path)
    ls.listen(4)
    while True:
        board, _ = ls.accept()
        host = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        host.connect(host_path)
        threading.Thread(target=pump, args=(host, board, rate), daemon=True).start()
        threading.Thread(target=pump, args=(board, host, 0), daemon=True).start()


if __name__ == "__main__":
    main()
