#!/usr/bin/env bash
# Stop the local Kueue started by hack/kueue/kueue-up.sh: its webhook configurations first
# (so no request waits on a stopped process), then the process. Its CRDs and objects stay
# with the cluster (`make cluster-down` removes everything).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

pid_file="$CLUSTER_DIR/kueue.pid"
if [[ -f $KUBECONFIG_PATH ]] && kc get --raw /readyz >/dev/null 2>&1; then
  kc delete mutatingwebhookconfiguration aijob-local-kueue-mutating --ignore-not-found >/dev/null
  kc delete validatingwebhookconfiguration aijob-local-kueue-validating --ignore-not-found >/dev/null
fi
stop_pid_file Kueue "$pid_file"
