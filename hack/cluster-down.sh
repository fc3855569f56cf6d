#!/usr/bin/env bash
# Stop the local cluster and everything it started; check that no process is left.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The gateway's port-forward (make demo) first: it talks to this cluster.
"$REPO_ROOT/hack/gateway-forward-stop.sh" || true

# The real node next: its kubelet and kube-proxy talk to this cluster.
if [[ -d "$CLUSTER_DIR/node" || -d /run/aijob-node ]]; then
  "$REPO_ROOT/hack/node/node-down.sh" || say "WARNING: the real node left something behind (see above)"
fi

# Kueue (hack/kueue/), a host process beside the control plane, where it was added.
"$REPO_ROOT/hack/kueue/kueue-down.sh" || say "WARNING: Kueue did not stop (above)"

if command -v kwokctl >/dev/null 2>&1 && kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  say "deleting cluster '$CLUSTER_NAME'"
  kwokctl delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_PATH" >/dev/null 2>&1 \
    || say "kwokctl delete reported an error; cleaning up what is left"
else
  say "no cluster '$CLUSTER_NAME' is registered with kwokctl"
fi

# Any control-plane process that survived is a leak: stop it. kwokctl runs copies of
# the binaries from its cluster directory, so look for both locations.
pattern="^($BIN_DIR|$KWOK_HOME/clusters/$CLUSTER_NAME/bin)/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok)( |$)"
leftover=$(pgrep -f "$pattern" || true)
if [[ -n "$leftover" ]]; then
  say "stopping leftover processes: $leftover"
  kill $leftover 2>/dev/null || true
  for _ in $(seq 1 20); do pgrep -f "$pattern" >/dev/null || break; sleep 0.5; done
  pkill -9 -f "$pattern" 2>/dev/null || true
fi
"$REPO_ROOT/hack/minio/minio-down.sh" || say "WARNING: MinIO did not stop (above)"
rm -f "$KUBECONFIG_PATH"
if pgrep -f "$pattern" >/dev/null; then
  die "control-plane processes are still running: $(pgrep -af "$pattern" | cut -c1-120)"
fi
say "stopped; no control-plane process left"
