# lib.sh: shared helpers for the integration tests (sourced, not run).
# Every test runs the real binary ($SA_BIN) on loopback with certificates from certs/gen-certs.sh,
# drives it with curl, and cleans up after itself. Loops are bounded and stop by themselves.
set -euo pipefail

SA_BIN=${SA_BIN:?SA_BIN must name the session-admission binary}
SA_SRC=${SA_SRC:?SA_SRC must name the repository root}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-test.XXXXXX")
PIDS=()
FAILS=0
PASSES=0

cleanup() {
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
finish() { echo "$PASSES passed, $FAILS failed"; [ "$FAILS" -eq 0 ]; }

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
# sets SERVER_PID. The caller waits with wait_ready.
start_server() {
  local name=$1; shift
  "$SA_BIN" serve "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

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
