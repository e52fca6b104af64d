#!/usr/bin/env bash
# The chart-generated CA survives `helm upgrade`: helm install and upgrade run against fake_kube.py
# (a stand-in API server), so the chart's `lookup` of its stored TLS Secret really happens.
source "$(dirname "$0")/lib.sh"
NS=ambient-code REL=session-admission

"$PY" "$HERE/fake_kube.py" >"$TMP/port" 2>"$TMP/fake.log" &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
[ -s "$TMP/port" ] || fail "fake API server did not start"
cat >"$TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$(cat "$TMP/port")"}}]
users: [{name: fake, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: $NS}}]
current-context: fake
KC
export KUBECONFIG=$TMP/kubeconfig HELM_CACHE_HOME=$TMP/cache HELM_CONFIG_HOME=$TMP/config HELM_DATA_HOME=$TMP/data
chmod 600 "$TMP/kubeconfig"
h() { "$HELM" "$@" --namespace "$NS" >"$TMP/helm.out" 2>"$TMP/helm.err" \
  || { cat "$TMP/helm.out" "$TMP/helm.err" "$TMP/fake.log" >&2; fail "helm $*"; }; }

# ca.crt of the Secret and every caBundle in manifest FILE, one per line.
cas() { "$PY" - "$1" <<'PY'
import sys, yaml
for o in yaml.safe_load_all(open(sys.argv[1])):
    if not o:
        continue
    if o["kind"] == "Secret":
        print("secret", o["data"]["ca.crt"])
    for w in o.get("webhooks", []):
        print("caBundle", w["clientConfig"]["caBundle"])
PY
}
manifest() { h get manifest "$REL" --revision "$1"; cp "$TMP/helm.out" "$TMP/rev$1.yaml"; cas "$TMP/rev$1.yaml"; }

h install "$REL" "$CHART" --disable-openapi-validation
h upgrade "$REL" "$CHART" --disable-openapi-validation --set replicaCount=3
manifest 1 >"$TMP/ca1"; manifest 2 >"$TMP/ca2"
[ "$(wc -l <"$TMP/ca1")" -eq 7 ] || { cat "$TMP/ca1" >&2; fail "revision 1: expected the Secret and 6 caBundles (one per webhook)"; }
[ "$(cut -d' ' -f2 "$TMP/ca1" | sort -u | wc -l)" -eq 1 ] || fail "revision 1: caBundle differs from the Secret's ca.crt"
grep -q 'replicas: 3' "$TMP/rev2.yaml" || fail "revision 2 is not the upgrade"
diff "$TMP/ca1" "$TMP/ca2" >&2 || fail "helm upgrade replaced the CA instead of reusing the stored Secret"
grep -q 'GET /api/v1/namespaces/ambient-code/secrets/session-admission-tls' "$TMP/fake.log" \
  || fail "the chart never looked up its TLS Secret"
echo "ok: upgrade reused the generated CA"

# Without the stored Secret (deleted to rotate), the next upgrade makes a new CA.
curl -fsS -X DELETE "http://127.0.0.1:$(cat "$TMP/port")/api/v1/namespaces/$NS/secrets/$REL-tls" >/dev/null
h upgrade "$REL" "$CHART" --disable-openapi-validation --set replicaCount=3
manifest 3 >"$TMP/ca3"
[ "$(cut -d' ' -f2 "$TMP/ca3" | sort -u | wc -l)" -eq 1 ] || fail "revision 3: caBundle differs from the Secret's ca.crt"
[ "$(head -1 "$TMP/ca3")" != "$(head -1 "$TMP/ca1")" ] || fail "deleting the Secret did not rotate the CA"
echo "ok: a deleted Secret is regenerated, with matching caBundles"

# tls.existingSecret: the caBundle comes from the Secret's ca.crt, read at install.
bash "$SA_SRC/certs/gen-certs.sh" --service other-session-admission --namespace "$NS" --out "$TMP/gc" >/dev/null
"$PY" - "$TMP/gc" >"$TMP/mine.json" <<'PY'
import base64, json, sys
d = {k: base64.b64encode(open(f"{sys.argv[1]}/{k}", "rb").read()).decode() for k in ("ca.crt", "tls.crt", "tls.key")}
print(json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mine"}, "data": d}))
PY
curl -fsS -X POST -H 'Content-Type: application/json' --data @"$TMP/mine.json" \
  "http://127.0.0.1:$(cat "$TMP/port")/api/v1/namespaces/$NS/secrets" >/dev/null
h install other "$CHART" --disable-openapi-validation --set tls.existingSecret=mine
h get manifest other
cas "$TMP/helm.out" >"$TMP/ca-other"
want=$(base64 -w0 <"$TMP/gc/ca.crt")
[ "$(wc -l <"$TMP/ca-other")" -eq 6 ] && ! grep -qv " $want\$" "$TMP/ca-other" \
  || { cat "$TMP/ca-other" >&2; fail "caBundles are not the existing Secret's ca.crt"; }
echo "ok: tls.existingSecret caBundle read from the Secret"
