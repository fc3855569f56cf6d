#!/usr/bin/env bash
# Stop the supervised port-forward that hack/gateway-forward.sh started, if any.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pid_file="$CLUSTER_DIR/gateway-forward.pid"
[[ -f $pid_file ]] || exit 0
pid=$(cat "$pid_file")
if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
  kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  say "stopped the gateway's port-forward (pid $pid)"
fi
rm -f "$pid_file"
