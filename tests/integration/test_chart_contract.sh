#!/usr/bin/env bash
# test_chart_contract.sh: the chart and the binary agree. For the default values and the
# every-option values file, render the chart with the real helm, then run the real binary exactly
# as the Deployment would: its args, its environment, the policy from its ConfigMap, files at
# the paths its volumes mount (moved under a temporary root). Asserts every env var is a flag the
# binary knows, the policy passes check-policy, the server becomes ready on the probe's path and
# scheme, the paths the webhook configurations call answer AdmissionReviews, and SIGTERM fails
# the probe at once, keeps answering for the shutdown delay and exits within the grace period.
source "$(dirname "$0")/lib.sh"
HELM=${HELM:-$SA_SRC/.tools/bin/helm}
[ -x "$HELM" ] || { echo "helm not found at $HELM (run .ci/setup)"; exit 1; }
FIX=$SA_SRC/tests/fixtures
"$SA_BIN" serve --help > "$TMP/help.txt"

run_case() { # NAME [helm args...]
  local name=$1; shift
  local root=$TMP/$name/root
  mkdir -p "$root"
  "$HELM" template sa "$SA_SRC/charts/session-admission" --namespace ambient-code "$@" > "$TMP/$name/render.yaml"
  # Extract what the pod would see; ports are moved to free loopback ports.
  /usr/bin/python3 - "$TMP/$name/render.yaml" "$root" "$(free_port)" "$(free_port)" > "$TMP/$name/env" <<'PY'
import os, shlex, sys, yaml
render, root, port, mport = sys.argv[1:5]
docs = [d for d in yaml.safe_load_all(open(render)) if d]
dep = next(d for d in docs if d["kind"] == "Deployment")
pod = dep["spec"]["template"]["spec"]
c = next(c for c in pod["containers"] if c["name"] != "")
env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
cm = next(d for d in docs if d["kind"] == "ConfigMap" and "policy.yaml" in d.get("data", {}))
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
os.makedirs(root + mounts["policy"], exist_ok=True)
open(root + mounts["policy"] + "/policy.yaml", "w").write(cm["data"]["policy.yaml"])
for k, v in list(env.items()):
    if v.startswith("/etc/"):
        env[k] = root + v
env["SA_LISTEN"] = "127.0.0.1:" + port
if env.get("SA_METRICS_LISTEN") not in (None, "", "off"):
    env["SA_METRICS_LISTEN"] = "127.0.0.1:" + mport
probe = c["readinessProbe"]["httpGet"]
probe_port = port if probe["port"] == "https" else mport
print("ARGS=(%s)" % " ".join(shlex.quote(a) for a in c.get("args", [])))
print("ENVV=(%s)" % " ".join(shlex.quote(k + "=" + v) for k, v in env.items()))
print("PROBE_PATH=%s PROBE_SCHEME=%s PROBE_PORT=%s PORT=%s" % (probe["path"], probe["scheme"], probe_port, port))
print("KEYDIR=%s TLSDIR=%s" % (shlex.quote(root + mounts["public-key"]), shlex.quote(root + mounts["tls"])))
print("POLICY=%s" % shlex.quote(root + mounts["policy"] + "/policy.yaml"))
print("GRACE=%d" % pod["terminationGracePeriodSeconds"])
for d in docs:
    if d["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for w in d["webhooks"]:
            print("WEBHOOK_PATHS+=(%s)" % w["clientConfig"]["service"]["path"])
PY
  local ARGS=() ENVV=() WEBHOOK_PATHS=() PROBE_PATH PROBE_SCHEME PROBE_PORT PORT KEYDIR TLSDIR POLICY GRACE
  source "$TMP/$name/env"
  for kv in "${ENVV[@]}"; do
    check "$name: env ${kv%%=*} is a flag the binary knows" grep -q "\[${kv%%=*}\]" "$TMP/help.txt"
  done
  check "$name: the ConfigMap's policy passes check-policy" "$SA_BIN" check-policy "$POLICY"
  mkdir -p "$KEYDIR" "$TLSDIR"
  cp "$SA_SRC/examples/example-public.pem" "$KEYDIR/public.pem"
  make_certs "$TMP/$name/certs"
  cp "$TMP/$name/certs/tls.crt" "$TMP/$name/certs/tls.key" "$TMP/$name/certs/ca.crt" "$TLSDIR/"
  for kv in "${ENVV[@]}"; do # a client CA, when the values ask for one, from the same CA
    case $kv in SA_CLIENT_CA=*) mkdir -p "$(dirname "${kv#*=}")"; cp "$TMP/$name/certs/ca.crt" "${kv#*=}";; esac
  done
  env -i PATH="$PATH" "${ENVV[@]}" "$SA_BIN" "${ARGS[@]}" >"$TMP/$name.out" 2>"$TMP/$name.log" &
  local pid=$!
  PIDS+=("$pid")
  local scheme=${PROBE_SCHEME,,} ok=1
  local curl_tls=(--cacert "$TMP/$name/certs/ca.crt")
  if grep -q '^SA_CLIENT_CA=' <(printf '%s\n' "${ENVV[@]}"); then
    local cn
    cn=$(printf '%s\n' "${ENVV[@]}" | sed -n 's/^SA_CLIENT_CN=//p')
    make_certs "$TMP/$name/client" --ca-dir "$TMP/$name/certs" --client "${cn:-kube-apiserver}"
    curl_tls+=(--cert "$TMP/$name/client/client.crt" --key "$TMP/$name/client/client.key")
  fi
  # The probe goes where the kubelet would send it, with no client certificate (it has none).
  for _ in $(seq 1 100); do
    curl -fsS --max-time 2 --cacert "$TMP/$name/certs/ca.crt" "$scheme://localhost:$PROBE_PORT$PROBE_PATH" >/dev/null 2>&1 && { ok=0; break; }
    sleep 0.1
  done
  expect_eq "$name: ready on the readiness probe's $PROBE_SCHEME $PROBE_PATH" "$ok" "0"
  check "$name: webhook configurations call some path" [ "${#WEBHOOK_PATHS[@]}" -gt 0 ]
  for p in $(printf '%s\n' "${WEBHOOK_PATHS[@]}" | sort -u); do
    got=$(curl -sS -o /dev/null -w '%{http_code}' "${curl_tls[@]}" -H 'Content-Type: application/json' \
      --data-binary @"$FIX/rolebinding-v1.json" "https://localhost:$PORT$p?timeout=5s")
    expect_eq "$name: webhook path $p answers a review" "$got" "200"
  done
  # SIGTERM as the kubelet sends it: the readiness probe fails at once, reviews are still
  # answered (with Connection: close) during the shutdown delay, and the server has exited well
  # within the pod's terminationGracePeriodSeconds.
  local t0=$SECONDS hdr
  kill -TERM "$pid"
  sleep 0.5
  expect_eq "$name: after SIGTERM the readiness probe fails at once" \
    "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$TMP/$name/certs/ca.crt" "$scheme://localhost:$PROBE_PORT$PROBE_PATH")" "503"
  hdr=$(curl -sS -D - -o /dev/null "${curl_tls[@]}" -H 'Content-Type: application/json' \
    --data-binary @"$FIX/rolebinding-v1.json" "https://localhost:$PORT${WEBHOOK_PATHS[0]}?timeout=5s" | tr -d '\r')
  check "$name: a review during the shutdown delay is answered" grep -q '^HTTP/1.1 200' <<< "$hdr"
  check "$name: ... with Connection: close" grep -qi '^Connection: close' <<< "$hdr"
  wait "$pid"; expect_eq "$name: exits 0 on SIGTERM" "$?" "0"
  check "$name: stopped $((SECONDS - t0)) s after SIGTERM, within the grace period of $GRACE s" [ $((SECONDS - t0)) -lt "$GRACE" ]
}

run_case default
run_case full -f "$SA_SRC/tests/chart/values-full.yaml"
finish
