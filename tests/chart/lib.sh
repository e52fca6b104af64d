# Shared by the chart tests: locations, a scratch folder, and loud failure.
set -euo pipefail
SA_SRC=${SA_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HELM=${HELM:-$SA_SRC/.tools/bin/helm}
CHART=$SA_SRC/charts/session-admission
HERE=$SA_SRC/tests/chart
PY=/usr/bin/python3
[ -x "$HELM" ] || { echo "FAIL: helm not found at $HELM (run .ci/setup)" >&2; exit 1; }
"$HELM" version --short | grep -q '^v3\.10\.1' || { echo "FAIL: $HELM is not helm v3.10.1" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
