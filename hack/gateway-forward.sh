#!/usr/bin/env bash
# Keep a Service of the local cluster reachable on 127.0.0.1 until `make cluster-down`:
# a supervised `kubectl port-forward` (restarted whenever it ends, e.g. when the gateway's
# pod is replaced), detached from the caller, its pid in .cluster/gateway-forward.pid.
#
#   hack/gateway-forward.sh NAMESPACE SERVICE [PORT]    prints the URL once /readyz answers
#
# PORT (default 18000) is taken if free, else the next free one. A forward started by an
# earlier call is stopped first. hack/cluster-down.sh stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
namespace=${1:?usage: gateway-forward.sh NAMESPACE SERVICE [PORT]}
service=${2:?usage: gateway-forward.sh NAMESPACE SERVICE [PORT]}
port=${3:-18000}
pid_file="$CLUSTER_DIR/gateway-forward.pid"
log="$CLUSTER_DIR/gateway-forward.log"
mkdir -p "$CLUSTER_DIR"

"$REPO_ROOT/hack/gateway-forward-stop.sh" >&2   # stdout carries only the URL
while port_in_use "$port"; do port=$((port + 1)); done

# The supervisor: its own session, so the caller's exit (or Ctrl-C) does not end it.
setsid bash -c '
  trap "kill \$child 2>/dev/null; exit 0" TERM INT
  while :; do
    "$0" --kubeconfig "$1" -n "$2" port-forward --address 127.0.0.1 "svc/$3" "$4:80" &
    child=$!
    wait "$child" || true
    echo "[gateway-forward] port-forward ended; restarting in 1 s"
    sleep 1
  done' "$BIN_DIR/kubectl" "$KUBECONFIG_PATH" "$namespace" "$service" "$port" \
  </dev/null >"$log" 2>&1 &
echo $! >"$pid_file"

url="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fsS "$url/readyz" >/dev/null 2>&1 && { echo "$url"; exit 0; }
  sleep 0.3
done
die "svc/$service in $namespace does not answer on $url (see $log)"
