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
[[ -f $pid_file ]] || { say "Kueue is not running (no $pid_file)"; exit 0; }
pid=$(cat "$pid_file")
if kill -0 "$pid" 2>/dev/null; then
  say "stopping Kueue (pid $pid)"
  kill "$pid"
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pid_file"
kill -0 "$pid" 2>/dev/null && die "Kueue (pid $pid) is still running"
say "Kueue stopped"
