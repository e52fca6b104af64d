#!/usr/bin/python3
"""hostile_client.py: raw, badly behaved HTTP/TLS clients for test_hostile.sh.

curl cannot dribble headers, lie about Content-Length, pipeline or speak plain HTTP to a TLS
port, so these clients are written on the standard library's socket and ssl (Debian's python3,
no PyPI). Each mode does one thing to a server on 127.0.0.1 and prints one line of key=value
facts that the shell test asserts on; every wait is bounded by a timeout.

  raw        send bytes (TLS or plain), read until close or timeout, report the statuses seen
             ({body} {len} {hexlen} in the bytes are the --body file, its length in decimal, hex)
  slowloris  N connections dribble headers a byte at a time while normal requests are timed
  flood      hold connections up to the limit, try more, report how each one ended
  bigbody    stream a huge chunked body, sampling the server's RSS from /proc
  slowreq    N connections dribble their request (headers, or a body after whole headers) a
             byte per --interval for as long as the server lets them, while normal reviews are
             timed: when and how each slow one was cut, and the normal reviews' p50/p99/max
  keepalive  one connection, a review, then for each of --waits: sleep that long and send another
             on the same connection: whether each was answered on it or the server had closed it;
             with --timeout, then waits that long for the server to close it: how long it took
"""
import argparse
import codecs
import select
import re
import socket
import ssl
import threading
import time

HOST = "127.0.0.1"


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect(args, tls=True, timeout=5.0):
    s = socket.create_connection((HOST, args.port), timeout=timeout)
    if tls:
        s = tls_context(args.ca).wrap_socket(s, server_hostname="localhost")
    return s


def read_until_end(s, timeout):
    """Reads until the peer closes or the deadline; returns (bytes, how it ended)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return data, "reset"
        except ssl.SSLError as e:
            return data, "tls-error:" + (e.reason or "unknown")
        if not chunk:
            return data, "closed"
        data += chunk


def statuses(data):
    return [m.decode() for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", data)]


def request_bytes(method, path, body, version="HTTP/1.1", extra=""):
    head = (f"{method} {path} {version}\r\nHost: localhost\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n")
    return head.encode() + body


def mode_raw(args):
    body = open(args.body, "rb").read() if args.body else b""
    text = codecs.decode(args.send, "unicode_escape").encode("latin-1")
    for key, value in ((b"{len}", str(len(body))), (b"{hexlen}", f"{len(body):x}")):
        text = text.replace(key, value.encode())
    text = text.replace(b"{body}", body)
    start = time.monotonic()
    try:
        s = connect(args, tls=not args.plain)
    except (ssl.SSLError, ConnectionResetError, socket.timeout) as e:
        print(f"statuses= end=handshake-refused:{type(e).__name__} after_s=0.0")
        return
    try:
        s.sendall(text)
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        pass
    if args.close_after_send:
        s.close()
        print("statuses= end=client-closed after_s=0.0")
        return
    data, end = read_until_end(s, args.timeout)
    s.close()
    uids = re.findall(rb'"uid":"([^"]*)"', data)
    print(f"statuses={','.join(statuses(data))} end={end} after_s={time.monotonic() - start:.1f} "
          f"uids={','.join(u.decode() for u in uids)}")


def timed_review(args, body):
    """One normal request on a fresh connection; (status or None, milliseconds)."""
    start = time.monotonic()
    try:
        s = connect(args, timeout=args.request_timeout)
        s.sendall(request_bytes("POST", "/validate", body, extra="Connection: close\r\n"))
        data, _ = read_until_end(s, args.request_timeout)
        s.close()
        st = statuses(data)
        return (st[0] if st else None), (time.monotonic() - start) * 1e3
    except (OSError, ssl.SSLError):
        return None, (time.monotonic() - start) * 1e3


def mode_slowloris(args):
    """--conns connections dribble a never-ending header for --seconds, then stall; each must be
    left alone while it sends and cut within --cut-within once it stalls. One thread per
    connection, each dribbling from its own handshake on: a slow server (valgrind) takes seconds
    over fifty handshakes, and a connection waiting for the others would sit idle meanwhile."""
    body = open(args.body, "rb").read()
    header = b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100000
    results = [None] * args.conns  # per connection: (how it ended, seconds after the stall, bytes)

    def run(i):
        sent = 0
        began = time.monotonic()
        try:
            s = connect(args, timeout=args.seconds + args.cut_within + 30)
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                s.send(header[sent:sent + 1])
                sent += 1
                time.sleep(args.interval)
        except (OSError, ssl.SSLError) as e:
            # How and when it was cut, so a failure says whether the handshake or the dribble broke.
            results[i] = ("while-dribbling", 0.0, sent,
                          f"{type(e).__name__}@{sent}B/{time.monotonic() - began:.1f}s")
            return
        stalled = time.monotonic()
        _, how = read_until_end(s, args.cut_within)
        s.close()
        results[i] = ("never" if how == "timeout" else "after-stall", time.monotonic() - stalled, sent, "")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.conns)]
    for t in threads:
        t.start()
    normal = []
    # Normal reviews while the connections dribble (until the first one has ended).
    while all(r is None for r in results) and any(t.is_alive() for t in threads):
        normal.append(timed_review(args, body))
        time.sleep(0.1)
    for t in threads:
        t.join()
    ended = [r[0] for r in results]
    ok = sum(1 for st, _ in normal if st == "200")
    worst = max((ms for _, ms in normal), default=0.0)
    cut_max = max((r[1] for r in results if r[0] == "after-stall"), default=0.0)
    print(f"slow={args.conns} dribbled_bytes={max(r[2] for r in results)} "
          f"cut_while_dribbling={ended.count('while-dribbling')} "
          f"normal_ok={ok} normal_total={len(normal)} normal_max_ms={worst:.0f} "
          f"stalled_cut={ended.count('after-stall')} stalled_cut_max_s={cut_max:.1f} "
          f"cut_how={','.join(r[3] for r in results if r[3]) or 'none'}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def mode_slowreq(args):
    """Each slow connection sends its first byte at connect (the ClientHello), then its request
    one byte per --interval: the headers never end (--phase headers), or the headers end and the
    declared body never does (--phase body; mixed: half each). The server must cut each about
    --request-timeout after its first byte, while it keeps sending. One thread per connection,
    so each cut is seen when it happens, however long the others take to connect."""
    body = open(args.body, "rb").read()
    end = time.monotonic() + args.seconds
    results = [None] * args.conns  # per connection: (seconds until cut or None, bytes dribbled)

    def dribble(i):
        began = time.monotonic()
        sent = 0
        try:
            s = connect(args, timeout=args.seconds)
            if args.phase == "headers" or (args.phase == "mixed" and i % 2 == 0):
                text = b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100000
            else:
                s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                text = b" " * 100000
            while time.monotonic() < end:
                # Anything to read on a connection that only ever sends is its end.
                if select.select([s], [], [], 0)[0] and not s.recv(4096):
                    raise ConnectionResetError("closed")
                s.send(text[sent:sent + 1])
                sent += 1
                time.sleep(args.interval)
            s.close()
            results[i] = (None, sent)
        except (OSError, ssl.SSLError):
            results[i] = (time.monotonic() - began, sent)

    slow = [threading.Thread(target=dribble, args=(i,)) for i in range(args.conns)]
    for t in slow:
        t.start()
    normal = []
    while any(t.is_alive() for t in slow):
        if args.normal_pause >= 0:
            normal.append(timed_review(args, body))
            time.sleep(args.normal_pause)
        else:
            time.sleep(0.05)
    for t in slow:
        t.join()
    cuts = [r[0] for r in results if r and r[0] is not None]
    ms = [m for _, m in normal]
    ok = sum(1 for st, _ in normal if st == "200")
    print(f"slow={args.conns} cut={len(cuts)} cut_min_s={min(cuts, default=0):.1f} "
          f"cut_max_s={max(cuts, default=0):.1f} most_bytes={max(r[1] for r in results if r)} "
          f"normal_ok={ok} normal_total={len(normal)} normal_p50_ms={percentile(ms, 0.5):.0f} "
          f"normal_p99_ms={percentile(ms, 0.99):.0f} normal_max_ms={max(ms, default=0):.0f}")


def mode_keepalive(args):
    body = open(args.body, "rb").read()
    s = connect(args)
    results = []
    for wait in [0.0] + [float(w) for w in args.waits.split(",") if w]:
        time.sleep(wait)
        if select.select([s], [], [], 0)[0]:
            results.append("closed-while-idle")
            break
        try:
            s.sendall(request_bytes("POST", "/validate", body))
            f = s.makefile("rb")
            line = f.readline()
            length = 0
            while True:
                h = f.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            answer = f.read(length)
            st = statuses(line)
            results.append(st[0] if st and len(answer) == length else "cut")
        except (OSError, ssl.SSLError) as e:
            results.append(type(e).__name__)
            break
    end, after = "", 0.0
    if args.wait_close:
        start = time.monotonic()
        _, end = read_until_end(s, args.timeout)
        after = time.monotonic() - start
    s.close()
    print(f"answers={','.join(results)} end={end} after_s={after:.1f}")


def mode_flood(args):
    """Holds --conns handshaken connections, then tries --extra more and one request."""
    held, ended = [], {}

    def attempt():
        start = time.monotonic()
        try:
            s = connect(args, timeout=args.request_timeout)
            held.append(s)
            return "held", start
        except socket.timeout:
            return "timeout", start
        except OSError:  # ssl.SSLError too: closed or reset during the handshake
            return "refused", start

    slowest_refusal = 0.0
    for i in range(args.conns + args.extra):
        how, start = attempt()
        key = ("first-" if i < args.conns else "extra-") + how
        ended[key] = ended.get(key, 0) + 1
        if how == "refused":
            slowest_refusal = max(slowest_refusal, time.monotonic() - start)
    full_status, full_ms = timed_review(args, open(args.body, "rb").read())
    for s in held:
        s.close()
    time.sleep(0.2)
    after_status, _ = timed_review(args, open(args.body, "rb").read())
    facts = " ".join(f"{k}={v}" for k, v in sorted(ended.items()))
    print(f"{facts} slowest_refusal_s={slowest_refusal:.1f} while_full={full_status} "
          f"while_full_ms={full_ms:.0f} after={after_status}")


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def mode_bigbody(args):
    s = connect(args)
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b" " * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent, peak = 0, 0
    end = "sent-all"
    start = time.monotonic()
    try:
        while sent < args.mib * 1024 * 1024:
            s.sendall(frame)
            sent += len(chunk)
            if sent % (4 * 1024 * 1024) == 0:
                peak = max(peak, rss_kb(args.pid, "VmRSS"))
        s.sendall(b"0\r\n\r\n")
    except (OSError, ssl.SSLError):
        end = "server-closed"
    data, how = read_until_end(s, args.timeout)
    s.close()
    print(f"statuses={','.join(statuses(data))} end={end}/{how} sent_mib={sent // (1024 * 1024)} "
          f"peak_rss_kb={peak} hwm_kb={rss_kb(args.pid, 'VmHWM')} "
          f"seconds={time.monotonic() - start:.1f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["raw", "slowloris", "flood", "bigbody", "slowreq", "keepalive"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--body", help="a file: the {body} of raw, the review of slowloris")
    p.add_argument("--send", default="", help="raw: bytes to send, Python escapes, {len} {body}")
    p.add_argument("--plain", action="store_true", help="raw: no TLS")
    p.add_argument("--close-after-send", action="store_true")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the end")
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--extra", type=int, default=10, help="flood: connections beyond --conns")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--cut-within", type=float, default=6.0)
    p.add_argument("--request-timeout", type=float, default=5.0)
    p.add_argument("--mib", type=int, default=100)
    p.add_argument("--pid", type=int)
    p.add_argument("--phase", choices=["headers", "body", "mixed"], default="mixed")
    p.add_argument("--normal-pause", type=float, default=0.05,
                   help="slowreq: seconds between normal reviews (negative: none)")
    p.add_argument("--waits", default="", help="keepalive: seconds idle before each next review")
    p.add_argument("--wait-close", action="store_true",
                   help="keepalive: then wait up to --timeout for the server to close")
    args = p.parse_args()
    {"raw": mode_raw, "slowloris": mode_slowloris, "flood": mode_flood,
     "bigbody": mode_bigbody, "slowreq": mode_slowreq, "keepalive": mode_keepalive}[args.mode](args)


if __name__ == "__main__":
    main()
