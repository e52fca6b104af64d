# shellcheck shell=bash
# bench/lib.sh: sourced by bench/run.sh and bench/ab.sh: the one server under test at a time
# (SRV_PID) and free loopback ports.

SRV_PID=""

stop() { # stop: SIGTERM to the server under test, SIGKILL after 10 s
  [ -n "$SRV_PID" ] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
