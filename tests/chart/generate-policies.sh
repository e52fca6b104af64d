#!/usr/bin/env bash
# generate-policies.sh: writes the chart's shipped admission policies, charts/session-admission/
# files/policies/, from the chart's default `policy` with the session-admission binary. Run it
# after changing values.yaml's policy or generate (tests/chart/test_policies.sh fails until then):
#   bash tests/chart/generate-policies.sh [--out DIR]      (SA_BIN: default build/session-admission)
# Writes:
#   policy.sha256   sha256 of `toYaml .Values.policy` as helm renders it (the chart refuses
#                   enforcement=policies without policies.manifest when the policy's differs)
#   k8s-1.N.yaml    `generate --kube-version 1.N` for each minor generate knows (the oldest it
#                   accepts to its default, the newest) whose output differs from the minor
#                   before's (the first line, which names the version, aside); the chart takes
#                   the file of the highest N not above the cluster's minor
# The policy given to generate is the chart's policy ConfigMap as `helm template` renders it: the
# very file the webhook server loads. The key is examples/example-public.pem and the namespace
# session-admission; the chart replaces both (its key, the release namespace).
source "$(dirname "$0")/lib.sh"
SA_BIN=${SA_BIN:-$SA_SRC/build/session-admission}
OUT=$CHART/files/policies
[ "${1:-}" != --out ] || OUT=$2
[ -x "$SA_BIN" ] || fail "no session-admission binary at $SA_BIN (build first, or set SA_BIN)"

"$HELM" template sa "$CHART" --namespace session-admission --show-only templates/configmap-policy.yaml \
  >"$TMP/cm.yaml" || fail "helm template of the policy ConfigMap"
mkdir -p "$TMP/gen"
"$PY" - "$TMP/cm.yaml" "$TMP/gen/policy.yaml" "$TMP/policy.sha256" <<'PY'
import hashlib, sys, yaml
text = yaml.safe_load(open(sys.argv[1]))["data"]["policy.yaml"]
# The ConfigMap holds `toYaml .Values.policy` in a block scalar, which adds one final newline.
assert text.endswith("\n") and not text.endswith("\n\n"), "unexpected policy.yaml layout"
open(sys.argv[2], "w").write(text)
open(sys.argv[3], "w").write(hashlib.sha256(text[:-1].encode()).hexdigest() + "\n")
PY

# generate MINOR: the output for Kubernetes 1.MINOR, run from $TMP/gen so the header names policy.yaml.
generate() {
  (cd "$TMP/gen" && "$SA_BIN" generate --policy policy.yaml --public-key "$SA_SRC/examples/example-public.pem" \
     --namespace session-admission ${1:+--kube-version "1.$1"} 2>/dev/null)
}
newest=$(generate "" | sed -n '1s/.* for Kubernetes 1\.\([0-9]*\)\.$/\1/p')
[ -n "$newest" ] || fail "generate's first line does not name its default Kubernetes version"
oldest=$newest
while [ "$oldest" -gt 1 ] && generate $((oldest - 1)) >/dev/null; do oldest=$((oldest - 1)); done

rm -rf "$TMP/out" && mkdir -p "$TMP/out"
cp "$TMP/policy.sha256" "$TMP/out/"
prev="" kept=()
for ((m = oldest; m <= newest; m++)); do
  generate "$m" >"$TMP/out/k8s-1.$m.yaml" || fail "generate --kube-version 1.$m"
  body=$(tail -n +2 "$TMP/out/k8s-1.$m.yaml")
  if [ -n "$prev" ] && [ "$body" = "$prev" ]; then rm "$TMP/out/k8s-1.$m.yaml"; else kept+=("1.$m"); fi
  prev=$body
done
mkdir -p "$OUT"
rm -f "$OUT"/k8s-1.*.yaml "$OUT/policy.sha256"
cp "$TMP/out"/* "$OUT/"
echo "wrote $OUT: policy.sha256 and a file for each of ${kept[*]} (generate knows 1.$oldest to 1.$newest)"
