#!/usr/bin/env bash
# test_chart_conditions.sh: on Kubernetes 1.28+ the chart's matchConditions decide which requests
# reach the webhook; they must skip exactly the requests the server exempts by who asks, and send
# every pod that may run as a session ServiceAccount. Renders the chart for 1.30 (default and
# every-option values) and checks each sample request both ways: CEL (an independent
# implementation) for "sent", the real binary's `review` for "exempt" (chart_conditions.py).
source "$(dirname "$0")/lib.sh"
HELM=${HELM:-$SA_SRC/.tools/bin/helm}
[ -x "$HELM" ] || { echo "helm not found at $HELM (run .ci/setup)"; exit 1; }

for values in default "$SA_SRC/tests/chart/values-full.yaml" "$SA_SRC/tests/chart/values-session-globs.yaml"; do
  name=$(basename "$values" .yaml)
  args=(--kube-version 1.30.0)
  [ "$values" = default ] || args+=(-f "$values")
  mkdir -p "$TMP/$name"
  "$HELM" template sa "$SA_SRC/charts/session-admission" --namespace ambient-code "${args[@]}" > "$TMP/$name/render.yaml"
  # The checker's own failure (a crash, no output) fails the test too.
  if /usr/bin/python3 "$SA_SRC/tests/integration/chart_conditions.py" "$TMP/$name/render.yaml" "$SA_BIN" \
       "$SA_SRC/examples/example-public.pem" "$TMP/$name" > "$TMP/$name/out.txt" 2> "$TMP/$name/err.txt"; then
    pass "$name: the checker ran to the end"
  else
    fail "$name: the checker failed: $(tail -n 3 "$TMP/$name/err.txt")"
  fi
  [ -s "$TMP/$name/out.txt" ] || fail "$name: the checker printed nothing"
  while IFS= read -r line; do
    case $line in
      "ok - "*) pass "$name: ${line#ok - }" ;;
      *) fail "$name: ${line#not ok - }" ;;
    esac
  done < "$TMP/$name/out.txt"
done
finish
