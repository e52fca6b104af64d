#!/usr/bin/python3
"""startup.py: how long `serve` takes to become ready, and to serve a changed public key.

    /usr/bin/python3 bench/startup.py [--bin build/session-admission] [--out bench/startup.md]

1. Start-up: from the fork of `serve` to the first 200 from /readyz (polled every 5 ms on the
   plain-HTTP metrics listener, so no TLS handshake is timed), with the example policy and with
   the 100,000-row policy of bench/make_reviews.py. Median and worst of --runs runs.
2. Key change: with the 100,000-row policy in force and --reload-interval 1, a new public key is
   renamed over the key file; timed until /metrics shows its fingerprint. The watcher takes a
   change once the file has looked the same for a whole interval, so 1 to 2 s of that is the poll;
   the rest is building the new snapshot. The server's own log line "public key reloaded" is
   also timed against the moment the watcher saw the change settle.

Loopback only; every wait is bounded (30 s). Not part of CI (the figures depend on the machine).
"""
import argparse
import hashlib
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    except OSError:
        return None, ""
    finally:
        c.close()


def start(args, work, policy, key, extra=()):
    mport = free_port()
    cmd = [args.bin, "serve", "--listen", f"127.0.0.1:{free_port()}",
           "--tls-cert", f"{work}/certs/tls.crt", "--tls-key", f"{work}/certs/tls.key",
           "--policy", policy, "--public-key", key, "--metrics-listen", f"127.0.0.1:{mport}",
           *args.stop_now, *extra]
    log = open(f"{work}/server.log", "w")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    return p, mport, t0


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def time_ready(args, work, policy, key):
    p, mport, t0 = start(args, work, policy, key)
    try:
        while time.monotonic() - t0 < 30:
            if get(mport, "/readyz")[0] == 200:
                return time.monotonic() - t0
            if p.poll() is not None:
                sys.exit(f"startup.py: the server exited ({p.returncode}); see {work}/server.log")
            time.sleep(0.005)
        sys.exit("startup.py: the server was not ready within 30 s")
    finally:
        stop(p)


def fingerprint(pem_file):
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pem_file, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def new_key(work, name):
    priv = f"{work}/{name}.key"
    pub = f"{work}/{name}.pem"
    subprocess.run(["openssl", "genrsa", "-out", priv, "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", priv, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    return pub


def time_key_change(args, work, policy, trial):
    keyfile = f"{work}/keys/public.pem"
    os.makedirs(f"{work}/keys", exist_ok=True)
    os.replace(new_key(work, f"first{trial}"), keyfile)
    p, mport, t0 = start(args, work, policy, keyfile, ("--reload-interval", "1"))
    try:
        while get(mport, "/readyz")[0] != 200:
            if time.monotonic() - t0 > 30 or p.poll() is not None:
                sys.exit("startup.py: the server never became ready")
            time.sleep(0.01)
        time.sleep(1.5)  # past the watcher's first look, so the change below is a change
        pub = new_key(work, f"second{trial}")
        want = fingerprint(pub)
        t1 = time.monotonic()
        os.replace(pub, keyfile)
        while time.monotonic() - t1 < 30:
            if f'fingerprint="{want}"' in get(mport, "/metrics")[1]:
                return time.monotonic() - t1
            time.sleep(0.005)
        sys.exit("startup.py: the new key was not served within 30 s")
    finally:
        stop(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=f"{ROOT}/build/session-admission")
    ap.add_argument("--out", default=f"{HERE}/startup.md")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--label", default="", help="a word for the results' heading (e.g. before)")
    args = ap.parse_args()
    # Builds from before --shutdown-delay existed stop at once anyway.
    helptext = subprocess.run([args.bin, "serve", "--help"], capture_output=True, text=True).stdout
    args.stop_now = ["--shutdown-delay", "0"] if "--shutdown-delay" in helptext else []
    work = tempfile.mkdtemp(prefix="sa-startup.")
    subprocess.run(["/usr/bin/python3", f"{HERE}/make_reviews.py", f"{work}/data"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["bash", f"{ROOT}/certs/gen-certs.sh", "--out", f"{work}/certs"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key = f"{ROOT}/examples/example-public.pem"
    rows = []
    for name, policy in (("example policy (examples/policy.yaml)", f"{ROOT}/examples/policy.yaml"),
                         ("100,000-row policy", f"{work}/data/policy-100000.yaml")):
        times = [time_ready(args, work, policy, key) for _ in range(args.runs)]
        rows.append((f"start to /readyz 200, {name}", times))
        print(f"{rows[-1][0]}: " + " ".join(f"{t * 1e3:.0f}" for t in times) + " ms", flush=True)
    times = [time_key_change(args, work, f"{work}/data/policy-100000.yaml", i)
             for i in range(args.runs)]
    rows.append(("changed public key to served, 100,000-row policy, --reload-interval 1", times))
    print(f"{rows[-1][0]}: " + " ".join(f"{t * 1e3:.0f}" for t in times) + " ms", flush=True)

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    with open(args.out, "a") as f:
        f.write(f"\n## {args.label or 'run'}: {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, "
                f"commit {commit}, {os.cpu_count()} CPUs, {args.runs} runs each\n\n")
        f.write("| what | median ms | worst ms | runs (ms) |\n|---|---:|---:|---|\n")
        for what, times in rows:
            f.write(f"| {what} | {statistics.median(times) * 1e3:.0f} | {max(times) * 1e3:.0f} | "
                    + " ".join(f"{t * 1e3:.0f}" for t in times) + " |\n")
    print(f"startup.py: appended to {args.out}")


if __name__ == "__main__":
    main()
