#!/usr/bin/env bash
# test_rotation.sh: serving certificate rotation without a restart, under load. While a bounded
# client loop runs (one kept-alive connection plus a fresh connection per round, loopback only),
# the certificate files change five times: rewritten in place, then through Kubernetes-style
# `..data` symlink swaps with a mismatched pair, an RSA pair (another key type), an expired pair
# and a pair a few days from expiry. Asserts no request fails, the kept-alive connection is never
# cut, each good pair is served to new handshakes (its serial, by openssl s_client), each bad one
# is refused with a log line while the last good one keeps serving, and the metrics agree.
source "$(dirname "$0")/lib.sh"

make_certs "$TMP/a"
CA=$TMP/a/ca.crt
make_certs "$TMP/b" --ca-dir "$TMP/a"
make_certs "$TMP/expired" --ca-dir "$TMP/a" --days -1
make_certs "$TMP/soon" --ca-dir "$TMP/a" --days 3
mkdir -p "$TMP/rsa"
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$TMP/rsa/tls.key" -out "$TMP/rsa/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$TMP/rsa/ext"
openssl x509 -req -in "$TMP/rsa/tls.csr" -CA "$CA" -CAkey "$TMP/a/ca.key" -CAcreateserial -CAserial "$TMP/rsa/srl" \
  -days 30 -extfile "$TMP/rsa/ext" -out "$TMP/rsa/tls.crt" 2>/dev/null
mkdir -p "$TMP/broken" && cp "$TMP/rsa/tls.crt" "$TMP/broken/tls.crt" && cp "$TMP/b/tls.key" "$TMP/broken/tls.key"
serial_of() { openssl x509 -in "$1/tls.crt" -noout -serial | cut -d= -f2; }

# The Secret mount as the kubelet lays it out: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>.
MOUNT=$TMP/mount
mkdir -p "$MOUNT"
GEN=0
swap_data() { # swap_data PAIRDIR: a new timestamped folder, then ..data renamed onto it atomically
  GEN=$((GEN + 1))
  local dir="..2025_01_01_00_00_0$GEN.$$" old
  old=$(readlink "$MOUNT/..data" 2>/dev/null || true)
  mkdir "$MOUNT/$dir"
  cp "$1/tls.crt" "$1/tls.key" "$MOUNT/$dir/"
  ln -s "$dir" "$MOUNT/..data_tmp"
  mv -T "$MOUNT/..data_tmp" "$MOUNT/..data"
  [ -z "$old" ] || rm -rf "${MOUNT:?}/$old"
}
swap_data "$TMP/a"
ln -s ..data/tls.crt "$MOUNT/tls.crt"
ln -s ..data/tls.key "$MOUNT/tls.key"

PORT=$(free_port)
MPORT=$(free_port)
start_server main --listen 127.0.0.1:$PORT --metrics-listen 127.0.0.1:$MPORT --tls-cert "$MOUNT/tls.crt" \
  --tls-key "$MOUNT/tls.key" --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --reload-interval 1
MAIN_PID=$SERVER_PID
wait_ready "https://localhost:$PORT" "$CA"

served() { echo | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -servername localhost -CAfile "$CA" 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }
# wait_serial SERIAL: until new handshakes get it (at most 15 s); prints what was served last,
# and how long it took as a comment on stderr.
wait_serial() {
  local got="" start
  start=$(date +%s%N)
  for _ in $(seq 1 150); do got=$(served); [ "$got" = "$1" ] && break; sleep 0.1; done
  echo "# served $(( ($(date +%s%N) - start) / 1000000 )) ms after the change (poll interval 1 s)" >&2
  echo "$got"
}
metric() { curl -sS "http://127.0.0.1:$MPORT/metrics" | /usr/bin/python3 -c '
import sys
want = sys.argv[1]
for line in sys.stdin:
    if line.startswith(want + " "):
        print(line.split()[-1]); break
else:
    print("absent")' "$1"; }
expect_eq "pair A served at start" "$(served)" "$(serial_of "$TMP/a")"

# --- the load: bounded by a stop file and a 120 s ceiling
cat > "$TMP/load.py" <<'EOF'
import http.client, json, os, ssl, sys, time
port, ca, body_file, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
body = open(body_file, "rb").read()
headers = {"Content-Type": "application/json"}
uid = json.loads(body)["request"]["uid"]
def connect():
    c = http.client.HTTPSConnection("localhost", int(port), context=ctx, timeout=10)
    c.connect()
    return c
def review(c):
    c.request("POST", "/validate?timeout=10s", body, headers)
    r = c.getresponse()
    data = r.read()
    if r.status != 200 or json.loads(data)["response"]["uid"] != uid:
        raise RuntimeError("status %d" % r.status)
res = {"ok": 0, "failed": 0, "errors": [], "kept_alive_ok": 0, "kept_alive_reconnects": 0, "serials": []}
kept = connect()
kept_sock = kept.sock
res["kept_alive_serial"] = kept.sock.getpeercert()["serialNumber"]
deadline = time.monotonic() + 120
while time.monotonic() < deadline and not os.path.exists(stop_file):
    try:  # the long-lived connection, as the API server keeps its own
        review(kept)
        res["ok"] += 1
        if kept.sock is kept_sock:
            res["kept_alive_ok"] += 1
        else:
            res["kept_alive_reconnects"] += 1
    except Exception as e:
        res["failed"] += 1
        res["errors"].append("kept-alive: %r" % e)
        kept = connect()
        kept_sock = kept.sock
    try:  # and a new connection: a new handshake with whatever pair is in force
        c = connect()
        serial = c.sock.getpeercert()["serialNumber"]
        review(c)
        c.close()
        res["ok"] += 1
        if serial not in res["serials"]:
            res["serials"].append(serial)
    except Exception as e:
        res["failed"] += 1
        res["errors"].append("new connection: %r" % e)
json.dump(res, open(out, "w"))
EOF
/usr/bin/python3 "$TMP/load.py" $PORT "$CA" "$SA_SRC/tests/fixtures/rolebinding-v1.json" "$TMP/stop" "$TMP/load.json" &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
sleep 1

# 1. Rewritten in place (the files behind the symlinks, certificate first, then key).
cp "$TMP/b/tls.crt" "$MOUNT/..data/tls.crt"
cp "$TMP/b/tls.key" "$MOUNT/..data/tls.key"
expect_eq "1 in place: pair B served" "$(wait_serial "$(serial_of "$TMP/b")")" "$(serial_of "$TMP/b")"

# 2. A broken pair (certificate of one, key of another) through the ..data swap: refused.
swap_data "$TMP/broken"
for _ in $(seq 1 100); do grep -q '"msg":"serving certificate refused' "$TMP/main.log" && break; sleep 0.1; done
check "2 broken: refusal logged with the reason" grep -q '"msg":"serving certificate refused; the one in force keeps serving".*"reason":"the private key does not match the certificate","serial_in_force":"'"$(serial_of "$TMP/b")"'"' "$TMP/main.log"
sleep 1.5
expect_eq "2 broken: pair B still served" "$(served)" "$(serial_of "$TMP/b")"

# 3. An RSA pair (the key type changes too) through the ..data swap.
swap_data "$TMP/rsa"
expect_eq "3 ..data swap: RSA pair served" "$(wait_serial "$(serial_of "$TMP/rsa")")" "$(serial_of "$TMP/rsa")"

# 4. An expired certificate: refused, the RSA pair keeps serving.
swap_data "$TMP/expired"
for _ in $(seq 1 100); do grep -q '"reason":"the certificate expired at' "$TMP/main.log" && break; sleep 0.1; done
check "4 expired: refusal logged with the reason" grep -q '"msg":"serving certificate refused.*"reason":"the certificate expired at ' "$TMP/main.log"
sleep 1.5
expect_eq "4 expired: RSA pair still served" "$(served)" "$(serial_of "$TMP/rsa")"

# 5. A pair three days from expiry: taken, with a warning in the log and the metrics.
swap_data "$TMP/soon"
expect_eq "5 expiring soon: served" "$(wait_serial "$(serial_of "$TMP/soon")")" "$(serial_of "$TMP/soon")"
for _ in $(seq 1 50); do grep -q '"msg":"serving certificate expires soon"' "$TMP/main.log" && break; sleep 0.1; done
check "5 expiring soon: warned in the log" grep -q '"level":"warn","msg":"serving certificate expires soon","serial":"'"$(serial_of "$TMP/soon")"'"' "$TMP/main.log"
expect_eq "5 expiring soon: metric" "$(metric session_admission_tls_certificate_expiring_soon)" "1"

sleep 1
touch "$TMP/stop"
wait "$LOAD_PID" || true
res() { /usr/bin/python3 -c 'import json,sys; print(eval(sys.argv[2], {"r": json.load(open(sys.argv[1]))}))' "$TMP/load.json" "$1"; }
echo "# load: $(res 'r["ok"]') requests answered, $(res 'r["kept_alive_ok"]') on the kept-alive connection"
expect_eq "no request failed" "$(res 'r["failed"]')" "0"
[ "$(res 'r["failed"]')" = 0 ] || res 'r["errors"][:5]'
check "the load ran (at least 100 requests)" [ "$(res 'r["ok"]')" -ge 100 ]
expect_eq "the kept-alive connection was never cut" "$(res 'r["kept_alive_reconnects"]')" "0"
expect_eq "the kept-alive connection kept the pair it shook hands with" "$(res 'r["kept_alive_serial"]')" "$(serial_of "$TMP/a")"
expect_eq "new connections saw every good pair, and only those" "$(res '",".join(r["serials"])')" \
  "$(serial_of "$TMP/a"),$(serial_of "$TMP/b"),$(serial_of "$TMP/rsa"),$(serial_of "$TMP/soon")"

expect_eq "reloads counted" "$(metric 'session_admission_reloads_total{target="certificate",result="success"}')" "3"
expect_eq "refusals counted" "$(metric 'session_admission_reloads_total{target="certificate",result="failure"}')" "2"
expect_eq "serial metric follows" "$(metric "session_admission_tls_certificate_info{serial=\"$(serial_of "$TMP/soon")\"}")" "1"
expect_eq "reloads logged" "$(grep -c '"msg":"serving certificate reloaded"' "$TMP/main.log")" "3"
check "no key material in the log" bash -c "! grep -q -e 'BEGIN' -e 'PRIVATE' '$TMP/main.log'"
stop_server "rotating server" "$MAIN_PID"

# --- startup refuses an expired certificate and a mismatched pair, with the reason
start_refused() { # start_refused DESCRIPTION REASON PAIRDIR
  local rc
  "$SA_BIN" serve --listen 127.0.0.1:0 --tls-cert "$3/tls.crt" --tls-key "$3/tls.key" --policy "$SA_SRC/examples/policy.yaml" \
    --public-key "$SA_SRC/examples/example-public.pem" 2>"$TMP/refused.log" && rc=0 || rc=$?
  expect_eq "$1: exit 1" "$rc" "1"
  check "$1: reason" grep -q "$2" "$TMP/refused.log"
}
start_refused "expired at startup" "serving certificate $TMP/expired/tls.crt refused: the certificate expired at" "$TMP/expired"
start_refused "mismatched pair at startup" "refused: the private key does not match the certificate" "$TMP/broken"

# A certificate not valid until 2030 (openssl ca can set notBefore): refused, like an expired one.
mkdir -p "$TMP/future/db" && : >"$TMP/future/db/index" && echo 01 >"$TMP/future/db/serial"
printf '%s\n' '[ca]' 'default_ca = c' '[c]' "database = $TMP/future/db/index" "new_certs_dir = $TMP/future/db" \
  "serial = $TMP/future/db/serial" 'default_md = sha256' 'policy = p' 'unique_subject = no' '[p]' \
  'commonName = supplied' '[ext]' 'subjectAltName = DNS:localhost,IP:127.0.0.1' >"$TMP/future/ca.cnf"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$TMP/future/tls.key" -out "$TMP/future/tls.csr" 2>/dev/null
openssl ca -batch -config "$TMP/future/ca.cnf" -cert "$TMP/a/ca.crt" -keyfile "$TMP/a/ca.key" \
  -in "$TMP/future/tls.csr" -out "$TMP/future/tls.crt" -startdate 300101000000Z -enddate 310101000000Z \
  -extensions ext -notext 2>/dev/null
start_refused "not yet valid at startup" "refused: the certificate is not valid before 2030-01-01" "$TMP/future"

finish
