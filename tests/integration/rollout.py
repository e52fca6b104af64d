#!/usr/bin/python3
"""rollout.py: a Service and an API server in miniature, for test_rollout.sh.

- The proxy plays kube-proxy in front of the webhook's Service: a round-robin TCP proxy on
  127.0.0.1 over the backends listed in --backends (a file the test rewrites as servers come and
  go: one "ADMISSION_PORT METRICS_PORT" per line). It polls each backend's /readyz on its plain
  metrics listener every 100 ms and, like an endpoint removal that takes time to reach every
  node, keeps sending new connections to a backend for --lag seconds after it turned not ready;
  a backend that has never been ready gets none. Connections it already proxies stay, as
  conntrack entries do.
- The client plays the API server's webhook client (Go's net/http transport, HTTP/1.1 over
  TLS): --workers goroutine-like threads send session-pod reviews back to back through the
  proxy, over a shared pool of kept-alive connections. A connection goes back to the pool after
  a response unless it said Connection: close; one the server has closed while it sat in the
  pool is noticed and dropped before reuse (Go's read loop sees the EOF). Nothing is retried: a
  refused connection, a handshake cut, a request cut or any status but 200 is a failed request.

Runs until --stop-file appears, --seconds pass or --max-requests are made, then prints one line of key=value facts:
total, ok, failed, the connections the proxy sent to each backend, and the first failure.
"""
import argparse
import http.client
import json
import os
import select
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"


class Proxy:
    def __init__(self, backends_file, lag):
        self.backends_file = backends_file
        self.lag = lag
        self.lock = threading.Lock()
        self.state = {}     # admission port -> {"metrics": port, "ready": bool, "unready_at": t}
        self.sent = {}      # admission port -> connections sent
        self.next = 0
        self.stop = threading.Event()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]

    def read_backends(self):
        try:
            with open(self.backends_file) as f:
                return [tuple(int(x) for x in line.split()) for line in f if line.strip()]
        except (OSError, ValueError):
            return []

    def ready(self, metrics_port):
        c = http.client.HTTPConnection(HOST, metrics_port, timeout=0.5)
        try:
            c.request("GET", "/readyz")
            return c.getresponse().status == 200
        except OSError:
            return False
        finally:
            c.close()

    def watch(self):
        while not self.stop.is_set():
            for port, mport in self.read_backends():
                ok = self.ready(mport)
                with self.lock:
                    st = self.state.setdefault(port, {"metrics": mport, "ready": False,
                                                      "unready_at": None})
                    if ok:
                        st["ready"], st["unready_at"] = True, None
                    elif st["ready"]:
                        st["ready"], st["unready_at"] = False, time.monotonic()
            self.stop.wait(0.1)

    def pick(self):
        """The next backend in round-robin order that still gets new connections."""
        now = time.monotonic()
        with self.lock:
            ports = sorted(p for p, st in self.state.items()
                           if st["ready"] or (st["unready_at"] is not None
                                              and now - st["unready_at"] < self.lag))
            if not ports:
                return None
            port = ports[self.next % len(ports)]
            self.next += 1
            self.sent[port] = self.sent.get(port, 0) + 1
            return port

    def serve(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self.forward, args=(client,), daemon=True).start()

    def forward(self, client):
        port = self.pick()
        try:
            backend = socket.create_connection((HOST, port), timeout=2) if port else None
        except OSError:
            backend = None
        if backend is None:
            client.close()
            return
        backend.settimeout(None)
        client.settimeout(None)
        pair = [client, backend]
        try:
            while True:
                readable, _, _ = select.select(pair, [], [], 1.0)
                if self.stop.is_set():
                    break
                done = False
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        done = True
                        break
                    (backend if s is client else client).sendall(data)
                if done:
                    break
        except OSError:
            pass
        for s in pair:
            try:
                s.close()
            except OSError:
                pass

    def start(self):
        for fn in (self.watch, self.serve):
            threading.Thread(target=fn, daemon=True).start()


class Client:
    def __init__(self, args, port):
        self.args = args
        self.port = port
        self.body = open(args.body, "rb").read()
        self.uid = json.loads(self.body)["request"]["uid"]
        self.ctx = ssl.create_default_context(cafile=args.ca)
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.pool = []
        self.lock = threading.Lock()
        self.total = self.ok = 0
        self.failures = []
        self.new_conns = 0

    def dial(self):
        s = socket.create_connection((HOST, self.port), timeout=5)
        with self.lock:
            self.new_conns += 1
        return self.ctx.wrap_socket(s, server_hostname="localhost")

    @staticmethod
    def closed_by_server(s):
        """An idle pooled connection with something to read has been closed (or broken) by
        the server: an idle HTTP/1.1 connection gets nothing else."""
        return bool(select.select([s], [], [], 0)[0])

    def take(self):
        while True:
            with self.lock:
                s = self.pool.pop() if self.pool else None
            if s is None:
                return self.dial()
            if not self.closed_by_server(s):
                return s
            s.close()

    def exchange(self, s):
        """One request on s; returns (status, keep). Raises on a cut or malformed answer."""
        s.sendall(b"POST /mutate?timeout=10s HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nAccept: application/json\r\n"
                  b"Content-Length: " + str(len(self.body)).encode() + b"\r\n\r\n" + self.body)
        f = s.makefile("rb")
        status_line = f.readline()
        if not status_line:
            raise ConnectionError("connection closed before any answer")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = f.readline()
            if not line:
                raise ConnectionError("connection closed inside the headers")
            if line in (b"\r\n", b"\n"):
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        body = f.read(int(headers.get("content-length", "0")))
        if len(body) != int(headers.get("content-length", "0")):
            raise ConnectionError("connection closed inside the body")
        if status == 200 and json.loads(body)["response"]["uid"] != self.uid:
            raise ValueError("answer for another uid")
        return status, headers.get("connection", "").lower() != "close"

    def worker(self, deadline, stop):
        while time.monotonic() < deadline and not stop.is_set():
            with self.lock:
                if self.total >= self.args.max_requests:
                    return
                self.total += 1
            s = None
            try:
                s = self.take()
                status, keep = self.exchange(s)
            except (OSError, ValueError, IndexError) as e:
                with self.lock:
                    self.failures.append(f"{type(e).__name__}:{e}".replace(" ", "_")[:160])
                if s is not None:
                    s.close()
                continue
            with self.lock:
                if status == 200:
                    self.ok += 1
                else:
                    self.failures.append(f"status_{status}")
                if keep:
                    self.pool.append(s)
                    s = None
            if s is not None:
                s.close()

    def run(self):
        deadline = time.monotonic() + self.args.seconds
        stop = threading.Event()
        threads = [threading.Thread(target=self.worker, args=(deadline, stop))
                   for _ in range(self.args.workers)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            if self.args.stop_file and os.path.exists(self.args.stop_file):
                stop.set()
            time.sleep(0.05)
        for t in threads:
            t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", required=True, help="file of 'ADMISSION_PORT METRICS_PORT' lines")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--body", required=True, help="the AdmissionReview to send to /mutate")
    ap.add_argument("--lag", type=float, default=1.0,
                    help="seconds new connections still reach a backend after it turned not ready")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--max-requests", type=int, default=200000)
    ap.add_argument("--stop-file", help="stop (before --seconds) once this file exists")
    ap.add_argument("--port-file", help="where to write the proxy's port once it listens")
    args = ap.parse_args()
    proxy = Proxy(args.backends, args.lag)
    proxy.start()
    for _ in range(100):  # until every listed backend is seen ready (bounded: 10 s)
        with proxy.lock:
            if len(proxy.state) == len(proxy.read_backends()) and \
                    all(st["ready"] for st in proxy.state.values()):
                break
        time.sleep(0.1)
    else:
        sys.exit("rollout.py: the backends did not all become ready")
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{proxy.port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    client = Client(args, proxy.port)
    client.run()
    proxy.stop.set()
    sent = ",".join(f"{p}:{n}" for p, n in sorted(proxy.sent.items()))
    first = client.failures[0] if client.failures else "none"
    print(f"total={client.total} ok={client.ok} failed={len(client.failures)} "
          f"connections={client.new_conns} by_backend={sent} first_failure={first}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
