#!/usr/bin/env bash
# The main job, end to end on this machine: bring the local cluster up (building the
# control plane on first use), show its simulated GPU nodes, then run aijob on it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$REPO_ROOT/hack/cluster-up.sh"
say "GPU capacity of the cluster:"
kc get nodes -l aijob.dev/gpu-node=true \
  -o custom-columns='NODE:.metadata.name,GPUS:.status.allocatable.nvidia\.com/gpu,PRODUCT:.metadata.labels.nvidia\.com/gpu\.product,TAINT:.spec.taints[0].key'
say "stop everything with: make cluster-down"
