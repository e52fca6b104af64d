# lib.sh: shared helpers for the integration tests (sourced, not run).
# Every test runs the real binary ($SA_BIN) on loopback with certificates from certs/gen-certs.sh,
# drives it with curl, and cleans up after itself. Loops are bounded and stop by themselves.
set -euo pipefail

SA_BIN=${SA_BIN:?SA_BIN must name the session-admission binary}
SA_SRC=${SA_SRC:?SA_SRC must name the repository root}
# Servers bind no metrics listener unless a test asks (--metrics-listen): the default 0.0.0.0:9090
# would collide between tests running in parallel.
export SA_METRICS_LISTEN=${SA_METRICS_LISTEN:-off}
# And stop at once on SIGTERM: the production delay (5 s, while the endpoint removal propagates)
# has nothing to wait for here; test_rollout.sh and the shutdown checks of test_server.sh set it.
export SA_SHUTDOWN_DELAY=${SA_SHUTDOWN_DELAY:-0}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-test.XXXXXX")
PIDS=()
FAILS=0
PASSES=0
SKIPS=0

# Servers still running at exit get SIGTERM first (so a valgrind wrapper still writes its report),
# then SIGKILL after a grace of SA_STOP_GRACE seconds (default 5).
cleanup() {
  local p left i
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 1 $((${SA_STOP_GRACE:-5} * 10))); do
    left=0
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# expect_eq DESCRIPTION GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got [$2] want [$3]"; fi; }
# finish: the closing line ctest and CI read, and the exit status.
finish() {
  echo "$PASSES passed, $FAILS failed$([ "$SKIPS" -eq 0 ] || echo ", $SKIPS skipped")"
  [ "$FAILS" -eq 0 ]
}

# A TCP port nobody listens on right now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# make_certs DIR [gen-certs args...]: a CA and a serving certificate for localhost.
make_certs() {
  local dir=$1; shift
  bash "$SA_SRC/certs/gen-certs.sh" --out "$dir" "$@" >/dev/null
}

# start_server NAME ARGS...: runs `serve ARGS` in the background, logs in $TMP/NAME.log,
# sets SERVER_PID. The caller waits with wait_ready. SA_WRAP, when set, is a command the server
# runs under (e.g. "valgrind --error-exitcode=99 ..."), word-split; its output goes to the log.
start_server() {
  local name=$1; shift
  # shellcheck disable=SC2086
  ${SA_WRAP:-} "$SA_BIN" serve "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

# stop_server DESCRIPTION [PID]: SIGTERM, then waits (bounded by SA_STOP_GRACE, default 5 s; more
# under SA_WRAP) and asserts the server exited 0, which under a valgrind wrapper also means no
# memory errors and no leaks. Prints the log's tail when it did not.
stop_server() {
  local desc=$1 pid=${2:-$SERVER_PID} grace=${SA_STOP_GRACE:-5} rc=0 i
  [ -n "${SA_WRAP:-}" ] && grace=$((grace * 12))
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    fail "$desc: still running ${grace}s after SIGTERM"
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  wait "$pid" 2>/dev/null || rc=$?
  expect_eq "$desc: exits 0 after SIGTERM" "$rc" "0"
  if [ "$rc" -ne 0 ]; then
    local f
    for f in "$TMP"/*.log; do grep -q "==$pid==" "$f" 2>/dev/null && tail -n 60 "$f"; done
  fi
  return 0
}

# skip REASON...: a visible "skip" line, counted apart, for a check that cannot run in this
# configuration: a skipped check is not a passed one.
skip() { SKIPS=$((SKIPS + 1)); echo "skip - $*"; }

# wait_ready URL CAFILE: polls /readyz for up to 20 s.
wait_ready() {
  local url=$1 ca=$2
  for _ in $(seq 1 200); do
    if curl -fsS --max-time 2 --cacert "$ca" "$url/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "server at $url never became ready" >&2
  return 1
}

# post URL CAFILE FILE: POSTs a review; prints "STATUS BODY".
post() {
  curl -sS --max-time 10 --cacert "$2" -H 'Content-Type: application/json' \
    --data-binary "@$3" -o "$TMP/resp.body" -w '%{http_code}' "$1" && printf ' ' && cat "$TMP/resp.body"
}

# review_json FILE PATH: the response AdmissionReview from the offline command.
json_get() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
