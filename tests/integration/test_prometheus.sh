#!/usr/bin/env bash
# test_prometheus.sh: the chart's alerts and dashboard against a real Prometheus (Debian's
# package) scraping the real server on loopback. Prometheus loads charts/session-admission/
# files/prometheus-rules.yaml, scrapes the metrics listener every second and evaluates the rules
# every second; each alert's expression is then queried through its HTTP API while the server is
# made to trip it for real: a serving certificate 3 days from expiry, a burst of denials, a
# refused policy reload, connections beyond --max-connections, and finally the server stopped.
# Every metric name the rules and the dashboard use must be one /metrics exports, and every
# dashboard query must run and return data. Prometheus runs under `timeout`, so it stops by
# itself even if this script dies.
source "$(dirname "$0")/lib.sh"
CHART=$SA_SRC/charts/session-admission
RULES=$CHART/files/prometheus-rules.yaml
DASHBOARD=$CHART/files/grafana-dashboard.json
CASES=$SA_SRC/tests/validate/cases
PY=/usr/bin/python3
command -v prometheus >/dev/null || { echo "prometheus not found (apt-get install prometheus; .ci/setup does)"; exit 1; }

# A serving certificate inside the 7-day warning window.
make_certs "$TMP/certs" --days 3
CA=$TMP/certs/ca.crt
mkdir -p "$TMP/policy"
cp "$SA_SRC/examples/policy.yaml" "$TMP/policy/policy.yaml"
PORT=$(free_port)
MPORT=$(free_port)
URL=https://localhost:$PORT
start_server main --listen 127.0.0.1:$PORT --metrics-listen 127.0.0.1:$MPORT \
  --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$TMP/policy/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --reload-interval 1 --max-connections 2
wait_ready "$URL" "$CA"

PPORT=$(free_port)
PROM=http://127.0.0.1:$PPORT
cat > "$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ["$RULES"]
scrape_configs:
  - job_name: session-admission
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
        labels: {namespace: sa-test, pod: sa-0}
EOF
timeout 180 prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
  --web.listen-address="127.0.0.1:$PPORT" --log.level=warn > "$TMP/prometheus.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do curl -fsS --max-time 1 "$PROM/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
check "prometheus is ready" curl -fsS --max-time 2 "$PROM/-/ready" -o /dev/null
curl -fsS --max-time 2 "$PROM/-/ready" -o /dev/null || { cat "$TMP/prometheus.log"; finish; exit 1; }

# The alerts' expressions, by name, from the rules file.
"$PY" - "$RULES" "$TMP/alerts" <<'PY'
import os, sys, yaml
os.makedirs(sys.argv[2])
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        open(os.path.join(sys.argv[2], r["alert"]), "w").write(r["expr"])
PY
# query EXPR: how many series an instant query returns; fails (and says why) on any API error.
query() {
  curl -sS --max-time 5 -G --data-urlencode "query=$1" "$PROM/api/v1/query" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
if d.get("status") != "success":
    sys.exit("query failed: %s" % d.get("error"))
print(len(d["data"]["result"]))'
}
# alert_count NAME: how many series the alert's expression returns now.
alert_count() { query "$(cat "$TMP/alerts/$1")"; }
# wait_alert NAME WANT: polls (bounded, 20 s) until the expression returns WANT series.
wait_alert() {
  local got=""
  for _ in $(seq 1 100); do got=$(alert_count "$1") && [ "$got" = "$2" ] && break; sleep 0.2; done
  expect_eq "$1: the expression returns $2 series" "$got" "$2"
}

# Counters must be seen at zero first: a burst before the first scrape is no increase to Prometheus.
got=""
for _ in $(seq 1 100); do got=$(query 'up{job="session-admission"} == 1') && [ "$got" = 1 ] && break; sleep 0.2; done
expect_eq "prometheus scraped the server" "$got" "1"

# --- reviews: patched pods and, for rbac-session-binding in enforce mode, 6 denials (no history)
for i in 1 2 3 4 5 6; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" -H 'Content-Type: application/json' \
    --data-binary @"$CASES/binding-clusterrolebinding-cluster-admin-session-sa.json" "$URL/validate")
  [ "$code" = 200 ] || fail "review $i answered $code"
done
code=$(curl -sS -o "$TMP/mutate.json" -w '%{http_code}' --cacert "$CA" -H 'Content-Type: application/json' \
  --data-binary @"$CASES/pod-session-missing-key.json" "$URL/mutate")
expect_eq "a session pod is reviewed" "$code" "200"
denied='session_admission_violations_total{rule="rbac-session-binding",mode="enforce",job="session-admission"} == 6'
got=""
for _ in $(seq 1 100); do got=$(query "$denied") && [ "$got" = 1 ] && break; sleep 0.2; done
expect_eq "prometheus scraped the 6 denials" "$got" "1"
sleep 2 # a few more scrapes, so rate() and increase() have samples on both sides

# --- the healthy state: only what is really wrong fires
wait_alert SessionAdmissionCertificateExpiring 1
wait_alert SessionAdmissionDenialsRising 1
expect_eq "SessionAdmissionDown: quiet while scraped" "$(alert_count SessionAdmissionDown)" "0"
expect_eq "SessionAdmissionNotReady: quiet while ready" "$(alert_count SessionAdmissionNotReady)" "0"
expect_eq "SessionAdmissionReloadFailing: quiet before a bad change" "$(alert_count SessionAdmissionReloadFailing)" "0"
expect_eq "SessionAdmissionSlowReviews: quiet for fast reviews" "$(alert_count SessionAdmissionSlowReviews)" "0"
expect_eq "SessionAdmissionConnectionsRefused: quiet under the limit" "$(alert_count SessionAdmissionConnectionsRefused)" "0"

# --- a refused policy change
printf 'apiVersion: session-admission/v1alpha1\nkind: Policy\nsessions: [not, a, map\n' > "$TMP/policy/policy.yaml.new"
mv "$TMP/policy/policy.yaml.new" "$TMP/policy/policy.yaml"
wait_alert SessionAdmissionReloadFailing 1
expect_eq "the server is still ready on the last good policy" "$(curl -sS --cacert "$CA" "$URL/readyz")" "ok"

# --- connections beyond --max-connections 2: held open, the third is closed on arrival
"$PY" - "$PORT" <<'PY' &
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(2)]
time.sleep(0.5)
extra = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(2)]
time.sleep(4)
PY
HOLDER=$!
wait_alert SessionAdmissionConnectionsRefused 1
wait "$HOLDER" || true

# --- the rules, as Prometheus loaded them: all evaluated without error; active ones rendered
curl -sS --max-time 5 "$PROM/api/v1/rules" > "$TMP/rules.json"
check "all 7 rules loaded and evaluated without error" "$PY" -c '
import json, sys
rules = [r for g in json.load(open(sys.argv[1]))["data"]["groups"] for r in g["rules"]]
bad = [(r["name"], r.get("health"), r.get("lastError")) for r in rules if r.get("health") != "ok" or r.get("lastError")]
assert len(rules) == 7 and not bad, (len(rules), bad)' "$TMP/rules.json"
curl -sS --max-time 5 "$PROM/api/v1/alerts" > "$TMP/alerts.json"
check "firing alerts carry rendered annotations for pod sa-0" "$PY" -c '
import json, sys
alerts = json.load(open(sys.argv[1]))["data"]["alerts"]
firing = {a["labels"]["alertname"]: a for a in alerts if a["state"] == "firing"}
want = {"SessionAdmissionCertificateExpiring", "SessionAdmissionDenialsRising", "SessionAdmissionReloadFailing",
        "SessionAdmissionConnectionsRefused"}
assert want <= set(firing), sorted(firing)
for name, a in firing.items():
    ann = a["annotations"]
    assert ann.get("runbook") and ann.get("summary") and ann.get("description"), (name, ann)
    assert not any("error" in v and "template" in v or "<no value>" in v for v in ann.values()), (name, ann)
assert "sa-0" in firing["SessionAdmissionCertificateExpiring"]["annotations"]["summary"]
assert "policy" in firing["SessionAdmissionReloadFailing"]["annotations"]["summary"]' "$TMP/alerts.json"

# --- metric names: the rules and the dashboard use only what /metrics exports; the dashboard's
# queries, with Grafana's variables filled in, are written out to be run below.
curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" > "$TMP/metrics.txt"
check "the rules and the dashboard name only exported metrics" "$PY" - "$TMP/metrics.txt" "$RULES" "$DASHBOARD" \
  "$TMP/dashboard.exprs" <<'PY'
import json, re, sys
exported = set()
for line in open(sys.argv[1]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        exported.add(m.group(1))
        if m.group(2) == "histogram":
            exported |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")}
assert len(exported) > 10, exported
used = set(re.findall(r"session_admission_[a-z_]+", open(sys.argv[2]).read()))
exprs = []
def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("expr"), str):
            exprs.append(o["expr"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
dash = json.load(open(sys.argv[3]))
walk(dash)
assert len(exprs) >= 15, len(exprs)
for e in exprs + [json.dumps(dash["templating"])]:
    used |= set(re.findall(r"session_admission_[a-z_]+", e))
unknown = sorted(used - exported)
assert not unknown, "not exported: %s" % unknown
print("metric names used: %d, all exported" % len(used))
with open(sys.argv[4], "w") as out:
    for e in exprs:
        print(e.replace("$__rate_interval", "1m").replace("$namespace", ".*"), file=out)
PY
positive() { [ "$1" != error ] && [ "$1" -gt 0 ]; }
while IFS= read -r e; do
  n=$(query "$e") || n=error
  check "dashboard query returns data: $e" positive "$n"
done < "$TMP/dashboard.exprs"

# --- the server gone: SessionAdmissionDown's expression (its `for` is 5 minutes)
stop_server "server under prometheus"
wait_alert SessionAdmissionDown 1
finish
