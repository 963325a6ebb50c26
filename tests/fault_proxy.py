# SPDX-License-Identifier: MIT
"""A fault-injecting HTTP proxy for the host tests (tests/host/http_flaky.sh, fleet_flaky.sh).

It stands in front of a REAL web server (lighttpd) because lighttpd cannot misbehave on
demand: every request is passed on to lighttpd and lighttpd's answer is passed back, except
that, counting requests from 1 across all connections, the proxy can
  --status-every N CODE   answer CODE (503, 429, 408...) itself to every Nth request
  --retry-after S         ... with a Retry-After of S seconds
  --trickle-every N RATE  send every Nth answer (offset by N/2) at RATE bytes a second
  --corrupt-every N OFF   flip one byte in the body of every Nth answer starting at or past
                          package offset OFF (the chunks: the header and manifest are signed)
  --corrupt-first N OFF   ... in each of the first N such answers
  --strip-etag-every N    drop the ETag header of every Nth answer (as some proxies do)
  --gzip                  gzip every body and say Content-Encoding: gzip (a misconfigured CDN)
  --tls CERT KEY          speak HTTPS to the clients (lighttpd behind it speaks plain HTTP)
Client connections are kept alive; each request goes to lighttpd on a connection of its own.
Every request is logged to --log as "N FAULT STATUS BOARD RANGE".
"""
import argparse
import gzip
import socket
import socketserver
import ssl
import sys
import threading
import time

lock = threading.Lock()
counter = [0]
counts = {}


def read_head(f):
    lines = []
    while True:
        line = f.readline(65536)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.rstrip(b"\r\n"))


def header(lines, name):
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            return v.strip().decode("latin-1")
    return ""


def fetch_upstream(args, head_lines, body):
    """The request as lighttpd answers it: status line, header lines, body."""
    req = [line for line in head_lines if not line.lower().startswith(b"connection:")]
    data = b"\r\n".join(req) + b"\r\nConnection: close\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", args.upstream), timeout=30) as s:
        s.sendall(data)
        f = s.makefile("rb")
        lines = read_head(f)
        rest = f.read()
    return lines, rest


def send_slowly(conn, data, rate):
    piece = max(1, rate // 10)
    for i in range(0, len(data), piece):
        conn.sendall(data[i:i + piece])
        time.sleep(piece / rate)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        args = self.server.args
        conn = self.request
        if args.tls:
            try:
                conn = self.server.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return
        f = conn.makefile("rb")
        try:
            while self.one(conn, f, args):
                pass
        except (OSError, ssl.SSLError):
            pass  # the client dropped the connection (as it does with a trickling answer)

    def one(self, conn, f, args):
        lines = read_head(f)
        if not lines:
            return False
        length = int(header(lines, b"content-length") or 0)
        body = f.read(length) if length else b""
        with lock:
            counter[0] += 1
            n = counter[0]
        board = header(lines, b"x-selfflash-board") or "-"
        rng = header(lines, b"range") or "-"
        start = int(rng[6:].split("-")[0]) if rng.startswith("bytes=") else 0
        fault = "-"
        if args.status_every and n % args.status_every[0] == 0:
            code = args.status_every[1]
            extra = "Retry-After: %d\r\n" % args.retry_after if args.retry_after else ""
            answer = ("HTTP/1.1 %d Busy\r\n%sContent-Length: 0\r\n\r\n" % (code, extra)).encode()
            self.log(n, "status", code, board, rng)
            conn.sendall(answer)
            return True
        up_lines, up_body = fetch_upstream(args, lines, body)
        status = int(up_lines[0].split()[1])
        out = [up_lines[0]] + [line for line in up_lines[1:]
                               if not line.lower().startswith((b"connection:", b"keep-alive:"))]
        if args.strip_etag_every and n % args.strip_etag_every == 0:
            out = [line for line in out if not line.lower().startswith(b"etag:")]
            fault = "no-etag"
        if status == 206 and start >= args.corrupt_offset and up_body and (
                (args.corrupt_every and n % args.corrupt_every == 0) or counts.get("corrupt", 0) < args.corrupt_first):
            with lock:
                counts["corrupt"] = counts.get("corrupt", 0) + 1
            b = bytearray(up_body)
            b[len(b) // 2] ^= 0xFF
            up_body = bytes(b)
            fault = "corrupt"
        if args.gzip and up_body:
            up_body = gzip.compress(up_body)
            out = [line for line in out if not line.lower().startswith(b"content-length:")]
            out += [b"Content-Encoding: gzip", b"Content-Length: %d" % len(up_body)]
            fault = "gzip"
        data = b"\r\n".join(out) + b"\r\n\r\n" + up_body
        every = args.trickle_every
        if every and n % every[0] == every[0] // 2:
            self.log(n, "trickle", status, board, rng)
            send_slowly(conn, data, every[1])
            return True
        self.log(n, fault, status, board, rng)
        conn.sendall(data)
        return True

    def log(self, n, fault, status, board, rng):
        with lock:
            self.server.log.write("%d %s %s %s %s\n" % (n, fault, status, board, rng))
            self.server.log.flush()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--status-every", nargs=2, type=int)
    p.add_argument("--retry-after", type=int, default=0)
    p.add_argument("--trickle-every", nargs=2, type=int)
    p.add_argument("--corrupt-every", type=int, default=0)
    p.add_argument("--corrupt-first", type=int, default=0)
    p.add_argument("--corrupt-offset", type=int, default=1 << 62)
    p.add_argument("--strip-etag-every", type=int, default=0)
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--tls", nargs=2)
    args = p.parse_args()
    srv = Server(("127.0.0.1", args.listen), Handler)
    srv.args = args
    srv.log = open(args.log, "a")
    if args.tls:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(args.tls[0], args.tls[1])
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
