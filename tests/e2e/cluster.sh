# cluster.sh: a real etcd and kube-apiserver for the e2e suite (sourced by run.sh, not run).
# Follows controller-runtime's envtest convention: $KUBEBUILDER_ASSETS names a folder holding
# kube-apiserver and etcd, and optionally kubectl (else $KUBECTL, else the one on PATH, if any;
# KUBECTL= for none: a case uses it to also show what kubectl does). Unset, the shared binary in
# ../shared/envtest (or $ENVTEST_SHARED) is unpacked into the run's folder and Debian's
# /usr/bin/etcd is used.
# Both processes run on free loopback ports with a PKI made for the run, and are stopped by pid.

# ../shared beside the checkout; for a clone of a local checkout (CI clones main into a fresh
# folder), ../shared beside the checkout it was cloned from.
envtest_shared() {
  local origin
  origin=$(git -C "$SA_SRC" remote get-url origin 2>/dev/null || true)
  if [ ! -d "$SA_SRC/../shared/envtest" ] && [ -d "$origin/../shared/envtest" ]; then
    echo "$origin/../shared/envtest"
  else
    echo "$SA_SRC/../shared/envtest"
  fi
}
ENVTEST_SHARED=${ENVTEST_SHARED:-$(envtest_shared)}

# cluster_find_assets: sets KUBE_APISERVER, ETCD and KUBECTL (empty without one), or prints why
# there is no API server and returns 1.
cluster_find_assets() {
  KUBECTL=${KUBECTL-$(command -v kubectl || true)}
  [ ! -x "${KUBEBUILDER_ASSETS:-}/kubectl" ] || KUBECTL=$KUBEBUILDER_ASSETS/kubectl
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
    KUBE_APISERVER=$KUBEBUILDER_ASSETS/kube-apiserver ETCD=$KUBEBUILDER_ASSETS/etcd
    [ -x "$KUBE_APISERVER" ] || { echo "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable kube-apiserver"; return 1; }
    [ -x "$ETCD" ] || { echo "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable etcd"; return 1; }
    return 0
  fi
  local xz
  xz=$(ls "$ENVTEST_SHARED"/kube-apiserver-*-linux-amd64.xz 2>/dev/null | sort -V | tail -n 1)
  [ -n "$xz" ] || { echo "no API server: KUBEBUILDER_ASSETS is unset and $ENVTEST_SHARED holds no kube-apiserver-*.xz"; return 1; }
  [ -x /usr/bin/etcd ] || { echo "no etcd: KUBEBUILDER_ASSETS is unset and /usr/bin/etcd is missing (apt-get install etcd-server)"; return 1; }
  command -v xz >/dev/null || { echo "no xz to unpack $xz (apt-get install xz-utils)"; return 1; }
  mkdir -p "$W/bin"
  xz -dc "$xz" >"$W/bin/kube-apiserver" && chmod +x "$W/bin/kube-apiserver"
  KUBE_APISERVER=$W/bin/kube-apiserver ETCD=/usr/bin/etcd
}

# pki_cert NAME SUBJECT EXTENSIONS: an EC key and a certificate signed by the run's CA.
pki_cert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "$2" \
    -keyout "$W/pki/$1.key" -out "$W/pki/$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$W/pki/$1.ext"
  openssl x509 -req -in "$W/pki/$1.csr" -CA "$W/pki/ca.crt" -CAkey "$W/pki/ca.key" -CAcreateserial \
    -CAserial "$W/pki/ca.srl" -days 2 -sha256 -extfile "$W/pki/$1.ext" -out "$W/pki/$1.crt" 2>/dev/null
}

# cluster_pki: CA, API server serving certificate, ServiceAccount signing keys, admin client.
cluster_pki() {
  mkdir -p "$W/pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
    -subj "/CN=e2e-ca" -keyout "$W/pki/ca.key" -out "$W/pki/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  pki_cert apiserver "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
  # O=system:masters: the admin group the RBAC authorizer always allows.
  pki_cert admin "/O=system:masters/CN=e2e-admin" "extendedKeyUsage=clientAuth"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/pki/sa.key" 2>/dev/null
  openssl pkey -in "$W/pki/sa.key" -pubout -out "$W/pki/sa.pub" 2>/dev/null
}

# cluster_wait_url PID URL [CURL ARGS]: waits (bounded) until URL answers 2xx, failing early if PID died.
cluster_wait_url() {
  local pid=$1 url=$2; shift 2
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -fsS --max-time 2 "$@" "$url" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# cluster_start: etcd, then kube-apiserver; sets KUBE_URL and writes $W/kubeconfig.
# Both pids go to CLUSTER_PIDS for cluster_stop.
cluster_start() {
  cluster_pki
  local etcd_port peer_port
  etcd_port=$(free_port) peer_port=$(free_port)
  "$ETCD" --name e2e --data-dir "$W/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "e2e=http://127.0.0.1:$peer_port" --unsafe-no-fsync >"$W/etcd.log" 2>&1 &
  CLUSTER_PIDS+=($!)
  cluster_wait_url "$!" "http://127.0.0.1:$etcd_port/health" || { tail -n 20 "$W/etcd.log"; echo "etcd did not start"; return 1; }

  KUBE_PORT=$(free_port)
  KUBE_URL=https://127.0.0.1:$KUBE_PORT
  local p=$W/pki
  "$KUBE_APISERVER" --secure-port "$KUBE_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --etcd-servers "http://127.0.0.1:$etcd_port" --tls-cert-file "$p/apiserver.crt" \
    --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$p/sa.pub" \
    --service-account-signing-key-file "$p/sa.key" --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/12 --authorization-mode=Node,RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none --profiling=false ${KUBE_APISERVER_FLAGS:-} >"$W/apiserver.log" 2>&1 &
  CLUSTER_PIDS+=($!)
  # /readyz as the admin: ready means RBAC bootstrap and the informers are done.
  cluster_wait_url "$!" "$KUBE_URL/readyz" --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" \
    || { tail -n 30 "$W/apiserver.log"; echo "kube-apiserver did not become ready"; return 1; }

  cat >"$W/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "$KUBE_URL", certificate-authority: "$p/ca.crt"}}]
users: [{name: admin, user: {client-certificate: "$p/admin.crt", client-key: "$p/admin.key"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]
current-context: e2e
KC
  chmod 600 "$W/kubeconfig"
}

# cluster_stop: SIGTERM to both (API server first), SIGKILL after a bounded wait.
cluster_stop() {
  local p i n=${#CLUSTER_PIDS[@]}
  for ((i = n - 1; i >= 0; i--)); do
    p=${CLUSTER_PIDS[i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}
