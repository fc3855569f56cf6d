#!/usr/bin/env bash
# Start the real node's containerd alone, before the cluster and the kubelet exist, so
# images can be imported into it while the control plane still builds
# (hack/cluster-with-images.sh). hack/node/node-up.sh reuses it; node-down stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"

"$REPO_ROOT/hack/node/preflight.sh" >/dev/null || exit 1
"$REPO_ROOT/hack/node/install-deps.sh" >/dev/null
mkdir -p "$NODE_DIR" "$NODE_STATE" "$NODE_RUN"
take_node_lock
start_containerd
say "containerd runs (socket $CONTAINERD_SOCK; log $NODE_DIR/containerd.log)"
