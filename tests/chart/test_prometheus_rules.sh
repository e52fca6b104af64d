#!/usr/bin/env bash
# The alerts with the real promtool (Debian's prometheus package): the chart's rules file passes
# `promtool check rules`, so does the PrometheusRule the chart renders from it, and
# `promtool test rules` (prometheus-rules-test.yaml) makes each alert fire and not fire.
source "$(dirname "$0")/lib.sh"
RULES=$CHART/files/prometheus-rules.yaml
command -v promtool >/dev/null || fail "promtool not found (apt-get install prometheus; .ci/setup does)"

out=$(promtool check rules "$RULES" 2>&1) || { echo "$out" >&2; fail "promtool check rules $RULES"; }
grep -q 'SUCCESS: 7 rules found' <<<"$out" || { echo "$out" >&2; fail "expected 7 rules in $RULES"; }
echo "ok: promtool check rules files/prometheus-rules.yaml"

# The rendered object's spec is a rules file too (with the job of a nameOverride).
"$HELM" template sa "$CHART" --namespace session-admission --set prometheusRule.enabled=true \
  --set nameOverride=admission > "$TMP/render.yaml" || fail "helm template"
"$PY" - "$TMP/render.yaml" "$TMP/rendered-rules.yaml" <<'PY' || fail "no PrometheusRule rendered"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"]
assert len(docs) == 1
yaml.safe_dump(docs[0]["spec"], open(sys.argv[2], "w"))
PY
out=$(promtool check rules "$TMP/rendered-rules.yaml" 2>&1) || { echo "$out" >&2; fail "promtool check rules (rendered)"; }
grep -q 'SUCCESS: 7 rules found' <<<"$out" || { echo "$out" >&2; fail "expected 7 rendered rules"; }
grep -qF 'up{job="admission"} == 0' "$TMP/rendered-rules.yaml" || fail "SessionAdmissionDown does not match the chart's job name"
echo "ok: promtool check rules on the rendered PrometheusRule"

out=$(cd "$HERE" && promtool test rules prometheus-rules-test.yaml 2>&1) || { echo "$out" >&2; fail "promtool test rules"; }
grep -q SUCCESS <<<"$out" || { echo "$out" >&2; fail "promtool test rules did not say SUCCESS"; }
# Every alert in the file is exercised by the test file.
for a in $("$PY" -c 'import sys, yaml; [print(r["alert"]) for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]' "$RULES"); do
  grep -q "alertname=\"$a\",alertstate=\"firing\"" "$HERE/prometheus-rules-test.yaml" || fail "no firing case for $a"
  grep -q "alertname: $a\$" "$HERE/prometheus-rules-test.yaml" || fail "no not-firing case for $a"
done
echo "ok: promtool test rules: every alert fires and stays quiet where it should"
