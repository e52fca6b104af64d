#!/usr/bin/env bash
# run-fuzzer.sh BINARY NAME SECONDS CORPUS_DIR: seeds the corpus from the test fixtures and runs
# one fuzzer for a bounded time. Exits non-zero on any crash, leak or sanitizer report.
set -euo pipefail
bin=$1 name=$2 seconds=$3 corpus=$4
src=${SA_SRC:?}
mkdir -p "$corpus"
seed() { # copy files in as seeds; for object fuzzers, the review's request.object
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    case $name in
      fuzz_mutate|fuzz_validate)
        /usr/bin/python3 - "$f" "$corpus" "$name" <<'PY'
import json, sys, hashlib, os
path, corpus, name = sys.argv[1:4]
try:
    obj = json.load(open(path))["request"]["object"]
except Exception:
    sys.exit(0)
data = json.dumps(obj, separators=(",", ":")).encode()
if name == "fuzz_validate":
    kinds = ["RoleBinding", "ClusterRoleBinding", "Role", "ClusterRole", "TokenRequest", "Pod"]
    k = obj.get("kind") if isinstance(obj, dict) else None
    data = bytes([kinds.index(k) if k in kinds else 0]) + data
open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb").write(data)
PY
        ;;
      *) cp "$f" "$corpus/$(sha1sum "$f" | cut -c1-40)";;
    esac
  done
}
case $name in
  fuzz_objects) seed "$src"/examples/tests/*.yaml "$src"/examples/tests/objects/*.yaml "$src"/tests/scan/*.json \
                 "$src"/tests/scan/*.yaml "$src"/tests/fixtures/*.json ;;
  fuzz_policy) seed "$src"/examples/*.yaml "$src"/tests/policy/*.yaml "$src"/tests/policy/*/*.yaml "$src"/tests/validate/*.yaml ;;
  *) seed "$src"/tests/fixtures/*.json "$src"/tests/mutate/*.json "$src"/tests/validate/*.json "$src"/tests/validate/*/*.json ;;
esac
echo "$name: $(ls "$corpus" | wc -l) seeds, $seconds s"
cd "$(dirname "$corpus")"
"$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -n 25
