#!/usr/bin/env bash
# test_reload.sh: policy and key reload under a running TLS server. The policy and the key are
# mounted like a ConfigMap and a Secret (the file is a symlink through "..data", swapped
# atomically). While a bounded loop of /mutate requests keeps running, a good, a broken and a
# good policy and a new key are swapped in: every request must succeed, the broken policy must
# be refused with its file, line and column logged, and the next pod must get the new key and
# the new ServiceAccount template, without a restart. Then SIGHUP reloads on demand.
source "$(dirname "$0")/lib.sh"

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
PORT=$(free_port)
URL=https://localhost:$PORT

# Two control plane keys, made by the openssl CLI.
for k in 1 2; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/cp$k.key" 2>/dev/null
  openssl pkey -in "$TMP/cp$k.key" -pubout -out "$TMP/cp$k.pem"
done

# publish MOUNT VERSION FILE SOURCE: the kubelet's swap: a new ..vN, a new ..data renamed over.
publish() {
  local mount=$TMP/$1 v=$2 file=$3 src=$4
  mkdir -p "$mount/..v$v"
  cp "$src" "$mount/..v$v/$file"
  ln -s "..v$v" "$mount/..data_tmp"
  mv -T "$mount/..data_tmp" "$mount/..data"
  [ -e "$mount/$file" ] || ln -s "..data/$file" "$mount/$file"
}

policy() { # policy FILE TEMPLATE: a good policy with this ServiceAccount template
  printf 'apiVersion: session-admission/v1alpha1\nkind: Policy\nsessions:\n  serviceAccount:\n    template: "%s"\n' "$2" > "$1"
}
policy "$TMP/p1.yaml" 'session-{id}-sa'
policy "$TMP/p2.yaml" 'ambient-session-{id}'
printf 'apiVersion: session-admission/v1alpha1\nkind: Policy\nsessions:\n  serviceAccount:\n    onMismatch: replace\n' > "$TMP/p3.yaml"
policy "$TMP/p4.yaml" 'sess-{id}'
publish policy 1 policy.yaml "$TMP/p1.yaml"
publish key 1 public.pem "$TMP/cp1.pem"

METRICS=()
MPORT=$(free_port)
if "$SA_BIN" serve --help 2>&1 | grep -- --metrics-listen >/dev/null; then
  METRICS=(--metrics-listen "127.0.0.1:$MPORT")
fi
start_server main --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$TMP/policy/policy.yaml" --public-key "$TMP/key/public.pem" --reload-interval 1 \
  "${METRICS[@]+"${METRICS[@]}"}"
wait_ready "$URL" "$CA"

cat > "$TMP/pod.json" <<'JSON'
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"reload-1",
 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
 "operation":"CREATE","namespace":"proj","name":"session-Reload1-runner",
 "object":{"metadata":{"name":"session-Reload1-runner","labels":{"ambient-code.io/session-id":"Reload1"}},
 "spec":{"containers":[{"name":"ambient-code-runner","image":"runner"}]}}}}
JSON

# mutated: "SA KEYFILE": the ServiceAccount the next pod gets, and which key file its env holds.
mutated() {
  curl -sS --max-time 10 --cacert "$CA" -H 'Content-Type: application/json' \
    --data-binary @"$TMP/pod.json" "$URL/mutate" | /usr/bin/python3 -c '
import base64, json, sys
r = json.load(sys.stdin)["response"]
ops = json.loads(base64.b64decode(r["patch"]))
sa = [o["value"] for o in ops if o["path"] == "/spec/serviceAccountName"][0]
env = [o["value"][0]["value"] for o in ops if o["path"] == "/spec/containers/0/env"][0]
keys = {open(f).read(): f.rsplit("/", 1)[1] for f in sys.argv[1:]}
print(sa, keys.get(env, "unknown-key"))' "$TMP/cp1.pem" "$TMP/cp2.pem"
}

# wait_for WANT: polls until the next pod is mutated as WANT (bounded: 15 s).
wait_for() {
  local got=""
  for _ in $(seq 1 75); do
    got=$(mutated 2>/dev/null || true)
    [ "$got" = "$1" ] && break
    sleep 0.2
  done
  echo "$got"
}

# The request loop: bounded, stops when told; one line per request.
( for _ in $(seq 1 3000); do
    [ -e "$TMP/stop" ] && break
    out=$(curl -sS --max-time 10 --cacert "$CA" -H 'Content-Type: application/json' \
      --data-binary @"$TMP/pod.json" -w ' %{http_code}' "$URL/mutate" 2>&1 || true)
    case "$out" in *'"allowed":true'*' 200') echo ok ;; *) echo "fail $out" ;; esac
  done > "$TMP/loop.log" ) &
LOOP=$!

expect_eq "start: policy 1, key 1" "$(mutated)" "session-reload1-sa cp1.pem"

publish policy 2 policy.yaml "$TMP/p2.yaml"
expect_eq "good policy 2 is taken" "$(wait_for 'ambient-session-reload1 cp1.pem')" "ambient-session-reload1 cp1.pem"

publish policy 3 policy.yaml "$TMP/p3.yaml"
for _ in $(seq 1 75); do grep -q 'policy refused' "$TMP/main.log" && break; sleep 0.2; done
check "broken policy 3 is refused and logged with file, line and column" \
  grep -q 'policy refused.*policy.yaml:5:17: sessions.serviceAccount.onMismatch: expected override or deny' "$TMP/main.log"
expect_eq "the last good policy keeps serving" "$(mutated)" "ambient-session-reload1 cp1.pem"

# A version of the mount without the file (a key dropped from the ConfigMap): refused in the
# start-up loader's words, and the last good policy keeps serving.
mkdir -p "$TMP/policy/..v3b"
ln -s ..v3b "$TMP/policy/..data_tmp" && mv -T "$TMP/policy/..data_tmp" "$TMP/policy/..data"
for _ in $(seq 1 75); do grep -q 'policy refused.*cannot load the policy' "$TMP/main.log" && break; sleep 0.2; done
check "a policy file that vanished is refused with FILE:1:1 and the reason" \
  grep -q 'policy refused.*policy.yaml:1:1: cannot load the policy: ' "$TMP/main.log"
expect_eq "the last good policy still serves" "$(mutated)" "ambient-session-reload1 cp1.pem"

publish key 2 public.pem "$TMP/cp2.pem"
expect_eq "the new key reaches the next pod without a restart" \
  "$(wait_for 'ambient-session-reload1 cp2.pem')" "ambient-session-reload1 cp2.pem"

publish policy 4 policy.yaml "$TMP/p4.yaml"
expect_eq "good policy 4 is taken after the broken one" "$(wait_for 'sess-reload1 cp2.pem')" "sess-reload1 cp2.pem"

# A private key where the public one belongs is refused; the key in force stays.
publish key 3 public.pem "$TMP/cp1.key"
for _ in $(seq 1 75); do grep -q 'public key refused' "$TMP/main.log" && break; sleep 0.2; done
check "a private key file is refused" grep -q 'public key refused' "$TMP/main.log"
check "the refusal does not log key material" bash -c "! grep -q 'PRIVATE KEY\|MII' '$TMP/main.log'"
expect_eq "the last good key keeps serving" "$(mutated)" "sess-reload1 cp2.pem"

# The poll sees even an in-place write with the old mtime put back (the ctime moves).
reloads() { grep -c 'public key reloaded' "$TMP/main.log"; }
before=$(reloads)
publish key 4 public.pem "$TMP/cp2.pem"
for _ in $(seq 1 75); do [ "$(reloads)" -gt "$before" ] && break; sleep 0.2; done
expect_eq "key 2 published again is reloaded" "$(reloads)" "$((before + 1))"
touch -r "$TMP/key/..v4/public.pem" "$TMP/mtime.ref"
cat "$TMP/cp1.pem" > "$TMP/key/..v4/public.pem"
touch -r "$TMP/mtime.ref" "$TMP/key/..v4/public.pem"
expect_eq "an in-place write is seen" "$(wait_for 'sess-reload1 cp1.pem')" "sess-reload1 cp1.pem"

touch "$TMP/stop"
wait "$LOOP"
total=$(wc -l < "$TMP/loop.log")
failed=$(grep -c '^fail' "$TMP/loop.log" || true)
check "the request loop ran ($total requests)" test "$total" -gt 20
expect_eq "no request failed during the swaps" "$failed" "0"
[ "$failed" = 0 ] || grep '^fail' "$TMP/loop.log" | head -3
check "the server is still ready" curl -fsS --cacert "$CA" "$URL/readyz" -o /dev/null
if [ ${#METRICS[@]} -gt 0 ]; then
  curl -sS "http://127.0.0.1:$MPORT/metrics" > "$TMP/metrics"
  for want in 'target="policy",result="success"} 2' 'target="policy",result="failure"} 2' \
              'target="public_key",result="success"} 3' 'target="public_key",result="failure"} 1'; do
    check "metrics: reloads_total{$want" grep -qF "session_admission_reloads_total{$want" "$TMP/metrics"
  done
else
  skip "serve has no --metrics-listen"
fi
stop_server "server"

# SIGHUP reloads at once: a second server that polls only hourly takes a new key on the signal.
publish key 5 public.pem "$TMP/cp2.pem"
PORT=$(free_port)
URL=https://localhost:$PORT
start_server hup --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$TMP/policy/policy.yaml" --public-key "$TMP/key/public.pem" --reload-interval 3600
wait_ready "$URL" "$CA"
expect_eq "hourly poller: key 2" "$(mutated)" "sess-reload1 cp2.pem"
publish key 6 public.pem "$TMP/cp1.pem"
sleep 1
expect_eq "hourly poller: no reload without the signal" "$(mutated)" "sess-reload1 cp2.pem"
kill -HUP "$SERVER_PID"
expect_eq "SIGHUP reloads the key at once" "$(wait_for 'sess-reload1 cp1.pem')" "sess-reload1 cp1.pem"
check "SIGHUP logged the reload" grep -q 'public key reloaded' "$TMP/hup.log"
stop_server "hourly poller"
finish
