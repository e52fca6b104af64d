#!/usr/bin/env bash
# Makes a development CA and a serving certificate for session-admission with the openssl CLI.
# For clusters without cert-manager, and for the integration tests (which also need a second,
# unrelated CA and client certificates). The SANs cover the in-cluster Service names
# (<svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local) plus localhost and 127.0.0.1.
set -euo pipefail

usage() {
  cat <<USAGE
usage: certs/gen-certs.sh [--service NAME] [--namespace NS] [--out DIR] [--days N]
                          [--san DNS-or-IP]... [--ca-dir DIR] [--client NAME]
  --service   Service name (default session-admission)
  --namespace namespace of the Service (default session-admission)
  --out       output folder (default ./certs/out); writes ca.crt ca.key tls.crt tls.key
  --days      validity of the serving certificate (default 365; the CA gets 10 years)
  --san       an extra subject alternative name, repeatable
  --ca-dir    reuse ca.crt/ca.key from this folder instead of making a new CA
  --client    also make a client certificate client.crt/client.key with this CN
USAGE
}

svc=session-admission; ns=session-admission; out=./certs/out; days=365; ca_dir=""; client=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --service) svc=$2; shift 2;;
    --namespace) ns=$2; shift 2;;
    --out) out=$2; shift 2;;
    --days) days=$2; shift 2;;
    --san) extra+=("$2"); shift 2;;
    --ca-dir) ca_dir=$2; shift 2;;
    --client) client=$2; shift 2;;
    -h|--help) usage; exit 0;;
    *) echo "gen-certs: unknown argument: $1" >&2; usage >&2; exit 2;;
  esac
done

mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

if [ -n "$ca_dir" ]; then
  [ "$(cd "$ca_dir" && pwd)" = "$(cd "$out" && pwd)" ] || cp "$ca_dir/ca.crt" "$ca_dir/ca.key" "$out/"
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -subj "/CN=session-admission-ca" -keyout "$out/ca.key" -out "$out/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

sans="DNS:$svc,DNS:$svc.$ns,DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
for s in "${extra[@]+"${extra[@]}"}"; do
  if [[ "$s" =~ ^[0-9.]+$ || "$s" == *:* ]]; then sans="$sans,IP:$s"; else sans="$sans,DNS:$s"; fi
done

sign() { # name cn ext
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$2" \
    -keyout "$out/$1.key" -out "$tmp/$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$1.ext" -out "$out/$1.crt" 2>/dev/null
}

sign tls "$svc.$ns.svc" "subjectAltName=$sans
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
if [ -n "$client" ]; then
  sign client "$client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
fi
chmod 600 "$out"/*.key
echo "gen-certs: wrote $out/ca.crt $out/tls.crt $out/tls.key${client:+ $out/client.crt $out/client.key} (SANs $sans)"
