#!/usr/bin/env python3
"""Event stream clients for tests/live/10-api.sh, on raw loopback sockets.

  watch URL TOKEN SECONDS   reads GET /api/stream for SECONDS and prints one
                            JSON line per block: {"arrived_ms", "event", "data"}
                            ("retry" and comments too).
  fill URL TOKEN N          opens N streams, then one more; prints the status
                            codes as "opened=200x64 extra=503".
  stall URL TOKEN SECONDS   opens a stream that never reads, with a small
                            receive buffer, and polls /healthz and /metrics
                            until the daemon drops it; prints the slowest
                            /healthz in ms, whether the stream was dropped and
                            whether the socket was then closed.
"""
import json
import socket
import sys
import time
import urllib.parse
import urllib.request


def now_ms():
    return int(time.time() * 1000)


def open_stream(url, token, rcvbuf=None):
    parts = urllib.parse.urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((parts.hostname, parts.port))
    auth = "Authorization: Bearer %s\r\n" % token if token else ""
    sock.sendall(("GET /api/stream HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (parts.netloc, auth))
                 .encode())
    return sock


def read_status(sock):
    """Reads the response head; returns the status code and what followed it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("the daemon closed the stream before its headers")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return int(head.split(b" ", 2)[1]), head.decode(), rest


def dechunk(buffer):
    """Splits complete chunks off buffer; returns (payload, rest)."""
    payload = b""
    while True:
        line_end = buffer.find(b"\r\n")
        if line_end < 0:
            return payload, buffer
        size = int(buffer[:line_end], 16)
        if len(buffer) < line_end + 2 + size + 2:
            return payload, buffer
        payload += buffer[line_end + 2:line_end + 2 + size]
        buffer = buffer[line_end + 2 + size + 2:]


def watch(url, token, seconds):
    sock = open_stream(url, token)
    status, head, raw = read_status(sock)
    if status != 200:
        raise SystemExit("GET /api/stream: status %d" % status)
    print(json.dumps({"head": head}))
    text = ""
    deadline = time.time() + seconds
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        raw += chunk
        payload, raw = dechunk(raw)
        text += payload.decode()
        while "\n\n" in text:
            block, text = text.split("\n\n", 1)
            print(json.dumps({"arrived_ms": now_ms(), "block": block}))
    sock.close()


def fill(url, token, n):
    socks, codes = [], []
    for _ in range(n):
        sock = open_stream(url, token)
        codes.append(read_status(sock)[0])
        socks.append(sock)
    extra = open_stream(url, token)
    extra_code = read_status(extra)[0]
    for sock in socks + [extra]:
        sock.close()
    opened = sorted(set(codes))
    print("opened=%sx%d extra=%d" % ("/".join(map(str, opened)), len(codes), extra_code))


def metric(url, name):
    text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def stall(url, token, seconds):
    before = metric(url, "advocacyd_stream_clients_dropped_total")
    sock = open_stream(url, token, rcvbuf=4096)
    slowest, dropped = 0, False
    deadline = time.time() + seconds
    while time.time() < deadline and not dropped:
        start = time.time()
        body = urllib.request.urlopen(url + "/healthz", timeout=5).read()
        slowest = max(slowest, int((time.time() - start) * 1000))
        if body != b"ok\n":
            raise SystemExit("/healthz answered %r" % body)
        dropped = metric(url, "advocacyd_stream_clients_dropped_total") > before
        time.sleep(0.2)
    # Once dropped, the socket delivers what was sent, then EOF.
    closed = False
    sock.settimeout(10)
    try:
        while sock.recv(1 << 20):
            pass
        closed = True
    except (socket.timeout, ConnectionResetError):
        closed = False
    sock.close()
    print("slowest_healthz_ms=%d dropped=%s closed=%s" % (slowest, dropped, closed))


def main():
    command, url, token = sys.argv[1], sys.argv[2], sys.argv[3]
    if command == "watch":
        watch(url, token, float(sys.argv[4]))
    elif command == "fill":
        fill(url, token, int(sys.argv[4]))
    elif command == "stall":
        stall(url, token, float(sys.argv[4]))
    else:
        raise SystemExit("unknown command %r" % command)


if __name__ == "__main__":
    main()
