#!/usr/bin/env bash
# Stop the local cluster and everything it started; check that no process is left.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if command -v kwokctl >/dev/null 2>&1 && kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  say "deleting cluster '$CLUSTER_NAME'"
  kwokctl delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_PATH" >/dev/null 2>&1 \
    || say "kwokctl delete reported an error; cleaning up what is left"
else
  say "no cluster '$CLUSTER_NAME' is registered with kwokctl"
fi

# Any control-plane process started from our binaries that survived is a leak: stop it.
leftover=$(pgrep -f "^$BIN_DIR/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok)( |$)" || true)
if [[ -n "$leftover" ]]; then
  say "stopping leftover processes: $leftover"
  kill $leftover 2>/dev/null || true
  for _ in $(seq 1 20); do pgrep -f "^$BIN_DIR/(etcd|kube-|kwok)" >/dev/null || break; sleep 0.5; done
  pkill -9 -f "^$BIN_DIR/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok)( |$)" 2>/dev/null || true
fi
rm -f "$KUBECONFIG_PATH"
if pgrep -f "^$BIN_DIR/" >/dev/null; then
  die "processes from $BIN_DIR are still running: $(pgrep -af "^$BIN_DIR/" | cut -c1-120)"
fi
say "stopped; no control-plane process left"
