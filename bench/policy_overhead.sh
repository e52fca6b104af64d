#!/usr/bin/env bash
# bench/policy_overhead.sh: what a ValidatingAdmissionPolicy costs kube-apiserver per request for
# being there and for its expressions: a RoleBinding create timed with no policy bound, with a
# policy whose one validation is trivial, and with each of generate's RoleBinding policies bound
# alone, side by side in interleaved rounds on one real API server (issue 21: is the generated
# policies' added latency their number or their CEL?).
#
#   bash bench/policy_overhead.sh      (about a minute; appends a section to bench/policy-overhead.md)
#
# Starts etcd and kube-apiserver on loopback as the e2e suite does (tests/e2e/cluster.sh), creates
# `generate --only validating` of examples/policy.yaml and one policy of its own, then
# bench/policy_overhead.py binds one at a time. Loopback only; every wait is bounded.
# Environment: SA_BIN (build/session-admission), N (40 per block), ROUNDS (6),
# SA_BENCH_OUT (bench/policy-overhead.md), KUBEBUILDER_ASSETS (as tests/e2e/cluster.sh).
source "$(dirname "$0")/../tests/e2e/lib.sh"
source "$E2E/cluster.sh"
OUT=${SA_BENCH_OUT:-$SA_SRC/bench/policy-overhead.md}
cleanup() {
  cluster_stop
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SA_BIN" ] || { echo "no server binary at $SA_BIN (build first)"; exit 1; }
cluster_find_assets >"$W/why" || { cat "$W/why"; exit 1; }
cluster_start >"$W/why" 2>&1 || { tail -n 30 "$W/why"; echo "kube-apiserver did not start"; exit 1; }
[ "$(kapi GET /version)" = 200 ] || { echo "kube-apiserver does not answer"; exit 1; }
version=$(jget 'd["gitVersion"]') minor=$(jget 'int(d["minor"].rstrip("+"))')
"$SA_BIN" generate --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --kube-version "1.$minor" --only validating >"$W/generated.yaml" 2>"$W/generate.err" \
  || { cat "$W/generate.err"; exit 1; }
commit=$(git -C "$SA_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SA_SRC" diff --quiet HEAD -- src 2>/dev/null || commit="$commit+changes"
{
  [ -s "$OUT" ] || printf '# What one admission policy costs kube-apiserver, and what its CEL costs\n\nWritten by `bash bench/policy_overhead.sh` (each run appends a section).\n'
  printf '\n## %s, commit %s, kube-apiserver %s, %s CPUs, load average %s at the start\n\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$commit" "$version" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  W=$W KUBE_URL=$KUBE_URL N=${N:-40} ROUNDS=${ROUNDS:-6} "$PY" "$SA_SRC/bench/policy_overhead.py"
} >"$W/section.md" || { cat "$W/section.md"; exit 1; }
cat "$W/section.md" >>"$OUT"
cat "$W/section.md"
echo "# appended to $OUT"
